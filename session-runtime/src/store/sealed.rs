//! Encryption at rest for any store: [`SealedStore`] seals every payload before the inner
//! store writes it and opens it after the inner store reads it.
//!
//! The database and Redis backends use it when configured with `encrypt = true`
//! ([`super::open`]); the file store seals inside its own file format instead (its header
//! is authenticated with the keys too).
//!
//! # What a sealed payload is bound to
//!
//! The associated data of every seal is the record's key (the SHA-256 of the session id),
//! its version and its expiry, which the inner store keeps in clear beside the payload. A
//! sealed payload copied into another row, or a row whose `expires_at` or `version` was
//! edited, does not open. The version a record will have once stored is known before it is
//! written: `create` and a rotation's new record store version 1, `save` stores the loaded
//! version plus one, and a rotation's `keep_old` stores the rotation's version plus one
//! ([`SessionStore`]'s contract).
//!
//! # Keys
//!
//! A [`KeySealer`](crate::store::KeySealer) seals under the primary key and opens under any
//! of the keys, fallbacks included. Key rotation therefore needs no migration: put the new
//! key first and the old one among the fallbacks; a record sealed under the old key is read
//! and, at the session's next save, sealed again under the new one. A record whose key was
//! removed does not open: [`SessionStore::load`] returns [`StoreError::Corrupt`](super::StoreError::Corrupt), the
//! session manager starts a fresh session (logged), and the record is left in place, as
//! the file store leaves an unreadable file (the key may have been removed by mistake and
//! be put back); the purge removes it at its expiry, which is stored in clear.
//!
//! Payloads written before `encrypt = true` was set are not sealed and are refused the same
//! way: turning encryption on signs everyone out once.

use std::sync::Arc;

use super::{
    Limited, Record, Result, Rotation, Sealer, SessionLimit, SessionStore, Sessions, StoreKey,
};
use crate::time::Timestamp;

/// A store whose payloads are encrypted at rest by a [`Sealer`].
///
/// ```
/// use std::sync::Arc;
/// use session_runtime::store::KeySealer;
/// use session_runtime::keys::Keys;
/// use session_runtime::store::{MemoryStore, Record, SessionStore, StoreKey};
/// use session_runtime::store::sealed::SealedStore;
/// use session_runtime::Timestamp;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let inner = Arc::new(MemoryStore::new());
/// let store = SealedStore::new(inner.clone(), Arc::new(KeySealer::new(Keys::generate())));
/// let key = StoreKey([7; 32]);
/// let record = Record { payload: b"{\"user\":\"ada\"}".to_vec(), expires_at: Timestamp(100), version: 1, principal: None };
/// store.create(&key, &record).await.unwrap();
/// // The inner store holds ciphertext; the sealed store gives the payload back.
/// let raw = inner.load(&key, Timestamp(0)).await.unwrap().unwrap();
/// assert!(!raw.payload.windows(3).any(|w| w == b"ada"));
/// assert_eq!(store.load(&key, Timestamp(0)).await.unwrap().unwrap().payload, record.payload);
/// # });
/// ```
#[derive(Debug)]
pub struct SealedStore<S: ?Sized> {
    inner: Arc<S>,
    sealer: Arc<dyn Sealer>,
}

impl<S: SessionStore + ?Sized> SealedStore<S> {
    /// Seals the payloads of `inner` with `sealer`.
    pub fn new(inner: Arc<S>, sealer: Arc<dyn Sealer>) -> Self {
        Self { inner, sealer }
    }

    /// The store holding the sealed records.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }

    /// `record`, sealed as it will be stored under `key` at `version`.
    fn seal(&self, key: &StoreKey, record: &Record, version: u64) -> Result<Record> {
        let payload = self
            .sealer
            .seal(&record.payload, &aad(key, version, record.expires_at))?;
        Ok(Record {
            payload,
            expires_at: record.expires_at,
            version: record.version,
            principal: record.principal.clone(),
        })
    }
}

/// The associated data binding a sealed payload to its record.
fn aad(key: &StoreKey, version: u64, expires_at: Timestamp) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"session-record/v1\0");
    aad.extend_from_slice(&key.0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&expires_at.0.to_be_bytes());
    aad
}

#[async_trait::async_trait]
impl<S: SessionStore + ?Sized> SessionStore for SealedStore<S> {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let sealed = self.seal(key, record, 1)?;
        self.inner.create(key, &sealed).await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let Some(mut record) = self.inner.load(key, now).await? else {
            return Ok(None);
        };
        record.payload = self.sealer.open(
            &record.payload,
            &aad(key, record.version, record.expires_at),
        )?;
        Ok(Some(record))
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        let sealed = self.seal(key, record, record.version.saturating_add(1))?;
        self.inner.save(key, &sealed).await
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        let new = match rotation.new {
            Some((key, record)) => Some((key, self.seal(key, record, 1)?)),
            None => None,
        };
        let keep_old = match rotation.keep_old {
            Some(record) => {
                Some(self.seal(rotation.old, record, rotation.version.saturating_add(1))?)
            }
            None => None,
        };
        self.inner
            .rotate(&Rotation {
                old: rotation.old,
                version: rotation.version,
                new: new.as_ref().map(|(key, record)| (*key, record)),
                keep_old: keep_old.as_ref(),
            })
            .await
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        self.inner.delete(key).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        self.inner.purge_expired(now).await
    }

    fn indexes_principals(&self) -> bool {
        self.inner.indexes_principals()
    }

    /// The principal stays in clear beside the sealed payload (the index needs it).
    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let mut out = self.inner.sessions_of(principal, now).await?;
        for (key, record) in &mut out {
            record.payload = self.sealer.open(
                &record.payload,
                &aad(key, record.version, record.expires_at),
            )?;
        }
        Ok(out)
    }

    fn limits_sessions(&self) -> bool {
        self.inner.limits_sessions()
    }

    /// Passed through: the limit reads only keys, expiries and the principal, all in clear.
    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        self.inner.limit_sessions(limit, now).await
    }
}
