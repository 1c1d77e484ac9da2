//! The response rules every framework adapter shares, without any framework's types.
//!
//! The tower layer (`layer::SessionLayer`, feature `axum`) and the
//! actix-web middleware (`actix::SessionMiddleware`, feature `actix`) are thin: each
//! turns its framework's request and response into the calls below and back. Everything
//! that decides *what* is answered lives here, once: when to commit, what a store failure
//! becomes, which headers a response gets and with what values.
//!
//! # What an adapter for another framework must do
//!
//! 1. **Before the handler**, call [`SessionManager::begin`] with every value of the
//!    request's `Cookie` headers (raw bytes, in order).
//!    - On `Err(failure)`: do not run the handler. Answer with
//!      [`Failure::status`], an **empty body**, and a `Retry-After` header with
//!      [`Failure::retry_after`] when that is `Some`. (The failure is logged already.)
//! 2. Put a clone of [`Exchange::session`] where the framework's handlers find it (request
//!    extensions or local data), and give handlers an extractor for `Session<S>` that
//!    answers `500` with a log line naming the schema when the session is missing (a
//!    wiring mistake: no adapter, or one for another schema).
//! 3. **Run the handler.** If the framework reports an error instead of a response (one it
//!    turns into a 5xx later), drop the [`Exchange`] without finishing it: nothing is
//!    committed.
//! 4. **After the handler**, call [`Exchange::finish`] with the response's status code.
//!    - On `Err(failure)`: replace the handler's response (its headers and body are not
//!      sent) with the empty one of step 1.
//!    - On `Ok(headers)`, add to the handler's response:
//!      - one `Set-Cookie` header per value of [`ResponseHeaders::set_cookie`], in order,
//!        *appended* (never replacing the application's own cookies);
//!      - `Vary: Cookie` ([`VARY_COOKIE`]), appended, when
//!        [`ResponseHeaders::add_vary`] says so given the response's existing `Vary`
//!        values;
//!      - `Cache-Control: private` ([`CACHE_CONTROL_PRIVATE`]), when
//!        [`ResponseHeaders::add_cache_control`] says so given whether the response has a
//!        `Cache-Control` of its own (an application's own value is left alone).
//!
//!      Should the framework refuse one of these values as a header (it cannot happen:
//!      [`Exchange::finish`] checks them), answer with [`Failure::invalid_header`]'s empty
//!      response instead of panicking.
//! 5. Never panic on a request path, and never read the session after `finish`.
//!
//! The rules behind those steps, as [`Exchange::finish`] applies them:
//!
//! - a `5xx` response commits nothing (the handler's changes, a `cycle` or a `destroy` are
//!   dropped, see [`SessionManager::commit`]);
//! - a store failure or a cookie too large to send is logged at `error` and becomes an
//!   empty `500`, or an empty `503` with `Retry-After: 1` when retrying can help
//!   ([`Error::is_retryable`]: store unavailable, a concurrent change);
//! - a login refused at the principal's `max_sessions` ([`Error::SessionLimit`]) becomes an
//!   empty `409 Conflict`, logged at `info`;
//! - when the handler changed nothing and only a refresh (sliding expiry, activity
//!   bookkeeping, a re-issue) was owed, a failed commit is logged at `warn` and the
//!   handler's response stands, without a cookie: a full disk costs the sliding expiry,
//!   not the page;
//! - a response to a request that carried a session, or that sets a session cookie, varies
//!   by `Cookie`; one that sets a session cookie is `private` unless the application said
//!   otherwise.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use session_runtime::{SessionManager, Settings, keys::Keys};
//! let manager: SessionManager = SessionManager::cookie(Settings::default(), Keys::generate())?;
//!
//! // 1. before the handler: the request's `Cookie` headers
//! let exchange = manager.begin(["theme=dark"]).await?;
//! // 2. and 3. the handler uses the session
//! exchange.session().set("user", "ada")?;
//! // 4. after the handler: its status, then the headers to add
//! let headers = exchange.finish(200).await?;
//! assert_eq!(headers.set_cookie().len(), 1);
//! assert!(headers.add_vary(None::<&[u8]>));
//! assert!(!headers.add_vary([&b"Accept-Encoding, cookie"[..]]));
//! assert!(!headers.add_vary([&b"*"[..]]));
//! assert!(headers.add_cache_control(false));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use crate::error::Error;
use crate::manager::SessionManager;
use crate::schema::SessionSchema;
use crate::session::Session;
#[cfg(feature = "axum")]
use crate::time::Timestamp;

/// The value of the `Vary` header a session-dependent response gets.
pub const VARY_COOKIE: &str = "Cookie";

/// The value of the `Cache-Control` header a response that sets a session cookie gets
/// when it has none of its own.
pub const CACHE_CONTROL_PRIVATE: &str = "private";

/// The `Retry-After` of a `503`, in seconds.
pub const RETRY_AFTER_SECONDS: &str = "1";

impl<S: SessionSchema> SessionManager<S> {
    /// An adapter's first step: loads the session of a request from its `Cookie` header
    /// values (see the [adapter checklist](crate::adapter)).
    ///
    /// # Errors
    /// The empty response to send instead of running the handler, when the store fails
    /// (logged here).
    pub async fn begin<I>(&self, cookie_headers: I) -> Result<Exchange<S>, Failure>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        match self.load(cookie_headers).await {
            Ok(session) => Ok(Exchange {
                manager: self.clone(),
                had_session: !session.is_new(),
                session,
            }),
            Err(e) => Err(Failure::from_error(&e, Stage::Loading)),
        }
    }
}

impl<S: SessionSchema> SessionManager<S> {
    /// [`begin`](Self::begin) when the session opens without waiting for I/O (a store that
    /// lends its records, such as the memory store; the cookie backend without principals):
    /// `None` when it would have to wait, and then the adapter calls `begin` (nothing was
    /// written, nothing is owed). Lets an adapter hand the request to the inner service at
    /// once, instead of keeping it (and a clone of the service) for later.
    /// `cookie_headers` is called only when the load is tried: a store that makes every
    /// load wait (a database) costs no header lookup here.
    #[cfg(feature = "axum")]
    pub(crate) fn begin_now<I>(
        &self,
        cookie_headers: impl FnOnce() -> I,
    ) -> Option<Result<Exchange<S>, Failure>>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        use std::future::Future as _;
        use std::task::{Context, Poll, Waker};

        if !self.may_load_now() {
            return None;
        }
        // A load that may not wait never waits: one poll gives its answer.
        let load = std::pin::pin!(self.load_in(cookie_headers(), true));
        match load.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(Some(session))) => Some(Ok(Exchange {
                manager: self.clone(),
                had_session: !session.is_new(),
                session,
            })),
            Poll::Ready(Err(e)) => Some(Err(Failure::from_error(&e, Stage::Loading))),
            Poll::Ready(Ok(None)) | Poll::Pending => None,
        }
    }
}

/// One request's session between [`SessionManager::begin`] and [`Exchange::finish`].
#[derive(Debug)]
#[must_use = "an exchange commits nothing until it is finished"]
pub struct Exchange<S: SessionSchema> {
    manager: SessionManager<S>,
    session: Session<S>,
    had_session: bool,
}

impl<S: SessionSchema> Exchange<S> {
    /// The session, to hand to the application's handlers (clones share one session).
    pub fn session(&self) -> &Session<S> {
        &self.session
    }

    /// Whether the request carried a session that opened (its response varies by cookie).
    pub fn had_session(&self) -> bool {
        self.had_session
    }

    /// An adapter's last step: commits the session after the handler answered `status`
    /// (nothing is committed for a `5xx`), and says which headers the response gets.
    ///
    /// # Errors
    /// The empty response to send instead of the handler's, when the commit fails
    /// (logged here). A failed commit of a session the handler did not change (only a
    /// refresh was owed) is no error: it is logged at `warn` and no cookie is sent.
    pub async fn finish(self, status: u16) -> Result<ResponseHeaders, Failure> {
        self.finish_checked(status, true).await
    }

    /// [`finish`](Self::finish); `check_values`: whether the `Set-Cookie` value is checked
    /// here. This crate's adapters pass `false`: their `add_headers` builds each value
    /// with the framework's own checked constructor and answers the same
    /// [`Failure::invalid_header`] when it refuses one, so a second pass over the value
    /// is not needed.
    pub(crate) async fn finish_checked(
        self,
        status: u16,
        check_values: bool,
    ) -> Result<ResponseHeaders, Failure> {
        let is_server_error = (500..600).contains(&status);
        let committed = self
            .manager
            .commit_one(&self.session, is_server_error)
            .await;
        self.finished(committed, check_values)
    }

    /// What [`finish_checked`](Self::finish_checked) answers, when it can tell without
    /// I/O that the commit owes nothing (a 5xx, or a read that owes no refresh): then no
    /// commit future is built. `Err(now)` when a commit is owed: then
    /// [`finish_at`](Self::finish_at) commits at `now`.
    #[cfg(feature = "axum")]
    pub(crate) fn finish_now(&self, status: u16) -> Result<ResponseHeaders, Timestamp> {
        let nothing = ResponseHeaders {
            vary: self.had_session,
            set_cookie: None,
        };
        if (500..600).contains(&status) {
            SessionManager::discard(&self.session);
            return Ok(nothing);
        }
        match self.manager.owed_at(&self.session) {
            None => Ok(nothing),
            Some(now) => Err(now),
        }
    }

    /// [`finish_checked`](Self::finish_checked) of a response that is not a 5xx, committed
    /// at `now` (from [`finish_now`](Self::finish_now)).
    #[cfg(feature = "axum")]
    pub(crate) async fn finish_at(
        self,
        now: Timestamp,
        check_values: bool,
    ) -> Result<ResponseHeaders, Failure> {
        let committed = self.manager.commit_at(&self.session, now).await;
        self.finished(committed, check_values)
    }

    fn finished(
        self,
        committed: crate::error::Result<Option<String>>,
        check_values: bool,
    ) -> Result<ResponseHeaders, Failure> {
        let set_cookie = match committed {
            Ok(cookie) => cookie,
            // The handler changed nothing (only a refresh, activity bookkeeping or a
            // re-issue was owed): its answer stands, without a cookie. A full disk or a
            // struggling store then costs the session's sliding expiry, not the page.
            Err(e) if !self.session.is_modified() => {
                tracing::warn!(error = %e, "session refresh failed; answering without it");
                None
            }
            Err(e) => return Err(Failure::from_error(&e, Stage::Committing)),
        };
        // The codec and the settings checks only produce header-safe text; refuse rather
        // than let an adapter panic should that ever break.
        if check_values && set_cookie.iter().any(|c| !is_header_value(c)) {
            return Err(Failure::invalid_header());
        }
        Ok(ResponseHeaders {
            vary: self.had_session || set_cookie.is_some(),
            set_cookie,
        })
    }
}

/// Whether `text` is a valid HTTP field value as every framework accepts it (visible ASCII,
/// spaces and tabs).
fn is_header_value(text: &str) -> bool {
    // No early exit: the whole value is checked in one branch-free pass the compiler
    // vectorizes (a `Set-Cookie` value is checked on every response that sends one).
    text.bytes().fold(true, |ok, b| {
        ok & (b == b'\t' || (b' '..=b'~').contains(&b))
    })
}

/// What [`Exchange::finish`] adds to the handler's response (see the
/// [adapter checklist](crate::adapter)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// A commit owes at most one `Set-Cookie` (no list allocated for it).
    set_cookie: Option<String>,
    vary: bool,
}

impl ResponseHeaders {
    /// The `Set-Cookie` values to append, in order (empty when nothing is owed).
    pub fn set_cookie(&self) -> &[String] {
        self.set_cookie.as_slice()
    }

    /// Whether to append `Vary: Cookie`, given the response's `Vary` values so far (none
    /// already names `Cookie` or `*`).
    pub fn add_vary<I>(&self, existing: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.vary
            && !existing.into_iter().any(|value| {
                value.as_ref().split(|&b| b == b',').any(|token| {
                    let token = token.trim_ascii();
                    token == b"*" || token.eq_ignore_ascii_case(b"cookie")
                })
            })
    }

    /// Takes the `Set-Cookie` value out (an adapter's `add_headers` hands it to its
    /// framework's header value without a copy); the other answers stay.
    #[cfg(any(feature = "axum", feature = "actix"))]
    pub(crate) fn take_set_cookie(&mut self) -> Option<String> {
        self.set_cookie.take()
    }

    /// Whether to set `Cache-Control: private`, given whether the response has a
    /// `Cache-Control` of its own (then it is left alone).
    pub fn add_cache_control(&self, response_has_cache_control: bool) -> bool {
        self.set_cookie.is_some() && !response_has_cache_control
    }
}

/// Where a request failed.
#[derive(Clone, Copy, Debug)]
enum Stage {
    Loading,
    Committing,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Committing => "committing",
        }
    }
}

/// The empty response an adapter sends instead of the handler's: a status, no body, and
/// a `Retry-After` for a `503`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the session failed: answer {status} with an empty body")]
pub struct Failure {
    status: u16,
    retry_after: Option<&'static str>,
}

impl Failure {
    /// The failure for `error`, logged at `error`: `503` with `Retry-After` when retrying
    /// can help ([`Error::is_retryable`]), `409` for a login refused at the session limit
    /// ([`Error::SessionLimit`], logged at `info`), else `500`.
    fn from_error(error: &Error, stage: Stage) -> Self {
        let stage = stage.as_str();
        if let Error::SessionLimit { .. } = error {
            // The application's policy, not a failure of the server.
            tracing::info!(error = %error, stage, "login refused at the session limit");
            return Self {
                status: 409,
                retry_after: None,
            };
        }
        tracing::error!(error = %error, stage, "session {stage} failed");
        if error.is_retryable() {
            Self {
                status: 503,
                retry_after: Some(RETRY_AFTER_SECONDS),
            }
        } else {
            Self::internal()
        }
    }

    /// The failure an adapter answers with when its framework refuses a header value
    /// that [`Exchange::finish`] produced (logged at `error`): `500`.
    pub fn invalid_header() -> Self {
        tracing::error!("session cookie is not a valid header value");
        Self::internal()
    }

    fn internal() -> Self {
        Self {
            status: 500,
            retry_after: None,
        }
    }

    /// The response's status code: `500`, `503`, or `409`.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `Retry-After` header's value, when the response has one.
    pub fn retry_after(&self) -> Option<&'static str> {
        self.retry_after
    }
}

/// Defines an adapter's public entry type (the tower layer, the actix-web middleware): a
/// `SessionManager<S>` under the framework's name, with its constructor, and `Clone` and
/// `Debug` that ask nothing of `S` (derives would require `S: Clone + Debug`).
#[cfg(any(feature = "axum", feature = "actix"))]
macro_rules! manager_wrapper {
    ($(#[$attr:meta])* $name:ident, $new_doc:literal) => {
        $(#[$attr])*
        pub struct $name<S: $crate::schema::SessionSchema = $crate::schema::Dynamic> {
            manager: $crate::manager::SessionManager<S>,
        }

        impl<S: $crate::schema::SessionSchema> $name<S> {
            #[doc = $new_doc]
            pub fn new(manager: $crate::manager::SessionManager<S>) -> Self {
                Self { manager }
            }
        }

        impl<S: $crate::schema::SessionSchema> Clone for $name<S> {
            fn clone(&self) -> Self {
                Self {
                    manager: self.manager.clone(),
                }
            }
        }

        impl<S: $crate::schema::SessionSchema> std::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("manager", &self.manager)
                    .finish()
            }
        }
    };
}
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) use manager_wrapper;

/// Defines an adapter's `add_headers(headers, owed)`: adds to a response's header map what
/// [`Exchange::finish`] owes it (step 4 of the checklist above: the `Set-Cookie` values
/// appended, `Vary: Cookie` and `Cache-Control: private` when [`ResponseHeaders`] says so),
/// or fails with [`Failure::invalid_header`]. `$header` is the framework's `header`
/// module (`http::header`, `actix_web::http::header`): the two frameworks use different
/// `http` versions, whose header types share these methods. With `entry` (the `http`
/// crate's `HeaderMap`, which has an entry API), `Vary` is looked up once: its values are
/// read and `Cookie` added through one entry, instead of a look-up and then an append that
/// looks the name up again.
#[cfg(any(feature = "axum", feature = "actix"))]
macro_rules! add_headers_fn {
    (@vary entry $headers:ident, $owed:ident, $($header:ident)::+) => {{
        use $($header)::+::{Entry, HeaderValue, VARY};
        let cookie = HeaderValue::from_static($crate::adapter::VARY_COOKIE);
        match $headers.try_entry(VARY) {
            Ok(Entry::Occupied(mut values)) => {
                if $owed.add_vary(values.iter()) {
                    values.append(cookie);
                }
                Ok(())
            }
            Ok(Entry::Vacant(slot)) if $owed.add_vary(None::<&[u8]>) => slot
                .try_insert(cookie)
                .map(drop)
                .map_err(|_| $crate::adapter::Failure::invalid_header()),
            Ok(Entry::Vacant(_)) => Ok(()),
            // The map is full (tens of thousands of headers): not answered with a panic.
            Err(_) => Err($crate::adapter::Failure::invalid_header()),
        }
    }};
    (@vary $headers:ident, $owed:ident, $($header:ident)::+) => {{
        use $($header)::+::{HeaderValue, VARY};
        if $owed.add_vary($headers.get_all(VARY)) {
            $headers.append(VARY, HeaderValue::from_static($crate::adapter::VARY_COOKIE));
        }
        Ok::<(), $crate::adapter::Failure>(())
    }};
    ($($header:ident)::+ $(, $entry:ident)?) => {
        /// Adds what [`Exchange::finish`](crate::adapter::Exchange::finish) owes the
        /// response: the `Set-Cookie` values, `Vary: Cookie` and `Cache-Control: private`
        /// (see [`crate::adapter`]).
        fn add_headers(
            headers: &mut $($header)::+::HeaderMap,
            mut owed: $crate::adapter::ResponseHeaders,
        ) -> Result<(), $crate::adapter::Failure> {
            use $($header)::+::{CACHE_CONTROL, HeaderValue, SET_COOKIE};
            // The response's own `Cache-Control` only matters when a cookie is set (and
            // the headers added below are not `Cache-Control`: asked before adding them).
            let private = !owed.set_cookie().is_empty()
                && owed.add_cache_control(headers.contains_key(CACHE_CONTROL));
            if let Some(cookie) = owed.take_set_cookie() {
                // The value becomes the header's bytes as it is (checked by the
                // framework's constructor, not copied).
                let value = HeaderValue::try_from(cookie)
                    .map_err(|_| $crate::adapter::Failure::invalid_header())?;
                headers.append(SET_COOKIE, value);
            }
            let owed = &owed;
            $crate::adapter::add_headers_fn!(@vary $($entry)? headers, owed, $($header)::+)?;
            if private {
                headers.insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static($crate::adapter::CACHE_CONTROL_PRIVATE),
                );
            }
            Ok(())
        }
    };
}
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) use add_headers_fn;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::manager::SessionManager;
    use crate::store::{MemoryStore, Record, Rotation, SessionStore, StoreKey};
    use crate::time::Timestamp;

    /// The default settings without `Secure`, for tests over plain HTTP.
    fn plain_http() -> crate::Settings {
        crate::Settings {
            secure: false,
            ..crate::Settings::default()
        }
    }

    type StoreResult<T> = Result<T, crate::store::StoreError>;

    /// The adapters' `finish` (the values checked by the framework's own constructor)
    /// owes what the public `finish` owes: a new session's cookie, nothing on a read, a
    /// removal after `destroy`; `Vary` and `Cache-Control` alike.
    #[tokio::test]
    async fn the_adapters_finish_owes_what_finish_owes() {
        async fn run(check_values: bool) -> Vec<(Vec<String>, bool, bool)> {
            let settings = plain_http();
            let manager: SessionManager =
                SessionManager::with_store(settings, Arc::new(MemoryStore::new())).unwrap();
            let mut seen = Vec::new();
            let mut cookie = String::new();
            for step in 0..3 {
                let exchange = manager.begin([cookie.as_str()]).await.unwrap();
                match step {
                    0 => exchange.session().set("a", &1).unwrap(),
                    1 => assert_eq!(exchange.session().get::<u64>("a"), Some(1)),
                    _ => exchange.session().destroy(),
                }
                let owed = exchange.finish_checked(200, check_values).await.unwrap();
                if step == 0 {
                    cookie = owed.set_cookie()[0].split(';').next().unwrap().to_owned();
                }
                // The id differs between runs: compared without it.
                let shapes = owed
                    .set_cookie()
                    .iter()
                    .map(|c| c.split_once(';').map_or("", |(_, rest)| rest).to_owned())
                    .collect();
                seen.push((
                    shapes,
                    owed.add_vary(None::<&[u8]>),
                    owed.add_cache_control(false),
                ));
            }
            seen
        }
        let checked = run(true).await;
        assert_eq!(checked, run(false).await);
        assert_eq!(
            checked.iter().map(|(c, ..)| c.len()).collect::<Vec<_>>(),
            [1, 0, 1]
        );
    }

    /// Every `Set-Cookie` value a commit owes fills its allocation exactly (the adapters
    /// hand it to their framework as the header's bytes, without a copy only then): a
    /// sealed cookie (signed, encrypted), a stored session's id, permanent or not, and a
    /// removal.
    #[tokio::test]
    async fn owed_cookies_are_allocated_at_their_length() {
        use session_spec::settings::CookieMode;
        for permanent in [false, true] {
            for backend in 0..3 {
                let settings = crate::Settings {
                    secure: false,
                    permanent,
                    cookie_mode: if backend == 0 {
                        CookieMode::Signed
                    } else {
                        CookieMode::Encrypted
                    },
                    ..crate::Settings::default()
                };
                let manager: SessionManager = if backend == 2 {
                    SessionManager::with_store(settings, Arc::new(MemoryStore::new())).unwrap()
                } else {
                    SessionManager::cookie(settings, crate::keys::Keys::generate()).unwrap()
                };
                let exchange = manager.begin([""]).await.unwrap();
                exchange.session().set("user", "ada").unwrap();
                let owed = exchange.finish(200).await.unwrap();
                let set = &owed.set_cookie()[0];
                assert_eq!(set.capacity(), set.len(), "{set}");
                let cookie = set.split(';').next().unwrap().to_owned();
                let exchange = manager.begin([cookie.as_str()]).await.unwrap();
                exchange.session().destroy();
                let owed = exchange.finish(200).await.unwrap();
                let removal = &owed.set_cookie()[0];
                assert!(removal.contains("Max-Age=0"), "{removal}");
                assert_eq!(removal.capacity(), removal.len(), "{removal}");
            }
        }
    }

    /// A clock that counts its reads (at a fixed time).
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl crate::time::Clock for Counting {
        fn now(&self) -> Timestamp {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Timestamp(1_700_000_000)
        }
    }

    /// The adapters' finish reads the clock only when the commit's plan depends on the
    /// time: a read that owes nothing reads it once (at load) when no setting makes the
    /// time matter (no idle limit, no rotation, no refresh on every request), and twice
    /// when one does; a write reads it at load and at commit. What is owed is the same
    /// either way (the same `Set-Cookie`s as `finish`).
    #[cfg(feature = "axum")]
    #[tokio::test]
    async fn the_clock_is_read_at_commit_only_when_the_plan_needs_it() {
        use session_spec::settings::Lifetime;
        let base = plain_http();
        let timed = [
            crate::Settings {
                idle_timeout: Some(Lifetime::from_minutes(60)),
                ..base.clone()
            },
            crate::Settings {
                rotation_interval: Some(Lifetime::from_minutes(60)),
                ..base.clone()
            },
            crate::Settings {
                refresh_each_request: true,
                ..base.clone()
            },
        ];
        for (settings, timeless) in
            std::iter::once((base.clone(), true)).chain(timed.into_iter().map(|s| (s, false)))
        {
            let clock = Arc::new(Counting::default());
            let reads = || clock.0.load(std::sync::atomic::Ordering::Relaxed);
            let manager: SessionManager =
                SessionManager::with_store(settings.clone(), Arc::new(MemoryStore::new()))
                    .unwrap()
                    .with_clock(clock.clone());
            let exchange = manager.begin_now(|| [""]).unwrap().unwrap();
            exchange.session().set("a", &1).unwrap();
            let before = reads();
            let owed = match exchange.finish_now(200) {
                Ok(_) => panic!("a new session's data is owed a write"),
                Err(now) => exchange.finish_at(now, true).await.unwrap(),
            };
            assert_eq!(reads(), before + 1, "a write reads the clock at commit");
            let cookie = owed.set_cookie()[0].split(';').next().unwrap().to_owned();
            for write in [false, true] {
                let exchange = manager.begin_now(|| [cookie.as_str()]).unwrap().unwrap();
                assert!(exchange.had_session());
                assert_eq!(exchange.session().get::<u64>("a"), Some(1));
                if write {
                    exchange.session().set("a", &2).unwrap();
                }
                let before = reads();
                let owed = match exchange.finish_now(200) {
                    Ok(owed) => owed,
                    Err(now) => exchange.finish_at(now, true).await.unwrap(),
                };
                let at_commit = reads() - before;
                let owes = write || settings.refresh_each_request;
                assert_eq!(owed.set_cookie().len(), usize::from(owes), "{settings:?}");
                let expected = usize::from(write || !timeless);
                assert_eq!(at_commit, expected, "write {write}, {settings:?}");
            }
        }
    }

    /// The memory store, without its `lend` (a store that reads its records from elsewhere).
    #[derive(Debug)]
    struct Copies(MemoryStore);

    #[async_trait::async_trait]
    impl SessionStore for Copies {
        async fn create(&self, key: &StoreKey, record: &Record) -> StoreResult<()> {
            self.0.create(key, record).await
        }
        async fn load(&self, key: &StoreKey, now: Timestamp) -> StoreResult<Option<Record>> {
            self.0.load(key, now).await
        }
        async fn save(&self, key: &StoreKey, record: &Record) -> StoreResult<u64> {
            self.0.save(key, record).await
        }
        async fn rotate(&self, rotation: &Rotation<'_>) -> StoreResult<()> {
            self.0.rotate(rotation).await
        }
        async fn delete(&self, key: &StoreKey) -> StoreResult<()> {
            self.0.delete(key).await
        }
        async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
            self.0.purge_expired(now).await
        }
    }

    /// `begin_now` opens what `begin` opens when the store lends its records (a session,
    /// an unknown id, no cookie), and answers `None` (wait for `begin`) for a store that
    /// does not lend, which is then not asked again.
    #[cfg(feature = "axum")]
    #[tokio::test]
    async fn sessions_open_now_only_from_a_store_that_lends() {
        let settings = plain_http();
        for lends in [true, false] {
            let store: Arc<dyn SessionStore> = if lends {
                Arc::new(MemoryStore::new())
            } else {
                Arc::new(Copies(MemoryStore::new()))
            };
            let manager: SessionManager =
                SessionManager::with_store(settings.clone(), store).unwrap();
            let exchange = manager.begin([""]).await.unwrap();
            exchange.session().set("a", &1).unwrap();
            let owed = exchange.finish(200).await.unwrap();
            let cookie = owed.set_cookie()[0].split(';').next().unwrap().to_owned();
            let unknown = format!("session={}", crate::id::SessionId::generate().unwrap());
            for header in [cookie.as_str(), unknown.as_str(), ""] {
                let waited = manager.begin([header]).await.unwrap();
                let now = manager.begin_now(|| [header]);
                if !lends {
                    assert!(now.is_none(), "{header}");
                    assert!(!manager.may_load_now());
                    continue;
                }
                let now = now.expect("opens now").unwrap();
                assert_eq!(now.had_session(), waited.had_session(), "{header}");
                assert_eq!(now.session().get_all(), waited.session().get_all());
                assert_eq!(now.session().id(), waited.session().id());
                let (now, waited) = (now.finish(200).await, waited.finish(200).await);
                assert_eq!(now.unwrap().set_cookie(), waited.unwrap().set_cookie());
            }
            assert_eq!(manager.may_load_now(), lends);
        }
    }
}
