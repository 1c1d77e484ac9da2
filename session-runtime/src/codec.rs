//! Sealing values with the session keys: signed (HMAC-SHA256) or encrypted (AES-256-GCM).
//!
//! A [`Codec`] turns bytes into a sealed value and back. Sealing always uses the primary
//! key; opening accepts the primary key and every fallback key, and reports which one
//! ([`Opened::key_index`], `> 0` means "re-issue under the primary"). A value sealed with a
//! key that is no longer configured is refused.
//!
//! Every sealed value is bound to a [`CodecContext`]: for a cookie, its name and the
//! schema's name; for a record at rest, where the store keeps it. A value moved to another
//! cookie, schema or record fails authentication. The schema's *version* is deliberately
//! not bound: a new schema version must not log everyone out; schema evolution upgrades
//! the data instead.
//!
//! # Format (version 2, written)
//!
//! Binary layout, then unpadded base64url for cookies ([`Codec::seal`]) or raw bytes for
//! files ([`Codec::seal_bytes`]):
//!
//! - signed: `header (0x12) | key hint (1) | payload | HMAC-SHA256 tag, first 16 bytes`,
//!   the MAC taken over `header | key hint | context | payload` (so the client can read the
//!   payload but not change it);
//! - encrypted: `header (0x22) | key hint (1) | nonce (12) | ciphertext | GCM tag (16)`,
//!   with `header | key hint | context` as associated data and a random 96-bit nonce per
//!   value.
//!
//! The header byte carries the mode and the format version; the context is encoded as
//! length-prefixed parts, so no two contexts give the same bytes. The key hint is the first
//! byte of the sealing key's [`KeyId`]: opening tries every configured key with that first
//! byte (usually one), so two keys that share it cost one extra attempt, never a wrong
//! answer. The signed tag is HMAC-SHA256 truncated to its first 128 bits, as RFC 2104 and
//! RFC 4868 allow: a forgery still takes about 2^128 attempts, the strength of the GCM tag
//! of the encrypted mode. Verification is constant-time (`Mac::verify_truncated_left`,
//! `Mac::verify_slice`, the GCM tag check). AES-GCM with random nonces is safe for about
//! 2^32 values per key: rotate keys long before that.
//!
//! # Cost
//!
//! A writing request of a cookie session opens one value (its cookie) and seals one (the
//! new cookie). For the benchmark's counter session (43 bytes of payload, an 82-character
//! signed value) that is about 0.23 µs to open and 0.23 µs to seal a signed value, 0.22 µs
//! and 0.30 µs for an encrypted one (`bench/http` `codecbench`, pinned to one core of the
//! 2-core benchmark VM, 2026-11-30; SHA-256 and AES run on the CPU's SHA and AES
//! instructions). A signed value takes three SHA-256 compressions to seal or to open: two
//! for the inner hash of `header | key hint | context | payload` (77 bytes here, after the
//! key's block, which is hashed once per key in [`Codec::new`]) and one for the outer hash.
//! Instruction counts under valgrind (`httpbench --instructions`) overstate the signed
//! mode: valgrind has no SHA instructions, and the portable SHA-256 takes about 3,500
//! instructions a compression.
//!
//! # Nonces
//!
//! The 96-bit nonces come from a ChaCha20 generator per thread, seeded with 256 bits from
//! the operating system (`getrandom`) at the thread's first seal and reseeded after every
//! 64 KiB it has given out (about 5,400 nonces), instead of a `getrandom` system call per
//! seal (about 0.6 µs each on the benchmark machine, a measurable share of a request). A
//! nonce only has to be unique under its key; ChaCha20's output cannot be told apart from
//! uniform random bits without its seed, so the birthday bound above is unchanged, and a
//! nonce reveals nothing about the generator's state. A seed the operating system cannot
//! supply is a [`CodecError::Random`], as before. (actix-session draws its nonces from
//! `rand`'s `ThreadRng`, the same construction with 12 rounds.)
//!
//! ## Security
//!
//! A process that `fork`s after sealing copies the forking thread's generator into the
//! child: parent and child would then draw the same nonces until their next reseed. Do not
//! seal in a forked child of a process that has sealed (servers built on tokio or
//! actix-web do not fork after start-up).
//!
//! # Format (version 1, still opened)
//!
//! Values sealed before version 2 keep opening until they expire: the same layout with the
//! full 4-byte key id instead of the hint, and the signed mode with the whole 32-byte
//! HMAC-SHA256 tag (headers `0x11` and `0x21`). Nothing is sealed in it any more.
//!
//! ```
//! use session_runtime::codec::{Codec, CodecContext, CodecError};
//! use session_runtime::keys::{Key, Keys};
//! use session_runtime::spec::settings::CookieMode;
//!
//! let (old, new) = (Key::generate(), Key::generate());
//! let ctx = CodecContext::cookie("session", "shop");
//!
//! // A cookie sealed under the old key...
//! let before = Codec::new(CookieMode::Encrypted, Keys::single(old.clone()));
//! let value = before.seal(&ctx, b"{\"cart\":[]}").unwrap();
//!
//! // ...is still accepted once the old key becomes a fallback, and flagged for re-issue.
//! let after = Codec::new(CookieMode::Encrypted, Keys::new(new.clone(), vec![old]));
//! let opened = after.open(&ctx, &value).unwrap();
//! assert_eq!(opened.plaintext, b"{\"cart\":[]}");
//! assert_eq!(opened.key_index, 1);
//!
//! // Bound to its cookie name and schema; refused once the old key is removed (as an
//! // unknown key, or as failing authentication when the keys' ids share a first byte).
//! let other = CodecContext::cookie("other", "shop");
//! assert!(matches!(after.open(&other, &value), Err(CodecError::Authentication)));
//! let removed = Codec::new(CookieMode::Encrypted, Keys::single(new));
//! assert!(matches!(
//!     removed.open(&ctx, &value),
//!     Err(CodecError::UnknownKey(_) | CodecError::Authentication)
//! ));
//! ```

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::base64url;
use crate::keys::{KeyId, Keys};
use crate::random::RandomError;
use session_spec::settings::CookieMode;

/// The format version written, in the low nibble of the header byte (version 1 is still
/// opened).
pub const FORMAT_VERSION: u8 = 2;
const HEADER_SIGNED: u8 = 0x10 | FORMAT_VERSION;
const HEADER_ENCRYPTED: u8 = 0x20 | FORMAT_VERSION;
const HEADER_SIGNED_V1: u8 = 0x11;
const HEADER_ENCRYPTED_V1: u8 = 0x21;
const KEY_ID_LEN: usize = 4;
/// Header and key hint (version 2).
const PREFIX_LEN: usize = 2;
/// Header and key id (version 1).
const PREFIX_LEN_V1: usize = 1 + KEY_ID_LEN;
/// The signed tag: HMAC-SHA256 truncated to 128 bits (version 2).
const MAC_LEN: usize = 16;
/// The whole HMAC-SHA256 tag (version 1).
const MAC_LEN_V1: usize = 32;
const NONCE_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;

/// The longest sealed cookie value accepted or produced: a browser keeps at most
/// [`MAX_COOKIE_BYTES`](session_spec::budget::MAX_COOKIE_BYTES) (4096) bytes of cookie name
/// and value, so nothing longer can be one of ours. Longer input is refused before decoding.
pub const MAX_VALUE_LEN: usize = session_spec::budget::MAX_COOKIE_BYTES;

/// The most bytes a cookie value of [`MAX_VALUE_LEN`] characters decodes to (the size of
/// the stack buffer a cookie is sealed and opened in).
const MAX_VALUE_BYTES: usize = MAX_VALUE_LEN / 4 * 3 + 3;

/// The stack buffer of a small cookie (a counter session seals to about 70 bytes).
const SMALL_VALUE_BYTES: usize = 256;

/// The stack buffer of a medium cookie (a few hundred bytes of data).
const MEDIUM_VALUE_BYTES: usize = 1024;

/// Runs `f` on a zeroed buffer on the stack of at least `len` (at most
/// [`MAX_VALUE_BYTES`]) bytes: a small one for the usual small cookie (zeroing 3 KiB costs
/// more than sealing a counter), the largest for the rest.
fn on_stack<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    debug_assert!(len <= MAX_VALUE_BYTES);
    if len <= SMALL_VALUE_BYTES {
        f(&mut [0u8; SMALL_VALUE_BYTES])
    } else if len <= MEDIUM_VALUE_BYTES {
        f(&mut [0u8; MEDIUM_VALUE_BYTES])
    } else {
        f(&mut [0u8; MAX_VALUE_BYTES])
    }
}

/// The largest sealed byte string ([`Codec::seal_bytes`], [`Codec::open_bytes`]).
pub const MAX_BYTES_LEN: usize = 16 * 1024 * 1024;

/// Why a sealed value was refused (or could not be made). Messages never repeat the value.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Not a sealed value of this codec's mode and format: bad base64, too short, another
    /// mode or format version.
    #[error("sealed value is malformed: {0}")]
    Malformed(&'static str),
    /// The signature or the GCM tag does not verify: the value was changed, forged, or
    /// sealed for another cookie name, schema or record.
    #[error("sealed value failed authentication (changed, forged, or bound to another context)")]
    Authentication,
    /// The value names a key that is not configured (removed, or never ours). For a value of
    /// format version 2, which carries only the first byte of the key id, the other three
    /// bytes are zero; and a removed key whose first byte is shared by a configured key
    /// gives [`CodecError::Authentication`] instead.
    #[error("sealed value was made with a key that is not configured (key id {0})")]
    UnknownKey(KeyId),
    /// The input (or, when sealing, the output) exceeds the limit; nothing was decoded.
    #[error("sealed value of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// No random nonce could be drawn.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Result alias of the codec.
pub type Result<T, E = CodecError> = std::result::Result<T, E>;

/// An opened value. `Debug` shows the payload's length, not its content.
#[derive(Clone, PartialEq, Eq)]
pub struct Opened {
    /// The payload.
    pub plaintext: Vec<u8>,
    /// The key that opened it: 0 is the primary; above 0 a fallback, so the caller should
    /// re-issue the value under the primary key.
    pub key_index: usize,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext_len", &self.plaintext.len())
            .field("key_index", &self.key_index)
            .finish()
    }
}

impl Opened {
    /// Whether the value was sealed under a fallback key and should be re-issued.
    pub fn needs_reissue(&self) -> bool {
        self.key_index > 0
    }
}

/// What a sealed value is bound to. Build it once (it is cheap to reuse).
///
/// ```
/// use session_runtime::codec::CodecContext;
/// assert_ne!(CodecContext::cookie("ab", "c"), CodecContext::cookie("a", "bc"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecContext {
    bound: Vec<u8>,
}

impl CodecContext {
    /// A session cookie: its name (prefix included, e.g. `__Host-session`) and the schema's
    /// name.
    pub fn cookie(cookie_name: &str, schema_name: &str) -> Self {
        Self::from_parts(&[b"cookie", cookie_name.as_bytes(), schema_name.as_bytes()])
    }

    /// A record sealed at rest by a server-side store, bound to the store's associated data
    /// (the record's key, version and expiry; see [`crate::store::Sealer`]).
    pub fn record(aad: &[u8]) -> Self {
        Self::from_parts(&[b"record", aad])
    }

    fn from_parts(parts: &[&[u8]]) -> Self {
        let mut bound = Vec::with_capacity(parts.iter().map(|p| 4 + p.len()).sum());
        for part in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            bound.extend_from_slice(&len.to_be_bytes());
            bound.extend_from_slice(part);
        }
        Self { bound }
    }
}

/// One key, prepared for both modes.
#[derive(Clone)]
struct Prepared {
    id: KeyId,
    mac: Hmac<Sha256>,
    aead: Aes256Gcm,
}

/// Seals and opens values with the session keys, in one [`CookieMode`].
///
/// Cheap to clone (the prepared keys are shared). `Debug` shows the mode and key ids only.
#[derive(Clone)]
pub struct Codec {
    mode: CookieMode,
    keys: Arc<[Prepared]>,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("mode", &self.mode)
            .field(
                "key_ids",
                &self.keys.iter().map(|k| k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Codec {
    /// A codec sealing under `keys.primary` and accepting every key of `keys`.
    pub fn new(mode: CookieMode, keys: Keys) -> Self {
        let keys = keys
            .iter()
            .map(|key| Prepared {
                id: key.id(),
                mac: <Hmac<Sha256> as Mac>::new_from_slice(key.signing_key())
                    .expect("HMAC accepts keys of any length"),
                aead: Aes256Gcm::new(key.encryption_key().into()),
            })
            .collect();
        Self { mode, keys }
    }

    /// The mode.
    pub fn mode(&self) -> CookieMode {
        self.mode
    }

    /// The length of the sealed cookie value for a payload of `plaintext_len` bytes.
    pub fn sealed_len(&self, plaintext_len: usize) -> usize {
        base64url::encoded_len(self.sealed_bytes_len(plaintext_len))
    }

    fn sealed_bytes_len(&self, plaintext_len: usize) -> usize {
        let overhead = match self.mode {
            CookieMode::Signed => PREFIX_LEN + MAC_LEN,
            CookieMode::Encrypted => PREFIX_LEN + NONCE_LEN + GCM_TAG_LEN,
        };
        plaintext_len.saturating_add(overhead)
    }

    /// Seals `plaintext` under the primary key into a cookie value (unpadded base64url).
    ///
    /// Allocates only the returned value: the sealed bytes are built on the stack.
    ///
    /// # Errors
    /// [`CodecError::TooLarge`] when the value would exceed [`MAX_VALUE_LEN`];
    /// [`CodecError::Random`] when no nonce can be drawn (encrypted mode).
    pub fn seal(&self, ctx: &CodecContext, plaintext: &[u8]) -> Result<String> {
        let mut value = String::with_capacity(self.sealed_len(plaintext.len()));
        self.seal_into(ctx, plaintext, &mut value)?;
        Ok(value)
    }

    /// Seals `plaintext` as [`Codec::seal`] does, appending the value to `out` (a
    /// `Set-Cookie` header being built) instead of allocating it; `out` is unchanged on
    /// error.
    ///
    /// # Errors
    /// As [`Codec::seal`].
    pub fn seal_into(&self, ctx: &CodecContext, plaintext: &[u8], out: &mut String) -> Result<()> {
        let size = self.sealed_len(plaintext.len());
        if size > MAX_VALUE_LEN {
            return Err(CodecError::TooLarge {
                size,
                max: MAX_VALUE_LEN,
            });
        }
        let len = self.sealed_bytes_len(plaintext.len());
        on_stack(len, |buf| {
            self.seal_in(ctx, plaintext, &mut buf[..len], out)
        })
    }

    fn seal_in(
        &self,
        ctx: &CodecContext,
        plaintext: &[u8],
        sealed: &mut [u8],
        out: &mut String,
    ) -> Result<()> {
        self.seal_raw(ctx, plaintext, sealed)?;
        URL_SAFE_NO_PAD.encode_string(sealed, out);
        Ok(())
    }

    /// Opens a cookie value.
    ///
    /// Allocates only the returned plaintext (see [`Codec::open_with`] for none).
    ///
    /// # Errors
    /// [`CodecError::TooLarge`] (checked before decoding), [`CodecError::Malformed`],
    /// [`CodecError::UnknownKey`], [`CodecError::Authentication`]. Never panics, whatever
    /// the input.
    pub fn open(&self, ctx: &CodecContext, value: &str) -> Result<Opened> {
        self.open_with(ctx, value, |plaintext, key_index| Opened {
            plaintext: plaintext.to_vec(),
            key_index,
        })
    }

    /// Opens a cookie value without allocating: the value is decoded and opened in a
    /// buffer on the stack, and `f` gets the plaintext and the index of the key that
    /// opened it (0: the primary; more: reissue under the primary, as
    /// [`Opened::needs_reissue`]).
    ///
    /// # Errors
    /// As [`Codec::open`]; `f` is called only for an authentic value.
    pub fn open_with<R>(
        &self,
        ctx: &CodecContext,
        value: &str,
        f: impl FnOnce(&[u8], usize) -> R,
    ) -> Result<R> {
        self.open_value_with(ctx, value.as_bytes(), f)
    }

    /// [`open_with`](Self::open_with) of a value given as its bytes (as the manager finds
    /// it in a `Cookie` header).
    pub(crate) fn open_value_with<R>(
        &self,
        ctx: &CodecContext,
        value: &[u8],
        f: impl FnOnce(&[u8], usize) -> R,
    ) -> Result<R> {
        if value.len() > MAX_VALUE_LEN {
            return Err(CodecError::TooLarge {
                size: value.len(),
                max: MAX_VALUE_LEN,
            });
        }
        on_stack(value.len() / 4 * 3 + 3, |buf| {
            self.open_in(ctx, value, buf, f)
        })
    }

    fn open_in<R>(
        &self,
        ctx: &CodecContext,
        value: &[u8],
        buf: &mut [u8],
        f: impl FnOnce(&[u8], usize) -> R,
    ) -> Result<R> {
        let len =
            base64url::decode(value, buf).ok_or(CodecError::Malformed("not unpadded base64url"))?;
        let (plaintext, key_index) = self.open_raw(ctx, &mut buf[..len])?;
        Ok(f(&buf[plaintext], key_index))
    }

    /// Seals bytes under the primary key (for records at rest: [`KeySealer`](crate::store::KeySealer) uses it in
    /// [`CookieMode::Encrypted`] with [`CodecContext::record`]).
    ///
    /// # Errors
    /// [`CodecError::TooLarge`] beyond [`MAX_BYTES_LEN`]; [`CodecError::Random`].
    pub fn seal_bytes(&self, ctx: &CodecContext, plaintext: &[u8]) -> Result<Vec<u8>> {
        let size = self.sealed_bytes_len(plaintext.len());
        if size > MAX_BYTES_LEN {
            return Err(CodecError::TooLarge {
                size,
                max: MAX_BYTES_LEN,
            });
        }
        let mut out = vec![0u8; size];
        self.seal_raw(ctx, plaintext, &mut out)?;
        Ok(out)
    }

    /// Opens bytes made by [`Codec::seal_bytes`].
    ///
    /// # Errors
    /// As [`Codec::open`], with the limit [`MAX_BYTES_LEN`].
    pub fn open_bytes(&self, ctx: &CodecContext, sealed: &[u8]) -> Result<Opened> {
        if sealed.len() > MAX_BYTES_LEN {
            return Err(CodecError::TooLarge {
                size: sealed.len(),
                max: MAX_BYTES_LEN,
            });
        }
        let mut sealed = sealed.to_vec();
        let (plaintext, key_index) = self.open_raw(ctx, &mut sealed)?;
        sealed.truncate(plaintext.end);
        sealed.drain(..plaintext.start);
        Ok(Opened {
            plaintext: sealed,
            key_index,
        })
    }

    fn primary(&self) -> &Prepared {
        // `Keys` always has a primary key, so the list is never empty.
        &self.keys[0]
    }

    /// Seals `plaintext` into `out`, of exactly [`Codec::sealed_bytes_len`] bytes.
    fn seal_raw(&self, ctx: &CodecContext, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        debug_assert_eq!(out.len(), self.sealed_bytes_len(plaintext.len()));
        let key = self.primary();
        match self.mode {
            CookieMode::Signed => {
                out[0] = HEADER_SIGNED;
                out[1] = key.id.0[0];
                let (prefix, rest) = out.split_at_mut(PREFIX_LEN);
                let (body, mac) = rest.split_at_mut(plaintext.len());
                body.copy_from_slice(plaintext);
                let tag = signed_mac(key, ctx, prefix, plaintext).finalize();
                mac.copy_from_slice(&tag.into_bytes()[..MAC_LEN]);
            }
            CookieMode::Encrypted => {
                out[0] = HEADER_ENCRYPTED;
                out[1] = key.id.0[0];
                let (prefix, rest) = out.split_at_mut(PREFIX_LEN);
                let (nonce, rest) = rest.split_at_mut(NONCE_LEN);
                nonces::fill(nonce)?;
                let (body, tag_out) = rest.split_at_mut(plaintext.len());
                body.copy_from_slice(plaintext);
                let tag = with_associated_data(prefix, ctx, |aad| {
                    key.aead
                        .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, body)
                })
                // Only fails for messages beyond GCM's 64 GiB limit, far above ours.
                .map_err(|_| CodecError::TooLarge {
                    size: plaintext.len(),
                    max: MAX_BYTES_LEN,
                })?;
                tag_out.copy_from_slice(&tag);
            }
        }
        Ok(())
    }

    /// Authenticates (and in encrypted mode decrypts in place) `sealed`; returns where
    /// the plaintext lies in it and the index of the key that opened it.
    fn open_raw(&self, ctx: &CodecContext, sealed: &mut [u8]) -> Result<(Range<usize>, usize)> {
        let (current, v1, other) = match self.mode {
            CookieMode::Signed => (
                HEADER_SIGNED,
                HEADER_SIGNED_V1,
                [HEADER_ENCRYPTED, HEADER_ENCRYPTED_V1],
            ),
            CookieMode::Encrypted => (
                HEADER_ENCRYPTED,
                HEADER_ENCRYPTED_V1,
                [HEADER_SIGNED, HEADER_SIGNED_V1],
            ),
        };
        // (prefix length, signed tag length) of the value's format version.
        let (prefix_len, mac_len) = match sealed.first() {
            None => return Err(CodecError::Malformed("empty")),
            Some(&h) if h == current => (PREFIX_LEN, MAC_LEN),
            Some(&h) if h == v1 => (PREFIX_LEN_V1, MAC_LEN_V1),
            Some(h) if other.contains(h) => {
                return Err(CodecError::Malformed("sealed in the other cookie mode"));
            }
            Some(_) => return Err(CodecError::Malformed("unknown format version")),
        };
        let min_len = match self.mode {
            CookieMode::Signed => prefix_len + mac_len,
            CookieMode::Encrypted => prefix_len + NONCE_LEN + GCM_TAG_LEN,
        };
        if sealed.len() < min_len {
            return Err(CodecError::Malformed("too short"));
        }
        let (prefix, rest) = sealed.split_at_mut(prefix_len);
        let key_bytes = &prefix[1..];
        let mut candidates = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, key)| key.id.0[..key_bytes.len()] == *key_bytes)
            .peekable();
        if candidates.peek().is_none() {
            let mut id = [0u8; KEY_ID_LEN];
            id[..key_bytes.len()].copy_from_slice(key_bytes);
            return Err(CodecError::UnknownKey(KeyId(id)));
        }
        match self.mode {
            CookieMode::Signed => {
                let (payload, tag) = rest.split_at(rest.len() - mac_len);
                let found = candidates.find(|(_, key)| {
                    // The whole tag (version 1) or its first 128 bits (version 2).
                    signed_mac(key, ctx, prefix, payload)
                        .verify_truncated_left(tag)
                        .is_ok()
                });
                let (key_index, _) = found.ok_or(CodecError::Authentication)?;
                Ok((prefix_len..prefix_len + payload.len(), key_index))
            }
            CookieMode::Encrypted => {
                let (nonce, rest) = rest.split_at_mut(NONCE_LEN);
                let nonce = *Nonce::from_slice(nonce);
                let end = rest.len() - GCM_TAG_LEN;
                let (body, tag) = rest.split_at_mut(end);
                let tag = *Tag::from_slice(tag);
                let plaintext = prefix_len + NONCE_LEN..prefix_len + NONCE_LEN + end;
                with_associated_data(prefix, ctx, |aad| {
                    let mut candidates = candidates.peekable();
                    while let Some((key_index, key)) = candidates.next() {
                        // Decrypt in place for the last (usually the only) candidate; a
                        // copy for the others, which may fail (AES-GCM decrypts before it
                        // compares the tag) and must leave the ciphertext intact.
                        if candidates.peek().is_none() {
                            return match key.aead.decrypt_in_place_detached(&nonce, aad, body, &tag)
                            {
                                Ok(()) => Ok((plaintext, key_index)),
                                Err(_) => Err(CodecError::Authentication),
                            };
                        }
                        let mut copy = body.to_vec();
                        if key
                            .aead
                            .decrypt_in_place_detached(&nonce, aad, &mut copy, &tag)
                            .is_ok()
                        {
                            body.copy_from_slice(&copy);
                            return Ok((plaintext, key_index));
                        }
                    }
                    Err(CodecError::Authentication)
                })
            }
        }
    }
}

fn signed_mac(key: &Prepared, ctx: &CodecContext, prefix: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = key.mac.clone();
    mac.update(prefix);
    mac.update(&ctx.bound);
    mac.update(payload);
    mac
}

/// The associated data of an encrypted value.
/// Calls `f` with the associated data of an encrypted value: its prefix, then the
/// context. Built on the stack (the context is a few dozen bytes); on the heap only for
/// an unusually long cookie or schema name.
fn with_associated_data<R>(prefix: &[u8], ctx: &CodecContext, f: impl FnOnce(&[u8]) -> R) -> R {
    const STACK: usize = 128;
    let len = prefix.len() + ctx.bound.len();
    if len > STACK {
        let mut aad = Vec::with_capacity(len);
        aad.extend_from_slice(prefix);
        aad.extend_from_slice(&ctx.bound);
        return f(&aad);
    }
    let mut aad = [0u8; STACK];
    aad[..prefix.len()].copy_from_slice(prefix);
    aad[prefix.len()..len].copy_from_slice(&ctx.bound);
    f(&aad[..len])
}

/// AES-GCM nonces: a ChaCha20 generator per thread, seeded from the operating system and
/// reseeded after [`nonces::RESEED_AFTER`] bytes (see the module docs, "Nonces").
mod nonces {
    use std::cell::{Cell, RefCell};

    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    use crate::random::{RandomError, fill_random};

    /// Bytes a generator gives out before it is reseeded from the operating system.
    pub(super) const RESEED_AFTER: usize = 64 * 1024;

    struct Generator {
        rng: ChaCha20Rng,
        /// Bytes given out since the last seed.
        drawn: usize,
    }

    thread_local! {
        static GENERATOR: RefCell<Option<Generator>> = const { RefCell::new(None) };
        /// Seeds this thread has drawn from the operating system (for the tests).
        static SEEDS: Cell<u64> = const { Cell::new(0) };
    }

    /// Fills `buf` (a nonce: a few bytes) from this thread's generator.
    pub(super) fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
        GENERATOR
            .try_with(|cell| {
                let mut slot = cell.borrow_mut();
                let generator = match slot.take() {
                    Some(g) if g.drawn < RESEED_AFTER => g,
                    _ => {
                        let mut seed = [0u8; 32];
                        fill_random(&mut seed)?;
                        let _ = SEEDS.try_with(|n| n.set(n.get() + 1));
                        Generator {
                            rng: ChaCha20Rng::from_seed(seed),
                            drawn: 0,
                        }
                    }
                };
                let generator = slot.insert(generator);
                generator.rng.fill_bytes(buf);
                generator.drawn += buf.len();
                Ok(())
            })
            // The thread is being torn down (its generator is gone): the OS directly.
            .unwrap_or_else(|_| fill_random(buf))
    }

    /// Seeds this thread has drawn so far.
    #[cfg(test)]
    pub(super) fn seeds() -> u64 {
        SEEDS.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use crate::keys::Keys;

    /// `base64url::decode` (the crate's one decoder) against the `base64` crate's engine:
    /// the same bytes, or both refuse.
    fn decodes_as_the_engine_does(value: &[u8]) {
        let mut buf = vec![0u8; value.len() / 4 * 3 + 3];
        let ours = base64url::decode(value, &mut buf).map(|n| buf[..n].to_vec());
        let theirs = URL_SAFE_NO_PAD.decode(value).ok();
        assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(value));
        // The buffer `open_with` gives is large enough; a shorter one is refused.
        if let Some(n) = ours.as_ref().map(Vec::len).filter(|n| *n > 0) {
            assert_eq!(base64url::decode(value, &mut vec![0u8; n - 1]), None);
        }
    }

    #[test]
    fn base64url_decodes_as_the_engine_does_for_every_short_tail() {
        let symbols: Vec<u8> = (0..=255u8).collect();
        decodes_as_the_engine_does(b"");
        for &a in &symbols {
            decodes_as_the_engine_does(&[a]);
            decodes_as_the_engine_does(&[b'A', b'A', b'A', b'A', a]);
            for &b in &symbols {
                decodes_as_the_engine_does(&[a, b]);
                decodes_as_the_engine_does(&[b'Q', b'-', a, b]);
                decodes_as_the_engine_does(&[b'z', b'_', b'9', b'a', a, b]);
                decodes_as_the_engine_does(&[b'x', a, b]);
            }
        }
        for value in [
            &b"AB=="[..],
            b"ABC=",
            b"AB==AAAA",
            b"A===",
            b"AAAA====",
            b" AAA",
        ] {
            decodes_as_the_engine_does(value);
        }
    }

    proptest! {
        #[test]
        fn base64url_decodes_as_the_engine_does(
            value in proptest::collection::vec(
                prop_oneof![
                    8 => proptest::sample::select(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec()
                    ),
                    1 => any::<u8>(),
                ],
                0..200,
            ),
        ) {
            decodes_as_the_engine_does(&value);
            let encoded = URL_SAFE_NO_PAD.encode(&value);
            decodes_as_the_engine_does(encoded.as_bytes());
        }
    }

    proptest! {
        /// A sealed cookie value is the engine's base64url of its sealed bytes (the text
        /// earlier releases wrote), appended after what the header already holds, and
        /// opens to the payload; one changed symbol is refused.
        #[test]
        fn sealed_values_are_the_engines_text_and_open(
            payload in proptest::collection::vec(any::<u8>(), 0..700),
            signed in any::<bool>(),
            flip in any::<prop::sample::Index>(),
        ) {
            let mode = if signed { CookieMode::Signed } else { CookieMode::Encrypted };
            let codec = Codec::new(mode, Keys::generate());
            let ctx = CodecContext::cookie("session", "test");
            let mut header = String::from("session=");
            codec.seal_into(&ctx, &payload, &mut header).unwrap();
            let value = &header["session=".len()..];
            prop_assert_eq!(value.len(), codec.sealed_len(payload.len()));
            let bytes = URL_SAFE_NO_PAD.decode(value).unwrap();
            prop_assert_eq!(value, URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(codec.open(&ctx, value).unwrap().plaintext, payload);
            let mut changed = value.as_bytes().to_vec();
            let at = flip.index(changed.len());
            changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(codec.open(&ctx, &changed).is_err());
        }
    }

    /// The nonce of an encrypted cookie value.
    fn nonce_of(value: &str) -> [u8; NONCE_LEN] {
        let bytes = URL_SAFE_NO_PAD.decode(value).unwrap();
        bytes[PREFIX_LEN..PREFIX_LEN + NONCE_LEN]
            .try_into()
            .unwrap()
    }

    #[test]
    fn nonces_come_from_a_thread_generator_reseeded_from_the_os() {
        // A fresh thread, so that no other test's seals count.
        let (seeds, nonces) = std::thread::spawn(|| {
            let codec = Codec::new(CookieMode::Encrypted, Keys::generate());
            let ctx = CodecContext::cookie("session", "test");
            let per_seed = nonces::RESEED_AFTER.div_ceil(NONCE_LEN);
            let n = 2 * per_seed + 1;
            let mut nonces = HashSet::new();
            for i in 0..n as u64 {
                let value = codec.seal(&ctx, &i.to_le_bytes()).unwrap();
                assert_eq!(codec.open(&ctx, &value).unwrap().plaintext, i.to_le_bytes());
                nonces.insert(nonce_of(&value));
            }
            assert_eq!(nonces.len(), n, "every nonce is new");
            (nonces::seeds(), nonces)
        })
        .join()
        .unwrap();
        // One system call per 64 KiB of nonces, not one per seal.
        assert_eq!(seeds, 3);
        // Another thread seeds its own generator: no nonce repeats across threads.
        let other: HashSet<_> = std::thread::spawn(|| {
            let codec = Codec::new(CookieMode::Encrypted, Keys::generate());
            let ctx = CodecContext::cookie("session", "test");
            (0..1000)
                .map(|_| nonce_of(&codec.seal(&ctx, b"x").unwrap()))
                .collect()
        })
        .join()
        .unwrap();
        assert_eq!(other.len(), 1000);
        assert!(other.is_disjoint(&nonces));
    }
}
