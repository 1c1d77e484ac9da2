//! The PostgreSQL store (feature `postgres`): Diesel; the statements of every request on
//! `diesel-async` (tokio-postgres), the rest on libpq with an r2d2 pool on tokio's blocking
//! threads (why: [`super`]).
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

use super::internal::{Driver, Statements};
use super::{Dialect, DieselStore, DieselStoreBuilder, TableName, migrations};

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

/// `TIMESTAMPTZ` from Unix seconds: absolute, whatever the session's `TimeZone`.
macro_rules! at {
    ($n:literal) => {
        concat!("(TIMESTAMPTZ 'epoch' + $", $n, " * INTERVAL '1 second')")
    };
}

impl Dialect for Postgres {
    const NAME: &'static str = "postgres";
    const MIGRATIONS: &'static [(&'static str, &'static str)] = migrations!("postgres":
        "001_create_sessions.sql", "002_principal_index.sql");
}

impl Driver for Postgres {
    type Connection = diesel::PgConnection;
    type Requests = requests::AsyncRequests;

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
            drop: format!("DROP TABLE IF EXISTS {t}"),
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
}

/// The statements of every request (load, create, save) on `diesel-async`'s PostgreSQL
/// connection (tokio-postgres): no blocking thread, no thread hop; why, with the figures:
/// [`super`].
mod requests {
    use std::sync::Mutex;

    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
    use tokio::sync::{Semaphore, SemaphorePermit};

    use crate::store::database::internal::{
        RequestSettings, Requests, Row, Statements, VersionRow,
    };
    use crate::store::database::prepared::{Bind, Prepared};
    use crate::store::database::{QueryResult, scrub};
    use crate::store::{Record, Result, StoreError};

    /// A small pool of async connections: at most `size` open, idle ones kept for the next
    /// request, a connection that failed dropped (so service comes back by itself when the
    /// database does).
    pub struct AsyncRequests {
        settings: RequestSettings,
        idle: Mutex<Vec<AsyncPgConnection>>,
        permits: Semaphore,
    }

    impl std::fmt::Debug for AsyncRequests {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("AsyncRequests")
                .field("url", &self.settings.redacted)
                .field("available", &self.permits.available_permits())
                .finish_non_exhaustive()
        }
    }

    /// A connection taken from the pool; back into it on drop unless it failed.
    struct Checkout<'a> {
        conn: Option<AsyncPgConnection>,
        pool: &'a AsyncRequests,
        _permit: SemaphorePermit<'a>,
    }

    impl Drop for Checkout<'_> {
        fn drop(&mut self) {
            if let Some(conn) = self.conn.take() {
                self.pool
                    .idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(conn);
            }
        }
    }

    impl AsyncRequests {
        fn unavailable(&self, why: impl std::fmt::Display) -> StoreError {
            StoreError::Unavailable(format!(
                "no connection to postgres at {} within {:?}: {}",
                self.settings.redacted,
                self.settings.timeout,
                scrub(&why.to_string(), self.settings.password.as_deref()).trim_end()
            ))
        }

        /// A connection within the timeout: an idle one, or a new one.
        async fn get(&self) -> Result<Checkout<'_>> {
            let deadline = tokio::time::Instant::now() + self.settings.timeout;
            let permit = tokio::time::timeout_at(deadline, self.permits.acquire())
                .await
                .map_err(|_| self.unavailable("every connection is busy"))?
                .map_err(|e| self.unavailable(e))?;
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match idle {
                Some(conn) => conn,
                None => tokio::time::timeout_at(deadline, self.connect())
                    .await
                    .map_err(|_| self.unavailable("timed out connecting"))??,
            };
            Ok(Checkout {
                conn: Some(conn),
                pool: self,
                _permit: permit,
            })
        }

        async fn connect(&self) -> Result<AsyncPgConnection> {
            let mut conn = AsyncPgConnection::establish(&self.settings.url)
                .await
                .map_err(|e| self.unavailable(e))?;
            if let Some(sql) = &self.settings.on_connect {
                conn.batch_execute(sql)
                    .await
                    .map_err(|e| self.unavailable(e))?;
            }
            Ok(conn)
        }

        /// Runs `op` on a pooled connection; maps its error and drops the connection
        /// unless the error was about the data.
        async fn with<T>(
            &self,
            op: impl AsyncFnOnce(&mut AsyncPgConnection) -> QueryResult<T>,
        ) -> Result<T> {
            let mut checkout = self.get().await?;
            let Some(conn) = checkout.conn.as_mut() else {
                return Err(StoreError::backend(
                    "postgres: a checked-out connection is gone",
                ));
            };
            let error = match op(conn).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) = error {
                return Err(StoreError::Exists);
            }
            let message = scrub(&error.to_string(), self.settings.password.as_deref());
            let lost = match &error {
                DieselError::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                ) => true,
                DieselError::DeserializationError(_) => return Err(StoreError::Corrupt(message)),
                // Not obviously a lost connection: ask the connection itself.
                _ => conn.batch_execute("SELECT 1").await.is_err(),
            };
            // Not returned to the pool.
            checkout.conn = None;
            let at = &self.settings.redacted;
            Err(if lost {
                StoreError::Unavailable(format!("postgres at {at}: {message}"))
            } else {
                StoreError::backend(format!("postgres at {at}: {message}"))
            })
        }
    }

    #[async_trait::async_trait]
    impl Requests for AsyncRequests {
        fn open(settings: RequestSettings) -> Option<Self> {
            Some(Self {
                permits: Semaphore::new(settings.size.max(1) as usize),
                idle: Mutex::new(Vec::new()),
                settings,
            })
        }

        async fn insert(&self, sql: &Statements, key: &[u8], record: &Record) -> Result<()> {
            self.with(async |conn| {
                Prepared::new(&sql.insert, &Statements::insert_binds(key, record))
                    .execute(conn)
                    .await
                    .map(drop)
            })
            .await
        }

        async fn load(&self, sql: &Statements, key: &[u8], now: i64) -> Result<Option<Row>> {
            self.with(async |conn| {
                let binds = [Bind::Bytes(key), Bind::Int(now)];
                let mut rows: Vec<Row> = Prepared::new(&sql.load, &binds).load(conn).await?;
                Ok(rows.pop())
            })
            .await
        }

        async fn save(
            &self,
            sql: &Statements,
            key: &[u8],
            record: &Record,
        ) -> Result<Option<Option<i64>>> {
            self.with(async |conn| {
                let binds = Statements::update_binds(key, record);
                if Prepared::new(&sql.update, &binds).execute(conn).await? > 0 {
                    return Ok(None);
                }
                let binds = [Bind::Bytes(key)];
                let mut rows: Vec<VersionRow> =
                    Prepared::new(&sql.version, &binds).load(conn).await?;
                Ok(Some(rows.pop().map(|r| r.version)))
            })
            .await
        }
    }
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
