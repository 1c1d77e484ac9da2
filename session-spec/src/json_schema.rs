//! The JSON Schema of the spec format, for editors (taplo, Even Better TOML).
//!
//! The raw spec types below describe `session.toml` as a document; the policy part is the
//! one [`Settings`] type itself, so the schema cannot drift from what the parser accepts
//! (a test in `tests/it` also checks the key lists against [`crate::parse`]). The
//! committed copy is `session-spec/session-spec.schema.json`; spec files point at it with
//! a first line such as `#:schema ./session-spec.schema.json`.
//!
//! ```
//! let schema = session_spec::json_schema::spec_schema();
//! assert_eq!(schema["title"], "session-spec");
//! assert!(schema["properties"]["fields"].is_object());
//! // Nexios names are accepted in `[session]`, so editors must accept them too.
//! assert!(schema["$defs"]["Settings"]["properties"]["session_cookie_name"].is_object());
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value as Json;

use crate::settings::{Backend, KEY_ALIASES, Lifetime, Settings};

/// A session spec (`session.toml`): the session's name, version, policy, fields and enums.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "session-spec")]
pub struct SpecFile {
    /// The Rust type name of the session, in UpperCamelCase (`Shop`). Also bound into the
    /// cookie's MAC, so two session types never accept each other's cookies.
    pub name: String,
    /// The schema version (default 1). Bump it when fields change; fields added with a
    /// default keep existing sessions valid.
    #[schemars(range(min = 1))]
    pub version: Option<u32>,
    /// Doc text of the generated session type.
    pub doc: Option<String>,
    /// The policy: cookie, lifetime, rotation, keys and backend. Every key has a secure
    /// default. Nexios names (`session_cookie_name`, ...) are accepted too.
    pub session: Option<Settings>,
    /// The typed fields, by Rust name (snake_case): a table per field, or just its type.
    pub fields: Option<BTreeMap<String, FieldEntry>>,
    /// Enums declared in the spec, by Rust name (UpperCamelCase).
    pub enums: Option<BTreeMap<String, EnumEntry>>,
}

/// A field: its type as a string (`user_id = "u64"`), or a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FieldEntry {
    /// Just the type, written as Rust.
    Type(String),
    /// The full form.
    Table(Box<FieldSpec>),
}

/// One typed field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The Rust type: `bool`, `i8`..`i64`, `u8`..`u64`, `f32`, `f64`, `String`,
    /// `Option<T>`, `Vec<T>`, `BTreeMap<String, T>` / `HashMap<String, T>`,
    /// `BTreeSet<T>` / `HashSet<T>`, an enum declared
    /// under `[enums]`, or a path to your own serde type (`crate::auth::Level`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The value used when the session holds none, written as a TOML literal of the
    /// field's type (a variant's stored name for an enum).
    pub default: Option<Json>,
    /// Use the type's `Default::default()` when the session holds no value.
    pub type_default: Option<bool>,
    /// Doc text carried over to the generated accessors.
    pub doc: Option<String>,
    /// The storage key (default: the field name).
    pub key: Option<String>,
    /// Redact the value in `Debug` output and logs.
    pub sensitive: Option<bool>,
    /// Show the value in the principal's list of active sessions (such as a device label
    /// set at login). Needs a `principal` on a server-side backend; never with `sensitive`.
    pub shown: Option<bool>,
    /// Smallest allowed number (numbers, and the numbers of an `Option`, `Vec`, set or map).
    pub min: Option<f64>,
    /// Largest allowed number.
    pub max: Option<f64>,
    /// Fewest characters in a string (characters, not bytes).
    pub min_length: Option<u64>,
    /// Most characters in a string (characters, not bytes).
    pub max_length: Option<u64>,
    /// Most items in a `Vec`, set or map.
    pub max_items: Option<u64>,
    /// Most characters in a map's keys.
    pub max_key_length: Option<u64>,
    /// A regular expression (regex-lite syntax) each string must match as a whole.
    pub pattern: Option<String>,
    /// The allowed values.
    pub one_of: Option<Vec<Json>>,
    /// A custom validator by path, a `fn(&T) -> Result<(), String>`.
    pub custom: Option<String>,
}

/// An enum: its variants (`Role = ["user", "admin"]`), or a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnumEntry {
    /// Just the variants.
    Variants(Vec<VariantEntry>),
    /// The full form.
    Table(EnumSpec),
}

/// One enum declared in the spec; variants are stored by name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumSpec {
    /// The variants.
    pub variants: Vec<VariantEntry>,
    /// Doc text of the generated enum.
    pub doc: Option<String>,
}

/// A variant: its stored name (the Rust name is its UpperCamelCase form), or a table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VariantEntry {
    /// The stored name (`super_admin` becomes `SuperAdmin`).
    Key(String),
    /// Rust name and stored name apart.
    Table(VariantSpec),
}

/// A variant with its Rust name and stored name apart.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// The Rust variant name (default: the UpperCamelCase form of `key`).
    pub name: Option<String>,
    /// The stored name (default: `name`).
    pub key: Option<String>,
}

/// The schema of the `backend` key: a backend table, or the name of a backend without
/// options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BackendSchema {
    /// `backend = { type = "file", dir = "..." }`.
    Table(Backend),
    /// `backend = "memory"`.
    Name(BackendName),
}

/// A backend without required options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackendName {
    /// The data lives in the signed or encrypted cookie.
    Cookie,
    /// In-process memory.
    Memory,
}

impl JsonSchema for Lifetime {
    fn schema_name() -> Cow<'static, str> {
        "Lifetime".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A span of time: an integer is minutes (the Nexios unit), a float fractional minutes, a string takes a unit (`\"90s\"`, `\"30m\"`, `\"12h\"`, `\"7d\"`).",
            "anyOf": [
                { "type": "number", "description": "minutes" },
                {
                    "type": "string",
                    "pattern": "^\\s*[+-]?[0-9]+\\s*(s|sec|secs|m|min|mins|h|hour|hours|d|day|days)?\\s*$"
                }
            ]
        })
    }
}

/// The JSON Schema of the spec format, as committed in `session-spec.schema.json`.
pub fn spec_schema() -> Json {
    let mut schema = schemars::schema_for!(SpecFile).to_value();
    add_aliases(&mut schema);
    schema
}

/// The schema as pretty-printed JSON with a final newline (the committed file's text).
pub fn spec_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&spec_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// serde's aliases are invisible to schemars; editors must accept them too.
fn add_aliases(schema: &mut Json) {
    if let Some(props) = schema
        .pointer_mut("/$defs/Settings/properties")
        .and_then(Json::as_object_mut)
    {
        for (alias, canon) in KEY_ALIASES {
            if let Some(mut p) = props.get(*canon).cloned() {
                if let Some(o) = p.as_object_mut() {
                    o.insert(
                        "description".into(),
                        Json::String(format!("Same as `{canon}` (its Nexios name).")),
                    );
                }
                props.insert((*alias).to_owned(), p);
            }
        }
    }
    for (def, aliases) in [
        (
            "SameSite",
            &[("Strict", "strict"), ("Lax", "lax"), ("None", "none")][..],
        ),
        (
            "CookiePrefix",
            &[("__Host-", "host"), ("__Secure-", "secure")][..],
        ),
    ] {
        if let Some(one_of) = schema
            .pointer_mut(&format!("/$defs/{def}/oneOf"))
            .and_then(Json::as_array_mut)
        {
            for (alias, canon) in aliases {
                one_of.push(serde_json::json!({
                    "const": alias,
                    "description": format!("Same as `{canon}`."),
                }));
            }
        }
    }
}
