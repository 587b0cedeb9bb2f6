-- Messages that are not about one booking, so the outbox can carry them:
--   text:   written out when it was decided, because what it tells may be gone
--           by the time it is sent (a deleted provider's name, the visits of a
--           client removed from a client book);
--   policy: the privacy policy changed (event = the new version).
-- SQLite cannot change a CHECK or drop a NOT NULL in place: the table is rebuilt.
CREATE TABLE outbox_new (
    id           BLOB    PRIMARY KEY NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('push', 'reminder', 'text', 'policy')),
    -- push: the booking event; reminder: minutes before the visit; policy: the version; text: ''
    event        TEXT    NOT NULL,
    -- the message itself, for kind = 'text'
    body         TEXT,
    booking_id   BLOB    REFERENCES bookings (id) ON DELETE CASCADE,
    recipient_id BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due_at       INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    CHECK ((kind IN ('push', 'reminder')) = (booking_id IS NOT NULL)),
    CHECK ((kind = 'text') = (body IS NOT NULL))
) STRICT;
INSERT INTO outbox_new (id, kind, event, booking_id, recipient_id, due_at, state, attempts, lease_until,
                        last_error, created_at, sent_at)
    SELECT id, kind, event, booking_id, recipient_id, due_at, state, attempts, lease_until,
           last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_booking ON outbox (booking_id);
CREATE INDEX outbox_recipient ON outbox (recipient_id);

-- Policy §10: every text of the privacy policy this deployment has published,
-- identified by its SHA-256; published_at is when a node first served it.
CREATE TABLE policy_versions (
    text_sha256  TEXT    PRIMARY KEY NOT NULL,
    published_at INTEGER NOT NULL
) STRICT;
-- The version the user last acknowledged in the Mini App, and the version the
-- bot last told them about (at most one message per version).
ALTER TABLE users ADD COLUMN policy_version_seen TEXT;
ALTER TABLE users ADD COLUMN policy_version_notified TEXT;

-- Policy §6: the client asked the provider to delete their card.
ALTER TABLE clients ADD COLUMN erasure_requested_at INTEGER;
