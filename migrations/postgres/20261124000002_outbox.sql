-- Messages the bot sends: booking pushes and reminders, written in the same
-- transaction as the booking change they announce (an outbox).
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('push', 'reminder')),
    event        text        NOT NULL,
    booking_id   uuid        NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    recipient_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due_at       timestamptz NOT NULL,
    state        text        NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
    attempts     bigint      NOT NULL DEFAULT 0,
    lease_until  timestamptz,
    last_error   text,
    created_at   timestamptz NOT NULL,
    sent_at      timestamptz
);
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_booking ON outbox (booking_id);

ALTER TABLE users ADD COLUMN bot_blocked_at timestamptz;
ALTER TABLE users ADD COLUMN bot_blocked_reason text;
