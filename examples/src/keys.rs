//! Session keys for the examples: from the environment (or a key file) as configured, or,
//! for a development run with no key, an ephemeral one announced loudly.

use session_runtime::keys::{Key, KeyError, Keys};
use session_runtime::spec::KeySource;

/// The keys `source` names; when its primary variable is unset, a fresh random key that
/// lives as long as the process, with a warning on standard error.
///
/// Any other problem (a key that is too short, a bad `base64:` value, an unreadable key
/// file) is an error: an ephemeral key is only ever a stand-in for a missing one.
///
/// # Errors
/// The key material exists but cannot be used ([`KeyError`]).
pub fn load_or_ephemeral(source: &KeySource, program: &str) -> Result<Keys, KeyError> {
    match Keys::from_source(source) {
        Ok(keys) => Ok(keys),
        Err(KeyError::Missing { var }) if var == source.env && source.file.is_none() => {
            let key = Key::try_generate().map_err(|e| KeyError::Missing {
                var: format!("{var} (and no random key could be drawn: {e})"),
            })?;
            warn_ephemeral(program, &var);
            Ok(Keys::single(key))
        }
        Err(other) => Err(other),
    }
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
