//! The shop example on actix-web: the same HTTP contract, pages and session as `shop`
//! (axum), through `session_runtime::actix::SessionMiddleware`.
//!
//! ```sh
//! SESSION_EPHEMERAL_KEY=true cargo run -p examples --bin actix_shop
//! SESSION_BACKEND=cookie cargo run -p examples --bin actix_shop -- --config prod.toml
//! ```

use std::process::ExitCode;

use actix_web::{App, HttpServer};
use examples::setup::{self, StartError};
use examples::shop::actix_app;

const USAGE: &str = "\
usage: actix_shop [--config FILE]

Serves the session shop, on actix-web, on http://127.0.0.1:$PORT/ (default 3000; 0 picks
a free port).

  --config FILE   a TOML file overriding the policy compiled in from
                  examples/shop/session.toml (same keys, Nexios names accepted)

Environment:
  SESSION_KEY               the secret key (`base64:...`, 32 random bytes); required
  SESSION_EPHEMERAL_KEY     `true`: development only, start without SESSION_KEY on a
                            throw-away key (sessions end when the process stops)
  SESSION_*                 policy overrides, e.g. SESSION_EXPIRATION_TIME=2s,
                            SESSION_BACKEND=memory, SESSION_FILE_DIR=/tmp/sessions
  SHOP_LOGIN_WINDOW         the failed-login throttle's window (default 15m)
  DATABASE_URL              postgres://... or mysql://... stores sessions in that database
                            (needs the `postgres` / `mysql` feature)
  PORT                      the port to listen on";

#[tokio::main]
async fn main() -> ExitCode {
    setup::main("actix_shop", run()).await
}

async fn run() -> Result<(), StartError> {
    let setup::Shop {
        manager,
        anonymous,
        throttle,
        listener,
    } = setup::shop("actix_shop", USAGE).await?;
    // actix-web runs its workers on runtimes of its own; each gets a clone of the routes.
    // It stops gracefully on Ctrl-C and SIGTERM.
    HttpServer::new(move || {
        App::new().configure(actix_app::configure(
            manager.clone(),
            anonymous.clone(),
            throttle,
        ))
    })
    .workers(2)
    .listen(listener.into_std()?)?
    .run()
    .await?;
    Ok(())
}
