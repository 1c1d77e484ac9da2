//! The quickstart's session type, compiled from `examples/quickstart/session.toml` by the
//! build script.

#[allow(unreachable_pub)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/visits.rs"));
}

pub use generated::{Visits, VisitsExt};
