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
    } = setup::shop("actix_shop", &setup::shop_usage("actix_shop", "actix-web")).await?;
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
