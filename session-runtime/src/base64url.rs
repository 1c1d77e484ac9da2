//! Unpadded base64url (RFC 4648 section 5, no `=`): the text of session ids and of sealed
//! cookie values, encoded and decoded by table.
//!
//! One decoder and one encoder for the whole crate. The decoder accepts exactly what the
//! `base64` crate's `URL_SAFE_NO_PAD` engine accepts (its alphabet, no padding, no length
//! of the form `4n + 1`, zero unused bits in the last symbol), so an accepted text is the
//! one spelling of its bytes: what [`encode`] writes for them. Both run on every request
//! (an id is parsed from each cookie, a sealed cookie decoded, an id decoded from a cookie
//! envelope given its text), without the engine's general machinery. The tests check both
//! against the engine.

/// The base64url alphabet: the symbol of each 6-bit value.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Not a base64url symbol, in [`SEXTETS`].
const INVALID: u8 = 0x80;

/// The six bits of each base64url symbol, [`INVALID`] for every other byte.
const SEXTETS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Length of the unpadded base64url text of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n / 3) * 4 + [0, 2, 3][n % 3]
}

/// Writes `bytes` as unpadded base64url into the first [`encoded_len`]`(bytes.len())`
/// bytes of `out` (nothing after them), and returns that length; `None`, with nothing
/// written, when `out` is shorter.
#[inline]
pub(crate) fn encode(bytes: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = encoded_len(bytes.len());
    let out = out.get_mut(..len)?;
    let symbol = |n: u32, shift: u32| ALPHABET[((n >> shift) & 0x3f) as usize];
    let chunks = bytes.chunks_exact(3);
    let tail = chunks.remainder();
    let mut written = out.chunks_exact_mut(4);
    for (chunk, text) in chunks.zip(&mut written) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        text.copy_from_slice(&[symbol(n, 18), symbol(n, 12), symbol(n, 6), symbol(n, 0)]);
    }
    match (tail, written.into_remainder()) {
        (&[a], [x, y]) => {
            let n = u32::from(a) << 16;
            [*x, *y] = [symbol(n, 18), symbol(n, 12)];
        }
        (&[a, b], [x, y, z]) => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            [*x, *y, *z] = [symbol(n, 18), symbol(n, 12), symbol(n, 6)];
        }
        _ => {}
    }
    Some(len)
}

/// Decodes unpadded base64url `text` into the start of `out` and returns the number of
/// bytes decoded; `None` for anything the `URL_SAFE_NO_PAD` engine refuses (see the
/// module docs), or when `out` is shorter than the bytes. One table lookup a symbol.
#[inline]
pub(crate) fn decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    let tail = text.len() % 4;
    // Two symbols carry one byte (and 4 unused bits), three carry two (and 2).
    let len = text.len() / 4 * 3 + [0, 0, 1, 2][tail];
    if tail == 1 || out.len() < len {
        return None;
    }
    let (chunks, rest) = text.split_at(text.len() - tail);
    // Any byte outside the alphabet sets `INVALID` in `bad`.
    let mut bad = 0u8;
    for (chunk, bytes) in chunks.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let (a, b, c, d) = (
            SEXTETS[usize::from(chunk[0])],
            SEXTETS[usize::from(chunk[1])],
            SEXTETS[usize::from(chunk[2])],
            SEXTETS[usize::from(chunk[3])],
        );
        bad |= a | b | c | d;
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        bytes[0] = (n >> 16) as u8;
        bytes[1] = (n >> 8) as u8;
        bytes[2] = n as u8;
    }
    let at = chunks.len() / 4 * 3;
    // The last symbol's unused bits must be zero (the engine refuses them too): else a
    // second spelling of the same bytes would be accepted.
    let mut unused = 0u8;
    match *rest {
        [a, b] => {
            let [a, b] = [a, b].map(|x| SEXTETS[usize::from(x)]);
            bad |= a | b;
            unused = b & 0x0f;
            out[at] = (a << 2) | (b >> 4);
        }
        [a, b, c] => {
            let [a, b, c] = [a, b, c].map(|x| SEXTETS[usize::from(x)]);
            bad |= a | b | c;
            unused = c & 0x03;
            out[at] = (a << 2) | (b >> 4);
            out[at + 1] = (b << 4) | (c >> 2);
        }
        _ => {}
    }
    (bad & INVALID == 0 && unused == 0).then_some(len)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::{ALPHABET, decode, encode, encoded_len};

    /// Text that is mostly base64url, with any byte (padding, `+`, `/`, non-ASCII) mixed
    /// in now and then.
    fn texts() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                12 => prop::sample::select(ALPHABET.to_vec()),
                1 => Just(b'='),
                1 => any::<u8>(),
            ],
            0..120,
        )
    }

    proptest! {
        /// The encoder writes what the engine writes, for every length and tail, nothing
        /// past it, and nothing at all into a buffer one byte short.
        #[test]
        fn base64url_encodes_as_the_engine_does(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            let len = encoded_len(bytes.len());
            let mut out = vec![b'.'; len + 3];
            prop_assert_eq!(encode(&bytes, &mut out), Some(len));
            let engine = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(&out[..len], engine.as_bytes());
            prop_assert!(out[len..].iter().all(|&b| b == b'.'));
            if len > 0 {
                let mut short = vec![b'.'; len - 1];
                prop_assert_eq!(encode(&bytes, &mut short), None);
                prop_assert!(short.iter().all(|&b| b == b'.'));
            }
        }

        /// The decoder accepts and refuses what the engine accepts and refuses, with the
        /// same bytes; what it accepts is canonical (encoded back to the same text); a
        /// buffer one byte short is refused.
        #[test]
        fn base64url_decodes_as_the_engine_does_and_only_canonical_text(text in texts()) {
            let mut out = vec![0u8; text.len()];
            let ours = decode(&text, &mut out).map(|n| out[..n].to_vec());
            let theirs = URL_SAFE_NO_PAD.decode(&text).ok();
            prop_assert_eq!(&ours, &theirs);
            if let Some(bytes) = ours {
                let mut again = vec![0u8; text.len()];
                prop_assert_eq!(encode(&bytes, &mut again), Some(text.len()));
                prop_assert_eq!(&again, &text);
                if !bytes.is_empty() {
                    prop_assert_eq!(decode(&text, &mut vec![0u8; bytes.len() - 1]), None);
                }
            }
        }

        /// Every text the engine writes decodes to its bytes; changing its last symbol's
        /// unused bits (a second spelling of the same bytes) is refused by both.
        #[test]
        fn base64url_round_trips_and_refuses_other_spellings(
            bytes in prop::collection::vec(any::<u8>(), 0..100),
            flip in 1u8..16,
        ) {
            let text = URL_SAFE_NO_PAD.encode(&bytes).into_bytes();
            let mut out = vec![0u8; bytes.len()];
            prop_assert_eq!(decode(&text, &mut out), Some(bytes.len()));
            prop_assert_eq!(&out, &bytes);
            let unused = [0, 4, 2][bytes.len() % 3];
            if unused > 0 {
                let last = text.len() - 1;
                let value = ALPHABET.iter().position(|&c| c == text[last]).unwrap() as u8;
                let mut other = text.clone();
                other[last] = ALPHABET[usize::from(value ^ (flip & ((1 << unused) - 1)))];
                prop_assume!(other != text);
                prop_assert_eq!(decode(&other, &mut out), None);
                prop_assert!(URL_SAFE_NO_PAD.decode(&other).is_err());
            }
        }
    }

    #[test]
    fn every_short_text_is_decided_as_the_engine_decides() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for text in [&[a][..], &[a, b], &[b'x', a, b], &[b'Q', b'-', a, b]] {
                    let mut out = [0u8; 3];
                    let ours = decode(text, &mut out).map(|n| out[..n].to_vec());
                    assert_eq!(ours, URL_SAFE_NO_PAD.decode(text).ok(), "{text:?}");
                }
            }
        }
    }
}
