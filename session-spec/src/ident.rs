//! Names: Rust identifiers and keywords, the names the generated code takes, and the test
//! for names that hold secrets. Both front-ends and the validator use these.

use crate::ir::{Field, FieldType};

/// Rust's strict and reserved keywords (edition 2024), which cannot name a field, a type or
/// a variant without a raw identifier.
pub const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Field names taken by the session handle's own methods (`Session::get`, `clear`, `id`,
/// ...), by the methods of the traits every handle implements (`clone`, `into`, ...) and
/// by the generated `validate()`: a field so named would have its getter shadowed or made
/// ambiguous, so the validator refuses it. The workspace's `tests/` crate checks the
/// generated accessor names against the real handle with the compiler (`reserved.rs`):
/// extend this table when the handle gains a method.
pub const RESERVED_FIELD_NAMES: &[&str] = &[
    "clear",
    "clone",
    "created_at",
    "cycle",
    "delete",
    "destroy",
    "expiration_time",
    "get",
    "get_all",
    "has_expired",
    "id",
    "into",
    "is_modified",
    "is_new",
    "set",
    "to_owned",
    "try_into",
    "untracked",
    "update",
    "validate",
];

/// Type names an enum declared in a spec may not take: the built-in types a field type can
/// name.
pub const BUILTIN_TYPE_NAMES: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "String", "Option",
    "Vec", "BTreeMap", "HashMap", "BTreeSet", "HashSet", "Result", "Session",
];

/// The names of the methods the generator emits for a field (getter, setter, remover and
/// the collection helpers), for finding two fields whose accessors collide.
pub fn accessor_names(field: &Field) -> Vec<String> {
    let n = field.name.trim_start_matches("r#");
    let mut out = vec![n.to_owned(), format!("set_{n}"), format!("remove_{n}")];
    match &field.ty.value {
        FieldType::Vec(_) => out.extend([format!("push_{n}"), format!("clear_{n}")]),
        FieldType::Map(_) => out.extend([
            format!("insert_{n}"),
            format!("remove_{n}_entry"),
            format!("clear_{n}"),
        ]),
        FieldType::Set(_) => out.extend([
            format!("insert_{n}"),
            format!("remove_{n}_item"),
            format!("contains_{n}"),
            format!("clear_{n}"),
        ]),
        _ => {}
    }
    out
}

/// Every item the generator emits for a field: its [accessors](accessor_names) (methods
/// of the extension trait on the session handle), then the inherent items of the session
/// type, the storage key constant `KEY_*` and the validator `validate_*`. The generator
/// refuses two fields whose items clash.
#[cfg(feature = "codegen")]
pub(crate) fn generated_item_names(field: &Field) -> Vec<String> {
    let n = field.name.trim_start_matches("r#");
    let mut out = accessor_names(field);
    out.push(format!("KEY_{}", n.to_uppercase()));
    out.push(format!("validate_{n}"));
    out
}

/// Names that hold secrets when written with a string value (`secret_key = "..."`): a
/// literal secret in a spec or a `#[session(...)]` attribute is an error in both
/// front-ends, which share this one test.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "key"
        || n == "token"
        || n.ends_with("_key")
        || n.ends_with("_token")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("passwd")
}

/// Whether `s` is a Rust identifier (ASCII) that is not a keyword.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !KEYWORDS.contains(&s)
}

/// Whether `s` is a snake_case identifier (`user_id`), the form field names take so that
/// the generated accessors pass `#![deny(warnings)]`.
pub fn is_snake_case(s: &str) -> bool {
    is_identifier(s)
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

/// Whether `s` is an UpperCamelCase identifier (`Shop`), the form type and variant names
/// take.
pub fn is_upper_camel_case(s: &str) -> bool {
    is_identifier(s) && s.starts_with(|c: char| c.is_ascii_uppercase()) && !s.contains('_')
}

/// Whether `s` is a Rust path of identifiers (`crate::auth::Role`, `Role`).
pub fn is_rust_path(s: &str) -> bool {
    let s = s.strip_prefix("::").unwrap_or(s);
    s.split("::").enumerate().all(|(i, seg)| {
        is_identifier(seg)
            || (matches!(seg, "crate" | "self" | "super") && (i == 0 || seg == "super"))
    })
}

/// Whether `s` is a type by path, generic or not (`crate::auth::Role`,
/// `crate::types::Labelled<String>`): a Rust path with optional generic arguments that are
/// types by path themselves.
pub fn is_type_path(s: &str) -> bool {
    let s = s.trim();
    let Some(open) = s.find('<') else {
        return is_rust_path(s);
    };
    let Some(inner) = s[open + 1..].strip_suffix('>') else {
        return false;
    };
    let mut depth = 0i32;
    let mut args = Vec::new();
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                args.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    args.push(&inner[start..]);
    depth == 0
        && is_rust_path(s[..open].trim())
        && args.iter().all(|a| !a.trim().is_empty() && is_type_path(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_snake_case("user_id") && !is_snake_case("userId") && !is_snake_case("fn"));
        assert!(is_upper_camel_case("Shop") && !is_upper_camel_case("shop"));
        assert!(is_rust_path("crate::auth::Role") && is_rust_path("::std::string::String"));
        assert!(!is_rust_path("crate::") && !is_rust_path("a::fn"));
        assert!(is_type_path("crate::types::Labelled<String>"));
        assert!(is_type_path("a::Pair<u8, Vec<Option<String>>>"));
        assert!(
            !is_type_path("a::Pair<u8,>") && !is_type_path("a::B<u8>>") && !is_type_path("a::B<")
        );
    }
}
