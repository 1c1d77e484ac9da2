//! The shop example: a server-rendered web shop with login, logout, a cart, roles, CSRF
//! tokens and flash messages, on a session declared in `examples/shop/session.toml`.
//!
//! ```sh
//! cargo run -p examples --bin shop                     # file backend under ./target
//! SESSION_EXPIRATION_TIME=2s cargo run -p examples --bin shop
//! cargo run -p examples --bin shop -- --config prod.toml
//! DATABASE_URL=postgres://user@localhost/app cargo run -p examples --features postgres --bin shop
//! ```

use std::process::ExitCode;

use examples::setup::{self, StartError};
use examples::shop::app;

const USAGE: &str = "\
usage: shop [--config FILE]

Serves the session shop on http://127.0.0.1:$PORT/ (default 3000; 0 picks a free port).

  --config FILE   a TOML file overriding the policy compiled in from
                  examples/shop/session.toml (same keys, Nexios names accepted)

Environment:
  SESSION_KEY               the secret key (`base64:...`, 32 random bytes); required
  SESSION_EPHEMERAL_KEY     `true`: development only, start without SESSION_KEY on a
                            throw-away key (sessions end when the process stops)
  SESSION_*                 policy overrides, e.g. SESSION_EXPIRATION_TIME=2s,
                            SESSION_BACKEND=memory, SESSION_FILE_DIR=/tmp/sessions
  DATABASE_URL              postgres://... or mysql://... stores sessions in that database
                            (needs the `postgres` / `mysql` feature)
  SHOP_LOGIN_WINDOW         the login throttle's window (default 15m; `90s`, `1h`): after
                            5 failed logins a session waits until its window ends
  PORT                      the port to listen on";

#[tokio::main]
async fn main() -> ExitCode {
    setup::main("shop", run()).await
}

async fn run() -> Result<(), StartError> {
    let shop = setup::shop("shop", USAGE).await?;
    let app = app::router_with_throttle(shop.manager, shop.anonymous, shop.throttle);
    examples::serve::until_shutdown(shop.listener, app).await?;
    Ok(())
}
