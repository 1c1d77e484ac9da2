//! `#[derive(Session)]`: declare a session on a Rust struct.
//!
//! This crate is only the proc-macro entry point: the attribute parser and the lowering to
//! the schema IR live in `session_spec::derive`, the expansion in `session_spec::codegen`,
//! so that a `session.toml` spec and a derived struct go through the same validator and the
//! same generator. Use it through `session-runtime`, which re-exports it (default feature
//! `derive`); the attribute reference is in `session-runtime`'s documentation (module
//! `session_runtime::derive`).
//!
//! ```
//! use session_runtime::{Rule, Session};
//!
//! #[derive(Session)]
//! #[session(cookie_name = "shop", expiration_time = 30)]
//! struct Shop {
//!     /// Signed-in user.
//!     #[session(max_length = 64)]
//!     username: Option<String>,
//!     #[session(max_items = 50, default)]
//!     cart: Vec<String>,
//! }
//!
//! let session: Session<Shop> = Session::detached();
//! session.push_cart("apple".into()).unwrap();
//! assert_eq!(session.cart(), ["apple"]);
//! let err = session.set_username(Some("x".repeat(65))).unwrap_err();
//! assert_eq!(err.rule, Rule::MaxLength);
//! ```
//!
//! # Features
//!
//! None: depend on `session-runtime` (default feature `derive`) rather than on this crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

/// The crate's README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[allow(dead_code)]
struct ReadmeDoctests;

/// Declares a session on a struct with named fields: typed accessors on
/// `session_runtime::Session<YourStruct>` (through the generated `YourStructExt` trait),
/// validators, storage-key constants and the `SessionSchema` implementation.
///
/// Container attributes (`#[session(cookie_name = "shop", expiration_time = 30)]`) set the
/// policy; field attributes (`#[session(max_length = 64, default)]`) set defaults, storage
/// keys and rules. The names are the keys of the `session.toml` format.
#[proc_macro_derive(Session, attributes(session))]
pub fn derive_session(input: TokenStream) -> TokenStream {
    session_spec::derive::expand(input.into()).into()
}
