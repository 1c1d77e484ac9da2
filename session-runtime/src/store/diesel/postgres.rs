//! The PostgreSQL store (feature `postgres`): the statements of every request on
//! tokio-postgres, the rest on Diesel (libpq) with an r2d2 pool on tokio's blocking threads
//! (why: [`super`]).
//!
//! The table (`migrations/postgres/` in this crate, run by [`PostgresStore::migrate`] or
//! `session-db migrate`): `id` (SHA-256 of the session id, `BYTEA` of 32 bytes),
//! `payload BYTEA`, `expires_at`, `created_at`, `updated_at` as `TIMESTAMPTZ` (no 2038
//! limit, no session time zone involved), `version` (`BIGINT`, at least 1), `principal`
//! (indexed), and `purge_after`, the purge's indexed lower bound of `expires_at` (migration
//! `003_purge_after.sql`, which replaced the index on `expires_at`): it stays within 300 s
//! below the expiry and a save moves it at most once per 300 s of a sliding expiry, so a save
//! of a sliding expiry changes no indexed column and PostgreSQL updates the row without
//! touching an index (a HOT update, the table's fill factor 90 leaving it room on the page).
//! The key's length and the version's minimum are checked on the columns' types (domains
//! `{table}_session_key` and `{table}_row_version`, migration `004_checks_on_types.sql`),
//! not by `CHECK` constraints of the table (below). A client of the table that leaves the
//! type of a bind for `id` or `version` to PostgreSQL now gets the domain's type (cast it,
//! `$1::BYTEA`; the store types every bind).
//!
//! # PostgreSQL's own work per request
//!
//! Most of what a writing request costs is PostgreSQL's: about 196k instructions of its
//! backends against about 58k of this process before these changes (below), and the lean
//! floor's statements cost it about 138k. It goes mostly into
//! setting each statement up again on every execution, even under a cached generic plan:
//! every expression of ours costs on every request (its nodes initialised, its functions
//! looked up and permission-checked), and so does every `CHECK` constraint of the table,
//! which PostgreSQL (15) evaluates on every `UPDATE` whatever it changes, reading the stored
//! expression back (`stringToNode`) and planning it on every execution. Hence:
//!
//! - the request path's statements bind every value, computed by the client
//!   (`requests::request_statements`): times as `TIMESTAMPTZ`, `purge_after` as the expiry
//!   rounded down to a multiple of 300 s (instead of a `CASE` on the stored one; both keep it
//!   within 300 s below the expiry, both move it once per 300 s of sliding), the principal
//!   as `NULL` when none (instead of `NULLIF`), and the load's expiry compared by the client
//!   (the row is read by its key either way). The Diesel path (rotations) keeps its
//!   statements, whose binds MySQL shares; rows either path wrote are purged on time by both;
//! - the checks moved onto the columns' types: a domain is checked only where a value is
//!   assigned to its column (the key on insert, the version on insert and save), from the
//!   type cache.
//!
//! Measured (PostgreSQL 15 in single-user mode under callgrind, `postgres --single`, one
//! statement prepared, then executed 100 and 400 times on one row of a 10,000-row table;
//! instructions per execution, (Ir(400) - Ir(100)) / 300, deterministic to ~0.1k; the text
//! binds of single-user mode cost the same in every variant, only differences count):
//!
//! | statement | before (main 1ce8a85) | values bound | and checks on the types |
//! |---|---|---|---|
//! | save's `UPDATE` | 221.7k | 213.8k (-7.9k) | 185.2k (-36.5k, -16 %) |
//! | load's `SELECT` | 102.3k | 99.8k (-2.5k) | 100.0k |
//!
//! Through the real request path (x1's method: PostgreSQL under callgrind, its backends'
//! totals over runs of 100 and 600 HTTP requests of the benchmark's `ours-postgres` server,
//! one keep-alive client, the table dropped and the catalogs vacuumed before every run,
//! binaries alternated; 2026-11-30), PostgreSQL's instructions
//! per request:
//!
//! | request | before (main 1ce8a85) | after | the floor's statements |
//! |---|---|---|---|
//! | writing (counter) | 195.8k, 196.6k | 158.0k, 157.8k (-38k, -19 %) | 138.4k |
//! | reading | 57.7k | 52.3k (-5.4k) | |
//!
//! This process's own count did not move (`httpbench --instructions`: 58,163 then 57,962
//! per writing request, 38,795 then 38,414 per read; the floor's 38,348 then 37,966).
//!
//! Of the `UPDATE`'s -7.9k: `purge_after` bound instead of the `CASE` -5.2k, the principal
//! -1.7k (measured on the 64-row table of x1b's method). Left as they are: `version =
//! version + 1` (binding the new version saves 0.9k, and adds an overflow case to the
//! client) and `updated_at = now()` (1.6k; the database's time, as `created_at`; a bound
//! time would be the application's). The two `CHECK` constraints cost 31.8k of the
//! `UPDATE` (`ExecConstraints`, 33.0k with them, 1.2k without); combining them into one
//! constraint saves nothing (34.4k): the cost is per expression node, not per constraint.
//!
//! # This process's work per request: the futures' boxes
//!
//! The [`SessionStore`](crate::store::SessionStore) trait boxes the future of every call.
//! With tokio-postgres' query future inline (1,032 bytes in 0.7.18), the boxes of `load`,
//! `create` and `save` were 1,256, 1,360 and 1,432 bytes (as the tests' build lays them
//! out; the load's 376 and the save's 552 now): over the largest request glibc's
//! allocator serves from its per-thread cache (1,032 bytes), so every read took its slow
//! path (about 940 instructions for that one `malloc`, consolidating its free lists). The
//! driver's future is now boxed on its own (`requests::query_opt`, `requests::execute`) and
//! both boxes come from the cache (about 50 instructions each). `httpbench --instructions
//! --only ours-postgres --workloads read-counter,write-counter` (this process's user-space
//! instructions per request, deterministic to about 0.3 %; 2026-11-30):
//!
//! | request | before (main 8b4dae5) | the driver's futures boxed | and the layer not trying a load now |
//! |---|---|---|---|
//! | reading | 37,985 | 37,034 (-951) | 36,894 (-140) |
//! | writing (counter) | 57,251 | 55,709 (-1,542) | |
//!
//! The lean floor's read: 27,294. Of ours' difference, SHA-256 of the id (the store key)
//! is about 3.6k: valgrind hides the CPU's SHA extensions, so `sha2` runs its portable
//! code there (`soft::compress`), while `perf` on the machine shows `x86_sha::compress` at
//! about 0.6 % of the server's samples.
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

/// How far below the expiry `purge_after` (the purge's indexed lower bound of `expires_at`)
/// may lag (migration `003_purge_after.sql`): the Diesel path's `UPDATE` moves it only when
/// the expiry leaves `[purge_after, purge_after + this)`, the request path writes the expiry
/// rounded down to a multiple of this ([`requests::purge_after`]). A save that leaves it
/// changes no indexed column, so PostgreSQL can update the row without touching an index (a
/// HOT update); a purge visits the live rows expiring within this many seconds of `now` and
/// skips them.
const PURGE_SLACK_SECS: u32 = 300;

impl Dialect for Postgres {
    const NAME: &'static str = "postgres";
    const MIGRATIONS: &'static [(&'static str, &'static str)] = migrations!("postgres":
        "001_create_sessions.sql", "002_principal_index.sql", "003_purge_after.sql",
        "004_checks_on_types.sql");
}

impl Driver for Postgres {
    type Connection = diesel::PgConnection;
    type Requests = requests::AsyncRequests;

    fn statements(table: &TableName) -> Statements {
        let t = format!("\"{}\"", table.as_str());
        Statements {
            insert: format!(
                "INSERT INTO {t} (id, payload, expires_at, purge_after, version, principal) \
                 VALUES ($1, $2, {0}, {0}, 1, NULLIF($4, ''))",
                at!(3)
            ),
            // Run only by the requests (tokio-postgres), which prepare this very text
            // ([`requests::request_statements`]): `expires_at` as it is stored, in binary,
            // converted and compared with `now` by the client ([`requests::Micros`]), not
            // by PostgreSQL's numeric `EXTRACT(EPOCH ...)` on every load.
            load: requests::request_statements(table)[1].clone(),
            update: format!(
                "UPDATE {t} SET payload = $1, expires_at = {0}, purge_after = CASE WHEN {0} < purge_after \
                 OR {0} >= purge_after + INTERVAL '{PURGE_SLACK_SECS} seconds' THEN {0} ELSE purge_after END, \
                 version = version + 1, updated_at = now(), principal = NULLIF($3, '') \
                 WHERE id = $4 AND version = $5",
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
            // By `purge_after` (indexed, at most `expires_at` as this store writes it), then
            // `expires_at`: the live rows it visits are those within `PURGE_SLACK_SECS` of expiring.
            purge: format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE purge_after <= {0} \
                 AND expires_at <= {0} ORDER BY purge_after LIMIT $2 FOR UPDATE SKIP LOCKED)",
                at!(1)
            ),
            lock: "SELECT 1::BIGINT AS version FROM (SELECT pg_advisory_lock(hashtext($1))) AS l"
                .to_owned(),
            unlock: "SELECT (CASE WHEN pg_advisory_unlock(hashtext($1)) THEN 1 ELSE 0 END)::BIGINT AS version"
                .to_owned(),
            // With the domains of its key and version (`004_checks_on_types.sql`).
            drop: format!(
                "DROP TABLE IF EXISTS {t}; DROP DOMAIN IF EXISTS \"{0}_session_key\", \"{0}_row_version\"",
                table.as_str()
            ),
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

/// The statements of every request (load, create, save) on tokio-postgres, the driver
/// under `diesel-async`, used directly: no blocking thread, no thread hop, none of
/// Diesel's per-query work, and the connections shared by the requests in flight (their
/// statements pipelined) rather than checked out (why, with the figures: [`super`]).
mod requests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};

    use tokio_postgres::error::SqlState;
    use tokio_postgres::types::{ToSql, Type};
    use tokio_postgres::{Client, NoTls, Statement};

    use super::PURGE_SLACK_SECS;
    use crate::store::database::internal::{RequestSettings, Requests, Row, Statements};
    use crate::store::database::prepared::Bind;
    use crate::store::database::{TableName, clamp_expiry, scrub};
    use crate::store::{Record, Result, StoreError};

    /// The request path's own texts of the statements it runs (the `version` lookup is the
    /// Diesel path's): the same rows written and read as the Diesel path's `insert`, `load`
    /// and `update` ([`Postgres::statements`]), with every value computed by the client and
    /// bound, so that PostgreSQL evaluates no expression of ours. PostgreSQL sets a
    /// statement's expressions up again on every execution, even under a cached generic
    /// plan, so each operator, function call or `CASE` costs on every request:
    ///
    /// - times bound as `TIMESTAMPTZ` ([`At`]), not Unix seconds that PostgreSQL turns into
    ///   one (`TIMESTAMPTZ 'epoch' + $2 * INTERVAL '1 second'`, four times in the Diesel
    ///   path's `UPDATE`);
    /// - `purge_after` bound ([`purge_after`]: the expiry rounded down to a multiple of
    ///   [`PURGE_SLACK_SECS`]) instead of the Diesel path's `CASE`, which moves it only when
    ///   the expiry leaves `[purge_after, purge_after + 300 s)`. Both keep `purge_after <=
    ///   expires_at < purge_after + 300 s` and change `purge_after` once per 300 s of a
    ///   sliding expiry, so a save is a HOT update as before; the bound one moves when the
    ///   expiry crosses a multiple of 300 s (of the Unix time) instead of 300 s after the
    ///   row's own `purge_after`. Rows either path wrote are purged on time by both;
    /// - the principal bound as `NULL` when there is none (`NULLIF($n, '')` in the Diesel
    ///   path's, whose binds MySQL shares);
    /// - the load's expiry compared by the client ([`Micros::is_after`], exactly, in
    ///   microseconds), not in the `WHERE` clause: the row is read by its key either way,
    ///   and an expired one is not a session.
    ///
    /// `version = version + 1` and `updated_at = now()` stay (the database's time, as
    /// `created_at`). Figures: [`super`]'s docs.
    pub(super) fn request_statements(table: &TableName) -> [String; 3] {
        let t = format!("\"{}\"", table.as_str());
        [
            format!(
                "INSERT INTO {t} (id, payload, expires_at, purge_after, version, principal) \
                 VALUES ($1, $2, $3, $4, 1, $5)"
            ),
            format!("SELECT payload, expires_at, version, principal FROM {t} WHERE id = $1"),
            format!(
                "UPDATE {t} SET payload = $1, expires_at = $2, purge_after = $6, \
                 version = version + 1, updated_at = now(), principal = $3 \
                 WHERE id = $4 AND version = $5"
            ),
        ]
    }

    /// The `purge_after` the request path writes with an (already clamped) expiry: the
    /// expiry rounded down to a multiple of [`PURGE_SLACK_SECS`] (towards the past, before
    /// 1970 too), so `purge_after <= expiry < purge_after + PURGE_SLACK_SECS`.
    pub(super) fn purge_after(expiry: i64) -> i64 {
        expiry.saturating_sub(expiry.rem_euclid(i64::from(PURGE_SLACK_SECS)))
    }

    /// The principal as bound: `NULL` for none (an empty one too, as the Diesel path's
    /// `NULLIF($n, '')` stores it).
    fn principal(record: &Record) -> Option<&str> {
        record.principal.as_deref().filter(|p| !p.is_empty())
    }

    /// One connection and the statements of a request, prepared when it was opened (typed
    /// by their binds): every later execution is one round trip.
    struct Conn {
        client: Client,
        insert: Statement,
        load: Statement,
        update: Statement,
        version: Statement,
    }

    /// The PostgreSQL types of binds.
    fn types(binds: &[Bind<'_>]) -> Vec<Type> {
        binds
            .iter()
            .map(|bind| match bind {
                Bind::Bytes(_) => Type::BYTEA,
                Bind::Int(_) => Type::INT8,
                Bind::Text(_) => Type::TEXT,
            })
            .collect()
    }

    /// The binds as the driver takes them (on the stack).
    fn params<'a, const N: usize>(binds: &'a [Bind<'a>; N]) -> [&'a (dyn ToSql + Sync); N] {
        binds.each_ref().map(|bind| -> &'a (dyn ToSql + Sync) {
            match bind {
                Bind::Bytes(bytes) => bytes,
                Bind::Int(n) => n,
                Bind::Text(text) => text,
            }
        })
    }

    /// What went wrong on a connection.
    enum Failure {
        /// The driver or the server refused the statement.
        Driver(tokio_postgres::Error),
        /// A row that does not decode.
        Corrupt(String),
    }

    impl From<tokio_postgres::Error> for Failure {
        fn from(error: tokio_postgres::Error) -> Self {
            Failure::Driver(error)
        }
    }

    /// Seconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
    const PG_EPOCH_SECS: i64 = 946_684_800;

    /// A `TIMESTAMPTZ` column as PostgreSQL sends it in binary: microseconds since
    /// 2000-01-01 UTC, `i64::MAX` and `i64::MIN` being `infinity` and `-infinity`.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Micros(pub(super) i64);

    impl Micros {
        /// Whether this instant is after Unix second `unix`, exactly as PostgreSQL compares
        /// it with that second as a `TIMESTAMPTZ` (`infinity` is after every time,
        /// `-infinity` after none).
        pub(super) fn is_after(self, unix: i64) -> bool {
            match self.0 {
                i64::MAX => true,
                i64::MIN => false,
                // In i128: no overflow, whatever `unix` is.
                micros => {
                    i128::from(micros) > (i128::from(unix) - i128::from(PG_EPOCH_SECS)) * 1_000_000
                }
            }
        }

        /// As Unix seconds, rounded half away from zero as `EXTRACT(EPOCH ...)::BIGINT`
        /// rounds (the store writes whole seconds). `infinity` and `-infinity` have none.
        pub(super) fn seconds(self) -> std::result::Result<i64, &'static str> {
            if self.0 == i64::MAX || self.0 == i64::MIN {
                return Err("an infinite timestamp");
            }
            // Rounded as a Unix time (half away from zero), in i128: no overflow.
            let unix = i128::from(self.0) + i128::from(PG_EPOCH_SECS) * 1_000_000;
            let (mut secs, rest) = (unix / 1_000_000, unix % 1_000_000);
            if rest >= 500_000 {
                secs += 1;
            } else if rest <= -500_000 {
                secs -= 1;
            }
            i64::try_from(secs).map_err(|_| "a timestamp out of range")
        }
    }

    impl<'a> tokio_postgres::types::FromSql<'a> for Micros {
        fn from_sql(
            _: &Type,
            raw: &'a [u8],
        ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Micros(i64::from_be_bytes(raw.try_into()?)))
        }

        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMESTAMPTZ
        }
    }

    /// Unix seconds bound as a `TIMESTAMPTZ` in binary (microseconds since 2000-01-01
    /// UTC): the inverse of [`Micros::seconds`]. A time whose microseconds do not fit is an error
    /// of the bind (PostgreSQL refused such a time before too), never a panic.
    #[derive(Debug)]
    pub(super) struct At(pub(super) i64);

    impl At {
        /// The microseconds since PostgreSQL's epoch, if they fit.
        pub(super) fn micros(&self) -> Option<i64> {
            self.0.checked_sub(PG_EPOCH_SECS)?.checked_mul(1_000_000)
        }
    }

    impl ToSql for At {
        fn to_sql(
            &self,
            _: &Type,
            out: &mut bytes::BytesMut,
        ) -> std::result::Result<
            tokio_postgres::types::IsNull,
            Box<dyn std::error::Error + Sync + Send>,
        > {
            let micros = self.micros().ok_or("time out of range for a timestamp")?;
            out.extend_from_slice(&micros.to_be_bytes());
            Ok(tokio_postgres::types::IsNull::No)
        }

        fn accepts(ty: &Type) -> bool {
            *ty == Type::TIMESTAMPTZ
        }

        tokio_postgres::types::to_sql_checked!();
    }

    /// [`Client::query_opt`], with the driver's query future (1,032 bytes in tokio-postgres
    /// 0.7.18) in a box of its own: the future of the store's `load`, which the
    /// [`SessionStore`](crate::store::SessionStore) trait boxes on every call, then holds a
    /// pointer and the row stream instead of the whole query (its box went from 1,256 bytes
    /// and more down to a few hundred). The allocator serves both boxes from its per-thread
    /// cache (glibc's: requests up to 1,032 bytes), where one box over that size took its
    /// slow path on every read (about 940 instructions under callgrind, consolidating its
    /// free lists each time). More than one row under the key (impossible under the table's
    /// primary key) is [`Failure::Corrupt`], not the driver's error.
    async fn query_opt(
        client: &Client,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Option<tokio_postgres::Row>, Failure> {
        use futures_core::Stream;

        let stream = Box::pin(client.query_raw(statement, params.iter().copied())).await?;
        let mut stream = std::pin::pin!(stream);
        let mut first = None;
        while let Some(row) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            if first.replace(row?).is_some() {
                return Err(Failure::Corrupt(
                    "more than one row under one key".to_owned(),
                ));
            }
        }
        Ok(first)
    }

    /// [`Client::execute`], with the driver's future in a box of its own, as [`query_opt`]
    /// and for the same reason: the store's `create` and `save` futures, boxed by the
    /// [`SessionStore`](crate::store::SessionStore) trait on every call, were 1,360 and
    /// 1,432 bytes with it inline.
    async fn execute(
        client: &Client,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, Failure> {
        Ok(Box::pin(client.execute_raw(statement, params.iter().copied())).await?)
    }

    /// Column `index` (named `name` in messages) of a row, or [`Failure::Corrupt`]. By
    /// index: the statement's columns are fixed, no search by name.
    fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
        row: &'a tokio_postgres::Row,
        index: usize,
        name: &str,
    ) -> std::result::Result<T, Failure> {
        row.try_get(index)
            .map_err(|e| Failure::Corrupt(format!("column `{name}`: {e}")))
    }

    /// One of the connections: the open connection, if any, and a lock held while opening
    /// it, so that one request connects and the others of that slot wait for it.
    struct Slot {
        /// Read by every request: a plain lock, held only to clone the `Arc` (never across
        /// an `.await`), so a request takes its connection without waiting or a timer.
        conn: Mutex<Option<Arc<Conn>>>,
        /// Held by the request that (re)connects the slot.
        opening: tokio::sync::Mutex<()>,
    }

    impl Slot {
        /// The slot's connection, unless it has none or its server went away.
        fn current(&self) -> Option<Arc<Conn>> {
            let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            conn.as_ref().filter(|c| !c.client.is_closed()).cloned()
        }

        /// Puts `conn` in the slot (or empties it).
        fn set(&self, conn: Option<Arc<Conn>>) {
            *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = conn;
        }

        /// Empties the slot if it still holds `conn`.
        fn forget(&self, conn: &Arc<Conn>) {
            let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
                *slot = None;
            }
        }
    }

    /// At most `size` connections, opened on first use, each shared by the requests that
    /// pick it (round robin): tokio-postgres pipelines their statements on the socket. A
    /// connection that failed leaves its slot (the requests still on it finish or fail),
    /// so service comes back by itself when the database does.
    pub struct AsyncRequests {
        settings: RequestSettings,
        /// [`request_statements`] on the store's table.
        texts: [String; 3],
        slots: Box<[Slot]>,
        next: AtomicUsize,
    }

    impl std::fmt::Debug for AsyncRequests {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("AsyncRequests")
                .field("url", &self.settings.redacted)
                .field("connections", &self.slots.len())
                .finish_non_exhaustive()
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

        /// The next slot's connection, opened (within the timeout) when it has none or its
        /// server went away.
        async fn get(&self, sql: &Statements) -> Result<(usize, Arc<Conn>)> {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
            if let Some(conn) = self.slots[i].current() {
                return Ok((i, conn));
            }
            // Boxed: connecting (and preparing) is a large future, and every request's
            // future would otherwise carry its room and be copied with it.
            Box::pin(self.open(i, sql)).await
        }

        /// Opens slot `i`'s connection (or takes the one another request just opened).
        #[cold]
        async fn open(&self, i: usize, sql: &Statements) -> Result<(usize, Arc<Conn>)> {
            let slot = &self.slots[i];
            let deadline = tokio::time::Instant::now() + self.settings.timeout;
            let _opening = tokio::time::timeout_at(deadline, slot.opening.lock())
                .await
                .map_err(|_| self.unavailable("timed out waiting for a connection"))?;
            // Opened by the request that held the lock before this one.
            if let Some(conn) = slot.current() {
                return Ok((i, conn));
            }
            slot.set(None);
            let conn = tokio::time::timeout_at(deadline, self.connect(sql))
                .await
                .map_err(|_| self.unavailable("timed out connecting"))??;
            let conn = Arc::new(conn);
            slot.set(Some(conn.clone()));
            Ok((i, conn))
        }

        async fn connect(&self, sql: &Statements) -> Result<Conn> {
            let (client, connection) = tokio_postgres::connect(&self.settings.url, NoTls)
                .await
                .map_err(|e| self.unavailable(e))?;
            // The connection's socket, driven on the runtime; it ends when the client is
            // dropped or the server goes away.
            tokio::spawn(async move {
                let _ = connection.await;
            });
            if let Some(on_connect) = &self.settings.on_connect {
                client
                    .batch_execute(on_connect)
                    .await
                    .map_err(|e| self.unavailable(e))?;
            }
            // The bind types of each statement, as `insert`, `load` and `save` bind them.
            use Type as T;
            let [insert_sql, load_sql, update_sql] = &self.texts;
            let insert_types = [T::BYTEA, T::BYTEA, T::TIMESTAMPTZ, T::TIMESTAMPTZ, T::TEXT];
            let update_types = [
                T::BYTEA,
                T::TIMESTAMPTZ,
                T::TEXT,
                T::BYTEA,
                T::INT8,
                T::TIMESTAMPTZ,
            ];
            let version_types = types(&[Bind::Bytes(&[])]);
            // Sent together: one round trip for the four.
            let (insert, load, update, version) = tokio::try_join!(
                client.prepare_typed(insert_sql, &insert_types),
                client.prepare_typed(load_sql, &[T::BYTEA]),
                client.prepare_typed(update_sql, &update_types),
                client.prepare_typed(&sql.version, &version_types),
            )
            .map_err(|e| self.unavailable(e))?;
            Ok(Conn {
                client,
                insert,
                load,
                update,
                version,
            })
        }

        /// Runs `op` on a connection; maps its error and, unless the error was about the
        /// data, takes the connection out of its slot.
        async fn with<T>(
            &self,
            sql: &Statements,
            op: impl AsyncFnOnce(&Conn) -> std::result::Result<T, Failure>,
        ) -> Result<T> {
            let (i, conn) = self.get(sql).await?;
            let error = match op(&conn).await {
                Ok(value) => return Ok(value),
                Err(Failure::Corrupt(message)) => return Err(StoreError::Corrupt(message)),
                Err(Failure::Driver(error)) => error,
            };
            if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                return Err(StoreError::Exists);
            }
            let message = scrub(&error.to_string(), self.settings.password.as_deref());
            // Not obviously a lost connection: ask the connection itself.
            // Boxed, like connecting: rare, and kept out of every request's future.
            let lost = error.is_closed()
                || Box::pin(conn.client.batch_execute("SELECT 1"))
                    .await
                    .is_err();
            self.slots[i].forget(&conn);
            let at = &self.settings.redacted;
            Err(if lost {
                StoreError::Unavailable(format!("postgres at {at}: {message}"))
            } else {
                StoreError::backend(format!("postgres at {at}: {message}"))
            })
        }
    }

    impl Requests for AsyncRequests {
        fn open(settings: RequestSettings) -> Option<Self> {
            Some(Self {
                texts: request_statements(&settings.table),
                slots: (0..settings.size.max(1))
                    .map(|_| Slot {
                        conn: Mutex::new(None),
                        opening: tokio::sync::Mutex::new(()),
                    })
                    .collect(),
                next: AtomicUsize::new(0),
                settings,
            })
        }

        async fn insert(&self, sql: &Statements, key: &[u8], record: &Record) -> Result<()> {
            self.with(sql, async |conn| {
                let expiry = clamp_expiry(record.expires_at);
                let (expires_at, purge_at) = (At(expiry), At(purge_after(expiry)));
                let (payload, principal) = (record.payload.as_slice(), principal(record));
                let binds: [&(dyn ToSql + Sync); 5] =
                    [&key, &payload, &expires_at, &purge_at, &principal];
                execute(&conn.client, &conn.insert, &binds).await?;
                Ok(())
            })
            .await
        }

        async fn load(&self, sql: &Statements, key: &[u8], now: i64) -> Result<Option<Row>> {
            self.with(sql, async |conn| {
                let Some(row) = query_opt(&conn.client, &conn.load, &[&key]).await? else {
                    return Ok(None);
                };
                // Live only if it expires after `now` (what the Diesel path's `WHERE` asks).
                let expires_at: Micros = column(&row, 1, "expires_at")?;
                if !expires_at.is_after(now) {
                    return Ok(None);
                }
                Ok(Some(Row {
                    payload: column(&row, 0, "payload")?,
                    expires_at: expires_at
                        .seconds()
                        .map_err(|e| Failure::Corrupt(format!("column `expires_at`: {e}")))?,
                    version: column(&row, 2, "version")?,
                    principal: column(&row, 3, "principal")?,
                }))
            })
            .await
        }

        async fn save(
            &self,
            sql: &Statements,
            key: &[u8],
            record: &Record,
        ) -> Result<Option<Option<i64>>> {
            self.with(sql, async |conn| {
                let expiry = clamp_expiry(record.expires_at);
                let (expires_at, purge_at) = (At(expiry), At(purge_after(expiry)));
                let (payload, principal) = (record.payload.as_slice(), principal(record));
                // As the Diesel path binds it.
                let version = record.version as i64;
                let binds: [&(dyn ToSql + Sync); 6] =
                    [&payload, &expires_at, &principal, &key, &version, &purge_at];
                if execute(&conn.client, &conn.update, &binds).await? > 0 {
                    return Ok(None);
                }
                let binds = [Bind::Bytes(key)];
                match query_opt(&conn.client, &conn.version, &params(&binds)).await? {
                    Some(row) => Ok(Some(Some(column(&row, 0, "version")?))),
                    None => Ok(Some(None)),
                }
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
    fn request_times_are_bound_as_timestamps_and_read_back_as_the_same_seconds() {
        use tokio_postgres::types::{FromSql, ToSql, Type};

        use super::requests::{At, Micros};
        use crate::store::database::{MAX_EXPIRY, MIN_EXPIRY};

        // Binary TIMESTAMPTZ: microseconds since 2000-01-01 UTC, big-endian; every expiry
        // the store writes reads back as the same seconds, and is after the second before
        // it, not after itself.
        for secs in [
            0,
            946_684_800,
            1_764_460_800,
            MIN_EXPIRY.0,
            MAX_EXPIRY.0,
            -1,
        ] {
            let mut out = bytes::BytesMut::new();
            At(secs)
                .to_sql(&Type::TIMESTAMPTZ, &mut out)
                .expect("in range");
            assert_eq!(&out[..], &((secs - 946_684_800) * 1_000_000).to_be_bytes());
            let read = Micros::from_sql(&Type::TIMESTAMPTZ, &out).expect("reads");
            assert_eq!(read.seconds(), Ok(secs));
            assert!(read.is_after(secs - 1) && !read.is_after(secs), "{secs}");
        }
        // A time beyond what microseconds hold is an error of the bind, not a panic.
        for secs in [i64::MAX, i64::MIN, i64::MAX / 1_000_000 + 946_684_801] {
            let mut out = bytes::BytesMut::new();
            assert!(
                At(secs).to_sql(&Type::TIMESTAMPTZ, &mut out).is_err(),
                "{secs}"
            );
        }
        assert!(<At as ToSql>::accepts(&Type::TIMESTAMPTZ));
        assert!(!<At as ToSql>::accepts(&Type::INT8));
        // Compared exactly, in microseconds, whatever `now` is: half a second past the
        // second is after it, half a second before is not; `infinity` is after every time
        // and has no seconds, `-infinity` after none.
        let half = Micros((1_764_460_800 - 946_684_800) * 1_000_000 + 500_000);
        assert!(half.is_after(1_764_460_800) && !half.is_after(1_764_460_801));
        assert_eq!(half.seconds(), Ok(1_764_460_801));
        let before = Micros(half.0 - 1_000_000);
        assert!(!before.is_after(1_764_460_800) && before.is_after(1_764_460_799));
        for now in [i64::MIN, -1, 0, i64::MAX] {
            assert!(Micros(i64::MAX).is_after(now) && !Micros(i64::MIN).is_after(now));
            assert_eq!(Micros(0).is_after(now), now < 946_684_800, "{now}");
        }
        assert!(Micros(i64::MAX).seconds().is_err() && Micros(i64::MIN).seconds().is_err());
    }

    /// The request path's statements evaluate nothing of ours: every value is bound (the
    /// times as `TIMESTAMPTZ`, `purge_after` computed by the client, the principal `NULL`
    /// when none), and the load reads the row by its key alone.
    #[test]
    fn request_statements_bind_every_value() {
        use super::requests::request_statements;

        let table = TableName::new("sessions").expect("name");
        assert_eq!(
            request_statements(&table),
            [
                "INSERT INTO \"sessions\" (id, payload, expires_at, purge_after, version, principal) \
                 VALUES ($1, $2, $3, $4, 1, $5)",
                "SELECT payload, expires_at, version, principal FROM \"sessions\" WHERE id = $1",
                "UPDATE \"sessions\" SET payload = $1, expires_at = $2, purge_after = $6, \
                 version = version + 1, updated_at = now(), principal = $3 \
                 WHERE id = $4 AND version = $5",
            ]
        );
        // The load the requests prepare is the store's `load`.
        assert_eq!(
            Postgres::statements(&table).load,
            request_statements(&table)[1]
        );
    }

    /// `purge_after` as the request path writes it: the expiry rounded down to a multiple
    /// of the slack, before 1970 too, so a lower bound of the expiry within the slack, the
    /// same for every expiry of one slot of 300 s.
    #[test]
    fn purge_after_is_the_expiry_rounded_down_to_the_slack() {
        use super::requests::purge_after;
        use crate::store::database::{MAX_EXPIRY, MIN_EXPIRY};

        let slack = i64::from(PURGE_SLACK_SECS);
        assert_eq!(slack, 300);
        for (expiry, bound) in [
            (1_800_000_000, 1_800_000_000),
            (1_800_000_299, 1_800_000_000),
            (1_800_000_300, 1_800_000_300),
            (0, 0),
            (-1, -300),
            (-300, -300),
            (-301, -600),
        ] {
            assert_eq!(purge_after(expiry), bound, "{expiry}");
        }
        for expiry in [
            MIN_EXPIRY.0,
            MIN_EXPIRY.0 + 1,
            MAX_EXPIRY.0,
            -7,
            1_764_460_801,
            i64::MIN,
            i64::MAX,
        ] {
            let bound = purge_after(expiry);
            assert!(bound <= expiry && expiry - bound < slack, "{expiry}");
            // Saturated at the very bottom (never an expiry: those are clamped).
            if expiry != i64::MIN {
                assert_eq!(bound.rem_euclid(slack), 0, "{expiry}");
            }
        }
    }

    /// The size of the future a function returns, without calling it.
    fn future_size<A, F: Future>(_: &impl Fn(A) -> F) -> usize {
        size_of::<F>()
    }

    /// A request's future stays small: the [`SessionStore`](crate::store::SessionStore) trait
    /// boxes the store's `load` on every call, and a box over 1,032 bytes leaves glibc's
    /// per-thread cache (about 940 instructions per read under callgrind, against about 50).
    /// The driver's query future (1,032 bytes in tokio-postgres 0.7.18) is boxed on its
    /// own: the load's future holds a pointer to it (1,256 bytes before, the query inline).
    #[test]
    fn a_requests_futures_fit_the_allocators_thread_cache() {
        use super::requests::AsyncRequests;
        use crate::store::database::internal::{Requests, Statements};
        use tokio_postgres::types::ToSql;
        use tokio_postgres::{Client, Statement};

        const CACHED: usize = 1032;
        // Room left for the store's own state around the request's future.
        const ROOM: usize = CACHED * 2 / 3;
        let load = |(r, sql): (&'static AsyncRequests, &'static Statements)| r.load(sql, &[], 0);
        let size = future_size(&load);
        assert!(size <= ROOM, "the load's future: {size} bytes");
        // The writes' too (1,360 and 1,432 bytes with the driver's futures inline).
        type Args = (
            &'static AsyncRequests,
            &'static Statements,
            &'static crate::store::Record,
        );
        let create = |(r, sql, record): Args| r.insert(sql, &[], record);
        let save = |(r, sql, record): Args| r.save(sql, &[], record);
        for (name, size) in [
            ("create", future_size(&create)),
            ("save", future_size(&save)),
        ] {
            assert!(size <= ROOM, "the {name}'s future: {size} bytes");
        }
        // As `query_opt` in `requests` calls it: the binds as a slice.
        let query = |(c, st, binds): (
            &'static Client,
            &'static Statement,
            &'static [&'static (dyn ToSql + Sync)],
        )| { c.query_raw(st, binds.iter().copied()) };
        let execute = |(c, st, binds): (
            &'static Client,
            &'static Statement,
            &'static [&'static (dyn ToSql + Sync)],
        )| { c.execute_raw(st, binds.iter().copied()) };
        let size = future_size(&query).max(future_size(&execute));
        assert!(
            size <= CACHED,
            "tokio-postgres' query future ({size} bytes) no longer fits the allocator's thread cache"
        );
    }

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
