-- Policy §8 (correction): a field the user corrected stays corrected; the
-- next Telegram sign-in refreshes only the fields the user has not touched.
ALTER TABLE users
    ADD COLUMN first_name_corrected BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN last_name_corrected BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN language_code_corrected BOOLEAN NOT NULL DEFAULT FALSE;
