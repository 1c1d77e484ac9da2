//! Snapshots of the generated code. The same fixtures are compiled and exercised by the
//! `tests` crate.
#![cfg(feature = "codegen")]

use session_spec::codegen::{Mode, generate, generate_tokens};
use session_spec::{
    Backend, CookiePrefix, DatabaseBackend, DefaultValue, EnumDef, Field, FieldType, FloatType,
    IntType, Lifetime, Number, Rules, SameSite, Schema, Settings, Spanned, Value, Variant,
};

fn field(name: &str, ty: FieldType) -> Field {
    Field {
        name: name.into(),
        key: name.into(),
        ty: Spanned::new(ty),
        default: None,
        doc: None,
        sensitive: false,
        shown: false,
        rules: Rules::default(),
        origin: Default::default(),
    }
}

fn schema(name: &str, fields: Vec<Field>) -> Schema {
    Schema {
        name: name.into(),
        version: 1,
        doc: None,
        settings: Settings::default(),
        settings_origins: Default::default(),
        fields,
        enums: vec![],
        origin: Default::default(),
    }
}

fn value(v: Value) -> Option<Spanned<DefaultValue>> {
    Some(Spanned::new(DefaultValue::Value(v)))
}

/// A schema with every type and every rule.
fn shop() -> Schema {
    let mut username = field("username", FieldType::String);
    username.doc = Some("Who is logged in.\n\nSet at login.".into());
    username.rules.min_length = Some(Spanned::new(3));
    username.rules.max_length = Some(Spanned::new(32));
    username.rules.pattern = Some(Spanned::new("[a-z0-9_]+".into()));

    let mut visits = field("visits", FieldType::Int(IntType::U32));
    visits.default = value(Value::Int(0));
    visits.rules.max = Some(Spanned::new(Number::Int(1000)));

    let mut score = field("score", FieldType::Float(FloatType::F64));
    score.default = value(Value::Float(0.5));
    score.rules.min = Some(Spanned::new(Number::Float(0.0)));
    score.rules.max = Some(Spanned::new(Number::Int(1)));

    let mut theme = field("theme", FieldType::Option(Box::new(FieldType::String)));
    theme.rules.one_of = Some(Spanned::new(vec![
        Value::String("light".into()),
        Value::String("dark".into()),
    ]));

    let mut cart = field("cart", FieldType::Vec(Box::new(FieldType::String)));
    cart.default = Some(Spanned::new(DefaultValue::TypeDefault));
    cart.rules.max_items = Some(Spanned::new(3));
    cart.rules.max_length = Some(Spanned::new(10));

    let mut prefs = field(
        "prefs",
        FieldType::Map(Box::new(FieldType::Int(IntType::I64))),
    );
    prefs.key = "p".into();
    prefs.rules.min = Some(Spanned::new(Number::Int(-5)));
    prefs.rules.max_items = Some(Spanned::new(2));

    let mut role = field("role", FieldType::Enum("Role".into()));
    role.default = value(Value::String("guest".into()));
    role.rules.one_of = Some(Spanned::new(vec![
        Value::String("guest".into()),
        Value::String("admin".into()),
    ]));

    let mut token = field("csrf_token", FieldType::String);
    token.sensitive = true;
    token.rules.custom = Some(Spanned::new("crate::check_token".into()));

    let mut r#type = field("type", FieldType::Bool);
    r#type.default = value(Value::Bool(false));

    let mut s = schema(
        "Shop",
        vec![
            username, visits, score, theme, cart, prefs, role, token, r#type,
        ],
    );
    s.version = 3;
    s.doc = Some("The shop's session.".into());
    s.enums = vec![EnumDef {
        name: "Role".into(),
        doc: Some("What a user may do.".into()),
        variants: vec![
            Variant {
                name: "Guest".into(),
                key: "guest".into(),
                origin: Default::default(),
            },
            Variant {
                name: "Admin".into(),
                key: "admin".into(),
                origin: Default::default(),
            },
        ],
        origin: Default::default(),
    }];
    s.settings.cookie_name = "shop".into();
    s.settings.prefix = Some(CookiePrefix::Host);
    s.settings.same_site = SameSite::Strict;
    s.settings.idle_timeout = Some(Lifetime::from_minutes(30));
    s.settings.backend = Backend::Postgres(DatabaseBackend::default());
    s
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
    insta::assert_snapshot!(generate(&schema("Empty", vec![])));
}

#[test]
fn output_is_deterministic() {
    assert_eq!(generate(&shop()), generate(&shop()));
}

#[test]
fn invalid_schemas_give_compile_errors_not_panics() {
    let mut bad = field("count", FieldType::Int(IntType::U8));
    bad.rules.max_length = Some(Spanned::new(3));
    bad.default = value(Value::Int(300));
    let mut unknown = field("kind", FieldType::Enum("Kind".into()));
    unknown.doc = None;
    let s = schema(
        "Bad",
        vec![bad, unknown, field("not an ident", FieldType::Bool)],
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
            field("items", FieldType::Vec(Box::new(FieldType::String))),
            field("push_items", FieldType::Bool),
            field("validate", FieldType::Bool),
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
                let mut f = field("f", ty.clone());
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
            field("flag", FieldType::Bool),
            field("note", FieldType::Option(Box::new(FieldType::String))),
            field("list", FieldType::Vec(Box::new(FieldType::String))),
            field(
                "map",
                FieldType::Map(Box::new(FieldType::Int(IntType::U32))),
            ),
            field("tags", FieldType::Set(Box::new(FieldType::String))),
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
