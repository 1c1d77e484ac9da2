//! The reserved field names keep up with the session handle.

use session_spec::validate::RESERVED_FIELD_NAMES;

/// Every `pub fn name(&self ...)` of `Session` in the runtime's source must be reserved:
/// a field named like it would have its generated getter shadowed by the inherent method.
/// (Read from the source text: `session-spec` cannot depend on the runtime.)
#[test]
fn every_method_of_the_session_handle_is_reserved() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../session-runtime/src/session.rs"
    );
    let source = std::fs::read_to_string(path).unwrap();
    let mut found = Vec::new();
    for line in source.lines() {
        let Some(rest) = line.trim_start().strip_prefix("pub fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = &rest[name.len()..];
        // Methods only (`&self`), generic or not; associated functions cannot be shadowed.
        let args = after.split_once('(').map_or("", |(_, a)| a);
        if args.starts_with("&self") || args.starts_with("&mut self") || args.starts_with("self") {
            found.push(name);
        }
    }
    assert!(
        found.iter().any(|n| n == "get"),
        "parsed no methods from {path}"
    );
    let missing: Vec<_> = found
        .iter()
        .filter(|n| !RESERVED_FIELD_NAMES.contains(&n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add {missing:?} to `session_spec::validate::RESERVED_FIELD_NAMES`"
    );
}
