//! Declarative session specs.
//!
//! This crate holds the declarative half of the session toolkit: the schema IR
//! ([`Schema`]), the policy type shared with the runtime ([`Settings`]), the field rules
//! ([`rules`]), and, behind features, the TOML front-end (`parse`), the code generator and
//! build-script API (`codegen`), the `#[session(...)]` attribute front-end (`derive`), the
//! JSON Schema of the spec format (`schema`) and the CLI (`cli`).
//!
//! ```
//! use session_spec::Settings;
//! let settings = Settings::default();
//! assert!(settings.secure && settings.http_only);
//! assert_eq!(settings.expiration_time.as_seconds(), 24 * 60 * 60);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "codegen")]
pub mod codegen;
pub mod diagnostic;
pub mod ir;
#[cfg(feature = "schema")]
pub mod json_schema;
#[cfg(feature = "parse")]
pub mod parse;
#[cfg(feature = "parse")]
#[doc = include_str!("../docs/reference.md")]
pub mod reference {}
pub mod rules;
#[cfg(feature = "derive")]
pub mod rust;
pub mod settings;
pub mod validate;

pub use ir::{
    DefaultValue, EnumDef, Field, FieldType, FloatType, IntType, Number, Origin, Rules, Schema,
    Spanned, Value, Variant,
};
pub use settings::{
    Backend, CookieMode, CookiePrefix, DatabaseBackend, KEY_ALIASES, KeySource, Lifetime,
    LifetimeParseError, SameSite, Settings, SettingsProblem,
};
