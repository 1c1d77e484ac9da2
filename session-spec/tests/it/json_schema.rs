//! The committed JSON Schema of the spec format, and its agreement with the parser.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use session_spec::json_schema::{SpecFile, spec_schema, spec_schema_text};
use session_spec::parse::{
    BACKEND_KEYS, ENUM_KEYS, FIELD_KEYS, KEYS_KEYS, SESSION_KEYS, TOP_LEVEL_KEYS, VARIANT_KEYS,
};

/// Fails when `session-spec.schema.json` is stale. Regenerate it with
/// `UPDATE_SCHEMA=1 cargo test -p session-spec --test it json_schema` or
/// `cargo run -p session-spec -- schema > session-spec/session-spec.schema.json`.
#[test]
fn committed_schema_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("session-spec.schema.json");
    let fresh = spec_schema_text();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "`session-spec/session-spec.schema.json` is stale: run `UPDATE_SCHEMA=1 cargo test -p session-spec --test it json_schema` and commit it"
    );
}

fn props(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .keys()
        .cloned()
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn schema_and_parser_know_the_same_keys() {
    let s = spec_schema();
    assert_eq!(props(&s, "/properties"), set(TOP_LEVEL_KEYS));
    assert_eq!(props(&s, "/$defs/FieldSpec/properties"), set(FIELD_KEYS));
    assert_eq!(props(&s, "/$defs/EnumSpec/properties"), set(ENUM_KEYS));
    assert_eq!(
        props(&s, "/$defs/VariantSpec/properties"),
        set(VARIANT_KEYS)
    );
    assert_eq!(props(&s, "/$defs/KeySource/properties"), set(KEYS_KEYS));
    let mut session = set(SESSION_KEYS);
    session.extend(
        session_spec::KEY_ALIASES
            .iter()
            .map(|(a, _)| (*a).to_owned()),
    );
    assert_eq!(props(&s, "/$defs/Settings/properties"), session);
    let backends = s
        .pointer("/$defs/Backend/oneOf")
        .and_then(Value::as_array)
        .unwrap();
    assert_eq!(backends.len(), BACKEND_KEYS.len());
    for b in backends {
        let ty = b
            .pointer("/properties/type/const")
            .and_then(Value::as_str)
            .unwrap();
        let (_, keys) = BACKEND_KEYS.iter().find(|(t, _)| *t == ty).unwrap();
        let mut expected = set(keys);
        expected.insert("type".into());
        assert_eq!(props(b, "/properties"), expected, "backend {ty}");
    }
}

#[test]
fn templates_deserialize_into_the_raw_spec_types() {
    for path in super::templates::templates() {
        let text = std::fs::read_to_string(&path).unwrap();
        let spec: Result<SpecFile, _> = toml::from_str(&text);
        assert!(spec.is_ok(), "{}: {:?}", path.display(), spec.err());
    }
    let bad: Result<SpecFile, _> = toml::from_str("name = \"Shop\"\nverison = 1\n");
    assert!(bad.is_err());
}
