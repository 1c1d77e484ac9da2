//! Stores: the conformance suite against every store, the file store's own guarantees, and
//! purging.

mod conformance;
mod file;
mod purge;
mod support;
