//! The store conformance suite: the [`SessionStore`] contract as executable checks, written
//! once and run against every store (memory, file, PostgreSQL, MySQL, and yours).
//!
//! Feature `test-util`, for tests only: enable it in `[dev-dependencies]`, so that the
//! suite and [`MockClock`] stay out of your application's build:
//!
//! ```toml
//! [dev-dependencies]
//! session-runtime = { version = "0.1", features = ["test-util"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Each check is an async function taking the store and a [`MockClock`]; it panics, naming
//! the check and what went wrong, when the store breaks the contract. The clock gives the
//! checks their "now" and is moved by them (the store trait takes `now` explicitly, so no
//! check ever sleeps). [`store_conformance_tests!`](crate::store_conformance_tests) expands to
//! one `#[tokio::test]` per check, so a store runs the whole suite in one line:
//!
//! ```
//! use session_runtime::store::MemoryStore;
//!
//! session_runtime::store_conformance_tests!(memory, async { MemoryStore::new() });
//! # fn main() {}
//! ```
//!
//! The checks can also be called directly, one by one or all with [`run_all`]:
//!
//! ```
//! use session_runtime::conformance;
//! use session_runtime::store::MemoryStore;
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! conformance::run_all(&store, &conformance::clock()).await;
//! # });
//! ```
//!
//! The same macro also runs the manager-level checks ([`manager`]) on the store: what a
//! request sees through a `SessionManager` (roundtrip, expiry, destroy, cycle, tampered
//! cookies). For the cookie backend, which has no store, use
//! [`manager_conformance_tests!`](crate::manager_conformance_tests).
//!
//! # Shared stores
//!
//! The checks may run in parallel against one store (one database table): every check
//! uses fresh random keys and cleans up after itself, and the one check that purges does so
//! in a time range of its own, 100,000,000 seconds (about three years) before the clock's
//! time, so it removes only its own records. Start the clock at a realistic time
//! ([`clock`] starts at 2023-11-14).
//!
//! # Stores with a size limit
//!
//! A store may refuse large payloads with [`StoreError::TooLarge`] (reporting the real size
//! and a limit below it, and storing nothing); every store must accept payloads up to
//! 4 KiB. The checks try 256 KiB.

pub mod index;
pub mod limit;
pub mod manager;

pub use index::{index_follows_every_operation, index_random_sequences};
pub use limit::{limit_sessions_end_oldest_and_refuse, limit_sessions_parallel_logins};

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::store::{Record, Rotation, SessionStore, StoreError, StoreKey};
use crate::time::{Clock, MockClock, Timestamp};

// `CHECKS`, `run_all` and `run_check`, from the one list of checks in
// `store_conformance_tests!`.
crate::store_conformance_tests!(@checks items []);

/// A clock for the checks, stopped at 1,700,000,000 (2023-11-14).
pub fn clock() -> MockClock {
    MockClock::new(Timestamp(1_700_000_000))
}

/// A random store key (from the operating system's generator).
///
/// # Panics
/// When the operating system has no randomness to give.
pub fn random_key() -> StoreKey {
    let mut key = [0; 32];
    getrandom::getrandom(&mut key).expect("the operating system gives random bytes");
    StoreKey(key)
}

fn record(payload: &[u8], expires_at: Timestamp, version: u64) -> Record {
    Record {
        payload: payload.to_vec(),
        expires_at,
        version,
        principal: None,
    }
}

/// Start of the time range of the one check that purges (see "Shared stores").
fn purge_era(clock: &MockClock) -> Timestamp {
    clock.now().add_seconds(-100_000_000)
}

/// A record or an optional record, shown with at most 32 payload bytes.
struct Shown<'a, T>(&'a T);

impl std::fmt::Debug for Shown<'_, Record> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Record {
            payload,
            expires_at,
            version,
            principal,
        } = self.0;
        let head = String::from_utf8_lossy(&payload[..payload.len().min(32)]);
        write!(
            f,
            "Record {{ payload: {} bytes {head:?}{}, expires_at: {}, version: {version}, principal: {principal:?} }}",
            payload.len(),
            if payload.len() > 32 { ".." } else { "" },
            expires_at.0
        )
    }
}

impl std::fmt::Debug for Shown<'_, Option<Record>> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(record) => write!(f, "Some({:?})", Shown(record)),
            None => f.write_str("None"),
        }
    }
}

impl<T> std::fmt::Debug for Shown<'_, crate::store::Result<T>>
where
    T: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Ok(value) => write!(f, "Ok({value:?})"),
            Err(error) => write!(f, "Err({error:?})"),
        }
    }
}

macro_rules! fail {
    ($check:expr, $($arg:tt)+) => {
        $check.fail(format_args!($($arg)+))
    };
}

/// One running check: its name, for the failure messages, and the store it runs on. The
/// store calls below fail the check, naming the call, when the store returns an error.
struct Check<'a> {
    name: &'static str,
    store: &'a dyn SessionStore,
}

impl<'a> Check<'a> {
    fn new(name: &'static str, store: &'a dyn SessionStore) -> Self {
        Check { name, store }
    }

    /// Fails the check: panics naming it, with `message`.
    fn fail(&self, message: std::fmt::Arguments<'_>) -> ! {
        panic!("store conformance check `{}` failed: {message}", self.name)
    }

    /// The value of `result`, or a failure saying that `what` returned an error.
    fn ok<T>(&self, what: &str, result: crate::store::Result<T>) -> T {
        match result {
            Ok(value) => value,
            Err(error) => fail!(self, "{what} returned an error: {error:?}"),
        }
    }

    async fn create(&self, key: &StoreKey, record: &Record) {
        self.ok("create", self.store.create(key, record).await);
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Option<Record> {
        self.ok("load", self.store.load(key, now).await)
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> u64 {
        self.ok("save", self.store.save(key, record).await)
    }

    async fn delete(&self, key: &StoreKey) {
        self.ok("delete", self.store.delete(key).await);
    }

    async fn rotate(&self, rotation: &Rotation<'_>) {
        self.ok("rotate", self.store.rotate(rotation).await);
    }

    async fn purge(&self, now: Timestamp) -> u64 {
        self.ok("purge_expired", self.store.purge_expired(now).await)
    }

    /// Loads `key` at `now`; fails with `what` and the record found unless it is `expected`.
    async fn expect(&self, key: &StoreKey, now: Timestamp, expected: Option<&Record>, what: &str) {
        let loaded = self.load(key, now).await;
        if loaded.as_ref() != expected {
            fail!(
                self,
                "{what}: loaded {:?}, expected {:?}",
                Shown(&loaded),
                Shown(&expected.cloned())
            );
        }
    }
}

/// Polls every future until all are done, concurrently, on the calling task; returns the
/// outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A created record loads back as created, with version 1 whatever version the caller
/// passed; other keys stay empty.
pub async fn create_load_roundtrip(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("create_load_roundtrip", store);
    let key = random_key();
    let expires_at = clock.now().add_seconds(3600);
    c.create(&key, &record(b"{\"user\":42}", expires_at, 42))
        .await;
    let expected = record(b"{\"user\":42}", expires_at, 1);
    c.expect(&key, clock.now(), Some(&expected), "the created record")
        .await;
    let other = c.ok(
        "load of another key",
        store.load(&random_key(), clock.now()).await,
    );
    if other.is_some() {
        fail!(c, "a key never created loaded {:?}", Shown(&other));
    }
    c.delete(&key).await;
}

/// `create` on a key holding a live record fails with [`StoreError::Exists`] and changes
/// nothing.
pub async fn create_never_overwrites(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("create_never_overwrites", store);
    let key = random_key();
    let expires_at = clock.now().add_seconds(3600);
    c.create(&key, &record(b"first", expires_at, 0)).await;
    match store
        .create(&key, &record(b"second", expires_at.add_seconds(10), 0))
        .await
    {
        Err(StoreError::Exists) => {}
        other => fail!(c, "a second create returned {other:?}, expected `Exists`"),
    }
    let first = record(b"first", expires_at, 1);
    c.expect(&key, clock.now(), Some(&first), "after a refused create")
        .await;
    c.delete(&key).await;
}

/// Once a record has expired, `create` on its key either replaces it (the new record
/// loads, version 1) or fails with [`StoreError::Exists`] without bringing the old one
/// back (then, after a delete, `create` succeeds).
pub async fn create_after_expiry(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("create_after_expiry", store);
    let start = clock.now();
    let key = random_key();
    c.create(&key, &record(b"old", start.add_seconds(10), 0))
        .await;
    clock.set(start.add_seconds(10));
    let fresh = record(b"new", start.add_seconds(3600), 1);
    match store.create(&key, &fresh).await {
        Ok(()) => {}
        Err(StoreError::Exists) => {
            let what = "an expired record after a refused create";
            c.expect(&key, clock.now(), None, what).await;
            c.delete(&key).await;
            c.ok("create after delete", store.create(&key, &fresh).await);
        }
        Err(other) => fail!(c, "create over an expired record returned {other:?}"),
    }
    let what = "the record created over an expired one";
    c.expect(&key, clock.now(), Some(&fresh), what).await;
    clock.set(start);
    c.delete(&key).await;
}

/// A record expiring at T loads at T-1 and not at T or T+1 (it is still there: loading at
/// T-1 again finds it).
pub async fn load_hides_expired(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("load_hides_expired", store);
    let key = random_key();
    let t = clock.now().add_seconds(60);
    c.create(&key, &record(b"x", t, 0)).await;
    for (offset, live) in [(-1, true), (0, false), (1, false), (-1, true)] {
        clock.set(t.add_seconds(offset));
        let loaded = c.load(&key, clock.now()).await;
        if loaded.is_some() != live {
            fail!(
                c,
                "at T{offset:+} (expiry T) load gave {:?}, expected {}",
                Shown(&loaded),
                if live { "the record" } else { "nothing" }
            );
        }
    }
    clock.set(t.add_seconds(-60));
    c.delete(&key).await;
}

/// `save` is a compare-and-swap on the version: it returns the new version, stores the new
/// payload and expiry, and refuses a stale version with [`StoreError::Conflict`] changing
/// nothing.
pub async fn save_compare_and_swap(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("save_compare_and_swap", store);
    let key = random_key();
    let now = clock.now();
    c.create(&key, &record(b"v1", now.add_seconds(60), 0)).await;
    let v1 = c
        .load(&key, now)
        .await
        .unwrap_or_else(|| fail!(c, "a created record did not load"));
    let later = now.add_seconds(7200);
    let v2 = c.save(&key, &record(b"v2", later, v1.version)).await;
    if v2 != v1.version + 1 {
        fail!(
            c,
            "save of version {} returned {v2}, expected {}",
            v1.version,
            v1.version + 1
        );
    }
    // The new expiry holds: the record lives past the old one.
    let saved = record(b"v2", later, v2);
    c.expect(&key, now.add_seconds(61), Some(&saved), "after a save")
        .await;
    match store.save(&key, &record(b"stale", later, v1.version)).await {
        Err(StoreError::Conflict { expected }) if expected == v1.version => {}
        other => fail!(
            c,
            "a save of stale version {} returned {other:?}, expected `Conflict`",
            v1.version
        ),
    }
    match store.save(&key, &record(b"future", later, v2 + 5)).await {
        Err(StoreError::Conflict { .. }) => {}
        other => fail!(
            c,
            "a save of a version never stored returned {other:?}, expected `Conflict`"
        ),
    }
    c.expect(&key, now, Some(&saved), "after a refused save")
        .await;
    let v3 = c.save(&key, &record(b"v3", later, v2)).await;
    if v3 != v2 + 1 {
        fail!(c, "save of version {v2} returned {v3}");
    }
    c.delete(&key).await;
}

/// `save` of a deleted or never-created record fails with [`StoreError::NotFound`] and
/// creates nothing: a save never brings back a deleted session.
pub async fn save_never_resurrects(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("save_never_resurrects", store);
    let now = clock.now();
    let key = random_key();
    let ghost = record(b"ghost", now.add_seconds(60), 1);
    match store.save(&key, &ghost).await {
        Err(StoreError::NotFound) => {}
        other => fail!(
            c,
            "a save of a key never created returned {other:?}, expected `NotFound`"
        ),
    }
    c.create(&key, &record(b"x", now.add_seconds(60), 0)).await;
    c.delete(&key).await;
    match store.save(&key, &ghost).await {
        Err(StoreError::NotFound) => {}
        other => fail!(
            c,
            "a save after delete returned {other:?}, expected `NotFound`"
        ),
    }
    c.expect(&key, now, None, "after a save after delete").await;
}

/// `delete` of a missing record is not an error; a deleted record is gone and its key can
/// be created again (version 1).
pub async fn delete_is_idempotent(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("delete_is_idempotent", store);
    let now = clock.now();
    let key = random_key();
    c.ok("delete of a key never created", store.delete(&key).await);
    c.create(&key, &record(b"x", now.add_seconds(60), 0)).await;
    c.delete(&key).await;
    c.ok("second delete", store.delete(&key).await);
    c.expect(&key, now, None, "a deleted record").await;
    c.ok(
        "create after delete",
        store
            .create(&key, &record(b"y", now.add_seconds(60), 9))
            .await,
    );
    let recreated = record(b"y", now.add_seconds(60), 1);
    let what = "a record created after delete";
    c.expect(&key, now, Some(&recreated), what).await;
    c.delete(&key).await;
}

/// `purge_expired(now)` removes exactly the records with `expires_at <= now` (they are
/// gone, not hidden: they no longer load at an earlier time) and returns their count.
pub async fn purge_removes_exactly_the_expired(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("purge_removes_exactly_the_expired", store);
    let era = purge_era(clock);
    // Leftovers of an interrupted earlier run in this time range.
    c.purge(era.add_seconds(1000)).await;
    let keys: Vec<(StoreKey, i64)> = [10, 20, 20, 30, 1000]
        .into_iter()
        .map(|s| (random_key(), s))
        .collect();
    for (key, seconds) in &keys {
        let payload = seconds.to_string();
        c.create(
            key,
            &record(payload.as_bytes(), era.add_seconds(*seconds), 0),
        )
        .await;
    }
    let removed = c.purge(era.add_seconds(20)).await;
    if removed != 3 {
        fail!(
            c,
            "purge at T removed {removed} records, expected 3 (expiring at T-10, T, T)"
        );
    }
    for (key, seconds) in &keys {
        let loaded = c.load(key, era).await;
        if loaded.is_some() != (*seconds > 20) {
            fail!(
                c,
                "after the purge the record expiring at T{:+} loads as {:?}",
                seconds - 20,
                Shown(&loaded)
            );
        }
    }
    let again = c.purge(era.add_seconds(20)).await;
    if again != 0 {
        fail!(c, "a second purge at the same time removed {again}");
    }
    for (key, _) in &keys {
        c.delete(key).await;
    }
}

/// Payload bytes come back exactly: empty, every byte value, NUL and invalid UTF-8, from
/// `create` and from `save`.
pub async fn payload_bytes_preserved(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("payload_bytes_preserved", store);
    let now = clock.now();
    let every_byte: Vec<u8> = (0..=255).collect();
    let payloads: [&[u8]; 5] = [
        b"",
        &every_byte,
        b"\0\0\0",
        b"\xff\xfe{\"a\":\"\xc3\"}",
        &[b'x'; 4096],
    ];
    for payload in payloads {
        let key = random_key();
        let expires_at = now.add_seconds(60);
        c.create(&key, &record(payload, expires_at, 0)).await;
        let loaded = c.load(&key, now).await;
        if loaded.as_ref().map(|r| &r.payload[..]) != Some(payload) {
            fail!(
                c,
                "a {}-byte payload came back as {:?}",
                payload.len(),
                Shown(&loaded)
            );
        }
        let reversed: Vec<u8> = payload.iter().rev().copied().collect();
        c.save(&key, &record(&reversed, expires_at, 1)).await;
        let loaded = c.load(&key, now).await;
        if loaded.as_ref().map(|r| &r.payload) != Some(&reversed) {
            fail!(
                c,
                "a saved {}-byte payload came back as {:?}",
                reversed.len(),
                Shown(&loaded)
            );
        }
        c.delete(&key).await;
    }
}

/// A 256 KiB payload of random bytes is stored exactly, or refused whole with
/// [`StoreError::TooLarge`] (by `create` and by `save`, the stored record left as it was).
pub async fn large_payload(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("large_payload", store);
    let now = clock.now();
    let mut large = vec![0; 256 * 1024];
    getrandom::getrandom(&mut large).expect("the operating system gives random bytes");
    let expires_at = now.add_seconds(60);
    let check_too_large = |size: usize, max: usize| {
        if size != large.len() || max >= size {
            fail!(
                c,
                "`TooLarge {{ size: {size}, max: {max} }}` for a payload of {} bytes",
                large.len()
            );
        }
    };

    let key = random_key();
    match store.create(&key, &record(&large, expires_at, 0)).await {
        Ok(()) => {
            let loaded = c.load(&key, now).await;
            if loaded.as_ref().map(|r| &r.payload) != Some(&large) {
                fail!(c, "a 256 KiB payload did not come back exactly");
            }
        }
        Err(StoreError::TooLarge { size, max }) => {
            check_too_large(size, max);
            let loaded = c.load(&key, now).await;
            if loaded.is_some() {
                fail!(
                    c,
                    "a create refused as too large stored {} bytes",
                    loaded.map_or(0, |r| r.payload.len())
                );
            }
        }
        Err(other) => fail!(c, "create of 256 KiB returned {other:?}"),
    }
    c.delete(&key).await;

    let key = random_key();
    c.create(&key, &record(b"small", expires_at, 0)).await;
    match store.save(&key, &record(&large, expires_at, 1)).await {
        Ok(2) => {
            let loaded = c.load(&key, now).await;
            if loaded.as_ref().map(|r| &r.payload) != Some(&large) {
                fail!(c, "a saved 256 KiB payload did not come back exactly");
            }
        }
        Err(StoreError::TooLarge { size, max }) => {
            check_too_large(size, max);
            if c.load(&key, now).await != Some(record(b"small", expires_at, 1)) {
                fail!(c, "a save refused as too large changed the record");
            }
        }
        other => fail!(c, "save of 256 KiB returned {other:?}"),
    }
    c.delete(&key).await;
}

/// How many requests race in the concurrency checks.
const RACERS: usize = 16;

/// The one winner among `results` of racing calls (a result for which `won` says
/// `Some(true)`; `Some(false)`: an allowed refusal); fails on anything else, naming the
/// race (`what`).
fn one_winner<T: std::fmt::Debug>(
    c: &Check<'_>,
    what: &str,
    results: Vec<crate::store::Result<T>>,
    won: impl Fn(&crate::store::Result<T>) -> Option<bool>,
) -> usize {
    let mut winners = Vec::new();
    for (i, result) in results.iter().enumerate() {
        match won(result) {
            Some(true) => winners.push(i),
            Some(false) => {}
            None => fail!(c, "a racing {what} returned {:?}", Shown(result)),
        }
    }
    let [winner] = winners[..] else {
        fail!(
            c,
            "{} of {RACERS} racing {what}s succeeded, expected exactly one",
            winners.len()
        );
    };
    winner
}

/// Concurrent creates of one key: exactly one succeeds, the others fail with
/// [`StoreError::Exists`], and the winner's payload is stored.
pub async fn concurrent_creates_one_wins(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("concurrent_creates_one_wins", store);
    let key = random_key();
    let expires_at = clock.now().add_seconds(60);
    let records: Vec<Record> = (0..RACERS)
        .map(|i| record(format!("racer {i}").as_bytes(), expires_at, 0))
        .collect();
    let results = join_all(records.iter().map(|r| store.create(&key, r)).collect()).await;
    let winner = one_winner(&c, "create", results, |result| match result {
        Ok(()) => Some(true),
        Err(StoreError::Exists) => Some(false),
        Err(_) => None,
    });
    let won = record(&records[winner].payload, expires_at, 1);
    let what = format!("create {winner} won but the store holds another record");
    c.expect(&key, clock.now(), Some(&won), &what).await;
    c.delete(&key).await;
}

/// Concurrent saves of one loaded version: exactly one succeeds (returning the next
/// version), the others fail with [`StoreError::Conflict`], and the winner's payload is
/// stored.
pub async fn concurrent_saves_one_wins(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("concurrent_saves_one_wins", store);
    let key = random_key();
    let expires_at = clock.now().add_seconds(60);
    c.create(&key, &record(b"start", expires_at, 0)).await;
    let records: Vec<Record> = (0..RACERS)
        .map(|i| record(format!("racer {i}").as_bytes(), expires_at, 1))
        .collect();
    let results = join_all(records.iter().map(|r| store.save(&key, r)).collect()).await;
    // A racing save of version 1 returning another version than 2 fails the check.
    let winner = one_winner(&c, "save", results, |result| match result {
        Ok(2) => Some(true),
        Err(StoreError::Conflict { expected: 1 }) => Some(false),
        _ => None,
    });
    let won = record(&records[winner].payload, expires_at, 2);
    let what = format!("save {winner} won but the store holds another record");
    c.expect(&key, clock.now(), Some(&won), &what).await;
    c.delete(&key).await;
}

/// `rotate` replaces the old record by the new one only while the old one is stored at the
/// loaded version: a wrong version gives [`StoreError::Conflict`], a deleted old record
/// [`StoreError::NotFound`] (a rotation never brings back a deleted session), a taken new
/// key [`StoreError::Exists`], and none of them changes anything. Without a new record and
/// without `keep_old` it is a compare-and-swap delete.
pub async fn rotate_compare_and_swap(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("rotate_compare_and_swap", store);
    let now = clock.now();
    let expires_at = now.add_seconds(60);
    let (old, new, taken) = (random_key(), random_key(), random_key());
    c.create(&old, &record(b"old", expires_at, 0)).await;
    c.create(&taken, &record(b"taken", expires_at, 0)).await;
    let fresh = record(b"new", expires_at, 7);
    let rotation = |old, version, new| Rotation {
        old,
        version,
        new,
        keep_old: None,
    };
    let refused = [
        (2, Some((&new, &fresh)), "a wrong version", "Conflict"),
        (1, Some((&taken, &fresh)), "a taken new key", "Exists"),
    ];
    for (version, target, why, expected) in refused {
        let result = store.rotate(&rotation(&old, version, target)).await;
        let right = match (&result, expected) {
            (Err(StoreError::Conflict { expected: v }), "Conflict") => *v == version,
            (Err(StoreError::Exists), "Exists") => true,
            _ => false,
        };
        if !right {
            fail!(
                c,
                "a rotation with {why} returned {:?}, expected `{expected}`",
                Shown(&result)
            );
        }
        let kept = record(b"old", expires_at, 1);
        let what = format!("a refused rotation ({why}), the old record");
        c.expect(&old, now, Some(&kept), &what).await;
    }
    let created = c.load(&new, now).await;
    let taken_now = c.load(&taken, now).await;
    if created.is_some() || taken_now != Some(record(b"taken", expires_at, 1)) {
        fail!(
            c,
            "a refused rotation wrote the new key: {:?} / {:?}",
            Shown(&created),
            Shown(&taken_now)
        );
    }
    c.rotate(&rotation(&old, 1, Some((&new, &fresh)))).await;
    let gone = c.load(&old, now).await;
    let created = c.load(&new, now).await;
    if gone.is_some() || created != Some(record(b"new", expires_at, 1)) {
        fail!(
            c,
            "after a rotation the old key holds {:?} and the new one {:?}, expected nothing \
             and the new record at version 1",
            Shown(&gone),
            Shown(&created)
        );
    }
    // The old record is gone: a second rotation of it (a request that loaded it before the
    // first) must not bring it back under another key.
    let other = random_key();
    let again = store
        .rotate(&rotation(&old, 1, Some((&other, &fresh))))
        .await;
    if !matches!(again, Err(StoreError::NotFound)) {
        fail!(
            c,
            "a rotation of a record rotated away returned {:?}, expected `NotFound`",
            Shown(&again)
        );
    }
    let what = "a rotation of a record rotated away, its new record";
    c.expect(&other, now, None, what).await;
    // Compare-and-swap delete: refused at a wrong version, done at the right one.
    let stale = store.rotate(&rotation(&new, 2, None)).await;
    if !matches!(stale, Err(StoreError::Conflict { expected: 2 })) {
        fail!(
            c,
            "a delete at a wrong version returned {:?}, expected `Conflict`",
            Shown(&stale)
        );
    }
    c.ok(
        "rotate (delete)",
        store.rotate(&rotation(&new, 1, None)).await,
    );
    let what = "a compare-and-swap delete, the record";
    c.expect(&new, now, None, what).await;
    c.delete(&taken).await;
}

/// With `keep_old`, a rotation overwrites the old record (payload, expiry; version plus
/// one) instead of deleting it, and a save at the old version then fails.
pub async fn rotate_keeps_old_as_given(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("rotate_keeps_old_as_given", store);
    let now = clock.now();
    let (old, new) = (random_key(), random_key());
    c.create(&old, &record(b"old", now.add_seconds(600), 0))
        .await;
    let forward = record(b"forward", now.add_seconds(30), 0);
    c.rotate(&Rotation {
        old: &old,
        version: 1,
        new: Some((&new, &record(b"new", now.add_seconds(600), 0))),
        keep_old: Some(&forward),
    })
    .await;
    let kept = record(b"forward", now.add_seconds(30), 2);
    let what = "the old key, expected to hold the given record at version 2";
    c.expect(&old, now, Some(&kept), what).await;
    let stale = store
        .save(&old, &record(b"late", now.add_seconds(600), 1))
        .await;
    if !matches!(stale, Err(StoreError::Conflict { expected: 1 })) {
        fail!(
            c,
            "a save of the version loaded before the rotation returned {:?}, expected `Conflict`",
            Shown(&stale)
        );
    }
    let what = "the kept record after its own expiry";
    c.expect(&old, now.add_seconds(30), None, what).await;
    c.delete(&old).await;
    c.delete(&new).await;
}

/// Concurrent rotations of one loaded version, each to its own new key: exactly one
/// succeeds, and exactly one new record exists afterwards (a session never forks).
pub async fn concurrent_rotations_one_wins(store: &dyn SessionStore, clock: &MockClock) {
    let c = Check::new("concurrent_rotations_one_wins", store);
    let now = clock.now();
    let expires_at = now.add_seconds(60);
    let old = random_key();
    c.create(&old, &record(b"old", expires_at, 0)).await;
    let keys: Vec<StoreKey> = (0..RACERS).map(|_| random_key()).collect();
    let fresh = record(b"new", expires_at, 0);
    let rotations: Vec<Rotation<'_>> = keys
        .iter()
        .map(|key| Rotation {
            old: &old,
            version: 1,
            new: Some((key, &fresh)),
            keep_old: None,
        })
        .collect();
    let results = join_all(rotations.iter().map(|r| store.rotate(r)).collect()).await;
    let mut winners = 0;
    for result in &results {
        match result {
            Ok(()) => winners += 1,
            Err(StoreError::Conflict { .. } | StoreError::NotFound) => {}
            Err(other) => fail!(c, "a racing rotation returned {other:?}"),
        }
    }
    let mut live = 0;
    for key in &keys {
        if c.load(key, now).await.is_some() {
            live += 1;
        }
        c.delete(key).await;
    }
    if winners != 1 || live != 1 {
        fail!(
            c,
            "{winners} of {RACERS} racing rotations succeeded and {live} new records exist, \
             expected exactly one of each"
        );
    }
    c.delete(&old).await;
}

/// Expands to a module `$name` holding one `#[tokio::test]` per conformance check, each
/// running against a fresh store made by `$make` (an expression giving a future of the
/// store, evaluated once per test; anything implementing [`SessionStore`], an
/// `Arc<dyn SessionStore>` included), and a module `$name::manager` running the
/// manager-level checks ([`manager`]) on the store.
///
/// Feature `test-util`. The tests use a multi-threaded runtime: the crate using the macro
/// needs `tokio` (with the `macros` and `rt-multi-thread` features) among its
/// dev-dependencies. Names in
/// scope where the macro is called are visible in `$make`.
///
/// ```
/// use std::sync::Arc;
/// use session_runtime::store::{MemoryStore, SessionStore};
///
/// session_runtime::store_conformance_tests!(capped_memory, async {
///     Arc::new(MemoryStore::new().with_max_payload(64 * 1024)) as Arc<dyn SessionStore>
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($name:ident, $make:expr $(,)?) => {
        $crate::store_conformance_tests!(@checks tests [$name, $make]);
    };
    // Internal: the one list of the checks, in the order `run_all` runs them, handed to
    // the arm `@$arm` after its arguments `[$args]`. Every other arm (the tests here, and
    // `CHECKS`, `run_all` and `run_check` in the `conformance` module) takes it from here.
    (@checks $arm:ident [$($args:tt)*]) => {
        $crate::store_conformance_tests!(@$arm [$($args)*] [
            create_load_roundtrip,
            create_never_overwrites,
            create_after_expiry,
            load_hides_expired,
            save_compare_and_swap,
            save_never_resurrects,
            delete_is_idempotent,
            purge_removes_exactly_the_expired,
            payload_bytes_preserved,
            large_payload,
            concurrent_creates_one_wins,
            concurrent_saves_one_wins,
            rotate_compare_and_swap,
            rotate_keeps_old_as_given,
            concurrent_rotations_one_wins,
            index_follows_every_operation,
            limit_sessions_end_oldest_and_refuse,
            limit_sessions_parallel_logins,
            index_random_sequences,
        ]);
    };
    (@tests [$name:ident, $make:expr] [$($check:ident),* $(,)?]) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let store = $make.await;
                    let clock = $crate::conformance::clock();
                    $crate::conformance::$check(&store, &clock).await;
                }
            )*
            $crate::manager_conformance_tests!(manager, async {
                $crate::store::Storage::Server(::std::sync::Arc::new($make.await))
            });
        }
    };
    (@items [] [$($check:ident),* $(,)?]) => {
        $crate::store_conformance_tests!(@runners ["", store: &dyn SessionStore] [$($check),*]);
    };
    // Internal: `CHECKS`, `run_all` and `run_check` over the list of checks, each check
    // taking `$target` (named `$arg`: the store, or the storage for the manager-level
    // checks) and the clock; `$kind` qualifies "check" in the docs.
    (@runners [$kind:literal, $arg:ident: $target:ty] [$($check:ident),* $(,)?]) => {
        #[doc = ::core::concat!(
            "The names of every ", $kind, "check, in the order [`run_all`] runs them."
        )]
        pub const CHECKS: &[&str] = &[$(::core::stringify!($check)),*];

        /// Runs every check in [`CHECKS`] order.
        ///
        /// # Panics
        #[doc = ::core::concat!("At the first check the ", ::core::stringify!($arg), " fails.")]
        pub async fn run_all($arg: $target, clock: &MockClock) {
            $($check($arg, clock).await;)*
        }

        /// Runs the check named `name` (one of [`CHECKS`]); `false` when no check has that
        /// name.
        ///
        /// # Panics
        #[doc = ::core::concat!("When the ", ::core::stringify!($arg), " fails the check.")]
        pub async fn run_check(name: &str, $arg: $target, clock: &MockClock) -> bool {
            match name {
                $(::core::stringify!($check) => $check($arg, clock).await,)*
                _ => return false,
            }
            true
        }
    };
}

/// Expands to a module `$name` holding one `#[tokio::test]` per manager-level check
/// ([`manager`]), each running against the [`Storage`](crate::store::Storage) made by
/// `$make` (an expression giving a future of it, evaluated once per test).
///
/// [`store_conformance_tests!`](crate::store_conformance_tests) includes these for a
/// store; call this one directly for the cookie backend (feature `test-util`):
///
/// ```
/// session_runtime::manager_conformance_tests!(cookie, async {
///     session_runtime::store::Storage::Cookie
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! manager_conformance_tests {
    ($name:ident, $make:expr $(,)?) => {
        $crate::manager_conformance_tests!(@checks tests [$name, $make]);
    };
    // Internal: the one list of the manager-level checks, in the order `run_all` runs
    // them, handed to the arm `@$arm` after its arguments `[$args]` (the tests here, and
    // `CHECKS`, `run_all` and `run_check` in `conformance::manager`).
    (@checks $arm:ident [$($args:tt)*]) => {
        $crate::manager_conformance_tests!(@$arm [$($args)*] [
            roundtrip,
            unchanged_request_writes_nothing,
            expiry,
            destroy,
            cycle,
            bad_cookies_give_fresh_sessions,
            server_error_discards_changes,
            logout_racing_rotation,
            concurrent_appends_all_land,
            concurrent_increments_lose_nothing,
        ]);
    };
    (@tests [$name:ident, $make:expr] [$($check:ident),* $(,)?]) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let storage: $crate::store::Storage = $make.await;
                    let clock = $crate::conformance::clock();
                    $crate::conformance::manager::$check(&storage, &clock).await;
                }
            )*
        }
    };
    (@items [] [$($check:ident),* $(,)?]) => {
        $crate::store_conformance_tests!(
            @runners ["manager-level ", storage: &Storage] [$($check),*]
        );
    };
}
