//! Session keys for the examples: from the environment (or a key file) as configured, or,
//! for a development run with no key, an ephemeral one announced loudly.
//!
//! A deployment-like program (the shop, the derive example) starts with an ephemeral key
//! only when the development switch `SESSION_EPHEMERAL_KEY=true` is set
//! ([`session_runtime::keys::EPHEMERAL_SWITCH`]); the quickstart, a demo meant to run with
//! no set-up at all, always allows it. An *empty* `SESSION_KEY` is an error everywhere.

use session_runtime::keys::{self, KeyError, Keys};
use session_runtime::spec::KeySource;

/// The keys `source` names; when its primary variable is unset and `allow_ephemeral`, a
/// fresh random key that lives as long as the process, with a warning on standard error.
/// Pass [`keys::ephemeral_switch_on`]`()` unless the program is a demo.
///
/// Any other problem (an empty variable, a key that is too short or too simple, a bad
/// `base64:` value, an unreadable key file) is an error: an ephemeral key is only ever a
/// stand-in for a missing one.
///
/// # Errors
/// The key is missing (without `allow_ephemeral`) or cannot be used ([`KeyError`]).
pub fn load_or_ephemeral(
    source: &KeySource,
    program: &str,
    allow_ephemeral: bool,
) -> Result<Keys, KeyError> {
    let (keys, ephemeral) = Keys::from_source_or_ephemeral(source, allow_ephemeral)?;
    if ephemeral {
        warn_ephemeral(program, &source.env);
    }
    Ok(keys)
}

/// [`load_or_ephemeral`] for deployment-like programs: an ephemeral key only with the
/// development switch.
///
/// # Errors
/// As [`load_or_ephemeral`].
pub fn load(source: &KeySource, program: &str) -> Result<Keys, KeyError> {
    load_or_ephemeral(source, program, keys::ephemeral_switch_on())
}

fn warn_ephemeral(program: &str, var: &str) {
    let line = "!".repeat(78);
    eprintln!("{line}");
    eprintln!("{program}: WARNING: `{var}` is not set; using an EPHEMERAL session key.");
    eprintln!("{program}: every session ends when this process stops, and several");
    eprintln!("{program}: instances cannot share sessions. For anything but a local try-out:");
    eprintln!("{program}:     export {var}=\"base64:$(head -c 32 /dev/urandom | base64)\"");
    eprintln!("{line}");
}
