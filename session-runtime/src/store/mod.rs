//! Server-side stores: small and swappable.
//!
//! A store loads, creates, saves, deletes and purges opaque records keyed by the SHA-256 of
//! a session id; it knows nothing of cookies or HTTP. Users can write their own store
//! against [`SessionStore`], and check it with the conformance suite (feature `test-util`:
//! the `session_runtime::conformance` module and `session_runtime::store_conformance_tests!`).
//!
//! | backend | type | where the data lives |
//! |---|---|---|
//! | `cookie` | none ([`Storage::Cookie`]) | in the signed or encrypted cookie itself |
//! | `memory` | [`MemoryStore`] | a map in this process (tests, development) |
//! | `file` | [`FileStore`] | one file per session in a 0700 directory |
//! | `postgres`, `mysql` | `DieselStore` (features `postgres`, `mysql`) | a table |
//! | `redis` | `RedisStore` (feature `redis`) | a Redis server or cluster |
//!
//! With `encrypt = true`, the database and Redis stores are wrapped in a
//! [`sealed::SealedStore`]: payloads encrypted at rest with the session keys.
//!
//! [`open`] turns the configured [`Backend`] into a [`Storage`].
//!
//! ```
//! use session_runtime::spec::settings::Backend;
//! use session_runtime::store::{self, OpenOptions, Storage};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let storage = store::open(&Backend::Memory, &OpenOptions::new()).await.unwrap();
//! assert!(matches!(storage, Storage::Server(_)));
//! let storage = store::open(&Backend::Cookie, &OpenOptions::new()).await.unwrap();
//! assert!(matches!(storage, Storage::Cookie));
//! # });
//! ```

use std::sync::Arc;

use session_spec::settings::{Backend, CookieMode, OnMaxSessions};

use crate::codec::{Codec, CodecContext, CodecError};
use crate::keys::Keys;
use crate::time::Timestamp;

// The Diesel stores (PostgreSQL, MySQL), in the `diesel/` folder.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[path = "diesel/mod.rs"]
pub mod database;
pub mod file;
pub mod memory;
#[cfg(feature = "mysql")]
pub use database::mysql;
#[cfg(feature = "postgres")]
pub use database::postgres;
pub mod purge;
#[cfg(feature = "redis")]
pub mod redis;
pub mod sealed;

pub use crate::id::StoreKey;
pub use file::FileStore;
pub use memory::MemoryStore;
pub use purge::spawn_purge_task;

/// A principal's live sessions, each with its store key: what
/// [`SessionStore::sessions_of`] returns.
pub type Sessions = Vec<(StoreKey, Record)>;

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
    /// Whose session it is (the spec's declared `principal` field, as text), or `None`
    /// (anonymous, no principal declared, or a forwarding record). A store that keeps a
    /// principal index ([`SessionStore::sessions_of`]) updates it in the same atomic step
    /// as the record itself.
    pub principal: Option<String>,
}

impl Record {
    /// The record if it is still live at `now` (`expires_at > now`), `None` once it has
    /// expired: what [`SessionStore::load`] returns for a record it read back.
    ///
    /// ```
    /// use session_runtime::{Record, Timestamp};
    ///
    /// let record = Record { payload: vec![1], expires_at: Timestamp(100), version: 1, principal: None };
    /// assert!(record.clone().live(Timestamp(99)).is_some());
    /// assert_eq!(record.live(Timestamp(100)), None);
    /// ```
    #[must_use]
    pub fn live(self, now: Timestamp) -> Option<Self> {
        (self.expires_at > now).then_some(self)
    }
}

/// One atomic rotation of a record (see [`SessionStore::rotate`]).
#[derive(Clone, Copy, Debug)]
pub struct Rotation<'a> {
    /// The record being replaced.
    pub old: &'a StoreKey,
    /// The version of `old` the caller loaded: the rotation happens only if the stored
    /// record is still at this version.
    pub version: u64,
    /// The record created in its place (stored at version 1), if any.
    pub new: Option<(&'a StoreKey, &'a Record)>,
    /// What `old` holds afterwards: `None` deletes it; `Some(record)` replaces it (its
    /// payload and expiry; the stored version becomes `version + 1`), as the forwarding
    /// record a periodic rotation leaves for its grace period.
    pub keep_old: Option<&'a Record>,
}

/// A limit on a principal's live sessions, applied by [`SessionStore::limit_sessions`]
/// right after a session gained the principal (a login).
#[derive(Clone, Copy, Debug)]
pub struct SessionLimit<'a> {
    /// Whose sessions are counted.
    pub principal: &'a str,
    /// The session that just gained the principal: never ended to make room for another
    /// (`EndOldest`), and the one refused (`Refuse`).
    pub newcomer: &'a StoreKey,
    /// The most live sessions the principal may keep (at least 1).
    pub max: u32,
    /// What happens past the limit.
    pub policy: OnMaxSessions,
}

/// What [`SessionStore::limit_sessions`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Limited {
    /// The newcomer stays; these sessions of the principal were ended (deleted) to keep
    /// it within the limit (empty when it already was).
    Kept {
        /// The keys of the ended sessions.
        ended: Vec<StoreKey>,
    },
    /// `Refuse`: the principal was over the limit with the newcomer, which was deleted.
    Refused,
}

/// The decision of a limit over the principal's live sessions `live` (key and expiry,
/// the newcomer included if it is still stored): which keys to delete, and whether the
/// newcomer is refused. Every store applies it under the lock (or in the transaction, or
/// the script) in which it listed `live`, so that parallel logins are judged one after
/// the other.
///
/// `EndOldest` deletes the sessions closest to their expiry (the oldest, or with a
/// sliding expiry the ones unused for longest; ties by key), never the newcomer;
/// `Refuse` deletes the newcomer when the principal has more than `max` with it.
///
/// ```
/// use session_runtime::spec::OnMaxSessions;
/// use session_runtime::store::{plan_limit, SessionLimit, StoreKey};
/// use session_runtime::Timestamp;
/// let (a, b, new) = (StoreKey([1; 32]), StoreKey([2; 32]), StoreKey([3; 32]));
/// let live = [(a, Timestamp(50)), (b, Timestamp(40)), (new, Timestamp(90))];
/// let limit = SessionLimit { principal: "ada", newcomer: &new, max: 2, policy: OnMaxSessions::EndOldest };
/// assert_eq!(plan_limit(&limit, &live), (vec![b], false));
/// let limit = SessionLimit { policy: OnMaxSessions::Refuse, ..limit };
/// assert_eq!(plan_limit(&limit, &live), (vec![new], true));
/// ```
pub fn plan_limit(
    limit: &SessionLimit<'_>,
    live: &[(StoreKey, Timestamp)],
) -> (Vec<StoreKey>, bool) {
    let max = limit.max.max(1) as usize;
    if live.len() <= max {
        return (Vec::new(), false);
    }
    let has_newcomer = live.iter().any(|(key, _)| key == limit.newcomer);
    match limit.policy {
        OnMaxSessions::Refuse if has_newcomer => (vec![*limit.newcomer], true),
        OnMaxSessions::Refuse => (Vec::new(), false),
        OnMaxSessions::EndOldest => {
            let mut others: Vec<(Timestamp, StoreKey)> = live
                .iter()
                .filter(|(key, _)| key != limit.newcomer)
                .map(|(key, expires)| (*expires, *key))
                .collect();
            others.sort();
            let over = live.len() - max;
            (
                others.into_iter().take(over).map(|(_, key)| key).collect(),
                false,
            )
        }
    }
}

impl Limited {
    /// The outcome of a [`plan_limit`] decision once applied.
    pub fn of(ended: Vec<StoreKey>, refused: bool) -> Self {
        if refused {
            Self::Refused
        } else {
            Self::Kept { ended }
        }
    }
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
    /// The store does not offer this operation (a store without a principal index asked
    /// for a principal's sessions).
    #[error("not supported by this session store: {0}")]
    Unsupported(String),
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
/// Contract (checked by the conformance suite, `session_runtime::conformance`, feature
/// `test-util`):
/// - `create` never overwrites: a live record under the key gives [`StoreError::Exists`]
///   (an expired one may be replaced);
/// - `load` never returns a record whose `expires_at <= now`;
/// - `save` is a compare-and-swap on `version`: [`StoreError::Conflict`] when the stored
///   version differs, [`StoreError::NotFound`] when the record is gone (a save never
///   brings back a deleted session); it returns the new version;
/// - `rotate` is one atomic step: the old record is replaced (deleted, or overwritten by
///   `keep_old`) and the new one created only if the old one is still stored at the loaded
///   version; otherwise nothing changes ([`StoreError::NotFound`], [`StoreError::Conflict`],
///   or [`StoreError::Exists`] when the new key is taken). A rotation without a new record
///   and without `keep_old` is a compare-and-swap delete;
/// - `delete` of a missing record is not an error;
/// - `purge_expired` removes records with `expires_at <= now` and returns how many;
/// - a store that keeps a principal index ([`SessionStore::indexes_principals`]) keeps it
///   equal, after every operation, to the stored records carrying each
///   [`Record::principal`]: `sessions_of` lists exactly the live ones, never a deleted,
///   replaced or purged one.
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

    /// Lends the live record under `key` (or `None`, as [`load`](Self::load) would answer)
    /// to `read`, without copying it, and returns `true`; or returns `false` without
    /// calling `read` when the store cannot (the default): the caller then uses `load`.
    ///
    /// For a store that holds its records in this process ([`MemoryStore`]): the manager
    /// reads the session from the stored bytes under the store's lock, instead of a copy
    /// of them per request. `read` must not call the store. A store that reads its records
    /// from elsewhere (a file, a database, a wrapper that decrypts) keeps the default.
    fn lend(&self, key: &StoreKey, now: Timestamp, read: &mut dyn FnMut(Option<&Record>)) -> bool {
        let _ = (key, now, read);
        false
    }

    /// Replaces a record if its stored version is `record.version`; returns the new version.
    ///
    /// # Errors
    /// [`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::TooLarge`],
    /// backend failures.
    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64>;

    /// Replaces `rotation.old` by `rotation.new` in one atomic step, if the old record is
    /// still stored at `rotation.version` (see [`Rotation`]). Nothing changes on an error.
    /// SQL stores do it in one transaction, the Redis example in one script, the file store
    /// under the per-key locks of both records (in-process and across processes).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the old record is gone, [`StoreError::Conflict`] when
    /// it is at another version, [`StoreError::Exists`] when the new key is taken,
    /// [`StoreError::TooLarge`], backend failures.
    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()>;

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

    /// Whether this store keeps the principal index behind [`SessionStore::sessions_of`].
    /// The default is `false`: a store that does not override both methods cannot list a
    /// principal's sessions, and the manager refuses a declared `principal` on it.
    fn indexes_principals(&self) -> bool {
        false
    }

    /// The live records (`expires_at > now`) whose [`Record::principal`] is `principal`,
    /// with their keys, in no particular order.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] from a store without a principal index (the default);
    /// backend failures.
    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let _ = (principal, now);
        Err(StoreError::Unsupported(
            "this store keeps no principal index (`SessionStore::sessions_of`)".to_owned(),
        ))
    }

    /// Whether this store applies [`SessionStore::limit_sessions`]. The default is
    /// `false`, and the manager refuses a declared `max_sessions` on such a store.
    fn limits_sessions(&self) -> bool {
        false
    }

    /// Keeps the principal of a session that just gained it (a login) within
    /// `limit.max` live sessions, in one atomic step with the index: it lists the
    /// principal's live sessions and deletes what [`plan_limit`] decides under one lock,
    /// transaction or script that parallel calls for the same principal cannot interleave
    /// with (so N parallel logins leave exactly `max`, never more, and never end the same
    /// session twice instead of two). A deleted session stays deleted: a later `save` or
    /// `rotate` of it gets [`StoreError::NotFound`].
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] from a store that does not limit sessions (the
    /// default); backend failures.
    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        let _ = (limit, now);
        Err(StoreError::Unsupported(
            "this store cannot limit a principal's sessions (`SessionStore::limit_sessions`)"
                .to_owned(),
        ))
    }
}

#[async_trait::async_trait]
impl<T: SessionStore + ?Sized> SessionStore for Arc<T> {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        (**self).create(key, record).await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        (**self).load(key, now).await
    }

    fn lend(&self, key: &StoreKey, now: Timestamp, read: &mut dyn FnMut(Option<&Record>)) -> bool {
        (**self).lend(key, now, read)
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        (**self).save(key, record).await
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        (**self).rotate(rotation).await
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        (**self).delete(key).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        (**self).purge_expired(now).await
    }

    fn indexes_principals(&self) -> bool {
        (**self).indexes_principals()
    }

    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        (**self).sessions_of(principal, now).await
    }

    fn limits_sessions(&self) -> bool {
        (**self).limits_sessions()
    }

    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        (**self).limit_sessions(limit, now).await
    }
}

/// Encryption of stored payloads at rest ("sealing"), with the session keys.
///
/// A store that supports it (the [`FileStore`]) seals every payload before writing it and
/// opens it after reading it. `aad` (associated data) binds the ciphertext to where it is
/// stored (the record's key, version and expiry), so a sealed payload cannot be moved to
/// another record or have its header edited unnoticed.
///
/// Implementations must be authenticated encryption (AES-256-GCM or similar): `open` must
/// refuse any ciphertext that was not produced by `seal` with one of its keys and the same
/// `aad`.
pub trait Sealer: Send + Sync + std::fmt::Debug + 'static {
    /// Encrypts `plaintext`, binding `aad`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when encryption fails.
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>>;

    /// Decrypts what [`Sealer::seal`] produced with the same `aad`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the ciphertext is not authentic under any key.
    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>>;
}

/// A [`Sealer`] for stores that encrypt at rest (the file store's `encrypt = true`):
/// AES-256-GCM under the session keys, bound to the store's associated data (the record's
/// key, version and expiry) with [`CodecContext::record`].
///
/// Records are sealed under the primary key and open under any configured key; a record
/// sealed under a fallback is re-sealed under the primary at its next save. A record that
/// does not open (changed, moved, or sealed under a removed key) is
/// [`StoreError::Corrupt`].
///
/// ```
/// use session_runtime::store::KeySealer;
/// use session_runtime::keys::Keys;
/// use session_runtime::store::Sealer;
/// let sealer = KeySealer::new(Keys::generate());
/// let sealed = sealer.seal(b"payload", b"record 1").unwrap();
/// assert_eq!(sealer.open(&sealed, b"record 1").unwrap(), b"payload");
/// assert!(sealer.open(&sealed, b"record 2").is_err());
/// assert!(KeySealer::new(Keys::generate()).open(&sealed, b"record 1").is_err());
/// ```
#[derive(Clone, Debug)]
pub struct KeySealer {
    codec: Codec,
}

impl KeySealer {
    /// A sealer encrypting under `keys.primary` and opening under any of `keys`.
    pub fn new(keys: Keys) -> Self {
        Self {
            codec: Codec::new(CookieMode::Encrypted, keys),
        }
    }
}

impl Sealer for KeySealer {
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.codec
            .seal_bytes(&CodecContext::record(aad), plaintext)
            .map_err(|e| match e {
                CodecError::TooLarge { size, max } => StoreError::TooLarge { size, max },
                e => StoreError::backend(e),
            })
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.codec
            .open_bytes(&CodecContext::record(aad), sealed)
            .map(|opened| opened.plaintext)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// The error for a backend whose cargo feature (named like the backend) this build left out.
#[cfg(not(all(feature = "postgres", feature = "mysql", feature = "redis")))]
fn not_in_this_build(backend: &str) -> StoreError {
    StoreError::Config(format!(
        "the `{backend}` backend is not available in this build of session-runtime (feature `{backend}`)"
    ))
}

/// Where a deployment's session data lives, as opened from its [`Backend`].
#[derive(Clone, Debug)]
pub enum Storage {
    /// The data lives in the cookie itself; there is no server-side store.
    Cookie,
    /// A server-side store; the cookie carries only the session id.
    Server(Arc<dyn SessionStore>),
}

impl Storage {
    /// The server-side store, or `None` for the cookie backend.
    pub fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        match self {
            Self::Cookie => None,
            Self::Server(store) => Some(store),
        }
    }
}

/// What [`open`] needs besides the [`Backend`] itself.
///
/// ```
/// use session_runtime::store::OpenOptions;
/// let options = OpenOptions::new().max_payload(64 * 1024);
/// assert_eq!(options.payload_limit(), Some(64 * 1024));
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    keys: Option<Keys>,
    sealer: Option<Arc<dyn Sealer>>,
    max_payload: Option<usize>,
}

impl OpenOptions {
    /// No sealer, each store's own payload limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// The session keys: the file store authenticates every record with them, and seals
    /// with them (a [`KeySealer`]) when configured to encrypt at rest (`encrypt = true`)
    /// unless another [`Sealer`] is given.
    pub fn keys(mut self, keys: Keys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Another [`Sealer`] for stores configured to encrypt at rest (`encrypt = true`).
    pub fn sealer(mut self, sealer: Arc<dyn Sealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Overrides the largest payload a store accepts, in bytes.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// The sealer, if one was given.
    pub fn sealer_ref(&self) -> Option<&Arc<dyn Sealer>> {
        self.sealer.as_ref()
    }

    /// The session keys, if they were given.
    pub fn keys_ref(&self) -> Option<&Keys> {
        self.keys.as_ref()
    }

    /// The payload limit override, if one was given.
    pub fn payload_limit(&self) -> Option<usize> {
        self.max_payload
    }
}

/// Opens the configured backend.
///
/// The cookie backend gives [`Storage::Cookie`]; every other backend gives
/// [`Storage::Server`]. A file backend's directory is created (0700) when missing; a
/// database backend (features `postgres`, `mysql`) reads its URL from the environment
/// variable it names, connects (failing now, naming the host, when the database is
/// unreachable) and creates its table when missing (`DieselStore::migrate`); a Redis
/// backend (feature `redis`) reads its URL likewise and connects. A database or Redis
/// backend with `encrypt = true` seals its payloads ([`sealed::SealedStore`]) with the
/// [`OpenOptions::sealer`], or else with the [`OpenOptions::keys`].
///
/// # Errors
/// [`StoreError::Config`] when the backend cannot be used as configured: a file directory
/// that is a symbolic link, owned by another user or accessible by group or others, a file
/// backend without keys ([`OpenOptions::keys`]), an `encrypt = true` backend without keys
/// or sealer, a database or Redis backend
/// whose cargo feature is off or whose URL variable is unset, an invalid table name;
/// [`StoreError::Unavailable`] when a database cannot be reached; [`StoreError::Backend`]
/// when the directory cannot be created.
pub async fn open(backend: &Backend, options: &OpenOptions) -> Result<Storage> {
    match backend {
        Backend::Cookie => Ok(Storage::Cookie),
        Backend::Memory => {
            let mut store = MemoryStore::new();
            if let Some(max) = options.max_payload {
                store = store.with_max_payload(max);
            }
            Ok(Storage::Server(Arc::new(store)))
        }
        Backend::File {
            dir,
            encrypt,
            durability,
        } => {
            let Some(keys) = &options.keys else {
                return Err(StoreError::Config(
                    "the file backend authenticates its records with the session keys, but none were given (`OpenOptions::keys`)"
                        .to_owned(),
                ));
            };
            let mut builder = FileStore::builder(dir, keys.clone()).durability(*durability);
            if *encrypt {
                let sealer = match &options.sealer {
                    Some(sealer) => sealer.clone(),
                    None => Arc::new(KeySealer::new(keys.clone())),
                };
                builder = builder.sealer(sealer);
            }
            if let Some(max) = options.max_payload {
                builder = builder.max_payload(max);
            }
            let dir = dir.clone();
            let store = tokio::task::spawn_blocking(move || builder.open())
                .await
                .map_err(|e| StoreError::backend(format!("opening `{}`: {e}", dir.display())))??;
            Ok(Storage::Server(Arc::new(store)))
        }
        // The Diesel stores replace these two arms behind their features.
        #[cfg(feature = "postgres")]
        Backend::Postgres(db) => {
            let builder = postgres::PostgresStore::builder(database_url(db)?);
            let store = Arc::new(open_database(builder, db, options).await?);
            Ok(Storage::Server(encrypted_if(store, db.encrypt, options)?))
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres(_) => Err(not_in_this_build("postgres")),
        #[cfg(feature = "mysql")]
        Backend::Mysql(db) => {
            let builder = mysql::MysqlStore::builder(database_url(db)?);
            let store = Arc::new(open_database(builder, db, options).await?);
            Ok(Storage::Server(encrypted_if(store, db.encrypt, options)?))
        }
        #[cfg(not(feature = "mysql"))]
        Backend::Mysql(_) => Err(not_in_this_build("mysql")),
        #[cfg(feature = "redis")]
        Backend::Redis(config) => {
            let store = Arc::new(redis::RedisStore::open(config, options).await?);
            Ok(Storage::Server(encrypted_if(
                store,
                config.encrypt,
                options,
            )?))
        }
        #[cfg(not(feature = "redis"))]
        Backend::Redis(_) => Err(not_in_this_build("redis")),
    }
}

/// `store` as configured: its payloads sealed ([`sealed::SealedStore`]) when `encrypt` is
/// set, with the given [`Sealer`] or else the session keys.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "redis")),
    allow(dead_code)
)]
fn encrypted_if<S: SessionStore>(
    store: Arc<S>,
    encrypt: bool,
    options: &OpenOptions,
) -> Result<Arc<dyn SessionStore>> {
    if !encrypt {
        return Ok(store);
    }
    let sealer: Arc<dyn Sealer> = match (&options.sealer, &options.keys) {
        (Some(sealer), _) => sealer.clone(),
        (None, Some(keys)) => Arc::new(KeySealer::new(keys.clone())),
        (None, None) => {
            return Err(StoreError::Config(
                "`encrypt = true` seals the records with the session keys, but none were given (`OpenOptions::keys`)"
                    .to_owned(),
            ));
        }
    };
    Ok(Arc::new(sealed::SealedStore::new(store, sealer)))
}

/// The URL of a database backend, from the environment variable it names.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn database_url(db: &session_spec::settings::DatabaseBackend) -> Result<String> {
    std::env::var(&db.url_env).map_err(|_| {
        StoreError::Config(format!(
            "the environment variable `{}` (the database URL) is not set",
            db.url_env
        ))
    })
}

/// Connects a database store as configured and creates its table when missing.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn open_database<D: database::Dialect>(
    builder: database::DieselStoreBuilder<D>,
    db: &session_spec::settings::DatabaseBackend,
    options: &OpenOptions,
) -> Result<database::DieselStore<D>> {
    let max = options
        .max_payload
        .unwrap_or_else(|| usize::try_from(db.max_payload).unwrap_or(usize::MAX));
    let store = builder.table(&db.table).max_payload(max).connect().await?;
    // The table may exist already and the account lack the right to create tables: only an
    // unreachable database is fatal here; anything else surfaces on first use.
    match store.migrate().await {
        Ok(()) => {}
        Err(error @ StoreError::Unavailable(_)) => return Err(error),
        Err(error) => {
            tracing::warn!(%error, table = %db.table, "could not create the session table")
        }
    }
    Ok(store)
}
