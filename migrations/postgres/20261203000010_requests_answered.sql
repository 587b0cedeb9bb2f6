-- Issue 13: requests answered in time, proposals, "I'm coming", the digest.
-- A pending request's deadline (rule confirm_within_min) is kept on the
-- booking, decided when it was made: a later change of the rule does not
-- move the deadline a client was already shown.
ALTER TABLE bookings
    ADD COLUMN confirm_by              timestamptz,
    ADD COLUMN proposed_start          timestamptz,
    ADD COLUMN attendance_confirmed_at timestamptz;

ALTER TABLE providers
    ADD COLUMN confirm_within_min bigint,
    ADD COLUMN morning_digest     boolean NOT NULL DEFAULT false;

-- Every node looks for expired requests (and unanswered proposals) every few seconds.
CREATE INDEX bookings_awaiting_answer ON bookings (confirm_by)
    WHERE status = 'pending' AND confirm_by IS NOT NULL;

-- Digests sent, one per provider and local date: two nodes never both send one.
CREATE TABLE digests_sent (
    provider_id uuid        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    local_date  date        NOT NULL,
    sent_at     timestamptz NOT NULL,
    PRIMARY KEY (provider_id, local_date)
);
