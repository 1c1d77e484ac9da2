-- Session records of session-runtime's MySQL / MariaDB store.
-- The table name in quotes is filled in with the configured name (validated: letters, digits, `_`).
-- Idempotent: safe to run again.
CREATE TABLE IF NOT EXISTS `{table}` (
    -- SHA-256 of the session id: a dump of the table holds no usable cookie.
    id BINARY(32) NOT NULL PRIMARY KEY,
    -- LONGBLOB, not BLOB (64 KiB) or MEDIUMBLOB (16 MiB): the store enforces its own cap.
    payload LONGBLOB NOT NULL,
    -- DATETIME(6) holding UTC, never TIMESTAMP: no 2038 limit and no conversion through the
    -- session time zone. `expires_at` is set from the application's clock; the other two
    -- are informational (UTC_TIMESTAMP).
    expires_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    -- Optimistic concurrency: a save succeeds only against the version it loaded.
    version BIGINT NOT NULL DEFAULT 1,
    INDEX `{table}_expires_at_idx` (expires_at)
) ENGINE = InnoDB;
