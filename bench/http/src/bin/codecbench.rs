//! The session codec's own time per cookie, without HTTP: sealing and opening one value in
//! each cookie mode (signed: HMAC-SHA256; encrypted: AES-256-GCM), in a loop, on one core.
//!
//! Run from the repository root, pinned to a core:
//! `cargo build --release --manifest-path bench/http/Cargo.toml --bin codecbench &&
//! taskset -c 1 bench/http/target/release/codecbench [ITERATIONS] [PAYLOAD_BYTES]`
//! (defaults 300000 and 43: the payload of `httpbench`'s counter session, whose signed
//! cookie is 82 characters). It prints three rounds of nanoseconds per seal and per open;
//! the last round is the warmest. What a writing request of a cookie session spends in the
//! codec is one open (the request's cookie) and one seal (the response's).

use std::hint::black_box;
use std::time::Instant;

use session_runtime::codec::{Codec, CodecContext};
use session_runtime::keys::Keys;
use session_runtime::spec::settings::CookieMode;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args
        .next()
        .map_or(300_000, |s| s.parse().expect("ITERATIONS"));
    let len: usize = args
        .next()
        .map_or(43, |s| s.parse().expect("PAYLOAD_BYTES"));
    let ctx = CodecContext::cookie("session", "default");
    let payload = vec![7u8; len];
    for round in 0..3 {
        for (name, mode) in [
            ("signed", CookieMode::Signed),
            ("encrypted", CookieMode::Encrypted),
        ] {
            let codec = Codec::new(mode, Keys::generate());
            let value = codec.seal(&ctx, &payload).expect("a small payload seals");
            let start = Instant::now();
            for _ in 0..n {
                let sealed = black_box(&codec).seal(black_box(&ctx), black_box(&payload));
                black_box(sealed.expect("a small payload seals"));
            }
            let seal = start.elapsed().as_nanos() as f64 / f64::from(n);
            let start = Instant::now();
            for _ in 0..n {
                let opened = black_box(&codec).open_with(
                    black_box(&ctx),
                    black_box(&value),
                    |plaintext, key| plaintext.len() + key,
                );
                black_box(opened.expect("our own value opens"));
            }
            let open = start.elapsed().as_nanos() as f64 / f64::from(n);
            println!(
                "round {round} {name:9} cookie {:3} chars: seal {seal:6.1} ns, open {open:6.1} ns",
                value.len()
            );
        }
    }
}
