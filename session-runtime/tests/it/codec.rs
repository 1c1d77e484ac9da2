//! Codecs: the key rotation matrix and tamper tests in both modes, and properties.
//!
//! Tamper tests count what they try and assert that nothing was accepted; a panic would
//! fail the test.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use session_runtime::codec::{Codec, CodecContext, CodecError, MAX_VALUE_LEN};
use session_runtime::keys::{Key, Keys};
use session_runtime::spec::settings::CookieMode;

const MODES: [CookieMode; 2] = [CookieMode::Signed, CookieMode::Encrypted];
const PAYLOAD: &[u8] = br#"{"user_id":42,"cart":["apple","pear"],"__exp":1790000000}"#;

fn ctx() -> CodecContext {
    CodecContext::cookie("__Host-session", "shop")
}

/// Opens every candidate, asserts each is refused, returns how many were tried.
fn refuse_all(
    codec: &Codec,
    ctx: &CodecContext,
    candidates: impl IntoIterator<Item = String>,
) -> usize {
    let mut tried = 0;
    for candidate in candidates {
        let result = codec.open(ctx, &candidate);
        assert!(
            result.is_err(),
            "{:?} accepted a tampered value: {candidate:?}",
            codec.mode()
        );
        tried += 1;
    }
    tried
}

/// Asserts that `result` refuses a value sealed under `sealing`, a key that `configured`
/// does not hold: as an unknown key, or, when a configured key's id shares the first byte
/// (the only one format 2 carries), as failing authentication.
fn refused_as_unknown(
    result: Result<session_runtime::codec::Opened, CodecError>,
    sealing: &Key,
    configured: &[&Key],
) {
    let hint = sealing.id().0[0];
    if configured.iter().any(|k| k.id().0[0] == hint) {
        assert!(
            matches!(result, Err(CodecError::Authentication)),
            "{result:?}"
        );
    } else {
        assert!(
            matches!(result, Err(CodecError::UnknownKey(id)) if id.0 == [hint, 0, 0, 0]),
            "{result:?}"
        );
    }
}

fn sealed(mode: CookieMode) -> (Codec, String) {
    let codec = Codec::new(mode, Keys::new(Key::generate(), vec![Key::generate()]));
    let value = codec.seal(&ctx(), PAYLOAD).unwrap();
    (codec, value)
}

#[test]
fn roundtrip_in_both_modes() {
    for mode in MODES {
        let codec = Codec::new(mode, Keys::generate());
        for payload in [&b""[..], b"x", PAYLOAD, &[0u8, 255, 128, 10][..]] {
            let value = codec.seal(&ctx(), payload).unwrap();
            assert_eq!(value.len(), codec.sealed_len(payload.len()));
            let opened = codec.open(&ctx(), &value).unwrap();
            assert_eq!(opened.plaintext, payload);
            assert_eq!(opened.key_index, 0);
            assert!(!opened.needs_reissue());
        }
    }
}

/// `open_with` (the request path's open, in a buffer on the stack) gives what `open`
/// gives, and refuses what it refuses, with the same error.
#[test]
fn open_with_agrees_with_open() {
    for mode in MODES {
        let (codec, value) = sealed(mode);
        let ctx = ctx();
        let big = vec![7u8; 3000];
        let long = codec.seal(&ctx, &big).unwrap();
        for v in [value.as_str(), long.as_str()] {
            let opened = codec.open(&ctx, v).unwrap();
            let (plaintext, key) = codec.open_with(&ctx, v, |p, k| (p.to_vec(), k)).unwrap();
            assert_eq!((plaintext, key), (opened.plaintext, opened.key_index));
        }
        let mut tampered = value.clone().into_bytes();
        tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let too_long = "A".repeat(MAX_VALUE_LEN + 1);
        for bad in [
            &tampered[..],
            "",
            "!!",
            &value[..value.len() - 1],
            &too_long[..],
        ] {
            let by_open = codec.open(&ctx, bad).unwrap_err().to_string();
            let called = std::cell::Cell::new(false);
            let by_with = codec
                .open_with(&ctx, bad, |_, _| called.set(true))
                .unwrap_err()
                .to_string();
            assert_eq!(by_with, by_open, "{mode:?}: {bad:?}");
            assert!(
                !called.get(),
                "{mode:?}: `f` runs only for an authentic value"
            );
        }
    }
}

#[test]
fn signed_is_readable_encrypted_is_not_and_nonces_are_fresh() {
    let (signed, value) = sealed(CookieMode::Signed);
    let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    assert!(raw.windows(PAYLOAD.len()).any(|w| w == PAYLOAD));
    assert_eq!(
        signed.seal(&ctx(), PAYLOAD).unwrap(),
        value,
        "signing is deterministic"
    );

    let (encrypted, value) = sealed(CookieMode::Encrypted);
    let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    assert!(!raw.windows(7).any(|w| w == b"user_id"));
    let again = encrypted.seal(&ctx(), PAYLOAD).unwrap();
    assert_ne!(again, value, "a fresh nonce for every value");
    assert_eq!(encrypted.open(&ctx(), &again).unwrap().plaintext, PAYLOAD);
}

/// Primary, each fallback, a removed key and a random key, in both modes.
#[test]
fn key_rotation_matrix() {
    for mode in MODES {
        let primary = Key::generate();
        let fallbacks = vec![Key::generate(), Key::generate(), Key::generate()];
        let removed = Key::generate();
        let codec = Codec::new(mode, Keys::new(primary.clone(), fallbacks.clone()));

        // Accepted: the primary (index 0) and each fallback (its index).
        for (index, key) in std::iter::once(&primary).chain(&fallbacks).enumerate() {
            let issuer = Codec::new(mode, Keys::single(key.clone()));
            let value = issuer.seal(&ctx(), PAYLOAD).unwrap();
            let opened = codec.open(&ctx(), &value).unwrap();
            assert_eq!(opened.plaintext, PAYLOAD, "{mode:?} key {index}");
            assert_eq!(opened.key_index, index, "{mode:?}");
            assert_eq!(opened.needs_reissue(), index > 0);
            // Re-issued under the primary, the value opens with index 0, and the old
            // configuration (without the new primary) cannot read it.
            let reissued = codec.seal(&ctx(), &opened.plaintext).unwrap();
            assert_eq!(codec.open(&ctx(), &reissued).unwrap().key_index, 0);
            if index > 0 {
                refused_as_unknown(issuer.open(&ctx(), &reissued), &primary, &[key]);
            }
        }

        // A key removed from the list, then a key that was never ours: refused.
        let before = Codec::new(mode, Keys::new(removed.clone(), vec![primary.clone()]));
        let value = before.seal(&ctx(), PAYLOAD).unwrap();
        let configured: Vec<&Key> = std::iter::once(&primary).chain(&fallbacks).collect();
        refused_as_unknown(codec.open(&ctx(), &value), &removed, &configured);
        let random = Key::generate();
        let value = Codec::new(mode, Keys::single(random.clone()))
            .seal(&ctx(), PAYLOAD)
            .unwrap();
        refused_as_unknown(codec.open(&ctx(), &value), &random, &configured);

        // A random key's value relabelled with each configured key's hint: authentication
        // fails.
        let mut raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        for key in std::iter::once(&primary).chain(&fallbacks) {
            raw[1] = key.id().0[0];
            let forged = URL_SAFE_NO_PAD.encode(&raw);
            assert!(matches!(
                codec.open(&ctx(), &forged),
                Err(CodecError::Authentication)
            ));
        }
    }
}

#[test]
fn fallback_keys_with_a_colliding_id_are_all_tried() {
    // Two configured keys cannot share an id in practice (4 bytes from HKDF), but the same
    // key listed twice does, and the codec must still try past the first candidate.
    for mode in MODES {
        let a = Key::generate();
        let codec = Codec::new(mode, Keys::new(a.clone(), vec![a.clone()]));
        let value = codec.seal(&ctx(), PAYLOAD).unwrap();
        assert_eq!(codec.open(&ctx(), &value).unwrap().key_index, 0);
    }
}

#[test]
fn every_single_bit_flip_is_refused() {
    for mode in MODES {
        let (codec, value) = sealed(mode);
        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        // Flips of the binary form, re-encoded (so they pass base64 decoding).
        let binary = (0..raw.len() * 8).map(|bit| {
            let mut flipped = raw.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            URL_SAFE_NO_PAD.encode(flipped)
        });
        assert_eq!(refuse_all(&codec, &ctx(), binary), raw.len() * 8);
        // Flips of the text form (some give invalid UTF-8: those cannot reach `open`).
        let mut text_tried = 0;
        for bit in 0..value.len() * 8 {
            let mut flipped = value.clone().into_bytes();
            flipped[bit / 8] ^= 1 << (bit % 8);
            if let Ok(flipped) = String::from_utf8(flipped) {
                text_tried += refuse_all(&codec, &ctx(), [flipped]);
            }
        }
        // Bit 7 of an ASCII byte gives invalid UTF-8; the other 7 bits all stay ASCII.
        assert_eq!(text_tried, value.len() * 7, "{mode:?}");
    }
}

#[test]
fn truncation_at_every_length_and_extension_are_refused() {
    for mode in MODES {
        let (codec, value) = sealed(mode);
        let prefixes = (0..value.len()).map(|n| value[..n].to_owned());
        assert_eq!(refuse_all(&codec, &ctx(), prefixes), value.len());
        let suffixes = (1..=value.len()).map(|n| value[n..].to_owned());
        assert_eq!(refuse_all(&codec, &ctx(), suffixes), value.len());

        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        let binary_prefixes = (0..raw.len()).map(|n| URL_SAFE_NO_PAD.encode(&raw[..n]));
        assert_eq!(refuse_all(&codec, &ctx(), binary_prefixes), raw.len());

        const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let appended = ALPHABET.chars().map(|c| format!("{value}{c}"));
        assert_eq!(refuse_all(&codec, &ctx(), appended), 64);
        let extended = (1..=64usize).map(|n| {
            let mut longer = raw.clone();
            longer.extend(std::iter::repeat_n(0xa5, n));
            URL_SAFE_NO_PAD.encode(longer)
        });
        assert_eq!(refuse_all(&codec, &ctx(), extended), 64);
        let doubled = [format!("{value}{value}"), format!("{value}.{value}")];
        assert_eq!(refuse_all(&codec, &ctx(), doubled), 2);
    }
}

#[test]
fn base64_garbage_and_multibyte_characters_are_refused() {
    for mode in MODES {
        let (codec, value) = sealed(mode);
        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        let mut garbage = vec![
            String::new(),
            "=".into(),
            "====".into(),
            "not base64 at all".into(),
            "%%%%".into(),
            "\0".into(),
            format!("{value}="),
            format!("{value}=="),
            format!(" {value}"),
            format!("{value} "),
            format!("{value}\n"),
            format!("\"{value}\""),
            STANDARD.encode(&raw),
            value.replace('-', "+").replace('_', "/"),
            value.to_uppercase(),
            value.to_lowercase(),
        ];
        // `-`/`_` may be absent from a given value; then those cases equal `value` itself.
        garbage.retain(|g| g != &value);
        let n = garbage.len();
        assert!(n >= 14);
        assert_eq!(refuse_all(&codec, &ctx(), garbage), n);

        // A multi-byte character inserted at every offset, and replacing every character.
        for ch in ['é', '€', '😀', '\u{feff}'] {
            let inserted = (0..=value.len()).map(|i| format!("{}{ch}{}", &value[..i], &value[i..]));
            assert_eq!(refuse_all(&codec, &ctx(), inserted), value.len() + 1);
            let replaced =
                (0..value.len()).map(|i| format!("{}{ch}{}", &value[..i], &value[i + 1..]));
            assert_eq!(refuse_all(&codec, &ctx(), replaced), value.len());
        }
    }
}

#[test]
fn a_value_bound_to_another_cookie_schema_or_record_is_refused() {
    for mode in MODES {
        let codec = Codec::new(mode, Keys::generate());
        let value = codec
            .seal(&CodecContext::cookie("ab", "c"), PAYLOAD)
            .unwrap();
        let others = [
            CodecContext::cookie("a", "bc"),
            CodecContext::cookie("abc", ""),
            CodecContext::cookie("", "abc"),
            CodecContext::cookie("ab", "C"),
            CodecContext::cookie("__Host-ab", "c"),
            CodecContext::cookie("c", "ab"),
            CodecContext::record(b""),
            CodecContext::record(b"ab"),
        ];
        for other in &others {
            assert!(
                matches!(codec.open(other, &value), Err(CodecError::Authentication)),
                "{mode:?} {other:?}"
            );
        }
        assert!(codec.open(&CodecContext::cookie("ab", "c"), &value).is_ok());

        // Same for bytes at rest: bound to where the record lives.
        let here = CodecContext::record(&[1; 32]);
        let sealed = codec.seal_bytes(&here, PAYLOAD).unwrap();
        let opened = codec.open_bytes(&here, &sealed).unwrap();
        assert_eq!(opened.plaintext, PAYLOAD);
        assert!(matches!(
            codec.open_bytes(&CodecContext::record(&[2; 32]), &sealed),
            Err(CodecError::Authentication)
        ));
        assert!(matches!(
            codec.open_bytes(&CodecContext::cookie("ab", "c"), &sealed),
            Err(CodecError::Authentication)
        ));
    }
}

#[test]
fn a_value_of_the_other_mode_is_refused() {
    let keys = Keys::generate();
    let signed = Codec::new(CookieMode::Signed, keys.clone());
    let encrypted = Codec::new(CookieMode::Encrypted, keys);
    let s = signed.seal(&ctx(), PAYLOAD).unwrap();
    let e = encrypted.seal(&ctx(), PAYLOAD).unwrap();
    assert!(matches!(
        encrypted.open(&ctx(), &s),
        Err(CodecError::Malformed(_))
    ));
    assert!(matches!(
        signed.open(&ctx(), &e),
        Err(CodecError::Malformed(_))
    ));
    // Relabelled with the other mode's header byte: authentication still fails.
    for (codec, value, header) in [(&encrypted, &s, 0x22u8), (&signed, &e, 0x12)] {
        let mut raw = URL_SAFE_NO_PAD.decode(value).unwrap();
        raw[0] = header;
        let relabelled = URL_SAFE_NO_PAD.encode(raw);
        assert!(matches!(
            codec.open(&ctx(), &relabelled),
            Err(CodecError::Authentication)
        ));
    }
    // Unknown format versions.
    let mut tried = 0;
    for header in 0..=255u8 {
        if [0x11, 0x21, 0x12, 0x22].contains(&header) {
            continue;
        }
        let mut raw = URL_SAFE_NO_PAD.decode(&s).unwrap();
        raw[0] = header;
        tried += refuse_all(&signed, &ctx(), [URL_SAFE_NO_PAD.encode(&raw)]);
        tried += refuse_all(&encrypted, &ctx(), [URL_SAFE_NO_PAD.encode(&raw)]);
    }
    assert_eq!(tried, 2 * 252);
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    for mode in MODES {
        let (codec, value) = sealed(mode);
        for len in [MAX_VALUE_LEN + 1, 64 * 1024, 8 * 1024 * 1024] {
            let huge = "A".repeat(len);
            assert!(matches!(
                codec.open(&ctx(), &huge),
                Err(CodecError::TooLarge { size, max: MAX_VALUE_LEN }) if size == len
            ));
        }
        // A valid value padded past the limit with a valid-looking tail.
        let padded = format!("{value}{}", "A".repeat(MAX_VALUE_LEN));
        assert!(matches!(
            codec.open(&ctx(), &padded),
            Err(CodecError::TooLarge { .. })
        ));

        // Sealing refuses what could not be opened; the largest payload that fits works.
        let overhead = codec.sealed_len(0);
        let largest = (0..MAX_VALUE_LEN)
            .rev()
            .find(|&n| codec.sealed_len(n) <= MAX_VALUE_LEN)
            .unwrap();
        assert!(largest > MAX_VALUE_LEN * 3 / 4 - overhead);
        let fits = vec![b'x'; largest];
        let value = codec.seal(&ctx(), &fits).unwrap();
        assert!(value.len() <= MAX_VALUE_LEN);
        assert_eq!(codec.open(&ctx(), &value).unwrap().plaintext, fits);
        let too_big = vec![b'x'; largest + 1];
        assert!(matches!(
            codec.seal(&ctx(), &too_big),
            Err(CodecError::TooLarge {
                max: MAX_VALUE_LEN,
                ..
            })
        ));
    }
}

#[test]
fn error_messages_do_not_repeat_the_value() {
    let (codec, value) = sealed(CookieMode::Signed);
    // Flip a bit in the middle of the payload (the last character may already be any
    // given letter, so replacing it is not always a change).
    let mut raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    raw[10] ^= 1;
    let tampered = URL_SAFE_NO_PAD.encode(&raw);
    assert_ne!(tampered, value);
    for input in [tampered.as_str(), "garbage!!", &value[..10]] {
        let err = codec.open(&ctx(), input).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("sealed value "), "{msg}");
        assert!(!msg.contains(input), "{msg}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn roundtrip_arbitrary_payloads(
        payload in proptest::collection::vec(any::<u8>(), 0..2000),
        name in "\\PC{0,20}",
        schema in "\\PC{0,20}",
        encrypted in any::<bool>(),
    ) {
        let mode = if encrypted { CookieMode::Encrypted } else { CookieMode::Signed };
        let codec = Codec::new(mode, Keys::new(Key::generate(), vec![Key::generate()]));
        let ctx = CodecContext::cookie(&name, &schema);
        let value = codec.seal(&ctx, &payload).unwrap();
        prop_assert_eq!(value.len(), codec.sealed_len(payload.len()));
        let opened = codec.open(&ctx, &value).unwrap();
        prop_assert_eq!(opened.plaintext, payload.clone());
        prop_assert_eq!(opened.key_index, 0);
        let bytes = codec.seal_bytes(&ctx, &payload).unwrap();
        prop_assert_eq!(codec.open_bytes(&ctx, &bytes).unwrap().plaintext, payload);
    }

    #[test]
    fn random_edits_of_a_sealed_value_are_refused(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..8),
        encrypted in any::<bool>(),
    ) {
        let mode = if encrypted { CookieMode::Encrypted } else { CookieMode::Signed };
        let codec = Codec::new(mode, Keys::generate());
        let value = codec.seal(&ctx(), PAYLOAD).unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        let original = raw.clone();
        for (index, byte) in &edits {
            let i = index.index(raw.len());
            raw[i] = *byte;
        }
        let edited = URL_SAFE_NO_PAD.encode(&raw);
        if raw == original {
            prop_assert!(codec.open(&ctx(), &edited).is_ok());
        } else {
            prop_assert!(codec.open(&ctx(), &edited).is_err());
        }
    }

    #[test]
    fn a_value_opens_only_in_its_own_context(
        a in ("\\PC{0,12}", "\\PC{0,12}"),
        b in ("\\PC{0,12}", "\\PC{0,12}"),
        encrypted in any::<bool>(),
    ) {
        let mode = if encrypted { CookieMode::Encrypted } else { CookieMode::Signed };
        let codec = Codec::new(mode, Keys::generate());
        let value = codec.seal(&CodecContext::cookie(&a.0, &a.1), PAYLOAD).unwrap();
        let opened = codec.open(&CodecContext::cookie(&b.0, &b.1), &value);
        prop_assert_eq!(opened.is_ok(), a == b);
    }

    #[test]
    fn open_never_panics_or_accepts_arbitrary_strings(s in "\\PC{0,300}", t in "[A-Za-z0-9_-]{0,300}") {
        for mode in MODES {
            let codec = Codec::new(mode, Keys::generate());
            prop_assert!(codec.open(&ctx(), &s).is_err());
            prop_assert!(codec.open(&ctx(), &t).is_err());
        }
    }

    #[test]
    fn open_bytes_never_panics_or_accepts_arbitrary_bytes(
        b in proptest::collection::vec(any::<u8>(), 0..300),
        header in prop_oneof![Just(0x11u8), Just(0x21u8), Just(0x12u8), Just(0x22u8)],
    ) {
        for mode in MODES {
            let codec = Codec::new(mode, Keys::generate());
            prop_assert!(codec.open_bytes(&ctx(), &b).is_err());
            let mut with_header = b.clone();
            with_header.insert(0, header);
            prop_assert!(codec.open_bytes(&ctx(), &with_header).is_err());
        }
    }

    #[test]
    fn forged_values_under_a_known_key_id_are_refused(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        encrypted in any::<bool>(),
        v1 in any::<bool>(),
    ) {
        let (mode, header) = if encrypted { (CookieMode::Encrypted, 0x21u8) } else { (CookieMode::Signed, 0x11) };
        let keys = Keys::generate();
        let id = keys.primary.id();
        let codec = Codec::new(mode, keys);
        let mut raw = vec![if v1 { header } else { header + 1 }];
        raw.extend_from_slice(if v1 { &id.0[..] } else { &id.0[..1] });
        raw.extend_from_slice(&body);
        let result = codec.open(&ctx(), &URL_SAFE_NO_PAD.encode(&raw));
        prop_assert!(matches!(result, Err(CodecError::Authentication | CodecError::Malformed(_))), "{:?}", result);
    }
}

mod at_rest {
    use std::sync::Arc;

    use session_runtime::Timestamp;
    use session_runtime::keys::{Key, Keys};
    use session_runtime::store::KeySealer;
    use session_runtime::store::{FileStore, Record, Sealer, SessionStore, StoreError, StoreKey};

    const PAYLOAD: &[u8] = br#"{"secret_note":"the eagle lands at noon"}"#;

    #[test]
    fn sealer_roundtrip_binding_and_rotation() {
        let (old, new) = (Key::generate(), Key::generate());
        let before = KeySealer::new(Keys::single(old.clone()));
        let sealed = before.seal(PAYLOAD, b"aad-1").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(before.open(&sealed, b"aad-1").unwrap(), PAYLOAD);
        assert!(matches!(
            before.open(&sealed, b"aad-2"),
            Err(StoreError::Corrupt(_))
        ));

        let rotated = KeySealer::new(Keys::new(new.clone(), vec![old]));
        assert_eq!(rotated.open(&sealed, b"aad-1").unwrap(), PAYLOAD);
        let resealed = rotated.seal(PAYLOAD, b"aad-1").unwrap();
        assert!(
            before.open(&resealed, b"aad-1").is_err(),
            "sealed under the new primary"
        );

        let removed = KeySealer::new(Keys::single(new));
        let err = removed.open(&sealed, b"aad-1").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");

        let mut tried = 0;
        for bit in 0..sealed.len() * 8 {
            let mut flipped = sealed.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(rotated.open(&flipped, b"aad-1").is_err());
            tried += 1;
        }
        assert_eq!(tried, sealed.len() * 8);
        for n in 0..sealed.len() {
            assert!(rotated.open(&sealed[..n], b"aad-1").is_err());
        }
    }

    #[tokio::test]
    async fn file_store_encrypts_at_rest_with_the_session_keys() {
        let dir = std::env::temp_dir().join(format!(
            "codec-at-rest-{}-{}",
            std::process::id(),
            Key::generate().id()
        ));
        let (old, new) = (Key::generate(), Key::generate());
        let open = |keys: Keys| {
            FileStore::builder(dir.join("sessions"), keys.clone())
                .sealer(Arc::new(KeySealer::new(keys)))
                .open()
                .unwrap()
        };
        let key = StoreKey([9; 32]);
        let record = Record {
            payload: PAYLOAD.to_vec(),
            expires_at: Timestamp(2_000),
            version: 0,
            principal: None,
        };
        let store = open(Keys::single(old.clone()));
        store.create(&key, &record).await.unwrap();
        let file = std::fs::read(store.path_of(&key)).unwrap();
        assert!(
            !file.windows(6).any(|w| w == b"secret"),
            "plaintext on disk"
        );
        let loaded = store.load(&key, Timestamp(1_000)).await.unwrap().unwrap();
        assert_eq!(loaded.payload, PAYLOAD);

        // Rotated: the old key as a fallback still reads it; the next save re-seals it
        // under the new primary, which the old configuration cannot read.
        let rotated = open(Keys::new(new.clone(), vec![old.clone()]));
        let loaded = rotated.load(&key, Timestamp(1_000)).await.unwrap().unwrap();
        assert_eq!(loaded.payload, PAYLOAD);
        rotated.save(&key, &loaded).await.unwrap();
        let stale = open(Keys::single(old));
        assert!(matches!(
            stale.load(&key, Timestamp(1_000)).await,
            Err(StoreError::Corrupt(_))
        ));
        // Removed key: refused as corrupt, never returned as data.
        let other = open(Keys::generate());
        assert!(matches!(
            other.load(&key, Timestamp(1_000)).await,
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(
            open(Keys::single(new))
                .load(&key, Timestamp(1_000))
                .await
                .unwrap()
                .unwrap()
                .payload,
            PAYLOAD
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The documented format, recomputed here from its description with the primitives
/// themselves, and pinned: a change would log out every user.
mod format_v1 {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hkdf::Hkdf;
    use hmac::{Hmac, Mac};
    use session_runtime::codec::{Codec, CodecContext};
    use session_runtime::keys::{Key, Keys};
    use session_runtime::spec::settings::CookieMode;
    use sha2::Sha256;

    const SIGNED: &str = "EamBvBR7Im4iOjF9p4oR871NR576GTzcPgfypkR4SUHmjYBMVzoJHLKYmvs";
    const ENCRYPTED: &str = "IamBvBSwx3f6PiLIpRTHxlyDZCuPvfyzYVgweaTxYy23Q1hX5jp4YA";
    const PLAINTEXT: &[u8] = br#"{"n":1}"#;

    fn secret() -> Vec<u8> {
        (0u8..32).collect()
    }

    fn derive(info: &[u8], len: usize) -> Vec<u8> {
        let hk = Hkdf::<Sha256>::new(Some(b"session-toolkit key derivation v1"), &secret());
        let mut out = vec![0; len];
        hk.expand(info, &mut out).unwrap();
        out
    }

    /// `len(part) as u32 big-endian || part` for each part.
    fn context(parts: &[&[u8]]) -> Vec<u8> {
        parts
            .iter()
            .flat_map(|p| {
                (p.len() as u32)
                    .to_be_bytes()
                    .into_iter()
                    .chain(p.iter().copied())
            })
            .collect()
    }

    #[test]
    fn key_id_and_signed_value_follow_the_description() {
        let key_id = derive(b"session-toolkit v1 key id", 4);
        let key = Key::from_secret(&secret()).unwrap();
        assert_eq!(key.id().0[..], key_id[..]);
        assert_eq!(key.id().to_string(), "a981bc14");

        let signing = derive(b"session-toolkit v1 hmac-sha256 signing", 32);
        let mut prefix = vec![0x11];
        prefix.extend_from_slice(&key_id);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&signing).unwrap();
        mac.update(&prefix);
        mac.update(&context(&[b"cookie", b"session", b"shop"]));
        mac.update(PLAINTEXT);
        let expected = [&prefix[..], PLAINTEXT, &mac.finalize().into_bytes()].concat();
        assert_eq!(URL_SAFE_NO_PAD.encode(&expected), SIGNED);

        // Format 1 is no longer written, but still opened.
        let codec = Codec::new(CookieMode::Signed, Keys::single(key));
        let ctx = CodecContext::cookie("session", "shop");
        assert_ne!(codec.seal(&ctx, PLAINTEXT).unwrap(), SIGNED);
        assert_eq!(codec.open(&ctx, SIGNED).unwrap().plaintext, PLAINTEXT);
    }

    #[test]
    fn encrypted_value_follows_the_description() {
        let raw = URL_SAFE_NO_PAD.decode(ENCRYPTED).unwrap();
        let key_id = derive(b"session-toolkit v1 key id", 4);
        assert_eq!(raw[0], 0x21);
        assert_eq!(raw[1..5], key_id[..]);
        let encryption = derive(b"session-toolkit v1 aes-256-gcm encryption", 32);
        let cipher = Aes256Gcm::new_from_slice(&encryption).unwrap();
        let aad = [&raw[..5], &context(&[b"cookie", b"session", b"shop"])].concat();
        let plaintext = cipher
            .decrypt(
                Nonce::from_slice(&raw[5..17]),
                Payload {
                    msg: &raw[17..],
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(plaintext, PLAINTEXT);

        let codec = Codec::new(
            CookieMode::Encrypted,
            Keys::single(Key::from_secret(&secret()).unwrap()),
        );
        let ctx = CodecContext::cookie("session", "shop");
        assert_eq!(codec.open(&ctx, ENCRYPTED).unwrap().plaintext, PLAINTEXT);
    }

    /// Format 2: the header (0x12 or 0x22), the key id's first byte, and for the signed
    /// mode the first 16 bytes of the HMAC-SHA256 tag.
    #[test]
    fn format_2_follows_the_description() {
        let key_id = derive(b"session-toolkit v1 key id", 4);
        let key = Key::from_secret(&secret()).unwrap();
        let ctx = CodecContext::cookie("session", "shop");

        let signing = derive(b"session-toolkit v1 hmac-sha256 signing", 32);
        let prefix = [0x12, key_id[0]];
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&signing).unwrap();
        mac.update(&prefix);
        mac.update(&context(&[b"cookie", b"session", b"shop"]));
        mac.update(PLAINTEXT);
        let expected = [&prefix[..], PLAINTEXT, &mac.finalize().into_bytes()[..16]].concat();
        let signed = Codec::new(CookieMode::Signed, Keys::single(key.clone()));
        let value = signed.seal(&ctx, PLAINTEXT).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&value).unwrap(), expected);
        assert_eq!(signed.open(&ctx, &value).unwrap().plaintext, PLAINTEXT);
        // 2 + 7 + 16 bytes: 34 characters.
        assert_eq!(value.len(), 34);

        let encrypted = Codec::new(CookieMode::Encrypted, Keys::single(key));
        let value = encrypted.seal(&ctx, PLAINTEXT).unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        assert_eq!(raw[..2], [0x22, key_id[0]]);
        let encryption = derive(b"session-toolkit v1 aes-256-gcm encryption", 32);
        let cipher = Aes256Gcm::new_from_slice(&encryption).unwrap();
        let aad = [&raw[..2], &context(&[b"cookie", b"session", b"shop"])].concat();
        let plaintext = cipher
            .decrypt(
                Nonce::from_slice(&raw[2..14]),
                Payload {
                    msg: &raw[14..],
                    aad: &aad,
                },
            )
            .unwrap();
        assert_eq!(plaintext, PLAINTEXT);
        // 2 + 12 + 7 + 16 bytes.
        assert_eq!(raw.len(), 37);
    }
}
