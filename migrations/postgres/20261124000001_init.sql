-- Just Book Me, PostgreSQL schema. Same shape as the SQLite one, native types;
-- integers are bigint so that both backends decode into the same Rust rows.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE users (
    id                    uuid        PRIMARY KEY,
    telegram_id           bigint      NOT NULL UNIQUE,
    first_name            text        NOT NULL,
    last_name             text,
    username              text,
    language_code         text,
    photo_url             text,
    processing_restricted boolean     NOT NULL DEFAULT false,
    deleted_at            timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);

-- Only a SHA-256 of the bearer token is stored: a leaked database holds no usable token.
CREATE TABLE sessions (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE providers (
    id                    uuid        PRIMARY KEY,
    user_id               uuid        NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    slug                  text        NOT NULL UNIQUE,
    display_name          text        NOT NULL,
    business_name         text,
    contacts              text,
    timezone              text        NOT NULL,
    slot_step_min         bigint      NOT NULL,
    min_notice_min        bigint      NOT NULL,
    horizon_days          bigint      NOT NULL,
    cancel_cutoff_min     bigint      NOT NULL,
    requires_confirmation boolean     NOT NULL,
    reminder_offsets_min  text        NOT NULL, -- JSON array of minutes
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);

CREATE TABLE services (
    id                uuid        PRIMARY KEY,
    provider_id       uuid        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    name              text        NOT NULL,
    duration_min      bigint      NOT NULL CHECK (duration_min > 0),
    price_minor       bigint      CHECK (price_minor >= 0),
    currency          text,
    buffer_before_min bigint      NOT NULL DEFAULT 0 CHECK (buffer_before_min >= 0),
    buffer_after_min  bigint      NOT NULL DEFAULT 0 CHECK (buffer_after_min >= 0),
    active            boolean     NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX services_provider ON services (provider_id);

-- Several rows a weekday = working time with breaks. Minutes after local midnight.
CREATE TABLE weekly_hours (
    provider_id uuid     NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    weekday     bigint   NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_min   bigint   NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
    end_min     bigint   NOT NULL CHECK (end_min BETWEEN 1 AND 1440),
    PRIMARY KEY (provider_id, weekday, start_min),
    CHECK (start_min < end_min)
);

-- A date with no intervals is a day off.
CREATE TABLE date_overrides (
    provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    date        date NOT NULL,
    PRIMARY KEY (provider_id, date)
);

CREATE TABLE override_intervals (
    provider_id uuid     NOT NULL,
    date        date     NOT NULL,
    start_min   bigint   NOT NULL CHECK (start_min BETWEEN 0 AND 1439),
    end_min     bigint   NOT NULL CHECK (end_min BETWEEN 1 AND 1440),
    PRIMARY KEY (provider_id, date, start_min),
    FOREIGN KEY (provider_id, date) REFERENCES date_overrides (provider_id, date) ON DELETE CASCADE,
    CHECK (start_min < end_min)
);

-- The provider's client book; a client may be linked to a Telegram user.
CREATE TABLE clients (
    id          uuid        PRIMARY KEY,
    provider_id uuid        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    user_id     uuid        REFERENCES users (id) ON DELETE SET NULL,
    name        text        NOT NULL,
    contacts    text,
    notes       text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (provider_id, user_id)
);

-- occupied_from/occupied_to is the booked time *with* the service's buffers.
CREATE TABLE bookings (
    id              uuid        PRIMARY KEY,
    provider_id     uuid        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    service_id      uuid        NOT NULL REFERENCES services (id),
    client_id       uuid        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    occupied_from   timestamptz NOT NULL,
    occupied_to     timestamptz NOT NULL,
    status          text        NOT NULL
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
    note            text,
    created_by      uuid        REFERENCES users (id) ON DELETE SET NULL,
    updated_by      uuid        REFERENCES users (id) ON DELETE SET NULL,
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK (starts_at < ends_at AND occupied_from <= starts_at AND ends_at <= occupied_to),
    UNIQUE (created_by, idempotency_key),
    -- The cross-node safety net behind the calendar actors (DESIGN §3.1).
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        provider_id WITH =,
        tstzrange(occupied_from, occupied_to, '[)') WITH &&
    ) WHERE (status IN ('pending', 'confirmed'))
);
CREATE INDEX bookings_client ON bookings (client_id);
