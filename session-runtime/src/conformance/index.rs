//! The principal index checks ([`SessionStore::sessions_of`]): after every operation the
//! index lists exactly the live records of each principal, never a deleted, replaced,
//! rotated-away or purged one, never missing one.
//!
//! A store without an index ([`SessionStore::indexes_principals`] is `false`) passes them
//! by refusing to list, with [`StoreError::Unsupported`].
//!
//! The random-sequence check purges in a time range of its own, 200,000,000 seconds
//! (about six years) before the clock's time, before the range of the other purging check
//! (see "Shared stores" in the [suite's docs](super)): its purges leave that check's
//! records alone, but that check's purges would remove its records, so on one shared
//! store the two must not run at the same time ([`super::run_all`] runs them one after
//! the other). Its count of sequences comes from the environment variable
//! `INDEX_CONFORMANCE_SEQUENCES` (default 200, a moderate count for the file and
//! database stores under the workspace's test command; set it to 1000 or more for a
//! longer run).

use std::collections::{BTreeSet, HashMap};

use super::{Shown, random_key};
use crate::store::{Record, Rotation, SessionStore, StoreError, StoreKey};
use crate::time::{Clock, MockClock, Timestamp};

/// The environment variable setting how many random sequences
/// [`index_random_sequences`] runs.
pub const SEQUENCES_VAR: &str = "INDEX_CONFORMANCE_SEQUENCES";

/// How many random sequences run unless [`SEQUENCES_VAR`] says otherwise.
pub const DEFAULT_SEQUENCES: usize = 200;

fn record(principal: Option<&str>, expires_at: Timestamp) -> Record {
    Record {
        payload: format!("{{\"p\":{principal:?}}}").into_bytes(),
        expires_at,
        version: 0,
        principal: principal.map(str::to_owned),
    }
}

/// `record` as sent at `version` (by a save).
fn at_version(version: u64, record: Record) -> Record {
    Record { version, ..record }
}

/// A rotation of `old` at `version` to `new`, leaving `keep_old` in its place.
fn rotation<'a>(
    old: &'a StoreKey,
    version: u64,
    new: Option<(&'a StoreKey, &'a Record)>,
    keep_old: Option<&'a Record>,
) -> Rotation<'a> {
    Rotation {
        old,
        version,
        new,
        keep_old,
    }
}

/// A store without an index refuses to list; one with an index lists nothing for a
/// principal it never saw.
async fn indexed(check: &str, store: &dyn SessionStore, now: Timestamp) -> bool {
    let listed = store.sessions_of("nobody-ever", now).await;
    if !store.indexes_principals() {
        if !matches!(listed, Err(StoreError::Unsupported(_))) {
            panic!(
                "store conformance check `{check}` failed: a store without a principal index must refuse to list (`StoreError::Unsupported`), got {:?}",
                Shown(&listed.map(|l| l.len()))
            );
        }
        return false;
    }
    match listed {
        Ok(l) if l.is_empty() => true,
        other => panic!(
            "store conformance check `{check}` failed: an unknown principal lists {:?}",
            Shown(&other.map(|l| l.len()))
        ),
    }
}

/// The keys the store lists for `principal` at `now`.
async fn listed(store: &dyn SessionStore, principal: &str, now: Timestamp) -> BTreeSet<StoreKey> {
    match store.sessions_of(principal, now).await {
        Ok(list) => {
            for (key, record) in &list {
                assert!(
                    record.principal.as_deref() == Some(principal) && record.expires_at > now,
                    "store conformance check failed: `sessions_of({principal:?})` listed {key:?} holding {:?}",
                    Shown(record)
                );
            }
            list.into_iter().map(|(key, _)| key).collect()
        }
        Err(error) => panic!("store conformance check failed: `sessions_of` returned {error:?}"),
    }
}

/// Create, save (changing the principal), rotate (with and without a forward), delete,
/// a compare-and-swap delete and a purge, each followed by the exact listing.
pub async fn index_follows_every_operation(store: &dyn SessionStore, clock: &MockClock) {
    const CHECK: &str = "index_follows_every_operation";
    let now = clock.now();
    if !indexed(CHECK, store, now).await {
        return;
    }
    let (ada, bob) = (
        format!("ada-{:?}", random_key()),
        format!("bob-{:?}", random_key()),
    );
    let later = now.add_seconds(3600);
    let expect = |what: &str, got: BTreeSet<StoreKey>, want: &[StoreKey]| {
        let want: BTreeSet<StoreKey> = want.iter().copied().collect();
        assert!(
            got == want,
            "store conformance check `{CHECK}` failed after {what}: listed {got:?}, expected {want:?}"
        );
    };
    let (a1, a2, b1) = (random_key(), random_key(), random_key());
    store.create(&a1, &record(Some(&ada), later)).await.unwrap();
    store.create(&a2, &record(Some(&ada), later)).await.unwrap();
    store.create(&b1, &record(Some(&bob), later)).await.unwrap();
    expect("three creates", listed(store, &ada, now).await, &[a1, a2]);
    expect("three creates", listed(store, &bob, now).await, &[b1]);
    // A save moving a2 to bob (a login on another account), then to nobody (a logout).
    let v = store
        .save(&a2, &at_version(1, record(Some(&bob), later)))
        .await
        .unwrap();
    expect(
        "a save changing the principal",
        listed(store, &ada, now).await,
        &[a1],
    );
    expect(
        "a save changing the principal",
        listed(store, &bob, now).await,
        &[a2, b1],
    );
    store
        .save(&a2, &at_version(v, record(None, later)))
        .await
        .unwrap();
    expect(
        "a save dropping the principal",
        listed(store, &bob, now).await,
        &[b1],
    );
    // A rotation leaving a forward without a principal, and one leaving nothing.
    let a3 = random_key();
    let forward = record(None, now.add_seconds(30));
    let new = record(Some(&ada), later);
    store
        .rotate(&rotation(&a1, 1, Some((&a3, &new)), Some(&forward)))
        .await
        .unwrap();
    expect(
        "a rotation with a forward",
        listed(store, &ada, now).await,
        &[a3],
    );
    let b2 = random_key();
    let new = record(Some(&bob), later);
    store
        .rotate(&rotation(&b1, 1, Some((&b2, &new)), None))
        .await
        .unwrap();
    expect("a rotation", listed(store, &bob, now).await, &[b2]);
    // A failed rotation changes nothing.
    let lost = store
        .rotate(&rotation(&b2, 7, Some((&random_key(), &new)), None))
        .await;
    assert!(
        matches!(lost, Err(StoreError::Conflict { .. })),
        "{CHECK}: {:?}",
        Shown(&lost)
    );
    expect("a failed rotation", listed(store, &bob, now).await, &[b2]);
    // A compare-and-swap delete and a plain delete.
    store.rotate(&rotation(&b2, 1, None, None)).await.unwrap();
    expect(
        "a compare-and-swap delete",
        listed(store, &bob, now).await,
        &[],
    );
    store.delete(&a3).await.unwrap();
    expect("a delete", listed(store, &ada, now).await, &[]);
    // Expired records are not listed, then purged.
    let soon = random_key();
    store
        .create(&soon, &record(Some(&ada), now.add_seconds(10)))
        .await
        .unwrap();
    expect("a create", listed(store, &ada, now).await, &[soon]);
    expect(
        "the expiry",
        listed(store, &ada, now.add_seconds(10)).await,
        &[],
    );
    for key in [a1, a2] {
        store.delete(&key).await.unwrap();
    }
    store.delete(&soon).await.unwrap();
}

/// A small deterministic generator (xorshift64*), seeded at random and reported on failure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the model knows of a stored record.
#[derive(Clone, Debug)]
struct Model {
    principal: Option<String>,
    version: u64,
    expires_at: Timestamp,
}

/// Random sequences of create, save, rotate, destroy and purge (how many: [`SEQUENCES_VAR`],
/// default [`DEFAULT_SEQUENCES`]); after every sequence the index of each principal equals
/// the model's live set exactly.
pub async fn index_random_sequences(store: &dyn SessionStore, clock: &MockClock) {
    let count = std::env::var(SEQUENCES_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SEQUENCES);
    index_random_sequences_n(store, clock, count).await;
}

/// [`index_random_sequences`] with an explicit count of sequences.
pub async fn index_random_sequences_n(store: &dyn SessionStore, clock: &MockClock, count: usize) {
    const CHECK: &str = "index_random_sequences";
    let era = clock.now().add_seconds(-200_000_000);
    if !indexed(CHECK, store, era).await {
        return;
    }
    let mut seed = [0u8; 8];
    getrandom::getrandom(&mut seed).expect("the operating system gives random bytes");
    let seed = u64::from_le_bytes(seed) | 1;
    let mut rng = Rng(seed);
    let tag = format!("{:?}", random_key());
    let principals: Vec<String> = (0..3).map(|i| format!("p{i}-{tag}")).collect();
    let mut now = era;
    // Leftovers of an interrupted earlier run in this time range.
    store
        .purge_expired(era.add_seconds(1_000_000))
        .await
        .unwrap();
    for sequence in 0..count {
        let mut model: HashMap<StoreKey, Model> = HashMap::new();
        let mut log: Vec<String> = Vec::new();
        for _ in 0..8 {
            now = now.add_seconds(rng.below(4) as i64);
            let principal = |rng: &mut Rng| {
                let i = rng.below(4) as usize;
                principals.get(i).cloned()
            };
            let live: Vec<StoreKey> = {
                let mut keys: Vec<StoreKey> = model
                    .iter()
                    .filter(|(_, m)| m.expires_at > now)
                    .map(|(k, _)| *k)
                    .collect();
                keys.sort();
                keys
            };
            let pick = |rng: &mut Rng| {
                (!live.is_empty()).then(|| live[rng.below(live.len() as u64) as usize])
            };
            match rng.below(6) {
                0 | 1 => {
                    let (key, p) = (random_key(), principal(&mut rng));
                    let expires_at = now.add_seconds(1 + rng.below(20) as i64);
                    store
                        .create(&key, &record(p.as_deref(), expires_at))
                        .await
                        .unwrap();
                    log.push(format!("create {key:?} {p:?} until {}", expires_at.0));
                    model.insert(
                        key,
                        Model {
                            principal: p,
                            version: 1,
                            expires_at,
                        },
                    );
                }
                2 => {
                    let Some(key) = pick(&mut rng) else { continue };
                    let m = model[&key].clone();
                    let p = if rng.below(2) == 0 {
                        m.principal.clone()
                    } else {
                        principal(&mut rng)
                    };
                    let expires_at = now.add_seconds(1 + rng.below(20) as i64);
                    let r = Record {
                        version: m.version,
                        ..record(p.as_deref(), expires_at)
                    };
                    let version = store.save(&key, &r).await.unwrap();
                    log.push(format!("save {key:?} {p:?} until {}", expires_at.0));
                    model.insert(
                        key,
                        Model {
                            principal: p,
                            version,
                            expires_at,
                        },
                    );
                }
                3 => {
                    let Some(old) = pick(&mut rng) else { continue };
                    let m = model[&old].clone();
                    let new_key = random_key();
                    let new = record(
                        m.principal.as_deref(),
                        now.add_seconds(1 + rng.below(20) as i64),
                    );
                    let forward = record(None, now.add_seconds(1 + rng.below(5) as i64));
                    let keep = rng.below(2) == 0;
                    store
                        .rotate(&rotation(
                            &old,
                            m.version,
                            Some((&new_key, &new)),
                            keep.then_some(&forward),
                        ))
                        .await
                        .unwrap();
                    log.push(format!("rotate {old:?} -> {new_key:?} (forward: {keep})"));
                    if keep {
                        model.insert(
                            old,
                            Model {
                                principal: None,
                                version: m.version + 1,
                                expires_at: forward.expires_at,
                            },
                        );
                    } else {
                        model.remove(&old);
                    }
                    model.insert(
                        new_key,
                        Model {
                            principal: m.principal,
                            version: 1,
                            expires_at: new.expires_at,
                        },
                    );
                }
                4 => {
                    let Some(key) = pick(&mut rng) else { continue };
                    if rng.below(2) == 0 {
                        store.delete(&key).await.unwrap();
                        log.push(format!("delete {key:?}"));
                    } else {
                        let version = model[&key].version;
                        store
                            .rotate(&Rotation {
                                old: &key,
                                version,
                                new: None,
                                keep_old: None,
                            })
                            .await
                            .unwrap();
                        log.push(format!("destroy {key:?}"));
                    }
                    model.remove(&key);
                }
                _ => {
                    store.purge_expired(now).await.unwrap();
                    log.push(format!("purge at {}", now.0));
                    model.retain(|_, m| m.expires_at > now);
                }
            }
        }
        for p in &principals {
            let want: BTreeSet<StoreKey> = model
                .iter()
                .filter(|(_, m)| m.principal.as_deref() == Some(p.as_str()) && m.expires_at > now)
                .map(|(k, _)| *k)
                .collect();
            let got = listed(store, p, now).await;
            assert!(
                got == want,
                "store conformance check `{CHECK}` failed (seed {seed}, sequence {sequence}, at {}): the index of {p:?} lists {got:?}, the live sessions are {want:?}; operations:\n{}",
                now.0,
                log.join("\n")
            );
        }
        for key in model.keys() {
            store.delete(key).await.unwrap();
        }
    }
}
