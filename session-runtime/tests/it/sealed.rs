//! Encryption at rest (`encrypt = true`, [`SealedStore`]): written once, run against the
//! memory store here and against PostgreSQL, MariaDB and Redis in their modules, with the
//! stored bytes read behind the store's back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use session_runtime::keys::{Key, Keys};
use session_runtime::store::KeySealer;
use session_runtime::store::sealed::SealedStore;
use session_runtime::store::{MemoryStore, SessionStore};
use session_runtime::{MockClock, SessionManager, StoreKey, Timestamp};

/// The key sets of one rotation story: `A` alone, then `C` with `A` as fallback, then `C`
/// alone (A retired), and `D` alone (every key that sealed the record removed).
#[derive(Clone)]
pub(crate) struct KeySets {
    pub a: Keys,
    pub c_then_a: Keys,
    pub c: Keys,
    pub d: Keys,
}

impl KeySets {
    pub(crate) fn new() -> Self {
        let (a, c) = (Key::generate(), Key::generate());
        Self {
            a: Keys::single(a.clone()),
            c_then_a: Keys::new(c.clone(), vec![a]),
            c: Keys::single(c),
            d: Keys::generate(),
        }
    }
}

/// Every stored payload of the store under test (all rows of the table, or the record of
/// the given key), read behind its back (SQL, HGET).
pub(crate) type RawRows<'a> =
    Box<dyn Fn(StoreKey) -> Pin<Box<dyn Future<Output = Vec<Vec<u8>>> + Send>> + 'a>;

/// A secret no sealed payload may show.
const SECRET: &str = "ada-lovelace-7f3a";

fn manager(store: &Arc<dyn SessionStore>) -> SessionManager {
    SessionManager::with_store(crate::support::settings(), store.clone())
        .unwrap()
        .with_clock(Arc::new(MockClock::new(Timestamp(crate::support::T0))))
}

async fn load(
    manager: &SessionManager,
    cookie: &str,
) -> session_runtime::Session<session_runtime::Dynamic> {
    let header = format!("{}={cookie}", manager.cookie_name());
    manager.load([header.as_str()]).await.expect("load")
}

/// The rotation story on one backend. `stores` were opened on the same table (or prefix)
/// with [`KeySets`] `a`, `c_then_a`, `c` and `d`; `raw` reads every stored payload.
///
/// - a session written under `A` is stored sealed: the row holds neither the value nor the
///   field name (printed, for the record);
/// - with `C` primary and `A` as fallback it reads, and its next save seals it under `C`
///   (a store with `C` alone reads it afterwards);
/// - with every sealing key removed (`D` alone) the session is refused: a fresh session,
///   no panic, and the row left in place.
pub(crate) async fn rotation_story(
    label: &str,
    stores: [Arc<dyn SessionStore>; 4],
    raw: RawRows<'_>,
) {
    let [with_a, with_c_then_a, with_c, with_d] = stores;
    let first = manager(&with_a);
    let session = first.load(None::<&str>).await.unwrap();
    session.set("user", SECRET).unwrap();
    let set = first.commit(&session, false).await.unwrap();
    let cookie = crate::support::value_of(&set[0]).to_owned();
    let key = session
        .id()
        .expect("a stored session has an id")
        .store_key();
    let raw = move || raw(key);

    let rows = raw().await;
    assert_eq!(rows.len(), 1, "{label}: one stored record");
    let sealed_under_a = rows[0].clone();
    let shown: String = sealed_under_a
        .iter()
        .take(48)
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "{label}: stored payload ({} bytes): {shown}...",
        sealed_under_a.len()
    );
    for plain in [SECRET.as_bytes(), b"user", b"ada"] {
        assert!(
            !sealed_under_a.windows(plain.len()).any(|w| w == plain),
            "{label}: the stored payload shows `{}`",
            String::from_utf8_lossy(plain)
        );
    }

    // A fallback key reads; the next save seals under the new primary.
    let rotated = manager(&with_c_then_a);
    let session = load(&rotated, &cookie).await;
    assert_eq!(
        session.get::<String>("user").as_deref(),
        Some(SECRET),
        "{label}: a fallback key must read the record"
    );
    session.set("visits", &1).unwrap();
    rotated.commit(&session, false).await.unwrap();
    let resealed = raw().await;
    assert_eq!(resealed.len(), 1, "{label}: still one record");
    assert_ne!(resealed[0], sealed_under_a, "{label}: the save re-sealed");
    let only_c = manager(&with_c);
    let session = load(&only_c, &cookie).await;
    assert_eq!(
        (
            session.get::<String>("user").as_deref(),
            session.get::<i64>("visits")
        ),
        (Some(SECRET), Some(1)),
        "{label}: after the save the new primary alone reads the record"
    );
    // ...and the retired key alone no longer does.
    let session = load(&manager(&with_a), &cookie).await;
    assert_eq!(session.get::<String>("user"), None, "{label}: retired key");

    // Every sealing key removed: refused, a fresh session, the row left in place.
    let removed = manager(&with_d);
    let session = load(&removed, &cookie).await;
    assert_eq!(
        (session.id(), session.get::<String>("user")),
        (None, None),
        "{label}: a removed key must give a fresh session"
    );
    assert!(
        removed.commit(&session, false).await.unwrap().is_empty(),
        "{label}: an untouched fresh session writes nothing"
    );
    assert_eq!(
        raw().await,
        resealed,
        "{label}: the unreadable record stays"
    );
}

/// A memory store behind a [`SealedStore`] per key set; the raw rows are the inner store's.
#[tokio::test]
async fn memory_store_rotation_story() {
    let inner = Arc::new(MemoryStore::new());
    let keys = KeySets::new();
    let sealed = |keys: &Keys| -> Arc<dyn SessionStore> {
        Arc::new(SealedStore::new(
            inner.clone(),
            Arc::new(KeySealer::new(keys.clone())),
        ))
    };
    let stores = [
        sealed(&keys.a),
        sealed(&keys.c_then_a),
        sealed(&keys.c),
        sealed(&keys.d),
    ];
    let rows_of = inner.clone();
    rotation_story(
        "memory",
        stores,
        Box::new(move |key| {
            let inner = rows_of.clone();
            Box::pin(async move {
                let record = inner.load(&key, Timestamp(i64::MIN)).await.unwrap();
                record.into_iter().map(|r| r.payload).collect()
            })
        }),
    )
    .await;
}

/// A sealed payload is bound to its record: moved under another key, or with its expiry
/// or version changed behind the store's back, it does not open.
#[tokio::test]
async fn sealed_payload_is_bound_to_key_version_and_expiry() {
    use session_runtime::Record;
    use session_runtime::StoreError;
    let inner = Arc::new(MemoryStore::new());
    let store = SealedStore::new(inner.clone(), Arc::new(KeySealer::new(Keys::generate())));
    let (k1, k2) = (StoreKey([1; 32]), StoreKey([2; 32]));
    let record = Record {
        payload: b"{}".to_vec(),
        expires_at: Timestamp(1000),
        version: 0,
        principal: None,
    };
    store.create(&k1, &record).await.unwrap();
    let v2 = store
        .save(
            &k1,
            &Record {
                version: 1,
                ..record.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(v2, 2);
    assert_eq!(
        store
            .load(&k1, Timestamp(0))
            .await
            .unwrap()
            .unwrap()
            .payload,
        b"{}"
    );
    let raw = inner.load(&k1, Timestamp(0)).await.unwrap().unwrap();
    // Moved to another key.
    inner.create(&k2, &raw).await.unwrap();
    assert!(matches!(
        store.load(&k2, Timestamp(0)).await,
        Err(StoreError::Corrupt(_))
    ));
    // Same key, another expiry (the inner save bumps the version too).
    inner
        .save(
            &k1,
            &Record {
                expires_at: Timestamp(99_999),
                ..raw.clone()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.load(&k1, Timestamp(0)).await,
        Err(StoreError::Corrupt(_))
    ));
}
