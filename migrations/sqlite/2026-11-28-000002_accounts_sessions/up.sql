-- People who work the desk, their server-side sessions, failed sign-ins (for throttling), and
-- who made each deletion. Kept in step with ../../postgres.
CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    created_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX agents_email_lower_key ON agents (lower(email));

-- actix-session's state, keyed by the opaque id the cookie carries.
CREATE TABLE sessions (
    session_key TEXT PRIMARY KEY NOT NULL,
    state       TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE login_failures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, attempted_at);

-- The actor's name is copied so that the record stays readable after the account is removed.
ALTER TABLE deletion_records ADD COLUMN actor_id BIGINT REFERENCES agents (id) ON DELETE SET NULL;
ALTER TABLE deletion_records ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';
CREATE INDEX deletion_records_actor_idx ON deletion_records (actor_id);
