//! The MySQL / MariaDB store (feature `mysql`): Diesel with libmysqlclient (MariaDB's
//! Connector/C), an r2d2 pool on tokio's blocking threads (why: [`super`]).
//!
//! The table (`migrations/mysql/` in this crate, run by [`MysqlStore::migrate`] or
//! `session-db migrate`): `id BINARY(32)` (SHA-256 of the session id), `payload LONGBLOB`
//! (far above `BLOB`'s 64 KiB; the store enforces its own cap, which must stay below the
//! server's `max_allowed_packet`), `expires_at`, `created_at`, `updated_at` as
//! `DATETIME(6)` holding UTC (never `TIMESTAMP`: no 2038 limit, and no conversion through
//! the session's `time_zone`), `version BIGINT`, an index on `expires_at`.
//!
//! ```no_run
//! use session_runtime::store::mysql::MysqlStore;
//! # async fn run() -> Result<(), session_runtime::StoreError> {
//! let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
//! let store = MysqlStore::builder(url).table("sessions").connect().await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```

use super::internal::{Blocking, Driver, Queries, Statements};
use super::{Dialect, DieselStore, DieselStoreBuilder, QueryResult, TableName, migrations};

/// The MySQL / MariaDB dialect of [`DieselStore`].
#[derive(Clone, Copy, Debug)]
pub struct Mysql;

/// A session store on a MySQL or MariaDB table.
pub type MysqlStore = DieselStore<Mysql>;

impl MysqlStore {
    /// Starts building a store on the database at `url`
    /// (`mysql://user:password@host:port/database`).
    pub fn builder(url: impl Into<String>) -> DieselStoreBuilder<Mysql> {
        DieselStoreBuilder::new(url)
    }
}

/// A UTC `DATETIME` from Unix seconds, computed from the epoch without any time zone
/// (`FROM_UNIXTIME` would go through the session's `time_zone`).
const AT: &str = "TIMESTAMPADD(SECOND, ?, TIMESTAMP'1970-01-01 00:00:00')";
/// Unix seconds from a UTC `DATETIME`, likewise.
const SECS: &str = "TIMESTAMPDIFF(SECOND, TIMESTAMP'1970-01-01 00:00:00', expires_at)";

impl Dialect for Mysql {
    const NAME: &'static str = "mysql";
    const MIGRATIONS: &'static [(&'static str, &'static str)] = migrations!("mysql":
        "001_create_sessions.sql", "002_principal_index.sql");
}

impl Driver for Mysql {
    type Connection = diesel::MysqlConnection;
    type Requests = Blocking;

    fn statements(table: &TableName) -> Statements {
        let t = format!("`{}`", table.as_str());
        Statements {
            insert: format!(
                "INSERT INTO {t} (id, payload, expires_at, created_at, updated_at, version, principal) \
                 VALUES (?, ?, {AT}, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 1, NULLIF(?, ''))"
            ),
            load: format!(
                "SELECT payload, {SECS} AS expires_at, version, principal FROM {t} \
                 WHERE id = ? AND expires_at > {AT}"
            ),
            update: format!(
                "UPDATE {t} SET payload = ?, expires_at = {AT}, version = version + 1, \
                 updated_at = UTC_TIMESTAMP(6), principal = NULLIF(?, '') WHERE id = ? AND version = ?"
            ),
            version: format!("SELECT version FROM {t} WHERE id = ?"),
            list: format!(
                "SELECT id, payload, {SECS} AS expires_at, version, principal FROM {t} \
                 WHERE principal = ? AND expires_at > {AT}"
            ),
            delete: format!("DELETE FROM {t} WHERE id = ?"),
            delete_version: format!("DELETE FROM {t} WHERE id = ? AND version = ?"),
            purge: format!("DELETE FROM {t} WHERE expires_at <= {AT} ORDER BY expires_at LIMIT ?"),
            // Lock names hold at most 64 characters: the name is hashed.
            lock: "SELECT CAST(COALESCE(GET_LOCK(CONCAT('sl-', SHA1(?)), 30), 0) AS SIGNED) AS version"
                .to_owned(),
            unlock: "SELECT CAST(COALESCE(RELEASE_LOCK(CONCAT('sl-', SHA1(?))), 0) AS SIGNED) AS version"
                .to_owned(),
            drop: format!("DROP TABLE IF EXISTS {t}"),
        }
    }

    fn check_server(
        conn: &mut Self::Connection,
        max_payload: usize,
    ) -> QueryResult<Option<String>> {
        let packet = conn
            .version(
                "SELECT CAST(@@max_allowed_packet AS SIGNED) AS version",
                &[],
            )?
            .unwrap_or(0);
        // The statement carries the payload plus the key, the times and the SQL text.
        let needed = max_payload as i64 + 4096;
        Ok((packet < needed).then(|| {
            format!(
                "the payload cap of {max_payload} bytes does not fit the server's `max_allowed_packet` of \
                 {packet} bytes: lower `max_payload` or raise `max_allowed_packet`"
            )
        }))
    }
}
