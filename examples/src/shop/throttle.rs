//! The login throttle: failed logins counted per session, in a window.
//!
//! API rate limiting is one of the uses of sessions the Nexios chapter lists. Here the
//! session spec declares the state, typed and validated like any other field:
//! `login_failures` (`u8`, `max = 5`: the spec's bound *is* the limit) and
//! `login_window_start` (`Option<i64>`, Unix seconds). A failed login (the shop has no
//! passwords: a name the spec refuses stands in for a wrong one) counts one; at the limit,
//! `POST /login` answers `429 Too Many Requests` with `Retry-After` and a readable page, and
//! tries nothing, until the window that began at the first failure ends. A successful login
//! removes both fields. The count is one [`Session::update`] step, so parallel failed logins
//! of one session each count instead of overwriting each other.
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
    pub fn retry_after(&self, session: &Session<Shop>, now: i64) -> Option<u64> {
        let start = session.login_window_start()?;
        let ends = start.saturating_add(self.window);
        if now >= ends {
            return None; // the window is over: a fresh count starts at the next failure
        }
        let failures = session.login_failures();
        let below_limit = Shop::validate_login_failures(&failures.saturating_add(1)).is_ok();
        if below_limit {
            return None;
        }
        Some(u64::try_from(ends - now).unwrap_or(1).max(1))
    }

    /// Counts one failed login at `now`: in the current window, or as the first of a new one
    /// when there is none or it is over. At the limit the count stays at the limit (the spec
    /// refuses more).
    ///
    /// # Errors
    /// A [`ValidationError`] only if the stored state breaks the spec's rules (a
    /// `login_window_start` below 0), which the throttle never writes.
    pub fn record_failure(&self, session: &Session<Shop>, now: i64) -> Result<(), ValidationError> {
        let window = self.window;
        session.update(move |s| {
            let (start, failures) = match s.login_window_start() {
                Some(start) if now < start.saturating_add(window) => (start, s.login_failures()),
                _ => (now, 0),
            };
            let next = failures.saturating_add(1);
            if Shop::validate_login_failures(&next).is_ok() {
                s.set_login_failures(next)?;
            }
            s.set_login_window_start(Some(start))
        })
    }

    /// Forgets the failures: a successful login starts clean (and stores nothing for it).
    pub fn reset(&self, session: &Session<Shop>) {
        session.remove_login_failures();
        session.remove_login_window_start();
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
            assert_eq!(throttle.retry_after(&session, NOW + i), None, "attempt {i}");
            throttle.record_failure(&session, NOW + i).unwrap();
        }
        assert_eq!(session.login_failures(), 5);
        assert_eq!(throttle.retry_after(&session, NOW + 10), Some(50));
        // At the limit, more failures keep the count and the window's start.
        throttle.record_failure(&session, NOW + 11).unwrap();
        assert_eq!(session.login_failures(), 5);
        assert_eq!(session.login_window_start(), Some(NOW));
        assert_eq!(throttle.retry_after(&session, NOW + 59), Some(1));
        assert_eq!(throttle.retry_after(&session, NOW + 60), None);
        // After the window, a failure starts a new count.
        throttle.record_failure(&session, NOW + 100).unwrap();
        assert_eq!(session.login_failures(), 1);
        assert_eq!(session.login_window_start(), Some(NOW + 100));
        throttle.reset(&session);
        assert_eq!(session.login_failures(), 0);
        assert_eq!(session.login_window_start(), None);
        assert!(session.get_all().is_empty(), "a reset stores nothing");
    }

    #[test]
    fn a_window_must_be_positive() {
        assert_eq!(LoginThrottle::new(Lifetime::from_seconds(0)), None);
        assert_eq!(LoginThrottle::new(Lifetime::from_seconds(-5)), None);
        assert_eq!(LoginThrottle::default().window(), 15 * 60);
    }
}
