//! A small W3C WebDriver client for chromedriver, over the blocking HTTP client.
//!
//! Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`);
//! `tests/run-all.sh` installs them and exports `CHROMIUM` and `CHROMEDRIVER`. When either
//! is missing the browser test fails: it never skips.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http;

/// The W3C key of an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Finds an executable: the environment variable `var` if set, else the first of
/// `candidates` that exists. Panics with an install hint when none does.
pub(crate) fn locate(var: &str, candidates: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "`{var}` points at `{}`, which does not exist",
            path.display()
        );
        return path;
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "the browser test needs `{var}` or one of {candidates:?}: install Debian's \
             `chromium` and `chromium-driver` (`bash tests/run-all.sh` does)"
            )
        })
}

/// A running chromedriver process, stopped on drop.
pub(crate) struct Driver {
    child: Child,
    pub addr: SocketAddr,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub(crate) fn start(chromedriver: &Path) -> Self {
        let port = crate::server::free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", chromedriver.display()));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut driver = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http::request(addr, "GET", "/status", &[], b"")
                && r.json()["value"]["ready"] == json!(true)
            {
                return driver;
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends one command; the status and the `value` of the answer.
    fn try_call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let text = body.to_string();
        let payload: &[u8] = if method == "GET" || method == "DELETE" {
            b""
        } else {
            text.as_bytes()
        };
        let response = http::request(
            self.addr,
            method,
            path,
            &[("Content-Type", "application/json; charset=utf-8")],
            payload,
        )
        .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        (response.status, response.json()["value"].clone())
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let (status, value) = self.try_call(method, path, body);
        assert!(
            status == 200,
            "webdriver {method} {path} answered {status}: {}",
            value["message"]
        );
        value
    }

    /// Opens a headless Chromium session with a fresh profile in `profile`.
    pub(crate) fn new_session(&self, chromium: &Path, profile: &Path) -> Browser<'_> {
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--disable-dev-shm-usage", "--window-size=1000,900",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }}
        });
        let value = self.call("POST", "/session", &caps);
        let id = value["sessionId"].as_str().expect("session id").to_owned();
        Browser { driver: self, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session; closed on drop.
pub(crate) struct Browser<'d> {
    driver: &'d Driver,
    id: String,
}

/// An element reference.
pub(crate) struct Element(String);

impl Browser<'_> {
    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    pub(crate) fn goto(&self, url: &str) {
        self.call("POST", "/url", &json!({ "url": url }));
    }

    pub(crate) fn refresh(&self) {
        self.call("POST", "/refresh", &json!({}));
    }

    pub(crate) fn find(&self, css: &str) -> Element {
        let v = self.call(
            "POST",
            "/element",
            &json!({"using": "css selector", "value": css}),
        );
        Element(v[ELEMENT_KEY].as_str().expect("element id").to_owned())
    }

    /// How many elements match `css`.
    pub(crate) fn count(&self, css: &str) -> usize {
        let v = self.call(
            "POST",
            "/elements",
            &json!({"using": "css selector", "value": css}),
        );
        v.as_array().map_or(0, Vec::len)
    }

    pub(crate) fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.call("GET", &format!("/element/{}/text", e.0), &json!({}))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub(crate) fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{}/clear", e.0), &json!({}));
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            &json!({ "text": text }),
        );
    }

    pub(crate) fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{}/click", e.0), &json!({}));
    }

    /// Clicks a button that submits a form, and waits until the next page has loaded: the
    /// old document is gone (its root element is stale) and the new one is complete.
    pub(crate) fn submit(&self, css: &str) {
        let old = self.find("html");
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(15);
        let path = format!("/session/{}/element/{}/name", self.id, old.0);
        while self.driver.try_call("GET", &path, &json!({})).0 == 200 {
            assert!(
                Instant::now() < deadline,
                "no new page 15 s after clicking `{css}`"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        while self.execute("return document.readyState;") != "complete" {
            assert!(
                Instant::now() < deadline,
                "page not loaded 15 s after clicking `{css}`"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub(crate) fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            &json!({ "script": script, "args": [] }),
        )
    }

    pub(crate) fn url(&self) -> String {
        self.call("GET", "/url", &json!({}))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The cookies the browser holds for the current page, HttpOnly ones included
    /// (WebDriver sees them; page scripts must not).
    pub(crate) fn cookies(&self) -> Vec<Value> {
        self.call("GET", "/cookie", &json!({}))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A PNG screenshot of the viewport.
    pub(crate) fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.call("GET", "/screenshot", &json!({}));
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 screenshot"))
            .expect("valid base64")
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = http::request(
            self.driver.addr,
            "DELETE",
            &format!("/session/{}", self.id),
            &[],
            b"",
        );
    }
}
