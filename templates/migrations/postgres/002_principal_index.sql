-- The principal index of session-runtime's PostgreSQL store (active sessions): whose session
-- each row is, written in the same statement as the row itself, and an index to list them.
-- Idempotent: safe to run again.
ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS principal TEXT;
CREATE INDEX IF NOT EXISTS "{table}_principal_idx" ON "{table}" (principal) WHERE principal IS NOT NULL;
