//! The shop on the database backends, against real servers: `SESSION_TEST_POSTGRES_URL`
//! and `SESSION_TEST_MYSQL_URL` name them (`tests/run-all.sh` starts both). Compiled with
//! the `postgres` / `mysql` features; without the server the tests fail.

use crate::http::Client;
use crate::server::Server;
use crate::shop::{KEY, csrf_of};

fn url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("`{var}` is not set: start the database and point it there (`bash tests/run-all.sh` does)")
    })
}

/// Logs in as `user` on `client`, adds `item`; returns the CSRF token of the new session.
fn login_and_add(client: &mut Client, user: &str, item: &str) -> String {
    let csrf = csrf_of(&client.get("/"));
    assert_eq!(
        client
            .post_form("/login", &[("username", user), ("csrf", &csrf)])
            .status,
        303
    );
    let csrf = csrf_of(&client.get("/"));
    assert_eq!(
        client
            .post_form("/cart", &[("item", item), ("csrf", &csrf)])
            .status,
        303
    );
    csrf
}

#[cfg(feature = "postgres")]
#[test]
fn two_instances_share_sessions_through_postgres() {
    let database = url("SESSION_TEST_POSTGRES_URL");
    let app = Server::start_listeners(
        env!("CARGO_BIN_EXE_multi_instance"),
        &[],
        &[
            ("SESSION_KEY", KEY),
            ("DATABASE_URL", &database),
            ("PORT_B", "0"),
        ],
        2,
    );
    let (a, b) = (app.addrs[0], app.addrs[1]);
    assert_ne!(a, b);
    let mut on_a = Client::new(a);
    let csrf = login_and_add(&mut on_a, "ada", "tea");

    // The same browser, now routed to instance B: same cookie, same session.
    let mut on_b = Client::new(b);
    on_b.cookies = on_a.cookies.clone();
    let json = on_b.get("/api/session").json();
    assert_eq!(json["user"], "ada");
    assert_eq!(json["cart"], serde_json::json!(["tea"]));
    assert_eq!(
        on_b.post_form("/cart", &[("item", "milk"), ("csrf", &csrf)])
            .status,
        303
    );
    on_a.cookies = on_b.cookies.clone();
    assert_eq!(
        on_a.get("/api/session").json()["cart"],
        serde_json::json!(["tea", "milk"])
    );

    // A logout on A ends the session on B too.
    let stolen = on_a.cookies.clone();
    assert_eq!(on_a.post_form("/logout", &[("csrf", &csrf)]).status, 303);
    on_b.cookies = stolen;
    let json = on_b.get("/api/session").json();
    assert_eq!(json["user"], serde_json::Value::Null);
    assert_eq!(json["cart"], serde_json::json!([]));
}

#[cfg(feature = "mysql")]
#[test]
fn shop_on_mysql_keeps_and_destroys_sessions() {
    let database = url("SESSION_TEST_MYSQL_URL");
    let shop = Server::start(
        env!("CARGO_BIN_EXE_shop"),
        &[],
        &[("SESSION_KEY", KEY), ("DATABASE_URL", &database)],
    );
    let mut client = Client::new(shop.addr);
    let csrf = login_and_add(&mut client, "ada", "tea");
    let json = client.get("/api/session").json();
    assert_eq!(json["user"], "ada");
    assert_eq!(json["cart"], serde_json::json!(["tea"]));
    let stolen = client.cookies.clone();
    assert_eq!(client.post_form("/logout", &[("csrf", &csrf)]).status, 303);
    let mut thief = Client::new(shop.addr);
    thief.cookies = stolen;
    assert_eq!(
        thief.get("/api/session").json()["user"],
        serde_json::Value::Null
    );
}
