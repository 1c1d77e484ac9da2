//! The Redis store against real `redis-server`s: the shared one `tests/run-all.sh` starts
//! (`SESSION_TEST_REDIS_URL`; without it these tests fail), and private ones each test
//! starts on a free port when it must stop the server or run it as a cluster.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use session_runtime::conformance;
use session_runtime::keys::Keys;
use session_runtime::spec::settings::{Backend, RedisBackend};
use session_runtime::store::KeySealer;
use session_runtime::store::redis::RedisStore;
use session_runtime::store::sealed::SealedStore;
use session_runtime::store::{self, OpenOptions, SessionStore, Storage};
use session_runtime::{Clock, StoreError, StoreKey};

use crate::db_http::get_path;

const URL: &str = "SESSION_TEST_REDIS_URL";

/// The shared server's URL; panics, naming the variable, when it is missing.
fn redis_url() -> String {
    match std::env::var(URL) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "`{URL}` is not set: this test needs a real redis-server; run `bash tests/run-all.sh`, \
             which starts one on loopback and sets `{URL}`"
        ),
    }
}

/// A key prefix no other test (or run) shares.
fn prefix(what: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::getrandom(&mut bytes).expect("randomness");
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("it:{what}:{suffix}")
}

async fn fresh_store() -> RedisStore {
    RedisStore::connect(&redis_url(), &prefix("conf"))
        .await
        .expect("connect to the test redis-server")
}

session_runtime::store_conformance_tests!(suite, fresh_store());

/// The same store with its payloads sealed (`encrypt = true`) still keeps the contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_conformance() {
    let store = SealedStore::new(
        Arc::new(fresh_store().await),
        Arc::new(KeySealer::new(Keys::generate())),
    );
    conformance::run_all(&store, &conformance::clock()).await;
}

/// A redis-server of this test's own, on a free loopback port, in a temporary directory;
/// stopped (killed, by its process id) and started again by the test, killed on drop.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    args: Vec<String>,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts `redis-server` with `args` besides port, address and directory.
    fn start(args: &[&str]) -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        };
        server.restart();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Starts the server (again) and waits until it answers.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let dir: PathBuf = self.dir.path().to_owned();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", ""])
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `redis-server` ({e}): run `bash tests/run-all.sh`, which installs it")
            });
        self.child = Some(child);
        for _ in 0..600 {
            if ping(self.addr()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the private redis-server on port {} did not answer",
            self.port
        );
    }

    /// Kills the server (SIGKILL: a crash, not a clean shutdown) and reaps it.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Runs one command on the server (set-up only).
    fn command(&self, args: &[&str]) -> redis::Value {
        let client = redis::Client::open(self.url()).unwrap();
        let mut con = client.get_connection().unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut con).unwrap()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port with nothing listening on it (now).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Whether a Redis server answers `PING` at `addr`.
fn ping(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// The whole suite against a one-node Redis Cluster (every slot on one server): a cluster
/// refuses any command or script whose keys lie in two slots (`CROSSSLOT`), so this shows
/// that every script and transaction of the store stays within one slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_a_cluster() {
    let server = tokio::task::spawn_blocking(|| {
        let server = PrivateRedis::start(&[
            "--appendonly",
            "no",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ]);
        server.command(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        let mut ok = false;
        for _ in 0..600 {
            let info = server.command(&["CLUSTER", "INFO"]);
            if let redis::Value::VerbatimString { text, .. } = &info {
                ok = text.contains("cluster_state:ok");
            } else if let redis::Value::BulkString(bytes) = &info {
                ok = String::from_utf8_lossy(bytes).contains("cluster_state:ok");
            }
            if ok {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(ok, "the one-node cluster did not come up");
        server
    })
    .await
    .unwrap();
    // A key pair in two slots is refused: the check below means something.
    let client = redis::Client::open(server.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let cross: redis::RedisResult<()> = redis::cmd("DEL")
        .arg("a")
        .arg("b")
        .query_async(&mut con)
        .await;
    let refused = format!("{cross:?}");
    println!("a command on two slots: {refused}");
    assert!(
        refused.to_ascii_lowercase().contains("crossslot")
            || refused.to_ascii_lowercase().contains("cross_slot")
            || refused.contains("CrossSlot"),
        "a cluster refuses keys of two slots in one command: {refused}"
    );

    let store = RedisStore::connect(&server.url(), "cluster").await.unwrap();
    let clock = conformance::clock();
    conformance::run_all(&store, &clock).await;
    let storage = Storage::Server(Arc::new(store));
    conformance::manager::run_all(&storage, &clock).await;
    // Purge visits all 256 slots.
    let Storage::Server(store) = storage else {
        unreachable!()
    };
    store.purge_expired(clock.now()).await.unwrap();
    drop(server);
}

/// `backend = { type = "redis", ... }` opened by `store::open`: the URL from the variable
/// it names, the payload cap applied; with `encrypt = true` and the session keys the
/// payload in Redis is sealed; without keys `encrypt = true` refuses to open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_from_settings() {
    let prefix = prefix("open");
    let config = RedisBackend {
        url_env: URL.to_owned(),
        prefix: prefix.clone(),
        max_payload: 2048,
        encrypt: true,
    };
    let backend = Backend::Redis(config.clone());
    assert!(matches!(
        store::open(&backend, &OpenOptions::new()).await,
        Err(StoreError::Config(m)) if m.contains("encrypt")
    ));
    let storage = store::open(&backend, &OpenOptions::new().keys(Keys::generate()))
        .await
        .expect("open");
    let store = storage.store().expect("a server-side store").clone();
    let now = session_runtime::Timestamp(1_800_000_000);
    let key = conformance::random_key();
    let record = session_runtime::Record {
        payload: b"{\"user\":\"opened-secret\"}".to_vec(),
        expires_at: now.add_seconds(60),
        version: 0,
        principal: None,
    };
    store.create(&key, &record).await.unwrap();
    assert_eq!(
        store.load(&key, now).await.unwrap().map(|r| r.payload),
        Some(record.payload.clone())
    );
    let raw = raw_payload(&prefix, &key).await.expect("stored");
    assert!(!raw.windows(6).any(|w| w == b"secret"), "sealed at rest");
    // The cap applies to what is stored (the sealed payload).
    assert!(matches!(
        store
            .create(
                &conformance::random_key(),
                &session_runtime::Record {
                    payload: vec![b'x'; 2049],
                    ..record.clone()
                }
            )
            .await,
        Err(StoreError::TooLarge { max: 2048, .. })
    ));
    store.delete(&key).await.unwrap();

    // Plain: the payload as given.
    let plain = Backend::Redis(RedisBackend {
        encrypt: false,
        ..config
    });
    let storage = store::open(&plain, &OpenOptions::new()).await.unwrap();
    let store = storage.store().unwrap();
    store.create(&key, &record).await.unwrap();
    assert_eq!(
        raw_payload(&prefix, &key).await.as_deref(),
        Some(&record.payload[..])
    );
    store.delete(&key).await.unwrap();

    // A variable that is not set, a server that is away: errors at start-up.
    let unset = Backend::Redis(RedisBackend {
        url_env: "SESSION_TEST_REDIS_URL_UNSET".into(),
        ..RedisBackend::default()
    });
    assert!(matches!(
        store::open(&unset, &OpenOptions::new()).await,
        Err(StoreError::Config(m)) if m.contains("SESSION_TEST_REDIS_URL_UNSET")
    ));
    let away = format!("redis://127.0.0.1:{}/", free_port());
    assert!(matches!(
        RedisStore::connect(&away, "away").await,
        Err(StoreError::Unavailable(_))
    ));
}

/// The payload stored under `key` by a store with `prefix`, read with HGET.
async fn raw_payload(prefix: &str, key: &StoreKey) -> Option<Vec<u8>> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("HGET")
        .arg(format!("{prefix}:{{{:02x}}}:{}", key.0[0], key.to_hex()))
        .arg("payload")
        .query_async(&mut con)
        .await
        .unwrap()
}

/// Encryption at rest on Redis: the rotation story of [`crate::sealed`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_at_rest_with_key_rotation() {
    let prefix = prefix("sealed");
    let keys = crate::sealed::KeySets::new();
    let open = |keys: Keys| {
        let prefix = prefix.clone();
        async move {
            let backend = Backend::Redis(RedisBackend {
                url_env: URL.to_owned(),
                prefix,
                encrypt: true,
                ..RedisBackend::default()
            });
            let storage = store::open(&backend, &OpenOptions::new().keys(keys))
                .await
                .unwrap();
            storage.store().unwrap().clone()
        }
    };
    let stores = [
        open(keys.a.clone()).await,
        open(keys.c_then_a.clone()).await,
        open(keys.c.clone()).await,
        open(keys.d.clone()).await,
    ];
    let raw_prefix = prefix.clone();
    crate::sealed::rotation_story(
        "redis",
        stores,
        Box::new(move |key| {
            let prefix = raw_prefix.clone();
            Box::pin(async move { raw_payload(&prefix, &key).await.into_iter().collect() })
        }),
    )
    .await;
}

/// Two app instances (two managers, two HTTP servers, two connections) sharing one
/// Redis: a login on one is seen on the other, a logout on the other ends it on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_app_instances_share_sessions() {
    let prefix = prefix("http2");
    let a = RedisStore::connect(&redis_url(), &prefix).await.unwrap();
    let b = RedisStore::connect(&redis_url(), &prefix).await.unwrap();
    crate::db_http::two_instances(a, b).await;
}

/// The server crashes (SIGKILL) and comes back while the app serves: session routes answer
/// 503 during the outage, `/health` 200; afterwards the same process serves every session
/// again, intact, and new logins work. The server runs with `appendonly yes` and
/// `appendfsync always`, so nothing acknowledged before the crash is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outage_and_recovery_over_http() {
    let mut server = tokio::task::spawn_blocking(|| {
        PrivateRedis::start(&["--appendonly", "yes", "--appendfsync", "always"])
    })
    .await
    .unwrap();
    let store = RedisStore::connect(&server.url(), "outage").await.unwrap();
    let (addr, task) = crate::db_http::serve(store).await;
    let mut cookies = Vec::new();
    for _ in 0..5 {
        let reply = get_path(addr, "/login", None).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        cookies.push(reply.cookie.expect("login cookie"));
    }
    assert_eq!(
        get_path(addr, "/whoami", Some(&cookies[0])).await.body,
        "ada"
    );

    let mut server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    let mut statuses = Vec::new();
    for cookie in &cookies[..3] {
        statuses.push(get_path(addr, "/whoami", Some(cookie)).await.status);
    }
    statuses.push(get_path(addr, "/login", None).await.status);
    let health = get_path(addr, "/health", None).await;
    println!(
        "redis outage over http: /whoami and /login {statuses:?}, /health {}",
        health.status
    );
    assert_eq!(
        statuses,
        [503, 503, 503, 503],
        "session routes must answer 503 while Redis is away"
    );
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));

    let server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    // Recovery without restarting the app: bounded retries.
    let mut back = None;
    for _ in 0..200 {
        let reply = get_path(addr, "/whoami", Some(&cookies[0])).await;
        if reply.status == 200 {
            back = Some(reply.body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        back.as_deref(),
        Some("ada"),
        "after the restart the session must be served again, intact"
    );
    for cookie in &cookies {
        let reply = get_path(addr, "/whoami", Some(cookie)).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "ada"),
            "a session committed before the crash was lost"
        );
    }
    let reply = get_path(addr, "/login", None).await;
    assert_eq!(reply.status, 200, "new logins work again");
    task.abort();
    drop(server);
}

/// A session declared with the derive on the Redis backend: the generated settings carry
/// the backend as written, and `SessionManager::from_settings` opens it (the URL from the
/// variable it names) and keeps a typed session in Redis, sealed (`encrypt`), so the key
/// is read from `keys(env = ...)` at start-up.
#[derive(session_runtime::Session)]
#[session(cookie_name = "cart")]
#[session(backend(
    type = "redis",
    url_env = "SESSION_TEST_REDIS_URL",
    prefix = "it:derived",
    encrypt
))]
#[session(keys(env = "SESSION_TEST_REDIS_DERIVED_KEY"))]
struct Cart {
    #[session(default, max = 99)]
    items: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_schema_declares_and_uses_the_redis_backend() {
    use session_runtime::SessionSchema;
    let settings = Cart::settings();
    assert_eq!(
        settings.backend,
        Backend::Redis(RedisBackend {
            url_env: URL.to_owned(),
            prefix: "it:derived".to_owned(),
            encrypt: true,
            ..RedisBackend::default()
        })
    );
    // No key in the environment: an encrypting backend refuses to start without one.
    assert!(
        session_runtime::SessionManager::<Cart>::from_settings(settings.clone())
            .await
            .is_err()
    );
    let keys = Keys::generate();
    let storage = store::open(&settings.backend, &OpenOptions::new().keys(keys))
        .await
        .unwrap();
    let manager = storage.manager::<Cart>(settings, Keys::generate()).unwrap();
    let session = manager.load(None::<&str>).await.unwrap();
    session.set_items(3).unwrap();
    let set = manager.commit(&session, false).await.unwrap();
    let cookie = crate::support::value_of(&set[0]).to_owned();
    let again = manager
        .load([format!("{}={cookie}", manager.cookie_name())])
        .await
        .unwrap();
    assert_eq!(again.items(), 3);
}

/// `session-db sessions list / end / end-all / end-everyone` on Redis, its payloads sealed
/// (`encrypt = true`: the command reads the key from `SESSION_KEY`; see
/// `active::cli_lists_and_ends_sessions`).
#[cfg(feature = "db-cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_lists_and_ends_sessions() {
    use session_runtime::keys::Key;
    let text = Key::generate_text().unwrap();
    let keys = Keys::single(Key::from_text(&text, "a test key").unwrap());
    let prefix = prefix("cli");
    let backend = Backend::Redis(RedisBackend {
        url_env: URL.to_owned(),
        prefix: prefix.clone(),
        encrypt: true,
        ..RedisBackend::default()
    });
    let storage = store::open(&backend, &OpenOptions::new().keys(keys))
        .await
        .expect("open");
    let store = storage.store().expect("a server-side store").clone();
    crate::active::cli_lists_and_ends_sessions(
        store,
        &[
            "--backend",
            "redis",
            "--url-env",
            URL,
            "--prefix",
            &prefix,
            "--encrypt",
        ],
        &[("SESSION_KEY", &text)],
    )
    .await;
}
