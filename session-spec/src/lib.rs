//! Declarative session specs.
//!
//! This crate holds the declarative half of the session toolkit: the schema IR
//! ([`Schema`]), the policy type shared with the runtime ([`Settings`]), the field rules
//! ([`rules`]), and, behind features, the TOML front-end (`parse`), the code generator and
//! build-script API (`codegen`), the `#[session(...)]` attribute front-end (`derive`), the
//! JSON Schema of the spec format (`schema`) and the CLI (`cli`).
//!
//! The spec format, every key with its Nexios name and its `#[session(...)]` form, is
//! documented in the `reference` module (feature `parse`), whose examples run as doctests.
//!
//! # From a spec to typed Rust
//!
//! 1. `Cargo.toml`: `session-runtime` as a dependency, `session-spec` (features `codegen`,
//!    `parse`) as a build dependency.
//! 2. `session.toml`: the session's name, policy and fields (`session-spec init` writes one).
//! 3. `build.rs`: `session_spec::compile_or_exit("session.toml");` writes
//!    `$OUT_DIR/session.rs`, or fails the build with every error of the spec.
//! 4. `mod session { include!(concat!(env!("OUT_DIR"), "/session.rs")); }`
//! 5. `use session::{Shop, ShopExt};` then `Session::<Shop>` has typed, validating
//!    accessors (`session.set_username(..)?`, `session.cart()`).
//!
//! Each step is shown in full in the `build` module; the generated API is described in the
//! `codegen` module.
//!
//! ```
//! use session_spec::Settings;
//! let settings = Settings::default();
//! assert!(settings.secure && settings.http_only);
//! assert_eq!(settings.expiration_time.as_seconds(), 24 * 60 * 60);
//! ```
//!
//! # Features
//!
//! - `cli` (default): the `session-spec` command (`init`, `check`, `generate`, `schema`);
//!   turns on `parse`, `codegen` and `schema`.
//! - `parse`: the TOML front-end: parsing, lowering, validation with line/column
//!   diagnostics, and the `reference` module.
//! - `codegen`: the code generator (quote + prettyplease); with `parse`, the build-script
//!   API (`build`, `compile_or_exit`).
//! - `derive`: the Rust front-end, the `#[session(...)]` attribute parser that
//!   `session-derive` uses.
//! - `schema`: the JSON Schema of the spec format (schemars).
//!
//! A build script needs only `parse` and `codegen`:
//!
//! ```toml
//! [build-dependencies]
//! session-spec = { version = "0.1", default-features = false, features = ["parse", "codegen"] }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The crate's README, whose examples are compiled as doctests.
#[cfg(all(doctest, feature = "parse", feature = "codegen"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod budget;
#[cfg(all(feature = "codegen", feature = "parse"))]
pub mod build;
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
#[cfg(feature = "derive")]
pub mod derive;
mod ident;
pub mod rules;
pub mod settings;
mod suggest;
pub mod validate;

#[cfg(all(feature = "codegen", feature = "parse"))]
pub use build::{Builder, CompileError, compile, compile_or_exit};
pub use ir::{
    DefaultValue, EnumDef, Field, FieldType, FloatType, IntType, Number, Origin, Rules, Schema,
    Spanned, Value, Variant,
};
pub use settings::{
    Backend, CookieMode, CookiePrefix, DatabaseBackend, FileDurability, KEY_ALIASES, KeySource,
    Lifetime, LifetimeParseError, OnMaxSessions, RedisBackend, SameSite, Settings, SettingsProblem,
};
