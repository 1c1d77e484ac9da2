//! One session declared twice, in `tests/specs/parity.toml` and with `#[derive(Session)]`
//! below: both front-ends give the same IR (origins aside), and the two generated types
//! behave the same at run time: the same storage keys, policy, validation errors, stored
//! bytes and upgrade results.

use serde_json::json;
use session_runtime::{Map, Session, SessionSchema, ValidationError};
use tests::types::Point;

#[allow(unreachable_pub)]
mod from_toml {
    include!(concat!(env!("OUT_DIR"), "/parity.rs"));
}

/// Declares the derived session and keeps its tokens, so that the IR test lowers exactly
/// what the compiler expanded.
macro_rules! declared {
    ($($item:tt)*) => {
        mod derived {
            use session_runtime::Session;
            $($item)*
        }
        fn derive_input() -> syn::DeriveInput {
            syn::parse_quote! { $($item)* }
        }
    };
}

declared! {
    /// One session, declared in TOML and with the derive.
    #[derive(Session)]
    #[session(version = 3, session_cookie_name = "parity", same_site = "strict")]
    #[session(prefix = "host", expiration_time = "90m", permanent, refresh_each_request)]
    #[session(idle_timeout = 20, absolute_timeout = "1d", rotation_interval = "1h")]
    #[session(cookie_mode = "signed", backend = "memory")]
    #[session(keys(env = "PARITY_SESSION_KEY", fallback_env = ["PARITY_SESSION_KEY_OLD"]))]
    pub(super) struct Parity {
        /// Signed-in user.
        #[session(key = "user", min_length = 2, max_length = 16, pattern = "[a-z]+")]
        username: Option<String>,
        #[session(default, max_items = 3, max_length = 8)]
        cart: Vec<String>,
        #[session(default, min = 1, max = 99, max_items = 2)]
        quantities: std::collections::BTreeMap<String, u32>,
        #[session(default = 1, min = 0, max = 2.5)]
        ratio: f64,
        #[session(default = "EUR", one_of = ["EUR", "USD"])]
        currency: String,
        #[session(default = 0, custom = tests::validators::even)]
        lucky: i64,
        #[session(custom = tests::validators::in_unit_square)]
        spot: tests::types::Point,
        #[session(sensitive)]
        token: Option<String>,
        #[session(default = false)]
        remember: bool,
        #[session(default = ["news"], max_items = 4, max_length = 12, pattern = "[a-z]+")]
        topics: std::collections::HashSet<String>,
    }
}

use derived::{Parity as D, ParityExt as _};
use from_toml::{Parity as T, ParityExt as _};

#[test]
fn both_front_ends_give_the_same_ir() {
    let source = include_str!("../../specs/parity.toml");
    let toml = session_spec::parse::parse_str(source, "parity.toml").expect("valid spec");
    let derive = session_spec::derive::lower_derive_input(&derive_input())
        .expect("valid derive input")
        .schema;
    assert_eq!(toml.without_origins(), derive.without_origins());
    // Both recorded where each setting was written, under the same names.
    let keys = |s: &session_spec::Schema| s.settings_origins.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&toml), keys(&derive));
}

#[test]
fn same_keys_names_and_policy() {
    assert_eq!(T::NAME, D::NAME);
    assert_eq!(T::VERSION, D::VERSION);
    assert_eq!(T::KEYS, D::KEYS);
    assert_eq!(T::SENSITIVE, D::SENSITIVE);
    assert_eq!(T::SENSITIVE, ["token"]);
    assert_eq!(T::settings(), D::settings());
    assert_eq!(T::KEYS[0], "user");
}

/// Runs the same calls on both sessions and asserts that each call has the same outcome.
macro_rules! both {
    ($t:ident, $d:ident, $($call:tt)*) => {{
        let a: Result<(), ValidationError> = $t.$($call)*;
        let b: Result<(), ValidationError> = $d.$($call)*;
        assert_eq!(a, b, "{}", stringify!($($call)*));
        a
    }};
}

#[test]
fn same_validation_errors_and_stored_bytes() {
    let t: Session<T> = Session::detached();
    let d: Session<D> = Session::detached();
    assert_eq!(t.ratio(), d.ratio());
    assert_eq!(t.currency(), d.currency());
    assert_eq!(t.cart(), d.cart());

    let mut refused = 0;
    let mut count = |r: Result<(), ValidationError>| refused += usize::from(r.is_err());
    count(both!(t, d, set_username(Some("ada".into()))));
    count(both!(t, d, set_username(Some("a".into()))));
    count(both!(t, d, set_username(Some("Ada".into()))));
    count(both!(t, d, set_username(Some("x".repeat(17)))));
    count(both!(t, d, push_cart("apple".into())));
    count(both!(t, d, push_cart("watermelon".into())));
    count(both!(t, d, push_cart("pear".into())));
    count(both!(t, d, push_cart("plum".into())));
    count(both!(t, d, push_cart("fig".into())));
    count(both!(t, d, insert_quantities("apple".into(), 3)));
    count(both!(t, d, insert_quantities("pear".into(), 0)));
    count(both!(t, d, insert_quantities("plum".into(), 100)));
    count(both!(t, d, insert_quantities("fig".into(), 2)));
    count(both!(t, d, insert_quantities("kiwi".into(), 2)));
    count(both!(t, d, set_ratio(2.6)));
    count(both!(t, d, set_ratio(f64::NAN)));
    count(both!(t, d, set_ratio(0.25)));
    count(both!(t, d, set_currency("GBP".into())));
    count(both!(t, d, set_currency("USD".into())));
    count(both!(t, d, set_lucky(7)));
    count(both!(t, d, set_lucky(8)));
    count(both!(t, d, set_spot(Point { x: 2.0, y: 0.0 })));
    count(both!(t, d, set_spot(Point { x: 0.5, y: 0.5 })));
    count(both!(t, d, set_token(Some("s3cret".into()))));
    count(both!(t, d, set_remember(true)));
    // The calls above include refusals of every kind of rule, not only successes.
    assert_eq!(refused, 13);

    assert_eq!(t.username(), d.username());
    assert_eq!(t.quantities(), d.quantities());
    assert_eq!(t.spot(), d.spot());
    let bytes = |m: Map| serde_json::to_vec(&m).unwrap();
    assert_eq!(bytes(t.get_all()), bytes(d.get_all()));
    assert_eq!(t.get_all()["user"], "ada");
    assert_eq!(
        format!("{t:?}"),
        format!("{d:?}").replace("derived", "from_toml")
    );
    assert_eq!(t.validate(), d.validate());
}

#[test]
fn same_upgrade_of_stored_data() {
    let stored = [
        json!({}),
        json!({"user": "ada", "cart": ["apple"], "unknown": 1}),
        json!({"user": "A", "cart": "not a list", "ratio": 9.0, "currency": "GBP"}),
        json!({"lucky": 3, "spot": {"x": 5.0, "y": 0.0}, "quantities": {"a": 0}}),
    ];
    for data in stored {
        let serde_json::Value::Object(data) = data else {
            unreachable!()
        };
        let (mut a, mut b) = (data.clone(), data);
        let (ra, rb) = (T::upgrade(&mut a), D::upgrade(&mut b));
        assert_eq!(ra, rb);
        assert_eq!(
            serde_json::to_vec(&a).unwrap(),
            serde_json::to_vec(&b).unwrap()
        );
    }
}

#[test]
fn same_mistakes_same_messages() {
    let spec = r#"
name = "Shop"

[session]
same_site = "none"
secure = false
idle_timeout = "2h"
absolute_timeout = "30m"

[fields.visits]
type = "u32"
max_length = 3

[fields.username]
type = "Option<String>"
pattern = "("

[fields.display_name]
type = "Option<String>"
key = "username"

[fields.quantity]
type = "u8"
min = 10
max = 1
default = 300
"#;
    let derive: syn::DeriveInput = syn::parse_quote! {
        #[session(same_site = "none", secure = false)]
        #[session(idle_timeout = "2h", absolute_timeout = "30m")]
        struct Shop {
            #[session(max_length = 3)]
            visits: u32,
            #[session(pattern = "(")]
            username: Option<String>,
            #[session(key = "username")]
            display_name: Option<String>,
            #[session(min = 10, max = 1, default = 300)]
            quantity: u8,
        }
    };
    let from_toml: Vec<String> = session_spec::parse::parse_str(spec, "session.toml")
        .expect_err("the spec has mistakes")
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| d.message)
        .collect();
    let from_derive: Vec<String> = session_spec::derive::lower_derive_input(&derive)
        .expect_err("the struct has mistakes")
        .into_iter()
        .map(|e| e.to_string())
        // A conflict's other place is an error of its own in the derive (a secondary
        // label in TOML).
        .filter(|e| !e.contains("the other place of this error"))
        // The derive appends help and notes to the message; the headline is the first line.
        .map(|e| e.lines().next().unwrap_or_default().to_owned())
        .collect();
    assert!(from_toml.len() >= 6, "{from_toml:#?}");
    assert_eq!(from_toml, from_derive);
}
