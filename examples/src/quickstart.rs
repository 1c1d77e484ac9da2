//! The quickstart's session type, compiled from `examples/quickstart/session.toml` by the
//! build script.

#[allow(missing_docs, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/visits.rs"));
}

pub use generated::{Visits, VisitsExt};
