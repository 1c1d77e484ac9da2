//! Session ids: uniqueness, the one canonical encoding, store keys, redacted `Debug`.

use std::collections::HashSet;

use proptest::prelude::*;
use session_runtime::id::{IdError, SessionId};
use sha2::{Digest, Sha256};

#[test]
fn ids_do_not_repeat_over_many_draws() {
    const DRAWS: usize = 100_000;
    let mut seen = HashSet::with_capacity(DRAWS);
    let mut keys = HashSet::with_capacity(DRAWS);
    for _ in 0..DRAWS {
        let id = SessionId::generate().unwrap();
        assert!(keys.insert(id.store_key()));
        assert!(seen.insert(id.as_str().to_owned()));
    }
    assert_eq!(seen.len(), DRAWS);
}

#[test]
fn ids_use_every_bit() {
    // Over 1,000 ids every one of the 128 bit positions is set at least once and clear at
    // least once (a stuck bit would mean less than 128 bits of randomness).
    let mut ones = [0u32; 128];
    for _ in 0..1000 {
        let id = SessionId::generate().unwrap();
        let bytes = base64_decode(id.as_str());
        for (i, count) in ones.iter_mut().enumerate() {
            *count += u32::from(bytes[i / 8] >> (i % 8) & 1);
        }
    }
    assert!(ones.iter().all(|&n| n > 0 && n < 1000), "{ones:?}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[test]
fn text_form_is_22_url_safe_characters_and_roundtrips() {
    for _ in 0..1000 {
        let id = SessionId::generate().unwrap();
        let text = id.as_str();
        assert_eq!(text.len(), 22);
        assert_eq!(id.as_bytes().len(), 16);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        assert_eq!(id.to_string(), text);
        let parsed: SessionId = text.parse().unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.as_str(), text);
    }
}

#[test]
fn store_key_is_sha256_of_the_raw_id() {
    let id = SessionId::generate().unwrap();
    let expected: [u8; 32] = Sha256::digest(base64_decode(id.as_str())).into();
    assert_eq!(id.store_key().0, expected);
    // Not the hash of the text form, and not the id itself.
    assert_ne!(
        id.store_key().0[..],
        Sha256::digest(id.as_str().as_bytes())[..]
    );
}

#[test]
fn debug_does_not_print_the_id() {
    let id = SessionId::generate().unwrap();
    let debug = format!("{id:?}");
    assert!(!debug.contains(id.as_str()), "{debug}");
    // Not even a long piece of it.
    for window in id.as_str().as_bytes().windows(8) {
        assert!(
            !debug.contains(std::str::from_utf8(window).unwrap()),
            "{debug}"
        );
    }
    assert!(debug.starts_with("SessionId(sha256:"), "{debug}");
}

#[test]
fn malicious_and_malformed_ids_are_refused() {
    let good = SessionId::generate().unwrap();
    let good = good.as_str();
    let long = "A".repeat(10_000);
    let cases: Vec<String> = vec![
        String::new(),
        "../x".into(),
        "/etc/passwd".into(),
        format!("{}\0", &good[..21]),
        format!("{good}="),
        format!("{good}A"),
        good[..21].to_owned(),
        // standard alphabet instead of url-safe
        format!("{}+", &good[..21]),
        format!("{}/", &good[..21]),
        format!("{}.", &good[..21]),
        format!("{} ", &good[..21]),
        format!("{}é", &good[..20]),
        long,
        "A".repeat(44),
        "A".repeat(42),
        "A".repeat(23),
    ];
    for case in &cases {
        assert!(SessionId::parse(case).is_err(), "accepted {case:?}");
    }
    assert_eq!(
        SessionId::parse("x"),
        Err(IdError::Length {
            expected: 22,
            found: 1
        })
    );
    assert!(
        !IdError::Encoding.to_string().contains(good),
        "messages never repeat the value"
    );
}

#[test]
fn non_canonical_trailing_bits_are_refused() {
    // 22 characters carry 132 bits; the last character's four low bits must be zero.
    let id = SessionId::generate().unwrap();
    let text = id.as_str();
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = ALPHABET
        .iter()
        .position(|&c| c == text.as_bytes()[21])
        .unwrap();
    assert_eq!(last & 15, 0);
    let mut refused = 0;
    for low in 1..16 {
        let mut other = text.as_bytes().to_vec();
        other[21] = ALPHABET[last | low];
        let other = String::from_utf8(other).unwrap();
        assert_eq!(SessionId::parse(&other), Err(IdError::Encoding), "{other}");
        refused += 1;
    }
    assert_eq!(refused, 15);
    // The same for an id of the previous format: 43 characters, two low bits.
    let old = legacy_id(&[0xab; 32]);
    let mut other = old.as_bytes().to_vec();
    other[42] = ALPHABET[ALPHABET.iter().position(|&c| c == other[42]).unwrap() | 1];
    let other = String::from_utf8(other).unwrap();
    assert_eq!(SessionId::parse(&other), Err(IdError::Encoding));
}

fn legacy_id(bytes: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Ids issued before ids were shortened (32 bytes, 43 characters) still parse, keep their
/// store key (SHA-256 of their 32 bytes), and never equal a new id.
#[test]
fn ids_of_the_previous_format_still_parse_with_the_same_store_key() {
    let bytes = [7u8; 32];
    let text = legacy_id(&bytes);
    assert_eq!(text.len(), SessionId::LEGACY_ENCODED_LEN);
    let id = SessionId::parse(&text).unwrap();
    assert_eq!(id.as_str(), text);
    assert_eq!(id.as_bytes(), &bytes[..]);
    let expected: [u8; 32] = Sha256::digest(bytes).into();
    assert_eq!(id.store_key().0, expected);
    let new = SessionId::generate().unwrap();
    assert_ne!(id, new);
    assert_ne!(id.store_key(), new.store_key());
    // A new id with the first 16 of those bytes is another id.
    let short = SessionId::parse(&{
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..16])
    })
    .unwrap();
    assert_ne!(id, short);
    assert_ne!(id.store_key(), short.store_key());
}

proptest! {
    #[test]
    fn parse_accepts_exactly_the_canonical_form(s in "\\PC{0,50}") {
        // Never panics; accepts only what it would itself write.
        if let Ok(id) = SessionId::parse(&s) {
            prop_assert_eq!(id.as_str(), s.as_str());
        }
    }

    #[test]
    fn parse_of_22_url_safe_characters_roundtrips_or_refuses(s in "[A-Za-z0-9_-]{22}") {
        match SessionId::parse(&s) {
            Ok(id) => prop_assert_eq!(id.as_str(), s.as_str()),
            Err(e) => prop_assert_eq!(e, IdError::Encoding),
        }
    }

    #[test]
    fn parse_roundtrips_random_16_bytes(bytes in proptest::array::uniform16(any::<u8>())) {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let id = SessionId::parse(&text).unwrap();
        prop_assert_eq!(id.as_str(), text.as_str());
        let expected: [u8; 32] = Sha256::digest(bytes).into();
        prop_assert_eq!(id.store_key().0, expected);
    }

    #[test]
    fn parse_of_43_url_safe_characters_roundtrips_or_refuses(s in "[A-Za-z0-9_-]{43}") {
        match SessionId::parse(&s) {
            Ok(id) => prop_assert_eq!(id.as_str(), s.as_str()),
            Err(e) => prop_assert_eq!(e, IdError::Encoding),
        }
    }

    #[test]
    fn parse_agrees_with_the_strict_base64_engine(
        s in "[A-Za-z0-9_+/=.-]{22}|[A-Za-z0-9_+/=.-]{43}|[AQgw_-]{21}[A-Za-z0-9_-]|[AQgw_-]{42}[A-Za-z0-9_-]"
    ) {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&s).ok();
        match SessionId::parse(&s) {
            Ok(id) => {
                prop_assert_eq!(Some(id.as_bytes().to_vec()), engine);
                // Accepted only when it is the one spelling of its bytes.
                let again = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes());
                prop_assert_eq!(again.as_str(), s.as_str());
            }
            Err(e) => {
                prop_assert_eq!(e, IdError::Encoding);
                prop_assert_eq!(engine, None);
            }
        }
    }

    #[test]
    fn parse_roundtrips_random_bytes(bytes in proptest::array::uniform32(any::<u8>())) {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let id = SessionId::parse(&text).unwrap();
        prop_assert_eq!(id.as_str(), text.as_str());
        let expected: [u8; 32] = Sha256::digest(bytes).into();
        prop_assert_eq!(id.store_key().0, expected);
    }
}

#[test]
fn an_id_is_one_pointer_wide_and_clones_share_it() {
    // A request's session state, commit plan and futures carry several ids (loaded, via,
    // obsolete, ...) and are moved whole: an id is held by pointer, not as its 112 bytes.
    assert_eq!(size_of::<Option<SessionId>>(), size_of::<usize>());
    let id = SessionId::parse(SessionId::generate().unwrap().as_str()).unwrap();
    let copy = id.clone();
    assert_eq!(copy, id);
    assert_eq!(copy.as_str(), id.as_str());
    assert_eq!(copy.store_key(), id.store_key());
    assert_eq!(
        id.store_key().0,
        <[u8; 32]>::from(Sha256::digest(id.as_bytes()))
    );
}

#[tokio::test]
async fn the_memory_store_keeps_keys_that_differ_only_in_their_last_byte_apart() {
    use session_runtime::Timestamp;
    use session_runtime::store::{MemoryStore, Record, SessionStore, StoreKey};
    let store = MemoryStore::new();
    for last in 0..=255u8 {
        let mut key = [0xab; 32];
        key[31] = last;
        let record = Record {
            payload: vec![last],
            expires_at: Timestamp(100),
            version: 0,
            principal: None,
        };
        store.create(&StoreKey(key), &record).await.unwrap();
    }
    assert_eq!(store.len(), 256);
    for last in 0..=255u8 {
        let mut key = [0xab; 32];
        key[31] = last;
        let record = store
            .load(&StoreKey(key), Timestamp(0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.payload, vec![last]);
    }
}
