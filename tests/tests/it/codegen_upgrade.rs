//! `SessionSchema::upgrade` of generated code: loaded data is brought up to the schema
//! (defaults filled, unknown keys dropped) and checked (types and rules), with every error
//! reported at once.

#[allow(unreachable_pub)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/rules.rs"));
}

use generated::{Rules, RulesExt};
use serde_json::json;
use session_runtime::{Map, Rule, Session, SessionSchema};

fn map(value: serde_json::Value) -> Map {
    match value {
        serde_json::Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn fills_defaults_of_missing_fields() {
    let mut data = Map::new();
    Rules::upgrade(&mut data).unwrap();
    assert_eq!(
        data,
        map(json!({
            "ratio": 0.5,
            "currency": "EUR",
            "level": 1,
            "plan": "free",
            "tags": [],
            "accepted": false,
        }))
    );
}

#[test]
fn keeps_valid_values_and_drops_unknown_keys() {
    let mut data = map(json!({
        "nickname": "ada",
        "plan": "ent",
        "n": "note",
        "point": {"x": 0.0, "y": 0.0},
        "legacy_field": 1,
        "note": "stored under its key `n`, not its name",
    }));
    Rules::upgrade(&mut data).unwrap_err(); // `plan = ent` breaks `one_of`
    assert!(!data.contains_key("legacy_field"));
    assert!(!data.contains_key("note"));
    assert_eq!(data["nickname"], "ada");
    assert_eq!(data["n"], "note");

    let mut data = map(json!({"nickname": "ada", "legacy_field": 1, "level": 2}));
    Rules::upgrade(&mut data).unwrap();
    assert!(!data.contains_key("legacy_field"));
    assert_eq!(data["nickname"], "ada");
    assert_eq!(
        data["level"], 2,
        "a stored value is not replaced by the default"
    );
}

#[test]
fn rejects_wrong_types_and_broken_rules_all_at_once() {
    let mut data = map(json!({
        "nickname": 5,
        "age": "old",
        "plan": "gold",
        "tags": ["a", "b", "c", "d"],
        "scores": {"x": 11},
        "even": 3,
        "point": {"x": 1},
        "ratio": 0.25,
    }));
    let errors = Rules::upgrade(&mut data).unwrap_err().0;
    let got: Vec<(&str, Rule)> = errors.iter().map(|e| (e.field.as_str(), e.rule)).collect();
    assert_eq!(
        got,
        [
            ("nickname", Rule::Type),
            ("age", Rule::Type),
            ("plan", Rule::Type),
            ("tags", Rule::MaxItems),
            ("scores", Rule::Max),
            ("even", Rule::Custom),
            ("point", Rule::Type),
        ]
    );
    assert!(
        errors[0].to_string().contains("`nickname`"),
        "{}",
        errors[0]
    );
}

#[test]
fn validate_checks_a_live_session() {
    let s = Session::<Rules>::detached();
    s.set_nickname("ada".into()).unwrap();
    assert!(s.validate().is_ok());
    // Validation works on a copy: the session is not upgraded in place.
    assert_eq!(s.get_all().len(), 1);
}

#[test]
fn a_schema_without_fields_drops_everything() {
    #[allow(unreachable_pub)]
    mod empty {
        include!(concat!(env!("OUT_DIR"), "/empty.rs"));
    }
    let mut data = map(json!({"anything": 1}));
    empty::Empty::upgrade(&mut data).unwrap();
    assert!(data.is_empty());
    assert_eq!(empty::Empty::KEYS, [] as [&str; 0]);
}
