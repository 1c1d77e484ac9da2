//! Generated schemas behind the session manager: typed values survive a commit and a
//! load (in a sealed cookie and in a store), and a schema's next version upgrades stored
//! sessions through the generated `upgrade` (defaults filled, removed fields dropped, data
//! that breaks a new rule refused).

use std::sync::Arc;

use session_runtime::keys::Keys;
use session_runtime::store::MemoryStore;
use session_runtime::{SessionManager, SessionSchema};

generated!(cart: "cart", v1: "versioned_v1", v2: "versioned_v2");

use cart::{CartSession, CartSessionExt};
use v1::VersionedExt as _;
use v2::VersionedExt as _;

/// The `name=value` pair of a `Set-Cookie` value, as a browser sends it back.
fn pair(set_cookie: &[String]) -> String {
    assert_eq!(set_cookie.len(), 1, "{set_cookie:?}");
    set_cookie[0].split(';').next().unwrap().to_owned()
}

/// Managers of versions 1 and 2 of the schema on one store.
fn both_versions_on_one_store() -> (SessionManager<v1::Versioned>, SessionManager<v2::Versioned>) {
    let store = Arc::new(MemoryStore::new());
    let old = SessionManager::with_store(v1::Versioned::settings(), store.clone()).unwrap();
    let new = SessionManager::with_store(v2::Versioned::settings(), store).unwrap();
    (old, new)
}

#[tokio::test]
async fn typed_values_survive_a_sealed_cookie() {
    let manager =
        SessionManager::<CartSession>::cookie(CartSession::settings(), Keys::generate()).unwrap();
    let session = manager.load(Vec::<String>::new()).await.unwrap();
    session.push_items("sku-1".into()).unwrap();
    session.insert_quantities("sku-1".into(), 2).unwrap();
    session.set_currency("USD".into()).unwrap();
    let set = manager.commit(&session, false).await.unwrap();
    assert!(set[0].starts_with("cart="), "{set:?}");

    let again = manager.load([pair(&set)]).await.unwrap();
    assert_eq!(again.items(), ["sku-1"]);
    assert_eq!(again.quantities()["sku-1"], 2);
    assert_eq!(again.currency(), "USD");
    assert_eq!(again.coupon(), None);
    assert!(again.validate().is_ok());
}

#[tokio::test]
async fn the_next_version_upgrades_stored_sessions() {
    let (old, new) = both_versions_on_one_store();

    let session = old.load(Vec::<String>::new()).await.unwrap();
    session.set_nickname("ada".into()).unwrap();
    session.set_legacy(7).unwrap();
    let cookie = pair(&old.commit(&session, false).await.unwrap());

    let upgraded = new.load([cookie.as_str()]).await.unwrap();
    assert!(upgraded.id().is_some(), "the stored session is kept");
    assert_eq!(upgraded.nickname().as_deref(), Some("ada"));
    assert_eq!(upgraded.theme(), "light", "the new field reads its default");
    let data = upgraded.get_all();
    assert!(
        !data.contains_key("legacy"),
        "the removed field is dropped: {data:?}"
    );
    assert_eq!(
        data["theme"], "light",
        "the default is filled in the stored data"
    );
}

#[tokio::test]
async fn data_that_breaks_a_new_rule_gives_a_fresh_session() {
    let (old, new) = both_versions_on_one_store();

    let session = old.load(Vec::<String>::new()).await.unwrap();
    session.set_nickname("much too long".into()).unwrap();
    let cookie = pair(&old.commit(&session, false).await.unwrap());
    // Version 1 reads it back fine.
    let same = old.load([cookie.as_str()]).await.unwrap();
    assert_eq!(same.nickname().as_deref(), Some("much too long"));

    let fresh = new.load([cookie.as_str()]).await.unwrap();
    assert!(fresh.id().is_none(), "the old session is not adopted");
    assert_eq!(fresh.nickname(), None);
    assert_eq!(fresh.theme(), "light");
}
