//! The background purge task, for every store.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::SessionStore;
use crate::time::Clock;

/// Spawns a task that calls [`SessionStore::purge_expired`] with `clock.now()` every
/// `every`, forever; abort the returned handle to stop it.
///
/// The first purge runs after one period, not at once. A failed purge is logged
/// (`tracing` warning) and retried at the next period; the task never ends by itself. Ticks
/// missed because a purge took longer than a period are not made up.
///
/// Must be called within a tokio runtime.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use session_runtime::store::{spawn_purge_task, MemoryStore, Record, SessionStore, StoreKey};
/// use session_runtime::{MockClock, Timestamp};
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let record = Record { payload: vec![], expires_at: Timestamp(100), version: 0, principal: None, };
/// store.create(&StoreKey([1; 32]), &record).await.unwrap();
/// let clock = MockClock::new(Timestamp(100)); // the record is expired at 100
/// let task = spawn_purge_task(Arc::new(store.clone()), Duration::from_secs(60), Arc::new(clock));
/// tokio::time::sleep(Duration::from_secs(61)).await; // paused time: no real wait
/// assert!(store.is_empty());
/// task.abort();
/// # });
/// ```
pub fn spawn_purge_task(
    store: Arc<dyn SessionStore>,
    every: Duration,
    clock: Arc<dyn Clock>,
) -> JoinHandle<()> {
    // `interval` panics on a zero period; a zero period is a configuration mistake that
    // would otherwise spin, so it is raised to one millisecond.
    let every = every.max(Duration::from_millis(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.purge_expired(clock.now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "purged expired sessions"),
                Err(error) => tracing::warn!(%error, "purging expired sessions failed"),
            }
        }
    })
}
