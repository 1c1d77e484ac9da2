//! CSRF tokens: the synchronizer-token pattern, and signed tokens for anonymous visitors.
//!
//! A random token is stored in the session and written into every form as a hidden
//! field; a state-changing request is accepted only when its form carries the same token.
//! A visitor without a session token gets a *stateless* one instead ([`AnonymousTokens`]):
//! an expiry and a random nonce, signed with a key derived from the session keys, so that
//! anonymous page views store nothing (no record, no file) and any instance sharing the
//! keys accepts it.
//! A cross-site page can make the browser send the session cookie, but it cannot read the
//! token, so it cannot forge the form. `SameSite=Lax` on the session cookie is a second,
//! independent line of defence.

use hmac::{Hmac, Mac};
use session_runtime::keys::Keys;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Length of a token in random bytes (rendered as twice as many hex digits).
pub const TOKEN_BYTES: usize = 32;

/// A fresh token: 256 bits from the operating system's CSPRNG, as lower-case hex.
///
/// # Errors
/// The operating system has no randomness to give (never on a working Linux host).
///
/// ```
/// let a = examples::csrf::new_token().unwrap();
/// let b = examples::csrf::new_token().unwrap();
/// assert_eq!(a.len(), 64);
/// assert_ne!(a, b);
/// ```
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `given` (from the form) matches `expected` (from the session).
///
/// A missing token on either side never matches, and the comparison takes the same time
/// whatever the first differing byte.
///
/// ```
/// use examples::csrf::verify;
/// assert!(verify(Some("abc"), Some("abc")));
/// assert!(!verify(Some("abc"), Some("abd")));
/// assert!(!verify(Some("abc"), None));
/// assert!(!verify(None, None));
/// assert!(!verify(Some(""), Some("")));
/// ```
pub fn verify(expected: Option<&str>, given: Option<&str>) -> bool {
    match (expected, given) {
        (Some(expected), Some(given)) if !expected.is_empty() => {
            expected.as_bytes().ct_eq(given.as_bytes()).into()
        }
        _ => false,
    }
}

/// How long a stateless token stays valid: two hours.
pub const ANONYMOUS_TTL_SECONDS: u64 = 2 * 60 * 60;

/// The purpose string the signing key is derived under ([`session_runtime::keys::Key::derive`]).
const PURPOSE: &[u8] = b"examples csrf anonymous token v1";

/// Stateless CSRF tokens for visitors who have no session token: `hex(expiry (8 bytes) ||
/// nonce (16 bytes)) || hex(HMAC-SHA256)`, 112 hex digits, signed under the primary session
/// key and accepted under any configured key.
///
/// They are not bound to a session (there is none), so they protect the forms of visitors
/// who have no session the way a shared secret would: a cross-site page cannot read one,
/// but anyone can fetch one for themselves (so they do not stop login CSRF; the session's
/// own token takes over once there is a session).
///
/// ```
/// use examples::csrf::AnonymousTokens;
/// use session_runtime::keys::Keys;
/// let tokens = AnonymousTokens::new(&Keys::generate());
/// let token = tokens.issue(1_000).unwrap();
/// assert!(tokens.verify(&token, 1_000));
/// assert!(!tokens.verify(&token, 1_000 + 3 * 60 * 60)); // expired
/// assert!(!AnonymousTokens::new(&Keys::generate()).verify(&token, 1_000)); // another key
/// assert!(!tokens.verify("00", 1_000));
/// ```
#[derive(Clone)]
pub struct AnonymousTokens {
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for AnonymousTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnonymousTokens")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl AnonymousTokens {
    /// Tokens signed with subkeys of `keys` (primary first).
    pub fn new(keys: &Keys) -> Self {
        Self {
            keys: keys.iter().map(|key| key.derive(PURPOSE)).collect(),
        }
    }

    fn mac(key: &[u8; 32], body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        mac.update(body);
        mac
    }

    /// A fresh token valid for [`ANONYMOUS_TTL_SECONDS`] from `now` (Unix seconds).
    ///
    /// # Errors
    /// The operating system has no randomness to give.
    pub fn issue(&self, now: u64) -> Result<String, getrandom::Error> {
        let mut body = [0u8; 24];
        body[..8].copy_from_slice(&(now + ANONYMOUS_TTL_SECONDS).to_be_bytes());
        getrandom::getrandom(&mut body[8..])?;
        let tag = Self::mac(&self.keys[0], &body).finalize().into_bytes();
        Ok(body
            .iter()
            .chain(tag.iter())
            .map(|b| format!("{b:02x}"))
            .collect())
    }

    /// Whether `token` was issued by these keys and has not expired at `now`.
    pub fn verify(&self, token: &str, now: u64) -> bool {
        let Some(bytes) = decode_hex(token).filter(|b| b.len() == 56) else {
            return false;
        };
        let (body, tag) = bytes.split_at(24);
        let expires = u64::from_be_bytes(body[..8].try_into().expect("8 bytes"));
        now < expires
            && self
                .keys
                .iter()
                .any(|key| Self::mac(key, body).verify_slice(tag).is_ok())
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() & 1 == 1 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}
