//! Start-up overrides of the compiled-in policy.
//!
//! A schema's [`SessionSchema::settings`] is the policy
//! written in the spec or the derive. A deployment may override it at start-up, in this
//! order: a TOML file (the same keys as the spec's settings, Nexios names accepted), then
//! `SESSION_*` environment variables. The result is checked with
//! [`Settings::problems`] before any request is served.
//!
//! | variable | setting | example |
//! |---|---|---|
//! | `SESSION_COOKIE_NAME` | `cookie_name` | `sid` |
//! | `SESSION_SECURE` (`SESSION_COOKIE_SECURE`) | `secure` | `false` |
//! | `SESSION_HTTP_ONLY` (`SESSION_HTTPONLY`, `SESSION_COOKIE_HTTPONLY`) | `http_only` | `true` |
//! | `SESSION_SAME_SITE` | `same_site` | `strict`, `lax`, `none` |
//! | `SESSION_PATH` | `path` | `/app` |
//! | `SESSION_DOMAIN` | `domain` (empty: host-only) | `example.com` |
//! | `SESSION_PREFIX` | `prefix` (empty: none) | `host`, `secure` |
//! | `SESSION_PARTITIONED` | `partitioned` | `true` |
//! | `SESSION_EXPIRATION_TIME` | `expiration_time` | `30` (minutes), `2s`, `12h` |
//! | `SESSION_PERMANENT` | `permanent` | `true` |
//! | `SESSION_REFRESH_EACH_REQUEST` | `refresh_each_request` | `true` |
//! | `SESSION_IDLE_TIMEOUT` | `idle_timeout` (empty: none) | `15m` |
//! | `SESSION_ABSOLUTE_TIMEOUT` | `absolute_timeout` (empty: none) | `12h` |
//! | `SESSION_ROTATION_INTERVAL` | `rotation_interval` (empty: none) | `1h` |
//! | `SESSION_ROTATION_GRACE` | `rotation_grace` | `30s`, `0s` |
//! | `SESSION_COOKIE_MODE` | `cookie_mode` | `signed`, `encrypted` |
//! | `SESSION_BACKEND` | `backend.type` | `cookie`, `memory`, `file`, `postgres`, `mysql`, `redis` |
//! | `SESSION_FILE_DIR` | `backend.dir` (file backend) | `/var/lib/app/sessions` |
//! | `SESSION_FILE_DURABILITY` | `backend.durability` (file backend) | `group`, `fsync`, `none` |
//! | `SESSION_KEY_FILE` | `keys.file` | `/run/secrets/session-keys` |
//! | `SESSION_REVOCATION_STORE` | `revocation_store` (cookie backend; empty: none) | `memory`, `/var/lib/app/revoked` (a file store's directory) |
//! | `SESSION_MAX_SESSIONS` | `max_sessions` (`none` or empty: no limit) | `5`, `none` |
//!
//! Besides these, the process may hold `SESSION_CONFIG` (the settings file,
//! [`SessionManager::from_env`](crate::SessionManager::from_env)), the key variables the
//! settings name (`keys.env`, `SESSION_KEY` by default, and `keys.fallback_env`), and
//! [`SESSION_EPHEMERAL_KEY`](crate::keys::EPHEMERAL_SWITCH), the development switch.
//! `SESSION_MANAGER` (set by X11 desktop sessions) is not ours and is ignored.
//!
//! **Any other `SESSION_*` name stops the start** ([`ConfigError::UnknownVar`], with the
//! closest known name as a suggestion): a misspelt override (`SESSION_SECUR=false`) would
//! otherwise leave the policy weaker than intended without anyone noticing. So does a
//! `SESSION_*` variable whose name or value is not valid UTF-8
//! ([`ConfigError::NotUnicode`]), and a settings file larger than
//! [`MAX_SETTINGS_FILE`] ([`ConfigError::TooLarge`]).
//!
//! ```
//! use session_runtime::config;
//! use session_runtime::Settings;
//! let mut settings = Settings::default();
//! config::apply_vars(&mut settings, [("SESSION_EXPIRATION_TIME", "2s"), ("SESSION_SECURE", "false")])
//!     .unwrap();
//! assert_eq!(settings.expiration_time.as_seconds(), 2);
//! assert!(!settings.secure);
//! config::apply_toml(&mut settings, "session_cookie_name = \"sid\"\npermanent = true").unwrap();
//! assert_eq!(settings.cookie_name, "sid");
//! assert!(settings.permanent);
//! assert!(config::check(&settings).is_ok());
//! ```

use std::path::{Path, PathBuf};

use crate::schema::SessionSchema;
use session_spec::{
    Backend, CookieMode, CookiePrefix, DatabaseBackend, FileDurability, Lifetime, RedisBackend,
    SameSite, Settings, SettingsProblem,
};

/// An invalid override or an invalid resulting policy.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The settings file could not be read.
    #[error("cannot read settings file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The settings file is not valid TOML or holds an unknown key or a wrong value.
    #[error("invalid settings file{}: {message}", .path.as_ref().map(|p| format!(" `{}`", p.display())).unwrap_or_default())]
    Toml {
        /// The file, if any.
        path: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// An environment variable holds a value its setting cannot take.
    #[error("invalid `{var}={value}`: expected {expected}")]
    Env {
        /// The variable.
        var: String,
        /// Its value.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// A `SESSION_*` variable that no setting, key or switch uses (a typo, or a setting
    /// of another version).
    #[error("unknown session variable `{var}`{}; remove it or fix its name", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownVar {
        /// The variable.
        var: String,
        /// The closest known name, if any is close.
        suggestion: Option<String>,
    },
    /// A `SESSION_*` variable's name or value is not valid UTF-8.
    #[error("session variable `{var}` is not valid UTF-8")]
    NotUnicode {
        /// The variable (its name, lossily converted).
        var: String,
    },
    /// The settings file is larger than [`MAX_SETTINGS_FILE`].
    #[error("settings file `{path}` is larger than {max} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        max: u64,
    },
    /// The resulting policy breaks a cross-cutting rule.
    #[error("invalid session settings: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Problems(Vec<SettingsProblem>),
    /// The cookie backend was chosen (at build time or by a start-up override such as
    /// `SESSION_BACKEND=cookie`) for a schema whose rules allow a cookie larger than
    /// browsers keep.
    #[error(
        "the cookie backend cannot hold session `{schema}`: its rules allow a cookie of {bytes} bytes \
         (name and sealed value, {data} bytes of data), {} over the {max} bytes browsers keep; \
         keep the data server-side (`SESSION_BACKEND=memory`, `file`, `postgres` or `mysql`) or \
         bound its fields tighter (`session-spec check --explain` shows what each one takes)",
        .bytes - .max
    )]
    CookieBudget {
        /// The schema's name.
        schema: &'static str,
        /// The largest cookie (name and value) the schema allows with these settings.
        bytes: usize,
        /// The largest session data (binary payload) the schema allows.
        data: usize,
        /// What browsers keep ([`session_spec::budget::MAX_COOKIE_BYTES`]).
        max: usize,
    },
}

/// Result alias of this module.
pub type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// The compiled-in `settings`, overridden by the TOML `file` (if given), then by the
/// process's `SESSION_*` variables, then checked.
///
/// # Errors
/// An unreadable or invalid file, an invalid variable, or a resulting policy with
/// [problems](Settings::problems).
pub fn load(settings: Settings, file: Option<&Path>) -> Result<Settings> {
    load_with(settings, file, std::env::vars_os())
}

/// [`load`] with the environment given as `vars` (all of it, or only the `SESSION_*`
/// variables) instead of read from the process: what tests use, since changing the
/// environment of a threaded program is unsafe.
///
/// # Errors
/// As [`load`].
///
/// ```
/// use session_runtime::config::{self, ConfigError};
/// use session_runtime::Settings;
/// let vars = [("SESSION_SECUR".into(), "false".into())];
/// let err = config::load_with(Settings::default(), None, vars).unwrap_err();
/// assert!(matches!(&err, ConfigError::UnknownVar { var, .. } if var == "SESSION_SECUR"));
/// assert!(err.to_string().contains("did you mean `SESSION_SECURE`?"));
/// ```
pub fn load_with<I>(settings: Settings, file: Option<&Path>, vars: I) -> Result<Settings>
where
    I: IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
{
    let mut settings = settings;
    if let Some(path) = file {
        apply_toml_file(&mut settings, path)?;
    }
    apply_os_vars(&mut settings, vars)?;
    check(&settings)?;
    Ok(settings)
}

/// Checks the cross-cutting rules of `settings`.
///
/// # Errors
/// [`ConfigError::Problems`] listing every problem found.
pub fn check(settings: &Settings) -> Result<()> {
    let problems = settings.problems();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Problems(problems))
    }
}

/// Checks that the largest cookie schema `S` allows (its
/// [`COOKIE_DATA_BYTES`](SessionSchema::COOKIE_DATA_BYTES), sealed after `settings`' cookie
/// mode, under its cookie name) fits what browsers keep. The build refuses such a schema
/// on the cookie backend; this refuses it when the backend, the cookie name or the mode is
/// chosen at start-up. A schema whose size cannot be proven (a field without a bound, or
/// [`Dynamic`](crate::Dynamic)) passes; its build warned.
///
/// # Errors
/// [`ConfigError::CookieBudget`] with the numbers.
///
/// ```
/// use session_runtime::{config, Dynamic, Settings};
/// assert!(config::check_cookie_budget::<Dynamic>(&Settings::default()).is_ok());
/// ```
pub fn check_cookie_budget<S: SessionSchema>(settings: &Settings) -> Result<()> {
    use session_spec::budget::{MAX_COOKIE_BYTES, Overhead};
    let Some(data) = S::COOKIE_DATA_BYTES else {
        return Ok(());
    };
    let bytes = Overhead::cookie_bytes(
        settings.full_cookie_name().len(),
        settings.cookie_mode,
        S::VERSION,
        data,
    );
    if bytes <= MAX_COOKIE_BYTES {
        Ok(())
    } else {
        Err(ConfigError::CookieBudget {
            schema: S::NAME,
            bytes,
            data,
            max: MAX_COOKIE_BYTES,
        })
    }
}

/// The largest settings file read: 1 MiB (a settings file is a few hundred bytes; a
/// larger one is a mistake, such as a device or a log file given by accident).
pub const MAX_SETTINGS_FILE: u64 = 1024 * 1024;

/// Overrides `settings` with the keys present in the TOML file at `path`, at most
/// [`MAX_SETTINGS_FILE`] bytes.
///
/// # Errors
/// See [`apply_toml`]; also [`ConfigError::Io`], [`ConfigError::TooLarge`].
pub fn apply_toml_file(settings: &mut Settings, path: &Path) -> Result<()> {
    use std::io::Read as _;
    let io = |source| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_SETTINGS_FILE + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_SETTINGS_FILE {
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
            max: MAX_SETTINGS_FILE,
        });
    }
    apply_toml(settings, &text).map_err(|e| match e {
        ConfigError::Toml { message, .. } => ConfigError::Toml {
            path: Some(path.to_owned()),
            message,
        },
        other => other,
    })
}

/// Overrides `settings` with the keys present in `text` (TOML; keys absent from it keep
/// their value). Tables (`backend`, `keys`) replace the whole table.
///
/// # Errors
/// [`ConfigError::Toml`]: invalid TOML, an unknown key, a wrong value.
pub fn apply_toml(settings: &mut Settings, text: &str) -> Result<()> {
    let toml_err = |message: String| ConfigError::Toml {
        path: None,
        message,
    };
    let overlay: toml::Table = toml::from_str(text).map_err(|e| toml_err(e.to_string()))?;
    let base = serde_json::to_value(&*settings).map_err(|e| toml_err(e.to_string()))?;
    let serde_json::Value::Object(mut base) = base else {
        return Err(toml_err("settings did not serialize to a table".to_owned()));
    };
    for (key, value) in overlay {
        // The Nexios names, the one table the spec's parser uses too.
        let key = session_spec::KEY_ALIASES
            .iter()
            .find(|(alias, _)| *alias == key)
            .map_or(key.clone(), |(_, canonical)| (*canonical).to_owned());
        let value = serde_json::to_value(value).map_err(|e| toml_err(e.to_string()))?;
        base.insert(key, value);
    }
    *settings = serde_json::from_value(serde_json::Value::Object(base))
        .map_err(|e| toml_err(e.to_string()))?;
    Ok(())
}

/// Overrides `settings` with the process's `SESSION_*` environment variables.
///
/// # Errors
/// See [`apply_os_vars`].
pub fn apply_env(settings: &mut Settings) -> Result<()> {
    apply_os_vars(settings, std::env::vars_os())
}

/// Overrides `settings` with the `SESSION_*` variables among `vars` (other names are
/// ignored), after checking every `SESSION_*` name (see the [module docs](self)).
///
/// # Errors
/// [`ConfigError::UnknownVar`], [`ConfigError::NotUnicode`], and as [`apply_vars`].
pub fn apply_os_vars<I>(settings: &mut Settings, vars: I) -> Result<()>
where
    I: IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
{
    let mut found = Vec::new();
    for (name, value) in vars {
        if !name.as_encoded_bytes().starts_with(b"SESSION_") {
            continue;
        }
        let Some(name) = name.to_str().map(str::to_owned) else {
            return Err(ConfigError::NotUnicode {
                var: name.to_string_lossy().into_owned(),
            });
        };
        if IGNORED.contains(&name.as_str()) {
            continue;
        }
        let Some(value) = value.to_str().map(str::to_owned) else {
            return Err(ConfigError::NotUnicode { var: name });
        };
        found.push((name, value));
    }
    found.sort();
    for (name, _) in &found {
        check_name(settings, name)?;
    }
    found.retain(|(name, _)| known(name));
    apply_vars(settings, found)
}

/// Whether `name` is one of the settings' variables ([`VARS`]).
fn known(name: &str) -> bool {
    VARS.iter().any(|(known, _)| *known == name)
}

/// `SESSION_*` names set by other software, never ours.
const IGNORED: &[&str] = &["SESSION_MANAGER"];

/// Names the process may hold besides the settings of [`VARS`].
const OTHER_NAMES: &[&str] = &[CONFIG_FILE_VAR, crate::keys::EPHEMERAL_SWITCH];

/// The variable naming the settings file ([`load`]).
pub(crate) const CONFIG_FILE_VAR: &str = "SESSION_CONFIG";

/// Refuses a `SESSION_*` name that is neither a setting, nor a key variable of `settings`,
/// nor one of [`OTHER_NAMES`].
fn check_name(settings: &Settings, name: &str) -> Result<()> {
    let is_key = *name == settings.keys.env || settings.keys.fallback_env.iter().any(|v| v == name);
    if is_key || known(name) || OTHER_NAMES.contains(&name) {
        return Ok(());
    }
    let candidates = VARS
        .iter()
        .map(|(known, _)| known)
        .chain(OTHER_NAMES)
        .copied()
        .chain(std::iter::once(settings.keys.env.as_str()))
        .chain(settings.keys.fallback_env.iter().map(String::as_str));
    let suggestion = candidates
        .map(|known| (edit_distance(name, known), known))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, known)| known.to_owned());
    Err(ConfigError::UnknownVar {
        var: name.to_owned(),
        suggestion,
    })
}

/// The Levenshtein distance between two names (short ASCII strings).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Overrides `settings` with the given `SESSION_*` variables (the testable half of
/// [`apply_env`]); other names are ignored.
///
/// # Errors
/// [`ConfigError::Env`] naming the first variable whose value its setting cannot take.
pub fn apply_vars<I, K, V>(settings: &mut Settings, vars: I) -> Result<()>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut vars: Vec<(K, V)> = vars.into_iter().collect();
    // The backend first, so that `SESSION_FILE_DIR` finds the file backend it refines.
    vars.sort_by_key(|(k, _)| k.as_ref() != "SESSION_BACKEND");
    for (var, value) in vars {
        apply_var(settings, var.as_ref(), value.as_ref())?;
    }
    Ok(())
}

fn apply_var(s: &mut Settings, var: &str, value: &str) -> Result<()> {
    let Some((_, apply)) = VARS.iter().find(|(name, _)| *name == var) else {
        return Ok(());
    };
    apply(s, value.trim()).map_err(|expected| ConfigError::Env {
        var: var.to_owned(),
        value: value.to_owned(),
        expected,
    })
}

/// What a variable's (trimmed) value does to the settings; `Err` says what the value
/// should have been.
type Apply = fn(&mut Settings, &str) -> Parsed<()>;

/// A value's parser: `Err` says what the value should have been.
type Parsed<T> = std::result::Result<T, &'static str>;

/// The [`Apply`] that parses the value with `$parse` and stores it in `$field`.
macro_rules! set {
    ($($field:ident).+ = $parse:expr) => {
        |s, v| {
            s.$($field).+ = $parse(v)?;
            Ok(())
        }
    };
}

/// The variables [`apply_vars`] understands, each with what it sets: the one list that both
/// the name check ([`check_name`]) and the overrides read.
const VARS: &[(&str, Apply)] = &[
    ("SESSION_COOKIE_NAME", set!(cookie_name = text)),
    ("SESSION_SECURE", set!(secure = boolean)),
    ("SESSION_COOKIE_SECURE", set!(secure = boolean)),
    ("SESSION_HTTP_ONLY", set!(http_only = boolean)),
    ("SESSION_HTTPONLY", set!(http_only = boolean)),
    ("SESSION_COOKIE_HTTPONLY", set!(http_only = boolean)),
    ("SESSION_SAME_SITE", set!(same_site = same_site)),
    ("SESSION_PATH", set!(path = text)),
    ("SESSION_DOMAIN", set!(domain = optional_text)),
    ("SESSION_PREFIX", set!(prefix = cookie_prefix)),
    ("SESSION_PARTITIONED", set!(partitioned = boolean)),
    ("SESSION_EXPIRATION_TIME", set!(expiration_time = lifetime)),
    ("SESSION_PERMANENT", set!(permanent = boolean)),
    (
        "SESSION_REFRESH_EACH_REQUEST",
        set!(refresh_each_request = boolean),
    ),
    (
        "SESSION_IDLE_TIMEOUT",
        set!(idle_timeout = optional_lifetime),
    ),
    (
        "SESSION_ABSOLUTE_TIMEOUT",
        set!(absolute_timeout = optional_lifetime),
    ),
    (
        "SESSION_ROTATION_INTERVAL",
        set!(rotation_interval = optional_lifetime),
    ),
    ("SESSION_ROTATION_GRACE", set!(rotation_grace = lifetime)),
    ("SESSION_COOKIE_MODE", set!(cookie_mode = cookie_mode)),
    ("SESSION_BACKEND", set_backend),
    ("SESSION_FILE_DIR", |s, v| match &mut s.backend {
        Backend::File { dir, .. } => {
            *dir = PathBuf::from(v);
            Ok(())
        }
        _ => Err("a directory, with the file backend selected"),
    }),
    ("SESSION_FILE_DURABILITY", |s, v| {
        let expected = "`group`, `fsync` or `none`, with the file backend selected";
        let Backend::File { durability, .. } = &mut s.backend else {
            return Err(expected);
        };
        *durability = match v.to_ascii_lowercase().as_str() {
            "fsync" => FileDurability::Fsync,
            "group" => FileDurability::Group,
            "none" => FileDurability::None,
            _ => return Err(expected),
        };
        Ok(())
    }),
    ("SESSION_KEY_FILE", set!(keys.file = optional_path)),
    (
        "SESSION_REVOCATION_STORE",
        set!(revocation_store = revocation_store),
    ),
    ("SESSION_MAX_SESSIONS", set!(max_sessions = max_sessions)),
];

fn text(v: &str) -> Parsed<String> {
    Ok(v.to_owned())
}

/// Empty: none.
fn optional_text(v: &str) -> Parsed<Option<String>> {
    Ok((!v.is_empty()).then(|| v.to_owned()))
}

/// Empty: none.
fn optional_path(v: &str) -> Parsed<Option<PathBuf>> {
    Ok((!v.is_empty()).then(|| PathBuf::from(v)))
}

fn same_site(v: &str) -> Parsed<SameSite> {
    match v.to_ascii_lowercase().as_str() {
        "strict" => Ok(SameSite::Strict),
        "lax" => Ok(SameSite::Lax),
        "none" => Ok(SameSite::None),
        _ => Err("`strict`, `lax` or `none`"),
    }
}

fn cookie_prefix(v: &str) -> Parsed<Option<CookiePrefix>> {
    match v.to_ascii_lowercase().as_str() {
        "" | "none" => Ok(None),
        "host" | "__host-" => Ok(Some(CookiePrefix::Host)),
        "secure" | "__secure-" => Ok(Some(CookiePrefix::Secure)),
        _ => Err("`host`, `secure` or nothing"),
    }
}

fn cookie_mode(v: &str) -> Parsed<CookieMode> {
    match v.to_ascii_lowercase().as_str() {
        "signed" => Ok(CookieMode::Signed),
        "encrypted" => Ok(CookieMode::Encrypted),
        _ => Err("`signed` or `encrypted`"),
    }
}

/// Empty: none; `memory`; anything else is a file store's directory.
fn revocation_store(v: &str) -> Parsed<Option<Backend>> {
    Ok(match v {
        "" => None,
        "memory" => Some(Backend::Memory),
        dir => Some(Backend::File {
            dir: PathBuf::from(dir),
            encrypt: false,
            durability: Default::default(),
        }),
    })
}

/// `none` (or empty) lifts the limit: a deployment moving to a backend that cannot count
/// sessions (the cookie backend, the Redis store) says so explicitly.
fn max_sessions(v: &str) -> Parsed<Option<u32>> {
    match v.to_ascii_lowercase().as_str() {
        "" | "none" => Ok(None),
        n => n
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or("a count of at least 1, or `none`"),
    }
}

fn set_backend(s: &mut Settings, v: &str) -> Parsed<()> {
    s.backend = match v.to_ascii_lowercase().as_str() {
        "cookie" => Backend::Cookie,
        "memory" => Backend::Memory,
        "file" => match &s.backend {
            Backend::File { .. } => s.backend.clone(),
            _ => Backend::File {
                dir: PathBuf::from("sessions"),
                encrypt: false,
                durability: Default::default(),
            },
        },
        "postgres" => Backend::Postgres(DatabaseBackend::default()),
        "mysql" => Backend::Mysql(DatabaseBackend::default()),
        "redis" => match &s.backend {
            Backend::Redis(_) => s.backend.clone(),
            _ => Backend::Redis(RedisBackend::default()),
        },
        _ => return Err("`cookie`, `memory`, `file`, `postgres`, `mysql` or `redis`"),
    };
    Ok(())
}

const BOOL: &str = "`true` or `false`";
const LIFETIME: &str = "minutes as an integer, or a number with a unit (`90s`, `30m`, `12h`, `7d`)";
const OPT_LIFETIME: &str =
    "minutes as an integer, a number with a unit (`90s`, `30m`, `12h`), or nothing for none";

fn boolean(v: &str) -> Parsed<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(BOOL),
    }
}

fn lifetime(v: &str) -> Parsed<Lifetime> {
    v.parse().map_err(|_| LIFETIME)
}

fn optional_lifetime(v: &str) -> Parsed<Option<Lifetime>> {
    if v.is_empty() || v.eq_ignore_ascii_case("none") {
        Ok(None)
    } else {
        v.parse().map(Some).map_err(|_| OPT_LIFETIME)
    }
}

#[cfg(test)]
mod tests {
    use super::VARS;

    /// The module docs' table of variables (its first column, aliases in brackets) names
    /// exactly the variables of [`VARS`].
    #[test]
    fn the_documented_variables_are_exactly_the_applied_ones() {
        let mut documented: Vec<&str> = include_str!("config.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! | `SESSION_"))
            .flat_map(|row| {
                let first_column = row.split(" | ").next().unwrap_or_default();
                format!("`SESSION_{first_column}")
                    .split('`')
                    .filter(|name| name.starts_with("SESSION_"))
                    .map(|name| {
                        VARS.iter()
                            .find(|(v, _)| *v == name)
                            .map_or("?", |(v, _)| *v)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        documented.sort_unstable();
        let mut applied: Vec<&str> = VARS.iter().map(|(name, _)| *name).collect();
        applied.sort_unstable();
        assert_eq!(documented, applied);
    }
}
