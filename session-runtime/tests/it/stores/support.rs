//! What the store tests share: a file store in a temporary directory, a test sealer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use session_runtime::Timestamp;
use session_runtime::keys::{Key, Keys};
use session_runtime::store::{
    FileStore, Limited, Record, Sealer, SessionLimit, SessionStore, StoreError, StoreKey,
};

/// The session keys of the file stores in these tests: fixed, so that every store opened
/// on a directory (another process's included) reads the others' files.
pub(crate) fn test_keys() -> Keys {
    Keys::single(Key::from_secret(b"file store tests: a fixed secret!").expect("32 bytes"))
}

/// A [`FileStore`] in a temporary directory removed when the value is dropped.
#[derive(Debug)]
pub(crate) struct TempFileStore {
    pub store: FileStore,
    pub dir: tempfile::TempDir,
}

impl TempFileStore {
    /// A store in `<tempdir>/sessions` (so the store creates its directory).
    pub(crate) fn new() -> Self {
        Self::with(|builder| builder)
    }

    /// A store sealing at rest with `sealer`.
    pub(crate) fn sealed(sealer: Arc<dyn Sealer>) -> Self {
        Self::with(|builder| builder.sealer(sealer))
    }

    pub(crate) fn with(
        options: impl FnOnce(
            session_runtime::store::file::FileStoreBuilder,
        ) -> session_runtime::store::file::FileStoreBuilder,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = options(FileStore::builder(dir.path().join("sessions"), test_keys()))
            .open()
            .expect("the store opens");
        Self { store, dir }
    }

    pub(crate) fn sessions(&self) -> PathBuf {
        self.store.dir().to_path_buf()
    }
}

#[async_trait::async_trait]
impl SessionStore for TempFileStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<(), StoreError> {
        self.store.create(key, record).await
    }
    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.store.load(key, now).await
    }
    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64, StoreError> {
        self.store.save(key, record).await
    }
    async fn rotate(
        &self,
        rotation: &session_runtime::store::Rotation<'_>,
    ) -> Result<(), StoreError> {
        self.store.rotate(rotation).await
    }

    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.store.delete(key).await
    }
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.store.purge_expired(now).await
    }
    fn indexes_principals(&self) -> bool {
        self.store.indexes_principals()
    }
    async fn sessions_of(
        &self,
        principal: &str,
        now: Timestamp,
    ) -> Result<Vec<(StoreKey, Record)>, StoreError> {
        self.store.sessions_of(principal, now).await
    }

    fn limits_sessions(&self) -> bool {
        self.store.limits_sessions()
    }

    async fn limit_sessions(
        &self,
        limit: &SessionLimit<'_>,
        now: Timestamp,
    ) -> Result<Limited, StoreError> {
        self.store.limit_sessions(limit, now).await
    }
}

/// AES-256-GCM with a random nonce prepended, the shape of the codec's sealing.
pub(crate) struct TestSealer(Aes256Gcm);

impl std::fmt::Debug for TestSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestSealer")
    }
}

impl TestSealer {
    pub(crate) fn arc(key: [u8; 32]) -> Arc<dyn Sealer> {
        Arc::new(Self(Aes256Gcm::new(&key.into())))
    }
}

impl Sealer for TestSealer {
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).map_err(|e| StoreError::backend(e.to_string()))?;
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| StoreError::backend("encryption failed"))?;
        Ok([&nonce[..], &sealed].concat())
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(12)
            .ok_or_else(|| StoreError::Corrupt("sealed payload too short".into()))?;
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| StoreError::Corrupt("sealed payload does not open".into()))
    }
}

/// The names in a directory, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the directory lists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .into_string()
                .expect("a UTF-8 name")
        })
        // The store's lock files live in a subdirectory of their own; a session's spare
        // file (the previous version, which its next save overwrites) goes with it.
        .filter(|name| name != session_runtime::store::file::LOCK_DIR)
        .filter(|name| !name.starts_with(session_runtime::store::file::SPARE_PREFIX))
        .collect();
    names.sort();
    names
}

/// Whether `name` is a session file name: 64 lower-case hex digits.
pub(crate) fn is_session_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) fn record(payload: &[u8], expires_at: i64) -> Record {
    Record {
        payload: payload.to_vec(),
        expires_at: Timestamp(expires_at),
        version: 0,
        principal: None,
    }
}
