//! The servers under test: one configuration per process, on one core.
//!
//! Every server answers `GET /` with the session's counter as the body. In `write` mode the
//! handler increments the counter on every request (so every request loads and writes the
//! session and answers with a `Set-Cookie`); in `read` mode it sets the counter to 1 on the
//! first request and only reads it afterwards. With the `big` payload the first request
//! also stores the rest of a 321-byte session (user id, name, cart, CSRF token, flash, a
//! note), which every later request loads and, in `write` mode, writes back.

use std::sync::Arc;

use serde_json::{Map, Value, json};

/// What the handler does with the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Increment the counter on every request.
    Write,
    /// Set the counter once, then only read it.
    Read,
}

/// How much the session holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// The counter only.
    Counter,
    /// The counter and more data: 321 bytes of JSON (`{"cart":[...],...}`) in all.
    Big,
}

/// The size of the big session, as compact JSON of its map (with the counter at 1).
pub const BIG_SESSION_BYTES: usize = 321;

/// The data of the big session besides the counter, padded so that the whole map (counter
/// at 1) is [`BIG_SESSION_BYTES`] of JSON.
pub fn big_data() -> Map<String, Value> {
    let mut map = match json!({
        "user_id": 421337,
        "username": "dunamis",
        "cart": ["apple", "pear", "fig", "plum"],
        "csrf": "Yq3s0bM1s2lUQW1xR3l2a0ZrT2Ji",
        "flash": "Your order was placed.",
        "note": "",
    }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    let mut full = map.clone();
    full.insert("counter".into(), 1.into());
    let len = serde_json::to_string(&full).map_or(0, |s| s.len());
    let pad = BIG_SESSION_BYTES.saturating_sub(len);
    map.insert("note".into(), Value::String("n".repeat(pad)));
    map
}

/// The next counter value, or `None` when the request only reads.
fn next(mode: Mode, current: Option<u64>) -> (u64, bool) {
    match (mode, current) {
        (_, None) => (1, true),
        (Mode::Write, Some(n)) => (n + 1, true),
        (Mode::Read, Some(n)) => (n, false),
    }
}

/// Serves `config` on `listener` until killed.
pub fn serve(config: &str, mode: Mode, payload: Payload, listener: std::net::TcpListener) {
    if let Some(actix) = config.strip_prefix("actix-") {
        actix::serve(actix, mode, payload, listener);
    } else {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(axum_server::serve(config, mode, payload, listener));
    }
}

/// The counter session as a typed schema (`#[derive(Session)]`).
#[derive(session_runtime::Session)]
#[session(cookie_name = "session")]
pub struct TypedCounter {
    /// The counter.
    #[session(default)]
    counter: u64,
}

/// The 321-byte session as a typed schema.
#[derive(session_runtime::Session)]
#[session(cookie_name = "session")]
pub struct TypedBig {
    #[session(default)]
    counter: u64,
    #[session(default)]
    user_id: u64,
    #[session(default)]
    username: String,
    #[session(default)]
    cart: Vec<String>,
    #[session(default)]
    csrf: String,
    #[session(default)]
    flash: String,
    #[session(default)]
    note: String,
}

mod axum_server {
    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::routing::get;
    use axum::serve::ListenerExt;
    use session_runtime::keys::Keys;
    use session_runtime::spec::settings::CookieMode;
    use session_runtime::store::file::FileDurability;
    use session_runtime::store::{FileStore, MemoryStore};
    use session_runtime::{SessionLayer, SessionManager, Settings};

    #[derive(Clone, Copy)]
    struct Ctx {
        mode: Mode,
        payload: Payload,
    }

    async fn none() -> &'static str {
        "1"
    }

    async fn ours(State(ctx): State<Ctx>, session: session_runtime::Session) -> String {
        let (n, write) = next(ctx.mode, session.get::<u64>("counter"));
        if write {
            if n == 1 && ctx.payload == Payload::Big {
                for (key, value) in big_data() {
                    session.set(&key, &value).expect("JSON values serialize");
                }
            }
            session.set("counter", &n).expect("a number serializes");
        }
        n.to_string()
    }

    async fn typed_counter(
        State(ctx): State<Ctx>,
        session: session_runtime::Session<TypedCounter>,
    ) -> String {
        let current = Some(session.counter()).filter(|n| *n > 0);
        let (n, write) = next(ctx.mode, current);
        if write {
            session.set_counter(n).expect("valid");
        }
        n.to_string()
    }

    async fn typed_big(
        State(ctx): State<Ctx>,
        session: session_runtime::Session<TypedBig>,
    ) -> String {
        let current = Some(session.counter()).filter(|n| *n > 0);
        let (n, write) = next(ctx.mode, current);
        if write {
            if n == 1 {
                let data = big_data();
                let s = |k: &str| data[k].as_str().unwrap_or_default().to_owned();
                session
                    .set_user_id(data["user_id"].as_u64().unwrap_or_default())
                    .expect("valid");
                session.set_username(s("username")).expect("valid");
                let cart = data["cart"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                session.set_cart(cart).expect("valid");
                session.set_csrf(s("csrf")).expect("valid");
                session.set_flash(s("flash")).expect("valid");
                session.set_note(s("note")).expect("valid");
            }
            session.set_counter(n).expect("valid");
        }
        n.to_string()
    }

    async fn tower(State(ctx): State<Ctx>, session: tower_sessions::Session) -> String {
        let current = session.get::<u64>("counter").await.ok().flatten();
        let (n, write) = next(ctx.mode, current);
        if write {
            if n == 1 && ctx.payload == Payload::Big {
                for (key, value) in big_data() {
                    session.insert(&key, value).await.expect("memory store");
                }
            }
            session.insert("counter", n).await.expect("memory store");
        }
        n.to_string()
    }

    pub async fn serve(
        config: &str,
        mode: Mode,
        payload: Payload,
        listener: std::net::TcpListener,
    ) {
        let ctx = Ctx { mode, payload };
        let settings = |cookie_mode| Settings {
            secure: false,
            cookie_mode,
            ..Settings::default()
        };
        let ours_router = |manager: SessionManager| {
            Router::new()
                .route("/", get(ours))
                .layer(SessionLayer::new(manager))
                .with_state(ctx)
        };
        let app = match config {
            "axum-none" => Router::new().route("/", get(none)),
            "ours-memory" => ours_router(
                SessionManager::with_store(
                    settings(CookieMode::Encrypted),
                    Arc::new(MemoryStore::new()),
                )
                .expect("manager"),
            ),
            "ours-file" | "ours-file-fsync" | "ours-file-none" => {
                let durability = match config {
                    "ours-file-fsync" => FileDurability::Fsync,
                    "ours-file-none" => FileDurability::None,
                    _ => FileDurability::default(),
                };
                let dir =
                    std::env::temp_dir().join(format!("httpbench-file-{}", std::process::id()));
                let store = FileStore::builder(&dir, Keys::generate())
                    .durability(durability)
                    .open()
                    .expect("file store");
                ours_router(
                    SessionManager::with_store(settings(CookieMode::Encrypted), Arc::new(store))
                        .expect("manager"),
                )
            }
            "ours-encrypted" => ours_router(
                SessionManager::cookie(settings(CookieMode::Encrypted), Keys::generate())
                    .expect("manager"),
            ),
            "ours-signed" => ours_router(
                SessionManager::cookie(settings(CookieMode::Signed), Keys::generate())
                    .expect("manager"),
            ),
            "ours-typed-memory" | "ours-typed-encrypted" => {
                let s = settings(CookieMode::Encrypted);
                let memory = config == "ours-typed-memory";
                match payload {
                    Payload::Counter => {
                        let m = if memory {
                            SessionManager::<TypedCounter>::with_store(
                                s,
                                Arc::new(MemoryStore::new()),
                            )
                        } else {
                            SessionManager::<TypedCounter>::cookie(s, Keys::generate())
                        };
                        Router::new()
                            .route("/", get(typed_counter))
                            .layer(SessionLayer::new(m.expect("manager")))
                            .with_state(ctx)
                    }
                    Payload::Big => {
                        let m = if memory {
                            SessionManager::<TypedBig>::with_store(s, Arc::new(MemoryStore::new()))
                        } else {
                            SessionManager::<TypedBig>::cookie(s, Keys::generate())
                        };
                        Router::new()
                            .route("/", get(typed_big))
                            .layer(SessionLayer::new(m.expect("manager")))
                            .with_state(ctx)
                    }
                }
            }
            "tower-memory" => {
                Router::new()
                    .route("/", get(tower))
                    .layer(
                        tower_sessions::SessionManagerLayer::new(
                            tower_sessions::MemoryStore::default(),
                        )
                        .with_secure(false),
                    )
                    .with_state(ctx)
            }
            other => panic!("unknown configuration {other}"),
        };
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let listener = tokio::net::TcpListener::from_std(listener)
            .expect("tokio listener")
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        println!("ready");
        axum::serve(listener, app).await.expect("server");
    }
}

mod actix {
    use super::*;
    use actix_session::SessionMiddleware;
    use actix_session::config::CookieContentSecurity;
    use actix_session::storage::CookieSessionStore;
    use actix_web::{App, HttpResponse, HttpServer, web};

    async fn none() -> HttpResponse {
        HttpResponse::Ok().body("1")
    }

    async fn handler(
        ctx: web::Data<(Mode, Payload)>,
        session: actix_session::Session,
    ) -> HttpResponse {
        let (mode, payload) = **ctx;
        let current = session.get::<u64>("counter").ok().flatten();
        let (n, write) = next(mode, current);
        if write {
            if n == 1 && payload == Payload::Big {
                for (key, value) in big_data() {
                    session.insert(key, value).expect("JSON values serialize");
                }
            }
            session.insert("counter", n).expect("a number serializes");
        }
        HttpResponse::Ok().body(n.to_string())
    }

    pub fn serve(config: &str, mode: Mode, payload: Payload, listener: std::net::TcpListener) {
        let security = match config {
            "none" => None,
            "signed" => Some(CookieContentSecurity::Signed),
            "private" => Some(CookieContentSecurity::Private),
            other => panic!("unknown configuration actix-{other}"),
        };
        let key = actix_web::cookie::Key::generate();
        let ctx = web::Data::new((mode, payload));
        actix_web::rt::System::new().block_on(async move {
            let server = match security {
                None => HttpServer::new(|| App::new().default_service(web::to(none)))
                    .workers(1)
                    .listen(listener)
                    .expect("listen")
                    .run(),
                Some(security) => HttpServer::new(move || {
                    App::new()
                        .app_data(ctx.clone())
                        .wrap(
                            SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                                .cookie_secure(false)
                                .cookie_content_security(security)
                                .build(),
                        )
                        .default_service(web::to(handler))
                })
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run(),
            };
            println!("ready");
            server.await.expect("server");
        });
    }
}
