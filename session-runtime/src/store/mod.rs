//! Server-side stores: small and swappable.
//!
//! A store loads, creates, saves, deletes and purges opaque records keyed by the SHA-256 of
//! a session id; it knows nothing of cookies or HTTP. Users can write their own store
//! against [`SessionStore`].

use crate::time::Timestamp;

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod database;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;

/// The key of a record: SHA-256 of the session id, so a copy of the store holds no usable
/// cookie.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(pub [u8; 32]);

impl StoreKey {
    /// The key as 64 lower-case hex digits (for file names and logs).
    pub fn to_hex(&self) -> String {
        use std::fmt::Write;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not a secret, but keep logs short.
        write!(f, "StoreKey({}..)", &self.to_hex()[..12])
    }
}

/// One stored session record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The serialized session (opaque to the store; possibly encrypted).
    pub payload: Vec<u8>,
    /// When the record stops being valid. A store never returns an expired record.
    pub expires_at: Timestamp,
    /// Optimistic-concurrency version: the version as loaded. `create` stores version 1;
    /// `save` succeeds only when the stored version equals this one, and stores it plus one.
    pub version: u64,
}

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `create` found a record under the key already.
    #[error("a session record with this key exists already")]
    Exists,
    /// `save` found no record (deleted, expired, or never created).
    #[error("the session record no longer exists")]
    NotFound,
    /// `save` found a newer version: another request changed the session first.
    #[error("the session record was changed concurrently (expected version {expected})")]
    Conflict {
        /// The version the caller had loaded.
        expected: u64,
    },
    /// The payload is larger than the store accepts; nothing was stored.
    #[error("session payload of {size} bytes exceeds the store's limit of {max} bytes")]
    TooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A stored record could not be read (corrupt file, bad row).
    #[error("corrupt session record: {0}")]
    Corrupt(String),
    /// The backend is unreachable or timed out; worth a 503 and a retry.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store is configured wrongly (found when it is opened).
    #[error("invalid session store configuration: {0}")]
    Config(String),
    /// Any other backend failure.
    #[error("session store error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StoreError {
    /// Wraps any error as [`StoreError::Backend`].
    pub fn backend(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::Backend(error.into())
    }
}

/// Result alias of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A server-side session store.
///
/// Contract (checked by the conformance suite, [`crate::conformance`]):
/// - `create` never overwrites: a live record under the key gives [`StoreError::Exists`]
///   (an expired one may be replaced);
/// - `load` never returns a record whose `expires_at <= now`;
/// - `save` is a compare-and-swap on `version`: [`StoreError::Conflict`] when the stored
///   version differs, [`StoreError::NotFound`] when the record is gone (a save never
///   brings back a deleted session); it returns the new version;
/// - `delete` of a missing record is not an error;
/// - `purge_expired` removes records with `expires_at <= now` and returns how many.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new record with version 1.
    ///
    /// # Errors
    /// [`StoreError::Exists`] when a live record has the key; backend failures.
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()>;

    /// Loads a live record.
    ///
    /// # Errors
    /// Backend failures; a missing or expired record is `Ok(None)`.
    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>>;

    /// Replaces a record if its stored version is `record.version`; returns the new version.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::TooLarge`],
    /// backend failures.
    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64>;

    /// Deletes a record.
    ///
    /// # Errors
    /// Backend failures.
    async fn delete(&self, key: &StoreKey) -> Result<()>;

    /// Deletes every record expired at `now`; returns how many were removed.
    ///
    /// # Errors
    /// Backend failures.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64>;
}
