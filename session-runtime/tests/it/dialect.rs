//! The tests every Diesel dialect runs against its real server, written once:
//! `postgres.rs` and `mysql.rs` describe their server ([`Server`]) and expand
//! [`dialect_tests!`], which gives `postgres::NAME` and `mysql::NAME` for every test below.

use std::time::Duration;

use session_runtime::spec::settings::{Backend, DatabaseBackend};
use session_runtime::store::database::{Dialect, DieselStore, DieselStoreBuilder};

use crate::db::{self, ServerLock};

/// What differs between the PostgreSQL and the MySQL (MariaDB) test servers.
pub(crate) trait Server: 'static {
    /// The store's dialect.
    type Dialect: Dialect;
    /// The name `session-db --backend` and the rotation story's labels use.
    const NAME: &'static str;
    /// The variable holding the server's URL (set by `tests/run-all.sh`).
    const URL: &'static str;
    /// The variable holding the command that stops and starts the server.
    const CTL: &'static str;
    /// SQL run on connect to put the session in the Pacific/Kiritimati time zone (UTC+14).
    const TZ_KIRITIMATI: &'static str;
    /// SQL run on connect to put the session in UTC.
    const TZ_UTC: &'static str;

    /// The lock the outage tests take for writing (one per server).
    fn lock() -> &'static ServerLock;
    /// A builder for `url`.
    fn builder_at(url: String) -> DieselStoreBuilder<Self::Dialect>;
    /// A URL with a password, naming a server that is not there (`port` is closed).
    fn dead_url(port: u16) -> String;
    /// The settings' backend for this server.
    fn backend(database: DatabaseBackend) -> Backend;
    /// Every row of a one-column binary `SELECT select` (without the `SELECT`), read over a
    /// plain Diesel connection.
    fn select_bytes(select: &str) -> Vec<Vec<u8>>;
    /// `SELECT` text giving each row of `table` (id, expiry, version, payload) as one
    /// string, and the raw payloads.
    fn row_and_payload_sql(table: &str) -> (String, String);
}

/// The store builder the tests start from: a 300 KiB payload cap, purges in batches of 100.
pub(crate) fn builder<S: Server>() -> DieselStoreBuilder<S::Dialect> {
    S::builder_at(db::env_url(S::URL))
        .max_payload(300 * 1024)
        .purge_batch(100)
}

/// Expands to the dialect-generic tests for the [`Server`] `$server`, one `#[tokio::test]`
/// (or `#[test]`) per function of this module, named after it.
macro_rules! dialect_tests {
    ($server:ty) => {
        $crate::dialect::dialect_tests!(@each $server, [
            2 conformance,
            2 purge_task,
            2 open_from_settings,
            2 conformance_in_kiritimati_time_zone,
            2 expiry_after_2038,
            2 payload_cap,
            4 logout_races_slow_request,
            4 concurrent_increments,
            4 purge_in_batches,
            2 table_name_is_validated,
            2 unreachable_at_start,
            2 wrong_password,
            4 outage_and_recovery,
            4 two_app_instances_share_sessions,
            4 outage_over_http,
            2 encrypted_at_rest_with_key_rotation,
        ]);
        $crate::dialect::dialect_tests!(@each_cli $server, [
            2 cli_migrate_and_purge,
            2 cli_lists_and_ends_sessions,
        ]);

        /// The model-based test of the manager, a shorter run on this server.
        #[test]
        fn manager_model() {
            $crate::dialect::manager_model::<$server>();
        }
    };
    (@each $server:ty, [$($threads:literal $test:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn $test() {
                $crate::dialect::$test::<$server>().await;
            }
        )*
    };
    (@each_cli $server:ty, [$($threads:literal $test:ident),* $(,)?]) => {
        $(
            #[cfg(feature = "db-cli")]
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn $test() {
                $crate::dialect::$test::<$server>().await;
            }
        )*
    };
}
pub(crate) use dialect_tests;

/// Runs `test` on a store on a fresh table made by `builder` (its name starts with
/// `prefix`), holding the server's lock for reading, then drops the table.
async fn on_fresh_table<S: Server>(
    builder: DieselStoreBuilder<S::Dialect>,
    prefix: &str,
    test: impl AsyncFnOnce(&DieselStore<S::Dialect>),
) {
    let _server = S::lock().read().await;
    let store = db::fresh(builder, prefix).await;
    test(&store).await;
    store.drop_table().await.unwrap();
}

pub(crate) async fn conformance<S: Server>() {
    on_fresh_table::<S>(builder::<S>(), "conf", async |store| {
        db::conformance(store).await
    })
    .await;
}

pub(crate) async fn purge_task<S: Server>() {
    on_fresh_table::<S>(builder::<S>(), "task", async |store| {
        db::purge_task(store).await
    })
    .await;
}

pub(crate) async fn open_from_settings<S: Server>() {
    let _server = S::lock().read().await;
    db::env_url(S::URL);
    let table = db::table_name("open");
    let backend = S::backend(DatabaseBackend {
        url_env: S::URL.to_owned(),
        table: table.clone(),
        max_payload: 2048,
        encrypt: false,
    });
    db::open_from_settings(backend).await;
    drop_table::<S>(&table).await;
}

/// Drops `table` (made by a store opened some other way).
async fn drop_table<S: Server>(table: &str) {
    builder::<S>()
        .table(table)
        .connect()
        .await
        .unwrap()
        .drop_table()
        .await
        .unwrap();
}

pub(crate) async fn conformance_in_kiritimati_time_zone<S: Server>() {
    let _server = S::lock().read().await;
    let store = db::fresh(builder::<S>().on_connect(S::TZ_KIRITIMATI), "conf_tz").await;
    let utc = builder::<S>()
        .on_connect(S::TZ_UTC)
        .table(store.table())
        .connect()
        .await
        .unwrap();
    db::same_answers_across_time_zones(&utc, &store).await;
    store.drop_table().await.unwrap();
}

pub(crate) async fn expiry_after_2038<S: Server>() {
    on_fresh_table::<S>(builder::<S>(), "y2040", async |store| {
        db::expiry_after_2038(store).await
    })
    .await;
}

pub(crate) async fn payload_cap<S: Server>() {
    on_fresh_table::<S>(builder::<S>(), "cap", async |store| {
        db::payload_cap(store).await
    })
    .await;
}

pub(crate) async fn logout_races_slow_request<S: Server>() {
    on_fresh_table::<S>(builder::<S>(), "race", async |store| {
        db::logout_races_slow_request(store, 1_000).await
    })
    .await;
}

pub(crate) async fn concurrent_increments<S: Server>() {
    on_fresh_table::<S>(builder::<S>().pool_size(32), "incr", async |store| {
        db::concurrent_increments(store).await
    })
    .await;
}

pub(crate) async fn purge_in_batches<S: Server>() {
    on_fresh_table::<S>(builder::<S>(), "purge", async |store| {
        db::purge_in_batches(store).await
    })
    .await;
}

pub(crate) async fn table_name_is_validated<S: Server>() {
    db::table_name_is_validated(builder::<S>()).await;
}

pub(crate) async fn unreachable_at_start<S: Server>() {
    let port = db::dead_port();
    db::unreachable_at_start(S::builder_at(S::dead_url(port)), port).await;
}

pub(crate) async fn wrong_password<S: Server>() {
    let _server = S::lock().read().await;
    let url = db::env_url(S::URL);
    let host = db::host_port(&url);
    db::wrong_password(
        S::builder_at(db::with_password(&url, "hunter2-secret")),
        &host,
    )
    .await;
}

pub(crate) async fn outage_and_recovery<S: Server>() {
    let _server = S::lock().write().await;
    let store = db::fresh(builder::<S>().timeout(Duration::from_secs(1)), "outage").await;
    db::outage(&store, S::CTL).await;
    store.drop_table().await.unwrap();
}

#[cfg(feature = "db-cli")]
pub(crate) async fn cli_migrate_and_purge<S: Server>() {
    let _server = S::lock().read().await;
    db::cli_migrate_and_purge(builder::<S>(), S::NAME, S::URL).await;
}

/// `session-db sessions list / end / end-all / end-everyone` on this server (see
/// `active::cli_lists_and_ends_sessions`).
#[cfg(feature = "db-cli")]
pub(crate) async fn cli_lists_and_ends_sessions<S: Server>() {
    let _server = S::lock().read().await;
    let store = db::fresh(builder::<S>(), "cli_sessions").await;
    let table = store.table().to_owned();
    crate::active::cli_lists_and_ends_sessions(
        std::sync::Arc::new(store.clone()),
        &["--backend", S::NAME, "--url-env", S::URL, "--table", &table],
        &[],
    )
    .await;
    store.drop_table().await.unwrap();
}

pub(crate) async fn two_app_instances_share_sessions<S: Server>() {
    let _server = S::lock().read().await;
    let a = db::fresh(builder::<S>(), "http2").await;
    let b = builder::<S>().table(a.table()).connect().await.unwrap();
    crate::db_http::two_instances(a.clone(), b).await;
    a.drop_table().await.unwrap();
}

pub(crate) async fn outage_over_http<S: Server>() {
    let _server = S::lock().write().await;
    let store = db::fresh(
        builder::<S>().timeout(Duration::from_secs(1)),
        "http_outage",
    )
    .await;
    crate::db_http::outage_over_http(store.clone(), S::CTL).await;
    store.drop_table().await.unwrap();
}

pub(crate) fn manager_model<S: Server>() {
    db::manager_model(S::lock(), builder::<S>);
}

/// `encrypt = true`: rows unreadable with SQL, a fallback key accepted and the record
/// re-sealed at the next save, a removed key refused (a fresh session, the row left).
pub(crate) async fn encrypted_at_rest_with_key_rotation<S: Server>() {
    let _server = S::lock().read().await;
    let table = db::table_name("sealed");
    let backend = S::backend(DatabaseBackend {
        url_env: S::URL.to_owned(),
        table: table.clone(),
        encrypt: true,
        ..Default::default()
    });
    let (row, payload) = S::row_and_payload_sql(&table);
    db::encrypted_at_rest(
        S::NAME,
        backend,
        move || S::select_bytes(&payload),
        move || String::from_utf8_lossy(&S::select_bytes(&row)[0]).into_owned(),
    )
    .await;
    drop_table::<S>(&table).await;
}
