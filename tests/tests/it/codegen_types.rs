//! The generated code of `tests/specs/types.toml`: every field type (nested `Option`,
//! `Vec` and maps, every integer width at its limits, `f32`, spec enums, user types) with
//! defaults and rules, compiled and round-tripped.

#[allow(unreachable_pub)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/types.rs"));
}

use std::collections::BTreeMap;

use crate::refused;
use generated::{Color, Types, TypesExt};
use session_runtime::{Map, Rule, Session, SessionSchema};
use tests::types::{Labelled, Point};

#[test]
fn defaults_of_every_type() {
    let s = Session::<Types>::detached();
    assert!(s.flag());
    assert_eq!(s.tiny(), -5);
    assert_eq!(s.small(), 300);
    assert_eq!(s.medium(), None);
    assert_eq!(s.big(), i64::MAX as u64);
    assert_eq!(s.signed(), None);
    assert_eq!(s.single(), 2.0);
    assert!(s.words().is_empty());
    assert_eq!(s.bytes(), None);
    assert_eq!(s.colors(), [Color::Red]);
    assert_eq!(s.favourite(), Some(Color::Blue));
    assert_eq!(s.point(), None);
    assert!(s.points().is_empty());
    assert_eq!(s.nested(), None);

    // `upgrade` fills the same defaults into stored data.
    let mut data = Map::new();
    Types::upgrade(&mut data).unwrap();
    assert_eq!(data["big"], i64::MAX);
    assert_eq!(data["single"], 2.0);
    assert_eq!(data["colors"], serde_json::json!(["red"]));
    assert_eq!(data["favourite"], "blue");
    assert_eq!(data["words"], serde_json::json!({}));
}

#[test]
fn limits_and_nesting_round_trip() {
    let s = Session::<Types>::detached();
    s.set_signed(i64::MIN).unwrap();
    s.set_big(1).unwrap();
    s.set_tiny(-100).unwrap();
    s.set_single(-1.5).unwrap();
    s.insert_words("a".into(), vec!["abc".into(), "de".into()])
        .unwrap();
    s.set_bytes(Some(vec![0, 200])).unwrap();
    s.push_colors(Color::Green).unwrap();
    s.set_favourite(None).unwrap();
    s.set_point(Some(Point { x: 1.0, y: -2.0 })).unwrap();
    s.push_points(Point::default()).unwrap();
    let labelled = Labelled {
        label: "answer".to_owned(),
        value: "42".to_owned(),
    };
    s.set_labelled(Some(labelled.clone())).unwrap();
    s.set_nested(Some(BTreeMap::from([
        ("k".into(), Some("v".into())),
        ("none".into(), None),
    ])))
    .unwrap();

    assert_eq!(s.signed(), Some(i64::MIN));
    assert_eq!(s.big(), 1);
    assert_eq!(s.tiny(), -100);
    assert_eq!(s.single(), -1.5);
    assert_eq!(s.words()["a"], ["abc", "de"]);
    assert_eq!(s.bytes(), Some(vec![0, 200]));
    assert_eq!(s.colors(), [Color::Red, Color::Green]);
    assert_eq!(s.favourite(), None, "`None` is stored, not the default");
    assert_eq!(s.point(), Some(Point { x: 1.0, y: -2.0 }));
    assert_eq!(s.points(), [Point::default()]);
    assert_eq!(s.labelled(), Some(labelled), "a generic serde type by path");
    assert_eq!(s.nested().unwrap()["none"], None);
    assert!(s.validate().is_ok());

    let stored = s.get_all();
    let mut data = stored.clone();
    Types::upgrade(&mut data).unwrap();
    for (key, value) in &stored {
        assert_eq!(&data[key], value, "valid data is left as it is");
    }
    let added: Vec<&String> = data.keys().filter(|k| !stored.contains_key(*k)).collect();
    assert_eq!(
        added,
        ["flag", "small"],
        "only the missing defaults are added"
    );
}

#[test]
fn rules_reach_into_nested_types() {
    let s = Session::<Types>::detached();
    refused(s.set_tiny(-101), "tiny", Rule::Min);
    refused(s.set_medium(60001), "medium", Rule::Max);
    refused(s.set_big(0), "big", Rule::Min);
    refused(s.set_single(2.6), "single", Rule::Max);
    refused(s.set_single(f32::NAN), "single", Rule::Min);
    refused(
        s.insert_words("a".into(), vec!["abcd".into()]),
        "words",
        Rule::MaxLength,
    );
    s.insert_words("a".into(), vec![]).unwrap();
    s.insert_words("b".into(), vec![]).unwrap();
    refused(s.insert_words("c".into(), vec![]), "words", Rule::MaxItems);
    refused(s.set_bytes(Some(vec![0; 5])), "bytes", Rule::MaxItems);
    refused(s.set_bytes(Some(vec![201])), "bytes", Rule::Max);
    refused(s.push_colors(Color::Blue), "colors", Rule::OneOf);
    refused(
        s.set_points(vec![Point::default(); 3]),
        "points",
        Rule::MaxItems,
    );
    refused(
        s.set_nested(Some(BTreeMap::from([("k".into(), Some(String::new()))]))),
        "nested",
        Rule::MinLength,
    );
    // `None` inside the map has no string to check.
    s.set_nested(Some(BTreeMap::from([("k".into(), None)])))
        .unwrap();
}

/// A generic serde type by path works in the derive too (it used to be refused by the
/// validator, which only knew paths without generic arguments).
#[test]
fn derive_takes_a_generic_type_by_path() {
    #[derive(session_runtime::Session)]
    #[session(backend = "memory")]
    struct Tagged {
        #[session(default)]
        labelled: Labelled<Vec<u8>>,
    }
    use session_runtime::Session as Handle;
    let s: Handle<Tagged> = Handle::detached();
    let value = Labelled {
        label: "bytes".into(),
        value: vec![1, 2],
    };
    TaggedExt::set_labelled(&s, value.clone()).unwrap();
    assert_eq!(TaggedExt::labelled(&s), value);
}
