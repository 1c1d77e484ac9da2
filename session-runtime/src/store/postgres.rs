//! The PostgreSQL store (feature `postgres`): Diesel with libpq, an r2d2 pool on tokio's
//! blocking threads (why: [`super::database`]).
//!
//! The table (`migrations/postgres/` in this crate, run by [`PostgresStore::migrate`] or
//! `session-db migrate`): `id BYTEA` (SHA-256 of the session id, length checked),
//! `payload BYTEA`, `expires_at`, `created_at`, `updated_at` as `TIMESTAMPTZ` (no 2038
//! limit, no session time zone involved), `version BIGINT`, an index on `expires_at`.
//!
//! ```no_run
//! use session_runtime::store::postgres::PostgresStore;
//! # async fn run() -> Result<(), session_runtime::StoreError> {
//! let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
//! let store = PostgresStore::builder(url).table("sessions").connect().await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```

use super::database::{
    Dialect, DieselStore, DieselStoreBuilder, Statements, TableName, diesel_queries, sealed,
};

/// The PostgreSQL dialect of [`DieselStore`].
#[derive(Clone, Copy, Debug)]
pub struct Postgres;

/// A session store on a PostgreSQL table.
pub type PostgresStore = DieselStore<Postgres>;

impl PostgresStore {
    /// Starts building a store on the database at `url`
    /// (`postgres://user:password@host:port/database`).
    pub fn builder(url: impl Into<String>) -> DieselStoreBuilder<Postgres> {
        DieselStoreBuilder::new(url)
    }
}

impl sealed::Sealed for Postgres {}

/// `TIMESTAMPTZ` from Unix seconds: absolute, whatever the session's `TimeZone`.
macro_rules! at {
    ($n:literal) => {
        concat!("(TIMESTAMPTZ 'epoch' + $", $n, " * INTERVAL '1 second')")
    };
}

impl Dialect for Postgres {
    type Connection = diesel::PgConnection;
    const NAME: &'static str = "postgres";
    const MIGRATIONS: &'static [(&'static str, &'static str)] = &[
        (
            "001_create_sessions.sql",
            include_str!("../../migrations/postgres/001_create_sessions.sql"),
        ),
        (
            "002_principal_index.sql",
            include_str!("../../migrations/postgres/002_principal_index.sql"),
        ),
    ];

    fn statements(table: &TableName) -> Statements {
        let t = format!("\"{}\"", table.as_str());
        Statements {
            insert: format!(
                "INSERT INTO {t} (id, payload, expires_at, version, principal) VALUES ($1, $2, {}, 1, NULLIF($4, ''))",
                at!(3)
            ),
            load: format!(
                "SELECT payload, EXTRACT(EPOCH FROM expires_at)::BIGINT AS expires_at, version, principal \
                 FROM {t} WHERE id = $1 AND expires_at > {}",
                at!(2)
            ),
            update: format!(
                "UPDATE {t} SET payload = $1, expires_at = {}, version = version + 1, updated_at = now(), \
                 principal = NULLIF($3, '') WHERE id = $4 AND version = $5",
                at!(2)
            ),
            version: format!("SELECT version FROM {t} WHERE id = $1"),
            list: format!(
                "SELECT id, payload, EXTRACT(EPOCH FROM expires_at)::BIGINT AS expires_at, version, \
                 principal FROM {t} WHERE principal = $1 AND expires_at > {}",
                at!(2)
            ),
            delete: format!("DELETE FROM {t} WHERE id = $1"),
            delete_version: format!("DELETE FROM {t} WHERE id = $1 AND version = $2"),
            // SKIP LOCKED: two purges at once, or a purge and a save, never wait on each other.
            purge: format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= {} \
                 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                at!(1)
            ),
            lock: "SELECT 1::BIGINT AS version FROM (SELECT pg_advisory_lock(hashtext($1))) AS l"
                .to_owned(),
            unlock: "SELECT (CASE WHEN pg_advisory_unlock(hashtext($1)) THEN 1 ELSE 0 END)::BIGINT AS version"
                .to_owned(),
        }
    }

    fn prepare_url(url: &str, timeout: std::time::Duration) -> String {
        // libpq waits for a TCP connect as long as the OS does unless told otherwise; bound
        // it by the pool timeout (libpq's minimum is 2 seconds).
        let is_uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !is_uri || url.contains("connect_timeout=") {
            return url.to_owned();
        }
        let secs = timeout.as_secs_f64().ceil().max(2.0) as u64;
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}connect_timeout={secs}")
    }

    diesel_queries!();
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn connect_timeout_is_added_unless_given() {
        let t = Duration::from_millis(1500);
        assert_eq!(
            Postgres::prepare_url("postgres://u:p@h/db", t),
            "postgres://u:p@h/db?connect_timeout=2"
        );
        assert_eq!(
            Postgres::prepare_url("postgresql://h/db?sslmode=require", Duration::from_secs(5)),
            "postgresql://h/db?sslmode=require&connect_timeout=5"
        );
        assert_eq!(
            Postgres::prepare_url("postgres://h/db?connect_timeout=9", t),
            "postgres://h/db?connect_timeout=9"
        );
        assert_eq!(
            Postgres::prepare_url("host=h dbname=db", t),
            "host=h dbname=db"
        );
    }
}
