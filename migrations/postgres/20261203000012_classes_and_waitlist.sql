-- Issue 14: classes with seats and a live waitlist.

-- A service with capacity above 1 is a class: up to `capacity` clients book
-- the same start, each their own booking.
ALTER TABLE services ADD COLUMN capacity bigint NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 500);

-- `occurrence` names what a booking occupies the provider for: the booking
-- itself (its id), or the class start it holds a seat of ("<service id>/<unix
-- start>", written by the server). The no-overlap rule now lets the bookings of
-- one occurrence share their time and nothing else: two active bookings of a
-- provider overlap only if they are seats of the same class start.
ALTER TABLE bookings ADD COLUMN occurrence text;
UPDATE bookings SET occurrence = replace(id::text, '-', '');
ALTER TABLE bookings ALTER COLUMN occurrence SET NOT NULL;
-- A class booking's seat, 1..capacity; NULL for a one-to-one booking.
ALTER TABLE bookings ADD COLUMN seat bigint CHECK (seat >= 1);
ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap;
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
    provider_id WITH =,
    tstzrange(occupied_from, occupied_to, '[)') WITH &&,
    occurrence WITH <>
) WHERE (status IN ('pending', 'confirmed'));
-- No seat is held twice (across nodes too) ...
CREATE UNIQUE INDEX bookings_one_per_seat ON bookings (occurrence, seat)
    WHERE status IN ('pending', 'confirmed') AND seat IS NOT NULL;
-- ... and no seat lies beyond the class's capacity, nor is taken once the
-- start holds `capacity` seats: so a class never holds more than `capacity`
-- active bookings, whoever writes them. (Concurrent writers each pass the
-- count, but then race for seat numbers 1..capacity, which the unique index
-- hands out once; only a capacity lowered under seats held leaves the count
-- as the one guard, checked per statement.)
CREATE FUNCTION bookings_seat_within_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    places bigint;
BEGIN
    IF NEW.seat IS NOT NULL AND NEW.status IN ('pending', 'confirmed')
       AND (TG_OP = 'INSERT' OR NEW.seat IS DISTINCT FROM OLD.seat OR NEW.occurrence IS DISTINCT FROM OLD.occurrence)
    THEN
        -- A seat taken or moved; a status change of a seat held (confirmed,
        -- cancelled) takes no new place, even in a class over its capacity.
        SELECT capacity INTO places FROM services WHERE id = NEW.service_id;
        IF NEW.seat > places OR (
            SELECT COUNT(*) FROM bookings WHERE occurrence = NEW.occurrence AND id <> NEW.id
               AND seat IS NOT NULL AND status IN ('pending', 'confirmed')) >= places THEN
            RAISE EXCEPTION 'seat_beyond_capacity' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_seat_within_capacity BEFORE INSERT OR UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_seat_within_capacity();

-- A client waiting for a time to free up on one day of one service, within
-- an optional window of local times (minutes of the day, [from, to)).
CREATE TABLE waitlist_entries (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id uuid        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    service_id  uuid        NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    local_date  date        NOT NULL,
    from_min    bigint      CHECK (from_min BETWEEN 0 AND 1440),
    to_min      bigint      CHECK (to_min BETWEEN 0 AND 1440),
    -- The free starts in the window when last looked (unix seconds, comma
    -- separated): an offer goes out for a start not among them, and the
    -- write that records it is conditional on the old value, so of two
    -- nodes looking at once only one sends it.
    free_known  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    UNIQUE (user_id, service_id, local_date)
);
CREATE INDEX waitlist_by_day ON waitlist_entries (provider_id, local_date);
