//! What the PostgreSQL and MySQL stores share: the Diesel-backed store, its builder, the
//! connection pool, table-name validation and error mapping.
//!
//! # PostgreSQL's requests on tokio-postgres, everything else on synchronous Diesel
//!
//! The statements of every request (`load`, `create`, `save`: one prepared `SELECT`, one
//! prepared `INSERT` or conditional `UPDATE`) run on PostgreSQL through tokio-postgres (the
//! driver under `diesel-async`, used directly) on the caller's runtime, on a few
//! connections that the requests in flight share, their statements pipelined
//! (`postgres.rs`); MySQL keeps running them on synchronous Diesel (libmysqlclient) with
//! [`tokio::task::spawn_blocking`] (its async backend, `mysql_async`, is a protocol stack of
//! its own: too heavy a build for two cores). The rare statements (rotations in a
//! transaction, session limits under an advisory lock, listings, purges, migrations) stay
//! on synchronous Diesel with an r2d2 pool for both databases; on PostgreSQL that pool
//! checks a connection before handing it out, since it may sit idle through a restart.
//!
//! Counted (main at 774dbf2, `log_statement = all` on the benchmark's PostgreSQL): a writing
//! request is two statements, one prepared `SELECT` and one prepared `UPDATE`, the same count
//! as the tokio-postgres floor (`SELECT` + upsert); no transaction, no ping, nothing else
//! (the `SELECT` of the stored version follows only an `UPDATE` that matched no row). So
//! the gap to the floor was CPU, not round trips.
//!
//! Measured (the HTTP benchmark on a busy 2-core machine, same-run ratios only;
//! `httpbench --secs 3 --rounds 2 --only ours-postgres,tower-postgres,floor-postgres
//! --workloads write-counter,write-321B,read-counter`, 2026-11-30), server CPU per request,
//! counter write / 321-byte write / counter read:
//!
//! - synchronous Diesel for everything: 355 / 384 / 187 µs, 3.5x / 3.8x / 2.8x the floor's
//!   (a thread hop per statement: 62 % of the samples on the blocking threads, half of them
//!   in the kernel's wake-ups);
//! - `diesel-async` for the requests, 16 connections checked out one request at a time:
//!   229 / 260 / 141 µs, 2.2x / 2.5x / 2.3x (first run); 186 / 215 / 123 µs against the
//!   floor's 96 / 87 / 51, throughput 0.61 / 0.38 / 0.44 of the floor's (second run): what
//!   was left was `diesel-async`'s own work per query (the statement text built again to
//!   find the cached statement, the bind and type-metadata collection, boxed streams) and a
//!   checkout per request;
//! - tokio-postgres directly, connections shared and pipelined like the floor's: in one run
//!   with the `diesel-async` build just before it (same load), 139 / 145 / 71 µs against
//!   the floor's 93 / 103 / 58 (1.5x / 1.4x / 1.2x; `diesel-async` 207 / 199 / 119 against
//!   83 / 86 / 55, 2.5x / 2.3x / 2.1x); throughput 0.71 / 0.70 / 0.69 of the floor's
//!   (`diesel-async` 0.45 / 0.43 / 0.58) and 1.6x / 1.6x / 2.8x tower-sessions' sqlx store;
//!   a read-only request 3.5x a writing one (`diesel-async` 2.9x).
//!
//! Decision: PostgreSQL's requests on tokio-postgres directly, the three statements
//! prepared when a connection opens (typed by the same binds the Diesel path sends); the
//! `postgres` feature depends on tokio-postgres instead of `diesel-async` (one crate less).
//! What is left above the floor is the session layer (sealing, the record's copies, the
//! version check), not the database client.
//!
//! The table name is configurable, so statements are built once per store as SQL text with
//! typed binds; the name is validated (letters, digits, `_`) and quoted, and no value is
//! ever spliced into SQL text. They run as prepared statements cached per connection
//! (`prepared.rs`: [`diesel::sql_query`] would prepare each statement anew, a second round
//! trip per query), so a request costs one round trip to load and one conditional
//! `UPDATE` to save; the pool that serves the requests does not ping on checkout.
//!
//! # The table, migrations and purging
//!
//! The SQL files of this crate's `migrations/{postgres,mysql}/` (the one copy; the templates
//! point at it) are embedded; run them with
//! [`DieselStore::migrate`] (idempotent; [`crate::store::open`] does it for a configured
//! database backend), or from the command line, with the URL in an environment variable:
//!
//! ```text
//! cargo install session-runtime --features db-cli,postgres,mysql   # the `session-db` command
//! session-db migrate --backend postgres --url-env DATABASE_URL --table sessions
//! session-db purge   --backend mysql    --url-env DATABASE_URL --table sessions --batch 1000
//! session-db sql     --backend postgres --table sessions   # print the SQL for a DBA
//! ```
//!
//! Expired rows are deleted in batches ([`DieselStoreBuilder::purge_batch`]) by
//! [`SessionStore::purge_expired`], by the shared background task
//! ([`crate::store::spawn_purge_task`]) or by `session-db purge`; each batch is its own
//! statement, so a purge never holds many locks, and two purges may run at once
//! (PostgreSQL skips rows another purge has locked; on MySQL a deadlock is retried).
//!
//! # Concurrency and failures
//!
//! `create` is a plain `INSERT`: a key that exists (even expired, until purged) gives
//! [`StoreError::Exists`]. `save` is `UPDATE ... WHERE id = ? AND version = ?`, never an
//! upsert: when no row matched, the stored version tells [`StoreError::Conflict`] from
//! [`StoreError::NotFound`], so a save racing a logout never brings the session back.
//! An unreachable database gives [`StoreError::Unavailable`] within the pool timeout
//! ([`DieselStoreBuilder::timeout`]); a connection that failed is dropped from the pool, so
//! service comes back by itself when the database does.
//!
//! # One clock
//!
//! Expiry is decided by the application's clock: `expires_at` comes from the record and
//! `now` from the caller, both as Unix seconds converted in SQL without any time zone
//! (`TIMESTAMPTZ` on PostgreSQL; UTC `DATETIME(6)` computed from the epoch on MySQL), so the
//! database's time zone and clock never matter. `created_at` / `updated_at` are the
//! database's UTC time, for people reading the table.

#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
mod prepared;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use self::prepared::Bind;
use super::{
    Limited, Record, Result, Rotation, SessionLimit, SessionStore, Sessions, StoreError, StoreKey,
    plan_limit,
};
use crate::time::Timestamp;

/// The earliest expiry a database stores (1000-01-01, MySQL's `DATETIME` minimum); earlier
/// ones are stored as this.
pub const MIN_EXPIRY: Timestamp = Timestamp(-30_610_224_000);
/// The latest expiry a database stores (9999-12-31 23:59:59 UTC); later ones are stored as
/// this (a session that far out never expires either way).
pub const MAX_EXPIRY: Timestamp = Timestamp(253_402_300_799);

/// A validated table name: 1 to 48 ASCII letters, digits or `_`, not starting with a
/// digit (48 leaves room for the `_expires_at_idx` index name within PostgreSQL's 63).
///
/// ```
/// use session_runtime::store::database::TableName;
/// assert_eq!(TableName::new("sessions").unwrap().as_str(), "sessions");
/// assert!(TableName::new("sessions; DROP TABLE users").is_err());
/// assert!(TableName::new("9lives").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName(String);

impl TableName {
    /// The longest name accepted.
    pub const MAX_LEN: usize = session_spec::DatabaseBackend::MAX_TABLE_LEN;

    /// Validates a table name.
    ///
    /// # Errors
    /// [`StoreError::Config`] naming the rule the name breaks.
    pub fn new(name: &str) -> Result<Self> {
        // The rule of `session-spec`, which refuses such a spec at build time first.
        match session_spec::DatabaseBackend::table_name_problem(name) {
            Some(why) => Err(StoreError::Config(format!(
                "invalid table name `{}`: {why}",
                name.escape_debug()
            ))),
            None => Ok(Self(name.to_owned())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A database the Diesel store runs on: PostgreSQL ([`super::postgres::Postgres`]) or MySQL
/// ([`super::mysql::Mysql`]). Sealed: implemented in this crate only; what the store needs
/// of a dialect (its connection type, statements and driver) is in a private supertrait.
pub trait Dialect: Driver + Send + Sync + std::fmt::Debug + 'static {
    /// The database's name in messages (`postgres`, `mysql`).
    const NAME: &'static str;
    /// The migrations, in order, with `{table}` where the table name goes.
    const MIGRATIONS: &'static [(&'static str, &'static str)];
}

/// The migrations of `migrations/$db/` as (file name, SQL), in the order given.
macro_rules! migrations {
    ($db:literal: $($file:literal),+ $(,)?) => {
        &[$(($file, include_str!(concat!("../../../migrations/", $db, "/", $file)))),+]
    };
}
pub(crate) use migrations;

/// What the store needs of a dialect and users do not: public items of a private module
/// (the sealed-trait pattern), so they appear nowhere in the crate's API.
pub(crate) mod internal {
    use std::time::Duration;

    use diesel::backend::Backend;
    use diesel::connection::LoadConnection;
    use diesel::expression::QueryMetadata;
    use diesel::r2d2::R2D2Connection;
    use diesel::sql_types::{BigInt, Binary, HasSqlType, Nullable, Text, Untyped};

    use diesel::QueryableByName;

    use super::prepared::{Bind, Prepared};
    use super::{QueryResult, TableName, clamp_expiry};
    use crate::store::{Record, Result};

    /// The driver side of a [`super::Dialect`].
    pub trait Driver {
        /// The synchronous Diesel connection (rotations, limits, listings, purges,
        /// migrations; every statement where `Requests` is [`Blocking`]).
        type Connection: R2D2Connection + Queries + Send + 'static;
        /// How the statements of every request (load, create, save) run: on async
        /// connections (PostgreSQL), or [`Blocking`], on the pool's blocking threads like
        /// every other one.
        type Requests: Requests;

        /// The SQL of a store on `table`.
        fn statements(table: &TableName) -> Statements;
        /// The URL the driver gets (PostgreSQL adds a `connect_timeout`).
        fn prepare_url(url: &str, _timeout: Duration) -> String {
            url.to_owned()
        }
        /// Checks the server can hold payloads of `max_payload` bytes; the problem, if any.
        fn check_server(
            _conn: &mut Self::Connection,
            _max_payload: usize,
        ) -> QueryResult<Option<String>> {
            Ok(None)
        }
    }

    /// The statements of [`Statements`] run on a synchronous connection as [`Prepared`]
    /// statements: one implementation for every Diesel connection whose backend takes the
    /// stores' three bind types and reads their three row types.
    pub trait Queries {
        /// Runs a statement; the rows it changed.
        fn execute(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<usize>;
        /// Loads [`Row`]s.
        fn rows(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<Row>>;
        /// Loads [`ListRow`]s.
        fn listed(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<ListRow>>;
        /// The `version` column of the first row, if any.
        fn version(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Option<i64>>;
    }

    impl<C> Queries for C
    where
        C: LoadConnection,
        C::Backend: HasSqlType<Binary>
            + HasSqlType<BigInt>
            + HasSqlType<Text>
            + Backend
            + QueryMetadata<Untyped>
            + 'static,
        [u8]: diesel::serialize::ToSql<Binary, C::Backend>,
        i64: diesel::serialize::ToSql<BigInt, C::Backend>,
        str: diesel::serialize::ToSql<Text, C::Backend>,
        Row: QueryableByName<C::Backend>,
        ListRow: QueryableByName<C::Backend>,
        VersionRow: QueryableByName<C::Backend>,
    {
        fn execute(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<usize> {
            diesel::RunQueryDsl::execute(Prepared::new(sql, binds), self)
        }
        fn rows(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<Row>> {
            diesel::RunQueryDsl::load(Prepared::new(sql, binds), self)
        }
        fn listed(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<ListRow>> {
            diesel::RunQueryDsl::load(Prepared::new(sql, binds), self)
        }
        fn version(&mut self, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Option<i64>> {
            let mut rows: Vec<VersionRow> =
                diesel::RunQueryDsl::load(Prepared::new(sql, binds), self)?;
            Ok(rows.pop().map(|r| r.version))
        }
    }

    /// What a request does with the store, run without a blocking thread: `load`, `create`
    /// and `save` (the statements of [`Statements::load`], `insert`, `update` and
    /// `version`). A dialect without an async driver uses [`Blocking`], and the store runs
    /// them like every other statement, on the pool's blocking threads.
    ///
    /// The futures are the implementation's own types (not boxed): the store's methods
    /// await them inside their own future, one allocation per request less for each.
    pub trait Requests: Send + Sync + Sized + 'static {
        /// The connections of one store, none opened yet; `None` for [`Blocking`].
        fn open(settings: RequestSettings) -> Option<Self>;
        /// Inserts a row (`Exists` when the key is taken).
        fn insert(
            &self,
            sql: &Statements,
            key: &[u8],
            record: &Record,
        ) -> impl Future<Output = Result<()>> + Send;
        /// The live row under the key.
        fn load(
            &self,
            sql: &Statements,
            key: &[u8],
            now: i64,
        ) -> impl Future<Output = Result<Option<Row>>> + Send;
        /// The conditional `UPDATE`; when it matched no row, the stored version (if any row).
        fn save(
            &self,
            sql: &Statements,
            key: &[u8],
            record: &Record,
        ) -> impl Future<Output = Result<Option<Option<i64>>>> + Send;
    }

    /// What [`Requests::open`] gets from the builder.
    #[derive(Clone, Debug)]
    pub struct RequestSettings {
        /// The driver's URL (after [`Driver::prepare_url`]).
        pub url: String,
        /// SQL run on every new connection.
        pub on_connect: Option<String>,
        /// The most connections open at once.
        pub size: u32,
        /// How long a request waits for a connection (including connecting).
        pub timeout: Duration,
        /// The URL for messages, password replaced.
        pub redacted: String,
        /// The password, to scrub it from driver messages.
        pub password: Option<String>,
        /// The store's table (PostgreSQL's requests build their own statements on it).
        pub table: TableName,
    }

    /// The [`Requests`] of a dialect with no async driver: every statement runs on the
    /// pool's blocking threads.
    #[cfg(feature = "mysql")]
    #[derive(Debug)]
    pub enum Blocking {}

    #[cfg(feature = "mysql")]
    impl Requests for Blocking {
        fn open(_: RequestSettings) -> Option<Self> {
            None
        }
        async fn insert(&self, _: &Statements, _: &[u8], _: &Record) -> Result<()> {
            match *self {}
        }
        async fn load(&self, _: &Statements, _: &[u8], _: i64) -> Result<Option<Row>> {
            match *self {}
        }
        async fn save(&self, _: &Statements, _: &[u8], _: &Record) -> Result<Option<Option<i64>>> {
            match *self {}
        }
    }

    /// The SQL of one store, built once from its table name.
    #[derive(Clone, Debug)]
    pub struct Statements {
        pub(crate) insert: String,
        pub(crate) load: String,
        pub(crate) update: String,
        pub(crate) version: String,
        /// The live rows of a principal.
        pub(crate) list: String,
        pub(crate) delete: String,
        /// `DELETE ... WHERE id = ? AND version = ?` (a rotation's compare-and-swap delete).
        pub(crate) delete_version: String,
        pub(crate) purge: String,
        /// Takes a session-level advisory lock named by the bound text (waiting for it); one
        /// row, `version` = 1 when taken.
        pub(crate) lock: String,
        /// Releases that lock; one row.
        pub(crate) unlock: String,
        /// `DROP TABLE IF EXISTS` the table (on PostgreSQL, with the domains of its columns).
        pub(crate) drop: String,
    }

    impl Statements {
        /// The binds of [`Statements::insert`]: key, payload, expiry, principal.
        pub fn insert_binds<'a>(key: &'a [u8], record: &'a Record) -> [Bind<'a>; 4] {
            [
                Bind::Bytes(key),
                Bind::Bytes(&record.payload),
                Bind::Int(clamp_expiry(record.expires_at)),
                // `NULLIF(?, '')` in the statement: no principal is NULL.
                Bind::Text(record.principal.as_deref().unwrap_or("")),
            ]
        }

        /// The binds of [`Statements::update`]: payload, expiry, principal, key, version.
        pub fn update_binds<'a>(key: &'a [u8], record: &'a Record) -> [Bind<'a>; 5] {
            [
                Bind::Bytes(&record.payload),
                Bind::Int(clamp_expiry(record.expires_at)),
                Bind::Text(record.principal.as_deref().unwrap_or("")),
                Bind::Bytes(key),
                Bind::Int(record.version as i64),
            ]
        }
    }

    /// A loaded row.
    #[derive(diesel::QueryableByName, Debug)]
    pub struct Row {
        #[diesel(sql_type = Binary)]
        pub(crate) payload: Vec<u8>,
        #[diesel(sql_type = BigInt)]
        pub(crate) expires_at: i64,
        #[diesel(sql_type = BigInt)]
        pub(crate) version: i64,
        #[diesel(sql_type = Nullable<Text>)]
        pub(crate) principal: Option<String>,
    }

    /// A listed row: a [`Row`] with its key.
    #[derive(diesel::QueryableByName, Debug)]
    pub struct ListRow {
        #[diesel(sql_type = Binary)]
        pub(crate) id: Vec<u8>,
        #[diesel(embed)]
        pub(crate) row: Row,
    }

    /// The stored version of a row.
    #[derive(diesel::QueryableByName, Debug)]
    pub struct VersionRow {
        #[diesel(sql_type = BigInt)]
        pub(crate) version: i64,
    }
}
use internal::{Driver, Queries, RequestSettings, Requests, Row, Statements};

pub(crate) type QueryResult<T> = std::result::Result<T, DieselError>;

/// Clamps an expiry into what both databases store.
pub(crate) fn clamp_expiry(t: Timestamp) -> i64 {
    t.0.clamp(MIN_EXPIRY.0, MAX_EXPIRY.0)
}

/// A URL with its password replaced by `***`, for messages: `postgres://app:***@db:5432/x`.
///
/// The user information ends at the *last* `@` (a password may hold `@` or `/`
/// unescaped); nothing of it but the user name is ever shown.
///
/// ```
/// use session_runtime::store::database::redact_url;
/// assert_eq!(redact_url("mysql://app:s3cret@10.0.0.5:3306/app"), "mysql://app:***@10.0.0.5:3306/app");
/// assert_eq!(redact_url("postgres://db.internal/app"), "postgres://db.internal/app");
/// assert_eq!(redact_url("postgres://app:pa/ss@w@rd@db/app"), "postgres://app:***@db/app");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a connection string that is not a URL)".to_owned();
    };
    let (user, rest) = match rest.rsplit_once('@') {
        Some((userinfo, rest)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            // A user name with a `/` means the split went wrong: show nothing of it.
            let user = if user.contains('/') { "***" } else { user };
            (Some(user), rest)
        }
        None => (None, rest),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    match user {
        Some(user) => format!("{scheme}://{user}:***@{host}{path}"),
        None => format!("{scheme}://{host}{path}"),
    }
}

/// The password of a URL, to scrub it from driver messages.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.rsplit_once('@')?.0;
    userinfo
        .split_once(':')
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty())
}

/// A pooled connection that remembers whether it failed, so the pool drops it instead of
/// handing out a dead socket after the database restarted.
struct Tracked<C> {
    conn: C,
    broken: bool,
}

impl<C> std::fmt::Debug for Tracked<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked")
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

/// The r2d2 connection manager (`ManageConnection`) of the stores.
struct Connector<D: Dialect> {
    url: String,
    on_connect: Option<String>,
    _dialect: PhantomData<D>,
}

impl<D: Dialect> std::fmt::Debug for Connector<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("url", &redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> ManageConnection for Connector<D> {
    type Connection = Tracked<D::Connection>;
    type Error = r2d2::Error;

    fn connect(&self) -> std::result::Result<Self::Connection, Self::Error> {
        let mut conn = <D::Connection as diesel::Connection>::establish(&self.url)
            .map_err(r2d2::Error::ConnectionError)?;
        if let Some(sql) = &self.on_connect {
            conn.batch_execute(sql).map_err(r2d2::Error::QueryError)?;
        }
        Ok(Tracked {
            conn,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Self::Connection) -> std::result::Result<(), Self::Error> {
        conn.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Self::Connection) -> bool {
        conn.broken || conn.conn.is_broken()
    }
}

/// Builds a [`DieselStore`]: the URL, then options, then [`DieselStoreBuilder::connect`].
///
/// Defaults: table `sessions`, payload cap 1 MiB, 16 pooled connections, 2 seconds to get a
/// connection (short, so that requests fail fast with [`StoreError::Unavailable`] while the
/// database is away, rather than queueing), purge batches of 1,000 rows.
pub struct DieselStoreBuilder<D: Dialect> {
    url: String,
    table: String,
    max_payload: usize,
    pool_size: u32,
    timeout: Duration,
    purge_batch: u32,
    on_connect: Option<String>,
    _dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for DieselStoreBuilder<D> {
    fn clone(&self) -> Self {
        Self {
            url: self.url.clone(),
            table: self.table.clone(),
            on_connect: self.on_connect.clone(),
            _dialect: PhantomData,
            ..*self
        }
    }
}

impl<D: Dialect> std::fmt::Debug for DieselStoreBuilder<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStoreBuilder")
            .field("url", &redact_url(&self.url))
            .field("table", &self.table)
            .field("max_payload", &self.max_payload)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .field("purge_batch", &self.purge_batch)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> DieselStoreBuilder<D> {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            table: "sessions".to_owned(),
            max_payload: 1 << 20,
            pool_size: 16,
            timeout: Duration::from_secs(2),
            purge_batch: 1_000,
            on_connect: None,
            _dialect: PhantomData,
        }
    }

    /// The table name (validated when connecting).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The largest payload accepted, in bytes; larger ones fail with
    /// [`StoreError::TooLarge`] before anything is sent.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The most connections the pool opens (at least 1).
    pub fn pool_size(mut self, connections: u32) -> Self {
        self.pool_size = connections.max(1);
        self
    }

    /// How long an operation waits for a pooled connection (including reconnecting) before
    /// failing with [`StoreError::Unavailable`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(10));
        self
    }

    /// Rows deleted per statement by [`SessionStore::purge_expired`] (at least 1).
    pub fn purge_batch(mut self, rows: u32) -> Self {
        self.purge_batch = rows.max(1);
        self
    }

    /// SQL run on every new connection, e.g. `SET TIME ZONE 'UTC'` (the store does not
    /// depend on the session's time zone; the tests use this to prove it).
    pub fn on_connect(mut self, sql: impl Into<String>) -> Self {
        self.on_connect = Some(sql.into());
        self
    }

    /// Validates the options, connects once (so a wrong URL or a database that is down is
    /// reported now, naming the host, never the password) and builds the pool. Does not
    /// create the table: see [`DieselStore::migrate`].
    ///
    /// # Errors
    /// [`StoreError::Config`] for an invalid table name; [`StoreError::Unavailable`] when
    /// the database cannot be reached or refuses the connection.
    pub async fn connect(self) -> Result<DieselStore<D>> {
        let table = TableName::new(&self.table)?;
        let manager = Connector::<D> {
            url: D::prepare_url(&self.url, self.timeout),
            on_connect: self.on_connect.clone(),
            _dialect: PhantomData,
        };
        let redacted = redact_url(&self.url);
        let password = url_password(&self.url).map(str::to_owned);
        let max_payload = self.max_payload;
        let (manager, probe) = tokio::task::spawn_blocking(move || {
            let probe = manager.connect().and_then(|mut conn| {
                D::check_server(&mut conn.conn, max_payload).map_err(r2d2::Error::QueryError)
            });
            (manager, probe)
        })
        .await
        .map_err(|e| StoreError::backend(format!("connecting task failed: {e}")))?;
        match probe {
            Ok(None) => {}
            Ok(Some(problem)) => {
                return Err(StoreError::Config(format!(
                    "{} at {redacted}: {problem}",
                    D::NAME
                )));
            }
            Err(error) => {
                let message = scrub(&error.to_string(), password.as_deref());
                return Err(StoreError::Unavailable(format!(
                    "cannot connect to {} at {redacted}: {}",
                    D::NAME,
                    message.trim_end()
                )));
            }
        }
        let requests = D::Requests::open(RequestSettings {
            url: D::prepare_url(&self.url, self.timeout),
            on_connect: self.on_connect.clone(),
            size: self.pool_size,
            timeout: self.timeout,
            redacted: redacted.clone(),
            password: password.clone(),
            table: table.clone(),
        });
        // Where the requests run on async connections, the blocking pool serves only the
        // rare statements (rotations, limits, listings, purges, migrations): its connections
        // may sit idle through a database restart, so it checks one before handing it out.
        // Where it serves every request, it does not (a failed connection is dropped).
        let pool = r2d2::Pool::builder()
            .max_size(self.pool_size)
            .min_idle(Some(0))
            .connection_timeout(self.timeout)
            .test_on_check_out(requests.is_some())
            .build_unchecked(manager);
        Ok(DieselStore {
            inner: Arc::new(Inner {
                pool,
                requests,
                sql: D::statements(&table),
                table,
                max_payload: self.max_payload,
                purge_batch: self.purge_batch,
                redacted,
                password,
            }),
        })
    }
}

pub(crate) fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if p.len() >= 3 => message.replace(p, "***"),
        _ => message.to_owned(),
    }
}

struct Inner<D: Dialect> {
    pool: r2d2::Pool<Connector<D>>,
    /// The async path of `load`, `create` and `save`, where the dialect has one.
    requests: Option<D::Requests>,
    sql: Statements,
    table: TableName,
    max_payload: usize,
    purge_batch: u32,
    redacted: String,
    password: Option<String>,
}

/// A session store on a database table through Diesel; see [`super::postgres`] and
/// [`super::mysql`]. Clones share one pool.
pub struct DieselStore<D: Dialect> {
    inner: Arc<Inner<D>>,
}

impl<D: Dialect> Clone for DieselStore<D> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<D: Dialect> std::fmt::Debug for DieselStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("database", &D::NAME)
            .field("url", &self.inner.redacted)
            .field("table", &self.inner.table.as_str())
            .field("max_payload", &self.inner.max_payload)
            .finish_non_exhaustive()
    }
}

/// The migrations of a dialect with the table name filled in, in order, as (file name, SQL).
///
/// ```
/// # #[cfg(feature = "postgres")] {
/// use session_runtime::store::database::{migration_sql, TableName};
/// use session_runtime::store::postgres::Postgres;
/// let sql = migration_sql::<Postgres>(&TableName::new("web_sessions").unwrap());
/// assert!(sql[0].1.contains("CREATE TABLE IF NOT EXISTS \"web_sessions\""));
/// # }
/// ```
pub fn migration_sql<D: Dialect>(table: &TableName) -> Vec<(&'static str, String)> {
    D::MIGRATIONS
        .iter()
        .map(|(name, sql)| (*name, sql.replace("{table}", table.as_str())))
        .collect()
}

impl<D: Dialect> DieselStore<D> {
    /// The table name.
    pub fn table(&self) -> &str {
        self.inner.table.as_str()
    }

    /// The payload cap in bytes.
    pub fn max_payload(&self) -> usize {
        self.inner.max_payload
    }

    /// Creates the table and its index when missing (the embedded SQL files of
    /// the crate's `migrations/`). Idempotent, so every instance may run it at start.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database is away; [`StoreError::Backend`] when
    /// a statement fails (e.g. no permission to create tables).
    pub async fn migrate(&self) -> Result<()> {
        let statements = migration_sql::<D>(&self.inner.table);
        self.run(move |conn, _| {
            for (_, sql) in &statements {
                conn.batch_execute(sql)?;
            }
            Ok(())
        })
        .await
    }

    /// Whether a row exists under the key, expired or not (for tools and tests; sessions are
    /// read with [`SessionStore::load`], which hides expired rows).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database is away; backend failures.
    pub async fn contains(&self, key: &StoreKey) -> Result<bool> {
        let key = key.0;
        self.run(move |conn, sql| conn.version(&sql.version, &[Bind::Bytes(&key)]))
            .await
            .map(|v| v.is_some())
    }

    /// Drops the table (tests and tear-downs).
    ///
    /// # Errors
    /// As [`DieselStore::migrate`].
    pub async fn drop_table(&self) -> Result<()> {
        self.run(|conn, sql| conn.batch_execute(&sql.drop)).await
    }

    fn check_size(&self, record: &Record) -> Result<()> {
        if record.payload.len() > self.inner.max_payload {
            return Err(StoreError::TooLarge {
                size: record.payload.len(),
                max: self.inner.max_payload,
            });
        }
        Ok(())
    }

    /// Runs `op` with a pooled connection on a blocking thread, mapping errors.
    async fn run<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut D::Connection, &Statements) -> QueryResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<T> {
            let mut conn = inner.pool.get().map_err(|e| {
                StoreError::Unavailable(format!(
                    "no connection to {} at {} within {:?}: {}",
                    D::NAME,
                    inner.redacted,
                    inner.pool.connection_timeout(),
                    scrub(&e.to_string(), inner.password.as_deref()).trim_end()
                ))
            })?;
            match op(&mut conn.conn, &inner.sql) {
                Ok(value) => Ok(value),
                Err(error) => Err(classify::<D>(&mut conn, error, &inner)),
            }
        })
        .await;
        match result {
            Ok(result) => result,
            Err(join) => Err(StoreError::backend(format!("database task failed: {join}"))),
        }
    }
}

/// Maps a Diesel error; marks the connection broken unless the error was about the data.
fn classify<D: Dialect>(
    conn: &mut Tracked<D::Connection>,
    error: DieselError,
    inner: &Inner<D>,
) -> StoreError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) = error {
        return StoreError::Exists;
    }
    let message = scrub(&error.to_string(), inner.password.as_deref());
    let lost = match &error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::DeserializationError(_) => {
            return StoreError::Corrupt(message);
        }
        // Not obviously a lost connection: ask the connection itself.
        _ => conn.conn.ping().is_err(),
    };
    conn.broken = true;
    if lost {
        StoreError::Unavailable(format!("{} at {}: {message}", D::NAME, inner.redacted))
    } else {
        StoreError::backend(format!("{} at {}: {message}", D::NAME, inner.redacted))
    }
}

fn version_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("version {v} out of range")))
}

fn row_to_record(row: Row) -> Result<Record> {
    let version = u64::try_from(row.version)
        .map_err(|_| StoreError::Corrupt(format!("negative version {}", row.version)))?;
    Ok(Record {
        payload: row.payload,
        expires_at: Timestamp(row.expires_at),
        version,
        principal: row.principal,
    })
}

#[async_trait::async_trait]
impl<D: Dialect> SessionStore for DieselStore<D> {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.check_size(record)?;
        if let Some(requests) = &self.inner.requests {
            return requests.insert(&self.inner.sql, &key.0, record).await;
        }
        let key = key.0;
        let record = record.clone();
        self.run(move |conn, sql| {
            conn.execute(&sql.insert, &Statements::insert_binds(&key, &record))
                .map(drop)
        })
        .await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let row = match &self.inner.requests {
            Some(requests) => requests.load(&self.inner.sql, &key.0, now.0).await?,
            None => {
                let key = key.0;
                self.run(move |conn, sql| {
                    Ok(conn
                        .rows(&sql.load, &[Bind::Bytes(&key), Bind::Int(now.0)])?
                        .pop())
                })
                .await?
            }
        };
        row.map(row_to_record).transpose()
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        self.check_size(record)?;
        let expected = record.version;
        version_of(expected)?;
        let outcome = match &self.inner.requests {
            Some(requests) => requests.save(&self.inner.sql, &key.0, record).await?,
            None => {
                let key = key.0;
                let record = record.clone();
                self.run(move |conn, sql| {
                    if conn.execute(&sql.update, &Statements::update_binds(&key, &record))? > 0 {
                        return Ok(None);
                    }
                    conn.version(&sql.version, &[Bind::Bytes(&key)]).map(Some)
                })
                .await?
            }
        };
        match outcome {
            None => Ok(expected + 1),
            Some(None) => Err(StoreError::NotFound),
            Some(Some(_)) => Err(StoreError::Conflict { expected }),
        }
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        if let Some((_, record)) = rotation.new {
            self.check_size(record)?;
        }
        if let Some(record) = rotation.keep_old {
            self.check_size(record)?;
        }
        let expected = rotation.version;
        let version = version_of(expected)?;
        let old = rotation.old.0;
        let new = rotation.new.map(|(key, record)| (key.0, record.clone()));
        let keep = rotation.keep_old.map(|record| Record {
            version: expected,
            ..record.clone()
        });
        let outcome = self
            .run(move |conn, sql| {
                // The outcome of a rotation refused inside the transaction.
                let mut refused = None;
                let done = diesel::Connection::transaction::<(), DieselError, _>(conn, |conn| {
                    let changed = match &keep {
                        Some(record) => {
                            conn.execute(&sql.update, &Statements::update_binds(&old, record))?
                        }
                        None => conn.execute(
                            &sql.delete_version,
                            &[Bind::Bytes(&old), Bind::Int(version)],
                        )?,
                    };
                    if changed == 0 {
                        refused = Some(match conn.version(&sql.version, &[Bind::Bytes(&old)])? {
                            None => StoreError::NotFound,
                            Some(_) => StoreError::Conflict { expected },
                        });
                        return Err(DieselError::RollbackTransaction);
                    }
                    if let Some((key, record)) = &new {
                        conn.execute(&sql.insert, &Statements::insert_binds(key, record))?;
                    }
                    Ok(())
                });
                match done {
                    Ok(()) => Ok(None),
                    Err(DieselError::RollbackTransaction) => Ok(refused),
                    // A deadlock between two rotations (MySQL): the loser saw a newer
                    // version, as far as the caller is concerned.
                    Err(DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => {
                        Ok(Some(StoreError::Conflict { expected }))
                    }
                    Err(error) => Err(error),
                }
            })
            .await?;
        match outcome {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        let key = key.0;
        self.run(move |conn, sql| conn.execute(&sql.delete, &[Bind::Bytes(&key)]).map(drop))
            .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let batch = i64::from(self.inner.purge_batch);
        self.run(move |conn, sql| {
            let mut total = 0u64;
            let mut retries = 0;
            loop {
                match conn.execute(&sql.purge, &[Bind::Int(now.0), Bind::Int(batch)]) {
                    Ok(n) => {
                        total += n as u64;
                        if (n as i64) < batch {
                            return Ok(total);
                        }
                    }
                    // Two purges at once may deadlock on MySQL; the loser retries.
                    Err(DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _))
                        if retries < 5 =>
                    {
                        retries += 1;
                    }
                    Err(error) => return Err(error),
                }
            }
        })
        .await
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    fn limits_sessions(&self) -> bool {
        true
    }

    /// Under an advisory lock per table and principal (PostgreSQL's `pg_advisory_lock`,
    /// MySQL's `GET_LOCK`), taken on the connection for the whole step: the principal's
    /// live rows are listed with the indexed query, and the rows [`plan_limit`] decides are
    /// deleted. Parallel limits of one principal, on any connection or server process, run
    /// one after the other; a save of a deleted row then finds nothing (`NotFound`).
    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        let principal = limit.principal.to_owned();
        let name = format!("session-limit:{}:{principal}", self.table());
        let (newcomer, max, policy) = (*limit.newcomer, limit.max, limit.policy);
        let outcome = self
            .run(move |conn, sql| {
                if conn.version(&sql.lock, &[Bind::Text(&name)])? != Some(1) {
                    return Ok(None);
                }
                let limit = SessionLimit {
                    principal: &principal,
                    newcomer: &newcomer,
                    max,
                    policy,
                };
                let trimmed = (|| -> QueryResult<Limited> {
                    let live: Vec<(StoreKey, Timestamp)> = conn
                        .listed(&sql.list, &[Bind::Text(&principal), Bind::Int(now.0)])?
                        .into_iter()
                        .filter_map(|r| {
                            let key: [u8; 32] = r.id.as_slice().try_into().ok()?;
                            Some((StoreKey(key), Timestamp(r.row.expires_at)))
                        })
                        .collect();
                    let (delete, refused) = plan_limit(&limit, &live);
                    for key in &delete {
                        conn.execute(&sql.delete, &[Bind::Bytes(&key.0)])?;
                    }
                    Ok(Limited::of(delete, refused))
                })();
                // Released whatever happened; should that fail, the error marks the
                // connection broken, and closing it releases the lock.
                let released = conn.version(&sql.unlock, &[Bind::Text(&name)]);
                let trimmed = trimmed?;
                released?;
                Ok(Some(trimmed))
            })
            .await?;
        outcome.ok_or_else(|| {
            StoreError::Unavailable(format!(
                "{}: the session limit's lock was not granted in time",
                D::NAME
            ))
        })
    }

    /// One indexed query (`WHERE principal = ? AND expires_at > ?`, the `principal` column
    /// written by the same statement as the row).
    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let principal = principal.to_owned();
        let rows = self
            .run(move |conn, sql| {
                conn.listed(&sql.list, &[Bind::Text(&principal), Bind::Int(now.0)])
            })
            .await?;
        rows.into_iter()
            .map(|r| {
                let key: [u8; 32] = r.id.as_slice().try_into().map_err(|_| {
                    StoreError::Corrupt(format!("session row id of {} bytes", r.id.len()))
                })?;
                Ok((StoreKey(key), row_to_record(r.row)?))
            })
            .collect()
    }
}
