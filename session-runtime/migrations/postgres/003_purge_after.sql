-- Updates that leave every index alone (HOT updates) for session-runtime's PostgreSQL store.
-- An index on `expires_at` takes a new entry (and a new entry in every other index of the
-- row) on each save that moves the expiry, i.e. on nearly every request of a sliding
-- expiry. Purges instead find rows by `purge_after`, a lower bound of `expires_at` that a
-- save moves only when the expiry went below it or 300 seconds or more past it: a save
-- changes no indexed column otherwise, and with free room on the page PostgreSQL updates
-- the row in place of its page (HOT), no index touched.
-- Upgrading a table in use: instances of the previous version keep working while and after
-- this runs (their purges scan the table instead of the dropped index; rows they insert
-- get `-infinity`, found by every purge, so none is left behind). Run it before deploying
-- the new version, which needs the column.
-- Idempotent: safe to run again.
ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS purge_after TIMESTAMPTZ NOT NULL DEFAULT '-infinity';
UPDATE "{table}" SET purge_after = expires_at WHERE purge_after = '-infinity';
CREATE INDEX IF NOT EXISTS "{table}_purge_idx" ON "{table}" (purge_after);
DROP INDEX IF EXISTS "{table}_expires_at_idx";
-- Room on each page for the new versions of its rows (HOT needs the same page).
ALTER TABLE "{table}" SET (fillfactor = 90);
