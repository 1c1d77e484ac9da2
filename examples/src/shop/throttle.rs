//! The login throttle: login attempts counted per session, in a window.
//!
//! API rate limiting is one of the uses of sessions the Nexios chapter lists. Here the
//! session spec declares the state, typed and validated like any other field:
//! `login_failures` (`u8`, `max = 5`: the spec's bound *is* the limit) and
//! `login_window_start` (`Option<i64>`, Unix seconds). Every `POST /login` first
//! *reserves* its attempt ([`LoginThrottle::reserve`]): one [`Session::update`] step that
//! checks the window and the limit and counts the attempt. At the limit it counts nothing
//! and the login answers `429 Too Many Requests` with `Retry-After` and a readable page,
//! and tries nothing, until the window that began at the first attempt ends. A failed
//! login (the shop has no passwords: a name the spec refuses stands in for a wrong one)
//! keeps its reservation; a successful one forgets the count ([`LoginThrottle::reset`]).
//!
//! # Exact under parallel attempts
//!
//! The reservation reads the counter only inside its `update` step, whose reads take no
//! part in the commit. So parallel attempts of one session never conflict over it: when
//! a commit loses the race, the manager replays the step on the fresh record and each
//! attempt counts. The step refuses on replay too: when the attempts that won the race
//! used the last places, the replayed reservation breaks the counter's `max`, the commit
//! fails ([`session_runtime::Error::Replay`]) and the layer answers an empty `503` with
//! `Retry-After: 1` instead of the handler's page: the attempt's outcome is never sent,
//! and a successful login in it is not saved. A burst of any size therefore gets exactly
//! the attempts left in the window, no more (a gate that read the counter untracked would
//! let the whole burst through) and no fewer (a gate that read it tracked made every loser
//! of a race a conflict). `examples/tests/it/races.rs` shows both.
//!
//! # What this stops, and what it does not
//!
//! Per-session limiting is a speed bump. It stops a person at a browser and a naive script
//! that keeps its cookie. An attacker drops the cookie and gets a fresh session, with a
//! fresh counter, for the price of one more request (here not even that: anonymous pages
//! carry a stateless CSRF token, so no session is needed to try). On the cookie backend
//! (`SESSION_BACKEND=cookie`) the count travels in the cookie itself, so replaying a cookie
//! saved before the failures also resets it. Against password guessing
//! add limits keyed by what the attacker cannot shed:
//!
//! - **per client address**: a token bucket keyed by the peer's IP (behind a proxy, the
//!   address the trusted proxy reports, never a client-supplied header), in memory or, with
//!   several instances, in the shared Redis or database (e.g. `tower_governor` for axum);
//! - **per account**: failures counted on the account's own record, server-side, with a
//!   growing delay and a notice to the owner (never a hard lock-out, which would let anyone
//!   lock anyone out);
//! - and a global rate alarm for distributed guessing across many addresses and accounts.

use session_runtime::spec::Lifetime;
use session_runtime::{Session, ValidationError};

use super::{Shop, ShopExt};

/// The throttle's policy: how long a window lasts. The limit is the spec's `max` of
/// `login_failures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    window: i64,
}

impl Default for LoginThrottle {
    /// A window of 15 minutes.
    fn default() -> Self {
        Self {
            window: Self::DEFAULT_WINDOW,
        }
    }
}

impl LoginThrottle {
    /// The window when none is configured: 15 minutes.
    pub const DEFAULT_WINDOW: i64 = 15 * 60;

    /// A throttle whose windows last `window`; `None` when it is not positive.
    pub fn new(window: Lifetime) -> Option<Self> {
        let window = window.as_seconds();
        (window > 0).then_some(Self { window })
    }

    /// The throttle of the shop binaries: its window from `SHOP_LOGIN_WINDOW` (a
    /// lifetime: `90s`, `15m`, `1h`; a bare number is minutes), or the default.
    ///
    /// # Errors
    /// `SHOP_LOGIN_WINDOW` is not a positive duration.
    pub fn from_env() -> Result<Self, String> {
        let text = match std::env::var("SHOP_LOGIN_WINDOW") {
            Ok(text) => text,
            Err(std::env::VarError::NotPresent) => return Ok(Self::default()),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err("`SHOP_LOGIN_WINDOW` is not valid unicode".into());
            }
        };
        text.parse::<Lifetime>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| {
                format!(
                    "`SHOP_LOGIN_WINDOW` must be a positive duration (`90s`, `15m`), got `{text}`"
                )
            })
    }

    /// The window, in seconds.
    pub fn window(&self) -> i64 {
        self.window
    }

    /// When the session is at the limit inside its window: the seconds until the window
    /// ends (at least 1), for `Retry-After`. `None`: the session may try.
    ///
    /// Reads the counter as tracked reads: call it on a scratch or untracked session (as
    /// [`reserve`](Self::reserve) does), not as a gate of its own.
    pub fn retry_after(&self, session: &Session<Shop>, now: i64) -> Option<u64> {
        let start = session.login_window_start()?;
        let ends = start.saturating_add(self.window);
        if now >= ends {
            return None; // the window is over: a fresh count starts at the next attempt
        }
        let attempts = session.login_failures();
        let below_limit = Shop::validate_login_failures(&attempts.saturating_add(1)).is_ok();
        if below_limit {
            return None;
        }
        Some(u64::try_from(ends - now).unwrap_or(1).max(1))
    }

    /// Reserves one login attempt at `now`, before it is tried: counted in the current
    /// window, or as the first of a new one when there is none or it is over. One
    /// [`Session::update`] step, replayed on the fresh record when the commit loses a race
    /// (see the [module docs](self#exact-under-parallel-attempts)): parallel attempts each
    /// count, and never more than the limit are tried.
    ///
    /// # Errors
    /// - [`Refused::Throttled`]: the session is at the limit in its window; nothing is
    ///   counted and the attempt must not be tried.
    /// - [`Refused::Invalid`]: the stored state breaks the spec's rules (a
    ///   `login_window_start` below 0), which the throttle never writes.
    pub fn reserve(&self, session: &Session<Shop>, now: i64) -> Result<(), Refused> {
        let window = self.window;
        let reserved = session.update(move |s| {
            let (start, attempts) = match s.login_window_start() {
                Some(start) if now < start.saturating_add(window) => (start, s.login_failures()),
                _ => (now, 0),
            };
            // At the limit the spec's `max` refuses the count: the step fails, now or on
            // replay, and nothing is counted.
            s.set_login_failures(attempts.saturating_add(1))?;
            s.set_login_window_start(Some(start))
        });
        match reserved {
            Ok(()) => Ok(()),
            // The session is unchanged: read it without making it part of the commit.
            Err(error) => match session.untracked(|s| self.retry_after(s, now)) {
                Some(retry_after) => Err(Refused::Throttled { retry_after }),
                None => Err(Refused::Invalid(error)),
            },
        }
    }

    /// Forgets the attempts: a successful login starts clean (and stores nothing for it).
    pub fn reset(&self, session: &Session<Shop>) {
        session.remove_login_failures();
        session.remove_login_window_start();
    }
}

/// Why [`LoginThrottle::reserve`] refused an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Refused {
    /// Too many attempts in the session's window: try again after `retry_after` seconds
    /// (at least 1), when the window ends.
    Throttled {
        /// Seconds until the window ends.
        retry_after: u64,
    },
    /// The stored throttle state breaks the spec's rules (never written by the throttle).
    Invalid(ValidationError),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Throttled { retry_after } => {
                write!(f, "too many login attempts: retry after {retry_after} s")
            }
            Self::Invalid(error) => write!(f, "invalid login throttle state: {error}"),
        }
    }
}

impl std::error::Error for Refused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Throttled { .. } => None,
            Self::Invalid(error) => Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn the_spec_bound_is_the_limit_and_the_window_frees_the_session() {
        let throttle = LoginThrottle::new(Lifetime::from_seconds(60)).unwrap();
        let session: Session<Shop> = Session::detached();
        for i in 0..5 {
            assert_eq!(throttle.reserve(&session, NOW + i), Ok(()), "attempt {i}");
        }
        assert_eq!(session.login_failures(), 5);
        assert_eq!(session.login_window_start(), Some(NOW));
        // At the limit the attempt is refused and nothing is counted.
        assert_eq!(
            throttle.reserve(&session, NOW + 10),
            Err(Refused::Throttled { retry_after: 50 })
        );
        assert_eq!(session.login_failures(), 5);
        assert_eq!(session.login_window_start(), Some(NOW));
        assert_eq!(
            throttle.reserve(&session, NOW + 59),
            Err(Refused::Throttled { retry_after: 1 })
        );
        // When the window ends, an attempt starts a new count.
        assert_eq!(throttle.reserve(&session, NOW + 60), Ok(()));
        assert_eq!(session.login_failures(), 1);
        assert_eq!(session.login_window_start(), Some(NOW + 60));
        throttle.reset(&session);
        assert_eq!(session.login_failures(), 0);
        assert_eq!(session.login_window_start(), None);
        assert!(session.get_all().is_empty(), "a reset stores nothing");
    }

    /// Two requests of one session reserve at once (a server-side store): below the limit
    /// the loser's reservation is replayed on the winner's record and both count; for the
    /// last place, the loser's replay is refused and its commit fails, retryable.
    #[tokio::test]
    async fn reservations_racing_each_count_and_never_pass_the_limit() {
        use session_runtime::{Error, SessionManager, SessionSchema, Settings};
        let store = std::sync::Arc::new(session_runtime::store::memory::MemoryStore::new());
        let settings = Settings {
            secure: false,
            ..Shop::settings()
        };
        let manager = SessionManager::<Shop>::with_store(settings, store).unwrap();
        let throttle = LoginThrottle::default();
        let now = i64::try_from(crate::shop::app::unix_now()).unwrap();
        let first = manager.load(None::<&str>).await.unwrap();
        throttle.reserve(&first, now).unwrap();
        let set_cookie = manager.commit(&first, false).await.unwrap();
        let cookie = set_cookie[0].split(';').next().unwrap().to_owned();
        let race = |cookie: String| {
            let manager = manager.clone();
            async move {
                let a = manager.load([cookie.as_str()]).await.unwrap();
                let b = manager.load([cookie.as_str()]).await.unwrap();
                throttle.reserve(&a, now).unwrap();
                throttle.reserve(&b, now).unwrap();
                manager.commit(&a, false).await.unwrap();
                manager.commit(&b, false).await
            }
        };
        // 1 + 2 and 3 + 2: the losers replay and count.
        for counted in [3, 5] {
            assert!(race(cookie.clone()).await.is_ok());
            let session = manager.load([cookie.as_str()]).await.unwrap();
            assert_eq!(session.login_failures(), counted);
        }
        // Back to 4 with one place left: both see it, the winner takes it.
        let session = manager.load([cookie.as_str()]).await.unwrap();
        session.set_login_failures(4).unwrap();
        manager.commit(&session, false).await.unwrap();
        let lost = race(cookie.clone()).await.unwrap_err();
        assert!(matches!(lost, Error::Replay(_)), "{lost:?}");
        assert!(lost.is_retryable(), "a retry gets the 429");
        let session = manager.load([cookie.as_str()]).await.unwrap();
        assert_eq!(session.login_failures(), 5);
        assert!(matches!(
            throttle.reserve(&session, now),
            Err(Refused::Throttled { .. })
        ));
    }

    #[test]
    fn invalid_stored_state_is_no_throttle() {
        let session: Session<Shop> = Session::detached();
        let refused = LoginThrottle::default().reserve(&session, -1).unwrap_err();
        let Refused::Invalid(error) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(error.field, "login_window_start");
    }

    #[test]
    fn a_window_must_be_positive() {
        assert_eq!(LoginThrottle::new(Lifetime::from_seconds(0)), None);
        assert_eq!(LoginThrottle::new(Lifetime::from_seconds(-5)), None);
        assert_eq!(LoginThrottle::default().window(), 15 * 60);
    }
}
