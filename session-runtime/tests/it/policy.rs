//! The policy table, with a mock clock: cookie flags, lifetimes at T-1s / T / T+1s,
//! refresh, idle and absolute limits, rotation, destroy. Each runs against the cookie
//! backend and a server-side store.

use session_runtime::spec::{CookiePrefix, Lifetime, SameSite};
use session_runtime::{Session, Settings};

use crate::support::{BOTH, Harness, Kind, T0, settings, shape};

fn secs(n: i64) -> Lifetime {
    Lifetime::from_seconds(n)
}

/// Creates a session holding `user = "ada"` at the harness's current time.
async fn login(h: &mut Harness) -> Vec<String> {
    let set = h.request(|s: &Session| s.set("user", "ada").unwrap()).await;
    assert_eq!(set.len(), 1, "a new session sets one cookie");
    set
}

/// A harness of `kind` on `settings`, logged in ([`login`]).
async fn logged_in(kind: Kind, settings: Settings) -> Harness {
    let mut h = Harness::new(kind, settings);
    login(&mut h).await;
    h
}

/// The test settings as `change` leaves them.
fn with(change: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = settings();
    change(&mut settings);
    settings
}

/// The test settings with an `expiration_time` of `seconds`.
fn lifetime(seconds: i64) -> Settings {
    Settings {
        expiration_time: secs(seconds),
        ..settings()
    }
}

/// The test settings with an `idle_timeout` of `seconds`.
fn idle(seconds: i64) -> Settings {
    Settings {
        idle_timeout: Some(secs(seconds)),
        ..settings()
    }
}

/// For each offset T-1 s, T and T+1 s around `limit` seconds: a fresh harness of `kind` on
/// `settings`, logged in, its clock moved by the offset, and the session it then reads;
/// checks that only the T-1 s session is still logged in.
async fn around_the_limit(kind: Kind, settings: Settings, limit: i64) -> [(Harness, Session); 3] {
    let mut out = Vec::new();
    for offset in [limit - 1, limit, limit + 1] {
        let h = logged_in(kind, settings.clone()).await;
        h.clock.advance(offset);
        let session = h.peek().await;
        assert_eq!(
            session.get::<String>("user").is_some(),
            offset < limit,
            "{kind:?} T{:+}",
            offset - limit
        );
        out.push((h, session));
    }
    match out.try_into() {
        Ok(three) => three,
        Err(_) => unreachable!("three offsets"),
    }
}

async fn user(h: &mut Harness) -> Option<String> {
    h.peek().await.get::<String>("user")
}

// ---- cookie attributes --------------------------------------------------------------

#[tokio::test]
async fn default_flags_exact_strings() {
    for kind in BOTH {
        let mut h = Harness::new(kind, Settings::default());
        let set = login(&mut h).await;
        assert_eq!(
            shape(&set[0]),
            "session=<v>; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        let removal = h.request(|s: &Session| s.destroy()).await;
        assert_eq!(
            removal,
            [
                "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax"
            ]
        );
    }
}

#[tokio::test]
async fn each_flag_off_and_on() {
    let cases: Vec<(Settings, &str, &str)> = vec![
        (
            Settings {
                secure: false,
                ..Settings::default()
            },
            "session=<v>; Path=/; HttpOnly; SameSite=Lax",
            "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
        ),
        (
            Settings {
                http_only: false,
                ..Settings::default()
            },
            "session=<v>; Path=/; Secure; SameSite=Lax",
            "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; SameSite=Lax",
        ),
        (
            Settings {
                same_site: SameSite::Strict,
                ..Settings::default()
            },
            "session=<v>; Path=/; Secure; HttpOnly; SameSite=Strict",
            "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Strict",
        ),
        (
            Settings {
                same_site: SameSite::None,
                ..Settings::default()
            },
            "session=<v>; Path=/; Secure; HttpOnly; SameSite=None",
            "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=None",
        ),
        (
            Settings {
                path: "/app".into(),
                domain: Some("example.com".into()),
                cookie_name: "sid".into(),
                ..Settings::default()
            },
            "sid=<v>; Path=/app; Domain=example.com; Secure; HttpOnly; SameSite=Lax",
            "sid=; Path=/app; Domain=example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax",
        ),
        (
            Settings {
                prefix: Some(CookiePrefix::Host),
                ..Settings::default()
            },
            "__Host-session=<v>; Path=/; Secure; HttpOnly; SameSite=Lax",
            "__Host-session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax",
        ),
        (
            Settings {
                prefix: Some(CookiePrefix::Secure),
                domain: Some("example.com".into()),
                ..Settings::default()
            },
            "__Secure-session=<v>; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax",
            "__Secure-session=; Path=/; Domain=example.com; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax",
        ),
    ];
    for kind in BOTH {
        for (settings, set_shape, removal) in &cases {
            let mut h = Harness::new(kind, settings.clone());
            let set = login(&mut h).await;
            assert_eq!(&shape(&set[0]), set_shape, "{kind:?}");
            // The prefixed name is the one read back.
            assert_eq!(
                user(&mut h).await.as_deref(),
                Some("ada"),
                "{kind:?} {set_shape}"
            );
            let gone = h.request(|s: &Session| s.destroy()).await;
            assert_eq!(gone, [removal.to_string()], "{kind:?}");
        }
    }
}

#[tokio::test]
async fn permanent_cookie_has_max_age_and_expires() {
    for kind in BOTH {
        let mut h = Harness::new(
            kind,
            Settings {
                permanent: true,
                expiration_time: Lifetime::from_minutes(30),
                ..Settings::default()
            },
        );
        let set = login(&mut h).await;
        // T0 + 1800 s = 2023-11-14 22:43:20 UTC.
        assert_eq!(
            shape(&set[0]),
            "session=<v>; Path=/; Max-Age=1800; Expires=Tue, 14 Nov 2023 22:43:20 GMT; Secure; HttpOnly; SameSite=Lax"
        );
    }
}

#[tokio::test]
async fn browser_session_cookie_has_no_lifetime_but_server_enforces_it() {
    for kind in BOTH {
        let mut h = Harness::new(kind, lifetime(60));
        let set = login(&mut h).await;
        assert!(
            !set[0].contains("Max-Age") && !set[0].contains("Expires"),
            "{}",
            set[0]
        );
        // The browser would keep a session cookie forever; the server does not.
        h.clock.advance(60);
        assert_eq!(user(&mut h).await, None, "{kind:?}");
    }
}

// ---- expiration_time ----------------------------------------------------------------

#[tokio::test]
async fn expiration_time_at_t_minus_1_t_and_t_plus_1() {
    for kind in BOTH {
        let [(h, alive), (_, at_t), (_, after_t)] = around_the_limit(kind, lifetime(60), 60).await;
        assert_eq!(alive.expiration_time().as_secs(), T0 + 60);
        assert!(!alive.has_expired());
        h.clock.advance(1);
        assert!(alive.has_expired(), "has_expired follows the clock");
        for ended in [at_t, after_t] {
            assert!(ended.id().is_none(), "a fresh session, with no id yet");
        }
    }
}

#[tokio::test]
async fn without_refresh_reads_do_not_slide_but_writes_do() {
    for kind in BOTH {
        let mut h = logged_in(kind, lifetime(60)).await;
        h.clock.advance(50);
        assert!(h.request(|_| {}).await.is_empty(), "a read owes nothing");
        h.clock.advance(10); // T0 + 60: the read did not slide the expiry
        assert_eq!(user(&mut h).await, None, "{kind:?}");

        let mut h = logged_in(kind, lifetime(60)).await;
        h.clock.advance(50);
        assert_eq!(
            h.request(|s: &Session| s.set("n", &1).unwrap()).await.len(),
            1
        );
        h.clock.advance(59); // T0 + 109 < T0 + 50 + 60
        assert_eq!(user(&mut h).await.as_deref(), Some("ada"), "{kind:?}");
        h.clock.advance(1);
        assert_eq!(user(&mut h).await, None, "{kind:?}");
    }
}

#[tokio::test]
async fn refresh_each_request_slides_and_reissues() {
    for kind in BOTH {
        let mut h = logged_in(
            kind,
            with(|s| {
                s.expiration_time = secs(60);
                s.refresh_each_request = true;
                s.permanent = true;
            }),
        )
        .await;
        for _ in 0..5 {
            h.clock.advance(59);
            let set = h.request(|_| {}).await;
            assert_eq!(set.len(), 1, "{kind:?}: every request re-issues the cookie");
            assert!(set[0].contains("; Max-Age=60; "), "{}", set[0]);
        }
        // Five slides later, far past the first expiry, the session lives on.
        assert_eq!(user(&mut h).await.as_deref(), Some("ada"));
        h.clock.advance(60);
        assert_eq!(user(&mut h).await, None);
    }
}

// ---- idle timeout -------------------------------------------------------------------

#[tokio::test]
async fn idle_timeout_at_t_minus_1_t_and_t_plus_1() {
    for kind in BOTH {
        around_the_limit(kind, idle(100), 100).await;
    }
}

#[tokio::test]
async fn idle_activity_is_recorded_and_keeps_the_session() {
    for kind in BOTH {
        let mut h = logged_in(kind, idle(100)).await;
        // Requests every 99 s: each records activity (one write, one Set-Cookie).
        for i in 1..=5 {
            h.clock.advance(99);
            let set = h.request(|_| {}).await;
            assert_eq!(set.len(), 1, "{kind:?} request {i}");
        }
        assert_eq!(user(&mut h).await.as_deref(), Some("ada"));
        h.clock.advance(100);
        assert_eq!(user(&mut h).await, None);
    }
}

#[tokio::test]
async fn idle_resolution_bounds_writes() {
    for kind in BOTH {
        // Default resolution: a twentieth of the idle timeout, 5 s here.
        let mut h = logged_in(kind, idle(100)).await;
        let writes = h.store.writes();
        h.clock.advance(4);
        assert!(
            h.request(|_| {}).await.is_empty(),
            "within the resolution: no write"
        );
        assert_eq!(h.store.writes(), writes);
        h.clock.advance(1);
        assert_eq!(
            h.request(|_| {}).await.len(),
            1,
            "a resolution later: activity recorded"
        );
        if kind == Kind::Store {
            assert_eq!(h.store.writes(), writes + 1);
        }
        // The unrecorded request at +4 did not count: the limit runs from +5.
        h.clock.advance(99);
        assert!(user(&mut h).await.is_some());
        h.clock.advance(1);
        assert!(user(&mut h).await.is_none());
    }
}

#[tokio::test]
async fn exact_idle_resolution_records_every_second() {
    let mut h = Harness::new(Kind::Store, idle(100));
    h.manager = h.manager.clone().with_idle_resolution(1);
    login(&mut h).await;
    h.clock.advance(1);
    assert_eq!(h.request(|_| {}).await.len(), 1);
    h.clock.advance(100);
    assert!(user(&mut h).await.is_none());
}

// ---- absolute timeout ---------------------------------------------------------------

#[tokio::test]
async fn absolute_timeout_caps_sliding() {
    for kind in BOTH {
        let mut h = logged_in(
            kind,
            with(|s| {
                s.expiration_time = secs(100);
                s.refresh_each_request = true;
                s.absolute_timeout = Some(secs(300));
                s.permanent = true;
            }),
        )
        .await;
        for (at, max_age) in [(90, 100), (180, 100), (270, 30)] {
            h.clock.set(session_runtime::Timestamp(T0 + at));
            let set = h.request(|_| {}).await;
            assert!(
                set[0].contains(&format!("; Max-Age={max_age}; ")),
                "at {at}: {}",
                set[0]
            );
        }
        for (at, alive) in [(299, true), (300, false), (301, false)] {
            h.clock.set(session_runtime::Timestamp(T0 + at));
            assert_eq!(user(&mut h).await.is_some(), alive, "{kind:?} at T0+{at}");
        }
    }
}

#[tokio::test]
async fn absolute_timeout_survives_rotation() {
    for kind in BOTH {
        let mut h = logged_in(kind, with(|s| s.absolute_timeout = Some(secs(300)))).await;
        h.clock.advance(200);
        h.request(|s: &Session| s.cycle()).await;
        h.clock.advance(99);
        assert!(user(&mut h).await.is_some());
        h.clock.advance(1);
        assert!(
            user(&mut h).await.is_none(),
            "{kind:?}: rotation keeps the creation time"
        );
    }
}

// ---- rotation -----------------------------------------------------------------------

#[tokio::test]
async fn periodic_rotation() {
    for kind in BOTH {
        let mut h = logged_in(kind, with(|s| s.rotation_interval = Some(secs(100)))).await;
        let first = h.peek().await.id().unwrap();
        h.clock.advance(99);
        assert!(h.request(|_| {}).await.is_empty(), "{kind:?}: not yet");
        h.clock.advance(1);
        assert_eq!(h.request(|_| {}).await.len(), 1, "{kind:?}: rotated");
        let session = h.peek().await;
        let second = session.id().unwrap();
        assert_ne!(first, second);
        assert_eq!(
            session.get::<String>("user").as_deref(),
            Some("ada"),
            "data kept"
        );
        assert_eq!(session.created_at().as_secs(), T0, "creation time kept");
        if kind == Kind::Store {
            // The old record is a forward for the grace period (30 s by default), then
            // nothing.
            assert!(h.store.contains(&second.store_key()).await);
            assert_eq!(h.store.len(), 2, "the new record and the forward");
            let new_cookie = h.jar.clone();
            h.jar = Some(first.as_str().to_owned());
            let set = h.request(|_| {}).await;
            assert_eq!(set.len(), 1, "the old id re-issues the new cookie");
            assert_eq!(h.jar.as_deref(), Some(second.as_str()));
            assert_eq!(h.peek().await.get::<String>("user").as_deref(), Some("ada"));
            h.clock.advance(30);
            h.jar = Some(first.as_str().to_owned());
            assert!(user(&mut h).await.is_none(), "the grace period is over");
            h.jar = new_cookie;
            h.clock.advance(-30);
        }
        // The next rotation is due 100 s after the new id was issued.
        h.clock.advance(99);
        assert!(h.request(|_| {}).await.is_empty());
    }
}

#[tokio::test]
async fn cycle_gives_a_new_id_and_keeps_data() {
    for kind in BOTH {
        let mut h = logged_in(kind, settings()).await;
        let old_cookie = h.jar.clone().unwrap();
        let old = h.peek().await.id().unwrap();
        let set = h
            .request(|s: &Session| {
                s.cycle();
                assert!(s.id().is_none(), "the new id is drawn at commit");
            })
            .await;
        assert_eq!(set.len(), 1);
        let session = h.peek().await;
        assert_ne!(session.id().unwrap(), old);
        assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
        if kind == Kind::Store {
            // The old id keeps a tombstone (a racing logout follows it), never the data.
            assert_eq!(h.store.len(), 2);
            // The old cookie no longer opens anything, at once.
            h.jar = Some(old_cookie);
            assert!(user(&mut h).await.is_none());
        }
    }
}

// ---- destroy ------------------------------------------------------------------------

#[tokio::test]
async fn destroy_deletes_the_record_and_removes_the_cookie() {
    for kind in BOTH {
        let mut h = logged_in(kind, with(|s| s.permanent = true)).await;
        let cookie = h.jar.clone().unwrap();
        let id = h.peek().await.id().unwrap();
        let set = h.request(|s: &Session| s.destroy()).await;
        assert_eq!(
            set,
            [
                "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
            ]
        );
        assert!(h.jar.is_none());
        if kind == Kind::Store {
            assert!(!h.store.contains(&id.store_key()).await);
            assert_eq!(h.store.len(), 0);
            h.jar = Some(cookie);
            assert!(
                user(&mut h).await.is_none(),
                "a destroyed session stays gone"
            );
        }
    }
}

#[tokio::test]
async fn values_set_after_destroy_start_a_new_session() {
    for kind in BOTH {
        let mut h = logged_in(kind, settings()).await;
        let old = h.peek().await.id().unwrap();
        let set = h
            .request(|s: &Session| {
                s.destroy();
                s.set("flash", "logged out").unwrap();
            })
            .await;
        assert_eq!(set.len(), 1);
        assert!(!set[0].contains("Max-Age=0"));
        let session = h.peek().await;
        assert_ne!(session.id().unwrap(), old);
        assert_eq!(session.get::<String>("user"), None);
        assert_eq!(
            session.get::<String>("flash").as_deref(),
            Some("logged out")
        );
        if kind == Kind::Store {
            assert!(!h.store.contains(&old.store_key()).await);
            assert_eq!(h.store.len(), 1);
        }
    }
}

// ---- nothing written that need not be --------------------------------------------------

#[tokio::test]
async fn read_only_request_costs_no_write_and_no_cookie() {
    for kind in BOTH {
        let mut h = logged_in(kind, settings()).await;
        let writes = h.store.writes();
        for _ in 0..3 {
            h.clock.advance(10);
            let set = h
                .request(|s: &Session| {
                    assert_eq!(s.get::<String>("user").as_deref(), Some("ada"));
                    s.set("user", "ada").unwrap(); // the same value is no change
                })
                .await;
            assert!(set.is_empty(), "{kind:?}");
        }
        assert_eq!(h.store.writes(), writes, "{kind:?}");
    }
}

#[tokio::test]
async fn anonymous_visits_store_nothing() {
    for kind in BOTH {
        let mut h = Harness::new(kind, settings());
        for _ in 0..3 {
            let set = h
                .request(|s: &Session| {
                    assert!(s.get::<String>("user").is_none());
                })
                .await;
            assert!(set.is_empty());
        }
        // Setting then removing a value leaves nothing to store either.
        let set = h
            .request(|s: &Session| {
                s.set("x", &1).unwrap();
                s.delete("x");
            })
            .await;
        assert!(set.is_empty());
        assert_eq!(h.store.writes(), 0);
        assert_eq!(h.store.len(), 0);
    }
}

#[tokio::test]
async fn server_error_discards_changes() {
    for kind in BOTH {
        let mut h = logged_in(kind, settings()).await;
        let writes = h.store.writes();
        let set = h
            .request_with(true, |s: &Session| {
                s.set("user", "mallory").unwrap();
                s.cycle();
            })
            .await;
        assert!(set.is_empty(), "{kind:?}: no Set-Cookie on a 5xx");
        assert_eq!(h.store.writes(), writes, "{kind:?}: no write on a 5xx");
        assert_eq!(user(&mut h).await.as_deref(), Some("ada"));
        // A destroy in a failed request is dropped too.
        assert!(
            h.request_with(true, |s: &Session| s.destroy())
                .await
                .is_empty()
        );
        assert_eq!(user(&mut h).await.as_deref(), Some("ada"));
        // And a new session begun by a failed request is never stored.
        let mut fresh = Harness::new(kind, settings());
        assert!(
            fresh
                .request_with(true, |s: &Session| s.set("a", &1).unwrap())
                .await
                .is_empty()
        );
        assert_eq!(fresh.store.len(), 0);
    }
}
