-- Session records of session-runtime's PostgreSQL store.
-- The table name in quotes is filled in with the configured name (validated: letters, digits, `_`).
-- Idempotent: safe to run again.
CREATE TABLE IF NOT EXISTS "{table}" (
    -- SHA-256 of the session id: a dump of the table holds no usable cookie.
    id BYTEA PRIMARY KEY CHECK (octet_length(id) = 32),
    -- The serialized (possibly encrypted) session; the store enforces its size cap.
    payload BYTEA NOT NULL,
    -- Absolute instants (TIMESTAMPTZ): no 2038 limit, no dependence on the session time zone.
    -- `expires_at` is set from the application's clock; the other two are informational.
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Optimistic concurrency: a save succeeds only against the version it loaded.
    version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE INDEX IF NOT EXISTS "{table}_expires_at_idx" ON "{table}" (expires_at);
