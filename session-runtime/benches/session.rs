//! One request's session cost, next to the raw floor.
//!
//! Run: `cargo bench -p session-runtime --bench session`.
//!
//! - `floor/*`: what any cookie session must at least do with the same payload: serde_json
//!   plus HMAC-SHA256 (verify on load, sign on commit), no base64, no context binding.
//! - `codec/*`: seal or open one cookie value in each mode.
//! - `request/codec-only/*`: the codec's share of a request: open the cookie, parse the
//!   data, change one value, serialize, seal.
//! - `request/manager/*`: one whole request through [`SessionManager`]: load the session
//!   from the `Cookie` header, change one value, commit (policy, store write, `Set-Cookie`),
//!   for each backend: the signed and the encrypted cookie, the memory store, the file store
//!   (each commit writes a temporary file, `fsync`s it, renames it and `fsync`s the
//!   directory, so its figure is the disk's), and the file store encrypting at rest.
//! - `request/manager/typed-*`: the same request for the same data declared as a typed
//!   schema (`#[derive(Session)]`), whose handle holds the generated struct: decoded once
//!   at load, one field assigned, written straight into the payload.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use session_runtime::codec::{Codec, CodecContext};
use session_runtime::keys::{Key, Keys};
use session_runtime::manager::SessionManager;
use session_runtime::spec::settings::{Backend, CookieMode};
use session_runtime::store::KeySealer;
use session_runtime::store::{FileStore, MemoryStore};
use session_runtime::{Session, SessionSchema, SessionStore, Settings};
use sha2::Sha256;

/// A typical session: a user id, a small cart, a CSRF token, a flash message, timestamps.
fn data() -> Map<String, Value> {
    let value = json!({
        "user_id": 421337,
        "username": "dunamis",
        "cart": ["apple", "pear", "fig"],
        "csrf": "Yq3s0bM1s2lUQW1xR3l2a0Zr",
        "flash": "Your order was placed.",
        "__created": 1790000000,
        "__seen": 1790000600,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn floor(c: &mut Criterion) {
    let secret = [7u8; 32];
    let mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret).unwrap();
    let payload = serde_json::to_vec(&data()).unwrap();
    let tag = {
        let mut m = mac.clone();
        m.update(&payload);
        m.finalize().into_bytes()
    };
    c.bench_function("floor/serialize+hmac", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&data_ref())).unwrap();
            let mut m = mac.clone();
            m.update(&bytes);
            black_box((bytes, m.finalize().into_bytes()))
        })
    });
    c.bench_function("floor/request", |b| {
        b.iter(|| {
            // Load: verify and parse; change one value; commit: serialize and sign.
            let mut m = mac.clone();
            m.update(black_box(&payload));
            m.verify_slice(black_box(&tag)).unwrap();
            let mut map: Map<String, Value> = serde_json::from_slice(&payload).unwrap();
            map.insert("flash".into(), Value::from("Saved."));
            let bytes = serde_json::to_vec(&map).unwrap();
            let mut m = mac.clone();
            m.update(&bytes);
            black_box((bytes, m.finalize().into_bytes()))
        })
    });
}

fn data_ref() -> &'static Map<String, Value> {
    static DATA: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    DATA.get_or_init(data)
}

fn codecs(c: &mut Criterion) {
    let ctx = CodecContext::cookie("__Host-session", "shop");
    let payload = serde_json::to_vec(&data()).unwrap();
    for (name, mode) in [
        ("signed", CookieMode::Signed),
        ("encrypted", CookieMode::Encrypted),
    ] {
        // A fallback key configured, as in production during a rotation.
        let codec = Codec::new(mode, Keys::new(Key::generate(), vec![Key::generate()]));
        let value = codec.seal(&ctx, &payload).unwrap();
        c.bench_function(&format!("codec/seal/{name}"), |b| {
            b.iter(|| codec.seal(black_box(&ctx), black_box(&payload)).unwrap())
        });
        c.bench_function(&format!("codec/open/{name}"), |b| {
            b.iter(|| codec.open(black_box(&ctx), black_box(&value)).unwrap())
        });
        c.bench_function(&format!("request/codec-only/{name}"), |b| {
            b.iter(|| {
                let opened = codec.open(&ctx, black_box(&value)).unwrap();
                let mut map: Map<String, Value> =
                    serde_json::from_slice(&opened.plaintext).unwrap();
                map.insert("flash".into(), Value::from("Saved."));
                let bytes = serde_json::to_vec(&map).unwrap();
                black_box(codec.seal(&ctx, &bytes).unwrap())
            })
        });
    }
}

/// The application's part of [`data`] (the manager adds its own timestamps).
fn app_data() -> Map<String, Value> {
    let mut map = data();
    map.retain(|k, _| !k.starts_with("__"));
    map
}

/// Benchmarks one request (load, one change, commit) through `manager`.
fn bench_manager(c: &mut Criterion, name: &str, manager: SessionManager) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // A first request creates the session the measured requests send back.
    let cookie = rt.block_on(async {
        let session = manager.load(None::<&str>).await.unwrap();
        for (key, value) in app_data() {
            session.set(&key, &value).unwrap();
        }
        let set_cookie = manager.commit(&session, false).await.unwrap();
        set_cookie[0].split(';').next().unwrap().to_owned()
    });
    let mut n = 0u64;
    c.bench_function(&format!("request/manager/{name}"), |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(async {
                let session = manager.load([black_box(cookie.as_str())]).await.unwrap();
                // A different value each time, so that every commit writes.
                session.set("flash", &n).unwrap();
                let set_cookie = manager.commit(&session, false).await.unwrap();
                black_box(set_cookie)
            })
        })
    });
}

/// [`app_data`] as a typed schema.
#[derive(session_runtime::Session)]
#[session(backend = "memory")]
struct Typed {
    #[session(default)]
    user_id: u64,
    #[session(default, max_length = 64)]
    username: String,
    #[session(default, max_items = 16, max_length = 64)]
    cart: Vec<String>,
    #[session(default, max_length = 64)]
    csrf: String,
    #[session(default, max_length = 64)]
    flash: String,
}

/// [`bench_manager`] for the typed schema: the same data, the same one change.
fn bench_typed(c: &mut Criterion, name: &str, manager: SessionManager<Typed>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let cookie = rt.block_on(async {
        let session: Session<Typed> = manager.load(None::<&str>).await.unwrap();
        session.set_user_id(421337).unwrap();
        session.set_username("dunamis".into()).unwrap();
        session
            .set_cart(vec!["apple".into(), "pear".into(), "fig".into()])
            .unwrap();
        session.set_csrf("Yq3s0bM1s2lUQW1xR3l2a0Zr".into()).unwrap();
        session.set_flash("Your order was placed.".into()).unwrap();
        let set_cookie = manager.commit(&session, false).await.unwrap();
        set_cookie[0].split(';').next().unwrap().to_owned()
    });
    let mut n = 0u64;
    c.bench_function(&format!("request/manager/typed-{name}"), |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(async {
                let session = manager.load([black_box(cookie.as_str())]).await.unwrap();
                black_box(session.username());
                session.set_flash(n.to_string()).unwrap();
                let set_cookie = manager.commit(&session, false).await.unwrap();
                black_box(set_cookie)
            })
        })
    });
}

fn settings(mode: CookieMode) -> Settings {
    Settings {
        cookie_mode: mode,
        ..Settings::default()
    }
}

fn managers(c: &mut Criterion) {
    for (name, mode) in [
        ("cookie-signed", CookieMode::Signed),
        ("cookie-encrypted", CookieMode::Encrypted),
    ] {
        let keys = Keys::new(Key::generate(), vec![Key::generate()]);
        bench_manager(
            c,
            name,
            SessionManager::cookie(settings(mode), keys).unwrap(),
        );
    }
    let dir = std::env::temp_dir().join(format!("session-bench-{}", std::process::id()));
    let keys = Keys::generate();
    let stores: Vec<(&str, Arc<dyn SessionStore>)> = vec![
        ("memory", Arc::new(MemoryStore::new())),
        (
            "file",
            Arc::new(FileStore::open(dir.join("plain"), keys.clone()).unwrap()),
        ),
        (
            "file-encrypted",
            Arc::new(
                FileStore::builder(dir.join("sealed"), keys.clone())
                    .sealer(Arc::new(KeySealer::new(keys)))
                    .open()
                    .unwrap(),
            ),
        ),
    ];
    for (name, store) in stores {
        let manager = SessionManager::with_store(settings(CookieMode::Signed), store).unwrap();
        bench_manager(c, name, manager);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let typed = |mode, backend| Settings {
        cookie_mode: mode,
        backend,
        ..Typed::settings()
    };
    let keys = Keys::new(Key::generate(), vec![Key::generate()]);
    bench_typed(
        c,
        "cookie-encrypted",
        SessionManager::cookie(typed(CookieMode::Encrypted, Backend::Cookie), keys).unwrap(),
    );
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    bench_typed(
        c,
        "memory",
        SessionManager::with_store(typed(CookieMode::Signed, Backend::Memory), store).unwrap(),
    );
}

fn config() -> Criterion {
    // Short runs: the machine is shared; these are ratios, not absolute figures.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = floor, codecs, managers
}
criterion_main!(benches);
