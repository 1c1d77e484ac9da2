//! The smallest session app: a visit counter on a session declared in
//! `examples/quickstart/session.toml`, kept in a sealed cookie (no server, no database).
//!
//! ```sh
//! cargo run -p examples --bin quickstart    # then open the URL it prints
//! ```

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use examples::quickstart::{Visits, VisitsExt};
use session_runtime::Session;
use session_runtime::layer::SessionLayer;
use session_runtime::manager::SessionManager;

/// One page: counts this browser's visits in its session.
async fn index(session: Session<Visits>) -> Html<String> {
    let visits = session.visits() + 1;
    // `set_visits` checks the spec's rules; a `u64` counter with no rules cannot break one.
    let saved = session.set_visits(visits).is_ok();
    Html(examples::html::page(
        "Quickstart",
        &format!(
            "<h1>Hello, session</h1>\
             <p>You have visited this page <b id=\"visits\">{visits}</b> time(s){}.</p>\
             <p>Reload to count up. The count lives in an encrypted, HttpOnly cookie \
             named <code>quickstart</code>; the server enforces its 60-minute lifetime.</p>",
            if saved { "" } else { " (not saved)" }
        ),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    examples::logging::init();
    // The policy compiled in from the spec; the key from `SESSION_KEY`, or, when it is
    // unset, an ephemeral one (announced on stderr) so that this demo's first run needs no
    // set-up. (The shop allows that only with `SESSION_EPHEMERAL_KEY=true`.)
    let settings = <Visits as session_runtime::SessionSchema>::settings();
    let keys = examples::keys::load_or_ephemeral(&settings.keys, "quickstart", true)?;
    let manager = SessionManager::<Visits>::cookie(settings, keys)?;
    let app = Router::new()
        .route("/", get(index))
        .layer(SessionLayer::new(manager));
    examples::serve::on_port_from_env("quickstart", app).await
}
