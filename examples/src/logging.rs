//! Logging of the example applications: one line per event on stderr.
//!
//! The session runtime reports through [`tracing`]: refused cookies and expired sessions at
//! `debug`, data that was authentic but unusable and configuration warnings at `warn`,
//! store failures (the `503`s and `500`s the layer answers) at `error`. A library installs
//! no subscriber; an application does, once, at the start of `main`, as every example does
//! with [`init`]:
//!
//! ```no_run
//! examples::logging::init();
//! tracing::info!("ready");
//! ```
//!
//! `RUST_LOG` chooses what is shown, in the usual syntax: a level (`debug`), or targets
//! with levels (`session_runtime=debug,info`). Unset, empty or unreadable, it means `info`;
//! an unreadable value is reported on stderr, not ignored.

use std::str::FromStr;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// The variable that chooses what is logged.
pub const RUST_LOG: &str = "RUST_LOG";

/// The filter used when `RUST_LOG` is unset or cannot be read.
pub const DEFAULT_FILTER: &str = "info";

/// The filter `value` (a `RUST_LOG` value) describes.
///
/// # Errors
/// A value that is not a list of `level` or `target=level` directives.
///
/// ```
/// use examples::logging::filter;
/// assert!(filter("session_runtime=debug,info").is_ok());
/// assert!(filter("session_runtime=loud").is_err());
/// ```
pub fn filter(value: &str) -> Result<Targets, String> {
    let value = value.trim();
    let value = if value.is_empty() {
        DEFAULT_FILTER
    } else {
        value
    };
    Targets::from_str(value).map_err(|e| format!("`{RUST_LOG}={value}` cannot be read: {e}"))
}

/// Installs the subscriber: events at or above the `RUST_LOG` filter (default `info`) as
/// one plain line each on stderr. Calling it twice keeps the first subscriber.
pub fn init() {
    let targets = match std::env::var(RUST_LOG) {
        Ok(value) => filter(&value).unwrap_or_else(|error| {
            eprintln!("warning: {error}; logging at `{DEFAULT_FILTER}`");
            Targets::new().with_default(tracing::Level::INFO)
        }),
        Err(std::env::VarError::NotPresent) => Targets::new().with_default(tracing::Level::INFO),
        Err(std::env::VarError::NotUnicode(_)) => {
            eprintln!("warning: `{RUST_LOG}` is not UTF-8; logging at `{DEFAULT_FILTER}`");
            Targets::new().with_default(tracing::Level::INFO)
        }
    };
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true);
    // `try_init` fails only when a subscriber is installed already: keep that one.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(targets))
        .try_init();
}
