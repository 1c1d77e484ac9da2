//! Active sessions: a principal's live sessions, listed and ended (OWASP ASVS V3.3.3,
//! V3.3.4; 5.0 V7.4).
//!
//! The spec declares whose session it is (`principal = "user"` in `[session]`); every
//! write stores that field's value with the record ([`Record::principal`]), and a store
//! that keeps a principal index ([`SessionStore::sessions_of`]) updates it in the same
//! atomic step as the record. The manager lists a principal's sessions with what an
//! application may show, and ends one of them by an opaque [`SessionHandle`] (never the
//! session id), all but the current one, or all of them.
//!
//! **Races.** Ending is a compare-and-swap delete of the version listed, repeated on the
//! fresh list until no matching session is left: a session saved meanwhile is deleted at
//! its new version, and for "all" and "all others" one rotated meanwhile is found again
//! under its new id (its old id is a forward to it, which then leads nowhere). A commit
//! never brings an ended session back (a save or a rotation of a deleted record fails), so
//! an ended session stays ended. Ending one session by its handle ends what the handle
//! named; if it rotated to a new id meanwhile, nothing is ended and `false` says to list
//! again.
//!
//! **The cookie backend** keeps no list; with a revocation store (any server-side store)
//! it keeps, per principal, a "not valid before" time checked on every load and every
//! commit, so that "all" and "all others" end cookie sessions too.
//!
//! **Operations.** [`StoreSessions`] does the same on a store without a manager, schema or
//! policy, for support staff: it is what the `session-db sessions` and `session-db revoke`
//! commands run, through the same functions as the manager's methods.

use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::{COMMIT_ATTEMPTS, SessionManager, Trace};
use crate::error::Result;
use crate::schema::envelope;
use crate::schema::{Map, SessionData, SessionSchema};
use crate::session::{Limits, Session};
use crate::store::{Record, Rotation, SessionStore, Sessions, StoreError, StoreKey};
use crate::time::{Clock, SystemClock, Timestamp};

/// An opaque name for one of a principal's sessions, safe to put in a page or a form: it is
/// derived from the record's store key (itself a hash of the id) and cannot be turned back
/// into the session id or its cookie. It names the session only among its principal's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionHandle(String);

impl SessionHandle {
    fn of(key: &StoreKey) -> Self {
        let digest = Sha256::new()
            .chain_update(b"session-handle\0")
            .chain_update(key.0)
            .finalize();
        Self(
            digest[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        )
    }

    /// The handle as text (32 lower-case hex digits).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A handle read back from a form or a URL; `None` unless it has the handle's shape.
    ///
    /// ```
    /// use session_runtime::manager::SessionHandle;
    /// assert!(SessionHandle::parse("0123456789abcdef0123456789abcdef").is_some());
    /// assert!(SessionHandle::parse("../etc/passwd").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(text.to_owned()))
    }
}

impl std::fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One of a principal's live sessions, as an application may show it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveSession {
    /// Names the session for [`SessionManager::end_session_of`].
    pub handle: SessionHandle,
    /// When the session began (a login; kept across id rotations).
    pub created_at: Timestamp,
    /// The last request recorded as activity.
    pub last_seen: Timestamp,
    /// When the session ends unless used again.
    pub expires_at: Timestamp,
    /// Whether this is the session the listing request came with.
    pub current: bool,
    /// The fields the spec marks `shown` (such as a device label), as stored; sensitive
    /// fields are never included.
    pub fields: Map,
}

impl<S: SessionSchema> SessionManager<S> {
    /// The declared principal's value in `data`, as indexed: a string as is, an integer in
    /// decimal; `None` when no principal is declared or the field is empty.
    pub(super) fn principal_of(&self, data: &S::Data) -> Option<String> {
        let key = self.inner.settings.principal.as_deref()?;
        match data.value(key)?.as_ref() {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The principal of `session` (the declared field's value), if any.
    pub fn principal(&self, session: &Session<S>) -> Option<String> {
        self.principal_of(&session.lock().data)
    }

    /// The store, when it can list a principal's sessions.
    fn indexed_store(&self) -> Result<&dyn SessionStore> {
        match &self.inner.backend {
            super::Backend::Store(store) if store.indexes_principals() => Ok(store.as_ref()),
            super::Backend::Store(_) => Err(StoreError::Unsupported(
                "this session store keeps no principal index".to_owned(),
            )
            .into()),
            super::Backend::Cookie(_) => Err(StoreError::Unsupported(
                "the cookie backend keeps no server state: its sessions cannot be listed"
                    .to_owned(),
            )
            .into()),
        }
    }

    /// The live sessions of `principal`, oldest first. `current` marks the session of the
    /// request asking; the fields the spec marks `shown` ([`SessionSchema::SHOWN`], such
    /// as a device label the application sets at login) are copied into
    /// [`ActiveSession::fields`].
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] on the cookie backend and on a store without a
    /// principal index; store failures.
    pub async fn sessions_of(
        &self,
        principal: &str,
        current: Option<&Session<S>>,
    ) -> Result<Vec<ActiveSession>> {
        self.sessions_of_showing(principal, current, S::SHOWN).await
    }

    /// [`SessionManager::sessions_of`] showing only `fields`: of a declared schema, those
    /// of them the spec marks `shown` (a narrower page); of the untyped [`Dynamic`]
    /// schema, which declares nothing, the fields named. Sensitive fields are never shown.
    ///
    /// [`Dynamic`]: crate::Dynamic
    ///
    /// # Errors
    /// As [`SessionManager::sessions_of`].
    pub async fn sessions_of_showing(
        &self,
        principal: &str,
        current: Option<&Session<S>>,
        fields: &[&str],
    ) -> Result<Vec<ActiveSession>> {
        let shown: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|k| S::KEYS.is_empty() || S::SHOWN.contains(k))
            .collect();
        let store = self.indexed_store()?;
        let listing = Listing {
            schema: Some(S::NAME),
            limits: Some(&self.inner.limits),
            current: current.and_then(|s| s.id()).map(|id| id.store_key()),
            shown: &shown,
            sensitive: S::SENSITIVE,
        };
        list(store, principal, self.inner.clock.now(), &listing).await
    }

    /// Ends the session of `principal` named by `handle`; `false` when it names none of
    /// its live sessions (ended already, or rotated to a new id meanwhile: list again).
    ///
    /// # Errors
    /// As [`SessionManager::sessions_of`].
    pub async fn end_session_of(&self, principal: &str, handle: &SessionHandle) -> Result<bool> {
        let ended = self
            .end_matching(principal, |key| SessionHandle::of(key) == *handle)
            .await?;
        Ok(ended > 0)
    }

    /// Whether `principal` has its `max_sessions` live sessions already (not counting
    /// `current`, the session about to log in): a login handler asks before logging in
    /// under `on_max_sessions = "refuse"`, to answer with a page of its own ("log out on
    /// another device first"). Only advice: a login racing another is judged by the
    /// store at commit, which then fails with [`Error::SessionLimit`](crate::Error::SessionLimit).
    /// `false` when no limit is declared.
    ///
    /// # Errors
    /// As [`SessionManager::sessions_of`].
    pub async fn at_session_limit(
        &self,
        principal: &str,
        current: Option<&Session<S>>,
    ) -> Result<bool> {
        let Some(max) = self.inner.settings.max_sessions else {
            return Ok(false);
        };
        let store = self.indexed_store()?;
        let own = current.and_then(|s| s.id()).map(|id| id.store_key());
        let others = store
            .sessions_of(principal, self.inner.clock.now())
            .await?
            .iter()
            .filter(|(key, _)| Some(*key) != own)
            .count();
        Ok(others >= max as usize)
    }

    /// Ends every session of the principal of `session` except `session` itself (after a
    /// password change, or "log out everywhere else"); returns how many were ended. A
    /// session without a principal has no others.
    ///
    /// On the cookie backend (with its revocation store) every cookie of the principal
    /// issued up to now is revoked and `session` is re-issued at its commit; the count is
    /// then unknown and `0` is returned.
    ///
    /// # Errors
    /// As [`SessionManager::sessions_of`].
    pub async fn end_other_sessions(&self, session: &Session<S>) -> Result<u64> {
        let Some(principal) = self.principal(session) else {
            return Ok(0);
        };
        if let super::Backend::Cookie(_) = &self.inner.backend {
            // Every cookie of the principal issued up to this second is revoked; this one
            // is re-issued as if issued after it.
            let not_before = self.inner.clock.now().add_seconds(1);
            self.revoke(&principal, not_before).await?;
            let mut inner = session.lock();
            inner.times.id_issued_at = not_before;
            inner.reissue = true;
            return Ok(0);
        }
        let current = session.id().map(|id| id.store_key());
        self.end_matching(&principal, |key| Some(*key) != current)
            .await
    }

    /// Ends every session of `principal` (an administrator's "log out everywhere", or
    /// after a password change); returns how many were ended (on the cookie backend, which
    /// revokes every cookie issued up to now and cannot count them, `0`).
    ///
    /// # Errors
    /// As [`SessionManager::sessions_of`].
    pub async fn end_all_sessions(&self, principal: &str) -> Result<u64> {
        if let super::Backend::Cookie(_) = &self.inner.backend {
            let not_before = self.inner.clock.now().add_seconds(1);
            self.revoke(principal, not_before).await?;
            return Ok(0);
        }
        self.end_matching(principal, |_| true).await
    }

    /// [`end_matching`] on this manager's indexed store.
    async fn end_matching(
        &self,
        principal: &str,
        matches: impl Fn(&StoreKey) -> bool,
    ) -> Result<u64> {
        let store = self.indexed_store()?;
        end_matching(store, self.inner.clock.as_ref(), principal, matches).await
    }
}

/// What a listing keeps and shows.
struct Listing<'a> {
    /// Only records of this schema (a manager's own); `None`: every schema.
    schema: Option<&'a str>,
    /// The policy's limits, applied on top of the stored expiry (a manager's); `None`: the
    /// expiry stored with the record.
    limits: Option<&'a Limits>,
    /// The key of the session asking, marked [`ActiveSession::current`].
    current: Option<StoreKey>,
    /// The fields copied into [`ActiveSession::fields`].
    shown: &'a [&'a str],
    /// Fields never copied.
    sensitive: &'a [&'a str],
}

/// The live sessions of `principal` in `store`, oldest first.
async fn list(
    store: &dyn SessionStore,
    principal: &str,
    now: Timestamp,
    listing: &Listing<'_>,
) -> Result<Vec<ActiveSession>> {
    let mut out = Vec::new();
    for (key, record) in store.sessions_of(principal, now).await? {
        if Trace::decode(&record.payload).is_some() {
            continue;
        }
        let Ok(envelope) = envelope::decode(&record.payload) else {
            continue;
        };
        if let (Some(n), Some(schema)) = (envelope.n.as_deref(), listing.schema) {
            if n != schema {
                continue;
            }
        }
        let times = envelope.times();
        let expires_at = match listing.limits {
            Some(limits) => times.deadline(limits),
            None => times.expires_at.min(record.expires_at),
        };
        if now >= expires_at {
            continue;
        }
        let data = envelope.d.into_map();
        let fields = listing
            .shown
            .iter()
            .filter(|k| !listing.sensitive.contains(k))
            .filter_map(|k| data.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        out.push(ActiveSession {
            handle: SessionHandle::of(&key),
            created_at: times.created_at,
            last_seen: times.last_seen,
            expires_at,
            current: listing.current == Some(key),
            fields,
        });
    }
    out.sort_by(|a, b| (a.created_at, &a.handle).cmp(&(b.created_at, &b.handle)));
    Ok(out)
}

/// Deletes, by compare-and-swap at the listed version, every listed session of
/// `principal` that `matches`, until the fresh list holds none.
async fn end_matching(
    store: &dyn SessionStore,
    clock: &dyn Clock,
    principal: &str,
    matches: impl Fn(&StoreKey) -> bool,
) -> Result<u64> {
    let mut ended = 0;
    for _ in 0..COMMIT_ATTEMPTS {
        let now = clock.now();
        let listed: Sessions = store
            .sessions_of(principal, now)
            .await?
            .into_iter()
            .filter(|(key, _)| matches(key))
            .collect();
        if listed.is_empty() {
            return Ok(ended);
        }
        for (key, record) in &listed {
            let rotation = Rotation {
                old: key,
                version: record.version,
                new: None,
                keep_old: None,
            };
            match store.rotate(&rotation).await {
                Ok(()) => ended += 1,
                // Deleted by someone else, or changed meanwhile: the next list decides.
                Err(StoreError::NotFound | StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Err(StoreError::Conflict { expected: 0 }.into())
}

/// The key of a principal's revocation record in the revocation store.
fn revocation_key(schema: &str, principal: &str) -> StoreKey {
    StoreKey(
        Sha256::new()
            .chain_update(b"session-revocation\0")
            .chain_update(schema.as_bytes())
            .chain_update(b"\0")
            .chain_update(principal.as_bytes())
            .finalize()
            .into(),
    )
}

fn not_before_of(record: &Record) -> Option<Timestamp> {
    let bytes: [u8; 8] = record.payload.as_slice().try_into().ok()?;
    Some(Timestamp(i64::from_be_bytes(bytes)))
}

impl<S: SessionSchema> SessionManager<S> {
    /// Attaches the cookie backend's revocation store (any server-side store; the
    /// `revocation_store` of the settings, which [`SessionManager::from_settings`] opens
    /// and attaches itself). It keeps, per principal, a "not valid before" time: every
    /// load refuses a cookie whose id was issued before it, so
    /// [`SessionManager::end_other_sessions`] and [`SessionManager::end_all_sessions`]
    /// work on the cookie backend too (listing does not: the server keeps no list).
    pub fn with_revocation_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        Arc::make_mut(&mut self.inner).revocation = Some(store);
        self
    }

    /// The revocation store, when the settings declare a principal (an error when the
    /// settings name one that was not attached).
    fn revocation(&self) -> Result<Option<&dyn SessionStore>> {
        if self.inner.settings.principal.is_none() {
            return Ok(None);
        }
        match &self.inner.revocation {
            Some(store) => Ok(Some(store.as_ref())),
            None => Err(StoreError::Unsupported(
                "the cookie backend's revocation store is not attached (`SessionManager::with_revocation_store`)"
                    .to_owned(),
            )
            .into()),
        }
    }

    /// Whether a cookie session with this data, its id issued at `issued`, was revoked.
    pub(super) async fn revoked(&self, data: &S::Data, issued: Timestamp) -> Result<bool> {
        if self.revocation()?.is_none() {
            return Ok(false);
        }
        self.revoked_principal(self.principal_of(data), issued)
            .await
    }

    /// [`Self::revoked`] for the principal of a session (only its principal is needed,
    /// not a copy of its data).
    async fn revoked_principal(
        &self,
        principal: Option<String>,
        issued: Timestamp,
    ) -> Result<bool> {
        let Some(store) = self.revocation()? else {
            return Ok(false);
        };
        let Some(principal) = principal else {
            return Ok(false);
        };
        let key = revocation_key(S::NAME, &principal);
        let now = self.inner.clock.now();
        Ok(match store.load(&key, now).await? {
            Some(record) => not_before_of(&record).is_some_and(|t| issued < t),
            None => false,
        })
    }

    /// [`Self::revoked`] for a loaded cookie session being committed.
    pub(super) async fn revoked_session(&self, session: &Session<S>) -> Result<bool> {
        let (principal, issued) = {
            let inner = session.lock();
            if inner.loaded.is_none() || inner.destroyed || self.inner.revocation.is_none() {
                return Ok(false);
            }
            (self.principal_of(&inner.data), inner.times.id_issued_at)
        };
        self.revoked_principal(principal, issued).await
    }

    /// Raises `principal`'s "not valid before" time to `not_before` (never lowers it).
    async fn revoke(&self, principal: &str, not_before: Timestamp) -> Result<()> {
        let store = self
            .revocation()?
            .ok_or_else(|| StoreError::Unsupported("no `principal` is declared".to_owned()))?;
        // Every cookie issued before `not_before` is dead by this time anyway.
        let lifetime = self
            .inner
            .limits
            .lifetime
            .max(self.inner.limits.idle.unwrap_or(0));
        let revocation = Revocation {
            schema: S::NAME,
            principal,
            not_before,
            lifetime,
        };
        raise_not_before(store, self.inner.clock.as_ref(), &revocation).await
    }
}

/// A raise of a principal's "not valid before" time.
struct Revocation<'a> {
    /// The schema's name ([`SessionSchema::NAME`]), part of the record's key.
    schema: &'a str,
    principal: &'a str,
    not_before: Timestamp,
    /// The longest a cookie issued before `not_before` can live after it, in seconds.
    lifetime: i64,
}

/// Raises the principal's "not valid before" time in `store` (never lowers it).
async fn raise_not_before(
    store: &dyn SessionStore,
    clock: &dyn Clock,
    revocation: &Revocation<'_>,
) -> Result<()> {
    let key = revocation_key(revocation.schema, revocation.principal);
    let not_before = revocation.not_before;
    let record = Record {
        payload: not_before.0.to_be_bytes().to_vec(),
        expires_at: not_before.add_seconds(revocation.lifetime.max(1)),
        version: 0,
        principal: None,
    };
    for _ in 0..COMMIT_ATTEMPTS {
        let now = clock.now();
        match store.load(&key, now).await? {
            None => match store.create(&key, &record).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Exists) => {}
                Err(e) => return Err(e.into()),
            },
            Some(stored) if not_before_of(&stored).is_some_and(|t| t >= not_before) => {
                return Ok(());
            }
            Some(stored) => {
                let update = Record {
                    version: stored.version,
                    expires_at: record.expires_at.max(stored.expires_at),
                    ..record.clone()
                };
                match store.save(&key, &update).await {
                    Ok(_) => return Ok(()),
                    Err(StoreError::Conflict { .. } | StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(StoreError::Conflict { expected: 0 }.into())
}

/// The latest time every store can hold (9999-12-31 23:59:59 UTC, the databases' latest
/// expiry): purging "as expired at" this time removes every record.
const END_OF_TIME: Timestamp = Timestamp(253_402_300_799);

/// A store's sessions for operations (support staff, the `session-db` command), without a
/// manager: a principal's sessions listed and ended as [`SessionManager::sessions_of`],
/// [`SessionManager::end_session_of`] and [`SessionManager::end_all_sessions`] do it (the
/// same functions, so the same guarantees: an ended session never comes back), every
/// session of the store ended, and a principal's cookies revoked in a cookie backend's
/// revocation store.
///
/// Without the application's policy, a listing shows the expiry stored with each record
/// (what the policy gave at its last write), and keeps the sessions of every schema
/// unless [`StoreSessions::schema`] names one.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use session_runtime::manager::StoreSessions;
/// use session_runtime::spec::Backend;
/// use session_runtime::store::MemoryStore;
/// use session_runtime::{SessionManager, Settings};
/// let store = Arc::new(MemoryStore::new());
/// let settings = Settings { backend: Backend::Memory, principal: Some("user".into()), ..Settings::default() };
/// let app: SessionManager = SessionManager::with_store(settings, store.clone()).unwrap();
/// for _ in 0..2 {
///     let session = app.load(None::<&str>).await.unwrap();
///     session.set("user", "ada").unwrap();
///     app.commit(&session, false).await.unwrap();
/// }
/// let support = StoreSessions::new(store);
/// let listed = support.sessions_of("ada").await.unwrap();
/// assert_eq!(listed.len(), 2);
/// assert!(support.end_session_of("ada", &listed[0].handle).await.unwrap());
/// assert_eq!(support.sessions_of("ada").await.unwrap().len(), 1);
/// assert_eq!(support.end_every_session().await.unwrap(), 1);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct StoreSessions {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    schema: Option<String>,
}

impl StoreSessions {
    /// The sessions of `store`, on the system clock, of every schema.
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            schema: None,
        }
    }

    /// Uses `clock` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Lists only the sessions of the schema named `name` ([`SessionSchema::NAME`], the
    /// spec's `name`), when the store holds several applications' sessions.
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.schema = Some(name.into());
        self
    }

    /// The store, when it keeps a principal index.
    fn indexed(&self) -> Result<&dyn SessionStore> {
        if self.store.indexes_principals() {
            Ok(self.store.as_ref())
        } else {
            Err(
                StoreError::Unsupported("this session store keeps no principal index".to_owned())
                    .into(),
            )
        }
    }

    /// The live sessions of `principal`, oldest first (no fields are shown, no session is
    /// current).
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] on a store without a principal index; store failures.
    pub async fn sessions_of(&self, principal: &str) -> Result<Vec<ActiveSession>> {
        let listing = Listing {
            schema: self.schema.as_deref(),
            limits: None,
            current: None,
            shown: &[],
            sensitive: &[],
        };
        list(self.indexed()?, principal, self.clock.now(), &listing).await
    }

    /// Ends the session of `principal` named by `handle` (from
    /// [`StoreSessions::sessions_of`] or an application's listing); `false` when it names
    /// none of its live sessions.
    ///
    /// # Errors
    /// As [`StoreSessions::sessions_of`].
    pub async fn end_session_of(&self, principal: &str, handle: &SessionHandle) -> Result<bool> {
        let ended = end_matching(self.indexed()?, self.clock.as_ref(), principal, |key| {
            SessionHandle::of(key) == *handle
        })
        .await?;
        Ok(ended > 0)
    }

    /// Ends every session of `principal`; returns how many were ended.
    ///
    /// # Errors
    /// As [`StoreSessions::sessions_of`].
    pub async fn end_all_sessions(&self, principal: &str) -> Result<u64> {
        end_matching(self.indexed()?, self.clock.as_ref(), principal, |_| true).await
    }

    /// Ends every session in the store, of every principal and none, and every other
    /// record it holds (a cookie backend's revocation records too); returns how many
    /// records were removed. It is the store's purge as if at the latest time a store can
    /// hold ([`SessionStore::purge_expired`]), so any store can do it, a user's own too;
    /// a commit in flight meanwhile finds its record gone and never brings it back.
    ///
    /// # Errors
    /// Store failures.
    pub async fn end_every_session(&self) -> Result<u64> {
        Ok(self.store.purge_expired(END_OF_TIME).await?)
    }

    /// Revokes every cookie of `principal` issued up to now, in this store used as a
    /// cookie backend's revocation store (`revocation_store`): raises the principal's
    /// "not valid before" time (never lowers it), which the application checks on every
    /// load and commit. `schema` is the application's [`SessionSchema::NAME`] (the spec's
    /// `name`); `lifetime` the longest a cookie can live unused, in seconds (the larger of
    /// its `expiration_time` and `idle_timeout`): the record is kept that long. Returns the
    /// new "not valid before" time.
    ///
    /// # Errors
    /// Store failures.
    pub async fn revoke_cookies_of(
        &self,
        schema: &str,
        principal: &str,
        lifetime: i64,
    ) -> Result<Timestamp> {
        let not_before = self.clock.now().add_seconds(1);
        let revocation = Revocation {
            schema,
            principal,
            not_before,
            lifetime,
        };
        raise_not_before(self.store.as_ref(), self.clock.as_ref(), &revocation).await?;
        Ok(not_before)
    }
}
