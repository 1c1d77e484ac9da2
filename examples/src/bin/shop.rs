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

#[tokio::main]
async fn main() -> ExitCode {
    setup::main("shop", run()).await
}

async fn run() -> Result<(), StartError> {
    let shop = setup::shop("shop", &setup::shop_usage("shop", "axum")).await?;
    let app = app::router_with_throttle(shop.manager, shop.anonymous, shop.throttle);
    examples::serve::until_shutdown(shop.listener, app).await?;
    Ok(())
}
