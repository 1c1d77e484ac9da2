//! The session handle.
//!
//! A [`Session`] is one request's view of a session: its data, its id, its timestamps and
//! what the handler asked for ([`cycle`](Session::cycle), [`destroy`](Session::destroy)).
//! The [`SessionManager`](crate::manager::SessionManager) builds it from the request's
//! cookie and commits it after the handler; the handle itself does no I/O.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::id::SessionId;
use crate::schema::{Dynamic, Map, SessionSchema};
use crate::time::{Clock, SystemClock, Timestamp};

/// One request's session, typed by its schema.
///
/// Cloning is cheap and clones share the same session. Typed schemas read and write through
/// their generated accessors (an extension trait named `<Schema>Ext`); the untyped
/// [`Dynamic`] schema has the plain key/value API of the Nexios documentation.
///
/// ```
/// use session_runtime::Session;
/// let session = Session::detached();
/// session.set("username", "Dunamis").unwrap();
/// assert_eq!(session.get::<String>("username").as_deref(), Some("Dunamis"));
/// assert!(session.is_modified());
/// assert!(!session.has_expired());
/// assert!(session.id().is_none()); // ids are issued when a session is first saved
/// ```
pub struct Session<S: SessionSchema = Dynamic> {
    inner: Arc<Mutex<Inner>>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: SessionSchema> Clone for Session<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _schema: PhantomData,
        }
    }
}

/// The time limits of a policy, in seconds, copied into each handle so that
/// [`Session::expiration_time`] needs no manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// `expiration_time`.
    pub(crate) lifetime: i64,
    /// `idle_timeout`.
    pub(crate) idle: Option<i64>,
    /// `absolute_timeout`.
    pub(crate) absolute: Option<i64>,
}

impl Limits {
    pub(crate) fn of(settings: &session_spec::Settings) -> Self {
        Self {
            lifetime: settings.expiration_time.as_seconds(),
            idle: settings.idle_timeout.map(|l| l.as_seconds()),
            absolute: settings.absolute_timeout.map(|l| l.as_seconds()),
        }
    }
}

/// The timestamps a session carries inside its authenticated payload or record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    /// When the session began (the absolute limit counts from here; rotation keeps it).
    pub(crate) created_at: Timestamp,
    /// When the current id was issued (periodic rotation counts from here).
    pub(crate) id_issued_at: Timestamp,
    /// The last request recorded as activity (the idle limit counts from here).
    pub(crate) last_seen: Timestamp,
    /// The sliding expiry: the last write that carried a change or a refresh, plus
    /// `expiration_time`, capped by the absolute limit.
    pub(crate) expires_at: Timestamp,
}

impl Times {
    /// The times of a session beginning at `now`.
    pub(crate) fn fresh(now: Timestamp, limits: &Limits) -> Self {
        let mut t = Self {
            created_at: now,
            id_issued_at: now,
            last_seen: now,
            expires_at: now,
        };
        t.expires_at = t.slide(now, limits);
        t
    }

    /// `now + expiration_time`, never past the absolute cap.
    pub(crate) fn slide(&self, now: Timestamp, limits: &Limits) -> Timestamp {
        let e = now.add_seconds(limits.lifetime);
        match self.absolute_deadline(limits) {
            Some(cap) => e.min(cap),
            None => e,
        }
    }

    pub(crate) fn absolute_deadline(&self, limits: &Limits) -> Option<Timestamp> {
        limits.absolute.map(|a| self.created_at.add_seconds(a))
    }

    /// The moment the session ends: the earliest of the sliding expiry, the idle limit and
    /// the absolute limit. A session is expired when `now >= deadline`.
    pub(crate) fn deadline(&self, limits: &Limits) -> Timestamp {
        let mut d = self.expires_at;
        if let Some(idle) = limits.idle {
            d = d.min(self.last_seen.add_seconds(idle));
        }
        if let Some(cap) = self.absolute_deadline(limits) {
            d = d.min(cap);
        }
        d
    }
}

/// The state behind a handle.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) data: Map,
    /// The data changed during this request.
    pub(crate) modified: bool,
    /// The id the browser will hold after commit; `None` before the first save and after
    /// `cycle` / `destroy` (a new id is drawn at commit).
    pub(crate) id: Option<SessionId>,
    /// The id and record version as loaded (server-side stores: the record to save over,
    /// or to delete on rotation / destroy).
    pub(crate) loaded: Option<Loaded>,
    pub(crate) times: Times,
    pub(crate) limits: Limits,
    pub(crate) clock: Arc<dyn Clock>,
    /// `cycle()` was called.
    pub(crate) cycle: bool,
    /// `destroy()` was called.
    pub(crate) destroyed: bool,
    /// The cookie was accepted under a fallback key: re-issue it under the primary.
    pub(crate) reissue: bool,
    /// The session came from a valid cookie (as opposed to a fresh session).
    pub(crate) from_cookie: bool,
    /// A session cookie was presented but refused (expired, unknown, tampered, reset): a
    /// removal cookie is owed unless a new session is saved.
    pub(crate) stale_cookie: bool,
    /// The record must be written even without changes (schema upgraded).
    pub(crate) force_write: bool,
    /// A record found unusable at load (corrupt, expired by idle time, no longer fitting
    /// the schema): deleted at commit.
    pub(crate) obsolete: Option<SessionId>,
}

/// What was loaded from a cookie.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    pub(crate) id: SessionId,
    /// Record version (server-side stores); 0 for the cookie backend.
    pub(crate) version: u64,
}

impl Inner {
    /// A fresh session at `now`.
    pub(crate) fn fresh(clock: Arc<dyn Clock>, limits: Limits) -> Self {
        let now = clock.now();
        Self {
            data: Map::new(),
            modified: false,
            id: None,
            loaded: None,
            times: Times::fresh(now, &limits),
            limits,
            clock,
            cycle: false,
            destroyed: false,
            reissue: false,
            from_cookie: false,
            stale_cookie: false,
            force_write: false,
            obsolete: None,
        }
    }
}

impl<S: SessionSchema> Session<S> {
    /// A fresh, empty session not attached to any request (for tests and tools), under the
    /// schema's compiled-in policy and the system clock.
    pub fn detached() -> Self {
        Self::from_inner(Inner::fresh(
            Arc::new(SystemClock),
            Limits::of(&S::settings()),
        ))
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(Mutex::new(inner)),
            _schema: PhantomData,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A handler that panicked while holding the lock leaves data that is still a valid
        // map; recover it instead of propagating the panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session's id: `None` for a session never saved, and after [`cycle`](Self::cycle)
    /// or [`destroy`](Self::destroy) until the commit draws a new one.
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session: Session = Session::detached();
    /// assert!(session.id().is_none());
    /// ```
    pub fn id(&self) -> Option<SessionId> {
        self.lock().id.clone()
    }

    /// A copy of all stored data (Nexios: `get_all`).
    pub fn get_all(&self) -> Map {
        self.lock().data.clone()
    }

    /// Removes every value; the session itself (its id, its age) lives on.
    pub fn clear(&self) {
        let mut inner = self.lock();
        if !inner.data.is_empty() {
            inner.data.clear();
            inner.modified = true;
        }
    }

    /// Whether this request changed the session's data, or asked for a new id or its end.
    pub fn is_modified(&self) -> bool {
        let inner = self.lock();
        inner.modified || inner.cycle || inner.destroyed
    }

    /// When the session ends (Nexios: `get_expiration_time`): the earliest of its sliding
    /// expiry (`expiration_time` after its last write), its idle limit and its absolute
    /// limit, as known at this point of the request.
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session: Session = Session::detached();
    /// let in_a_day = session.expiration_time().as_secs() - 24 * 60 * 60;
    /// assert!(in_a_day > 0);
    /// ```
    pub fn expiration_time(&self) -> Timestamp {
        let inner = self.lock();
        inner.times.deadline(&inner.limits)
    }

    /// Whether the session's time is up (Nexios: `has_expired`).
    ///
    /// The manager never hands out an expired session (it starts a fresh one instead), so
    /// this turns true only when the clock passes [`expiration_time`](Self::expiration_time)
    /// while the handle is held.
    pub fn has_expired(&self) -> bool {
        let inner = self.lock();
        inner.clock.now() >= inner.times.deadline(&inner.limits)
    }

    /// Whether this request began the session: no valid session cookie came with it.
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session: Session = Session::detached();
    /// assert!(session.is_new());
    /// ```
    pub fn is_new(&self) -> bool {
        !self.lock().from_cookie
    }

    /// When the session began (its absolute limit counts from here).
    pub fn created_at(&self) -> Timestamp {
        self.lock().times.created_at
    }

    /// Gives the session a new id at commit, keeping its data (call it on login and on any
    /// privilege change, against session fixation). With a server-side store the record
    /// under the old id is deleted.
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session = Session::detached();
    /// session.set("user", &7).unwrap();
    /// session.cycle();
    /// assert!(session.is_modified());
    /// assert_eq!(session.get::<i32>("user"), Some(7));
    /// ```
    pub fn cycle(&self) {
        let mut inner = self.lock();
        inner.cycle = true;
        inner.id = None;
    }

    /// Ends the session (logout): its data is cleared, its record deleted at commit and a
    /// removal cookie sent. Values set afterwards start a new session with a new id.
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session = Session::detached();
    /// session.set("user", &7).unwrap();
    /// session.destroy();
    /// assert!(session.get_all().is_empty());
    /// assert!(session.is_modified());
    /// ```
    pub fn destroy(&self) {
        let mut inner = self.lock();
        let now = inner.clock.now();
        inner.destroyed = true;
        inner.cycle = false;
        inner.id = None;
        inner.data.clear();
        inner.modified = false;
        inner.force_write = false;
        inner.times = Times::fresh(now, &inner.limits);
    }

    pub(crate) fn get_value<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let inner = self.lock();
        let value = inner.data.get(key)?;
        T::deserialize(value).ok()
    }

    pub(crate) fn insert_value(&self, key: &str, value: serde_json::Value) {
        let mut inner = self.lock();
        if inner.data.get(key) != Some(&value) {
            inner.data.insert(key.to_owned(), value);
            inner.modified = true;
        }
    }

    pub(crate) fn remove_value(&self, key: &str) -> Option<serde_json::Value> {
        let mut inner = self.lock();
        let old = inner.data.remove(key);
        if old.is_some() {
            inner.modified = true;
        }
        old
    }
}

impl Session<Dynamic> {
    /// The value under `key`, if present and of type `T` (Nexios: `get_session`).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get_value(key)
    }

    /// Stores `value` under `key` (Nexios: `set_session`). Storing the value already there
    /// is not a change.
    ///
    /// # Errors
    /// The value cannot be represented as JSON (a map with non-string keys, say).
    pub fn set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.insert_value(key, value);
        Ok(())
    }

    /// Removes `key` and returns whether it was present (Nexios: `delete_session`).
    pub fn delete(&self, key: &str) -> bool {
        self.remove_value(key).is_some()
    }
}

impl<S: SessionSchema> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        let mut map = f.debug_map();
        for (k, v) in &inner.data {
            if S::SENSITIVE.contains(&k.as_str()) {
                map.entry(k, &"<redacted>");
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}
