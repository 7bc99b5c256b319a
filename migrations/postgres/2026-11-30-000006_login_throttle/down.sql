DROP TABLE login_throttle;
CREATE TABLE login_failures (
    id           BIGSERIAL PRIMARY KEY,
    email        TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, attempted_at);
