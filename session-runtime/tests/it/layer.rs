//! The layer conformance list: what every framework adapter must do (see
//! `session_runtime::adapter`), written once and run on each adapter under test: the tower
//! layer under axum (driven with `oneshot`) and the actix-web middleware (driven with
//! `actix_web::test`).
//!
//! A test app is described without any framework ([`Spec`]: routes whose handlers are plain
//! functions of the session returning an [`Answer`]); each [`Adapter`] builds it with its
//! framework and returns a [`Client`] that sends one GET and gives back a [`Reply`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use session_runtime::keys::Keys;
use session_runtime::{
    Dynamic, MockClock, Session, SessionManager, SessionSchema, Settings, Timestamp,
};

use crate::support::{CountingStore, ShopV1, T0, settings};

/// What a handler answers: a status, headers, a body.
pub(crate) struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

impl Answer {
    fn ok(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// A handler: a plain function of the request's session.
type Handler<S> = fn(&Session<S>) -> Answer;

/// A test app: routes behind the adapter's session layer (for `manager`), optionally one
/// route behind a second, `Dynamic` layer too, and routes outside any layer.
pub(crate) struct Spec<S: SessionSchema> {
    manager: SessionManager<S>,
    layered: Vec<(&'static str, Handler<S>)>,
    nested: Option<(&'static str, SessionManager<Dynamic>, Handler<Dynamic>)>,
    unlayered: Vec<(&'static str, Handler<S>)>,
}

impl<S: SessionSchema> Spec<S> {
    fn new(manager: SessionManager<S>) -> Self {
        Self {
            manager,
            layered: Vec::new(),
            nested: None,
            unlayered: Vec::new(),
        }
    }

    fn route(mut self, path: &'static str, handler: Handler<S>) -> Self {
        self.layered.push((path, handler));
        self
    }
}

/// A response as the tests read it; header names in lower case.
#[derive(Debug)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn set_cookies(&self) -> Vec<&str> {
        self.header("set-cookie")
    }

    /// The `name=value` of the first `Set-Cookie`.
    fn cookie(&self) -> String {
        let cookies = self.set_cookies();
        let first = cookies.first().expect("a Set-Cookie");
        first.split(';').next().unwrap().to_owned()
    }
}

/// Sends `GET path` with an optional `Cookie` header to an app built by an adapter.
pub(crate) type Client = Box<dyn Fn(&str, Option<&str>) -> Pin<Box<dyn Future<Output = Reply>>>>;

/// A framework adapter under test.
pub(crate) trait Adapter {
    /// The name of the adapter's layer type, as its missing-layer error names it.
    const LAYER: &'static str;

    /// Builds `spec` with this framework.
    fn build<S: SessionSchema>(spec: Spec<S>) -> impl Future<Output = Client>;

    /// Runs a test on the runtime this framework needs.
    fn run(test: impl Future<Output = ()>);
}

/// The tower layer on an axum `Router`.
pub(crate) struct Tower;

impl Tower {
    fn respond(answer: Answer) -> axum::response::Response {
        let mut res = http::Response::builder().status(answer.status);
        for (name, value) in answer.headers {
            res = res.header(name, value);
        }
        res.body(axum::body::Body::from(answer.body)).unwrap()
    }

    fn handler<S: SessionSchema>(h: Handler<S>) -> axum::routing::MethodRouter {
        axum::routing::get(move |s: Session<S>| async move { Self::respond(h(&s)) })
    }
}

impl Adapter for Tower {
    const LAYER: &'static str = "`SessionLayer`";

    async fn build<S: SessionSchema>(spec: Spec<S>) -> Client {
        use session_runtime::SessionLayer;
        let mut router = axum::Router::new();
        for (path, h) in spec.layered {
            router = router.route(path, Self::handler(h));
        }
        if let Some((path, manager, h)) = spec.nested {
            router = router.route(path, Self::handler(h).layer(SessionLayer::new(manager)));
        }
        router = router.layer(SessionLayer::new(spec.manager));
        for (path, h) in spec.unlayered {
            router = router.route(path, Self::handler(h));
        }
        Box::new(move |path, cookie| {
            use ::tower::ServiceExt as _;
            let mut req = http::Request::builder().uri(path);
            if let Some(c) = cookie {
                req = req.header(http::header::COOKIE, c);
            }
            let req = req.body(axum::body::Body::empty()).unwrap();
            let app = router.clone();
            Box::pin(async move {
                let res = app.oneshot(req).await.unwrap();
                let status = res.status().as_u16();
                let headers = res
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
                    .collect();
                let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .unwrap();
                Reply {
                    status,
                    headers,
                    body: String::from_utf8(body.to_vec()).unwrap(),
                }
            })
        })
    }

    fn run(test: impl Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test);
    }
}

/// The actix-web middleware on an actix-web `App`.
pub(crate) struct Actix;

impl Actix {
    fn respond(answer: Answer) -> actix_web::HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(answer.status).unwrap();
        let mut res = actix_web::HttpResponse::build(status);
        for (name, value) in answer.headers {
            res.append_header((name, value));
        }
        res.body(answer.body)
    }

    fn handler<S: SessionSchema>(h: Handler<S>) -> actix_web::Route {
        actix_web::web::get().to(move |s: Session<S>| {
            let answer = h(&s);
            async move { Self::respond(answer) }
        })
    }
}

impl Adapter for Actix {
    const LAYER: &'static str = "`SessionMiddleware`";

    async fn build<S: SessionSchema>(spec: Spec<S>) -> Client {
        use actix_web::dev::Service as _;
        use actix_web::{App, web};
        use session_runtime::actix::SessionMiddleware;
        let mut layered = web::scope("").wrap(SessionMiddleware::new(spec.manager));
        for (path, h) in spec.layered {
            layered = layered.route(path, Self::handler(h));
        }
        if let Some((path, manager, h)) = spec.nested {
            layered = layered.service(
                web::resource(path)
                    .wrap(SessionMiddleware::new(manager))
                    .route(Self::handler(h)),
            );
        }
        // Routes outside the session layer first: the scope matches every path.
        let mut app = App::new();
        for (path, h) in spec.unlayered {
            app = app.route(path, Self::handler(h));
        }
        let service = std::rc::Rc::new(actix_web::test::init_service(app.service(layered)).await);
        Box::new(move |path, cookie| {
            let mut req = actix_web::test::TestRequest::get().uri(path);
            if let Some(c) = cookie {
                req = req.insert_header((actix_web::http::header::COOKIE, c));
            }
            let req = req.to_request();
            let service = service.clone();
            Box::pin(async move {
                let res = match service.call(req).await {
                    Ok(res) => res.map_into_boxed_body(),
                    Err(e) => panic!("the actix service failed: {e}"),
                };
                let status = res.status().as_u16();
                let headers = res
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
                    .collect();
                let body = actix_web::test::read_body(res).await;
                Reply {
                    status,
                    headers,
                    body: String::from_utf8(body.to_vec()).unwrap(),
                }
            })
        })
    }

    fn run(test: impl Future<Output = ()>) {
        actix_web::rt::System::new().block_on(test);
    }
}

/// Every test of the list, once per adapter: `layer::tower::NAME` and `layer::actix::NAME`.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod tower {
            $(#[test]
            fn $test() {
                use super::Adapter as _;
                super::Tower::run(super::$test::<super::Tower>());
            })*
        }
        mod actix {
            $(#[test]
            fn $test() {
                use super::Adapter as _;
                super::Actix::run(super::$test::<super::Actix>());
            })*
        }
    };
}

conformance!(
    layer_loads_and_commits,
    session_responses_are_kept_out_of_shared_caches,
    application_cache_control_is_left_alone,
    an_existing_vary_on_cookie_is_not_repeated,
    cookie_is_added_to_an_existing_vary,
    sessions_answer_alike_from_a_store_that_lends_or_not,
    the_application_s_own_cookies_are_kept,
    server_error_response_is_not_committed,
    store_failure_becomes_an_empty_503_with_retry_after,
    a_failed_write_becomes_an_empty_500,
    a_read_answers_when_the_store_cannot_refresh,
    a_logout_that_cannot_be_stored_is_an_error_and_the_session_stays,
    oversized_cookie_becomes_an_empty_500,
    extractor_without_layer_is_a_clear_500,
    typed_sessions_have_their_own_layer,
    a_revoked_cookie_session_is_refused_through_the_layer,
);

// --- the handlers ---------------------------------------------------------------------------

fn login(session: &Session) -> Answer {
    session.set("user", "ada").unwrap();
    Answer::ok("welcome")
}

fn rename(session: &Session) -> Answer {
    session.set("user", "bob").unwrap();
    Answer::ok("renamed")
}

fn whoami(session: &Session) -> Answer {
    Answer::ok(
        session
            .get::<String>("user")
            .unwrap_or_else(|| "nobody".into()),
    )
}

fn broken(session: &Session) -> Answer {
    session.set("user", "mallory").unwrap();
    Answer {
        status: 500,
        ..Answer::ok("")
    }
}

fn logout(session: &Session) -> Answer {
    session.destroy();
    Answer::ok("bye")
}

fn cached_page(session: &Session) -> Answer {
    session.set("seen", &true).unwrap();
    Answer {
        headers: vec![("cache-control", "no-store")],
        ..Answer::ok("page")
    }
}

fn varying_page(session: &Session) -> Answer {
    session.set("seen", &true).unwrap();
    Answer {
        headers: vec![("vary", "Accept-Encoding, cookie")],
        ..Answer::ok("page")
    }
}

fn encoded_page(session: &Session) -> Answer {
    session.set("seen", &true).unwrap();
    Answer {
        headers: vec![("vary", "Accept-Encoding")],
        ..Answer::ok("page")
    }
}

fn encoded_read(session: &Session) -> Answer {
    Answer {
        headers: vec![("vary", "Accept-Encoding"), ("vary", "Accept-Language")],
        ..Answer::ok(whoami(session).body)
    }
}

fn count(session: &Session) -> Answer {
    let n = session.get::<u64>("n").unwrap_or(0) + 1;
    session.set("n", &n).unwrap();
    Answer::ok(n.to_string())
}

fn peek_count(session: &Session) -> Answer {
    Answer::ok(format!("{:?}", session.get::<u64>("n")))
}

fn cycle(session: &Session) -> Answer {
    session.cycle();
    Answer::ok("cycled")
}

fn themed_page(session: &Session) -> Answer {
    session.set("seen", &true).unwrap();
    Answer {
        headers: vec![("set-cookie", "theme=dark; Path=/")],
        ..Answer::ok("page")
    }
}

fn manager_on(store: Arc<CountingStore>, settings: Settings) -> SessionManager {
    SessionManager::with_store(settings, store)
        .unwrap()
        .with_clock(Arc::new(MockClock::new(Timestamp(T0))))
}

/// The common app: login, whoami, rename, broken (a 500), logout behind the layer, and
/// whoami outside it.
async fn app<A: Adapter>(store: Arc<CountingStore>, settings: Settings) -> Client {
    let mut spec = Spec::new(manager_on(store, settings))
        .route("/login", login)
        .route("/whoami", whoami)
        .route("/rename", rename)
        .route("/broken", broken)
        .route("/logout", logout);
    spec.unlayered.push(("/unlayered", whoami));
    A::build(spec).await
}

// --- the list -------------------------------------------------------------------------------

async fn layer_loads_and_commits<A: Adapter>() {
    let store = CountingStore::new();
    let app = app::<A>(store.clone(), settings()).await;

    let res = app("/whoami", None).await;
    assert_eq!(res.status, 200);
    assert!(
        res.set_cookies().is_empty(),
        "an anonymous read sets no cookie"
    );
    assert_eq!(res.body, "nobody");

    let res = app("/login", None).await;
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 1);
    assert!(
        cookies[0].ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{}",
        cookies[0]
    );
    let cookie = res.cookie();

    let writes = store.writes();
    let res = app("/whoami", Some(&format!("theme=dark; {cookie}"))).await;
    assert!(
        res.set_cookies().is_empty(),
        "a read-only request sets no cookie"
    );
    assert_eq!(res.body, "ada");
    assert_eq!(store.writes(), writes, "and writes nothing");

    let res = app("/logout", Some(&cookie)).await;
    assert!(res.set_cookies()[0].contains("Max-Age=0"));
    assert_eq!(store.len(), 0);
    assert_eq!(app("/whoami", Some(&cookie)).await.body, "nobody");
}

async fn session_responses_are_kept_out_of_shared_caches<A: Adapter>() {
    let app = app::<A>(CountingStore::new(), settings()).await;

    // No session in, none out: the response does not depend on a session.
    let res = app("/whoami", None).await;
    assert!(res.header("vary").is_empty());
    assert!(res.header("cache-control").is_empty());

    // A Set-Cookie: varies by cookie and is private.
    let res = app("/login", None).await;
    assert_eq!(res.header("vary"), ["Cookie"]);
    assert_eq!(res.header("cache-control"), ["private"]);
    let cookie = res.cookie();

    // A read of an existing session sets no cookie but still varies by it.
    let res = app("/whoami", Some(&cookie)).await;
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.header("vary"), ["Cookie"]);
    assert!(res.header("cache-control").is_empty());

    // A logout's removal cookie is private too.
    let res = app("/logout", Some(&cookie)).await;
    assert_eq!(res.header("cache-control"), ["private"]);
}

/// [`app`] on a fresh counting store (returned first) with `settings`, and the cookie of
/// a session signed in on it.
async fn signed_in<A: Adapter>(settings: Settings) -> (Arc<CountingStore>, Client, String) {
    let store = CountingStore::new();
    let app = app::<A>(store.clone(), settings).await;
    let cookie = app("/login", None).await.cookie();
    (store, app, cookie)
}

async fn application_cache_control_is_left_alone<A: Adapter>() {
    let spec =
        Spec::new(manager_on(CountingStore::new(), settings())).route("/cached", cached_page);
    let app = A::build(spec).await;
    let res = app("/cached", None).await;
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(res.header("cache-control"), ["no-store"]);
    assert_eq!(res.header("vary"), ["Cookie"]);
}

async fn an_existing_vary_on_cookie_is_not_repeated<A: Adapter>() {
    let spec = Spec::new(manager_on(CountingStore::new(), settings())).route("/vary", varying_page);
    let app = A::build(spec).await;
    let res = app("/vary", None).await;
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(res.header("vary"), ["Accept-Encoding, cookie"]);
}

async fn cookie_is_added_to_an_existing_vary<A: Adapter>() {
    let spec = Spec::new(manager_on(CountingStore::new(), settings()))
        .route("/vary", encoded_page)
        .route("/read", encoded_read);
    let app = A::build(spec).await;
    // A response that sets the cookie, with a `Vary` of its own: `Cookie` is appended.
    let res = app("/vary", None).await;
    assert_eq!(res.set_cookies().len(), 1);
    assert_eq!(res.header("vary"), ["Accept-Encoding", "Cookie"]);
    // A read of the session (no cookie set), with two `Vary` values of its own.
    let res = app("/read", Some(&res.cookie())).await;
    assert!(res.set_cookies().is_empty());
    assert_eq!(
        res.header("vary"),
        ["Accept-Encoding", "Accept-Language", "Cookie"]
    );
}

/// The same requests through the adapter give the same answers whether the store lends its
/// records (the memory store: the tower layer then opens the session before calling the
/// inner service, without waiting) or not (the session is loaded from a copy): new,
/// read, written, a periodic rotation's forward in and after its grace period, a cycle's
/// tombstone, a corrupt record, an expired one, an unknown id, a store that is down.
async fn sessions_answer_alike_from_a_store_that_lends_or_not<A: Adapter>() {
    async fn run<A: Adapter>(lend: bool) -> Vec<String> {
        let store = CountingStore::new();
        store.no_lend.store(!lend, Ordering::SeqCst);
        let clock = MockClock::new(Timestamp(T0));
        let settings = Settings {
            rotation_interval: Some(session_runtime::spec::Lifetime::from_seconds(100)),
            ..settings()
        };
        let manager = SessionManager::with_store(settings, store.clone())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let spec = Spec::new(manager)
            .route("/count", count)
            .route("/peek", peek_count)
            .route("/cycle", cycle)
            .route("/logout", logout)
            .route("/vary", encoded_read);
        let app = A::build(spec).await;
        let mut seen = Vec::new();
        let mut jar: Option<String> = None;
        let mut step =
            async |what: &str, path: &str, cookie: Option<String>, jar: &mut Option<String>| {
                let res = app(path, cookie.as_deref()).await;
                let shapes: Vec<String> = res
                    .set_cookies()
                    .iter()
                    .map(|c| crate::support::shape(c))
                    .collect();
                if let Some(set) = res.set_cookies().first() {
                    let pair = set.split(';').next().unwrap().to_owned();
                    *jar = (!pair.ends_with('=')).then_some(pair);
                }
                seen.push(format!(
                    "{what}: {} {:?} {shapes:?} vary {:?} cache {:?}",
                    res.status,
                    res.body,
                    res.header("vary"),
                    res.header("cache-control"),
                ));
            };
        step("new", "/peek", None, &mut jar).await;
        step("login", "/count", None, &mut jar).await;
        step("read", "/peek", jar.clone(), &mut jar).await;
        step("write", "/count", jar.clone(), &mut jar).await;
        step("own vary", "/vary", jar.clone(), &mut jar).await;
        // A periodic rotation leaves a forward for its grace period (30 s).
        let old = jar.clone();
        clock.advance(100);
        step("rotation", "/peek", jar.clone(), &mut jar).await;
        let new = jar.clone();
        assert_ne!(new, old);
        step("old id in grace", "/peek", old.clone(), &mut jar).await;
        assert_eq!(jar, new, "the old id re-issues the new cookie");
        clock.advance(30);
        step("old id after grace", "/peek", old, &mut jar).await;
        // A cycle leaves a tombstone: the old cookie opens nothing at once.
        let old = new.clone();
        step("cycle", "/cycle", new, &mut jar).await;
        let new = jar.clone();
        step("old id after cycle", "/peek", old, &mut jar).await;
        let id = session_runtime::id::SessionId::parse(
            new.as_deref().unwrap().split_once('=').unwrap().1,
        )
        .unwrap();
        store.corrupt(&id.store_key(), b"{not json").await;
        step("corrupt", "/peek", new, &mut jar).await;
        step("again", "/count", None, &mut jar).await;
        clock.advance(3601);
        step("expired", "/peek", jar.clone(), &mut jar).await;
        let unknown = format!(
            "session={}",
            session_runtime::id::SessionId::generate().unwrap()
        );
        step("unknown", "/peek", Some(unknown), &mut jar).await;
        step("again", "/count", None, &mut jar).await;
        step("logout", "/logout", jar.clone(), &mut jar).await;
        step("again", "/count", None, &mut jar).await;
        store.down.store(true, Ordering::SeqCst);
        step("down", "/peek", jar.clone(), &mut jar).await;
        store.down.store(false, Ordering::SeqCst);
        step("up", "/peek", jar.clone(), &mut jar).await;
        seen
    }
    let loaded = run::<A>(false).await;
    let lent = run::<A>(true).await;
    assert_eq!(lent, loaded);
    assert_eq!(lent.len(), 19, "{lent:#?}");
}

async fn the_application_s_own_cookies_are_kept<A: Adapter>() {
    let spec =
        Spec::new(manager_on(CountingStore::new(), settings())).route("/themed", themed_page);
    let app = A::build(spec).await;
    let res = app("/themed", None).await;
    let cookies = res.set_cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies.contains(&"theme=dark; Path=/"), "{cookies:?}");
    assert!(
        cookies.iter().any(|c| c.starts_with("session=")),
        "{cookies:?}"
    );
}

async fn server_error_response_is_not_committed<A: Adapter>() {
    let (store, app, cookie) = signed_in::<A>(settings()).await;
    let writes = store.writes();
    let res = app("/broken", Some(&cookie)).await;
    assert_eq!(res.status, 500);
    assert!(res.set_cookies().is_empty());
    assert_eq!(store.writes(), writes);
    assert_eq!(app("/whoami", Some(&cookie)).await.body, "ada");
}

async fn store_failure_becomes_an_empty_503_with_retry_after<A: Adapter>() {
    let (store, app, cookie) = signed_in::<A>(settings()).await;
    store.down.store(true, Ordering::SeqCst);
    // Failing on load...
    let res = app("/whoami", Some(&cookie)).await;
    assert_eq!(res.status, 503);
    assert_eq!(res.header("retry-after"), ["1"]);
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.body, "");
    // ...and on commit (no cookie, so load needs no store).
    let res = app("/login", None).await;
    assert_eq!(res.status, 503);
    assert_eq!(res.header("retry-after"), ["1"]);
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.body, "", "the handler's body is not sent");
    // Back up: the session was never lost.
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(app("/whoami", Some(&cookie)).await.body, "ada");
}

async fn a_failed_write_becomes_an_empty_500<A: Adapter>() {
    let (store, app, cookie) = signed_in::<A>(settings()).await;
    store.full.store(true, Ordering::SeqCst);
    let res = app("/rename", Some(&cookie)).await;
    assert_eq!(
        res.status, 500,
        "a change that cannot be stored is never lost silently"
    );
    assert!(res.header("retry-after").is_empty());
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.body, "");
    store.full.store(false, Ordering::SeqCst);
    assert_eq!(app("/whoami", Some(&cookie)).await.body, "ada");
}

async fn a_read_answers_when_the_store_cannot_refresh<A: Adapter>() {
    let settings = Settings {
        refresh_each_request: true,
        ..settings()
    };
    let (store, app, cookie) = signed_in::<A>(settings).await;
    store.full.store(true, Ordering::SeqCst);
    // A plain read owes a refresh (`refresh_each_request`), which cannot be written.
    let res = app("/whoami", Some(&cookie)).await;
    assert_eq!(res.status, 200);
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.body, "ada");
    assert_eq!(
        res.header("vary"),
        ["Cookie"],
        "it still depends on the session"
    );
}

async fn a_logout_that_cannot_be_stored_is_an_error_and_the_session_stays<A: Adapter>() {
    let (store, app, cookie) = signed_in::<A>(settings()).await;
    store.full.store(true, Ordering::SeqCst);
    let res = app("/logout", Some(&cookie)).await;
    assert_eq!(res.status, 500);
    assert!(res.set_cookies().is_empty());
    assert_eq!(
        app("/whoami", Some(&cookie)).await.body,
        "ada",
        "the failed logout is not reported as done"
    );
    store.full.store(false, Ordering::SeqCst);
    assert_eq!(app("/logout", Some(&cookie)).await.status, 200);
    assert_eq!(app("/whoami", Some(&cookie)).await.body, "nobody");
}

async fn oversized_cookie_becomes_an_empty_500<A: Adapter>() {
    fn big(session: &Session) -> Answer {
        session.set("blob", &"x".repeat(5000)).unwrap();
        Answer::ok("done")
    }
    let manager: SessionManager = SessionManager::cookie(settings(), Keys::generate()).unwrap();
    let app = A::build(Spec::new(manager).route("/", big)).await;
    let res = app("/", None).await;
    assert_eq!(res.status, 500);
    assert!(res.set_cookies().is_empty());
    assert_eq!(res.body, "");
}

async fn extractor_without_layer_is_a_clear_500<A: Adapter>() {
    let app = app::<A>(CountingStore::new(), settings()).await;
    let res = app("/unlayered", None).await;
    assert_eq!(res.status, 500);
    assert!(
        res.body.contains(A::LAYER) && res.body.contains("`dynamic`"),
        "{}",
        res.body
    );
}

async fn typed_sessions_have_their_own_layer<A: Adapter>() {
    fn bump(session: &Session<ShopV1>) -> Answer {
        use session_runtime::__private::{get, set};
        let n = get::<ShopV1, u32>(session, "count").unwrap_or(0) + 1;
        set(session, "count", "count", &n).unwrap();
        Answer::ok(n.to_string())
    }
    let manager = SessionManager::<ShopV1>::cookie(settings(), Keys::generate()).unwrap();
    let mut spec = Spec::new(manager).route("/bump", bump);
    // A `Dynamic` handler under a `ShopV1` layer has a `Dynamic` layer of its own.
    spec.nested = Some((
        "/dynamic",
        SessionManager::<Dynamic>::cookie(settings(), Keys::generate()).unwrap(),
        whoami,
    ));
    spec.unlayered.push(("/typed-unlayered", bump));
    let app = A::build(spec).await;
    let res = app("/bump", None).await;
    let cookie = res.cookie();
    assert_eq!(res.body, "1");
    assert_eq!(app("/bump", Some(&cookie)).await.body, "2");
    assert_eq!(app("/dynamic", None).await.status, 200);
    let res = app("/typed-unlayered", None).await;
    assert_eq!(res.status, 500);
    assert!(res.body.contains("`shop`"), "{}", res.body);
}

/// The cookie backend with principals and a revocation store, through the adapter: a
/// session whose principal's sessions were ended is anonymous at its next request, while
/// another user's cookie and a login after the revocation still work. (The tower layer
/// opens cookie sessions without waiting only when no principal is declared, since the
/// revocation check can wait on its store; this pins that such sessions are checked.)
async fn a_revoked_cookie_session_is_refused_through_the_layer<A: Adapter>() {
    fn login_bob(session: &Session) -> Answer {
        session.set("user", "bob").unwrap();
        Answer::ok("welcome")
    }
    let clock = MockClock::new(Timestamp(T0));
    let settings = Settings {
        principal: Some("user".to_owned()),
        revocation_store: Some(session_runtime::spec::Backend::Memory),
        ..settings()
    };
    let manager = SessionManager::cookie(settings, Keys::generate())
        .unwrap()
        .with_revocation_store(Arc::new(session_runtime::store::MemoryStore::new()))
        .with_clock(Arc::new(clock.clone()));
    let spec = Spec::new(manager.clone())
        .route("/login", login)
        .route("/login-bob", login_bob)
        .route("/whoami", whoami);
    let app = A::build(spec).await;
    let ada = app("/login", None).await.cookie();
    let bob = app("/login-bob", None).await.cookie();
    assert_eq!(app("/whoami", Some(&ada)).await.body, "ada");

    clock.advance(5);
    manager.end_all_sessions("ada").await.unwrap();
    clock.advance(5);
    let res = app("/whoami", Some(&ada)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "nobody", "a revoked cookie is refused");
    assert_eq!(app("/whoami", Some(&bob)).await.body, "bob");
    let again = app("/login", None).await.cookie();
    assert_eq!(app("/whoami", Some(&again)).await.body, "ada");
}

// --- actix-web only -------------------------------------------------------------------------

/// actix-web's inner services can fail with an error instead of a response (a middleware
/// inside the session's, here); the handler's changes are then not committed, as for a 5xx.
#[test]
fn actix_an_inner_error_commits_nothing() {
    use actix_web::dev::Service as _;
    use actix_web::test::{TestRequest, call_service, init_service, try_call_service};
    use actix_web::{App, web};
    use session_runtime::actix::SessionMiddleware;
    Actix::run(async {
        let store = CountingStore::new();
        let app = init_service(
            App::new().service(
                web::scope("")
                    .wrap_fn(|req, service| {
                        let fail = req.path() == "/fails";
                        let response = service.call(req);
                        async move {
                            let response = response.await?;
                            if fail {
                                return Err(actix_web::error::ErrorBadGateway("inner failure"));
                            }
                            Ok(response)
                        }
                    })
                    .wrap(SessionMiddleware::new(manager_on(
                        store.clone(),
                        settings(),
                    )))
                    .route("/fails", Actix::handler(login))
                    .route("/login", Actix::handler(login)),
            ),
        )
        .await;
        let res = try_call_service(&app, TestRequest::get().uri("/fails").to_request()).await;
        assert!(res.is_err(), "the inner error reaches actix-web");
        assert_eq!(store.writes(), 0, "nothing committed");
        let res = call_service(&app, TestRequest::get().uri("/login").to_request()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(store.writes(), 1);
    });
}
