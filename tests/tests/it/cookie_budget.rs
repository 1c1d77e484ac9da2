//! The cookie budget's constants (`session_spec::budget::Overhead`) against the real
//! runtime: a session filled to the largest size its rules allow is sealed by the cookie
//! backend, and its `name=value` must fit within the budget the spec computes, with no
//! more room left over than the parts the budget deliberately over-counts (timestamps
//! and the schema version at their widest). When the runtime's envelope or codec changes
//! size, this test fails until the constants follow.

use std::collections::BTreeMap;

use session_runtime::keys::Keys;
use session_runtime::{SessionManager, SessionSchema, Settings};
use session_spec::CookieMode;
use session_spec::budget::{Overhead, base64_len, cookie_budget};

mod budget {
    include!(concat!(env!("OUT_DIR"), "/budget.rs"));
}

use budget::{Budget, BudgetExt, Colour};

/// What the budget over-counts for a session sealed today: the timestamps' digits (ten
/// in this century, twenty in the budget) and nothing else.
fn allowed_slack() -> usize {
    let plaintext = Overhead::TIMESTAMPS * (Overhead::TIMESTAMP - 10);
    base64_len(plaintext) + 2
}

async fn sealed_worst_case(settings: Settings) -> usize {
    let manager = SessionManager::<Budget>::cookie(settings, Keys::generate()).unwrap();
    let session = manager.load(Vec::<String>::new()).await.unwrap();
    // Every field at its longest JSON text.
    session.set_note("\u{1}".repeat(40)).unwrap();
    session.set_code(Some("Z".repeat(12))).unwrap();
    session.set_tags(vec!["😀".repeat(10); 6]).unwrap();
    let counts: BTreeMap<String, i64> = [
        "\u{2}\u{2}\u{2}\u{2}\u{2}",
        "\u{3}\u{3}\u{3}\u{3}\u{3}",
        "\u{4}\u{4}\u{4}\u{4}\u{4}",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), i64::MIN))
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
        let real = sealed_worst_case(settings).await;
        eprintln!("{mode:?}: sealed worst case {real} bytes, budget {computed} bytes");
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
