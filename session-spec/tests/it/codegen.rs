//! Snapshots of the generated code. Their inputs are spec files that the `tests` crate's
//! build script compiles too (`tests/specs/shop.toml`, `empty.toml`, the templates), so
//! every snapshot is also known to build.
#![cfg(feature = "codegen")]

use session_spec::codegen::{Mode, generate, generate_tokens};
use session_spec::{
    DefaultValue, Field, FieldType, FloatType, IntType, Number, Rules, Schema, Spanned, Value,
};

fn schema(name: &str, fields: Vec<Field>) -> Schema {
    Schema {
        fields,
        ..Schema::new(name)
    }
}

fn value(v: Value) -> Option<Spanned<DefaultValue>> {
    Some(Spanned::new(DefaultValue::Value(v)))
}

/// The spec of the shop snapshots, with every type and every rule: a spec file that the
/// `tests` crate's build script compiles too (and its tests include), so each snapshot
/// is also known to build.
const SHOP_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/specs/shop.toml");

fn shop() -> Schema {
    session_spec::parse::parse_file(SHOP_SPEC).unwrap()
}

#[test]
fn shop_standalone() {
    insta::assert_snapshot!(generate(&shop()));
}

#[test]
fn shop_derive_mode() {
    let mut s = shop();
    // The derive refers to user types by path.
    s.enums.clear();
    for f in &mut s.fields {
        if f.name == "role" {
            f.ty = Spanned::new(FieldType::Path("crate::Role".into()));
        }
    }
    let file: syn::File = syn::parse2(generate_tokens(&s, Mode::Derive)).unwrap();
    let code = prettyplease::unparse(&file);
    assert!(
        !code.contains("pub struct Shop"),
        "the derive's struct exists already"
    );
    insta::assert_snapshot!(code);
}

#[test]
fn empty_schema() {
    // `tests/specs/empty.toml`, which the `tests` crate compiles.
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/specs/empty.toml");
    let empty = session_spec::parse::parse_file(spec).unwrap();
    assert_eq!(empty.without_origins(), Schema::new("Empty"));
    insta::assert_snapshot!(generate(&empty));
}

#[test]
fn output_is_deterministic() {
    assert_eq!(generate(&shop()), generate(&shop()));
}

#[test]
fn invalid_schemas_give_compile_errors_not_panics() {
    let mut bad = Field::new("count", FieldType::Int(IntType::U8));
    bad.rules.max_length = Some(Spanned::new(3));
    bad.default = value(Value::Int(300));
    let mut unknown = Field::new("kind", FieldType::Enum("Kind".into()));
    unknown.doc = None;
    let s = schema(
        "Bad",
        vec![bad, unknown, Field::new("not an ident", FieldType::Bool)],
    );
    let code = generate(&s);
    for expected in [
        "rule `max_length` does not apply to field `count` of type `u8`",
        "the default of field `count` does not fit its type `u8`",
        "unknown enum `Kind`",
        "the field name `not an ident` is not a valid Rust identifier",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in\n{code}");
    }
    assert!(code.contains("compile_error!"));
}

#[test]
fn clashing_names_are_reported() {
    let s = schema(
        "Clash",
        vec![
            Field::new("items", FieldType::Vec(Box::new(FieldType::String))),
            Field::new("push_items", FieldType::Bool),
            Field::new("validate", FieldType::Bool),
        ],
    );
    let code = generate(&s);
    assert!(code.contains("`push_items`"), "{code}");
    assert!(code.contains("`validate`"), "{code}");
}

/// The generated code of every template, reviewed like code; the `tests` crate compiles
/// and exercises the same output.
#[cfg(feature = "parse")]
#[test]
fn templates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            names.push(path);
        }
    }
    names.sort();
    assert!(names.len() >= 4, "templates missing in {}", dir.display());
    for path in names {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        let schema = session_spec::parse::parse_str(&source, &format!("{stem}.toml"))
            .unwrap_or_else(|d| panic!("{d}"));
        let code = generate(&schema);
        assert!(!code.contains("compile_error!"), "{stem}:\n{code}");
        insta::assert_snapshot!(format!("template_{stem}"), code);
    }
}

/// Every type with every rule and every kind of default, fitting or not: the generator
/// never panics, and its output is always valid Rust (code, or `compile_error!`s).
#[test]
fn never_panics_and_always_emits_valid_rust() {
    let types = [
        FieldType::Bool,
        FieldType::Int(IntType::I8),
        FieldType::Int(IntType::U64),
        FieldType::Float(FloatType::F32),
        FieldType::Float(FloatType::F64),
        FieldType::String,
        FieldType::Option(Box::new(FieldType::String)),
        FieldType::Option(Box::new(FieldType::Vec(Box::new(FieldType::Int(
            IntType::U8,
        ))))),
        FieldType::Vec(Box::new(FieldType::Vec(Box::new(FieldType::String)))),
        FieldType::Map(Box::new(FieldType::Float(FloatType::F32))),
        FieldType::Enum("Role".into()),
        FieldType::Enum("Missing".into()),
        FieldType::Path("crate::auth::Level".into()),
        FieldType::Path("not a path".into()),
    ];
    let values = [
        Value::Bool(true),
        Value::Int(-1),
        Value::Int(i64::MAX),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(1e300),
        Value::Float(-0.5),
        Value::String("admin".into()),
        Value::String("nope".into()),
        Value::Array(vec![]),
        Value::Array(vec![Value::Int(1), Value::String("x".into())]),
        Value::Table(Default::default()),
        Value::Table([("k".to_owned(), Value::Int(2))].into()),
    ];
    let mut rule_sets = vec![
        Rules::default(),
        Rules {
            min: Some(Spanned::new(Number::Float(0.5))),
            max: Some(Spanned::new(Number::Float(f64::NAN))),
            ..Rules::default()
        },
        Rules {
            min: Some(Spanned::new(Number::Int(i64::MIN))),
            max: Some(Spanned::new(Number::Float(f64::INFINITY))),
            ..Rules::default()
        },
        Rules {
            min_length: Some(Spanned::new(1)),
            max_length: Some(Spanned::new(u64::MAX)),
            pattern: Some(Spanned::new("(".into())),
            ..Rules::default()
        },
        Rules {
            max_items: Some(Spanned::new(0)),
            custom: Some(Spanned::new("crate::check".into())),
            ..Rules::default()
        },
        Rules {
            custom: Some(Spanned::new("not a path!".into())),
            ..Rules::default()
        },
    ];
    for v in &values {
        rule_sets.push(Rules {
            one_of: Some(Spanned::new(vec![v.clone()])),
            ..Rules::default()
        });
    }
    // Defaults: a sample of the values (every kind), none, and the type's default.
    let defaults: Vec<Option<Spanned<DefaultValue>>> = [0, 2, 3, 7, 10, 12]
        .iter()
        .map(|&i| Some(Spanned::new(DefaultValue::Value(values[i].clone()))))
        .chain([None, Some(Spanned::new(DefaultValue::TypeDefault))])
        .collect();
    let mut generated = 0;
    for ty in &types {
        for rules in &rule_sets {
            for default in &defaults {
                let mut f = Field::new("f", ty.clone());
                f.rules = rules.clone();
                f.default = default.clone();
                let mut s = schema("S", vec![f]);
                s.enums = shop().enums;
                // Both modes, alternately, to keep the test quick.
                let mode = [Mode::Standalone, Mode::Derive][generated % 2];
                let tokens = generate_tokens(&s, mode);
                if let Err(e) = syn::parse2::<syn::File>(tokens.clone()) {
                    panic!("{e}: {ty:?} {rules:?}\n{tokens}");
                }
                generated += 1;
            }
        }
    }
    assert_eq!(generated, types.len() * rule_sets.len() * defaults.len());
}

/// The derive's path: a struct lowered by the Rust front-end, generated with the span
/// table, gives the same code as without spans (spans change where errors point, not
/// what is generated); the visibility option reaches the trait and the validators.
#[cfg(feature = "derive")]
#[test]
fn derive_lowering_with_spans() {
    use session_spec::codegen::{Options, generate_tokens_with};
    let lowered = session_spec::derive::lower_derive_input(&syn::parse_quote! {
        #[session(cookie_name = "shop")]
        struct Shop {
            /// Who is signed in.
            #[session(max_length = 64, custom = "crate::check_name")]
            username: Option<String>,
            #[session(default)]
            role: crate::Role,
        }
    })
    .unwrap();
    let table = &lowered.spans;
    let span_of = |o: &session_spec::Origin| table.span(o);
    let options = Options {
        span_of: &span_of,
        ..Options::default()
    };
    let spanned = generate_tokens_with(&lowered.schema, Mode::Derive, &options);
    let plain = generate_tokens(&lowered.schema, Mode::Derive);
    assert_eq!(spanned.to_string(), plain.to_string());
    let code = spanned.to_string();
    assert!(code.contains("crate :: check_name"), "{code}");
    assert!(
        code.contains("impl ShopExt for :: session_runtime :: Session < Shop >"),
        "{code}"
    );

    // The derive passes the struct's visibility.
    let options = Options {
        visibility: quote::quote!(pub(crate)),
        ..Options::default()
    };
    let code = generate_tokens_with(&lowered.schema, Mode::Derive, &options).to_string();
    assert!(code.contains("pub (crate) trait ShopExt"), "{code}");
    assert!(code.contains("pub (crate) fn validate_username"), "{code}");
    assert!(!code.contains("pub trait"), "{code}");
}

/// The generator's method names and the validator's table of them
/// (`validate::accessor_names`, which the clash check and the reserved-name probe read)
/// are the same, for every kind of field.
#[test]
fn generated_methods_are_the_table_of_names() {
    use std::collections::BTreeSet;
    let s = schema(
        "Kinds",
        vec![
            Field::new("flag", FieldType::Bool),
            Field::new("note", FieldType::Option(Box::new(FieldType::String))),
            Field::new("list", FieldType::Vec(Box::new(FieldType::String))),
            Field::new(
                "map",
                FieldType::Map(Box::new(FieldType::Int(IntType::U32))),
            ),
            Field::new("tags", FieldType::Set(Box::new(FieldType::String))),
        ],
    );
    let file = syn::parse_file(&generate(&s)).expect("the generator emits Rust");
    let mut emitted = BTreeSet::new();
    for item in &file.items {
        if let syn::Item::Trait(t) = item {
            assert_eq!(t.ident, "KindsExt");
            for method in &t.items {
                if let syn::TraitItem::Fn(f) = method {
                    emitted.insert(f.sig.ident.to_string());
                }
            }
        }
    }
    let mut table: BTreeSet<String> = s
        .fields
        .iter()
        .flat_map(session_spec::validate::accessor_names)
        .collect();
    table.insert("validate".into());
    assert_eq!(emitted, table);
}
