//! The database and Redis stores behind the tower layer, over real TCP: two app instances
//! on different ports sharing one table (or Redis), and a database outage seen from HTTP
//! (503 on session routes, other routes fine, full service afterwards, no session lost).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use session_runtime::store::database::{Dialect, DieselStore};
use session_runtime::{Session, SessionLayer, SessionManager, SessionStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn login(session: Session) -> &'static str {
    session.set("user", "ada").unwrap();
    "welcome"
}

async fn whoami(session: Session) -> String {
    session
        .get::<String>("user")
        .unwrap_or_else(|| "nobody".into())
}

async fn logout(session: Session) -> &'static str {
    session.destroy();
    "bye"
}

/// One app instance on its own port, with its own pool (or connection) on the shared
/// table (or Redis).
pub async fn serve(store: impl SessionStore) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let manager: SessionManager =
        SessionManager::with_store(crate::support::settings(), Arc::new(store)).unwrap();
    let app = Router::new()
        .route("/login", get(login))
        .route("/whoami", get(whoami))
        .route("/logout", get(logout))
        .layer(SessionLayer::new(manager))
        .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

/// A response: status, `name=value` of the first `Set-Cookie`, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub cookie: Option<String>,
    pub body: String,
}

/// A minimal HTTP/1.1 GET over a fresh connection.
pub async fn get_path(addr: SocketAddr, path: &str, cookie: Option<&str>) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .expect("reply in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .map(|c| c.split(';').next().unwrap_or_default().to_owned());
    Reply {
        status,
        cookie,
        body: body.to_owned(),
    }
}

/// A login on one instance is seen on the other; a logout on the other ends it on both.
pub async fn two_instances(a: impl SessionStore, b: impl SessionStore) {
    let (addr_a, task_a) = serve(a).await;
    let (addr_b, task_b) = serve(b).await;
    assert_ne!(addr_a.port(), addr_b.port());
    let reply = get_path(addr_a, "/login", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let cookie = reply.cookie.expect("a login sets a cookie");
    let seen = get_path(addr_b, "/whoami", Some(&cookie)).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (200, "ada"),
        "instance B must see A's login"
    );
    assert_eq!(get_path(addr_b, "/logout", Some(&cookie)).await.status, 200);
    let after = get_path(addr_a, "/whoami", Some(&cookie)).await;
    assert_eq!(
        after.body, "nobody",
        "a logout on B must end the session on A"
    );
    task_a.abort();
    task_b.abort();
}

/// Stops the database while the app serves: session routes answer 503, `/health` 200;
/// after the restart the same process serves the same session again.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub async fn outage_over_http<D: Dialect>(store: DieselStore<D>, ctl_var: &str) {
    let (addr, task) = serve(store).await;
    let cookie = get_path(addr, "/login", None)
        .await
        .cookie
        .expect("login cookie");
    assert_eq!(get_path(addr, "/whoami", Some(&cookie)).await.body, "ada");

    crate::db::server_ctl(ctl_var, "stop").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(get_path(addr, "/whoami", Some(&cookie)).await.status);
    }
    let health = get_path(addr, "/health", None).await;
    crate::db::server_ctl(ctl_var, "start").await;
    println!(
        "over http during the outage: /whoami {statuses:?}, /health {}",
        health.status
    );
    assert_eq!(
        statuses,
        [503, 503, 503],
        "session routes must answer 503 while the database is away"
    );
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, "ok"),
        "other routes keep working"
    );

    let mut back = None;
    for _ in 0..200 {
        let reply = get_path(addr, "/whoami", Some(&cookie)).await;
        if reply.status == 200 {
            back = Some(reply.body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        back.as_deref(),
        Some("ada"),
        "after the restart the session must be served again, intact"
    );
    task.abort();
}
