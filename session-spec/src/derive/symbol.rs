//! The names the `#[session(...)]` attribute understands, as constants.
//!
//! They are the keys of the TOML spec format, so that one reference serves both
//! front-ends. Nexios' names are accepted as aliases of the matching container keys.

use std::fmt;

use syn::{Ident, Path};

/// An attribute name.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

/// The attribute itself: `#[session(...)]`.
pub(crate) const SESSION: Symbol = Symbol("session");
/// Doc comments (`///`), carried over to the generated accessors.
pub(crate) const DOC: Symbol = Symbol("doc");

// Container: the schema.
/// The schema version.
pub(crate) const VERSION: Symbol = Symbol("version");
/// The schema name (in a derive it is the struct's name; rejected with an explanation).
pub(crate) const NAME: Symbol = Symbol("name");

// Container: the policy (the keys of `Settings`).
/// `cookie_name = "shop"`
pub(crate) const COOKIE_NAME: Symbol = Symbol("cookie_name");
/// `secure` / `secure = false`
pub(crate) const SECURE: Symbol = Symbol("secure");
/// `http_only` / `http_only = false`
pub(crate) const HTTP_ONLY: Symbol = Symbol("http_only");
/// `same_site = "lax"`
pub(crate) const SAME_SITE: Symbol = Symbol("same_site");
/// `path = "/"`
pub(crate) const PATH: Symbol = Symbol("path");
/// `domain = "example.com"`
pub(crate) const DOMAIN: Symbol = Symbol("domain");
/// `partitioned` (CHIPS)
pub(crate) const PARTITIONED: Symbol = Symbol("partitioned");
/// `prefix = "host"`
pub(crate) const PREFIX: Symbol = Symbol("prefix");
/// `expiration_time = 30` (minutes) or `"90s"`
pub(crate) const EXPIRATION_TIME: Symbol = Symbol("expiration_time");
/// `permanent`
pub(crate) const PERMANENT: Symbol = Symbol("permanent");
/// `refresh_each_request`
pub(crate) const REFRESH_EACH_REQUEST: Symbol = Symbol("refresh_each_request");
/// `idle_timeout = "15m"`
pub(crate) const IDLE_TIMEOUT: Symbol = Symbol("idle_timeout");
/// `absolute_timeout = "12h"`
pub(crate) const ABSOLUTE_TIMEOUT: Symbol = Symbol("absolute_timeout");
/// `rotation_interval = "1h"`
pub(crate) const ROTATION_INTERVAL: Symbol = Symbol("rotation_interval");
/// `rotation_grace = "30s"`
pub(crate) const ROTATION_GRACE: Symbol = Symbol("rotation_grace");
/// `cookie_mode = "signed"`
pub(crate) const COOKIE_MODE: Symbol = Symbol("cookie_mode");
/// `backend = "memory"` or `backend(type = "file", dir = "...")`
pub(crate) const BACKEND: Symbol = Symbol("backend");
/// `keys(env = "...", fallback_env = [...], file = "...")`
pub(crate) const KEYS: Symbol = Symbol("keys");
/// `principal = "user"`
pub(crate) const PRINCIPAL: Symbol = Symbol("principal");
/// `revocation_store = "memory"` or `revocation_store(type = "file", dir = "...")`
pub(crate) const REVOCATION_STORE: Symbol = Symbol("revocation_store");
/// `max_sessions = 5`
pub(crate) const MAX_SESSIONS: Symbol = Symbol("max_sessions");
/// `on_max_sessions = "refuse"`
pub(crate) const ON_MAX_SESSIONS: Symbol = Symbol("on_max_sessions");

/// Every container key, for "did you mean" suggestions.
pub(crate) const CONTAINER: &[Symbol] = &[
    VERSION,
    COOKIE_NAME,
    SECURE,
    HTTP_ONLY,
    SAME_SITE,
    PATH,
    DOMAIN,
    PARTITIONED,
    PREFIX,
    EXPIRATION_TIME,
    PERMANENT,
    REFRESH_EACH_REQUEST,
    IDLE_TIMEOUT,
    ABSOLUTE_TIMEOUT,
    ROTATION_INTERVAL,
    ROTATION_GRACE,
    COOKIE_MODE,
    BACKEND,
    KEYS,
    PRINCIPAL,
    REVOCATION_STORE,
    MAX_SESSIONS,
    ON_MAX_SESSIONS,
];

/// Nexios' names (and `httponly`) and the key each one stands for: the one table of
/// [`crate::settings::KEY_ALIASES`], as symbols.
pub(crate) fn alias(name: &str) -> Option<Symbol> {
    let (_, key) = crate::settings::KEY_ALIASES
        .iter()
        .find(|(a, _)| *a == name)?;
    CONTAINER.iter().copied().find(|s| s.0 == *key)
}

/// The alias names, for suggestions.
pub(crate) fn alias_names() -> impl Iterator<Item = &'static str> {
    crate::settings::KEY_ALIASES.iter().map(|(a, _)| *a)
}

// Names that would put a secret into source code (`secret_key = "..."`) are recognised by
// `crate::ident::looks_secret`, shared with the TOML front-end.

// Inside `backend(...)`.
/// `type = "file"`
pub(crate) const TYPE: Symbol = Symbol("type");
/// `dir = "/var/lib/app/sessions"` (file)
pub(crate) const DIR: Symbol = Symbol("dir");
/// `encrypt` (file, postgres, mysql, redis)
pub(crate) const ENCRYPT: Symbol = Symbol("encrypt");
/// `durability = "group"` (file)
pub(crate) const DURABILITY: Symbol = Symbol("durability");
/// `url_env = "DATABASE_URL"` (postgres, mysql, redis)
pub(crate) const URL_ENV: Symbol = Symbol("url_env");
/// `table = "sessions"` (postgres, mysql)
pub(crate) const TABLE: Symbol = Symbol("table");
/// `max_payload = 1048576` (postgres, mysql, redis)
pub(crate) const MAX_PAYLOAD: Symbol = Symbol("max_payload");
/// `prefix = "shop"` (redis)
pub(crate) const KEY_PREFIX: Symbol = Symbol("prefix");
/// Keys of `backend(...)`.
pub(crate) const BACKEND_KEYS: &[Symbol] = &[
    TYPE,
    DIR,
    ENCRYPT,
    DURABILITY,
    URL_ENV,
    TABLE,
    MAX_PAYLOAD,
    KEY_PREFIX,
];

/// Names that would put a database URL (and its password) into source code.
pub(crate) const URL_NAMES: &[&str] = &["url", "database_url", "uri", "dsn"];

// Inside `keys(...)`.
/// `env = "SESSION_KEY"`
pub(crate) const ENV: Symbol = Symbol("env");
/// `fallback_env = ["OLD_KEY"]`
pub(crate) const FALLBACK_ENV: Symbol = Symbol("fallback_env");
/// `file = "/run/secrets/session"`
pub(crate) const FILE: Symbol = Symbol("file");
/// Keys of `keys(...)`.
pub(crate) const KEYS_KEYS: &[Symbol] = &[ENV, FALLBACK_ENV, FILE];

// Field.
/// `default` or `default = <literal>`
pub(crate) const DEFAULT: Symbol = Symbol("default");
/// `type_default`: the TOML spelling of `default` without a value.
pub(crate) const TYPE_DEFAULT: Symbol = Symbol("type_default");
/// `key = "storage_key"`
pub(crate) const KEY: Symbol = Symbol("key");
/// `sensitive`
pub(crate) const SENSITIVE: Symbol = Symbol("sensitive");
/// `shown`
pub(crate) const SHOWN: Symbol = Symbol("shown");
/// `min = 0`
pub(crate) const MIN: Symbol = Symbol("min");
/// `max = 10`
pub(crate) const MAX: Symbol = Symbol("max");
/// `min_length = 1`
pub(crate) const MIN_LENGTH: Symbol = Symbol("min_length");
/// `max_length = 64`
pub(crate) const MAX_LENGTH: Symbol = Symbol("max_length");
/// `max_items = 50`
pub(crate) const MAX_ITEMS: Symbol = Symbol("max_items");
/// `max_key_length = 32` (maps)
pub(crate) const MAX_KEY_LENGTH: Symbol = Symbol("max_key_length");
/// `pattern = "[a-z]+"`
pub(crate) const PATTERN: Symbol = Symbol("pattern");
/// `one_of = ["a", "b"]`
pub(crate) const ONE_OF: Symbol = Symbol("one_of");
/// `custom = path::to::check` or `custom = "path::to::check"`
pub(crate) const CUSTOM: Symbol = Symbol("custom");

/// Every field key, for "did you mean" suggestions.
pub(crate) const FIELD: &[Symbol] = &[
    DEFAULT,
    KEY,
    SENSITIVE,
    SHOWN,
    MIN,
    MAX,
    MIN_LENGTH,
    MAX_LENGTH,
    MAX_ITEMS,
    MAX_KEY_LENGTH,
    PATTERN,
    ONE_OF,
    CUSTOM,
];
