//! A session store you write yourself: Redis, through the `redis` crate, against the public
//! `SessionStore` trait (the store is in `examples/src/redis_store.rs`). It shows how to
//! plug in a backend the toolkit does not ship; for Redis itself the toolkit has a store
//! (feature `redis`, `backend = { type = "redis", ... }`).
//!
//! It uses the untyped session (the plain key/value API of the Nexios documentation:
//! `get`, `set`, `delete`, `get_all`) to show that side of the toolkit too.
//!
//! ```sh
//! redis-server --port 6379 &
//! REDIS_URL=redis://127.0.0.1:6379/0 cargo run -p examples --bin custom_store
//! ```

use std::sync::Arc;

use axum::Router;
use axum::response::{Html, Json};
use axum::routing::get;
use examples::redis_store::RedisStore;
use session_runtime::layer::SessionLayer;
use session_runtime::manager::SessionManager;
use session_runtime::{Session, Settings};

/// One page: a visit counter and the time of the first visit, kept in Redis.
async fn index(session: Session) -> Html<String> {
    let visits = session.get::<u64>("visits").unwrap_or(0) + 1;
    // Plain integers and strings always serialize: these `set`s cannot fail.
    let _ = session.set("visits", &visits);
    if session.get::<i64>("first_visit").is_none() {
        let _ = session.set("first_visit", &session.created_at().as_secs());
    }
    Html(examples::html::page(
        "Custom store",
        &format!(
            "<h1>Sessions in Redis</h1><p>Visit number <b id=\"visits\">{visits}</b>. \
             The cookie holds only the session id; the data lives in Redis under the SHA-256 \
             of that id. <a href=\"/api/session\">/api/session</a></p>"
        ),
    ))
}

/// Everything in the session, as JSON (Nexios: `get_all`).
async fn dump(session: Session) -> Json<session_runtime::Map> {
    Json(session.get_all())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    examples::logging::init();
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned());
    let store = RedisStore::connect(&url, "custom_store")
        .await
        .map_err(|e| format!("cannot reach Redis at `REDIS_URL` ({e})"))?;
    // The default policy with `SESSION_*` overrides. A store-backed session needs no key:
    // its cookie carries only the random session id.
    let mut settings = session_runtime::config::load(Settings::default(), None)?;
    settings.cookie_name = "custom_store".to_owned();
    let manager =
        SessionManager::<session_runtime::Dynamic>::with_store(settings, Arc::new(store))?;
    let app = Router::new()
        .route("/", get(index))
        .route("/api/session", get(dump))
        .layer(SessionLayer::new(manager));
    examples::serve::on_port_from_env("custom_store", app).await
}
