-- iCalendar (issue 13): a booking's revision is its SEQUENCE (RFC 5545
-- §3.8.7.4), bumped by every change so a subscribed calendar replaces the
-- event; a provider's feed is reached by a secret key, of which only the
-- SHA-256 is kept (like session tokens): a copy of the database opens no feed.
ALTER TABLE bookings ADD COLUMN revision bigint NOT NULL DEFAULT 0;

CREATE TABLE calendar_feeds (
    provider_id uuid        PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
    key_hash    bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);
