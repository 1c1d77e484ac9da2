//! The shop's HTTP contract, driven over real HTTP against the real binary.

use std::cell::Cell;
use std::time::Duration;

use crate::http::{Client, Response};
use crate::server::{Server, TempDir};

/// A test key in the toolkit's text form (32 bytes of secret).
pub(crate) const KEY: &str = "base64:c2hvcC1lbmQtdG8tZW5kLXRlc3Qta2V5LTMyYnl0ZXMhIQ";

thread_local! {
    /// The binary the contract tests of this thread drive (each test runs on its own
    /// thread): `shop` (axum), unless [`on_actix`] chose `actix_shop`.
    static SHOP_BINARY: Cell<&'static str> = const { Cell::new(env!("CARGO_BIN_EXE_shop")) };
}

/// The shop binary under test: `shop`, or `actix_shop` inside [`on_actix`].
pub(crate) fn shop_binary() -> &'static str {
    SHOP_BINARY.with(Cell::get)
}

/// Runs a contract test against `actix_shop`, the same shop on actix-web (see
/// `crate::actix_shop`).
pub(crate) fn on_actix<T>(test: impl FnOnce() -> T) -> T {
    let axum = SHOP_BINARY.with(|binary| binary.replace(env!("CARGO_BIN_EXE_actix_shop")));
    let out = test();
    SHOP_BINARY.with(|binary| binary.set(axum));
    out
}

/// The shop on a free port, its sessions in a fresh directory; `extra` adds variables.
pub(crate) fn start_shop(dir: &TempDir, extra: &[(&str, &str)]) -> Server {
    let sessions = dir.path().join("sessions");
    let sessions = sessions.to_str().expect("utf-8 path");
    let mut envs = vec![
        ("SESSION_KEY", KEY),
        ("SESSION_FILE_DIR", sessions),
        // The race tests sign one user in dozens of times at once; the spec's limit of
        // parallel sessions has a test of its own, which starts the shop without this.
        ("SESSION_MAX_SESSIONS", "none"),
    ];
    envs.extend_from_slice(extra);
    Server::start(shop_binary(), &[], &envs)
}

/// The shop (on its file store, in a fresh directory named after `name`) and a client of it.
fn shop_with_client(name: &str) -> (TempDir, Server, Client) {
    let dir = TempDir::new(name);
    let shop = start_shop(&dir, &[]);
    let client = Client::new(shop.addr);
    (dir, shop, client)
}

/// The client's session is anonymous and its cart empty (`/api/session`).
fn assert_anonymous(client: &mut Client) {
    let json = session_json(client);
    assert_eq!(json["user"], serde_json::Value::Null);
    assert_eq!(json["cart"], serde_json::json!([]));
}

/// A client of `shop` sending the session cookie `value` (a copy of an ended or replaced
/// session's) gets an anonymous, empty session.
fn assert_replayed_cookie_is_anonymous(shop: &Server, value: String) {
    let mut replay = Client::new(shop.addr);
    replay.cookies.insert("shop".into(), value);
    assert_anonymous(&mut replay);
}

/// Adds `item` to the cart (a `303` back to the page).
fn add_to_cart(client: &mut Client, item: &str, csrf: &str) {
    let response = client.post_form("/cart", &[("item", item), ("csrf", csrf)]);
    assert_eq!(response.status, 303, "{}", response.body);
}

/// "End all other sessions" (a `303` back to the page).
fn end_other_sessions(client: &mut Client, csrf: &str) {
    let response = client.post_form("/sessions/end-others", &[("csrf", csrf)]);
    assert_eq!(response.status, 303, "{}", response.body);
}

/// The shop on the cookie backend, with a revocation store, in `dir`.
fn start_cookie_shop(dir: &TempDir) -> Server {
    Server::start_in(
        shop_binary(),
        dir.path(),
        &[
            ("SESSION_KEY", KEY),
            ("SESSION_BACKEND", "cookie"),
            // The cookie backend cannot count sessions: the spec's limit is lifted.
            ("SESSION_MAX_SESSIONS", "none"),
            ("SESSION_REVOCATION_STORE", "memory"),
        ],
    )
}

/// The shop binary as a command, without any `SESSION_*` variable of the caller (the test
/// command exports some).
fn shop_command() -> std::process::Command {
    let mut command = std::process::Command::new(shop_binary());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SESSION_") {
            command.env_remove(name);
        }
    }
    command
}

/// The value of the hidden `csrf` field of the page's first form.
pub(crate) fn csrf_of(page: &Response) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf field in {}", page.body));
    let rest = &page.body[start + marker.len()..];
    rest[..rest.find('"').expect("closing quote")].to_owned()
}

/// The `Set-Cookie` line of the session cookie, if the response has one.
fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("shop="))
        .map(str::to_owned)
}

pub(crate) fn login(client: &mut Client, user: &str) -> Response {
    let page = client.get("/");
    let csrf = csrf_of(&page);
    client.post_form("/login", &[("username", user), ("csrf", &csrf)])
}

fn session_json(client: &mut Client) -> serde_json::Value {
    let response = client.get("/api/session");
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-type")
            .unwrap_or("")
            .starts_with("application/json")
    );
    response.json()
}

#[test]
pub(crate) fn first_login_sets_a_cookie_with_the_secure_flags() {
    let (_dir, _shop, mut client) = shop_with_client("shop-flags");
    let page = client.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    // An anonymous page view starts no session (its forms carry a stateless token).
    assert!(session_cookie(&page).is_none());
    let response = login(&mut client, "ada");
    let cookie = session_cookie(&response).expect("the login starts a session");
    let attributes: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for flag in ["httponly", "secure", "samesite=lax", "path=/"] {
        assert!(
            attributes.iter().any(|a| a == flag),
            "`{flag}` missing from `{cookie}`"
        );
    }
    assert!(
        !attributes
            .iter()
            .any(|a| a.starts_with("max-age") || a.starts_with("expires")),
        "a browser-session cookie (permanent = false) carries no lifetime: `{cookie}`"
    );
    // Every form carries the CSRF token.
    let forms = page.body.matches("<form").count();
    assert!(forms >= 2, "login and cart forms");
    assert_eq!(page.body.matches(r#"name="csrf""#).count(), forms);
}

#[test]
pub(crate) fn login_rotates_the_session_id_and_keeps_the_cart() {
    let (_dir, shop, mut client) = shop_with_client("shop-login");
    let page = client.get("/");
    let csrf = csrf_of(&page);
    let added = client.post_form("/cart", &[("item", "tea"), ("csrf", &csrf)]);
    assert_eq!(added.status, 303);
    let before = client.cookies["shop"].clone();

    let response = login(&mut client, "ada");
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/"));
    assert!(
        session_cookie(&response).is_some(),
        "login re-issues the cookie"
    );
    let after = client.cookies["shop"].clone();
    assert_ne!(before, after, "the session id changes on login");

    let json = session_json(&mut client);
    assert_eq!(json["user"], "ada");
    assert_eq!(
        json["cart"],
        serde_json::json!(["tea"]),
        "the cart survives the rotation"
    );

    // The pre-login id is dead: replaying it gives an anonymous, empty session.
    assert_replayed_cookie_is_anonymous(&shop, before);
}

#[test]
pub(crate) fn a_missing_or_wrong_csrf_token_is_refused_with_403() {
    let (_dir, shop, mut client) = shop_with_client("shop-csrf");
    login(&mut client, "ada");
    let csrf = csrf_of(&client.get("/"));
    let wrong = "0".repeat(csrf.len());
    let attempts: [(&str, Vec<(&str, &str)>); 6] = [
        ("/login", vec![("username", "mallory")]),
        ("/login", vec![("username", "mallory"), ("csrf", &wrong)]),
        ("/cart", vec![("item", "bomb")]),
        ("/cart", vec![("item", "bomb"), ("csrf", "")]),
        ("/logout", vec![]),
        ("/logout", vec![("csrf", &wrong)]),
    ];
    for (path, form) in &attempts {
        let response = client.post_form(path, form);
        assert_eq!(
            response.status, 403,
            "POST {path} with {form:?}: {}",
            response.body
        );
        assert!(response.body.contains("CSRF"), "the page says why");
    }
    // A session's token is worth nothing to a client without that session.
    let mut stranger = Client::new(shop.addr);
    assert_eq!(
        stranger
            .post_form("/login", &[("username", "x"), ("csrf", &csrf)])
            .status,
        403
    );
    // Nothing changed.
    let json = session_json(&mut client);
    assert_eq!(json["user"], "ada");
    assert_eq!(json["cart"], serde_json::json!([]));
}

#[test]
pub(crate) fn invalid_cart_items_give_422_naming_the_rule() {
    let (_dir, _shop, mut client) = shop_with_client("shop-cart");
    let csrf = csrf_of(&client.get("/"));

    let long = "x".repeat(17);
    let response = client.post_form("/cart", &[("item", &long), ("csrf", &csrf)]);
    assert_eq!(response.status, 422);
    assert!(response.body.contains("max_length"), "{}", response.body);
    let response = client.post_form("/cart", &[("item", "  "), ("csrf", &csrf)]);
    assert_eq!(response.status, 422);
    assert!(response.body.contains("min_length"), "{}", response.body);

    let exactly_16 = "y".repeat(16);
    assert_eq!(
        client
            .post_form("/cart", &[("item", &exactly_16), ("csrf", &csrf)])
            .status,
        303
    );
    for n in 2..=50 {
        let item = format!("item {n}");
        let response = client.post_form("/cart", &[("item", &item), ("csrf", &csrf)]);
        assert_eq!(response.status, 303, "item {n}: {}", response.body);
    }
    let response = client.post_form("/cart", &[("item", "one too many"), ("csrf", &csrf)]);
    assert_eq!(response.status, 422);
    assert!(response.body.contains("max_items"), "{}", response.body);

    let cart = session_json(&mut client)["cart"]
        .as_array()
        .expect("cart")
        .len();
    assert_eq!(cart, 50, "refused items left the cart unchanged");
}

/// Regression: the shop's first spec allowed a cart that could not fit in a cookie, so on
/// the cookie backend the 35th valid item gave an empty `500`. The spec now passes the
/// cookie budget: a session filled to every limit, with the costliest characters the
/// rules allow, still fits.
#[test]
pub(crate) fn a_full_session_fits_the_cookie_backend() {
    let shop = Server::start(
        shop_binary(),
        &[],
        &[
            ("SESSION_KEY", KEY),
            ("SESSION_BACKEND", "cookie"),
            // The cookie backend cannot count sessions: the spec's limit is lifted.
            ("SESSION_MAX_SESSIONS", "none"),
            // The spec declares a principal: the cookie backend needs a revocation store.
            ("SESSION_REVOCATION_STORE", "memory"),
        ],
    );
    let mut client = Client::new(shop.addr);
    assert_eq!(login(&mut client, &"a".repeat(32)).status, 303);
    let csrf = csrf_of(&client.get("/"));
    // Items of the longest length, of `"` and `\` (two bytes each in the sealed JSON),
    // until the spec's `max_items` refuses one: never a 500 before that.
    // The longest item the spec allows, found by asking (a refused item changes nothing).
    let item_of = |n: usize, len: usize| -> String {
        format!("{n:02}{}", "\"\\".repeat(len))
            .chars()
            .take(len)
            .collect()
    };
    let mut len = 64;
    loop {
        let response = client.post_form("/cart", &[("item", &item_of(0, len)), ("csrf", &csrf)]);
        if response.status == 303 {
            break;
        }
        assert!(response.body.contains("max_length"), "{}", response.body);
        len -= 1;
    }
    let mut added = 1;
    loop {
        let item = item_of(added, len);
        let response = client.post_form("/cart", &[("item", &item), ("csrf", &csrf)]);
        if response.status == 422 {
            assert!(response.body.contains("max_items"), "{}", response.body);
            break;
        }
        assert_eq!(response.status, 303, "item {added}: {}", response.body);
        added += 1;
        assert!(added < 100, "no `max_items` limit");
    }
    let json = session_json(&mut client);
    assert_eq!(json["cart"].as_array().expect("cart").len(), added);
    assert_eq!(added, 50);
    assert_eq!(json["user"], "a".repeat(32));
}

#[test]
pub(crate) fn the_admin_page_is_for_admins_only() {
    let dir = TempDir::new("shop-admin");
    let shop = start_shop(&dir, &[]);

    let mut anonymous = Client::new(shop.addr);
    assert_eq!(anonymous.get("/admin").status, 403);

    let mut customer = Client::new(shop.addr);
    assert_eq!(login(&mut customer, "ada").status, 303);
    let page = customer.get("/admin");
    assert_eq!(page.status, 403);
    assert!(page.body.contains("admin"), "{}", page.body);

    let mut admin = Client::new(shop.addr);
    assert_eq!(login(&mut admin, "admin").status, 303);
    let page = admin.get("/admin");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Only admins see this page"));
}

#[test]
pub(crate) fn a_refused_username_is_422_and_changes_nothing() {
    let (_dir, shop, mut client) = shop_with_client("shop-username");
    let csrf = csrf_of(&client.get("/"));
    add_to_cart(&mut client, "tea", &csrf);
    let before = client.cookies["shop"].clone();
    let response = client.post_form("/login", &[("username", "Robert'); DROP"), ("csrf", &csrf)]);
    assert_eq!(response.status, 422);
    assert!(response.body.contains("pattern"), "{}", response.body);
    assert_eq!(session_json(&mut client)["user"], serde_json::Value::Null);
    // No rotation happened: the cookie from before the attempt still opens the session.
    let mut same = Client::new(shop.addr);
    same.cookies.insert("shop".into(), before);
    assert_eq!(session_json(&mut same)["cart"], serde_json::json!(["tea"]));
}

#[test]
pub(crate) fn flash_messages_show_once() {
    let (_dir, _shop, mut client) = shop_with_client("shop-flash");
    assert_eq!(login(&mut client, "ada").status, 303);
    let page = client.get("/");
    assert!(page.body.contains("Welcome, ada."), "{}", page.body);
    let page = client.get("/");
    assert!(
        !page.body.contains("Welcome, ada."),
        "a flash message shows once"
    );
    assert!(page.body.contains("Signed in as <b>ada</b>"));
}

#[test]
pub(crate) fn logout_destroys_the_session() {
    let (_dir, shop, mut client) = shop_with_client("shop-logout");
    assert_eq!(login(&mut client, "ada").status, 303);
    let page = client.get("/");
    let csrf = csrf_of(&page);
    add_to_cart(&mut client, "tea", &csrf);
    let stolen = client.cookies["shop"].clone();

    let response = client.post_form("/logout", &[("csrf", &csrf)]);
    assert_eq!(response.status, 303);
    let removal = session_cookie(&response).expect("logout sends a removal cookie");
    let lower = removal.to_ascii_lowercase();
    assert!(
        lower.contains("max-age=0") || lower.contains("expires=thu, 01 jan 1970"),
        "removal cookie: `{removal}`"
    );
    assert!(
        lower.contains("httponly") && lower.contains("secure"),
        "flags on removal too"
    );
    assert!(
        !client.cookies.contains_key("shop"),
        "the client dropped the cookie"
    );

    assert_anonymous(&mut client);

    // A copy of the cookie taken before logout is worthless: the record is gone.
    assert_replayed_cookie_is_anonymous(&shop, stolen);
}

#[test]
pub(crate) fn api_session_reports_user_cart_and_expiry() {
    let (_dir, _shop, mut client) = shop_with_client("shop-api");
    let anonymous = session_json(&mut client);
    assert_eq!(anonymous["user"], serde_json::Value::Null);
    assert_eq!(anonymous["cart"], serde_json::json!([]));
    assert!(anonymous["expires_at"].is_i64());

    assert_eq!(login(&mut client, "ada").status, 303);
    let csrf = csrf_of(&client.get("/"));
    add_to_cart(&mut client, "tea", &csrf);
    add_to_cart(&mut client, "milk", &csrf);
    let json = session_json(&mut client);
    assert_eq!(json["user"], "ada");
    assert_eq!(json["cart"], serde_json::json!(["tea", "milk"]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let expires_at = json["expires_at"].as_i64().expect("expires_at is a number");
    // 30 minutes from the last request (refresh on each request), give or take the run.
    assert!(
        (now + 25 * 60..=now + 31 * 60).contains(&expires_at),
        "{expires_at} vs now {now}"
    );
}

#[test]
pub(crate) fn config_file_and_environment_override_the_compiled_policy() {
    let dir = TempDir::new("shop-config");
    let config = dir.path().join("shop.toml");
    std::fs::write(
        &config,
        "session_cookie_name = \"shopcfg\"\nsame_site = \"strict\"\n",
    )
    .unwrap();
    let sessions = dir.path().join("sessions");
    let shop = Server::start(
        shop_binary(),
        &["--config", config.to_str().unwrap()],
        &[
            ("SESSION_KEY", KEY),
            ("SESSION_FILE_DIR", sessions.to_str().unwrap()),
            ("SESSION_PERMANENT", "true"),
        ],
    );
    let mut client = Client::new(shop.addr);
    let csrf = csrf_of(&client.get("/"));
    let page = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
    let cookie = page
        .headers("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("shopcfg="))
        .unwrap_or_else(|| panic!("cookie renamed by the file: {:?}", page.headers))
        .to_ascii_lowercase();
    assert!(cookie.contains("samesite=strict"), "{cookie}");
    assert!(
        cookie.contains("max-age=1800"),
        "permanent from the environment: {cookie}"
    );
    let files = std::fs::read_dir(&sessions)
        .expect("file backend directory")
        .filter(|entry| entry.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert_eq!(
        files, 1,
        "the session was stored in the overridden directory"
    );
}

#[test]
pub(crate) fn the_shipped_production_config_hardens_the_cookie() {
    let dir = TempDir::new("shop-production");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/shop/production.toml");
    let sessions = dir.path().join("sessions");
    let shop = Server::start(
        shop_binary(),
        &["--config", config],
        &[
            ("SESSION_KEY", KEY),
            ("SESSION_FILE_DIR", sessions.to_str().unwrap()),
        ],
    );
    let mut client = Client::new(shop.addr);
    let csrf = csrf_of(&client.get("/"));
    let page = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
    let cookie = page
        .header("set-cookie")
        .expect("a session cookie")
        .to_ascii_lowercase();
    assert!(cookie.starts_with("__host-shop="), "{cookie}");
    assert!(
        cookie.contains("samesite=strict") && cookie.contains("secure"),
        "{cookie}"
    );
    assert!(
        cookie.contains("path=/") && !cookie.contains("domain="),
        "{cookie}"
    );
}

#[test]
pub(crate) fn an_invalid_override_stops_the_program_with_a_clear_error() {
    let output = shop_command()
        .env("PORT", "0")
        .env("SESSION_KEY", KEY)
        .env("SESSION_EXPIRATION_TIME", "soon")
        .output()
        .expect("run shop");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SESSION_EXPIRATION_TIME"), "{stderr}");
    assert!(output.stdout.is_empty(), "it never started listening");
}

/// The one test that sleeps: a black-box check that the real binary ends a session after
/// the lifetime it was started with (time inside the runtime is tested with a mock clock).
#[test]
pub(crate) fn a_session_ends_after_its_two_second_lifetime() {
    let dir = TempDir::new("shop-expiry");
    let shop = start_shop(&dir, &[("SESSION_EXPIRATION_TIME", "2s")]);
    let mut client = Client::new(shop.addr);
    assert_eq!(login(&mut client, "ada").status, 303);
    assert_eq!(session_json(&mut client)["user"], "ada");
    std::thread::sleep(Duration::from_millis(3_100));
    let json = session_json(&mut client);
    assert_eq!(
        json["user"],
        serde_json::Value::Null,
        "the session outlived its lifetime"
    );
}

#[test]
pub(crate) fn the_same_binary_runs_on_the_cookie_backend() {
    let dir = TempDir::new("shop-cookie");
    // Run where the spec's file directory would be, to see that nothing lands there.
    let shop = start_cookie_shop(&dir);
    let mut client = Client::new(shop.addr);
    assert_eq!(login(&mut client, "ada").status, 303);
    let csrf = csrf_of(&client.get("/"));
    add_to_cart(&mut client, "tea", &csrf);
    let json = session_json(&mut client);
    assert_eq!(json["user"], "ada");
    assert_eq!(json["cart"], serde_json::json!(["tea"]));
    // The data travels in the cookie, encrypted: nothing readable in it, nothing on disk.
    let cookie = &client.cookies["shop"];
    assert!(
        cookie.len() > 100 && !cookie.contains("tea") && !cookie.contains("ada"),
        "{cookie}"
    );
    assert!(!dir.path().join("target").exists(), "no session files");
    assert_eq!(client.post_form("/logout", &[("csrf", &csrf)]).status, 303);
    assert_eq!(session_json(&mut client)["cart"], serde_json::json!([]));
}

/// A name the spec refuses (`pattern = "[a-z0-9_]+"`): a failed login.
pub(crate) const REFUSED: &str = "Not A Name!";

/// `n` failed logins in the client's session, each a `422`.
fn fail_logins(client: &mut Client, n: usize) {
    for i in 0..n {
        let response = login(client, REFUSED);
        assert_eq!(response.status, 422, "failed login {i}: {}", response.body);
    }
}

/// The `Retry-After` of a `429`, in seconds.
fn retry_after(response: &Response) -> u64 {
    assert_eq!(response.status, 429, "{}", response.body);
    response
        .header("retry-after")
        .expect("a 429 says when to retry")
        .parse()
        .expect("Retry-After in whole seconds")
}

#[test]
pub(crate) fn five_failed_logins_give_429_with_retry_after_and_a_readable_page() {
    let (_dir, shop, mut client) = shop_with_client("shop-throttle");
    fail_logins(&mut client, 5);
    // The sixth attempt is refused before it is tried, even with a valid name.
    let response = login(&mut client, "ada");
    let seconds = retry_after(&response);
    assert!((1..=15 * 60).contains(&seconds), "{seconds}");
    assert!(
        response
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/html"),
        "a page for people, not a bare status"
    );
    assert!(
        response.body.contains("Too many failed logins")
            && response
                .body
                .contains(&format!("try again in {seconds} seconds")),
        "{}",
        response.body
    );
    assert_eq!(session_json(&mut client)["user"], serde_json::Value::Null);
    // Still refused on the next attempt: blocked attempts do not open the gate.
    assert_eq!(login(&mut client, "ada").status, 429);
    // The limit is per session: a client that drops its cookie starts afresh (a speed
    // bump, documented in `examples/src/shop/throttle.rs` with what to add against it).
    let mut fresh = Client::new(shop.addr);
    assert_eq!(login(&mut fresh, "ada").status, 303);
}

/// The second test that sleeps (see `a_session_ends_after_its_two_second_lifetime`): the
/// real binary with a 3-second window, waiting out the `Retry-After` it sent.
#[test]
pub(crate) fn a_throttled_session_may_log_in_again_after_its_window() {
    let dir = TempDir::new("shop-throttle-window");
    let shop = start_shop(&dir, &[("SHOP_LOGIN_WINDOW", "3s")]);
    let mut client = Client::new(shop.addr);
    fail_logins(&mut client, 5);
    let seconds = retry_after(&login(&mut client, "ada"));
    assert!((1..=3).contains(&seconds), "{seconds}");
    std::thread::sleep(Duration::from_secs(seconds + 1));
    assert_eq!(login(&mut client, "ada").status, 303);
    assert_eq!(session_json(&mut client)["user"], "ada");
}

#[test]
pub(crate) fn a_successful_login_resets_the_failure_count() {
    let (_dir, _shop, mut client) = shop_with_client("shop-throttle-reset");
    fail_logins(&mut client, 4);
    assert_eq!(login(&mut client, "ada").status, 303);
    // Counted from zero again: five more failures are each tried (422), the sixth waits.
    fail_logins(&mut client, 5);
    retry_after(&login(&mut client, "ada"));
}

#[test]
pub(crate) fn an_invalid_login_window_stops_the_program_with_a_clear_error() {
    let output = shop_command()
        .env("SESSION_KEY", KEY)
        .env("SHOP_LOGIN_WINDOW", "0s")
        .env("PORT", "0")
        .output()
        .expect("the shop runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SHOP_LOGIN_WINDOW"), "{stderr}");
    assert!(output.stdout.is_empty(), "it never started listening");
}

/// The hidden `handle` fields of the "Active sessions" page (the other sessions).
fn handles_of(page: &Response) -> Vec<String> {
    let marker = r#"name="handle" value=""#;
    page.body
        .match_indices(marker)
        .map(|(i, _)| {
            let rest = &page.body[i + marker.len()..];
            rest[..rest.find('"').expect("closing quote")].to_owned()
        })
        .collect()
}

#[test]
pub(crate) fn two_clients_one_ends_the_other_from_the_active_sessions_page() {
    let dir = TempDir::new("shop-active");
    let shop = start_shop(&dir, &[]);
    let (mut laptop, mut phone, mut other) = (
        Client::new(shop.addr),
        Client::new(shop.addr),
        Client::new(shop.addr),
    );
    assert_eq!(login(&mut laptop, "ada").status, 303);
    assert_eq!(login(&mut phone, "ada").status, 303);
    assert_eq!(login(&mut other, "bob").status, 303);
    assert_eq!(Client::new(shop.addr).get("/sessions").status, 403);

    let page = laptop.get("/sessions");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("class=\"session\"").count(),
        2,
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("this browser").count(), 1);
    assert!(
        page.body.contains(" UTC</td>"),
        "human-readable times: {}",
        page.body
    );
    let handles = handles_of(&page);
    assert_eq!(handles.len(), 1, "one other session to end");
    // The handle is not the phone's session id.
    assert!(!handles[0].contains(phone.cookies["shop"].as_str()));

    let csrf = csrf_of(&page);
    let ended = laptop.post_form("/sessions/end", &[("handle", &handles[0]), ("csrf", &csrf)]);
    assert_eq!(ended.status, 303);
    assert!(
        laptop
            .get("/sessions")
            .body
            .contains("The session was ended.")
    );
    assert_eq!(
        session_json(&mut phone)["user"],
        serde_json::Value::Null,
        "the phone is signed out"
    );
    assert_eq!(session_json(&mut laptop)["user"], "ada");
    assert_eq!(
        session_json(&mut other)["user"],
        "bob",
        "another user is untouched"
    );
    let page = laptop.get("/sessions");
    assert_eq!(page.body.matches("class=\"session\"").count(), 1);
    // A wrong token is refused; a forged handle ends nothing.
    let refused = laptop.post_form("/sessions/end", &[("handle", &handles[0]), ("csrf", "x")]);
    assert_eq!(refused.status, 403);

    // "End all other sessions" after logging in twice more.
    assert_eq!(login(&mut phone, "ada").status, 303);
    let mut tablet = Client::new(shop.addr);
    assert_eq!(login(&mut tablet, "ada").status, 303);
    let page = laptop.get("/sessions");
    assert_eq!(page.body.matches("class=\"session\"").count(), 3);
    let csrf = csrf_of(&page);
    end_other_sessions(&mut laptop, &csrf);
    assert_eq!(session_json(&mut phone)["user"], serde_json::Value::Null);
    assert_eq!(session_json(&mut tablet)["user"], serde_json::Value::Null);
    assert_eq!(session_json(&mut laptop)["user"], "ada");
    // The main page shows its expiry as a date, not Unix seconds.
    let home = laptop.get("/");
    assert!(home.body.contains(" UTC</span>"), "{}", home.body);
}

#[test]
pub(crate) fn the_cookie_backend_with_a_revocation_store_ends_the_other_sessions() {
    let dir = TempDir::new("shop-cookie-active");
    let shop = start_cookie_shop(&dir);
    let (mut laptop, mut phone) = (Client::new(shop.addr), Client::new(shop.addr));
    assert_eq!(login(&mut laptop, "ada").status, 303);
    assert_eq!(login(&mut phone, "ada").status, 303);
    let page = laptop.get("/sessions");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"no-list\""), "{}", page.body);
    let csrf = csrf_of(&page);
    end_other_sessions(&mut laptop, &csrf);
    assert_eq!(
        session_json(&mut phone)["user"],
        serde_json::Value::Null,
        "the phone is signed out"
    );
    assert_eq!(
        session_json(&mut laptop)["user"],
        "ada",
        "the laptop stays signed in"
    );
}

/// The spec's `max_sessions = 5` (`end_oldest`): six clients log in as one user, each from
/// another browser; the first is anonymous at its next request, the five others stay
/// signed in, and the "Active sessions" page lists five, each with the device label set
/// at its login from the `User-Agent` (the spec's `shown` field `device`).
#[test]
fn a_sixth_login_ends_the_oldest_session_and_devices_are_shown() {
    let dir = TempDir::new("shop-max-sessions");
    let sessions = dir.path().join("sessions");
    // The spec's own limit: `start_shop` lifts it.
    let envs = [
        ("SESSION_KEY", KEY),
        ("SESSION_FILE_DIR", sessions.to_str().expect("utf-8 path")),
    ];
    let shop = Server::start(shop_binary(), &[], &envs);
    let agents = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1",
        "curl/8.5.0",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
        "<script>alert(1)</script>",
    ];
    let mut clients: Vec<Client> = agents.iter().map(|_| Client::new(shop.addr)).collect();
    for (i, (client, agent)) in clients.iter_mut().zip(agents).enumerate() {
        let csrf = csrf_of(&client.get("/"));
        let r = client.post_form_with(
            "/login",
            &[("username", "ada"), ("csrf", &csrf)],
            &[("User-Agent", agent)],
        );
        assert_eq!(r.status, 303);
        if i == 0 {
            // Expiries are whole seconds: the first login must end a second before the
            // others for "the oldest" to be it, not one of several of the same second.
            std::thread::sleep(Duration::from_millis(1100));
        }
    }
    assert_eq!(
        session_json(&mut clients[0])["user"],
        serde_json::Value::Null,
        "the oldest session was ended by the sixth login"
    );
    for client in &mut clients[1..] {
        assert_eq!(session_json(client)["user"], "ada");
    }
    let page = clients[5].get("/sessions");
    assert_eq!(
        page.body.matches("class=\"session\"").count(),
        5,
        "{}",
        page.body
    );
    for label in [
        "Chrome on Windows",
        "Safari on iPhone",
        "curl",
        "Chrome on Android",
    ] {
        assert!(
            page.body
                .contains(&format!("<td class=\"device\">{label}</td>")),
            "{label}: {}",
            page.body
        );
    }
    assert!(
        !page.body.contains("Firefox on Linux"),
        "the ended session is not listed"
    );
    assert!(
        !page.body.contains("<script>"),
        "a label is escaped: {}",
        page.body
    );
}
