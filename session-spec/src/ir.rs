//! The schema IR: what a session looks like, whichever front-end declared it.
//!
//! The TOML front-end and `#[derive(Session)]` both lower into [`Schema`]; one validator
//! checks it and one generator expands it. Every node records its [`Origin`] so that
//! diagnostics point at the source either way.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::settings::Settings;

/// Where an IR node came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Made up by the toolkit (a default, or a node built in code).
    #[default]
    Unknown,
    /// A byte range in a spec file.
    Toml {
        /// Byte offsets into the spec source.
        span: Range<usize>,
    },
    /// A token in a Rust item; the index points into the derive front-end's span table.
    Rust {
        /// Index into the span table of the derive front-end.
        index: usize,
    },
}

/// A value with the origin of its source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

impl<T> Spanned<T> {
    /// A value with an unknown origin.
    pub fn new(value: T) -> Self {
        Self {
            value,
            origin: Origin::Unknown,
        }
    }

    /// A value with the given origin.
    pub fn with_origin(value: T, origin: Origin) -> Self {
        Self { value, origin }
    }
}

/// One declared session: its name, version, policy, fields and enums.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// The Rust type name of the session (`Shop`). Also bound into the cookie MAC.
    pub name: String,
    /// The schema version; bump it when fields change. Fields added with a default keep
    /// existing sessions valid.
    pub version: u32,
    /// Doc text of the session type.
    pub doc: Option<String>,
    /// The policy.
    pub settings: Settings,
    /// The origin of each settings key that was written in the source, by key name.
    pub settings_origins: BTreeMap<String, Origin>,
    /// Fields, in declaration order.
    pub fields: Vec<Field>,
    /// Enums declared in the spec (the derive refers to user enums by path instead).
    pub enums: Vec<EnumDef>,
    /// Where the schema was declared.
    pub origin: Origin,
}

impl Schema {
    /// A schema named `name` (the marker type's name), version 1, with the default settings
    /// and no fields, enums or origins: the start of a schema built in code.
    ///
    /// ```
    /// use session_spec::{Field, FieldType, Schema};
    ///
    /// let schema = Schema {
    ///     fields: vec![Field::new("username", FieldType::String)],
    ///     ..Schema::new("Shop")
    /// };
    /// assert_eq!((schema.name.as_str(), schema.version), ("Shop", 1));
    /// assert_eq!(schema.fields[0].key, "username");
    /// assert!(schema.fields[0].rules.is_empty());
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: 1,
            doc: None,
            settings: Settings::default(),
            settings_origins: BTreeMap::new(),
            fields: Vec::new(),
            enums: Vec::new(),
            origin: Origin::Unknown,
        }
    }

    /// A copy with every origin reset to [`Origin::Unknown`], for comparing two schemas
    /// declared in different front-ends.
    pub fn without_origins(&self) -> Self {
        let mut s = self.clone();
        s.origin = Origin::Unknown;
        s.settings_origins.clear();
        for f in &mut s.fields {
            f.origin = Origin::Unknown;
            f.ty.origin = Origin::Unknown;
            if let Some(d) = &mut f.default {
                d.origin = Origin::Unknown;
            }
            f.rules.clear_origins();
        }
        for e in &mut s.enums {
            e.origin = Origin::Unknown;
            for v in &mut e.variants {
                v.origin = Origin::Unknown;
            }
        }
        s
    }

    /// The field stored under `key`, if any.
    pub fn field_by_key(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// One typed field of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The Rust identifier of the field (accessor names derive from it).
    pub name: String,
    /// The storage key (the field name unless renamed).
    pub key: String,
    /// The field's type.
    pub ty: Spanned<FieldType>,
    /// The default used when the session holds no value for the field.
    pub default: Option<Spanned<DefaultValue>>,
    /// Doc text carried over to the generated accessors.
    pub doc: Option<String>,
    /// Redact the value in `Debug` output and logs.
    pub sensitive: bool,
    /// Show the value in the principal's list of active sessions (such as a device label
    /// the application sets at login); never a sensitive field.
    pub shown: bool,
    /// Validation rules.
    pub rules: Rules,
    /// Where the field was declared.
    pub origin: Origin,
}

impl Field {
    /// A field named `name`, stored under the same key, of type `ty`: no default, no doc,
    /// no rules, neither sensitive nor shown, no origins. Set the rest with struct update
    /// syntax (`Field { sensitive: true, ..Field::new("token", FieldType::String) }`).
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        let name = name.into();
        Self {
            key: name.clone(),
            name,
            ty: Spanned::new(ty),
            default: None,
            doc: None,
            sensitive: false,
            shown: false,
            rules: Rules::default(),
            origin: Origin::Unknown,
        }
    }
}

/// A field type, written as Rust in the spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `bool`
    Bool,
    /// A fixed-size integer.
    Int(IntType),
    /// A float.
    Float(FloatType),
    /// `String`
    String,
    /// `Option<T>`
    Option(Box<FieldType>),
    /// `Vec<T>`
    Vec(Box<FieldType>),
    /// A map with `String` keys (`BTreeMap<String, T>` or `HashMap<String, T>`).
    Map(Box<FieldType>),
    /// A set (`BTreeSet<T>` or `HashSet<T>`), stored as a JSON array of distinct items;
    /// the generated accessors use `BTreeSet`, so items are kept in order.
    Set(Box<FieldType>),
    /// An enum declared in the spec, by name.
    Enum(String),
    /// A user type by path that implements serde's traits (`crate::auth::Role`).
    Path(String),
}

impl FieldType {
    /// The scalar a rule applies to: the type inside `Option`, `Vec`, sets and map values.
    pub fn scalar(&self) -> &FieldType {
        match self {
            Self::Option(t) | Self::Vec(t) | Self::Set(t) | Self::Map(t) => t.scalar(),
            t => t,
        }
    }

    /// Whether the type (or the type inside an `Option`) is a collection.
    pub fn is_collection(&self) -> bool {
        match self {
            Self::Vec(_) | Self::Set(_) | Self::Map(_) => true,
            Self::Option(t) => t.is_collection(),
            _ => false,
        }
    }

    /// Whether this is an `Option`.
    pub fn is_option(&self) -> bool {
        matches!(self, Self::Option(_))
    }

    /// The type written as Rust (`Option<Vec<String>>`); spec enums and paths by name.
    pub fn to_rust(&self) -> String {
        match self {
            Self::Bool => "bool".into(),
            Self::Int(i) => i.as_str().into(),
            Self::Float(f) => f.as_str().into(),
            Self::String => "String".into(),
            Self::Option(t) => format!("Option<{}>", t.to_rust()),
            Self::Vec(t) => format!("Vec<{}>", t.to_rust()),
            Self::Map(t) => format!("BTreeMap<String, {}>", t.to_rust()),
            Self::Set(t) => format!("BTreeSet<{}>", t.to_rust()),
            Self::Enum(n) | Self::Path(n) => n.clone(),
        }
    }
}

/// The integer types a field may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum IntType {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl IntType {
    /// The Rust name (`u32`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::I8 => "i8",
            Self::I16 => "i16",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::U8 => "u8",
            Self::U16 => "u16",
            Self::U32 => "u32",
            Self::U64 => "u64",
        }
    }

    /// The smallest and largest value of the type.
    pub fn range(self) -> (i128, i128) {
        match self {
            Self::I8 => (i8::MIN.into(), i8::MAX.into()),
            Self::I16 => (i16::MIN.into(), i16::MAX.into()),
            Self::I32 => (i32::MIN.into(), i32::MAX.into()),
            Self::I64 => (i64::MIN.into(), i64::MAX.into()),
            Self::U8 => (0, u8::MAX.into()),
            Self::U16 => (0, u16::MAX.into()),
            Self::U32 => (0, u32::MAX.into()),
            Self::U64 => (0, u64::MAX.into()),
        }
    }

    /// All integer types.
    pub const ALL: [IntType; 8] = [
        Self::I8,
        Self::I16,
        Self::I32,
        Self::I64,
        Self::U8,
        Self::U16,
        Self::U32,
        Self::U64,
    ];
}

/// The float types a field may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum FloatType {
    F32,
    F64,
}

impl FloatType {
    /// The Rust name (`f64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }
}

/// A field's default.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// A literal value (`default = 0` in TOML, `#[session(default = 0)]`).
    Value(Value),
    /// The type's `Default::default()` (`default = true` is not this; see the reference).
    TypeDefault,
}

/// A literal value in a spec: a default, or an item of `one_of`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (also an enum variant's name).
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// A table with string keys.
    Table(BTreeMap<String, Value>),
}

impl Value {
    /// The value with integers turned into floats where `ty` expects a float
    /// (`default = 1` for an `f64` field), inside `Option`, `Vec` and maps too. Both
    /// front-ends call this, so a literal means the same whichever one declared it.
    pub fn coerce(self, ty: &FieldType) -> Value {
        match (ty, self) {
            (FieldType::Option(t), v) => v.coerce(t),
            (FieldType::Float(_), Value::Int(i)) => Value::Float(i as f64),
            (FieldType::Vec(t) | FieldType::Set(t), Value::Array(items)) => {
                Value::Array(items.into_iter().map(|v| v.coerce(t)).collect())
            }
            (FieldType::Map(t), Value::Table(items)) => {
                Value::Table(items.into_iter().map(|(k, v)| (k, v.coerce(t))).collect())
            }
            (_, v) => v,
        }
    }

    /// The value as JSON, the session's storage form.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Bool(b) => (*b).into(),
            Self::Int(i) => (*i).into(),
            Self::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Self::String(s) => s.clone().into(),
            Self::Array(a) => a.iter().map(Value::to_json).collect(),
            Self::Table(t) => t
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

/// A number in a rule (`min`, `max`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The number as `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

/// The validation rules of a field. String rules apply to a `String` field, to the string
/// inside an `Option`, and to each string of a `Vec` or map; number rules likewise;
/// `max_items` applies to a collection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules {
    /// Smallest allowed number.
    pub min: Option<Spanned<Number>>,
    /// Largest allowed number.
    pub max: Option<Spanned<Number>>,
    /// Fewest characters in a string (characters, not bytes).
    pub min_length: Option<Spanned<u64>>,
    /// Most characters in a string (characters, not bytes).
    pub max_length: Option<Spanned<u64>>,
    /// Most items in a collection.
    pub max_items: Option<Spanned<u64>>,
    /// Most characters in a map's keys (characters, not bytes).
    pub max_key_length: Option<Spanned<u64>>,
    /// A regular expression (regex-lite syntax) the whole string must match.
    pub pattern: Option<Spanned<String>>,
    /// The allowed values.
    pub one_of: Option<Spanned<Vec<Value>>>,
    /// A custom validator by path: `fn(&T) -> Result<(), String>`.
    pub custom: Option<Spanned<String>>,
}

impl Rules {
    /// Whether no rule is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn clear_origins(&mut self) {
        fn clear<T>(r: &mut Option<Spanned<T>>) {
            if let Some(r) = r {
                r.origin = Origin::Unknown;
            }
        }
        clear(&mut self.min);
        clear(&mut self.max);
        clear(&mut self.min_length);
        clear(&mut self.max_length);
        clear(&mut self.max_items);
        clear(&mut self.max_key_length);
        clear(&mut self.pattern);
        clear(&mut self.one_of);
        clear(&mut self.custom);
    }
}

/// An enum declared in a spec: unit variants stored as their names.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    /// The Rust type name.
    pub name: String,
    /// Doc text.
    pub doc: Option<String>,
    /// The variants.
    pub variants: Vec<Variant>,
    /// Where the enum was declared.
    pub origin: Origin,
}

/// One variant of a spec enum.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The Rust variant name (`Admin`).
    pub name: String,
    /// The stored name (`admin`), the variant name unless renamed.
    pub key: String,
    /// Where the variant was declared.
    pub origin: Origin,
}
