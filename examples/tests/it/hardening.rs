//! Issue 10 (hardening) through the real shop binary: anonymous visitors store nothing, and
//! bad start-up configurations stop the program with an error naming what to fix.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::http::Client;
use crate::server::TempDir;
use crate::shop::{KEY, csrf_of, start_shop};

fn session_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter(|e| {
                e.as_ref().map_or(true, |e| {
                    e.file_name() != session_runtime::store::file::LOCK_DIR
                })
            })
            .count()
    })
}

/// 300 cookie-less `GET /`: no record, no cookie; the stateless token then works for an
/// anonymous form, and a forged or missing one does not.
#[test]
pub(crate) fn anonymous_visitors_cost_no_record() {
    let dir = TempDir::new("shop-anonymous");
    let shop = start_shop(&dir, &[]);
    let sessions = dir.path().join("sessions");
    let mut token = String::new();
    for _ in 0..300 {
        let mut client = Client::new(shop.addr);
        let page = client.get("/");
        assert_eq!(page.status, 200);
        assert!(
            page.header("set-cookie").is_none(),
            "an anonymous page view set a cookie"
        );
        token = csrf_of(&page);
    }
    let stored = session_files(&sessions);
    eprintln!("300 anonymous GET /: {stored} records stored");
    assert_eq!(stored, 0);

    // The stateless token is accepted for an anonymous form; a forged one is not.
    let mut client = Client::new(shop.addr);
    // The last hex digit changed (to `0`, or `1` when it was `0`: a token ending in `0`
    // "forged" to itself passed 1 time in 16).
    let last = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    assert_ne!(forged, token);
    let refused = client.post_form("/cart", &[("item", "tea"), ("csrf", &forged)]);
    assert_eq!(refused.status, 403);
    let refused = client.post_form("/cart", &[("item", "tea")]);
    assert_eq!(refused.status, 403);
    let added = client.post_form("/cart", &[("item", "tea"), ("csrf", &token)]);
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(session_files(&sessions), 1, "a cart is worth a record");
}

/// One bad start-up configuration: extra variables, `--config` contents (if any), and what
/// the error must name.
struct Case {
    what: &'static str,
    envs: Vec<(&'static str, Vec<u8>)>,
    config: Option<Vec<u8>>,
    names: String,
}

fn case(what: &'static str, envs: &[(&'static str, &str)], names: &str) -> Case {
    Case {
        what,
        envs: envs
            .iter()
            .map(|(k, v)| (*k, v.as_bytes().to_vec()))
            .collect(),
        config: None,
        names: names.to_owned(),
    }
}

/// Runs the shop with only `envs` among the `SESSION_*` variables; kills it after 20 s (a
/// start that should not happen). Returns the exit status, stdout and stderr.
fn run_shop(envs: &[(&'static str, Vec<u8>)], args: &[&OsStr]) -> (Option<i32>, String, String) {
    let mut command = Command::new(crate::shop::shop_binary());
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if n.starts_with("SESSION_") || n == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    command
        .env("PORT", "0")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, OsStr::from_bytes(v));
    }
    let mut child = command.spawn().expect("start shop");
    let mut waited = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if waited >= 2000 {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    };
    let output = child.wait_with_output().unwrap();
    (
        status.and_then(|s| s.code()),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
pub(crate) fn bad_startup_configurations_stop_the_shop_with_a_clear_error() {
    let dir = TempDir::new("shop-bad-config");
    let good_dir = dir.path().join("sessions");
    let good_dir = good_dir.to_str().unwrap().to_owned();
    let open_dir = dir.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    std::fs::set_permissions(&real_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link_dir = dir.path().join("link");
    std::os::unix::fs::symlink(&real_dir, &link_dir).unwrap();
    let (open_dir, link_dir) = (
        open_dir.to_str().unwrap().to_owned(),
        link_dir.to_str().unwrap().to_owned(),
    );
    let short_b64 = "base64:AAECAwQFBgcICQoLDA0ODw"; // 16 bytes
    let typo_config = dir.path().join("typo.toml");
    std::fs::write(&typo_config, "expiration_tme = 30\n").unwrap();
    let big_config = dir.path().join("big.toml");
    std::fs::write(&big_config, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let (typo_config, big_config) = (
        typo_config.to_str().unwrap().to_owned(),
        big_config.to_str().unwrap().to_owned(),
    );

    let k = ("SESSION_KEY", KEY);
    let d = ("SESSION_FILE_DIR", good_dir.as_str());
    let mut cases = vec![
        // Misspelt or unknown names.
        case(
            "misspelt SESSION_SECURE",
            &[k, d, ("SESSION_SECUR", "false")],
            "SESSION_SECUR",
        ),
        case(
            "misspelt cookie name",
            &[k, d, ("SESSION_COOKIE_NAM", "sid")],
            "SESSION_COOKIE_NAM",
        ),
        case(
            "unknown setting",
            &[k, d, ("SESSION_EXPIRATION", "30")],
            "SESSION_EXPIRATION",
        ),
        case(
            "misspelt key variable",
            &[k, d, ("SESSION_KEYS", KEY)],
            "SESSION_KEYS",
        ),
        case(
            "fallback key not configured",
            &[k, d, ("SESSION_KEY_OLD", KEY)],
            "SESSION_KEY_OLD",
        ),
        case(
            "lower-case name",
            &[k, d, ("SESSION_secure", "false")],
            "SESSION_secure",
        ),
        // Values a setting cannot take.
        case(
            "boolean typo",
            &[k, d, ("SESSION_SECURE", "flase")],
            "SESSION_SECURE",
        ),
        case(
            "same_site typo",
            &[k, d, ("SESSION_SAME_SITE", "relaxed")],
            "SESSION_SAME_SITE",
        ),
        case(
            "lifetime word",
            &[k, d, ("SESSION_EXPIRATION_TIME", "soon")],
            "SESSION_EXPIRATION_TIME",
        ),
        case(
            "negative idle",
            &[k, d, ("SESSION_IDLE_TIMEOUT", "-5")],
            "idle_timeout",
        ),
        case(
            "unknown backend",
            &[k, d, ("SESSION_BACKEND", "mongodb")],
            "SESSION_BACKEND",
        ),
        case(
            "unknown cookie mode",
            &[k, d, ("SESSION_COOKIE_MODE", "plain")],
            "SESSION_COOKIE_MODE",
        ),
        case(
            "dir without file backend",
            &[k, ("SESSION_BACKEND", "cookie"), d],
            "SESSION_FILE_DIR",
        ),
        // Policies that break a rule.
        case(
            "__Host- over http",
            &[
                k,
                d,
                ("SESSION_PREFIX", "host"),
                ("SESSION_SECURE", "false"),
            ],
            "secure = true",
        ),
        case(
            "cookie name with a `;`",
            &[k, d, ("SESSION_COOKIE_NAME", "a;b")],
            "cookie_name",
        ),
        case(
            "same_site none over http",
            &[
                k,
                d,
                ("SESSION_SAME_SITE", "none"),
                ("SESSION_SECURE", "false"),
            ],
            "same_site",
        ),
        // Keys.
        case("empty key", &[("SESSION_KEY", ""), d], "SESSION_KEY"),
        case(
            "whitespace key",
            &[("SESSION_KEY", "  \t "), d],
            "SESSION_KEY",
        ),
        case(
            "empty key with the ephemeral switch",
            &[("SESSION_KEY", ""), ("SESSION_EPHEMERAL_KEY", "true"), d],
            "SESSION_KEY",
        ),
        case("no key", &[d], "SESSION_KEY"),
        case(
            "32 times `a`",
            &[("SESSION_KEY", &"a".repeat(32)), d],
            "SESSION_KEY",
        ),
        case(
            "`BASE64:` typo",
            &[
                (
                    "SESSION_KEY",
                    "BASE64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                ),
                d,
            ],
            "SESSION_KEY",
        ),
        case(
            "`base64;` typo",
            &[
                (
                    "SESSION_KEY",
                    "base64;AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                ),
                d,
            ],
            "SESSION_KEY",
        ),
        case(
            "bad base64",
            &[("SESSION_KEY", "base64:!!!not base64!!!"), d],
            "SESSION_KEY",
        ),
        case("short key", &[("SESSION_KEY", "hunter2"), d], "SESSION_KEY"),
        case(
            "16-byte base64 key",
            &[("SESSION_KEY", short_b64), d],
            "SESSION_KEY",
        ),
        case(
            "missing key file",
            &[k, d, ("SESSION_KEY_FILE", "/nonexistent/keys")],
            "/nonexistent/keys",
        ),
        // The directory.
        case(
            "directory open to others",
            &[k, ("SESSION_FILE_DIR", open_dir.as_str())],
            &open_dir,
        ),
        case(
            "symlinked directory",
            &[k, ("SESSION_FILE_DIR", link_dir.as_str())],
            &link_dir,
        ),
        // Files.
        case(
            "settings file with a typo",
            &[k, d, ("SESSION_CONFIG", typo_config.as_str())],
            "expiration_tme",
        ),
        case(
            "settings file too large",
            &[k, d, ("SESSION_CONFIG", big_config.as_str())],
            &big_config,
        ),
        case(
            "missing settings file",
            &[k, d, ("SESSION_CONFIG", "/nonexistent/session.toml")],
            "/nonexistent/session.toml",
        ),
        case(
            "database URL of another scheme",
            &[k, d, ("DATABASE_URL", "redis://localhost")],
            "DATABASE_URL",
        ),
    ];
    // Values that are not UTF-8.
    cases.push(Case {
        what: "non-UTF-8 key",
        envs: vec![
            ("SESSION_KEY", b"base64:\xff\xfe".to_vec()),
            ("SESSION_FILE_DIR", good_dir.clone().into_bytes()),
        ],
        config: None,
        names: "SESSION_KEY".into(),
    });
    cases.push(Case {
        what: "non-UTF-8 setting",
        envs: vec![
            ("SESSION_KEY", KEY.into()),
            ("SESSION_SECURE", b"tr\xffue".to_vec()),
        ],
        config: None,
        names: "SESSION_SECURE".into(),
    });
    cases.push(Case {
        what: "`--config` with an unknown key",
        envs: vec![
            ("SESSION_KEY", KEY.into()),
            ("SESSION_FILE_DIR", good_dir.clone().into_bytes()),
        ],
        config: Some(b"secure = false\nsecure_cookie = true\n".to_vec()),
        names: "secure_cookie".into(),
    });

    let mut report = Vec::new();
    let (mut panics, mut silent) = (0, 0);
    for (n, case) in cases.iter().enumerate() {
        let config_path = dir.path().join(format!("case-{n}.toml"));
        let mut args: Vec<&OsStr> = Vec::new();
        if let Some(config) = &case.config {
            std::fs::write(&config_path, config).unwrap();
            args = vec![OsStr::new("--config"), config_path.as_os_str()];
        }
        let (code, stdout, stderr) = run_shop(&case.envs, &args);
        if stderr.contains("panicked") {
            panics += 1;
        }
        if code.is_none() || stdout.contains("listening on") {
            silent += 1;
        }
        let error = stderr
            .lines()
            // `shop: error:`, or `actix_shop: error:` (see `crate::actix_shop`).
            .find(|l| l.starts_with("shop: error:") || l.starts_with("actix_shop: error:"))
            .unwrap_or("")
            .to_owned();
        assert!(
            matches!(code, Some(c) if c != 0),
            "{}: exit {code:?}\n{stderr}",
            case.what
        );
        assert!(
            error.contains(&case.names),
            "{}: the error does not name `{}`: {stderr}",
            case.what,
            case.names
        );
        assert!(
            !error.contains("hunter2") && !error.contains("AAECAw"),
            "{}: {error}",
            case.what
        );
        report.push(format!("{:>2}. {}: {error}", n + 1, case.what));
    }
    eprintln!("{}", report.join("\n"));
    eprintln!(
        "{} bad configurations: {panics} panics, {silent} silent starts",
        cases.len()
    );
    assert!(cases.len() >= 30);
    assert_eq!((panics, silent), (0, 0));
}

/// `SESSION_BACKEND=cookie` on the shop, whose spec declares a principal, meets two
/// start-up checks of `SessionManager::cookie`: the cookie budget and the revocation store.
/// With both broken, the budget's error comes first, and its advice (keep the data
/// server-side) settles both; with the budget fixed, the next start names the revocation
/// store to add, or the server-side backend; with the store added, an overflowing budget
/// is still refused. Each start stops with one clear line and no panic.
#[test]
pub(crate) fn the_cookie_backend_with_a_principal_and_an_overflowing_budget() {
    let long_name = "c".repeat(1000);
    let error_of = |extra: &[(&'static str, &str)]| {
        let mut envs = vec![
            ("SESSION_KEY", KEY.as_bytes().to_vec()),
            ("SESSION_BACKEND", b"cookie".to_vec()),
        ];
        envs.extend(extra.iter().map(|(k, v)| (*k, v.as_bytes().to_vec())));
        let (code, stdout, stderr) = run_shop(&envs, &[]);
        assert!(matches!(code, Some(c) if c != 0), "exit {code:?}\n{stderr}");
        assert!(!stdout.contains("listening on"), "{stdout}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error:")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        errors[0].to_owned()
    };
    let budget = "the cookie backend cannot hold session `Shop`";
    let revocation = "needs a `revocation_store`";

    // Both broken: the budget first, and its advice settles both.
    let both = error_of(&[("SESSION_COOKIE_NAME", &long_name)]);
    assert!(both.contains(budget), "{both}");
    assert!(both.contains("SESSION_BACKEND=memory"), "{both}");
    assert!(!both.contains(revocation), "one problem at a time: {both}");

    // The budget fixed: the revocation store is next, named as the variable to set.
    let next = error_of(&[]);
    assert!(next.contains(revocation), "{next}");
    assert!(next.contains("SESSION_REVOCATION_STORE"), "{next}");
    assert!(next.contains("principal = \"user\""), "{next}");

    // The store added, an overflowing budget is still refused.
    let store_alone = error_of(&[
        ("SESSION_COOKIE_NAME", &long_name),
        ("SESSION_REVOCATION_STORE", "memory"),
    ]);
    assert!(store_alone.contains(budget), "{store_alone}");
}
