-- Technical data (privacy policy §2): one row per API request of a signed-in
-- user and per sign-in attempt (user_id NULL when it failed). The User-Agent
-- is kept only as what it tells (device type, browser, OS), never raw; the
-- route is the template (`/api/provider/clients/{id}`), never the path.
-- Rows older than ACCESS_LOG_RETENTION_DAYS are purged daily.
CREATE TABLE access_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id BLOB    REFERENCES users (id) ON DELETE CASCADE,
    ip      TEXT    NOT NULL,
    device  TEXT    NOT NULL,
    browser TEXT    NOT NULL,
    os      TEXT    NOT NULL,
    method  TEXT    NOT NULL,
    route   TEXT    NOT NULL,
    status  INTEGER NOT NULL
) STRICT;
CREATE INDEX access_log_user ON access_log (user_id, at);
CREATE INDEX access_log_at ON access_log (at);
-- The purge removes expired sessions by this.
CREATE INDEX sessions_expires ON sessions (expires_at);
