//! The generated code of `tests/specs/rules.toml` (a field for every kind of rule): valid
//! values are stored and read back, and each rule's violation is refused with an error
//! naming the field and the rule, leaving the session unchanged.

#[allow(unreachable_pub)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/rules.rs"));
}

use crate::refused;
use generated::{Plan, Rules, RulesExt};
use session_runtime::{Rule, Session, SessionSchema};
use std::collections::BTreeMap;
use tests::types::Point;

fn session() -> Session<Rules> {
    Session::detached()
}

#[test]
fn valid_values_are_stored_and_read_back() {
    let s = session();
    s.set_nickname("ada".into()).unwrap();
    s.set_age(13).unwrap();
    s.set_ratio(1.0).unwrap();
    s.set_temperature(Some(-40)).unwrap();
    s.set_currency("USD".into()).unwrap();
    s.set_level(3).unwrap();
    s.set_plan(Plan::Pro).unwrap();
    s.set_tags(vec!["a".into(), "bb".into()]).unwrap();
    s.set_scores(BTreeMap::from([("x".into(), 10)])).unwrap();
    s.set_even(-4).unwrap();
    s.set_point(Point { x: 0.5, y: 1.0 }).unwrap();
    s.set_accepted(true).unwrap();
    s.set_note(Some("twenty chars exactly".into())).unwrap();

    assert_eq!(s.nickname().as_deref(), Some("ada"));
    assert_eq!(s.age(), Some(13));
    assert_eq!(s.ratio(), 1.0);
    assert_eq!(s.temperature(), Some(-40));
    assert_eq!(s.currency(), "USD");
    assert_eq!(s.level(), 3);
    assert_eq!(s.plan(), Plan::Pro);
    assert_eq!(s.tags(), ["a", "bb"]);
    assert_eq!(s.scores(), Some(BTreeMap::from([("x".into(), 10)])));
    assert_eq!(s.even(), Some(-4));
    assert_eq!(s.point(), Some(Point { x: 0.5, y: 1.0 }));
    assert!(s.accepted());
    assert_eq!(s.note().as_deref(), Some("twenty chars exactly"));
    assert!(s.validate().is_ok());

    // Stored under the storage keys, as JSON.
    let data = s.get_all();
    assert_eq!(data[Rules::KEY_NOTE], "twenty chars exactly");
    assert_eq!(data["n"], "twenty chars exactly");
    assert_eq!(data[Rules::KEY_PLAN], "pro");
    assert_eq!(
        data[Rules::KEY_POINT],
        serde_json::json!({"x": 0.5, "y": 1.0})
    );
}

#[test]
fn getters_fall_back_to_defaults() {
    let s = session();
    assert_eq!(s.nickname(), None);
    assert_eq!(s.age(), None);
    assert_eq!(s.ratio(), 0.5);
    assert_eq!(s.temperature(), None);
    assert_eq!(s.currency(), "EUR");
    assert_eq!(s.level(), 1);
    assert_eq!(s.plan(), Plan::Free);
    assert!(s.tags().is_empty());
    assert_eq!(s.scores(), None);
    assert!(!s.accepted());
    assert_eq!(s.note(), None);
    assert!(!s.is_modified(), "reading defaults writes nothing");

    s.set_currency("USD".into()).unwrap();
    assert!(s.remove_currency());
    assert!(!s.remove_currency());
    assert_eq!(s.currency(), "EUR", "removing brings the default back");
}

#[test]
fn string_rules() {
    let s = session();
    refused(s.set_nickname("a".into()), "nickname", Rule::MinLength);
    refused(
        s.set_nickname("abcdefghi".into()),
        "nickname",
        Rule::MaxLength,
    );
    refused(s.set_nickname("ab1".into()), "nickname", Rule::Pattern);
    // The pattern must match the whole string.
    refused(s.set_nickname("ab-cd".into()), "nickname", Rule::Pattern);
    // Lengths count characters, not bytes; the pattern refuses non-ASCII letters here.
    refused(s.set_nickname("éééééééé".into()), "nickname", Rule::Pattern);
    assert_eq!(s.nickname(), None, "refused values are not stored");
    assert!(!s.is_modified());

    refused(s.set_currency("GBP".into()), "currency", Rule::OneOf);
    refused(s.set_note(Some("x".repeat(21))), "note", Rule::MaxLength);
    s.set_note(None).unwrap();
    assert_eq!(s.note(), None);
}

#[test]
fn number_rules() {
    let s = session();
    refused(s.set_age(12), "age", Rule::Min);
    refused(s.set_age(121), "age", Rule::Max);
    refused(s.set_ratio(-0.1), "ratio", Rule::Min);
    refused(s.set_ratio(1.5), "ratio", Rule::Max);
    refused(s.set_ratio(f64::NAN), "ratio", Rule::Min);
    refused(s.set_temperature(Some(-41)), "temperature", Rule::Min);
    refused(s.set_temperature(Some(51)), "temperature", Rule::Max);
    s.set_temperature(None).unwrap();
    refused(s.set_level(4), "level", Rule::OneOf);
    refused(s.set_level(0), "level", Rule::OneOf);
    assert_eq!(s.age(), None);
    assert_eq!(s.ratio(), 0.5);
    assert_eq!(s.level(), 1);
}

#[test]
fn enum_and_bool_rules() {
    let s = session();
    refused(s.set_plan(Plan::Enterprise), "plan", Rule::OneOf);
    assert_eq!(s.plan(), Plan::Free);
    s.set_accepted(false).unwrap();
    s.set_accepted(true).unwrap();
    assert!(s.accepted());
}

#[test]
fn collection_rules() {
    let s = session();
    s.push_tags("a".into()).unwrap();
    s.push_tags("b".into()).unwrap();
    s.push_tags("c".into()).unwrap();
    refused(s.push_tags("d".into()), "tags", Rule::MaxItems);
    assert_eq!(
        s.tags(),
        ["a", "b", "c"],
        "a refused push leaves the list unchanged"
    );
    refused(
        s.set_tags(vec!["ok".into(), "too long".into()]),
        "tags",
        Rule::MaxLength,
    );
    s.clear_tags().unwrap();
    assert!(s.tags().is_empty());
    refused(s.push_tags("sixsix".into()), "tags", Rule::MaxLength);

    s.insert_scores("a".into(), 1).unwrap();
    s.insert_scores("b".into(), 10).unwrap();
    refused(s.insert_scores("c".into(), 1), "scores", Rule::MaxItems);
    refused(s.insert_scores("a".into(), 11), "scores", Rule::Max);
    // Replacing an entry does not add one.
    s.insert_scores("a".into(), 2).unwrap();
    assert_eq!(s.scores().unwrap()["a"], 2);
    assert_eq!(s.remove_scores_entry("a"), Ok(true));
    assert_eq!(s.remove_scores_entry("a"), Ok(false));
    assert_eq!(s.scores(), Some(BTreeMap::from([("b".into(), 10)])));
    s.clear_scores().unwrap();
    assert_eq!(s.scores(), Some(BTreeMap::new()));
}

#[test]
fn custom_validators() {
    let s = session();
    refused(s.set_even(3), "even", Rule::Custom);
    let err = s.set_even(3).unwrap_err();
    assert!(
        err.message.contains("expected an even number, got 3"),
        "{err}"
    );
    refused(s.set_point(Point { x: 2.0, y: 0.0 }), "point", Rule::Custom);
    assert_eq!(s.point(), None);
}

#[test]
fn validators_are_callable_on_their_own() {
    assert!(Rules::validate_nickname(&"ada".to_owned()).is_ok());
    refused(
        Rules::validate_nickname(&"A".to_owned()),
        "nickname",
        Rule::MinLength,
    );
    refused(Rules::validate_age(&200), "age", Rule::Max);
    refused(
        Rules::validate_tags(&vec!["x".into(); 4]),
        "tags",
        Rule::MaxItems,
    );
}

#[test]
fn schema_constants() {
    assert_eq!(Rules::NAME, "Rules");
    assert_eq!(Rules::VERSION, 2);
    assert_eq!(
        Rules::KEYS,
        [
            "nickname",
            "age",
            "ratio",
            "temperature",
            "currency",
            "level",
            "plan",
            "tags",
            "scores",
            "even",
            "point",
            "accepted",
            "n"
        ]
    );
    assert_eq!(Rules::SENSITIVE, ["n"]);
    assert_eq!(Rules::KEY_NOTE, "n");
    assert_eq!(Rules::KEY_NICKNAME, "nickname");
}

#[test]
fn sensitive_fields_are_redacted_in_debug() {
    let s = session();
    s.set_note(Some("secret".into())).unwrap();
    s.set_nickname("ada".into()).unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("ada"), "{shown}");
}

#[test]
fn compiled_in_settings_equal_the_spec() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/rules.toml");
    let schema = session_spec::parse::parse_file(spec).unwrap();
    assert_eq!(Rules::settings(), schema.settings);
    // Not the defaults: every setting of the spec made it through.
    assert_ne!(Rules::settings(), session_runtime::Settings::default());
    assert_eq!(Rules::settings().keys.fallback_env.len(), 2);
}

#[test]
fn spec_enums() {
    assert_eq!(Plan::ALL, [Plan::Free, Plan::Pro, Plan::Enterprise]);
    assert_eq!(Plan::Enterprise.as_str(), "ent");
    assert_eq!(Plan::Pro.to_string(), "pro");
    assert_eq!(serde_json::to_value(Plan::Enterprise).unwrap(), "ent");
    assert_eq!(
        serde_json::from_value::<Plan>("free".into()).unwrap(),
        Plan::Free
    );
    let err = serde_json::from_value::<Plan>("Enterprise".into()).unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `Enterprise`"),
        "{err}"
    );
    assert!(serde_json::from_value::<Plan>(1.into()).is_err());
}
