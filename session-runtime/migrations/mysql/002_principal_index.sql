-- The principal index of session-runtime's MySQL / MariaDB store (active sessions): whose
-- session each row is, written in the same statement as the row itself, and an index to
-- list them. Idempotent (MariaDB's `IF NOT EXISTS`; on MySQL 8 run the two statements once
-- without it).
ALTER TABLE `{table}` ADD COLUMN IF NOT EXISTS principal VARCHAR(255) NULL;
CREATE INDEX IF NOT EXISTS `{table}_principal_idx` ON `{table}` (principal);
