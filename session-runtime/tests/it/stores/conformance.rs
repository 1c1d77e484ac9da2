//! The conformance suite against the memory and file stores, and against deliberately
//! broken stores (each check must catch the flaw it is about).

use std::sync::Arc;

use session_runtime::conformance;
use session_runtime::keys::Keys;
use session_runtime::store::KeySealer;
use session_runtime::store::{
    MemoryStore, Record, Rotation, SessionStore, Storage, StoreError, StoreKey,
};
use session_runtime::{MockClock, Timestamp};

use super::support::{TempFileStore, TestSealer};

session_runtime::store_conformance_tests!(memory, async { MemoryStore::new() });

session_runtime::store_conformance_tests!(memory_capped, async {
    MemoryStore::new().with_max_payload(64 * 1024)
});

session_runtime::store_conformance_tests!(memory_as_dyn, async {
    Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>
});

session_runtime::store_conformance_tests!(file, async { TempFileStore::new() });

session_runtime::store_conformance_tests!(file_fsync, async {
    TempFileStore::with(|b| b.durability(session_runtime::store::file::FileDurability::Fsync))
});

// `file` runs the default durability, `none`.
session_runtime::store_conformance_tests!(file_group, async {
    TempFileStore::with(|b| b.durability(session_runtime::store::file::FileDurability::Group))
});

// The fallback write path (temporary file and rename, no `RENAME_EXCHANGE`), forced.
session_runtime::store_conformance_tests!(file_no_exchange, async {
    TempFileStore::with(|b| b.exchange(false))
});

session_runtime::store_conformance_tests!(file_group_no_exchange, async {
    TempFileStore::with(|b| {
        b.durability(session_runtime::store::file::FileDurability::Group)
            .exchange(false)
    })
});

session_runtime::store_conformance_tests!(file_sealed, async {
    TempFileStore::sealed(TestSealer::arc([7; 32]))
});

session_runtime::store_conformance_tests!(file_sealed_with_session_keys, async {
    TempFileStore::sealed(Arc::new(KeySealer::new(Keys::generate())))
});

session_runtime::manager_conformance_tests!(cookie, async { Storage::Cookie });

session_runtime::store_conformance_tests!(file_capped, async {
    TempFileStore::with(|builder| builder.max_payload(64 * 1024))
});

/// The whole suite, sequentially, against one store shared by every check (as a database
/// table is): checks must not disturb each other's records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_on_one_shared_store() {
    let store = MemoryStore::new();
    let clock = conformance::clock();
    conformance::run_all(&store, &clock).await;
    conformance::run_all(&store, &conformance::clock()).await;
    assert!(store.is_empty(), "the checks clean up after themselves");
}

/// The manager-level checks, sequentially, on one clock, against each backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_checks_run_all_on_every_backend() {
    let file = TempFileStore::new();
    let backends = [
        Storage::Cookie,
        Storage::Server(Arc::new(MemoryStore::new())),
        Storage::Server(Arc::new(file)),
    ];
    for storage in &backends {
        conformance::manager::run_all(storage, &conformance::clock()).await;
    }
}

/// Every check at once against one shared file store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_in_parallel_on_one_shared_store() {
    let store: Arc<dyn SessionStore> = Arc::new(TempFileStore::new());
    let mut tasks = tokio::task::JoinSet::new();
    // Every check but the random index sequences, whose purges share no time range with
    // the purge check's (run after, alone).
    for &name in &conformance::CHECKS[..conformance::CHECKS.len() - 1] {
        let store = store.clone();
        tasks.spawn(async move {
            let clock = conformance::clock();
            assert!(
                conformance::run_check(name, &*store, &clock).await,
                "{name}"
            );
        });
    }
    let mut done = 0;
    while let Some(result) = tasks.join_next().await {
        result.expect("a check passes");
        done += 1;
    }
    assert_eq!(done, conformance::CHECKS.len() - 1);
    conformance::index::index_random_sequences_n(&*store, &conformance::clock(), 50).await;
}

/// The check lists and `run_check` agree: every listed name runs, an unknown one is `false`
/// (and runs nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_check_knows_exactly_the_listed_checks() {
    let store = MemoryStore::new();
    let clock = conformance::clock();
    assert_eq!(conformance::CHECKS.len(), 19);
    assert_eq!(conformance::manager::CHECKS.len(), 10);
    for name in ["create_load_roundtrip", "index_follows_every_operation"] {
        assert!(conformance::CHECKS.contains(&name));
        assert!(conformance::run_check(name, &store, &clock).await, "{name}");
    }
    assert!(!conformance::run_check("no_such_check", &store, &clock).await);
    let storage = Storage::Server(Arc::new(MemoryStore::new()));
    assert!(conformance::manager::run_check("roundtrip", &storage, &clock).await);
    assert!(!conformance::manager::run_check("create_load_roundtrip", &storage, &clock).await);
    assert!(store.is_empty(), "the checks clean up after themselves");
}

/// The memory store is fast enough for the 1,000 random sequences on every run.
#[tokio::test]
async fn memory_index_after_a_thousand_random_sequences() {
    let store = MemoryStore::new();
    conformance::index::index_random_sequences_n(&store, &conformance::clock(), 1000).await;
}

/// What a [`Broken`] store gets wrong.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    /// `create` replaces a live record.
    Overwrites,
    /// `load` returns expired records.
    ShowsExpired,
    /// `save` ignores the version.
    NoCompareAndSwap,
    /// `save` of a missing record creates it.
    Resurrects,
    /// `purge_expired` removes nothing.
    NeverPurges,
    /// `purge_expired` also removes records expiring up to ten seconds later.
    PurgesTooMuch,
    /// Payloads are cut to 1 KiB.
    Truncates,
    /// `create` checks, yields, then inserts.
    RacyCreate,
    /// `save` reads the version, yields, then writes.
    RacySave,
    /// `create` keeps the caller's version.
    KeepsCallerVersion,
    /// `delete` does nothing.
    NeverDeletes,
    /// `rotate` creates the new record, then deletes the old one, without checking it.
    RotateCreateThenDelete,
}

#[derive(Debug)]
struct Broken {
    inner: MemoryStore,
    flaw: Flaw,
}

#[async_trait::async_trait]
impl SessionStore for Broken {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<(), StoreError> {
        let mut record = record.clone();
        match self.flaw {
            Flaw::Overwrites => {
                self.inner.delete(key).await?;
            }
            Flaw::Truncates => record.payload.truncate(1024),
            Flaw::RacyCreate => {
                let exists = self.inner.load(key, Timestamp(i64::MIN)).await?.is_some();
                tokio::task::yield_now().await;
                if exists {
                    return Err(StoreError::Exists);
                }
                self.inner.delete(key).await?;
            }
            Flaw::KeepsCallerVersion => {
                self.inner.create(key, &record).await?;
                let mut stored = self
                    .inner
                    .load(key, Timestamp(i64::MIN))
                    .await?
                    .expect("created");
                while stored.version < record.version {
                    stored.version = self.inner.save(key, &stored).await?;
                }
                return Ok(());
            }
            _ => {}
        }
        self.inner.create(key, &record).await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        match self.flaw {
            Flaw::ShowsExpired => self.inner.load(key, Timestamp(i64::MIN)).await,
            _ => self.inner.load(key, now).await,
        }
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64, StoreError> {
        let mut record = record.clone();
        match self.flaw {
            Flaw::NoCompareAndSwap => {
                if let Some(stored) = self.inner.load(key, Timestamp(i64::MIN)).await? {
                    record.version = stored.version;
                }
            }
            Flaw::Resurrects if self.inner.load(key, Timestamp(i64::MIN)).await?.is_none() => {
                self.inner.create(key, &record).await?;
                return Ok(1);
            }
            Flaw::Truncates => record.payload.truncate(1024),
            Flaw::RacySave => {
                let stored = self.inner.load(key, Timestamp(i64::MIN)).await?;
                tokio::task::yield_now().await;
                if stored.is_some_and(|s| s.version == record.version) {
                    // Another racer may have saved meanwhile: write over it anyway.
                    let current = self
                        .inner
                        .load(key, Timestamp(i64::MIN))
                        .await?
                        .expect("exists");
                    record.version = current.version;
                }
            }
            _ => {}
        }
        self.inner.save(key, &record).await
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<(), StoreError> {
        match self.flaw {
            // The old record stays as it was.
            Flaw::NeverDeletes => match rotation.new {
                Some((key, record)) => self.inner.create(key, record).await,
                None => Ok(()),
            },
            Flaw::RotateCreateThenDelete => {
                if let Some((key, record)) = rotation.new {
                    self.inner.create(key, record).await?;
                }
                self.inner.delete(rotation.old).await
            }
            _ => self.inner.rotate(rotation).await,
        }
    }

    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        match self.flaw {
            Flaw::NeverDeletes => Ok(()),
            _ => self.inner.delete(key).await,
        }
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        match self.flaw {
            Flaw::NeverPurges => Ok(0),
            Flaw::PurgesTooMuch => self.inner.purge_expired(now.add_seconds(10)).await,
            _ => self.inner.purge_expired(now).await,
        }
    }
}

/// Runs `check` against a store with `flaw`; asserts it panics naming `name`.
async fn assert_catches<F>(flaw: Flaw, name: &str, check: F)
where
    F: for<'a> AsyncCheck<'a>,
{
    let store = Arc::new(Broken {
        inner: MemoryStore::new(),
        flaw,
    });
    let outcome = tokio::spawn(async move {
        let clock: MockClock = conformance::clock();
        check.call(&*store, &clock).await;
    })
    .await;
    let error = outcome.expect_err(&format!("check `{name}` passed a store that {flaw:?}"));
    assert_panic_names(
        error,
        &format!("store conformance check `{name}` failed"),
        flaw,
    );
}

fn assert_panic_names(error: tokio::task::JoinError, expected: &str, flaw: Flaw) {
    let message = error.into_panic();
    let message = match (
        message.downcast_ref::<String>(),
        message.downcast_ref::<&str>(),
    ) {
        (Some(message), _) => message.clone(),
        (None, Some(message)) => (*message).to_owned(),
        (None, None) => format!("{message:?}"),
    };
    assert!(
        message.contains(expected),
        "unexpected panic for {flaw:?}: {message}"
    );
}

/// Rotation reverted to create-then-delete (no check of the loaded version): the
/// manager-level race check finds logged-out sessions that came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_race_check_catches_a_rotation_that_is_not_atomic() {
    let storage = Storage::Server(Arc::new(Broken {
        inner: MemoryStore::new(),
        flaw: Flaw::RotateCreateThenDelete,
    }));
    let outcome = tokio::spawn(async move {
        let clock = conformance::clock();
        conformance::manager::logout_racing_rotation(&storage, &clock).await;
    })
    .await;
    let error = outcome.expect_err("the race check passed a store whose rotation is not atomic");
    assert_panic_names(
        error,
        "manager conformance check `logout_racing_rotation` failed",
        Flaw::RotateCreateThenDelete,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_checks_catch_a_store_that_never_deletes() {
    use conformance::manager;
    for name in ["destroy", "cycle"] {
        let storage = Storage::Server(Arc::new(Broken {
            inner: MemoryStore::new(),
            flaw: Flaw::NeverDeletes,
        }));
        let outcome = tokio::spawn(async move {
            let clock = conformance::clock();
            assert!(manager::run_check(name, &storage, &clock).await, "{name}");
        })
        .await;
        let error = outcome.expect_err(&format!(
            "manager check `{name}` passed a store that never deletes"
        ));
        assert_panic_names(
            error,
            &format!("manager conformance check `{name}` failed"),
            Flaw::NeverDeletes,
        );
    }
}

/// An async check function, `for<'a>` its borrows.
trait AsyncCheck<'a>: Send + 'static {
    type Future: Future<Output = ()> + Send + 'a;
    fn call(&self, store: &'a dyn SessionStore, clock: &'a MockClock) -> Self::Future;
}

impl<'a, F, Fut> AsyncCheck<'a> for F
where
    F: Fn(&'a dyn SessionStore, &'a MockClock) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'a,
{
    type Future = Fut;
    fn call(&self, store: &'a dyn SessionStore, clock: &'a MockClock) -> Fut {
        self(store, clock)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_catches_its_flaw() {
    use conformance as c;
    assert_catches(
        Flaw::RotateCreateThenDelete,
        "rotate_compare_and_swap",
        c::rotate_compare_and_swap,
    )
    .await;
    assert_catches(
        Flaw::RotateCreateThenDelete,
        "concurrent_rotations_one_wins",
        c::concurrent_rotations_one_wins,
    )
    .await;
    assert_catches(
        Flaw::Overwrites,
        "create_never_overwrites",
        c::create_never_overwrites,
    )
    .await;
    assert_catches(
        Flaw::ShowsExpired,
        "load_hides_expired",
        c::load_hides_expired,
    )
    .await;
    assert_catches(
        Flaw::ShowsExpired,
        "create_after_expiry",
        c::create_after_expiry,
    )
    .await;
    assert_catches(
        Flaw::NoCompareAndSwap,
        "save_compare_and_swap",
        c::save_compare_and_swap,
    )
    .await;
    assert_catches(
        Flaw::NoCompareAndSwap,
        "concurrent_saves_one_wins",
        c::concurrent_saves_one_wins,
    )
    .await;
    assert_catches(
        Flaw::Resurrects,
        "save_never_resurrects",
        c::save_never_resurrects,
    )
    .await;
    assert_catches(
        Flaw::NeverPurges,
        "purge_removes_exactly_the_expired",
        c::purge_removes_exactly_the_expired,
    )
    .await;
    assert_catches(
        Flaw::PurgesTooMuch,
        "purge_removes_exactly_the_expired",
        c::purge_removes_exactly_the_expired,
    )
    .await;
    assert_catches(
        Flaw::Truncates,
        "payload_bytes_preserved",
        c::payload_bytes_preserved,
    )
    .await;
    assert_catches(Flaw::Truncates, "large_payload", c::large_payload).await;
    assert_catches(
        Flaw::RacyCreate,
        "concurrent_creates_one_wins",
        c::concurrent_creates_one_wins,
    )
    .await;
    assert_catches(
        Flaw::RacySave,
        "concurrent_saves_one_wins",
        c::concurrent_saves_one_wins,
    )
    .await;
    assert_catches(
        Flaw::KeepsCallerVersion,
        "create_load_roundtrip",
        c::create_load_roundtrip,
    )
    .await;
}
