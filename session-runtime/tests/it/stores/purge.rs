//! Purging expired records: the file store's purge function, and the background task
//! driven by a mock clock in paused tokio time.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use session_runtime::conformance::random_key;
use session_runtime::store::{MemoryStore, SessionStore, StoreKey, spawn_purge_task};
use session_runtime::{MockClock, Timestamp};

use super::support::{TempFileStore, is_session_name, names, record};

const NOW: i64 = 1_700_000_000;

#[tokio::test]
async fn file_purge_removes_expired_files_and_stale_temporaries_only() {
    let t = TempFileStore::new();
    let mut keys: Vec<(StoreKey, i64)> = Vec::new();
    for offset in [-100, -1, 0, 1, 100] {
        let key = random_key();
        t.create(&key, &record(b"x", NOW + offset)).await.unwrap();
        keys.push((key, offset));
    }
    let dir = t.sessions();
    // A crash's leftover from two hours ago, a write in progress, and a stranger.
    let stale = dir.join(".tmp-0123456789abcdef-0000000000000000");
    std::fs::write(&stale, b"half a file").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    let fresh = dir.join(".tmp-0123456789abcdef-1111111111111111");
    std::fs::write(&fresh, b"being written").unwrap();
    std::fs::write(dir.join("README"), b"not ours").unwrap();

    assert_eq!(t.purge_expired(Timestamp(NOW)).await.unwrap(), 3);
    for (key, offset) in &keys {
        assert_eq!(
            t.store.path_of(key).exists(),
            *offset > 0,
            "offset {offset}"
        );
    }
    assert!(!stale.exists(), "a two-hour-old temporary file is removed");
    assert!(
        fresh.exists(),
        "a fresh temporary file may be a write in progress"
    );
    assert!(
        dir.join("README").exists(),
        "files that are not ours are left alone"
    );
    assert_eq!(t.purge_expired(Timestamp(NOW)).await.unwrap(), 0);
    assert_eq!(t.purge_expired(Timestamp(NOW + 1)).await.unwrap(), 1);
    let sessions: Vec<String> = names(&dir)
        .into_iter()
        .filter(|n| is_session_name(n))
        .collect();
    assert_eq!(sessions, [keys[4].0.to_hex()]);
}

/// A purge racing saves that extend the expiry never removes a record a save made live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_purge_spares_records_a_concurrent_save_extended() {
    let t = Arc::new(TempFileStore::new());
    let keys: Vec<StoreKey> = (0..64).map(|_| random_key()).collect();
    for key in &keys {
        t.create(key, &record(b"old", NOW)).await.unwrap();
    }
    let saver = {
        let (t, keys) = (t.clone(), keys.clone());
        tokio::spawn(async move {
            let mut saved = Vec::new();
            for key in keys.iter().step_by(2) {
                let extended = session_runtime::store::Record {
                    version: 1,
                    ..record(b"new", NOW + 3600)
                };
                match t.save(key, &extended).await {
                    Ok(_) => saved.push(*key),
                    Err(session_runtime::StoreError::NotFound) => {} // purged first
                    Err(other) => panic!("{other:?}"),
                }
            }
            saved
        })
    };
    let purged = t.purge_expired(Timestamp(NOW)).await.unwrap();
    let saved = saver.await.unwrap();
    for key in &saved {
        let loaded = t.load(key, Timestamp(NOW)).await.unwrap();
        assert_eq!(
            loaded.map(|r| r.payload),
            Some(b"new".to_vec()),
            "a saved record was purged"
        );
    }
    let remaining = t.purge_expired(Timestamp(NOW)).await.unwrap();
    assert_eq!(purged + remaining, (keys.len() - saved.len()) as u64);
}

/// Polls, yielding, until `done` holds (bounded: the paused clock does not move meanwhile).
async fn settle(done: impl Fn() -> bool) -> bool {
    for _ in 0..1000 {
        if done() {
            return true;
        }
        tokio::task::yield_now().await;
    }
    done()
}

#[tokio::test(start_paused = true)]
async fn the_background_task_purges_every_period_with_the_clock_time() {
    let store = MemoryStore::new();
    for expires in [NOW + 30, NOW + 90, NOW + 150, NOW + 10_000] {
        store
            .create(&random_key(), &record(b"x", expires))
            .await
            .unwrap();
    }
    let clock = MockClock::new(Timestamp(NOW));
    let task = spawn_purge_task(
        Arc::new(store.clone()),
        Duration::from_secs(60),
        Arc::new(clock.clone()),
    );

    // Nothing is purged before the first period, even with the mock clock far ahead.
    clock.set(Timestamp(NOW + 60));
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert!(
        !settle(|| store.len() < 4).await,
        "purged before the first period"
    );
    // One period: the purge sees the mock clock's time, NOW + 60.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        settle(|| store.len() == 3).await,
        "{} records left",
        store.len()
    );
    // The next period, with the clock moved on.
    clock.set(Timestamp(NOW + 200));
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(
        settle(|| store.len() == 1).await,
        "{} records left",
        store.len()
    );
    // Stopping it.
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    clock.set(Timestamp(NOW + 20_000));
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(store.len(), 1, "an aborted task purges no more");
}

/// A store whose purge fails at first: the task logs, keeps going and purges later.
#[derive(Debug)]
struct FailingFirst {
    inner: MemoryStore,
    calls: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl SessionStore for FailingFirst {
    async fn create(
        &self,
        key: &StoreKey,
        r: &session_runtime::Record,
    ) -> session_runtime::store::Result<()> {
        self.inner.create(key, r).await
    }
    async fn load(
        &self,
        key: &StoreKey,
        now: Timestamp,
    ) -> session_runtime::store::Result<Option<session_runtime::Record>> {
        self.inner.load(key, now).await
    }
    async fn save(
        &self,
        key: &StoreKey,
        r: &session_runtime::Record,
    ) -> session_runtime::store::Result<u64> {
        self.inner.save(key, r).await
    }
    async fn rotate(
        &self,
        rotation: &session_runtime::store::Rotation<'_>,
    ) -> session_runtime::store::Result<()> {
        self.inner.rotate(rotation).await
    }

    async fn delete(&self, key: &StoreKey) -> session_runtime::store::Result<()> {
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: Timestamp) -> session_runtime::store::Result<u64> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            return Err(session_runtime::StoreError::Unavailable(
                "down for a while".into(),
            ));
        }
        self.inner.purge_expired(now).await
    }
}

#[tokio::test(start_paused = true)]
async fn the_background_task_survives_failed_purges() {
    let inner = MemoryStore::new();
    inner
        .create(&random_key(), &record(b"x", NOW))
        .await
        .unwrap();
    let store = Arc::new(FailingFirst {
        inner: inner.clone(),
        calls: 0.into(),
    });
    let task = spawn_purge_task(
        store.clone(),
        Duration::from_secs(10),
        Arc::new(MockClock::new(Timestamp(NOW))),
    );
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert!(settle(|| store.calls.load(std::sync::atomic::Ordering::SeqCst) == 2).await);
    assert_eq!(inner.len(), 1, "two failed purges removed nothing");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(settle(|| inner.is_empty()).await, "the third purge ran");
    assert!(!task.is_finished());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_purges_a_file_store() {
    let t = Arc::new(TempFileStore::new());
    let keys: Vec<StoreKey> = (0..3).map(|_| random_key()).collect();
    for (key, expires) in keys.iter().zip([NOW, NOW, NOW + 60]) {
        t.create(key, &record(b"x", expires)).await.unwrap();
    }
    let clock = MockClock::new(Timestamp(NOW));
    // A short real period; the test waits for an outcome, bounded in count, not in time.
    let task = spawn_purge_task(t.clone(), Duration::from_millis(5), Arc::new(clock));
    let mut left = usize::MAX;
    for _ in 0..2000 {
        left = names(&t.sessions()).len();
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    assert_eq!(left, 1);
    assert!(t.store.path_of(&keys[2]).exists());
}
