//! The quickstart, as the README's first command runs it: no key, no server, no set-up.

use crate::http::Client;
use crate::server::Server;

#[test]
fn quickstart_counts_visits_in_a_sealed_cookie_without_any_setup() {
    // No `SESSION_KEY`: the program draws an ephemeral key (and says so on stderr).
    let app = Server::start(env!("CARGO_BIN_EXE_quickstart"), &[], &[]);
    let mut client = Client::new(app.addr);
    let first = client.get("/");
    assert_eq!(first.status, 200);
    assert!(
        first.body.contains("<b id=\"visits\">1</b>"),
        "{}",
        first.body
    );
    let cookie = first
        .header("set-cookie")
        .expect("a session cookie")
        .to_owned();
    let lower = cookie.to_ascii_lowercase();
    assert!(lower.starts_with("quickstart="), "{cookie}");
    for flag in ["httponly", "secure", "samesite=lax"] {
        assert!(lower.contains(flag), "`{flag}` missing from `{cookie}`");
    }
    // The data is in the cookie, encrypted: the count is not readable in it.
    let value = cookie
        .split(';')
        .next()
        .unwrap_or("")
        .trim_start_matches("quickstart=");
    assert!(value.len() > 20 && !value.contains("visits"), "{value}");

    assert!(client.get("/").body.contains("<b id=\"visits\">2</b>"));
    assert!(client.get("/").body.contains("<b id=\"visits\">3</b>"));

    // An edited cookie is refused: a fresh session starts at 1.
    let mut forger = Client::new(app.addr);
    let mut forged = client.cookies["quickstart"].clone().into_bytes();
    let middle = forged.len() / 2;
    forged[middle] = if forged[middle] == b'A' { b'B' } else { b'A' };
    forger.cookies.insert(
        "quickstart".into(),
        String::from_utf8(forged).expect("ascii"),
    );
    assert!(forger.get("/").body.contains("<b id=\"visits\">1</b>"));
}
