//! The session limit checks ([`SessionStore::limit_sessions`], the spec's `max_sessions`):
//! the store lists and trims a principal's live sessions in one atomic step with its
//! index, so that parallel logins leave exactly `max` live sessions (`EndOldest`) or are
//! refused past it (`Refuse`), no session is ended twice in place of two, and an ended
//! session never comes back.
//!
//! A store that does not limit sessions ([`SessionStore::limits_sessions`] is `false`)
//! passes them by refusing, with [`StoreError::Unsupported`]. Every check uses principals
//! and keys of its own, so they may run beside the others on one shared store.

use std::collections::BTreeSet;

use session_spec::settings::OnMaxSessions;

use super::{join_all, random_key};
use crate::store::{Limited, Record, SessionLimit, SessionStore, StoreError, StoreKey};
use crate::time::{Clock, MockClock, Timestamp};

/// How many logins race in [`limit_sessions_parallel_logins`].
const LOGINS: usize = 12;

fn record(principal: &str, expires_at: Timestamp) -> Record {
    Record {
        payload: b"{}".to_vec(),
        expires_at,
        version: 0,
        principal: Some(principal.to_owned()),
    }
}

fn principal() -> String {
    format!("limit-{}", random_key().to_hex())
}

macro_rules! fail {
    ($check:expr, $($arg:tt)*) => {
        panic!("store conformance check `{}` failed: {}", $check, format!($($arg)*))
    };
}

/// A store that does not limit sessions refuses; `false` then (the check passes).
async fn limits(check: &str, store: &dyn SessionStore, now: Timestamp) -> bool {
    if store.limits_sessions() {
        return true;
    }
    let newcomer = random_key();
    let limit = SessionLimit {
        principal: "nobody-ever",
        newcomer: &newcomer,
        max: 1,
        policy: OnMaxSessions::EndOldest,
    };
    match store.limit_sessions(&limit, now).await {
        Err(StoreError::Unsupported(_)) => false,
        other => fail!(
            check,
            "a store that does not limit sessions (`limits_sessions` is false) must refuse with `StoreError::Unsupported`, got {other:?}"
        ),
    }
}

async fn create(check: &str, store: &dyn SessionStore, key: &StoreKey, record: &Record) {
    if let Err(e) = store.create(key, record).await {
        fail!(check, "create returned {e:?}");
    }
}

async fn listed(
    check: &str,
    store: &dyn SessionStore,
    principal: &str,
    now: Timestamp,
) -> BTreeSet<StoreKey> {
    match store.sessions_of(principal, now).await {
        Ok(list) => list.into_iter().map(|(key, _)| key).collect(),
        Err(e) => fail!(check, "`sessions_of` returned {e:?}"),
    }
}

async fn live(store: &dyn SessionStore, key: &StoreKey, now: Timestamp) -> bool {
    matches!(store.load(key, now).await, Ok(Some(_)))
}

/// One login at a time: within the limit nothing ends; past it `EndOldest` ends the live
/// session closest to its expiry (never the newcomer, never an expired one or another
/// principal's), which a later save cannot bring back; `Refuse` deletes the newcomer and
/// leaves the others.
pub async fn limit_sessions_end_oldest_and_refuse(store: &dyn SessionStore, clock: &MockClock) {
    const CHECK: &str = "limit_sessions_end_oldest_and_refuse";
    let now = clock.now();
    if !limits(CHECK, store, now).await {
        return;
    }
    let (ada, bob) = (principal(), principal());
    // Three live sessions of ada (the second expires first), an expired one, one of bob.
    let olds: Vec<StoreKey> = (0..3).map(|_| random_key()).collect();
    for (key, ttl) in olds.iter().zip([300, 100, 200]) {
        create(CHECK, store, key, &record(&ada, now.add_seconds(ttl))).await;
    }
    let expired = random_key();
    create(CHECK, store, &expired, &record(&ada, now.add_seconds(10))).await;
    let bobs = random_key();
    create(CHECK, store, &bobs, &record(&bob, now.add_seconds(50))).await;
    let later = now.add_seconds(20);

    // Within the limit: nothing ends.
    let newcomer = random_key();
    create(
        CHECK,
        store,
        &newcomer,
        &record(&ada, later.add_seconds(1000)),
    )
    .await;
    let mut limit = SessionLimit {
        principal: &ada,
        newcomer: &newcomer,
        max: 4,
        policy: OnMaxSessions::EndOldest,
    };
    match store.limit_sessions(&limit, later).await {
        Ok(Limited::Kept { ended }) if ended.is_empty() => {}
        other => fail!(CHECK, "4 live sessions within a limit of 4 gave {other:?}"),
    }

    // Past it: the one closest to its expiry ends.
    limit.max = 3;
    match store.limit_sessions(&limit, later).await {
        Ok(Limited::Kept { ended }) if ended == [olds[1]] => {}
        other => fail!(
            CHECK,
            "4 live sessions within a limit of 3 gave {other:?}, expected the one expiring first ended"
        ),
    }
    let expected: BTreeSet<StoreKey> = [olds[0], olds[2], newcomer].into();
    if listed(CHECK, store, &ada, later).await != expected {
        fail!(
            CHECK,
            "after ending the oldest the index does not list exactly the three others"
        );
    }
    if live(store, &olds[1], later).await {
        fail!(CHECK, "the ended session still loads");
    }
    let resurrect = Record {
        version: 1,
        ..record(&ada, later.add_seconds(5000))
    };
    if !matches!(
        store.save(&olds[1], &resurrect).await,
        Err(StoreError::NotFound)
    ) {
        fail!(CHECK, "a save of the ended session did not get `NotFound`");
    }
    if !live(store, &bobs, later).await {
        fail!(CHECK, "another principal's session was ended");
    }

    // Refuse: the newcomer goes, the others stay.
    let refused = random_key();
    create(
        CHECK,
        store,
        &refused,
        &record(&ada, later.add_seconds(2000)),
    )
    .await;
    let limit = SessionLimit {
        newcomer: &refused,
        policy: OnMaxSessions::Refuse,
        ..limit
    };
    match store.limit_sessions(&limit, later).await {
        Ok(Limited::Refused) => {}
        other => fail!(
            CHECK,
            "a fourth session within a refusing limit of 3 gave {other:?}"
        ),
    }
    if live(store, &refused, later).await || listed(CHECK, store, &ada, later).await != expected {
        fail!(
            CHECK,
            "a refused newcomer is still stored, or the others changed"
        );
    }

    for key in olds.iter().chain([&expired, &bobs, &newcomer, &refused]) {
        if let Err(e) = store.delete(key).await {
            fail!(CHECK, "delete returned {e:?}");
        }
    }
}

/// Many logins of one principal at once (each a create followed by its limit, all
/// racing), on top of two sessions: with `EndOldest` exactly `max` stay, each ended session
/// is reported by exactly one login and none of them loads any more, and the index equals
/// the live set; with `Refuse` exactly `max` stay, the logins kept are those that fit and
/// every refused one is gone.
pub async fn limit_sessions_parallel_logins(store: &dyn SessionStore, clock: &MockClock) {
    const CHECK: &str = "limit_sessions_parallel_logins";
    const MAX: u32 = 5;
    let now = clock.now();
    if !limits(CHECK, store, now).await {
        return;
    }
    for policy in [OnMaxSessions::EndOldest, OnMaxSessions::Refuse] {
        let ada = principal();
        let before: Vec<StoreKey> = (0..2).map(|_| random_key()).collect();
        for (i, key) in before.iter().enumerate() {
            create(
                CHECK,
                store,
                key,
                &record(&ada, now.add_seconds(100 + i as i64)),
            )
            .await;
        }
        let logins: Vec<StoreKey> = (0..LOGINS).map(|_| random_key()).collect();
        let results = join_all(
            logins
                .iter()
                .enumerate()
                .map(|(i, key)| {
                    let ada = &ada;
                    async move {
                        store
                            .create(key, &record(ada, now.add_seconds(1000 + i as i64)))
                            .await?;
                        let limit = SessionLimit {
                            principal: ada,
                            newcomer: key,
                            max: MAX,
                            policy,
                        };
                        store.limit_sessions(&limit, now).await
                    }
                })
                .collect(),
        )
        .await;
        let mut ended = Vec::new();
        let mut refused = BTreeSet::new();
        for (key, result) in logins.iter().zip(results) {
            match result {
                Ok(Limited::Kept { ended: e }) => ended.extend(e),
                Ok(Limited::Refused) => {
                    refused.insert(*key);
                }
                Err(e) => fail!(CHECK, "a racing login returned {e:?}"),
            }
        }
        let all: BTreeSet<StoreKey> = before.iter().chain(&logins).copied().collect();
        let index = listed(CHECK, store, &ada, now).await;
        if index.len() != MAX as usize {
            fail!(
                CHECK,
                "{LOGINS} racing logins ({policy:?}) on top of 2 sessions left {} listed, expected exactly {MAX}",
                index.len()
            );
        }
        let mut live_set = BTreeSet::new();
        for key in &all {
            if live(store, key, now).await {
                live_set.insert(*key);
            }
        }
        if live_set != index {
            fail!(
                CHECK,
                "the index ({} keys) differs from the live sessions ({} keys)",
                index.len(),
                live_set.len()
            );
        }
        match policy {
            OnMaxSessions::EndOldest => {
                let unique: BTreeSet<StoreKey> = ended.iter().copied().collect();
                if unique.len() != ended.len() || ended.len() != all.len() - MAX as usize {
                    fail!(
                        CHECK,
                        "the racing logins reported {} ended ({} distinct), expected {} distinct",
                        ended.len(),
                        unique.len(),
                        all.len() - MAX as usize
                    );
                }
                if !refused.is_empty() || unique.iter().any(|k| live_set.contains(k)) {
                    fail!(
                        CHECK,
                        "a login was refused, or an ended session still loads"
                    );
                }
                if before.iter().any(|k| live_set.contains(k)) {
                    fail!(CHECK, "a session older than every login outlived them");
                }
            }
            OnMaxSessions::Refuse => {
                let kept = LOGINS - refused.len();
                if kept != MAX as usize - before.len()
                    || refused.iter().any(|k| live_set.contains(k))
                {
                    fail!(
                        CHECK,
                        "{kept} of {LOGINS} racing logins kept (expected {}), or a refused one still loads",
                        MAX as usize - before.len()
                    );
                }
                if !before.iter().all(|k| live_set.contains(k)) {
                    fail!(CHECK, "a refusing limit ended an existing session");
                }
            }
        }
        for key in &all {
            if let Err(e) = store.delete(key).await {
                fail!(CHECK, "delete returned {e:?}");
            }
        }
    }
}
