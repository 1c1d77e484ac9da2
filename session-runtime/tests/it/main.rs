//! The session runtime's integration tests: one binary, one module per topic.

mod codec;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod db;
mod id;
mod keys;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
