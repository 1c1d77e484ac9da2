//! The examples log: a store failure behind a `500` leaves a line on stderr, and `RUST_LOG`
//! chooses what else is shown.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::http::Client;
use crate::server::{Server, TempDir};
use crate::shop::{KEY, csrf_of};

/// The log written so far, once it holds a line containing `needle` (the server writes it
/// after the response has left, so wait a little for it).
fn log_with(log: &std::path::Path, needle: &str) -> String {
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) || Instant::now() > give_up {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The shop on the file store in `dir/sessions`, its stderr in `dir/stderr.log`.
fn start_logged_shop(dir: &TempDir, rust_log: &str) -> (Server, PathBuf, PathBuf) {
    let sessions = dir.path().join("sessions");
    let log = dir.path().join("stderr.log");
    let shop = Server::start_logged(
        crate::shop::shop_binary(),
        &[
            ("SESSION_KEY", KEY),
            ("SESSION_FILE_DIR", sessions.to_str().unwrap()),
            ("RUST_LOG", rust_log),
        ],
        &log,
    );
    (shop, sessions, log)
}

#[test]
pub fn a_store_failure_is_logged_as_one_error_line() {
    let dir = TempDir::new("shop-log-error");
    let (shop, sessions, log) = start_logged_shop(&dir, "");
    let mut client = Client::new(shop.addr);
    let csrf = csrf_of(&client.get("/"));
    // The session directory disappears under the running shop; a file takes its place.
    std::fs::remove_dir_all(&sessions).unwrap();
    std::fs::write(&sessions, b"not a directory").unwrap();
    let response = client.post_form("/login", &[("username", "ada"), ("csrf", &csrf)]);
    assert!(response.status >= 500, "status {}", response.status);
    let text = log_with(&log, "ERROR");
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one line for one failure:\n{text}");
    assert!(
        errors[0].contains("session_runtime") && errors[0].contains("failed"),
        "{}",
        errors[0]
    );
    assert!(
        !text.contains("DEBUG"),
        "the default level is info:\n{text}"
    );
}

#[test]
pub fn rust_log_turns_on_the_runtime_debug_lines() {
    let dir = TempDir::new("shop-log-debug");
    let (shop, _, log) = start_logged_shop(&dir, "session_runtime=debug,warn");
    let mut client = Client::new(shop.addr);
    client
        .cookies
        .insert("shop".to_owned(), "forged".to_owned());
    assert_eq!(client.get("/").status, 200);
    let text = log_with(&log, "DEBUG");
    assert!(
        text.lines()
            .any(|l| l.contains("DEBUG") && l.contains("session_runtime")),
        "a refused cookie is logged at debug:\n{text}"
    );
}
