//! The servers under test: one configuration per process, on one core.
//!
//! Every server answers `GET /` with the session's counter as the body. In `write` mode the
//! handler increments the counter on every request (so every request loads and writes the
//! session and answers with a `Set-Cookie`); in `read` mode it sets the counter to 1 on the
//! first request and only reads it afterwards. With the `big` payload the first request
//! also stores the rest of a 321-byte session (user id, name, cart, CSRF token, flash, a
//! note), which every later request loads and, in `write` mode, writes back.

use std::sync::Arc;

use serde_json::{Map, Value};

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

/// The big session's user id.
const USER_ID: u64 = 421337;
/// The big session's user name.
const USERNAME: &str = "dunamis";
/// The big session's cart.
const CART: [&str; 4] = ["apple", "pear", "fig", "plum"];
/// The big session's CSRF token.
const CSRF: &str = "Yq3s0bM1s2lUQW1xR3l2a0ZrT2Ji";
/// The big session's flash message.
const FLASH: &str = "Your order was placed.";

/// The data of the big session besides the counter, padded (`note`) so that the whole map
/// (counter at 1) is [`BIG_SESSION_BYTES`] of JSON.
pub fn big_data() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("user_id".into(), USER_ID.into());
    map.insert("username".into(), USERNAME.into());
    map.insert(
        "cart".into(),
        CART.iter().map(|s| Value::from(*s)).collect(),
    );
    map.insert("csrf".into(), CSRF.into());
    map.insert("flash".into(), FLASH.into());
    map.insert("note".into(), Value::String(String::new()));
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
    use std::sync::atomic::Ordering;

    #[derive(Clone, Copy)]
    struct Ctx {
        mode: Mode,
        payload: Payload,
        /// Set `user` on the first request (the `idx-*` configurations).
        user: bool,
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
            if n == 1 && ctx.user {
                // One user per connection: each connection keeps its own cookie.
                let user = format!("user{}", USERS.fetch_add(1, Ordering::Relaxed));
                session.set("user", &user).expect("a string serializes");
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
                let note = big_data()["note"].as_str().unwrap_or_default().to_owned();
                session.set_user_id(USER_ID).expect("valid");
                session.set_username(USERNAME.to_owned()).expect("valid");
                let cart = CART.iter().map(|s| (*s).to_owned()).collect();
                session.set_cart(cart).expect("valid");
                session.set_csrf(CSRF.to_owned()).expect("valid");
                session.set_flash(FLASH.to_owned()).expect("valid");
                session.set_note(note).expect("valid");
            }
            session.set_counter(n).expect("valid");
        }
        n.to_string()
    }

    /// A tower-sessions handler (0.15's memory store or 0.14's sqlx store: the same code
    /// for either version's `Session`).
    macro_rules! tower_handler {
        ($name:ident, $session:ty, $store:literal) => {
            async fn $name(State(ctx): State<Ctx>, session: $session) -> String {
                let current = session.get::<u64>("counter").await.ok().flatten();
                let (n, write) = next(ctx.mode, current);
                if write {
                    if n == 1 && ctx.payload == Payload::Big {
                        for (key, value) in big_data() {
                            session.insert(&key, value).await.expect($store);
                        }
                    }
                    session.insert("counter", n).await.expect($store);
                }
                n.to_string()
            }
        };
    }
    tower_handler!(tower, tower_sessions::Session, "memory store");
    tower_handler!(tower014, tower_sessions_014::Session, "sqlx store");

    /// A typed schema's router: its manager on a memory store (`memory`) or in an encrypted
    /// cookie.
    macro_rules! typed_router {
        ($schema:ty, $handler:expr, $memory:expr, $settings:expr, $ctx:expr) => {{
            let m = if $memory {
                SessionManager::<$schema>::with_store($settings, Arc::new(MemoryStore::new()))
            } else {
                SessionManager::<$schema>::cookie($settings, Keys::generate())
            };
            Router::new()
                .route("/", get($handler))
                .layer(SessionLayer::new(m.expect("manager")))
                .with_state($ctx)
        }};
    }

    /// This toolkit's PostgreSQL store on the run's database, migrated. Its timeout is
    /// the floor's (which sets none) for practical purposes: the default 2 s is too short
    /// for a SCRAM handshake under callgrind or on a loaded machine, and the server then
    /// failed to start (a round of errors); it bounds only connecting, never a query that
    /// succeeds.
    async fn postgres_store() -> Arc<session_runtime::store::postgres::PostgresStore> {
        let store = session_runtime::store::postgres::PostgresStore::builder(database_url())
            .pool_size(POOL)
            .timeout(std::time::Duration::from_secs(60))
            .connect()
            .await
            .expect("postgres store");
        store.migrate().await.expect("migrate");
        Arc::new(store)
    }

    pub async fn serve(
        config: &str,
        mode: Mode,
        payload: Payload,
        listener: std::net::TcpListener,
    ) {
        let ctx = Ctx {
            mode,
            payload,
            user: config.starts_with("idx-"),
        };
        let settings = |cookie_mode| Settings {
            secure: false,
            cookie_mode,
            ..Settings::default()
        };
        let indexed = |cookie_mode| Settings {
            principal: Some("user".to_owned()),
            ..settings(cookie_mode)
        };
        let file_store = |durability| {
            let dir = std::env::temp_dir().join(format!("httpbench-file-{}", std::process::id()));
            Arc::new(
                FileStore::builder(&dir, Keys::generate())
                    .durability(durability)
                    .open()
                    .expect("file store"),
            )
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
            "ours-file" | "ours-file-group" | "ours-file-fsync" => {
                let durability = match config {
                    "ours-file-fsync" => FileDurability::Fsync,
                    "ours-file-group" => FileDurability::Group,
                    _ => FileDurability::default(),
                };
                ours_router(
                    SessionManager::with_store(
                        settings(CookieMode::Encrypted),
                        file_store(durability),
                    )
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
                    Payload::Counter => typed_router!(TypedCounter, typed_counter, memory, s, ctx),
                    Payload::Big => typed_router!(TypedBig, typed_big, memory, s, ctx),
                }
            }
            "ours-postgres" => ours_router(
                SessionManager::with_store(settings(CookieMode::Encrypted), postgres_store().await)
                    .expect("manager"),
            ),
            "idx-file-off" => ours_router(
                SessionManager::with_store(
                    settings(CookieMode::Encrypted),
                    file_store(FileDurability::default()),
                )
                .expect("manager"),
            ),
            "idx-file-on" => ours_router(
                SessionManager::with_store(
                    indexed(CookieMode::Encrypted),
                    file_store(FileDurability::default()),
                )
                .expect("manager"),
            ),
            "idx-postgres-off" | "idx-postgres-on" => {
                let s = if config == "idx-postgres-on" {
                    indexed(CookieMode::Encrypted)
                } else {
                    settings(CookieMode::Encrypted)
                };
                ours_router(SessionManager::with_store(s, postgres_store().await).expect("manager"))
            }
            "idx-signed-off" => ours_router(
                SessionManager::cookie(settings(CookieMode::Signed), Keys::generate())
                    .expect("manager"),
            ),
            "idx-signed-revocable" => {
                let s = Settings {
                    revocation_store: Some(session_runtime::spec::settings::Backend::Memory),
                    ..indexed(CookieMode::Signed)
                };
                ours_router(
                    SessionManager::cookie(s, Keys::generate())
                        .expect("manager")
                        .with_revocation_store(Arc::new(MemoryStore::new())),
                )
            }
            "tower-postgres" => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(POOL)
                    .connect(&database_url())
                    .await
                    .expect("sqlx pool");
                let store = tower_sessions_sqlx_store::PostgresStore::new(pool);
                store.migrate().await.expect("migrate");
                Router::new()
                    .route("/", get(tower014))
                    .layer(tower_sessions_014::SessionManagerLayer::new(store).with_secure(false))
                    .with_state(ctx)
            }
            "floor-postgres" => super::floor::router(mode, payload, POOL as usize).await,
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

/// Numbers the users of the `idx-*` configurations.
static USERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Connections each PostgreSQL configuration may open (ours' pool, sqlx's pool, the
/// floor's clients).
const POOL: u32 = 16;

/// The database of the PostgreSQL configurations, from `BENCH_DATABASE_URL` (set by the
/// orchestrator, which starts the server).
fn database_url() -> String {
    std::env::var("BENCH_DATABASE_URL").expect("BENCH_DATABASE_URL")
}

/// The floor of a database session: tokio-postgres, one prepared `SELECT` per request and
/// one prepared upsert per write, an id cookie set once, nothing else (no expiry policy,
/// no versioning, no encoding: the payload is the counter's 8 bytes and padding).
mod floor {
    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::http::{HeaderMap, HeaderValue, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio_postgres::{Client, NoTls, Statement};

    struct Conn {
        client: Client,
        select: Statement,
        upsert: Statement,
    }

    struct Floor {
        conns: Vec<Conn>,
        next: AtomicUsize,
        mode: Mode,
        pad: usize,
    }

    pub async fn router(mode: Mode, payload: Payload, pool: usize) -> Router {
        let url = database_url();
        let mut conns = Vec::with_capacity(pool);
        for i in 0..pool {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .expect("tokio-postgres");
            tokio::spawn(async move {
                let _ = connection.await;
            });
            if i == 0 {
                client
                    .batch_execute(
                        "CREATE TABLE IF NOT EXISTS floor_sessions (id BYTEA PRIMARY KEY, \
                         payload BYTEA NOT NULL, expires_at TIMESTAMPTZ NOT NULL)",
                    )
                    .await
                    .expect("create table");
            }
            let select = client
                .prepare("SELECT payload FROM floor_sessions WHERE id = $1 AND expires_at > now()")
                .await
                .expect("prepare");
            let upsert = client
                .prepare(
                    "INSERT INTO floor_sessions (id, payload, expires_at) \
                     VALUES ($1, $2, now() + INTERVAL '1 day') ON CONFLICT (id) DO UPDATE \
                     SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at",
                )
                .await
                .expect("prepare");
            conns.push(Conn {
                client,
                select,
                upsert,
            });
        }
        let pad = match payload {
            Payload::Counter => 0,
            Payload::Big => BIG_SESSION_BYTES - 8,
        };
        let floor = Arc::new(Floor {
            conns,
            next: AtomicUsize::new(0),
            mode,
            pad,
        });
        Router::new().route("/", get(handler)).with_state(floor)
    }

    fn cookie_id(headers: &HeaderMap) -> Option<[u8; 16]> {
        let value = headers.get(header::COOKIE)?.to_str().ok()?;
        let hex = value
            .split(';')
            .find_map(|c| c.trim().strip_prefix("sid="))?;
        if hex.len() != 32 {
            return None;
        }
        let mut id = [0u8; 16];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(id)
    }

    async fn handler(State(f): State<Arc<Floor>>, headers: HeaderMap) -> Response {
        let conn = &f.conns[f.next.fetch_add(1, Ordering::Relaxed) % f.conns.len()];
        let known = cookie_id(&headers);
        let mut current = None;
        if let Some(id) = &known {
            let row = conn
                .client
                .query_opt(&conn.select, &[&&id[..]])
                .await
                .expect("select");
            current = row.and_then(|row| {
                let payload: Vec<u8> = row.get(0);
                payload
                    .get(..8)
                    .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
            });
        }
        let (n, write) = next(f.mode, current);
        let fresh = current.is_none();
        let id = match (fresh, known) {
            (false, Some(id)) => id,
            _ => {
                let mut id = [0u8; 16];
                getrandom::getrandom(&mut id).expect("random");
                id
            }
        };
        if write {
            let mut payload = n.to_be_bytes().to_vec();
            payload.resize(8 + f.pad, b'n');
            conn.client
                .execute(&conn.upsert, &[&&id[..], &payload])
                .await
                .expect("upsert");
        }
        let mut response = n.to_string().into_response();
        if fresh {
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            let cookie = format!("sid={hex}; Path=/; HttpOnly; SameSite=Lax");
            response.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).expect("a valid header"),
            );
        }
        response
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
