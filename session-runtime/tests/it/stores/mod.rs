//! Stores: the conformance suite against every store, the file store's own guarantees, and
//! purging.

mod conformance;
#[cfg(unix)]
mod file;
mod processes;
mod purge;
pub(crate) mod support;
