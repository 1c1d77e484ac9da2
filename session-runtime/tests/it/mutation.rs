//! The mutation run (issue 10): cookie values mutated every way a client can (bit flips,
//! truncations, splices, duplications, cookies of other names, schemas and keys, expired
//! replays), each driven through the public [`SessionManager::load`]. None may open as a
//! session whose data differs from the cookie it came from, and nothing may panic.
//!
//! The test command runs a reduced run (20,000 cookies per cookie mode); set
//! `SESSION_MUTATION_COOKIES` for a bigger one, e.g. the issue's 1,000,000:
//!
//! ```sh
//! SESSION_MUTATION_COOKIES=500000 cargo test --release -p session-runtime --all-features \
//!     --test it mutation -- --nocapture      # 500,000 per mode, 1,000,000 in all
//! ```

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::keys::Keys;
use session_runtime::spec::CookieMode;
use session_runtime::{Map, MockClock, SessionManager, Settings, Timestamp};

use crate::support::{ShopV1, T0, settings};

/// Cookies per cookie mode under the test command.
const REDUCED: u64 = 20_000;

/// xorshift64*: deterministic, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The sealed bytes of a cookie value (unpadded base64url today; should the cookie format
/// change, the value's own bytes, so that the byte-level mutations still apply).
fn sealed_bytes(value: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(value)
        .unwrap_or_else(|_| value.as_bytes().to_vec())
}

/// The cookie value of mutated sealed bytes (the inverse of [`sealed_bytes`] for base64
/// values; other bytes are sent as base64url too, which a different format refuses).
fn encode(raw: Vec<u8>) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// An original cookie and the data it carries.
struct Original {
    value: String,
    data: Map,
}

fn manager(mode: CookieMode, name: &str, keys: Keys, clock: &MockClock) -> SessionManager {
    let settings = Settings {
        cookie_mode: mode,
        cookie_name: name.to_owned(),
        ..settings()
    };
    SessionManager::cookie(settings, keys)
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

/// A sealed cookie value holding `n` and a string of `len` characters.
async fn seal(manager: &SessionManager, n: u64, len: usize) -> Original {
    let session = manager.load(None::<&str>).await.unwrap();
    session.set("user", &format!("user{n}")).unwrap();
    session.set("note", &"x".repeat(len)).unwrap();
    session.set("n", &n).unwrap();
    let set = manager.commit(&session, false).await.unwrap();
    let value = set[0]
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    Original {
        value,
        data: session.get_all(),
    }
}

#[derive(Debug, Default)]
struct Tally {
    tried: u64,
    /// Opened, with the same data as the original (a mutation that gave back the sealed
    /// bytes of an original, e.g. a splice at a point where two originals agree).
    same: u64,
    /// Opened with other data than the cookie it came from: must stay 0.
    different: u64,
}

#[tokio::test(flavor = "current_thread")]
async fn mutated_cookies_never_open_as_another_session() {
    let per_mode: u64 = std::env::var("SESSION_MUTATION_COOKIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(REDUCED);
    let seed = 0x5e55_1011_u64 ^ per_mode;
    let mut total = Tally::default();
    for mode in [CookieMode::Signed, CookieMode::Encrypted] {
        let clock = MockClock::new(Timestamp(T0));
        let keys = Keys::generate();
        let target = manager(mode, "session", keys.clone(), &clock);
        let mut originals = Vec::new();
        for n in 0..8 {
            originals.push(seal(&target, n, (n as usize) * 37).await);
        }
        // Valid cookies that are not this manager's: another name, another schema, other keys.
        let foreign_name = manager(mode, "other", keys.clone(), &clock);
        let foreign_keys = manager(mode, "session", Keys::generate(), &clock);
        let other_schema: SessionManager<ShopV1> = SessionManager::cookie(
            Settings {
                cookie_mode: mode,
                ..settings()
            },
            keys.clone(),
        )
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
        let mut foreign = vec![
            seal(&foreign_name, 100, 10).await.value,
            seal(&foreign_keys, 101, 10).await.value,
        ];
        let s = other_schema.load(None::<&str>).await.unwrap();
        session_runtime::__private::set(&s, "count", "count", &7u32).unwrap();
        let set = other_schema.commit(&s, false).await.unwrap();
        foreign.push(
            set[0]
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1
                .to_owned(),
        );
        // An expired replay: sealed now, replayed after its deadline.
        let expired = seal(&target, 200, 5).await.value;

        let mut rng = Rng(seed ^ mode as u64 ^ 0x9e37_79b9_7f4a_7c15);
        let mut tally = Tally::default();
        for i in 0..per_mode {
            let o = &originals[rng.below(originals.len())];
            let v = o.value.as_bytes();
            let kind = i % 10;
            let (value, replay_expired) = match kind {
                // One bit of the sealed bytes flipped (decoded, flipped, re-encoded).
                0 | 1 => {
                    let mut raw = sealed_bytes(&o.value);
                    let at = rng.below(raw.len());
                    raw[at] ^= 1 << rng.below(8);
                    (encode(raw), false)
                }
                // One bit of the text flipped (often no longer base64 at all).
                2 => {
                    let mut text = v.to_vec();
                    let at = rng.below(text.len());
                    text[at] ^= 1 << rng.below(7);
                    (String::from_utf8_lossy(&text).into_owned(), false)
                }
                // Truncated.
                3 => (o.value[..rng.below(v.len())].to_owned(), false),
                // Spliced with another original at a random point.
                4 => {
                    let other = &originals[rng.below(originals.len())].value;
                    let at = rng.below(v.len().min(other.len()));
                    (format!("{}{}", &o.value[..at], &other[at..]), false)
                }
                // A run of characters duplicated or dropped.
                5 => {
                    let at = rng.below(v.len());
                    let len = 1 + rng.below(8).min(v.len() - at - 1);
                    let end = (at + len).min(v.len());
                    if rng.below(2) == 0 {
                        (format!("{}{}", &o.value[..end], &o.value[at..]), false)
                    } else {
                        (format!("{}{}", &o.value[..at], &o.value[end..]), false)
                    }
                }
                // Random bytes of the sealed value replaced.
                6 => {
                    let mut raw = sealed_bytes(&o.value);
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(raw.len());
                        raw[at] = rng.next() as u8;
                    }
                    (encode(raw), false)
                }
                // A valid cookie of another name, schema or key; sometimes mutated too.
                7 => {
                    let f = &foreign[rng.below(foreign.len())];
                    if rng.below(2) == 0 {
                        (f.clone(), false)
                    } else {
                        let mut raw = sealed_bytes(f);
                        let at = rng.below(raw.len());
                        raw[at] ^= 1 << rng.below(8);
                        (encode(raw), false)
                    }
                }
                // An expired replay.
                8 => (expired.clone(), true),
                // Random base64 of a plausible length.
                _ => {
                    let len = rng.below(2 * v.len());
                    let raw: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    (encode(raw), false)
                }
            };
            if replay_expired {
                clock.advance(365 * 24 * 3600);
            }
            let header = format!("session={value}");
            let session = target.load([header.as_str()]).await.unwrap();
            if replay_expired {
                clock.set(Timestamp(T0));
            }
            tally.tried += 1;
            if session.id().is_some() {
                // Accepted: only fine when the value is (the same sealed bytes as) one of
                // the valid originals, carrying exactly that original's data, and not past
                // its deadline.
                let raw = URL_SAFE_NO_PAD.decode(&value).ok();
                let same = originals.iter().find(|o| {
                    o.value == value
                        || (raw.is_some() && URL_SAFE_NO_PAD.decode(&o.value).ok() == raw)
                });
                match same {
                    Some(same) if !replay_expired && session.get_all() == same.data => {
                        tally.same += 1;
                    }
                    _ => {
                        tally.different += 1;
                        eprintln!("{mode:?}: mutation {kind} accepted with other data: {value}");
                    }
                }
            }
        }
        eprintln!("{mode:?}: {tally:?}");
        total.tried += tally.tried;
        total.same += tally.same;
        total.different += tally.different;
    }
    eprintln!(
        "mutation run: {} cookies, {} opened unchanged, {} opened as another session, 0 panics",
        total.tried, total.same, total.different
    );
    assert_eq!(total.different, 0);
}
