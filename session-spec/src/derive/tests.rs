//! Unit tests of the Rust front-end: what each attribute lowers to, and what each mistake
//! reports. (The compile-fail UI tests in `session-derive` show the same errors as rustc
//! renders them.)

use std::path::PathBuf;

use syn::parse_quote;

use super::lower_derive_input;
use crate::ir::{DefaultValue, FieldType, FloatType, IntType, Number, Origin, Value};
use crate::settings::{
    Backend, CookieMode, CookiePrefix, DatabaseBackend, Lifetime, RedisBackend, SameSite,
};

fn errors(input: syn::DeriveInput) -> Vec<String> {
    match lower_derive_input(&input) {
        Ok(l) => panic!("expected errors, got {:#?}", l.schema),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// `text` starts with `prefix`, or the test fails showing `text`.
#[track_caller]
fn assert_starts_with(text: &str, prefix: &str) {
    assert!(text.starts_with(prefix), "{text}");
}

/// `text` contains `part`, or the test fails showing `text`.
#[track_caller]
fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}

#[test]
fn every_container_attribute() {
    let l = lower_derive_input(&parse_quote! {
        /// The shop's session.
        #[session(version = 3, cookie_name = "shop", secure = true, http_only = false)]
        #[session(same_site = "strict", path = "/app", domain = "example.com")]
        #[session(prefix = "secure", expiration_time = "90m", permanent, refresh_each_request)]
        #[session(idle_timeout = 15, absolute_timeout = "12h", rotation_interval = "1h")]
        #[session(cookie_mode = "signed", backend(type = "file", dir = "/tmp/s", encrypt))]
        #[session(keys(env = "SHOP_KEY", fallback_env = ["OLD_KEY"]))]
        struct Shop {}
    })
    .unwrap();
    let s = &l.schema;
    assert_eq!((s.name.as_str(), s.version), ("Shop", 3));
    assert_eq!(s.doc.as_deref(), Some("The shop's session."));
    let p = &s.settings;
    assert_eq!(p.cookie_name, "shop");
    assert!(p.secure && !p.http_only && p.permanent && p.refresh_each_request);
    assert_eq!(p.same_site, SameSite::Strict);
    assert_eq!(
        (p.path.as_str(), p.domain.as_deref()),
        ("/app", Some("example.com"))
    );
    assert_eq!(p.prefix, Some(CookiePrefix::Secure));
    assert_eq!(p.expiration_time, Lifetime::from_minutes(90));
    assert_eq!(p.idle_timeout, Some(Lifetime::from_minutes(15)));
    assert_eq!(p.absolute_timeout, Some(Lifetime::from_minutes(720)));
    assert_eq!(p.rotation_interval, Some(Lifetime::from_minutes(60)));
    assert_eq!(p.cookie_mode, CookieMode::Signed);
    assert_eq!(
        p.backend,
        Backend::File {
            dir: PathBuf::from("/tmp/s"),
            encrypt: true,
            durability: Default::default()
        }
    );
    assert_eq!(p.keys.env, "SHOP_KEY");
    assert_eq!(p.keys.fallback_env, ["OLD_KEY"]);
    // Every key written has an origin in the span table; `version` is not a setting; the
    // options of `backend(...)` and `keys(...)` have their own (`backend.dir`).
    let nested: Vec<&str> = s
        .settings_origins
        .keys()
        .map(String::as_str)
        .filter(|k| k.contains('.'))
        .collect();
    assert_eq!(
        nested,
        [
            "backend.dir",
            "backend.encrypt",
            "backend.type",
            "keys.env",
            "keys.fallback_env"
        ]
    );
    assert_eq!(s.settings_origins.len(), 16 + nested.len());
    for origin in s.settings_origins.values() {
        let Origin::Rust { index } = origin else {
            panic!("{origin:?}")
        };
        assert!(*index < l.spans.len());
    }
}

#[test]
fn nexios_names_are_aliases() {
    let s = lower_derive_input(&parse_quote! {
        #[session(session_cookie_name = "nexios_session", session_cookie_secure = true)]
        #[session(session_cookie_httponly, session_expiration_time = 1440)]
        #[session(session_permanent = false, session_refresh_each_request)]
        struct Legacy;
    })
    .unwrap()
    .schema;
    assert_eq!(s.settings.cookie_name, "nexios_session");
    assert_eq!(s.settings.expiration_time, Lifetime::from_minutes(1440));
    assert!(s.settings.refresh_each_request && !s.settings.permanent);
    assert!(s.settings_origins.contains_key("cookie_name"));
}

#[test]
fn file_backend_durability() {
    let s = lower_derive_input(&parse_quote! {
        #[session(backend(type = "file", dir = "/s", durability = "none"))]
        struct A;
    })
    .unwrap()
    .schema;
    assert_eq!(
        s.settings.backend,
        Backend::File {
            dir: PathBuf::from("/s"),
            encrypt: false,
            durability: crate::FileDurability::None,
        }
    );
    assert!(
        lower_derive_input(&parse_quote! {
            #[session(backend(type = "file", dir = "/s", durability = "always"))]
            struct B;
        })
        .is_err()
    );
}

#[test]
fn database_and_simple_backends() {
    let s = lower_derive_input(&parse_quote! {
        #[session(backend(type = "postgres", table = "web_sessions"))]
        struct A;
    })
    .unwrap()
    .schema;
    assert_eq!(
        s.settings.backend,
        Backend::Postgres(DatabaseBackend {
            table: "web_sessions".into(),
            ..DatabaseBackend::default()
        })
    );
    let s = lower_derive_input(&parse_quote! {
        #[session(backend = "memory")]
        struct B;
    })
    .unwrap()
    .schema;
    assert_eq!(s.settings.backend, Backend::Memory);
}

#[test]
fn redis_and_encrypted_database_backends_lower_as_in_toml() {
    let derived = lower_derive_input(&parse_quote! {
        #[session(backend(type = "redis", url_env = "CACHE_URL", prefix = "shop", encrypt))]
        struct A;
    })
    .unwrap()
    .schema;
    let expected = Backend::Redis(RedisBackend {
        url_env: "CACHE_URL".into(),
        prefix: "shop".into(),
        encrypt: true,
        ..RedisBackend::default()
    });
    assert_eq!(derived.settings.backend, expected);
    let toml = crate::parse::parse_str(
        "name = \"A\"\n[session]\nbackend = { type = \"redis\", url_env = \"CACHE_URL\", prefix = \"shop\", encrypt = true }\n",
        "a.toml",
    )
    .unwrap();
    assert_eq!(toml.settings.backend, expected);

    let s = lower_derive_input(&parse_quote! {
        #[session(backend(type = "mysql", encrypt))]
        struct B;
    })
    .unwrap()
    .schema;
    assert_eq!(
        s.settings.backend,
        Backend::Mysql(DatabaseBackend {
            encrypt: true,
            ..DatabaseBackend::default()
        })
    );
    // The Redis key prefix is checked by the one validator, for the derive too.
    let e = errors(parse_quote! {
        #[session(backend(type = "redis", prefix = "a{b}"))]
        struct C;
    });
    assert!(e.iter().any(|e| e.contains("invalid key prefix")), "{e:?}");
}

#[test]
fn field_attributes_and_types() {
    let s = lower_derive_input(&parse_quote! {
        struct Shop {
            /// Signed-in user.
            ///
            /// Shown in the header.
            #[session(key = "user", min_length = 1, max_length = 64, pattern = "[a-z]+")]
            username: Option<String>,
            #[session(default, max_items = 50)]
            cart: ::std::vec::Vec<String>,
            #[session(default = 1, min = 1, max = 99)]
            quantity: u8,
            #[session(default = -0.5, min = -1.0)]
            ratio: f64,
            #[session(one_of = ["en", "fr"], default = "en", sensitive)]
            lang: String,
            #[session(custom = crate::checks::prefs)]
            prefs: std::collections::HashMap<String, bool>,
            #[session(custom = "crate::checks::role")]
            role: crate::auth::Role,
            r#ok: bool,
        }
    })
    .unwrap()
    .schema;
    let f = &s.fields;
    assert_eq!(f.len(), 8);
    assert_eq!(
        (f[0].name.as_str(), f[0].key.as_str()),
        ("username", "user")
    );
    assert_eq!(
        f[0].doc.as_deref(),
        Some("Signed-in user.\n\nShown in the header.")
    );
    assert_eq!(
        f[0].ty.value,
        FieldType::Option(Box::new(FieldType::String))
    );
    assert_eq!(f[0].rules.min_length.as_ref().unwrap().value, 1);
    assert_eq!(f[0].rules.max_length.as_ref().unwrap().value, 64);
    assert_eq!(f[0].rules.pattern.as_ref().unwrap().value, "[a-z]+");
    assert_eq!(
        f[1].default.as_ref().unwrap().value,
        DefaultValue::TypeDefault
    );
    assert_eq!(f[1].rules.max_items.as_ref().unwrap().value, 50);
    assert_eq!(f[2].ty.value, FieldType::Int(IntType::U8));
    assert_eq!(
        f[2].default.as_ref().unwrap().value,
        DefaultValue::Value(Value::Int(1))
    );
    assert_eq!(f[2].rules.max.as_ref().unwrap().value, Number::Int(99));
    assert_eq!(f[3].ty.value, FieldType::Float(FloatType::F64));
    assert_eq!(
        f[3].default.as_ref().unwrap().value,
        DefaultValue::Value(Value::Float(-0.5))
    );
    assert_eq!(f[3].rules.min.as_ref().unwrap().value, Number::Float(-1.0));
    assert!(f[4].sensitive && !f[0].sensitive);
    assert_eq!(
        f[4].rules.one_of.as_ref().unwrap().value,
        [Value::String("en".into()), Value::String("fr".into())]
    );
    assert_eq!(f[5].ty.value, FieldType::Map(Box::new(FieldType::Bool)));
    assert_eq!(
        f[5].rules.custom.as_ref().unwrap().value,
        "crate::checks::prefs"
    );
    assert_eq!(f[6].ty.value, FieldType::Path("crate::auth::Role".into()));
    assert_eq!(
        f[6].rules.custom.as_ref().unwrap().value,
        "crate::checks::role"
    );
    assert_eq!(f[7].name, "ok");
}

#[test]
fn unknown_attributes_suggest_the_nearest_name() {
    let e = errors(parse_quote! {
        #[session(cookie_nmae = "x", colour = "red", max_length = 3)]
        struct Shop {
            #[session(defualt, same_site = "lax")]
            a: String,
        }
    });
    assert_eq!(
        e,
        [
            "unknown session attribute `cookie_nmae`, did you mean `cookie_name`?",
            "unknown session attribute `colour`, expected one of `version`, `cookie_name`, `secure`, `http_only`, `same_site`, `path`, `domain`, `partitioned`, `prefix`, `expiration_time`, `permanent`, `refresh_each_request`, `idle_timeout`, `absolute_timeout`, `rotation_interval`, `rotation_grace`, `cookie_mode`, `backend`, `keys`, `principal`, `revocation_store`, `max_sessions`, `on_max_sessions`",
            "`max_length` is a field attribute, expected it on a field, not on the struct",
            "unknown session field attribute `defualt`, did you mean `default`?",
            "`same_site` is a session attribute, expected it on the struct, not on a field",
        ]
    );
}

#[test]
fn duplicates_and_literal_secrets() {
    let e = errors(parse_quote! {
        #[session(secure, session_cookie_secure = false, secret_key = "hunter2")]
        #[session(keys(env = "K", secret = "hunter2"))]
        struct Shop {
            #[session(max_length = 3, max_length = 4)]
            a: String,
            #[session(api_token = "hunter2")]
            b: String,
        }
    });
    assert_eq!(e.len(), 5, "{e:#?}");
    assert_starts_with(&e[4], "literal secret `api_token` in source code");
    assert_eq!(
        e[0],
        "duplicate session attribute `session_cookie_secure` (already given as `secure`)"
    );
    assert_starts_with(&e[1], "literal secret `secret_key` in source code");
    assert_starts_with(&e[2], "literal secret `secret` in source code");
    assert_eq!(e[3], "duplicate session attribute `max_length`");
}

#[test]
fn wrong_values_say_what_was_expected() {
    let e = errors(parse_quote! {
        #[session(cookie_name = 3, secure = "yes", same_site = "lox", expiration_time = "ten")]
        #[session(backend(type = "file", dri = "/tmp"))]
        struct Shop {
            #[session(max_length = -1, min = "a", one_of = "a", custom = 3)]
            a: String,
        }
    });
    assert_eq!(
        e,
        [
            "expected a string for `cookie_name`, like `cookie_name = \"...\"`",
            "expected `true` or `false` for `secure`",
            "invalid `same_site` value `\"lox\"`, expected one of `\"strict\"`, `\"lax\"`, `\"none\"`",
            "invalid `expiration_time`: invalid lifetime `ten`: expected minutes as an integer, or a number with a unit (`90s`, `30m`, `12h`, `7d`)",
            "unknown key `dri` in `backend(...)`, did you mean `dir`?",
            "expected a non-negative integer for `max_length`, like `max_length = 64`",
            "expected a number for `min`, like `min = 0`",
            "expected an array of allowed values for `one_of`, like `one_of = [\"a\", \"b\"]`",
            "expected a path to a validator function in `custom`, like `custom = crate::check`",
        ]
    );
}

#[test]
fn inputs_that_are_not_named_structs() {
    let e = errors(parse_quote! { enum Shop { A } });
    assert_eq!(
        e,
        ["`#[derive(Session)]` expects a struct with named fields, found an enum"]
    );
    let e = errors(parse_quote! { struct Shop(String); });
    assert_eq!(
        e,
        ["`#[derive(Session)]` expects a struct with named fields, found a tuple struct"]
    );
    let e = errors(parse_quote! { union Shop { a: u8 } });
    assert_eq!(
        e,
        ["`#[derive(Session)]` expects a struct with named fields, found a union"]
    );
    let e = errors(parse_quote! { struct Shop<T> { a: T } });
    assert!(
        e[0].starts_with("a session struct cannot be generic"),
        "{e:?}"
    );
}

#[test]
fn unsupported_field_types() {
    let e = errors(parse_quote! {
        struct Shop {
            a: &'static str,
            b: usize,
            c: (u8, u8),
            d: BTreeMap<u32, String>,
            e: std::borrow::Cow<'static, str>,
            f: [u8; 4],
        }
    });
    assert_eq!(e.len(), 6, "{e:#?}");
    assert!(e[0].starts_with("a session field must own its value, found a reference; expected an owned type like `String`"));
    assert!(e[1].starts_with("unsupported session field type `usize`, expected `bool`"));
    assert_starts_with(&e[2], "unsupported session field type `(u8, u8)`");
    assert_eq!(
        e[3],
        "session maps are stored as JSON objects, expected `String` keys, found `u32`"
    );
    assert_eq!(
        e[4],
        "a session field must own its value, expected a type without lifetimes"
    );
    assert_starts_with(&e[5], "unsupported session field type `[u8; 4]`");
}

#[test]
fn validator_errors_come_from_the_one_validator() {
    let e = errors(parse_quote! {
        #[session(same_site = "none", secure = false)]
        struct Shop {
            #[session(max_length = 3)]
            n: u32,
            #[session(pattern = "(")]
            s: String,
        }
    });
    assert_eq!(e.len(), 4, "{e:#?}");
    assert_contains(&e[0], "`same_site = \"none\"` requires `secure = true`");
    // The conflict's other place, `secure = false`, gets an error of its own.
    assert_starts_with(
        &e[1],
        "`secure` is off here\n= note: the other place of this error: `same_site",
    );
    assert_contains(
        &e[2],
        "rule `max_length` does not apply to field `n` of type `u32`",
    );
    assert!(e[3].contains("invalid regular expression"), "{}", e[3]);
}

/// Two places in conflict: the error at the first, and one at the second naming it, each
/// spanned at its own tokens.
#[test]
fn a_conflict_is_reported_at_both_places() {
    let err = lower_derive_input(&parse_quote! {
        struct Shop {
            #[session(min = 10, max = 1)]
            quantity: u8,
        }
    })
    .unwrap_err();
    let parts: Vec<syn::Error> = err.into_iter().collect();
    assert_eq!(parts.len(), 2);
    assert!(
        parts[0]
            .to_string()
            .starts_with("`min` (10) is greater than `max` (1)")
    );
    assert_eq!(
        parts[1].to_string(),
        "`max` is set here\n= note: the other place of this error: `min` (10) is greater than `max` (1) in field `quantity`: no value can pass"
    );
}

#[test]
fn local_lookalikes_stay_user_types() {
    let s = lower_derive_input(&parse_quote! {
        struct Shop {
            a: my::Option,
            b: ::core::option::Option<::std::string::String>,
            c: Option,
        }
    })
    .unwrap()
    .schema;
    assert_eq!(s.fields[0].ty.value, FieldType::Path("my::Option".into()));
    assert_eq!(
        s.fields[1].ty.value,
        FieldType::Option(Box::new(FieldType::String))
    );
    assert_eq!(s.fields[2].ty.value, FieldType::Path("Option".into()));
    // Generic user types by path work in both front-ends.
    let s = lower_derive_input(&parse_quote! { struct Shop { a: my::Wrapper<String> } })
        .unwrap()
        .schema;
    assert_eq!(
        s.fields[0].ty.value,
        FieldType::Path("my::Wrapper<String>".into())
    );
}

#[test]
fn literals_are_coerced_like_toml() {
    let s = lower_derive_input(&parse_quote! {
        struct Shop {
            #[session(default = 1, one_of = [1, 2.5])]
            ratio: Option<f64>,
            #[session(type_default)]
            tags: Vec<String>,
        }
    })
    .unwrap()
    .schema;
    assert_eq!(
        s.fields[0].default.as_ref().unwrap().value,
        DefaultValue::Value(Value::Float(1.0))
    );
    assert_eq!(
        s.fields[0].rules.one_of.as_ref().unwrap().value,
        [Value::Float(1.0), Value::Float(2.5)]
    );
    assert_eq!(
        s.fields[1].default.as_ref().unwrap().value,
        DefaultValue::TypeDefault
    );
}

#[test]
fn variable_names_not_secrets() {
    let e = errors(parse_quote! {
        #[session(keys(env = "c2VjcmV0LWtleS1tYXRlcmlhbA==", fallback_env = ["OK", "not ok"]))]
        #[session(backend(type = "postgres", url = "postgres://u:p@h/db"))]
        struct Shop;
    });
    assert_eq!(e.len(), 3, "{e:#?}");
    assert_starts_with(&e[0], "`keys(env = ...)` must name an environment variable");
    assert!(e[0].contains("looks like a secret itself"), "{}", e[0]);
    assert!(e[1].contains("found `not ok`"), "{}", e[1]);
    assert!(e[2].starts_with("a literal database URL `url`"), "{}", e[2]);
}

#[cfg(feature = "codegen")]
#[test]
fn expansion_or_errors_with_a_stub() {
    let good = super::expand(quote::quote! {
        struct Shop {
            #[session(max_length = 64)]
            username: Option<String>,
        }
    })
    .to_string();
    assert!(good.contains("trait ShopExt"), "{good}");
    assert!(!good.contains("compile_error"), "{good}");

    let bad = super::expand(quote::quote! {
        #[session(cookie_nmae = "shop")]
        struct Shop {
            #[session(max_length = 64)]
            visits: u32,
        }
    })
    .to_string();
    // Both mistakes, front-end and validator, and the stub beside them; no accessors.
    assert_eq!(bad.matches("compile_error").count(), 2, "{bad}");
    assert!(bad.contains("did you mean `cookie_name`?"), "{bad}");
    assert!(bad.contains("rule `max_length` does not apply"), "{bad}");
    assert!(bad.contains("SessionSchema for Shop"), "{bad}");
    assert!(!bad.contains("ShopExt"), "{bad}");

    // A generic input gets no stub: its parameters may not meet the trait's bounds.
    let generic = super::expand(quote::quote! { struct Shop<T> { a: T } }).to_string();
    assert!(generic.contains("compile_error") && !generic.contains("SessionSchema"));
}
