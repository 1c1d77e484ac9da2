//! The PostgreSQL store against a real server (`SESSION_TEST_POSTGRES_URL`, started by
//! `tests/run-all.sh`): the dialect-generic tests of [`crate::dialect`].

use session_runtime::spec::settings::{Backend, DatabaseBackend};
use session_runtime::store::database::DieselStoreBuilder;
use session_runtime::store::postgres::{Postgres, PostgresStore};

use crate::db::{self, ServerLock};
use crate::dialect::{Server, dialect_tests};

static SERVER: ServerLock = ServerLock::const_new(());

/// The PostgreSQL test server.
struct Pg;

impl Server for Pg {
    type Dialect = Postgres;
    const NAME: &'static str = "postgres";
    const URL: &'static str = "SESSION_TEST_POSTGRES_URL";
    const CTL: &'static str = "SESSION_TEST_POSTGRES_CTL";
    const TZ_KIRITIMATI: &'static str = "SET TIME ZONE 'Pacific/Kiritimati'";
    const TZ_UTC: &'static str = "SET TIME ZONE 'UTC'";

    fn lock() -> &'static ServerLock {
        &SERVER
    }

    fn builder_at(url: String) -> DieselStoreBuilder<Postgres> {
        PostgresStore::builder(url)
    }

    fn dead_url(port: u16) -> String {
        format!("postgres://app:hunter2-secret@127.0.0.1:{port}/app?connect_timeout=2")
    }

    fn backend(database: DatabaseBackend) -> Backend {
        Backend::Postgres(database)
    }

    fn select_bytes(select: &str) -> Vec<Vec<u8>> {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&db::env_url(Self::URL)).expect("connect");
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Binary>(select))
            .load::<Vec<u8>>(&mut conn)
            .expect("read the table")
    }

    fn row_and_payload_sql(table: &str) -> (String, String) {
        (
            format!(
                "encode(id, 'hex') || ' | ' || expires_at::text || ' | v' || version::text || ' | ' || encode(payload, 'hex') FROM \"{table}\""
            ),
            format!("payload FROM \"{table}\""),
        )
    }
}

dialect_tests!(Pg);

/// PostgreSQL's own count of what a store did: its database's transactions (every statement
/// outside a transaction is one, so: round trips that run SQL) and its table's scans and
/// updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    commits: i64,
    rollbacks: i64,
    index_scans: i64,
    seq_scans: i64,
    updates: i64,
    hot_updates: i64,
}

impl Counts {
    /// What each of the `n` requests that `self` did more than `base` cost, exactly.
    fn per_request(self, base: Counts, n: i64) -> Counts {
        let each = |more: i64, less: i64| {
            let extra = more - less;
            assert_eq!(
                extra % n,
                0,
                "{extra} is not a multiple of {n}: {self:?} over {base:?}"
            );
            extra / n
        };
        Counts {
            commits: each(self.commits, base.commits),
            rollbacks: each(self.rollbacks, base.rollbacks),
            index_scans: each(self.index_scans, base.index_scans),
            seq_scans: each(self.seq_scans, base.seq_scans),
            updates: each(self.updates, base.updates),
            hot_updates: each(self.hot_updates, base.hot_updates),
        }
    }
}

/// A client on database `name` of the test server.
async fn client(url: &str, name: &str) -> tokio_postgres::Client {
    let (base, _) = url
        .rsplit_once('/')
        .expect("a database URL ends in /database");
    let (client, connection) =
        tokio_postgres::connect(&format!("{base}/{name}"), tokio_postgres::NoTls)
            .await
            .expect("connect to the test server");
    tokio::spawn(connection);
    client
}

/// A client of the database `url` names itself (to read or change what the store wrote).
async fn client_of(url: &str) -> tokio_postgres::Client {
    let (_, database) = url.rsplit_once('/').expect("database URL");
    client(url, database).await
}

/// Runs `work` on a store (one connection) of a database of its own, closes the store and
/// returns PostgreSQL's counters of that database and table. A backend publishes its
/// counters as it exits, before it leaves `pg_stat_activity`: once the database has no
/// backend, its counters are complete.
async fn counted(work: impl AsyncFnOnce(&PostgresStore)) -> Counts {
    let url = db::env_url(Pg::URL);
    let admin = client(&url, "postgres").await;
    let database = db::table_name("count");
    let table = db::table_name("count");
    admin
        .batch_execute(&format!("CREATE DATABASE \"{database}\""))
        .await
        .expect("create a database");
    let (base, _) = url.rsplit_once('/').expect("database URL");
    let store = PostgresStore::builder(format!("{base}/{database}"))
        .table(&table)
        .pool_size(1)
        .connect()
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    work(&store).await;
    drop(store);
    // Not a timing assertion: a guard against waiting forever.
    let mut backends = 1;
    for _ in 0..3000 {
        backends = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&database],
            )
            .await
            .expect("pg_stat_activity")
            .get::<_, i64>(0);
        if backends == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(backends, 0, "the store's connections did not close");
    let row = admin
        .query_one(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1",
            &[&database],
        )
        .await
        .expect("pg_stat_database");
    let (commits, rollbacks) = (row.get(0), row.get(1));
    let reader = client(&url, &database).await;
    let row = reader
        .query_one(
            "SELECT coalesce(idx_scan, 0), coalesce(seq_scan, 0), n_tup_upd, n_tup_hot_upd \
             FROM pg_stat_user_tables WHERE relname = $1",
            &[&table],
        )
        .await
        .expect("pg_stat_user_tables");
    let counts = Counts {
        commits,
        rollbacks,
        index_scans: row.get(0),
        seq_scans: row.get(1),
        updates: row.get(2),
        hot_updates: row.get(3),
    };
    drop(reader);
    admin
        .batch_execute(&format!("DROP DATABASE \"{database}\" WITH (FORCE)"))
        .await
        .expect("drop the database");
    counts
}

/// One session's requests: created, then `writes` requests that load and save it, then
/// `reads` that only load it.
async fn requests(store: &PostgresStore, writes: u64, reads: u64) {
    use session_runtime::{SessionStore, Timestamp};
    let key = db::key();
    let expires = Timestamp(4_000_000_000);
    let now = Timestamp(1_000);
    store
        .create(&key, &db::rec(b"0", expires, 1))
        .await
        .expect("create");
    for i in 0..writes {
        let mut record = store.load(&key, now).await.expect("load").expect("live");
        record.payload = i.to_string().into_bytes();
        // A sliding expiry: every save moves it (by less than the purge's slack).
        record.expires_at = Timestamp(expires.0 + 1 + i as i64);
        store.save(&key, &record).await.expect("save");
    }
    for _ in 0..reads {
        store.load(&key, now).await.expect("load").expect("live");
    }
}

/// What one writing and one reading request cost: `more` requests of a kind over `base`.
fn assert_per_request(base: Counts, writing: Counts, reading: Counts, more: i64) {
    assert_eq!(
        writing.per_request(base, more),
        Counts {
            commits: 2,
            index_scans: 2,
            updates: 1,
            hot_updates: 1,
            ..Counts::default()
        },
        "one writing request: {base:?} then {writing:?}"
    );
    assert_eq!(
        reading.per_request(base, more),
        Counts {
            commits: 1,
            index_scans: 1,
            ..Counts::default()
        },
        "one reading request: {base:?} then {reading:?}"
    );
}

/// The round trips of a request, counted by PostgreSQL itself, cannot creep back: a writing
/// request is one `SELECT` and one `UPDATE` (two statements, each its own transaction, each
/// one index lookup; no ping, no version check, no `BEGIN`), a reading one is one `SELECT`;
/// no request scans the table; a save that slides the expiry is a HOT update (no index
/// entry: no index covers what it changes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_request() {
    let _server = SERVER.read().await;
    let base = counted(async |store| requests(store, 2, 2).await).await;
    let writing = counted(async |store| requests(store, 12, 2).await).await;
    let reading = counted(async |store| requests(store, 2, 12).await).await;
    assert_per_request(base, writing, reading, 10);
}

/// An app with a counter session, served over HTTP on `store`: `/bump` adds one (a write),
/// `/read` reads it.
async fn http_requests(store: &PostgresStore, writes: u64, reads: u64) {
    use axum::routing::get;
    use session_runtime::{Session, SessionLayer, SessionManager};
    async fn bump(session: Session) -> String {
        let n = session.get::<u64>("n").unwrap_or(0) + 1;
        session.set("n", &n).unwrap();
        n.to_string()
    }
    async fn read(session: Session) -> String {
        session.get::<u64>("n").unwrap_or(0).to_string()
    }
    // No idle refresh of a read within the test (it is due every 45 s by default). A clock
    // that stands still: every write sets the same expiry, so the wall clock crossing a
    // multiple of 300 s (where `purge_after`, rounded down to one, moves) during the test
    // cannot turn one of the counted HOT updates into an indexed one.
    let manager: SessionManager = SessionManager::with_store(
        crate::support::settings(),
        std::sync::Arc::new(store.clone()),
    )
    .unwrap()
    .with_idle_resolution(86_400)
    .with_clock(std::sync::Arc::new(session_runtime::MockClock::new(
        session_runtime::Timestamp(1_800_000_000),
    )));
    let app = axum::Router::new()
        .route("/bump", get(bump))
        .route("/read", get(read))
        .layer(SessionLayer::new(manager));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let first = crate::db_http::get_path(addr, "/bump", None).await;
    let cookie = first.cookie.expect("a new session sets a cookie");
    for n in 2..=writes + 1 {
        let reply = crate::db_http::get_path(addr, "/bump", Some(&cookie)).await;
        assert_eq!((reply.status, reply.body), (200, n.to_string()));
    }
    for _ in 0..reads {
        let reply = crate::db_http::get_path(addr, "/read", Some(&cookie)).await;
        assert_eq!((reply.status, reply.body), (200, (writes + 1).to_string()));
        assert_eq!(reply.cookie, None, "a read sends no cookie");
    }
    server.abort();
    let _ = server.await;
}

/// The same over HTTP, through the layer and the manager: a writing request is one `SELECT`
/// and one `UPDATE`, a reading one one `SELECT`, and nothing else reaches the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_http_request() {
    let _server = SERVER.read().await;
    let base = counted(async |store| http_requests(store, 2, 2).await).await;
    let writing = counted(async |store| http_requests(store, 12, 2).await).await;
    let reading = counted(async |store| http_requests(store, 2, 12).await).await;
    assert_per_request(base, writing, reading, 10);
}

/// The load reads `expires_at` as PostgreSQL stores it (binary microseconds) and gives the
/// Unix seconds `EXTRACT(EPOCH ...)::BIGINT` gives (rounded half away from zero), before and
/// after 2000 (PostgreSQL's epoch); a row whose expiry is `infinity` (written by hand) is
/// `Corrupt`, not a failure of the database (which would also cost the connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_reads_the_expiry_in_binary() {
    use session_runtime::{SessionStore, StoreError, Timestamp};
    let _server = SERVER.read().await;
    let url = db::env_url(Pg::URL);
    let store = db::fresh(PostgresStore::builder(url.clone()), "expiry").await;
    let admin = client_of(&url).await;
    let key = db::key();
    store
        .create(&key, &db::rec(b"x", Timestamp(4_000_000_000), 1))
        .await
        .expect("create");
    let now = Timestamp(-2_000_000_000);
    for (stored, seconds) in [
        ("to_timestamp(4000000000.6)", 4_000_000_001),
        ("to_timestamp(4000000000.4)", 4_000_000_000),
        ("to_timestamp(946684799.5)", 946_684_800),
        ("to_timestamp(-1000.5)", -1_001),
        ("to_timestamp(-1000.4)", -1_000),
        ("TIMESTAMPTZ '2000-01-01 00:00:00+00'", 946_684_800),
    ] {
        admin
            .batch_execute(&format!(
                "UPDATE \"{}\" SET expires_at = {stored}",
                store.table()
            ))
            .await
            .expect("update by hand");
        let record = store.load(&key, now).await.expect("load").expect("live");
        assert_eq!(record.expires_at, Timestamp(seconds), "{stored}");
    }
    admin
        .batch_execute(&format!(
            "UPDATE \"{}\" SET expires_at = 'infinity'",
            store.table()
        ))
        .await
        .expect("update by hand");
    assert!(
        matches!(store.load(&key, now).await, Err(StoreError::Corrupt(_))),
        "an infinite expiry"
    );
    store.drop_table().await.unwrap();
}

/// A table made by the previous version (migrations 001 and 002), in use by instances of
/// that version, upgrades with `migrate`: its rows load, save and purge; rows a previous
/// instance still inserts after the upgrade (no `purge_after`) are purged once expired; the
/// index on `expires_at` is gone, the purge's index is there, the checks are on the columns'
/// types; running it again is harmless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_from_the_previous_table() {
    use session_runtime::store::database::{TableName, migration_sql};
    use session_runtime::{SessionStore, Timestamp};
    let _server = SERVER.read().await;
    let url = db::env_url(Pg::URL);
    let admin = client_of(&url).await;
    let table = db::table_name("upgrade");
    for (name, sql) in migration_sql::<Postgres>(&TableName::new(&table).unwrap()) {
        if name.starts_with("001") || name.starts_with("002") {
            admin.batch_execute(&sql).await.expect(name);
        }
    }
    // The previous version's INSERT, its binds typed as it prepared them (a bind left
    // untyped would take the type of its column, since `004` a domain).
    let old_insert = format!(
        "INSERT INTO \"{table}\" (id, payload, expires_at, version, principal) \
         VALUES ($1::BYTEA, $2::BYTEA, TIMESTAMPTZ 'epoch' + $3::BIGINT * INTERVAL '1 second', 1, NULL)"
    );
    let (live, expired, late) = (db::key(), db::key(), db::key());
    for (key, expires) in [(&live, 4_000_000_000_i64), (&expired, 1_000)] {
        admin
            .execute(&old_insert, &[&&key.0[..], &&b"old"[..], &expires])
            .await
            .expect("a previous version's row");
    }
    let store = PostgresStore::builder(url.clone())
        .table(&table)
        .connect()
        .await
        .expect("connect");
    store.migrate().await.expect("upgrade");
    store.migrate().await.expect("upgrade again");
    let indexes: Vec<String> = admin
        .query(
            "SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        indexes,
        [
            format!("{table}_pkey"),
            format!("{table}_principal_idx"),
            format!("{table}_purge_idx")
        ]
    );
    // The checks moved onto the columns' types.
    assert_eq!(
        column_types_and_table_checks(&admin, &table).await,
        (
            format!("{table}_session_key"),
            format!("{table}_row_version"),
            0
        )
    );
    // A previous instance, still running, inserts a row that has expired by now.
    admin
        .execute(&old_insert, &[&&late.0[..], &&b"late"[..], &2_000_i64])
        .await
        .expect("a previous version's row after the upgrade");
    let now = Timestamp(1_000_000);
    let mut record = store
        .load(&live, now)
        .await
        .unwrap()
        .expect("the live row loads");
    assert_eq!(
        (record.payload.as_slice(), record.expires_at),
        (&b"old"[..], Timestamp(4_000_000_000))
    );
    assert_eq!(store.load(&expired, now).await.unwrap(), None);
    record.payload = b"new".to_vec();
    record.expires_at = Timestamp(4_000_000_100);
    assert_eq!(store.save(&live, &record).await.unwrap(), 2);
    assert_eq!(
        store.purge_expired(now).await.unwrap(),
        2,
        "both expired rows"
    );
    assert!(store.contains(&live).await.unwrap());
    assert!(!store.contains(&expired).await.unwrap());
    assert!(!store.contains(&late).await.unwrap());
    // A row this version wrote expires and is purged like any other.
    record.expires_at = Timestamp(500_000);
    record.version = 2;
    assert_eq!(store.save(&live, &record).await.unwrap(), 3);
    assert_eq!(store.purge_expired(now).await.unwrap(), 1);
    assert!(!store.contains(&live).await.unwrap());
    store.drop_table().await.unwrap();
}

/// `purge_after` and `expires_at` of the row under `key`, as Unix seconds (`-infinity`:
/// `i64::MIN`).
async fn purge_after_and_expiry(
    admin: &tokio_postgres::Client,
    table: &str,
    key: &session_runtime::StoreKey,
) -> (i64, i64) {
    let row = admin
        .query_one(
            &format!(
                "SELECT CASE WHEN purge_after = '-infinity' THEN -9223372036854775808 \
                 ELSE EXTRACT(EPOCH FROM purge_after)::BIGINT END, \
                 EXTRACT(EPOCH FROM expires_at)::BIGINT FROM \"{table}\" WHERE id = $1"
            ),
            &[&&key.0[..]],
        )
        .await
        .expect("the row");
    (row.get(0), row.get(1))
}

/// A principal over its session limit while purges run, on rows whose `purge_after` (the
/// purge's lower bound of the expiry) is not their `expires_at`: a session whose expiry
/// slid within the purge's slack (`purge_after` lags), one that a previous version's
/// `UPDATE` expired under an old `purge_after` (it leads), one expired and due, and many
/// expired rows of others keeping two purges busy in small batches. Ending the oldest goes
/// by the expiry, not by `purge_after`; an expired row (purged or not yet) never counts
/// towards the limit; the purges remove exactly the due rows, never a live one and never
/// the ones the limit keeps; the rows left are purged once they expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_limit_while_purges_run() {
    use session_runtime::spec::OnMaxSessions;
    use session_runtime::store::{Limited, SessionLimit};
    use session_runtime::{Record, SessionStore, StoreKey, Timestamp};
    let _server = SERVER.read().await;
    let url = db::env_url(Pg::URL);
    let store = db::fresh(
        PostgresStore::builder(url.clone()).purge_batch(25),
        "limitpurge",
    )
    .await;
    let table = store.table().to_owned();
    let admin = client_of(&url).await;
    let now = Timestamp(1_800_000_000);
    let ada = |payload: &[u8], expires: i64| Record {
        principal: Some("ada".to_owned()),
        ..db::rec(payload, now.add_seconds(expires), 1)
    };
    // Slid by 250 s. This version's save writes `purge_after` = the expiry rounded down
    // to the slack (now + 300); the previous version's (and this version's rotations, on
    // the Diesel path) kept it at now + 100, within the slack of 300 s: written as they
    // left it, the oldest `purge_after` of ada's live rows, though its expiry is not the
    // oldest.
    let lagging = db::key();
    store.create(&lagging, &ada(b"lagging", 100)).await.unwrap();
    assert_eq!(
        store.save(&lagging, &ada(b"lagging", 350)).await.unwrap(),
        2
    );
    assert_eq!(
        purge_after_and_expiry(&admin, &table, &lagging).await,
        (now.0 + 300, now.0 + 350)
    );
    admin
        .execute(
            &format!(
                "UPDATE \"{table}\" SET purge_after = TIMESTAMPTZ 'epoch' + $1::BIGINT * \
                 INTERVAL '1 second' WHERE id = $2"
            ),
            &[&now.add_seconds(100).0, &&lagging.0[..]],
        )
        .await
        .expect("the previous version's purge_after");
    let oldest = db::key();
    store.create(&oldest, &ada(b"oldest", 200)).await.unwrap();
    let middle = db::key();
    store.create(&middle, &ada(b"middle", 400)).await.unwrap();
    // Expired, due for the purge.
    let expired = db::key();
    store.create(&expired, &ada(b"expired", -10)).await.unwrap();
    // Expired by a previous version's `UPDATE`, which does not know `purge_after`: not due
    // before now + 1200 (purged late, never early), and not live.
    let leading = db::key();
    store
        .create(&leading, &ada(b"leading", 1200))
        .await
        .unwrap();
    admin
        .execute(
            &format!(
                "UPDATE \"{table}\" SET expires_at = TIMESTAMPTZ 'epoch' + $1::BIGINT * \
                 INTERVAL '1 second', version = version + 1 WHERE id = $2"
            ),
            &[&now.add_seconds(-5).0, &&leading.0[..]],
        )
        .await
        .expect("a previous version's save");
    assert_eq!(
        purge_after_and_expiry(&admin, &table, &lagging).await,
        (now.0 + 100, now.0 + 350)
    );
    assert_eq!(
        purge_after_and_expiry(&admin, &table, &leading).await,
        (now.0 + 1200, now.0 - 5)
    );
    // Others' expired rows: work for the purges, in batches of 25.
    let others = 400;
    for i in 0..others {
        store
            .create(&db::key(), &db::rec(b"old", now.add_seconds(-1 - i), 1))
            .await
            .unwrap();
    }
    // Ada logs in on three more devices, one after the other, with at most 3 sessions,
    // while two purges run.
    let purges = {
        let (a, b) = (store.clone(), store.clone());
        tokio::spawn(async move {
            let (a, b) = tokio::join!(a.purge_expired(now), b.purge_expired(now));
            a.unwrap() + b.unwrap()
        })
    };
    let mut ended = Vec::new();
    let mut newcomers = Vec::new();
    for device in 0..3 {
        let newcomer = db::key();
        store
            .create(&newcomer, &ada(b"newcomer", 3600 + device))
            .await
            .unwrap();
        let limited = store
            .limit_sessions(
                &SessionLimit {
                    principal: "ada",
                    newcomer: &newcomer,
                    max: 3,
                    policy: OnMaxSessions::EndOldest,
                },
                now,
            )
            .await
            .unwrap();
        let Limited::Kept { ended: keys } = limited else {
            panic!("login {device} refused: {limited:?}");
        };
        ended.push(keys);
        newcomers.push(newcomer);
    }
    let purged = purges.await.unwrap() + store.purge_expired(now).await.unwrap();
    // Live before the logins: lagging (350), oldest (200), middle (400); each login ends
    // the one with the earliest expiry.
    assert_eq!(
        ended,
        [vec![oldest], vec![lagging], vec![middle]],
        "ended by expiry: oldest (now + 200), lagging (now + 350), middle (now + 400)"
    );
    let mut live: Vec<StoreKey> = store
        .sessions_of("ada", now)
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    live.sort_by_key(|k| k.0);
    let mut expected = newcomers.clone();
    expected.sort_by_key(|k| k.0);
    assert_eq!(live, expected, "the three newcomers stay");
    assert_eq!(
        purged,
        others as u64 + 1,
        "the others' rows and ada's expired one"
    );
    for key in [&oldest, &lagging, &middle, &expired] {
        assert!(!store.contains(key).await.unwrap());
    }
    assert!(store.contains(&leading).await.unwrap(), "not due yet");
    assert_eq!(store.load(&leading, now).await.unwrap(), None, "expired");
    // Purged once due; the newcomers once they expire.
    assert_eq!(store.purge_expired(now.add_seconds(1199)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(now.add_seconds(1200)).await.unwrap(), 1);
    assert_eq!(store.purge_expired(now.add_seconds(3602)).await.unwrap(), 3);
    assert!(store.sessions_of("ada", now).await.unwrap().is_empty());
    store.drop_table().await.unwrap();
}

/// `purge_after` (the purge's indexed lower bound of the expiry) as this store's requests
/// write it: the expiry rounded down to a multiple of the purge's slack (300 s), on create
/// and on save, so a save that slides the expiry within its slot of 300 s changes no indexed
/// column (HOT: `statements_per_request`), a save that moves the expiry past the slot moves
/// the bound with it, and one that moves the expiry earlier lowers the bound: the row is
/// purged when it expires, not before and not later. Before 1970 too. No principal and an
/// empty one are stored as `NULL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_after_is_the_expiry_rounded_down_to_the_slack() {
    use session_runtime::{Record, SessionStore, Timestamp};
    let _server = SERVER.read().await;
    let url = db::env_url(Pg::URL);
    let store = db::fresh(PostgresStore::builder(url.clone()), "purgeslot").await;
    let table = store.table().to_owned();
    let admin = client_of(&url).await;
    // A multiple of 300.
    let now = Timestamp(1_800_000_000);
    let key = db::key();
    let at = |expires: i64, version: u64| db::rec(b"s", now.add_seconds(expires), version);
    store.create(&key, &at(100, 1)).await.unwrap();
    assert_eq!(
        purge_after_and_expiry(&admin, &table, &key).await,
        (now.0, now.0 + 100),
        "created"
    );
    // (expiry after the save, purge_after after the save), from version 1.
    for (version, (expires, bound)) in [
        (250, 0),   // slid within the slot: unchanged
        (301, 300), // past it: the next slot
        (599, 300),
        (50, 0), // earlier, into an earlier slot
        (40, 0), // earlier, within the slot
    ]
    .into_iter()
    .enumerate()
    {
        let version = version as u64 + 1;
        assert_eq!(
            store.save(&key, &at(expires, version)).await.unwrap(),
            version + 1
        );
        assert_eq!(
            purge_after_and_expiry(&admin, &table, &key).await,
            (now.0 + bound, now.0 + expires),
            "saved with the expiry at now + {expires}"
        );
    }
    // Before 1970: rounded towards the past.
    let old = db::key();
    store
        .create(&old, &db::rec(b"s", Timestamp(-10), 1))
        .await
        .unwrap();
    assert_eq!(
        purge_after_and_expiry(&admin, &table, &old).await,
        (-300, -10)
    );
    // Purged when due, not before.
    assert_eq!(store.purge_expired(Timestamp(-11)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(Timestamp(-10)).await.unwrap(), 1);
    assert!(!store.contains(&old).await.unwrap());
    assert!(
        store
            .load(&key, now.add_seconds(39))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.load(&key, now.add_seconds(40)).await.unwrap(), None);
    assert_eq!(store.purge_expired(now.add_seconds(39)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(now.add_seconds(40)).await.unwrap(), 1);
    assert!(!store.contains(&key).await.unwrap());
    // The principal column: `NULL` for none and for an empty one, on create and on save.
    let principal = async |key: &session_runtime::StoreKey| -> Option<String> {
        admin
            .query_one(
                &format!("SELECT principal FROM \"{table}\" WHERE id = $1"),
                &[&&key.0[..]],
            )
            .await
            .expect("the row")
            .get(0)
    };
    let with = |principal: Option<&str>, version: u64| Record {
        principal: principal.map(str::to_owned),
        ..at(1000, version)
    };
    let (a, b) = (db::key(), db::key());
    store.create(&a, &with(Some(""), 1)).await.unwrap();
    store.create(&b, &with(Some("ada"), 1)).await.unwrap();
    assert_eq!(
        (principal(&a).await, principal(&b).await),
        (None, Some("ada".to_owned()))
    );
    store.save(&a, &with(Some("ada"), 1)).await.unwrap();
    store.save(&b, &with(Some(""), 1)).await.unwrap();
    assert_eq!(
        (principal(&a).await, principal(&b).await),
        (Some("ada".to_owned()), None)
    );
    store.save(&a, &with(None, 2)).await.unwrap();
    assert_eq!(principal(&a).await, None);
    assert_eq!(
        store.load(&b, now).await.unwrap().map(|r| r.principal),
        Some(None)
    );
    store.drop_table().await.unwrap();
}

/// The types and the checks of the key and version columns of `{table}` (format_type of
/// `id` and `version`, and the table's own `CHECK` constraints).
async fn column_types_and_table_checks(
    admin: &tokio_postgres::Client,
    table: &str,
) -> (String, String, i64) {
    let row = admin
        .query_one(
            "SELECT (SELECT format_type(atttypid, NULL) FROM pg_attribute \
                     WHERE attrelid = $1::text::regclass AND attname = 'id'), \
                    (SELECT format_type(atttypid, NULL) FROM pg_attribute \
                     WHERE attrelid = $1::text::regclass AND attname = 'version'), \
                    (SELECT count(*) FROM pg_constraint \
                     WHERE conrelid = $1::text::regclass AND contype = 'c')",
            &[&format!("\"{table}\"")],
        )
        .await
        .expect("the catalog");
    (row.get(0), row.get(1), row.get(2))
}

/// The key's length (32 bytes) and the version's minimum (1) are checked on the columns'
/// types (`004_checks_on_types.sql`: PostgreSQL evaluates a table's `CHECK` constraints on
/// every `UPDATE`, whatever it changes, and sets them up again on every execution; a
/// domain is checked only where a value is assigned to its column): a table holds no
/// `CHECK` constraint of its own, every write that breaks a rule is refused as before
/// (insert, save, by hand), and dropping the table drops its domains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_and_version_are_checked_on_their_types() {
    use session_runtime::{SessionStore, Timestamp};
    use tokio_postgres::error::SqlState;
    let _server = SERVER.read().await;
    let url = db::env_url(Pg::URL);
    let store = db::fresh(PostgresStore::builder(url.clone()), "checks").await;
    let table = store.table().to_owned();
    let admin = client_of(&url).await;
    assert_eq!(
        column_types_and_table_checks(&admin, &table).await,
        (
            format!("{table}_session_key"),
            format!("{table}_row_version"),
            0
        )
    );
    let key = db::key();
    store
        .create(&key, &db::rec(b"x", Timestamp(4_000_000_000), 1))
        .await
        .unwrap();
    let insert = format!(
        "INSERT INTO \"{table}\" (id, payload, expires_at, version) \
         VALUES ($1::BYTEA, '\\x', now(), $2::BIGINT)"
    );
    let refused = async |sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]| {
        let error = admin.execute(sql, params).await.expect_err(sql);
        assert_eq!(error.code(), Some(&SqlState::CHECK_VIOLATION), "{error}");
    };
    refused(&insert, &[&&[7_u8; 31][..], &1_i64]).await;
    refused(&insert, &[&&[7_u8; 33][..], &1_i64]).await;
    refused(&insert, &[&&[7_u8; 32][..], &0_i64]).await;
    let set_version = format!("UPDATE \"{table}\" SET version = $1::BIGINT WHERE id = $2");
    refused(&set_version, &[&0_i64, &&key.0[..]]).await;
    refused(
        &format!("UPDATE \"{table}\" SET id = $1::BYTEA WHERE id = $2"),
        &[&&[7_u8; 16][..], &&key.0[..]],
    )
    .await;
    // What the rules allow still goes in, by hand and through the store.
    admin
        .execute(&insert, &[&&[7_u8; 32][..], &1_i64])
        .await
        .expect("a key of 32 bytes, version 1");
    let mut record = store.load(&key, Timestamp(0)).await.unwrap().expect("live");
    record.payload = b"y".to_vec();
    assert_eq!(store.save(&key, &record).await.unwrap(), 2);
    let domains = format!(
        "SELECT count(*) FROM pg_type WHERE typname IN ('{table}_session_key', '{table}_row_version')"
    );
    let count = async || {
        admin
            .query_one(&domains, &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    assert_eq!(count().await, 2);
    store.drop_table().await.unwrap();
    assert_eq!(count().await, 0, "dropped with the table");
}

/// Rows written by both paths in turn, then purged: the Diesel path's statements (a
/// rotation: its `INSERT` sets `purge_after` to the expiry, its `UPDATE` of the forwarding
/// record moves it by a `CASE`) and the request path's (`purge_after` bound as the expiry
/// rounded down to 300 s) on the same rows. After every write `purge_after <= expires_at <
/// purge_after + 300 s`, and a purge removes each row at its expiry, not a second before.
#[tokio::test]
async fn rows_of_both_paths_keep_the_purge_bound_and_are_purged_on_time() {
    use session_runtime::store::Rotation;
    use session_runtime::{SessionStore, Timestamp};
    let _server = SERVER.read().await;
    let url = db::env_url(Pg::URL);
    let store = db::fresh(PostgresStore::builder(url.clone()), "purgejoint").await;
    let table = store.table().to_owned();
    let admin = client_of(&url).await;
    // A multiple of 300.
    let now = Timestamp(1_800_000_000);
    let at = |secs: i64| now.add_seconds(secs);
    // (purge_after, expiry) relative to `now`, once the bound is checked.
    let bound = async |key: &session_runtime::StoreKey| {
        let (purge_after, expiry) = purge_after_and_expiry(&admin, &table, key).await;
        assert!(
            purge_after <= expiry && expiry < purge_after + 300,
            "purge_after {purge_after} against the expiry {expiry}"
        );
        (purge_after - now.0, expiry - now.0)
    };
    // The request path creates it.
    let old = db::key();
    store
        .create(&old, &db::rec(b"a", at(1000), 1))
        .await
        .unwrap();
    assert_eq!(bound(&old).await, (900, 1000));
    // A rotation (the Diesel path): the new row inserted, the old one kept as a forwarding
    // record expiring sooner, below its `purge_after`: the `CASE` moves it.
    let new = db::key();
    store
        .rotate(&Rotation {
            old: &old,
            version: 1,
            new: Some((&new, &db::rec(b"b", at(1150), 1))),
            keep_old: Some(&db::rec(b"f", at(60), 1)),
        })
        .await
        .unwrap();
    assert_eq!(
        bound(&new).await,
        (1150, 1150),
        "inserted by the Diesel path"
    );
    assert_eq!(bound(&old).await, (60, 60), "updated by the Diesel path");
    // The request path saves the row the Diesel path inserted, sliding it.
    assert_eq!(
        store.save(&new, &db::rec(b"c", at(1400), 1)).await.unwrap(),
        2
    );
    assert_eq!(bound(&new).await, (1200, 1400), "saved by the request path");
    // The Diesel path's `UPDATE` on the row the request path saved: an expiry within its
    // slot leaves `purge_after` as the request path wrote it.
    let newer = db::key();
    store
        .rotate(&Rotation {
            old: &new,
            version: 2,
            new: Some((&newer, &db::rec(b"d", at(2000), 1))),
            keep_old: Some(&db::rec(b"g", at(1420), 2)),
        })
        .await
        .unwrap();
    assert_eq!(
        bound(&new).await,
        (1200, 1420),
        "updated by the Diesel path"
    );
    assert_eq!(bound(&newer).await, (2000, 2000));
    // Each purged at its expiry, not before.
    for (secs, purged, gone) in [
        (59, 0, None),
        (60, 1, Some(&old)),
        (1419, 0, None),
        (1420, 1, Some(&new)),
        (1999, 0, None),
        (2000, 1, Some(&newer)),
    ] {
        assert_eq!(
            store.purge_expired(at(secs)).await.unwrap(),
            purged,
            "purged at now + {secs}"
        );
        if let Some(key) = gone {
            assert!(!store.contains(key).await.unwrap(), "gone at now + {secs}");
        }
    }
    store.drop_table().await.unwrap();
}
