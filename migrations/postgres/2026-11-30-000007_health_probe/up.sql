-- One row, rewritten every few seconds by the health probe: /healthz reports whether the
-- database can be written without any request writing.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    checked_at TIMESTAMP NOT NULL
);
