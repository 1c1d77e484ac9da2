//! [`MemoryStore`]: records in a map in this process.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    Limited, Record, Result, Rotation, SessionLimit, SessionStore, Sessions, StoreError, StoreKey,
    plan_limit,
};
use crate::time::Timestamp;

/// A store keeping records in a map in this process; for tests and single-process
/// development. Clones share the same records. Everything is lost when the process exits.
///
/// Expired records stay in memory (hidden from [`SessionStore::load`]) until
/// [`SessionStore::purge_expired`] runs; run [`super::spawn_purge_task`] in a long-lived
/// process. Like every store here, `create` refuses a key that holds a record, expired or
/// not, until it is purged or deleted (keys are SHA-256 of 128-bit random ids: they do not
/// collide).
///
/// ```
/// use session_runtime::store::{MemoryStore, Record, SessionStore, StoreError, StoreKey};
/// use session_runtime::Timestamp;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let key = StoreKey([7; 32]);
/// let record = Record { payload: b"{}".to_vec(), expires_at: Timestamp(100), version: 0, principal: None };
/// store.create(&key, &record).await.unwrap();
/// assert!(matches!(store.create(&key, &record).await, Err(StoreError::Exists)));
/// let loaded = store.load(&key, Timestamp(99)).await.unwrap().unwrap();
/// assert_eq!(loaded.version, 1);
/// assert_eq!(store.load(&key, Timestamp(100)).await.unwrap(), None); // expired at 100
/// # });
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<Records>>,
    max_payload: Option<usize>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("records", &self.len())
            .field("max_payload", &self.max_payload)
            .finish()
    }
}

impl MemoryStore {
    /// An empty store with no payload limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuses payloads larger than `bytes` with [`StoreError::TooLarge`].
    ///
    /// ```
    /// use session_runtime::store::{MemoryStore, Record, SessionStore, StoreError, StoreKey};
    /// use session_runtime::Timestamp;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = MemoryStore::new().with_max_payload(4);
    /// let record = Record { payload: vec![0; 5], expires_at: Timestamp(100), version: 0, principal: None };
    /// let err = store.create(&StoreKey([1; 32]), &record).await.unwrap_err();
    /// assert!(matches!(err, StoreError::TooLarge { size: 5, max: 4 }));
    /// # });
    /// ```
    pub fn with_max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// How many records are held, expired ones included.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        // Every critical section leaves the map consistent (one insert or remove), so a
        // panic elsewhere while holding the lock cannot leave it half-changed.
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check_size(&self, record: &Record) -> Result<()> {
        match self.max_payload {
            Some(max) if record.payload.len() > max => Err(StoreError::TooLarge {
                size: record.payload.len(),
                max,
            }),
            _ => Ok(()),
        }
    }
}

/// The hasher of the record map: a store key is SHA-256 of a random session id, so its
/// bytes are uniform already, and a keyed hash (SipHash, several hundred instructions per
/// look-up) would only scramble random bytes again. Every 8 bytes are folded in with one
/// multiplication (FxHash's step). Keys are never chosen by clients (a request presents an
/// id, the map holds the hashes of ids the server drew), so no client can crowd one bucket.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The records and the principal index, changed together under one lock.
#[derive(Default)]
struct Records {
    map: HashMap<StoreKey, Record, BuildHasherDefault<KeyHasher>>,
    /// principal -> the keys of the stored records carrying it.
    index: HashMap<String, BTreeSet<StoreKey>>,
}

impl Records {
    fn len(&self) -> usize {
        self.map.len()
    }

    fn contains_key(&self, key: &StoreKey) -> bool {
        self.map.contains_key(key)
    }

    fn get(&self, key: &StoreKey) -> Option<&Record> {
        self.map.get(key)
    }

    fn unindex(&mut self, key: &StoreKey, record: &Record) {
        if let Some(principal) = &record.principal {
            if let Some(keys) = self.index.get_mut(principal) {
                keys.remove(key);
                if keys.is_empty() {
                    self.index.remove(principal);
                }
            }
        }
    }

    fn insert(&mut self, key: StoreKey, record: Record) {
        if let Some(principal) = &record.principal {
            self.index.entry(principal.clone()).or_default().insert(key);
        }
        if let Some(old) = self.map.insert(key, record) {
            if old.principal != self.map[&key].principal {
                self.unindex(&key, &old);
            }
        }
    }

    fn remove(&mut self, key: &StoreKey) -> Option<Record> {
        let old = self.map.remove(key)?;
        self.unindex(key, &old);
        Some(old)
    }

    fn retain(&mut self, mut keep: impl FnMut(&Record) -> bool) {
        let gone: Vec<StoreKey> = self
            .map
            .iter()
            .filter(|(_, record)| !keep(record))
            .map(|(key, _)| *key)
            .collect();
        for key in &gone {
            self.remove(key);
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.check_size(record)?;
        let mut records = self.lock();
        if records.contains_key(key) {
            return Err(StoreError::Exists);
        }
        records.insert(
            *key,
            Record {
                payload: record.payload.clone(),
                expires_at: record.expires_at,
                version: 1,
                principal: record.principal.clone(),
            },
        );
        Ok(())
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        Ok(self
            .lock()
            .get(key)
            .filter(|record| record.expires_at > now)
            .cloned())
    }

    /// Lends the record under the lock: a request reads its session from the stored
    /// bytes, not from a copy of them.
    fn lend(&self, key: &StoreKey, now: Timestamp, read: &mut dyn FnMut(Option<&Record>)) -> bool {
        read(
            self.lock()
                .get(key)
                .filter(|record| record.expires_at > now),
        );
        true
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        self.check_size(record)?;
        let mut records = self.lock();
        // One look-up: the record is checked and, most often, updated through it.
        let stored = records.map.get_mut(key).ok_or(StoreError::NotFound)?;
        if stored.version != record.version {
            return Err(StoreError::Conflict {
                expected: record.version,
            });
        }
        let version = stored.version + 1;
        if stored.principal == record.principal {
            // The same principal: the record is updated in place, its payload buffer
            // reused (no allocation, no index change).
            stored.payload.clear();
            stored.payload.extend_from_slice(&record.payload);
            stored.expires_at = record.expires_at;
            stored.version = version;
            return Ok(version);
        }
        let stored = Record {
            payload: record.payload.clone(),
            expires_at: record.expires_at,
            version,
            principal: record.principal.clone(),
        };
        records.insert(*key, stored);
        Ok(version)
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        if let Some((_, record)) = rotation.new {
            self.check_size(record)?;
        }
        if let Some(record) = rotation.keep_old {
            self.check_size(record)?;
        }
        let mut records = self.lock();
        let stored = records.get(rotation.old).ok_or(StoreError::NotFound)?;
        if stored.version != rotation.version {
            return Err(StoreError::Conflict {
                expected: rotation.version,
            });
        }
        if let Some((key, _)) = rotation.new {
            if records.contains_key(key) {
                return Err(StoreError::Exists);
            }
        }
        match rotation.keep_old {
            Some(record) => {
                let old = Record {
                    payload: record.payload.clone(),
                    expires_at: record.expires_at,
                    version: rotation.version + 1,
                    principal: record.principal.clone(),
                };
                records.insert(*rotation.old, old);
            }
            None => {
                records.remove(rotation.old);
            }
        }
        if let Some((key, record)) = rotation.new {
            let new = Record {
                payload: record.payload.clone(),
                expires_at: record.expires_at,
                version: 1,
                principal: record.principal.clone(),
            };
            records.insert(*key, new);
        }
        Ok(())
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        self.lock().remove(key);
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let mut records = self.lock();
        let before = records.len();
        records.retain(|record| record.expires_at > now);
        Ok((before - records.len()) as u64)
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let records = self.lock();
        let Some(keys) = records.index.get(principal) else {
            return Ok(Vec::new());
        };
        Ok(keys
            .iter()
            .filter_map(|key| records.get(key).map(|record| (*key, record)))
            .filter(|(_, record)| record.expires_at > now)
            .map(|(key, record)| (key, record.clone()))
            .collect())
    }

    fn limits_sessions(&self) -> bool {
        true
    }

    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        // Listed and trimmed under the one lock every write takes.
        let mut records = self.lock();
        let live: Vec<(StoreKey, Timestamp)> = match records.index.get(limit.principal) {
            Some(keys) => keys
                .iter()
                .filter_map(|key| records.get(key).map(|record| (*key, record.expires_at)))
                .filter(|(_, expires_at)| *expires_at > now)
                .collect(),
            None => Vec::new(),
        };
        let (delete, refused) = plan_limit(limit, &live);
        for key in &delete {
            records.remove(key);
        }
        Ok(Limited::of(delete, refused))
    }
}
