//! The framework-agnostic session manager: from a request's `Cookie` headers to a
//! [`Session`], and from the session after the handler to `Set-Cookie` headers.
//!
//! The tower layer (the `layer` module, feature `axum`) is a thin adapter over it; any other
//! framework can call [`SessionManager::load`] and [`SessionManager::commit`] itself.
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
//! least that long after its id was issued; [`Session::cycle`] does it on demand. Either
//! way the data and the creation time are kept, and a server-side store deletes the record
//! under the old id. (The cookie backend has no record to delete: a copy of an old cookie
//! stays valid until its own deadline. Use a server-side store when revocation matters.)
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

use session_spec::Settings;

use crate::codec::{Codec, CodecContext, CodecError};
use crate::config::{self, ConfigError};
use crate::error::{Error, Result};
use crate::header::{self, CookiePolicy, MAX_COOKIE_SIZE};
use crate::id::SessionId;
use crate::keys::Keys;
use crate::payload;
use crate::schema::{Dynamic, Map, SessionSchema};
use crate::session::{Inner, Limits, Loaded, Session, Times};
use crate::store::{self, Record, SessionStore, Storage, StoreError};
use crate::time::{Clock, SystemClock, Timestamp};

/// How many fresh ids are tried when a store reports that one exists already (with 256
/// random bits a second collision means a broken random source or store).
const CREATE_ATTEMPTS: usize = 3;

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
}

#[derive(Clone)]
enum Backend {
    Cookie(Arc<Sealer>),
    Store(Arc<dyn SessionStore>),
}

/// The codec and the context every cookie of this manager is bound to.
struct Sealer {
    codec: Codec,
    context: CodecContext,
}

impl<S: SessionSchema> SessionManager<S> {
    /// A manager keeping the data in the cookie itself, sealed (signed or encrypted, after
    /// `settings.cookie_mode`) with `keys`.
    ///
    /// # Errors
    /// [`Error::Config`] when the settings break a [rule](Settings::problems) or hold
    /// characters that cannot go into a `Set-Cookie` header.
    pub fn cookie(settings: Settings, keys: Keys) -> Result<Self> {
        let codec = Sealer {
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
        let file = std::env::var_os("SESSION_CONFIG").map(std::path::PathBuf::from);
        let settings = config::load(S::settings(), file.as_deref())?;
        Self::from_settings(settings).await
    }

    /// The manager `settings` describe: its backend opened with [`store::open`], its keys
    /// read from `settings.keys` when the backend needs them (the cookie backend, and the
    /// file backend, which authenticates its records with them).
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
        let keys = match &settings.backend {
            Configured::Cookie | Configured::File { .. } => {
                Some(Keys::from_source(&settings.keys)?)
            }
            _ => None,
        };
        let mut options = store::OpenOptions::new();
        if let (Configured::File { .. }, Some(keys)) = (&settings.backend, &keys) {
            options = options.keys(keys.clone());
        }
        match (store::open(&settings.backend, &options).await?, keys) {
            (Storage::Server(store), _) => Self::with_store(settings, store),
            (Storage::Cookie, Some(keys)) => Self::cookie(settings, keys),
            (Storage::Cookie, None) => Err(Error::Config(ConfigError::Toml {
                path: None,
                message: "the cookie backend needs keys".to_owned(),
            })),
        }
    }

    /// A manager keeping the data in `store`; the cookie holds only the session id.
    ///
    /// # Errors
    /// As [`SessionManager::cookie`].
    pub fn with_store(settings: Settings, store: Arc<dyn SessionStore>) -> Result<Self> {
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
        if !header::is_attribute_safe(&settings.path) {
            return Err(unsafe_attr("path"));
        }
        if settings
            .domain
            .as_deref()
            .is_some_and(|d| !header::is_attribute_safe(d))
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
            }),
            _schema: PhantomData,
        })
    }

    /// Uses `clock` instead of the system clock (tests use a
    /// [`MockClock`](crate::MockClock) and move time instead of sleeping).
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
        let m = &*self.inner;
        let now = m.clock.now();
        let (values, truncated) = header::cookie_values(cookie_headers, &m.cookie.name);
        let mut refused = Refused {
            truncated,
            ..Refused::default()
        };
        let mut lookups = 0;
        for value in &values {
            let opened = match &m.backend {
                Backend::Cookie(codec) => self.open_cookie(codec, value, now, &mut refused),
                Backend::Store(store) => {
                    // A value that cannot be an id costs no store round trip.
                    let Ok(id) = SessionId::parse(value) else {
                        tracing::debug!("malformed session id in cookie");
                        continue;
                    };
                    if lookups == MAX_LOOKUPS {
                        refused.truncated = true;
                        break;
                    }
                    lookups += 1;
                    self.open_record(store.as_ref(), id, now, &mut refused)
                        .await?
                }
            };
            if let Some(inner) = opened {
                return Ok(Session::from_inner(inner));
            }
        }
        let mut inner = Inner::fresh(Arc::clone(&m.clock), m.limits);
        inner.stale_cookie = refused.authentic_dead && !refused.unreadable && !refused.truncated;
        inner.obsolete = refused.obsolete;
        Ok(Session::from_inner(inner))
    }

    fn open_cookie(
        &self,
        sealer: &Sealer,
        value: &str,
        now: Timestamp,
        refused: &mut Refused,
    ) -> Option<Inner> {
        let opened = match sealer.codec.open(&sealer.context, value) {
            Ok(opened) => opened,
            Err(e @ CodecError::UnknownKey(_)) => {
                tracing::debug!(error = %e, "session cookie under a key that is not configured; left alone");
                refused.unreadable = true;
                return None;
            }
            Err(e) => {
                tracing::debug!(error = %e, "session cookie refused");
                return None;
            }
        };
        refused.authentic_dead = true;
        let envelope = match payload::decode(&opened.plaintext) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(error = %e, "authentic session cookie with unreadable payload; starting a fresh session");
                return None;
            }
        };
        let Some(id) = envelope.id.clone() else {
            tracing::warn!("authentic session cookie without a valid id; starting a fresh session");
            return None;
        };
        let mut inner = self.restore(envelope, id, 0, now).ok()?;
        inner.reissue = opened.needs_reissue();
        Some(inner)
    }

    async fn open_record(
        &self,
        store: &dyn SessionStore,
        id: SessionId,
        now: Timestamp,
        refused: &mut Refused,
    ) -> Result<Option<Inner>> {
        let record = match store.load(&id.store_key(), now).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                tracing::debug!("unknown or expired session id");
                return Ok(None);
            }
            Err(StoreError::Corrupt(e)) => {
                // Not provably garbage: it may be sealed under a key removed by mistake, or
                // written by a newer version. Left in place (purged at its expiry).
                tracing::warn!(error = %e, "unreadable session record left in place; starting a fresh session");
                refused.unreadable = true;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        refused.authentic_dead = true;
        let envelope = match payload::decode(&record.payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable session payload; starting a fresh session");
                refused.obsolete = Some(id);
                return Ok(None);
            }
        };
        match self.restore(envelope, id.clone(), record.version, now) {
            Ok(inner) => Ok(Some(inner)),
            Err(Unusable::OtherSchema) => {
                // Another application's record: not ours to delete, nor its cookie.
                refused.unreadable = true;
                Ok(None)
            }
            Err(Unusable::Expired | Unusable::Unfit) => {
                refused.obsolete = Some(id);
                Ok(None)
            }
        }
    }

    /// Checks the deadline and the schema of a decoded payload.
    fn restore(
        &self,
        envelope: payload::Envelope,
        id: SessionId,
        version: u64,
        now: Timestamp,
    ) -> Result<Inner, Unusable> {
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
        if now >= times.deadline(&m.limits) {
            tracing::debug!("session expired");
            return Err(Unusable::Expired);
        }
        let stored_version = envelope.s;
        let mut data = envelope.d;
        if let Err(errors) = S::upgrade(&mut data) {
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
        let mut inner = Inner::fresh(Arc::clone(&m.clock), m.limits);
        inner.data = data;
        inner.id = Some(id.clone());
        inner.loaded = Some(Loaded { id, version });
        inner.times = times;
        inner.from_cookie = true;
        inner.force_write = stored_version != S::VERSION;
        Ok(inner)
    }

    /// Commits a session after the handler and returns the `Set-Cookie` header values to
    /// add to the response (none when nothing is owed).
    ///
    /// `response_is_server_error`: the handler's response is a 5xx; then nothing is saved
    /// and no cookie is sent (see the [module docs](self)).
    ///
    /// # Errors
    /// - [`Error::Store`]: the store failed; [`StoreError::Conflict`] or
    ///   [`StoreError::NotFound`] when another request changed, rotated or destroyed the
    ///   session since this one loaded it and this request changed its data (a refresh
    ///   that loses such a race is dropped silently: the other request's write stands);
    /// - [`Error::CookieTooLarge`]: the cookie backend's sealed cookie would exceed 4096
    ///   bytes; nothing is sent;
    /// - [`Error::Serialize`]: the data cannot be serialized.
    pub async fn commit(
        &self,
        session: &Session<S>,
        response_is_server_error: bool,
    ) -> Result<Vec<String>> {
        if response_is_server_error {
            if session.is_modified() {
                tracing::debug!("server error response: session changes discarded");
            }
            return Ok(Vec::new());
        }
        let m = &*self.inner;
        let now = m.clock.now();
        let plan = {
            let inner = session.lock();
            self.plan(&inner, now)
        };
        let Some(plan) = plan else {
            return Ok(Vec::new());
        };
        match plan {
            Plan::Remove { delete } => {
                if let (Some(id), Backend::Store(store)) = (&delete, &m.backend) {
                    store.delete(&id.store_key()).await?;
                }
                let mut inner = session.lock();
                inner.destroyed = false;
                inner.stale_cookie = false;
                inner.loaded = None;
                inner.obsolete = None;
                Ok(vec![m.cookie.removal()])
            }
            Plan::Write(write) => self.write(session, write, now).await,
        }
    }

    /// Decides what a commit owes, under the handle's lock (no I/O).
    fn plan(&self, inner: &Inner, now: Timestamp) -> Option<Plan> {
        let m = &*self.inner;
        let limits = &m.limits;
        let settings = &m.settings;
        let has_data = !inner.data.is_empty();
        let Some(loaded) = inner.loaded.clone().filter(|_| !inner.destroyed) else {
            // A fresh session (never saved, or destroyed during this request): stored only
            // when it holds data.
            let old = inner
                .loaded
                .clone()
                .map(|l| l.id)
                .or_else(|| inner.obsolete.clone());
            if inner.modified && has_data {
                let mut times = inner.times;
                times.last_seen = now;
                times.expires_at = times.slide(now, limits);
                return Some(Plan::Write(Write {
                    old: None,
                    delete: old,
                    rotate: true,
                    changed: true,
                    times,
                    data: inner.data.clone(),
                }));
            }
            if inner.destroyed || inner.stale_cookie || inner.obsolete.is_some() {
                return Some(Plan::Remove { delete: old });
            }
            return None;
        };
        let changed = inner.modified || inner.force_write;
        let rotate = inner.cycle
            || settings.rotation_interval.is_some_and(|p| {
                now.as_secs()
                    .saturating_sub(inner.times.id_issued_at.as_secs())
                    >= p.as_seconds()
            });
        let refresh = settings.refresh_each_request;
        let touch = limits.idle.is_some_and(|_| {
            now.as_secs()
                .saturating_sub(inner.times.last_seen.as_secs())
                >= m.idle_resolution
        });
        if !(changed || rotate || refresh || touch || inner.reissue) {
            return None;
        }
        let mut times = inner.times;
        times.last_seen = now;
        if changed || refresh {
            times.expires_at = times.slide(now, limits);
        }
        if rotate {
            times.id_issued_at = now;
        }
        Some(Plan::Write(Write {
            delete: rotate.then(|| loaded.id.clone()),
            old: Some(loaded),
            rotate,
            changed,
            times,
            data: inner.data.clone(),
        }))
    }

    async fn write(&self, session: &Session<S>, w: Write, now: Timestamp) -> Result<Vec<String>> {
        let m = &*self.inner;
        let deadline = w.times.deadline(&m.limits);
        let (id, version, value) = match &m.backend {
            Backend::Cookie(codec) => {
                let id = match (&w.old, w.rotate) {
                    (Some(old), false) => old.id.clone(),
                    _ => new_id()?,
                };
                let plaintext = payload::encode(None, S::VERSION, Some(&id), &w.times, &w.data);
                let size = m.cookie.name.len() + codec.codec.sealed_len(plaintext.len());
                if size > MAX_COOKIE_SIZE {
                    return Err(Error::CookieTooLarge { size });
                }
                let value = codec
                    .codec
                    .seal(&codec.context, &plaintext)
                    .map_err(|e| match e {
                        CodecError::TooLarge { size, .. } => Error::CookieTooLarge {
                            size: m.cookie.name.len() + size,
                        },
                        CodecError::Random(e) => Error::Random(e),
                        other => Error::Codec(other),
                    })?;
                (id, 0, value)
            }
            Backend::Store(store) => {
                let plaintext = payload::encode(Some(S::NAME), S::VERSION, None, &w.times, &w.data);
                match (&w.old, w.rotate) {
                    (Some(old), false) => {
                        let record = Record {
                            payload: plaintext,
                            expires_at: deadline,
                            version: old.version,
                        };
                        match store.save(&old.id.store_key(), &record).await {
                            Ok(version) => (old.id.clone(), version, old.id.as_str().to_owned()),
                            Err(e @ (StoreError::Conflict { .. } | StoreError::NotFound))
                                if !w.changed =>
                            {
                                tracing::debug!(error = %e, "session refresh lost a race; the other write stands");
                                return Ok(Vec::new());
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    _ => {
                        let record = Record {
                            payload: plaintext,
                            expires_at: deadline,
                            version: 1,
                        };
                        let id = create(store.as_ref(), &record).await?;
                        if let Some(old) = &w.delete {
                            store.delete(&old.store_key()).await?;
                        }
                        let value = id.as_str().to_owned();
                        (id, 1, value)
                    }
                }
            }
        };
        let set_cookie = m.cookie.set(&value, now, deadline);
        let mut inner = session.lock();
        inner.id = Some(id.clone());
        inner.loaded = Some(Loaded { id, version });
        inner.times = w.times;
        inner.modified = false;
        inner.cycle = false;
        inner.destroyed = false;
        inner.reissue = false;
        inner.stale_cookie = false;
        inner.force_write = false;
        inner.obsolete = None;
        Ok(vec![set_cookie])
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
}

/// What a commit owes.
enum Plan {
    /// Send a removal cookie, deleting a record first if any.
    Remove { delete: Option<SessionId> },
    /// Write the session (and send its cookie).
    Write(Write),
}

struct Write {
    /// The session as loaded (`None`: a new session).
    old: Option<Loaded>,
    /// A record to delete once the new one exists (rotation, destroy-then-set, reset).
    delete: Option<SessionId>,
    /// Draw a new id.
    rotate: bool,
    /// The data changed (a lost compare-and-swap is then an error).
    changed: bool,
    times: Times,
    data: Map,
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

fn new_id() -> Result<SessionId> {
    Ok(SessionId::generate()?)
}

/// Creates `record` under a fresh id, drawing another on the rare `Exists`.
async fn create(store: &dyn SessionStore, record: &Record) -> Result<SessionId> {
    let mut last = StoreError::Exists;
    for _ in 0..CREATE_ATTEMPTS {
        let id = new_id()?;
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
