//! The session runtime.
//!
//! It enforces, on every request, the policy that a `session.toml` spec or a
//! `#[derive(Session)]` declared: it loads the session from the request's cookie, hands the
//! application a typed [`Session`] handle, and commits it after the handler, writing to the
//! store and sending `Set-Cookie` only when needed.
//!
//! ```
//! use session_runtime::Session;
//! let session = Session::detached();
//! session.set("cart", &vec!["apple"]).unwrap();
//! assert_eq!(session.get::<Vec<String>>("cart").unwrap(), ["apple"]);
//! assert!(session.delete("cart"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod codec;
pub mod config;
pub mod error;
#[cfg(feature = "axum")]
pub mod extract;
mod header;
pub mod id;
pub mod keys;
#[cfg(feature = "axum")]
pub mod layer;
pub mod manager;
mod payload;
pub mod schema;
pub mod session;
pub mod store;
pub mod time;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use error::{Error, Result};
#[cfg(feature = "axum")]
pub use layer::SessionLayer;
pub use manager::SessionManager;
pub use schema::{Dynamic, Map, SessionSchema, ValidationErrors};
pub use session::Session;
pub use session_spec::rules::{Rule, ValidationError};
pub use session_spec::{self as spec, Settings};
pub use store::{Record, SessionStore, StoreError, StoreKey};
pub use time::{Clock, MockClock, SystemClock, Timestamp};

#[cfg(feature = "derive")]
pub use session_derive::Session;
