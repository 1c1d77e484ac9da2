//! Session ids: 128 bits from the operating system's CSPRNG, one canonical text form.
//!
//! 128 random bits are far beyond what an attacker can guess (at a billion guesses a
//! second against a billion live sessions, the first hit is expected after some 10^13
//! years), so ids are 16 bytes, 22 characters in a cookie. Ids of the previous format (32
//! bytes, 43 characters) are still parsed, so sessions issued before the change live until
//! they expire; both lengths hash into a [`StoreKey`] the same way.
//!
//! A [`SessionId`] is opaque: it can be generated, parsed from a cookie, written into a
//! cookie, and hashed into the [`StoreKey`] under which server-side stores keep the record
//! (so a copy of the store holds no usable cookie). Its `Debug` output never shows the id.
//!
//! ```
//! use session_runtime::id::SessionId;
//! let id = SessionId::generate().unwrap();
//! assert_eq!(id.as_str().len(), SessionId::ENCODED_LEN);
//! let parsed = SessionId::parse(id.as_str()).unwrap();
//! assert_eq!(parsed, id);
//! assert_eq!(parsed.store_key(), id.store_key());
//! assert!(!format!("{id:?}").contains(id.as_str()));
//! // Anything but the one canonical encoding is refused.
//! assert!(SessionId::parse("../etc/passwd").is_err());
//! assert!(SessionId::parse(&format!("{}=", id.as_str())).is_err());
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::base64url;
use crate::random::{RandomError, fill_random};

/// A session id string that is not the canonical encoding of a session id.
///
/// The message never repeats the offending value (it came from a client).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text has neither [`SessionId::ENCODED_LEN`] nor
    /// [`SessionId::LEGACY_ENCODED_LEN`] characters.
    #[error("session id must be {expected} characters long, found {found}")]
    Length {
        /// The required length (of new ids).
        expected: usize,
        /// The length found (in bytes).
        found: usize,
    },
    /// The text has the right length but is not canonical unpadded base64url.
    #[error("session id is not canonical unpadded base64url")]
    Encoding,
}

/// An opaque session id: 16 bytes (128 bits) from the operating system's CSPRNG, or 32
/// bytes for an id issued before ids were shortened.
///
/// Its one text form is unpadded base64url (22 characters, or 43 for an old id; alphabet
/// `A-Z a-z 0-9 - _`); [`SessionId::parse`] accepts that form only. Equality is
/// constant-time (ids of different lengths are never equal). `Debug` prints only a short
/// prefix of the id's SHA-256, never the id.
///
/// The id itself is shared (`Arc`): a handle, a commit plan and a store call hold and
/// clone it by pointer, so the request's futures and session state that carry it stay
/// small (they are moved whole).
#[derive(Clone)]
pub struct SessionId(Arc<IdParts>);

/// The parts of a [`SessionId`].
#[derive(Clone)]
struct IdParts {
    bytes: [u8; SessionId::LEGACY_BYTES],
    text: [u8; SessionId::LEGACY_ENCODED_LEN],
    /// [`SessionId::BYTES`] or [`SessionId::LEGACY_BYTES`].
    len: u8,
    /// The store key, when computed ahead ([`SessionId::hashed`]): a request loads and
    /// saves under the same key, hashed once. (Not a `OnceLock`: its first initialization
    /// costs a synchronized call on every request.)
    key: Option<[u8; 32]>,
}

impl SessionId {
    /// Bytes of randomness in a new id.
    pub const BYTES: usize = 16;
    /// Length of the text form of a new id.
    pub const ENCODED_LEN: usize = 22;
    /// Bytes of an id of the previous format (still accepted).
    pub const LEGACY_BYTES: usize = 32;
    /// Length of the text form of an id of the previous format (still accepted).
    pub const LEGACY_ENCODED_LEN: usize = 43;

    /// A fresh id from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`RandomError`] when the operating system cannot supply random bytes.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; Self::BYTES];
        fill_random(&mut bytes)?;
        Ok(Self::from_slice(&bytes).unwrap_or_else(|| unreachable!("16 bytes is an id length")))
    }

    /// The id a periodic rotation of this id moves the session to, given the random
    /// `nonce` kept in the old id's forwarding record: the first [`SessionId::BYTES`] bytes
    /// of SHA-256 of a label, this id and the nonce. Only a holder of this id can compute it
    /// (the store keeps the id's hash, never the id), and only while the forwarding record
    /// exists.
    pub(crate) fn successor(&self, nonce: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"session-runtime rotation successor v1\0")
            .chain_update(self.as_bytes())
            .chain_update(nonce)
            .finalize();
        Self::from_slice(&digest[..Self::BYTES])
            .unwrap_or_else(|| unreachable!("16 bytes is an id length"))
    }

    /// The id made of `bytes` (as in [`SessionId::as_bytes`]); `None` unless `bytes` has
    /// [`SessionId::BYTES`] or [`SessionId::LEGACY_BYTES`] bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::BYTES && bytes.len() != Self::LEGACY_BYTES {
            return None;
        }
        let mut id = IdParts {
            bytes: [0; Self::LEGACY_BYTES],
            text: [0; Self::LEGACY_ENCODED_LEN],
            len: bytes.len() as u8,
            key: None,
        };
        id.bytes[..bytes.len()].copy_from_slice(bytes);
        // The text of 16 or 32 bytes fits (43 characters at most).
        base64url::encode(bytes, &mut id.text)?;
        Some(Self(Arc::new(id)))
    }

    /// The id's random bytes (16, or 32 for an id of the previous format).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes[..usize::from(self.0.len)]
    }

    fn text(&self) -> &[u8] {
        &self.0.text[..base64url::encoded_len(usize::from(self.0.len))]
    }

    /// Parses the canonical text form (as found in a cookie).
    ///
    /// # Errors
    /// [`IdError::Length`] when `text` is neither 22 nor 43 bytes long;
    /// [`IdError::Encoding`] when it uses characters outside the base64url alphabet,
    /// padding, or non-zero trailing bits (a second spelling of the same bytes).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        Self::parse_bytes(text.as_bytes())
    }

    /// [`parse`](Self::parse) of the text's bytes (as found in a `Cookie` header).
    pub(crate) fn parse_bytes(text: &[u8]) -> Result<Self, IdError> {
        let len = match text.len() {
            Self::ENCODED_LEN => Self::BYTES,
            Self::LEGACY_ENCODED_LEN => Self::LEGACY_BYTES,
            found => {
                return Err(IdError::Length {
                    expected: Self::ENCODED_LEN,
                    found,
                });
            }
        };
        let mut id = IdParts {
            bytes: [0; Self::LEGACY_BYTES],
            text: [0; Self::LEGACY_ENCODED_LEN],
            len: len as u8,
            key: None,
        };
        // Strict: no padding, URL alphabet only, trailing bits must be zero. So a text
        // that decodes is the one spelling we would write for those bytes (the tests check
        // that every other spelling is refused, and that the base64 engine agrees), and it
        // is kept as it came instead of being encoded again. (22 or 43 characters decode
        // to exactly 16 or 32 bytes.)
        if base64url::decode(text, &mut id.bytes[..len]) != Some(len) {
            return Err(IdError::Encoding);
        }
        id.text[..text.len()].copy_from_slice(text);
        Ok(Self(Arc::new(id)))
    }

    /// The text form, for the cookie value.
    pub fn as_str(&self) -> &str {
        // The text is base64url output: always ASCII.
        std::str::from_utf8(self.text()).unwrap_or_default()
    }

    /// The key under which server-side stores keep this session: SHA-256 of the id's bytes
    /// (16 bytes, or 32 for an id of the previous format).
    pub fn store_key(&self) -> StoreKey {
        StoreKey(
            self.0
                .key
                .unwrap_or_else(|| Sha256::digest(self.as_bytes()).into()),
        )
    }

    /// This id with its [store key](SessionId::store_key) computed and kept: the manager
    /// hashes an id it will look up once, and every clone (the loaded session's, the
    /// save's) reuses the key.
    pub(crate) fn hashed(mut self) -> Self {
        if self.0.key.is_none() {
            let key = Sha256::digest(self.as_bytes()).into();
            // Unshared right after `parse` or `generate`: no copy.
            Arc::make_mut(&mut self.0).key = Some(key);
        }
        self
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        // The lengths are not secret; the bytes are compared in constant time.
        self.0.len == other.0.len && bool::from(self.as_bytes().ct_eq(other.as_bytes()))
    }
}

impl Eq for SessionId {}

impl std::hash::Hash for SessionId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The store key's prefix identifies the session in logs without revealing the id.
        let key = self.store_key().to_hex();
        write!(f, "SessionId(sha256:{}..)", &key[..8])
    }
}

impl fmt::Display for SessionId {
    /// Writes the cookie value (the id itself: do not log it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The key of a record: SHA-256 of the session id, so a copy of the store holds no usable
/// cookie.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(pub [u8; 32]);

impl StoreKey {
    /// The key as 64 lower-case hex digits (for file names and logs).
    pub fn to_hex(&self) -> String {
        use std::fmt::Write;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not a secret, but keep logs short.
        write!(f, "StoreKey({}..)", &self.to_hex()[..12])
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::SessionId;
    use crate::base64url::{encode, encoded_len as base64_len};

    proptest! {
        /// The table encoder writes what the base64 engine writes, for every length up to
        /// an old id's (every tail length), and writes nothing past it.
        #[test]
        fn ids_are_encoded_as_the_engine_encodes(bytes in prop::collection::vec(any::<u8>(), 0..=32)) {
            let mut out = [b'.'; SessionId::LEGACY_ENCODED_LEN];
            encode(&bytes, &mut out);
            let len = base64_len(bytes.len());
            let engine = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(&out[..len], engine.as_bytes());
            prop_assert!(out[len..].iter().all(|&b| b == b'.'));
        }

        /// An id made from its bytes (as decoded from a cookie envelope) has the text the
        /// engine writes, and parses back to itself.
        #[test]
        fn ids_from_bytes_have_the_engines_text(
            bytes in prop_oneof![
                prop::collection::vec(any::<u8>(), SessionId::BYTES),
                prop::collection::vec(any::<u8>(), SessionId::LEGACY_BYTES),
            ]
        ) {
            let id = SessionId::from_slice(&bytes).unwrap();
            prop_assert_eq!(id.as_str(), URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(id.as_bytes(), &bytes[..]);
            prop_assert!(SessionId::parse(id.as_str()).unwrap() == id);
        }
    }
}
