//! End-to-end tests of the example applications: real binaries, real servers, a real
//! browser.

mod actix_shop;
mod browser;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod databases;
mod derive;
mod hardening;
mod http;
mod logging;
mod quickstart;
mod races;
mod redis_store;
mod server;
mod shop;
mod webdriver;
