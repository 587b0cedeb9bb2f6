-- Policy §8 (correction): a field the user corrected stays corrected; the
-- next Telegram sign-in refreshes only the fields the user has not touched.
ALTER TABLE users ADD COLUMN first_name_corrected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_name_corrected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN language_code_corrected INTEGER NOT NULL DEFAULT 0;
