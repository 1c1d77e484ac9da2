//! The example of the issue: declare, set, get, break a rule.
#![deny(warnings)]

use session_runtime::{Rule, Session, SessionSchema};

#[derive(Session)]
#[session(cookie_name = "shop", expiration_time = 30, refresh_each_request)]
struct Shop {
    /// Signed-in user.
    #[session(max_length = 64)]
    username: Option<String>,
    #[session(max_items = 2, max_length = 32, default)]
    cart: Vec<String>,
}

fn main() {
    let session: Session<Shop> = Session::detached();
    assert_eq!(session.username(), None);
    session.set_username(Some("ada".to_owned())).unwrap();
    assert_eq!(session.username().as_deref(), Some("ada"));
    assert!(session.cart().is_empty());
    session.push_cart("apple".to_owned()).unwrap();
    session.push_cart("pear".to_owned()).unwrap();
    let err = session.push_cart("plum".to_owned()).unwrap_err();
    assert_eq!((err.field.as_str(), err.rule), ("cart", Rule::MaxItems));
    assert_eq!(session.cart(), ["apple", "pear"]);
    let err = session.set_username(Some("x".repeat(65))).unwrap_err();
    assert_eq!(err.rule, Rule::MaxLength);

    assert_eq!(Shop::NAME, "Shop");
    assert_eq!(Shop::KEYS, ["username", "cart"]);
    assert_eq!(Shop::settings().cookie_name, "shop");
    assert_eq!(Shop::settings().expiration_time.as_seconds(), 1800);
}
