//! The tower layer and the axum extractor, driven with `oneshot` on an axum `Router`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, Response, StatusCode};
use session_runtime::{MockClock, Session, SessionLayer, SessionManager, Timestamp};
use tower::ServiceExt as _;

use crate::support::{CountingStore, T0, settings};

async fn login(session: Session) -> &'static str {
    session.set("user", "ada").unwrap();
    "welcome"
}

async fn whoami(session: Session) -> String {
    session
        .get::<String>("user")
        .unwrap_or_else(|| "nobody".into())
}

async fn broken(session: Session) -> StatusCode {
    session.set("user", "mallory").unwrap();
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn logout(session: Session) -> &'static str {
    session.destroy();
    "bye"
}

fn app(store: Arc<CountingStore>) -> Router {
    let manager: SessionManager = SessionManager::with_store(settings(), store)
        .unwrap()
        .with_clock(Arc::new(MockClock::new(Timestamp(T0))));
    Router::new()
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .route("/broken", get(broken))
        .route("/logout", get(logout))
        .layer(SessionLayer::new(manager))
        .route("/unlayered", get(whoami))
}

async fn call(app: &Router, path: &str, cookie: Option<&str>) -> Response<Body> {
    let mut req = Request::builder().uri(path);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn set_cookies(res: &Response<Body>) -> Vec<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn body(res: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn layer_loads_and_commits() {
    let store = CountingStore::new();
    let app = app(store.clone());

    let res = call(&app, "/whoami", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookies(&res).is_empty(),
        "an anonymous read sets no cookie"
    );
    assert_eq!(body(res).await, "nobody");

    let res = call(&app, "/login", None).await;
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    assert!(
        cookies[0].ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{}",
        cookies[0]
    );
    let cookie = cookies[0].split(';').next().unwrap().to_owned();

    let writes = store.writes();
    let res = call(&app, "/whoami", Some(&format!("theme=dark; {cookie}"))).await;
    assert!(
        set_cookies(&res).is_empty(),
        "a read-only request sets no cookie"
    );
    assert_eq!(body(res).await, "ada");
    assert_eq!(store.writes(), writes, "and writes nothing");

    let res = call(&app, "/logout", Some(&cookie)).await;
    assert!(set_cookies(&res)[0].contains("Max-Age=0"));
    assert_eq!(store.len(), 0);
    assert_eq!(
        body(call(&app, "/whoami", Some(&cookie)).await).await,
        "nobody"
    );
}

async fn cached_page(session: Session) -> ([(http::header::HeaderName, &'static str); 1], String) {
    session.set("seen", &true).unwrap();
    ([(http::header::CACHE_CONTROL, "no-store")], "page".into())
}

fn header(res: &Response<Body>, name: http::header::HeaderName) -> Vec<String> {
    res.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn session_responses_are_kept_out_of_shared_caches() {
    use http::header::{CACHE_CONTROL, VARY};
    let store = CountingStore::new();
    let app = app(store.clone());

    // No session in, none out: the response does not depend on a session.
    let res = call(&app, "/whoami", None).await;
    assert!(header(&res, VARY).is_empty());
    assert!(header(&res, CACHE_CONTROL).is_empty());

    // A Set-Cookie: varies by cookie and is private.
    let res = call(&app, "/login", None).await;
    assert_eq!(header(&res, VARY), ["Cookie"]);
    assert_eq!(header(&res, CACHE_CONTROL), ["private"]);
    let cookie = set_cookies(&res)[0].split(';').next().unwrap().to_owned();

    // A read of an existing session sets no cookie but still varies by it.
    let res = call(&app, "/whoami", Some(&cookie)).await;
    assert!(set_cookies(&res).is_empty());
    assert_eq!(header(&res, VARY), ["Cookie"]);
    assert!(header(&res, CACHE_CONTROL).is_empty());
}

#[tokio::test]
async fn application_cache_control_is_left_alone() {
    use http::header::{CACHE_CONTROL, VARY};
    let manager: SessionManager = SessionManager::with_store(settings(), CountingStore::new())
        .unwrap()
        .with_clock(Arc::new(MockClock::new(Timestamp(T0))));
    let app = Router::new()
        .route("/cached", get(cached_page))
        .layer(SessionLayer::new(manager));
    let res = call(&app, "/cached", None).await;
    assert_eq!(set_cookies(&res).len(), 1);
    assert_eq!(header(&res, CACHE_CONTROL), ["no-store"]);
    assert_eq!(header(&res, VARY), ["Cookie"]);
}

#[tokio::test]
async fn server_error_response_is_not_committed() {
    let store = CountingStore::new();
    let app = app(store.clone());
    let res = call(&app, "/login", None).await;
    let cookie = set_cookies(&res)[0].split(';').next().unwrap().to_owned();
    let writes = store.writes();
    let res = call(&app, "/broken", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(store.writes(), writes);
    assert_eq!(
        body(call(&app, "/whoami", Some(&cookie)).await).await,
        "ada"
    );
}

#[tokio::test]
async fn store_failure_becomes_an_empty_503() {
    let store = CountingStore::new();
    let app = app(store.clone());
    let res = call(&app, "/login", None).await;
    let cookie = set_cookies(&res)[0].split(';').next().unwrap().to_owned();
    store.down.store(true, Ordering::SeqCst);
    // Failing on load...
    let res = call(&app, "/whoami", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(body(res).await, "");
    // ...and on commit (no cookie, so load needs no store).
    let res = call(&app, "/login", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(body(res).await, "", "the handler's body is not sent");
}

#[tokio::test]
async fn oversized_cookie_becomes_an_empty_500() {
    async fn big(session: Session) -> &'static str {
        session.set("blob", &"x".repeat(5000)).unwrap();
        "done"
    }
    let manager: SessionManager =
        SessionManager::cookie(settings(), session_runtime::keys::Keys::generate()).unwrap();
    let app = Router::new()
        .route("/", get(big))
        .layer(SessionLayer::new(manager));
    let res = call(&app, "/", None).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(body(res).await, "");
}

#[tokio::test]
async fn extractor_without_layer_is_a_clear_500() {
    let app = app(CountingStore::new());
    let res = call(&app, "/unlayered", None).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = body(res).await;
    assert!(
        text.contains("`SessionLayer`") && text.contains("`dynamic`"),
        "{text}"
    );
}

#[tokio::test]
async fn typed_sessions_have_their_own_layer() {
    use crate::support::ShopV1;
    async fn bump(session: Session<ShopV1>) -> String {
        let n = session_runtime::__private::get::<ShopV1, u32>(&session, "count").unwrap_or(0) + 1;
        session_runtime::__private::set(&session, "count", "count", &n).unwrap();
        n.to_string()
    }
    let manager =
        SessionManager::<ShopV1>::cookie(settings(), session_runtime::keys::Keys::generate())
            .unwrap();
    let app = Router::new()
        .route("/bump", get(bump))
        .layer(SessionLayer::new(manager))
        // A `Dynamic` handler under a `ShopV1` layer: the wiring mistake is a clear 500.
        .route(
            "/dynamic",
            get(whoami).layer(SessionLayer::new(
                SessionManager::<session_runtime::Dynamic>::cookie(
                    settings(),
                    session_runtime::keys::Keys::generate(),
                )
                .unwrap(),
            )),
        )
        .route("/typed-unlayered", get(bump));
    let res = call(&app, "/bump", None).await;
    let cookie = set_cookies(&res)[0].split(';').next().unwrap().to_owned();
    assert_eq!(body(res).await, "1");
    assert_eq!(body(call(&app, "/bump", Some(&cookie)).await).await, "2");
    assert_eq!(call(&app, "/dynamic", None).await.status(), StatusCode::OK);
    let res = call(&app, "/typed-unlayered", None).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body(res).await.contains("`shop`"));
}
