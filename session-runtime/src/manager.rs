//! The framework-agnostic session manager: from a request's `Cookie` headers to a
//! [`Session`], and from the session after the handler to `Set-Cookie` headers.
//!
//! The tower layer (the `layer` module, feature `axum`) and the actix-web middleware (the
//! `actix` module, feature `actix`) are thin adapters over it. An adapter for any other
//! framework calls [`SessionManager::begin`] before the handler and
//! [`Exchange::finish`](crate::adapter::Exchange::finish) after it, and applies what they
//! return: the checklist of exactly what it must do, and the response rules all adapters
//! share (when to commit, which status for which failure, which headers), are in
//! [`crate::adapter`]. ([`SessionManager::load`] and [`SessionManager::commit`] are the
//! lower-level steps underneath.)
//!
//! # The policy, as enforced
//!
//! Every limit is decided by the server from the timestamps inside the authenticated cookie
//! payload (cookie backend) or the stored record (server-side stores); the cookie's own
//! `Max-Age` or `Expires` is never trusted. A session is over when `now >= deadline`, where
//! the deadline is the earliest of:
//!
//! - the **sliding expiry**: the last write that carried a change or a refresh, plus
//!   `expiration_time`. With `refresh_each_request` every request slides it (and the cookie
//!   is re-issued); without, only requests that change the session do (as in Flask and
//!   Django);
//! - the **idle limit**: the last recorded activity plus `idle_timeout`;
//! - the **absolute limit**: creation plus `absolute_timeout`, which no sliding passes
//!   (the expiry is capped by it, and rotation keeps the creation time).
//!
//! **How activity is tracked.** Every write records `last_seen = now`. A request that
//! writes nothing else records activity only when the recorded value is at least the *idle
//! resolution* old (default: a twentieth of `idle_timeout`, at least one second; see
//! [`SessionManager::with_idle_resolution`]). So an active session costs at most one write
//! (and one `Set-Cookie`) per resolution period, and a session may end up to one resolution
//! period earlier than a perfectly exact idle clock would end it. With a resolution of one
//! second the limit is exact to the second, at the price of a write per request.
//!
//! **Rotation.** `rotation_interval` gives a session a new id on the first request at
//! least that long after its id was issued; [`Session::cycle`] does it on demand (on login
//! and any privilege change). Either way the data and the creation time are kept, and with
//! a server-side store the rotation is one atomic [`SessionStore::rotate`]: the old record
//! is replaced only if it is still at the version this request loaded. After a periodic
//! rotation the old id stays valid for `rotation_grace` (a forward: a request still in
//! flight with it opens the new session and gets the new cookie); after `cycle` and
//! `destroy` the old id is dead at once. (The cookie backend has no record to replace: a
//! copy of an old cookie stays valid until its own deadline. Use a server-side store when
//! revocation matters.)
//!
//! # Concurrent requests
//!
//! With a server-side store a commit is a small transaction. The handle records what the
//! request read (keys, or everything with `get_all`) and the operations it applied (`set`,
//! `delete`, `clear`, [`Session::update`] steps such as the typed `push_x`). When the
//! compare-and-swap finds that another request changed the session first, the record is
//! loaded again: if no key this request read has changed, the operations are replayed on
//! the fresh data (rules checked again; a failure is [`Error::Replay`]) and the commit is
//! retried, a bounded number of times; otherwise the commit fails with
//! [`StoreError::Conflict`] (a `503` from the layer). A logout always wins: a commit never
//! brings back a destroyed session, and a logout racing a rotation ends the new id too.
//!
//! **Failed responses.** When the handler's response is a server error (5xx),
//! [`SessionManager::commit`] saves nothing and sends no `Set-Cookie`: the handler's
//! changes, a `cycle` or a `destroy` are all dropped, and the stored session stays as it
//! was before the request.
//!
//! **Nothing written that need not be.** A request that changes nothing, owes no refresh,
//! no idle bookkeeping, no rotation and no re-issue under the primary key costs no store
//! write and no `Set-Cookie`. A fresh session is not stored until it holds data, so
//! anonymous visitors create no records. A cookie that was ours but is dead (authentic and
//! expired, or unusable) gets a removal `Set-Cookie` unless a new session replaces it;
//! unauthenticated junk (tampered, unknown, tossed by another site) and a cookie under a
//! key that is not configured never do (see [`SessionManager::load`]).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use session_runtime::keys::Keys;
//! use session_runtime::manager::SessionManager;
//! use session_runtime::{MockClock, Settings, Timestamp};
//!
//! let clock = MockClock::new(Timestamp(1_700_000_000));
//! let settings = Settings { secure: false, ..Settings::default() };
//! let manager = SessionManager::cookie(settings, Keys::generate())
//!     .unwrap()
//!     .with_clock(Arc::new(clock.clone()));
//!
//! // First request: no cookie, a fresh session; the handler stores a value.
//! let session = manager.load(None::<&str>).await.unwrap();
//! session.set("user", "ada").unwrap();
//! let set_cookie = manager.commit(&session, false).await.unwrap();
//! assert_eq!(set_cookie.len(), 1);
//! assert!(set_cookie[0].ends_with("; Path=/; HttpOnly; SameSite=Lax"));
//!
//! // Second request: the browser sends the cookie back; reading costs nothing.
//! let cookie = set_cookie[0].split(';').next().unwrap();
//! let session = manager.load([cookie]).await.unwrap();
//! assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
//! assert!(manager.commit(&session, false).await.unwrap().is_empty());
//!
//! // A day later the session is over: a fresh session, and the stale cookie is removed.
//! clock.advance(24 * 60 * 60);
//! let session = manager.load([cookie]).await.unwrap();
//! assert!(session.get::<String>("user").is_none());
//! assert!(manager.commit(&session, false).await.unwrap()[0].contains("Max-Age=0"));
//! # });
//! ```

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use session_spec::{OnMaxSessions, Settings};

use crate::codec::{Codec, CodecContext, CodecError};
use crate::config::{self, ConfigError};
use crate::cookie::{self, CookiePolicy, MAX_COOKIE_BYTES};
use crate::error::{Error, Result};
use crate::id::SessionId;
use crate::keys::Keys;
use crate::schema::envelope;
use crate::schema::{Dynamic, SessionData, SessionSchema};
use crate::session::{Inner, Limits, Loaded, Session, Times};
use crate::store::{self, Record, SessionStore, Storage, StoreError};
use crate::store::{Limited, Rotation, SessionLimit, StoreKey};
use crate::time::{Clock, SystemClock, Timestamp};

mod active;
mod storage;
pub use active::{ActiveSession, SessionHandle, StoreSessions};

/// How many fresh ids are tried when a store reports that one exists already (with 256
/// random bits a second collision means a broken random source or store).
const CREATE_ATTEMPTS: usize = 3;

/// How many times a commit that lost a race is replayed on the fresh record before it gives
/// up with [`StoreError::Conflict`]: every round one of the racers wins, so this many
/// requests racing on one session all land.
const COMMIT_ATTEMPTS: usize = 64;

/// The payload of a record left under an id rotated away: this marker, a kind byte
/// ([`Trace`]) and the 32-byte nonce the successor id is derived from
/// ([`SessionId::successor`]). Never valid JSON, so never mistaken for session data.
const TRACE_MAGIC: &[u8; 8] = b"\0sessfwd";
const TRACE_LEN: usize = TRACE_MAGIC.len() + 1 + 32;

/// How long a privilege-change rotation's tombstone stays at least (see [`Trace`]).
const TOMBSTONE_SECS: i64 = 60;

/// What a rotated-away id's record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trace {
    /// A periodic rotation: during the grace period the old id resolves to the successor.
    Forward,
    /// A privilege-change rotation (`cycle`): the old id is dead, but a `destroy` that
    /// loaded it before the rotation follows the tombstone and ends the successor too, so
    /// a logout racing a login or a rotation always sticks.
    Tombstone,
}

impl Trace {
    fn encode(self, nonce: &[u8; 32]) -> Vec<u8> {
        let mut payload = Vec::with_capacity(TRACE_LEN);
        payload.extend_from_slice(TRACE_MAGIC);
        payload.push(match self {
            Self::Forward => b'f',
            Self::Tombstone => b't',
        });
        payload.extend_from_slice(nonce);
        payload
    }

    fn decode(payload: &[u8]) -> Option<(Self, [u8; 32])> {
        if payload.len() != TRACE_LEN || !payload.starts_with(TRACE_MAGIC) {
            return None;
        }
        let kind = match payload[TRACE_MAGIC.len()] {
            b'f' => Self::Forward,
            b't' => Self::Tombstone,
            _ => return None,
        };
        let mut nonce = [0; 32];
        nonce.copy_from_slice(&payload[TRACE_MAGIC.len() + 1..]);
        Some((kind, nonce))
    }
}

/// Loads sessions from requests and commits them to responses, enforcing one policy.
///
/// Cheap to clone (the state is shared). Build it with [`SessionManager::cookie`] (data in
/// the cookie, sealed by the codec) or [`SessionManager::with_store`] (data in a
/// server-side store, the cookie holds only the id).
pub struct SessionManager<S: SessionSchema = Dynamic> {
    inner: Arc<ManagerInner>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: SessionSchema> Clone for SessionManager<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _schema: PhantomData,
        }
    }
}

impl<S: SessionSchema> std::fmt::Debug for SessionManager<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("schema", &S::NAME)
            .field("settings", &self.inner.settings)
            .field(
                "backend",
                &match &self.inner.backend {
                    Backend::Cookie(_) => "cookie",
                    Backend::Store(_) => "store",
                },
            )
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct ManagerInner {
    settings: Settings,
    cookie: CookiePolicy,
    limits: Limits,
    clock: Arc<dyn Clock>,
    backend: Backend,
    idle_resolution: i64,
    /// The cookie backend's revocation store (see [`SessionManager::with_revocation_store`]).
    revocation: Option<Arc<dyn SessionStore>>,
    /// Whether the store may lend its records (see [`SessionManager::load_in`]).
    lends: Lends,
}

/// Whether a server-side store may [lend](SessionStore::lend) its records: true until it
/// declines once (a store that does not lend never does), after which no load is tried
/// without waiting first (it would only be repeated).
#[derive(Debug)]
struct Lends(AtomicBool);

impl Lends {
    fn new() -> Self {
        Self(AtomicBool::new(true))
    }

    fn may(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn forget(&self) {
        // Read first: no write to the shared flag on every request of a store that never lends.
        if self.may() {
            self.0.store(false, Ordering::Relaxed);
        }
    }
}

impl Clone for Lends {
    fn clone(&self) -> Self {
        Self(AtomicBool::new(self.may()))
    }
}

#[derive(Clone)]
enum Backend {
    Cookie(Arc<CookieCodec>),
    Store(Arc<dyn SessionStore>),
}

/// The codec and the context every cookie of this manager is bound to.
struct CookieCodec {
    codec: Codec,
    context: CodecContext,
}

impl<S: SessionSchema> SessionManager<S> {
    /// A manager keeping the data in the cookie itself, sealed (signed or encrypted, after
    /// `settings.cookie_mode`) with `keys`.
    ///
    /// # Errors
    /// [`Error::Config`] when the settings break a [rule](Settings::problems), hold
    /// characters that cannot go into a `Set-Cookie` header, or when the schema's rules
    /// allow a cookie larger than browsers keep ([`config::check_cookie_budget`]);
    /// [`StoreError::Unsupported`] when they declare a `principal` without a
    /// `revocation_store` (attach the store with [`SessionManager::with_revocation_store`]),
    /// or a `max_sessions` (a cookie backend cannot count its sessions).
    pub fn cookie(settings: Settings, keys: Keys) -> Result<Self> {
        // The budget first: when both checks fail, its advice (keep the data server-side)
        // settles both, where adding a revocation store would settle one.
        config::check_cookie_budget::<S>(&settings)?;
        if let (Some(principal), None) = (&settings.principal, &settings.revocation_store) {
            return Err(StoreError::Unsupported(format!(
                "`principal = \"{principal}\"` on the cookie backend needs a `revocation_store` (`SESSION_REVOCATION_STORE=memory`, or a directory for a file store): the cookie backend keeps no server state, so its sessions could not be ended; or keep the data server-side (`SESSION_BACKEND=memory`, `file`, `postgres` or `mysql`)"
            ))
            .into());
        }
        if let Some(max) = settings.max_sessions {
            return Err(StoreError::Unsupported(format!(
                "`max_sessions = {max}` needs a server-side backend: the cookie backend keeps no list of its sessions to count"
            ))
            .into());
        }
        let codec = CookieCodec {
            context: CodecContext::cookie(&settings.full_cookie_name(), S::NAME),
            codec: Codec::new(settings.cookie_mode, keys),
        };
        Self::build(settings, Backend::Cookie(Arc::new(codec)))
    }

    /// The manager a deployment's settings describe: the schema's compiled-in settings,
    /// overridden by the TOML file named in `SESSION_CONFIG` (if set) and by the `SESSION_*`
    /// variables ([`config::load`]), then [`SessionManager::from_settings`].
    ///
    /// # Errors
    /// As [`config::load`] and [`SessionManager::from_settings`].
    pub async fn from_env() -> Result<Self> {
        let file = std::env::var_os(config::CONFIG_FILE_VAR).map(std::path::PathBuf::from);
        let settings = config::load(S::settings(), file.as_deref())?;
        Self::from_settings(settings).await
    }

    /// The manager `settings` describe: its backend opened with [`store::open`], its keys
    /// read from `settings.keys` when the backend needs them (the cookie backend, the file
    /// backend, which authenticates its records with them, and any backend that encrypts at
    /// rest, [`Backend::needs_keys`](session_spec::Backend::needs_keys)).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use session_runtime::spec::Backend;
    /// use session_runtime::{SessionManager, Settings};
    /// let settings = Settings { backend: Backend::Memory, ..Settings::default() };
    /// let manager: SessionManager = SessionManager::from_settings(settings).await.unwrap();
    /// let session = manager.load(["session=not-a-real-id"]).await.unwrap();
    /// assert!(session.id().is_none()); // a client-chosen id is never adopted
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`Error::Key`] when needed keys are missing or too short, [`Error::Store`] when the
    /// backend cannot be opened, [`Error::Config`] as in [`SessionManager::cookie`].
    pub async fn from_settings(settings: Settings) -> Result<Self> {
        use session_spec::Backend as Configured;
        let keys = if settings.backend.needs_keys() {
            Some(Keys::from_source(&settings.keys)?)
        } else {
            None
        };
        let mut options = store::OpenOptions::new();
        if let (false, Some(keys)) = (matches!(settings.backend, Configured::Cookie), &keys) {
            options = options.keys(keys.clone());
        }
        match (store::open(&settings.backend, &options).await?, keys) {
            (Storage::Server(store), _) => Self::with_store(settings, store),
            (Storage::Cookie, Some(keys)) => {
                let revocation = match &settings.revocation_store {
                    Some(backend) => {
                        let options = store::OpenOptions::new().keys(keys.clone());
                        match store::open(backend, &options).await? {
                            Storage::Server(store) => Some(store),
                            Storage::Cookie => None,
                        }
                    }
                    None => None,
                };
                let manager = Self::cookie(settings, keys)?;
                Ok(match revocation {
                    Some(store) => manager.with_revocation_store(store),
                    None => manager,
                })
            }
            (Storage::Cookie, None) => Err(Error::Config(ConfigError::Toml {
                path: None,
                message: "the cookie backend needs keys".to_owned(),
            })),
        }
    }

    /// A manager keeping the data in `store`; the cookie holds only the session id.
    ///
    /// # Errors
    /// As [`SessionManager::cookie`]; [`StoreError::Unsupported`] when the settings declare
    /// a `principal` and the store keeps no principal index.
    pub fn with_store(settings: Settings, store: Arc<dyn SessionStore>) -> Result<Self> {
        if let (Some(max), false) = (settings.max_sessions, store.limits_sessions()) {
            return Err(StoreError::Unsupported(format!(
                "`max_sessions = {max}` needs a store that limits a principal's sessions, and this one does not (`SessionStore::limits_sessions`)"
            ))
            .into());
        }
        if let Some(principal) = &settings.principal {
            if !store.indexes_principals() {
                return Err(StoreError::Unsupported(format!(
                    "`principal = \"{principal}\"` needs a store that keeps a principal index, and this one does not (`SessionStore::indexes_principals`)"
                ))
                .into());
            }
        }
        Self::build(settings, Backend::Store(store))
    }

    fn build(settings: Settings, backend: Backend) -> Result<Self> {
        config::check(&settings)?;
        let unsafe_attr = |key: &'static str| {
            Error::Config(ConfigError::Toml {
                path: None,
                message: format!("`{key}` holds a `;` or a control character"),
            })
        };
        if !cookie::is_attribute_safe(&settings.path) {
            return Err(unsafe_attr("path"));
        }
        if settings
            .domain
            .as_deref()
            .is_some_and(|d| !cookie::is_attribute_safe(d))
        {
            return Err(unsafe_attr("domain"));
        }
        let limits = Limits::of(&settings);
        let idle_resolution = limits.idle.map_or(1, |idle| (idle / 20).max(1));
        Ok(Self {
            inner: Arc::new(ManagerInner {
                cookie: CookiePolicy::new(&settings),
                settings,
                limits,
                clock: Arc::new(SystemClock),
                backend,
                idle_resolution,
                revocation: None,
                lends: Lends::new(),
            }),
            _schema: PhantomData,
        })
    }

    /// Uses `clock` instead of the system clock (tests use a `MockClock`, feature
    /// `test-util`, and move time instead of sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        Arc::make_mut(&mut self.inner).clock = clock;
        self
    }

    /// Sets how stale the recorded last activity may get before a request that changes
    /// nothing writes it anew (only with an `idle_timeout`; see the [module
    /// docs](self)). Smaller is more exact and costs more writes; one second is exact.
    /// Values below one second count as one.
    pub fn with_idle_resolution(mut self, seconds: i64) -> Self {
        Arc::make_mut(&mut self.inner).idle_resolution = seconds.max(1);
        self
    }

    /// The policy in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The cookie name as sent to browsers (prefix included).
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie.name
    }

    /// Loads the session of a request from its `Cookie` header values.
    ///
    /// An expired, unknown, malformed or tampered cookie, and data that no longer fits the
    /// schema, give a fresh session (logged at `debug`, or `warn` for data that was
    /// authentic but unusable); a client-chosen id is never adopted, and nothing is
    /// written. Every distinct cookie of the session's name is tried in order (bounded:
    /// at most 64 values, and at most 16 store look-ups, each only for a value shaped like
    /// a session id), and the first that opens wins.
    ///
    /// The refused cookie gets a removal `Set-Cookie` (at commit) only when one of them was
    /// provably ours and dead (authentic but expired or unusable), none was sealed under a
    /// key that is not configured (or stored in a record that cannot be read), and every
    /// candidate was tried: unauthenticated junk, such as cookies tossed by another site,
    /// never makes the server delete the browser's real cookie. Only a record that was
    /// authentic but is unusable by this application is deleted; a record the store cannot
    /// read (corrupt, or under a removed key) is left in place.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails (not when it has no such session).
    pub async fn load<I>(&self, cookie_headers: I) -> Result<Session<S>>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        // Waiting allowed: every candidate is opened, none is left for later.
        let session = self.load_in(cookie_headers, false).await?;
        Ok(session.unwrap_or_else(|| unreachable!("a load that may wait always opens")))
    }

    /// Whether [`load_in`](Self::load_in) without waiting is worth trying: the cookie
    /// backend without principals (no revocation check), or a store that has not declined
    /// to lend.
    #[cfg(feature = "axum")]
    pub(crate) fn may_load_now(&self) -> bool {
        let m = &*self.inner;
        match &m.backend {
            Backend::Cookie(_) => m.settings.principal.is_none(),
            Backend::Store(_) => m.lends.may(),
        }
    }

    /// [`load`](Self::load); with `now_only`, `Ok(None)` as soon as a candidate would need
    /// a store's `load` (the store cannot [lend](SessionStore::lend) it, or it is a
    /// rotated id's forward) or the revocation store: then nothing was written and the
    /// caller loads again with waiting allowed. Without `now_only`, never `Ok(None)`.
    pub(crate) async fn load_in<I>(
        &self,
        cookie_headers: I,
        now_only: bool,
    ) -> Result<Option<Session<S>>>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let m = &*self.inner;
        let now = m.clock.now();
        // The first header (a browser sends one) is kept: its values are borrowed from it.
        let mut headers = cookie_headers.into_iter();
        let first = headers.next();
        let (values, truncated) =
            cookie::cookie_values(first.as_ref().map(AsRef::as_ref), headers, &m.cookie.name);
        let mut refused = Refused {
            truncated,
            ..Refused::default()
        };
        // A cookie session never loses a race (there is no record to rebase on): its
        // handle keeps no replay bookkeeping ([`Inner::replay`]).
        let replay = !matches!(m.backend, Backend::Cookie(_));
        let mut lookups = 0;
        for value in values.iter() {
            let opened = match &m.backend {
                Backend::Cookie(codec) => self.open_cookie(codec, value, now, &mut refused),
                Backend::Store(store) => {
                    // A value that cannot be an id costs no store round trip.
                    let Ok(id) = SessionId::parse_bytes(value) else {
                        tracing::debug!("malformed session id in cookie");
                        continue;
                    };
                    if lookups == MAX_LOOKUPS {
                        refused.truncated = true;
                        break;
                    }
                    lookups += 1;
                    match self
                        .open_record(store.as_ref(), id, now, &mut refused, now_only)
                        .await?
                    {
                        Some(opened) => opened,
                        None => return Ok(None),
                    }
                }
            };
            if let Some(session) = opened {
                if matches!(m.backend, Backend::Cookie(_)) {
                    if now_only && m.settings.principal.is_some() {
                        // The revocation check: a store's `load`, or its error.
                        return Ok(None);
                    }
                    // The handle is not shared yet: its data is lent to the check (moved
                    // out and back, not copied), since a lock is not held across an await.
                    let (data, issued) = {
                        let mut inner = session.lock();
                        (std::mem::take(&mut inner.data), inner.times.id_issued_at)
                    };
                    let revoked = self.revoked(&data, issued).await?;
                    session.lock().data = data;
                    if revoked {
                        tracing::debug!("session cookie issued before its principal's revocation");
                        refused.authentic_dead = true;
                        continue;
                    }
                }
                return Ok(Some(session));
            }
        }
        let mut inner = Inner::fresh(Arc::clone(&m.clock), m.limits);
        inner.stale_cookie = refused.authentic_dead && !refused.unreadable && !refused.truncated;
        inner.obsolete = refused.obsolete;
        inner.replay = replay;
        Ok(Some(Session::from_inner(inner)))
    }

    fn open_cookie(
        &self,
        sealer: &CookieCodec,
        value: &[u8],
        now: Timestamp,
        refused: &mut Refused,
    ) -> Option<Session<S>> {
        // Opened in a buffer on the stack: the payload is decoded from it in place.
        let opened = sealer
            .codec
            .open_value_with(&sealer.context, value, |plaintext, key_index| {
                refused.authentic_dead = true;
                let envelope = match envelope::decode_for::<S::Data>(plaintext) {
                    Ok(envelope) => envelope,
                    Err(e) => {
                        tracing::warn!(error = %e, "authentic session cookie with unreadable payload; starting a fresh session");
                        return None;
                    }
                };
                let Some(id) = envelope.id.clone() else {
                    tracing::warn!(
                        "authentic session cookie without a valid id; starting a fresh session"
                    );
                    return None;
                };
                let loaded = Loaded {
                    id,
                    version: 0,
                    via: None,
                };
                // Opened with an older key: sealed again under the primary.
                self.restore(envelope, loaded, key_index > 0, now).ok()
            });
        match opened {
            Ok(session) => session,
            Err(e @ CodecError::UnknownKey(_)) => {
                tracing::debug!(error = %e, "session cookie under a key that is not configured; left alone");
                refused.unreadable = true;
                None
            }
            Err(e) => {
                tracing::debug!(error = %e, "session cookie refused");
                None
            }
        }
    }

    /// Opens the session stored under `id` (`Ok(Some(None))`: refused, as `refused` says);
    /// `Ok(None)` (only with `now_only`): the record cannot be read without waiting.
    async fn open_record(
        &self,
        store: &dyn SessionStore,
        id: SessionId,
        now: Timestamp,
        refused: &mut Refused,
        now_only: bool,
    ) -> Result<Option<Option<Session<S>>>> {
        // Hashed once: the save after the handler reuses the key.
        let id = id.hashed();
        let key = id.store_key();
        // A store that holds its records in this process lends the record: the session is
        // read from the stored bytes, not from a copy. A forward (a rotated id) is copied
        // and followed below.
        let mut lent = None;
        if store.lend(&key, now, &mut |record| {
            lent = Some(match record {
                Some(record) if Trace::decode(&record.payload).is_some() => Err(record.clone()),
                Some(record) => Ok(self.open_loaded(id.clone(), record, None, now, refused)),
                None => {
                    tracing::debug!("unknown or expired session id");
                    Ok(None)
                }
            });
        }) {
            match lent {
                Some(Ok(opened)) => return Ok(Some(opened)),
                Some(Err(_)) if now_only => return Ok(None),
                Some(Err(forward)) => {
                    return Box::pin(self.open_forward(store, id, forward, now, refused))
                        .await
                        .map(Some);
                }
                // The store said it lent but did not call back: loaded as usual.
                None => {}
            }
        } else {
            // It does not lend: later loads that may not wait are not tried.
            self.inner.lends.forget();
        }
        if now_only {
            return Ok(None);
        }
        let record = match store.load(&key, now).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                tracing::debug!("unknown or expired session id");
                return Ok(Some(None));
            }
            Err(StoreError::Corrupt(e)) => {
                // Not provably garbage: it may be sealed under a key removed by mistake, or
                // written by a newer version. Left in place (purged at its expiry).
                tracing::warn!(error = %e, "unreadable session record left in place; starting a fresh session");
                refused.unreadable = true;
                return Ok(Some(None));
            }
            Err(e) => return Err(e.into()),
        };
        // Most records are the session itself: no forward to follow (and no future for it).
        if Trace::decode(&record.payload).is_none() {
            return Ok(Some(self.open_loaded(id, &record, None, now, refused)));
        }
        // Rare (a rotated id): boxed, so that every request's load future stays small.
        Box::pin(self.open_forward(store, id, record, now, refused))
            .await
            .map(Some)
    }

    /// Follows the forward `record` of a rotated id `id` to its successor and opens it.
    async fn open_forward(
        &self,
        store: &dyn SessionStore,
        id: SessionId,
        record: Record,
        now: Timestamp,
        refused: &mut Refused,
    ) -> Result<Option<Session<S>>> {
        let Some((id, record, via)) = follow(store, id, record, now).await? else {
            // Rotated away: the browser holds (or is about to hold) the successor's cookie,
            // which a removal cookie for this name would delete.
            tracing::debug!("session id rotated away and past its grace period");
            return Ok(None);
        };
        Ok(self.open_loaded(id, &record, via, now, refused))
    }

    /// Opens the session of `record`, stored under `id` (`via`: the rotated id the cookie
    /// held, when the record was reached through its forward).
    fn open_loaded(
        &self,
        id: SessionId,
        record: &Record,
        via: Option<SessionId>,
        now: Timestamp,
        refused: &mut Refused,
    ) -> Option<Session<S>> {
        refused.authentic_dead = true;
        let envelope = match envelope::decode_for::<S::Data>(&record.payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable session payload; starting a fresh session");
                refused.obsolete = Some(id);
                return None;
            }
        };
        // An old id in its grace period: the new cookie is sent again.
        let reissue = via.is_some();
        let loaded = Loaded {
            id: id.clone(),
            version: record.version,
            via,
        };
        match self.restore(envelope, loaded, reissue, now) {
            Ok(session) => Some(session),
            Err(Unusable::OtherSchema | Unusable::FromTheFuture) => {
                // Another application's record, or one from the future: not provably
                // garbage, so neither it nor its cookie is deleted.
                refused.unreadable = true;
                None
            }
            Err(Unusable::Expired | Unusable::Unfit) => {
                refused.obsolete = Some(id);
                None
            }
        }
    }

    /// Checks the deadline and the schema of a decoded payload, and builds the session's
    /// handle over its data, as `loaded` (`reissue`: its cookie is owed again although
    /// nothing changes). The handle's state is built once, in place: it is not moved
    /// through the callers.
    fn restore(
        &self,
        envelope: envelope::Envelope<'_>,
        loaded: Loaded,
        reissue: bool,
        now: Timestamp,
    ) -> Result<Session<S>, Unusable> {
        let m = &*self.inner;
        if envelope.n.as_deref().is_some_and(|n| n != S::NAME) {
            tracing::warn!(
                schema = S::NAME,
                stored = envelope.n.as_deref(),
                "session record of another schema; starting a fresh session"
            );
            return Err(Unusable::OtherSchema);
        }
        let times = envelope.times();
        if !times.is_plausible(now) {
            tracing::warn!(
                "session created in the future (the clock went back?); starting a fresh session"
            );
            return Err(Unusable::FromTheFuture);
        }
        if now >= times.deadline(&m.limits) {
            tracing::debug!("session expired");
            return Err(Unusable::Expired);
        }
        let stored_version = envelope.s;
        // Decoded and checked once: a typed schema's fields come out as their Rust values.
        let data = match S::load_payload(envelope.d) {
            Ok(data) => data,
            Err(errors) => {
                let errors = loggable::<S>(&errors);
                tracing::warn!(
                    schema = S::NAME,
                    stored_version,
                    version = S::VERSION,
                    %errors,
                    "session data no longer fits the schema; starting a fresh session"
                );
                return Err(Unusable::Unfit);
            }
        };
        // The times are the record's: the clock is not read again.
        let mut inner = Inner::with_times(Arc::clone(&m.clock), m.limits, times, data);
        inner.id = Some(loaded.id.clone());
        inner.loaded = Some(loaded);
        inner.from_cookie = true;
        inner.force_write = stored_version != S::VERSION;
        inner.reissue = reissue;
        // A cookie session never loses a race: no replay bookkeeping ([`Inner::replay`]).
        inner.replay = !matches!(m.backend, Backend::Cookie(_));
        Ok(Session::from_inner(inner))
    }

    /// Commits a session after the handler and returns the `Set-Cookie` header values to
    /// add to the response (none when nothing is owed).
    ///
    /// `response_is_server_error`: the handler's response is a 5xx; then nothing is saved
    /// and no cookie is sent (see the [module docs](self)).
    ///
    /// With a server-side store a commit is a small transaction: a compare-and-swap on the
    /// record's version (a rotation is one atomic [`SessionStore::rotate`]). When another
    /// request changed the session first, the record is loaded again; if nothing this
    /// request read has changed since, its operations are replayed on the fresh data (every
    /// rule checked again) and the compare-and-swap is retried, up to 64 times. See the
    /// [module docs](self#concurrent-requests).
    ///
    /// # Errors
    /// - [`Error::Store`]: the store failed; [`StoreError::Conflict`] when another request
    ///   changed a value this request read (a real conflict, worth a retry), or
    ///   [`StoreError::NotFound`] when the session was destroyed meanwhile and this request
    ///   changed it (a refresh that loses such a race is dropped silently);
    /// - [`Error::Replay`]: replayed on the fresh data, this request's changes break a rule;
    /// - [`Error::CookieTooLarge`]: the cookie backend's sealed cookie would exceed 4096
    ///   bytes; nothing is sent;
    /// - [`Error::Serialize`]: the data cannot be serialized.
    pub async fn commit(
        &self,
        session: &Session<S>,
        response_is_server_error: bool,
    ) -> Result<Vec<String>> {
        Ok(self
            .commit_one(session, response_is_server_error)
            .await?
            .into_iter()
            .collect())
    }

    /// [`commit`](Self::commit): a commit owes at most one `Set-Cookie`, returned without
    /// a list around it (the adapters' path).
    pub(crate) async fn commit_one(
        &self,
        session: &Session<S>,
        response_is_server_error: bool,
    ) -> Result<Option<String>> {
        if response_is_server_error {
            Self::discard(session);
            return Ok(None);
        }
        self.commit_at(session, self.inner.clock.now()).await
    }

    /// What a commit after a 5xx response does: nothing is saved and no cookie is sent
    /// (see the [module docs](self)); changes the handler made are only logged.
    pub(crate) fn discard(session: &Session<S>) {
        if session.is_modified() {
            tracing::debug!("server error response: session changes discarded");
        }
    }

    /// When a commit of `session` (the handler's response not a 5xx) is to run: `None`
    /// when it owes nothing and does nothing, as far as can be told without I/O (no
    /// revocation check, which the cookie backend with principals asks its revocation
    /// store, and nothing planned); else the time to commit at, from the manager's clock.
    /// Lets an adapter answer a read without building the commit's future. The clock is
    /// read only when the plan depends on the time (see [`CommitTime`]): a read owes
    /// nothing at any time when no setting times it.
    #[cfg(feature = "axum")]
    pub(crate) fn owed_at(&self, session: &Session<S>) -> Option<Timestamp> {
        let m = &*self.inner;
        let mut now = CommitTime::Lazy(m.clock.as_ref());
        if matches!(m.backend, Backend::Cookie(_)) && m.settings.principal.is_some() {
            return Some(now.get());
        }
        let owed = self.owed(&session.lock(), &mut now).is_some();
        owed.then(|| now.get())
    }

    /// [`commit_one`](Self::commit_one) of a response that is not a 5xx, at `now`.
    pub(crate) async fn commit_at(
        &self,
        session: &Session<S>,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let m = &*self.inner;
        if matches!(m.backend, Backend::Cookie(_)) && self.revoked_session(session).await? {
            // Revoked while this request ran: nothing is re-issued, the cookie goes.
            session.lock().removed();
            return Ok(Some(m.cookie.removal()));
        }
        for _ in 0..COMMIT_ATTEMPTS {
            let plan = {
                let inner = session.lock();
                self.plan(&inner, &mut CommitTime::at(now))
            };
            let Some(plan) = plan else {
                return Ok(None);
            };
            let write = match plan {
                Plan::Remove { end, obsolete } => {
                    if let Backend::Store(store) = &m.backend {
                        if let Some(loaded) = &end {
                            Box::pin(end_session(store.as_ref(), loaded)).await?;
                        }
                        if let Some(id) = &obsolete {
                            store.delete(&id.store_key()).await?;
                        }
                    }
                    session.lock().removed();
                    return Ok(Some(m.cookie.removal()));
                }
                Plan::Write(write) => write,
            };
            let changed = write.changed;
            let rotating = write.rotation.is_some();
            let error = match self.write(session, write, now).await? {
                Written::Cookie(set_cookie) => return Ok(Some(set_cookie)),
                Written::Lost(error) => error,
            };
            let Backend::Store(store) = &m.backend else {
                return Err(error.into());
            };
            if !changed && !rotating {
                tracing::debug!(%error, "session refresh lost a race; the other write stands");
                return Ok(None);
            }
            // Rare paths (a lost race, a rotation, a logout, a new session) run boxed, so
            // that every request's commit future stays small (it is moved and copied whole).
            match Box::pin(self.rebase(store.as_ref(), session, now)).await? {
                Rebase::Replayed => {
                    tracing::debug!(%error, "session commit lost a race; replayed on the fresh record");
                }
                Rebase::Gone if !changed => return Ok(None),
                Rebase::Gone => return Err(StoreError::NotFound.into()),
                Rebase::Conflict => return Err(error.into()),
            }
        }
        Err(StoreError::Conflict {
            expected: session.lock().loaded.as_ref().map_or(0, |l| l.version),
        }
        .into())
    }

    /// Decides what a commit owes, under the handle's lock (no I/O). `now` is asked for
    /// only where the plan depends on it: the rotation interval, the idle limit, and the
    /// times of a write.
    fn plan(&self, inner: &Inner<S::Data>, now: &mut CommitTime<'_>) -> Option<Plan> {
        let m = &*self.inner;
        let limits = &m.limits;
        match self.owed(inner, now)? {
            Owed::Create => {
                let now = now.get();
                let mut times = inner.times;
                times.last_seen = now;
                times.expires_at = times.slide(now, limits);
                Some(Plan::Write(Write {
                    old: None,
                    end: inner.loaded.clone(),
                    obsolete: inner.obsolete.clone(),
                    rotation: None,
                    changed: true,
                    gained: self.principal_of(&inner.data).is_some(),
                    times,
                }))
            }
            Owed::Remove => Some(Plan::Remove {
                end: inner.loaded.clone(),
                obsolete: inner.obsolete.clone(),
            }),
            Owed::Write { changed, rotation } => {
                let now = now.get();
                let mut times = inner.times;
                times.last_seen = now;
                if changed || m.settings.refresh_each_request {
                    times.expires_at = times.slide(now, limits);
                }
                if rotation.is_some() {
                    times.id_issued_at = now;
                }
                let principal = self.principal_of(&inner.data);
                let gained =
                    changed && principal.is_some() && self.principal_of(&inner.base()) != principal;
                Some(Plan::Write(Write {
                    old: inner.loaded.clone(),
                    end: None,
                    obsolete: None,
                    rotation,
                    changed,
                    gained,
                    times,
                }))
            }
        }
    }

    /// What kind of commit [`plan`](Self::plan) makes, decided without building it (no id
    /// cloned, no times, no principal): an adapter's check that a read owes nothing asks
    /// only this.
    fn owed(&self, inner: &Inner<S::Data>, now: &mut CommitTime<'_>) -> Option<Owed> {
        let m = &*self.inner;
        let limits = &m.limits;
        let settings = &m.settings;
        if inner.loaded.is_none() || inner.destroyed {
            // A fresh session (never saved, or destroyed during this request): stored only
            // when it holds data.
            if inner.modified && !inner.data.is_empty() {
                return Some(Owed::Create);
            }
            if inner.destroyed || inner.stale_cookie || inner.obsolete.is_some() {
                return Some(Owed::Remove);
            }
            return None;
        }
        let changed = inner.modified || inner.force_write;
        let rotation = if inner.cycle {
            Some(Trace::Tombstone)
        } else {
            settings
                .rotation_interval
                .is_some_and(|p| {
                    now.get()
                        .as_secs()
                        .saturating_sub(inner.times.id_issued_at.as_secs())
                        >= p.as_seconds()
                })
                .then_some(Trace::Forward)
        };
        let refresh = settings.refresh_each_request;
        let touch = limits.idle.is_some_and(|_| {
            now.get()
                .as_secs()
                .saturating_sub(inner.times.last_seen.as_secs())
                >= m.idle_resolution
        });
        if !(changed || rotation.is_some() || refresh || touch || inner.reissue) {
            return None;
        }
        Some(Owed::Write { changed, rotation })
    }

    /// Loads the record a lost commit raced with and, when nothing this request read has
    /// changed, replays the request's operations on it (the handle then holds the fresh
    /// record with the request's changes on top).
    async fn rebase(
        &self,
        store: &dyn SessionStore,
        session: &Session<S>,
        now: Timestamp,
    ) -> Result<Rebase> {
        let Some(loaded) = session.lock().loaded.clone() else {
            return Ok(Rebase::Gone);
        };
        let Some(record) = store.load(&loaded.id.store_key(), now).await? else {
            return Ok(Rebase::Gone);
        };
        let Some((id, record, via)) = follow(store, loaded.id.clone(), record, now).await? else {
            return Ok(Rebase::Gone);
        };
        let envelope = envelope::decode(&record.payload)
            .map_err(|e| StoreError::Corrupt(format!("session record: {e}")))?;
        let times = envelope.times();
        let base = S::load_payload(envelope.d).map_err(Error::Validation)?;
        let mut inner = session.lock();
        if !inner.reads.unchanged(S::KEYS, inner.base().as_ref(), &base) {
            return Ok(Rebase::Conflict);
        }
        let mut data = base.clone();
        inner.replay_on(&mut data).map_err(Error::Replay)?;
        let via = via.or(loaded.via);
        inner.reissue |= via.is_some() || id != loaded.id;
        inner.modified = data != base;
        inner.id = Some(id.clone());
        inner.loaded = Some(Loaded {
            id,
            version: record.version,
            via,
        });
        inner.base = Some(base);
        inner.forget_originals();
        inner.data = data;
        inner.times = times;
        Ok(Rebase::Replayed)
    }

    async fn write(&self, session: &Session<S>, w: Write, now: Timestamp) -> Result<Written> {
        let m = &*self.inner;
        let deadline = w.times.deadline(&m.limits);
        // A cookie session's value is sealed into its `Set-Cookie` header in the first arm;
        // a stored session's value is its id (not copied out of it), below.
        let loaded = match &m.backend {
            Backend::Cookie(codec) => {
                let id = match (&w.old, w.rotation) {
                    (Some(old), None) => old.id.clone(),
                    _ => new_id()?,
                };
                let plaintext = {
                    let inner = session.lock();
                    envelope::encode(None, S::VERSION, Some(&id), &w.times, &inner.data)?
                };
                let size = m.cookie.name.len() + codec.codec.sealed_len(plaintext.len());
                if size > MAX_COOKIE_BYTES {
                    return Err(Error::CookieTooLarge { size });
                }
                // Sealed straight into the `Set-Cookie` header (no copy of the value).
                let set_cookie = m
                    .cookie
                    .set_with(
                        codec.codec.sealed_len(plaintext.len()),
                        now,
                        deadline,
                        |out| codec.codec.seal_into(&codec.context, &plaintext, out),
                    )
                    .map_err(|e| match e {
                        CodecError::TooLarge { size, .. } => Error::CookieTooLarge {
                            size: m.cookie.name.len() + size,
                        },
                        CodecError::Random(e) => Error::Random(e),
                        other => Error::Codec(other),
                    })?;
                let loaded = Loaded {
                    id,
                    version: 0,
                    via: None,
                };
                session.lock().committed(loaded, w.times);
                return Ok(Written::Cookie(set_cookie));
            }
            Backend::Store(store) => {
                let store = store.as_ref();
                let record = {
                    let inner = session.lock();
                    Record {
                        payload: envelope::encode(
                            Some(S::NAME),
                            S::VERSION,
                            None,
                            &w.times,
                            &inner.data,
                        )?,
                        expires_at: deadline,
                        version: 1,
                        principal: self.principal_of(&inner.data),
                    }
                };
                let limited_principal = record.principal.clone();
                let limited = match (&limited_principal, m.settings.max_sessions) {
                    (Some(principal), Some(max)) if w.gained => Some((principal.as_str(), max)),
                    _ => None,
                };
                // A refused login that is not racing another is refused before anything is
                // written (the anonymous session stays as it was); the store's limit below
                // is what holds when logins race.
                if let (Some((principal, max)), OnMaxSessions::Refuse) =
                    (limited, m.settings.on_max_sessions)
                {
                    let own = w.old.as_ref().map(|old| old.id.store_key());
                    let others = store
                        .sessions_of(principal, now)
                        .await?
                        .iter()
                        .filter(|(key, _)| Some(*key) != own)
                        .count();
                    if others >= max as usize {
                        return Err(Error::SessionLimit { max });
                    }
                }
                let written = match (&w.old, w.rotation) {
                    (Some(old), None) => {
                        let record = Record {
                            version: old.version,
                            ..record
                        };
                        match store.save(&old.id.store_key(), &record).await {
                            Ok(version) => Ok(Loaded {
                                id: old.id.clone(),
                                version,
                                via: None,
                            }),
                            Err(e) => Err(e),
                        }
                    }
                    (Some(old), Some(trace)) => {
                        Box::pin(self.rotate(store, old, trace, &record, now)).await
                    }
                    (None, _) => {
                        // A new session replacing an ended one: the old record goes first
                        // (a failure leaves nothing new behind).
                        if let Some(end) = &w.end {
                            Box::pin(end_session(store, end)).await?;
                        }
                        if let Some(id) = &w.obsolete {
                            store.delete(&id.store_key()).await?;
                        }
                        let id = Box::pin(create(store, &record)).await?;
                        Ok(Loaded {
                            id,
                            version: 1,
                            via: None,
                        })
                    }
                };
                match written {
                    Ok(loaded) => {
                        if let Some((principal, max)) = limited {
                            let newcomer = loaded.id.store_key();
                            let limit = SessionLimit {
                                principal,
                                newcomer: &newcomer,
                                max,
                                policy: m.settings.on_max_sessions,
                            };
                            match store.limit_sessions(&limit, now).await? {
                                Limited::Refused => {
                                    // Lost the race for the last place: this session is
                                    // deleted, and the client gets no cookie for it.
                                    return Err(Error::SessionLimit { max });
                                }
                                Limited::Kept { ended } if !ended.is_empty() => {
                                    tracing::info!(
                                        ended = ended.len(),
                                        "login past `max_sessions`: the oldest sessions ended"
                                    );
                                }
                                Limited::Kept { .. } => {}
                            }
                        }
                        loaded
                    }
                    Err(e @ (StoreError::Conflict { .. } | StoreError::NotFound)) => {
                        return Ok(Written::Lost(e));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let set_cookie = m.cookie.set(loaded.id.as_str(), now, deadline);
        session.lock().committed(loaded, w.times);
        Ok(Written::Cookie(set_cookie))
    }

    /// Rotates the record loaded as `old` to a new id in one store step, leaving a
    /// [`Trace`] under the old id; returns where the session now lives.
    async fn rotate(
        &self,
        store: &dyn SessionStore,
        old: &Loaded,
        trace: Trace,
        record: &Record,
        now: Timestamp,
    ) -> Result<Loaded, StoreError> {
        let grace = self.inner.settings.rotation_grace.as_seconds().max(0);
        // A periodic rotation with no grace period leaves a tombstone only.
        let trace = if grace == 0 { Trace::Tombstone } else { trace };
        let kept_for = match trace {
            Trace::Forward => grace,
            Trace::Tombstone => grace.max(TOMBSTONE_SECS),
        };
        let old_key = old.id.store_key();
        let mut last = StoreError::Exists;
        for _ in 0..CREATE_ATTEMPTS {
            let mut nonce = [0u8; 32];
            crate::random::fill_random(&mut nonce)
                .map_err(|e| StoreError::backend(format!("no randomness for a rotation: {e}")))?;
            let id = old.id.successor(&nonce).hashed();
            let key = id.store_key();
            let kept = Record {
                payload: trace.encode(&nonce),
                expires_at: now.add_seconds(kept_for),
                version: old.version,
                principal: None,
            };
            let rotation = Rotation {
                old: &old_key,
                version: old.version,
                new: Some((&key, record)),
                keep_old: Some(&kept),
            };
            match store.rotate(&rotation).await {
                Ok(()) => {
                    // The id this request came in with, rotated away before: a privilege
                    // change ends it too.
                    if let (Trace::Tombstone, Some(via)) = (trace, &old.via) {
                        store.delete(&via.store_key()).await?;
                    }
                    return Ok(Loaded {
                        id,
                        version: 1,
                        via: None,
                    });
                }
                Err(StoreError::Exists) => {
                    tracing::warn!(
                        "rotated session id collided with a stored one; drawing another"
                    );
                    last = StoreError::Exists;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

/// At most this many store look-ups per request, over the cookies of the session's name.
const MAX_LOOKUPS: usize = 16;

/// What the refused candidates of a request showed (decides the removal cookie).
#[derive(Default)]
struct Refused {
    /// A candidate was authentic (ours) but dead: expired, or unusable by this schema.
    authentic_dead: bool,
    /// A candidate could not be judged: sealed under a key that is not configured, a
    /// record the store cannot read, another application's record.
    unreadable: bool,
    /// Not every candidate was tried (the bounds were reached).
    truncated: bool,
    /// An authentic record unusable by this application, deleted at commit.
    obsolete: Option<SessionId>,
}

/// Why an authentic payload gives no session.
enum Unusable {
    /// Of another schema (another application's).
    OtherSchema,
    /// Past its deadline.
    Expired,
    /// Its data no longer fits the schema.
    Unfit,
    /// Created in the future: the clock went back, or the record is not what it claims.
    /// Refused, but left in place (not provably garbage; purged at its expiry).
    FromTheFuture,
}

/// How many forwards [`follow`] follows: periodic rotations that followed each other
/// within one grace period (a short `rotation_interval`, a slow request).
const FORWARD_HOPS: usize = 8;

/// The record a loaded id stands for: itself, or during a periodic rotation's grace
/// period the successor its forwarding record names, following forwards up to
/// [`FORWARD_HOPS`] (`via` is then the id the request came with). `None` for a tombstone
/// (or a forward leading to one), and for a forward whose successor is gone.
async fn follow(
    store: &dyn SessionStore,
    id: SessionId,
    record: Record,
    now: Timestamp,
) -> Result<Option<(SessionId, Record, Option<SessionId>)>> {
    // `via`: the id the request came with, once a forward was followed (no copy, and no
    // comparison of ids, when the record is the session itself).
    let (mut current, mut record, mut via) = (id, record, None);
    for _ in 0..=FORWARD_HOPS {
        match Trace::decode(&record.payload) {
            None => return Ok(Some((current, record, via))),
            Some((Trace::Tombstone, _)) => return Ok(None),
            Some((Trace::Forward, nonce)) => {
                let next = current.successor(&nonce);
                let previous = std::mem::replace(&mut current, next);
                via.get_or_insert(previous);
                match store.load(&current.store_key(), now).await? {
                    Some(next) => record = next,
                    None => return Ok(None),
                }
            }
        }
    }
    Ok(None)
}

/// A `now` before every record's expiry: [`end_session`] reads records whatever their
/// expiry (a logout slower than the grace period still follows the forward it raced).
const EPOCH: Timestamp = Timestamp(0);

/// Ends the session loaded as `loaded` for good: a compare-and-swap delete of its record
/// that, when the record changed meanwhile, deletes the newer version, and when it was
/// rotated away (a forward or a tombstone), ends the successor as well. So a logout sticks
/// whatever raced with it: a save, a periodic rotation or a privilege change.
async fn end_session(store: &dyn SessionStore, loaded: &Loaded) -> Result<()> {
    let mut pending: Vec<(SessionId, u64)> = vec![(loaded.id.clone(), loaded.version)];
    let mut rounds = 0;
    while let Some((id, version)) = pending.pop() {
        rounds += 1;
        if rounds > COMMIT_ATTEMPTS {
            return Err(StoreError::Conflict { expected: version }.into());
        }
        let key = id.store_key();
        let rotation = Rotation {
            old: &key,
            version,
            new: None,
            keep_old: None,
        };
        match store.rotate(&rotation).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(StoreError::Conflict { .. }) => {
                let Some(record) = store.load(&key, EPOCH).await? else {
                    // Gone or expired meanwhile; an expired record is dead already.
                    store.delete(&key).await?;
                    continue;
                };
                // Rotated away meanwhile: every successor ends too.
                let mut at = (id.clone(), record.payload.clone());
                for _ in 0..=FORWARD_HOPS {
                    let Some((_, nonce)) = Trace::decode(&at.1) else {
                        break;
                    };
                    let next = at.0.successor(&nonce);
                    let Some(successor) = store.load(&next.store_key(), EPOCH).await? else {
                        break;
                    };
                    pending.push((next.clone(), successor.version));
                    at = (next, successor.payload);
                }
                pending.push((id, record.version));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(via) = &loaded.via {
        delete_key(store, &via.store_key()).await?;
    }
    Ok(())
}

async fn delete_key(store: &dyn SessionStore, key: &StoreKey) -> Result<()> {
    Ok(store.delete(key).await?)
}

/// The time a commit runs at: given (a commit at a known time), or read from the clock at
/// the first need, once (an adapter's check that a read owes nothing, which needs no time
/// unless a setting makes the plan depend on it: then no clock is read at all).
pub(crate) enum CommitTime<'a> {
    /// A time known already.
    At(Timestamp),
    /// The clock, not read yet (an adapter's check, see [`SessionManager::owed_at`]).
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    Lazy(&'a dyn Clock),
}

impl CommitTime<'_> {
    /// The time `at`.
    fn at(at: Timestamp) -> Self {
        Self::At(at)
    }

    /// The time (the clock read now, the first time; the same time after).
    fn get(&mut self) -> Timestamp {
        match *self {
            Self::At(at) => at,
            Self::Lazy(clock) => {
                let at = clock.now();
                *self = Self::At(at);
                at
            }
        }
    }
}

/// The kind of commit owed ([`SessionManager::owed`]), before its plan is built.
#[derive(Clone, Copy)]
enum Owed {
    /// Store a fresh session (it holds data), ending the loaded one first if destroyed.
    Create,
    /// Send a removal cookie ([`Plan::Remove`]).
    Remove,
    /// Write the loaded session: its data `changed`, or a `rotation`, a refresh, activity
    /// bookkeeping or a re-issue is owed.
    Write {
        changed: bool,
        rotation: Option<Trace>,
    },
}

/// What a commit owes (one per commit, short-lived: the variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Plan {
    /// Send a removal cookie, ending the loaded session (`destroy`) and deleting an
    /// unusable record first, if any.
    Remove {
        end: Option<Loaded>,
        obsolete: Option<SessionId>,
    },
    /// Write the session (and send its cookie).
    Write(Write),
}

///
/// The data is not copied into it: [`SessionManager::write`] encodes it straight from the
/// handle (under its lock, with no await in between), and the handle keeps it.
struct Write {
    /// The session as loaded (`None`: a new session).
    old: Option<Loaded>,
    /// A session to end before the new one is created (destroy-then-set).
    end: Option<Loaded>,
    /// An unusable record to delete before the new one is created.
    obsolete: Option<SessionId>,
    /// Rotate to a new id, leaving this trace under the old one.
    rotation: Option<Trace>,
    /// The data changed (a lost compare-and-swap is then replayed or an error).
    changed: bool,
    /// The session gains its principal (or another one) with this write: a login, which
    /// `max_sessions` limits.
    gained: bool,
    times: Times,
}

/// Validation errors as they may be logged: the message of a `sensitive` field (which can
/// quote the stored value, e.g. a type or `one_of` error) is replaced by the rule's name.
fn loggable<S: SessionSchema>(errors: &crate::schema::ValidationErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| {
            if S::SENSITIVE.contains(&e.field.as_str()) {
                format!(
                    "field `{}` breaks rule `{}` (sensitive: value not shown)",
                    e.field, e.rule
                )
            } else {
                e.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The outcome of one write attempt.
enum Written {
    /// Written; the `Set-Cookie` value.
    Cookie(String),
    /// The compare-and-swap lost a race (`Conflict` or `NotFound`).
    Lost(StoreError),
}

/// The outcome of loading the record a lost commit raced with.
enum Rebase {
    /// The request's operations now sit on top of the fresh record: try again.
    Replayed,
    /// The session is gone (destroyed, expired, rotated away for good).
    Gone,
    /// A value this request read was changed by another request.
    Conflict,
}

fn new_id() -> Result<SessionId> {
    Ok(SessionId::generate()?)
}

/// Creates `record` under a fresh id, drawing another on the rare `Exists`.
async fn create(store: &dyn SessionStore, record: &Record) -> Result<SessionId> {
    let mut last = StoreError::Exists;
    for _ in 0..CREATE_ATTEMPTS {
        let id = new_id()?.hashed();
        match store.create(&id.store_key(), record).await {
            Ok(()) => return Ok(id),
            Err(StoreError::Exists) => {
                tracing::warn!("fresh session id collided with a stored one; drawing another");
                last = StoreError::Exists;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.into())
}
