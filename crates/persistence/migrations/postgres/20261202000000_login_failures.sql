-- Failed logins, for throttling: one row per failure and key (`account:<e-mail>` or
-- `client:<address>`), so that every replica counts the same failures. Rows older than the
-- throttling window are deleted as new failures arrive.
CREATE TABLE login_failures (
    key       TEXT        NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at DESC);
CREATE INDEX login_failures_age ON login_failures (failed_at);
