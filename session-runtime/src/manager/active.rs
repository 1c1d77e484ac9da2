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

use sha2::{Digest, Sha256};

use super::{COMMIT_ATTEMPTS, SessionManager, Trace};
use crate::error::Result;
use crate::payload;
use crate::schema::{Map, SessionSchema};
use crate::session::Session;
use crate::store::{Record, Rotation, SessionStore, StoreError, StoreKey};
use crate::time::Timestamp;

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
    pub(super) fn principal_of(&self, data: &Map) -> Option<String> {
        let key = self.inner.settings.principal.as_deref()?;
        match data.get(key)? {
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
        let now = self.inner.clock.now();
        let current = current.and_then(|s| s.id()).map(|id| id.store_key());
        let mut out = Vec::new();
        for (key, record) in store.sessions_of(principal, now).await? {
            if Trace::decode(&record.payload).is_some() {
                continue;
            }
            let Ok(envelope) = payload::decode(&record.payload) else {
                continue;
            };
            if envelope.n.as_deref().is_some_and(|n| n != S::NAME) {
                continue;
            }
            let times = envelope.times();
            if now >= times.deadline(&self.inner.limits) {
                continue;
            }
            let fields = shown
                .iter()
                .filter(|k| !S::SENSITIVE.contains(k))
                .filter_map(|k| envelope.d.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            out.push(ActiveSession {
                handle: SessionHandle::of(&key),
                created_at: times.created_at,
                last_seen: times.last_seen,
                expires_at: times.deadline(&self.inner.limits),
                current: current == Some(key),
                fields,
            });
        }
        out.sort_by(|a, b| (a.created_at, &a.handle).cmp(&(b.created_at, &b.handle)));
        Ok(out)
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

    /// Deletes, by compare-and-swap at the listed version, every listed session of
    /// `principal` that `matches`, until the fresh list holds none.
    async fn end_matching(
        &self,
        principal: &str,
        matches: impl Fn(&StoreKey) -> bool,
    ) -> Result<u64> {
        let store = self.indexed_store()?;
        let mut ended = 0;
        for _ in 0..COMMIT_ATTEMPTS {
            let now = self.inner.clock.now();
            let listed: Vec<(StoreKey, Record)> = store
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
    pub fn with_revocation_store(mut self, store: std::sync::Arc<dyn SessionStore>) -> Self {
        std::sync::Arc::make_mut(&mut self.inner).revocation = Some(store);
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
    pub(super) async fn revoked(&self, data: &Map, issued: Timestamp) -> Result<bool> {
        let Some(store) = self.revocation()? else {
            return Ok(false);
        };
        let Some(principal) = self.principal_of(data) else {
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
        let (data, issued) = {
            let inner = session.lock();
            if inner.loaded.is_none() || inner.destroyed || self.inner.revocation.is_none() {
                return Ok(false);
            }
            (inner.data.clone(), inner.times.id_issued_at)
        };
        self.revoked(&data, issued).await
    }

    /// Raises `principal`'s "not valid before" time to `not_before` (never lowers it).
    async fn revoke(&self, principal: &str, not_before: Timestamp) -> Result<()> {
        let store = self
            .revocation()?
            .ok_or_else(|| StoreError::Unsupported("no `principal` is declared".to_owned()))?;
        let key = revocation_key(S::NAME, principal);
        // Every cookie issued before `not_before` is dead by this time anyway.
        let lifetime = self
            .inner
            .limits
            .lifetime
            .max(self.inner.limits.idle.unwrap_or(0));
        let record = Record {
            payload: not_before.0.to_be_bytes().to_vec(),
            expires_at: not_before.add_seconds(lifetime.max(1)),
            version: 0,
            principal: None,
        };
        for _ in 0..COMMIT_ATTEMPTS {
            let now = self.inner.clock.now();
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
}
