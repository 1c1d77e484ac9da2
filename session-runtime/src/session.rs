//! The session handle.
//!
//! A [`Session`] is one request's view of a session: its data, its id, its timestamps and
//! what the handler asked for ([`cycle`](Session::cycle), [`destroy`](Session::destroy)).
//! The [`SessionManager`](crate::manager::SessionManager) builds it from the request's
//! cookie and commits it after the handler; the handle itself does no I/O.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use crate::expiry::{Limits, Times};
use crate::id::SessionId;
use crate::schema::{Dynamic, Map, SessionData, SessionSchema, ValidationError};
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
    inner: Arc<Mutex<Inner<S::Data>>>,
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

/// One change a request made to the data, replayed on the fresh record when a commit
/// loses a race (see [`crate::manager`]).
pub(crate) enum Op<D> {
    /// A value stored under a key (a typed field's key is borrowed, not copied); the
    /// change stores it again.
    Set(Key, Change<D>),
    /// A key removed.
    Remove(Key, Change<D>),
    /// Every key removed.
    Clear,
    /// A change computed from the data ([`Session::update`]: the typed collection helpers
    /// `push_x`, `insert_x`, ...); run again on replay, its rules checked again.
    Update(Apply<D>),
}

/// A storage key: borrowed for a typed schema's declared keys (no allocation on the typed
/// accessors' path), owned for the untyped API's.
pub(crate) type Key = Cow<'static, str>;

/// The function of an [`Op::Update`].
pub(crate) type Apply<D> = Arc<dyn Fn(&mut D) -> Result<(), ValidationError> + Send + Sync>;

/// The function of an [`Op::Set`] or [`Op::Remove`]: stores (or removes) one key's value.
pub(crate) type Change<D> = Arc<dyn Fn(&mut D) + Send + Sync>;

/// Puts one key's value as loaded back into the data (see [`Inner::originals`]).
pub(crate) type Restore<D> = Box<dyn Fn(&mut D) + Send + Sync>;

impl<D> std::fmt::Debug for Op<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Set(key, _) => write!(f, "Set({key:?})"),
            Self::Remove(key, _) => write!(f, "Remove({key:?})"),
            Self::Clear => f.write_str("Clear"),
            Self::Update(_) => f.write_str("Update"),
        }
    }
}

impl<D: SessionData> Op<D> {
    /// Applies the operation to `data`.
    pub(crate) fn apply(&self, data: &mut D) -> Result<(), ValidationError> {
        match self {
            Self::Set(_, change) | Self::Remove(_, change) => change(data),
            Self::Clear => data.clear(),
            Self::Update(apply) => apply(data)?,
        }
        Ok(())
    }
}

/// What a request read of the data: the keys whose change by another request makes this
/// one's commit a real conflict.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reads {
    /// Keys read (other than the declared ones below).
    pub(crate) keys: ReadKeys,
    /// Declared keys read, one bit per key by its index in the schema's
    /// [`KEYS`](SessionSchema::KEYS) (bit `i`: `KEYS[i]`): a typed accessor's read is
    /// recorded without allocating.
    pub(crate) declared: u128,
    /// Everything was read (`get_all`).
    pub(crate) all: bool,
}

/// The keys a request read by name ([`Reads::keys`]), each once: the first few short ones
/// copied into an inline buffer (the usual handler reads one or two keys: recording them
/// allocates nothing), the others kept in a set.
#[derive(Clone, Debug)]
pub(crate) struct ReadKeys {
    /// The inline keys' text, one after the other.
    text: [u8; INLINE_TEXT],
    /// Where each inline key ends in `text` (the first `inline` entries).
    ends: [u8; INLINE_KEYS],
    /// How many keys are inline.
    inline: u8,
    /// The keys that did not fit inline (`None` until one does not: a handle that spills
    /// nothing has no set to tear down).
    spilled: Option<BTreeSet<Key>>,
}

/// The bytes of key text [`ReadKeys`] holds inline.
const INLINE_TEXT: usize = 40;
/// The most keys [`ReadKeys`] holds inline.
const INLINE_KEYS: usize = 6;

impl Default for ReadKeys {
    fn default() -> Self {
        Self {
            text: [0; INLINE_TEXT],
            ends: [0; INLINE_KEYS],
            inline: 0,
            spilled: None,
        }
    }
}

impl ReadKeys {
    /// The inline keys, in the order they were read.
    fn inline_keys(&self) -> impl Iterator<Item = &[u8]> {
        let ends = &self.ends[..usize::from(self.inline)];
        ends.iter().scan(0, |start, &end| {
            let key = &self.text[*start..usize::from(end)];
            *start = usize::from(end);
            Some(key)
        })
    }

    /// Whether `key` was recorded.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.inline_keys().any(|k| k == key.as_bytes())
            || self.spilled.as_ref().is_some_and(|s| s.contains(key))
    }

    /// Records `key` (not recorded yet): inline when it fits, else as `owned()` makes it.
    fn insert(&mut self, key: &str, owned: impl FnOnce() -> Key) {
        let start = match usize::from(self.inline) {
            0 => 0,
            n => usize::from(self.ends[n - 1]),
        };
        let end = start + key.len();
        if usize::from(self.inline) < INLINE_KEYS && end <= INLINE_TEXT {
            self.text[start..end].copy_from_slice(key.as_bytes());
            // `end` <= INLINE_TEXT < 256.
            self.ends[usize::from(self.inline)] = end as u8;
            self.inline += 1;
        } else {
            self.spilled.get_or_insert_default().insert(owned());
        }
    }

    /// The recorded keys (inline ones first).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        // Inline text was copied from `str`s whole: it is UTF-8.
        self.inline_keys()
            .filter_map(|k| std::str::from_utf8(k).ok())
            .chain(self.spilled.iter().flatten().map(|k| &**k))
    }

    /// How many keys were recorded.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.inline) + self.spilled.as_ref().map_or(0, BTreeSet::len)
    }

    /// Whether no key was recorded.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The most declared keys [`Reads::declared`] tracks by index; reads of keys past it are
/// kept by name.
const MAX_DECLARED: usize = 128;

impl Reads {
    /// Whether the data this request read is the same in `base` (as loaded) and `fresh`;
    /// `declared` is the schema's [`KEYS`](SessionSchema::KEYS).
    pub(crate) fn unchanged<D: SessionData>(&self, declared: &[&str], base: &D, fresh: &D) -> bool {
        if self.all {
            return base == fresh;
        }
        let same_declared = declared
            .iter()
            .take(MAX_DECLARED)
            .enumerate()
            .filter(|(i, _)| self.declared & (1 << i) != 0)
            .all(|(_, k)| base.same(fresh, k));
        same_declared && self.keys.iter().all(|k| base.same(fresh, k))
    }

    /// Whether nothing was recorded.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.declared == 0 && !self.all
    }
}

/// The state behind a handle, over the schema's [`SessionData`].
pub(crate) struct Inner<D = Map> {
    pub(crate) data: D,
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
    /// The cookie must be sent again although nothing changed: it was accepted under a
    /// fallback key (re-issue under the primary), or it held an id rotated away whose grace
    /// period resolved it to the new one.
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
    /// The data as loaded, copied whole at the first change that touches more than one
    /// key (`clear`, `destroy`, `update`), to tell, on a lost race, whether what this
    /// request read has changed since; `None` while no such change was made.
    pub(crate) base: Option<D>,
    /// While `base` is `None`: how to put back the value each key had as loaded, kept at
    /// the key's first change by `set` / `remove` (the old value moves into it). A request
    /// that sets one field keeps that field's old value, not a copy of the data; one that
    /// changes nothing keeps nothing.
    pub(crate) originals: Vec<(Key, Restore<D>)>,
    /// What this request read.
    pub(crate) reads: Reads,
    /// Whether this handle keeps what a commit that lost a race needs to replay the
    /// request on the fresh record ([`reads`](Self::reads), [`originals`](Self::originals),
    /// [`base`](Self::base), [`ops`](Self::ops)). Only a server-side store can lose a race:
    /// the cookie backend's manager turns it off, and such a handle records none of it.
    pub(crate) replay: bool,
    /// Reads are not recorded while this is above zero ([`Session::untracked`], and the
    /// scratch runs of [`Session::update`]).
    pub(crate) untracked: u32,
    /// What this request changed, in order.
    pub(crate) ops: Vec<Op<D>>,
    /// The values the typed setters stored ([`Session::put_field`]) under the declared
    /// keys of `staged_keys` (bit `i`: the schema's `KEYS[i]`), copied onto the fresh data
    /// by a replay before [`ops`](Self::ops) run: a typed set keeps no closure. Used only
    /// while `ops` holds no `Clear` nor `Update` (a set after one goes into `ops`), so the
    /// copies come first in the request's order too.
    pub(crate) staged: D,
    /// See [`staged`](Self::staged).
    pub(crate) staged_keys: u128,
    /// The values the typed setters replaced, as loaded, under the declared keys of
    /// `kept_keys`: what [`originals`](Self::originals) keeps for the other keys, without
    /// a closure.
    pub(crate) kept: D,
    /// See [`kept`](Self::kept).
    pub(crate) kept_keys: u128,
}

/// What was loaded from a cookie.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    pub(crate) id: SessionId,
    /// Record version (server-side stores); 0 for the cookie backend.
    pub(crate) version: u64,
    /// The id the cookie held when it was rotated away and resolved to `id` during its
    /// grace period: ended with the session (destroy, cycle).
    pub(crate) via: Option<SessionId>,
}

impl<D: SessionData> Inner<D> {
    /// A fresh session at `now`.
    pub(crate) fn fresh(clock: Arc<dyn Clock>, limits: Limits) -> Self {
        let times = Times::fresh(clock.now(), &limits);
        Self::with_times(clock, limits, times, D::default())
    }

    /// A session with `times` (a loaded one's, without reading the clock again) and `data`
    /// (built in place: no empty data to drop), and nothing else yet: no id, nothing asked
    /// for.
    pub(crate) fn with_times(clock: Arc<dyn Clock>, limits: Limits, times: Times, data: D) -> Self {
        Self {
            data,
            modified: false,
            id: None,
            loaded: None,
            times,
            limits,
            clock,
            cycle: false,
            destroyed: false,
            reissue: false,
            from_cookie: false,
            stale_cookie: false,
            force_write: false,
            obsolete: None,
            base: None,
            originals: Vec::new(),
            reads: Reads::default(),
            replay: true,
            untracked: 0,
            ops: Vec::new(),
            staged: D::default(),
            staged_keys: 0,
            kept: D::default(),
            kept_keys: 0,
        }
    }

    /// Transition: the session was written under `loaded` (saved, created or rotated),
    /// holding the handle's data (encoded from it in place, never copied) with `times`.
    /// Everything this request asked for is done.
    pub(crate) fn committed(&mut self, loaded: Loaded, times: Times) {
        self.id = Some(loaded.id.clone());
        self.loaded = Some(loaded);
        self.times = times;
        self.base = None;
        self.forget_originals();
        self.settled();
    }

    /// Transition: the session ended (destroyed, or a refused cookie removed); the handle
    /// now holds a fresh, unsaved session.
    pub(crate) fn removed(&mut self) {
        self.id = None;
        self.loaded = None;
        self.base = None;
        self.forget_originals();
        self.settled();
    }

    /// Clears what a request asked for, once done.
    fn settled(&mut self) {
        self.modified = false;
        self.cycle = false;
        self.destroyed = false;
        self.reissue = false;
        self.stale_cookie = false;
        self.force_write = false;
        self.obsolete = None;
        self.reads = Reads::default();
        self.clear_ops();
    }

    /// Forgets what a replay would do.
    fn clear_ops(&mut self) {
        self.ops.clear();
        self.staged_keys = 0;
    }

    /// Forgets the values kept as loaded (committed, rebased, or copied whole).
    pub(crate) fn forget_originals(&mut self) {
        self.originals.clear();
        self.kept_keys = 0;
    }

    /// Replays this request's changes on `data` (a fresh record's): the typed setters'
    /// values first, then the operations in order.
    ///
    /// # Errors
    /// An operation's change breaks a rule.
    pub(crate) fn replay_on(&self, data: &mut D) -> Result<(), ValidationError> {
        if self.staged_keys != 0 {
            data.copy_fields(&self.staged, self.staged_keys);
        }
        for op in &self.ops {
            op.apply(data)?;
        }
        Ok(())
    }

    /// Keeps the data as loaded, whole, before a change that may touch every key.
    fn snapshot(&mut self) {
        if self.replay && self.base.is_none() {
            let base = self.base().into_owned();
            self.base = Some(base);
            self.forget_originals();
        }
    }

    /// Whether the value of `key` (the declared key at `index`, if it has one) as loaded
    /// is still to be kept: before the first change to that key only, and while no whole
    /// copy was taken.
    fn keeps_original(&self, key: &str, index: Option<usize>) -> bool {
        self.replay
            && self.base.is_none()
            && index.is_none_or(|i| self.kept_keys & (1 << i) == 0)
            && !self.originals.iter().any(|(k, _)| k == key)
    }

    /// Whether a typed set may keep its value in [`staged`](Self::staged): no `Clear` nor
    /// `Update` is in `ops` yet.
    fn stages(&self) -> bool {
        !self
            .ops
            .iter()
            .any(|op| matches!(op, Op::Clear | Op::Update(_)))
    }

    /// The data as loaded (or as last committed or rebased): borrowed while nothing
    /// changed, or after a whole copy; rebuilt from the kept originals otherwise (only on
    /// a lost race). A handle that keeps no replay bookkeeping ([`replay`](Self::replay)
    /// off: the cookie backend) keeps no originals either, so there it is the current data.
    pub(crate) fn base(&self) -> Cow<'_, D> {
        if let Some(base) = &self.base {
            return Cow::Borrowed(base);
        }
        if self.originals.is_empty() && self.kept_keys == 0 {
            return Cow::Borrowed(&self.data);
        }
        let mut base = self.data.clone();
        for (_, restore) in &self.originals {
            restore(&mut base);
        }
        if self.kept_keys != 0 {
            base.copy_fields(&self.kept, self.kept_keys);
        }
        Cow::Owned(base)
    }

    /// Transition: `destroy()`: the data is gone and a new session would begin now.
    fn destroy(&mut self) {
        let now = self.clock.now();
        self.destroyed = true;
        self.cycle = false;
        self.id = None;
        self.snapshot();
        self.data.clear();
        self.modified = false;
        self.force_write = false;
        self.clear_ops();
        self.reads = Reads::default();
        self.times = Times::fresh(now, &self.limits);
    }

    fn record_read(&mut self, key: &str, owned: impl FnOnce() -> Key) {
        if self.replay && self.untracked == 0 && !self.reads.keys.contains(key) {
            self.reads.keys.insert(key, owned);
        }
    }

    /// Records a read of the declared key `key`, `declared` being the schema's keys: by
    /// its index when it has one below [`MAX_DECLARED`], by name otherwise.
    fn record_declared(&mut self, declared: &[&str], key: &'static str) {
        if !self.replay || self.untracked > 0 {
            return;
        }
        match declared.iter().take(MAX_DECLARED).position(|k| *k == key) {
            Some(i) => self.reads.declared |= 1 << i,
            None => self.record_read(key, || Cow::Borrowed(key)),
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

    pub(crate) fn from_inner(inner: Inner<S::Data>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(inner)),
            _schema: PhantomData,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner<S::Data>> {
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
        let mut inner = self.lock();
        if inner.replay && inner.untracked == 0 {
            inner.reads.all = true;
        }
        inner.data.to_map()
    }

    /// Removes every value; the session itself (its id, its age) lives on.
    pub fn clear(&self) {
        let mut inner = self.lock();
        if !inner.data.is_empty() {
            inner.snapshot();
            inner.data.clear();
            inner.modified = true;
            if inner.replay {
                inner.ops.push(Op::Clear);
            }
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
        self.lock().destroy();
    }

    /// Changes the session with `change`, as one operation: `change` runs now on the
    /// current data (its reads are not recorded), and runs again on the fresh data if
    /// another request changed the session before this one commits. Appends, counters and
    /// other read-modify-write steps written this way therefore never conflict: each
    /// request's step lands on top of the others'. A `change` that fails leaves the session
    /// unchanged; one that fails on replay fails the commit with
    /// [`Error::Replay`](crate::Error::Replay), never silently.
    ///
    /// The typed collection helpers (`push_x`, `insert_x`, `remove_x_entry`) are written
    /// with it.
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session: Session = Session::detached();
    /// session
    ///     .update(|s| {
    ///         let n = s.get::<u64>("visits").unwrap_or(0);
    ///         s.set("visits", &(n + 1)).map_err(|e| {
    ///             session_runtime::ValidationError::new("visits", session_runtime::Rule::Type, e.to_string())
    ///         })
    ///     })
    ///     .unwrap();
    /// assert_eq!(session.get::<u64>("visits"), Some(1));
    /// ```
    ///
    /// # Errors
    /// The error `change` returns; the session is then unchanged.
    pub fn update<F>(&self, change: F) -> Result<(), ValidationError>
    where
        F: Fn(&Session<S>) -> Result<(), ValidationError> + Send + Sync + 'static,
    {
        let change = Arc::new(change);
        let apply: Apply<S::Data> = {
            let (clock, limits) = {
                let inner = self.lock();
                (Arc::clone(&inner.clock), inner.limits)
            };
            let change = Arc::clone(&change);
            Arc::new(move |data: &mut S::Data| {
                let scratch = Session::<S>::scratch(Arc::clone(&clock), limits, data.clone());
                change(&scratch)?;
                *data = std::mem::take(&mut scratch.lock().data);
                Ok(())
            })
        };
        let mut data = self.lock().data.clone();
        apply(&mut data)?;
        let mut inner = self.lock();
        if inner.data != data {
            inner.snapshot();
            inner.data = data;
            inner.modified = true;
        }
        if inner.replay {
            inner.ops.push(Op::Update(apply));
        }
        Ok(())
    }

    /// Runs `read` without recording what it reads: a change of those values by a
    /// concurrent request does not make this request's commit a conflict. For values only
    /// shown, never used to compute what is stored (a flash message being displayed).
    ///
    /// ```
    /// use session_runtime::Session;
    /// let session: Session = Session::detached();
    /// let shown: Option<String> = session.untracked(|s| s.get("flash"));
    /// assert!(shown.is_none());
    /// ```
    pub fn untracked<T>(&self, read: impl FnOnce(&Session<S>) -> T) -> T {
        self.lock().untracked += 1;
        let value = read(self);
        self.lock().untracked -= 1;
        value
    }

    /// A handle on a copy of some data, attached to nothing (the runs of an update).
    fn scratch(clock: Arc<dyn Clock>, limits: Limits, data: S::Data) -> Self {
        let mut inner = Inner::fresh(clock, limits);
        inner.data = data;
        inner.untracked = 1;
        // Never committed nor rebased: no copy of the data as loaded is needed.
        inner.base = Some(S::Data::default());
        Self::from_inner(inner)
    }

    /// The value of a typed field (`slot` picks it out of the data), cloned; the read is
    /// recorded under the field's storage key.
    pub(crate) fn field<T: Clone>(
        &self,
        key: &'static str,
        slot: fn(&mut S::Data) -> &mut Option<T>,
    ) -> Option<T> {
        let mut inner = self.lock();
        inner.record_declared(S::KEYS, key);
        slot(&mut inner.data).clone()
    }

    /// Stores (`Some`) or removes (`None`) the value of a typed field, already validated;
    /// returns whether a value was present. Storing the value already there, or removing
    /// an absent one, is not a change.
    pub(crate) fn put_field<T>(
        &self,
        key: &'static str,
        slot: fn(&mut S::Data) -> &mut Option<T>,
        value: Option<T>,
    ) -> bool
    where
        T: Clone + PartialEq + Send + Sync + 'static,
    {
        let mut inner = self.lock();
        let replay = inner.replay;
        let current = slot(&mut inner.data);
        if *current == value {
            return current.is_some();
        }
        if !replay {
            // Nothing kept to replay (the cookie backend): no copy of the value.
            let had = std::mem::replace(current, value).is_some();
            inner.modified = true;
            return had;
        }
        let stored = value.clone();
        let old = std::mem::replace(current, value);
        let had = old.is_some();
        // A declared field of data that copies fields by index keeps its old and new
        // values in the handle's spare structs (no closure, no allocation).
        let index = if <S::Data as SessionData>::FIELDS {
            S::KEYS.iter().take(128).position(|k| *k == key)
        } else {
            None
        };
        let inner = &mut *inner;
        if inner.keeps_original(key, index) {
            match index {
                Some(i) => {
                    *slot(&mut inner.kept) = old;
                    inner.kept_keys |= 1 << i;
                }
                None => {
                    let restore: Restore<S::Data> = Box::new(move |d| *slot(d) = old.clone());
                    inner.originals.push((Cow::Borrowed(key), restore));
                }
            }
        }
        inner.modified = true;
        if let Some(i) = index.filter(|_| inner.stages()) {
            *slot(&mut inner.staged) = stored;
            inner.staged_keys |= 1 << i;
            return had;
        }
        let op = match stored {
            Some(value) => Op::Set(
                Cow::Borrowed(key),
                Arc::new(move |d: &mut S::Data| *slot(d) = Some(value.clone())),
            ),
            None => Op::Remove(Cow::Borrowed(key), Arc::new(move |d| *slot(d) = None)),
        };
        inner.ops.push(op);
        had
    }
}

impl<S: SessionSchema<Data = Map>> Session<S> {
    pub(crate) fn get_value<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.read_value(key, || Cow::Owned(key.to_owned()))
    }

    /// [`get_value`](Self::get_value) for a declared key: no copy of the key is made.
    pub(crate) fn get_static<T: DeserializeOwned>(&self, key: &'static str) -> Option<T> {
        self.read_value(key, || Cow::Borrowed(key))
    }

    fn read_value<T: DeserializeOwned>(&self, key: &str, owned: impl FnOnce() -> Key) -> Option<T> {
        let mut inner = self.lock();
        inner.record_read(key, owned);
        let value = inner.data.get(key)?;
        T::deserialize(value).ok()
    }

    pub(crate) fn insert_value(&self, key: &'static str, value: serde_json::Value) {
        self.insert_with(key, || Cow::Borrowed(key), value);
    }

    /// Stores `value` under `key`; `owned` makes the key kept for a replay (not called
    /// when the handle keeps none: see [`Inner::replay`]).
    fn insert_with(&self, key: &str, owned: impl FnOnce() -> Key, value: serde_json::Value) {
        let mut inner = self.lock();
        if inner.data.get(key) == Some(&value) {
            return;
        }
        inner.modified = true;
        if !inner.replay {
            match inner.data.get_mut(key) {
                Some(slot) => *slot = value,
                None => {
                    inner.data.insert(key.to_owned(), value);
                }
            }
            return;
        }
        let key = owned();
        // An existing key's value is replaced in place (no copy of the key).
        let old = match inner.data.get_mut(key.as_ref()) {
            Some(slot) => Some(std::mem::replace(slot, value.clone())),
            None => inner.data.insert(key.to_string(), value.clone()),
        };
        if inner.keeps_original(&key, None) {
            inner
                .originals
                .push((key.clone(), restore(key.clone(), old)));
        }
        let stored = key.clone();
        let change: Change<Map> = Arc::new(move |d| {
            d.insert(stored.to_string(), value.clone());
        });
        inner.ops.push(Op::Set(key, change));
    }

    pub(crate) fn remove_value(&self, key: &'static str) -> Option<serde_json::Value> {
        self.remove_with(key, || Cow::Borrowed(key))
    }

    /// Removes `key`; `owned` as in [`insert_with`](Self::insert_with).
    fn remove_with(&self, key: &str, owned: impl FnOnce() -> Key) -> Option<serde_json::Value> {
        let mut inner = self.lock();
        let old = inner.data.remove(key)?;
        inner.modified = true;
        if !inner.replay {
            return Some(old);
        }
        let key = owned();
        if inner.keeps_original(&key, None) {
            inner
                .originals
                .push((key.clone(), restore(key.clone(), Some(old.clone()))));
        }
        let removed = key.clone();
        let change: Change<Map> = Arc::new(move |d| {
            d.remove(removed.as_ref());
        });
        inner.ops.push(Op::Remove(key, change));
        Some(old)
    }
}

/// Puts back `old` (or the absence of a value) under `key` of a map.
fn restore(key: Key, old: Option<serde_json::Value>) -> Restore<Map> {
    Box::new(move |d: &mut Map| match &old {
        Some(value) => {
            d.insert(key.to_string(), value.clone());
        }
        None => {
            d.remove(key.as_ref());
        }
    })
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
        self.insert_with(key, || Cow::Owned(key.to_owned()), value);
        Ok(())
    }

    /// Removes `key` and returns whether it was present (Nexios: `delete_session`).
    pub fn delete(&self, key: &str) -> bool {
        self.remove_with(key, || Cow::Owned(key.to_owned()))
            .is_some()
    }
}

impl<S: SessionSchema> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = self.lock().data.to_map();
        let mut map = f.debug_map();
        for (k, v) in &data {
            if S::SENSITIVE.contains(&k.as_str()) {
                map.entry(k, &"<redacted>");
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(session: &Session) {
        let mut inner = session.lock();
        inner.data.insert("a".into(), 1.into());
        inner.data.insert("b".into(), "two".into());
    }

    #[test]
    fn a_set_keeps_the_old_value_of_its_key_not_a_copy_of_the_data() {
        let session = Session::detached();
        loaded(&session);
        let before = session.lock().data.clone();
        session.set("a", &10).unwrap();
        session.set("a", &11).unwrap();
        session.set("c", &3).unwrap();
        assert!(session.delete("b"));
        let inner = session.lock();
        assert!(inner.base.is_none(), "no whole copy for single-key changes");
        assert_eq!(inner.originals.len(), 3);
        assert_eq!(*inner.base(), before);
    }

    #[test]
    fn a_clear_after_a_set_copies_the_data_as_loaded() {
        let session = Session::detached();
        loaded(&session);
        let before = session.lock().data.clone();
        session.set("a", &10).unwrap();
        session.clear();
        session.set("b", &"new").unwrap();
        let inner = session.lock();
        assert_eq!(inner.base.as_ref(), Some(&before));
        assert!(inner.originals.is_empty());
        assert_eq!(*inner.base(), before);
    }

    #[test]
    fn nothing_changed_borrows_the_data() {
        let session = Session::detached();
        loaded(&session);
        let _ = session.get::<u64>("a");
        let inner = session.lock();
        assert!(matches!(inner.base(), Cow::Borrowed(_)));
        assert!(inner.originals.is_empty());
    }

    proptest::proptest! {
        /// The read keys hold every key once, inline or spilled, as a set of the same keys
        /// does (keys short and long, repeated, empty, non-ASCII; past the inline room).
        #[test]
        fn read_keys_hold_what_a_set_holds(
            keys in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(String::new()),
                    "[a-c]{1,3}",
                    "[a-z\u{e9}\u{3000}]{4,12}",
                    "[a-z]{30,45}",
                ],
                0..16,
            )
        ) {
            let mut ours = ReadKeys::default();
            let mut set: BTreeSet<String> = BTreeSet::new();
            for key in &keys {
                proptest::prop_assert_eq!(ours.contains(key), set.contains(key));
                if !ours.contains(key) {
                    ours.insert(key, || Cow::Owned(key.clone()));
                }
                set.insert(key.clone());
            }
            let mut held: Vec<&str> = ours.iter().collect();
            held.sort_unstable();
            proptest::prop_assert_eq!(held, set.iter().map(String::as_str).collect::<Vec<_>>());
            proptest::prop_assert_eq!(ours.len(), set.len());
        }
    }

    /// A read of a short key is kept inline: no allocation, and the replay check sees it.
    #[test]
    fn short_read_keys_are_kept_inline() {
        let mut inner: Inner =
            Inner::fresh(Arc::new(SystemClock), Limits::of(&Dynamic::settings()));
        inner.record_read("counter", || Cow::Owned("counter".to_owned()));
        inner.record_read("counter", || unreachable!("recorded once"));
        assert!(inner.reads.keys.spilled.is_none());
        assert_eq!(inner.reads.keys.iter().collect::<Vec<_>>(), ["counter"]);
        let mut base = Map::new();
        base.insert("counter".into(), 1.into());
        let mut fresh = base.clone();
        fresh.insert("other".into(), 2.into());
        assert!(inner.reads.unchanged(&[], &base, &fresh));
        fresh.insert("counter".into(), 2.into());
        assert!(!inner.reads.unchanged(&[], &base, &fresh));
    }

    #[test]
    fn declared_keys_are_borrowed_not_copied() {
        let session = Session::detached();
        loaded(&session);
        let _: Option<u64> = crate::__private::get(&session, "a");
        crate::__private::set(&session, "b", "b", &"three").unwrap();
        assert!(crate::__private::remove(&session, "a"));
        let inner = session.lock();
        assert!(inner.reads.keys.contains("a"));
        assert!(
            inner
                .reads
                .keys
                .spilled
                .iter()
                .flatten()
                .all(|k| matches!(k, Cow::Borrowed(_)))
        );
        assert!(matches!(&inner.ops[0], Op::Set(Cow::Borrowed("b"), _)));
        assert!(
            inner
                .originals
                .iter()
                .all(|(k, _)| matches!(k, Cow::Borrowed(_)))
        );
        // The untyped API owns its keys; both kinds compare alike.
        drop(inner);
        let _ = session.get::<u64>("b");
        assert!(session.lock().reads.keys.contains("b"));
    }

    #[test]
    fn declared_reads_are_kept_by_index_and_still_tell_a_change() {
        let mut base = Map::new();
        base.insert("a".into(), 1.into());
        base.insert("b".into(), 2.into());
        let mut fresh = base.clone();
        fresh.insert("b".into(), 3.into());
        let declared = ["a", "b"];
        let mut inner: Inner =
            Inner::fresh(Arc::new(SystemClock), Limits::of(&Dynamic::settings()));
        inner.record_declared(&declared, "a");
        assert_eq!(inner.reads.declared, 0b01);
        assert!(inner.reads.keys.is_empty(), "no key copied into the set");
        assert!(inner.reads.unchanged(&declared, &base, &fresh));
        inner.record_declared(&declared, "b");
        assert!(!inner.reads.unchanged(&declared, &base, &fresh));
        // A key outside the declared list is kept by name.
        inner.record_declared(&declared, "c");
        assert!(inner.reads.keys.contains("c"));
        // Nothing is recorded without replay bookkeeping.
        let mut cookie: Inner =
            Inner::fresh(Arc::new(SystemClock), Limits::of(&Dynamic::settings()));
        cookie.replay = false;
        cookie.record_declared(&declared, "a");
        assert!(cookie.reads.is_empty());
    }

    /// The first cookie of a commit's `Set-Cookie` values, as a request sends it back.
    fn cookie_of(set_cookie: &[String]) -> String {
        set_cookie[0].split(';').next().unwrap().to_owned()
    }

    /// A cookie session never loses a race (there is no record to rebase on): its handle
    /// records no reads, no original values and no operations, while a store's does; the
    /// data committed is the same.
    #[tokio::test]
    async fn a_cookie_session_keeps_no_replay_bookkeeping() {
        use crate::manager::SessionManager;
        let settings = crate::Settings {
            secure: false,
            ..crate::Settings::default()
        };
        let cookie = SessionManager::cookie(settings.clone(), crate::keys::Keys::generate());
        let store =
            SessionManager::with_store(settings, Arc::new(crate::store::MemoryStore::new()));
        for (manager, replay) in [(cookie.unwrap(), false), (store.unwrap(), true)] {
            let fresh = manager.load(Vec::<&str>::new()).await.unwrap();
            fresh.set("a", &1).unwrap();
            fresh.set("b", &2).unwrap();
            let header = cookie_of(&manager.commit(&fresh, false).await.unwrap());
            let session = manager.load([header.as_str()]).await.unwrap();
            assert_eq!(session.get::<u64>("a"), Some(1));
            session.set("a", &3).unwrap();
            assert!(session.delete("b"));
            session.set("c", &4).unwrap();
            let _ = crate::__private::get::<Dynamic, u64>(&session, "c");
            {
                let inner = session.lock();
                assert_eq!(inner.replay, replay);
                assert_eq!(inner.ops.len(), if replay { 3 } else { 0 });
                assert_eq!(inner.originals.len(), if replay { 3 } else { 0 });
                assert_eq!(inner.reads.keys.len(), if replay { 2 } else { 0 });
                assert!(inner.modified);
            }
            let header = cookie_of(&manager.commit(&session, false).await.unwrap());
            let again = manager.load([header.as_str()]).await.unwrap();
            assert_eq!(
                serde_json::Value::Object(again.get_all()),
                serde_json::json!({"a": 3, "c": 4}),
                "replay {replay}"
            );
            again.clear();
            assert_eq!(
                again.lock().base.is_some(),
                replay,
                "a whole copy only to replay"
            );
            assert!(again.is_modified());
        }
    }
}
