//! Two instances of the shop sharing their sessions through one PostgreSQL database, as
//! several machines behind a load balancer would: sign in on one port, and the other knows
//! you.
//!
//! Each instance has its own session manager and its own connection pool; they share only
//! the database (and the policy). Start two processes of `shop` with the same
//! `DATABASE_URL` for the same effect across processes.
//!
//! ```sh
//! DATABASE_URL=postgres://user:pass@127.0.0.1/app \
//!     cargo run -p examples --features postgres --bin multi_instance
//! ```
//!
//! The ports come from `PORT` and `PORT_B` (default 3000 and 3001; `0` picks free ones).

use examples::setup::{self, Args, StartError};
use examples::shop::{Shop, app};

#[tokio::main]
async fn main() -> Result<(), StartError> {
    examples::logging::init();
    let args = Args::parse(
        std::env::args().skip(1),
        "usage: multi_instance [--config FILE]",
    )?;
    if std::env::var_os(setup::DATABASE_URL).is_none() {
        return Err(format!(
            "set `{}` to a postgres:// (or mysql://) URL: the instances share that database",
            setup::DATABASE_URL
        )
        .into());
    }
    let settings = setup::settings::<Shop>(&args)?;
    let port_a = examples::serve::port_from_env(3000)?;
    let port_b = match std::env::var("PORT_B") {
        Ok(text) => text
            .parse()
            .map_err(|_| format!("`PORT_B` must be a port, got `{text}`"))?,
        Err(_) if port_a == 0 => 0,
        Err(_) => port_a + 1,
    };
    let mut servers = Vec::new();
    for (name, port) in [("instance A", port_a), ("instance B", port_b)] {
        // A manager and a store per instance: nothing shared in memory.
        let (manager, keys) = setup::manager_and_keys::<Shop>(settings.clone(), name).await?;
        let anonymous = examples::csrf::AnonymousTokens::new(&keys);
        let (listener, _) = examples::serve::bind(name, port).await?;
        servers.push(tokio::spawn(examples::serve::until_shutdown(
            listener,
            app::router(manager, anonymous),
        )));
    }
    for server in servers {
        server.await??;
    }
    Ok(())
}
