//! The session runtime.
//!
//! It enforces, on every request, the policy that a `session.toml` spec or a
//! `#[derive(Session)]` declared: it loads the session from the request's cookie, hands the
//! application a typed [`Session`](struct@Session) handle, and commits it after the handler,
//! writing to the store and sending `Set-Cookie` only when needed.
//!
//! - [`Session`](struct@Session): one request's session (the Nexios operations: set, get,
//!   delete, get all, clear, has expired, expiration time; and id, `cycle`, `destroy`,
//!   `is_modified`, `is_new`);
//! - [`SessionManager`]: the framework-agnostic loader and committer that enforces the
//!   policy (see [`manager`] for the policy as enforced);
//! - `SessionLayer` (module `layer`) and the `Session` axum extractor (feature
//!   `axum`), `actix::SessionMiddleware` and the `Session` actix-web extractor (feature
//!   `actix`): thin framework adapters over the rules they share, [`adapter`] (with the
//!   checklist for an adapter to another framework);
//! - [`config`]: start-up overrides of the compiled-in settings (a TOML file, `SESSION_*`
//!   variables); [`keys`], [`codec`], [`id`]: secrets, sealing, session ids;
//!   [`store`]: the server-side store trait and stores.
//!
//! ```
//! use session_runtime::Session;
//! let session = Session::detached();
//! session.set("cart", &vec!["apple"]).unwrap();
//! assert_eq!(session.get::<Vec<String>>("cart").unwrap(), ["apple"]);
//! assert!(session.delete("cart"));
//! ```
//!
//! One request through the manager, as the tower layer runs it:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use session_runtime::{SessionManager, Settings, keys::Keys};
//! let manager: SessionManager = SessionManager::cookie(Settings::default(), Keys::generate())?;
//! let session = manager.load(["theme=dark"]).await?; // the request's `Cookie` headers
//! session.set("user", "ada")?;
//! let set_cookie = manager.commit(&session, false).await?; // `false`: not a 5xx
//! assert!(set_cookie[0].starts_with("session="));
//! assert!(set_cookie[0].ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Modules, bottom up
//!
//! Each module imports only from its own layer or the layers before it, and no two import
//! each other (the test `layers::modules_import_only_from_their_layer_or_below` checks it):
//!
//! 1. time and ids: [`time`], the random source, unpadded base64url (the text of ids
//!    and sealed cookies), [`id`] (session ids and the [`id::StoreKey`] a store files
//!    them under);
//! 2. keys and sealing: [`keys`], [`codec`];
//! 3. session state: expiry arithmetic, the `Cookie`/`Set-Cookie` headers, [`schema`] (the
//!    data contract, and the envelope the data is written into), [`session`] (the handle);
//! 4. stores: [`store`] (the trait, the stores, and [`KeySealer`](store::KeySealer) for
//!    encryption at rest);
//! 5. settings and errors: [`config`], [`error`];
//! 6. the manager: [`manager`] (which also builds a manager from an opened
//!    [`Storage`](store::Storage));
//! 7. framework adapters: [`adapter`], the tower layer and axum extractors, `actix`, and
//!    the store conformance suite (`conformance`, feature `test-util`).
//!
//! # Features
//!
//! - `derive` (default): re-exports `#[derive(Session)]` (the `derive` module documents
//!   its attributes).
//! - `axum`: the tower layer (`SessionLayer`) and the axum extractors.
//! - `actix`: the actix-web middleware (`actix::SessionMiddleware`) and extractors
//!   (actix-web 4 without its default features). Both adapters follow the same rules,
//!   [`adapter`], which also lists what an adapter to another framework must do.
//! - `postgres`: the Diesel store for PostgreSQL (`store::postgres::PostgresStore`; links libpq).
//! - `mysql`: the Diesel store for MySQL and MariaDB (`store::mysql::MysqlStore`; links
//!   libmysqlclient).
//! - `redis`: the Redis store (`store::redis::RedisStore`, `backend = { type = "redis" }`):
//!   many instances on one Redis server, Cluster-ready keys and scripts.
//! - `db-cli`: the `session-db` command: migrate, purge, print the SQL (with `postgres`
//!   and/or `mysql`); list and end a user's sessions, or every session, in any store that
//!   keeps the active-sessions index (the file store, and PostgreSQL, MySQL, Redis with
//!   their features), and revoke a user's cookies in a cookie backend's revocation store
//!   (`manager::StoreSessions` is the library side).
//! - `test-util`: test helpers for your own stores and time-dependent tests: the store
//!   conformance suite (`conformance`, `store_conformance_tests!`,
//!   `manager_conformance_tests!`) and `MockClock`. For `[dev-dependencies]` only.
//!
//! ```toml
//! [dependencies]
//! session-runtime = { version = "0.1", features = ["axum"] }
//!
//! [dev-dependencies]
//! session-runtime = { version = "0.1", features = ["test-util"] }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
pub mod adapter;
mod base64url;
pub mod codec;
pub mod config;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod conformance;
mod cookie;
pub mod error;
mod expiry;
#[cfg(feature = "axum")]
pub mod extract;
pub mod id;
pub mod keys;
#[cfg(feature = "axum")]
pub mod layer;
pub mod manager;
mod random;
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
pub use schema::{Dynamic, Map, SessionData, SessionSchema, ValidationErrors};
pub use session::Session;
pub use session_spec::rules::{Rule, ValidationError};
pub use session_spec::{self as spec, Settings};
pub use store::{Record, SessionStore, StoreError, StoreKey};
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use time::MockClock;
pub use time::{Clock, SystemClock, Timestamp};

#[cfg(feature = "derive")]
pub use session_derive::Session;

/// The crate's README, whose examples are compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The reference of `#[derive(Session)]` (feature `derive`); its examples run as doctests.
#[cfg(feature = "derive")]
#[doc = include_str!("../docs/derive.md")]
pub mod derive {}
