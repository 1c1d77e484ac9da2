//! The PostgreSQL store against a real server (`SESSION_TEST_POSTGRES_URL`, started by
//! `tests/run-all.sh`).

use std::time::Duration;

use session_runtime::store::database::DieselStoreBuilder;
use session_runtime::store::postgres::{Postgres, PostgresStore};

use crate::db::{self, ServerLock};

const URL: &str = "SESSION_TEST_POSTGRES_URL";
const CTL: &str = "SESSION_TEST_POSTGRES_CTL";

static SERVER: ServerLock = ServerLock::const_new(());

fn builder() -> DieselStoreBuilder<Postgres> {
    PostgresStore::builder(db::env_url(URL))
        .max_payload(300 * 1024)
        .purge_batch(100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "conf").await;
    db::conformance(&store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_task() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "task").await;
    db::purge_task(&store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_from_settings() {
    let _server = SERVER.read().await;
    db::env_url(URL);
    let table = db::table_name("open");
    let backend = session_runtime::spec::settings::Backend::Postgres(
        session_runtime::spec::settings::DatabaseBackend {
            url_env: URL.to_owned(),
            table: table.clone(),
            max_payload: 2048,
            encrypt: false,
        },
    );
    db::open_from_settings(backend).await;
    builder()
        .table(table)
        .connect()
        .await
        .unwrap()
        .drop_table()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_in_kiritimati_time_zone() {
    let _server = SERVER.read().await;
    let store = db::fresh(
        builder().on_connect("SET TIME ZONE 'Pacific/Kiritimati'"),
        "conf_tz",
    )
    .await;
    let utc = builder()
        .on_connect("SET TIME ZONE 'UTC'")
        .table(store.table())
        .connect()
        .await
        .unwrap();
    db::same_answers_across_time_zones(&utc, &store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_after_2038() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "y2040").await;
    db::expiry_after_2038(&store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_cap() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "cap").await;
    db::payload_cap(&store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_races_slow_request() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "race").await;
    db::logout_races_slow_request(&store, 1_000).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder().pool_size(32), "incr").await;
    db::concurrent_increments(&store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_in_batches() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "purge").await;
    db::purge_in_batches(&store).await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_name_is_validated() {
    db::table_name_is_validated(builder()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_at_start() {
    let port = db::dead_port();
    let url = format!("postgres://app:hunter2-secret@127.0.0.1:{port}/app?connect_timeout=2");
    db::unreachable_at_start(PostgresStore::builder(url), port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password() {
    let _server = SERVER.read().await;
    let url = db::env_url(URL);
    let host = db::host_port(&url);
    db::wrong_password(
        PostgresStore::builder(db::with_password(&url, "hunter2-secret")),
        &host,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_and_recovery() {
    let _server = SERVER.write().await;
    let store = db::fresh(builder().timeout(Duration::from_secs(1)), "outage").await;
    db::outage(&store, CTL).await;
    store.drop_table().await.unwrap();
}

#[cfg(feature = "db-cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_migrate_and_purge() {
    let _server = SERVER.read().await;
    db::cli_migrate_and_purge(builder(), "postgres", URL).await;
}

/// `session-db sessions list / end / end-all / end-everyone` on postgres (see
/// `active::cli_lists_and_ends_sessions`).
#[cfg(feature = "db-cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_lists_and_ends_sessions() {
    let _server = SERVER.read().await;
    let store = db::fresh(builder(), "cli_sessions").await;
    let table = store.table().to_owned();
    crate::active::cli_lists_and_ends_sessions(
        std::sync::Arc::new(store.clone()),
        &["--backend", "postgres", "--url-env", URL, "--table", &table],
        &[],
    )
    .await;
    store.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_app_instances_share_sessions() {
    let _server = SERVER.read().await;
    let a = db::fresh(builder(), "http2").await;
    let b = builder().table(a.table()).connect().await.unwrap();
    crate::db_http::two_instances(a.clone(), b).await;
    a.drop_table().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_over_http() {
    let _server = SERVER.write().await;
    let store = db::fresh(builder().timeout(Duration::from_secs(1)), "http_outage").await;
    crate::db_http::outage_over_http(store.clone(), CTL).await;
    store.drop_table().await.unwrap();
}

/// The model-based test of the manager, a shorter run on PostgreSQL.
#[test]
fn manager_model() {
    db::manager_model(&SERVER, builder);
}

/// `encrypt = true`: rows unreadable with SQL, a fallback key accepted and the record
/// re-sealed at the next save, a removed key refused (a fresh session, the row left).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_at_rest_with_key_rotation() {
    let _server = SERVER.read().await;
    let table = db::table_name("sealed");
    let backend = session_runtime::spec::settings::Backend::Postgres(
        session_runtime::spec::settings::DatabaseBackend {
            url_env: URL.to_owned(),
            table: table.clone(),
            encrypt: true,
            ..Default::default()
        },
    );
    let query = |select: String| {
        move || {
            use diesel::{Connection, RunQueryDsl};
            let mut conn = diesel::PgConnection::establish(&db::env_url(URL)).expect("connect");
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Binary>(&select))
                .load::<Vec<u8>>(&mut conn)
                .expect("read the table")
        }
    };
    let raw = query(format!("payload FROM \"{table}\""));
    let row = query(format!(
        "encode(id, 'hex') || ' | ' || expires_at::text || ' | v' || version::text || ' | ' || encode(payload, 'hex') FROM \"{table}\""
    ));
    db::encrypted_at_rest("postgres", backend, raw, move || {
        String::from_utf8_lossy(&row()[0]).into_owned()
    })
    .await;
    builder()
        .table(&table)
        .connect()
        .await
        .unwrap()
        .drop_table()
        .await
        .unwrap();
}
