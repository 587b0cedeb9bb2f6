-- A provider's settings version (DESIGN §8 "Consistency"). Every write of the
-- provider's profile and rules, services, weekly hours or date overrides
-- bumps it in the writing transaction — the triggers below make that true of
-- every write, present and future, not only of the ones that remember to.
-- A booking transaction checks the version its calendar decided with, so no
-- node books against settings older than the last committed change.

ALTER TABLE providers ADD COLUMN settings_version INTEGER NOT NULL DEFAULT 1;

-- A write that set the version itself (upsert_provider does, so that its
-- RETURNING sees the new value) is not bumped twice.
CREATE TRIGGER providers_settings_version
AFTER UPDATE ON providers
WHEN NEW.settings_version = OLD.settings_version
BEGIN
    UPDATE providers SET settings_version = OLD.settings_version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER services_insert_settings_version AFTER INSERT ON services
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = NEW.provider_id; END;
CREATE TRIGGER services_update_settings_version AFTER UPDATE ON services
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id IN (OLD.provider_id, NEW.provider_id); END;
CREATE TRIGGER services_delete_settings_version AFTER DELETE ON services
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = OLD.provider_id; END;

CREATE TRIGGER weekly_hours_insert_settings_version AFTER INSERT ON weekly_hours
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = NEW.provider_id; END;
CREATE TRIGGER weekly_hours_update_settings_version AFTER UPDATE ON weekly_hours
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id IN (OLD.provider_id, NEW.provider_id); END;
CREATE TRIGGER weekly_hours_delete_settings_version AFTER DELETE ON weekly_hours
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = OLD.provider_id; END;

CREATE TRIGGER date_overrides_insert_settings_version AFTER INSERT ON date_overrides
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = NEW.provider_id; END;
CREATE TRIGGER date_overrides_update_settings_version AFTER UPDATE ON date_overrides
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id IN (OLD.provider_id, NEW.provider_id); END;
CREATE TRIGGER date_overrides_delete_settings_version AFTER DELETE ON date_overrides
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = OLD.provider_id; END;

CREATE TRIGGER override_intervals_insert_settings_version AFTER INSERT ON override_intervals
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = NEW.provider_id; END;
CREATE TRIGGER override_intervals_update_settings_version AFTER UPDATE ON override_intervals
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id IN (OLD.provider_id, NEW.provider_id); END;
CREATE TRIGGER override_intervals_delete_settings_version AFTER DELETE ON override_intervals
BEGIN UPDATE providers SET settings_version = settings_version + 1 WHERE id = OLD.provider_id; END;
