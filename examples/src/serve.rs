//! Starting an example server: the address, the banner, graceful shutdown.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

/// The port from the `PORT` environment variable, or `default` when unset.
///
/// # Errors
/// `PORT` is set but is not a port number.
pub fn port_from_env(default: u16) -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("`PORT` must be a port number, got `{text}`")),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(std::env::VarError::NotUnicode(_)) => Err("`PORT` is not valid unicode".to_owned()),
    }
}

/// Binds `127.0.0.1:port` (port 0 picks a free one) and prints the URL to open.
///
/// The first line on standard output is always `listening on http://127.0.0.1:PORT/`, so
/// that a test that started the program with `PORT=0` can read the port back.
///
/// # Errors
/// The port is taken or cannot be bound.
pub async fn bind(name: &str, port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}/");
    eprintln!("{name}: open http://{addr}/ in a browser; stop with Ctrl-C");
    Ok((listener, addr))
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, for `axum::serve(..).with_graceful_shutdown`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM ([`shutdown_signal`]).
///
/// # Errors
/// The server fails to accept connections.
pub async fn until_shutdown(listener: TcpListener, app: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Binds `127.0.0.1:$PORT` (3000 when `PORT` is unset; see [`bind`] for what it prints)
/// and serves `app` there until Ctrl-C or SIGTERM: the start of the one-router examples.
///
/// # Errors
/// `PORT` is not a port number, the port cannot be bound, or the server fails.
pub async fn on_port_from_env(
    name: &str,
    app: axum::Router,
) -> Result<(), crate::setup::StartError> {
    let port = port_from_env(3000)?;
    let (listener, _) = bind(name, port).await?;
    until_shutdown(listener, app).await?;
    Ok(())
}
