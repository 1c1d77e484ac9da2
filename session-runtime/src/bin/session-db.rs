//! `session-db`: operations on the session stores, for deployments and support staff.
//!
//! ```text
//! session-db migrate --backend postgres --url-env DATABASE_URL --table sessions
//! session-db purge   --backend mysql    --url-env DATABASE_URL --table sessions --batch 1000
//! session-db sql     --backend postgres --table sessions        # print the migration SQL
//!
//! session-db sessions list         --backend postgres --principal ada
//! session-db sessions end          --backend file --dir /var/lib/shop/sessions --principal ada --handle 0123...
//! session-db sessions end-all      --backend redis --prefix shop --principal ada
//! session-db sessions end-everyone --backend mysql --yes
//! session-db revoke --backend file --dir /var/lib/shop/revoked --schema Shop --expiration-time 30m --principal ada
//! ```
//!
//! `sessions` works on every store that keeps the active-sessions index (a spec that
//! declares `principal = "..."`): PostgreSQL, MySQL, Redis and the file store. It lists a
//! principal's sessions (an opaque handle, created, last seen, expires; never the session
//! id), ends one by its handle, ends all of a principal's, or ends every session of the
//! store. `revoke` is for the cookie backend, which keeps no sessions on the server: in its
//! `revocation_store` it raises the principal's "not valid before" time, so every cookie
//! of the principal issued up to now is refused at its next request.
//!
//! They go through the same code as the application ([`StoreSessions`], the functions
//! behind `SessionManager::sessions_of` and its kin): the index stays consistent, and a
//! session ended while one of its requests is in flight never comes back.
//!
//! The file store is in this command too (`--backend file --dir ...`), not in a sibling:
//! support staff learn one tool, and every store answers the same subcommands with the
//! same output. Secrets never go on the command line, where other users could see them:
//! database and Redis URLs come from the environment variable `--url-env` names, and the
//! session keys (the file store authenticates its records with them; `--encrypt` stores
//! seal them) from `--key-env` (`SESSION_KEY` by default, as the applications read them),
//! `--key-fallback-env` or `--key-file`.
//!
//! Exit codes: `0` done; `1` the store failed or could not be opened (unreachable server,
//! missing URL or keys, wrong directory); `2` wrong command line (including `end-everyone`
//! without `--yes`); `3` `sessions end` found no live session of the principal under that
//! handle (ended already, or never there).
//!
//! Built with the `db-cli` feature; the database and Redis backends need their features
//! too (`postgres`, `mysql`, `redis`):
//!
//! ```text
//! cargo install --path session-runtime --features db-cli,postgres    # or db-cli,mysql,redis, ...
//! session-db --version
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use session_runtime::keys::{KeyError, Keys};
use session_runtime::manager::{SessionHandle, StoreSessions};
use session_runtime::spec::settings::{
    Backend, DatabaseBackend, FileDurability, KeySource, Lifetime, RedisBackend,
};
use session_runtime::store::{self, OpenOptions, Storage};

/// What the command line may say after `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  the store failed or could not be opened (unreachable server, missing URL or keys)
  2  wrong command line (including `sessions end-everyone` without `--yes`)
  3  `sessions end`: no live session of the principal under that handle";

#[derive(Parser, Debug)]
#[command(
    name = "session-db",
    version,
    about = "operations on the session stores: migrations, purging, and a user's sessions listed and ended",
    after_help = EXIT_CODES
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
    /// Lists and ends sessions, in a store that keeps the active-sessions index (the spec
    /// declares a `principal`).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Revokes every cookie of a principal issued up to now, in a cookie backend's
    /// revocation store (its `revocation_store`): refused from their next request on.
    #[command(after_help = EXIT_CODES)]
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// Whose cookies (the value of the spec's `principal` field; an integer in decimal).
        #[arg(long)]
        principal: String,
        /// The application's schema name (the spec's `name`, or the derived struct's).
        #[arg(long)]
        schema: String,
        /// The longest a cookie of the application lives unused: the larger of its
        /// `expiration_time` and `idle_timeout` (`30` minutes, `90s`, `12h`, `7d`); the
        /// revocation is kept that long.
        #[arg(long)]
        expiration_time: Lifetime,
    },
}

#[derive(Subcommand, Debug)]
enum SessionsCommand {
    /// Lists a principal's live sessions, oldest first: handle, created, last seen,
    /// expires (UTC). Never shows a session id.
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Whose sessions (the value of the spec's `principal` field; an integer in decimal).
        #[arg(long)]
        principal: String,
        /// Only the sessions of this schema (the spec's `name`), when the store holds
        /// several applications' sessions.
        #[arg(long)]
        schema: Option<String>,
    },
    /// Ends one of a principal's sessions, named by its handle (from `sessions list`, or
    /// the application's own "active sessions" page).
    #[command(after_help = EXIT_CODES)]
    End {
        #[command(flatten)]
        store: StoreArgs,
        /// Whose session.
        #[arg(long)]
        principal: String,
        /// The session's handle (32 hexadecimal digits).
        #[arg(long)]
        handle: String,
    },
    /// Ends every session of a principal (after a stolen password, say); prints how many.
    #[command(after_help = EXIT_CODES)]
    EndAll {
        #[command(flatten)]
        store: StoreArgs,
        /// Whose sessions.
        #[arg(long)]
        principal: String,
    },
    /// Ends every session in the store, of every user and of none; prints how many
    /// records were removed. Not for a revocation store: it would forget the revocations
    /// (to end every cookie session, replace the session key).
    #[command(after_help = EXIT_CODES)]
    EndEveryone {
        #[command(flatten)]
        store: StoreArgs,
        /// Confirms that every session of the store is to end.
        #[arg(long)]
        yes: bool,
    },
}

/// Which store, as the application's settings describe it.
#[derive(Args, Debug)]
struct StoreArgs {
    /// The store.
    #[arg(long, value_enum)]
    backend: StoreBackend,
    /// The environment variable holding the database or Redis URL
    /// [default: DATABASE_URL, or REDIS_URL for redis].
    #[arg(long)]
    url_env: Option<String>,
    /// The table name (postgres, mysql).
    #[arg(long, default_value = "sessions")]
    table: String,
    /// The key prefix (redis).
    #[arg(long, default_value = "session")]
    prefix: String,
    /// The session directory (file; required there). It must exist.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The store encrypts its records at rest (the settings' `encrypt = true`).
    #[arg(long)]
    encrypt: bool,
    /// The environment variable holding the session key (the file store and `--encrypt`
    /// need the keys).
    #[arg(long, default_value_t = KeySource::default().env)]
    key_env: String,
    /// An environment variable holding an older key still accepted (repeatable).
    #[arg(long)]
    key_fallback_env: Vec<String>,
    /// A file holding the keys (primary on its first line, then fallbacks), instead of
    /// `--key-env`.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StoreBackend {
    Postgres,
    Mysql,
    Redis,
    File,
}

#[derive(Args, Debug)]
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

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// The command line is wrong in a way clap cannot see.
    #[error("{0}")]
    Usage(String),
    /// `sessions end` named no live session.
    #[error(
        "no live session of `{principal}` has the handle `{handle}` (ended already, or never there)"
    )]
    NoSuchSession { principal: String, handle: String },
    /// The key variable is not set.
    #[error(
        "the {backend} store needs the application's session keys: set `{var}` to its key \
         (or name another variable with `--key-env`, or a key file with `--key-file`)"
    )]
    NoKey { backend: &'static str, var: String },
    /// The session keys could not be read.
    #[error("the {backend} store needs the session keys: {source}")]
    Keys {
        backend: &'static str,
        #[source]
        source: KeyError,
    },
    /// The file store's directory is missing.
    #[error("the session directory `{0}` does not exist (the command never creates one)")]
    NoDir(PathBuf),
    /// The store failed.
    #[error(transparent)]
    Session(#[from] session_runtime::Error),
    /// Anything else on the way (a database URL, a table name, a failed start).
    #[error("{0}")]
    Other(String),
}

impl From<session_runtime::StoreError> for CliError {
    fn from(error: session_runtime::StoreError) -> Self {
        Self::Session(error.into())
    }
}

impl CliError {
    /// The documented exit code ([`EXIT_CODES`]).
    fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::NoSuchSession { .. } => 3,
            _ => 1,
        }
    }
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
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Sql { backend, table } => db::sql(backend, &table),
        Command::Migrate(target) => db::with_target(target, None).await,
        Command::Purge { target, batch } => db::with_target(target, Some(batch)).await,
        Command::Sessions(command) => sessions(command).await,
        Command::Revoke {
            store,
            principal,
            schema,
            expiration_time,
        } => {
            let not_before = StoreSessions::new(open(&store).await?)
                .revoke_cookies_of(&schema, &principal, expiration_time.as_seconds())
                .await?;
            println!(
                "revoked the cookies of `{principal}` issued before {not_before} (schema `{schema}`)"
            );
            Ok(())
        }
    }
}

async fn sessions(command: SessionsCommand) -> Result<(), CliError> {
    match command {
        SessionsCommand::List {
            store,
            principal,
            schema,
        } => {
            let mut sessions = StoreSessions::new(open(&store).await?);
            if let Some(schema) = schema {
                sessions = sessions.schema(schema);
            }
            let listed = sessions.sessions_of(&principal).await?;
            let mut out = String::new();
            if listed.is_empty() {
                out.push_str(&format!("no live sessions of `{principal}`\n"));
            } else {
                out.push_str(&format!(
                    "{:<32}  {:<23}  {:<23}  {:<23}\n",
                    "handle", "created", "last seen", "expires"
                ));
                for s in &listed {
                    out.push_str(&format!(
                        "{:<32}  {:<23}  {:<23}  {:<23}\n",
                        s.handle.as_str(),
                        s.created_at.to_string(),
                        s.last_seen.to_string(),
                        s.expires_at.to_string()
                    ));
                }
            }
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
            Ok(())
        }
        SessionsCommand::End {
            store,
            principal,
            handle,
        } => {
            let parsed = SessionHandle::parse(&handle).ok_or_else(|| {
                CliError::Usage(format!(
                    "`{handle}` is not a session handle (32 lower-case hexadecimal digits, as `sessions list` prints them)"
                ))
            })?;
            let store = open(&store).await?;
            if StoreSessions::new(store)
                .end_session_of(&principal, &parsed)
                .await?
            {
                println!("ended the session {handle} of `{principal}`");
                Ok(())
            } else {
                Err(CliError::NoSuchSession { principal, handle })
            }
        }
        SessionsCommand::EndAll { store, principal } => {
            let ended = StoreSessions::new(open(&store).await?)
                .end_all_sessions(&principal)
                .await?;
            println!("ended {ended} sessions of `{principal}`");
            Ok(())
        }
        SessionsCommand::EndEveryone { store, yes } => {
            if !yes {
                return Err(CliError::Usage(
                    "`sessions end-everyone` ends every session of the store: add `--yes` to confirm"
                        .to_owned(),
                ));
            }
            let removed = StoreSessions::new(open(&store).await?)
                .end_every_session()
                .await?;
            println!("ended every session: {removed} records removed");
            Ok(())
        }
    }
}

/// Opens the store as the application does ([`store::open`]), with the keys read as the
/// application reads them when the store needs them.
async fn open(args: &StoreArgs) -> Result<Arc<dyn session_runtime::SessionStore>, CliError> {
    let backend = match args.backend {
        StoreBackend::Postgres | StoreBackend::Mysql => {
            let db = DatabaseBackend {
                url_env: args
                    .url_env
                    .clone()
                    .unwrap_or_else(|| DatabaseBackend::default().url_env),
                table: args.table.clone(),
                encrypt: args.encrypt,
                ..DatabaseBackend::default()
            };
            if matches!(args.backend, StoreBackend::Postgres) {
                Backend::Postgres(db)
            } else {
                Backend::Mysql(db)
            }
        }
        StoreBackend::Redis => Backend::Redis(RedisBackend {
            url_env: args
                .url_env
                .clone()
                .unwrap_or_else(|| RedisBackend::default().url_env),
            prefix: args.prefix.clone(),
            encrypt: args.encrypt,
            ..RedisBackend::default()
        }),
        StoreBackend::File => {
            let dir = args.dir.clone().ok_or_else(|| {
                CliError::Usage("`--backend file` needs `--dir`, the session directory".to_owned())
            })?;
            if !dir.is_dir() {
                return Err(CliError::NoDir(dir));
            }
            Backend::File {
                dir,
                encrypt: args.encrypt,
                durability: FileDurability::default(),
            }
        }
    };
    let mut options = OpenOptions::new();
    if backend.needs_keys() {
        let source = KeySource {
            env: args.key_env.clone(),
            fallback_env: args.key_fallback_env.clone(),
            file: args.key_file.clone(),
        };
        let backend = backend_name(args.backend);
        let keys = Keys::from_source(&source).map_err(|source| match source {
            // The key error's hint (a throw-away development key) cannot read a store.
            KeyError::Missing { var } => CliError::NoKey { backend, var },
            source => CliError::Keys { backend, source },
        })?;
        options = options.keys(keys);
    }
    match store::open(&backend, &options).await? {
        Storage::Server(store) => Ok(store),
        Storage::Cookie => Err(CliError::Other(
            "the cookie backend keeps no sessions on the server".to_owned(),
        )),
    }
}

fn backend_name(backend: StoreBackend) -> &'static str {
    match backend {
        StoreBackend::Postgres => "postgres",
        StoreBackend::Mysql => "mysql",
        StoreBackend::Redis => "redis",
        StoreBackend::File => "file",
    }
}

/// `migrate`, `purge` and `sql`: the database stores' own commands.
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod db {
    use super::{BackendArg, CliError, Target};
    use session_runtime::store::database::{Dialect, DieselStoreBuilder, TableName};
    use session_runtime::{Clock, SessionStore, SystemClock};

    pub(super) fn sql(backend: BackendArg, table: &str) -> Result<(), CliError> {
        let table = TableName::new(table).map_err(|e| CliError::Usage(e.to_string()))?;
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

    pub(super) fn not_built(backend: BackendArg) -> CliError {
        CliError::Other(
            format!("this `session-db` was built without the `{backend:?}` feature").to_lowercase(),
        )
    }

    pub(super) async fn with_target(
        target: Target,
        purge_batch: Option<u32>,
    ) -> Result<(), CliError> {
        let url = std::env::var(&target.url_env).map_err(|_| {
            CliError::Other(format!(
                "the environment variable `{}` (the database URL) is not set",
                target.url_env
            ))
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
    ) -> Result<(), CliError> {
        let builder = builder.table(table).pool_size(1);
        match purge_batch {
            None => {
                let store = builder.connect().await?;
                store.migrate().await?;
                println!("migrated {} table `{table}`", D::NAME);
            }
            Some(batch) => {
                let store = builder.purge_batch(batch).connect().await?;
                let removed = store.purge_expired(SystemClock.now()).await?;
                println!(
                    "purged {removed} expired sessions from {} table `{table}`",
                    D::NAME
                );
            }
        }
        Ok(())
    }
}

/// Without a database feature, the database commands say what to enable.
#[cfg(not(any(feature = "postgres", feature = "mysql")))]
mod db {
    use super::{BackendArg, CliError, Target};

    fn not_built(backend: BackendArg) -> CliError {
        CliError::Other(
            format!("this `session-db` was built without the `{backend:?}` feature").to_lowercase(),
        )
    }

    pub(super) fn sql(backend: BackendArg, _table: &str) -> Result<(), CliError> {
        Err(not_built(backend))
    }

    pub(super) async fn with_target(
        target: Target,
        _purge_batch: Option<u32>,
    ) -> Result<(), CliError> {
        Err(not_built(target.backend))
    }
}
