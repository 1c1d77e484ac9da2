//! The `derive` example: the same contract on a session declared with `#[derive(Session)]`.

use crate::http::Client;
use crate::server::Server;
use crate::shop::{KEY, csrf_of};

#[test]
fn derived_session_logs_in_fills_the_cart_and_logs_out() {
    let app = Server::start(env!("CARGO_BIN_EXE_derive"), &[], &[("SESSION_KEY", KEY)]);
    let mut client = Client::new(app.addr);
    let page = client.get("/");
    assert_eq!(page.status, 200);
    let cookie = page
        .header("set-cookie")
        .expect("a session cookie")
        .to_ascii_lowercase();
    assert!(
        cookie.starts_with("derive_shop="),
        "cookie name from the attribute: {cookie}"
    );
    assert!(
        cookie.contains("httponly") && cookie.contains("secure"),
        "{cookie}"
    );
    let csrf = csrf_of(&page);

    assert_eq!(
        client.post_form("/login", &[("username", "ada")]).status,
        403,
        "no token"
    );
    let before = client.cookies["derive_shop"].clone();
    assert_eq!(
        client
            .post_form("/login", &[("username", "ada"), ("csrf", &csrf)])
            .status,
        303
    );
    assert_ne!(
        client.cookies["derive_shop"], before,
        "the id rotates on login"
    );
    assert_eq!(
        client
            .post_form("/cart", &[("item", "tea"), ("csrf", &csrf)])
            .status,
        303
    );
    let long = "z".repeat(65);
    let refused = client.post_form("/cart", &[("item", &long), ("csrf", &csrf)]);
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("max_length"), "{}", refused.body);

    let json = client.get("/api/session").json();
    assert_eq!(json["user"], "ada");
    assert_eq!(json["cart"], serde_json::json!(["tea"]));

    assert_eq!(client.post_form("/logout", &[("csrf", &csrf)]).status, 303);
    let json = client.get("/api/session").json();
    assert_eq!(json["user"], serde_json::Value::Null);
    assert_eq!(json["cart"], serde_json::json!([]));
}
