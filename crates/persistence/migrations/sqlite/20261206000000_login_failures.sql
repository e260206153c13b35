-- Failed logins, for throttling, as on PostgreSQL: one row per failure and key (`account:<e-mail>`
-- or `client:<address>`), so that a restart does not reset the count. Rows older than the
-- throttling window are deleted as new failures arrive. Times are the store's sortable text.
CREATE TABLE login_failures (
    key       TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at DESC);
CREATE INDEX login_failures_age ON login_failures (failed_at);
