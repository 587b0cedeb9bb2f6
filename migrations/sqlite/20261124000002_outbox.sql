-- Messages the bot sends: booking pushes and reminders. They are written in
-- the same transaction as the booking change they announce (an outbox), so
-- none is lost if the node dies right after the commit.
CREATE TABLE outbox (
    id           BLOB    PRIMARY KEY NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('push', 'reminder')),
    -- push: the booking event (created, cancelled, …); reminder: minutes before the visit
    event        TEXT    NOT NULL,
    booking_id   BLOB    NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    recipient_id BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due_at       INTEGER NOT NULL,
    -- sending: claimed by a dispatcher; a message never leaves that state
    -- except to sent/failed, so it is never sent twice (at most once).
    state        TEXT    NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_booking ON outbox (booking_id);

-- Telegram told us (403) this user cannot be messaged: blocked, deactivated…
ALTER TABLE users ADD COLUMN bot_blocked_at INTEGER;
ALTER TABLE users ADD COLUMN bot_blocked_reason TEXT;
