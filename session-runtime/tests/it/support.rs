//! Shared test fixtures: a counting store, a browser cookie jar, hand-written schemas.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use session_runtime::__private::{decode, finish, retain_keys};
use session_runtime::keys::Keys;
use session_runtime::store::memory::MemoryStore;
use session_runtime::{
    Map, MockClock, Record, SessionManager, SessionSchema, SessionStore, Settings, StoreError,
    StoreKey, Timestamp, ValidationErrors,
};

/// The mock clock's start: 2023-11-14 22:13:20 UTC.
pub(crate) const T0: i64 = 1_700_000_000;

/// The real [`MemoryStore`] behind a wrapper that counts every write, so tests can assert
/// "no write happened", and that can be switched "down" to fail every call.
#[derive(Debug, Default)]
pub(crate) struct CountingStore {
    inner: MemoryStore,
    /// `create` + `save` + `delete` calls.
    pub writes: AtomicUsize,
    /// `create` calls.
    pub creates: AtomicUsize,
    /// When set, every call fails with `StoreError::Unavailable`.
    pub down: AtomicBool,
    /// When set, every write fails as a full disk does (a backend error, not retryable);
    /// loads still work.
    pub full: AtomicBool,
    /// This many next `create` calls report `StoreError::Exists` (an id collision).
    pub collide: AtomicUsize,
    /// When set, the store does not lend its records (`SessionStore::lend`): the manager
    /// loads a copy, as it does from a store that reads its records from elsewhere.
    pub no_lend: AtomicBool,
}

/// Far in the past: `load` at this time sees every record, expired or not.
const DAWN: Timestamp = Timestamp(i64::MIN);

impl CountingStore {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    pub(crate) async fn contains(&self, key: &StoreKey) -> bool {
        self.inner.load(key, DAWN).await.unwrap().is_some()
    }

    /// Replaces a record's payload behind the manager's back (a corrupt record).
    pub(crate) async fn corrupt(&self, key: &StoreKey, payload: &[u8]) {
        let record = self.inner.load(key, DAWN).await.unwrap().unwrap();
        let record = Record {
            payload: payload.to_vec(),
            ..record
        };
        self.inner.save(key, &record).await.unwrap();
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("test store is down".into()))
        } else {
            Ok(())
        }
    }

    fn check_write(&self) -> Result<(), StoreError> {
        self.check()?;
        if self.full.load(Ordering::SeqCst) {
            return Err(StoreError::backend(std::io::Error::other(
                "No space left on device (os error 28)",
            )));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SessionStore for CountingStore {
    async fn create(&self, key: &StoreKey, record: &Record) -> Result<(), StoreError> {
        self.check_write()?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.creates.fetch_add(1, Ordering::SeqCst);
        let collide = self.collide.load(Ordering::SeqCst);
        if collide > 0 {
            self.collide.store(collide - 1, Ordering::SeqCst);
            return Err(StoreError::Exists);
        }
        self.inner.create(key, record).await
    }

    async fn load(&self, key: &StoreKey, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.check()?;
        self.inner.load(key, now).await
    }

    fn lend(&self, key: &StoreKey, now: Timestamp, read: &mut dyn FnMut(Option<&Record>)) -> bool {
        // A store that is down lends nothing: `load` then fails as it should.
        if self.down.load(Ordering::SeqCst) || self.no_lend.load(Ordering::SeqCst) {
            return false;
        }
        self.inner.lend(key, now, read)
    }

    async fn save(&self, key: &StoreKey, record: &Record) -> Result<u64, StoreError> {
        self.check_write()?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.save(key, record).await
    }

    async fn rotate(
        &self,
        rotation: &session_runtime::store::Rotation<'_>,
    ) -> Result<(), StoreError> {
        self.check_write()?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        if rotation.new.is_some() {
            self.creates.fetch_add(1, Ordering::SeqCst);
            let collide = self.collide.load(Ordering::SeqCst);
            if collide > 0 {
                self.collide.store(collide - 1, Ordering::SeqCst);
                return Err(StoreError::Exists);
            }
        }
        self.inner.rotate(rotation).await
    }

    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        self.check_write()?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.purge_expired(now).await
    }
}

/// Which backend a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Cookie,
    Store,
}

pub(crate) const BOTH: [Kind; 2] = [Kind::Cookie, Kind::Store];

/// A manager, its clock, its store (unused by the cookie backend) and a browser.
pub(crate) struct Harness<S: SessionSchema = session_runtime::Dynamic> {
    pub clock: MockClock,
    pub store: Arc<CountingStore>,
    pub manager: SessionManager<S>,
    pub jar: Option<String>,
}

impl Harness {
    /// A harness on `kind` with `settings` whose jar holds the cookie of a session where
    /// `user` is "ada".
    pub(crate) async fn signed_in(kind: Kind, settings: Settings) -> Self {
        let mut h = Self::new(kind, settings);
        h.request(|s: &session_runtime::Session| s.set("user", "ada").unwrap())
            .await;
        h
    }
}

/// Settings usable over plain HTTP in tests, with a short lifetime.
pub(crate) fn settings() -> Settings {
    Settings {
        secure: false,
        expiration_time: session_runtime::spec::Lifetime::from_seconds(3600),
        ..Settings::default()
    }
}

impl<S: SessionSchema> Harness<S> {
    pub(crate) fn new(kind: Kind, settings: Settings) -> Self {
        Self::with_keys(kind, settings, Keys::generate())
    }

    pub(crate) fn with_keys(kind: Kind, settings: Settings, keys: Keys) -> Self {
        let clock = MockClock::new(Timestamp(T0));
        let store = CountingStore::new();
        let manager = match kind {
            Kind::Cookie => SessionManager::cookie(settings, keys),
            Kind::Store => SessionManager::with_store(settings, store.clone()),
        }
        .expect("valid test settings")
        .with_clock(Arc::new(clock.clone()));
        Self {
            clock,
            store,
            manager,
            jar: None,
        }
    }

    /// One request: loads with the jar's cookie, runs `handler`, commits (as a 5xx when
    /// `server_error`), stores the cookie the response set, returns the `Set-Cookie`s.
    pub(crate) async fn request_with(
        &mut self,
        server_error: bool,
        handler: impl FnOnce(&session_runtime::Session<S>),
    ) -> Vec<String> {
        let header = self
            .jar
            .as_ref()
            .map(|v| format!("{}={v}", self.manager.cookie_name()));
        let session = self.manager.load(header.as_deref()).await.expect("load");
        handler(&session);
        let set = self
            .manager
            .commit(&session, server_error)
            .await
            .expect("commit");
        for c in &set {
            self.accept(c);
        }
        set
    }

    pub(crate) async fn request(
        &mut self,
        handler: impl FnOnce(&session_runtime::Session<S>),
    ) -> Vec<String> {
        self.request_with(false, handler).await
    }

    /// Loads the session the jar points at, without committing.
    pub(crate) async fn peek(&self) -> session_runtime::Session<S> {
        let header = self
            .jar
            .as_ref()
            .map(|v| format!("{}={v}", self.manager.cookie_name()));
        self.manager.load(header.as_deref()).await.expect("load")
    }

    /// The `Cookie` header a browser sends with the jar's cookie (`session=...`).
    pub(crate) fn cookie_header(&self) -> String {
        format!("session={}", self.jar.clone().expect("a cookie in the jar"))
    }

    /// Stores a `Set-Cookie` as a browser would (a removal clears the jar).
    pub(crate) fn accept(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap();
        let (_, value) = pair.split_once('=').unwrap();
        if set_cookie.contains("Max-Age=0;") || value.is_empty() {
            self.jar = None;
        } else {
            self.jar = Some(value.to_owned());
        }
    }
}

/// The value of a `Set-Cookie` string.
pub(crate) fn value_of(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
}

/// `Set-Cookie` with the value replaced by `<v>`, for exact comparisons.
pub(crate) fn shape(set_cookie: &str) -> String {
    let (pair, rest) = set_cookie.split_once(';').unwrap_or((set_cookie, ""));
    let (name, value) = pair.split_once('=').unwrap();
    let value = if value.is_empty() { "" } else { "<v>" };
    format!("{name}={value};{rest}")
}

/// Version 1 of a typed schema: a `count`.
pub(crate) struct ShopV1;
/// Version 2: adds `theme` with a default.
pub(crate) struct ShopV2;
/// Version 3: `count` retyped to a string, no default.
pub(crate) struct ShopV3;

impl SessionSchema for ShopV1 {
    const NAME: &'static str = "shop";
    const VERSION: u32 = 1;
    const KEYS: &'static [&'static str] = &["count"];
    const SENSITIVE: &'static [&'static str] = &[];
    type Data = Map;
    fn settings() -> Settings {
        settings()
    }
    fn upgrade(data: &mut Map) -> Result<(), ValidationErrors> {
        retain_keys(data, Self::KEYS);
        let mut errors = Vec::new();
        if let Some(v) = data.get("count") {
            if let Err(e) = decode::<u32>("count", v) {
                errors.push(e);
            }
        }
        finish(errors)
    }
}

impl SessionSchema for ShopV2 {
    const NAME: &'static str = "shop";
    const VERSION: u32 = 2;
    const KEYS: &'static [&'static str] = &["count", "theme"];
    const SENSITIVE: &'static [&'static str] = &[];
    type Data = Map;
    fn settings() -> Settings {
        settings()
    }
    fn upgrade(data: &mut Map) -> Result<(), ValidationErrors> {
        ShopV1::upgrade(&mut data.clone())?;
        retain_keys(data, Self::KEYS);
        data.entry("theme").or_insert_with(|| "light".into());
        let mut errors = Vec::new();
        if let Err(e) = decode::<String>("theme", &data["theme"]) {
            errors.push(e);
        }
        finish(errors)
    }
}

impl SessionSchema for ShopV3 {
    const NAME: &'static str = "shop";
    const VERSION: u32 = 3;
    const KEYS: &'static [&'static str] = &["count"];
    const SENSITIVE: &'static [&'static str] = &[];
    type Data = Map;
    fn settings() -> Settings {
        settings()
    }
    fn upgrade(data: &mut Map) -> Result<(), ValidationErrors> {
        retain_keys(data, Self::KEYS);
        let mut errors = Vec::new();
        match data.get("count") {
            Some(v) => {
                if let Err(e) = decode::<String>("count", v) {
                    errors.push(e);
                }
            }
            None => errors.push(session_runtime::ValidationError::new(
                "count",
                session_runtime::Rule::Required,
                "missing",
            )),
        }
        finish(errors)
    }
}
