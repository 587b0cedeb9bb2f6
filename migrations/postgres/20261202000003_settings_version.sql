-- A provider's settings version (DESIGN §8 "Consistency"). Every write of the
-- provider's profile and rules, services, weekly hours or date overrides
-- bumps it in the writing transaction — the triggers below make that true of
-- every write, present and future, not only of the ones that remember to.
-- A booking transaction reads it FOR SHARE and checks the version its
-- calendar decided with: a settings write (which updates the row) waits for
-- the booking to commit, or the booking waits for it and sees the new value.

ALTER TABLE providers ADD COLUMN settings_version bigint NOT NULL DEFAULT 1;

-- A write that set the version itself is not bumped twice.
CREATE FUNCTION providers_bump_own_settings_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.settings_version = OLD.settings_version THEN
        NEW.settings_version := OLD.settings_version + 1;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER providers_settings_version
BEFORE UPDATE ON providers
FOR EACH ROW EXECUTE FUNCTION providers_bump_own_settings_version();

-- For the tables that hold a provider's settings by `provider_id`.
CREATE FUNCTION bump_provider_settings_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE providers SET settings_version = settings_version + 1 WHERE id = OLD.provider_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.provider_id <> OLD.provider_id) THEN
        UPDATE providers SET settings_version = settings_version + 1 WHERE id = NEW.provider_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER services_settings_version AFTER INSERT OR UPDATE OR DELETE ON services
FOR EACH ROW EXECUTE FUNCTION bump_provider_settings_version();
CREATE TRIGGER weekly_hours_settings_version AFTER INSERT OR UPDATE OR DELETE ON weekly_hours
FOR EACH ROW EXECUTE FUNCTION bump_provider_settings_version();
CREATE TRIGGER date_overrides_settings_version AFTER INSERT OR UPDATE OR DELETE ON date_overrides
FOR EACH ROW EXECUTE FUNCTION bump_provider_settings_version();
CREATE TRIGGER override_intervals_settings_version AFTER INSERT OR UPDATE OR DELETE ON override_intervals
FOR EACH ROW EXECUTE FUNCTION bump_provider_settings_version();
