//! The file store's own guarantees: permissions, atomic replacement, no temporary files
//! left, write errors surfaced, corrupt files, encryption at rest, hashed names, and crash
//! safety against a killed writer process.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use session_runtime::Timestamp;
use session_runtime::conformance::random_key;
use session_runtime::keys::{Key, Keys};
use session_runtime::spec::settings::Backend;
use session_runtime::store::KeySealer;
use session_runtime::store::file::FileDurability;
use session_runtime::store::file::HEADER_LEN;
use session_runtime::store::{
    self, FileStore, OpenOptions, Record, Rotation, SessionStore, Storage, StoreError, StoreKey,
};
use sha2::{Digest, Sha256};

use super::support::{TempFileStore, TestSealer, is_session_name, names, record, test_keys};

const NOW: Timestamp = Timestamp(1_700_000_000);

/// `payload` as the record a save at `version` sends, expiring a minute after [`NOW`].
fn at_version(version: u64, payload: &[u8]) -> Record {
    Record {
        version,
        ..record(payload, NOW.0 + 60)
    }
}

/// Rotates `old` (at `version`) away to a new key holding "rotated"; returns the new key.
async fn rotate_away(t: &TempFileStore, old: &StoreKey, version: u64) -> StoreKey {
    let new = random_key();
    t.rotate(&Rotation {
        old,
        version,
        new: Some((&new, &record(b"rotated", NOW.0 + 60))),
        keep_old: None,
    })
    .await
    .unwrap();
    new
}

/// Where the file store keeps `key`'s spare file (its previous version).
fn spare_of(t: &TempFileStore, key: &StoreKey) -> std::path::PathBuf {
    t.sessions()
        .join(format!("{}{}", store::file::SPARE_PREFIX, key.to_hex()))
}

/// A new session created (payload "one", expiring at `expires`) and saved once (payload
/// "two", version 2): the first save makes its spare file.
async fn saved_once(t: &TempFileStore, expires: i64) -> StoreKey {
    let key = random_key();
    t.create(&key, &record(b"one", expires)).await.unwrap();
    let saved = Record {
        version: 1,
        ..record(b"two", expires)
    };
    assert_eq!(t.save(&key, &saved).await.unwrap(), 2);
    assert!(spare_of(t, &key).is_file(), "the first save made the spare");
    key
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn directory_is_0700_and_files_0600() {
    let t = TempFileStore::new();
    assert_eq!(mode(&t.sessions()), 0o700);
    let key = random_key();
    t.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
    assert_eq!(mode(&t.store.path_of(&key)), 0o600);
    t.save(&key, &at_version(1, b"y")).await.unwrap();
    assert_eq!(
        mode(&t.store.path_of(&key)),
        0o600,
        "a replaced file is 0600 too"
    );
}

#[test]
fn directory_open_to_group_or_others_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [0o750, 0o705, 0o777, 0o710] {
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(bad)).unwrap();
        match FileStore::open(tmp.path(), test_keys()) {
            Err(StoreError::Config(message)) => {
                assert!(message.contains(&format!("mode {bad:03o}")), "{message}");
                assert!(message.contains("chmod 700"), "{message}");
            }
            other => panic!("mode {bad:o}: {other:?}"),
        }
        assert_eq!(
            mode(tmp.path()),
            bad,
            "the store leaves the directory as it found it"
        );
    }
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    FileStore::open(tmp.path(), test_keys()).expect("a 0700 directory opens");
}

#[test]
fn a_file_in_place_of_the_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sessions");
    std::fs::write(&file, b"").unwrap();
    assert!(
        matches!(FileStore::open(&file, test_keys()), Err(StoreError::Config(m)) if m.contains("not a directory"))
    );
}

#[test]
fn missing_parents_are_created_0700() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/sessions");
    FileStore::open(&dir, test_keys()).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_temporary_files_are_left() {
    let t = TempFileStore::with(|b| b.max_payload(1024));
    let keys: Vec<StoreKey> = (0..8).map(|_| random_key()).collect();
    for key in &keys {
        t.create(key, &record(b"a", NOW.0 + 60)).await.unwrap();
        assert!(matches!(
            t.create(key, &record(b"b", NOW.0 + 60)).await,
            Err(StoreError::Exists)
        ));
        t.save(key, &at_version(1, b"c")).await.unwrap();
        let stale = at_version(1, b"d");
        assert!(matches!(
            t.save(key, &stale).await,
            Err(StoreError::Conflict { .. })
        ));
        let large = at_version(2, &[0; 2048]);
        assert!(matches!(
            t.save(key, &large).await,
            Err(StoreError::TooLarge { .. })
        ));
    }
    let gone = random_key();
    assert!(matches!(
        t.save(&gone, &at_version(1, b"e")).await,
        Err(StoreError::NotFound)
    ));
    for key in &keys[..4] {
        t.delete(key).await.unwrap();
    }
    let listed = names(&t.sessions());
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert!(
        listed.iter().all(|name| is_session_name(name)),
        "{listed:?}"
    );
}

const DURABILITIES: [FileDurability; 3] = [
    FileDurability::Fsync,
    FileDurability::Group,
    FileDurability::None,
];

/// Whatever the durability, what was created, saved, rotated and deleted is what a store
/// opened afresh on the directory (a restarted process) reads, and no temporary file is
/// left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_durability_reads_back_what_it_wrote_after_a_restart() {
    for durability in DURABILITIES {
        let t = TempFileStore::with(|b| b.durability(durability));
        assert!(format!("{:?}", t.store).contains(&format!("{durability:?}")));
        let (kept, deleted, old) = (random_key(), random_key(), random_key());
        for key in [&kept, &deleted, &old] {
            t.create(key, &record(b"first", NOW.0 + 60)).await.unwrap();
        }
        for version in 1..=3 {
            let payload = format!("saved {version}");
            let saved = save_over(&t, &kept, version, payload.as_bytes()).await;
            assert_eq!(saved, version + 1);
        }
        t.delete(&deleted).await.unwrap();
        let new = rotate_away(&t, &old, 1).await;

        let reopened = FileStore::builder(t.sessions(), test_keys())
            .durability(durability)
            .open()
            .unwrap();
        let loaded = reopened.load(&kept, NOW).await.unwrap().unwrap();
        assert_eq!(
            (loaded.payload.as_slice(), loaded.version),
            (&b"saved 3"[..], 4)
        );
        assert_eq!(reopened.load(&deleted, NOW).await.unwrap(), None);
        assert_eq!(reopened.load(&old, NOW).await.unwrap(), None);
        let rotated = reopened.load(&new, NOW).await.unwrap().unwrap();
        assert_eq!(rotated.payload, b"rotated");
        let listed = names(&t.sessions());
        assert_eq!(listed.len(), 2, "{durability:?}: {listed:?}");
        assert!(listed.iter().all(|n| is_session_name(n)), "{listed:?}");
    }
}

/// Many concurrent writers (the group commit's case): every save is acknowledged with its
/// version and every record holds its last save, under each durability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_saves_all_land_under_every_durability() {
    for durability in DURABILITIES {
        let t = Arc::new(TempFileStore::with(|b| b.durability(durability)));
        let writers: Vec<_> = (0..32)
            .map(|_| {
                let t = t.clone();
                tokio::spawn(async move {
                    let key = random_key();
                    t.create(&key, &record(b"0", NOW.0 + 60)).await.unwrap();
                    for version in 1..=5u64 {
                        let payload = version.to_string();
                        let saved = save_over(&t, &key, version, payload.as_bytes()).await;
                        assert_eq!(saved, version + 1);
                    }
                    key
                })
            })
            .collect();
        for writer in writers {
            let key = writer.await.unwrap();
            let loaded = t.load(&key, NOW).await.unwrap().unwrap();
            assert_eq!((loaded.payload.as_slice(), loaded.version), (&b"5"[..], 6));
        }
        assert_eq!(names(&t.sessions()).len(), 32, "{durability:?}");
    }
}

/// The spec's `durability` reaches the store `store::open` builds.
/// The inode numbers of the regular files directly in `dir` (not the lock files).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
fn inodes(dir: &Path) -> std::collections::BTreeSet<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.ino())
        .collect()
}

/// A save writes the session's spare file in place and swaps it with the session file
/// (`RENAME_EXCHANGE`): once a session has its spare (its first save), saving allocates
/// no inode and frees none, under every durability, and what is read is the last version.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
#[tokio::test]
async fn saves_reuse_the_same_two_inodes() {
    for durability in DURABILITIES {
        let t = TempFileStore::with(|b| b.durability(durability));
        let key = random_key();
        t.create(&key, &record(b"v1", NOW.0 + 60)).await.unwrap();
        let mut version = 1;
        let mut save = async |payload: &[u8]| {
            version = save_over(&t, &key, version, payload).await;
        };
        save(b"the first save may make the spare").await;
        let before = inodes(&t.sessions());
        assert_eq!(
            before.len(),
            2,
            "{durability:?}: the session file and its spare"
        );
        // Longer and shorter payloads: the spare grows and is cut to size in place.
        for payload in [&b"a longer payload than before"[..], b"short", b"mid-size"] {
            save(payload).await;
            assert_eq!(inodes(&t.sessions()), before, "{durability:?}: a new inode");
            assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, payload);
        }
        assert_eq!(version, 5);
    }
}

/// A session's spare file goes with its session: a delete, a rotation and the purge of an
/// expired session remove it, a purge removes a spare whose session file is gone and keeps
/// a live session's, and a spare torn by a crash (garbage) is simply overwritten.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
#[tokio::test]
async fn spare_files_go_with_their_session() {
    let t = TempFileStore::new();
    let spare = |key: &StoreKey| spare_of(&t, key);
    let saved = async |expires: i64| saved_once(&t, expires).await;

    let deleted = saved(NOW.0 + 60).await;
    t.delete(&deleted).await.unwrap();
    assert!(!spare(&deleted).exists(), "a delete removes the spare");

    let rotated = saved(NOW.0 + 60).await;
    let new = rotate_away(&t, &rotated, 2).await;
    assert!(
        !spare(&rotated).exists(),
        "a rotation removes the old spare"
    );

    let expired = saved(NOW.0 + 1).await;
    let orphan = saved(NOW.0 + 60).await;
    std::fs::remove_file(t.store.path_of(&orphan)).unwrap();
    let live = saved(NOW.0 + 60).await;
    assert_eq!(t.purge_expired(NOW.add_seconds(10)).await.unwrap(), 1);
    assert!(
        !spare(&expired).exists(),
        "a purge removes an expired session's spare"
    );
    assert!(
        !spare(&orphan).exists(),
        "a purge removes a spare without its session"
    );
    assert!(
        spare(&live).is_file(),
        "a purge keeps a live session's spare"
    );

    // A writer killed while writing the spare leaves it torn: the session file is whole,
    // and the next save writes over the spare.
    std::fs::write(spare(&live), vec![0xa5; 3 * HEADER_LEN]).unwrap();
    assert_eq!(t.load(&live, NOW).await.unwrap().unwrap().payload, b"two");
    let third = at_version(2, b"three");
    assert_eq!(t.save(&live, &third).await.unwrap(), 3);
    assert_eq!(t.load(&live, NOW).await.unwrap().unwrap().payload, b"three");

    // A save that cannot write its spare fails with the I/O error and changes nothing.
    std::fs::remove_file(spare(&live)).unwrap();
    std::fs::create_dir(spare(&live)).unwrap();
    let fourth = at_version(3, b"four");
    let error = t.save(&live, &fourth).await.unwrap_err();
    assert!(matches!(&error, StoreError::Backend(_)), "{error:?}");
    assert_eq!(t.load(&live, NOW).await.unwrap().unwrap().payload, b"three");
    std::fs::remove_dir(spare(&live)).unwrap();
    assert_eq!(t.save(&live, &fourth).await.unwrap(), 4);

    let mut listed = names(&t.sessions());
    listed.sort();
    let mut expected = vec![new.to_hex(), live.to_hex()];
    expected.sort();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn open_passes_the_durability_on() {
    let tmp = tempfile::tempdir().unwrap();
    for durability in DURABILITIES {
        let backend = Backend::File {
            dir: tmp.path().join(format!("{durability:?}")),
            encrypt: false,
            durability,
        };
        let storage = store::open(&backend, &OpenOptions::new().keys(test_keys()))
            .await
            .unwrap();
        let debug = format!("{:?}", storage.store().unwrap());
        assert!(
            debug.contains(&format!("durability: {durability:?}")),
            "{debug}"
        );
    }
}

/// A reader never sees a partial file while a writer replaces it in a loop, under every
/// durability (loads read on the calling thread under each, and read again under the
/// key's locks when a read was torn).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_a_partial_file() {
    for (durability, saves) in [
        (FileDurability::None, 200),
        (FileDurability::Group, 40),
        (FileDurability::Fsync, 40),
    ] {
        readers_never_see_a_partial_file_under(durability, saves).await;
    }
}

async fn readers_never_see_a_partial_file_under(durability: FileDurability, saves: u64) {
    let t = Arc::new(TempFileStore::with(|builder| {
        builder.durability(durability)
    }));
    let key = random_key();
    let big = vec![b'a'; 200 * 1024];
    let small = vec![b'b'; 10 * 1024];
    t.create(&key, &record(&big, NOW.0 + 60)).await.unwrap();
    let writer = {
        let (t, big, small) = (t.clone(), big.clone(), small.clone());
        tokio::spawn(async move {
            let mut version = 1;
            for i in 0..saves {
                let payload = if i % 2 == 0 { &small } else { &big };
                version = save_over(&t, &key, version, payload).await;
            }
            version
        })
    };
    let mut reads = 0;
    while !writer.is_finished() || reads < 100 {
        let loaded = t
            .load(&key, NOW)
            .await
            .expect("a load during writes succeeds")
            .expect("present");
        assert!(
            loaded.payload == big || loaded.payload == small,
            "partial payload of {} bytes",
            loaded.payload.len()
        );
        // Straight from the disk, too: the file at the session name is whole. A save
        // rewrites the file the save before it swapped out, so a read spanning two saves may
        // mix them (loads catch that by the MAC and read again); read again here as well.
        let whole = |raw: &[u8]| {
            raw.len() >= HEADER_LEN
                && raw.len()
                    == HEADER_LEN + u32::from_be_bytes(raw[24..28].try_into().unwrap()) as usize
        };
        let mut attempts = 1;
        while !whole(&std::fs::read(t.store.path_of(&key)).unwrap()) {
            attempts += 1;
            assert!(attempts < 100, "the session file stays torn");
        }
        reads += 1;
    }
    assert_eq!(writer.await.unwrap(), saves + 1, "{durability:?}");
    assert!(reads >= 100);
}

#[tokio::test]
async fn write_errors_are_surfaced() {
    // The directory disappears under the store.
    let t = TempFileStore::new();
    let key = random_key();
    t.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
    std::fs::remove_dir_all(t.sessions()).unwrap();
    let error = t
        .create(&random_key(), &record(b"y", NOW.0 + 60))
        .await
        .unwrap_err();
    assert!(matches!(&error, StoreError::Backend(_)), "{error:?}");
    assert!(
        error.to_string().contains("No such file or directory"),
        "{error}"
    );
    let error = t.save(&key, &at_version(1, b"z")).await.unwrap_err();
    // The save checks the stored version first (under the key's locks): the record is gone
    // with its directory, so nothing is written anywhere.
    assert!(matches!(error, StoreError::NotFound), "{error:?}");
    assert!(matches!(
        t.purge_expired(NOW).await,
        Err(StoreError::Backend(_))
    ));
    // A load of a missing file in a missing directory is simply absent.
    assert_eq!(t.load(&key, NOW).await.unwrap(), None);

    // Something that is not a file sits where the session file goes.
    let t = TempFileStore::new();
    let key = random_key();
    t.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
    std::fs::remove_file(t.store.path_of(&key)).unwrap();
    std::fs::create_dir(t.store.path_of(&key)).unwrap();
    let error = t.save(&key, &at_version(1, b"y")).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    assert!(matches!(
        t.load(&key, NOW).await,
        Err(StoreError::Corrupt(m)) if m.contains("not a regular file")
    ));
    assert!(matches!(t.delete(&key).await, Err(StoreError::Backend(_))));
    let listed = names(&t.sessions());
    assert_eq!(
        listed,
        [key.to_hex()],
        "no temporary file left after a failed save"
    );
}

/// Writes `bytes` over `key`'s file, keeping the file's mode.
fn overwrite(store: &FileStore, key: &StoreKey, bytes: &[u8]) {
    std::fs::write(store.path_of(key), bytes).unwrap();
}

#[tokio::test]
async fn corrupt_files_are_reported_and_left_in_place() {
    let t = TempFileStore::new();
    let key = random_key();
    t.create(&key, &record(b"{\"user\":1}", NOW.0 + 60))
        .await
        .unwrap();
    let good = std::fs::read(t.store.path_of(&key)).unwrap();

    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        (
            "garbage".into(),
            b"not a session file at all, just text".to_vec(),
        ),
        ("header only".into(), good[..HEADER_LEN].to_vec()),
        ("one byte short".into(), good[..good.len() - 1].to_vec()),
        ("one byte more".into(), [&good[..], b"x"].concat()),
    ];
    for i in 0..good.len() {
        let mut flipped = good.clone();
        flipped[i] ^= 0x01;
        cases.push((format!("bit flip at {i}"), flipped));
    }
    let mut refused = 0;
    for (what, bytes) in &cases {
        let key = random_key();
        overwrite(&t.store, &key, bytes);
        match t.load(&key, NOW).await {
            Err(StoreError::Corrupt(_)) => refused += 1,
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(
            std::fs::read(t.store.path_of(&key)).unwrap(),
            *bytes,
            "{what}: left in place"
        );
        // A save reads only the header: it refuses a file whose header is bad, and may
        // replace one whose body is bad with a whole new file.
        match t.save(&key, &at_version(1, b"new")).await {
            Ok(2) => assert_eq!(
                t.load(&key, NOW).await.unwrap().unwrap().payload,
                b"new",
                "{what}"
            ),
            Err(StoreError::Corrupt(_) | StoreError::Conflict { .. }) => {
                assert_eq!(
                    std::fs::read(t.store.path_of(&key)).unwrap(),
                    *bytes,
                    "{what}: left in place"
                );
            }
            other => panic!("{what}: save gave {other:?}"),
        }
    }
    assert_eq!(refused, cases.len());

    // Purges skip it; delete removes it.
    let t = TempFileStore::new();
    t.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
    overwrite(&t.store, &key, b"garbage");
    assert_eq!(t.purge_expired(Timestamp(i64::MAX)).await.unwrap(), 0);
    assert!(t.store.path_of(&key).exists());
    t.delete(&key).await.unwrap();
    assert!(!t.store.path_of(&key).exists());
    t.create(&key, &record(b"again", NOW.0 + 60)).await.unwrap();
}

#[tokio::test]
async fn oversized_files_are_not_read_whole() {
    let t = TempFileStore::with(|b| b.max_payload(100));
    let key = random_key();
    t.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
    overwrite(&t.store, &key, &vec![0; 1024 * 1024]);
    assert!(matches!(t.load(&key, NOW).await, Err(StoreError::Corrupt(m)) if m.contains("larger")));
}

#[tokio::test]
async fn encryption_at_rest() {
    let sealer = TestSealer::arc([1; 32]);
    let t = TempFileStore::sealed(sealer.clone());
    let key = random_key();
    let secret = b"{\"credit_card\":\"4111111111111111\"}";
    t.create(&key, &record(secret, NOW.0 + 60)).await.unwrap();
    let raw = std::fs::read(t.store.path_of(&key)).unwrap();
    assert!(
        !raw.windows(16).any(|w| w == b"4111111111111111"),
        "the plaintext is on disk"
    );
    assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, secret);
    t.save(
        &key,
        &Record {
            version: 1,
            ..record(secret, NOW.0 + 120)
        },
    )
    .await
    .unwrap();
    let raw = std::fs::read(t.store.path_of(&key)).unwrap();
    assert!(!raw.windows(16).any(|w| w == b"4111111111111111"));

    // Another key, or no key, refuses the file.
    let wrong = FileStore::builder(t.sessions(), test_keys())
        .sealer(TestSealer::arc([2; 32]))
        .open()
        .unwrap();
    assert!(matches!(
        wrong.load(&key, NOW).await,
        Err(StoreError::Corrupt(_))
    ));
    let plain = FileStore::open(t.sessions(), test_keys()).unwrap();
    assert!(
        matches!(plain.load(&key, NOW).await, Err(StoreError::Corrupt(m)) if m.contains("encrypted"))
    );
    // And a sealing store refuses a plaintext file.
    let other = random_key();
    plain
        .create(&other, &record(b"plain", NOW.0 + 60))
        .await
        .unwrap();
    assert!(
        matches!(t.load(&other, NOW).await, Err(StoreError::Corrupt(m)) if m.contains("not encrypted"))
    );

    // A sealed file moved to another session's name does not open there.
    let moved = random_key();
    std::fs::copy(t.store.path_of(&key), t.store.path_of(&moved)).unwrap();
    assert!(matches!(
        t.load(&moved, NOW).await,
        Err(StoreError::Corrupt(_))
    ));

    // A header edited to extend the expiry (checksum recomputed) does not open either.
    let mut edited = std::fs::read(t.store.path_of(&key)).unwrap();
    edited[16..24].copy_from_slice(&(NOW.0 + 999_999).to_be_bytes());
    let checksum = Sha256::new()
        .chain_update(&edited[..28])
        .chain_update(&edited[HEADER_LEN..])
        .finalize();
    edited[32..64].copy_from_slice(&checksum);
    overwrite(&t.store, &key, &edited);
    // (Without its spare: the previous version would serve, as for a file torn by a crash.)
    let _ = std::fs::remove_file(t.sessions().join(format!(
        "{}{}",
        store::file::SPARE_PREFIX,
        key.to_hex()
    )));
    assert!(
        matches!(t.load(&key, NOW).await, Err(StoreError::Corrupt(m)) if m.contains("fails authentication"))
    );
}

/// Encryption with the session keys ([`KeySealer`]) follows key rotation: a file sealed
/// under a key that became a fallback still opens, is sealed under the new primary at its
/// next save, and a file of a removed key is refused.
#[tokio::test]
async fn encryption_at_rest_follows_key_rotation() {
    let (old, new) = (Key::generate(), Key::generate());
    let sealed_by = |keys: Keys, dir: &Path| {
        FileStore::builder(dir, keys.clone())
            .sealer(Arc::new(KeySealer::new(keys)))
            .open()
            .unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let before = sealed_by(Keys::single(old.clone()), &dir);
    let key = random_key();
    let secret = b"{\"token\":\"s3cr3t-t0k3n-value\"}";
    before
        .create(&key, &record(secret, NOW.0 + 60))
        .await
        .unwrap();
    let raw = std::fs::read(before.path_of(&key)).unwrap();
    assert!(!raw.windows(17).any(|w| w == b"s3cr3t-t0k3n-valu"));

    let rotated = sealed_by(Keys::new(new.clone(), vec![old.clone()]), &dir);
    let loaded = rotated
        .load(&key, NOW)
        .await
        .unwrap()
        .expect("opens under the fallback");
    assert_eq!(loaded.payload, secret);
    let only_new = sealed_by(Keys::single(new.clone()), &dir);
    assert!(matches!(
        only_new.load(&key, NOW).await,
        Err(StoreError::Corrupt(_))
    ));

    rotated.save(&key, &loaded).await.unwrap();
    assert_eq!(
        only_new.load(&key, NOW).await.unwrap().unwrap().payload,
        secret,
        "re-sealed under the primary"
    );
    let only_old = sealed_by(Keys::single(old), &dir);
    assert!(
        matches!(only_old.load(&key, NOW).await, Err(StoreError::Corrupt(_))),
        "a removed key opens nothing"
    );
}

/// `store::open` with `encrypt = true` seals with the keys it is given, and refuses to open
/// without keys.
#[tokio::test]
async fn open_file_backend_with_encryption() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let backend = Backend::File {
        dir: dir.clone(),
        encrypt: true,
        durability: Default::default(),
    };
    match store::open(&backend, &OpenOptions::new()).await {
        Err(StoreError::Config(message)) => {
            assert!(message.contains("session keys"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let keys = Keys::generate();
    let storage = store::open(&backend, &OpenOptions::new().keys(keys.clone()))
        .await
        .unwrap();
    let store = storage.store().expect("a server-side store").clone();
    let key = random_key();
    store
        .create(&key, &record(b"plain text payload", NOW.0 + 60))
        .await
        .unwrap();
    let raw = std::fs::read(dir.join(key.to_hex())).unwrap();
    assert!(!raw.windows(10).any(|w| w == b"plain text"));
    assert_eq!(raw[5] & 1, 1, "the header says sealed");
    // Without `encrypt`, the same directory's sealed file is refused, not misread.
    let plain = store::open(
        &Backend::File {
            dir: dir.clone(),
            encrypt: false,
            durability: Default::default(),
        },
        &OpenOptions::new().keys(keys.clone()),
    )
    .await
    .unwrap();
    let plain = plain.store().unwrap();
    assert!(matches!(
        plain.load(&key, NOW).await,
        Err(StoreError::Corrupt(_))
    ));

    // A directory open to others is refused through `open` too.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(matches!(
        store::open(&backend, &OpenOptions::new().keys(keys)).await,
        Err(StoreError::Config(_))
    ));
}

#[tokio::test]
async fn open_selects_the_backend() {
    assert!(matches!(
        store::open(&Backend::Cookie, &OpenOptions::new()).await,
        Ok(Storage::Cookie)
    ));
    let memory = store::open(&Backend::Memory, &OpenOptions::new().max_payload(8))
        .await
        .unwrap();
    let memory = memory.store().expect("memory is server-side");
    assert!(matches!(
        memory
            .create(&random_key(), &record(&[0; 9], NOW.0 + 60))
            .await,
        Err(StoreError::TooLarge { size: 9, max: 8 })
    ));
    let tmp = tempfile::tempdir().unwrap();
    let file = store::open(
        &Backend::File {
            dir: tmp.path().join("s"),
            encrypt: false,
            durability: Default::default(),
        },
        &OpenOptions::new().keys(test_keys()),
    )
    .await
    .unwrap();
    assert!(format!("{:?}", file.store().unwrap()).contains("FileStore"));
    assert!(tmp.path().join("s").is_dir());
}

/// Store keys are hashes: whatever a client sends as its id, the file lands in the
/// directory under 64 hex digits, and nothing is created elsewhere.
#[tokio::test]
async fn hostile_ids_only_ever_name_hex_files_inside_the_directory() {
    let t = TempFileStore::new();
    let parent_before = names(t.dir.path());
    let long = "a".repeat(10_000);
    let hostile = [
        "../x",
        "../../etc/passwd",
        "/etc/passwd",
        "a\0b",
        "",
        ".",
        "..",
        "x/../../y",
        "\\..\\x",
        "~",
        "%2e%2e%2f",
        long.as_str(),
        "sessions/../../z",
        "é/../..",
    ];
    for id in hostile {
        let key = StoreKey(Sha256::digest(id.as_bytes()).into());
        t.create(&key, &record(id.as_bytes(), NOW.0 + 60))
            .await
            .unwrap();
        assert_eq!(
            t.load(&key, NOW).await.unwrap().unwrap().payload,
            id.as_bytes()
        );
    }
    let listed = names(&t.sessions());
    assert_eq!(listed.len(), hostile.len());
    assert!(
        listed.iter().all(|name| is_session_name(name)),
        "{listed:?}"
    );
    assert_eq!(
        names(t.dir.path()),
        parent_before,
        "nothing created beside the directory"
    );
}

/// A store that counts every call, so a test can show that nothing reached it.
#[derive(Debug)]
struct CountingCalls {
    inner: FileStore,
    calls: std::sync::atomic::AtomicUsize,
}

impl CountingCalls {
    fn count(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl SessionStore for CountingCalls {
    async fn create(&self, key: &StoreKey, r: &Record) -> store::Result<()> {
        self.count();
        self.inner.create(key, r).await
    }
    async fn load(&self, key: &StoreKey, now: Timestamp) -> store::Result<Option<Record>> {
        self.count();
        self.inner.load(key, now).await
    }
    async fn save(&self, key: &StoreKey, r: &Record) -> store::Result<u64> {
        self.count();
        self.inner.save(key, r).await
    }
    async fn rotate(&self, rotation: &Rotation<'_>) -> store::Result<()> {
        self.count();
        self.inner.rotate(rotation).await
    }

    async fn delete(&self, key: &StoreKey) -> store::Result<()> {
        self.count();
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: Timestamp) -> store::Result<u64> {
        self.count();
        self.inner.purge_expired(now).await
    }
}

/// Hostile session ids in the cookie of a file-backed manager are refused before any store
/// (so any file-system) call: the session is fresh, the store is never called, and
/// nothing appears in or beside the directory.
#[tokio::test]
async fn hostile_cookie_ids_are_refused_before_the_store_is_called() {
    let t = TempFileStore::new();
    let store = Arc::new(CountingCalls {
        inner: t.store.clone(),
        calls: 0.into(),
    });
    let clock = session_runtime::conformance::clock();
    let manager =
        session_runtime::conformance::manager::manager(&Storage::Server(store.clone()), &clock);
    let before = (names(&t.sessions()), names(t.dir.path()));
    let long = "a".repeat(10_000);
    let forty_three_dots = ".".repeat(43);
    let hostile = [
        "../x",
        "../../../../etc/passwd",
        "/etc/passwd",
        "/tmp/x",
        "a\0b",
        "x\u{0}y",
        "",
        long.as_str(),
        "..%2f..%2fetc",
        forty_three_dots.as_str(),
        "C:\\Windows\\x",
        "sessions/../../x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "é",
        "\u{202e}AAAA",
    ];
    let name = manager.cookie_name().to_owned();
    for id in hostile {
        let header = format!("{name}={id}");
        let session = manager.load([header.as_bytes()]).await.expect("no error");
        assert!(session.is_new() && session.get_all().is_empty(), "{id:?}");
        assert!(session.id().is_none(), "{id:?}: no id adopted");
        // Committing the untouched session writes nothing either.
        let _ = manager.commit(&session, false).await.expect("no error");
    }
    assert_eq!(
        store.calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the store was called"
    );
    assert_eq!((names(&t.sessions()), names(t.dir.path())), before);
}

/// Two stores on one directory (as two processes would be): creates still never
/// overwrite, thanks to the hard link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_from_two_stores_on_one_directory_never_overwrite() {
    let t = TempFileStore::new();
    let stores: Vec<FileStore> = (0..8)
        .map(|_| FileStore::open(t.sessions(), test_keys()).unwrap())
        .collect();
    for round in 0..20 {
        let key = random_key();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, store) in stores.iter().enumerate() {
            let store = store.clone();
            tasks.spawn(async move {
                let payload = format!("store {i}");
                (
                    payload.clone(),
                    store
                        .create(&key, &record(payload.as_bytes(), NOW.0 + 60))
                        .await,
                )
            });
        }
        let mut winners = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined.unwrap() {
                (payload, Ok(())) => winners.push(payload),
                (_, Err(StoreError::Exists)) => {}
                (_, Err(other)) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let loaded = t.load(&key, NOW).await.unwrap().unwrap();
        assert_eq!(loaded.payload, winners[0].as_bytes());
    }
}

// --- crash safety -------------------------------------------------------------------------

const CRASH_DIR_ENV: &str = "SESSION_RUNTIME_CRASH_TEST_DIR";
const CRASH_DURABILITY_ENV: &str = "FILE_STORE_CRASH_TEST_DURABILITY";
const CRASH_KEY: StoreKey = StoreKey([0x5a; 32]);

/// The payload of version `n`: its number, then 64 KiB of a byte that depends on it, so a
/// mix of two versions shows.
fn crash_payload(n: u64) -> Vec<u8> {
    let mut payload = format!("{n}:").into_bytes();
    payload.resize(payload.len() + 64 * 1024, b'a' + (n % 26) as u8);
    payload
}

/// Creates version 1 of the crash test's record, expiring a minute after [`NOW`].
async fn create_crash_record(store: &FileStore) {
    let record = Record {
        payload: crash_payload(1),
        expires_at: Timestamp(NOW.0 + 60),
        version: 0,
        principal: None,
    };
    store.create(&CRASH_KEY, &record).await.unwrap();
}

fn check_crash_record(record: &Record) {
    let text =
        String::from_utf8_lossy(&record.payload[..20.min(record.payload.len())]).into_owned();
    let n: u64 = text
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad payload start {text:?}"));
    assert_eq!(
        record.payload,
        crash_payload(n),
        "payload of version {n} is mixed or cut"
    );
    assert_eq!(record.version, n, "the version matches the payload");
}

/// Saves version after version of one record. As a child of
/// `a_killed_writer_leaves_the_old_or_the_new_version` (the directory in
/// [`CRASH_DIR_ENV`]), it runs until killed; run on its own, it writes 50 versions and
/// checks the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_writer_child() {
    let (dir, forever) = match std::env::var_os(CRASH_DIR_ENV) {
        Some(dir) => (std::path::PathBuf::from(dir), true),
        None => (tempfile::tempdir().unwrap().keep().join("sessions"), false),
    };
    // The parent alternates the durability between rounds: the atomic replacement does
    // not depend on it.
    let durability = match std::env::var(CRASH_DURABILITY_ENV).as_deref() {
        Ok("none") => FileDurability::None,
        Ok("fsync") => FileDurability::Fsync,
        _ => FileDurability::Group,
    };
    let store = FileStore::builder(&dir, test_keys())
        .durability(durability)
        .open()
        .unwrap();
    let mut current = match store.load(&CRASH_KEY, NOW).await.unwrap() {
        Some(record) => record,
        None => {
            create_crash_record(&store).await;
            store.load(&CRASH_KEY, NOW).await.unwrap().unwrap()
        }
    };
    let mut writes = 0;
    while forever || writes < 50 {
        let next = current.version + 1;
        let version = store
            .save(
                &CRASH_KEY,
                &Record {
                    payload: crash_payload(next),
                    expires_at: current.expires_at,
                    version: current.version,
                    principal: None,
                },
            )
            .await
            .unwrap();
        current = Record {
            payload: crash_payload(next),
            expires_at: current.expires_at,
            version,
            principal: None,
        };
        writes += 1;
    }
    let last = store.load(&CRASH_KEY, NOW).await.unwrap().unwrap();
    check_crash_record(&last);
    assert_eq!(last.version, 51);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Kills a child process that saves in a loop at random moments, 25 times; after each
/// kill the record is whole: the old version or the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_leaves_the_old_or_the_new_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let store = FileStore::open(&dir, test_keys()).unwrap();
    create_crash_record(&store).await;
    let exe = std::env::current_exe().unwrap();
    let mut last_version = 1;
    for round in 0..25 {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "stores::file::crash_writer_child",
                "--test-threads=1",
                "--quiet",
            ])
            .env(CRASH_DIR_ENV, &dir)
            .env(CRASH_DURABILITY_ENV, ["group", "none", "fsync"][round % 3])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait (bounded in count) until it has written, so every kill lands mid-loop...
        let header_version = || {
            std::fs::read(dir.join(CRASH_KEY.to_hex()))
                .ok()
                .filter(|raw| raw.len() >= 16)
                .map(|raw| u64::from_be_bytes(raw[8..16].try_into().unwrap()))
        };
        let mut polls = 0;
        while header_version().unwrap_or(0) <= last_version {
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: the writer ended by itself"
            );
            polls += 1;
            assert!(polls < 6000, "round {round}: the writer never wrote");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // ...then let it write for a random while (0 to 25 ms) and SIGKILL it.
        let mut wait = [0u8; 1];
        getrandom::getrandom(&mut wait).unwrap();
        std::thread::sleep(std::time::Duration::from_micros(u64::from(wait[0]) * 100));
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: the writer ended by itself"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let record = store
            .load(&CRASH_KEY, NOW)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"))
            .expect("present");
        check_crash_record(&record);
        assert!(
            record.version > last_version,
            "round {round}: went back from {last_version} to {}",
            record.version
        );
        last_version = record.version;
        for name in names(&dir) {
            assert!(
                is_session_name(&name) || name.starts_with(".tmp-"),
                "round {round}: stray file {name}"
            );
        }
    }
    assert!(last_version > 25, "every round wrote at least once");
}

/// A save of `payload` over `version` of `key`, returning the new version.
async fn save_over(t: &TempFileStore, key: &StoreKey, version: u64, payload: &[u8]) -> u64 {
    t.save(key, &at_version(version, payload)).await.unwrap()
}

/// Under `none`, a save left half-written by a power loss (the spare written in place,
/// then swapped in, with nothing ordering the data before the swap) fails its MAC. The
/// store then reads the session's spare, the previous version: only the last write is
/// lost, not the session. The next save goes on from the previous version.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
#[tokio::test]
async fn a_torn_session_file_falls_back_to_the_previous_version() {
    let t = TempFileStore::new();
    // Version 3 in the session file, version 2 in the spare.
    let three = async || {
        let key = random_key();
        t.create(&key, &record(b"one", NOW.0 + 60)).await.unwrap();
        assert_eq!(save_over(&t, &key, 1, b"two").await, 2);
        assert_eq!(save_over(&t, &key, 2, b"three").await, 3);
        key
    };
    let key = three().await;
    let path = t.store.path_of(&key);
    let whole = std::fs::read(&path).unwrap();

    // Torn: garbage over the whole file, or the header whole and the body torn (bytes of
    // the new version missing: zeros where the data never reached the disk).
    let mut body_torn = whole.clone();
    for byte in &mut body_torn[HEADER_LEN..] {
        *byte = 0;
    }
    for (what, torn) in [
        ("garbage", vec![0xa5; whole.len()]),
        ("body torn", body_torn),
        ("cut short", whole[..whole.len() / 2].to_vec()),
    ] {
        let key = three().await;
        let path = t.store.path_of(&key);
        std::fs::write(&path, &torn).unwrap();
        let loaded = t.load(&key, NOW).await.unwrap().expect(what);
        assert_eq!(
            (loaded.version, loaded.payload.as_slice()),
            (2, &b"two"[..]),
            "{what}: the previous version"
        );
        // A save over the torn version itself (never loadable) is a conflict.
        let error = t.save(&key, &at_version(3, b"x")).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict { expected: 3 }),
            "{what}: {error:?}"
        );
        // A save over the version loaded goes through and replaces the torn file.
        assert_eq!(save_over(&t, &key, 2, b"three again").await, 3, "{what}");
        let loaded = t.load(&key, NOW).await.unwrap().unwrap();
        assert_eq!(loaded.payload, b"three again", "{what}");
        assert_eq!(save_over(&t, &key, 3, b"four").await, 4, "{what}");
    }

    // A spare that does not authenticate for this session (another session's, or torn
    // too) is never used: the session file is reported corrupt and left in place.
    let other = random_key();
    t.create(&other, &record(b"other", NOW.0 + 60))
        .await
        .unwrap();
    save_over(&t, &other, 1, b"other two").await;
    let spare = |key: &StoreKey| spare_of(&t, key);
    std::fs::copy(spare(&other), spare(&key)).unwrap();
    std::fs::write(&path, b"garbage").unwrap();
    let error = t.load(&key, NOW).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    assert_eq!(std::fs::read(&path).unwrap(), b"garbage", "left in place");
    std::fs::write(spare(&key), vec![0x5a; 200]).unwrap();
    let error = t.load(&key, NOW).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");

    // An expired previous version is not served either.
    let t2 = TempFileStore::new();
    let short = random_key();
    t2.create(&short, &record(b"one", NOW.0 + 5)).await.unwrap();
    let saved = at_version(1, b"two");
    assert_eq!(t2.save(&short, &saved).await.unwrap(), 2);
    std::fs::write(t2.store.path_of(&short), b"torn").unwrap();
    assert_eq!(t2.load(&short, NOW).await.unwrap().unwrap().payload, b"one");
    assert!(
        t2.load(&short, NOW.add_seconds(10))
            .await
            .unwrap()
            .is_none()
    );
}

/// Under `group` and `fsync` a session file is never torn by a crash (its data is synced
/// before the swap): one that fails its MAC is corruption, reported, never replaced by an
/// older version that would silently undo an acknowledged write.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
#[tokio::test]
async fn synced_durabilities_report_a_corrupt_file_instead_of_the_spare() {
    for durability in [FileDurability::Group, FileDurability::Fsync] {
        let t = TempFileStore::with(|b| b.durability(durability));
        let key = random_key();
        t.create(&key, &record(b"one", NOW.0 + 60)).await.unwrap();
        save_over(&t, &key, 1, b"two").await;
        std::fs::write(t.store.path_of(&key), b"garbage").unwrap();
        let error = t.load(&key, NOW).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt(_)),
            "{durability:?}: {error:?}"
        );
    }
}

/// A session that was ended (deleted, rotated away, purged) never comes back from its
/// spare: the spare is removed with it, and one left behind (a crash between the two
/// removals, restored here by hand) is read only while the session file exists.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
#[tokio::test]
async fn an_ended_session_never_comes_back_from_its_spare() {
    let t = TempFileStore::new();
    let spare = |key: &StoreKey| spare_of(&t, key);
    let saved = async |expires: i64| {
        let key = saved_once(&t, expires).await;
        let bytes = std::fs::read(spare(&key)).unwrap();
        (key, bytes)
    };
    let check_gone = async |key: &StoreKey, spare_bytes: &[u8], what: &str| {
        assert!(!spare(key).exists(), "{what}: the spare went with it");
        std::fs::write(spare(key), spare_bytes).unwrap();
        assert!(
            t.load(key, NOW).await.unwrap().is_none(),
            "{what}: a spare left behind does not bring it back"
        );
        let error = t.save(key, &at_version(1, b"back?")).await.unwrap_err();
        assert!(matches!(error, StoreError::NotFound), "{what}: {error:?}");
        assert!(t.load(key, NOW).await.unwrap().is_none(), "{what}");
    };

    let (deleted, bytes) = saved(NOW.0 + 60).await;
    t.delete(&deleted).await.unwrap();
    check_gone(&deleted, &bytes, "deleted").await;

    let (rotated, bytes) = saved(NOW.0 + 60).await;
    rotate_away(&t, &rotated, 2).await;
    check_gone(&rotated, &bytes, "rotated away").await;

    let (expired, bytes) = saved(NOW.0 + 1).await;
    assert_eq!(t.purge_expired(NOW.add_seconds(10)).await.unwrap(), 1);
    check_gone(&expired, &bytes, "purged").await;

    // A session made again under a name whose old spare was left behind does not fall
    // back to that spare: a create removes it.
    let (reused, bytes) = saved(NOW.0 + 60).await;
    t.delete(&reused).await.unwrap();
    std::fs::write(spare(&reused), &bytes).unwrap();
    t.create(&reused, &record(b"fresh", NOW.0 + 60))
        .await
        .unwrap();
    assert!(!spare(&reused).exists(), "a create removes a stale spare");
    std::fs::write(t.store.path_of(&reused), b"torn").unwrap();
    assert!(matches!(
        t.load(&reused, NOW).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// The fallback write path (a new temporary file renamed over the session file, used where
/// the exchange of two files is not available) keeps every guarantee: the conformance
/// suite runs on it (`conformance::file_no_exchange`); here, saves make no spare and a
/// reader sees whole versions.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
#[tokio::test]
async fn the_rename_fallback_makes_no_spare() {
    for durability in DURABILITIES {
        let t = TempFileStore::with(|b| b.durability(durability).exchange(false));
        let key = random_key();
        t.create(&key, &record(b"one", NOW.0 + 60)).await.unwrap();
        let mut version = 1;
        for payload in [&b"a longer payload than before"[..], b"short"] {
            version = save_over(&t, &key, version, payload).await;
            assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, payload);
        }
        assert_eq!(version, 3);
        assert_eq!(inodes(&t.sessions()).len(), 1, "{durability:?}: no spare");
        assert_eq!(names(&t.sessions()), vec![key.to_hex()]);
    }
}

// --- files kept open ----------------------------------------------------------------------

/// The files of this process open in `dir` itself (session files and spares, not the lock
/// files under `.locks/`), by the inode their descriptor refers to; a file removed while
/// still open shows too.
#[cfg(target_os = "linux")]
fn open_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut open = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if target.parent() == Some(dir) {
            open.push(target);
        }
    }
    open
}

/// Saves of another store on the same directory (another process) swap the files this
/// store keeps open: each load and save checks which file the name holds now, so no
/// change is missed, whether made by a save, a file renamed into place by hand, or a
/// deletion.
#[tokio::test]
async fn kept_open_files_never_hide_another_stores_changes() {
    for durability in [
        FileDurability::None,
        FileDurability::Group,
        FileDurability::Fsync,
    ] {
        let t = TempFileStore::with(|builder| builder.durability(durability));
        let other = FileStore::builder(t.sessions(), test_keys())
            .durability(durability)
            .open()
            .unwrap();
        let key = random_key();
        t.create(&key, &record(b"one", NOW.0 + 60)).await.unwrap();
        assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, b"one");
        // Each store saves in turn: every load sees the other's last save, and a save
        // over a version the other replaced is a conflict.
        let mut version = 1;
        for round in 0..6u64 {
            let (writer, reader): (&dyn SessionStore, &dyn SessionStore) = if round % 2 == 0 {
                (&other, &t)
            } else {
                (&t, &other)
            };
            let payload = format!("round {round}");
            let loaded = writer.load(&key, NOW).await.unwrap().unwrap();
            assert_eq!(loaded.version, version, "{durability:?} round {round}");
            version = writer
                .save(
                    &key,
                    &Record {
                        version,
                        ..record(payload.as_bytes(), NOW.0 + 60)
                    },
                )
                .await
                .unwrap();
            let seen = reader.load(&key, NOW).await.unwrap().unwrap();
            assert_eq!(
                seen.payload,
                payload.as_bytes(),
                "{durability:?} round {round}"
            );
            assert_eq!(seen.version, version);
            let stale = Record {
                version: version - 1,
                ..record(b"stale", NOW.0 + 60)
            };
            assert!(
                matches!(
                    reader.save(&key, &stale).await,
                    Err(StoreError::Conflict { .. })
                ),
                "{durability:?} round {round}"
            );
        }
        // A copy of an earlier version renamed over the session file by hand (a new inode
        // under the name) is what the next load reads.
        let path = t.store.path_of(&key);
        let before = std::fs::read(&path).unwrap();
        let loaded = t.load(&key, NOW).await.unwrap().unwrap();
        save_over(&t, &key, loaded.version, b"newer").await;
        let copy = t.sessions().join("copy");
        std::fs::write(&copy, &before).unwrap();
        std::fs::rename(&copy, &path).unwrap();
        let restored = t.load(&key, NOW).await.unwrap().unwrap();
        assert_eq!(restored.version, loaded.version, "{durability:?}");
        assert_eq!(restored.payload, loaded.payload);
        assert_eq!(
            save_over(&t, &key, loaded.version, b"after the copy").await,
            loaded.version + 1
        );
        // Deleted by the other store: gone for this one too.
        other.delete(&key).await.unwrap();
        assert_eq!(t.load(&key, NOW).await.unwrap(), None, "{durability:?}");
        let missing = Record {
            version: loaded.version + 1,
            ..record(b"x", NOW.0 + 60)
        };
        assert!(matches!(
            t.save(&key, &missing).await,
            Err(StoreError::NotFound)
        ));
    }
}

/// The store keeps at most `open_files` files open, and none of a session that ended
/// (deleted, purged, rotated away): a removed file's disk space is never held.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn kept_open_files_are_bounded_and_let_go_of_when_a_session_ends() {
    let t = TempFileStore::with(|builder| builder.open_files(6));
    let dir = t.sessions();
    let mut keys = Vec::new();
    for i in 0..20u64 {
        let key = random_key();
        t.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
        save_over(&t, &key, 1, format!("{i}").as_bytes()).await;
        assert!(open_in(&dir).len() <= 6, "{:?}", open_in(&dir));
        keys.push(key);
    }
    assert!(
        !open_in(&dir).is_empty(),
        "recent sessions' files are kept open"
    );
    // Ended sessions' files are closed.
    for key in &keys[17..] {
        t.delete(key).await.unwrap();
    }
    let rotated = Record {
        version: 2,
        ..record(b"r", NOW.0 + 60)
    };
    let new = random_key();
    t.rotate(&Rotation {
        old: &keys[16],
        version: 2,
        new: Some((&new, &rotated)),
        keep_old: None,
    })
    .await
    .unwrap();
    t.delete(&new).await.unwrap();
    let expired = Record {
        version: 2,
        ..record(b"gone", NOW.0 - 1)
    };
    t.save(&keys[15], &expired).await.unwrap();
    t.purge_expired(NOW).await.unwrap();
    let deleted: Vec<_> = open_in(&dir)
        .into_iter()
        .filter(|path| path.to_string_lossy().ends_with(" (deleted)"))
        .collect();
    assert!(deleted.is_empty(), "{deleted:?}");
    // With `open_files(0)`, nothing is kept open.
    let none = TempFileStore::with(|builder| builder.open_files(0));
    let key = random_key();
    none.create(&key, &record(b"x", NOW.0 + 60)).await.unwrap();
    save_over(&none, &key, 1, b"y").await;
    assert_eq!(none.load(&key, NOW).await.unwrap().unwrap().payload, b"y");
    assert!(open_in(&none.sessions()).is_empty());
}

/// A store remembers the last bytes of each held session's file that it found authentic,
/// and does not verify the same bytes again; any other bytes under the name are verified:
/// a file edited in place by hand (same inode, same length) after a load, or another
/// session's file copied over it, is refused as before (under `none` the previous
/// version serves once the session has one, as for a file torn by a crash).
#[tokio::test]
async fn bytes_changed_after_a_load_are_verified_again() {
    for durability in [
        FileDurability::None,
        FileDurability::Group,
        FileDurability::Fsync,
    ] {
        let t = TempFileStore::with(|builder| builder.durability(durability));
        let (key, other) = (random_key(), random_key());
        for key in [&key, &other] {
            t.create(key, &record(b"one", NOW.0 + 60)).await.unwrap();
            assert_eq!(t.load(key, NOW).await.unwrap().unwrap().payload, b"one");
        }
        let path = t.store.path_of(&key);
        let good = std::fs::read(&path).unwrap();
        let flip_last = |path: &Path| {
            let mut bytes = std::fs::read(path).unwrap();
            *bytes.last_mut().unwrap() ^= 1;
            let inode = std::fs::metadata(path).unwrap();
            std::fs::write(path, &bytes).unwrap();
            let same = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap());
            assert_eq!(
                same,
                std::os::unix::fs::MetadataExt::ino(&inode),
                "in place"
            );
        };
        // No spare yet: refused under every durability.
        flip_last(&path);
        assert!(
            matches!(t.load(&key, NOW).await, Err(StoreError::Corrupt(_))),
            "{durability:?}"
        );
        std::fs::write(&path, &good).unwrap();
        assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, b"one");
        // Another session's file (authentic for its own name) copied over this one.
        std::fs::copy(t.store.path_of(&other), &path).unwrap();
        assert!(
            matches!(t.load(&key, NOW).await, Err(StoreError::Corrupt(_))),
            "{durability:?}"
        );
        std::fs::write(&path, &good).unwrap();
        // After a save (whose bytes the store wrote itself), an edit in place.
        assert_eq!(save_over(&t, &key, 1, b"two").await, 2);
        assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, b"two");
        flip_last(&path);
        match (durability, t.load(&key, NOW).await) {
            (FileDurability::None, Ok(Some(previous))) => {
                assert_eq!((previous.version, &previous.payload[..]), (1, &b"one"[..]));
            }
            (FileDurability::Group | FileDurability::Fsync, Err(StoreError::Corrupt(_))) => {}
            (durability, other) => panic!("{durability:?}: {other:?}"),
        }
        // A save compares with the version loads return, not the edited file's.
        match durability {
            FileDurability::None => {
                assert!(matches!(
                    t.save(&key, &at_version(2, b"x")).await,
                    Err(StoreError::Conflict { .. })
                ));
                assert_eq!(save_over(&t, &key, 1, b"three").await, 2);
            }
            _ => assert_eq!(save_over(&t, &key, 2, b"three").await, 3),
        }
        assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, b"three");
    }
}

/// Past `open_files`, the files of the session used least recently are closed first: a
/// session used again stays open while one left alone is let go of.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn kept_open_files_go_least_recently_used_first() {
    let t = TempFileStore::with(|builder| builder.open_files(4));
    let dir = t.sessions();
    let held = |key: &StoreKey| {
        let hex = key.to_hex();
        open_in(&dir)
            .iter()
            .filter(|path| path.to_string_lossy().contains(&hex))
            .count()
    };
    let (a, b, c) = (
        saved_once(&t, NOW.0 + 60).await,
        saved_once(&t, NOW.0 + 60).await,
        saved_once(&t, NOW.0 + 60).await,
    );
    // Each saved session holds its file and its spare: four files, the last two sessions.
    assert_eq!((held(&a), held(&b), held(&c)), (0, 2, 2));
    // `b` used again, then `a`: `c` was used least recently.
    t.load(&b, NOW).await.unwrap().unwrap();
    t.load(&a, NOW).await.unwrap().unwrap();
    assert_eq!((held(&a), held(&b), held(&c)), (1, 2, 0));
    save_over(&t, &a, 2, b"three").await;
    assert_eq!((held(&a), held(&b), held(&c)), (2, 2, 0));
    t.load(&c, NOW).await.unwrap().unwrap();
    assert_eq!((held(&a), held(&b), held(&c)), (2, 0, 1));
}

/// Loads leave a session file's access time alone (held files are opened `O_NOATIME`):
/// with `relatime`, the first read after each save would otherwise dirty the inode, a
/// journal write on ext4, on every request.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn loads_leave_the_access_time_alone() {
    let t = TempFileStore::new();
    let key = saved_once(&t, NOW.0 + 60).await;
    let path = t.store.path_of(&key);
    // An access time two days old: any `relatime` read updates it.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_times(std::fs::FileTimes::new().set_accessed(old))
        .unwrap();
    drop(file);
    for _ in 0..3 {
        assert_eq!(t.load(&key, NOW).await.unwrap().unwrap().payload, b"two");
    }
    let accessed = std::fs::metadata(&path).unwrap().accessed().unwrap();
    assert_eq!(accessed, old, "the loads changed the access time");
}
