//! The contract between generated code and the runtime.
//!
//! Code generated from a `session.toml` or by `#[derive(Session)]` implements
//! [`SessionSchema`] for the session type; the runtime is generic over it. [`Dynamic`] is
//! the untyped, map-like schema that gives the plain key/value API.

use session_spec::Settings;
pub use session_spec::rules::{Rule, ValidationError};

/// The session data as stored: storage key to JSON value.
pub type Map = serde_json::Map<String, serde_json::Value>;

/// Every validation error of a session's data at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} validation error(s), first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
pub struct ValidationErrors(pub Vec<ValidationError>);

/// A declared session shape and policy.
///
/// Implemented by generated code; hand-written impls are possible but the generator is the
/// intended source. The contract is small on purpose:
///
/// - [`NAME`](Self::NAME) and [`VERSION`](Self::VERSION) are bound into the cookie MAC or
///   the encryption's associated data, so a value cannot move to another schema;
/// - [`settings`](Self::settings) gives the compiled-in policy (a deployment may override
///   it at start-up);
/// - [`upgrade`](Self::upgrade) brings loaded data up to the current schema: it fills
///   defaults for missing fields, drops keys the schema does not know, and checks every
///   field's type and rules. An error resets the session (logged), never a panic.
pub trait SessionSchema: Send + Sync + 'static {
    /// The schema's name (`Shop`).
    const NAME: &'static str;
    /// The schema's version.
    const VERSION: u32;
    /// The storage keys of the declared fields, in declaration order; empty for [`Dynamic`].
    const KEYS: &'static [&'static str];
    /// The storage keys whose values are redacted in `Debug` output and logs.
    const SENSITIVE: &'static [&'static str];
    /// The largest the session data can be in a cookie (its binary payload, before the
    /// envelope and the sealing), as the schema's rules allow; `None` when a field has no
    /// bound. Generated code computes it at build time with `session_spec::budget`; the
    /// cookie backend refuses at start-up a schema whose worst-case cookie exceeds what
    /// browsers keep, for instance when a deployment switches to it with
    /// `SESSION_BACKEND=cookie`. The default, `None`, proves nothing and refuses nothing.
    const COOKIE_DATA_BYTES: Option<usize> = None;
    /// The storage keys the spec marks `shown`: copied into the principal's list of active
    /// sessions ([`SessionManager::sessions_of`](crate::SessionManager::sessions_of)), such
    /// as a device label. The default shows none.
    const SHOWN: &'static [&'static str] = &[];

    /// The compiled-in policy.
    fn settings() -> Settings;

    /// Brings stored data up to date with the schema and validates it.
    ///
    /// # Errors
    /// Every field that cannot be repaired (wrong type, broken rule, missing without a
    /// default).
    fn upgrade(data: &mut Map) -> Result<(), ValidationErrors>;
}

/// The untyped schema: any key, any JSON value, the default policy.
///
/// ```
/// use session_runtime::{Dynamic, SessionSchema};
/// let mut data = session_runtime::Map::new();
/// data.insert("anything".into(), 1.into());
/// assert!(Dynamic::upgrade(&mut data).is_ok());
/// assert_eq!(Dynamic::NAME, "dynamic");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dynamic;

impl SessionSchema for Dynamic {
    const NAME: &'static str = "dynamic";
    const VERSION: u32 = 1;
    const KEYS: &'static [&'static str] = &[];
    const SENSITIVE: &'static [&'static str] = &[];

    fn settings() -> Settings {
        Settings::default()
    }

    fn upgrade(_data: &mut Map) -> Result<(), ValidationErrors> {
        Ok(())
    }
}
