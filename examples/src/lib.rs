//! Shared code of the example applications.
//!
//! The programs themselves are in `src/bin/`: `quickstart`, `shop` (and `actix_shop`, the
//! same shop on actix-web), `derive`, `custom_store` and `multi_instance`. This library
//! holds what several of them use: HTML helpers, CSRF tokens, logging, the server start-up,
//! and the Redis store of `custom_store` (a library module so that the integration tests
//! can run the store conformance suite on it).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod csrf;
pub mod html;
pub mod keys;
pub mod logging;
pub mod quickstart;
pub mod redis_store;
pub mod serve;
pub mod setup;
pub mod shop;
