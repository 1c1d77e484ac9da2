//! The one validator of the schema IR.
//!
//! Both front-ends (the TOML parser and `#[derive(Session)]`) lower into [`Schema`] and then
//! call [`validate`], so a schema is judged the same wherever it was declared. Each check
//! is a small function with a comment saying why the rule exists; each diagnostic points at
//! the smallest origin the IR records and says what was expected.
//!
//! ```
//! use session_spec::{Field, FieldType, IntType, Schema, Spanned};
//! use session_spec::validate::validate;
//!
//! let mut schema = Schema {
//!     fields: vec![Field::new("count", FieldType::Int(IntType::U32))],
//!     ..Schema::new("Shop")
//! };
//! assert!(validate(&schema).is_empty());
//!
//! schema.fields[0].rules.max_length = Some(Spanned::new(3));
//! let problems = validate(&schema);
//! assert_eq!(problems.len(), 1);
//! assert!(problems[0].message.contains("`max_length`"));
//! ```

use crate::diagnostic::Diagnostic;
use crate::ir::{EnumDef, Field, FieldType, Number, Origin, Schema, Value};
use crate::rules::Rule;
use crate::settings::Backend;
use crate::suggest::backticked;

mod enums;
mod field_rules;
mod fields;
mod settings;
mod values;

pub use crate::ident::{
    BUILTIN_TYPE_NAMES, KEYWORDS, RESERVED_FIELD_NAMES, accessor_names, is_identifier,
    is_rust_path, is_snake_case, is_type_path, is_upper_camel_case, looks_secret,
};

/// Checks a schema and returns every problem found, in source order (schema, settings,
/// enums, then fields). An empty vector means the schema is valid.
pub fn validate(schema: &Schema) -> Vec<Diagnostic> {
    let mut cx = Cx {
        schema,
        out: Vec::new(),
    };
    cx.check_schema_name();
    cx.check_settings();
    cx.check_enums();
    cx.check_fields();
    cx.check_principal();
    cx.check_max_sessions();
    cx.check_shown();
    cx.check_cookie_budget();
    cx.out
}

/// Warnings about settings that weaken security: allowed, but worth a second look. Both
/// front-ends report them (the derive through a deprecation warning).
pub fn security_warnings(schema: &Schema) -> Vec<Diagnostic> {
    let s = &schema.settings;
    let at = |key: &str| {
        schema
            .settings_origins
            .get(key)
            .cloned()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    if !s.secure {
        out.push(
            Diagnostic::warning(
                "`secure = false` sends the session cookie over plain HTTP",
                at("secure"),
            )
            .with_label("weakens security")
            .with_help("keep it for local development only; production must serve HTTPS"),
        );
    }
    if !s.http_only {
        out.push(
            Diagnostic::warning(
                "`http_only = false` lets JavaScript read the session cookie",
                at("http_only"),
            )
            .with_label("weakens security")
            .with_note("any XSS flaw can then steal sessions"),
        );
    }
    if s.same_site == crate::settings::SameSite::None {
        out.push(
            Diagnostic::warning(
                "`same_site = \"none\"` sends the cookie on cross-site requests",
                at("same_site"),
            )
            .with_label("weakens security")
            .with_help("protect state-changing requests with a CSRF token"),
        );
    }
    let sensitive: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| f.sensitive)
        .map(|f| f.name.as_str())
        .collect();
    if s.cookie_mode == crate::settings::CookieMode::Signed
        && s.backend == Backend::Cookie
        && !sensitive.is_empty()
    {
        out.push(
            Diagnostic::warning(
                format!(
                    "sensitive field{} {} stored in a signed cookie, which the browser can read",
                    if sensitive.len() == 1 { "" } else { "s" },
                    backticked(&sensitive)
                ),
                at("cookie_mode"),
            )
            .with_label("signed, not encrypted")
            .with_help("use `cookie_mode = \"encrypted\"` (the default) or a server-side backend"),
        );
    }
    out
}

/// A value written as TOML, for messages.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.is_finite() {
                format!("{f:.1}")
            } else {
                f.to_string()
            }
        }
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) => {
            let items: Vec<_> = a.iter().map(display_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(t) => {
            let items: Vec<_> = t
                .iter()
                .map(|(k, v)| format!("{k} = {}", display_value(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

struct Cx<'a> {
    schema: &'a Schema,
    out: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.schema.enums.iter().find(|e| e.name == name)
    }
}

fn rule_misfit(
    f: &Field,
    rule: Rule,
    shown: &str,
    origin: &Origin,
    applies_to: &str,
) -> Diagnostic {
    let help = match rule {
        Rule::MinLength | Rule::MaxLength | Rule::Pattern => {
            "string rules apply to `String`, `Option<String>`, and the strings of a `Vec` or map"
        }
        Rule::Min | Rule::Max => {
            "number rules apply to integers, floats, and the numbers of an `Option`, `Vec` or map"
        }
        Rule::MaxItems => "`max_items` applies to `Vec<T>`, maps, and `Option` of them",
        Rule::MaxKeyLength => "`max_key_length` applies to maps and `Option` of them",
        _ => "",
    };
    let d = Diagnostic::error(
        format!(
            "rule `{rule}` does not apply to field `{}` of type `{shown}`",
            f.name
        ),
        origin.clone(),
    )
    .with_label(format!("`{rule}` is for {applies_to}"));
    if help.is_empty() {
        d
    } else {
        d.with_help(help)
    }
}

/// Where a field's rule was written.
fn rule_origin(f: &Field, rule: Rule) -> Option<Origin> {
    let r = &f.rules;
    let o = match rule {
        Rule::Min => r.min.as_ref().map(|s| &s.origin),
        Rule::Max => r.max.as_ref().map(|s| &s.origin),
        Rule::MinLength => r.min_length.as_ref().map(|s| &s.origin),
        Rule::MaxLength => r.max_length.as_ref().map(|s| &s.origin),
        Rule::MaxItems => r.max_items.as_ref().map(|s| &s.origin),
        Rule::MaxKeyLength => r.max_key_length.as_ref().map(|s| &s.origin),
        Rule::Pattern => r.pattern.as_ref().map(|s| &s.origin),
        Rule::OneOf => r.one_of.as_ref().map(|s| &s.origin),
        Rule::Custom => r.custom.as_ref().map(|s| &s.origin),
        Rule::Type | Rule::Required => None,
    };
    o.cloned()
}

fn expected_kind(ty: &FieldType) -> String {
    match ty {
        FieldType::Bool => "a boolean".into(),
        FieldType::Int(i) => format!("an integer (`{}`)", i.as_str()),
        FieldType::Float(_) => "a number".into(),
        FieldType::String => "a string".into(),
        FieldType::Enum(n) => format!("a variant name of `{n}` (a string)"),
        FieldType::Option(t) => expected_kind(t),
        FieldType::Vec(_) => "an array".into(),
        FieldType::Set(_) => "an array of distinct items".into(),
        FieldType::Map(_) => "a table".into(),
        FieldType::Path(p) => format!("a `{p}`"),
    }
}

fn number_text(n: Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(x) => display_value(&Value::Float(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DefaultValue, Spanned};
    use crate::ir::{IntType, Variant};
    use crate::settings::SameSite;
    use crate::settings::Settings;

    fn at(n: usize) -> Origin {
        Origin::Toml { span: n..n + 1 }
    }

    fn field(name: &str, ty: FieldType) -> Field {
        Field {
            ty: Spanned::with_origin(ty, at(100)),
            origin: at(50),
            ..Field::new(name, FieldType::Bool)
        }
    }

    fn schema(fields: Vec<Field>) -> Schema {
        Schema {
            // These tests are not about the cookie budget (see `crate::budget`).
            settings: Settings {
                backend: Backend::Memory,
                ..Settings::default()
            },
            fields,
            enums: vec![EnumDef {
                name: "Role".into(),
                doc: None,
                variants: vec![
                    Variant {
                        name: "User".into(),
                        key: "user".into(),
                        origin: at(1),
                    },
                    Variant {
                        name: "Admin".into(),
                        key: "admin".into(),
                        origin: at(2),
                    },
                ],
                origin: at(0),
            }],
            origin: at(0),
            ..Schema::new("Shop")
        }
    }

    fn messages(s: &Schema) -> Vec<String> {
        validate(s).into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn a_good_schema_passes() {
        let mut tags = field("tags", FieldType::Vec(Box::new(FieldType::String)));
        tags.rules.max_items = Some(Spanned::new(3));
        tags.rules.max_length = Some(Spanned::new(8));
        tags.default = Some(Spanned::new(DefaultValue::Value(Value::Array(vec![
            Value::String("a".into()),
        ]))));
        let mut role = field("role", FieldType::Enum("Role".into()));
        role.default = Some(Spanned::new(DefaultValue::Value(Value::String(
            "user".into(),
        ))));
        let mut ratio = field("ratio", FieldType::Float(crate::ir::FloatType::F64));
        ratio.default = Some(Spanned::new(DefaultValue::Value(Value::Int(1))));
        ratio.rules.max = Some(Spanned::new(Number::Float(1.5)));
        let s = schema(vec![tags, role, ratio]);
        assert_eq!(messages(&s), Vec::<String>::new());
    }

    #[test]
    fn rules_must_fit_the_type() {
        let mut n = field("n", FieldType::Int(IntType::U32));
        n.rules.max_length = Some(Spanned::with_origin(3, at(7)));
        n.rules.max_items = Some(Spanned::new(3));
        let mut s_ = field("s", FieldType::String);
        s_.rules.min = Some(Spanned::new(Number::Int(1)));
        let d = validate(&schema(vec![n, s_]));
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(d[0].origin, at(7));
        assert!(d[0].message.contains("`max_length`") && d[0].message.contains("`u32`"));
        assert!(d[1].message.contains("`max_items`"));
        assert!(d[2].message.contains("`min`") && d[2].message.contains("`String`"));
    }

    #[test]
    fn defaults_are_checked_against_type_and_rules() {
        let mut name = field("name", FieldType::String);
        name.rules.max_length = Some(Spanned::with_origin(2, at(9)));
        name.rules.pattern = Some(Spanned::new("[a-z]+".into()));
        name.default = Some(Spanned::with_origin(
            DefaultValue::Value(Value::String("ABC".into())),
            at(11),
        ));
        let mut n = field("n", FieldType::Int(IntType::U8));
        n.default = Some(Spanned::new(DefaultValue::Value(Value::Int(300))));
        let d = validate(&schema(vec![name, n]));
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(d[0].origin, at(11));
        assert!(d[0].message.contains("`max_length`"));
        assert!(d[1].message.contains("`pattern`"));
        assert!(d[2].message.contains("out of range"), "{}", d[2].message);
    }

    #[test]
    fn bounds_regex_keys_and_names() {
        let mut a = field("a", FieldType::Int(IntType::I32));
        a.rules.min = Some(Spanned::new(Number::Int(5)));
        a.rules.max = Some(Spanned::new(Number::Int(1)));
        let mut b = field("b", FieldType::String);
        b.key = "a".into();
        b.rules.pattern = Some(Spanned::new("(".into()));
        b.rules.min_length = Some(Spanned::new(4));
        b.rules.max_length = Some(Spanned::new(2));
        let c = field("type", FieldType::Enum("Colour".into()));
        let mut dd = field("Bad-Name", FieldType::Bool);
        dd.rules.one_of = Some(Spanned::new(vec![Value::Int(1)]));
        let m = messages(&schema(vec![a, b, c, dd]));
        assert_eq!(m.len(), 8, "{m:#?}");
        assert!(m[0].contains("`min` (5) is greater than `max` (1)"));
        assert!(m[1].contains("both stored under the key `a`"));
        assert!(m[2].contains("`min_length` (4) is greater"));
        assert!(m[3].contains("invalid regular expression"));
        assert!(m[4].contains("`type` is a Rust keyword"));
        assert!(m[5].contains("unknown type `Colour`"));
        assert!(m[6].contains("invalid field name `Bad-Name`"));
        assert!(
            m[7].contains("`one_of` item 1 does not fit field `Bad-Name`"),
            "{}",
            m[7]
        );
    }

    #[test]
    fn settings_problems_point_at_their_key() {
        let mut s = schema(vec![]);
        s.settings.same_site = SameSite::None;
        s.settings.secure = false;
        s.settings_origins.insert("same_site".into(), at(33));
        s.name = "shop".into();
        let d = validate(&s);
        assert_eq!(d.len(), 2);
        assert!(d[0].message.contains("session name"));
        assert_eq!(d[1].origin, at(33));
    }

    #[test]
    fn enum_default_and_one_of() {
        let mut r = field("role", FieldType::Enum("Role".into()));
        r.default = Some(Spanned::new(DefaultValue::Value(Value::String(
            "root".into(),
        ))));
        let mut q = field(
            "q",
            FieldType::Option(Box::new(FieldType::Int(IntType::U8))),
        );
        q.rules.one_of = Some(Spanned::new(vec![Value::Int(1), Value::Int(2)]));
        q.default = Some(Spanned::new(DefaultValue::Value(Value::Int(3))));
        let m = messages(&schema(vec![r, q]));
        assert_eq!(m.len(), 2, "{m:#?}");
        assert!(
            m[0].contains("`root` is not a variant of `Role`"),
            "{}",
            m[0]
        );
        assert!(m[1].contains("breaks its own rule `one_of`"));
    }

    #[test]
    fn accessor_names_may_not_collide() {
        let cart = field("cart", FieldType::Vec(Box::new(FieldType::String)));
        let push = field("push_cart", FieldType::Bool);
        let get = field("get", FieldType::Bool);
        let m = messages(&schema(vec![cart, push, get]));
        assert_eq!(m.len(), 2, "{m:#?}");
        assert!(m[0].contains("fields `cart` and `push_cart` both generate a method `push_cart`"));
        assert!(m[1].contains("`get` is taken by a method of the session handle"));
    }

    #[test]
    fn enum_names_may_not_shadow_used_types() {
        let mut s = schema(vec![]);
        s.enums[0].name = "Option".into();
        let mut ext = s.enums[0].clone();
        ext.name = "ShopExt".into();
        s.enums.push(ext);
        let m = messages(&s);
        assert_eq!(m.len(), 2, "{m:#?}");
        assert!(
            m.iter()
                .all(|m| m.contains("is taken by a type the generated code uses"))
        );
    }
}
