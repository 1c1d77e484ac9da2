//! Manager-level checks: what a request sees through [`SessionManager`], the same whatever
//! keeps the data ([`Storage::Cookie`] or a server-side store).
//!
//! Each check builds its manager with [`manager`] (fixed [`settings`], the given clock) and
//! plays a browser: it keeps the cookie a response set and sends it back. Checks that only
//! a server-side store can pass (a destroyed or rotated-away cookie replayed) say so.
//!
//! ```
//! use std::sync::Arc;
//! use session_runtime::conformance::{self, manager as checks};
//! use session_runtime::store::{MemoryStore, Storage};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! checks::run_all(&Storage::Cookie, &conformance::clock()).await;
//! checks::run_all(&Storage::Server(Arc::new(MemoryStore::new())), &conformance::clock()).await;
//! # });
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use session_spec::Settings;
use session_spec::settings::Lifetime;

use crate::keys::Keys;
use crate::manager::SessionManager;
use crate::session::Session;
use crate::store::{Record, SessionStore, Storage, StoreKey};
use crate::time::{Clock, MockClock, Timestamp};

// `CHECKS`, `run_all` and `run_check`, from the one list of checks in
// `manager_conformance_tests!`.
crate::manager_conformance_tests!(@checks items []);

/// How many trials [`logout_racing_rotation`] runs per case: 10, or the value of the
/// `SESSION_RACE_TRIALS` environment variable (`SESSION_RACE_TRIALS=1000` for the figures
/// in the notes).
pub fn race_trials() -> usize {
    std::env::var("SESSION_RACE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// The lifetime the checks configure: 30 minutes.
pub const LIFETIME: i64 = 30 * 60;

/// The settings of the checks' managers: plain HTTP (so the cookie is not `Secure`), a
/// permanent cookie, a 30-minute lifetime ([`LIFETIME`]), no refresh, idle limit or
/// rotation.
pub fn settings() -> Settings {
    Settings {
        secure: false,
        permanent: true,
        expiration_time: Lifetime::from_seconds(LIFETIME),
        ..Settings::default()
    }
}

/// A manager on `storage` with [`settings`], fresh keys and `clock`.
///
/// # Panics
/// When the manager refuses the settings (a bug in these checks).
pub fn manager(storage: &Storage, clock: &MockClock) -> SessionManager {
    storage
        .manager(settings(), Keys::generate())
        .expect("the conformance settings are valid")
        .with_clock(Arc::new(clock.clone()))
}

/// A store wrapper counting writes (create, save, delete), so checks can assert that a
/// request cost none.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn SessionStore>,
    writes: AtomicU64,
}

#[async_trait::async_trait]
impl SessionStore for Counting {
    async fn create(&self, key: &StoreKey, record: &Record) -> crate::store::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.create(key, record).await
    }
    async fn load(&self, key: &StoreKey, now: Timestamp) -> crate::store::Result<Option<Record>> {
        self.inner.load(key, now).await
    }
    async fn save(&self, key: &StoreKey, record: &Record) -> crate::store::Result<u64> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.save(key, record).await
    }
    async fn rotate(&self, rotation: &crate::store::Rotation<'_>) -> crate::store::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.rotate(rotation).await
    }

    async fn delete(&self, key: &StoreKey) -> crate::store::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }
    async fn purge_expired(&self, now: Timestamp) -> crate::store::Result<u64> {
        self.inner.purge_expired(now).await
    }
}

/// The browser side of a check: one cookie jar and the manager.
struct Browser {
    manager: SessionManager,
    /// `name=value` of the session cookie the browser holds.
    cookie: Option<String>,
    /// The server-side store, counted, when there is one.
    store: Option<Arc<Counting>>,
}

impl Browser {
    fn new(storage: &Storage, clock: &MockClock) -> Self {
        let (storage, store) = match storage {
            Storage::Cookie => (Storage::Cookie, None),
            Storage::Server(inner) => {
                let counting = Arc::new(Counting {
                    inner: inner.clone(),
                    writes: AtomicU64::new(0),
                });
                (Storage::Server(counting.clone()), Some(counting))
            }
        };
        Self {
            manager: manager(&storage, clock),
            cookie: None,
            store,
        }
    }

    fn writes(&self) -> u64 {
        self.store
            .as_ref()
            .map_or(0, |s| s.writes.load(Ordering::SeqCst))
    }

    /// Loads the session the browser's cookie names.
    async fn load(&self, check: &str) -> Session {
        self.load_with(check, self.cookie.as_deref()).await
    }

    async fn load_with(&self, check: &str, cookie: Option<&str>) -> Session {
        match self.manager.load(cookie).await {
            Ok(session) => session,
            Err(error) => {
                panic!("manager conformance check `{check}` failed: load returned {error:?}")
            }
        }
    }

    /// Commits and applies the `Set-Cookie` headers to the jar; returns them.
    async fn commit(&mut self, check: &str, session: &Session, server_error: bool) -> Vec<String> {
        let headers = match self.manager.commit(session, server_error).await {
            Ok(headers) => headers,
            Err(error) => {
                panic!("manager conformance check `{check}` failed: commit returned {error:?}")
            }
        };
        let name = self.manager.cookie_name().to_owned();
        for header in &headers {
            let pair = header.split(';').next().unwrap_or_default().trim();
            if pair.split('=').next() != Some(name.as_str()) {
                continue;
            }
            if header.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair.to_owned());
            }
        }
        headers
    }
}

macro_rules! fail {
    ($check:expr, $($arg:tt)+) => {
        panic!("manager conformance check `{}` failed: {}", $check, format_args!($($arg)+))
    };
}

fn set(check: &str, session: &Session, key: &str, value: serde_json::Value) {
    if let Err(error) = session.set(key, &value) {
        panic!("manager conformance check `{check}` failed: set `{key}`: {error}");
    }
}

/// The data the checks store: strings, numbers, nesting, non-ASCII text.
fn sample() -> serde_json::Map<String, serde_json::Value> {
    let value = json!({
        "user": "ada",
        "cart": [1, 2, 3],
        "nested": {"a": {"b": null, "c": [true, false]}},
        "text": "é 🦀 \"quoted\" ; = , \\ \n",
        "big": 9_007_199_254_740_993_u64,
        "float": 0.1,
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

impl Browser {
    /// A browser holding the cookie of a session started with [`start`].
    async fn started(check: &str, storage: &Storage, clock: &MockClock) -> Self {
        let mut browser = Self::new(storage, clock);
        start(check, &mut browser).await;
        browser
    }
}

/// A session without data: what a request gets without a valid cookie.
fn is_fresh(session: &Session) -> bool {
    session.is_new() && session.get_all().is_empty()
}

/// Starts a session holding [`sample`] data and commits it; the browser holds its cookie.
async fn start(check: &str, browser: &mut Browser) -> Session {
    let session = browser.load(check).await;
    for (key, value) in sample() {
        set(check, &session, &key, value);
    }
    let headers = browser.commit(check, &session, false).await;
    if headers.len() != 1 || browser.cookie.is_none() {
        panic!(
            "manager conformance check `{check}` failed: a new session with data set {headers:?}"
        );
    }
    session
}

/// Data set by one request comes back exactly in the next, through one `Set-Cookie`; a
/// fresh session without data sets no cookie and stores nothing.
pub async fn roundtrip(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "roundtrip";
    let mut browser = Browser::new(storage, clock);
    let session = browser.load(CHECK).await;
    if !is_fresh(&session) {
        fail!(
            CHECK,
            "a request without a cookie got {:?}",
            session.get_all()
        );
    }
    let headers = browser.commit(CHECK, &session, false).await;
    if !headers.is_empty() || browser.writes() != 0 {
        fail!(
            CHECK,
            "an untouched fresh session set {headers:?} and wrote {} times",
            browser.writes()
        );
    }
    start(CHECK, &mut browser).await;
    let cookie = browser.cookie.clone().unwrap_or_default();
    if !cookie.starts_with(&format!("{}=", browser.manager.cookie_name())) {
        fail!(CHECK, "the cookie is {cookie:?}");
    }
    let loaded = browser.load(CHECK).await;
    if loaded.get_all() != sample() {
        fail!(
            CHECK,
            "the next request sees {:?}, expected {:?}",
            loaded.get_all(),
            sample()
        );
    }
    if loaded.is_new() {
        fail!(CHECK, "the stored session loads as new");
    }
    // A change and another roundtrip.
    set(CHECK, &loaded, "user", json!("grace"));
    loaded.delete("cart");
    browser.commit(CHECK, &loaded, false).await;
    let again = browser.load(CHECK).await;
    let mut expected = sample();
    expected.insert("user".into(), json!("grace"));
    expected.remove("cart");
    if again.get_all() != expected {
        fail!(
            CHECK,
            "after a change the next request sees {:?}",
            again.get_all()
        );
    }
}

/// A request that reads its session and changes nothing sets no cookie and writes nothing.
pub async fn unchanged_request_writes_nothing(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "unchanged_request_writes_nothing";
    let mut browser = Browser::started(CHECK, storage, clock).await;
    let writes = browser.writes();
    clock.advance(60);
    let session = browser.load(CHECK).await;
    let _ = session.get_all();
    let headers = browser.commit(CHECK, &session, false).await;
    if !headers.is_empty() || browser.writes() != writes {
        fail!(
            CHECK,
            "a read-only request set {headers:?} and wrote {} times",
            browser.writes() - writes
        );
    }
}

/// A session set at T0 is there at T0 + lifetime - 1 and gone (a fresh session) at
/// T0 + lifetime and after, whatever the cookie says.
pub async fn expiry(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "expiry";
    let mut browser = Browser::new(storage, clock);
    let start_time = clock.now();
    start(CHECK, &mut browser).await;
    for (offset, live) in [
        (LIFETIME - 1, true),
        (LIFETIME, false),
        (LIFETIME + 1, false),
    ] {
        clock.set(start_time.add_seconds(offset));
        let session = browser.load(CHECK).await;
        let has_data = session.get_all() == sample();
        if has_data != live || session.is_new() == live {
            fail!(
                CHECK,
                "at T0{offset:+} (lifetime {LIFETIME}s) the session holds {:?} (new: {})",
                session.get_all(),
                session.is_new()
            );
        }
    }
}

/// `destroy` sends a removal cookie; the browser then has a fresh session. With a
/// server-side store the record is deleted, so the old cookie, replayed, is refused too.
pub async fn destroy(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "destroy";
    let mut browser = Browser::started(CHECK, storage, clock).await;
    let old_cookie = browser.cookie.clone();
    let session = browser.load(CHECK).await;
    let id = session.id();
    session.destroy();
    let headers = browser.commit(CHECK, &session, false).await;
    if !headers.iter().any(|h| h.contains("Max-Age=0")) || browser.cookie.is_some() {
        fail!(CHECK, "destroy sent {headers:?}, expected a removal cookie");
    }
    let fresh = browser.load(CHECK).await;
    if !is_fresh(&fresh) {
        fail!(
            CHECK,
            "after destroy the browser's session holds {:?}",
            fresh.get_all()
        );
    }
    if let (Some(store), Some(id)) = (&browser.store, id) {
        let replayed = browser.load_with(CHECK, old_cookie.as_deref()).await;
        if !is_fresh(&replayed) {
            let data = replayed.get_all();
            fail!(
                CHECK,
                "the destroyed session's cookie, replayed, loads {data:?}"
            );
        }
        if let Some(record) = stored(CHECK, store, &id.store_key(), clock).await {
            let size = record.payload.len();
            fail!(
                CHECK,
                "the destroyed session's record is still stored ({size} bytes)"
            );
        }
    }
}

/// `cycle` issues a new id (a new cookie value) and keeps the data. With a server-side
/// store the old id's record no longer holds the session, so the old cookie, replayed, is
/// refused.
pub async fn cycle(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "cycle";
    let mut browser = Browser::started(CHECK, storage, clock).await;
    let old_cookie = browser.cookie.clone();
    let session = browser.load(CHECK).await;
    let old_id = session.id();
    session.cycle();
    let headers = browser.commit(CHECK, &session, false).await;
    if headers.len() != 1 || browser.cookie == old_cookie || browser.cookie.is_none() {
        fail!(CHECK, "cycle sent {headers:?}, expected one new cookie");
    }
    let cycled = browser.load(CHECK).await;
    if cycled.get_all() != sample() {
        fail!(
            CHECK,
            "after cycle the session holds {:?}",
            cycled.get_all()
        );
    }
    if cycled.id().is_some() && cycled.id() == old_id {
        fail!(CHECK, "the id did not change");
    }
    if let (Some(store), Some(old_id)) = (&browser.store, old_id) {
        let replayed = browser.load_with(CHECK, old_cookie.as_deref()).await;
        if !replayed.get_all().is_empty() {
            fail!(
                CHECK,
                "the old id's cookie, replayed, loads {:?}",
                replayed.get_all()
            );
        }
        // The old id may keep a tombstone (so that a logout racing the cycle still ends
        // the new session), never the data.
        let old = stored(CHECK, store, &old_id.store_key(), clock).await;
        if old.is_some_and(|record| record.payload.windows(5).any(|w| w == b"\"ada\"")) {
            fail!(CHECK, "the old id's record still holds the session");
        }
    }
}

/// A cookie changed in any way, cut short, made up, or empty gives a fresh session (no
/// error, no panic, nothing adopted).
pub async fn bad_cookies_give_fresh_sessions(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "bad_cookies_give_fresh_sessions";
    let browser = Browser::started(CHECK, storage, clock).await;
    let cookie = browser.cookie.clone().unwrap_or_default();
    let (name, value) = cookie.split_once('=').unwrap_or_default();
    let mut bad: Vec<String> = Vec::new();
    // A different character at a spread of positions.
    let step = (value.len() / 16).max(1);
    for i in (0..value.len()).step_by(step) {
        let mut chars: Vec<char> = value.chars().collect();
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        bad.push(chars.into_iter().collect());
    }
    bad.push(value[..value.len() / 2].to_owned());
    bad.push(String::new());
    bad.push("../../etc/passwd".to_owned());
    bad.push("A".repeat(value.len()));
    bad.push(format!("{value}x"));
    for bad_value in &bad {
        let header = format!("{name}={bad_value}");
        let session = browser.load_with(CHECK, Some(&header)).await;
        if !is_fresh(&session) {
            fail!(
                CHECK,
                "the cookie {header:?} loaded {:?}",
                session.get_all()
            );
        }
    }
}

/// Changes made by a request whose response is a server error are not saved and set no
/// cookie.
pub async fn server_error_discards_changes(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "server_error_discards_changes";
    let mut browser = Browser::started(CHECK, storage, clock).await;
    let writes = browser.writes();
    let session = browser.load(CHECK).await;
    set(CHECK, &session, "user", json!("mallory"));
    let headers = browser.commit(CHECK, &session, true).await;
    if !headers.is_empty() || browser.writes() != writes {
        fail!(
            CHECK,
            "a failed response set {headers:?} and wrote {} times",
            browser.writes() - writes
        );
    }
    let next = browser.load(CHECK).await;
    if next.get_all() != sample() {
        fail!(
            CHECK,
            "after a failed response the session holds {:?}",
            next.get_all()
        );
    }
}

/// A manager on `storage` with [`settings`] and periodic rotation every `interval`
/// seconds.
fn rotating_manager(storage: &Storage, clock: &MockClock, interval: i64) -> SessionManager {
    let settings = Settings {
        rotation_interval: Some(Lifetime::from_seconds(interval)),
        ..settings()
    };
    storage
        .manager(settings, Keys::generate())
        .expect("the conformance settings are valid")
        .with_clock(Arc::new(clock.clone()))
}

/// The `name=value` pair of the session cookie a commit set, unless it removed it.
fn set_cookie_pair(headers: &[String]) -> Option<String> {
    let header = headers.first()?;
    if header.contains("Max-Age=0") {
        return None;
    }
    Some(
        header
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    )
}

/// The record `store` holds under `key` now; fails `check` when the store fails.
async fn stored(
    check: &str,
    store: &Counting,
    key: &StoreKey,
    clock: &MockClock,
) -> Option<Record> {
    match store.inner.load(key, clock.now()).await {
        Ok(record) => record,
        Err(error) => fail!(check, "a load from the store failed: {error:?}"),
    }
}

/// Loads the session `cookie` (`name=value`) names; fails `check` when the load fails.
async fn load_cookie(check: &str, manager: &SessionManager, cookie: &str) -> Session {
    manager
        .load([cookie])
        .await
        .unwrap_or_else(|e| panic!("manager conformance check `{check}` failed: load: {e:?}"))
}

/// Starts a session holding `user = "ada"`; returns its cookie.
async fn begin(check: &str, manager: &SessionManager) -> String {
    let session = manager
        .load(None::<&str>)
        .await
        .unwrap_or_else(|e| panic!("manager conformance check `{check}` failed: load: {e:?}"));
    set(check, &session, "user", json!("ada"));
    let headers = manager
        .commit(&session, false)
        .await
        .unwrap_or_else(|e| panic!("manager conformance check `{check}` failed: commit: {e:?}"));
    set_cookie_pair(&headers)
        .unwrap_or_else(|| panic!("manager conformance check `{check}` failed: no cookie set"))
}

/// A logout racing a request that rotates the session (a `cycle`, or a periodic rotation
/// that is due, with and without a change of its own), committed in either order and
/// concurrently: after both, no cookie either response set, nor the old one, opens the
/// session again. Nothing destroyed comes back. Server-side stores only;
/// [`race_trials`] trials per case.
pub async fn logout_racing_rotation(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "logout_racing_rotation";
    if matches!(storage, Storage::Cookie) {
        return;
    }
    let manager = rotating_manager(storage, clock, 60);
    let mut resurrected = 0;
    let mut cases = 0;
    for trial in 0..race_trials() {
        for rotation in ["cycle", "periodic", "periodic with a change"] {
            for order in ["logout first", "rotation first", "concurrently"] {
                cases += 1;
                let cookie = begin(CHECK, &manager).await;
                if rotation != "cycle" {
                    clock.advance(60);
                }
                let load = async |cookie: String| load_cookie(CHECK, &manager, &cookie).await;
                let logout = load(cookie.clone()).await;
                let rotating = load(cookie.clone()).await;
                logout.destroy();
                match rotation {
                    "cycle" => rotating.cycle(),
                    "periodic" => {
                        let _ = rotating.get::<String>("user");
                    }
                    _ => set(CHECK, &rotating, "cart", json!([trial])),
                }
                let (logout_result, rotation_result) = match order {
                    "logout first" => {
                        let a = manager.commit(&logout, false).await;
                        (a, manager.commit(&rotating, false).await)
                    }
                    "rotation first" => {
                        let b = manager.commit(&rotating, false).await;
                        (manager.commit(&logout, false).await, b)
                    }
                    _ => {
                        let mut results = super::join_all(vec![
                            manager.commit(&logout, false),
                            manager.commit(&rotating, false),
                        ])
                        .await;
                        let b = results.pop().expect("two results");
                        (results.pop().expect("two results"), b)
                    }
                };
                if let Err(error) = &logout_result {
                    fail!(CHECK, "{rotation}, {order}: the logout failed: {error:?}");
                }
                let mut cookies = vec![cookie];
                if let Ok(headers) = &rotation_result {
                    cookies.extend(set_cookie_pair(headers));
                }
                for cookie in cookies {
                    if load(cookie).await.get::<String>("user").is_some() {
                        resurrected += 1;
                        break;
                    }
                }
            }
        }
    }
    if resurrected > 0 {
        fail!(
            CHECK,
            "{resurrected} of {cases} logged-out sessions came back"
        );
    }
}

/// How many requests the concurrency checks race.
const CONCURRENT: usize = 50;

/// Appends with [`Session::update`] from 50 concurrent requests of one session, with and
/// without a periodic rotation due: every commit succeeds, every item is kept, and every
/// response names the same session (no fork). Server-side stores only.
pub async fn concurrent_appends_all_land(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "concurrent_appends_all_land";
    if matches!(storage, Storage::Cookie) {
        return;
    }
    let manager = rotating_manager(storage, clock, 600);
    for rotation_due in [false, true] {
        let cookie = begin(CHECK, &manager).await;
        if rotation_due {
            clock.advance(600);
        }
        let mut sessions = Vec::new();
        for i in 0..CONCURRENT {
            let session = load_cookie(CHECK, &manager, &cookie).await;
            let pushed = session.update(move |s| {
                let mut items = s.get::<Vec<usize>>("items").unwrap_or_default();
                items.push(i);
                s.set("items", &items).map_err(|e| {
                    crate::ValidationError::new("items", crate::Rule::Type, e.to_string())
                })
            });
            if let Err(error) = pushed {
                fail!(CHECK, "update failed: {error}");
            }
            sessions.push(session);
        }
        let results =
            super::join_all(sessions.iter().map(|s| manager.commit(s, false)).collect()).await;
        let mut cookies = std::collections::BTreeSet::new();
        for result in results {
            match result {
                Ok(headers) => cookies.extend(set_cookie_pair(&headers)),
                Err(error) => fail!(
                    CHECK,
                    "rotation due: {rotation_due}: a commit failed: {error:?}"
                ),
            }
        }
        if cookies.len() != 1 {
            fail!(
                CHECK,
                "rotation due: {rotation_due}: the responses set {} different cookies, expected one session",
                cookies.len()
            );
        }
        let last = cookies.pop_first().unwrap_or_default();
        let session = load_cookie(CHECK, &manager, &last).await;
        let mut items = session.get::<Vec<usize>>("items").unwrap_or_default();
        items.sort_unstable();
        if items != (0..CONCURRENT).collect::<Vec<_>>() {
            fail!(
                CHECK,
                "rotation due: {rotation_due}: {} of {CONCURRENT} items kept: {items:?}",
                items.len()
            );
        }
    }
}

/// 64 concurrent read-modify-write increments of one counter (`get` then `set`): each is
/// either saved or refused with a conflict, never lost: the final value plus the refused
/// requests is 64. Server-side stores only.
pub async fn concurrent_increments_lose_nothing(storage: &Storage, clock: &MockClock) {
    const CHECK: &str = "concurrent_increments_lose_nothing";
    const RACERS: usize = 64;
    if matches!(storage, Storage::Cookie) {
        return;
    }
    let manager = manager(storage, clock);
    let cookie = begin(CHECK, &manager).await;
    let mut sessions = Vec::new();
    for _ in 0..RACERS {
        let session = load_cookie(CHECK, &manager, &cookie).await;
        let n = session.get::<u64>("n").unwrap_or(0);
        set(CHECK, &session, "n", json!(n + 1));
        sessions.push(session);
    }
    let results =
        super::join_all(sessions.iter().map(|s| manager.commit(s, false)).collect()).await;
    let mut refused = 0;
    for result in results {
        match result {
            Ok(_) => {}
            Err(crate::Error::Store(crate::StoreError::Conflict { .. })) => refused += 1,
            Err(error) => fail!(
                CHECK,
                "a commit failed otherwise than with a conflict: {error:?}"
            ),
        }
    }
    let session = load_cookie(CHECK, &manager, &cookie).await;
    let n = session.get::<u64>("n").unwrap_or(0);
    if n as usize + refused != RACERS {
        fail!(
            CHECK,
            "final value {n} plus {refused} refused is not {RACERS}: an increment was lost"
        );
    }
}
