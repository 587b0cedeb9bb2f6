-- Issue 14: classes with seats and a live waitlist (see the PostgreSQL
-- migration of the same name for the why of each part).

ALTER TABLE services ADD COLUMN capacity INTEGER NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 500);

-- What a booking occupies the provider for: itself, or a class start.
ALTER TABLE bookings ADD COLUMN occurrence TEXT NOT NULL DEFAULT '';
UPDATE bookings SET occurrence = lower(hex(id));
ALTER TABLE bookings ADD COLUMN seat INTEGER CHECK (seat >= 1);

-- No two active bookings of one provider overlap unless they are seats of
-- the same class start.
DROP TRIGGER bookings_no_overlap_insert;
DROP TRIGGER bookings_no_overlap_update;
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
          AND occurrence <> NEW.occurrence
    );
END;

CREATE TRIGGER bookings_no_overlap_update
BEFORE UPDATE OF provider_id, status, occupied_from, occupied_to, occurrence ON bookings
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
          AND occurrence <> NEW.occurrence
    );
END;

-- Every booking the server writes names its occurrence; a row without one
-- would share time with any other such row.
CREATE TRIGGER bookings_occurrence_named
BEFORE INSERT ON bookings
WHEN NEW.occurrence = ''
BEGIN
    SELECT RAISE(ABORT, 'booking_without_occurrence');
END;

-- No seat held twice, none beyond the capacity, none once the start is full.
CREATE UNIQUE INDEX bookings_one_per_seat ON bookings (occurrence, seat)
    WHERE status IN ('pending', 'confirmed') AND seat IS NOT NULL;

CREATE TRIGGER bookings_seat_within_capacity_insert
BEFORE INSERT ON bookings
WHEN NEW.seat IS NOT NULL AND NEW.status IN ('pending', 'confirmed')
BEGIN
    SELECT RAISE(ABORT, 'seat_beyond_capacity')
    WHERE NEW.seat > (SELECT capacity FROM services WHERE id = NEW.service_id)
       OR (SELECT COUNT(*) FROM bookings WHERE occurrence = NEW.occurrence AND seat IS NOT NULL
             AND status IN ('pending', 'confirmed'))
          >= (SELECT capacity FROM services WHERE id = NEW.service_id);
END;

CREATE TRIGGER bookings_seat_within_capacity_update
BEFORE UPDATE OF seat, occurrence ON bookings
WHEN NEW.seat IS NOT NULL AND NEW.status IN ('pending', 'confirmed')
     AND (NEW.seat IS NOT OLD.seat OR NEW.occurrence IS NOT OLD.occurrence)
BEGIN
    SELECT RAISE(ABORT, 'seat_beyond_capacity')
    WHERE NEW.seat > (SELECT capacity FROM services WHERE id = NEW.service_id)
       OR (SELECT COUNT(*) FROM bookings WHERE occurrence = NEW.occurrence AND id <> NEW.id AND seat IS NOT NULL
             AND status IN ('pending', 'confirmed'))
          >= (SELECT capacity FROM services WHERE id = NEW.service_id);
END;

CREATE TABLE waitlist_entries (
    id          BLOB    PRIMARY KEY NOT NULL,
    user_id     BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id BLOB    NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    service_id  BLOB    NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    local_date  TEXT    NOT NULL,
    from_min    INTEGER CHECK (from_min BETWEEN 0 AND 1440),
    to_min      INTEGER CHECK (to_min BETWEEN 0 AND 1440),
    free_known  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, service_id, local_date)
) STRICT;
CREATE INDEX waitlist_by_day ON waitlist_entries (provider_id, local_date);
