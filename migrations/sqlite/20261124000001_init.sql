-- Just Book Me, SQLite schema. Times are Unix seconds (UTC); ids are UUIDv7
-- stored as 16-byte blobs; booleans are 0/1. STRICT tables refuse wrong types.

CREATE TABLE users (
    id                    BLOB    PRIMARY KEY NOT NULL,
    telegram_id           INTEGER NOT NULL UNIQUE,
    first_name            TEXT    NOT NULL,
    last_name             TEXT,
    username              TEXT,
    language_code         TEXT,
    photo_url             TEXT,
    processing_restricted INTEGER NOT NULL DEFAULT 0 CHECK (processing_restricted IN (0, 1)),
    deleted_at            INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;

-- Only a SHA-256 of the bearer token is stored: a leaked database holds no usable token.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY NOT NULL,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE providers (
    id                    BLOB    PRIMARY KEY NOT NULL,
    user_id               BLOB    NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    slug                  TEXT    NOT NULL UNIQUE,
    display_name          TEXT    NOT NULL,
    business_name         TEXT,
    contacts              TEXT,
    timezone              TEXT    NOT NULL,
    slot_step_min         INTEGER NOT NULL,
    min_notice_min        INTEGER NOT NULL,
    horizon_days          INTEGER NOT NULL,
    cancel_cutoff_min     INTEGER NOT NULL,
    requires_confirmation INTEGER NOT NULL CHECK (requires_confirmation IN (0, 1)),
    reminder_offsets_min  TEXT    NOT NULL, -- JSON array of minutes
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;

CREATE TABLE services (
    id                BLOB    PRIMARY KEY NOT NULL,
    provider_id       BLOB    NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    duration_min      INTEGER NOT NULL CHECK (duration_min > 0),
    price_minor       INTEGER CHECK (price_minor >= 0),
    currency          TEXT,
    buffer_before_min INTEGER NOT NULL DEFAULT 0 CHECK (buffer_before_min >= 0),
    buffer_after_min  INTEGER NOT NULL DEFAULT 0 CHECK (buffer_after_min >= 0),
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX services_provider ON services (provider_id);

-- Several rows a weekday = working time with breaks. Minutes after local midnight.
CREATE TABLE weekly_hours (
    provider_id BLOB    NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_min   INTEGER NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
    end_min     INTEGER NOT NULL CHECK (end_min BETWEEN 1 AND 1440),
    PRIMARY KEY (provider_id, weekday, start_min),
    CHECK (start_min < end_min)
) STRICT;

-- A date with no intervals is a day off.
CREATE TABLE date_overrides (
    provider_id BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    date        TEXT NOT NULL, -- YYYY-MM-DD, provider's time zone
    PRIMARY KEY (provider_id, date)
) STRICT;

CREATE TABLE override_intervals (
    provider_id BLOB    NOT NULL,
    date        TEXT    NOT NULL,
    start_min   INTEGER NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
    end_min     INTEGER NOT NULL CHECK (end_min BETWEEN 1 AND 1440),
    PRIMARY KEY (provider_id, date, start_min),
    FOREIGN KEY (provider_id, date) REFERENCES date_overrides (provider_id, date) ON DELETE CASCADE,
    CHECK (start_min < end_min)
) STRICT;

-- The provider's client book; a client may be linked to a Telegram user.
CREATE TABLE clients (
    id          BLOB    PRIMARY KEY NOT NULL,
    provider_id BLOB    NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    user_id     BLOB    REFERENCES users (id) ON DELETE SET NULL,
    name        TEXT    NOT NULL,
    contacts    TEXT,
    notes       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (provider_id, user_id)
) STRICT;

-- occupied_from/occupied_to is the booked time *with* the service's buffers:
-- the range that must not overlap another active booking of the provider.
CREATE TABLE bookings (
    id              BLOB    PRIMARY KEY NOT NULL,
    provider_id     BLOB    NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    service_id      BLOB    NOT NULL REFERENCES services (id),
    client_id       BLOB    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    occupied_from   INTEGER NOT NULL,
    occupied_to     INTEGER NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
    note            TEXT,
    created_by      BLOB    REFERENCES users (id) ON DELETE SET NULL,
    updated_by      BLOB    REFERENCES users (id) ON DELETE SET NULL,
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (starts_at < ends_at AND occupied_from <= starts_at AND ends_at <= occupied_to),
    UNIQUE (created_by, idempotency_key)
) STRICT;
CREATE INDEX bookings_provider_time ON bookings (provider_id, occupied_from);
CREATE INDEX bookings_client ON bookings (client_id);

-- The safety net behind the calendar actor (DESIGN §3.1): no two active
-- bookings of one provider overlap, half-open [from, to). Writers run in
-- BEGIN IMMEDIATE transactions, so these checks see every committed row.
CREATE TRIGGER bookings_no_overlap_insert
BEFORE INSERT ON bookings
WHEN NEW.status IN ('pending', 'confirmed')
BEGIN
    SELECT RAISE(ABORT, 'booking_overlap')
    WHERE EXISTS (
        SELECT 1 FROM bookings
        WHERE provider_id = NEW.provider_id
          AND status IN ('pending', 'confirmed')
          AND occupied_from < NEW.occupied_to
          AND NEW.occupied_from < occupied_to
    );
END;

CREATE TRIGGER bookings_no_overlap_update
BEFORE UPDATE OF provider_id, status, occupied_from, occupied_to ON bookings
WHEN NEW.status IN ('pending', 'confirmed')
BEGIN
    SELECT RAISE(ABORT, 'booking_overlap')
    WHERE EXISTS (
        SELECT 1 FROM bookings
        WHERE provider_id = NEW.provider_id
          AND id <> NEW.id
          AND status IN ('pending', 'confirmed')
          AND occupied_from < NEW.occupied_to
          AND NEW.occupied_from < occupied_to
    );
END;
