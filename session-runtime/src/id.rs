//! Session ids: 256 bits from the operating system's CSPRNG, one canonical text form.
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

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::StoreKey;

/// The operating system's random number generator failed.
///
/// This is rare (an early-boot system without entropy, a sandbox forbidding the syscall);
/// the request or the start-up that needed randomness must fail rather than continue with
/// weak values.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::getrandom(buf).map_err(RandomError)
}

/// A session id string that is not the canonical encoding of a session id.
///
/// The message never repeats the offending value (it came from a client).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text does not have [`SessionId::ENCODED_LEN`] characters.
    #[error("session id must be {expected} characters long, found {found}")]
    Length {
        /// The required length.
        expected: usize,
        /// The length found (in bytes).
        found: usize,
    },
    /// The text has the right length but is not canonical unpadded base64url.
    #[error("session id is not canonical unpadded base64url")]
    Encoding,
}

/// An opaque session id: 32 bytes (256 bits) from the operating system's CSPRNG.
///
/// Its one text form is unpadded base64url (43 characters, alphabet `A-Z a-z 0-9 - _`);
/// [`SessionId::parse`] accepts that form only. Equality is constant-time. `Debug` prints
/// only a short prefix of the id's SHA-256, never the id.
#[derive(Clone)]
pub struct SessionId {
    bytes: [u8; SessionId::BYTES],
    text: [u8; SessionId::ENCODED_LEN],
}

impl SessionId {
    /// Bytes of randomness in an id.
    pub const BYTES: usize = 32;
    /// Length of the text form.
    pub const ENCODED_LEN: usize = 43;

    /// A fresh id from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`RandomError`] when the operating system cannot supply random bytes.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; Self::BYTES];
        fill_random(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The id a periodic rotation of this id moves the session to, given the random
    /// `nonce` kept in the old id's forwarding record: SHA-256 of a label, this id and the
    /// nonce. Only a holder of this id can compute it (the store keeps the id's hash, never
    /// the id), and only while the forwarding record exists.
    pub(crate) fn successor(&self, nonce: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"session-runtime rotation successor v1\0")
            .chain_update(self.bytes)
            .chain_update(nonce)
            .finalize();
        let mut bytes = [0u8; Self::BYTES];
        bytes.copy_from_slice(&digest);
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: [u8; Self::BYTES]) -> Self {
        let mut text = [0u8; Self::ENCODED_LEN];
        let written = URL_SAFE_NO_PAD
            .encode_slice(bytes, &mut text)
            .unwrap_or_default();
        debug_assert_eq!(written, Self::ENCODED_LEN);
        Self { bytes, text }
    }

    /// Parses the canonical text form (as found in a cookie).
    ///
    /// # Errors
    /// [`IdError::Length`] when `text` is not 43 bytes long; [`IdError::Encoding`] when it
    /// uses characters outside the base64url alphabet, padding, or non-zero trailing bits
    /// (a second spelling of the same bytes).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        if text.len() != Self::ENCODED_LEN {
            return Err(IdError::Length {
                expected: Self::ENCODED_LEN,
                found: text.len(),
            });
        }
        let mut bytes = [0u8; Self::BYTES];
        // The engine is strict: no padding, URL alphabet only, trailing bits must be zero.
        match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut bytes) {
            Ok(Self::BYTES) => {}
            _ => return Err(IdError::Encoding),
        }
        let id = Self::from_bytes(bytes);
        // Belt and braces: the only accepted spelling is the one we would write.
        if id.text != text.as_bytes() {
            return Err(IdError::Encoding);
        }
        Ok(id)
    }

    /// The text form, for the cookie value.
    pub fn as_str(&self) -> &str {
        // The text is base64url output: always ASCII.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The key under which server-side stores keep this session: SHA-256 of the id's bytes.
    pub fn store_key(&self) -> StoreKey {
        StoreKey(Sha256::digest(self.bytes).into())
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for SessionId {}

impl std::hash::Hash for SessionId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
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
