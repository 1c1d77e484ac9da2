//! The cookie budget's constants (`session_spec::budget::Overhead`) against the real
//! runtime: a session filled to the largest size its rules allow is sealed by the cookie
//! backend, and its `name=value` must fit within the budget the spec computes, with no
//! more room left over than the part the budget deliberately over-counts (the times at
//! their widest varints). The session is one issued before ids were shortened (its 32-byte
//! id is the envelope's largest); a fresh session is measured too. When the runtime's
//! envelope, payload encoding or codec changes size, this test fails until the budget
//! follows.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use session_runtime::codec::{Codec, CodecContext};
use session_runtime::keys::Keys;
use session_runtime::{SessionManager, SessionSchema, Settings};
use session_spec::CookieMode;
use session_spec::budget::{Overhead, base64_len, cookie_budget};

#[allow(unreachable_pub)]
mod budget {
    include!(concat!(env!("OUT_DIR"), "/budget.rs"));
}

use budget::{Budget, BudgetExt, Colour};

/// What the budget over-counts for a session sealed today: the times only. The budget
/// counts each of the four at `Overhead::TIMESTAMP` bytes, the zigzag varint of any `i64`
/// (the envelope's times are `i64` seconds, and the budget must hold whatever the clock
/// says); a session sealed today writes at least one byte for created, last seen and the
/// expiry each, and none for the id issued when it was issued at creation. So up to
/// `4 * 10 - 3` bytes of plaintext are over-counted, which the varint worst case requires
/// (with the old JSON envelope the same margin was the timestamps' digits, 40 bytes).
fn allowed_slack() -> usize {
    let plaintext = Overhead::TIMESTAMPS * Overhead::TIMESTAMP - 3;
    base64_len(plaintext) + 2
}

/// A cookie of format 1 (JSON payload) carrying a 32-byte id of the previous format, as
/// a session issued before ids were shortened: the runtime keeps that id when it writes
/// the session again, so it is the envelope's largest.
fn legacy_cookie(manager: &SessionManager<Budget>, keys: Keys, mode: CookieMode) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let payload = format!(
        r#"{{"f":1,"s":{},"id":"{}","c":{now},"i":{now},"l":{now},"e":{},"d":{{"note":"","code":null,"tags":[],"counts":{{}},"small":0,"big":null,"ratio":0.0,"flag":false,"colour":"red"}}}}"#,
        u32::MAX,
        "A".repeat(43),
        now + 600,
    );
    let ctx = CodecContext::cookie(manager.cookie_name(), Budget::NAME);
    let value = Codec::new(mode, keys)
        .seal(&ctx, payload.as_bytes())
        .unwrap();
    format!("{}={value}", manager.cookie_name())
}

/// The sealed `name=value` of a session filled to its largest, as a fresh session or as
/// one with an id of the previous format.
async fn sealed_worst_case(settings: Settings, legacy_id: bool) -> usize {
    let keys = Keys::generate();
    let mode = settings.cookie_mode;
    let manager = SessionManager::<Budget>::cookie(settings, keys.clone()).unwrap();
    let headers: Vec<String> = if legacy_id {
        vec![legacy_cookie(&manager, keys, mode)]
    } else {
        Vec::new()
    };
    let session = manager.load(headers).await.unwrap();
    // Every field at its longest encoding: strings of four-byte characters where no
    // pattern limits them, the widest varints.
    session.set_note("😀".repeat(40)).unwrap();
    session.set_code(Some("Z".repeat(12))).unwrap();
    session.set_tags(vec!["😀".repeat(10); 6]).unwrap();
    let counts: BTreeMap<String, i64> = ["😀", "😁", "😂"]
        .into_iter()
        .map(|k| (k.repeat(5), i64::MIN))
        .collect();
    session.set_counts(counts).unwrap();
    session.set_small(-128).unwrap();
    session.set_big(Some(u64::MAX)).unwrap();
    session.set_ratio(-2.225_073_858_507_201_4e-308).unwrap();
    session.set_flag(false).unwrap();
    session.set_colour(Colour::Ultraviolet).unwrap();
    let set = manager.commit(&session, false).await.unwrap();
    assert_eq!(set.len(), 1, "{set:?}");
    let pair = set[0].split(';').next().unwrap();
    pair.len() - 1 // the `=` is not counted by browsers' limit
}

#[tokio::test]
async fn the_budget_bounds_the_real_cookie_tightly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/budget.toml");
    let schema = session_spec::parse::parse_file(path).unwrap();
    for mode in [CookieMode::Encrypted, CookieMode::Signed] {
        let mut schema = schema.clone();
        schema.settings.cookie_mode = mode;
        let budget = cookie_budget(&schema);
        let computed = budget.total().expect("every field is bounded");
        let settings = Settings {
            cookie_mode: mode,
            ..Budget::settings()
        };
        let fresh = sealed_worst_case(settings.clone(), false).await;
        let real = sealed_worst_case(settings, true).await;
        eprintln!(
            "{mode:?}: sealed worst case {real} bytes ({fresh} with a new id), budget {computed} bytes"
        );
        // The old id's 16 extra bytes, in base64 (give or take the padding's rounding).
        assert!(
            real - fresh >= base64_len(16) - 1,
            "{mode:?}: the session did not keep its 32-byte id ({real} vs {fresh} bytes)"
        );
        assert!(
            real <= computed,
            "{mode:?}: the runtime sealed {real} bytes, more than the budget's {computed}: \
             raise the constants of `session_spec::budget::Overhead`"
        );
        assert!(
            computed - real <= allowed_slack(),
            "{mode:?}: the budget says {computed} bytes for a cookie of {real}: \
             the runtime's format shrank, lower the constants of `session_spec::budget::Overhead`"
        );
    }
}

/// The generated schema carries the budget the spec computes, so the runtime can check it
/// when a deployment changes the backend.
#[test]
fn the_schema_carries_its_worst_case_data_size() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/budget.toml");
    let schema = session_spec::parse::parse_file(path).unwrap();
    let data = cookie_budget(&schema).data();
    assert!(data.is_some());
    assert_eq!(Budget::COOKIE_DATA_BYTES, data);
}

/// A session kept server-side may allow more than a cookie holds (50 items of 64
/// characters); the build accepts it on the memory backend.
#[derive(session_runtime::Session)]
#[session(backend = "memory")]
struct BigCart {
    #[session(default, max_items = 50, max_length = 64)]
    cart: Vec<String>,
}

/// Regression: a deployment that switched such a schema to the cookie backend at start-up
/// (`SESSION_BACKEND=cookie`) was accepted, and the 35th item gave an empty `500`. The
/// switch is refused at start-up, with the numbers.
#[test]
fn switching_an_overflowing_schema_to_cookies_is_refused_at_start_up() {
    use session_runtime::config;
    let vars = [("SESSION_BACKEND".into(), "cookie".into())];
    let settings = config::load_with(BigCart::settings(), None, vars).unwrap();
    let Err(err) = SessionManager::<BigCart>::cookie(settings, Keys::generate()) else {
        panic!("an overflowing schema was accepted on the cookie backend");
    };
    let message = err.to_string();
    eprintln!("{message}");
    let data = BigCart::COOKIE_DATA_BYTES.expect("the cart is bounded");
    let total = Overhead::cookie_bytes("session".len(), CookieMode::Encrypted, 1, data);
    assert!(total > 4096, "{total}");
    assert!(
        message.contains(&format!("{total} bytes"))
            && message.contains(&format!("{} over", total - 4096))
            && message.contains("`BigCart`"),
        "{message}"
    );
}

/// A schema whose worst case fits is accepted on the cookie backend however it got there,
/// and one whose size cannot be proven is not refused (its build warned).
#[test]
fn switching_a_schema_that_fits_to_cookies_is_accepted() {
    #[derive(session_runtime::Session)]
    #[session(backend = "memory")]
    struct SmallCart {
        #[session(default, max_items = 10, max_length = 16)]
        cart: Vec<String>,
    }
    #[derive(session_runtime::Session)]
    #[session(backend = "memory")]
    struct Unbounded {
        #[session(default)]
        note: String,
    }
    use session_runtime::config;
    let vars = || [("SESSION_BACKEND".into(), "cookie".into())];
    let settings = config::load_with(SmallCart::settings(), None, vars()).unwrap();
    assert!(SessionManager::<SmallCart>::cookie(settings, Keys::generate()).is_ok());
    assert_eq!(Unbounded::COOKIE_DATA_BYTES, None);
    let settings = config::load_with(Unbounded::settings(), None, vars()).unwrap();
    assert!(SessionManager::<Unbounded>::cookie(settings, Keys::generate()).is_ok());
}
