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
