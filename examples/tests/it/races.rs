//! Concurrent requests of one session over real HTTP against the shop (file store): parallel
//! cart adds and page loads never fail and lose nothing, with or without a rotation due,
//! a logout racing a rotating request always sticks, and parallel login attempts each
//! count towards the throttle, which tries exactly the attempts left in the window.
//!
//! `SESSION_RACE_TRIALS` raises the number of logout races (10 by default; the figures in
//! the notes use 1,000).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::http::{Client, Response};
use crate::server::{Server, TempDir};
use crate::shop::{REFUSED, csrf_of, login, start_shop};

fn trials() -> usize {
    std::env::var("SESSION_RACE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// A client holding `cookie` as its session.
fn with_cookie(shop: &Server, cookie: &str) -> Client {
    let mut client = Client::new(shop.addr);
    client.cookies.insert("shop".into(), cookie.to_owned());
    client
}

/// The session cookie a response set, unless it removed it.
fn set_cookie(response: &Response) -> Option<String> {
    response
        .headers("set-cookie")
        .into_iter()
        .filter(|c| c.starts_with("shop="))
        .find(|c| !c.to_ascii_lowercase().contains("max-age=0"))
        .map(|c| c["shop=".len()..c.find(';').unwrap_or(c.len())].to_owned())
}

/// Runs `requests` at once, one thread each; returns the responses in order.
fn at_once<F>(requests: Vec<F>) -> Vec<Response>
where
    F: FnOnce() -> Response + Send + 'static,
{
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                request()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("a request thread"))
        .collect()
}

fn user_and_cart(shop: &Server, cookie: &str) -> (serde_json::Value, Vec<String>) {
    let json = with_cookie(shop, cookie).get("/api/session").json();
    let cart = json["cart"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (json["user"].clone(), cart)
}

/// 50 concurrent `POST /cart` on one session: 50 acknowledged, 50 kept, one session.
fn fifty_cart_adds(rotation_due: bool) {
    let dir = TempDir::new("shop-cart-race");
    let interval = if rotation_due { "1s" } else { "" };
    let shop = start_shop(&dir, &[("SESSION_ROTATION_INTERVAL", interval)]);
    let mut client = Client::new(shop.addr);
    // Signed in first: an anonymous visitor has no session to add to.
    let csrf = csrf_of(&client.get("/"));
    let login = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
    assert_eq!(login.status, 303);
    let csrf = csrf_of(&client.get("/"));
    let cookie = client.cookies["shop"].clone();
    if rotation_due {
        // Not a timing assertion: only makes the rotation due for every request below.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let requests: Vec<_> = (0..50)
        .map(|i| {
            let (addr, cookie, csrf) = (shop.addr, cookie.clone(), csrf.clone());
            move || {
                let mut client = Client::new(addr);
                client.cookies.insert("shop".into(), cookie);
                let item = format!("item-{i}");
                client.post_form("/cart", &[("item", item.as_str()), ("csrf", &csrf)])
            }
        })
        .collect();
    let responses = at_once(requests);
    let acknowledged = responses.iter().filter(|r| r.status == 303).count();
    let statuses: BTreeSet<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(
        acknowledged, 50,
        "rotation due: {rotation_due}: statuses {statuses:?}"
    );
    // No fork: every cookie the responses set opens the one session holding all 50 items
    // (more than one cookie only when a second rotation fell due during the burst: the
    // earlier one is then a forward to the later one, within its grace period).
    let cookies: BTreeSet<String> = responses.iter().filter_map(set_cookie).collect();
    assert!(
        !cookies.is_empty(),
        "rotation due: {rotation_due}: no cookie set"
    );
    for cookie in &cookies {
        let (_, cart) = user_and_cart(&shop, cookie);
        let kept: BTreeSet<&str> = cart.iter().map(String::as_str).collect();
        assert_eq!(
            kept.len(),
            50,
            "rotation due: {rotation_due}: every acknowledged item is kept in the one session: {cart:?}"
        );
    }
}

#[test]
pub(crate) fn fifty_concurrent_cart_adds_all_land() {
    fifty_cart_adds(false);
}

#[test]
pub(crate) fn fifty_concurrent_cart_adds_all_land_with_a_rotation_due() {
    fifty_cart_adds(true);
}

/// 20 concurrent `GET /` right after login (each clears the welcome message): no failure.
#[test]
pub(crate) fn twenty_concurrent_pages_after_login_never_fail() {
    let dir = TempDir::new("shop-home-race");
    let shop = start_shop(&dir, &[]);
    let mut client = Client::new(shop.addr);
    let csrf = csrf_of(&client.get("/"));
    let login = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
    assert_eq!(login.status, 303);
    let cookie = client.cookies["shop"].clone();
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let (addr, cookie) = (shop.addr, cookie.clone());
            move || {
                let mut client = Client::new(addr);
                client.cookies.insert("shop".into(), cookie);
                client.get("/")
            }
        })
        .collect();
    let statuses: Vec<u16> = at_once(requests).iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    // The message was shown and is gone.
    let page = with_cookie(&shop, &cookie).get("/");
    assert!(!page.body.contains("Welcome, ada."), "{}", page.body);
}

/// A logout racing a request that rotates the session: `POST /login` (a `cycle`) or a read
/// of `/api/session` once the periodic rotation is due. After both, neither the old cookie
/// nor one the racing response set opens a signed-in session: 0 resurrected. (A logout
/// that arrives after the login committed finds the old id dead and ends nothing: it is
/// counted apart.)
#[test]
pub(crate) fn logout_racing_rotation_never_resurrects() {
    let dir = TempDir::new("shop-logout-race");
    let shop = start_shop(&dir, &[("SESSION_ROTATION_INTERVAL", "1s")]);
    let trials = trials();
    let (mut resurrected, mut raced, mut too_late) = (0, 0, 0);
    for periodic in [false, true] {
        // The trials run in batches of 50 at once (one rotation wait per batch).
        let mut left = trials;
        while left > 0 {
            let batch = left.min(50);
            left -= batch;
            let mut sessions = Vec::new();
            for _ in 0..batch {
                let mut client = Client::new(shop.addr);
                let csrf = csrf_of(&client.get("/"));
                let login = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
                assert_eq!(login.status, 303);
                let csrf = csrf_of(&client.get("/"));
                sessions.push((client.cookies["shop"].clone(), csrf));
            }
            if periodic {
                std::thread::sleep(Duration::from_millis(1100));
            }
            let mut requests: Vec<Box<dyn FnOnce() -> Response + Send>> = Vec::new();
            for (cookie, csrf) in &sessions {
                let addr = shop.addr;
                let (c, t) = (cookie.clone(), csrf.clone());
                requests.push(Box::new(move || {
                    let mut client = Client::new(addr);
                    client.cookies.insert("shop".into(), c);
                    client.post_form("/logout", &[("csrf", &t)])
                }));
                let (c, t) = (cookie.clone(), csrf.clone());
                requests.push(Box::new(move || {
                    let mut client = Client::new(addr);
                    client.cookies.insert("shop".into(), c);
                    if periodic {
                        client.get("/api/session")
                    } else {
                        client.post_form("/login", &[("username", "bob"), ("csrf", &t)])
                    }
                }));
            }
            let responses = at_once(requests);
            for (i, (cookie, _)) in sessions.iter().enumerate() {
                let logout = &responses[2 * i];
                if logout.status == 403 && !periodic {
                    // The logout was read after the login had ended the old id at once:
                    // it found no session (hence no CSRF token) and ended nothing. Not a
                    // race a logout can win.
                    too_late += 1;
                    continue;
                }
                assert_eq!(logout.status, 303, "the logout succeeds");
                raced += 1;
                let mut cookies = vec![cookie.clone()];
                cookies.extend(set_cookie(&responses[2 * i + 1]));
                if cookies.iter().any(|c| !user_and_cart(&shop, c).0.is_null()) {
                    resurrected += 1;
                }
            }
        }
    }
    eprintln!(
        "logout races: {raced} logouts raced a rotation, {resurrected} resurrected; \
         {too_late} logouts came after the login and found no session"
    );
    assert_eq!(resurrected, 0, "of {raced} races");
}

/// One failed login, which creates the session, then `count` failed logins on that session
/// sent at once: the session's cookie and the parallel requests' statuses.
fn failed_logins_at_once(shop: &Server, count: usize) -> (String, Vec<u16>) {
    let mut client = Client::new(shop.addr);
    // The first failure creates the session (anonymous visitors have none).
    assert_eq!(login(&mut client, REFUSED).status, 422);
    let cookie = client.cookies["shop"].clone();
    let csrf = csrf_of(&client.get("/"));
    let requests: Vec<_> = (0..count)
        .map(|_| {
            let (addr, cookie, csrf) = (shop.addr, cookie.clone(), csrf.clone());
            move || {
                let mut client = Client::new(addr);
                client.cookies.insert("shop".into(), cookie);
                client.post_form("/login", &[("username", REFUSED), ("csrf", &csrf)])
            }
        })
        .collect();
    let statuses = at_once(requests).iter().map(|r| r.status).collect();
    (cookie, statuses)
}

/// Failed logins sent in parallel on one session each count towards the login throttle
/// (`LoginThrottle::reserve` is one `Session::update` step, replayed when it loses a race):
/// 1 + 3 parallel + 1 failures are the five that close the gate.
#[test]
pub(crate) fn parallel_failed_logins_each_count() {
    let dir = TempDir::new("shop-throttle-race");
    let shop = start_shop(&dir, &[]);
    let (cookie, statuses) = failed_logins_at_once(&shop, 3);
    assert!(statuses.iter().all(|&s| s == 422), "{statuses:?}");
    let mut client = with_cookie(&shop, &cookie);
    assert_eq!(login(&mut client, REFUSED).status, 422, "the fifth failure");
    assert_eq!(
        login(&mut client, "ada").status,
        429,
        "a lost failure would let this in"
    );
}

/// A burst of parallel failed logins on a session one failure into its window: exactly the
/// four attempts the throttle still allows are tried (`422`), every other one is refused
/// (`429` before it is tried, or `503` when its reservation lost the race to the last
/// allowed one), and the session is then at the limit. A gate whose read takes no part in
/// the commit would let the whole burst through; one whose read conflicts lets fewer.
#[test]
pub(crate) fn a_burst_at_the_limit_tries_exactly_the_allowed_attempts() {
    const BURST: usize = 8;
    let dir = TempDir::new("shop-throttle-burst");
    let shop = start_shop(&dir, &[]);
    let (cookie, statuses) = failed_logins_at_once(&shop, BURST);
    eprintln!("a burst of {BURST} failed logins with 4 places left: {statuses:?}");
    let tried = statuses.iter().filter(|&&s| s == 422).count();
    assert_eq!(
        tried, 4,
        "the four allowed attempts, no more, no fewer: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| [422, 429, 503].contains(&s)),
        "{statuses:?}"
    );
    let mut client = with_cookie(&shop, &cookie);
    assert_eq!(login(&mut client, "ada").status, 429, "at the limit");
}
