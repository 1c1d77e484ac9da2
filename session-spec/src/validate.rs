//! The one validator of the schema IR.
//!
//! Both front-ends (the TOML parser and `#[derive(Session)]`) lower into [`Schema`] and then
//! call [`validate`], so a schema is judged the same wherever it was declared. Each check
//! is a small function with a comment saying why the rule exists; each diagnostic points at
//! the smallest origin the IR records and says what was expected.
//!
//! ```
//! use session_spec::{Field, FieldType, IntType, Number, Origin, Rules, Schema, Spanned};
//! use session_spec::validate::validate;
//!
//! let mut schema = Schema {
//!     name: "Shop".into(),
//!     version: 1,
//!     doc: None,
//!     settings: Default::default(),
//!     settings_origins: Default::default(),
//!     fields: vec![Field {
//!         name: "count".into(),
//!         key: "count".into(),
//!         ty: Spanned::new(FieldType::Int(IntType::U32)),
//!         default: None,
//!         doc: None,
//!         sensitive: false,
//!         rules: Rules::default(),
//!         origin: Origin::Unknown,
//!     }],
//!     enums: vec![],
//!     origin: Origin::Unknown,
//! };
//! assert!(validate(&schema).is_empty());
//!
//! schema.fields[0].rules.max_length = Some(Spanned::new(3));
//! let problems = validate(&schema);
//! assert_eq!(problems.len(), 1);
//! assert!(problems[0].message.contains("`max_length`"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Diagnostic;
use crate::ir::{DefaultValue, EnumDef, Field, FieldType, Number, Origin, Schema, Spanned, Value};
use crate::rules::{self, Rule, ValidationError};
use crate::settings::{Backend, Settings};

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
    cx.out
}

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
/// ambiguous, so the validator refuses it.
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
    "Vec", "BTreeMap", "HashMap", "Result", "Session",
];

/// The names of the methods the generator emits for a field (getter, setter, remover and
/// the collection helpers), for finding two fields whose accessors collide.
pub fn accessor_names(field: &Field) -> Vec<String> {
    let n = &field.name;
    let mut out = vec![n.clone(), format!("set_{n}"), format!("remove_{n}")];
    match &field.ty.value {
        FieldType::Vec(_) => out.extend([format!("push_{n}"), format!("clear_{n}")]),
        FieldType::Map(_) => out.extend([
            format!("insert_{n}"),
            format!("remove_{n}_entry"),
            format!("clear_{n}"),
        ]),
        _ => {}
    }
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

    /// The session name becomes a Rust type (`Shop`) and is bound into the cookie MAC.
    fn check_schema_name(&mut self) {
        let name = &self.schema.name;
        if !is_upper_camel_case(name) {
            let d = Diagnostic::error(
                format!("invalid session name `{name}`: expected an UpperCamelCase Rust type name"),
                self.schema.origin.clone(),
            )
            .with_label("not a type name")
            .with_help("write it like a Rust struct name, e.g. `Shop` or `UserSession`");
            self.push(d);
        }
    }

    fn settings_origin(&self, key: &str) -> Origin {
        self.schema
            .settings_origins
            .get(key)
            .cloned()
            .unwrap_or_else(|| self.schema.origin.clone())
    }

    /// The policy's cross-cutting rules live in [`Settings::problems`], shared with the
    /// runtime; this maps each problem to where its key was written.
    fn check_settings(&mut self) {
        let settings: &Settings = &self.schema.settings;
        for p in settings.problems() {
            let d = Diagnostic::error(p.to_string(), self.settings_origin(p.key()));
            self.push(d);
        }
        // Keys must come from somewhere; an empty variable name can never be set.
        if settings.keys.file.is_none() && settings.keys.env.trim().is_empty() {
            let d = Diagnostic::error(
                "`keys.env` is empty and no `keys.file` is set: the session keys would come from nowhere",
                self.settings_origin("keys"),
            )
            .with_help("name the environment variable holding the key, e.g. `env = \"SESSION_KEY\"`");
            self.push(d);
        }
        if let Some(empty) = settings
            .keys
            .fallback_env
            .iter()
            .find(|e| e.trim().is_empty())
        {
            let d = Diagnostic::error(
                format!("`keys.fallback_env` holds an empty variable name {empty:?}"),
                self.settings_origin("keys"),
            );
            self.push(d);
        }
        match &settings.backend {
            Backend::File { dir, .. } if dir.as_os_str().is_empty() => {
                let d = Diagnostic::error(
                    "the file backend needs a directory: `dir` is empty",
                    self.settings_origin("backend"),
                )
                .with_help(
                    "set `backend = { type = \"file\", dir = \"/var/lib/myapp/sessions\" }`",
                );
                self.push(d);
            }
            Backend::Postgres(db) | Backend::Mysql(db) => {
                // The table name is spliced into SQL, so it must be a plain identifier.
                let ok = !db.table.is_empty()
                    && db.table.len() <= 63
                    && db
                        .table
                        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && db
                        .table
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    let d = Diagnostic::error(
                        format!(
                            "invalid table name `{}`: expected letters, digits and `_` (at most 63)",
                            db.table
                        ),
                        self.settings_origin("backend"),
                    );
                    self.push(d);
                }
                if db.url_env.trim().is_empty() {
                    let d = Diagnostic::error(
                        "`url_env` is empty: name the environment variable holding the database URL",
                        self.settings_origin("backend"),
                    );
                    self.push(d);
                }
                if db.max_payload == 0 {
                    let d = Diagnostic::error(
                        "`max_payload` must be greater than zero",
                        self.settings_origin("backend"),
                    );
                    self.push(d);
                }
            }
            _ => {}
        }
    }

    /// Spec enums become Rust enums whose variants are stored by name.
    fn check_enums(&mut self) {
        let mut seen = BTreeSet::new();
        for e in &self.schema.enums {
            if !is_upper_camel_case(&e.name) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "invalid enum name `{}`: expected an UpperCamelCase Rust type name",
                            e.name
                        ),
                        e.origin.clone(),
                    )
                    .with_label("not a type name"),
                );
            }
            if !seen.insert(e.name.as_str()) {
                self.push(Diagnostic::error(
                    format!("enum `{}` is declared twice", e.name),
                    e.origin.clone(),
                ));
            }
            // The generated module also holds the session type, its `...Ext` trait and
            // uses the standard types by these names.
            if BUILTIN_TYPE_NAMES.contains(&e.name.as_str())
                || e.name == format!("{}Ext", self.schema.name)
            {
                self.push(
                    Diagnostic::error(
                        format!(
                            "enum name `{}` is taken by a type the generated code uses",
                            e.name
                        ),
                        e.origin.clone(),
                    )
                    .with_label("reserved name")
                    .with_help("pick another name; the stored variant names do not change"),
                );
            }
            if e.name == self.schema.name {
                self.push(
                    Diagnostic::error(
                        format!("enum `{}` has the session's own name", e.name),
                        e.origin.clone(),
                    )
                    .with_help("both become Rust types in one module: rename one of them"),
                );
            }
            if e.variants.is_empty() {
                self.push(
                    Diagnostic::error(
                        format!("enum `{}` has no variants", e.name),
                        e.origin.clone(),
                    )
                    .with_help("list them: `variants = [\"user\", \"admin\"]`"),
                );
            }
            let mut names = BTreeSet::new();
            let mut keys = BTreeSet::new();
            for v in &e.variants {
                if !is_upper_camel_case(&v.name) {
                    self.push(
                        Diagnostic::error(
                            format!(
                                "invalid variant name `{}` in enum `{}`: expected an UpperCamelCase Rust identifier",
                                v.name, e.name
                            ),
                            v.origin.clone(),
                        )
                        .with_help("give the variant a Rust name with the table form: `{ name = \"Admin\", key = \"admin\" }`"),
                    );
                }
                if !names.insert(v.name.as_str()) {
                    self.push(Diagnostic::error(
                        format!("variant `{}` appears twice in enum `{}`", v.name, e.name),
                        v.origin.clone(),
                    ));
                } else if !keys.insert(v.key.as_str()) {
                    self.push(Diagnostic::error(
                        format!(
                            "two variants of enum `{}` are stored as `{}`",
                            e.name, v.key
                        ),
                        v.origin.clone(),
                    ));
                }
            }
        }
    }

    fn check_fields(&mut self) {
        let mut names: BTreeMap<&str, &Field> = BTreeMap::new();
        let mut keys: BTreeMap<&str, &Field> = BTreeMap::new();
        let mut methods: BTreeMap<String, &Field> = BTreeMap::new();
        for f in &self.schema.fields {
            self.check_field_name(f);
            // Two fields whose generated methods share a name cannot both be expanded.
            for m in accessor_names(f) {
                match methods.get(&m) {
                    Some(other) if other.name != f.name => {
                        self.push(
                            Diagnostic::error(
                                format!(
                                    "fields `{}` and `{}` both generate a method `{m}`",
                                    other.name, f.name
                                ),
                                f.origin.clone(),
                            )
                            .with_label("accessor names collide")
                            .with_help(format!(
                                "rename this field and keep its stored name with `key = \"{}\"`",
                                f.key
                            )),
                        );
                        break;
                    }
                    _ => {
                        methods.insert(m, f);
                    }
                }
            }
            if names.insert(f.name.as_str(), f).is_some() {
                self.push(Diagnostic::error(
                    format!("field `{}` is declared twice", f.name),
                    f.origin.clone(),
                ));
            }
            // One storage key holding two fields would let one overwrite the other.
            if f.key.is_empty() {
                self.push(Diagnostic::error(
                    format!("field `{}` has an empty storage `key`", f.name),
                    f.origin.clone(),
                ));
            } else if let Some(other) = keys.insert(f.key.as_str(), f) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "fields `{}` and `{}` are both stored under the key `{}`",
                            other.name, f.name, f.key
                        ),
                        f.origin.clone(),
                    )
                    .with_label("second field with this storage key")
                    .with_help("give one of them another `key`"),
                );
            }
            self.check_type(f, &f.ty);
            self.check_rules(f);
            self.check_default(f);
        }
    }

    /// Field names become accessor names (`user_id()`, `set_user_id()`).
    fn check_field_name(&mut self, f: &Field) {
        if KEYWORDS.contains(&f.name.as_str()) {
            self.push(
                Diagnostic::error(
                    format!("field name `{}` is a Rust keyword", f.name),
                    f.origin.clone(),
                )
                .with_label("keyword")
                .with_help(format!(
                    "pick another name and keep the stored name with `key = \"{}\"`",
                    f.name
                )),
            );
        } else if RESERVED_FIELD_NAMES.contains(&f.name.as_str()) {
            self.push(
                Diagnostic::error(
                    format!(
                        "field name `{}` is taken by a method of the session handle",
                        f.name
                    ),
                    f.origin.clone(),
                )
                .with_label("reserved name")
                .with_help(format!(
                    "pick another name and keep the stored name with `key = \"{}\"`",
                    f.name
                ))
                .with_note(format!(
                    "reserved field names: {}",
                    backticked(RESERVED_FIELD_NAMES)
                )),
            );
        } else if !is_snake_case(&f.name) {
            self.push(
                Diagnostic::error(
                    format!(
                        "invalid field name `{}`: expected a snake_case Rust identifier",
                        f.name
                    ),
                    f.origin.clone(),
                )
                .with_label("not a snake_case identifier")
                .with_help(format!(
                    "pick a name like `user_id` and keep the stored name with `key = \"{}\"`",
                    f.name
                )),
            );
        }
    }

    fn check_type(&mut self, f: &Field, ty: &Spanned<FieldType>) {
        self.check_type_inner(f, &ty.value, &ty.origin);
    }

    fn check_type_inner(&mut self, f: &Field, ty: &FieldType, origin: &Origin) {
        match ty {
            FieldType::Option(inner) => {
                if inner.is_option() {
                    self.push(
                        Diagnostic::error(
                            format!("field `{}` has a nested `Option<Option<_>>`", f.name),
                            origin.clone(),
                        )
                        .with_help("a missing value and `None` are the same in a session: use one `Option`"),
                    );
                }
                self.check_type_inner(f, inner, origin);
            }
            FieldType::Vec(inner) | FieldType::Map(inner) => {
                self.check_type_inner(f, inner, origin);
            }
            FieldType::Enum(name) => {
                if self.enum_def(name).is_none() {
                    let known: Vec<_> = self.schema.enums.iter().map(|e| e.name.as_str()).collect();
                    let mut d = Diagnostic::error(
                        format!("unknown type `{name}` in field `{}`", f.name),
                        origin.clone(),
                    )
                    .with_label("not declared");
                    d = if known.is_empty() {
                        d.with_help(format!(
                            "declare it with `[enums.{name}]`, or write a path to your own type (`crate::module::{name}`)"
                        ))
                    } else {
                        d.with_help(format!(
                            "declared enums: {}; or write a path to your own type (`crate::module::{name}`)",
                            backticked(&known)
                        ))
                    };
                    self.push(d);
                }
            }
            FieldType::Path(path) => {
                if !is_rust_path(path) {
                    self.push(Diagnostic::error(
                        format!("invalid type path `{path}` in field `{}`", f.name),
                        origin.clone(),
                    ));
                }
            }
            FieldType::Bool | FieldType::Int(_) | FieldType::Float(_) | FieldType::String => {}
        }
    }

    fn check_rules(&mut self, f: &Field) {
        let ty = &f.ty.value;
        let scalar = ty.scalar();
        let r = &f.rules;
        let shown = ty.to_rust();

        // Number rules.
        for (rule, bound) in [(Rule::Min, &r.min), (Rule::Max, &r.max)] {
            let Some(bound) = bound else { continue };
            match scalar {
                FieldType::Int(int) => {
                    let (lo, hi) = int.range();
                    match bound.value {
                        Number::Float(x) => self.push(
                            Diagnostic::error(
                                format!(
                                    "rule `{rule}` of integer field `{}` must be an integer, found `{x}`",
                                    f.name
                                ),
                                bound.origin.clone(),
                            )
                            .with_label("expected an integer"),
                        ),
                        Number::Int(x) if i128::from(x) < lo || i128::from(x) > hi => self.push(
                            Diagnostic::error(
                                format!(
                                    "rule `{rule}` = {x} is out of range for `{}` ({lo} to {hi})",
                                    int.as_str()
                                ),
                                bound.origin.clone(),
                            )
                            .with_label("out of range"),
                        ),
                        Number::Int(_) => {}
                    }
                }
                FieldType::Float(_) => {
                    if bound.value.as_f64().is_nan() {
                        self.push(Diagnostic::error(
                            format!("rule `{rule}` must be a number, found NaN"),
                            bound.origin.clone(),
                        ));
                    }
                }
                _ => self.push(rule_misfit(
                    f,
                    rule,
                    &shown,
                    &bound.origin,
                    "numbers (integers and floats)",
                )),
            }
        }
        if let (Some(min), Some(max)) = (&r.min, &r.max) {
            if min.value.as_f64() > max.value.as_f64() {
                self.push(
                    Diagnostic::error(
                        format!(
                            "`min` ({}) is greater than `max` ({}) in field `{}`: no value can pass",
                            number_text(min.value),
                            number_text(max.value),
                            f.name
                        ),
                        min.origin.clone(),
                    )
                    .with_label("greater than `max`"),
                );
            }
        }

        // String rules.
        for (rule, origin) in [
            (Rule::MinLength, r.min_length.as_ref().map(|s| &s.origin)),
            (Rule::MaxLength, r.max_length.as_ref().map(|s| &s.origin)),
            (Rule::Pattern, r.pattern.as_ref().map(|s| &s.origin)),
        ] {
            let Some(origin) = origin else { continue };
            if *scalar != FieldType::String {
                self.push(rule_misfit(f, rule, &shown, origin, "strings"));
            }
        }
        if let (Some(min), Some(max)) = (&r.min_length, &r.max_length) {
            if min.value > max.value {
                self.push(
                    Diagnostic::error(
                        format!(
                            "`min_length` ({}) is greater than `max_length` ({}) in field `{}`: no value can pass",
                            min.value, max.value, f.name
                        ),
                        min.origin.clone(),
                    )
                    .with_label("greater than `max_length`"),
                );
            }
        }
        if let Some(p) = &r.pattern {
            if let Err(e) = rules::compile_pattern(&p.value) {
                let detail = e.to_string();
                let first = detail.lines().last().unwrap_or("").trim().to_owned();
                self.push(
                    Diagnostic::error(
                        format!(
                            "invalid regular expression in `pattern` of field `{}`",
                            f.name
                        ),
                        p.origin.clone(),
                    )
                    .with_label(if first.is_empty() {
                        "invalid".to_owned()
                    } else {
                        first
                    })
                    .with_note("patterns use regex-lite syntax and must match the whole string"),
                );
            }
        }

        // Collection rules.
        if let Some(max_items) = &r.max_items {
            if !ty.is_collection() {
                self.push(rule_misfit(
                    f,
                    Rule::MaxItems,
                    &shown,
                    &max_items.origin,
                    "collections (`Vec<T>` and maps)",
                ));
            }
        }

        // `one_of`.
        if let Some(one_of) = &r.one_of {
            self.check_one_of(f, scalar, one_of);
        }

        // `custom`.
        if let Some(custom) = &r.custom {
            if !is_rust_path(&custom.value) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "invalid `custom` validator `{}` in field `{}`: expected a path to a function",
                            custom.value, f.name
                        ),
                        custom.origin.clone(),
                    )
                    .with_help("write a path such as `crate::checks::username`, a `fn(&T) -> Result<(), String>`"),
                );
            }
        }
    }

    fn check_one_of(&mut self, f: &Field, scalar: &FieldType, one_of: &Spanned<Vec<Value>>) {
        let origin = &one_of.origin;
        if one_of.value.is_empty() {
            self.push(
                Diagnostic::error(
                    format!("`one_of` of field `{}` is empty: no value can pass", f.name),
                    origin.clone(),
                )
                .with_label("empty"),
            );
            return;
        }
        match scalar {
            FieldType::Path(p) => {
                self.push(
                    Diagnostic::error(
                        format!(
                            "rule `one_of` does not apply to field `{}` of user type `{p}`",
                            f.name
                        ),
                        origin.clone(),
                    )
                    .with_help("use a `custom` validator for user types"),
                );
                return;
            }
            FieldType::Enum(name) if self.enum_def(name).is_none() => return,
            _ => {}
        }
        let mut seen = Vec::new();
        for item in &one_of.value {
            if let Err(why) = self.check_scalar_value(scalar, item) {
                self.push(
                    Diagnostic::error(
                        format!(
                            "`one_of` item {} does not fit field `{}`: {why}",
                            display_value(item),
                            f.name
                        ),
                        origin.clone(),
                    )
                    .with_label(format!("expected `{}` values", scalar.to_rust())),
                );
            } else if seen.contains(&item) {
                self.push(Diagnostic::warning(
                    format!(
                        "`one_of` of field `{}` lists {} twice",
                        f.name,
                        display_value(item)
                    ),
                    origin.clone(),
                ));
            }
            seen.push(item);
        }
    }

    fn check_default(&mut self, f: &Field) {
        let Some(default) = &f.default else { return };
        let ty = &f.ty.value;
        match &default.value {
            DefaultValue::TypeDefault => {
                if let FieldType::Enum(name) = ty {
                    self.push(
                        Diagnostic::error(
                            format!(
                                "spec enum `{name}` has no `Default`, so field `{}` cannot use the type's default",
                                f.name
                            ),
                            default.origin.clone(),
                        )
                        .with_help("write the default variant's stored name instead, e.g. `default = \"user\"`"),
                    );
                }
            }
            DefaultValue::Value(v) => {
                if let Err(why) = self.check_value(ty, v) {
                    self.push(
                        Diagnostic::error(
                            format!(
                                "default of field `{}` does not have its type `{}`: {why}",
                                f.name,
                                ty.to_rust()
                            ),
                            default.origin.clone(),
                        )
                        .with_label(format!("expected `{}`", ty.to_rust())),
                    );
                    return;
                }
                let mut broken = Vec::new();
                self.default_breaks(f, ty, v, &mut broken);
                for e in broken {
                    let d = Diagnostic::error(
                        format!(
                            "default {} of field `{}` breaks its own rule `{}`",
                            display_value(v),
                            f.name,
                            e.rule
                        ),
                        default.origin.clone(),
                    )
                    .with_label(e.message.clone())
                    .with_help(format!("change the default, or the rule `{}`", e.rule));
                    self.push(d);
                }
            }
        }
    }

    /// Checks that `v` has type `ty` (a spec default); `Ok` for user types, which only the
    /// compiler can judge.
    fn check_value(&self, ty: &FieldType, v: &Value) -> Result<(), String> {
        match (ty, v) {
            (FieldType::Option(inner), v) => self.check_value(inner, v),
            (FieldType::Vec(inner), Value::Array(items)) => {
                items.iter().enumerate().try_for_each(|(i, item)| {
                    self.check_value(inner, item)
                        .map_err(|e| format!("item {i}: {e}"))
                })
            }
            (FieldType::Map(inner), Value::Table(items)) => {
                items.iter().try_for_each(|(k, item)| {
                    self.check_value(inner, item)
                        .map_err(|e| format!("entry `{k}`: {e}"))
                })
            }
            (FieldType::Vec(_), v) => Err(format!("expected an array, found {}", kind_of(v))),
            (FieldType::Map(_), v) => Err(format!("expected a table, found {}", kind_of(v))),
            (FieldType::Path(_), _) => Ok(()),
            (scalar, v) => self.check_scalar_value(scalar, v),
        }
    }

    fn check_scalar_value(&self, ty: &FieldType, v: &Value) -> Result<(), String> {
        match (ty, v) {
            (FieldType::Bool, Value::Bool(_))
            | (FieldType::String, Value::String(_))
            | (FieldType::Float(_), Value::Float(_) | Value::Int(_)) => Ok(()),
            (FieldType::Int(int), Value::Int(i)) => {
                let (lo, hi) = int.range();
                if (lo..=hi).contains(&i128::from(*i)) {
                    Ok(())
                } else {
                    Err(format!(
                        "{i} is out of range for `{}` ({lo} to {hi})",
                        int.as_str()
                    ))
                }
            }
            (FieldType::Enum(name), Value::String(s)) => match self.enum_def(name) {
                None => Ok(()),
                Some(e) if e.variants.iter().any(|var| var.key == *s) => Ok(()),
                Some(e) => {
                    let keys: Vec<_> = e.variants.iter().map(|v| v.key.as_str()).collect();
                    Err(format!(
                        "`{s}` is not a variant of `{name}`, expected one of {}",
                        backticked(&keys)
                    ))
                }
            },
            (FieldType::Path(_), _) => Ok(()),
            (ty, v) => Err(format!(
                "expected {}, found {}",
                expected_kind(ty),
                kind_of(v)
            )),
        }
    }

    /// The rules a default breaks, found with the same [`rules`] functions the generated
    /// setters call.
    fn default_breaks(&self, f: &Field, ty: &FieldType, v: &Value, out: &mut Vec<ValidationError>) {
        let r = &f.rules;
        let name = f.name.as_str();
        match (ty, v) {
            (FieldType::Option(inner), v) => self.default_breaks(f, inner, v, out),
            (FieldType::Vec(inner), Value::Array(items)) => {
                if let Some(m) = &r.max_items {
                    out.extend(rules::max_items(name, items.len(), m.value).err());
                }
                for item in items {
                    self.default_breaks(f, inner, item, out);
                }
            }
            (FieldType::Map(inner), Value::Table(items)) => {
                if let Some(m) = &r.max_items {
                    out.extend(rules::max_items(name, items.len(), m.value).err());
                }
                for item in items.values() {
                    self.default_breaks(f, inner, item, out);
                }
            }
            (FieldType::Int(_), Value::Int(i)) => {
                let i = i128::from(*i);
                if let Some(Spanned {
                    value: Number::Int(m),
                    ..
                }) = &r.min
                {
                    out.extend(rules::min_int(name, i, i128::from(*m)).err());
                }
                if let Some(Spanned {
                    value: Number::Int(m),
                    ..
                }) = &r.max
                {
                    out.extend(rules::max_int(name, i, i128::from(*m)).err());
                }
                self.one_of_breaks(f, v, out);
            }
            (FieldType::Float(_), Value::Float(_) | Value::Int(_)) => {
                let x = match v {
                    Value::Float(x) => *x,
                    Value::Int(i) => *i as f64,
                    _ => return,
                };
                if let Some(m) = &r.min {
                    out.extend(rules::min_float(name, x, m.value.as_f64()).err());
                }
                if let Some(m) = &r.max {
                    out.extend(rules::max_float(name, x, m.value.as_f64()).err());
                }
                self.one_of_breaks(f, v, out);
            }
            (FieldType::String, Value::String(s)) => {
                if let Some(m) = &r.min_length {
                    out.extend(rules::min_length(name, s, m.value).err());
                }
                if let Some(m) = &r.max_length {
                    out.extend(rules::max_length(name, s, m.value).err());
                }
                if let Some(p) = &r.pattern {
                    if let Ok(re) = rules::compile_pattern(&p.value) {
                        out.extend(rules::pattern(name, s, &re, &p.value).err());
                    }
                }
                self.one_of_breaks(f, v, out);
            }
            (FieldType::Bool | FieldType::Enum(_), v) => self.one_of_breaks(f, v, out),
            _ => {}
        }
    }

    fn one_of_breaks(&self, f: &Field, v: &Value, out: &mut Vec<ValidationError>) {
        let Some(one_of) = &f.rules.one_of else {
            return;
        };
        if one_of.value.is_empty() {
            return;
        }
        let as_f64 = |v: &Value| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        };
        let found = one_of.value.iter().any(|item| {
            item == v || matches!((as_f64(item), as_f64(v)), (Some(a), Some(b)) if a == b)
        });
        if !found {
            let items: Vec<_> = one_of.value.iter().map(display_value).collect();
            out.push(ValidationError::new(
                &f.name,
                Rule::OneOf,
                format!(
                    "expected one of {}, got {}",
                    items.join(", "),
                    display_value(v)
                ),
            ));
        }
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

fn expected_kind(ty: &FieldType) -> String {
    match ty {
        FieldType::Bool => "a boolean".into(),
        FieldType::Int(i) => format!("an integer (`{}`)", i.as_str()),
        FieldType::Float(_) => "a number".into(),
        FieldType::String => "a string".into(),
        FieldType::Enum(n) => format!("a variant name of `{n}` (a string)"),
        FieldType::Option(t) => expected_kind(t),
        FieldType::Vec(_) => "an array".into(),
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

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{IntType, Rules, Variant};
    use crate::settings::SameSite;

    fn at(n: usize) -> Origin {
        Origin::Toml { span: n..n + 1 }
    }

    fn field(name: &str, ty: FieldType) -> Field {
        Field {
            name: name.into(),
            key: name.into(),
            ty: Spanned::with_origin(ty, at(100)),
            default: None,
            doc: None,
            sensitive: false,
            rules: Rules::default(),
            origin: at(50),
        }
    }

    fn schema(fields: Vec<Field>) -> Schema {
        Schema {
            name: "Shop".into(),
            version: 1,
            doc: None,
            settings: Settings::default(),
            settings_origins: BTreeMap::new(),
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

    #[test]
    fn identifiers() {
        assert!(is_snake_case("user_id") && !is_snake_case("userId") && !is_snake_case("fn"));
        assert!(is_upper_camel_case("Shop") && !is_upper_camel_case("shop"));
        assert!(is_rust_path("crate::auth::Role") && is_rust_path("::std::string::String"));
        assert!(!is_rust_path("crate::") && !is_rust_path("a::fn"));
    }
}
