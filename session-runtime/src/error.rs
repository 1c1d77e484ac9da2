//! The runtime's error type.

use crate::codec::CodecError;
use crate::config::ConfigError;
use crate::keys::KeyError;
pub use crate::random::RandomError;
use crate::schema::ValidationErrors;
use crate::store::StoreError;

/// What can go wrong while loading or committing a session, or building a manager.
///
/// Bad input from a client (a tampered, expired, unknown or malformed cookie) is *not* an
/// error: it gives a fresh session. These errors are the server's own trouble.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session cookie would exceed what browsers keep; nothing was truncated or sent.
    #[error(
        "session cookie of {size} bytes (name and value) exceeds the {max}-byte limit",
        max = session_spec::budget::MAX_COOKIE_BYTES
    )]
    CookieTooLarge {
        /// The size of the cookie's name plus its value, in bytes.
        size: usize,
    },
    /// The secret keys are missing or unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The settings or their overrides are invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Session data broke the schema's rules.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// The operating system's random number generator failed (no session id or nonce
    /// could be drawn).
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The codec could not seal a cookie.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Another request changed the session first, and this request's changes, replayed on
    /// the fresh data, break a rule (a list now full, say); nothing was saved.
    #[error("the session changed concurrently and this request's change no longer applies: {0}")]
    Replay(#[source] session_spec::rules::ValidationError),
    /// The principal already has `max_sessions` live sessions and the policy is
    /// `on_max_sessions = "refuse"`: the login was not stored. The tower layer and the
    /// adapters answer `409 Conflict`; a handler that wants a page of its own asks
    /// [`SessionManager::at_session_limit`](crate::SessionManager::at_session_limit)
    /// before logging in.
    #[error(
        "the principal has {max} live sessions already, the most allowed: the login is refused"
    )]
    SessionLimit {
        /// The declared `max_sessions`.
        max: u32,
    },
    /// Session data could not be serialized.
    #[error("session data cannot be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl Error {
    /// Whether the failure is worth a `503 Service Unavailable` (retry later) rather than a
    /// `500`: the store is unreachable, or another request changed the session first (a
    /// conflict, or a change that no longer applies on the fresh data: a retry runs the
    /// request on that data and gets its real answer, a list full, a limit reached).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Store(
                StoreError::Unavailable(_) | StoreError::Conflict { .. } | StoreError::NotFound
            ) | Self::Replay(_)
        )
    }
}

/// Result alias of the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;
