//! Sets in both front-ends: `tests/specs/sets.toml` (`HashSet<String>`, a set of a spec
//! enum, an optional `BTreeSet<u32>`) and the same with `#[derive(Session)]`: accessors
//! (`insert_*`, `remove_*_item`, `contains_*`, `clear_*`), rules on the set and on its
//! items, storage as a JSON array of distinct items, and the cookie budget.

#[allow(unreachable_pub)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/sets.rs"));
}

use std::collections::BTreeSet;

use crate::refused;
use generated::{Role, Sets, SetsExt};
use serde_json::json;
use session_runtime::{Map, Rule, Session, SessionSchema};

#[test]
fn defaults_and_accessors() {
    let s = Session::<Sets>::detached();
    assert_eq!(s.tags(), BTreeSet::from(["new".to_owned()]));
    assert!(s.roles().is_empty());
    assert_eq!(s.seen(), None);

    assert!(s.insert_tags("rust".into()).unwrap());
    assert!(!s.insert_tags("rust".into()).unwrap(), "already there");
    assert!(s.contains_tags("rust"));
    assert!(!s.contains_tags("go"));
    assert!(s.remove_tags_item("new").unwrap());
    assert!(!s.remove_tags_item("new").unwrap(), "already gone");
    assert_eq!(s.tags(), BTreeSet::from(["rust".to_owned()]));

    assert!(s.insert_roles(Role::Admin).unwrap());
    assert!(s.insert_roles(Role::Reader).unwrap());
    // In order, whatever the order of insertion: the accessors use `BTreeSet`.
    assert_eq!(
        s.roles().into_iter().collect::<Vec<_>>(),
        [Role::Reader, Role::Admin]
    );

    // An optional set has a getter, a setter and a remover (no helpers, like an
    // optional `Vec`).
    s.set_seen(Some(BTreeSet::from([7]))).unwrap();
    assert_eq!(s.seen(), Some(BTreeSet::from([7])));
    s.clear_tags().unwrap();
    assert!(s.tags().is_empty());
    assert!(
        s.remove_tags(),
        "an empty set is stored, unlike the default"
    );
    assert_eq!(s.tags().len(), 1, "the default is back");
}

#[test]
fn rules_of_the_set_and_of_its_items() {
    let s = Session::<Sets>::detached();
    s.insert_tags("a".into()).unwrap();
    s.insert_tags("b".into()).unwrap();
    // `new`, `a`, `b`: a fourth tag breaks `max_items`, and the set is left unchanged.
    refused(s.insert_tags("c".into()), "tags", Rule::MaxItems);
    assert_eq!(s.tags().len(), 3);
    // A tag already present is not a new item, so the full set takes it.
    assert!(!s.insert_tags("a".into()).unwrap());
    s.remove_tags_item("a").unwrap();
    refused(s.insert_tags("Upper".into()), "tags", Rule::Pattern);
    refused(s.insert_tags("toolongtag".into()), "tags", Rule::MaxLength);
    refused(s.set_seen(Some(BTreeSet::from([1001]))), "seen", Rule::Max);
    refused(s.set_seen(Some((0..5).collect())), "seen", Rule::MaxItems);
    assert_eq!(s.seen(), None);
}

#[test]
fn a_set_is_stored_as_an_array_of_distinct_items() {
    let s = Session::<Sets>::detached();
    s.set_roles(BTreeSet::from([Role::Editor, Role::Reader]))
        .unwrap();
    let data = Session::get_all(&s);
    assert_eq!(data[Sets::KEY_ROLES], json!(["reader", "editor"]));

    // A stored array with a repeated item (written by hand, or by another program) is
    // read as the set it means; one of the wrong type or breaking a rule is refused.
    let mut data = Map::new();
    data.insert("tags".into(), json!(["a", "a", "b"]));
    assert!(Sets::upgrade(&mut data).is_ok());
    let mut data = Map::new();
    data.insert("tags".into(), json!(["a", "b", "c", "d"]));
    let errors = Sets::upgrade(&mut data).unwrap_err();
    assert_eq!(errors.0[0].rule, Rule::MaxItems);
    let mut data = Map::new();
    data.insert("roles".into(), json!(["owner"]));
    assert!(Sets::upgrade(&mut data).is_err());
}

/// Every set of the spec is bounded (`max_items`, or the three variants of `Role`), so the
/// budget is proven and the spec is accepted on the cookie backend.
#[test]
fn sets_have_a_cookie_budget() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/sets.toml");
    let schema = session_spec::parse::parse_file(path).unwrap();
    let budget = session_spec::budget::cookie_budget(&schema);
    let roles = budget.fields.iter().find(|f| f.name == "roles").unwrap();
    // Tag and count, then three items at the longest variant name (`reader`), each with
    // its tag and length.
    let expected = 1 + 1 + 3 * (2 + "reader".len());
    assert_eq!(roles.bytes, Ok("roles".len() + 1 + expected));
    assert_eq!(Sets::COOKIE_DATA_BYTES, budget.data());
    assert!(budget.total().unwrap() <= session_spec::budget::MAX_COOKIE_BYTES);
}

/// The derive takes sets at their standard paths, with the same accessors.
#[test]
fn derive_takes_sets() {
    #[derive(session_runtime::Session)]
    #[session(backend = "memory")]
    struct Prefs {
        #[session(default, max_items = 2, one_of = ["dark", "compact", "large"])]
        options: std::collections::HashSet<String>,
        #[session(default)]
        ids: BTreeSet<u64>,
    }
    let s = Session::<Prefs>::detached();
    assert!(PrefsExt::insert_options(&s, "dark".into()).unwrap());
    refused(
        PrefsExt::insert_options(&s, "neon".into()),
        "options",
        Rule::OneOf,
    );
    PrefsExt::insert_options(&s, "large".into()).unwrap();
    refused(
        PrefsExt::insert_options(&s, "compact".into()),
        "options",
        Rule::MaxItems,
    );
    assert!(PrefsExt::contains_options(&s, "large"));
    PrefsExt::insert_ids(&s, 3).unwrap();
    assert_eq!(PrefsExt::ids(&s), BTreeSet::from([3]));
}
