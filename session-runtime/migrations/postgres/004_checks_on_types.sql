-- Checks that a save does not pay for, for session-runtime's PostgreSQL store.
-- PostgreSQL evaluates every CHECK constraint of a table on every UPDATE of a row, whatever
-- the UPDATE changes, and sets each up again on every execution (it reads the stored
-- expression back and plans it): for the two checks of `001_create_sessions.sql`, about 30k
-- of PostgreSQL's instructions on every save of a session and every insert, a sixth of what
-- a save costs it. The same checks on the columns' types (domains) hold every row to the
-- same rules (a key of 32 bytes, a version of at least 1), but PostgreSQL checks a domain
-- only where a value is assigned to the column (the key on insert, the version on insert
-- and save), from its type cache.
-- Upgrading a table in use: the columns change type without rewriting the table or its
-- indexes (domains over the same types; their checks are added after, which reads the rows
-- once); one transaction, holding the table's exclusive lock meanwhile. Instances of the
-- previous version keep working while and after this runs.
-- Idempotent: safe to run again (once the columns are of the domains, it changes nothing
-- and takes no lock).
DO $$
BEGIN
    IF (SELECT atttypid FROM pg_attribute WHERE attrelid = '"{table}"'::regclass
            AND attname = 'id') = 'bytea'::regtype THEN
        LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE;
        -- Another instance may have changed it while this one waited for the lock.
        IF (SELECT atttypid FROM pg_attribute WHERE attrelid = '"{table}"'::regclass
                AND attname = 'id') = 'bytea'::regtype THEN
            IF to_regtype('"{table}_session_key"') IS NULL THEN
                CREATE DOMAIN "{table}_session_key" AS BYTEA;
            END IF;
            IF to_regtype('"{table}_row_version"') IS NULL THEN
                CREATE DOMAIN "{table}_row_version" AS BIGINT;
            END IF;
            ALTER TABLE "{table}" ALTER COLUMN id TYPE "{table}_session_key",
                ALTER COLUMN version TYPE "{table}_row_version";
            IF NOT EXISTS (SELECT 1 FROM pg_constraint
                    WHERE contypid = to_regtype('"{table}_session_key"')) THEN
                ALTER DOMAIN "{table}_session_key" ADD CONSTRAINT key_length
                    CHECK (octet_length(VALUE) = 32);
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_constraint
                    WHERE contypid = to_regtype('"{table}_row_version"')) THEN
                ALTER DOMAIN "{table}_row_version" ADD CONSTRAINT version_min
                    CHECK (VALUE >= 1);
            END IF;
            ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{table}_id_check",
                DROP CONSTRAINT IF EXISTS "{table}_version_check";
        END IF;
    END IF;
END $$;
