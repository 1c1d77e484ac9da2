//! Issue 10 (hardening): one regression test (or more) per finding, named after what broke.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use session_runtime::__private::{decode, finish, retain_keys};
use session_runtime::id::SessionId;
use session_runtime::keys::{Key, KeyError, Keys};
use session_runtime::store::KeySealer;
use session_runtime::store::{FileStore, Record, Rotation, SessionStore, StoreError, StoreKey};
use session_runtime::{
    Map, MockClock, Session, SessionManager, SessionSchema, Settings, Timestamp, ValidationErrors,
};
use sha2::{Digest, Sha256};

use crate::support::{BOTH, Harness, Kind, T0, settings, value_of};

const NOW: Timestamp = Timestamp(T0);

fn store_in(dir: &Path, keys: &Keys, encrypt: bool) -> FileStore {
    let builder = FileStore::builder(dir, keys.clone());
    let builder = if encrypt {
        builder.sealer(Arc::new(KeySealer::new(keys.clone())))
    } else {
        builder
    };
    builder.open().expect("the store opens")
}

fn manager_on(store: FileStore, clock: &MockClock) -> SessionManager {
    SessionManager::with_store(settings(), Arc::new(store))
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

/// A manager on a file store in `<tmp>/sessions` (`dir`; sealed at rest when `encrypt`),
/// its keys, and the manager's clock, stopped at [`NOW`].
struct OnFiles {
    tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    clock: MockClock,
    keys: Keys,
    manager: SessionManager,
}

impl OnFiles {
    fn new(encrypt: bool) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sessions");
        let clock = MockClock::new(NOW);
        let keys = Keys::generate();
        let manager = manager_on(store_in(&dir, &keys, encrypt), &clock);
        Self {
            tmp,
            dir,
            clock,
            keys,
            manager,
        }
    }
}

/// Logs in `user` and returns the cookie pair (`session=<id>`).
async fn login(manager: &SessionManager, user: &str) -> String {
    let session = manager.load(None::<&str>).await.unwrap();
    session.set("user", user).unwrap();
    session.set("role", "customer").unwrap();
    let set = manager.commit(&session, false).await.unwrap();
    set[0].split(';').next().unwrap().to_owned()
}

// --- finding 1: the file store trusts only its own directory ----------------------------

#[test]
fn file_store_refuses_a_directory_owned_by_another_user() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    FileStore::open(&dir, Keys::generate()).expect("our own 0700 directory opens");
    // Hand it to `nobody` (the tests run as root on the CI machines; elsewhere `chown`
    // fails and the case cannot be set up).
    if std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).is_err() {
        eprintln!("not root: cannot give the directory away, case skipped");
        return;
    }
    match FileStore::open(&dir, Keys::generate()) {
        Err(StoreError::Config(m)) => assert!(m.contains("owned by user 65534"), "{m}"),
        other => panic!("a directory owned by another user was accepted: {other:?}"),
    }
}

#[test]
fn file_store_refuses_a_symlinked_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    match FileStore::open(&link, Keys::generate()) {
        Err(StoreError::Config(m)) => assert!(m.contains("symbolic link"), "{m}"),
        other => panic!("a symlinked directory was accepted: {other:?}"),
    }
}

#[tokio::test]
async fn file_store_never_follows_a_symlink_inside_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let store = store_in(&tmp.path().join("sessions"), &keys, false);
    let real = StoreKey([1; 32]);
    let record = Record {
        payload: b"{\"user\":\"ada\"}".to_vec(),
        expires_at: Timestamp(NOW.0 + 60),
        version: 0,
        principal: None,
    };
    store.create(&real, &record).await.unwrap();
    let linked = StoreKey([2; 32]);
    std::os::unix::fs::symlink(store.path_of(&real), store.path_of(&linked)).unwrap();
    match store.load(&linked, NOW).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("symbolic link"), "{m}"),
        other => panic!("a symlink was followed: {other:?}"),
    }
    assert_eq!(
        store.load(&real, NOW).await.unwrap().unwrap().payload,
        record.payload
    );
}

/// A version-1 file (unkeyed SHA-256 checksum, unsealed) holding `payload`, as anyone who
/// can write the directory could make it.
fn v1_file(payload: &[u8], expires_at: i64) -> Vec<u8> {
    let mut file = b"SESS\x01\x00\x00\x00".to_vec();
    file.extend_from_slice(&1u64.to_be_bytes());
    file.extend_from_slice(&expires_at.to_be_bytes());
    file.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    let checksum = Sha256::new()
        .chain_update(&file[..28])
        .chain_update(payload)
        .finalize();
    file.extend_from_slice(&checksum);
    file.extend_from_slice(payload);
    file
}

/// Planted records (another key, the old unkeyed format, a copy under another name) and
/// edited ones (every single bit flip): none is accepted, with and without encryption.
#[tokio::test]
async fn planted_or_edited_file_records_are_never_accepted() {
    for encrypt in [false, true] {
        let OnFiles {
            tmp,
            dir,
            clock,
            keys: _,
            manager,
        } = OnFiles::new(encrypt);
        let victim = login(&manager, "ada").await;
        let victim_key = SessionId::parse(value_of(&victim)).unwrap().store_key();
        let victim_file = dir.join(victim_key.to_hex());
        let good = std::fs::read(&victim_file).unwrap();

        // The attacker's own session, under the attacker's key, in a directory of theirs.
        let attacker_dir = tmp.path().join("attacker");
        let attacker_keys = Keys::generate();
        let attacker = manager_on(store_in(&attacker_dir, &attacker_keys, encrypt), &clock);
        let session = attacker.load(None::<&str>).await.unwrap();
        session.set("user", "admin").unwrap();
        session.set("role", "admin").unwrap();
        let set = attacker.commit(&session, false).await.unwrap();
        let forged_id = value_of(&set[0]).to_owned();
        let forged_key = SessionId::parse(&forged_id).unwrap().store_key();
        let forged = std::fs::read(attacker_dir.join(forged_key.to_hex())).unwrap();
        let admin_payload = br#"{"n":"dynamic","s":0,"c":1700000000,"i":1700000000,"l":1700000000,"e":1800000000,"d":{"role":"admin","user":"admin"}}"#;

        let mut attempts: Vec<(String, Vec<u8>)> = vec![
            ("planted under another key".into(), forged.clone()),
            (
                "planted in the unkeyed format 1".into(),
                v1_file(admin_payload, NOW.0 + 3600),
            ),
            (
                "the victim's file copied to the attacker's id".into(),
                good.clone(),
            ),
        ];
        for i in 0..good.len() {
            for bit in [0x01, 0x80] {
                let mut edited = good.clone();
                edited[i] ^= bit;
                attempts.push((format!("bit {bit:#x} of byte {i} flipped"), edited));
            }
        }
        let mut accepted = 0;
        for (what, bytes) in &attempts {
            std::fs::write(dir.join(forged_key.to_hex()), bytes).unwrap();
            let header = format!("session={forged_id}");
            let session = manager.load([header.as_str()]).await.unwrap();
            if session.id().is_some() {
                accepted += 1;
                eprintln!("encrypt={encrypt}: accepted: {what}");
            }
            // The edits of the victim's own file, in place.
            std::fs::write(&victim_file, bytes).unwrap();
            let session = manager.load([victim.as_str()]).await.unwrap();
            if session.id().is_some() && bytes != &good {
                accepted += 1;
                eprintln!("encrypt={encrypt}: edited file accepted: {what}");
            }
        }
        eprintln!(
            "encrypt={encrypt}: {} planted or edited records, {accepted} accepted",
            attempts.len() * 2
        );
        assert_eq!(accepted, 0, "encrypt={encrypt}");
        // The untouched file still works.
        std::fs::write(&victim_file, &good).unwrap();
        let session = manager.load([victim.as_str()]).await.unwrap();
        assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
    }
}

// --- finding 2: nothing authentic is deleted ----------------------------------------------

/// Ten sessions, then a restart with the key missing (replaced): every request gets a fresh
/// session, but no record is deleted and no cookie removed; with the key back, all ten
/// sessions are there.
#[tokio::test]
async fn records_under_a_removed_key_are_left_alone_and_usable_again() {
    for encrypt in [false, true] {
        let OnFiles {
            tmp: _tmp,
            dir,
            clock,
            keys,
            manager,
        } = OnFiles::new(encrypt);
        let mut cookies = Vec::new();
        for i in 0..10 {
            cookies.push(login(&manager, &format!("user{i}")).await);
        }
        // Restarted with another key (the real one removed by mistake).
        let wrong = manager_on(store_in(&dir, &Keys::generate(), encrypt), &clock);
        for cookie in &cookies {
            let session = wrong.load([cookie.as_str()]).await.unwrap();
            assert!(session.id().is_none());
            let set = wrong.commit(&session, false).await.unwrap();
            assert!(
                set.is_empty(),
                "encrypt={encrypt}: {set:?} sent for a record under a removed key"
            );
        }
        assert_eq!(entries(&dir), 10, "encrypt={encrypt}: records deleted");
        // The key is back.
        let back = manager_on(store_in(&dir, &keys, encrypt), &clock);
        let mut usable = 0;
        for (i, cookie) in cookies.iter().enumerate() {
            let session = back.load([cookie.as_str()]).await.unwrap();
            if session.get::<String>("user") == Some(format!("user{i}")) {
                usable += 1;
            }
        }
        eprintln!("encrypt={encrypt}: {usable} of 10 sessions usable again once the key is back");
        assert_eq!(usable, 10);
    }
}

#[tokio::test]
async fn a_cookie_under_a_removed_key_is_not_removed() {
    let keys = Keys::generate();
    let mut h: Harness = Harness::with_keys(Kind::Cookie, settings(), keys.clone());
    h.request(|s: &Session| s.set("user", "ada").unwrap()).await;
    let cookie = h.cookie_header();
    let other: Harness = Harness::with_keys(Kind::Cookie, settings(), Keys::generate());
    let session = other.manager.load([cookie.as_str()]).await.unwrap();
    assert!(session.id().is_none());
    assert!(
        other
            .manager
            .commit(&session, false)
            .await
            .unwrap()
            .is_empty()
    );
    let session = h.manager.load([cookie.as_str()]).await.unwrap();
    assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
}

/// A rolling key rotation on one directory: an old process (keys `[k1]`) and a new one
/// (`[k2, k1]`) hold the same session at once. Each store remembers the bytes it found
/// authentic (its memo); once the new process rewrites the record under `k2`, the old one
/// must neither hand back its remembered record nor accept the new bytes (it reports a
/// record under a key it does not have), must not overwrite it, and a store that kept
/// only `k2` reads the rewritten record.
#[tokio::test]
async fn a_store_memo_never_vouches_across_a_key_rotation() {
    for encrypt in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sessions");
        let (k1, k2) = (Key::generate(), Key::generate());
        let key = StoreKey([9; 32]);
        let first = Record {
            payload: b"before the rotation".to_vec(),
            expires_at: Timestamp(NOW.0 + 3600),
            version: 0,
            principal: None,
        };
        let old = store_in(&dir, &Keys::single(k1.clone()), encrypt);
        old.create(&key, &first).await.unwrap();
        let held = old
            .load(&key, NOW)
            .await
            .unwrap()
            .expect("the old store reads its record");
        assert_eq!(held.payload, first.payload);
        // Read twice: the second read is the one the memo answers.
        assert_eq!(old.load(&key, NOW).await.unwrap(), Some(held.clone()));

        let new = store_in(&dir, &Keys::new(k2.clone(), vec![k1.clone()]), encrypt);
        let mut loaded = new
            .load(&key, NOW)
            .await
            .unwrap()
            .expect("the new store reads a record under its fallback key");
        assert_eq!(loaded.payload, first.payload);
        loaded.payload = b"after the rotation".to_vec();
        assert_eq!(new.save(&key, &loaded).await.unwrap(), 2);

        // Neither its remembered record nor the new bytes: the file is under a key the old
        // store does not have (left in place; the manager starts a fresh session).
        let stale = old.load(&key, NOW).await;
        assert!(
            matches!(&stale, Err(StoreError::Corrupt(why)) if why.contains("not configured")),
            "encrypt={encrypt}: the old store read {stale:?} after the rotation"
        );
        let refused = old.save(&key, &held).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Conflict { .. } | StoreError::NotFound | StoreError::Corrupt(_))
            ),
            "encrypt={encrypt}: the old store's save of its stale record: {refused:?}"
        );
        let retired = store_in(&dir, &Keys::single(k2), encrypt);
        let last = retired.load(&key, NOW).await.unwrap();
        assert_eq!(
            last.map(|r| (r.payload, r.version)),
            Some((b"after the rotation".to_vec(), 2)),
            "encrypt={encrypt}"
        );
        // The new store, whose memo holds what it wrote, still reads the same.
        assert_eq!(new.load(&key, NOW).await.unwrap().unwrap().version, 2);
    }
}

// --- finding 3: purge stops at the first entry it cannot read ------------------------------

#[tokio::test]
async fn purge_skips_entries_it_cannot_read_and_removes_the_expired_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let store = store_in(&tmp.path().join("sessions"), &keys, false);
    let dir = store.dir().to_path_buf();
    // Bad entries first in every listing order: a directory and a symlink named like
    // records, a stale temporary *directory*, a garbage file.
    std::fs::create_dir(dir.join("0".repeat(64))).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("1".repeat(64))).unwrap();
    std::fs::create_dir(dir.join(".tmp-stale-directory")).unwrap();
    std::fs::write(dir.join("2".repeat(64)), b"garbage").unwrap();
    for i in 0..5u8 {
        let record = Record {
            payload: b"{}".to_vec(),
            expires_at: Timestamp(NOW.0 - 1),
            version: 0,
            principal: None,
        };
        store
            .create(&StoreKey([0xa0 + i; 32]), &record)
            .await
            .unwrap();
    }
    assert_eq!(store.purge_expired(NOW).await.unwrap(), 5);
    assert_eq!(
        store.purge_expired(NOW).await.unwrap(),
        0,
        "and again, without error"
    );
    assert_eq!(entries(&dir), 4, "the bad entries are left");
}

// --- finding 7: cookie tossing --------------------------------------------------------------

#[tokio::test]
async fn tossed_cookies_never_hide_or_remove_the_real_one() {
    for kind in BOTH {
        let h = Harness::signed_in(kind, settings()).await;
        let real = h.jar.clone().unwrap();
        let ids: Vec<String> = (0..12)
            .map(|_| SessionId::generate().unwrap().as_str().to_owned())
            .collect();
        let junk: Vec<String> = (0..40).map(|i| format!("junk{i}")).collect();
        for bogus in [&junk[..8], &junk[..], &ids[..]] {
            let mut header: String = bogus.iter().map(|v| format!("session={v}; ")).collect();
            write!(header, "session={real}").unwrap();
            let session = h.manager.load([header.as_str()]).await.unwrap();
            assert_eq!(
                session.get::<String>("user").as_deref(),
                Some("ada"),
                "{kind:?}: the real cookie after {} bogus ones was ignored",
                bogus.len()
            );
            assert!(h.manager.commit(&session, false).await.unwrap().is_empty());
        }
        // Junk alone (the real cookie lost to the bounds, or never there): no removal.
        let header: String = junk
            .iter()
            .chain(&ids)
            .map(|v| format!("session={v}; "))
            .collect();
        let session = h.manager.load([header.as_str()]).await.unwrap();
        assert!(session.id().is_none());
        let set = h.manager.commit(&session, false).await.unwrap();
        assert!(
            set.is_empty(),
            "{kind:?}: junk made the server send {set:?}"
        );
    }
}

// --- finding 9: sensitive values never in logs ---------------------------------------------

/// A schema `$name` at version `$version` with one sensitive field `token` of type `$token`.
macro_rules! secret_schema {
    ($(#[$doc:meta])* $name:ident, $version:literal, $token:ty) => {
        $(#[$doc])*
        struct $name;

        impl SessionSchema for $name {
            const NAME: &'static str = "secret";
            const VERSION: u32 = $version;
            const KEYS: &'static [&'static str] = &["token"];
            const SENSITIVE: &'static [&'static str] = &["token"];
            type Data = Map;
            fn settings() -> Settings {
                settings()
            }
            fn upgrade(data: &mut Map) -> Result<(), ValidationErrors> {
                retain_keys(data, Self::KEYS);
                let errors = data
                    .get("token")
                    .and_then(|v| decode::<$token>("token", v).err())
                    .into_iter()
                    .collect();
                finish(errors)
            }
        }
    };
}

secret_schema!(
    /// Version 1 of a schema with a sensitive string field `token`.
    SecretV1, 1, String
);
secret_schema!(
    /// Version 2: `token` retyped to a number, so stored values no longer fit.
    SecretV2, 2, u64
);

/// A `tracing` subscriber that writes every event's fields into a string.
struct Capture(Arc<Mutex<String>>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields<'a>(&'a mut String);
        impl tracing::field::Visit for Fields<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                let _ = write!(self.0, "{}={value:?} ", field.name());
            }
        }
        let mut log = self.0.lock().unwrap();
        event.record(&mut Fields(&mut log));
        log.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn sensitive_values_never_appear_in_the_schema_mismatch_warning() {
    const SECRET: &str = "hunter2-the-password-reset-token";
    let log = Arc::new(Mutex::new(String::new()));
    let subscriber = Capture(Arc::clone(&log));
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let keys = Keys::generate();
                let mut v1: Harness<SecretV1> =
                    Harness::with_keys(Kind::Store, settings(), keys.clone());
                v1.request(|s| {
                    session_runtime::__private::set(s, "token", "token", &SECRET.to_owned())
                        .unwrap();
                })
                .await;
                let v2 = SessionManager::<SecretV2>::with_store(settings(), v1.store.clone())
                    .unwrap()
                    .with_clock(Arc::new(v1.clock.clone()));
                let header = format!("session={}", v1.jar.clone().unwrap());
                let session = v2.load([header.as_str()]).await.unwrap();
                assert!(
                    session.id().is_none(),
                    "the retyped field resets the session"
                );
            });
    });
    let log = log.lock().unwrap();
    assert!(log.contains("token"), "the warning names the field: {log}");
    assert!(log.contains("no longer fits"), "{log}");
    assert!(
        !log.contains("hunter2"),
        "a sensitive value was logged: {log}"
    );
}

// --- finding 4: keys that are too weak or malformed ----------------------------------------

#[test]
fn weak_or_mistyped_text_keys_are_refused() {
    type Expected = fn(&KeyError) -> bool;
    let cases: [(&str, Expected); 7] = [
        ("a", |e| matches!(e, KeyError::TooShort { .. })),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", |e| {
            matches!(e, KeyError::LowEntropy { .. })
        }),
        ("abababababababababababababababababab", |e| {
            matches!(e, KeyError::LowEntropy { .. })
        }),
        ("base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", |e| {
            matches!(e, KeyError::LowEntropy { .. })
        }),
        ("BASE64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", |e| {
            matches!(e, KeyError::MistypedPrefix { .. })
        }),
        ("base64;AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", |e| {
            matches!(e, KeyError::MistypedPrefix { .. })
        }),
        ("Base64 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", |e| {
            matches!(e, KeyError::MistypedPrefix { .. })
        }),
    ];
    for (text, expected) in cases {
        let err = Key::from_text(text, "environment variable `SESSION_KEY`").unwrap_err();
        assert!(expected(&err), "{text}: {err:?}");
        let message = err.to_string();
        assert!(message.contains("`SESSION_KEY`"), "{message}");
        assert!(
            !message.contains("AAEC"),
            "the key is never shown: {message}"
        );
    }
    // Good keys still pass.
    Key::from_text(&Key::generate_text().unwrap(), "test").unwrap();
    Key::from_text("an old passphrase of at least thirty-two bytes", "test").unwrap();
}

// --- findings 8 and 9: a full store, `Retry-After` ------------------------------------------

/// A memory store whose writes fail with "no space left on device" while `full` is set,
/// and whose every call fails as unavailable while `down` is set.
#[derive(Debug, Default)]
struct FullStore {
    inner: session_runtime::store::MemoryStore,
    full: std::sync::atomic::AtomicBool,
    down: std::sync::atomic::AtomicBool,
}

impl FullStore {
    fn check(&self, write: bool) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.down.load(SeqCst) {
            return Err(StoreError::Unavailable("test store is down".into()));
        }
        if write && self.full.load(SeqCst) {
            return Err(StoreError::backend(std::io::Error::other(
                "No space left on device (os error 28)",
            )));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SessionStore for FullStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<(), StoreError> {
        self.check(true)?;
        self.inner.create(key, record).await
    }
    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.check(false)?;
        self.inner.load(key, now).await
    }
    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64, StoreError> {
        self.check(true)?;
        self.inner.save(key, record).await
    }
    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<(), StoreError> {
        self.check(true)?;
        self.inner.rotate(rotation).await
    }
    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.check(true)?;
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.check(true)?;
        self.inner.purge_expired(now).await
    }
}

async fn call(
    app: &axum::Router,
    path: &str,
    cookie: Option<&str>,
) -> http::Response<axum::body::Body> {
    use tower::ServiceExt as _;
    let mut req = http::Request::builder().uri(path);
    if let Some(c) = cookie {
        req = req.header(http::header::COOKIE, c);
    }
    app.clone()
        .oneshot(req.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap()
}

fn full_store_app(store: Arc<FullStore>) -> axum::Router {
    use axum::routing::get;
    let settings = Settings {
        refresh_each_request: true,
        ..settings()
    };
    let manager: SessionManager = SessionManager::with_store(settings, store)
        .unwrap()
        .with_clock(Arc::new(MockClock::new(NOW)));
    axum::Router::new()
        .route(
            "/login",
            get(|s: Session| async move {
                s.set("user", "ada").unwrap();
                "welcome"
            }),
        )
        .route(
            "/rename",
            get(|s: Session| async move {
                s.set("user", "bob").unwrap();
                "renamed"
            }),
        )
        .route(
            "/whoami",
            get(|s: Session| async move { s.get::<String>("user").unwrap_or_default() }),
        )
        .route(
            "/logout",
            get(|s: Session| async move {
                s.destroy();
                "bye"
            }),
        )
        .layer(session_runtime::SessionLayer::new(manager))
}

/// A full-store app (the store, then the app) and the cookie (`name=value`) of a session
/// signed in on it while the store had room.
async fn signed_in_on_a_full_store() -> (Arc<FullStore>, axum::Router, String) {
    let store = Arc::new(FullStore::default());
    let app = full_store_app(store.clone());
    let res = call(&app, "/login", None).await;
    let set_cookie = res.headers()[http::header::SET_COOKIE].to_str().unwrap();
    let (cookie, _attributes) = set_cookie.split_once(';').unwrap();
    (store, app, cookie.to_owned())
}

/// The body of a full-store app's response.
async fn body_of(res: axum::response::Response) -> axum::body::Bytes {
    axum::body::to_bytes(res.into_body(), 1024).await.unwrap()
}

/// What a full-store app's `/whoami` answers with `cookie` (the user's name, or nothing).
async fn whoami(app: &axum::Router, cookie: &str) -> axum::body::Bytes {
    body_of(call(app, "/whoami", Some(cookie)).await).await
}

/// Where the full-store leniency meets logout: a `destroy` that cannot be stored is an
/// error, never a success that leaves the session alive.
#[tokio::test]
async fn a_logout_on_a_full_store_is_an_error_and_the_session_stays_known() {
    use std::sync::atomic::Ordering::SeqCst;
    let (store, app, cookie) = signed_in_on_a_full_store().await;
    store.full.store(true, SeqCst);
    let res = call(&app, "/logout", Some(&cookie)).await;
    assert_eq!(res.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().get(http::header::SET_COOKIE).is_none());
    assert_eq!(
        &whoami(&app, &cookie).await[..],
        b"ada",
        "the failed logout is not reported as done"
    );
    // Once the disk has room again, the logout goes through.
    store.full.store(false, SeqCst);
    assert_eq!(call(&app, "/logout", Some(&cookie)).await.status(), 200);
    assert_eq!(&whoami(&app, &cookie).await[..], b"", "the session ended");
}

#[tokio::test]
async fn a_read_answers_when_the_full_store_cannot_refresh() {
    use std::sync::atomic::Ordering::SeqCst;
    let (store, app, cookie) = signed_in_on_a_full_store().await;
    store.full.store(true, SeqCst);
    // A plain read owes a refresh (`refresh_each_request`), which cannot be written.
    let res = call(&app, "/whoami", Some(&cookie)).await;
    assert_eq!(res.status(), http::StatusCode::OK);
    assert!(res.headers().get(http::header::SET_COOKIE).is_none());
    let body = body_of(res).await;
    assert_eq!(&body[..], b"ada");
    // A change that cannot be stored is still an error, never silently lost.
    let res = call(&app, "/rename", Some(&cookie)).await;
    assert_eq!(res.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_503_carries_retry_after() {
    use std::sync::atomic::Ordering::SeqCst;
    let (store, app, cookie) = signed_in_on_a_full_store().await;
    store.down.store(true, SeqCst);
    let res = call(&app, "/whoami", Some(&cookie)).await;
    assert_eq!(res.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()[http::header::RETRY_AFTER], "1");
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
#[test]
fn redact_url_hides_passwords_with_slashes_and_at_signs() {
    use session_runtime::store::database::redact_url;
    for (url, shown) in [
        (
            "postgres://app:pa/ss@db:5432/app",
            "postgres://app:***@db:5432/app",
        ),
        ("postgres://app:p@ss@db/app", "postgres://app:***@db/app"),
        (
            "mysql://app:a/b@c/d@db/app?ssl=true",
            "mysql://app:***@db/app",
        ),
        (
            "mysql://app:s3cret@10.0.0.5:3306/app",
            "mysql://app:***@10.0.0.5:3306/app",
        ),
    ] {
        let redacted = redact_url(url);
        assert_eq!(redacted, shown, "{url}");
        for secret in ["pa/ss", "ss@", "p@ss", "a/b", "c/d", "s3cret"] {
            assert!(!redacted.contains(secret), "{url} -> {redacted}");
        }
    }
}

#[cfg(all(feature = "db-cli", any(feature = "postgres", feature = "mysql")))]
#[test]
fn session_db_has_version() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_session-db"))
        .arg("--version")
        .output()
        .expect("run session-db");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        concat!("session-db ", env!("CARGO_PKG_VERSION"))
    );
}

/// The format-1 files of earlier versions: a sealed one (authenticated by its AES-GCM seal)
/// is still read, and rewritten in format 2 at its next save; an unsealed one (only an
/// unkeyed checksum) is refused and left in place.
#[tokio::test]
async fn format_1_records_are_read_only_when_sealed() {
    use session_runtime::store::Sealer as _;
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let store = store_in(&tmp.path().join("sessions"), &keys, true);
    let key = StoreKey([7; 32]);
    let (version, expires_at) = (3u64, NOW.0 + 60);
    let mut aad = b"session-file/v1\0".to_vec();
    aad.extend_from_slice(&key.0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&expires_at.to_be_bytes());
    let sealed = KeySealer::new(keys.clone())
        .seal(b"{\"user\":\"ada\"}", &aad)
        .unwrap();
    let mut file = b"SESS\x01\x01\x00\x00".to_vec();
    file.extend_from_slice(&version.to_be_bytes());
    file.extend_from_slice(&expires_at.to_be_bytes());
    file.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
    let checksum = Sha256::new()
        .chain_update(&file[..28])
        .chain_update(&sealed)
        .finalize();
    file.extend_from_slice(&checksum);
    file.extend_from_slice(&sealed);
    std::fs::write(store.path_of(&key), &file).unwrap();
    let loaded = store
        .load(&key, NOW)
        .await
        .unwrap()
        .expect("a sealed format-1 file is read");
    assert_eq!(loaded.payload, b"{\"user\":\"ada\"}");
    assert_eq!(loaded.version, 3);
    assert_eq!(store.save(&key, &loaded).await.unwrap(), 4);
    assert_eq!(
        std::fs::read(store.path_of(&key)).unwrap()[4],
        2,
        "rewritten in format 2"
    );

    // Unsealed format 1, in a store without encryption: refused, left in place.
    let plain = store_in(&tmp.path().join("plain"), &keys, false);
    let bytes = v1_file(b"{\"user\":\"ada\"}", NOW.0 + 60);
    std::fs::write(plain.path_of(&key), &bytes).unwrap();
    match plain.load(&key, NOW).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("format 1"), "{m}"),
        other => panic!("an unkeyed format-1 file was read: {other:?}"),
    }
    assert_eq!(std::fs::read(plain.path_of(&key)).unwrap(), bytes);
}

/// The entries of a file store's directory, without its lock files' folder.
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref().map_or(true, |e| {
                e.file_name() != session_runtime::store::file::LOCK_DIR
            })
        })
        .count()
}
