-- Issue 13: requests answered in time, proposals, "I'm coming", the digest.
-- A pending request's deadline (rule confirm_within_min) is kept on the
-- booking, decided when it was made: a later change of the rule does not
-- move the deadline a client was already shown.
ALTER TABLE bookings ADD COLUMN confirm_by INTEGER;
ALTER TABLE bookings ADD COLUMN proposed_start INTEGER;
ALTER TABLE bookings ADD COLUMN attendance_confirmed_at INTEGER;

ALTER TABLE providers ADD COLUMN confirm_within_min INTEGER;
ALTER TABLE providers ADD COLUMN morning_digest INTEGER NOT NULL DEFAULT 0 CHECK (morning_digest IN (0, 1));

-- Every node looks for expired requests (and unanswered proposals) every few seconds.
CREATE INDEX bookings_awaiting_answer ON bookings (confirm_by)
    WHERE status = 'pending' AND confirm_by IS NOT NULL;

-- Digests sent, one per provider and local date: two nodes never both send one.
CREATE TABLE digests_sent (
    provider_id BLOB    NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    local_date  TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (provider_id, local_date)
) STRICT;
