//! One request's session cost through the tower layer: this toolkit next to tower-sessions
//! (its memory store and signed cookies) and actix-session (its cookie store, signed and
//! private), in one run.
//!
//! Run, from the repository root: `cargo bench --manifest-path bench/http/Cargo.toml --bench
//! compare` (this package is outside the main workspace, so that its peers' crates are never
//! built by `cargo test --workspace`).
//!
//! actix-session runs in-process too: `actix_web::test::init_service` builds the app once,
//! `call_service` sends each request, on one actix system runner.
//!
//! Every measured request sends the session cookie of an existing session holding a small
//! map (user id, name, cart, CSRF token, flash), and the handler changes one value, so
//! every request loads, writes and answers with a `Set-Cookie`.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, Response};
use serde_json::{Map, Value, json};
use session_runtime::keys::{Key, Keys};
use session_runtime::spec::settings::CookieMode;
use session_runtime::store::MemoryStore;
use session_runtime::{SessionLayer, SessionManager, Settings};
use tower::{Layer, Service, ServiceExt};

fn app_data() -> Map<String, Value> {
    match json!({
        "user_id": 421337,
        "username": "dunamis",
        "cart": ["apple", "pear", "fig"],
        "csrf": "Yq3s0bM1s2lUQW1xR3l2a0Zr",
        "flash": "Your order was placed.",
    }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Sends a priming request (no cookie: the handler fills the session), then measures
/// requests that send its cookie back.
fn bench_service<Svc>(c: &mut Criterion, name: &str, svc: Svc)
where
    Svc: Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let first = rt.block_on(svc.clone().oneshot(Request::new(()))).unwrap();
    let set_cookie = first.headers().get(SET_COOKIE).expect("a session cookie");
    let cookie = cookie_pair(set_cookie.as_bytes());
    assert_accepted(name, || {
        let req = Request::builder()
            .header(COOKIE, cookie.as_str())
            .body(())
            .unwrap();
        rt.block_on(svc.clone().oneshot(req)).unwrap();
    });
    c.bench_function(name, |b| {
        b.iter(|| {
            let req = Request::builder()
                .header(COOKIE, black_box(cookie.as_str()))
                .body(())
                .unwrap();
            let res = rt.block_on(svc.clone().oneshot(req)).unwrap();
            assert!(res.headers().contains_key(SET_COOKIE));
            black_box(res)
        })
    });
}

static N: AtomicU64 = AtomicU64::new(0);

/// The `name=value` pair of a `Set-Cookie` header's value.
fn cookie_pair(set_cookie: &[u8]) -> String {
    let value = std::str::from_utf8(set_cookie).expect("an ASCII Set-Cookie");
    value.split(';').next().unwrap_or_default().to_owned()
}

/// Runs `send` (one unmeasured request with the cookie) and checks that it reached the
/// existing session (the handler counts the changes it makes to a loaded session), or the
/// figures would be wrong.
fn assert_accepted(name: &str, send: impl FnOnce()) {
    let changes = N.load(Ordering::Relaxed);
    send();
    assert_eq!(
        N.load(Ordering::Relaxed),
        changes + 1,
        "{name}: cookie not accepted"
    );
}

fn ours(c: &mut Criterion) {
    let handler = tower::service_fn(|req: Request<()>| async move {
        let session = req
            .extensions()
            .get::<session_runtime::Session>()
            .unwrap()
            .clone();
        if session.get::<Value>("user_id").is_none() {
            for (key, value) in app_data() {
                session.set(&key, &value).unwrap();
            }
        } else {
            session
                .set("flash", &N.fetch_add(1, Ordering::Relaxed))
                .unwrap();
        }
        Ok::<_, Infallible>(Response::new(()))
    });
    let settings = |mode| Settings {
        secure: false,
        cookie_mode: mode,
        ..Settings::default()
    };
    for (name, mode) in [
        ("signed", CookieMode::Signed),
        ("encrypted", CookieMode::Encrypted),
    ] {
        let keys = Keys::new(Key::generate(), vec![Key::generate()]);
        let manager: SessionManager = SessionManager::cookie(settings(mode), keys).unwrap();
        let svc = SessionLayer::new(manager).layer(handler);
        bench_service(c, &format!("layer/ours/cookie-{name}"), svc);
    }
    let manager: SessionManager =
        SessionManager::with_store(settings(CookieMode::Signed), Arc::new(MemoryStore::new()))
            .unwrap();
    let svc = SessionLayer::new(manager).layer(handler);
    bench_service(c, "layer/ours/memory", svc);
}

fn tower_sessions(c: &mut Criterion) {
    let handler = tower::service_fn(|req: Request<()>| async move {
        let session = req
            .extensions()
            .get::<tower_sessions::Session>()
            .unwrap()
            .clone();
        if session.is_empty().await {
            for (key, value) in app_data() {
                session.insert(&key, value).await.unwrap();
            }
        } else {
            session
                .insert("flash", N.fetch_add(1, Ordering::Relaxed))
                .await
                .unwrap();
        }
        Ok::<_, Infallible>(Response::new(()))
    });
    let layer = tower_sessions::SessionManagerLayer::new(tower_sessions::MemoryStore::default())
        .with_secure(false)
        .with_signed(tower_sessions::cookie::Key::generate());
    bench_service(
        c,
        "layer/tower-sessions/memory-signed",
        layer.layer(handler),
    );
}

async fn actix_handler(session: actix_session::Session) -> actix_web::HttpResponse {
    if session.get::<Value>("user_id").ok().flatten().is_none() {
        for (key, value) in app_data() {
            session.insert(key, value).unwrap();
        }
    } else {
        session
            .insert("flash", N.fetch_add(1, Ordering::Relaxed))
            .unwrap();
    }
    actix_web::HttpResponse::Ok().finish()
}

fn actix_session(c: &mut Criterion) {
    use actix_session::SessionMiddleware;
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_web::http::header::{COOKIE, SET_COOKIE};
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, web};

    let rt = actix_web::rt::System::new();
    for (name, security) in [
        ("signed", CookieContentSecurity::Signed),
        ("private", CookieContentSecurity::Private),
    ] {
        let middleware = SessionMiddleware::builder(
            CookieSessionStore::default(),
            actix_web::cookie::Key::generate(),
        )
        .cookie_secure(false)
        .cookie_content_security(security)
        .build();
        let app = rt.block_on(init_service(
            App::new()
                .wrap(middleware)
                .default_service(web::to(actix_handler)),
        ));
        let first = rt.block_on(call_service(&app, TestRequest::default().to_request()));
        let set_cookie = first.headers().get(SET_COOKIE).expect("a session cookie");
        let cookie = cookie_pair(set_cookie.as_bytes());
        assert_accepted(&format!("actix-session {name}"), || {
            let req = TestRequest::default()
                .insert_header((COOKIE, cookie.as_str()))
                .to_request();
            rt.block_on(call_service(&app, req));
        });
        c.bench_function(&format!("layer/actix-session/cookie-{name}"), |b| {
            b.iter(|| {
                let req = TestRequest::default()
                    .insert_header((COOKIE, black_box(cookie.as_str())))
                    .to_request();
                let res = rt.block_on(call_service(&app, req));
                assert!(res.headers().contains_key(SET_COOKIE));
                black_box(res)
            })
        });
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = ours, tower_sessions, actix_session
}
criterion_main!(benches);
