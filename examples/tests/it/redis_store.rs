//! The user-written Redis store of `custom_store`, against a real `redis-server`.
//!
//! `SESSION_TEST_REDIS_URL` names the server (`tests/run-all.sh` starts one); without it
//! these tests fail.

use examples::redis_store::RedisStore;
use session_runtime::{Record, SessionStore, StoreError, StoreKey, Timestamp};

fn redis_url() -> String {
    std::env::var("SESSION_TEST_REDIS_URL").expect(
        "`SESSION_TEST_REDIS_URL` is not set: start a redis-server and point it there \
         (`bash tests/run-all.sh` does both)",
    )
}

/// A store whose keys no other test run shares.
async fn fresh_store(label: &str) -> RedisStore {
    let prefix = format!(
        "it-{label}-{}-{}",
        std::process::id(),
        examples::csrf::new_token().unwrap()
    );
    RedisStore::connect(&redis_url(), &prefix)
        .await
        .expect("connect to redis")
}

fn key(n: u8) -> StoreKey {
    StoreKey([n; 32])
}

#[tokio::test]
async fn create_load_save_delete_round_trip() {
    let store = fresh_store("roundtrip").await;
    let now = Timestamp(1_000);
    let record = Record {
        payload: b"\x00binary\xff".to_vec(),
        expires_at: Timestamp(2_000),
        version: 1,
    };
    store.create(&key(1), &record).await.unwrap();
    assert!(matches!(
        store.create(&key(1), &record).await,
        Err(StoreError::Exists)
    ));
    let loaded = store.load(&key(1), now).await.unwrap().expect("record");
    assert_eq!(loaded, record);

    let next = Record {
        payload: b"v2".to_vec(),
        expires_at: Timestamp(3_000),
        version: 1,
    };
    assert_eq!(store.save(&key(1), &next).await.unwrap(), 2);
    assert!(matches!(
        store.save(&key(1), &next).await,
        Err(StoreError::Conflict { expected: 1 })
    ));
    assert_eq!(store.load(&key(1), now).await.unwrap().unwrap().version, 2);

    store.delete(&key(1)).await.unwrap();
    assert!(store.load(&key(1), now).await.unwrap().is_none());
    let again = Record { version: 2, ..next };
    assert!(matches!(
        store.save(&key(1), &again).await,
        Err(StoreError::NotFound)
    ));
    store
        .delete(&key(1))
        .await
        .expect("deleting a missing record is fine");
}

#[tokio::test]
async fn expiry_follows_the_callers_clock_and_purge_counts() {
    let store = fresh_store("expiry").await;
    for n in 1..=3 {
        let record = Record {
            payload: vec![n],
            expires_at: Timestamp(100 * i64::from(n)),
            version: 1,
        };
        store.create(&key(n), &record).await.unwrap();
    }
    assert!(store.load(&key(1), Timestamp(99)).await.unwrap().is_some());
    assert!(
        store.load(&key(1), Timestamp(100)).await.unwrap().is_none(),
        "expired at T"
    );
    assert_eq!(store.purge_expired(Timestamp(200)).await.unwrap(), 2);
    assert!(store.load(&key(3), Timestamp(200)).await.unwrap().is_some());
    assert_eq!(store.purge_expired(Timestamp(200)).await.unwrap(), 0);
}
