//! Start-up of the session apps: command line, policy overrides, backend and keys.
//!
//! The order of precedence, lowest first: the policy compiled in from the spec (or the
//! derive), then the TOML file given with `--config FILE`, then `SESSION_*` environment
//! variables (see `session_runtime::config`), then `DATABASE_URL`, which switches a
//! deployment that did not pick a backend explicitly to PostgreSQL (`postgres://...`) or
//! MySQL/MariaDB (`mysql://...`).

use std::path::PathBuf;
use std::sync::Arc;

use session_runtime::config;
use session_runtime::keys::Keys;
use session_runtime::manager::SessionManager;
use session_runtime::spec::{Backend, DatabaseBackend};
use session_runtime::store::{self, OpenOptions, Storage};
use session_runtime::{SessionSchema, Settings, SystemClock};

/// The variable that selects a database backend by its URL.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// How often server-side stores are purged of expired records.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// What went wrong at start-up; printed and the program exits with status 1.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// The `main` of the example programs: logging on ([`crate::logging::init`]), then `run`;
/// its error is printed as `PROGRAM: error: ...` and the exit status is 1.
pub async fn main<E: std::fmt::Display>(
    program: &str,
    run: impl Future<Output = Result<(), E>>,
) -> std::process::ExitCode {
    crate::logging::init();
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The command line shared by the session apps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// `--config FILE`: a TOML file overriding the compiled-in policy.
    pub config: Option<PathBuf>,
}

impl Args {
    /// Parses `args` (without the program name). `--help` prints `usage` and exits.
    ///
    /// # Errors
    /// An unknown argument, or `--config` without a file.
    ///
    /// ```
    /// use examples::setup::Args;
    /// let args = Args::parse(["--config", "prod.toml"].map(String::from), "").unwrap();
    /// assert_eq!(args.config.unwrap().to_str(), Some("prod.toml"));
    /// assert!(Args::parse(["--bogus".to_owned()], "").is_err());
    /// assert!(Args::parse(["--config".to_owned()], "").is_err());
    /// ```
    pub fn parse(args: impl IntoIterator<Item = String>, usage: &str) -> Result<Self, String> {
        let mut out = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--config" | "-c" => {
                    let file = args.next().ok_or("`--config` needs a file")?;
                    out.config = Some(file.into());
                }
                _ if arg.starts_with("--config=") => {
                    out.config = Some(arg["--config=".len()..].into());
                }
                "--help" | "-h" => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}`; try `--help`")),
            }
        }
        Ok(out)
    }
}

/// The policy in force: `S`'s compiled-in settings, the `--config` file (or the one
/// `SESSION_CONFIG` names), `SESSION_*` variables, then `DATABASE_URL` (see the module
/// docs).
///
/// # Errors
/// An invalid override or an invalid resulting policy.
pub fn settings<S: SessionSchema>(args: &Args) -> Result<Settings, StartError> {
    // `--config`, else the file `SESSION_CONFIG` names (as `SessionManager::from_env` does).
    let file = args
        .config
        .clone()
        .or_else(|| std::env::var_os("SESSION_CONFIG").map(PathBuf::from));
    let mut settings = config::load(S::settings(), file.as_deref())?;
    let explicit_backend = std::env::var_os("SESSION_BACKEND").is_some();
    let url = match std::env::var(DATABASE_URL) {
        Ok(url) => Some(url),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("`{DATABASE_URL}` is not valid UTF-8").into());
        }
    };
    if let (false, Some(url)) = (explicit_backend, url) {
        settings.backend = database_backend(&url)?;
    }
    Ok(settings)
}

/// The backend a database URL names.
///
/// # Errors
/// A URL of another scheme.
///
/// ```
/// use examples::setup::database_backend;
/// use session_runtime::spec::Backend;
/// assert!(matches!(database_backend("postgres://u@localhost/db").unwrap(), Backend::Postgres(_)));
/// assert!(matches!(database_backend("mysql://u@localhost/db").unwrap(), Backend::Mysql(_)));
/// assert!(database_backend("redis://localhost").is_err());
/// ```
pub fn database_backend(url: &str) -> Result<Backend, StartError> {
    let options = DatabaseBackend {
        url_env: DATABASE_URL.to_owned(),
        ..DatabaseBackend::default()
    };
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    match scheme {
        "postgres" | "postgresql" => Ok(Backend::Postgres(options)),
        "mysql" | "mariadb" => Ok(Backend::Mysql(options)),
        _ => Err(format!(
            "`{DATABASE_URL}` must start with `postgres://` or `mysql://`, got a `{scheme}` URL"
        )
        .into()),
    }
}

/// A one-line description of the backend, for the start-up banner (no secrets).
pub fn describe(backend: &Backend) -> String {
    match backend {
        Backend::Cookie => "sealed cookie (no server-side storage)".to_owned(),
        Backend::Memory => "in-process memory".to_owned(),
        Backend::File {
            dir,
            encrypt,
            durability,
        } => format!(
            "files in `{}`{}, durability `{}`",
            dir.display(),
            if *encrypt { ", encrypted at rest" } else { "" },
            durability.name()
        ),
        Backend::Postgres(db) => format!(
            "PostgreSQL table `{}` (URL from `{}`)",
            db.table, db.url_env
        ),
        Backend::Mysql(db) => format!("MySQL table `{}` (URL from `{}`)", db.table, db.url_env),
        Backend::Redis(redis) => format!(
            "Redis keys `{}:...` (URL from `{}`){}",
            redis.prefix,
            redis.url_env,
            if redis.encrypt {
                ", encrypted at rest"
            } else {
                ""
            }
        ),
    }
}

/// The session manager for `settings`, on the configured backend. The cookie backend and the
/// file backend need keys: from the environment as configured, or an ephemeral one for a
/// development run with `SESSION_EPHEMERAL_KEY=true` (announced on standard error).
/// Server-side stores get a purge task.
///
/// This is `SessionManager::from_settings` plus the ephemeral-key fallback and the purge
/// task.
///
/// # Errors
/// Unusable keys, a backend that cannot be opened, an invalid policy.
pub async fn manager<S: SessionSchema>(
    settings: Settings,
    program: &str,
) -> Result<SessionManager<S>, StartError> {
    // The cookie backend seals with the keys; the file store authenticates (and, with
    // `encrypt = true`, encrypts) its records with them, as the database and Redis stores
    // encrypt theirs with `encrypt = true`.
    let keys = if settings.backend.needs_keys() {
        Some(crate::keys::load(&settings.keys, program)?)
    } else {
        None
    };
    build(settings, program, keys).await
}

/// Like [`manager`], but the keys are loaded whatever the backend and returned too, for an
/// application that signs more with them (the shop's anonymous CSRF tokens).
///
/// # Errors
/// As [`manager`]; a missing key is an error with every backend.
pub async fn manager_and_keys<S: SessionSchema>(
    settings: Settings,
    program: &str,
) -> Result<(SessionManager<S>, Keys), StartError> {
    let keys = crate::keys::load(&settings.keys, program)?;
    let manager = build(settings, program, Some(keys.clone())).await?;
    Ok((manager, keys))
}

async fn build<S: SessionSchema>(
    settings: Settings,
    program: &str,
    keys: Option<Keys>,
) -> Result<SessionManager<S>, StartError> {
    eprintln!(
        "{program}: sessions stored in {}",
        describe(&settings.backend)
    );
    let mut options = OpenOptions::new();
    if let (false, Some(keys)) = (matches!(settings.backend, Backend::Cookie), &keys) {
        options = options.keys(keys.clone());
    }
    let manager = match (store::open(&settings.backend, &options).await?, keys) {
        // The data travels in the cookie, sealed with the keys.
        (Storage::Cookie, Some(keys)) => {
            // With a declared principal, the cookie backend's revocation store (any
            // server-side store) keeps each user's "not valid before" time.
            let revocation = match &settings.revocation_store {
                Some(backend) => {
                    let options = OpenOptions::new().keys(keys.clone());
                    store::open(backend, &options).await?.store().cloned()
                }
                None => None,
            };
            let manager = SessionManager::cookie(settings, keys)?;
            match revocation {
                Some(store) => manager.with_revocation_store(store),
                None => manager,
            }
        }
        (Storage::Cookie, None) => return Err("the cookie backend needs keys".into()),
        // The cookie carries only the random session id; the data stays on the server.
        (Storage::Server(store), _) => {
            // Expired records are invisible at once; this removes them from the disk or
            // table every few minutes.
            store::spawn_purge_task(Arc::clone(&store), PURGE_EVERY, Arc::new(SystemClock));
            SessionManager::with_store(settings, store)?
        }
    };
    Ok(manager)
}

/// What a shop binary serves, once started: its session manager, the signer of anonymous
/// CSRF tokens, the login throttle, and the bound listener (its URL printed already).
#[derive(Debug)]
pub struct Shop {
    /// The sessions, as the settings and the environment describe them.
    pub manager: SessionManager<crate::shop::Shop>,
    /// Signs the CSRF tokens of visitors without a session, with the session keys.
    pub anonymous: crate::csrf::AnonymousTokens,
    /// The login throttle, its window from `SHOP_LOGIN_WINDOW`.
    pub throttle: crate::shop::throttle::LoginThrottle,
    /// Bound on `127.0.0.1:$PORT` (default 3000).
    pub listener: tokio::net::TcpListener,
}

/// The `--help` text of the shop binaries: `program` serving the shop on `framework`.
pub fn shop_usage(program: &str, framework: &str) -> String {
    format!(
        "\
usage: {program} [--config FILE]

Serves the session shop, on {framework}, on http://127.0.0.1:$PORT/ (default 3000; 0 picks
a free port).

  --config FILE   a TOML file overriding the policy compiled in from
                  examples/shop/session.toml (same keys, Nexios names accepted)

Environment:
  SESSION_KEY               the secret key (`base64:...`, 32 random bytes); required
  SESSION_EPHEMERAL_KEY     `true`: development only, start without SESSION_KEY on a
                            throw-away key (sessions end when the process stops)
  SESSION_*                 policy overrides, e.g. SESSION_EXPIRATION_TIME=2s,
                            SESSION_BACKEND=memory, SESSION_FILE_DIR=/tmp/sessions
  DATABASE_URL              postgres://... or mysql://... stores sessions in that database
                            (needs the `postgres` / `mysql` feature)
  SHOP_LOGIN_WINDOW         the login throttle's window (default 15m; `90s`, `1h`): after
                            5 failed logins a session waits until its window ends
  PORT                      the port to listen on"
    )
}

/// The start-up both shop binaries share (`shop` on axum, `actix_shop` on actix-web),
/// `program` naming the binary in its messages: the command line (`usage` for `--help`,
/// see [`shop_usage`]),
/// the settings and their overrides with a line saying what they are, the login
/// throttle, the manager and the keys, and the listener.
///
/// # Errors
/// A bad argument, setting, key, backend, login window or port, or a port taken.
pub async fn shop(program: &str, usage: &str) -> Result<Shop, StartError> {
    let args = Args::parse(std::env::args().skip(1), usage)?;
    let settings = settings::<crate::shop::Shop>(&args)?;
    eprintln!(
        "{program}: sessions last {} (cookie `{}`, secure={}, same_site={})",
        settings.expiration_time,
        settings.full_cookie_name(),
        settings.secure,
        settings.same_site.as_str(),
    );
    let throttle = crate::shop::throttle::LoginThrottle::from_env()?;
    let (manager, keys) = manager_and_keys::<crate::shop::Shop>(settings, program).await?;
    let anonymous = crate::csrf::AnonymousTokens::new(&keys);
    let port = crate::serve::port_from_env(3000)?;
    let (listener, _) = crate::serve::bind(program, port).await?;
    Ok(Shop {
        manager,
        anonymous,
        throttle,
        listener,
    })
}
