-- The time zone of the device the user last opened the Mini App on (issue 13,
-- "two time zones"): Telegram gives none, so the bot's texts show a client
-- their own wall time beside the provider's only once the Mini App has told
-- us. An IANA name, validated by the server; NULL until then.
ALTER TABLE users ADD COLUMN time_zone text;
