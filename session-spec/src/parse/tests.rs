use super::*;
use crate::ir::{DefaultValue, FieldType, Number, Value};
use crate::settings::{Backend, CookiePrefix, Lifetime, SameSite};

const FULL: &str = r#"
name = "Shop"
version = 2
doc = "The shop's session."

[session]
session_cookie_name = "shop"
secure = true
same_site = "strict"
prefix = "host"
expiration_time = "2h"
idle_timeout = 30
absolute_timeout = "1d"
backend = { type = "file", dir = "/tmp/sessions" }

[session.keys]
env = "SHOP_KEY"
fallback_env = ["SHOP_KEY_OLD"]

[enums.Role]
variants = ["user", "super_admin", { name = "Guest", key = "anon" }]

[fields.user_id]
type = "Option<u64>"
doc = "The signed-in user."
sensitive = true

[fields.role]
type = "Role"
default = "user"

[fields.cart]
type = "Vec<String>"
max_items = 50
max_length = 64
type_default = true

[fields.ratio]
type = "f64"
default = 1
min = 0
max = 2.5
one_of = [1, 2.5]

[fields]
theme = "String"
"#;

#[test]
fn a_full_spec_lowers() {
    let s = parse_str(FULL, "shop.toml").unwrap();
    assert_eq!((s.name.as_str(), s.version), ("Shop", 2));
    assert_eq!(s.settings.cookie_name, "shop");
    assert_eq!(s.settings.same_site, SameSite::Strict);
    assert_eq!(s.settings.prefix, Some(CookiePrefix::Host));
    assert_eq!(s.settings.expiration_time, Lifetime::from_minutes(120));
    assert_eq!(s.settings.idle_timeout, Some(Lifetime::from_minutes(30)));
    assert!(matches!(s.settings.backend, Backend::File { .. }));
    assert_eq!(s.settings.keys.env, "SHOP_KEY");
    assert!(s.settings_origins.contains_key("cookie_name"));
    let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["user_id", "role", "cart", "ratio", "theme"]);
    let variants: Vec<_> = s.enums[0]
        .variants
        .iter()
        .map(|v| (v.name.as_str(), v.key.as_str()))
        .collect();
    assert_eq!(
        variants,
        [
            ("User", "user"),
            ("SuperAdmin", "super_admin"),
            ("Guest", "anon")
        ]
    );
    assert_eq!(s.fields[1].ty.value, FieldType::Enum("Role".into()));
    assert_eq!(
        s.fields[2].default.as_ref().unwrap().value,
        DefaultValue::TypeDefault
    );
    let ratio = &s.fields[3];
    assert_eq!(
        ratio.default.as_ref().unwrap().value,
        DefaultValue::Value(Value::Float(1.0))
    );
    assert_eq!(ratio.rules.min.as_ref().unwrap().value, Number::Int(0));
    assert_eq!(
        ratio.rules.one_of.as_ref().unwrap().value,
        vec![Value::Float(1.0), Value::Float(2.5)]
    );
    assert!(s.fields[0].sensitive);
}

fn errors(src: &str) -> Vec<String> {
    parse_str(src, "s.toml")
        .unwrap_err()
        .items
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| d.message)
        .collect()
}

#[test]
fn every_error_is_reported() {
    let src = r#"
name = "Shop"
verison = 1
[session]
secret_key = "hunter2"
same_site = "nonee"
cookie_name = "a"
session_cookie_name = "b"
[fields.a]
type = "Vec<Strng>"
[fields.b]
type = "u32"
max_lenght = 3
"#;
    let e = errors(src);
    assert_eq!(e.len(), 6, "{e:#?}");
    assert!(e[0].contains("unknown key `verison`"));
    assert!(e[1].contains("literal secret `secret_key`"));
    assert!(e[2].contains("invalid value for `same_site`"));
    assert!(e[3].contains("`cookie_name` is set twice"));
    assert!(e[4].contains("unknown type `Strng`"));
    assert!(e[5].contains("unknown key `max_lenght`"));
}

#[test]
fn syntax_errors_have_positions() {
    let d = parse_str("name = \"Shop\nx = 1\n", "s.toml").unwrap_err();
    assert!(d.items[0].message.starts_with("invalid TOML"), "{d}");
    assert!(d.locations()[0].is_some());
}

#[test]
fn type_errors_point_inside_the_string() {
    let src = "name = \"Shop\"\n[fields.a]\ntype = \"Vec<Strng>\"\n";
    let d = parse_str(src, "s.toml").unwrap_err();
    assert_eq!(d.locations(), vec![Some((3, 13))]);
}

#[test]
fn missing_file_is_a_diagnostic() {
    let d = parse_file("/nonexistent/session.toml").unwrap_err();
    assert!(
        d.items[0]
            .message
            .starts_with("cannot read `/nonexistent/session.toml`")
    );
}

#[test]
fn templates_parse_without_warnings() {
    for (name, src) in [
        ("minimal", include_str!("../../templates/minimal.toml")),
        ("auth", include_str!("../../templates/auth.toml")),
        ("cart", include_str!("../../templates/cart.toml")),
        (
            "csrf-flash",
            include_str!("../../templates/csrf-flash.toml"),
        ),
    ] {
        let (schema, d) = check_str(src, name);
        assert!(d.is_empty(), "{name}:\n{d}");
        assert!(schema.is_some());
    }
}

#[test]
fn file_backend_durability() {
    let spec =
        |d: &str| format!("name = \"S\"\n[session.backend]\ntype = \"file\"\ndir = \"/s\"\n{d}");
    for (written, durability) in [
        ("", crate::FileDurability::None),
        ("durability = \"group\"\n", crate::FileDurability::Group),
        ("durability = \"fsync\"\n", crate::FileDurability::Fsync),
        ("durability = \"none\"\n", crate::FileDurability::None),
    ] {
        let s = parse_str(&spec(written), "s.toml").unwrap();
        assert!(
            matches!(s.settings.backend, Backend::File { durability: d, .. } if d == durability),
            "{written}"
        );
    }
    let e = errors(&spec("durability = \"always\"\n"));
    assert_eq!(
        e,
        [
            "invalid value for the backend's `durability`: expected one of `\"fsync\"`, `\"group\"`, `\"none\"`, found `\"always\"`"
        ]
    );
    let e = errors(&spec("durability = true\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    // Only the file backend has a durability.
    let e = errors("name = \"S\"\n[session.backend]\ntype = \"memory\"\ndurability = \"none\"\n");
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn file_backend_needs_a_dir() {
    for spec in [
        "name = \"S\"\n[session]\nbackend = \"file\"\n",
        "name = \"S\"\n[session.backend]\ntype = \"file\"\nencrypt = true\n",
    ] {
        let e = errors(spec);
        assert_eq!(e, ["the `file` backend needs a `dir`"], "{spec}");
    }
    let s = parse_str("name = \"S\"\n[session]\nbackend = \"memory\"\n", "s.toml").unwrap();
    assert_eq!(s.settings.backend, Backend::Memory);
}
