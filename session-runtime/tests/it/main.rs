//! The session runtime's integration tests: one binary, one module per topic.

mod active;
mod codec;
mod compact;
mod config;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod db;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "redis"))]
mod db_http;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod dialect;
mod hardening;
mod id;
mod keys;
mod layer;
mod layers;
mod manager;
mod model;
mod mutation;
#[cfg(feature = "mysql")]
mod mysql;
mod policy;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod sealed;
mod stores;
mod support;
#[cfg(feature = "derive")]
mod typed;
