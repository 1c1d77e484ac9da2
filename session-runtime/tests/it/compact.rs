//! Smaller cookies: a counter session fits in 100 characters in both cookie modes, the
//! 321-byte session is no longer than actix-session's private cookie, and cookies and
//! records of the previous formats (JSON payload, codec format 1, 43-character ids) still
//! load until they expire.

use std::sync::Arc;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use session_runtime::keys::{Key, Keys};
use session_runtime::spec::settings::CookieMode;
use session_runtime::store::{MemoryStore, Record, SessionStore};
use session_runtime::{Map, MockClock, Session, SessionManager, Settings, Timestamp};
use sha2::Sha256;

const NOW: i64 = 1_790_000_000;

fn settings(mode: CookieMode) -> Settings {
    Settings {
        secure: false,
        cookie_mode: mode,
        ..Settings::default()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The `name=value` pair of a `Set-Cookie`.
fn pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// 321 bytes of JSON with the counter at 1, as in the HTTP benchmark.
fn big_session() -> Map {
    let mut map = match json!({
        "user_id": 421337,
        "username": "dunamis",
        "cart": ["apple", "pear", "fig", "plum"],
        "csrf": "Yq3s0bM1s2lUQW1xR3l2a0ZrT2Ji",
        "flash": "Your order was placed.",
        "note": "",
        "counter": 1,
    }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    let len = serde_json::to_string(&map).unwrap().len();
    map.insert("note".into(), Value::String("n".repeat(321 - len)));
    assert_eq!(serde_json::to_string(&map).unwrap().len(), 321);
    map
}

#[test]
fn a_counter_session_cookie_fits_in_100_characters_in_both_modes() {
    for mode in [CookieMode::Encrypted, CookieMode::Signed] {
        let clock = MockClock::new(Timestamp(NOW));
        let manager: SessionManager = SessionManager::cookie(settings(mode), Keys::generate())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let mut cookie: Option<String> = None;
        let mut longest = 0;
        // 300 increments a minute apart: the counter needs two bytes, the session is five
        // hours old.
        for n in 1..=300u64 {
            let session = rt().block_on(manager.load(cookie.as_deref())).unwrap();
            assert_eq!(session.get::<u64>("counter").unwrap_or(0), n - 1);
            session.set("counter", &n).unwrap();
            let set = rt().block_on(manager.commit(&session, false)).unwrap();
            let value = pair(&set[0]).to_owned();
            longest = longest.max(value.len());
            cookie = Some(value);
            clock.advance(60);
        }
        assert!(longest <= 100, "{mode:?}: {longest} characters");
    }
}

/// actix-session 0.11's private (encrypted) cookie for `data`, as the length of its
/// `name=value` pair.
fn actix_private_cookie_len(data: Map) -> usize {
    use actix_session::SessionMiddleware;
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_web::http::header::SET_COOKIE;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};

    actix_web::rt::System::new().block_on(async move {
        let app = init_service(
            App::new()
                .wrap(
                    SessionMiddleware::builder(
                        CookieSessionStore::default(),
                        actix_web::cookie::Key::generate(),
                    )
                    .cookie_secure(false)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
                )
                .default_service(web::to(move |session: actix_session::Session| {
                    let data = data.clone();
                    async move {
                        for (key, value) in data {
                            session.insert(key, value).unwrap();
                        }
                        HttpResponse::Ok().finish()
                    }
                })),
        )
        .await;
        let res = call_service(&app, TestRequest::default().to_request()).await;
        let set = res.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
        pair(set).len()
    })
}

#[test]
fn a_321_byte_session_cookie_is_no_longer_than_actix_sessions_private_cookie() {
    let data = big_session();
    let actix = actix_private_cookie_len(data.clone());
    for mode in [CookieMode::Encrypted, CookieMode::Signed] {
        let manager: SessionManager = SessionManager::cookie(settings(mode), Keys::generate())
            .unwrap()
            .with_clock(Arc::new(MockClock::new(Timestamp(NOW))));
        let session = rt().block_on(manager.load(None::<&str>)).unwrap();
        for (key, value) in &data {
            session.set(key, value).unwrap();
        }
        let set = rt().block_on(manager.commit(&session, false)).unwrap();
        let ours = pair(&set[0]).len();
        assert!(
            ours <= actix,
            "{mode:?}: ours {ours}, actix-session private {actix}"
        );
    }
}

/// What the codec derived from a key's secret before and after format 2 (HKDF-SHA256).
fn derive(secret: &[u8], info: &[u8]) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(b"session-toolkit key derivation v1"), secret);
    let mut out = [0; 32];
    hk.expand(info, &mut out).unwrap();
    out
}

/// The codec context of cookie `name` and schema `schema`: length-prefixed parts.
fn context(name: &str, schema: &str) -> Vec<u8> {
    [b"cookie".as_slice(), name.as_bytes(), schema.as_bytes()]
        .iter()
        .flat_map(|p| {
            (p.len() as u32)
                .to_be_bytes()
                .into_iter()
                .chain(p.iter().copied())
        })
        .collect()
}

/// A cookie value exactly as the previous version sealed it: a JSON payload (format 1) in
/// codec format 1 (4-byte key id, the whole HMAC tag).
fn format_1_cookie(mode: CookieMode, secret: &[u8], payload: &[u8]) -> String {
    let key_id = &derive(secret, b"session-toolkit v1 key id")[..4];
    let ctx = context("session", "dynamic");
    let raw = match mode {
        CookieMode::Signed => {
            let prefix = [&[0x11][..], key_id].concat();
            let signing = derive(secret, b"session-toolkit v1 hmac-sha256 signing");
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&signing).unwrap();
            mac.update(&prefix);
            mac.update(&ctx);
            mac.update(payload);
            [&prefix[..], payload, &mac.finalize().into_bytes()].concat()
        }
        CookieMode::Encrypted => {
            let prefix = [&[0x21][..], key_id].concat();
            let nonce = [9u8; 12];
            let cipher = Aes256Gcm::new_from_slice(&derive(
                secret,
                b"session-toolkit v1 aes-256-gcm encryption",
            ))
            .unwrap();
            let mut body = payload.to_vec();
            let aad = [&prefix[..], &ctx].concat();
            let tag = cipher
                .encrypt_in_place_detached(Nonce::from_slice(&nonce), &aad, &mut body)
                .unwrap();
            [&prefix[..], &nonce, &body, &tag].concat()
        }
    };
    URL_SAFE_NO_PAD.encode(raw)
}

fn old_id() -> String {
    URL_SAFE_NO_PAD.encode([0x5a; 32])
}

#[test]
fn cookies_of_the_previous_format_still_load_and_are_reissued_smaller() {
    let secret: Vec<u8> = (0u8..32).collect();
    let id = old_id();
    let payload = format!(
        r#"{{"f":1,"s":1,"id":"{id}","c":{c},"i":{c},"l":{c},"e":{e},"d":{{"counter":41}}}}"#,
        c = NOW - 100,
        e = NOW + 3600
    );
    for mode in [CookieMode::Signed, CookieMode::Encrypted] {
        let value = format_1_cookie(mode, &secret, payload.as_bytes());
        let keys = Keys::single(Key::from_secret(&secret).unwrap());
        let clock = MockClock::new(Timestamp(NOW));
        let manager: SessionManager = SessionManager::cookie(settings(mode), keys)
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let old = format!("session={value}");
        let session: Session = rt().block_on(manager.load([old.as_str()])).unwrap();
        assert_eq!(session.get::<u64>("counter"), Some(41), "{mode:?}");
        assert_eq!(
            session.id().unwrap().as_str(),
            id,
            "{mode:?}: the old id is kept"
        );
        session.set("counter", &42u64).unwrap();
        let set = rt().block_on(manager.commit(&session, false)).unwrap();
        let new = pair(&set[0]).to_owned();
        assert!(
            new.len() < old.len(),
            "{mode:?}: {} -> {}",
            old.len(),
            new.len()
        );
        let session: Session = rt().block_on(manager.load([new.as_str()])).unwrap();
        assert_eq!(session.get::<u64>("counter"), Some(42));
        assert_eq!(session.id().unwrap().as_str(), id);
        // Expiry still holds for an old cookie: an hour later it is refused.
        clock.advance(3600);
        let session: Session = rt().block_on(manager.load([old.as_str()])).unwrap();
        assert!(session.id().is_none(), "{mode:?}: expired");
    }
}

#[test]
fn records_and_ids_of_the_previous_format_still_load() {
    rt().block_on(async {
        let store = Arc::new(MemoryStore::new());
        let manager: SessionManager =
            SessionManager::with_store(settings(CookieMode::Encrypted), store.clone())
                .unwrap()
                .with_clock(Arc::new(MockClock::new(Timestamp(NOW))));
        let id = session_runtime::id::SessionId::parse(&old_id()).unwrap();
        let payload = format!(
            r#"{{"f":1,"n":"dynamic","s":1,"c":{c},"i":{c},"l":{c},"e":{e},"d":{{"counter":7}}}}"#,
            c = NOW - 100,
            e = NOW + 3600
        );
        let record = Record {
            payload: payload.into_bytes(),
            expires_at: Timestamp(NOW + 3600),
            version: 1,
            principal: None,
        };
        store.create(&id.store_key(), &record).await.unwrap();
        let cookie = format!("session={}", old_id());
        let session: Session = manager.load([cookie.as_str()]).await.unwrap();
        assert_eq!(session.get::<u64>("counter"), Some(7));
        session.set("counter", &8u64).unwrap();
        let set = manager.commit(&session, false).await.unwrap();
        assert_eq!(pair(&set[0]), cookie, "the old id stays in the cookie");
        let saved = store
            .load(&id.store_key(), Timestamp(NOW))
            .await
            .unwrap()
            .unwrap();
        assert!(saved.payload[0] >= 0x80, "re-saved in the binary format");
        let session: Session = manager.load([cookie.as_str()]).await.unwrap();
        assert_eq!(session.get::<u64>("counter"), Some(8));
        // A new session gets a 22-character id.
        let fresh: Session = manager.load(None::<&str>).await.unwrap();
        fresh.set("counter", &1u64).unwrap();
        let set = manager.commit(&fresh, false).await.unwrap();
        assert_eq!(pair(&set[0]).len(), "session=".len() + 22);
    });
}
