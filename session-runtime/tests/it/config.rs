//! Start-up overrides: TOML file and `SESSION_*` variables.

use session_runtime::config::{self, ConfigError};
use session_runtime::keys::Keys;
use session_runtime::spec::{Backend, CookiePrefix, SameSite, SettingsProblem};
use session_runtime::{Error, SessionManager, Settings};

#[test]
fn environment_overrides_every_setting() {
    let mut s = Settings::default();
    config::apply_vars(
        &mut s,
        [
            ("SESSION_COOKIE_NAME", "sid"),
            ("SESSION_EXPIRATION_TIME", "2s"),
            ("SESSION_SECURE", "false"),
            ("SESSION_HTTP_ONLY", "0"),
            ("SESSION_SAME_SITE", "Strict"),
            ("SESSION_PATH", "/app"),
            ("SESSION_DOMAIN", "example.com"),
            ("SESSION_PERMANENT", "yes"),
            ("SESSION_REFRESH_EACH_REQUEST", "true"),
            ("SESSION_IDLE_TIMEOUT", "15m"),
            ("SESSION_ABSOLUTE_TIMEOUT", "12h"),
            ("SESSION_ROTATION_INTERVAL", "1h"),
            ("SESSION_COOKIE_MODE", "signed"),
            ("SESSION_FILE_DIR", "/tmp/s"),
            ("SESSION_FILE_DURABILITY", "None"),
            ("SESSION_BACKEND", "file"),
            ("SESSION_KEY", "not a setting, ignored"),
            ("PATH", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(s.cookie_name, "sid");
    assert_eq!(s.expiration_time.as_seconds(), 2);
    assert!(!s.secure && !s.http_only && s.permanent && s.refresh_each_request);
    assert_eq!(s.same_site, SameSite::Strict);
    assert_eq!(s.path, "/app");
    assert_eq!(s.domain.as_deref(), Some("example.com"));
    assert_eq!(s.idle_timeout.unwrap().as_seconds(), 900);
    assert_eq!(s.absolute_timeout.unwrap().as_seconds(), 43_200);
    assert_eq!(s.rotation_interval.unwrap().as_seconds(), 3600);
    assert_eq!(s.cookie_mode, session_runtime::spec::CookieMode::Signed);
    assert_eq!(
        s.backend,
        Backend::File {
            dir: "/tmp/s".into(),
            encrypt: false,
            durability: session_runtime::spec::FileDurability::None,
        }
    );

    config::apply_vars(
        &mut s,
        [
            ("SESSION_IDLE_TIMEOUT", ""),
            ("SESSION_DOMAIN", ""),
            ("SESSION_PREFIX", "host"),
        ],
    )
    .unwrap();
    assert_eq!(s.idle_timeout, None);
    assert_eq!(s.domain, None);
    assert_eq!(s.prefix, Some(CookiePrefix::Host));
}

/// `SESSION_BACKEND=redis` selects the Redis backend with its defaults, and keeps the
/// options of a Redis backend the spec already declared.
#[test]
fn session_backend_selects_redis() {
    use session_runtime::spec::settings::RedisBackend;
    let mut s = Settings::default();
    config::apply_vars(&mut s, [("SESSION_BACKEND", "redis")]).unwrap();
    assert_eq!(s.backend, Backend::Redis(RedisBackend::default()));
    let declared = Backend::Redis(RedisBackend {
        prefix: "shop".into(),
        encrypt: true,
        ..RedisBackend::default()
    });
    let mut s = Settings {
        backend: declared.clone(),
        ..Settings::default()
    };
    config::apply_vars(&mut s, [("SESSION_BACKEND", "Redis")]).unwrap();
    assert_eq!(s.backend, declared);
}

#[test]
fn invalid_variables_name_the_variable() {
    let mut s = Settings::default();
    for (var, value) in [
        ("SESSION_SECURE", "maybe"),
        ("SESSION_EXPIRATION_TIME", "ten"),
        ("SESSION_SAME_SITE", "loose"),
        ("SESSION_BACKEND", "mongodb"),
    ] {
        let err = config::apply_vars(&mut s, [(var, value)]).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Env { var: v, .. } if v == var),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!("`{var}={value}`")),
            "{err}"
        );
    }
    assert_eq!(
        s,
        Settings::default(),
        "nothing applied from invalid values"
    );
}

/// A config file accepts every Nexios name the spec accepts (one alias table,
/// `session_spec::KEY_ALIASES`), each meaning what its canonical key means.
#[test]
fn toml_overrides_accept_every_alias_of_the_spec() {
    let values = |key: &str| match key {
        "cookie_name" => r#""sid""#,
        "secure" | "http_only" | "permanent" | "refresh_each_request" | "partitioned" => "false",
        "expiration_time" => "30",
        "domain" => r#""example.com""#,
        "path" => r#""/app""#,
        "same_site" => r#""strict""#,
        "backend" => r#""cookies""#,
        other => panic!("no sample value for `{other}`: add one"),
    };
    for (alias, canonical) in session_runtime::spec::KEY_ALIASES {
        let value = values(canonical);
        let mut by_alias = Settings::default();
        config::apply_toml(&mut by_alias, &format!("{alias} = {value}"))
            .unwrap_or_else(|e| panic!("`{alias}`: {e}"));
        let mut by_key = Settings::default();
        let canonical_value = if *canonical == "backend" {
            r#"{ type = "cookie" }"#
        } else {
            value
        };
        config::apply_toml(&mut by_key, &format!("{canonical} = {canonical_value}")).unwrap();
        assert_eq!(by_alias, by_key, "`{alias}` stands for `{canonical}`");
    }
}

#[test]
fn toml_overrides_keep_other_keys_and_accept_nexios_names() {
    let mut s = Settings {
        cookie_name: "kept".into(),
        ..Settings::default()
    };
    config::apply_toml(
        &mut s,
        r#"
        session_expiration_time = 30
        session_cookie_secure = false
        same_site = "strict"
        idle_timeout = "90s"
        backend = { type = "file", dir = "/var/sessions" }
        "#,
    )
    .unwrap();
    assert_eq!(s.cookie_name, "kept");
    assert_eq!(s.expiration_time.as_seconds(), 1800);
    assert!(!s.secure);
    assert_eq!(s.same_site, SameSite::Strict);
    assert_eq!(s.idle_timeout.unwrap().as_seconds(), 90);
    assert_eq!(
        s.backend,
        Backend::File {
            dir: "/var/sessions".into(),
            encrypt: false,
            durability: Default::default()
        }
    );
    let err = config::apply_toml(&mut s, "cookie_nmae = \"x\"").unwrap_err();
    assert!(err.to_string().contains("cookie_nmae"), "{err}");
    assert!(config::apply_toml(&mut s, "secure = ").is_err());
}

#[test]
fn toml_file_errors_name_the_file() {
    let mut s = Settings::default();
    let err = config::apply_toml_file(&mut s, std::path::Path::new("/nonexistent/session.toml"))
        .unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/session.toml"));
}

#[test]
fn invalid_policy_is_refused_at_start_up() {
    let s = Settings {
        same_site: SameSite::None,
        secure: false,
        ..Settings::default()
    };
    let err = config::check(&s).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Problems(p) if p == &[SettingsProblem::SameSiteNoneWithoutSecure])
    );
    match SessionManager::<session_runtime::Dynamic>::cookie(s, Keys::generate()) {
        Err(Error::Config(ConfigError::Problems(_))) => {}
        other => panic!("expected a config error, got {other:?}"),
    }
    let injected = Settings {
        path: "/; Domain=evil.example".into(),
        ..Settings::default()
    };
    assert!(matches!(
        SessionManager::<session_runtime::Dynamic>::cookie(injected, Keys::generate()),
        Err(Error::Config(_))
    ));
}

/// Every setting variable the table documents passes the strict start-up path
/// (`load_with`, which refuses unknown `SESSION_*` names), not only `apply_vars`.
#[test]
fn every_documented_variable_is_known_at_start_up() {
    let vars = [
        ("SESSION_ROTATION_INTERVAL", "1h"),
        ("SESSION_ROTATION_GRACE", "10s"),
        ("SESSION_PARTITIONED", "true"),
    ]
    .map(|(k, v)| (k.into(), v.into()));
    let settings = config::load_with(Settings::default(), None, vars).unwrap();
    assert_eq!(settings.rotation_grace.as_seconds(), 10);
    assert!(settings.partitioned);
}
