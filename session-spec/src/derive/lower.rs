//! Lowers a derive input (a struct with named fields) into the schema IR, then runs the
//! one validator on it and reports its diagnostics at the Rust tokens they came from.

use quote::ToTokens;
use syn::{Data, DeriveInput, Fields, GenericArgument, PathArguments, Type};

use super::attr;
use super::ctxt::Ctxt;
use super::spans::SpanTable;
use crate::diagnostic::Diagnostic;
use crate::ir::{DefaultValue, Field, FieldType, FloatType, IntType, Schema, Spanned, Value};

/// A lowered derive input: the schema and the table its `Origin::Rust` indices point into.
#[derive(Clone, Debug)]
pub struct Lowered {
    /// The schema, as the TOML front-end would have produced it.
    pub schema: Schema,
    /// The source tokens of every origin in `schema`.
    pub spans: SpanTable,
    /// The warnings a TOML user would see (security, an unproven cookie budget), each with
    /// where it points; [`super::expand`] turns them into compiler warnings.
    pub warnings: Vec<Diagnostic>,
}

/// Lowers `input` and validates it.
///
/// The validator also runs when the front-end found mistakes, on what could be lowered (a
/// field of an unsupported type or a rejected attribute is left out, which can hide a
/// problem but never invent one), so that one compile reports every mistake.
///
/// # Errors
/// Every mistake found, front-end and validator alike, combined into one `syn::Error`
/// whose parts are spanned at the offending tokens.
pub(super) fn lower(input: &DeriveInput) -> syn::Result<Lowered> {
    let cx = Ctxt::new();
    let mut spans = SpanTable::new();
    let schema = from_ast(&cx, &mut spans, input);
    let mut warnings = Vec::new();
    if let Some(schema) = &schema {
        for d in crate::validate::validate(schema) {
            if d.is_error() {
                cx.syn_error(spans.error(&d.origin, input.ident.span(), message(&d)));
                // A `compile_error!` has one span: each other place involved gets its own,
                // so that both places to edit are shown.
                for (origin, label) in &d.secondary {
                    if origin != &d.origin && spans.span(origin).is_some() {
                        cx.syn_error(spans.error(origin, input.ident.span(), secondary(&d, label)));
                    }
                }
            } else {
                warnings.push(d);
            }
        }
        warnings.extend(crate::validate::security_warnings(schema));
    }
    cx.check()?;
    let schema = schema.expect("an input without errors lowers to a schema");
    Ok(Lowered {
        schema,
        spans,
        warnings,
    })
}

/// A diagnostic's text for `compile_error!` or a warning's note: the message, then its
/// help and notes.
pub(crate) fn message(d: &Diagnostic) -> String {
    let mut message = d.message.clone();
    for help in &d.help {
        message.push_str(&format!("\n= help: {help}"));
    }
    for note in &d.notes {
        message.push_str(&format!("\n= note: {note}"));
    }
    message
}

/// The text of the error shown at a secondary place: its label, then the error it belongs
/// to.
fn secondary(d: &Diagnostic, label: &str) -> String {
    let first = d.message.lines().next().unwrap_or_default();
    format!("{label}\n= note: the other place of this error: {first}")
}

fn from_ast(cx: &Ctxt, spans: &mut SpanTable, input: &DeriveInput) -> Option<Schema> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named.named.iter().collect::<Vec<_>>()),
            Fields::Unit => Some(Vec::new()),
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(
                    unnamed,
                    "`#[derive(Session)]` expects a struct with named fields, found a tuple struct",
                );
                None
            }
        },
        Data::Enum(e) => {
            cx.error_spanned_by(
                e.enum_token,
                "`#[derive(Session)]` expects a struct with named fields, found an enum",
            );
            None
        }
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "`#[derive(Session)]` expects a struct with named fields, found a union",
            );
            None
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "a session struct cannot be generic: expected a struct without type, lifetime or const parameters",
        );
    }
    let container = attr::container(cx, spans, &input.attrs);
    let mut out = Vec::new();
    for f in fields.unwrap_or_default() {
        let ident = f.ident.as_ref().expect("named field");
        let name = ident.to_string();
        let name = name.strip_prefix("r#").map(str::to_owned).unwrap_or(name);
        let attrs = attr::field(cx, spans, &f.attrs);
        let Some(ty) = field_type(cx, &f.ty) else {
            continue;
        };
        // Literals mean what they mean in TOML: `default = 1` on an `f64` is `1.0`.
        let mut default = attrs.default;
        if let Some(Spanned {
            value: DefaultValue::Value(v),
            ..
        }) = &mut default
        {
            *v = std::mem::replace(v, Value::Bool(false)).coerce(&ty);
        }
        let mut rules = attrs.rules;
        if let Some(one_of) = &mut rules.one_of {
            let items = std::mem::take(&mut one_of.value);
            one_of.value = items.into_iter().map(|v| v.coerce(ty.scalar())).collect();
        }
        out.push(Field {
            key: attrs.key.map_or_else(|| name.clone(), |k| k.value),
            name,
            ty: Spanned::with_origin(ty, spans.origin(&f.ty)),
            default,
            doc: attr::doc(&f.attrs),
            sensitive: attrs.sensitive,
            shown: attrs.shown,
            rules,
            origin: spans.origin(ident),
        });
    }
    Some(Schema {
        name: input.ident.to_string(),
        version: container.version,
        doc: attr::doc(&input.attrs),
        settings: container.settings,
        settings_origins: container.settings_origins,
        fields: out,
        enums: Vec::new(),
        origin: spans.origin(&input.ident),
    })
}

const EXPECTED_TYPES: &str = "expected `bool`, an integer (`i8` to `i64`, `u8` to `u64`), `f32`, `f64`, `String`, `Option<T>`, `Vec<T>`, `BTreeMap<String, T>`, `HashMap<String, T>`, `BTreeSet<T>`, `HashSet<T>` or a path to a type that implements serde's traits";

/// The IR type of a field's Rust type, or an error at the offending part of it.
fn field_type(cx: &Ctxt, ty: &Type) -> Option<FieldType> {
    match ty {
        Type::Group(g) => field_type(cx, &g.elem),
        Type::Paren(p) => field_type(cx, &p.elem),
        Type::Path(p) if p.qself.is_none() => path_type(cx, ty, &p.path),
        Type::Reference(r) => {
            cx.error_spanned_by(
                ty,
                format!(
                    "a session field must own its value, found a reference; expected an owned type like `{}`",
                    owned_suggestion(&r.elem)
                ),
            );
            None
        }
        _ => {
            cx.error_spanned_by(
                ty,
                format!(
                    "unsupported session field type `{}`, {EXPECTED_TYPES}",
                    text(ty)
                ),
            );
            None
        }
    }
}

fn owned_suggestion(elem: &Type) -> &'static str {
    match elem {
        Type::Path(p) if p.path.is_ident("str") => "String",
        Type::Slice(_) => "Vec<T>",
        _ => "String",
    }
}

fn path_type(cx: &Ctxt, ty: &Type, path: &syn::Path) -> Option<FieldType> {
    let last = path.segments.last()?;
    let name = last.ident.to_string();
    let std_prefix = is_std_prefix(path);
    if path.leading_colon.is_none() && path.segments.len() == 1 && last.arguments.is_none() {
        if let Some(t) = primitive(&name) {
            return Some(t);
        }
        if matches!(
            name.as_str(),
            "usize" | "isize" | "u128" | "i128" | "char" | "str"
        ) {
            cx.error_spanned_by(
                ty,
                format!("unsupported session field type `{name}`, {EXPECTED_TYPES}"),
            );
            return None;
        }
    }
    if std_prefix {
        let args = type_args(&last.arguments);
        match (name.as_str(), args.as_slice()) {
            ("String", []) => return Some(FieldType::String),
            ("Option", [t]) => return field_type(cx, t).map(|t| FieldType::Option(Box::new(t))),
            ("Vec", [t]) => return field_type(cx, t).map(|t| FieldType::Vec(Box::new(t))),
            ("BTreeSet" | "HashSet", [t]) => {
                return field_type(cx, t).map(|t| FieldType::Set(Box::new(t)));
            }
            // A hasher argument (`HashSet<T, S>`): the session chooses its own collection.
            ("BTreeSet" | "HashSet", [_, extra, ..]) => {
                cx.error_spanned_by(
                    extra,
                    format!("a session set takes one type argument, expected `{name}<T>`"),
                );
                return None;
            }
            ("BTreeMap" | "HashMap", [k, v]) => {
                let key_ok = matches!(field_type_quiet(k), Some(FieldType::String));
                if !key_ok {
                    cx.error_spanned_by(
                        k,
                        format!("session maps are stored as JSON objects, expected `String` keys, found `{}`", text(k)),
                    );
                }
                let value = field_type(cx, v);
                return if key_ok {
                    value.map(|v| FieldType::Map(Box::new(v)))
                } else {
                    None
                };
            }
            _ => {}
        }
    }
    if let Some(bad) = path.segments.iter().find_map(|s| match &s.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .find(|arg| matches!(arg, GenericArgument::Lifetime(_))),
        _ => None,
    }) {
        cx.error_spanned_by(
            bad,
            "a session field must own its value, expected a type without lifetimes",
        );
        return None;
    }
    if path
        .segments
        .iter()
        .any(|s| matches!(s.arguments, PathArguments::Parenthesized(_)))
    {
        cx.error_spanned_by(
            ty,
            format!(
                "unsupported session field type `{}`, {EXPECTED_TYPES}",
                text(ty)
            ),
        );
        return None;
    }
    Some(FieldType::Path(text(ty)))
}

/// The type without reporting (for a map's key, reported with its own message).
fn field_type_quiet(ty: &Type) -> Option<FieldType> {
    let cx = Ctxt::new();
    let t = field_type(&cx, ty);
    let _ = cx.check();
    t
}

fn primitive(name: &str) -> Option<FieldType> {
    Some(match name {
        "bool" => FieldType::Bool,
        "f32" => FieldType::Float(FloatType::F32),
        "f64" => FieldType::Float(FloatType::F64),
        _ => FieldType::Int(IntType::ALL.into_iter().find(|i| i.as_str() == name)?),
    })
}

/// `Option`, `std::option::Option`, `::core::option::Option`, ... (a local type named like
/// a standard one, but at another path, stays a user type).
fn is_std_prefix(path: &syn::Path) -> bool {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.len() {
        1 => path.leading_colon.is_none(),
        3 => {
            matches!(segs[0].as_str(), "std" | "core" | "alloc")
                && matches!(
                    (segs[1].as_str(), segs[2].as_str()),
                    ("option", "Option")
                        | ("vec", "Vec")
                        | ("string", "String")
                        | (
                            "collections",
                            "BTreeMap" | "HashMap" | "BTreeSet" | "HashSet"
                        )
                )
        }
        4 => {
            matches!(segs[0].as_str(), "std" | "alloc")
                && segs[1] == "collections"
                && matches!(
                    (segs[2].as_str(), segs[3].as_str()),
                    ("btree_map", "BTreeMap")
                        | ("hash_map", "HashMap")
                        | ("btree_set", "BTreeSet")
                        | ("hash_set", "HashSet")
                )
        }
        _ => false,
    }
}

fn type_args(args: &PathArguments) -> Vec<&Type> {
    match args {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .map(|arg| match arg {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Tokens as text written the way people write them: `crate::auth::Role`,
/// `Wrapper<String>`, `(i32, i32)`, `&'static str`.
fn text(tokens: &impl ToTokens) -> String {
    let mut s = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ] {
        s = s.replace(from, to);
    }
    s
}
