//! Expiry arithmetic: the time limits of a policy ([`Limits`]) and the timestamps a session
//! carries ([`Times`]), and the one rule that decides when a session ends.
//!
//! A session is over when `now >= deadline`, where the deadline is the earliest of:
//!
//! - the stored sliding expiry (`expires_at`: the last write that carried a change or a
//!   refresh, plus the `expiration_time` in force then);
//! - what the *current* policy allows: the last recorded activity plus `expiration_time`
//!   and plus `idle_timeout`, and the creation plus `absolute_timeout`. So a policy that is
//!   shortened takes effect on sessions issued under the longer one at once, instead of
//!   when their stored expiry passes.
//!
//! A session whose recorded creation lies in the future (a clock that went back, or a
//! forged record) is refused: its limits cannot be trusted ([`Times::is_plausible`]).

use crate::time::Timestamp;

/// The time limits of a policy, in seconds, copied into each handle so that
/// [`Session::expiration_time`](crate::Session::expiration_time) needs no manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// `expiration_time`.
    pub(crate) lifetime: i64,
    /// `idle_timeout`.
    pub(crate) idle: Option<i64>,
    /// `absolute_timeout`.
    pub(crate) absolute: Option<i64>,
}

impl Limits {
    pub(crate) fn of(settings: &session_spec::Settings) -> Self {
        Self {
            lifetime: settings.expiration_time.as_seconds(),
            idle: settings.idle_timeout.map(|l| l.as_seconds()),
            absolute: settings.absolute_timeout.map(|l| l.as_seconds()),
        }
    }
}

/// The timestamps a session carries inside its authenticated payload or record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    /// When the session began (the absolute limit counts from here; rotation keeps it).
    pub(crate) created_at: Timestamp,
    /// When the current id was issued (periodic rotation counts from here).
    pub(crate) id_issued_at: Timestamp,
    /// The last request recorded as activity (the idle limit counts from here).
    pub(crate) last_seen: Timestamp,
    /// The sliding expiry: the last write that carried a change or a refresh, plus
    /// `expiration_time`, capped by the absolute limit.
    pub(crate) expires_at: Timestamp,
}

impl Times {
    /// The times of a session beginning at `now`.
    pub(crate) fn fresh(now: Timestamp, limits: &Limits) -> Self {
        let mut t = Self {
            created_at: now,
            id_issued_at: now,
            last_seen: now,
            expires_at: now,
        };
        t.expires_at = t.slide(now, limits);
        t
    }

    /// `now + expiration_time`, never past the absolute cap.
    pub(crate) fn slide(&self, now: Timestamp, limits: &Limits) -> Timestamp {
        let e = now.add_seconds(limits.lifetime);
        match self.absolute_deadline(limits) {
            Some(cap) => e.min(cap),
            None => e,
        }
    }

    pub(crate) fn absolute_deadline(&self, limits: &Limits) -> Option<Timestamp> {
        limits.absolute.map(|a| self.created_at.add_seconds(a))
    }

    /// The moment the session ends (see the [module docs](self)): the earliest of the
    /// stored sliding expiry and of what `limits` allow from the recorded activity and
    /// creation. A session is expired when `now >= deadline`.
    pub(crate) fn deadline(&self, limits: &Limits) -> Timestamp {
        let mut d = self
            .expires_at
            .min(self.last_seen.add_seconds(limits.lifetime));
        if let Some(idle) = limits.idle {
            d = d.min(self.last_seen.add_seconds(idle));
        }
        if let Some(cap) = self.absolute_deadline(limits) {
            d = d.min(cap);
        }
        d
    }

    /// Whether the times can be trusted at `now`: a creation in the future means a clock
    /// that went back (or a forged record), and every limit counted from it would be
    /// stretched.
    pub(crate) fn is_plausible(&self, now: Timestamp) -> bool {
        self.created_at <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn limits(lifetime: i64) -> Limits {
        Limits {
            lifetime,
            idle: None,
            absolute: None,
        }
    }

    #[test]
    fn a_shortened_lifetime_applies_to_sessions_issued_under_the_longer_one() {
        let issued = Times::fresh(Timestamp(1_000), &limits(30 * DAY));
        assert_eq!(
            issued.deadline(&limits(30 * DAY)),
            Timestamp(1_000 + 30 * DAY)
        );
        assert_eq!(issued.deadline(&limits(3600)), Timestamp(1_000 + 3600));
    }

    #[test]
    fn a_creation_in_the_future_is_not_plausible() {
        let times = Times::fresh(Timestamp(1_000), &limits(3600));
        assert!(times.is_plausible(Timestamp(1_000)));
        assert!(!times.is_plausible(Timestamp(999)));
    }
}
