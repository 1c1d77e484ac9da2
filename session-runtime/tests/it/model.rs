//! A model-based test of the whole manager: random interleavings of several requests'
//! steps (load, read, blind write, push, cycle, destroy, time passing so that a periodic
//! rotation falls due or the grace period ends, commit) against a reference model, with the
//! invariants checked after every step:
//!
//! 1. nothing destroyed comes back (no cookie of a destroyed session opens its data);
//! 2. no acknowledged write is lost, and nothing unacknowledged appears (the session's
//!    items are exactly the pushes whose commit succeeded);
//! 3. no client-chosen id is adopted (a made-up cookie opens a fresh session, and saving
//!    it draws a new id);
//! 4. no session outlives its absolute deadline;
//! 5. at most one live id per session outside the grace window (an id rotated away by
//!    `cycle` is dead at once, one rotated away periodically once the grace period ends).
//!
//! Runs on the memory and file stores; `SESSION_MODEL_CASES` sets the case count (64 by
//! default).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use session_runtime::spec::Lifetime;
use session_runtime::store::{MemoryStore, SessionStore};
use session_runtime::{
    Clock, MockClock, Rule, Session, SessionManager, Settings, Timestamp, ValidationError,
};

use crate::stores::support::TempFileStore;

const T0: i64 = 1_700_000_000;
const INTERVAL: i64 = 50;
const GRACE: i64 = 10;
const ABSOLUTE: i64 = 400;
const SLOTS: usize = 3;

#[derive(Clone, Debug)]
enum Step {
    /// Request `slot` loads the browser's cookie (its previous request, if any, is dropped
    /// uncommitted: a client that went away).
    Load(usize),
    /// Reads the counter.
    Read(usize),
    /// Writes the counter without reading it.
    Write(usize, u8),
    /// Appends an item (a replayable operation).
    Push(usize),
    Cycle(usize),
    Destroy(usize),
    Commit(usize),
    /// Time passes.
    Advance(i64),
    /// A made-up cookie is presented.
    Forged,
}

fn step() -> impl Strategy<Value = Step> {
    let slot = 0..SLOTS;
    prop_oneof![
        3 => slot.clone().prop_map(Step::Load),
        1 => slot.clone().prop_map(Step::Read),
        1 => (slot.clone(), any::<u8>()).prop_map(|(s, v)| Step::Write(s, v)),
        3 => slot.clone().prop_map(Step::Push),
        1 => slot.clone().prop_map(Step::Cycle),
        1 => slot.clone().prop_map(Step::Destroy),
        4 => slot.prop_map(Step::Commit),
        1 => prop_oneof![Just(5i64), Just(GRACE), Just(INTERVAL), Just(120)].prop_map(Step::Advance),
        1 => Just(Step::Forged),
    ]
}

/// One request in flight.
struct Request {
    session: Session,
    /// The cookie it loaded, if it opened a session.
    cookie: Option<String>,
    /// Items it pushed (acknowledged when its commit succeeds).
    pushed: Vec<u64>,
    cycled: bool,
    destroyed: bool,
}

/// What the model knows of one session (a lineage of ids).
#[derive(Default)]
struct Lineage {
    items: BTreeSet<u64>,
    created_at: i64,
    /// Every cookie value it was issued, with when and how it was rotated away.
    cookies: BTreeMap<String, Option<(i64, bool)>>,
    current: Option<String>,
    destroyed: bool,
}

struct Model {
    manager: SessionManager,
    clock: MockClock,
    jar: Option<String>,
    requests: Vec<Option<Request>>,
    lineages: Vec<Lineage>,
    next_item: u64,
}

fn pair(headers: &[String]) -> Option<Option<String>> {
    let header = headers.first()?;
    if header.contains("Max-Age=0") {
        return Some(None);
    }
    Some(Some(
        header.split(';').next().unwrap_or_default().to_owned(),
    ))
}

fn items(session: &Session) -> BTreeSet<u64> {
    session
        .untracked(|s| s.get::<Vec<u64>>("items"))
        .unwrap_or_default()
        .into_iter()
        .collect()
}

impl Model {
    fn lineage_of(&self, cookie: &str) -> Option<usize> {
        self.lineages
            .iter()
            .position(|l| l.cookies.contains_key(cookie))
    }

    async fn run(&mut self, step: &Step) {
        let now = self.clock.now().as_secs();
        match *step {
            Step::Load(slot) => {
                let session = self.manager.load(self.jar.as_deref()).await.unwrap();
                let cookie = self.jar.clone().filter(|_| !session.is_new());
                self.requests[slot] = Some(Request {
                    session,
                    cookie,
                    pushed: Vec::new(),
                    cycled: false,
                    destroyed: false,
                });
            }
            Step::Read(slot) => {
                if let Some(r) = &self.requests[slot] {
                    let _ = r.session.get::<u8>("n");
                }
            }
            Step::Write(slot, v) => {
                if let Some(r) = &self.requests[slot] {
                    r.session.set("n", &v).unwrap();
                }
            }
            Step::Push(slot) => {
                let item = self.next_item;
                if let Some(r) = &mut self.requests[slot] {
                    self.next_item += 1;
                    r.session
                        .update(move |s| {
                            let mut items = s.get::<Vec<u64>>("items").unwrap_or_default();
                            items.push(item);
                            s.set("items", &items).map_err(|e| {
                                ValidationError::new("items", Rule::Type, e.to_string())
                            })
                        })
                        .unwrap();
                    r.pushed.push(item);
                }
            }
            Step::Cycle(slot) => {
                if let Some(r) = &mut self.requests[slot] {
                    r.session.cycle();
                    r.cycled = true;
                }
            }
            Step::Destroy(slot) => {
                if let Some(r) = &mut self.requests[slot] {
                    r.session.destroy();
                    r.destroyed = true;
                    r.pushed.clear();
                }
            }
            Step::Commit(slot) => {
                let Some(r) = self.requests[slot].take() else {
                    return;
                };
                let result = self.manager.commit(&r.session, false).await;
                let Ok(headers) = result else {
                    return; // refused: nothing acknowledged
                };
                let loaded = r.cookie.as_deref().and_then(|c| self.lineage_of(c));
                // Which lineage the request acted on: the one it loaded, unless it was
                // destroyed or began a new session.
                let loaded = loaded.filter(|&l| !self.lineages[l].destroyed);
                if r.destroyed {
                    if let Some(l) = loaded {
                        self.lineages[l].destroyed = true;
                        self.lineages[l].current = None;
                    }
                }
                let set = pair(&headers);
                let target = match (&set, loaded, r.destroyed) {
                    (Some(Some(cookie)), Some(l), false) => Some((l, cookie.clone())),
                    (Some(Some(cookie)), _, _) => {
                        // A new session (fresh, or data set after a destroy).
                        let lineage = Lineage {
                            created_at: r.session.created_at().as_secs(),
                            ..Lineage::default()
                        };
                        self.lineages.push(lineage);
                        Some((self.lineages.len() - 1, cookie.clone()))
                    }
                    _ => None,
                };
                if let Some((l, cookie)) = target {
                    let lineage = &mut self.lineages[l];
                    if lineage.current.as_deref() != Some(cookie.as_str()) {
                        if let Some(old) = lineage.current.take() {
                            lineage.cookies.insert(old, Some((now, r.cycled)));
                        }
                        lineage.cookies.entry(cookie.clone()).or_insert(None);
                        lineage.current = Some(cookie);
                    }
                    lineage.items.extend(r.pushed.iter().copied());
                }
                match set {
                    Some(Some(cookie)) => self.jar = Some(cookie),
                    Some(None) => self.jar = None,
                    None => {}
                }
            }
            Step::Advance(seconds) => self.clock.advance(seconds),
            Step::Forged => {
                let forged = format!("session={}", "A".repeat(43));
                let session = self.manager.load([forged.as_str()]).await.unwrap();
                assert!(
                    session.get_all().is_empty(),
                    "invariant 3: a made-up id opened data"
                );
                assert!(
                    session.id().is_none(),
                    "invariant 3: a made-up id was adopted"
                );
            }
        }
    }

    async fn check(&self) {
        let now = self.clock.now().as_secs();
        for (i, lineage) in self.lineages.iter().enumerate() {
            let mut live = 0;
            for (cookie, rotated) in &lineage.cookies {
                let session = self.manager.load([cookie.as_str()]).await.unwrap();
                let data = items(&session);
                if session.get_all().is_empty() {
                    continue;
                }
                assert!(
                    !lineage.destroyed,
                    "invariant 1: lineage {i} was destroyed but {cookie} opens {data:?}"
                );
                assert!(
                    now < lineage.created_at + ABSOLUTE,
                    "invariant 4: lineage {i} outlived its absolute deadline"
                );
                assert_eq!(
                    data, lineage.items,
                    "invariant 2: lineage {i} holds other items than those acknowledged"
                );
                match rotated {
                    None => live += 1,
                    Some((_, true)) => {
                        panic!("invariant 5: an id rotated away by cycle still opens lineage {i}")
                    }
                    Some((at, false)) => assert!(
                        now < at + GRACE,
                        "invariant 5: an id rotated away at {at} still opens lineage {i} at {now}"
                    ),
                }
            }
            assert!(live <= 1, "invariant 5: {live} live ids for lineage {i}");
        }
    }
}

fn run_case(store: Arc<dyn SessionStore>, steps: &[Step]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = MockClock::new(Timestamp(T0));
        let settings = Settings {
            secure: false,
            expiration_time: Lifetime::from_seconds(300),
            absolute_timeout: Some(Lifetime::from_seconds(ABSOLUTE)),
            rotation_interval: Some(Lifetime::from_seconds(INTERVAL)),
            rotation_grace: Lifetime::from_seconds(GRACE),
            ..Settings::default()
        };
        let manager = SessionManager::with_store(settings, store)
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let mut model = Model {
            manager,
            clock,
            jar: None,
            requests: (0..SLOTS).map(|_| None).collect(),
            lineages: Vec::new(),
            next_item: 0,
        };
        for step in steps {
            model.run(step).await;
            model.check().await;
        }
    });
}

fn cases() -> u32 {
    std::env::var("SESSION_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Runs `cases` random cases of up to `max_steps` steps, each on a store made by `make`
/// (the database tests: a fresh table per case).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn check_stores(cases: u32, max_steps: usize, make: impl Fn() -> Arc<dyn SessionStore>) {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let steps = proptest::collection::vec(step(), 1..max_steps);
    if let Err(e) = runner.run(&steps, |steps| {
        run_case(make(), &steps);
        Ok(())
    }) {
        panic!("{e}");
    }
}

/// The case count of the shorter runs on the database servers
/// (`SESSION_MODEL_DB_CASES`, default 8).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn db_cases() -> u32 {
    std::env::var("SESSION_MODEL_DB_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn manager_model_on_memory(steps in proptest::collection::vec(step(), 1..60)) {
        run_case(Arc::new(MemoryStore::new()), &steps);
    }

    #[test]
    fn manager_model_on_file(steps in proptest::collection::vec(step(), 1..40)) {
        let store = TempFileStore::new();
        run_case(Arc::new(store), &steps);
    }
}

/// A store whose rotation is create-then-delete, without the check of the loaded version
/// (the rotation of the toolkit before it was one atomic store step).
#[derive(Debug, Default)]
struct UncheckedRotation(MemoryStore);

#[async_trait::async_trait]
impl SessionStore for UncheckedRotation {
    async fn create(
        &self,
        key: &session_runtime::StoreKey,
        record: &session_runtime::Record,
    ) -> session_runtime::store::Result<()> {
        self.0.create(key, record).await
    }
    async fn load(
        &self,
        key: &session_runtime::StoreKey,
        now: Timestamp,
    ) -> session_runtime::store::Result<Option<session_runtime::Record>> {
        self.0.load(key, now).await
    }
    async fn save(
        &self,
        key: &session_runtime::StoreKey,
        record: &session_runtime::Record,
    ) -> session_runtime::store::Result<u64> {
        self.0.save(key, record).await
    }
    async fn rotate(
        &self,
        rotation: &session_runtime::store::Rotation<'_>,
    ) -> session_runtime::store::Result<()> {
        if let Some((key, record)) = rotation.new {
            self.0.create(key, record).await?;
        }
        self.0.delete(rotation.old).await
    }
    async fn delete(&self, key: &session_runtime::StoreKey) -> session_runtime::store::Result<()> {
        self.0.delete(key).await
    }
    async fn purge_expired(&self, now: Timestamp) -> session_runtime::store::Result<u64> {
        self.0.purge_expired(now).await
    }
}

/// Breaking the rotation check (create-then-delete) makes the model test fail.
#[test]
fn the_model_catches_a_rotation_without_its_check() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let outcome = runner.run(&proptest::collection::vec(step(), 1..60), |steps| {
        run_case(Arc::new(UncheckedRotation::default()), &steps);
        Ok(())
    });
    assert!(
        outcome.is_err(),
        "the model passed a rotation without its check"
    );
}
