//! The session policy: one serde type shared by the TOML front-end, the derive attributes,
//! the generated code (as compiled-in defaults) and the runtime.
//!
//! Every option of the Nexios session chapter is here and is also accepted under its Nexios
//! name (`session_cookie_name`, `session_cookie_secure`, `session_cookie_httponly`,
//! `session_expiration_time`, `session_permanent`, `session_refresh_each_request`).
//! Defaults are the secure ones: `Secure`, `HttpOnly`, `SameSite=Lax`, a browser-session
//! cookie, encrypted cookie payloads.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The other names serde accepts for [`Settings`] keys, `(alias, key)`: the Nexios names
/// first. The TOML front-end uses this list for suggestions and the JSON Schema lists the
/// aliases as properties, so editors accept them too.
pub const KEY_ALIASES: &[(&str, &str)] = &[
    ("session_cookie_name", "cookie_name"),
    ("session_cookie_secure", "secure"),
    ("session_cookie_httponly", "http_only"),
    ("session_expiration_time", "expiration_time"),
    ("session_permanent", "permanent"),
    ("session_refresh_each_request", "refresh_each_request"),
    ("session_cookie_domain", "domain"),
    ("session_cookie_path", "path"),
    ("session_cookie_samesite", "same_site"),
    ("session_cookie_partitioned", "partitioned"),
    ("session_manager", "backend"),
    ("httponly", "http_only"),
];

/// Browsers ignore a cookie attribute (such as `Path` or `Domain`) whose value is longer
/// than this (RFC 6265bis, section 5.6).
pub const MAX_ATTRIBUTE_BYTES: usize = 1024;

/// The policy of one session: cookie, lifetime, rotation, keys and backend.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Name of the session cookie (Nexios: `session_cookie_name`), without any prefix.
    #[serde(alias = "session_cookie_name")]
    pub cookie_name: String,
    /// Send the cookie over HTTPS only (Nexios: `session_cookie_secure`).
    #[serde(alias = "session_cookie_secure")]
    pub secure: bool,
    /// Hide the cookie from JavaScript (Nexios: `session_cookie_httponly`).
    #[serde(alias = "session_cookie_httponly", alias = "httponly")]
    pub http_only: bool,
    /// The `SameSite` attribute (Nexios: `session_cookie_samesite`).
    #[serde(alias = "session_cookie_samesite")]
    pub same_site: SameSite,
    /// The cookie's `Path` (Nexios: `session_cookie_path`).
    #[serde(alias = "session_cookie_path")]
    pub path: String,
    /// The cookie's `Domain` (Nexios: `session_cookie_domain`); `None` makes a host-only
    /// cookie.
    #[serde(alias = "session_cookie_domain")]
    pub domain: Option<String>,
    /// The `Partitioned` attribute (CHIPS): a third-party cookie kept apart per top-level
    /// site (Nexios: `session_cookie_partitioned`). Requires `secure`.
    #[serde(alias = "session_cookie_partitioned")]
    pub partitioned: bool,
    /// A cookie-name prefix (`__Host-` or `__Secure-`) that browsers enforce.
    pub prefix: Option<CookiePrefix>,
    /// Session lifetime (Nexios: `session_expiration_time`): an integer is minutes; a string
    /// takes a unit (`"90s"`, `"30m"`, `"12h"`, `"7d"`).
    #[serde(alias = "session_expiration_time")]
    pub expiration_time: Lifetime,
    /// `true`: the cookie carries `Max-Age`/`Expires` and outlives the browser;
    /// `false`: a browser-session cookie (Nexios: `session_permanent`). The server enforces
    /// the lifetime either way.
    #[serde(alias = "session_permanent")]
    pub permanent: bool,
    /// Slide the expiry and re-issue the cookie on every request
    /// (Nexios: `session_refresh_each_request`).
    #[serde(alias = "session_refresh_each_request")]
    pub refresh_each_request: bool,
    /// Inactivity limit: the session ends when no request came for this long.
    pub idle_timeout: Option<Lifetime>,
    /// Absolute cap from the session's creation that sliding expiry can never pass.
    pub absolute_timeout: Option<Lifetime>,
    /// Periodic id rotation: a session older than this (since its id was issued) gets a
    /// new id, data kept.
    pub rotation_interval: Option<Lifetime>,
    /// How long the old id of a *periodic* rotation keeps working with a server-side store
    /// (it resolves to the new session and re-issues its cookie), so that requests already
    /// in flight are not logged out; `"0s"` ends it at once. A `cycle()` (privilege change)
    /// and a `destroy()` always end the old id at once.
    pub rotation_grace: Lifetime,
    /// How the cookie backend protects its payload.
    pub cookie_mode: CookieMode,
    /// Where session data lives (Nexios: `session_manager`, `"cookies"` or `"file"`); a
    /// name alone (`"memory"`) stands for a backend without options.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::json_schema::BackendSchema")
    )]
    #[serde(alias = "session_manager", deserialize_with = "backend_or_name")]
    pub backend: Backend,
    /// Where the secret keys come from (never the spec itself).
    pub keys: KeySource,
    /// The field (by its storage key) that says whose session it is, for the "active
    /// sessions" API: a string or integer field, optional for anonymous sessions. The stores
    /// then keep an index from each principal to its live sessions.
    pub principal: Option<String>,
    /// The cookie backend's revocation store (any server-side backend): it keeps, per
    /// principal, a "not valid before" time checked on every load, so that cookie sessions
    /// can be ended although the server keeps no record of them. Required with a
    /// `principal` on the cookie backend, refused otherwise.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::json_schema::BackendSchema>")
    )]
    #[serde(deserialize_with = "optional_backend_or_name")]
    pub revocation_store: Option<Backend>,
    /// The most sessions one principal may have alive at once (parallel logins on other
    /// devices; OWASP ASVS 5.0 V7.1.2); `None`: no limit. Needs a `principal` and a
    /// server-side backend, whose store enforces it in the same atomic step as its index.
    pub max_sessions: Option<u32>,
    /// What a login past `max_sessions` does: end the principal's session closest to its
    /// end (`"end_oldest"`, the default), or refuse the new login (`"refuse"`).
    pub on_max_sessions: OnMaxSessions,
}

/// What a login does when its principal already has `max_sessions` live sessions.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMaxSessions {
    /// The login succeeds and the principal's session closest to its expiry ends: the
    /// oldest one, or with a sliding expiry the one unused for longest (what large sites
    /// do: the newest device wins).
    #[default]
    EndOldest,
    /// The login is refused with an error the application turns into a page ("log out
    /// on another device first"); the existing sessions stay.
    Refuse,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cookie_name: "session".to_owned(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            partitioned: false,
            prefix: None,
            expiration_time: Lifetime::from_minutes(1440),
            permanent: false,
            refresh_each_request: false,
            idle_timeout: None,
            absolute_timeout: None,
            rotation_interval: None,
            // Long enough for the requests in flight at a rotation, short enough that a
            // stolen old id is of little use.
            rotation_grace: Lifetime::from_seconds(30),
            cookie_mode: CookieMode::Encrypted,
            backend: Backend::Cookie,
            keys: KeySource::default(),
            principal: None,
            revocation_store: None,
            max_sessions: None,
            on_max_sessions: OnMaxSessions::EndOldest,
        }
    }
}

impl Settings {
    /// The full cookie name as sent to the browser, prefix included
    /// (`__Host-session`).
    ///
    /// ```
    /// use session_spec::{CookiePrefix, Settings};
    /// let mut s = Settings::default();
    /// assert_eq!(s.full_cookie_name(), "session");
    /// s.prefix = Some(CookiePrefix::Host);
    /// assert_eq!(s.full_cookie_name(), "__Host-session");
    /// ```
    pub fn full_cookie_name(&self) -> String {
        match self.prefix {
            Some(p) => format!("{}{}", p.as_str(), self.cookie_name),
            None => self.cookie_name.clone(),
        }
    }

    /// Checks the cross-cutting rules of a policy and returns every problem found.
    ///
    /// The TOML front-end, the derive and the runtime's start-up overrides all call this one
    /// function, so a policy is judged the same wherever it was written.
    ///
    /// ```
    /// use session_spec::{SameSite, Settings, SettingsProblem};
    /// let mut s = Settings::default();
    /// assert!(s.problems().is_empty());
    /// s.same_site = SameSite::None;
    /// s.secure = false;
    /// assert!(matches!(s.problems()[0], SettingsProblem::SameSiteNoneWithoutSecure));
    /// ```
    pub fn problems(&self) -> Vec<SettingsProblem> {
        let mut out = Vec::new();
        if self.cookie_name.is_empty() || !self.cookie_name.bytes().all(is_token_byte) {
            out.push(SettingsProblem::InvalidCookieName);
        }
        // Browsers match `__Host-` and `__Secure-` case-insensitively: a prefix written
        // into the name by hand escapes the checks of `prefix` and doubles with it.
        if let Some(p) = [CookiePrefix::Host, CookiePrefix::Secure]
            .into_iter()
            .find(|p| {
                self.cookie_name
                    .get(..p.as_str().len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p.as_str()))
            })
        {
            out.push(SettingsProblem::PrefixInCookieName(p));
        }
        if let Some(domain) = &self.domain {
            if let Err(why) = check_domain(domain) {
                out.push(SettingsProblem::InvalidDomain(why));
            }
        }
        // Browsers ignore the `Partitioned` attribute (CHIPS) on a cookie without `Secure`.
        if self.partitioned && !self.secure {
            out.push(SettingsProblem::PartitionedWithoutSecure);
        }
        // Browsers drop `SameSite=None` cookies that are not `Secure`.
        if self.same_site == SameSite::None && !self.secure {
            out.push(SettingsProblem::SameSiteNoneWithoutSecure);
        }
        // The `__Host-` prefix is only honoured for Secure, host-only cookies on `/`.
        if self.prefix == Some(CookiePrefix::Host) {
            if self.domain.is_some() {
                out.push(SettingsProblem::HostPrefixWithDomain);
            }
            if self.path != "/" {
                out.push(SettingsProblem::HostPrefixWithPath);
            }
            if !self.secure {
                out.push(SettingsProblem::PrefixWithoutSecure);
            }
        }
        if self.prefix == Some(CookiePrefix::Secure) && !self.secure {
            out.push(SettingsProblem::PrefixWithoutSecure);
        }
        if !self.path.starts_with('/') {
            out.push(SettingsProblem::InvalidPath);
        } else if !is_attribute_safe(&self.path) {
            out.push(SettingsProblem::UnsafeAttribute("path"));
        } else if self.path.len() > MAX_ATTRIBUTE_BYTES {
            out.push(SettingsProblem::AttributeTooLong("path"));
        }
        if self.expiration_time.as_seconds() <= 0 {
            out.push(SettingsProblem::NonPositive("expiration_time"));
        }
        for (name, value) in [
            ("idle_timeout", self.idle_timeout),
            ("absolute_timeout", self.absolute_timeout),
            ("rotation_interval", self.rotation_interval),
        ] {
            if value.is_some_and(|v| v.as_seconds() <= 0) {
                out.push(SettingsProblem::NonPositive(name));
            }
        }
        if self.rotation_grace.as_seconds() < 0 {
            out.push(SettingsProblem::Negative("rotation_grace"));
        }
        // An idle limit past the absolute cap can never take effect: a typo, most likely.
        if let (Some(idle), Some(abs)) = (self.idle_timeout, self.absolute_timeout) {
            if idle > abs {
                out.push(SettingsProblem::IdleLongerThanAbsolute);
            }
        }
        // The expiry is reached before any idle period that is not shorter than it.
        if let Some(idle) = self.idle_timeout {
            if idle >= self.expiration_time && idle.as_seconds() > 0 {
                out.push(SettingsProblem::IdleNotShorterThanExpiration);
            }
        }
        if let Some(abs) = self.absolute_timeout {
            // A rotation no session lives to see.
            if let Some(rotation) = self.rotation_interval {
                if rotation >= abs && rotation.as_seconds() > 0 {
                    out.push(SettingsProblem::RotationNeverHappens);
                }
            }
        }
        if let Some(max) = self.max_sessions {
            if max == 0 {
                out.push(SettingsProblem::NonPositive("max_sessions"));
            }
            // The limit counts a principal's sessions: without one there is nothing to
            // count. (The cookie backend, which keeps no list of its cookies, is refused by
            // the spec validator and by `SessionManager::cookie`: a manager given its store
            // directly does not go by `backend`.)
            if self.principal.is_none() {
                out.push(SettingsProblem::MaxSessionsWithoutPrincipal);
            }
        }
        out
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `text` can go into a `Set-Cookie` attribute unescaped: printable ASCII without
/// `;`. The runtime writes `Path` and `Domain` with this rule.
pub fn is_attribute_safe(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

/// Why a `Domain` value would be dropped or ignored by browsers, if it would.
fn check_domain(domain: &str) -> Result<(), &'static str> {
    if domain.is_empty() {
        return Err("it is empty (leave `domain` out for a host-only cookie)");
    }
    if domain.contains("://") || domain.contains('/') {
        return Err("expected a host name such as `example.com`, not a URL");
    }
    if domain.contains(':') {
        return Err("a cookie's domain has no port");
    }
    if domain.starts_with('.') {
        return Err(
            "write it without the leading dot: browsers ignore the dot and it reads as a different rule",
        );
    }
    if !domain.is_ascii() {
        return Err("write an internationalised name in its ASCII form (`xn--...`)");
    }
    if domain.len() > 253 {
        return Err("a host name has at most 253 characters");
    }
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !domain.split('.').all(ok_label) {
        return Err("expected dot-separated labels of letters, digits and `-`");
    }
    if !domain.contains('.') && !domain.eq_ignore_ascii_case("localhost") {
        return Err("browsers refuse a cookie for a whole top-level domain");
    }
    Ok(())
}

/// The backend type a `backend` string names, Nexios' `session_manager` values included
/// (`"cookies"` is the `cookie` backend).
pub fn backend_type_name(written: &str) -> &str {
    match written {
        "cookies" => "cookie",
        other => other,
    }
}

/// `backend = "memory"` (a name) or `backend = { type = "file", dir = "..." }`.
fn backend_or_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Backend, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Name(String),
        Full(Backend),
    }
    match Written::deserialize(deserializer)? {
        Written::Full(b) => Ok(b),
        Written::Name(name) => match backend_type_name(&name) {
            "cookie" => Ok(Backend::Cookie),
            "memory" => Ok(Backend::Memory),
            "file" | "postgres" | "mysql" | "redis" => Err(serde::de::Error::custom(format!(
                "the `{name}` backend needs options: write it as a table, e.g. `{{ type = \"file\", dir = \"/var/lib/app/sessions\" }}`"
            ))),
            _ => Err(serde::de::Error::custom(format!(
                "unknown backend `{name}`, expected `cookie`, `memory`, `file`, `postgres`, `mysql` or `redis`"
            ))),
        },
    }
}

/// [`backend_or_name`] for an optional backend.
fn optional_backend_or_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Backend>, D::Error> {
    #[derive(Deserialize)]
    struct Written(#[serde(deserialize_with = "backend_or_name")] Backend);
    Ok(Option::<Written>::deserialize(deserializer)?.map(|w| w.0))
}

/// A problem with a [`Settings`] value as a whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsProblem {
    /// The cookie name is empty or holds characters not allowed in a cookie name.
    #[error("`cookie_name` must be a non-empty token (letters, digits, `-`, `_`, ...)")]
    InvalidCookieName,
    /// `same_site = "none"` without `secure = true`.
    #[error("`same_site = \"none\"` requires `secure = true`: browsers reject it otherwise")]
    SameSiteNoneWithoutSecure,
    /// `__Host-` prefix with a `domain`.
    #[error("the `__Host-` prefix forbids a `domain`")]
    HostPrefixWithDomain,
    /// `__Host-` prefix with a path other than `/`.
    #[error("the `__Host-` prefix requires `path = \"/\"`")]
    HostPrefixWithPath,
    /// A cookie prefix without `secure = true`.
    #[error("the `__Host-` and `__Secure-` prefixes require `secure = true`")]
    PrefixWithoutSecure,
    /// The path does not start with `/`.
    #[error("`path` must start with `/`")]
    InvalidPath,
    /// A lifetime of zero or less; carries the key's name.
    #[error("`{0}` must be greater than zero")]
    NonPositive(&'static str),
    /// A duration below zero; carries the key's name.
    #[error("`{0}` must not be negative")]
    Negative(&'static str),
    /// `idle_timeout` longer than `absolute_timeout`.
    #[error("`idle_timeout` is longer than `absolute_timeout`, so it can never take effect")]
    IdleLongerThanAbsolute,
    /// `idle_timeout` not shorter than `expiration_time`.
    #[error(
        "`idle_timeout` is not shorter than `expiration_time`, so the session always expires first and the idle limit never takes effect"
    )]
    IdleNotShorterThanExpiration,
    /// `expiration_time` longer than `absolute_timeout`. Reported by the spec validator
    /// only when both are written: an absolute cap below the default lifetime is a
    /// common, deliberate way to say "at most this long".
    #[error(
        "`expiration_time` is longer than `absolute_timeout`, so the absolute cap always ends the session first"
    )]
    ExpirationLongerThanAbsolute,
    /// `rotation_interval` not shorter than `absolute_timeout`.
    #[error(
        "`rotation_interval` is not shorter than `absolute_timeout`, so no session lives to be rotated"
    )]
    RotationNeverHappens,
    /// The cookie name starts with a prefix written by hand (in any case).
    #[error(
        "`cookie_name` starts with `{}`: write the name without it and set `prefix = \"{}\"`, which browsers enforce",
        .0.as_str(),
        match .0 { CookiePrefix::Host => "host", CookiePrefix::Secure => "secure" }
    )]
    PrefixInCookieName(CookiePrefix),
    /// A `Domain` browsers would drop or ignore; carries why.
    #[error("invalid `domain`: {0}")]
    InvalidDomain(&'static str),
    /// `partitioned` without `secure`.
    #[error(
        "`partitioned = true` requires `secure = true`: browsers ignore `Partitioned` otherwise"
    )]
    PartitionedWithoutSecure,
    /// An attribute value with a `;` or a character outside printable ASCII.
    #[error(
        "`{0}` holds a `;`, a control or a non-ASCII character, which cannot go into a `Set-Cookie` header"
    )]
    UnsafeAttribute(&'static str),
    /// An attribute value longer than browsers keep.
    #[error("`{0}` is longer than the 1024 bytes browsers keep of a cookie attribute")]
    AttributeTooLong(&'static str),
    /// `max_sessions` without a `principal`.
    #[error(
        "`max_sessions` needs a `principal`: the limit counts each principal's sessions, and none is declared"
    )]
    MaxSessionsWithoutPrincipal,
    /// `max_sessions` on the cookie backend. Not among [`Settings::problems`] (a manager
    /// given its store directly does not go by `backend`): the spec validator reports it,
    /// and the cookie backend's manager refuses it.
    #[error(
        "`max_sessions` needs a server-side backend: the cookie backend keeps no list of its sessions to count (a revocation store keeps only a \"not valid before\" time per principal)"
    )]
    MaxSessionsOnCookieBackend,
}

impl SettingsProblem {
    /// The settings key the problem is best reported at.
    pub fn key(&self) -> &'static str {
        match self {
            Self::InvalidCookieName => "cookie_name",
            Self::SameSiteNoneWithoutSecure => "same_site",
            Self::HostPrefixWithDomain => "domain",
            Self::HostPrefixWithPath => "path",
            Self::PrefixWithoutSecure => "prefix",
            Self::InvalidPath => "path",
            Self::NonPositive(key) | Self::Negative(key) => key,
            Self::IdleLongerThanAbsolute => "idle_timeout",
            Self::IdleNotShorterThanExpiration => "idle_timeout",
            Self::ExpirationLongerThanAbsolute => "expiration_time",
            Self::RotationNeverHappens => "rotation_interval",
            Self::PrefixInCookieName(_) => "cookie_name",
            Self::InvalidDomain(_) => "domain",
            Self::PartitionedWithoutSecure => "partitioned",
            Self::UnsafeAttribute(key) | Self::AttributeTooLong(key) => key,
            Self::MaxSessionsWithoutPrincipal | Self::MaxSessionsOnCookieBackend => "max_sessions",
        }
    }

    /// The other settings key involved in a conflict between two keys, with what to say
    /// beside it (a secondary label).
    pub fn other_key(&self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Self::SameSiteNoneWithoutSecure
            | Self::PrefixWithoutSecure
            | Self::PartitionedWithoutSecure => ("secure", "`secure` is off here"),
            Self::HostPrefixWithDomain | Self::HostPrefixWithPath => {
                ("prefix", "the `__Host-` prefix is set here")
            }
            Self::IdleLongerThanAbsolute | Self::RotationNeverHappens => {
                ("absolute_timeout", "the absolute cap is set here")
            }
            Self::ExpirationLongerThanAbsolute => {
                ("absolute_timeout", "the absolute cap is set here")
            }
            Self::IdleNotShorterThanExpiration => ("expiration_time", "the expiry is set here"),
            Self::MaxSessionsOnCookieBackend => ("backend", "the cookie backend is chosen here"),
            _ => return None,
        })
    }
}

/// The `SameSite` cookie attribute.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    /// Sent on same-site requests only.
    #[serde(alias = "Strict")]
    Strict,
    /// Sent on same-site requests and top-level navigations (the default).
    #[default]
    #[serde(alias = "Lax")]
    Lax,
    /// Sent on every request; requires `secure`.
    #[serde(alias = "None")]
    None,
}

impl SameSite {
    /// The attribute value as written in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// A cookie-name prefix that browsers enforce.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookiePrefix {
    /// `__Host-`: Secure, no Domain, Path `/`.
    #[serde(alias = "__Host-")]
    Host,
    /// `__Secure-`: Secure.
    #[serde(alias = "__Secure-")]
    Secure,
}

impl CookiePrefix {
    /// The prefix text (`__Host-` or `__Secure-`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "__Host-",
            Self::Secure => "__Secure-",
        }
    }
}

/// How the cookie backend protects its payload.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieMode {
    /// HMAC-SHA256: the client can read the data but not change it.
    Signed,
    /// AES-256-GCM: the client can neither read nor change the data (the default).
    #[default]
    Encrypted,
}

/// Where session data lives.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Backend {
    /// The data lives in the cookie itself (signed or encrypted).
    #[default]
    Cookie,
    /// In-process memory; for tests and single-process development.
    Memory,
    /// One file per session in a directory.
    File {
        /// The directory holding session files (created 0700 if missing).
        dir: PathBuf,
        /// Encrypt files at rest with the session keys.
        #[serde(default)]
        encrypt: bool,
        /// When a write reaches the disk (`"none"` unless set); see [`FileDurability`].
        #[serde(default)]
        durability: FileDurability,
    },
    /// A PostgreSQL table through Diesel.
    Postgres(DatabaseBackend),
    /// A MySQL or MariaDB table through Diesel.
    Mysql(DatabaseBackend),
    /// A Redis server (or a Redis Cluster), shared by every instance of the application.
    Redis(RedisBackend),
}

impl Backend {
    /// Whether the backend needs the session keys at start-up: the cookie backend seals
    /// the cookie with them, the file backend authenticates its records with them, and any
    /// backend with `encrypt = true` encrypts its payloads with them.
    ///
    /// ```
    /// use session_spec::{Backend, DatabaseBackend};
    /// assert!(Backend::Cookie.needs_keys());
    /// assert!(!Backend::Memory.needs_keys());
    /// assert!(!Backend::Postgres(DatabaseBackend::default()).needs_keys());
    /// let encrypted = DatabaseBackend { encrypt: true, ..DatabaseBackend::default() };
    /// assert!(Backend::Postgres(encrypted).needs_keys());
    /// ```
    pub fn needs_keys(&self) -> bool {
        match self {
            Self::Cookie | Self::File { .. } => true,
            Self::Memory => false,
            Self::Postgres(db) | Self::Mysql(db) => db.encrypt,
            Self::Redis(redis) => redis.encrypt,
        }
    }
}

/// When the file backend's writes reach the disk. Every mode replaces a file atomically
/// (the new version is written beside it, in the session's spare file, and the two are
/// swapped), so a reader never sees a torn file; the modes differ in what a crash of the
/// machine (not of the process) may lose.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileDurability {
    /// Every write is on disk before it is acknowledged: its file's data is synced before
    /// the swap and the directory after it, by each write on its own.
    Fsync,
    /// The same guarantee as `fsync`, with the directory syncs of concurrent writes
    /// batched (group commit): one directory sync covers every write waiting for it.
    Group,
    /// The default, as Django's file sessions: saves are not synced. A crash of the
    /// machine may lose the last writes (those sessions go back to an earlier state or
    /// start afresh: a file the crash left half-written fails its MAC and is never used;
    /// the file store then reads the previous version from the session's spare file).
    /// Deletions and rotations are still synced, so a logged-out session never comes back.
    #[default]
    None,
}

impl FileDurability {
    /// The names written in a spec, in order.
    pub const NAMES: &[&str] = &["fsync", "group", "none"];

    /// The name written in a spec.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fsync => "fsync",
            Self::Group => "group",
            Self::None => "none",
        }
    }
}

/// Options of a database backend.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseBackend {
    /// The environment variable holding the database URL (never the URL itself).
    #[serde(default = "DatabaseBackend::default_url_env")]
    pub url_env: String,
    /// The table name.
    #[serde(default = "DatabaseBackend::default_table")]
    pub table: String,
    /// Largest payload accepted, in bytes.
    #[serde(default = "DatabaseBackend::default_max_payload")]
    pub max_payload: u64,
    /// Encrypt payloads at rest with the session keys (AES-256-GCM, bound to the record's
    /// key, version and expiry): a copy of the table reveals no session data.
    #[serde(default)]
    pub encrypt: bool,
}

impl DatabaseBackend {
    /// The longest table name: 48 leaves room for the `_expires_at_idx` index name within
    /// PostgreSQL's 63-byte identifiers.
    pub const MAX_TABLE_LEN: usize = 48;

    /// Why `name` cannot be a session table's name, if it cannot: the one rule of the
    /// spec validator and the runtime's database stores (the name is spliced into SQL).
    ///
    /// ```
    /// use session_spec::DatabaseBackend;
    /// assert_eq!(DatabaseBackend::table_name_problem("sessions"), None);
    /// assert!(DatabaseBackend::table_name_problem("sessions; DROP TABLE users").is_some());
    /// assert!(DatabaseBackend::table_name_problem(&"s".repeat(49)).is_some());
    /// ```
    pub fn table_name_problem(name: &str) -> Option<String> {
        if name.is_empty() {
            return Some("it is empty".into());
        }
        if name.len() > Self::MAX_TABLE_LEN {
            return Some(format!("longer than {} characters", Self::MAX_TABLE_LEN));
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Some("it starts with a digit".into());
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Some("expected only ASCII letters, digits and `_`".into());
        }
        None
    }

    fn default_url_env() -> String {
        "DATABASE_URL".to_owned()
    }
    fn default_table() -> String {
        "sessions".to_owned()
    }
    fn default_max_payload() -> u64 {
        1 << 20
    }
}

impl Default for DatabaseBackend {
    fn default() -> Self {
        Self {
            url_env: Self::default_url_env(),
            table: Self::default_table(),
            max_payload: Self::default_max_payload(),
            encrypt: false,
        }
    }
}

/// Options of the Redis backend.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisBackend {
    /// The environment variable holding the server's URL (`redis://host:port/db`; never
    /// the URL itself, which may hold a password).
    #[serde(default = "RedisBackend::default_url_env")]
    pub url_env: String,
    /// The start of every key this store writes, so that several applications can share a
    /// server.
    #[serde(default = "RedisBackend::default_prefix")]
    pub prefix: String,
    /// Largest payload accepted, in bytes.
    #[serde(default = "DatabaseBackend::default_max_payload")]
    pub max_payload: u64,
    /// Encrypt payloads at rest with the session keys, as the database backends do.
    #[serde(default)]
    pub encrypt: bool,
}

impl RedisBackend {
    /// The longest key prefix.
    pub const MAX_PREFIX_LEN: usize = 64;

    /// Why `prefix` cannot start this store's keys, if it cannot: the one rule of the spec
    /// validator and the runtime's Redis store. Braces are refused because a Redis Cluster
    /// reads `{...}` in a key as its hash tag, which the store sets itself.
    ///
    /// ```
    /// use session_spec::RedisBackend;
    /// assert_eq!(RedisBackend::prefix_problem("shop"), None);
    /// assert!(RedisBackend::prefix_problem("").is_some());
    /// assert!(RedisBackend::prefix_problem("a{b}").is_some());
    /// ```
    pub fn prefix_problem(prefix: &str) -> Option<String> {
        if prefix.is_empty() {
            return Some("it is empty".into());
        }
        if prefix.len() > Self::MAX_PREFIX_LEN {
            return Some(format!("longer than {} characters", Self::MAX_PREFIX_LEN));
        }
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
        {
            return Some("expected only ASCII letters, digits, `_`, `-`, `.` and `:`".into());
        }
        None
    }

    fn default_url_env() -> String {
        "REDIS_URL".to_owned()
    }
    fn default_prefix() -> String {
        "session".to_owned()
    }
}

impl Default for RedisBackend {
    fn default() -> Self {
        Self {
            url_env: Self::default_url_env(),
            prefix: Self::default_prefix(),
            max_payload: DatabaseBackend::default_max_payload(),
            encrypt: false,
        }
    }
}

/// Where the secret keys come from. A literal secret in a spec is an error; keys are read
/// from the environment or a file at start-up.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySource {
    /// The environment variable holding the primary key.
    pub env: String,
    /// Environment variables holding fallback keys (older keys still accepted).
    pub fallback_env: Vec<String>,
    /// A file holding the primary key on its first line and fallbacks on the next ones;
    /// used instead of `env` when set.
    pub file: Option<PathBuf>,
}

impl Default for KeySource {
    fn default() -> Self {
        Self {
            env: "SESSION_KEY".to_owned(),
            fallback_env: Vec::new(),
            file: None,
        }
    }
}

/// A span of time in settings, kept in whole seconds.
///
/// In TOML an integer is minutes (the Nexios unit), a float is fractional minutes, and a
/// string takes a unit: `"90s"`, `"30m"`, `"12h"`, `"7d"`.
///
/// ```
/// use session_spec::Lifetime;
/// assert_eq!("90s".parse::<Lifetime>().unwrap().as_seconds(), 90);
/// assert_eq!(Lifetime::from_minutes(30).to_string(), "30m");
/// assert!("ten".parse::<Lifetime>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lifetime {
    seconds: i64,
}

impl Lifetime {
    /// A lifetime of `minutes` minutes.
    pub const fn from_minutes(minutes: i64) -> Self {
        Self {
            seconds: minutes.saturating_mul(60),
        }
    }

    /// A lifetime of `seconds` seconds.
    pub const fn from_seconds(seconds: i64) -> Self {
        Self { seconds }
    }

    /// The lifetime in whole seconds (may be zero or negative before validation).
    pub const fn as_seconds(self) -> i64 {
        self.seconds
    }

    /// The lifetime as a [`std::time::Duration`], or `None` when it is not positive.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.seconds)
            .ok()
            .filter(|s| *s > 0)
            .map(std::time::Duration::from_secs)
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s != 0 && s % 86_400 == 0 {
            write!(f, "{}d", s / 86_400)
        } else if s != 0 && s % 3600 == 0 {
            write!(f, "{}h", s / 3600)
        } else if s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

/// The error of parsing a [`Lifetime`] from text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid lifetime `{0}`: expected minutes as an integer, or a number with a unit (`90s`, `30m`, `12h`, `7d`)"
)]
pub struct LifetimeParseError(String);

impl std::str::FromStr for Lifetime {
    type Err = LifetimeParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || LifetimeParseError(text.to_owned());
        let t = text.trim();
        let (number, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
            Some((i, _)) => (t[..i].trim(), &t[i..]),
            None => (t, "m"),
        };
        let factor = match unit {
            "s" | "sec" | "secs" => 1,
            "m" | "min" | "mins" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            _ => return Err(err()),
        };
        let n: i64 = number.parse().map_err(|_| err())?;
        n.checked_mul(factor)
            .map(Self::from_seconds)
            .ok_or_else(err)
    }
}

impl Serialize for Lifetime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.seconds % 60 == 0 {
            serializer.serialize_i64(self.seconds / 60)
        } else {
            serializer.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Lifetime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("minutes as an integer, or a string with a unit (`90s`, `30m`, `12h`)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Lifetime, E> {
                Ok(Lifetime::from_minutes(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Lifetime, E> {
                i64::try_from(v)
                    .map(Lifetime::from_minutes)
                    .map_err(|_| E::custom("lifetime too large"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Lifetime, E> {
                if v.is_finite() && v.abs() < 1e15 {
                    Ok(Lifetime::from_seconds((v * 60.0).round() as i64))
                } else {
                    Err(E::custom("lifetime out of range"))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Lifetime, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_secure() {
        let s = Settings::default();
        assert!(s.secure && s.http_only && !s.permanent);
        assert_eq!(s.same_site, SameSite::Lax);
        assert!(s.problems().is_empty());
    }

    #[test]
    fn every_alias_is_accepted_by_serde() {
        let samples = serde_json::json!({
            "cookie_name": "sid", "secure": false, "http_only": false,
            "expiration_time": 5, "permanent": true, "refresh_each_request": true,
            "domain": "example.com", "path": "/app", "same_site": "strict",
            "partitioned": true, "backend": "memory",
        });
        for (alias, key) in KEY_ALIASES {
            let mut one = serde_json::Map::new();
            one.insert((*alias).into(), samples[key].clone());
            let by_alias: Settings = serde_json::from_value(one.into()).unwrap();
            let mut one = serde_json::Map::new();
            one.insert((*key).into(), samples[key].clone());
            let by_key: Settings = serde_json::from_value(one.into()).unwrap();
            assert_eq!(by_alias, by_key, "{alias}");
            assert_ne!(by_alias, Settings::default(), "{alias}");
        }
    }

    #[test]
    fn nexios_session_manager_names_a_backend() {
        let s: Settings = serde_json::from_str(r#"{"session_manager": "cookies"}"#).unwrap();
        assert_eq!(s.backend, Backend::Cookie);
        let e = serde_json::from_str::<Settings>(r#"{"session_manager": "file"}"#);
        assert!(e.is_err());
    }

    #[test]
    fn cookie_attributes_browsers_would_drop() {
        let with = |f: &dyn Fn(&mut Settings)| {
            let mut s = Settings::default();
            f(&mut s);
            s.problems()
        };
        assert!(
            with(&|s| s.cookie_name = "__host-sid".into())
                .contains(&SettingsProblem::PrefixInCookieName(CookiePrefix::Host))
        );
        for bad in [
            ".example.com",
            "https://example.com",
            "example.com:8080",
            "com",
            "ex_ample.com",
            "bücher.de",
            "",
        ] {
            assert!(
                matches!(
                    with(&|s| s.domain = Some(bad.into()))[..],
                    [SettingsProblem::InvalidDomain(_)]
                ),
                "{bad}"
            );
        }
        for good in [
            "example.com",
            "a.b-c.example",
            "localhost",
            "xn--bcher-kva.de",
        ] {
            assert!(with(&|s| s.domain = Some(good.into())).is_empty(), "{good}");
        }
        assert!(
            with(&|s| s.path = "/a;b".into()).contains(&SettingsProblem::UnsafeAttribute("path"))
        );
        assert!(
            with(&|s| s.path = format!("/{}", "a".repeat(1024)))
                .contains(&SettingsProblem::AttributeTooLong("path"))
        );
        assert!(
            with(&|s| {
                s.partitioned = true;
                s.secure = false;
            })
            .contains(&SettingsProblem::PartitionedWithoutSecure)
        );
    }

    #[test]
    fn limits_that_can_never_take_effect() {
        let s = Settings {
            expiration_time: Lifetime::from_minutes(30),
            idle_timeout: Some(Lifetime::from_minutes(30)),
            absolute_timeout: Some(Lifetime::from_minutes(20)),
            rotation_interval: Some(Lifetime::from_minutes(60)),
            ..Settings::default()
        };
        let p = s.problems();
        assert!(p.contains(&SettingsProblem::IdleLongerThanAbsolute));
        assert!(p.contains(&SettingsProblem::IdleNotShorterThanExpiration));
        assert!(p.contains(&SettingsProblem::RotationNeverHappens));
    }

    #[test]
    fn lifetime_units() {
        assert_eq!("2s".parse::<Lifetime>().unwrap().as_seconds(), 2);
        assert_eq!("3h".parse::<Lifetime>().unwrap().as_seconds(), 10_800);
        assert_eq!("15".parse::<Lifetime>().unwrap().as_seconds(), 900);
        assert!("5 weeks".parse::<Lifetime>().is_err());
        assert_eq!(Lifetime::from_seconds(2).to_string(), "2s");
    }

    #[test]
    fn host_prefix_rules() {
        let s = Settings {
            prefix: Some(CookiePrefix::Host),
            domain: Some("example.com".into()),
            path: "/app".into(),
            secure: false,
            ..Settings::default()
        };
        let p = s.problems();
        assert!(p.contains(&SettingsProblem::HostPrefixWithDomain));
        assert!(p.contains(&SettingsProblem::HostPrefixWithPath));
        assert!(p.contains(&SettingsProblem::PrefixWithoutSecure));
    }
}
