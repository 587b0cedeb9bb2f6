-- One booking as the server writes it on PostgreSQL (`create_booking` in
-- src/store/sql/queries/bookings.rs, a Telegram client booking a provider
-- with the default reminders), for
--
--   pgbench -n -M prepared -f loadtest/pgbench-booking.sql -D k=0 -D clients=C -D base=0 -c C -j 2 -T N DB
--
-- against a database migrated with migrations/postgres and seeded by
-- `loadtest baseline-postgres` (which runs exactly that): 100 providers and
-- their services, ids 00000000-0000-0000-0000-<index in 12 hex digits> —
-- provider p is 1000 + p, its service 2000 + p, its owner 3000 + p; client
-- user u (0..8) is 4000 + u.
--
-- Booking n = base + k·C + client_id (k counts this client's transactions:
-- pgbench keeps a client's variables from one transaction to the next) is
-- unique across the run, so it goes to provider n % 100 at that provider's
-- slot n / 100 (5 minutes each from 2027-07-01T00:00+02:00): the exclusion
-- constraint checks every booking and never refuses one. The client user is
-- (p + slot) % 8, as in `loadtest throughput`. Every client's card is in
-- each provider's book already (seeded): the server reads it with the one
-- SELECT below, and adds a card only on a client's first visit to a provider,
-- which a steady stream of bookings almost never is.
\set n :base + :k * :clients + :client_id
\set k :k + 1
\set p :n % 100
\set slot :n / 100
\set u (:p + :slot) % 8
\set s 1814392800 + 300 * :slot
\set e :s + 300
\set day (:s + 7200) / 86400
\set day_before :s - 86400
\set two_hours_before :s - 7200
BEGIN;
SELECT p.settings_version, c.id AS client_id_, c.blocked, c.name AS client_name_, p.slug, p.display_name,
       p.timezone, s.name AS service_name_ FROM providers p
  LEFT JOIN clients c ON c.provider_id = p.id
   AND c.user_id = ('00000000-0000-0000-0000-' || lpad(to_hex(4000 + :u), 12, '0'))::uuid
  LEFT JOIN services s ON s.provider_id = p.id
   AND s.id = ('00000000-0000-0000-0000-' || lpad(to_hex(2000 + :p), 12, '0'))::uuid
 WHERE p.id = ('00000000-0000-0000-0000-' || lpad(to_hex(1000 + :p), 12, '0'))::uuid FOR SHARE OF p \gset
INSERT INTO bookings (id, provider_id, service_id, client_id, starts_at, ends_at, occupied_from, occupied_to, status,
                      note, created_by, updated_by, idempotency_key, created_at, updated_at, confirm_by, seat, occurrence)
VALUES (('00000000-0000-0000-0001-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid,
        ('00000000-0000-0000-0000-' || lpad(to_hex(1000 + :p), 12, '0'))::uuid,
        ('00000000-0000-0000-0000-' || lpad(to_hex(2000 + :p), 12, '0'))::uuid,
        :client_id_::uuid, to_timestamp(:s), to_timestamp(:e), to_timestamp(:s), to_timestamp(:e), 'confirmed',
        NULL, ('00000000-0000-0000-0000-' || lpad(to_hex(4000 + :u), 12, '0'))::uuid,
        ('00000000-0000-0000-0000-' || lpad(to_hex(4000 + :u), 12, '0'))::uuid, NULL, now(), now(), NULL, NULL,
        '0000000000000000' || '0001' || lpad(to_hex(:n::bigint), 12, '0'));
DELETE FROM waitlist_entries
 WHERE user_id = ('00000000-0000-0000-0000-' || lpad(to_hex(4000 + :u), 12, '0'))::uuid
   AND service_id = ('00000000-0000-0000-0000-' || lpad(to_hex(2000 + :p), 12, '0'))::uuid
   AND local_date = date '1970-01-01' + :day::integer;
INSERT INTO outbox (id, kind, event, booking_id, recipient_id, due_at, created_at)
VALUES (gen_random_uuid(), 'push', 'created', ('00000000-0000-0000-0001-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid,
        ('00000000-0000-0000-0000-' || lpad(to_hex(3000 + :p), 12, '0'))::uuid, now(), now()),
       (gen_random_uuid(), 'reminder', '1440', ('00000000-0000-0000-0001-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid,
        ('00000000-0000-0000-0000-' || lpad(to_hex(4000 + :u), 12, '0'))::uuid, to_timestamp(:day_before), now()),
       (gen_random_uuid(), 'reminder', '120', ('00000000-0000-0000-0001-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid,
        ('00000000-0000-0000-0000-' || lpad(to_hex(4000 + :u), 12, '0'))::uuid, to_timestamp(:two_hours_before), now());
COMMIT;
