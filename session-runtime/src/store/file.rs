//! [`FileStore`]: one file per session in a private directory.
//!
//! # Layout
//!
//! The directory (created 0700; refused when group or others may access it) holds:
//! - `<64 hex digits>`: one file per session, named by [`StoreKey::to_hex`] (the SHA-256
//!   of the session id), mode 0600. Nothing a client sends is ever used as a path.
//! - `.tmp-*`: a file being written. A crash can leave one behind; purges remove those
//!   older than an hour.
//!
//! A session file is a 60-byte header followed by the body:
//!
//! | bytes | content |
//! |---|---|
//! | 0..4 | magic `SESS` |
//! | 4 | format version, 1 |
//! | 5 | flags: bit 0 set when the body is sealed (encrypted at rest) |
//! | 6..8 | zero |
//! | 8..16 | record version, big-endian `u64` |
//! | 16..24 | expiry, big-endian `i64` Unix seconds |
//! | 24..28 | body length, big-endian `u32` |
//! | 28..60 | SHA-256 of bytes 0..28 and of the body |
//! | 60.. | the payload, or the payload sealed by the [`Sealer`] |
//!
//! # Writes
//!
//! Every write goes to a new temporary file in the same directory, which is written,
//! `fsync`ed, then renamed over the session file (a save) or hard-linked to its name (a
//! create: the link fails when the name exists, so a create never overwrites, even against
//! another process); the directory is then `fsync`ed. A reader therefore sees the old file
//! or the new one, never a partial one, and a crash at any point leaves one of the two. Any
//! I/O error is returned as [`StoreError::Backend`]; none is ignored.
//!
//! # Concurrency
//!
//! The operations that change a key (create, save, rotate, delete, and a purge's removal)
//! are serialized per key stripe (one of 256, chosen by the key's first byte): in one
//! process by an async lock, so a waiting request holds no thread, and across processes
//! by an advisory lock (`flock`/`LockFileEx`, [`File::lock`]) on the stripe's lock file
//! `.locks/XX` in the directory. A save's compare-and-swap (read the stored version,
//! compare, rename) and a rotation (check the old record, link the new one, replace or
//! remove the old one) are therefore atomic even when several processes share the
//! directory. A rotation takes the locks of both keys' stripes, in stripe order. Loads take
//! no lock: a rename is atomic.
//!
//! # Corrupt files
//!
//! A session file that cannot be read (bad magic, bad length, checksum mismatch, a sealed
//! body that does not open with the keys, a sealed file when the store has no keys) makes
//! [`SessionStore::load`] return [`StoreError::Corrupt`]; the file is left in place for the
//! operator to inspect: a store never destroys data it cannot read (a key that was removed
//! by mistake can be put back). [`SessionStore::delete`] removes it; purges skip it and log
//! a warning.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{Record, Result, Rotation, Sealer, SessionStore, StoreError, StoreKey};
use crate::time::Timestamp;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

const MAGIC: &[u8; 4] = b"SESS";
const FORMAT: u8 = 1;
const FLAG_SEALED: u8 = 1;
/// The size of a session file's header.
pub const HEADER_LEN: usize = 60;
const TMP_PREFIX: &str = ".tmp-";
/// The subdirectory of the lock files, one per stripe: `.locks/00` to `.locks/ff`.
pub const LOCK_DIR: &str = ".locks";
/// Temporary files older than this are leftovers of a crash and purged.
const STALE_TMP: Duration = Duration::from_secs(3600);
/// The default largest payload: 1 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
/// Room a sealer may add to a payload (nonce, tag).
const SEAL_OVERHEAD: usize = 1024;
const STRIPES: usize = 256;

/// A store keeping one file per session in a directory; see the [module docs](self) for
/// the layout, the write protocol, the concurrency story and corrupt files.
///
/// ```
/// use session_runtime::store::{FileStore, Record, SessionStore, StoreKey};
/// use session_runtime::Timestamp;
/// # let tmp = std::env::temp_dir().join(format!("file-store-doc-{}", std::process::id()));
/// # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(async {
/// let store = FileStore::open(tmp.join("sessions")).unwrap();
/// let key = StoreKey([3; 32]);
/// let record = Record { payload: b"{\"cart\":[]}".to_vec(), expires_at: Timestamp(100), version: 0 };
/// store.create(&key, &record).await.unwrap();
/// let loaded = store.load(&key, Timestamp(50)).await.unwrap().unwrap();
/// assert_eq!(loaded.payload, record.payload);
/// assert_eq!(store.save(&key, &loaded).await.unwrap(), 2);
/// assert!(tmp.join("sessions").join(key.to_hex()).is_file());
/// # });
/// # std::fs::remove_dir_all(&tmp).unwrap();
/// ```
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    sealer: Option<Arc<dyn Sealer>>,
    max_payload: usize,
    stripes: Vec<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.inner.dir)
            .field("sealed", &self.inner.sealer.is_some())
            .field("max_payload", &self.inner.max_payload)
            .finish()
    }
}

/// Options of a [`FileStore`], from [`FileStore::builder`].
#[derive(Debug)]
pub struct FileStoreBuilder {
    dir: PathBuf,
    sealer: Option<Arc<dyn Sealer>>,
    max_payload: usize,
}

impl FileStoreBuilder {
    /// Encrypts every payload at rest with `sealer` (the session keys).
    pub fn sealer(mut self, sealer: Arc<dyn Sealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// The largest payload accepted, in bytes ([`DEFAULT_MAX_PAYLOAD`] unless set).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Opens the store: creates the directory (mode 0700, parents included) when missing
    /// and checks its permissions. Blocking file-system calls; at
    /// start-up, or within `spawn_blocking`.
    ///
    /// # Errors
    /// [`StoreError::Config`] when the path is not a directory or group or others may
    /// access it; [`StoreError::Backend`] when it cannot be created or read.
    pub fn open(self) -> Result<FileStore> {
        let dir = self.dir;
        match fs::metadata(&dir) {
            Ok(meta) => check_dir(&dir, &meta)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut builder = fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                builder.mode(0o700);
                builder
                    .create(&dir)
                    .map_err(|e| io_error("creating", &dir, e))?;
                // The umask may have taken bits away, never added any; make it exact.
                #[cfg(unix)]
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| io_error("setting permissions of", &dir, e))?;
                let meta = fs::metadata(&dir).map_err(|e| io_error("reading", &dir, e))?;
                check_dir(&dir, &meta)?;
            }
            Err(e) => return Err(io_error("reading", &dir, e)),
        }
        let locks = dir.join(LOCK_DIR);
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        builder.mode(0o700);
        match builder.create(&locks) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("creating", &locks, e)),
        }
        Ok(FileStore {
            inner: Arc::new(Inner {
                dir,
                sealer: self.sealer,
                max_payload: self.max_payload,
                stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
            }),
        })
    }
}

fn check_dir(dir: &Path, meta: &fs::Metadata) -> Result<()> {
    if !meta.is_dir() {
        return Err(StoreError::Config(format!(
            "session directory `{}` is not a directory",
            dir.display()
        )));
    }
    #[cfg(unix)]
    {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StoreError::Config(format!(
                "session directory `{}` is accessible by group or others (mode {mode:03o}); \
                 run `chmod 700` on it",
                dir.display()
            )));
        }
    }
    Ok(())
}

fn io_error(doing: &str, path: &Path, error: io::Error) -> StoreError {
    StoreError::backend(io::Error::new(
        error.kind(),
        format!("{doing} `{}`: {error}", path.display()),
    ))
}

/// Options for a new file, 0600 on unix.
fn new_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// The decoded header of a session file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    sealed: bool,
    version: u64,
    expires_at: Timestamp,
    body_len: u32,
    checksum: [u8; 32],
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("session file {what}"));
        if bytes.len() < HEADER_LEN {
            return Err(corrupt("is shorter than its header"));
        }
        if &bytes[0..4] != MAGIC {
            return Err(corrupt("has no `SESS` magic"));
        }
        if bytes[4] != FORMAT {
            return Err(corrupt(&format!("has unknown format {}", bytes[4])));
        }
        if bytes[5] & !FLAG_SEALED != 0 || bytes[6..8] != [0, 0] {
            return Err(corrupt("has unknown flags"));
        }
        let mut checksum = [0; 32];
        checksum.copy_from_slice(&bytes[28..60]);
        Ok(Self {
            sealed: bytes[5] & FLAG_SEALED != 0,
            version: u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes")),
            expires_at: Timestamp(i64::from_be_bytes(
                bytes[16..24].try_into().expect("8 bytes"),
            )),
            body_len: u32::from_be_bytes(bytes[24..28].try_into().expect("4 bytes")),
            checksum,
        })
    }
}

/// The associated data binding a sealed body to its file name, version and expiry.
fn seal_aad(key: &StoreKey, version: u64, expires_at: Timestamp) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"session-file/v1\0");
    aad.extend_from_slice(&key.0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&expires_at.0.to_be_bytes());
    aad
}

impl Inner {
    fn path(&self, key: &StoreKey) -> PathBuf {
        self.dir.join(key.to_hex())
    }

    fn stripe(&self, key: &StoreKey) -> &Arc<Mutex<()>> {
        &self.stripes[stripe_of(key)]
    }

    /// Takes the cross-process lock of `stripe` (blocking); held until the file is dropped.
    /// Callers hold the stripe's in-process lock first: an advisory lock does not exclude
    /// other threads of this process.
    fn process_lock(&self, stripe: usize) -> Result<File> {
        let path = self.dir.join(LOCK_DIR).join(format!("{stripe:02x}"));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(&path)
            .map_err(|e| io_error("opening", &path, e))?;
        file.lock().map_err(|e| io_error("locking", &path, e))?;
        Ok(file)
    }

    fn check_size(&self, payload: &[u8]) -> Result<()> {
        if payload.len() > self.max_payload {
            return Err(StoreError::TooLarge {
                size: payload.len(),
                max: self.max_payload,
            });
        }
        Ok(())
    }

    /// The whole file for `record` stored as `version`.
    fn encode(
        &self,
        key: &StoreKey,
        payload: &[u8],
        expires_at: Timestamp,
        version: u64,
    ) -> Result<Vec<u8>> {
        let sealed;
        let body: &[u8] = match &self.sealer {
            Some(sealer) => {
                sealed = sealer.seal(payload, &seal_aad(key, version, expires_at))?;
                &sealed
            }
            None => payload,
        };
        let body_len = u32::try_from(body.len()).map_err(|_| StoreError::TooLarge {
            size: payload.len(),
            max: self.max_payload,
        })?;
        let mut file = Vec::with_capacity(HEADER_LEN + body.len());
        file.extend_from_slice(MAGIC);
        file.push(FORMAT);
        file.push(if self.sealer.is_some() {
            FLAG_SEALED
        } else {
            0
        });
        file.extend_from_slice(&[0, 0]);
        file.extend_from_slice(&version.to_be_bytes());
        file.extend_from_slice(&expires_at.0.to_be_bytes());
        file.extend_from_slice(&body_len.to_be_bytes());
        let checksum = Sha256::new()
            .chain_update(&file[..28])
            .chain_update(body)
            .finalize();
        file.extend_from_slice(&checksum);
        file.extend_from_slice(body);
        Ok(file)
    }

    /// Decodes a whole file into a record.
    fn decode(&self, key: &StoreKey, bytes: &[u8]) -> Result<Record> {
        let header = Header::parse(bytes)?;
        let body = &bytes[HEADER_LEN..];
        if body.len() != header.body_len as usize {
            return Err(StoreError::Corrupt(format!(
                "session file body is {} bytes, its header says {}",
                body.len(),
                header.body_len
            )));
        }
        let checksum = Sha256::new()
            .chain_update(&bytes[..28])
            .chain_update(body)
            .finalize();
        if checksum.as_slice() != header.checksum {
            return Err(StoreError::Corrupt(
                "session file checksum mismatch".to_owned(),
            ));
        }
        let payload = match (&self.sealer, header.sealed) {
            (Some(sealer), true) => {
                sealer.open(body, &seal_aad(key, header.version, header.expires_at))?
            }
            (None, false) => body.to_vec(),
            (None, true) => {
                return Err(StoreError::Corrupt(
                    "session file is encrypted but the store has no keys".to_owned(),
                ));
            }
            (Some(_), false) => {
                return Err(StoreError::Corrupt(
                    "session file is not encrypted but the store encrypts at rest".to_owned(),
                ));
            }
        };
        Ok(Record {
            payload,
            expires_at: header.expires_at,
            version: header.version,
        })
    }

    /// Reads a whole session file; `None` when it does not exist.
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("opening", path, e)),
        };
        let limit = (HEADER_LEN + self.max_payload + SEAL_OVERHEAD) as u64;
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error("reading", path, e))?;
        if bytes.len() as u64 > limit {
            return Err(StoreError::Corrupt(format!(
                "session file is larger than the store's limit of {limit} bytes"
            )));
        }
        Ok(Some(bytes))
    }

    /// Reads the header of a session file; `None` when it does not exist.
    fn read_header(&self, path: &Path) -> Result<Option<Header>> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("opening", path, e)),
        };
        let mut bytes = [0; HEADER_LEN];
        match file.read_exact(&mut bytes) {
            Ok(()) => Header::parse(&bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Header::parse(&[]).map(Some),
            Err(e) => Err(io_error("reading", path, e)),
        }
    }

    /// Writes `bytes` to a new synced temporary file; returns its path.
    fn write_temp(&self, key: &StoreKey, bytes: &[u8]) -> Result<PathBuf> {
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random)
            .map_err(|e| StoreError::backend(format!("no randomness for a temporary name: {e}")))?;
        let name = format!(
            "{TMP_PREFIX}{}-{}",
            &key.to_hex()[..16],
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let path = self.dir.join(name);
        let result = new_file_options().open(&path).and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
        match result {
            Ok(()) => Ok(path),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(io_error("writing", &path, e))
            }
        }
    }

    /// Makes renames, links and removals in the directory durable (on unix, by syncing the
    /// directory; elsewhere directories cannot be opened for syncing, and the file system
    /// orders the rename after the synced file's data).
    fn sync_dir(&self) -> Result<()> {
        #[cfg(unix)]
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| io_error("syncing", &self.dir, e))?;
        Ok(())
    }

    fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let bytes = self.encode(key, &record.payload, record.expires_at, 1)?;
        let temp = self.write_temp(key, &bytes)?;
        let path = self.path(key);
        let linked = fs::hard_link(&temp, &path);
        let removed = fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(StoreError::Exists),
            Err(e) => return Err(io_error("linking", &path, e)),
        }
        removed.map_err(|e| io_error("removing", &temp, e))?;
        self.sync_dir()
    }

    fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let Some(bytes) = self.read(&self.path(key))? else {
            return Ok(None);
        };
        let record = self.decode(key, &bytes)?;
        Ok((record.expires_at > now).then_some(record))
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        let version = record.version.checked_add(1).ok_or(StoreError::Conflict {
            expected: record.version,
        })?;
        let bytes = self.encode(key, &record.payload, record.expires_at, version)?;
        let temp = self.write_temp(key, &bytes)?;
        let path = self.path(key);
        let swapped = match self.read_header(&path) {
            Ok(None) => Err(StoreError::NotFound),
            Ok(Some(header)) if header.version != record.version => Err(StoreError::Conflict {
                expected: record.version,
            }),
            Ok(Some(_)) => fs::rename(&temp, &path).map_err(|e| io_error("renaming", &temp, e)),
            Err(error) => Err(error),
        };
        if let Err(error) = swapped {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
        self.sync_dir()?;
        Ok(version)
    }

    /// A rotation; the caller holds the locks of both keys' stripes.
    fn rotate(&self, r: &OwnedRotation) -> Result<()> {
        let old_path = self.path(&r.old);
        match self.read_header(&old_path)? {
            None => return Err(StoreError::NotFound),
            Some(header) if header.version != r.version => {
                return Err(StoreError::Conflict {
                    expected: r.version,
                });
            }
            Some(_) => {}
        }
        let keep = match &r.keep_old {
            Some(record) => {
                let version = r.version.checked_add(1).ok_or(StoreError::Conflict {
                    expected: r.version,
                })?;
                let bytes = self.encode(&r.old, &record.payload, record.expires_at, version)?;
                Some(self.write_temp(&r.old, &bytes)?)
            }
            None => None,
        };
        if let Some((key, record)) = &r.new {
            let created = self
                .encode(key, &record.payload, record.expires_at, 1)
                .and_then(|bytes| self.write_temp(key, &bytes))
                .and_then(|temp| {
                    let path = self.path(key);
                    let linked = fs::hard_link(&temp, &path);
                    let _ = fs::remove_file(&temp);
                    match linked {
                        Ok(()) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            Err(StoreError::Exists)
                        }
                        Err(e) => Err(io_error("linking", &path, e)),
                    }
                });
            if let Err(error) = created {
                if let Some(temp) = &keep {
                    let _ = fs::remove_file(temp);
                }
                return Err(error);
            }
        }
        let replaced = match &keep {
            Some(temp) => fs::rename(temp, &old_path).map_err(|e| io_error("renaming", temp, e)),
            None => match fs::remove_file(&old_path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_error("removing", &old_path, e)),
            },
        };
        if let Err(error) = replaced {
            // Undo the creation: nothing changes on an error.
            if let Some((key, _)) = &r.new {
                let _ = fs::remove_file(self.path(key));
            }
            if let Some(temp) = &keep {
                let _ = fs::remove_file(temp);
            }
            return Err(error);
        }
        self.sync_dir()
    }

    fn delete(&self, key: &StoreKey) -> Result<()> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("removing", &path, e)),
        }
    }

    fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let entries = fs::read_dir(&self.dir).map_err(|e| io_error("listing", &self.dir, e))?;
        let mut removed = 0;
        let mut unreadable = 0;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(TMP_PREFIX) {
                self.remove_stale_temp(&entry.path())?;
                continue;
            }
            let Some(key) = parse_hex_key(name) else {
                continue;
            };
            let path = entry.path();
            match self.read_header(&path) {
                Ok(Some(header)) if header.expires_at <= now => {}
                Ok(_) => continue,
                Err(StoreError::Corrupt(_)) => {
                    unreadable += 1;
                    continue;
                }
                Err(error) => return Err(error),
            }
            // Expired: remove it unless a save made it live again meanwhile.
            let _stripe = self.stripe(&key).blocking_lock();
            let _process = self.process_lock(stripe_of(&key))?;
            let still_expired = matches!(
                self.read_header(&path),
                Ok(Some(header)) if header.expires_at <= now
            );
            if still_expired {
                match fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("removing", &path, e)),
                }
            }
        }
        if unreadable > 0 {
            tracing::warn!(
                unreadable,
                dir = %self.dir.display(),
                "session files with a corrupt header were left in place"
            );
        }
        if removed > 0 {
            self.sync_dir()?;
        }
        Ok(removed)
    }

    fn remove_stale_temp(&self, path: &Path) -> Result<()> {
        let modified = match fs::metadata(path).and_then(|meta| meta.modified()) {
            Ok(modified) => modified,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("reading", path, e)),
        };
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default();
        if age > STALE_TMP {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("removing", path, e)),
            }
        }
        Ok(())
    }
}

/// The lock stripe of a key.
fn stripe_of(key: &StoreKey) -> usize {
    key.0[0] as usize % STRIPES
}

/// A [`Rotation`] with owned parts, for a blocking thread.
struct OwnedRotation {
    old: StoreKey,
    version: u64,
    new: Option<(StoreKey, Record)>,
    keep_old: Option<Record>,
}

/// The key of a session file name: exactly 64 lower-case hex digits.
fn parse_hex_key(name: &str) -> Option<StoreKey> {
    let bytes = name.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut key = [0; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        key[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(StoreKey(key))
}

impl FileStore {
    /// Opens a store in `dir` with no encryption at rest and the default payload limit;
    /// see [`FileStoreBuilder::open`].
    ///
    /// # Errors
    /// As [`FileStoreBuilder::open`].
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        Self::builder(dir).open()
    }

    /// A builder for a store in `dir`.
    pub fn builder(dir: impl Into<PathBuf>) -> FileStoreBuilder {
        FileStoreBuilder {
            dir: dir.into(),
            sealer: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    /// The directory holding the session files.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The path of the file that holds `key`'s record.
    pub fn path_of(&self, key: &StoreKey) -> PathBuf {
        self.inner.path(key)
    }

    /// Runs `op` on a blocking thread while holding `key`'s in-process and cross-process
    /// locks; the locks are released when `op` returns, even if the calling future was
    /// dropped meanwhile.
    async fn locked<T: Send + 'static>(
        &self,
        key: &StoreKey,
        op: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.locked_all(&[*key], op).await
    }

    /// As [`Self::locked`] for several keys: their stripes are locked in stripe order (the
    /// same order in every process, so two rotations cannot deadlock).
    async fn locked_all<T: Send + 'static>(
        &self,
        keys: &[StoreKey],
        op: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let mut stripes: Vec<usize> = keys.iter().map(stripe_of).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards: Vec<OwnedMutexGuard<()>> = Vec::with_capacity(stripes.len());
        for &stripe in &stripes {
            guards.push(self.inner.stripes[stripe].clone().lock_owned().await);
        }
        self.blocking(move |inner| {
            let mut files = Vec::with_capacity(stripes.len());
            for &stripe in &stripes {
                files.push(inner.process_lock(stripe)?);
            }
            let result = op(inner);
            drop(files);
            drop(guards);
            result
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || op(&inner))
            .await
            .map_err(|e| StoreError::backend(format!("file store task failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl SessionStore for FileStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.inner.check_size(&record.payload)?;
        let (key, record) = (*key, record.clone());
        self.locked(&key, move |inner| inner.create(&key, &record))
            .await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let key = *key;
        self.blocking(move |inner| inner.load(&key, now)).await
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        self.inner.check_size(&record.payload)?;
        let (key, record) = (*key, record.clone());
        self.locked(&key, move |inner| inner.save(&key, &record))
            .await
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<()> {
        if let Some((_, record)) = rotation.new {
            self.inner.check_size(&record.payload)?;
        }
        if let Some(record) = rotation.keep_old {
            self.inner.check_size(&record.payload)?;
        }
        let owned = OwnedRotation {
            old: *rotation.old,
            version: rotation.version,
            new: rotation.new.map(|(key, record)| (*key, record.clone())),
            keep_old: rotation.keep_old.cloned(),
        };
        let mut keys = vec![owned.old];
        keys.extend(owned.new.as_ref().map(|(key, _)| *key));
        self.locked_all(&keys, move |inner| inner.rotate(&owned))
            .await
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        let key = *key;
        self.locked(&key, move |inner| inner.delete(&key)).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        self.blocking(move |inner| inner.purge_expired(now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_names_round_trip() {
        let key = StoreKey([0xab; 32]);
        assert_eq!(parse_hex_key(&key.to_hex()), Some(key));
        assert_eq!(parse_hex_key("AB"), None);
        assert_eq!(parse_hex_key(&"A".repeat(64)), None);
        assert_eq!(parse_hex_key(&format!("{}g", "a".repeat(63))), None);
    }

    #[test]
    fn header_refuses_garbage() {
        for bytes in [&b""[..], b"SESS", &[0u8; HEADER_LEN], b"XXXX\x01\0\0\0"] {
            assert!(
                matches!(Header::parse(bytes), Err(StoreError::Corrupt(_))),
                "{bytes:?}"
            );
        }
    }
}
