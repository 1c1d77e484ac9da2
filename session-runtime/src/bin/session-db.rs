//! `session-db`: migrations and purging for the database session stores.
//!
//! ```text
//! session-db migrate --backend postgres --url-env DATABASE_URL --table sessions
//! session-db purge   --backend mysql    --url-env DATABASE_URL --table sessions --batch 1000
//! session-db sql     --backend postgres --table sessions        # print the migration SQL
//! ```
//!
//! The URL is read from an environment variable (never from the command line, where other
//! users could see it). Built with the `db-cli` feature and at least one of `postgres` and
//! `mysql`:
//!
//! ```text
//! cargo install --path session-runtime --features db-cli,postgres    # or db-cli,mysql, or all three
//! session-db --version
//! ```

#[cfg(not(any(feature = "postgres", feature = "mysql")))]
compile_error!(
    "`session-db` needs a database: build it with `--features db-cli,postgres`, \
     `--features db-cli,mysql`, or both"
);

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use session_runtime::store::database::{Dialect, DieselStoreBuilder, TableName};
use session_runtime::{Clock, SessionStore, SystemClock};

#[derive(Parser, Debug)]
#[command(
    name = "session-db",
    version,
    about = "migrations and purging for the database session stores"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Creates the session table and its index when missing (idempotent).
    Migrate(Target),
    /// Deletes expired sessions, in batches; prints how many.
    Purge {
        #[command(flatten)]
        target: Target,
        /// Rows deleted per statement.
        #[arg(long, default_value_t = 1000)]
        batch: u32,
    },
    /// Prints the migration SQL for the table, for review or for a DBA to run.
    Sql {
        /// The database.
        #[arg(long, value_enum)]
        backend: BackendArg,
        /// The table name.
        #[arg(long, default_value = "sessions")]
        table: String,
    },
}

#[derive(clap::Args, Debug)]
struct Target {
    /// The database.
    #[arg(long, value_enum)]
    backend: BackendArg,
    /// The environment variable holding the database URL.
    #[arg(long, default_value = "DATABASE_URL")]
    url_env: String,
    /// The table name.
    #[arg(long, default_value = "sessions")]
    table: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    Postgres,
    Mysql,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Sql { backend, table } => {
            let table = TableName::new(&table).map_err(|e| e.to_string())?;
            let sql = match backend {
                #[cfg(feature = "postgres")]
                BackendArg::Postgres => session_runtime::store::database::migration_sql::<
                    session_runtime::store::postgres::Postgres,
                >(&table),
                #[cfg(feature = "mysql")]
                BackendArg::Mysql => session_runtime::store::database::migration_sql::<
                    session_runtime::store::mysql::Mysql,
                >(&table),
                #[allow(unreachable_patterns)]
                other => return Err(not_built(other)),
            };
            let mut out = String::new();
            for (name, sql) in sql {
                out.push_str(&format!("-- {name}\n{sql}"));
            }
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
            Ok(())
        }
        Command::Migrate(target) => with_target(target, None).await,
        Command::Purge { target, batch } => with_target(target, Some(batch)).await,
    }
}

fn not_built(backend: BackendArg) -> String {
    format!("this `session-db` was built without the `{backend:?}` feature").to_lowercase()
}

async fn with_target(target: Target, purge_batch: Option<u32>) -> Result<(), String> {
    let url = std::env::var(&target.url_env).map_err(|_| {
        format!(
            "the environment variable `{}` (the database URL) is not set",
            target.url_env
        )
    })?;
    match target.backend {
        #[cfg(feature = "postgres")]
        BackendArg::Postgres => {
            act(
                session_runtime::store::postgres::PostgresStore::builder(url),
                &target.table,
                purge_batch,
            )
            .await
        }
        #[cfg(feature = "mysql")]
        BackendArg::Mysql => {
            act(
                session_runtime::store::mysql::MysqlStore::builder(url),
                &target.table,
                purge_batch,
            )
            .await
        }
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}

async fn act<D: Dialect>(
    builder: DieselStoreBuilder<D>,
    table: &str,
    purge_batch: Option<u32>,
) -> Result<(), String> {
    let builder = builder.table(table).pool_size(1);
    match purge_batch {
        None => {
            let store = builder.connect().await.map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            println!("migrated {} table `{table}`", D::NAME);
        }
        Some(batch) => {
            let store = builder
                .purge_batch(batch)
                .connect()
                .await
                .map_err(|e| e.to_string())?;
            let removed = store
                .purge_expired(SystemClock.now())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "purged {removed} expired sessions from {} table `{table}`",
                D::NAME
            );
        }
    }
    Ok(())
}
