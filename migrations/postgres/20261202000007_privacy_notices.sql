-- Messages that are not about one booking (see the SQLite migration):
-- text (written out when decided) and policy (the privacy policy changed).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('push', 'reminder', 'text', 'policy'));
ALTER TABLE outbox ALTER COLUMN booking_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN body text;
ALTER TABLE outbox ADD CONSTRAINT outbox_booking_kind CHECK ((kind IN ('push', 'reminder')) = (booking_id IS NOT NULL));
ALTER TABLE outbox ADD CONSTRAINT outbox_text_body CHECK ((kind = 'text') = (body IS NOT NULL));
CREATE INDEX outbox_recipient ON outbox (recipient_id);

-- Policy §10: every published text of the privacy policy, by SHA-256.
CREATE TABLE policy_versions (
    text_sha256  text        PRIMARY KEY,
    published_at timestamptz NOT NULL
);
ALTER TABLE users ADD COLUMN policy_version_seen text;
ALTER TABLE users ADD COLUMN policy_version_notified text;

-- Policy §6: the client asked the provider to delete their card.
ALTER TABLE clients ADD COLUMN erasure_requested_at timestamptz;
