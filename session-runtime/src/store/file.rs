//! [`FileStore`]: one file per session in a private directory.
//!
//! # Layout
//!
//! The directory (created 0700; refused when it is a symbolic link, when it is owned by
//! another user than the process's effective user, or when group or others may access it)
//! holds:
//! - `<64 hex digits>`: one file per session, named by [`StoreKey::to_hex`] (the SHA-256
//!   of the session id), mode 0600. Nothing a client sends is ever used as a path.
//! - `.spare-<64 hex digits>`: the session's spare file, which its next save overwrites and
//!   swaps in (see [Writes](#writes)); it holds the previous version. Removed with the
//!   session; purges remove one whose session file is gone.
//! - `.tmp-*`: a file being written. A crash can leave one behind; purges remove those
//!   older than an hour.
//!
//! Symbolic links are never followed inside the directory: session files are opened with
//! `O_NOFOLLOW` and must be regular files; anything else under a session name is refused
//! (and skipped by purges).
//!
//! A session file is a 64-byte header followed by the body (format 2):
//!
//! | bytes | content |
//! |---|---|
//! | 0..4 | magic `SESS` |
//! | 4 | format version, 2 |
//! | 5 | flags: bit 0 set when the body is sealed (encrypted at rest) |
//! | 6..8 | zero |
//! | 8..16 | record version, big-endian `u64` |
//! | 16..24 | expiry, big-endian `i64` Unix seconds |
//! | 24..28 | body length, big-endian `u32` |
//! | 28..32 | the [`KeyId`] of the session key that authenticated the file |
//! | 32..64 | HMAC-SHA256 under that key's signing subkey of `session-file/v2\0`, the file's [`StoreKey`], bytes 0..32 and the body |
//! | 64.. | the payload, or the payload sealed by the [`Sealer`] |
//!
//! # Authentication
//!
//! Every file is authenticated with the session keys ([`Keys`], given when the store is
//! opened): a file planted or edited by anyone without a key, or copied to another session's
//! name, fails the MAC and is refused ([`StoreError::Corrupt`]), with or without encryption
//! at rest. The MAC key is the key's signing subkey, domain-separated by the
//! `session-file/v2` label (no cookie MAC input starts with it). Files are written under the
//! primary key and read under any configured key; a file under a key that is no longer
//! configured is refused and left in place, and works again once the key is back.
//!
//! Files of format 1 (a 60-byte header with an *unkeyed* SHA-256 checksum, written by
//! earlier versions) are read only when their body is sealed, because the seal
//! (AES-256-GCM under the session keys, bound to the name, version and expiry) authenticates
//! them; an unsealed format-1 file could have been written by anyone and is refused as
//! corrupt (its session starts afresh; purges still remove it at its expiry). The next save
//! of a session rewrites its file in format 2.
//!
//! # Writes
//!
//! A create writes a new temporary file and hard-links it to the session's name (the link
//! fails when the name exists, so a create never overwrites, even against another
//! process).
//!
//! A save does not make a new file: each session has a spare file, `.spare-<name>`, made
//! on its first save. Under the key's locks (below), the save writes the new version over
//! the spare from its start (cut to its length), then swaps the spare and the session file
//! in one atomic exchange (`renameat2` with `RENAME_EXCHANGE` on Linux, `renamex_np` with
//! `RENAME_SWAP` on Apple systems): the session name now holds the new version and the
//! spare the old one, which the next save overwrites. No inode is allocated or freed per
//! save (on ext4, allocating and evicting an inode per write cost more CPU than anything
//! else in a save, syncs included). Where the exchange is not available (another system,
//! or a file system that refuses it), a save writes a new temporary file and renames it
//! over the session file, as creates do.
//!
//! A reader opening the session name gets the old file or the new one, never a partial
//! one. One case remains: a reader that opened the file just before a save swapped it out
//! and is still reading it when a *second* save of the same session rewrites it (now the
//! spare) reads a mix of two versions. The mix fails the MAC or the length check, and a
//! load then reads again under the key's locks, where no save runs: a load never returns a
//! torn record, and reports a file as corrupt only when it is. (Tools reading session files
//! directly should check the MAC likewise.) The spare is removed with its session (delete,
//! rotation, purge). Any I/O error is returned as [`StoreError::Backend`]; none is ignored.
//!
//! # Durability
//!
//! When the writes reach the disk is the [`FileDurability`] setting (`durability` in the
//! spec's file backend, [`FileStoreBuilder::durability`]):
//!
//! | mode | a save is acknowledged | after a crash of the machine |
//! |---|---|---|
//! | `none` (default) | at once, nothing synced | the last writes (those the kernel had not yet written back, typically the last few seconds) may be missing |
//! | `group` | once the new version's data was synced before the swap, and the directory after it; the directory syncs of concurrent writes are batched (group commit, below) | every acknowledged write is there |
//! | `fsync` | the same, each write syncing on its own (one `fdatasync` and one directory `fsync` per write) | every acknowledged write is there |
//!
//! Why each mode is crash-safe:
//! - `none`, the default (as Django's file sessions, which never sync): nothing is synced
//!   on a create or a save. A crash may lose the last writes: a session goes back to an
//!   earlier version, or is missing (the user starts afresh). A file the crash left
//!   half-written (a save writes the spare in place, and nothing orders that data before
//!   the swap on the disk) fails its MAC: a torn record is never used. The store then
//!   reads the session's spare, the previous version, which the save had not touched (its
//!   MAC binds it to the session's name, so no other file can stand in): only the last
//!   write is lost, as when the swap itself had not reached the disk. A save's
//!   compare-and-swap then compares with the spare's version too (under `none` a save
//!   authenticates the whole stored file, not just its header). With no authentic spare,
//!   the file is refused as [`StoreError::Corrupt`] (the manager starts a fresh session).
//!   Deletions, rotations and purges are still synced before they are acknowledged, and
//!   remove the spare with the session file; a spare is read only while its session file
//!   exists, and a create removes one left under its name: so a session that was logged
//!   out, whose id was cycled or that expired never comes back, from its spare either.
//! - `group` and `fsync`: the new version's data is durable *before* the swap (or the
//!   link of a create) that puts it in place, so a crash at any point leaves the old file
//!   or the complete new one; the directory sync after the swap makes it durable before
//!   the request is acknowledged (and before the key's locks are released, since the next
//!   save rewrites the file swapped out), so an acknowledged write is never lost. With
//!   `group`, each writer syncs its own file's data (concurrent `fdatasync`s run in
//!   parallel and share the file system's journal commit), then waits for a directory
//!   sync that *started* after its swap; the first waiter that finds no sync running runs
//!   one for everyone waiting, while later writers queue for the next. Under load, many
//!   writes share one directory sync; a lone write costs the same as with `fsync`. A
//!   failed sync fails the writes it covered (their session files are the old or the new
//!   version, possibly not yet durable, never torn). A session file that fails its MAC
//!   here is corruption, not a crash, and is reported: the spare is not read, since it
//!   would silently undo an acknowledged write.
//!
//! Why `none` is the default: sessions are cheap to lose on the rare crash of a machine
//! (the user signs in again), while a sync per request costs a disk flush on the request
//! path. On the benchmark machine (ext4 on a virtual disk, README "Benchmarks", main at
//! `efa4483`, `httpbench --secs 1 --slices 10 --only ours-file,... --workloads
//! write-counter,...`, medians; `bench/http/results/2026-11-30-session8.md`)
//! a writing request cost 75 µs of server CPU with `none`, 166 µs with `group` and 179 µs
//! with `fsync`, and `none` served 2.7 times the requests per second (13,492 against 5,051
//! and 4,979). Choose `group` when every acknowledged write must survive a power loss.
//!
//! # Concurrency
//!
//! The operations that change a key (create, save, rotate, delete, and a purge's removal)
//! are serialized per key stripe (one of 256, chosen by the key's first byte): in one
//! process by a lock per stripe (taken on the blocking thread doing the file work), and
//! across processes by an advisory lock (`flock`/`LockFileEx`, [`File::lock`]) on the
//! stripe's lock file `.locks/XX` in the directory (opened once, kept open). A save
//! holds the locks while it writes the spare, swaps it in and (unless the durability is
//! `none`) syncs: the next save of the key rewrites the file just swapped out, which by
//! then must be the spare on the disk too. A save's compare-and-swap (read the stored
//! version, compare, exchange) and a rotation (check the old record, link the new one, replace or
//! remove the old one) are therefore atomic even when several processes share the
//! directory. A rotation takes the locks of both keys' stripes, in stripe order. Loads take
//! no lock: a rename is atomic.
//!
//! # Threads
//!
//! File system calls block. Under `group` and `fsync` (a save waits for the disk), and for
//! rotations, deletions, purges and listings (which sync the directory or walk it), the
//! work runs on a blocking thread (`spawn_blocking`). Under `none`, a load, and a create or
//! save of up to 16 KiB of payload, runs on the calling task's thread: a handful of system
//! calls on the page cache (`stat`, `pread`, `pwrite`, `renameat2`, `flock`, see
//! [Open files](#open-files): tens of microseconds), cheaper than the two thread hand-offs
//! of a trip to a blocking thread, which cost more CPU than the file work itself on the
//! benchmark (see README "Benchmarks"). The calling thread may wait for a key's lock while
//! another thread or process holds it for another save of the same key stripe. Under
//! `group` and `fsync` too, a load's read (a `stat` and a `pread`, no lock, nothing synced)
//! runs on the calling task's thread; only a load that must read again under the key's
//! locks (a read torn by a concurrent save, or a corrupt file), which may wait for a save
//! syncing, goes to a blocking thread.
//!
//! # Open files
//!
//! On unix the store keeps the files of recently used sessions open (a session file and its
//! spare each; [`FileStoreBuilder::open_files`], 256 files unless set, or a quarter of the
//! process's limit of open files when that is smaller; the least recently used session's
//! files are closed first). A load or a save does not open the name: it `stat`s it (never
//! following a symbolic link) and reads or writes the file held with that identity (device
//! and inode number), else opens the name and holds the file. An identity cannot be
//! mistaken: a file held open keeps its inode, so no other file gets its number. Only the
//! files are kept, never their contents: every load and every save's version check reads
//! the file (`pread`), so a change made by another process, by hand, or by a save swapping
//! the files is always seen, as when the name was opened afresh. A load is then two system
//! calls (`stat`, `pread`), and a save seven (`flock`, `stat` and `pread` of the session
//! file, `stat` and `pwrite` of the spare, `renameat2`, `flock`) where opening and closing
//! both files took eleven. A session's files are closed when it ends here (delete,
//! rotation, purge, a create over a leftover spare) or is found gone; a file removed by
//! another process stays open until its session's files are closed or pushed out by
//! newer ones (at most the number above). The sessions held are kept in a list by last
//! use, so finding, adding and pushing out files takes constant time, however many
//! sessions are live. On Linux the files are opened `O_NOATIME` (when the process owns
//! them): a load does not update the access time, which would dirty the inode (a journal
//! write on ext4) at the first read after every save; nothing reads that time.
//!
//! With a session's files, the store remembers the last bytes of its session file that it
//! found authentic (read and verified, or written by a save; files up to 4 KiB). Whether a
//! file is authentic depends only on its name, its bytes and the configured keys, which do
//! not change while the store is open: bytes read that are equal to those are not verified
//! again (a comparison instead of an HMAC), any other bytes are. So a writing request
//! computes one MAC (the new file's) instead of three, and a file changed in any way, by
//! another process or by hand, is verified as before.
//!
//! # Corrupt files
//!
//! A session file that cannot be read (bad magic, bad length, a MAC that does not verify,
//! a key id that is not configured, a sealed body that does not open with the keys, a
//! sealed file when the store does not encrypt, or not a regular file) makes
//! [`SessionStore::load`] return [`StoreError::Corrupt`]; the file is left in place for the
//! operator to inspect: a store never destroys data it cannot read (a key that was removed
//! by mistake can be put back), and the session manager does not delete it either. Purges
//! remove it at the expiry its header states; a file whose header cannot be read, and
//! anything that is not a regular file, is skipped, counted and logged.

use std::ffi::CStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{
    Limited, Record, Result, Rotation, Sealer, SessionLimit, SessionStore, Sessions, StoreError,
    StoreKey, plan_limit,
};
use crate::keys::{KeyId, Keys};
use crate::time::Timestamp;

pub use session_spec::FileDurability;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

const MAGIC: &[u8; 4] = b"SESS";
/// The format written: 2, authenticated with the session keys.
const FORMAT: u8 = 2;
/// The earlier format, with an unkeyed checksum: read only when sealed.
const FORMAT_V1: u8 = 1;
const FLAG_SEALED: u8 = 1;
/// Flag bit 1: the record carries a principal; the (unsealed) body then starts with its
/// length (big-endian `u16`) and its UTF-8 bytes, before the payload.
const FLAG_PRINCIPAL: u8 = 2;
/// The subdirectory of the principal index: `.principals/<SHA-256 of the principal>/<key>`.
pub const PRINCIPAL_DIR: &str = ".principals";
/// The size of a session file's header (format 2).
pub const HEADER_LEN: usize = 64;
/// The size of a format-1 header.
const HEADER_LEN_V1: usize = 60;
/// The domain-separation label of the file MAC.
const MAC_LABEL: &[u8] = b"session-file/v2\0";
const TMP_PREFIX: &str = ".tmp-";
/// The prefix of a session's spare file, `.spare-<64 hex digits>`: the file a save writes
/// in place and swaps with the session file (see the [module docs](self#writes)).
pub const SPARE_PREFIX: &str = ".spare-";
/// The subdirectory of the lock files, one per stripe: `.locks/00` to `.locks/ff`.
pub const LOCK_DIR: &str = ".locks";
/// Temporary files older than this are leftovers of a crash and purged.
const STALE_TMP: Duration = Duration::from_secs(3600);
/// The default largest payload: 1 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;
/// Room a sealer may add to a payload (nonce, tag).
const SEAL_OVERHEAD: usize = 1024;
const STRIPES: usize = 256;
/// Under [`FileDurability::None`], loads, and creates and saves of payloads up to this
/// size, run on the calling task's thread rather than a blocking thread (see the
/// [module docs](self#threads)).
const INLINE_MAX: usize = 16 * 1024;
/// Whether this platform can exchange two files atomically (`renameat2` with
/// `RENAME_EXCHANGE` on Linux, `renamex_np` with `RENAME_SWAP` on Apple systems).
const EXCHANGE_SUPPORTED: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios"
));

/// A store keeping one file per session in a directory; see the [module docs](self) for
/// the layout, the write protocol, the concurrency story and corrupt files.
///
/// ```
/// use session_runtime::keys::Keys;
/// use session_runtime::store::{FileStore, Record, SessionStore, StoreKey};
/// use session_runtime::Timestamp;
/// # let tmp = std::env::temp_dir().join(format!("file-store-doc-{}", std::process::id()));
/// # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(async {
/// let keys = Keys::generate(); // in production: `Keys::from_source(&settings.keys)`
/// let store = FileStore::open(tmp.join("sessions"), keys).unwrap();
/// let key = StoreKey([3; 32]);
/// let record = Record { payload: b"{\"cart\":[]}".to_vec(), expires_at: Timestamp(100), version: 0, principal: None, };
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
    /// The MAC of each session key (primary first), by key id.
    macs: Vec<(KeyId, Hmac<Sha256>)>,
    sealer: Option<Arc<dyn Sealer>>,
    max_payload: usize,
    durability: FileDurability,
    /// Per stripe: the in-process lock, holding the stripe's lock file once opened.
    stripes: Vec<Mutex<Option<File>>>,
    /// The group commit of [`FileDurability::Group`].
    group: GroupSync,
    /// Whether saves swap the spare file in (`RENAME_EXCHANGE`); cleared for good the first
    /// time the file system or the kernel refuses the exchange.
    exchange: AtomicBool,
    /// The directory, kept open: the files of a load or a save are opened, swapped and
    /// synced relative to it (`openat`, `renameat2`, `fsync`), without resolving its path
    /// each time.
    #[cfg(unix)]
    dirfd: rustix::fd::OwnedFd,
    /// The files of recently used sessions, kept open (see the
    /// [module docs](self#open-files)).
    #[cfg(unix)]
    open: OpenFiles,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.inner.dir)
            .field("keys", &self.inner.macs.len())
            .field("sealed", &self.inner.sealer.is_some())
            .field("max_payload", &self.inner.max_payload)
            .field("durability", &self.inner.durability)
            .finish()
    }
}

/// Options of a [`FileStore`], from [`FileStore::builder`].
#[derive(Debug)]
pub struct FileStoreBuilder {
    dir: PathBuf,
    keys: Keys,
    sealer: Option<Arc<dyn Sealer>>,
    max_payload: usize,
    durability: FileDurability,
    exchange: bool,
    open_files: Option<usize>,
}

impl FileStoreBuilder {
    /// When writes reach the disk ([`FileDurability::None`] unless set); see the
    /// [module docs](self#durability).
    pub fn durability(mut self, durability: FileDurability) -> Self {
        self.durability = durability;
        self
    }

    /// Encrypts every payload at rest with `sealer` (the session keys).
    pub fn sealer(mut self, sealer: Arc<dyn Sealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Whether saves may swap the spare file in (`true` unless set); `false` forces the
    /// fallback write path (a new temporary file renamed over the session file), which a
    /// file system refusing the exchange gets anyway. For tests of that path.
    #[doc(hidden)]
    pub fn exchange(mut self, exchange: bool) -> Self {
        self.exchange = exchange;
        self
    }

    /// How many files of recently used sessions (a session file and its spare each) the
    /// store keeps open, on unix; `0` keeps none open. Unless set: 256, or a quarter of the
    /// process's limit of open files when that is smaller. See the
    /// [module docs](self#open-files).
    pub fn open_files(mut self, files: usize) -> Self {
        self.open_files = Some(files);
        self
    }

    /// The largest payload accepted, in bytes ([`DEFAULT_MAX_PAYLOAD`] unless set).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// Opens the store: creates the directory (mode 0700, parents included) when missing
    /// and checks it (see the [module docs](self)). Blocking file-system calls; at
    /// start-up, or within `spawn_blocking`.
    ///
    /// # Errors
    /// [`StoreError::Config`] when the path is not a directory, is a symbolic link, is
    /// owned by another user than the process's effective user, or group or others may
    /// access it; [`StoreError::Backend`] when it cannot be created or read.
    pub fn open(self) -> Result<FileStore> {
        let dir = self.dir;
        match fs::symlink_metadata(&dir) {
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
        #[cfg(unix)]
        let dirfd = rustix::fs::open(
            &dir,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::NOFOLLOW
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| io_error("opening", &dir, e.into()))?;
        Ok(FileStore {
            inner: Arc::new(Inner {
                dir,
                macs: self
                    .keys
                    .iter()
                    .map(|key| {
                        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.signing_key())
                            .expect("HMAC takes keys of any length");
                        mac.update(MAC_LABEL);
                        (key.id(), mac)
                    })
                    .collect(),
                sealer: self.sealer,
                max_payload: self.max_payload,
                durability: self.durability,
                stripes: (0..STRIPES).map(|_| Mutex::new(None)).collect(),
                group: GroupSync::default(),
                exchange: AtomicBool::new(EXCHANGE_SUPPORTED && self.exchange),
                #[cfg(unix)]
                dirfd,
                #[cfg(unix)]
                open: OpenFiles::new(self.open_files.unwrap_or_else(default_open_files)),
            }),
        })
    }
}

fn check_dir(dir: &Path, meta: &fs::Metadata) -> Result<()> {
    if meta.file_type().is_symlink() {
        return Err(StoreError::Config(format!(
            "session directory `{}` is a symbolic link; give the real directory's path",
            dir.display()
        )));
    }
    if !meta.is_dir() {
        return Err(StoreError::Config(format!(
            "session directory `{}` is not a directory",
            dir.display()
        )));
    }
    #[cfg(unix)]
    {
        let owner = meta.uid();
        let me = rustix::process::geteuid().as_raw();
        if owner != me {
            return Err(StoreError::Config(format!(
                "session directory `{}` is owned by user {owner}, not by this process's user \
                 {me}; whoever owns it could plant sessions",
                dir.display()
            )));
        }
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

/// The decoded header of a session file (format 2, or format 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    format: u8,
    sealed: bool,
    version: u64,
    expires_at: Timestamp,
    body_len: u32,
    /// Format 2: the id of the key whose MAC follows.
    key_id: KeyId,
    /// Format 2: the MAC; format 1: the unkeyed SHA-256 checksum.
    tag: [u8; 32],
    /// The body starts with the record's principal.
    with_principal: bool,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("session file {what}"));
        if bytes.len() < 5 {
            return Err(corrupt("is shorter than its header"));
        }
        if &bytes[0..4] != MAGIC {
            return Err(corrupt("has no `SESS` magic"));
        }
        let format = bytes[4];
        let len = match format {
            FORMAT => HEADER_LEN,
            FORMAT_V1 => HEADER_LEN_V1,
            other => return Err(corrupt(&format!("has unknown format {other}"))),
        };
        if bytes.len() < len {
            return Err(corrupt("is shorter than its header"));
        }
        if bytes[5] & !(FLAG_SEALED | FLAG_PRINCIPAL) != 0 || bytes[6..8] != [0, 0] {
            return Err(corrupt("has unknown flags"));
        }
        let mut key_id = [0; 4];
        let mut tag = [0; 32];
        if format == FORMAT {
            key_id.copy_from_slice(&bytes[28..32]);
            tag.copy_from_slice(&bytes[32..64]);
        } else {
            tag.copy_from_slice(&bytes[28..60]);
        }
        Ok(Self {
            format,
            sealed: bytes[5] & FLAG_SEALED != 0,
            with_principal: bytes[5] & FLAG_PRINCIPAL != 0,
            version: u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes")),
            expires_at: Timestamp(i64::from_be_bytes(
                bytes[16..24].try_into().expect("8 bytes"),
            )),
            body_len: u32::from_be_bytes(bytes[24..28].try_into().expect("4 bytes")),
            key_id: KeyId(key_id),
            tag,
        })
    }

    /// The length of this header in the file.
    fn len(&self) -> usize {
        if self.format == FORMAT {
            HEADER_LEN
        } else {
            HEADER_LEN_V1
        }
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

/// The name of `key`'s spare file in the directory.
fn spare_name(key: &StoreKey) -> String {
    format!("{SPARE_PREFIX}{}", key.to_hex())
}

/// A session's two names in the directory, built on the stack as C strings (passed to the
/// system calls as they are, with no copy or check): its spare's, `.spare-<64 hex
/// digits>`, which ends with its session file's.
struct Names([u8; SPARE_PREFIX.len() + 64 + 1]);

impl Names {
    fn of(key: &StoreKey) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // The last byte stays 0: the end of both names.
        let mut name = [0; SPARE_PREFIX.len() + 64 + 1];
        name[..SPARE_PREFIX.len()].copy_from_slice(SPARE_PREFIX.as_bytes());
        for (i, b) in key.0.iter().enumerate() {
            name[SPARE_PREFIX.len() + 2 * i] = HEX[usize::from(b >> 4)];
            name[SPARE_PREFIX.len() + 2 * i + 1] = HEX[usize::from(b & 15)];
        }
        Self(name)
    }

    /// The session file's name, 64 hex digits.
    fn session(&self) -> &CStr {
        CStr::from_bytes_with_nul(&self.0[SPARE_PREFIX.len()..]).expect("one NUL, at the end")
    }

    /// The spare's name.
    fn spare(&self) -> &CStr {
        CStr::from_bytes_with_nul(&self.0).expect("one NUL, at the end")
    }
}

impl Inner {
    /// The path of the directory's entry `name` (for errors and rare fallbacks).
    fn entry_path(&self, name: &CStr) -> PathBuf {
        self.dir.join(&*name.to_string_lossy())
    }

    fn path(&self, key: &StoreKey) -> PathBuf {
        self.dir.join(key.to_hex())
    }

    /// The path of `key`'s spare file.
    fn spare_path(&self, key: &StoreKey) -> PathBuf {
        self.dir.join(spare_name(key))
    }

    /// Opens the directory's entry `name` for reading without following a symbolic link
    /// (and without blocking on a FIFO), relative to the directory kept open; `None` when
    /// it does not exist. Anything but a regular file is [`StoreError::Corrupt`]. Returns
    /// the file and its length.
    fn open_regular(&self, name: &str) -> Result<Option<(File, u64)>> {
        #[cfg(unix)]
        let opened = rustix::fs::openat(
            &self.dirfd,
            name,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::NOFOLLOW
                | rustix::fs::OFlags::NONBLOCK
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map(File::from)
        .map_err(io::Error::from);
        #[cfg(not(unix))]
        let opened = File::open(self.dir.join(name));
        let file = match opened {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            // `O_NOFOLLOW` on a symbolic link fails with `ELOOP`.
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                return Err(StoreError::Corrupt(
                    "session file is a symbolic link (never followed)".to_owned(),
                ));
            }
            Err(e) => return Err(io_error("opening", &self.dir.join(name), e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| io_error("reading", &self.dir.join(name), e))?;
        if !meta.is_file() {
            return Err(StoreError::Corrupt(
                "session file is not a regular file".to_owned(),
            ));
        }
        Ok(Some((file, meta.len())))
    }

    /// Like [`open_regular`](Self::open_regular) for `key`'s session file or spare (`name`,
    /// described as `what` in errors), through the files kept open: a `stat` of the name
    /// (never following a symbolic link) finds the file held with its identity, else the
    /// name is opened (read and write) and the file held. With `create`, a missing file is
    /// made (0600), as a spare on its first save. Returns the file and its length.
    #[cfg(unix)]
    fn open_cached(
        &self,
        key: &StoreKey,
        name: &CStr,
        what: &str,
        create: bool,
    ) -> Result<Option<(Arc<File>, u64)>> {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let symlink = || StoreError::Corrupt(format!("{what} is a symbolic link (never followed)"));
        let irregular = || StoreError::Corrupt(format!("{what} is not a regular file"));
        match rustix::fs::statat(&self.dirfd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => {
                match FileType::from_raw_mode(stat.st_mode) {
                    FileType::RegularFile => {
                        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
                        let held = self.open.get(key, stat.st_dev as u64, stat.st_ino as u64);
                        if let Some(file) = held {
                            return Ok(Some((file, stat.st_size as u64)));
                        }
                    }
                    FileType::Symlink => return Err(symlink()),
                    // A spare that cannot be written: the opening below says why (a
                    // directory: `EISDIR`).
                    _ if create => {}
                    _ => return Err(irregular()),
                }
            }
            Err(rustix::io::Errno::NOENT) if !create => {
                // Gone (ended here or by another process): its files are let go of.
                self.open.forget(key);
                return Ok(None);
            }
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(io_error("reading", &self.entry_path(name), e.into())),
        }
        let mut flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        if create {
            flags |= OFlags::CREATE;
        }
        // Reads through a held file leave its access time alone: nothing uses it, and an
        // update dirties the inode (a journal write on ext4) at the first read after each
        // save (`relatime`). Only the file's owner may ask: any other file is opened
        // without.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let noatime = OFlags::NOATIME;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let noatime = OFlags::empty();
        let open = |flags| rustix::fs::openat(&self.dirfd, name, flags, Mode::from_raw_mode(0o600));
        let opened = match open(flags | noatime) {
            Err(rustix::io::Errno::PERM) if !noatime.is_empty() => open(flags),
            other => other,
        };
        let fd = match opened {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) if !create => return Ok(None),
            Err(rustix::io::Errno::LOOP) => return Err(symlink()),
            // Not writable (a file made read-only by hand): read it without holding it.
            Err(rustix::io::Errno::ACCESS | rustix::io::Errno::ROFS | rustix::io::Errno::PERM)
                if !create =>
            {
                return Ok(self
                    .open_regular(&name.to_string_lossy())?
                    .map(|(file, len)| (Arc::new(file), len)));
            }
            Err(e) => return Err(io_error("opening", &self.entry_path(name), e.into())),
        };
        let stat = rustix::fs::fstat(&fd)
            .map_err(|e| io_error("reading", &self.entry_path(name), e.into()))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(irregular());
        }
        let file = Arc::new(File::from(fd));
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        self.open
            .insert(key, stat.st_dev as u64, stat.st_ino as u64, file.clone());
        Ok(Some((file, stat.st_size as u64)))
    }

    /// Elsewhere: [`open_regular`](Self::open_regular), nothing kept open.
    #[cfg(not(unix))]
    fn open_cached(
        &self,
        _key: &StoreKey,
        name: &CStr,
        _what: &str,
        _create: bool,
    ) -> Result<Option<(Arc<File>, u64)>> {
        Ok(self
            .open_regular(&name.to_string_lossy())?
            .map(|(file, len)| (Arc::new(file), len)))
    }

    /// Runs `op` holding the locks of the keys' stripes: each stripe's in-process lock, then
    /// its cross-process lock (an advisory lock does not exclude other threads of this
    /// process), taken in stripe order (the same order in every process, so two rotations
    /// cannot deadlock) and released when `op` returns. Blocking: on a blocking thread.
    fn with_locks<T>(&self, keys: &[StoreKey], op: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        let mut stripes: Vec<usize> = keys.iter().map(stripe_of).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards: Vec<MutexGuard<'_, Option<File>>> = Vec::with_capacity(stripes.len());
        let mut locked = Ok(());
        for &stripe in &stripes {
            // A panic elsewhere cannot leave the slot (a lock file, or none) inconsistent.
            let mut guard = self.stripes[stripe]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match self.process_lock(stripe, &mut guard) {
                Ok(()) => guards.push(guard),
                Err(error) => {
                    locked = Err(error);
                    break;
                }
            }
        }
        let result = locked.and_then(|()| op(self));
        for mut guard in guards.into_iter().rev() {
            if guard.as_ref().is_none_or(|file| file.unlock().is_err()) {
                // Closing the file releases its lock.
                *guard = None;
            }
        }
        result
    }

    /// Takes the cross-process lock of `stripe` (blocking) on its lock file, opened once and
    /// kept in `slot`. The caller holds the stripe's in-process lock.
    fn process_lock(&self, stripe: usize, slot: &mut Option<File>) -> Result<()> {
        let path = || self.dir.join(LOCK_DIR).join(format!("{stripe:02x}"));
        if slot.is_none() {
            let path = path();
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            options.mode(0o600);
            *slot = Some(
                options
                    .open(&path)
                    .map_err(|e| io_error("opening", &path, e))?,
            );
        }
        let file = slot.as_ref().expect("opened above");
        file.lock().map_err(|e| io_error("locking", &path(), e))
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

    /// The MAC of a format-2 file: `mac` (prepared with the label) over the store key, the
    /// first 32 header bytes and the body.
    fn file_mac(mac: &Hmac<Sha256>, key: &StoreKey, header: &[u8], body: &[u8]) -> Hmac<Sha256> {
        let mut mac = mac.clone();
        mac.update(&key.0);
        mac.update(&header[..32]);
        mac.update(body);
        mac
    }

    /// The whole file for `record` stored as `version`.
    fn encode(&self, key: &StoreKey, record: &Record, version: u64) -> Result<Vec<u8>> {
        let (payload, expires_at) = (&record.payload, record.expires_at);
        let inner;
        let payload: &[u8] = match &record.principal {
            Some(principal) => {
                let len = u16::try_from(principal.len()).map_err(|_| {
                    StoreError::Config(format!(
                        "a principal of {} bytes is too long for the file store",
                        principal.len()
                    ))
                })?;
                let mut joined = Vec::with_capacity(2 + principal.len() + payload.len());
                joined.extend_from_slice(&len.to_be_bytes());
                joined.extend_from_slice(principal.as_bytes());
                joined.extend_from_slice(payload);
                inner = joined;
                &inner
            }
            None => payload,
        };
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
        // `Keys` always has a primary key, so the list is never empty.
        let (key_id, mac) = &self.macs[0];
        let mut file = Vec::with_capacity(HEADER_LEN + body.len());
        file.extend_from_slice(MAGIC);
        file.push(FORMAT);
        let mut flags = if self.sealer.is_some() {
            FLAG_SEALED
        } else {
            0
        };
        if record.principal.is_some() {
            flags |= FLAG_PRINCIPAL;
        }
        file.push(flags);
        file.extend_from_slice(&[0, 0]);
        file.extend_from_slice(&version.to_be_bytes());
        file.extend_from_slice(&expires_at.0.to_be_bytes());
        file.extend_from_slice(&body_len.to_be_bytes());
        file.extend_from_slice(&key_id.0);
        let tag = Self::file_mac(mac, key, &file, body)
            .finalize()
            .into_bytes();
        file.extend_from_slice(&tag);
        file.extend_from_slice(body);
        Ok(file)
    }

    /// Checks that `bytes` (header `header`, body `body`) are authentic: a format-2 MAC under
    /// a configured key, or a format-1 checksum on a sealed body (the seal is checked when
    /// it is opened).
    fn authenticate(
        &self,
        key: &StoreKey,
        header: &Header,
        bytes: &[u8],
        body: &[u8],
    ) -> Result<()> {
        if header.format == FORMAT_V1 {
            let checksum = Sha256::new()
                .chain_update(&bytes[..28])
                .chain_update(body)
                .finalize();
            if checksum.as_slice() != header.tag {
                return Err(StoreError::Corrupt(
                    "session file checksum mismatch".to_owned(),
                ));
            }
            if !header.sealed {
                return Err(StoreError::Corrupt(
                    "session file of format 1 is not sealed, so nothing authenticates it; \
                     refused (format 1 is read only when encrypted at rest)"
                        .to_owned(),
                ));
            }
            return Ok(());
        }
        let mut candidates = self
            .macs
            .iter()
            .filter(|(id, _)| *id == header.key_id)
            .peekable();
        if candidates.peek().is_none() {
            return Err(StoreError::Corrupt(format!(
                "session file is authenticated by a key that is not configured (key id {}); \
                 left in place",
                header.key_id
            )));
        }
        let authentic = candidates.any(|(_, mac)| {
            Self::file_mac(mac, key, bytes, body)
                .verify_slice(&header.tag)
                .is_ok()
        });
        if authentic {
            Ok(())
        } else {
            Err(StoreError::Corrupt(
                "session file fails authentication (planted, edited, or copied from another \
                 session)"
                    .to_owned(),
            ))
        }
    }

    /// Checks a whole file: its header, its length and its MAC (or a format-1 checksum);
    /// returns its header.
    fn verify(&self, key: &StoreKey, bytes: &[u8]) -> Result<Header> {
        let header = Header::parse(bytes)?;
        let body = &bytes[header.len()..];
        if body.len() != header.body_len as usize {
            return Err(StoreError::Corrupt(format!(
                "session file body is {} bytes, its header says {}",
                body.len(),
                header.body_len
            )));
        }
        // Bytes equal to the ones last found authentic for this key are authentic: the
        // check is a function of the key, the bytes and the configured keys alone.
        #[cfg(unix)]
        if self.open.is_authentic(key, bytes) {
            return Ok(header);
        }
        self.authenticate(key, &header, bytes, body)?;
        #[cfg(unix)]
        self.open.remember(key, bytes);
        Ok(header)
    }

    /// Decodes a whole file into a record.
    fn decode(&self, key: &StoreKey, mut bytes: Vec<u8>) -> Result<Record> {
        let header = self.verify(key, &bytes)?;
        let body = &bytes[header.len()..];
        let payload = match (&self.sealer, header.sealed) {
            (Some(sealer), true) => {
                sealer.open(body, &seal_aad(key, header.version, header.expires_at))?
            }
            // The body in place: the header taken off the front (no second buffer).
            (None, false) => {
                bytes.drain(..header.len());
                bytes
            }
            (None, true) => {
                return Err(StoreError::Corrupt(
                    "session file is encrypted but the store does not encrypt at rest".to_owned(),
                ));
            }
            (Some(_), false) => {
                return Err(StoreError::Corrupt(
                    "session file is not encrypted but the store encrypts at rest".to_owned(),
                ));
            }
        };
        let (principal, payload) = if header.with_principal {
            split_principal(payload)?
        } else {
            (None, payload)
        };
        Ok(Record {
            payload,
            expires_at: header.expires_at,
            version: header.version,
            principal,
        })
    }

    /// Reads the whole entry `name` of the directory (a session file or a spare); `None`
    /// when it does not exist. Reads the length the file had when opened, in one `read`
    /// for a small file (a file rewritten meanwhile fails its MAC).
    fn read(&self, key: &StoreKey, name: &CStr) -> Result<Option<Vec<u8>>> {
        let Some((file, len)) = self.open_cached(key, name, "session file", false)? else {
            return Ok(None);
        };
        let limit = (HEADER_LEN + self.max_payload + SEAL_OVERHEAD) as u64;
        if len > limit {
            return Err(StoreError::Corrupt(format!(
                "session file is larger than the store's limit of {limit} bytes"
            )));
        }
        let mut bytes = vec![0; len as usize];
        let filled = read_full_at(&file, &mut bytes)
            .map_err(|e| io_error("reading", &self.entry_path(name), e))?;
        bytes.truncate(filled);
        Ok(Some(bytes))
    }

    /// Reads the header of `key`'s file `name`, through the files kept open; `None` when it
    /// does not exist.
    fn read_header_cached(&self, key: &StoreKey, name: &CStr) -> Result<Option<Header>> {
        let Some((file, _)) = self.open_cached(key, name, "session file", false)? else {
            return Ok(None);
        };
        let mut bytes = [0; HEADER_LEN];
        let filled = read_full_at(&file, &mut bytes)
            .map_err(|e| io_error("reading", &self.entry_path(name), e))?;
        Header::parse(&bytes[..filled]).map(Some)
    }

    /// Reads the header of the entry `name` (opened afresh, not kept open: purges read
    /// files of ended sessions); `None` when it does not exist.
    fn read_header(&self, name: &str) -> Result<Option<Header>> {
        let Some((mut file, _)) = self.open_regular(name)? else {
            return Ok(None);
        };
        let mut bytes = [0; HEADER_LEN];
        let filled = read_full(&mut file, &mut bytes)
            .map_err(|e| io_error("reading", &self.dir.join(name), e))?;
        Header::parse(&bytes[..filled]).map(Some)
    }

    /// The record of `key` as stored, read under the key's locks (the caller holds them):
    /// its session file, or, under [`FileDurability::None`] when that file fails
    /// authentication (a save torn by a crash), its spare, the previous version. `None`
    /// when the session file does not exist: a spare alone never brings a session back.
    fn read_locked(&self, key: &StoreKey) -> Result<Option<Record>> {
        let Some(bytes) = self.read(key, Names::of(key).session())? else {
            return Ok(None);
        };
        // A clone: the bytes are still needed when they fail (rare, under the locks).
        match self.decode(key, bytes.clone()) {
            Err(StoreError::Corrupt(why)) => match self.previous(key, &bytes, &why) {
                Some(bytes) => self.decode(key, bytes).map(Some),
                None => Err(StoreError::Corrupt(why)),
            },
            other => other.map(Some),
        }
    }

    /// The version of `key`'s record as [`read_locked`](Self::read_locked) sees it, for a
    /// save's compare-and-swap (the caller holds the key's locks). Under `group` and
    /// `fsync` the header alone (a file is never torn there); under `none` the whole file
    /// is authenticated, so that a save over a torn file compares with the version loads
    /// return, the spare's.
    fn stored_version(&self, key: &StoreKey) -> Result<Option<u64>> {
        let names = Names::of(key);
        if self.durability != FileDurability::None {
            return Ok(self
                .read_header_cached(key, names.session())?
                .map(|header| header.version));
        }
        let Some(bytes) = self.read(key, names.session())? else {
            return Ok(None);
        };
        match self.verify(key, &bytes) {
            Err(StoreError::Corrupt(why)) => match self.previous(key, &bytes, &why) {
                Some(bytes) => self.verify(key, &bytes).map(|h| Some(h.version)),
                None => Err(StoreError::Corrupt(why)),
            },
            other => other.map(|header| Some(header.version)),
        }
    }

    /// Under [`FileDurability::None`], the bytes of `key`'s spare file when they
    /// authenticate as a version of this session (its MAC binds the session's name): the
    /// version before the one whose file failed for `why`. Logged at `warn`.
    /// A file authenticated by a key that is not configured is not torn: it is left alone
    /// (and works again once the key is back), never replaced by the previous version.
    fn previous(&self, key: &StoreKey, failed: &[u8], why: &str) -> Option<Vec<u8>> {
        if self.durability != FileDurability::None {
            return None;
        }
        if let Ok(header) = Header::parse(failed) {
            if header.format == FORMAT && !self.macs.iter().any(|(id, _)| *id == header.key_id) {
                return None;
            }
        }
        let bytes = self.read(key, Names::of(key).spare()).ok()??;
        self.verify(key, &bytes).ok()?;
        tracing::warn!(
            file = %self.path(key).display(),
            why,
            "session file unreadable (a save torn by a crash?): its previous version is used"
        );
        Some(bytes)
    }

    /// Writes `bytes` to a new temporary file, not yet synced; returns its path and the
    /// open file.
    fn write_temp(&self, key: &StoreKey, bytes: &[u8]) -> Result<(PathBuf, File)> {
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
            Ok(file)
        });
        match result {
            Ok(file) => Ok((path, file)),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(io_error("writing", &path, e))
            }
        }
    }

    /// Writes `bytes` to a new temporary file whose data is durable before it is renamed or
    /// linked into place (unless the durability is `none`); returns its path.
    fn temp(&self, key: &StoreKey, bytes: &[u8]) -> Result<PathBuf> {
        let (path, file) = self.write_temp(key, bytes)?;
        let synced = match self.durability {
            FileDurability::None => Ok(()),
            // Each writer syncs its own file's data: concurrent `fdatasync`s proceed in
            // parallel and share the file system's journal commit; a single thread syncing
            // the files of a batch one after the other waits for each write in turn.
            FileDurability::Fsync | FileDurability::Group => file.sync_data(),
        };
        match synced {
            Ok(()) => Ok(path),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(io_error("syncing", &path, e))
            }
        }
    }

    /// Syncs the directory now (on unix; elsewhere directories cannot be opened for
    /// syncing, and the file system orders the rename after the synced file's data).
    fn sync_dir_now(&self) -> io::Result<()> {
        #[cfg(unix)]
        rustix::fs::fsync(&self.dirfd)?;
        Ok(())
    }

    /// Makes the renames, links and removals made so far in the directory durable, as the
    /// durability says; `always` (a deletion, a rotation) syncs even under `none`, so that a
    /// session that was ended never comes back after a crash.
    fn sync_dir(&self, always: bool) -> Result<()> {
        match self.durability {
            FileDurability::None if !always => Ok(()),
            FileDurability::None | FileDurability::Fsync => self.sync_dir_now(),
            FileDurability::Group => self.group.sync(|| self.sync_dir_now()),
        }
        .map_err(|e| io_error("syncing", &self.dir, e))
    }

    /// Links the synced temporary file `temp` to `key`'s name; fails with
    /// [`StoreError::Exists`] when the name exists. The temporary file is removed.
    fn link(&self, key: &StoreKey, temp: &Path) -> Result<()> {
        let path = self.path(key);
        let linked = fs::hard_link(temp, &path);
        let removed = fs::remove_file(temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(StoreError::Exists),
            Err(e) => return Err(io_error("linking", &path, e)),
        }
        removed.map_err(|e| io_error("removing", temp, e))
    }

    fn create(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let bytes = self.encode(key, record, 1)?;
        let temp = self.temp(key, &bytes)?;
        // The index entry first, under the key's locks (see `index_add`).
        self.with_locks(&[*key], |inner| match inner.index_add(key, record) {
            // A spare left behind under this name (by an ended session) is never read as
            // this session's previous version.
            Ok(()) => inner.link(key, &temp).map(|()| inner.remove_spare(key)),
            Err(error) => {
                let _ = fs::remove_file(&temp);
                Err(error)
            }
        })?;
        self.sync_dir(false)
    }

    /// A load's first read, without the key's locks; a file that fails (torn by a
    /// concurrent save, or corrupt) is [`StoreError::Corrupt`], for
    /// [`load_locked`](Self::load_locked).
    fn load_unlocked(&self, key: &StoreKey) -> Result<Option<Record>> {
        self.read(key, Names::of(key).session())
            .and_then(|bytes| bytes.map(|bytes| self.decode(key, bytes)).transpose())
    }

    /// A load's read under the key's locks, after [`load_unlocked`](Self::load_unlocked)
    /// failed.
    fn load_locked(&self, key: &StoreKey) -> Result<Option<Record>> {
        self.with_locks(&[*key], |inner| inner.read_locked(key))
    }

    fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        let record = match self.load_unlocked(key) {
            // A save rewrites the spare file in place (see `replace`): a reader that opened
            // the session file just before a save swapped it out, and was still reading when
            // the next save of the same key rewrote it, read a mix of two versions, which
            // fails the MAC or the length check. No save runs under the key's locks, so a
            // read under them sees the file as it is: corrupt only if it really is (and
            // then, under `none`, the previous version may serve; see `read_locked`).
            Err(StoreError::Corrupt(_)) => self.load_locked(key)?,
            other => other?,
        };
        Ok(record.filter(|record| record.expires_at > now))
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        let version = record.version.checked_add(1).ok_or(StoreError::Conflict {
            expected: record.version,
        })?;
        let bytes = self.encode(key, record, version)?;
        self.with_locks(&[*key], |inner| {
            match inner.stored_version(key)? {
                None => return Err(StoreError::NotFound),
                Some(stored) if stored != record.version => {
                    return Err(StoreError::Conflict {
                        expected: record.version,
                    });
                }
                Some(_) => {}
            }
            inner.index_add(key, record)?;
            inner.replace(key, &bytes)?;
            // Written with the primary key's MAC: authentic, whether or not it is synced.
            #[cfg(unix)]
            inner.open.remember(key, &bytes);
            // Durable before the locks are released: the next save of this key rewrites the
            // file swapped out in place, which must by then be the spare on the disk too.
            inner.sync_dir(false)
        })?;
        Ok(version)
    }

    /// Puts `bytes` in place as `key`'s file at `path` (the caller holds the key's locks and
    /// found the file): written in place into the session's spare file (made on the first
    /// save), synced unless the durability is `none`, and swapped with the session file in
    /// one atomic exchange, so the old version becomes the spare. Where the exchange is
    /// not available (not Linux or macOS, or a file system refusing it), the new version
    /// is written to a new temporary file renamed over the session file.
    fn replace(&self, key: &StoreKey, bytes: &[u8]) -> Result<()> {
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios"
        ))]
        if self.exchange.load(Ordering::Relaxed) {
            let names = Names::of(key);
            // Paths only for the rare fallback and for errors (no allocation otherwise).
            let spare = || self.entry_path(names.spare());
            self.write_spare(key, names.spare(), bytes)?;
            let exchanged = rustix::fs::renameat_with(
                &self.dirfd,
                names.spare(),
                &self.dirfd,
                names.session(),
                rustix::fs::RenameFlags::EXCHANGE,
            );
            return match exchanged {
                Ok(()) => Ok(()),
                Err(
                    rustix::io::Errno::INVAL
                    | rustix::io::Errno::NOSYS
                    | rustix::io::Errno::OPNOTSUPP,
                ) => {
                    tracing::info!(
                        dir = %self.dir.display(),
                        "the file system cannot exchange two files; saves write a new file \
                         each time"
                    );
                    self.exchange.store(false, Ordering::Relaxed);
                    // The spare is written (and synced): it serves as the temporary file.
                    fs::rename(spare(), self.path(key))
                        .map_err(|e| io_error("renaming", &spare(), e))
                }
                Err(e) => Err(io_error("exchanging", &spare(), e.into())),
            };
        }
        let temp = self.temp(key, bytes)?;
        fs::rename(&temp, self.path(key)).map_err(|e| {
            let _ = fs::remove_file(&temp);
            io_error("renaming", &temp, e)
        })
    }

    /// Writes `bytes` over the spare file `name` from its start, cut to their length
    /// and synced unless the durability is `none`; the file is made (0600) when missing.
    /// Never follows a symbolic link; anything but a regular file is
    /// [`StoreError::Corrupt`].
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios"
    ))]
    fn write_spare(&self, key: &StoreKey, name: &CStr, bytes: &[u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let (file, old_len) = self
            .open_cached(key, name, "spare session file", true)?
            .ok_or_else(|| {
                StoreError::backend(format!(
                    "spare `{}` vanished while made",
                    name.to_string_lossy()
                ))
            })?;
        let len = bytes.len() as u64;
        file.write_all_at(bytes, 0)
            .and_then(|()| {
                if old_len > len {
                    file.set_len(len)
                } else {
                    Ok(())
                }
            })
            .and_then(|()| match self.durability {
                FileDurability::None => Ok(()),
                FileDurability::Fsync | FileDurability::Group => file.sync_data(),
            })
            .map_err(|e| io_error("writing", &self.entry_path(name), e))
    }

    /// Removes `key`'s spare file, if any (best effort: a leftover is removed by purges).
    fn remove_spare(&self, key: &StoreKey) {
        // The session ended (or starts afresh): its files are let go of.
        #[cfg(unix)]
        self.open.forget(key);
        let spare = self.spare_path(key);
        if let Err(e) = fs::remove_file(&spare) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::debug!(error = %e, "spare session file left for the purge");
            }
        }
    }

    /// A rotation: under the locks of both keys' stripes, then synced (even under `none`).
    fn rotate(&self, r: &OwnedRotation) -> Result<()> {
        let mut keys = vec![r.old];
        keys.extend(r.new.as_ref().map(|(key, _)| *key));
        self.with_locks(&keys, |inner| inner.rotate_locked(r))?;
        self.sync_dir(true)
    }

    /// A rotation; the caller holds the locks of both keys' stripes.
    fn rotate_locked(&self, r: &OwnedRotation) -> Result<()> {
        let old_path = self.path(&r.old);
        match self.stored_version(&r.old)? {
            None => return Err(StoreError::NotFound),
            Some(stored) if stored != r.version => {
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
                let bytes = self.encode(&r.old, record, version)?;
                Some(self.temp(&r.old, &bytes)?)
            }
            None => None,
        };
        // The old record's principal, to take it out of the index once it is replaced.
        let old_principal = self.principal_at(&r.old);
        if let Some(record) = &r.keep_old {
            self.index_add(&r.old, record)?;
        }
        if let Some((key, record)) = &r.new {
            self.index_add(key, record)?;
            let created = self
                .encode(key, record, 1)
                .and_then(|bytes| self.temp(key, &bytes))
                .and_then(|temp| self.link(key, &temp));
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
                Ok(()) => {
                    self.remove_spare(&r.old);
                    Ok(())
                }
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
        let kept = r.keep_old.as_ref().and_then(|k| k.principal.as_deref());
        if let Some(principal) = old_principal.filter(|p| Some(p.as_str()) != kept) {
            self.index_remove(&r.old, &principal);
        }
        Ok(())
    }

    fn delete(&self, key: &StoreKey) -> Result<()> {
        let path = self.path(key);
        let removed = self.with_locks(&[*key], |inner| {
            let principal = inner.principal_at(key);
            match fs::remove_file(&path) {
                Ok(()) => {
                    inner.remove_spare(key);
                    if let Some(principal) = principal {
                        inner.index_remove(key, &principal);
                    }
                    Ok(true)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(io_error("removing", &path, e)),
            }
        })?;
        if removed { self.sync_dir(true) } else { Ok(()) }
    }

    /// The directory of `principal`'s index entries.
    fn principal_dir(&self, principal: &str) -> PathBuf {
        let digest = Sha256::digest(principal.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(PRINCIPAL_DIR).join(name)
    }

    /// Enters `key` under the record's principal before the record is written (the caller
    /// holds the key's locks), so a crash can leave a stale entry but never a missing one;
    /// listings check every entry against the record, and purges remove stale ones.
    fn index_add(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let Some(principal) = &record.principal else {
            return Ok(());
        };
        let dir = self.principal_dir(principal);
        let path = dir.join(key.to_hex());
        if fs::symlink_metadata(&path).is_ok() {
            return Ok(());
        }
        #[cfg(unix)]
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_error("creating", &dir, e))?;
        #[cfg(not(unix))]
        fs::create_dir_all(&dir).map_err(|e| io_error("creating", &dir, e))?;
        match new_file_options().open(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(io_error("creating", &path, e)),
        }
        // Durable before the record it indexes (unless nothing is synced at all).
        #[cfg(unix)]
        if self.durability != FileDurability::None {
            File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error("syncing", &dir, e))?;
        }
        Ok(())
    }

    /// Removes `key`'s entry under `principal` (best effort: a leftover is stale, which
    /// listings skip and purges remove).
    fn index_remove(&self, key: &StoreKey, principal: &str) {
        let path = self.principal_dir(principal).join(key.to_hex());
        if let Err(e) = fs::remove_file(&path) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::debug!(error = %e, "stale principal index entry left for the purge");
            }
        }
    }

    /// The principal of `key`'s record, if it is readable and has one (the caller holds
    /// the key's locks).
    fn principal_at(&self, key: &StoreKey) -> Option<String> {
        self.read_locked(key).ok()??.principal
    }

    /// The live records of `principal`: its index entries, each checked against the
    /// (authenticated) record it names.
    fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let dir = self.principal_dir(principal);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("listing", &dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing", &dir, e))?;
            let Some(key) = entry.file_name().to_str().and_then(parse_hex_key) else {
                continue;
            };
            match self.load(&key, now) {
                Ok(Some(record)) if record.principal.as_deref() == Some(principal) => {
                    out.push((key, record));
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::debug!(%error, "unreadable session file skipped in a listing");
                }
            }
        }
        Ok(out)
    }

    /// Applies a session limit under the principal's lock: a lock file of its own in the
    /// lock directory (`p-` and the principal directory's name), opened afresh on every
    /// call, so that its advisory lock excludes other threads of this process as well as
    /// other processes. Every limit of this principal lists and trims its sessions under
    /// it, one after the other; each delete also takes the key's stripe locks (always
    /// after the principal's lock, so nothing waits the other way round).
    fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        let dir = self.principal_dir(limit.principal);
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let path = self.dir.join(LOCK_DIR).join(format!("p-{name}"));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(&path)
            .map_err(|e| io_error("opening", &path, e))?;
        file.lock().map_err(|e| io_error("locking", &path, e))?;
        let result = (|| {
            let live: Vec<(StoreKey, Timestamp)> = self
                .sessions_of(limit.principal, now)?
                .into_iter()
                .map(|(key, record)| (key, record.expires_at))
                .collect();
            let (delete, refused) = plan_limit(limit, &live);
            for key in &delete {
                self.delete(key)?;
            }
            Ok(Limited::of(delete, refused))
        })();
        // Closing the file releases the lock either way.
        let _ = file.unlock();
        result
    }

    /// Removes the index entries whose record is gone, expired, or of another principal,
    /// each under its key's locks.
    fn purge_index(&self, now: Timestamp) -> Result<()> {
        let root = self.dir.join(PRINCIPAL_DIR);
        let principals = match fs::read_dir(&root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("listing", &root, e)),
        };
        for dir in principals {
            let dir = dir.map_err(|e| io_error("listing", &root, e))?.path();
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Some(key) = entry.file_name().to_str().and_then(parse_hex_key) else {
                    continue;
                };
                self.with_locks(&[key], |inner| {
                    // Not `load`: it may take these locks again.
                    let live = inner
                        .read_locked(&key)
                        .ok()
                        .flatten()
                        .filter(|r| r.expires_at > now)
                        .and_then(|r| r.principal);
                    let expected = live.map(|p| inner.principal_dir(&p) == dir);
                    if expected != Some(true) {
                        let _ = fs::remove_file(entry.path());
                    }
                    Ok(())
                })?;
            }
            // Empty directories go (a concurrent `index_add` recreates its own).
            let _ = fs::remove_dir(&dir);
        }
        Ok(())
    }

    /// Removes expired session files and stale temporary files. An entry that is not a
    /// regular file (a directory, a symbolic link, ...) under a session or temporary name,
    /// a file whose header cannot be read, and a file that cannot be removed are skipped
    /// and counted (logged at `warn`), so one bad entry never stops the purge.
    fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        let entries = fs::read_dir(&self.dir).map_err(|e| io_error("listing", &self.dir, e))?;
        let mut removed = 0;
        let mut skipped = 0u64;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(key) = name.strip_prefix(SPARE_PREFIX).and_then(parse_hex_key) {
                self.purge_spare(&key)?;
                continue;
            }
            let is_temp = name.starts_with(TMP_PREFIX);
            let key = parse_hex_key(name);
            if !is_temp && key.is_none() {
                continue;
            }
            // `file_type` does not follow symbolic links.
            if !entry.file_type().is_ok_and(|t| t.is_file()) {
                skipped += 1;
                continue;
            }
            let path = entry.path();
            let Some(key) = key else {
                if let Err(error) = self.remove_stale_temp(&path) {
                    tracing::debug!(%error, "stale temporary session file not removed");
                    skipped += 1;
                }
                continue;
            };
            match self.read_header(name) {
                Ok(Some(header)) if header.expires_at <= now => {}
                Ok(_) => continue,
                Err(error) => {
                    tracing::debug!(%error, file = name, "session file skipped by the purge");
                    skipped += 1;
                    continue;
                }
            }
            // Expired: remove it unless a save made it live again meanwhile.
            let outcome = self.with_locks(&[key], |inner| {
                let still_expired = matches!(
                    inner.read_header(name),
                    Ok(Some(header)) if header.expires_at <= now
                );
                Ok(if still_expired {
                    fs::remove_file(&path).map(|()| {
                        inner.remove_spare(&key);
                        true
                    })
                } else {
                    Ok(false)
                })
            })?;
            match outcome {
                Ok(true) => removed += 1,
                Ok(false) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::debug!(%error, file = name, "expired session file not removed");
                    skipped += 1;
                }
            }
        }
        if skipped > 0 {
            tracing::warn!(
                skipped,
                dir = %self.dir.display(),
                "purge skipped entries that are not readable session files (left in place)"
            );
        }
        if removed > 0 {
            // Synced even under `none`: an expired file that came back after a crash would be
            // refused by its expiry, but its spare (the previous version, read when the file
            // is torn) may carry another expiry.
            self.sync_dir(true)?;
        }
        self.purge_index(now)?;
        Ok(removed)
    }

    /// Removes `key`'s spare file when its session file is gone (a crash between the two
    /// removals, or a session file removed by hand), under the key's locks.
    fn purge_spare(&self, key: &StoreKey) -> Result<()> {
        let path = self.path(key);
        // An entry that cannot be read is not known to be gone: the spare stays.
        let gone =
            || matches!(fs::symlink_metadata(&path), Err(e) if e.kind() == io::ErrorKind::NotFound);
        if gone() {
            // Checked again under the locks: a create may have come meanwhile.
            self.with_locks(&[*key], |inner| {
                if gone() {
                    inner.remove_spare(key);
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn remove_stale_temp(&self, path: &Path) -> Result<()> {
        let modified = match fs::symlink_metadata(path).and_then(|meta| meta.modified()) {
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

/// Reads `file` from its start into `buf` until `buf` is full or the file ends (`pread`,
/// so a file shared by several readers has no position to race on); returns the bytes
/// read.
fn read_full_at(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(file, &mut buf[filled..], filled as u64);
        #[cfg(windows)]
        let read =
            std::os::windows::fs::FileExt::seek_read(file, &mut buf[filled..], filled as u64);
        match read {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads into `buf` until it is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Splits a decoded body into its principal and the payload.
fn split_principal(body: Vec<u8>) -> Result<(Option<String>, Vec<u8>)> {
    let corrupt = || StoreError::Corrupt("session file principal is malformed".to_owned());
    let len = body.get(..2).ok_or_else(corrupt)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    let principal = body.get(2..2 + len).ok_or_else(corrupt)?;
    let principal = std::str::from_utf8(principal)
        .map_err(|_| corrupt())?
        .to_owned();
    Ok((Some(principal), body[2 + len..].to_vec()))
}

/// The number of files kept open unless set ([`FileStoreBuilder::open_files`]): 256, or a
/// quarter of the process's soft limit of open files when that is smaller.
#[cfg(unix)]
fn default_open_files() -> usize {
    const DEFAULT: usize = 256;
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    limit.map_or(DEFAULT, |limit| {
        DEFAULT.min(usize::try_from(limit / 4).unwrap_or(usize::MAX))
    })
}

#[cfg(not(unix))]
fn default_open_files() -> usize {
    0
}

/// The files of recently used sessions, kept open so that a load or a save does not open
/// and close them each time (see the [module docs](self#open-files)). A file is found by
/// its session and its identity (device and inode number, from a `stat` of the name just
/// made): while the store holds the file open its inode cannot be freed, so no other file
/// can have that identity. Contents are never cached: every read reads the file. Beside a
/// session's files, the last bytes of its file found authentic (see
/// [`is_authentic`](Self::is_authentic)).
///
/// The sessions are kept in a list from the most recently used to the least (linked by
/// index in a slab), so a use, an insertion and an eviction each take constant time.
#[cfg(unix)]
struct OpenFiles {
    /// The most files held.
    max: usize,
    state: Mutex<OpenState>,
}

/// The end of the list ([`Session::prev`], [`Session::next`], [`OpenState::head`]).
#[cfg(unix)]
const NIL: usize = usize::MAX;

/// The largest file whose bytes are remembered as authentic (larger ones are verified on
/// every read): one memo per session held, so at most this times the sessions held.
#[cfg(unix)]
const MEMO_MAX: usize = 4096;

#[cfg(unix)]
struct OpenState {
    /// A counter of uses, to tell which of a session's two files was used last.
    tick: u64,
    /// Files held in all.
    held: usize,
    /// The slot of each session held in `sessions`.
    by_key: std::collections::HashMap<StoreKey, usize, std::hash::BuildHasherDefault<KeyHash>>,
    /// The sessions held, and the slots freed (listed in `free`).
    sessions: Vec<Session>,
    free: Vec<usize>,
    /// The session used most recently, and the one used least recently ([`NIL`] when
    /// none).
    head: usize,
    tail: usize,
}

/// A session's held files and memo, in the list of [`OpenState`].
#[cfg(unix)]
struct Session {
    key: StoreKey,
    /// Up to two files: its session file and its spare, which trade names at every save.
    files: [Option<Held>; 2],
    /// The last bytes of the session's file found authentic (read and verified, or written
    /// by a save), up to [`MEMO_MAX`]; empty when none.
    authentic: Vec<u8>,
    /// The neighbours in the list: used more recently, used less recently.
    prev: usize,
    next: usize,
}

/// A file held open, its identity and when it was last used.
#[cfg(unix)]
struct Held {
    dev: u64,
    ino: u64,
    file: Arc<File>,
    used: u64,
}

/// The hasher of [`OpenState::by_key`]: a store key is SHA-256 of a random id, so its first
/// eight bytes are a uniform hash already (keys are never chosen by clients: a request
/// presents an id, and the key is its hash).
#[cfg(unix)]
#[derive(Default)]
struct KeyHash(u64);

#[cfg(unix)]
impl std::hash::Hasher for KeyHash {
    fn write(&mut self, bytes: &[u8]) {
        // The key's bytes come in one write (after its length, the same for every key).
        if let Some(word) = bytes.first_chunk::<8>() {
            self.0 ^= u64::from_le_bytes(*word);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(unix)]
impl OpenState {
    /// Takes session `at` out of the list.
    fn unlink(&mut self, at: usize) {
        let (prev, next) = (self.sessions[at].prev, self.sessions[at].next);
        match prev {
            NIL => self.head = next,
            prev => self.sessions[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.sessions[next].prev = prev,
        }
    }

    /// Puts session `at` (not in the list) at its head, as the one used most recently.
    fn push_front(&mut self, at: usize) {
        self.sessions[at].prev = NIL;
        self.sessions[at].next = self.head;
        match self.head {
            NIL => self.tail = at,
            head => self.sessions[head].prev = at,
        }
        self.head = at;
    }

    /// Marks session `at` as used now.
    fn touch(&mut self, at: usize) {
        if self.head != at {
            self.unlink(at);
            self.push_front(at);
        }
    }

    /// Lets go of session `at`: its slot is freed and its files returned (to be closed
    /// once the lock is released).
    fn remove(&mut self, at: usize) -> [Option<Held>; 2] {
        self.unlink(at);
        let session = &mut self.sessions[at];
        let key = session.key;
        let files = std::mem::take(&mut session.files);
        session.authentic = Vec::new();
        self.by_key.remove(&key);
        self.held -= files.iter().flatten().count();
        self.free.push(at);
        files
    }
}

#[cfg(unix)]
impl OpenFiles {
    fn new(max: usize) -> Self {
        Self {
            max,
            state: Mutex::new(OpenState {
                tick: 0,
                held: 0,
                by_key: Default::default(),
                sessions: Vec::new(),
                free: Vec::new(),
                head: NIL,
                tail: NIL,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, OpenState> {
        // A panic elsewhere cannot leave the map inconsistent: at worst a file is held.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The file of `key` with identity `dev`/`ino`, if held.
    fn get(&self, key: &StoreKey, dev: u64, ino: u64) -> Option<Arc<File>> {
        let mut state = self.state();
        let at = *state.by_key.get(key)?;
        state.tick += 1;
        let tick = state.tick;
        let held = state.sessions[at]
            .files
            .iter_mut()
            .flatten()
            .find(|held| held.dev == dev && held.ino == ino)?;
        held.used = tick;
        let file = held.file.clone();
        state.touch(at);
        Some(file)
    }

    /// Holds `file` (identity `dev`/`ino`) as one of `key`'s files, in place of the one
    /// of its two used least recently; when more than the most files are held, lets go of
    /// the files of the sessions used least recently (taken from the end of the list, so
    /// in constant time per session let go of).
    fn insert(&self, key: &StoreKey, dev: u64, ino: u64, file: Arc<File>) {
        if self.max == 0 {
            return;
        }
        // Files let go of are closed once the lock is released.
        let mut closed: Vec<Held> = Vec::new();
        let mut state = self.state();
        state.tick += 1;
        let held = Held {
            dev,
            ino,
            file,
            used: state.tick,
        };
        let at = match state.by_key.get(key) {
            Some(&at) => {
                state.touch(at);
                at
            }
            None => {
                let session = Session {
                    key: *key,
                    files: [None, None],
                    authentic: Vec::new(),
                    prev: NIL,
                    next: NIL,
                };
                let at = match state.free.pop() {
                    Some(at) => {
                        state.sessions[at] = session;
                        at
                    }
                    None => {
                        state.sessions.push(session);
                        state.sessions.len() - 1
                    }
                };
                state.by_key.insert(*key, at);
                state.push_front(at);
                at
            }
        };
        let slots = &mut state.sessions[at].files;
        let slot = match slots {
            [None, _] => &mut slots[0],
            [_, None] => &mut slots[1],
            [Some(a), Some(b)] => {
                if a.used <= b.used {
                    &mut slots[0]
                } else {
                    &mut slots[1]
                }
            }
        };
        let replaced = slot.replace(held);
        let added = replaced.is_none();
        closed.extend(replaced);
        if added {
            state.held += 1;
        }
        // `key`'s session is at the head: the tail is another one while it is not `at`.
        while state.held > self.max && state.tail != at {
            let tail = state.tail;
            closed.extend(state.remove(tail).into_iter().flatten());
        }
        drop(state);
        drop(closed);
    }

    /// Lets go of `key`'s files and memo (its session ended, or its file is gone).
    fn forget(&self, key: &StoreKey) {
        let removed = {
            let mut state = self.state();
            let at = state.by_key.get(key).copied();
            at.map(|at| state.remove(at))
        };
        // Closed once the lock is released.
        drop(removed);
    }

    /// Whether `bytes` are the bytes last found authentic as `key`'s file. Authenticity is
    /// a function of the key, the bytes and the configured keys alone (fixed for the
    /// store's life), so bytes equal to ones already verified need not be verified again;
    /// any other bytes are.
    fn is_authentic(&self, key: &StoreKey, bytes: &[u8]) -> bool {
        let state = self.state();
        !bytes.is_empty()
            && state
                .by_key
                .get(key)
                .is_some_and(|&at| state.sessions[at].authentic == bytes)
    }

    /// Remembers `bytes` as authentic for `key` (verified, or written by a save) when its
    /// files are held and the bytes are at most [`MEMO_MAX`] long.
    fn remember(&self, key: &StoreKey, bytes: &[u8]) {
        if bytes.len() > MEMO_MAX {
            return;
        }
        let mut state = self.state();
        if let Some(&at) = state.by_key.get(key) {
            let memo = &mut state.sessions[at].authentic;
            memo.clear();
            memo.extend_from_slice(bytes);
        }
    }
}

/// The group commit of [`FileDurability::Group`]: a writer that renamed or linked its file
/// waits for a directory sync that *started* after its change. The first waiter that finds
/// no sync running runs one for every writer queued so far, so concurrent writers share
/// one directory `fsync` (one journal commit) instead of each paying their own.
#[derive(Default)]
struct GroupSync {
    state: Mutex<GroupState>,
    done: Condvar,
}

#[derive(Default)]
struct GroupState {
    /// Syncs started so far; the one running, if any, is number `started`.
    started: u64,
    /// Syncs finished so far (they finish in order: one runs at a time).
    completed: u64,
    running: bool,
    /// Writers waiting for a sync.
    waiting: usize,
    /// The last sync that failed, and why.
    failed: u64,
    error: String,
}

impl GroupSync {
    /// Waits until a `sync` that started after this call has finished, running it when
    /// none is running. The error of the sync that covered this call is returned (as is,
    /// conservatively, the error of a later sync that failed before this waiter woke).
    fn sync(&self, sync: impl Fn() -> io::Result<()>) -> io::Result<()> {
        let lock = || self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = lock();
        state.waiting += 1;
        let target = state.started + 1;
        loop {
            if state.completed >= target {
                state.waiting -= 1;
                return if state.failed >= target {
                    Err(io::Error::other(format!(
                        "a grouped sync failed: {}",
                        state.error
                    )))
                } else {
                    Ok(())
                };
            }
            if state.running {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.running = true;
            state.started += 1;
            let epoch = state.started;
            drop(state);
            let result = sync();
            state = lock();
            state.running = false;
            state.completed = epoch;
            if let Err(error) = result {
                state.failed = epoch;
                state.error = error.to_string();
            }
            self.done.notify_all();
        }
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
    /// Opens a store in `dir` authenticating its files with `keys`, with no encryption at
    /// rest and the default payload limit; see [`FileStoreBuilder::open`].
    ///
    /// # Errors
    /// As [`FileStoreBuilder::open`].
    pub fn open(dir: impl Into<PathBuf>, keys: Keys) -> Result<Self> {
        Self::builder(dir, keys).open()
    }

    /// A builder for a store in `dir` whose files are authenticated with `keys` (the
    /// session keys: written under the primary, read under any; see the [module
    /// docs](self)).
    pub fn builder(dir: impl Into<PathBuf>, keys: Keys) -> FileStoreBuilder {
        FileStoreBuilder {
            dir: dir.into(),
            keys,
            sealer: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            durability: FileDurability::default(),
            exchange: true,
            open_files: None,
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

    /// Whether a load, create or save of `payload_len` bytes runs on the calling thread.
    fn inline(&self, payload_len: usize) -> bool {
        self.inner.durability == FileDurability::None && payload_len <= INLINE_MAX
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
        if self.inline(record.payload.len()) {
            return self.inner.create(key, record);
        }
        let (key, record) = (*key, record.clone());
        self.blocking(move |inner| inner.create(&key, &record))
            .await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>> {
        if self.inline(0) {
            return self.inner.load(key, now);
        }
        // Under `group` and `fsync`: the read on this thread (nothing synced), a read
        // again under the key's locks (which a save holds while it syncs) on a blocking
        // thread (see the module docs' "Threads").
        let record = match self.inner.load_unlocked(key) {
            Err(StoreError::Corrupt(_)) => {
                let key = *key;
                self.blocking(move |inner| inner.load_locked(&key)).await?
            }
            other => other?,
        };
        Ok(record.filter(|record| record.expires_at > now))
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64> {
        self.inner.check_size(&record.payload)?;
        if self.inline(record.payload.len()) {
            return self.inner.save(key, record);
        }
        let (key, record) = (*key, record.clone());
        self.blocking(move |inner| inner.save(&key, &record)).await
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
        self.blocking(move |inner| inner.rotate(&owned)).await
    }

    async fn delete(&self, key: &StoreKey) -> Result<()> {
        let key = *key;
        self.blocking(move |inner| inner.delete(&key)).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        self.blocking(move |inner| inner.purge_expired(now)).await
    }

    fn indexes_principals(&self) -> bool {
        true
    }

    async fn sessions_of(&self, principal: &str, now: Timestamp) -> Result<Sessions> {
        let principal = principal.to_owned();
        self.blocking(move |inner| inner.sessions_of(&principal, now))
            .await
    }

    fn limits_sessions(&self) -> bool {
        true
    }

    async fn limit_sessions(&self, limit: &SessionLimit<'_>, now: Timestamp) -> Result<Limited> {
        let principal = limit.principal.to_owned();
        let (newcomer, max, policy) = (*limit.newcomer, limit.max, limit.policy);
        self.blocking(move |inner| {
            let limit = SessionLimit {
                principal: &principal,
                newcomer: &newcomer,
                max,
                policy,
            };
            inner.limit_sessions(&limit, now)
        })
        .await
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

    /// Writers that arrive while a sync runs are all covered by one more sync, not one
    /// each: 8 writers, 2 syncs.
    #[test]
    fn group_sync_covers_the_writers_that_arrive_during_a_sync_with_one_more() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Instant;
        let group = Arc::new(GroupSync::default());
        let syncs = Arc::new(AtomicUsize::new(0));
        let sync = |group: Arc<GroupSync>, syncs: Arc<AtomicUsize>| {
            move || {
                if syncs.fetch_add(1, Ordering::SeqCst) == 0 {
                    // Hold the first sync until the 7 others wait behind it.
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while group.state.lock().unwrap().waiting < 8 {
                        if Instant::now() > deadline {
                            return Err(io::Error::other("the other writers never queued"));
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                Ok(())
            }
        };
        let first = {
            let (group, syncs) = (group.clone(), syncs.clone());
            std::thread::spawn(move || group.sync(sync(group.clone(), syncs)))
        };
        while !group.state.lock().unwrap().running {
            std::thread::sleep(Duration::from_millis(1));
        }
        let others: Vec<_> = (0..7)
            .map(|_| {
                let (group, syncs) = (group.clone(), syncs.clone());
                std::thread::spawn(move || group.sync(sync(group.clone(), syncs)))
            })
            .collect();
        first.join().unwrap().unwrap();
        for other in others {
            other.join().unwrap().unwrap();
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 2);
        let state = group.state.lock().unwrap();
        assert_eq!((state.started, state.completed, state.waiting), (2, 2, 0));
    }

    /// A failed sync fails the writes it covered; the next one starts clean.
    #[test]
    fn group_sync_reports_a_failed_sync_to_its_writers() {
        let group = GroupSync::default();
        let error = group
            .sync(|| Err(io::Error::other("disk on fire")))
            .unwrap_err();
        assert!(error.to_string().contains("disk on fire"), "{error}");
        group.sync(|| Ok(())).unwrap();
        assert_eq!(group.state.lock().unwrap().completed, 2);
    }

    /// The held files as (key's first byte, inode), sorted.
    #[cfg(unix)]
    fn held_of(open: &OpenFiles) -> Vec<(u8, u64)> {
        let state = open.state();
        let mut held: Vec<(u8, u64)> = state
            .by_key
            .iter()
            .flat_map(|(key, &at)| {
                assert_eq!(state.sessions[at].key, *key);
                state.sessions[at]
                    .files
                    .iter()
                    .flatten()
                    .map(|h| (key.0[0], h.ino))
            })
            .collect();
        held.sort_unstable();
        assert_eq!(held.len(), state.held, "the count of files held");
        // The list holds every session once, linked both ways.
        let (mut at, mut prev, mut listed) = (state.head, NIL, 0);
        while at != NIL {
            assert_eq!(state.sessions[at].prev, prev);
            (prev, at, listed) = (at, state.sessions[at].next, listed + 1);
        }
        assert_eq!((prev, listed), (state.tail, state.by_key.len()));
        held
    }

    /// The kept-open files behave as a least-recently-used cache of sessions, the one
    /// scanned for its oldest session on every eviction did (a model of it here, random
    /// uses checked step by step against it); the list makes each step constant time.
    #[cfg(unix)]
    #[test]
    fn open_files_let_go_of_the_sessions_used_least_recently() {
        // The model: per key, up to two (inode, last use); a session's last use is its
        // files' latest.
        type Model = std::collections::BTreeMap<u8, [Option<(u64, u64)>; 2]>;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let null = File::open("/dev/null").unwrap();
        for max in 0..6 {
            let open = OpenFiles::new(max);
            let mut model = Model::new();
            let mut tick = 0;
            for step in 0..3000 {
                tick += 1;
                let k = next(8) as u8;
                let key = StoreKey([k; 32]);
                let ino = next(4);
                match next(10) {
                    0 => {
                        open.forget(&key);
                        model.remove(&k);
                    }
                    1..=4 => {
                        let found = model
                            .get_mut(&k)
                            .and_then(|slots| slots.iter_mut().flatten().find(|f| f.0 == ino));
                        let expected = found.map(|f| f.1 = tick).is_some();
                        assert_eq!(open.get(&key, 1, ino).is_some(), expected, "step {step}");
                    }
                    _ => {
                        open.insert(&key, 1, ino, Arc::new(null.try_clone().unwrap()));
                        if max > 0 {
                            let slots = model.entry(k).or_default();
                            let slot = match slots {
                                [None, _] => 0,
                                [_, None] => 1,
                                [Some(a), Some(b)] => usize::from(a.1 > b.1),
                            };
                            slots[slot] = Some((ino, tick));
                            let count = |m: &Model| m.values().flatten().flatten().count();
                            while count(&model) > max {
                                let last_use = |s: &[Option<(u64, u64)>; 2]| {
                                    s.iter().flatten().map(|f| f.1).max()
                                };
                                let Some((&oldest, _)) = model
                                    .iter()
                                    .filter(|(other, _)| **other != k)
                                    .min_by_key(|(_, s)| last_use(s))
                                else {
                                    break;
                                };
                                model.remove(&oldest);
                            }
                        }
                    }
                }
                let mut expected: Vec<(u8, u64)> = model
                    .iter()
                    .flat_map(|(k, s)| s.iter().flatten().map(|f| (*k, f.0)))
                    .collect();
                expected.sort_unstable();
                assert_eq!(held_of(&open), expected, "max {max}, step {step}");
            }
        }
    }

    /// The memo vouches only for the very bytes found authentic for that key, and goes
    /// with the session's files.
    #[cfg(unix)]
    #[test]
    fn the_memo_vouches_for_the_same_bytes_of_the_same_key_only() {
        let open = OpenFiles::new(4);
        let (key, other) = (StoreKey([1; 32]), StoreKey([2; 32]));
        let bytes = b"SESS authentic bytes".to_vec();
        open.remember(&key, &bytes);
        assert!(
            !open.is_authentic(&key, &bytes),
            "no memo without a held file"
        );
        let file = Arc::new(File::open("/dev/null").unwrap());
        open.insert(&key, 1, 1, file.clone());
        open.insert(&other, 1, 2, file);
        open.remember(&key, &bytes);
        assert!(open.is_authentic(&key, &bytes));
        assert!(!open.is_authentic(&other, &bytes), "another key's memo");
        let mut changed = bytes.clone();
        changed[7] ^= 1;
        assert!(!open.is_authentic(&key, &changed));
        assert!(!open.is_authentic(&key, &bytes[..bytes.len() - 1]));
        assert!(!open.is_authentic(&key, b""));
        assert!(
            !open.is_authentic(&other, b""),
            "an empty memo vouches for nothing"
        );
        open.remember(&key, &vec![0; MEMO_MAX + 1]);
        assert!(
            open.is_authentic(&key, &bytes),
            "too long: the memo stays as it was"
        );
        open.forget(&key);
        assert!(
            !open.is_authentic(&key, &bytes),
            "gone with the session's files"
        );
    }

    #[test]
    fn header_refuses_garbage() {
        for bytes in [
            &b""[..],
            b"SESS",
            &[0u8; HEADER_LEN],
            b"XXXX\x01\0\0\0",
            b"SESS\x02\0\0\0",
            b"SESS\x03\0\0\0",
        ] {
            assert!(
                matches!(Header::parse(bytes), Err(StoreError::Corrupt(_))),
                "{bytes:?}"
            );
        }
    }
}
