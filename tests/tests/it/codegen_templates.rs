//! The generated code of every template in `templates/`, compiled and exercised: valid
//! values are stored and read back, each rule's violation is refused naming the field and
//! the rule, and the compiled-in settings are the template's.

use crate::refused;
use session_runtime::{Rule, Session, SessionSchema};

generated!(minimal: "minimal", auth: "auth", cart: "cart", csrf_flash: "csrf_flash");

/// The settings compiled into the generated code are the ones the template declares.
#[track_caller]
fn settings_match<S: SessionSchema>(template: &str) {
    let path = format!(
        "{}/../templates/{template}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema = session_spec::parse::parse_file(&path).unwrap();
    assert_eq!(S::settings(), schema.settings, "{template}");
    assert_eq!(S::NAME, schema.name);
    assert_eq!(S::VERSION, schema.version);
    let keys: Vec<&str> = schema.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(S::KEYS, keys);
}

#[test]
fn minimal() {
    use minimal::{AppSession, AppSessionExt};
    settings_match::<AppSession>("minimal");
    let s = Session::<AppSession>::detached();
    assert_eq!(s.user_id(), None);
    s.set_user_id(Some(42)).unwrap();
    assert_eq!(s.user_id(), Some(42));
    assert!(s.remove_user_id());
    assert_eq!(s.user_id(), None);
    assert!(s.validate().is_ok());
}

#[test]
fn auth() {
    use auth::{AuthSession, AuthSessionExt, Role};
    settings_match::<AuthSession>("auth");
    assert_eq!(AuthSession::settings().full_cookie_name(), "__Host-auth");
    let s = Session::<AuthSession>::detached();
    s.set_user_id(Some(7)).unwrap();
    s.set_username(Some("ada".into())).unwrap();
    s.push_roles(Role::Editor).unwrap();
    s.set_login_at(Some(1_700_000_000)).unwrap();
    assert_eq!(s.user_id(), Some(7));
    assert_eq!(s.username().as_deref(), Some("ada"));
    assert_eq!(s.roles(), [Role::Editor]);
    assert_eq!(s.login_at(), Some(1_700_000_000));
    assert_eq!(s.get_all()["roles"], serde_json::json!(["editor"]));

    refused(
        s.set_username(Some(String::new())),
        "username",
        Rule::MinLength,
    );
    refused(
        s.set_username(Some("x".repeat(65))),
        "username",
        Rule::MaxLength,
    );
    refused(s.set_login_at(Some(-1)), "login_at", Rule::Min);
    refused(s.set_roles(vec![Role::User; 9]), "roles", Rule::MaxItems);
    assert_eq!(s.username().as_deref(), Some("ada"));
    assert!(s.validate().is_ok());
}

#[test]
fn cart() {
    use cart::{CartSession, CartSessionExt};
    settings_match::<CartSession>("cart");
    let s = Session::<CartSession>::detached();
    assert!(s.items().is_empty());
    assert!(s.quantities().is_empty());
    assert_eq!(s.currency(), "EUR");
    assert_eq!(s.coupon(), None);

    s.push_items("sku-1".into()).unwrap();
    s.insert_quantities("sku-1".into(), 3).unwrap();
    s.set_currency("GBP".into()).unwrap();
    s.set_coupon(Some("SPRING24".into())).unwrap();
    assert_eq!(s.items(), ["sku-1"]);
    assert_eq!(s.quantities()["sku-1"], 3);
    assert_eq!(s.currency(), "GBP");
    assert_eq!(s.coupon().as_deref(), Some("SPRING24"));

    refused(s.push_items("x".repeat(17)), "items", Rule::MaxLength);
    refused(s.set_items(vec!["x".into(); 21]), "items", Rule::MaxItems);
    refused(s.push_items("sku 1".into()), "items", Rule::Pattern);
    refused(
        s.insert_quantities("x".repeat(17), 1),
        "quantities",
        Rule::MaxKeyLength,
    );
    refused(
        s.insert_quantities("sku-2".into(), 0),
        "quantities",
        Rule::Min,
    );
    refused(
        s.insert_quantities("sku-2".into(), 100),
        "quantities",
        Rule::Max,
    );
    refused(s.set_currency("JPY".into()), "currency", Rule::OneOf);
    refused(s.set_coupon(Some("spring".into())), "coupon", Rule::Pattern);
    refused(s.set_coupon(Some("ABC".into())), "coupon", Rule::Pattern);
    assert_eq!(s.items(), ["sku-1"]);
    assert!(s.validate().is_ok());
}

#[test]
fn csrf_flash() {
    use csrf_flash::{CsrfFlash, CsrfFlashExt, Level};
    settings_match::<CsrfFlash>("csrf-flash");
    assert_eq!(CsrfFlash::SENSITIVE, ["csrf_token"]);
    let s = Session::<CsrfFlash>::detached();
    let token = "a".repeat(32);
    s.set_csrf_token(Some(token.clone())).unwrap();
    s.push_flash("saved".into()).unwrap();
    s.set_flash_level(Some(Level::Success)).unwrap();
    assert_eq!(s.csrf_token(), Some(token.clone()));
    assert_eq!(s.flash(), ["saved"]);
    assert_eq!(s.flash_level(), Some(Level::Success));
    assert!(!format!("{s:?}").contains(&token), "the token is redacted");

    refused(
        s.set_csrf_token(Some("a".repeat(31))),
        "csrf_token",
        Rule::MinLength,
    );
    refused(
        s.set_csrf_token(Some("a".repeat(129))),
        "csrf_token",
        Rule::MaxLength,
    );
    refused(
        s.set_csrf_token(Some(format!("{}!", "a".repeat(32)))),
        "csrf_token",
        Rule::Pattern,
    );
    refused(s.set_flash(vec!["m".into(); 4]), "flash", Rule::MaxItems);
    refused(s.push_flash("m".repeat(151)), "flash", Rule::MaxLength);
    refused(s.push_flash("bell\u{7}".into()), "flash", Rule::Pattern);
    assert_eq!(s.csrf_token(), Some(token));
    s.clear_flash().unwrap();
    assert!(s.flash().is_empty());
}

/// The snapshots reviewed in `session-spec/tests/it/snapshots/` are exactly the code
/// compiled and exercised here.
#[test]
fn compiled_code_is_the_reviewed_snapshot() {
    let snapshots = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../session-spec/tests/it/snapshots"
    );
    for (template, compiled) in [
        (
            "minimal",
            include_str!(concat!(env!("OUT_DIR"), "/minimal.rs")),
        ),
        ("auth", include_str!(concat!(env!("OUT_DIR"), "/auth.rs"))),
        ("cart", include_str!(concat!(env!("OUT_DIR"), "/cart.rs"))),
        (
            "csrf-flash",
            include_str!(concat!(env!("OUT_DIR"), "/csrf_flash.rs")),
        ),
    ] {
        let path = format!("{snapshots}/it__codegen__template_{template}.snap");
        let snapshot = std::fs::read_to_string(&path).unwrap();
        // An insta snapshot: a `---` header, then the content.
        let body = snapshot.splitn(3, "---\n").nth(2).unwrap();
        assert_eq!(
            body.trim_end(),
            compiled.trim_end(),
            "{template}: run `cargo insta test -p session-spec`"
        );
    }
}

/// The library `tests` compiles the same code as public modules under
/// `#![deny(missing_docs, warnings)]`; it is the same API from outside the crate.
#[test]
fn generated_code_as_a_library_api() {
    use tests::templates::cart::{CartSession, CartSessionExt};
    let s = Session::<CartSession>::detached();
    s.push_items("sku".into()).unwrap();
    assert_eq!(s.items(), ["sku"]);
    assert_eq!(CartSession::NAME, "CartSession");
    assert_eq!(tests::templates::auth::Role::ALL.len(), 3);
}
