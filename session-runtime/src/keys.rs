//! Secret keys: a primary key that seals every new value, and fallback keys still accepted.
//!
//! A [`Key`] holds at least [`Key::MIN_SECRET_LEN`] (32) bytes of secret, from which HKDF-SHA256
//! derives one subkey for signing (HMAC-SHA256), one for encryption (AES-256-GCM) and a
//! public 4-byte key id that sealed values carry so the right key is tried first. Key types
//! never print a secret: their `Debug` shows the key id only.
//!
//! # Derivation
//!
//! HKDF-SHA256 with the salt `session-toolkit key derivation v1` and the secret as input
//! key material expands three outputs, each under its own info string:
//! `session-toolkit v1 hmac-sha256 signing` (32 bytes), `session-toolkit v1 aes-256-gcm
//! encryption` (32 bytes) and `session-toolkit v1 key id` (4 bytes). Changing any of these
//! would invalidate every session, so they are fixed for format version 1.
//!
//! # Text form
//!
//! Keys come from environment variables or a key file ([`Keys::from_source`]). Each key is
//! written either as
//! - `base64:<standard or url-safe base64, padding optional>`, decoding to at least 32 bytes
//!   (recommended; [`Key::generate_text`] writes this form from 32 random bytes), or
//! - raw text of at least 32 bytes, used as-is (its UTF-8 bytes are the secret; a
//!   passphrase has less entropy per byte than random bytes, so prefer the `base64:` form).
//!
//! A key in text form must also look like a secret: a `base64:` prefix written another way
//! (`BASE64:`, `base64;`, `base64 `) is refused instead of being taken as a raw
//! passphrase, and a secret with too little variety (32 times `a`, `abab...`, a short
//! pattern repeated: an empirical entropy under [`MIN_TEXT_ENTROPY_BITS`] bits) is
//! refused ([`KeyError::LowEntropy`]). Errors name where the key came from, never the key.
//!
//! An *empty* (or whitespace-only) key variable is an error ([`KeyError::Empty`]), like an
//! unset one ([`KeyError::Missing`]); a program may start with a random, ephemeral key
//! instead only when the development switch [`EPHEMERAL_SWITCH`] (`SESSION_EPHEMERAL_KEY=true`)
//! is set and the variable is unset ([`Keys::from_source_or_ephemeral`]).
//!
//! # Nonce budget (AES-256-GCM)
//!
//! Encrypted cookies and records encrypted at rest use AES-256-GCM with a random 96-bit
//! nonce per sealed value. The chance that two values sealed under one key share a nonce
//! (which would reveal their XOR and allow forgeries under that key) stays below 2^-32
//! as long as a key seals at most 2^32 values (NIST SP 800-38D). Every write of an
//! encrypted session seals anew, so count writes, not sessions: at 1,000 writes a second a
//! key reaches 2^32 after about 50 days. **Rotate the primary key well before that**
//! (for example monthly on a busy site): make the new key primary and keep the old one as
//! a fallback for one session lifetime ([`Keys`]), then remove it. Signed cookies
//! (HMAC-SHA256) have no such budget.
//!
//! Surrounding whitespace (including the trailing newline of a file) is trimmed. In a key
//! file, the first key line is the primary key and every following key line is a fallback;
//! blank lines and lines starting with `#` are skipped (write a raw key that starts with `#`
//! in the `base64:` form).
//!
//! ```
//! use session_runtime::keys::{Key, KeyError, Keys};
//! use session_runtime::spec::settings::KeySource;
//!
//! let source = KeySource { env: "APP_KEY".into(), fallback_env: vec!["APP_KEY_OLD".into()], file: None };
//! let keys = Keys::from_lookup(&source, |var| match var {
//!     "APP_KEY" => Some("base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8".into()),
//!     "APP_KEY_OLD" => Some("an old passphrase of at least thirty-two bytes".into()),
//!     _ => None,
//! }).unwrap();
//! assert_eq!(keys.len(), 2);
//!
//! // Errors name the variable, never the value.
//! let err = Keys::from_lookup(&source, |_| Some("tiny-secret".into())).unwrap_err();
//! assert!(matches!(err, KeyError::TooShort { len: 11, .. }));
//! assert!(err.to_string().contains("`APP_KEY`"));
//! assert!(!err.to_string().contains("tiny"));
//!
//! // Debug prints no secret.
//! let key = Key::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
//! assert!(!format!("{key:?}").contains("0123"));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::random::{RandomError, fill_random};
use session_spec::settings::KeySource;

/// The prefix of the base64 text form of a key.
pub const BASE64_PREFIX: &str = "base64:";

/// The least empirical entropy (in bits: the Shannon entropy of the secret's byte
/// frequencies times its length) a key in text form must have. 32 random bytes have about
/// 150; 32 times the same character has 0.
pub const MIN_TEXT_ENTROPY_BITS: f64 = 96.0;

/// The development switch: with `SESSION_EPHEMERAL_KEY=true` (or `1`, `yes`, `on`), a
/// program whose key variable is unset starts with a random key that lives as long as the
/// process ([`Keys::from_source_or_ephemeral`]). Never set it in production: every restart
/// ends every session.
pub const EPHEMERAL_SWITCH: &str = "SESSION_EPHEMERAL_KEY";

/// HKDF salt: fixes the derivation to this library and format generation.
const HKDF_SALT: &[u8] = b"session-toolkit key derivation v1";
const INFO_SIGNING: &[u8] = b"session-toolkit v1 hmac-sha256 signing";
const INFO_ENCRYPTION: &[u8] = b"session-toolkit v1 aes-256-gcm encryption";
const INFO_KEY_ID: &[u8] = b"session-toolkit v1 key id";

/// What can go wrong when loading keys. Messages name where a key came from (a variable, a
/// file and line), never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key has fewer than [`Key::MIN_SECRET_LEN`] bytes of secret.
    #[error(
        "session key from {origin} has {len} bytes of secret, at least {min} are required \
         (generate one with 32 random bytes, written as `base64:...`)"
    )]
    TooShort {
        /// Where the key came from (e.g. ``environment variable `SESSION_KEY` ``).
        origin: String,
        /// The secret's length in bytes.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// An environment variable that should hold a key is not set.
    #[error(
        "environment variable `{var}` holding a session key is not set (for a development \
         run only, `SESSION_EPHEMERAL_KEY=true` starts with a throw-away key)"
    )]
    Missing {
        /// The variable's name.
        var: String,
    },
    /// An environment variable that should hold a key is set but empty (or whitespace).
    #[error(
        "environment variable `{var}` holding a session key is empty; set it to a key \
         (`base64:` and 32 random bytes), or unset it and set `SESSION_EPHEMERAL_KEY=true` \
         for a development run"
    )]
    Empty {
        /// The variable's name.
        var: String,
    },
    /// A key in text form has too little variety to be a secret.
    #[error(
        "session key from {origin} looks too simple to be a secret (about {bits} bits of \
         entropy, at least {min} required); generate one with 32 random bytes, written as \
         `base64:...`"
    )]
    LowEntropy {
        /// Where the key came from.
        origin: String,
        /// The estimated entropy in bits.
        bits: u32,
        /// The minimum.
        min: u32,
    },
    /// A key in text form starts with a mistyped `base64:` prefix.
    #[error(
        "session key from {origin} starts with a mistyped `base64:` prefix (write exactly \
         `base64:` in lower case, followed by the base64 text)"
    )]
    MistypedPrefix {
        /// Where the key came from.
        origin: String,
    },
    /// An environment variable holding a key is not valid Unicode.
    #[error("environment variable `{var}` holding a session key is not valid unicode")]
    NotUnicode {
        /// The variable's name.
        var: String,
    },
    /// A `base64:` key does not decode.
    #[error("session key from {origin} starts with `base64:` but is not valid base64")]
    InvalidBase64 {
        /// Where the key came from.
        origin: String,
    },
    /// The key file cannot be read.
    #[error("cannot read session key file `{path}`: {source}")]
    File {
        /// The file's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No random key could be drawn for an ephemeral key.
    #[error("no random session key could be drawn: {0}")]
    Random(String),
    /// The key file holds no key line.
    #[error("session key file `{path}` holds no key")]
    EmptyFile {
        /// The file's path.
        path: PathBuf,
    },
}

/// Result alias of key loading.
pub type Result<T, E = KeyError> = std::result::Result<T, E>;

/// The public id of a key: 4 bytes derived from the secret with HKDF (revealing nothing
/// about it), carried in sealed values so that the right key is tried first.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 4]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One secret key and its derived subkeys.
///
/// Equality compares the derived material in constant time. `Debug` prints the public key
/// id only.
#[derive(Clone)]
pub struct Key {
    signing: [u8; 32],
    encryption: [u8; 32],
    id: KeyId,
}

impl Key {
    /// The minimum length of a secret, in bytes.
    pub const MIN_SECRET_LEN: usize = 32;

    /// A key from secret bytes.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] when `secret` has fewer than 32 bytes.
    pub fn from_secret(secret: &[u8]) -> Result<Self> {
        Self::from_secret_at(secret, "the given secret")
    }

    fn from_secret_at(secret: &[u8], origin: &str) -> Result<Self> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(KeyError::TooShort {
                origin: origin.to_owned(),
                len: secret.len(),
                min: Self::MIN_SECRET_LEN,
            });
        }
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret);
        let mut signing = [0u8; 32];
        let mut encryption = [0u8; 32];
        let mut id = [0u8; 4];
        // Output lengths far below HKDF-SHA256's 8160-byte limit cannot fail.
        for (info, out) in [
            (INFO_SIGNING, &mut signing[..]),
            (INFO_ENCRYPTION, &mut encryption[..]),
            (INFO_KEY_ID, &mut id[..]),
        ] {
            hk.expand(info, out)
                .expect("HKDF output length is within limits");
        }
        Ok(Self {
            signing,
            encryption,
            id: KeyId(id),
        })
    }

    /// Parses the text form: `base64:...` or raw text, at least 32 bytes of secret either
    /// way; surrounding whitespace is trimmed.
    ///
    /// # Errors
    /// [`KeyError::InvalidBase64`], [`KeyError::TooShort`]; `origin` (where the text came
    /// from, e.g. ``environment variable `SESSION_KEY` ``) goes into the message.
    ///
    /// [`KeyError::MistypedPrefix`] when the text starts with `base64` written otherwise
    /// than `base64:`; [`KeyError::LowEntropy`] when the secret has less than
    /// [`MIN_TEXT_ENTROPY_BITS`] of empirical entropy.
    ///
    /// ```
    /// use session_runtime::keys::{Key, KeyError};
    /// assert!(matches!(Key::from_text(&"a".repeat(32), "test"), Err(KeyError::LowEntropy { .. })));
    /// assert!(matches!(
    ///     Key::from_text("BASE64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "test"),
    ///     Err(KeyError::MistypedPrefix { .. })
    /// ));
    /// ```
    pub fn from_text(text: &str, origin: &str) -> Result<Self> {
        let text = text.trim();
        let secret = match text.strip_prefix(BASE64_PREFIX) {
            Some(b64) => decode_base64(b64.trim()).ok_or_else(|| KeyError::InvalidBase64 {
                origin: origin.to_owned(),
            })?,
            None if text
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("base64")) =>
            {
                return Err(KeyError::MistypedPrefix {
                    origin: origin.to_owned(),
                });
            }
            None => text.as_bytes().to_vec(),
        };
        if secret.len() >= Self::MIN_SECRET_LEN {
            let bits = entropy_bits(&secret);
            if bits < MIN_TEXT_ENTROPY_BITS {
                return Err(KeyError::LowEntropy {
                    origin: origin.to_owned(),
                    bits: bits as u32,
                    min: MIN_TEXT_ENTROPY_BITS as u32,
                });
            }
        }
        Self::from_secret_at(&secret, origin)
    }

    /// A fresh key from 32 random bytes (for tests and development).
    ///
    /// # Panics
    /// When the operating system's random number generator fails; use
    /// [`Key::try_generate`] to handle that.
    pub fn generate() -> Self {
        Self::try_generate().expect("the operating system's random number generator failed")
    }

    /// A fresh key from 32 random bytes.
    ///
    /// # Errors
    /// [`RandomError`] when the operating system cannot supply random bytes.
    pub fn try_generate() -> std::result::Result<Self, RandomError> {
        let mut secret = [0u8; 32];
        fill_random(&mut secret)?;
        Ok(Self::from_secret(&secret).expect("32 bytes is long enough"))
    }

    /// The text form (`base64:...`) of 32 fresh random bytes, for a key file or an
    /// environment variable.
    ///
    /// # Errors
    /// [`RandomError`] when the operating system cannot supply random bytes.
    ///
    /// ```
    /// use session_runtime::keys::Key;
    /// let text = Key::generate_text().unwrap();
    /// assert!(text.starts_with("base64:"));
    /// assert!(Key::from_text(&text, "test").is_ok());
    /// ```
    pub fn generate_text() -> std::result::Result<String, RandomError> {
        let mut secret = [0u8; 32];
        fill_random(&mut secret)?;
        Ok(format!(
            "{BASE64_PREFIX}{}",
            general_purpose::URL_SAFE_NO_PAD.encode(secret)
        ))
    }

    /// The public key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// A 32-byte subkey for an application `purpose` (for example signing the CSRF tokens
    /// of anonymous visitors): HMAC-SHA256 under the signing subkey of
    /// `session-toolkit v1 derive`, a zero byte and `purpose`. Different purposes give
    /// unrelated subkeys, and none of them reveals the session subkeys.
    ///
    /// ```
    /// use session_runtime::keys::Key;
    /// let key = Key::generate();
    /// assert_eq!(key.derive(b"csrf"), key.derive(b"csrf"));
    /// assert_ne!(key.derive(b"csrf"), key.derive(b"other"));
    /// ```
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing)
            .expect("HMAC takes keys of any length");
        mac.update(b"session-toolkit v1 derive\0");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }

    /// The HMAC-SHA256 subkey.
    pub(crate) fn signing_key(&self) -> &[u8; 32] {
        &self.signing
    }

    /// The AES-256-GCM subkey.
    pub(crate) fn encryption_key(&self) -> &[u8; 32] {
        &self.encryption
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        (self.signing.ct_eq(&other.signing) & self.encryption.ct_eq(&other.encryption)).into()
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key {{ id: {}, secret: <redacted> }}", self.id)
    }
}

/// The empirical entropy of `secret` in bits: the Shannon entropy of its byte frequencies
/// times its length. A cheap screen against keys such as 32 times `a` or `abab...`, not a
/// proof of randomness.
fn entropy_bits(secret: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in secret {
        counts[b as usize] += 1;
    }
    let n = secret.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    per_byte * n
}

/// Decodes standard or url-safe base64, padded or not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

/// The keys in use: the primary key seals every new value; fallback keys (older keys being
/// rotated out) are still accepted, and a value accepted under one is re-issued under the
/// primary. A key removed from the list is refused.
///
/// ```
/// use session_runtime::keys::{Key, Keys};
/// let old = Key::generate();
/// let keys = Keys::new(Key::generate(), vec![old.clone()]);
/// assert_eq!(keys.get(1), Some(&old));
/// assert_eq!(keys.iter().count(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The key that seals new values.
    pub primary: Key,
    /// Older keys still accepted, most recent first.
    pub fallbacks: Vec<Key>,
}

impl Keys {
    /// Keys from a primary key and fallbacks.
    pub fn new(primary: Key, fallbacks: Vec<Key>) -> Self {
        Self { primary, fallbacks }
    }

    /// One primary key and no fallbacks.
    pub fn single(primary: Key) -> Self {
        Self::new(primary, Vec::new())
    }

    /// A fresh random primary key and no fallbacks (for tests and development; never use
    /// it in production, where every restart would log everyone out).
    ///
    /// # Panics
    /// When the operating system's random number generator fails.
    pub fn generate() -> Self {
        Self::single(Key::generate())
    }

    /// The number of keys (primary included).
    #[allow(clippy::len_without_is_empty)] // there is always a primary key
    pub fn len(&self) -> usize {
        1 + self.fallbacks.len()
    }

    /// The key at `index`: 0 is the primary, 1.. the fallbacks in order.
    pub fn get(&self, index: usize) -> Option<&Key> {
        match index {
            0 => Some(&self.primary),
            i => self.fallbacks.get(i - 1),
        }
    }

    /// The keys in order of preference, primary first.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.primary).chain(&self.fallbacks)
    }

    /// Loads the keys a [`KeySource`] names: from its `file` when set, else from the
    /// environment variables `env` (primary) and `fallback_env`.
    ///
    /// # Errors
    /// [`KeyError::Missing`] when a variable is unset, [`KeyError::Empty`] when it is empty, [`KeyError::NotUnicode`],
    /// [`KeyError::File`], [`KeyError::EmptyFile`], and the errors of [`Key::from_text`].
    pub fn from_source(source: &KeySource) -> Result<Self> {
        if let Some(path) = &source.file {
            return Self::from_file(path);
        }
        Self::from_env_with(source, |var| match std::env::var(var) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(KeyError::NotUnicode {
                var: var.to_owned(),
            }),
        })
    }

    /// Like [`Keys::from_source`], but when the primary key variable is unset (not empty),
    /// no key file is configured and `allow_ephemeral` is true, a fresh random key that
    /// lives as long as the process (the second value is then `true`; announce it). Pass
    /// [`ephemeral_switch_on`] for `allow_ephemeral` unless the program is a demo.
    ///
    /// # Errors
    /// As [`Keys::from_source`]; a missing key without `allow_ephemeral` is
    /// [`KeyError::Missing`]; [`KeyError::Random`] when no random key can be drawn.
    pub fn from_source_or_ephemeral(
        source: &KeySource,
        allow_ephemeral: bool,
    ) -> Result<(Self, bool)> {
        match Self::from_source(source) {
            Ok(keys) => Ok((keys, false)),
            Err(KeyError::Missing { var })
                if allow_ephemeral && var == source.env && source.file.is_none() =>
            {
                let key = Key::try_generate().map_err(|e| KeyError::Random(e.to_string()))?;
                Ok((Self::single(key), true))
            }
            Err(other) => Err(other),
        }
    }

    /// Like [`Keys::from_source`], reading variables through `lookup` instead of the process
    /// environment (for tests: changing the environment is unsafe in a threaded program).
    ///
    /// # Errors
    /// As [`Keys::from_source`].
    pub fn from_lookup(
        source: &KeySource,
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<Self> {
        if let Some(path) = &source.file {
            return Self::from_file(path);
        }
        Self::from_env_with(source, |var| Ok(lookup(var)))
    }

    fn from_env_with(
        source: &KeySource,
        mut lookup: impl FnMut(&str) -> Result<Option<String>>,
    ) -> Result<Self> {
        let mut load = |var: &str| -> Result<Key> {
            match lookup(var)? {
                Some(text) if !text.trim().is_empty() => {
                    Key::from_text(&text, &format!("environment variable `{var}`"))
                }
                Some(_) => Err(KeyError::Empty {
                    var: var.to_owned(),
                }),
                None => Err(KeyError::Missing {
                    var: var.to_owned(),
                }),
            }
        };
        let primary = load(&source.env)?;
        let fallbacks = source
            .fallback_env
            .iter()
            .map(|var| load(var))
            .collect::<Result<_>>()?;
        Ok(Self::new(primary, fallbacks))
    }

    /// Loads a key file: the first key line is the primary key, the next ones fallbacks;
    /// blank lines and `#` comments are skipped.
    ///
    /// # Errors
    /// [`KeyError::File`], [`KeyError::EmptyFile`], and the errors of [`Key::from_text`]
    /// (naming the file and line).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::File {
            path: path.to_owned(),
            source,
        })?;
        Self::from_file_text(&text, path)
    }

    /// Parses the contents of a key file; `path` only goes into messages.
    ///
    /// # Errors
    /// As [`Keys::from_file`], except [`KeyError::File`].
    pub fn from_file_text(text: &str, path: &Path) -> Result<Self> {
        let mut keys = text
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                let line = line.trim();
                !line.is_empty() && !line.starts_with('#')
            })
            .map(|(n, line)| {
                Key::from_text(line, &format!("line {} of `{}`", n + 1, path.display()))
            });
        let primary = keys.next().ok_or_else(|| KeyError::EmptyFile {
            path: path.to_owned(),
        })??;
        let fallbacks = keys.collect::<Result<_>>()?;
        Ok(Self::new(primary, fallbacks))
    }
}

/// Whether the development switch [`EPHEMERAL_SWITCH`] is on in the process environment
/// (`true`, `1`, `yes` or `on`, any case).
pub fn ephemeral_switch_on() -> bool {
    std::env::var(EPHEMERAL_SWITCH).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        )
    })
}
