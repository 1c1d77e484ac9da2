//! One rulebook: every rule about a session's policy is written once in `session-spec`, and
//!
//! - each one is reported by both front-ends, the TOML spec and `#[derive(Session)]`, with
//!   the same message (the table below has an example of every [`SettingsProblem`], by an
//!   exhaustive `match`, so a new rule without an example does not compile);
//! - nothing the runtime refuses at start-up passes the build: for policies drawn at
//!   random (cookie names, paths, domains, prefixes, lifetimes, table names), whenever
//!   the runtime's manager or store refuses one, the spec validator refuses it too.

use std::sync::Arc;

use proptest::prelude::*;
use session_runtime::store::MemoryStore;
use session_runtime::{Dynamic, SessionManager};
use session_spec::rules::Rule;
use session_spec::settings::{Backend, CookiePrefix, DatabaseBackend, Lifetime, SameSite};
use session_spec::{Schema, Settings, SettingsProblem};

/// A policy that breaks `p`, as `[session]` TOML lines and as `#[session(...)]` items.
fn example(p: &SettingsProblem) -> (&'static str, &'static str) {
    match p {
        SettingsProblem::InvalidCookieName => ("cookie_name = \"a b\"", "cookie_name = \"a b\""),
        SettingsProblem::SameSiteNoneWithoutSecure => (
            "same_site = \"none\"\nsecure = false",
            "same_site = \"none\", secure = false",
        ),
        SettingsProblem::HostPrefixWithDomain => (
            "prefix = \"host\"\ndomain = \"example.com\"",
            "prefix = \"host\", domain = \"example.com\"",
        ),
        SettingsProblem::HostPrefixWithPath => (
            "prefix = \"host\"\npath = \"/app\"",
            "prefix = \"host\", path = \"/app\"",
        ),
        SettingsProblem::PrefixWithoutSecure => (
            "prefix = \"secure\"\nsecure = false",
            "prefix = \"secure\", secure = false",
        ),
        SettingsProblem::InvalidPath => ("path = \"app\"", "path = \"app\""),
        SettingsProblem::NonPositive(_) => ("expiration_time = 0", "expiration_time = 0"),
        SettingsProblem::Negative(_) => ("rotation_grace = \"-5s\"", "rotation_grace = \"-5s\""),
        SettingsProblem::IdleLongerThanAbsolute => (
            "expiration_time = \"1d\"\nidle_timeout = \"2h\"\nabsolute_timeout = 60",
            "expiration_time = \"1d\", idle_timeout = \"2h\", absolute_timeout = 60",
        ),
        SettingsProblem::IdleNotShorterThanExpiration => (
            "expiration_time = 30\nidle_timeout = 30",
            "expiration_time = 30, idle_timeout = 30",
        ),
        SettingsProblem::ExpirationLongerThanAbsolute => (
            "expiration_time = \"2d\"\nabsolute_timeout = \"1d\"",
            "expiration_time = \"2d\", absolute_timeout = \"1d\"",
        ),
        SettingsProblem::RotationNeverHappens => (
            "expiration_time = 30\nabsolute_timeout = \"8h\"\nrotation_interval = \"8h\"",
            "expiration_time = 30, absolute_timeout = \"8h\", rotation_interval = \"8h\"",
        ),
        SettingsProblem::PrefixInCookieName(_) => {
            ("cookie_name = \"__Host-x\"", "cookie_name = \"__Host-x\"")
        }
        SettingsProblem::InvalidDomain(_) => {
            ("domain = \".example.com\"", "domain = \".example.com\"")
        }
        SettingsProblem::PartitionedWithoutSecure => (
            "partitioned = true\nsecure = false",
            "partitioned, secure = false",
        ),
        SettingsProblem::UnsafeAttribute(_) => ("path = \"/a;b\"", "path = \"/a;b\""),
        SettingsProblem::AttributeTooLong(_) => (LONG_PATH_TOML, LONG_PATH_DERIVE),
        SettingsProblem::MaxSessionsWithoutPrincipal => (
            "backend = \"memory\"\nmax_sessions = 5",
            "backend = \"memory\", max_sessions = 5",
        ),
        SettingsProblem::MaxSessionsOnCookieBackend => (
            "principal = \"user\"\nrevocation_store = \"memory\"\nmax_sessions = 5",
            "principal = \"user\", revocation_store = \"memory\", max_sessions = 5",
        ),
    }
}

const LONG_PATH_TOML: &str = concat!("path = \"/", include_str!("rulebook_1100.txt"), "\"");
const LONG_PATH_DERIVE: &str = concat!("path = \"/", include_str!("rulebook_1100.txt"), "\"");

/// One value of every variant.
fn every_problem() -> Vec<SettingsProblem> {
    vec![
        SettingsProblem::InvalidCookieName,
        SettingsProblem::SameSiteNoneWithoutSecure,
        SettingsProblem::HostPrefixWithDomain,
        SettingsProblem::HostPrefixWithPath,
        SettingsProblem::PrefixWithoutSecure,
        SettingsProblem::InvalidPath,
        SettingsProblem::NonPositive("expiration_time"),
        SettingsProblem::Negative("rotation_grace"),
        SettingsProblem::IdleLongerThanAbsolute,
        SettingsProblem::IdleNotShorterThanExpiration,
        SettingsProblem::ExpirationLongerThanAbsolute,
        SettingsProblem::RotationNeverHappens,
        SettingsProblem::PrefixInCookieName(CookiePrefix::Host),
        SettingsProblem::InvalidDomain(
            "write it without the leading dot: browsers ignore the dot and it reads as a different rule",
        ),
        SettingsProblem::PartitionedWithoutSecure,
        SettingsProblem::UnsafeAttribute("path"),
        SettingsProblem::AttributeTooLong("path"),
        SettingsProblem::MaxSessionsWithoutPrincipal,
        SettingsProblem::MaxSessionsOnCookieBackend,
    ]
}

fn toml_errors(session: &str) -> Vec<String> {
    let spec = format!("name = \"Rulebook\"\n[session]\n{session}\n");
    spec_errors(&spec, "rulebook.toml")
}

/// The error messages the TOML front-end reports for the spec `spec` (read from `file`).
fn spec_errors(spec: &str, file: &str) -> Vec<String> {
    match session_spec::parse::parse_str(spec, file) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect(),
    }
}

fn derive_errors(items: &str) -> Vec<String> {
    let input: syn::DeriveInput =
        syn::parse_str(&format!("#[session({items})] struct Rulebook {{}}")).unwrap();
    match session_spec::derive::lower_derive_input(&input) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn every_settings_rule_is_reported_by_both_front_ends() {
    for p in every_problem() {
        let (toml, derive) = example(&p);
        let expected = p.to_string();
        let from_toml = toml_errors(toml);
        assert!(
            from_toml.contains(&expected),
            "TOML does not report `{expected}`: {from_toml:#?}"
        );
        let from_derive = derive_errors(derive);
        assert!(
            from_derive.iter().any(|m| m.starts_with(&expected)),
            "the derive does not report `{expected}`: {from_derive:#?}"
        );
    }
}

/// A schema of no fields with `settings`, as if written in a spec.
fn schema(settings: Settings) -> Schema {
    Schema {
        settings,
        ..Schema::new("Rulebook")
    }
}

fn build_errors(settings: &Settings) -> usize {
    session_spec::validate::validate(&schema(settings.clone()))
        .iter()
        .filter(|d| d.is_error())
        .count()
}

fn lifetime() -> impl Strategy<Value = Lifetime> {
    prop_oneof![
        (-2i64..5).prop_map(Lifetime::from_minutes),
        (1i64..100_000).prop_map(Lifetime::from_seconds),
    ]
}

fn settings() -> impl Strategy<Value = Settings> {
    let name = prop_oneof![
        Just("session".to_owned()),
        Just("__Host-sid".to_owned()),
        Just("__secure-sid".to_owned()),
        "[ -~]{0,6}",
    ];
    let path = prop_oneof![
        Just("/".to_owned()),
        "/[ -~]{0,5}",
        "[a-z;]{0,3}",
        "/\u{e9}"
    ];
    let domain = prop_oneof![
        Just(None),
        Just(Some("example.com".to_owned())),
        Just(Some(".example.com".to_owned())),
        Just(Some("example.com:80".to_owned())),
        Just(Some("com".to_owned())),
        "[a-z.;-]{0,8}".prop_map(Some),
    ];
    let prefix = prop_oneof![
        Just(None),
        Just(Some(CookiePrefix::Host)),
        Just(Some(CookiePrefix::Secure))
    ];
    let same_site = prop_oneof![
        Just(SameSite::Lax),
        Just(SameSite::Strict),
        Just(SameSite::None)
    ];
    (
        (name, path, domain, prefix, same_site),
        (any::<bool>(), any::<bool>()),
        (
            lifetime(),
            proptest::option::of(lifetime()),
            proptest::option::of(lifetime()),
            proptest::option::of(lifetime()),
        ),
    )
        .prop_map(
            |(
                (cookie_name, path, domain, prefix, same_site),
                (secure, partitioned),
                (expiration_time, idle_timeout, absolute_timeout, rotation_interval),
            )| Settings {
                cookie_name,
                path,
                domain,
                prefix,
                same_site,
                secure,
                partitioned,
                expiration_time,
                idle_timeout,
                absolute_timeout,
                rotation_interval,
                backend: Backend::Memory,
                ..Settings::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the runtime's manager refuses at start-up, the build refused first.
    #[test]
    fn nothing_the_runtime_refuses_passes_the_build(settings in settings()) {
        let runtime = SessionManager::<Dynamic>::with_store(
            settings.clone(),
            Arc::new(MemoryStore::new()),
        );
        if let Err(e) = runtime {
            prop_assert!(
                build_errors(&settings) > 0,
                "the runtime refuses ({e}) what the build accepts: {settings:#?}"
            );
        }
    }

    /// Whatever table name the database stores refuse, the build refused first. (The
    /// stores' `TableName::new` calls `DatabaseBackend::table_name_problem`, the rule
    /// used here, so the two cannot drift; this checks the validator applies it.)
    #[test]
    fn no_table_name_the_stores_refuse_passes_the_build(table in "[ -~]{0,60}") {
        let settings = Settings {
            backend: Backend::Postgres(DatabaseBackend {
                table: table.clone(),
                ..DatabaseBackend::default()
            }),
            ..Settings::default()
        };
        if DatabaseBackend::table_name_problem(&table).is_some() {
            prop_assert!(build_errors(&settings) > 0, "`{table}` passes the build");
        }
    }
}

/// The property above is not vacuous: the runtime does refuse policies at start-up, and
/// each of these is refused by the build as well.
#[test]
fn start_up_refusals_are_build_errors() {
    let refused = [
        Settings {
            path: "/a;b".into(),
            ..Settings::default()
        },
        Settings {
            domain: Some("example.com;x".into()),
            ..Settings::default()
        },
        Settings {
            cookie_name: "a b".into(),
            ..Settings::default()
        },
        Settings {
            same_site: SameSite::None,
            secure: false,
            ..Settings::default()
        },
    ];
    for settings in refused {
        let runtime =
            SessionManager::<Dynamic>::with_store(settings.clone(), Arc::new(MemoryStore::new()));
        assert!(runtime.is_err(), "{settings:?}");
        assert!(build_errors(&settings) > 0, "{settings:?}");
    }
}

/// A realistic misuse of each field rule, as `(TOML keys of [fields.f], field type)`; the
/// derive attribute's items are the same keys ([`derive_items`]). `None` for the rules
/// that only exist at run time. An exhaustive `match`: a new rule does not compile without
/// its example.
fn field_rule_example(rule: Rule) -> Option<(&'static str, &'static str)> {
    Some(match rule {
        Rule::Min => ("min = 1", "String"),
        Rule::Max => ("max = 300", "u8"),
        Rule::MinLength => ("min_length = 5\nmax_length = 2", "String"),
        Rule::MaxLength => ("max_length = 3", "u32"),
        Rule::MaxItems => ("max_items = 3", "BTreeSet<bool>"),
        Rule::MaxKeyLength => ("max_items = 3\nmax_key_length = 8", "Vec<u8>"),
        Rule::Pattern => ("pattern = \"(\"", "String"),
        Rule::OneOf => ("one_of = []", "String"),
        Rule::Custom => ("custom = \"not a path\"", "String"),
        Rule::Type => ("default = \"x\"", "u8"),
        // Checked on stored data only: a missing value has no build-time form.
        Rule::Required => return None,
    })
}

/// The items of a `#[session(...)]` field attribute saying what the TOML lines `toml` say.
fn derive_items(toml: &str) -> String {
    toml.replace('\n', ", ")
}

const EVERY_RULE: [Rule; 11] = [
    Rule::Min,
    Rule::Max,
    Rule::MinLength,
    Rule::MaxLength,
    Rule::MaxItems,
    Rule::MaxKeyLength,
    Rule::Pattern,
    Rule::OneOf,
    Rule::Custom,
    Rule::Type,
    Rule::Required,
];

/// Every field rule's misuse is reported by both front-ends with the same headline.
#[test]
fn every_field_rule_is_reported_by_both_front_ends() {
    for rule in EVERY_RULE {
        let Some((toml, ty)) = field_rule_example(rule) else {
            continue;
        };
        let derive = derive_items(toml);
        let spec = format!(
            "name = \"Rulebook\"\n[session]\nbackend = \"memory\"\n[fields.f]\ntype = \"{ty}\"\n{toml}\n"
        );
        let from_toml = spec_errors(&spec, "f.toml");
        let input: syn::DeriveInput = syn::parse_str(&format!(
            "#[session(backend = \"memory\")] struct Rulebook {{ #[session({derive})] f: {ty} }}"
        ))
        .unwrap();
        let from_derive: Vec<String> = match session_spec::derive::lower_derive_input(&input) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string())
                .filter(|e| !e.contains("the other place of this error"))
                .map(|e| e.lines().next().unwrap_or_default().to_owned())
                .collect(),
        };
        assert!(!from_toml.is_empty(), "{rule}: TOML accepted {spec}");
        assert!(
            from_toml
                .iter()
                .any(|m| m.contains(&format!("`{rule}")) || rule == Rule::Type),
            "{rule}: {from_toml:#?}"
        );
        // The same errors (the derive orders them by their tokens).
        let (mut from_toml, mut from_derive) = (from_toml, from_derive);
        from_toml.sort();
        from_derive.sort();
        assert_eq!(from_toml, from_derive, "{rule}");
    }
}
