//! End-to-end tests of the example applications: real binaries, real servers, a real
//! browser.

mod redis_store;
