//! Keys: length check, text forms, sources, redacted `Debug`.

use std::path::Path;

use session_runtime::keys::{Key, KeyError, Keys};
use session_runtime::spec::settings::KeySource;

const SECRET: &str = "correct horse battery staple, 32+";
const B64: &str = "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"; // bytes 0..32

fn source(env: &str, fallbacks: &[&str]) -> KeySource {
    KeySource {
        env: env.into(),
        fallback_env: fallbacks.iter().map(|s| (*s).to_owned()).collect(),
        file: None,
    }
}

#[test]
fn secrets_under_32_bytes_are_refused_with_a_clear_message() {
    for len in [0, 1, 16, 31] {
        let err = Key::from_secret(&vec![7u8; len]).unwrap_err();
        assert!(
            matches!(err, KeyError::TooShort { len: l, min: 32, .. } if l == len),
            "{err:?}"
        );
        assert!(err.to_string().contains("at least 32"), "{err}");
    }
    assert!(Key::from_secret(&[7u8; 32]).is_ok());
    // base64 of 31 bytes is too short too, whatever the text length.
    let b64_31 = format!("base64:{}", "AAAA".repeat(10) + "AA"); // 42 characters = 31 bytes
    assert!(matches!(
        Key::from_text(&b64_31, "test"),
        Err(KeyError::TooShort { len: 31, .. })
    ));
}

#[test]
fn text_forms_base64_and_raw() {
    let from_b64 = Key::from_text(B64, "test").unwrap();
    let bytes: Vec<u8> = (0..32).collect();
    assert_eq!(from_b64, Key::from_secret(&bytes).unwrap());
    // Standard alphabet, padding, surrounding whitespace: the same key.
    let padded = "  base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
    assert_eq!(Key::from_text(padded, "test").unwrap(), from_b64);
    let raw = Key::from_text(&format!("{SECRET}\n"), "test").unwrap();
    assert_eq!(raw, Key::from_secret(SECRET.as_bytes()).unwrap());
    assert_ne!(raw, from_b64);
    assert!(matches!(
        Key::from_text("base64:not*base64!", "line 3 of `k`"),
        Err(KeyError::InvalidBase64 { origin }) if origin == "line 3 of `k`"
    ));
}

#[test]
fn subkeys_and_ids_differ_per_key_and_are_stable() {
    let a = Key::from_text(B64, "a").unwrap();
    let b = Key::from_text(SECRET, "b").unwrap();
    assert_eq!(a.id(), Key::from_text(B64, "again").unwrap().id());
    assert_ne!(a.id(), b.id());
    assert_ne!(Key::generate(), Key::generate());
}

#[test]
fn debug_prints_no_secret() {
    let key = Key::from_text(SECRET, "test").unwrap();
    let old = Key::from_text(B64, "test").unwrap();
    let shown = |k: &Key| format!("Key {{ id: {}, secret: <redacted> }}", k.id());
    assert_eq!(format!("{key:?}"), shown(&key));
    let keys = Keys::new(key.clone(), vec![old.clone()]);
    assert_eq!(
        format!("{keys:?}"),
        format!(
            "Keys {{ primary: {}, fallbacks: [{}] }}",
            shown(&key),
            shown(&old)
        )
    );
    let pretty = format!("{keys:#?}");
    assert!(
        !pretty.contains("horse") && !pretty.contains("AAECAw"),
        "{pretty}"
    );
    assert_eq!(pretty.matches("<redacted>").count(), 2, "{pretty}");
}

#[test]
fn keys_from_variables_in_order() {
    let src = source("K", &["K1", "K2"]);
    let keys = Keys::from_lookup(&src, |var| match var {
        "K" => Some(B64.into()),
        "K1" => Some(SECRET.into()),
        "K2" => Some(format!("{SECRET} two")),
        _ => None,
    })
    .unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys.primary, Key::from_text(B64, "").unwrap());
    assert_eq!(keys.get(1), Some(&Key::from_text(SECRET, "").unwrap()));
    assert_eq!(
        keys.get(2),
        Some(&Key::from_text(&format!("{SECRET} two"), "").unwrap())
    );
    assert_eq!(keys.get(3), None);
    assert_eq!(keys.iter().count(), 3);
}

#[test]
fn missing_and_short_variables_are_named_never_their_value() {
    let src = source("APP_KEY", &["APP_KEY_OLD"]);
    let err = Keys::from_lookup(&src, |_| None).unwrap_err();
    assert!(matches!(&err, KeyError::Missing { var } if var == "APP_KEY"));
    assert!(
        err.to_string()
            .starts_with("environment variable `APP_KEY` holding a session key is not set"),
        "{err}"
    );
    // An empty variable is an error of its own (never a reason for an ephemeral key).
    let err = Keys::from_lookup(&src, |v| (v == "APP_KEY").then(|| " \n".into())).unwrap_err();
    assert!(matches!(&err, KeyError::Empty { var } if var == "APP_KEY"));
    // The fallback variable is named when it is the one missing.
    let err = Keys::from_lookup(&src, |v| (v == "APP_KEY").then(|| SECRET.into())).unwrap_err();
    assert!(matches!(&err, KeyError::Missing { var } if var == "APP_KEY_OLD"));
    // A short value: named, not shown.
    let err = Keys::from_lookup(&src, |v| {
        Some(if v == "APP_KEY" {
            SECRET.into()
        } else {
            "hunter2".into()
        })
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`APP_KEY_OLD`") && msg.contains("7 bytes"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn process_environment_is_read() {
    // Variables are read, not written (changing the environment is unsafe in threaded
    // tests): PATH is set in every test run and long enough to be a key... or not.
    let src = source("PATH", &[]);
    match Keys::from_source(&src) {
        Ok(keys) => assert_eq!(keys.len(), 1),
        Err(KeyError::TooShort { origin, .. } | KeyError::LowEntropy { origin, .. }) => {
            assert_eq!(origin, "environment variable `PATH`")
        }
        Err(e) => panic!("unexpected {e}"),
    }
    let src = source("SESSION_TOOLKIT_TEST_SURELY_UNSET_VARIABLE", &[]);
    assert!(matches!(
        Keys::from_source(&src),
        Err(KeyError::Missing { var }) if var == "SESSION_TOOLKIT_TEST_SURELY_UNSET_VARIABLE"
    ));
}

#[test]
fn key_file_first_line_primary_then_fallbacks() {
    let text = format!("# rotated 2026-11\n{B64}\n\n{SECRET}\r\n  # old\n{SECRET} two\n");
    let keys = Keys::from_file_text(&text, Path::new("keys.txt")).unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys.primary, Key::from_text(B64, "").unwrap());
    assert_eq!(keys.fallbacks[0], Key::from_text(SECRET, "").unwrap());

    let err = Keys::from_file_text("# nothing\n\n", Path::new("keys.txt")).unwrap_err();
    assert!(matches!(err, KeyError::EmptyFile { .. }));
    let err =
        Keys::from_file_text(&format!("{B64}\n\nshort\n"), Path::new("keys.txt")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "session key from line 3 of `keys.txt` has 5 bytes of secret, at least 32 are \
         required (generate one with 32 random bytes, written as `base64:...`)"
    );
}

#[test]
fn key_file_on_disk_and_file_errors() {
    let dir = std::env::temp_dir().join(format!("session-keys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys");
    let generated = Key::generate_text().unwrap();
    std::fs::write(&path, format!("{generated}\n{B64}\n")).unwrap();
    // `file` wins over `env`.
    let src = KeySource {
        env: "SESSION_TOOLKIT_TEST_SURELY_UNSET_VARIABLE".into(),
        fallback_env: vec![],
        file: Some(path.clone()),
    };
    let keys = Keys::from_source(&src).unwrap();
    assert_eq!(keys.primary, Key::from_text(&generated, "").unwrap());
    assert_eq!(keys.fallbacks, [Key::from_text(B64, "").unwrap()]);

    let missing = dir.join("absent");
    let err = Keys::from_file(&missing).unwrap_err();
    assert!(matches!(err, KeyError::File { .. }));
    assert!(
        err.to_string()
            .starts_with("cannot read session key file `"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generated_keys_are_fresh_and_full_length() {
    let a = Key::generate_text().unwrap();
    let b = Key::generate_text().unwrap();
    assert_ne!(a, b);
    assert_eq!(a.len(), "base64:".len() + 43);
    assert_ne!(Keys::generate(), Keys::generate());
}
