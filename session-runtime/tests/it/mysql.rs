//! The MySQL store (MariaDB) against a real server (`SESSION_TEST_MYSQL_URL`, started by
//! `tests/run-all.sh`): the dialect-generic tests of [`crate::dialect`], and the
//! `max_allowed_packet` check only MySQL has.

use session_runtime::spec::settings::{Backend, DatabaseBackend};
use session_runtime::store::database::DieselStoreBuilder;
use session_runtime::store::mysql::{Mysql, MysqlStore};

use crate::db::{self, ServerLock};
use crate::dialect::{Server, builder, dialect_tests};

static SERVER: ServerLock = ServerLock::const_new(());

/// The MariaDB test server.
struct Maria;

impl Server for Maria {
    type Dialect = Mysql;
    const NAME: &'static str = "mysql";
    const URL: &'static str = "SESSION_TEST_MYSQL_URL";
    const CTL: &'static str = "SESSION_TEST_MYSQL_CTL";
    const TZ_KIRITIMATI: &'static str = "SET time_zone = 'Pacific/Kiritimati'";
    const TZ_UTC: &'static str = "SET time_zone = '+00:00'";

    fn lock() -> &'static ServerLock {
        &SERVER
    }

    fn builder_at(url: String) -> DieselStoreBuilder<Mysql> {
        MysqlStore::builder(url)
    }

    fn dead_url(port: u16) -> String {
        format!("mysql://app:hunter2-secret@127.0.0.1:{port}/app")
    }

    fn backend(database: DatabaseBackend) -> Backend {
        Backend::Mysql(database)
    }

    fn select_bytes(select: &str) -> Vec<Vec<u8>> {
        use diesel::{Connection, RunQueryDsl};
        let mut conn =
            diesel::MysqlConnection::establish(&db::env_url(Self::URL)).expect("connect");
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Binary>(select))
            .load::<Vec<u8>>(&mut conn)
            .expect("read the table")
    }

    fn row_and_payload_sql(table: &str) -> (String, String) {
        (
            format!(
                "CONCAT(LOWER(HEX(id)), ' | ', expires_at, ' | v', version, ' | ', LOWER(HEX(payload))) FROM `{table}`"
            ),
            format!("payload FROM `{table}`"),
        )
    }
}

dialect_tests!(Maria);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cap_above_max_allowed_packet_is_refused() {
    let _server = SERVER.read().await;
    match builder::<Maria>().max_payload(1 << 30).connect().await {
        Err(session_runtime::StoreError::Config(message)) => {
            assert!(message.contains("max_allowed_packet"), "{message}");
            assert!(
                !message.contains(&db::env_url(Maria::URL)),
                "the URL must not appear: {message}"
            );
        }
        other => panic!("a 1 GiB cap on a 16 MiB `max_allowed_packet` gave {other:?}"),
    }
}
