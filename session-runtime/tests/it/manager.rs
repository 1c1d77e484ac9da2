//! The manager's handling of bad cookies, keys, sizes, schema changes and store failures.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::id::SessionId;
use session_runtime::keys::{Key, Keys};
use session_runtime::spec::CookieMode;
use session_runtime::{Error, Session, SessionManager, Settings, StoreError, Timestamp};

use crate::support::{BOTH, Harness, Kind, ShopV1, ShopV2, ShopV3, T0, settings, value_of};

const REMOVAL: &str =
    "session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax";

#[tokio::test]
async fn unknown_id_is_not_adopted_and_creates_no_record() {
    let mut h: Harness = Harness::new(Kind::Store, settings());
    let chosen = SessionId::generate().unwrap();
    h.jar = Some(chosen.as_str().to_owned());
    let set = h
        .request(|s: &Session| {
            assert!(s.id().is_none());
            assert!(s.get_all().is_empty());
        })
        .await;
    assert!(
        set.is_empty(),
        "an unknown id is unauthenticated: no removal cookie for it ({set:?})"
    );
    assert_eq!(h.store.writes(), 0, "loading an unknown id writes nothing");
    assert_eq!(h.store.len(), 0);

    // Even when the request then stores data, the chosen id is not the one issued.
    h.jar = Some(chosen.as_str().to_owned());
    let set = h.request(|s: &Session| s.set("user", "eve").unwrap()).await;
    assert_ne!(value_of(&set[0]), chosen.as_str());
    assert!(!h.store.contains(&chosen.store_key()).await);
    assert_eq!(h.store.len(), 1);
}

#[tokio::test]
async fn malformed_and_tampered_cookies_give_a_fresh_session() {
    for kind in BOTH {
        let mut h = Harness::signed_in(kind, settings()).await;
        let good = h.jar.clone().unwrap();
        let mut bad: Vec<String> = vec![
            String::new(),
            "x".into(),
            "%%%".into(),
            "é".repeat(20),
            "A".repeat(10_000),
            good[..good.len() - 1].to_owned(),
            format!("{good}A"),
        ];
        // Flip one character at a few positions.
        for i in [0, good.len() / 2, good.len() - 1] {
            let mut chars: Vec<char> = good.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            bad.push(chars.into_iter().collect());
        }
        let mut tried = 0;
        for value in bad {
            h.jar = Some(value.clone());
            let session = h.peek().await;
            assert!(session.id().is_none(), "{kind:?}: {value:.40} accepted");
            assert!(session.get_all().is_empty());
            tried += 1;
        }
        assert_eq!(tried, 10);
        assert_eq!(h.store.len(), if kind == Kind::Store { 1 } else { 0 });
    }
}

#[tokio::test]
async fn the_first_valid_of_several_cookies_wins() {
    for kind in BOTH {
        let h = Harness::signed_in(kind, settings()).await;
        let good = h.jar.clone().unwrap();
        let header = format!("session=garbage; other=1; session={good}");
        let session = h.manager.load([header.as_str()]).await.unwrap();
        assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
        assert!(h.manager.commit(&session, false).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn cookie_of_another_schema_is_refused() {
    let keys = Keys::generate();
    let mut h: Harness = Harness::with_keys(Kind::Cookie, settings(), keys.clone());
    h.request(|s: &Session| s.set("count", &1).unwrap()).await;
    let other: Harness<ShopV1> = Harness::with_keys(Kind::Cookie, settings(), keys);
    let header = format!("session={}", h.jar.unwrap());
    let session = other.manager.load([header.as_str()]).await.unwrap();
    assert!(
        session.id().is_none(),
        "a `dynamic` cookie must not open as `shop`"
    );
}

#[tokio::test]
async fn fallback_key_is_reissued_under_primary_and_removed_key_refused() {
    for mode in [CookieMode::Signed, CookieMode::Encrypted] {
        let settings = Settings {
            cookie_mode: mode,
            ..settings()
        };
        let old = Key::generate();
        let new = Key::generate();
        let mut h: Harness = Harness::with_keys(
            Kind::Cookie,
            settings.clone(),
            Keys::new(old.clone(), vec![]),
        );
        h.request(|s: &Session| s.set("user", "ada").unwrap()).await;
        let old_cookie = h.cookie_header();

        // Rotated keys: `new` is primary, `old` a fallback.
        let rotated: Harness = Harness::with_keys(
            Kind::Cookie,
            settings.clone(),
            Keys::new(new.clone(), vec![old]),
        );
        let session = rotated.manager.load([old_cookie.as_str()]).await.unwrap();
        assert_eq!(
            session.get::<String>("user").as_deref(),
            Some("ada"),
            "{mode:?}"
        );
        assert!(!session.is_modified(), "a re-issue is not a change of data");
        let set = rotated.manager.commit(&session, false).await.unwrap();
        assert_eq!(
            set.len(),
            1,
            "{mode:?}: accepted under a fallback, re-issued at once"
        );
        let new_cookie = set[0].split(';').next().unwrap().to_owned();
        assert_ne!(new_cookie, old_cookie);

        // The re-issued cookie opens under the primary alone; the old one does not.
        let only_new: Harness =
            Harness::with_keys(Kind::Cookie, settings.clone(), Keys::new(new, vec![]));
        let session = only_new.manager.load([new_cookie.as_str()]).await.unwrap();
        assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
        assert!(
            only_new
                .manager
                .commit(&session, false)
                .await
                .unwrap()
                .is_empty(),
            "under the primary: no re-issue"
        );
        let session = only_new.manager.load([old_cookie.as_str()]).await.unwrap();
        assert!(
            session.id().is_none(),
            "{mode:?}: a removed key's cookie is refused"
        );
    }
}

#[tokio::test]
async fn signed_cookie_is_readable_but_not_writable_by_the_client() {
    let signed = Settings {
        cookie_mode: CookieMode::Signed,
        ..settings()
    };
    let mut h = Harness::signed_in(Kind::Cookie, signed).await;
    let value = h.jar.clone().unwrap();
    let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    let text = String::from_utf8_lossy(&raw);
    // The binary payload keeps keys and strings as they are: readable after base64url.
    assert!(
        text.contains("user") && text.contains("ada"),
        "signed payloads are readable: {text}"
    );
    // The client swaps in another name of the same length: refused.
    let mut bytes = raw.clone();
    let at = raw.windows(3).position(|w| w == b"ada").unwrap();
    bytes[at..at + 3].copy_from_slice(b"eve");
    h.jar = Some(URL_SAFE_NO_PAD.encode(bytes));
    assert!(h.peek().await.id().is_none());

    let mut enc: Harness = Harness::new(Kind::Cookie, settings());
    enc.request(|s: &Session| s.set("user", "ada").unwrap())
        .await;
    let raw = URL_SAFE_NO_PAD.decode(enc.jar.clone().unwrap()).unwrap();
    assert!(
        !raw.windows(3).any(|w| w == b"ada"),
        "encrypted payloads are not readable"
    );
}

#[tokio::test]
async fn cookie_too_large_is_a_typed_error() {
    use session_runtime::spec::budget::MAX_COOKIE_BYTES;
    let h: Harness = Harness::new(Kind::Cookie, settings());
    let session = h.manager.load(None::<&str>).await.unwrap();
    session.set("blob", &"x".repeat(5000)).unwrap();
    match h.manager.commit(&session, false).await {
        Err(Error::CookieTooLarge { size }) => assert!(size > MAX_COOKIE_BYTES, "{size}"),
        other => panic!("expected CookieTooLarge, got {other:?}"),
    }
    // A value well under the limit passes.
    let session = h.manager.load(None::<&str>).await.unwrap();
    session.set("blob", &"x".repeat(2000)).unwrap();
    let set = h.manager.commit(&session, false).await.unwrap();
    let (name, value) = set[0].split(';').next().unwrap().split_once('=').unwrap();
    assert!(name.len() + value.len() <= MAX_COOKIE_BYTES);
}

/// A session of schema version 1 holding `count` = 3 on `kind`, and the keys that sealed it.
async fn count_of_3_in_v1(kind: Kind) -> (Harness<ShopV1>, Keys) {
    let keys = Keys::generate();
    let mut v1: Harness<ShopV1> = Harness::with_keys(kind, settings(), keys.clone());
    v1.request(|s| {
        session_runtime::__private::set(s, "count", "count", &3u32).unwrap();
    })
    .await;
    (v1, keys)
}

/// A harness of a later schema version reading what `v1` wrote: the same keys, store and
/// cookie (the store backend's manager built on `v1`'s store).
fn upgraded<S: session_runtime::SessionSchema>(
    kind: Kind,
    keys: Keys,
    v1: &Harness<ShopV1>,
) -> Harness<S> {
    let mut next: Harness<S> = Harness::with_keys(kind, settings(), keys);
    next.store = v1.store.clone();
    if kind == Kind::Store {
        next.manager = SessionManager::with_store(settings(), v1.store.clone())
            .unwrap()
            .with_clock(Arc::new(next.clock.clone()));
    }
    next.jar = v1.jar.clone();
    next
}

#[tokio::test]
async fn schema_field_added_with_default_fills_in() {
    for kind in BOTH {
        let (v1, keys) = count_of_3_in_v1(kind).await;
        let mut v2: Harness<ShopV2> = upgraded(kind, keys, &v1);
        let session = v2.peek().await;
        let data = session.get_all();
        assert_eq!(data["count"], 3, "{kind:?}");
        assert_eq!(
            data["theme"], "light",
            "{kind:?}: the new field's default fills in"
        );
        // The upgraded data is written back once, under the new version.
        let set = v2.manager.commit(&session, false).await.unwrap();
        assert_eq!(set.len(), 1);
        v2.accept(&set[0]);
        let session = v2.peek().await;
        assert!(v2.manager.commit(&session, false).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn schema_field_retyped_resets_the_session() {
    for kind in BOTH {
        let (v1, keys) = count_of_3_in_v1(kind).await;
        let old_id = v1.peek().await.id().unwrap();
        let v3: Harness<ShopV3> = upgraded(kind, keys, &v1);
        let session = v3.peek().await;
        assert!(session.id().is_none(), "{kind:?}: reset to a fresh session");
        assert!(session.get_all().is_empty());
        let set = v3.manager.commit(&session, false).await.unwrap();
        assert_eq!(set, [REMOVAL], "{kind:?}");
        if kind == Kind::Store {
            assert!(
                !v1.store.contains(&old_id.store_key()).await,
                "the unusable record is deleted"
            );
        }
    }
}

#[tokio::test]
async fn store_failure_is_an_error_not_a_fresh_session() {
    let h = Harness::signed_in(Kind::Store, settings()).await;
    h.store.down.store(true, Ordering::SeqCst);
    let header = h.cookie_header();
    match h.manager.load([header.as_str()]).await {
        Err(e @ Error::Store(StoreError::Unavailable(_))) => assert!(e.is_retryable()),
        other => panic!("expected an unavailable store, got {other:?}"),
    }
    h.store.down.store(false, Ordering::SeqCst);
    let session = h.manager.load([header.as_str()]).await.unwrap();
    session.set("user", "bob").unwrap();
    h.store.down.store(true, Ordering::SeqCst);
    assert!(matches!(
        h.manager.commit(&session, false).await,
        Err(Error::Store(StoreError::Unavailable(_)))
    ));
}

#[tokio::test]
async fn corrupt_record_gives_a_fresh_session() {
    let mut h = Harness::signed_in(Kind::Store, settings()).await;
    let id = h.peek().await.id().unwrap();
    h.store.corrupt(&id.store_key(), b"{not json").await;
    let set = h
        .request(|s: &Session| assert!(s.get_all().is_empty()))
        .await;
    assert_eq!(set, [REMOVAL]);
    assert!(
        !h.store.contains(&id.store_key()).await,
        "the corrupt record is deleted"
    );
}

#[tokio::test]
async fn concurrent_change_conflicts_but_a_lost_refresh_does_not() {
    let h = Harness::signed_in(Kind::Store, settings()).await;
    let header = h.cookie_header();
    // Both read the counter, then write it: the second is a real conflict.
    let a = h.manager.load([header.as_str()]).await.unwrap();
    let b = h.manager.load([header.as_str()]).await.unwrap();
    let n = a.get::<i32>("cart").unwrap_or(0);
    a.set("cart", &(n + 1)).unwrap();
    let n = b.get::<i32>("cart").unwrap_or(0);
    b.set("cart", &(n + 2)).unwrap();
    assert_eq!(h.manager.commit(&a, false).await.unwrap().len(), 1);
    match h.manager.commit(&b, false).await {
        Err(e @ Error::Store(StoreError::Conflict { .. })) => assert!(e.is_retryable()),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let session = h.manager.load([header.as_str()]).await.unwrap();
    assert_eq!(
        session.get::<i32>("cart"),
        Some(1),
        "the first write stands"
    );
}

/// Two requests that write different keys without reading them: the loser's write is
/// replayed on the winner's record, and both land.
#[tokio::test]
async fn concurrent_blind_writes_are_replayed_and_both_land() {
    let h = Harness::signed_in(Kind::Store, settings()).await;
    let header = h.cookie_header();
    let a = h.manager.load([header.as_str()]).await.unwrap();
    let b = h.manager.load([header.as_str()]).await.unwrap();
    a.set("theme", "dark").unwrap();
    b.set("lang", "fr").unwrap();
    assert_eq!(h.manager.commit(&a, false).await.unwrap().len(), 1);
    assert_eq!(h.manager.commit(&b, false).await.unwrap().len(), 1);
    let session = h.manager.load([header.as_str()]).await.unwrap();
    assert_eq!(session.get::<String>("theme").as_deref(), Some("dark"));
    assert_eq!(session.get::<String>("lang").as_deref(), Some("fr"));
    assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
}

/// Two requests each take the last place of a bounded counter in one replayable step: the
/// loser's step, replayed on the winner's record, no longer applies. Its commit fails with
/// `Error::Replay`, saves nothing, and is retryable (a `503`): a retry runs the request on
/// the fresh data and gets its real answer.
#[tokio::test]
async fn a_replay_that_no_longer_applies_fails_and_is_retryable() {
    use session_runtime::{Rule, ValidationError};
    let h = Harness::signed_in(Kind::Store, settings()).await;
    let header = h.cookie_header();
    let take_the_last_place = |s: &Session| {
        s.update(|s| {
            let taken = s.get::<u32>("taken").unwrap_or(0);
            if taken >= 1 {
                return Err(ValidationError::new("taken", Rule::Max, "no place left"));
            }
            s.set("taken", &(taken + 1))
                .map_err(|e| ValidationError::new("taken", Rule::Type, e.to_string()))
        })
    };
    let a = h.manager.load([header.as_str()]).await.unwrap();
    let b = h.manager.load([header.as_str()]).await.unwrap();
    take_the_last_place(&a).unwrap();
    take_the_last_place(&b).unwrap();
    assert_eq!(h.manager.commit(&a, false).await.unwrap().len(), 1);
    match h.manager.commit(&b, false).await {
        Err(e @ Error::Replay(_)) => assert!(e.is_retryable(), "{e}"),
        other => panic!("expected a replay failure, got {other:?}"),
    }
    let session = h.manager.load([header.as_str()]).await.unwrap();
    assert_eq!(session.get::<u32>("taken"), Some(1));
}

#[tokio::test]
async fn session_handle_reports_its_state() {
    let h: Harness = Harness::new(Kind::Store, settings());
    let session = h.manager.load(None::<&str>).await.unwrap();
    assert!(session.id().is_none());
    assert!(!session.is_modified());
    assert_eq!(session.created_at(), Timestamp(T0));
    assert_eq!(session.expiration_time(), Timestamp(T0 + 3600));
    session.set("a", &1).unwrap();
    assert!(session.is_modified());
    session.clear();
    assert!(session.get_all().is_empty());
    session.set("b", &2).unwrap();
    h.manager.commit(&session, false).await.unwrap();
    let id = session.id().expect("an id is issued at the first save");
    assert!(!session.is_modified(), "committed");
    assert!(h.store.contains(&id.store_key()).await);
    assert_eq!(h.store.creates.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn record_of_another_schema_is_refused() {
    let mut h: Harness = Harness::new(Kind::Store, settings());
    h.request(|s: &Session| s.set("count", &1).unwrap()).await;
    let shop = SessionManager::<ShopV1>::with_store(settings(), h.store.clone())
        .unwrap()
        .with_clock(Arc::new(h.clock.clone()));
    let header = h.cookie_header();
    let session = shop.load([header.as_str()]).await.unwrap();
    assert!(session.id().is_none() && session.get_all().is_empty());
}

#[tokio::test]
async fn is_new_tells_a_first_visit() {
    for kind in BOTH {
        let mut h: Harness = Harness::new(kind, settings());
        h.request(|s: &Session| {
            assert!(s.is_new());
            s.set("user", "ada").unwrap();
        })
        .await;
        h.request(|s: &Session| assert!(!s.is_new())).await;
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Whatever a client sends as `Cookie` headers, loading never panics and never errs
    /// (the store is up), and never yields a session with an id.
    #[test]
    fn arbitrary_cookie_headers_never_panic(
        headers in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..200), 0..4),
        value in "[A-Za-z0-9_=;\"-]{0,120}",
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            for kind in BOTH {
                let h: Harness = Harness::new(kind, settings());
                let mut all = headers.clone();
                all.push(format!("session={value}").into_bytes());
                let session = h.manager.load(&all).await.expect("no store error");
                assert!(session.id().is_none());
                let set = h.manager.commit(&session, false).await.expect("commit");
                assert!(set.len() <= 1);
                assert_eq!(h.store.writes(), 0);
            }
        });
    }
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let id = SessionId::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("core-{tag}-{}", &id.as_str()[..12]));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn from_settings_opens_the_configured_backend_with_keys_from_a_file() {
    use session_runtime::spec::{Backend, KeySource};
    let dir = temp_dir("from-settings");
    let key_file = dir.join("keys");
    std::fs::write(&key_file, format!("{}\n", Key::generate_text().unwrap())).unwrap();
    let keys = KeySource {
        file: Some(key_file),
        ..KeySource::default()
    };
    let sessions = dir.join("sessions");
    for backend in [
        Backend::Cookie,
        Backend::Memory,
        Backend::File {
            dir: sessions.clone(),
            encrypt: true,
            durability: Default::default(),
        },
    ] {
        let settings = Settings {
            backend: backend.clone(),
            keys: keys.clone(),
            ..settings()
        };
        let manager: SessionManager = SessionManager::from_settings(settings).await.unwrap();
        let session = manager.load(None::<&str>).await.unwrap();
        session.set("secret", "swordfish").unwrap();
        let set = manager.commit(&session, false).await.unwrap();
        let cookie = set[0].split(';').next().unwrap().to_owned();
        let session = manager.load([cookie.as_str()]).await.unwrap();
        assert_eq!(
            session.get::<String>("secret").as_deref(),
            Some("swordfish"),
            "{backend:?}"
        );
    }
    // Encrypted at rest: no file holds the plaintext.
    let mut files = 0;
    for entry in std::fs::read_dir(&sessions).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue; // the lock files
        }
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.windows(9).any(|w| w == b"swordfish"));
        files += 1;
    }
    assert_eq!(files, 1);
    // The cookie backend without a usable key refuses to start.
    let short = dir.join("short");
    std::fs::write(&short, "too short\n").unwrap();
    let settings = Settings {
        keys: KeySource {
            file: Some(short),
            ..KeySource::default()
        },
        ..settings()
    };
    assert!(matches!(
        SessionManager::<session_runtime::Dynamic>::from_settings(settings).await,
        Err(Error::Key(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn extreme_timestamps_in_a_record_do_not_panic() {
    let policy = Settings {
        idle_timeout: Some(session_runtime::spec::Lifetime::from_seconds(100)),
        rotation_interval: Some(session_runtime::spec::Lifetime::from_seconds(10)),
        ..settings()
    };
    let cases = [
        (i64::MIN, i64::MAX),
        (i64::MAX, i64::MAX),
        (0, i64::MIN),
        (T0, i64::MAX),
    ];
    for (early, late) in cases {
        let mut h = Harness::signed_in(Kind::Store, policy.clone()).await;
        let id = h.peek().await.id().unwrap();
        let payload = format!(
            r#"{{"f":1,"n":"dynamic","s":1,"c":{early},"i":{early},"l":{late},"e":{late},"d":{{"user":"ada"}}}}"#
        );
        h.store.corrupt(&id.store_key(), payload.as_bytes()).await;
        // Whatever the record says, the request completes.
        h.request(|s: &Session| s.set("n", &1).unwrap()).await;
    }
}

#[tokio::test]
async fn an_id_collision_draws_another_id() {
    let mut h: Harness = Harness::new(Kind::Store, settings());
    h.store.collide.store(2, Ordering::SeqCst);
    let set = h.request(|s: &Session| s.set("user", "ada").unwrap()).await;
    assert_eq!(set.len(), 1);
    assert_eq!(
        h.store.creates.load(Ordering::SeqCst),
        3,
        "two collisions, then a fresh id"
    );
    assert_eq!(h.store.len(), 1);
    // A store that always collides is an error, not a loop.
    let h: Harness = Harness::new(Kind::Store, settings());
    h.store.collide.store(usize::MAX, Ordering::SeqCst);
    let session = h.manager.load(None::<&str>).await.unwrap();
    session.set("user", "ada").unwrap();
    assert!(matches!(
        h.manager.commit(&session, false).await,
        Err(Error::Store(StoreError::Exists))
    ));
}

/// A session issued under a 30-day lifetime does not stay valid 30 days once the policy is
/// shortened to one hour: the deadline is also capped by what the current policy allows
/// from the stored last-seen and creation times.
#[tokio::test]
async fn a_shortened_lifetime_applies_to_sessions_issued_before() {
    use session_runtime::spec::Lifetime;
    let store: Arc<dyn session_runtime::SessionStore> =
        Arc::new(session_runtime::store::MemoryStore::new());
    let clock = session_runtime::MockClock::new(Timestamp(T0));
    let policy = |lifetime: Lifetime| Settings {
        expiration_time: lifetime,
        ..settings()
    };
    let long: SessionManager =
        SessionManager::with_store(policy(Lifetime::from_minutes(30 * 1440)), store.clone())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
    let session = long.load(None::<&str>).await.unwrap();
    session.set("user", "ada").unwrap();
    let set = long.commit(&session, false).await.unwrap();
    let cookie = set[0].split(';').next().unwrap().to_owned();
    let short: SessionManager =
        SessionManager::with_store(policy(Lifetime::from_minutes(60)), store.clone())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
    clock.advance(59 * 60);
    let session = short.load([cookie.as_str()]).await.unwrap();
    assert_eq!(
        session.get::<String>("user").as_deref(),
        Some("ada"),
        "within the hour"
    );
    clock.advance(2 * 60);
    let session = short.load([cookie.as_str()]).await.unwrap();
    assert!(
        session.get::<String>("user").is_none(),
        "an hour after its last activity, under the one-hour policy, the session is over"
    );
}

/// A session whose recorded creation lies in the future (the clock went back) is refused.
#[tokio::test]
async fn a_session_created_in_the_future_is_refused() {
    let h = Harness::signed_in(Kind::Store, settings()).await;
    let id = h.peek().await.id().unwrap();
    let future = T0 + 3600;
    let payload = format!(
        r#"{{"f":1,"n":"dynamic","s":1,"c":{future},"i":{future},"l":{future},"e":{},"d":{{"user":"ada"}}}}"#,
        future + 3600
    );
    h.store.corrupt(&id.store_key(), payload.as_bytes()).await;
    assert!(h.peek().await.get::<String>("user").is_none());
}

/// The memory store lends exactly the record `load` returns: the live one, nothing for an
/// expired or unknown key; an `Arc` of it lends too.
#[tokio::test]
async fn memory_store_lends_what_it_loads() {
    use session_runtime::store::MemoryStore;
    use session_runtime::{Record, SessionStore};
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let live = SessionId::generate().unwrap().store_key();
    let expired = SessionId::generate().unwrap().store_key();
    let unknown = SessionId::generate().unwrap().store_key();
    let record = |expires_at| Record {
        payload: b"payload".to_vec(),
        expires_at: Timestamp(expires_at),
        version: 0,
        principal: Some("ada".to_owned()),
    };
    store.create(&live, &record(T0 + 10)).await.unwrap();
    store.create(&expired, &record(T0)).await.unwrap();
    for key in [live, expired, unknown] {
        let loaded = store.load(&key, Timestamp(T0)).await.unwrap();
        let mut lent = None;
        assert!(store.lend(&key, Timestamp(T0), &mut |r| lent = Some(r.cloned())));
        assert_eq!(lent, Some(loaded));
    }
    let mut calls = 0;
    assert!(store.lend(&live, Timestamp(T0), &mut |r| {
        calls += 1;
        assert_eq!(
            r.map(|r| (r.version, &r.payload[..])),
            Some((1, &b"payload"[..]))
        );
    }));
    assert_eq!(calls, 1);
}

/// A session opens alike whether the store lends its record or the manager loads a copy:
/// reads, writes, a rotation's forward within and after its grace period, an expired
/// session, a corrupt record, an unknown id.
#[tokio::test]
async fn sessions_open_alike_lent_or_loaded() {
    async fn run(lend: bool) -> Vec<String> {
        let mut seen = Vec::new();
        let settings = Settings {
            rotation_interval: Some(session_runtime::spec::Lifetime::from_seconds(100)),
            ..settings()
        };
        let mut h: Harness = Harness::new(Kind::Store, settings);
        h.store.no_lend.store(!lend, Ordering::SeqCst);
        let mut log = |what: &str, set: &[String], h: &Harness| {
            let shapes: Vec<String> = set.iter().map(|c| crate::support::shape(c)).collect();
            seen.push(format!("{what}: {shapes:?} jar {}", h.jar.is_some()));
        };
        let set = h.request(|s: &Session| s.set("user", "ada").unwrap()).await;
        log("login", &set, &h);
        let set = h
            .request(|s: &Session| assert_eq!(s.get::<String>("user").as_deref(), Some("ada")))
            .await;
        log("read", &set, &h);
        let set = h.request(|s: &Session| s.set("n", &1).unwrap()).await;
        log("write", &set, &h);
        // A periodic rotation leaves a forward for its grace period (30 s).
        let old = h.jar.clone();
        h.clock.advance(100);
        let set = h.request(|_: &Session| {}).await;
        log("rotation", &set, &h);
        let new = h.jar.clone();
        assert_ne!(new, old);
        h.jar = old.clone();
        let set = h
            .request(|s: &Session| assert_eq!(s.get::<u64>("n"), Some(1)))
            .await;
        log("old id in grace", &set, &h);
        assert_eq!(h.jar, new, "the old id re-issues the new cookie");
        h.clock.advance(30);
        h.jar = old;
        let set = h
            .request(|s: &Session| assert!(s.get_all().is_empty()))
            .await;
        log("old id after grace", &set, &h);
        // A cycle leaves a tombstone: the old cookie opens nothing at once.
        h.jar = new;
        let old = h.jar.clone();
        let set = h.request(|s: &Session| s.cycle()).await;
        log("cycle", &set, &h);
        let new = h.jar.clone();
        h.jar = old;
        let set = h
            .request(|s: &Session| assert!(s.get_all().is_empty()))
            .await;
        log("old id after cycle", &set, &h);
        h.jar = new;
        let id = h.peek().await.id().unwrap();
        h.store.corrupt(&id.store_key(), b"{not json").await;
        let set = h
            .request(|s: &Session| assert!(s.get_all().is_empty()))
            .await;
        log("corrupt", &set, &h);
        h.request(|s: &Session| s.set("user", "bob").unwrap()).await;
        h.clock.advance(3601);
        let set = h
            .request(|s: &Session| assert!(s.get_all().is_empty()))
            .await;
        log("expired", &set, &h);
        h.jar = Some(SessionId::generate().unwrap().as_str().to_owned());
        let set = h
            .request(|s: &Session| assert!(s.get_all().is_empty()))
            .await;
        log("unknown", &set, &h);
        seen
    }
    let loaded = run(false).await;
    let lent = run(true).await;
    assert_eq!(lent, loaded);
    assert_eq!(lent.len(), 11, "{lent:?}");
}
