//! End-to-end tests of the example applications: real binaries, real servers, a real
//! browser.

mod browser;
mod http;
mod redis_store;
mod server;
mod shop;
mod webdriver;
