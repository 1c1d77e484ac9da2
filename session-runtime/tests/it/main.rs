//! The session runtime's integration tests: one binary, one module per topic.

mod codec;
mod id;
mod keys;
