//! Checks shared by the PostgreSQL and MySQL store tests, run against real servers.
//!
//! Each test uses a table of its own (random name), so tests run in parallel. The outage
//! test stops the server itself, so every test holds its server's [`ServerLock`] for
//! reading and the outage test holds it for writing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use session_runtime::store::database::{Dialect, DieselStore, DieselStoreBuilder};
use session_runtime::{Record, SessionStore, StoreError, StoreKey, Timestamp};

/// Serialises the outage test (which stops the server) against the other tests.
pub(crate) type ServerLock = tokio::sync::RwLock<()>;

/// The value of a server URL variable; panics, naming it, when it is missing.
pub(crate) fn env_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "`{var}` is not set: this test needs a real database server; run `bash tests/run-all.sh`, \
             which starts one on loopback and sets `{var}`"
        ),
    }
}

/// A fresh table name for one test.
pub(crate) fn table_name(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::getrandom(&mut bytes).expect("randomness");
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{suffix}")
}

/// Builds, connects and migrates a store on a fresh table.
pub(crate) async fn fresh<D: Dialect>(
    builder: DieselStoreBuilder<D>,
    prefix: &str,
) -> DieselStore<D> {
    let store = builder
        .table(table_name(prefix))
        .connect()
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrate is idempotent");
    store
}

pub(crate) fn key() -> StoreKey {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("randomness");
    StoreKey(bytes)
}

pub(crate) fn rec(payload: &[u8], expires_at: Timestamp, version: u64) -> Record {
    Record {
        payload: payload.to_vec(),
        expires_at,
        version,
        principal: None,
    }
}

/// The shared conformance suite (the `stores` helper's), every check, the manager-level
/// ones (races included) too.
pub(crate) async fn conformance<D: Dialect>(store: &DieselStore<D>) {
    session_runtime::conformance::run_all(store, &session_runtime::conformance::clock()).await;
    let storage = session_runtime::store::Storage::Server(Arc::new(store.clone()));
    session_runtime::conformance::manager::run_all(
        &storage,
        &session_runtime::conformance::clock(),
    )
    .await;
}

/// The shared background purge task removes a database store's expired rows, by the
/// application's (mock) clock, and leaves live ones.
pub(crate) async fn purge_task<D: Dialect>(store: &DieselStore<D>) {
    let clock = session_runtime::MockClock::new(Timestamp(1_800_000_000));
    let (old, live) = (key(), key());
    store
        .create(&old, &rec(b"old", Timestamp(1_800_000_100), 0))
        .await
        .unwrap();
    store
        .create(&live, &rec(b"live", Timestamp(1_900_000_000), 0))
        .await
        .unwrap();
    clock.advance(100); // `old` is now expired by the application's clock
    let task = session_runtime::store::spawn_purge_task(
        Arc::new(store.clone()),
        Duration::from_millis(20),
        Arc::new(clock.clone()),
    );
    // Wait (bounded) for the task's first rounds; the version check below needs no timing.
    let mut gone = false;
    for _ in 0..500 {
        if !store.contains(&old).await.unwrap() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(gone, "the purge task did not remove the expired row");
    assert!(
        store
            .load(&live, session_runtime::Clock::now(&clock))
            .await
            .unwrap()
            .is_some()
    );
}

/// `store::open` with a database backend from the settings: connects, creates the table,
/// enforces the configured cap.
pub(crate) async fn open_from_settings(backend: session_runtime::spec::settings::Backend) {
    use session_runtime::store::{OpenOptions, Storage};
    let storage = session_runtime::store::open(&backend, &OpenOptions::new())
        .await
        .expect("open");
    let Storage::Server(store) = storage else {
        panic!("a database backend must give a server-side store")
    };
    let now = Timestamp(1_800_000_000);
    let k = key();
    store
        .create(&k, &rec(b"opened", now.add_seconds(60), 0))
        .await
        .unwrap();
    assert_eq!(
        store.load(&k, now).await.unwrap().map(|r| r.payload),
        Some(b"opened".to_vec())
    );
    assert!(matches!(
        store
            .create(&key(), &rec(&[0; 2049], now.add_seconds(60), 0))
            .await,
        Err(StoreError::TooLarge {
            size: 2049,
            max: 2048
        })
    ));
    store.delete(&k).await.unwrap();
}

/// Two stores on one table, one of them with its connections in another time zone: the
/// same records, the same expiry decisions (the application's clock only).
pub(crate) async fn same_answers_across_time_zones<D: Dialect>(
    utc: &DieselStore<D>,
    other: &DieselStore<D>,
) {
    let now = Timestamp(1_900_000_000);
    let k = key();
    let expires = now.add_seconds(3600);
    utc.create(&k, &rec(b"tz", expires, 0)).await.unwrap();
    assert_eq!(
        other.load(&k, expires.add_seconds(-1)).await.unwrap(),
        Some(rec(b"tz", expires, 1))
    );
    assert_eq!(other.load(&k, expires).await.unwrap(), None);
    assert_eq!(
        other
            .save(&k, &rec(b"tz2", expires.add_seconds(60), 1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        utc.load(&k, expires).await.unwrap(),
        Some(rec(b"tz2", expires.add_seconds(60), 2))
    );
    assert_eq!(utc.load(&k, expires.add_seconds(60)).await.unwrap(), None);
    assert_eq!(
        other.purge_expired(expires.add_seconds(59)).await.unwrap(),
        0
    );
    assert_eq!(
        other.purge_expired(expires.add_seconds(60)).await.unwrap(),
        1
    );
}

/// 2040-01-01T00:00:00Z and later round-trip (no 2038 limit).
pub(crate) async fn expiry_after_2038<D: Dialect>(store: &DieselStore<D>) {
    let y2040 = Timestamp(2_208_988_800);
    let k = key();
    store.create(&k, &rec(b"future", y2040, 0)).await.unwrap();
    let loaded = store.load(&k, Timestamp(2_147_483_648)).await.unwrap();
    assert_eq!(
        loaded,
        Some(rec(b"future", y2040, 1)),
        "a 2040 expiry must survive past 2038-01-19"
    );
    assert_eq!(
        store
            .load(&k, y2040.add_seconds(-1))
            .await
            .unwrap()
            .map(|r| r.expires_at),
        Some(y2040)
    );
    assert_eq!(store.load(&k, y2040).await.unwrap(), None);
    assert_eq!(store.purge_expired(y2040.add_seconds(-1)).await.unwrap(), 0);
    assert_eq!(store.purge_expired(y2040).await.unwrap(), 1);
}

/// Over the cap: `TooLarge`, nothing stored or changed; at the cap (300 KiB, above
/// MySQL's 64 KiB `BLOB`): stored exactly.
pub(crate) async fn payload_cap<D: Dialect>(store: &DieselStore<D>) {
    let cap = store.max_payload();
    assert_eq!(
        cap,
        300 * 1024,
        "the test store is built with a 300 KiB cap"
    );
    let now = Timestamp(1_800_000_000);
    let exp = now.add_seconds(600);
    let mut at_cap = vec![0u8; cap];
    getrandom::getrandom(&mut at_cap).unwrap();
    let over = vec![7u8; cap + 1];

    let k = key();
    match store.create(&k, &rec(&over, exp, 0)).await {
        Err(StoreError::TooLarge { size, max }) => assert_eq!((size, max), (cap + 1, cap)),
        other => panic!("create over the cap gave {other:?}"),
    }
    assert_eq!(
        store.load(&k, now).await.unwrap(),
        None,
        "a refused create stored something"
    );

    store.create(&k, &rec(&at_cap, exp, 0)).await.unwrap();
    assert_eq!(store.load(&k, now).await.unwrap().unwrap().payload, at_cap);
    match store.save(&k, &rec(&over, exp, 1)).await {
        Err(StoreError::TooLarge { size, max }) => assert_eq!((size, max), (cap + 1, cap)),
        other => panic!("save over the cap gave {other:?}"),
    }
    let kept = store.load(&k, now).await.unwrap().unwrap();
    assert_eq!(
        (kept.payload == at_cap, kept.version),
        (true, 1),
        "a refused save changed the record"
    );
    store.delete(&k).await.unwrap();
}

/// A logout racing a slow request that loaded the session before the logout and saves
/// after it (or at the same time): the save fails with `NotFound` (or lands before the
/// delete), and the session never comes back.
pub(crate) async fn logout_races_slow_request<D: Dialect>(store: &DieselStore<D>, trials: usize) {
    let now = Timestamp(1_800_000_000);
    let exp = now.add_seconds(3600);
    let mut brought_back = 0;
    let mut saves_refused = 0;
    let mut saves_first = 0;
    for trial in 0..trials {
        let k = key();
        store.create(&k, &rec(b"logged in", exp, 0)).await.unwrap();
        // The slow request has loaded the session...
        let loaded = store.load(&k, now).await.unwrap().expect("just created");
        let writer = store.clone();
        let save = async move {
            writer
                .save(&k, &rec(b"cart=[apple]", exp, loaded.version))
                .await
        };
        let logout = async { store.delete(&k).await };
        // ...and now saves while the logout deletes: strictly after it in odd trials, truly
        // concurrently in even ones.
        let save_result = if trial % 2 == 1 {
            logout.await.unwrap();
            save.await
        } else {
            let (save_result, logout_result) = tokio::join!(tokio::spawn(save), logout);
            logout_result.unwrap();
            save_result.unwrap()
        };
        match save_result {
            Err(StoreError::NotFound) => saves_refused += 1,
            Ok(2) => saves_first += 1,
            other => panic!("trial {trial}: the racing save gave {other:?}"),
        }
        if store.load(&k, now).await.unwrap().is_some() {
            brought_back += 1;
        }
    }
    println!(
        "logout race, {trials} trials: sessions brought back = {brought_back}, saves refused = {saves_refused}, \
         saves before the logout = {saves_first}"
    );
    assert_eq!(brought_back, 0);
    assert!(
        saves_refused >= trials / 2,
        "every save after a logout must be refused"
    );
}

/// 64 concurrent increments of one counter. Single attempts: the final value equals the
/// successful saves and every other attempt was a reported `Conflict` (lost silently = 0).
/// With retries on conflict: the final value is 64.
pub(crate) async fn concurrent_increments<D: Dialect>(store: &DieselStore<D>) {
    let now = Timestamp(1_800_000_000);
    let exp = now.add_seconds(3600);
    for retry in [false, true] {
        let k = key();
        store.create(&k, &rec(b"0", exp, 0)).await.unwrap();
        let conflicts = Arc::new(AtomicUsize::new(0));
        let successes = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (store, conflicts, successes) =
                    (store.clone(), conflicts.clone(), successes.clone());
                tokio::spawn(async move {
                    loop {
                        let record = store.load(&k, now).await.unwrap().expect("counter exists");
                        let n: u64 = std::str::from_utf8(&record.payload)
                            .unwrap()
                            .parse()
                            .unwrap();
                        let next = rec((n + 1).to_string().as_bytes(), exp, record.version);
                        match store.save(&k, &next).await {
                            Ok(_) => {
                                successes.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                            Err(StoreError::Conflict { .. }) => {
                                conflicts.fetch_add(1, Ordering::SeqCst);
                                if !retry {
                                    return;
                                }
                            }
                            Err(other) => panic!("increment failed: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let record = store.load(&k, now).await.unwrap().unwrap();
        let value: usize = std::str::from_utf8(&record.payload)
            .unwrap()
            .parse()
            .unwrap();
        let (ok, conflicted) = (
            successes.load(Ordering::SeqCst),
            conflicts.load(Ordering::SeqCst),
        );
        let lost_silently = 64 - value as i64 - if retry { 0 } else { conflicted as i64 };
        println!(
            "64 concurrent increments (retry on conflict: {retry}): final value {value}, conflicts reported \
             {conflicted}, lost silently {lost_silently}"
        );
        assert_eq!(lost_silently, 0, "no increment may be lost silently");
        assert_eq!(value, ok, "the counter must equal the successful saves");
        assert_eq!(record.version as usize, ok + 1);
        if retry {
            assert_eq!(value, 64);
        } else {
            assert_eq!(
                ok + conflicted,
                64,
                "every increment must either land or report a conflict"
            );
        }
        store.delete(&k).await.unwrap();
    }
}

/// Purge in batches, twice at once and during traffic: every expired row is removed
/// exactly once, no live row is touched, concurrent saves keep working.
pub(crate) async fn purge_in_batches<D: Dialect>(store: &DieselStore<D>) {
    let now = Timestamp(1_800_000_000);
    let expired = 1_200usize;
    let mut tasks = Vec::new();
    for chunk in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..expired / 8 {
                let at = now.add_seconds(-1 - (chunk * 1000 + i) as i64);
                store.create(&key(), &rec(b"old", at, 0)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let live: Vec<StoreKey> = (0..16).map(|_| key()).collect();
    for k in &live {
        store
            .create(k, &rec(b"live", now.add_seconds(3600), 0))
            .await
            .unwrap();
    }
    // Two purges at once (batches of 100, see the builder) while the live sessions are saved.
    let traffic = {
        let (store, live) = (store.clone(), live.clone());
        tokio::spawn(async move {
            for round in 1..=5u64 {
                for k in &live {
                    let saved = store
                        .save(k, &rec(b"live", now.add_seconds(3600), round))
                        .await
                        .unwrap();
                    assert_eq!(saved, round + 1);
                }
            }
        })
    };
    let (a, b) = (store.clone(), store.clone());
    let (first, second) = tokio::join!(
        tokio::spawn(async move { a.purge_expired(now).await }),
        tokio::spawn(async move { b.purge_expired(now).await })
    );
    traffic.await.unwrap();
    let (first, second) = (first.unwrap().unwrap(), second.unwrap().unwrap());
    let rest = store.purge_expired(now).await.unwrap();
    println!(
        "two purges at once removed {first} + {second} (+ {rest} after) of {expired} expired rows"
    );
    assert_eq!((first + second + rest) as usize, expired);
    for k in &live {
        assert_eq!(
            store.load(k, now).await.unwrap().map(|r| r.version),
            Some(6)
        );
    }
}

/// A wrong table name is refused before any SQL runs.
pub(crate) async fn table_name_is_validated<D: Dialect>(builder: DieselStoreBuilder<D>) {
    for bad in [
        "",
        "sessions; DROP TABLE users",
        "se\"ss",
        "9lives",
        "sessions`x",
        &"a".repeat(49),
    ] {
        match builder.clone().table(bad).connect().await {
            Err(StoreError::Config(message)) => {
                assert!(message.contains("invalid table name"), "{message}")
            }
            other => panic!("table name {bad:?} gave {other:?}"),
        }
    }
}

/// Unreachable at start: a clear `Unavailable` naming the host, never the password.
pub(crate) async fn unreachable_at_start<D: Dialect>(builder: DieselStoreBuilder<D>, port: u16) {
    let error = builder.connect().await.expect_err("nothing listens there");
    let message = error.to_string();
    println!("unreachable database: {message}");
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(
        message.contains(&format!("127.0.0.1:{port}")),
        "the message must name the host: {message}"
    );
    assert!(
        !message.contains("hunter2-secret"),
        "the message must not show the password: {message}"
    );
}

/// A wrong password: refused with `Unavailable`, the host named, the password not shown.
pub(crate) async fn wrong_password<D: Dialect>(builder: DieselStoreBuilder<D>, host: &str) {
    let message = builder
        .connect()
        .await
        .expect_err("wrong password")
        .to_string();
    println!("wrong password: {message}");
    assert!(
        message.contains(host),
        "the message must name the host: {message}"
    );
    assert!(
        !message.contains("hunter2-secret"),
        "the message must not show the password: {message}"
    );
}

/// Replaces the password of a `scheme://user:password@host:port/db` URL.
pub(crate) fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.rsplit_once('@').unwrap();
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The `host:port` of a URL.
pub(crate) fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_owned()
}

/// A port with nothing listening on it.
pub(crate) fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Runs the server control script (`SESSION_TEST_*_CTL`) with `stop` or `start`.
pub(crate) async fn server_ctl(var: &str, action: &str) {
    let ctl = env_url(var);
    let action = action.to_owned();
    let status =
        tokio::task::spawn_blocking(move || std::process::Command::new(&ctl).arg(&action).status())
            .await
            .unwrap()
            .expect("run the server control script");
    assert!(
        status.success(),
        "`${var} {}` failed: {status}",
        "stop/start"
    );
}

/// Stops and restarts the real server while requests run: during the outage operations
/// fail with `Unavailable` (never panic, never another error) within the pool timeout;
/// afterwards the same store serves again without a restart, and every session created
/// before the outage is still there, unchanged.
pub(crate) async fn outage<D: Dialect>(store: &DieselStore<D>, ctl_var: &str) {
    let now = Timestamp(1_800_000_000);
    let exp = now.add_seconds(3600);
    let before: Vec<(StoreKey, Vec<u8>)> = (0..50)
        .map(|i| (key(), format!("session {i}").into_bytes()))
        .collect();
    for (k, payload) in &before {
        store.create(k, &rec(payload, exp, 0)).await.unwrap();
    }

    // Requests keep running through the outage.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let slowest = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (store, stop, ok, unavailable, slowest) = (
                store.clone(),
                stop.clone(),
                ok.clone(),
                unavailable.clone(),
                slowest.clone(),
            );
            tokio::spawn(async move {
                let k = key();
                let mut created = false;
                let mut version = 1;
                let mut rounds = 0u32;
                while !stop.load(Ordering::SeqCst) && rounds < 100_000 {
                    rounds += 1;
                    let started = std::time::Instant::now();
                    let result = if created {
                        match store.load(&k, now).await {
                            Ok(Some(r)) => store
                                .save(&k, &rec(b"busy", exp, r.version))
                                .await
                                .map(|v| version = v),
                            Ok(None) => panic!("a session vanished during the outage"),
                            Err(e) => Err(e),
                        }
                    } else {
                        store
                            .create(&k, &rec(b"busy", exp, 0))
                            .await
                            .map(|()| created = true)
                    };
                    let took = started.elapsed();
                    match result {
                        Ok(()) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(StoreError::Unavailable(_)) => {
                            let mut s = slowest.lock().unwrap();
                            *s = (*s).max(took);
                            unavailable.fetch_add(1, Ordering::SeqCst)
                        }
                        // A create whose reply was lost may have landed: a retry sees it.
                        Err(StoreError::Exists) if !created => {
                            created = true;
                            0
                        }
                        // A save whose reply was lost may have landed: the next load sees it.
                        Err(StoreError::Conflict { .. }) => 0,
                        Err(other) => panic!("during the outage: {other:?}"),
                    };
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let _ = version;
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    server_ctl(ctl_var, "stop").await;
    let ok_at_stop = ok.load(Ordering::SeqCst);
    // While the server is down: a direct operation fails with `Unavailable`.
    match store.load(&before[0].0, now).await {
        Err(StoreError::Unavailable(message)) => println!("during the outage: {message}"),
        other => panic!("with the server stopped, load gave {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let unavailable_during = unavailable.load(Ordering::SeqCst);
    server_ctl(ctl_var, "start").await;

    // Recovery without a restart of the store: bounded retries.
    let mut recovered = false;
    for _ in 0..200 {
        if store.load(&before[0].0, now).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recovered,
        "the store did not recover after the server came back"
    );
    let ok_after_start = ok.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("no worker panicked");
    }
    let ok_end = ok.load(Ordering::SeqCst);
    let slowest = *slowest.lock().unwrap();
    println!(
        "outage: {ok_at_stop} ok before the stop, {unavailable_during} `Unavailable` during it (slowest {slowest:?}), \
         {} ok after the restart",
        ok_end - ok_after_start
    );
    assert!(
        unavailable_during > 0,
        "requests during the outage must fail with `Unavailable`"
    );
    assert!(
        ok_end > ok_after_start,
        "requests must succeed again after the restart"
    );
    for (k, payload) in &before {
        assert_eq!(
            store.load(k, now).await.unwrap(),
            Some(rec(payload, exp, 1)),
            "a session was lost"
        );
    }
}

/// The `session-db` command: `migrate` creates the table (twice: idempotent), `purge`
/// removes the expired rows in batches and says how many; the URL comes from the named
/// environment variable and never appears in the output.
#[cfg(feature = "db-cli")]
pub(crate) async fn cli_migrate_and_purge<D: Dialect>(
    builder: DieselStoreBuilder<D>,
    backend: &str,
    url_var: &str,
) {
    let table = table_name("cli");
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_session-db"))
            .args(args)
            .args([
                "--backend",
                backend,
                "--url-env",
                url_var,
                "--table",
                &table,
            ])
            .output()
            .expect("run session-db");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "session-db {args:?} failed: {text}"
        );
        text
    };
    for _ in 0..2 {
        assert!(cli(&["migrate"]).contains("migrated"));
    }
    let store = builder.table(&table).connect().await.unwrap();
    let now = session_runtime::Clock::now(&session_runtime::SystemClock);
    for i in 0..25 {
        store
            .create(&key(), &rec(b"old", now.add_seconds(-10 - i), 0))
            .await
            .unwrap();
    }
    let live = key();
    store
        .create(&live, &rec(b"live", now.add_seconds(3600), 0))
        .await
        .unwrap();
    let out = cli(&["purge", "--batch", "7"]);
    assert!(out.contains("purged 25 expired sessions"), "{out}");
    assert!(
        !out.contains(&env_url(url_var)),
        "the URL must not be printed"
    );
    assert!(store.load(&live, now).await.unwrap().is_some());
    store.drop_table().await.unwrap();
}

/// The model-based test of the manager (`model.rs`), a shorter run on a database server:
/// random interleavings of requests, the invariants checked after every step, a fresh
/// table per case.
pub(crate) fn manager_model<D: Dialect>(
    server: &ServerLock,
    builder: fn() -> DieselStoreBuilder<D>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _server = runtime.block_on(server.read());
    crate::model::check_stores(crate::model::db_cases(), 30, || {
        Arc::new(runtime.block_on(fresh(builder(), "model")))
    });
}

/// Encryption at rest on a database backend (`encrypt = true`): `backend` names a fresh
/// table; the stores are opened by `store::open` with each key set of the rotation story
/// ([`crate::sealed::rotation_story`]); `raw` reads the table's payloads with SQL, and
/// `row` prints one whole row as text.
pub(crate) async fn encrypted_at_rest(
    label: &str,
    backend: session_runtime::spec::settings::Backend,
    raw: impl Fn() -> Vec<Vec<u8>> + Clone + Send + Sync + 'static,
    row: impl FnOnce() -> String + Send + 'static,
) {
    use session_runtime::keys::Keys;
    use session_runtime::store::{self, OpenOptions};
    let keys = crate::sealed::KeySets::new();
    let open = |keys: Keys| {
        let backend = backend.clone();
        async move {
            let storage = store::open(&backend, &OpenOptions::new().keys(keys))
                .await
                .expect("open the encrypted backend");
            storage.store().expect("a server-side store").clone()
        }
    };
    // Without keys, `encrypt = true` refuses to open.
    assert!(matches!(
        store::open(&backend, &OpenOptions::new()).await,
        Err(StoreError::Config(m)) if m.contains("encrypt")
    ));
    let stores = [
        open(keys.a.clone()).await,
        open(keys.c_then_a.clone()).await,
        open(keys.c.clone()).await,
        open(keys.d.clone()).await,
    ];
    crate::sealed::rotation_story(
        label,
        stores,
        Box::new(move |_key| {
            let raw = raw.clone();
            Box::pin(async move { tokio::task::spawn_blocking(raw).await.unwrap() })
        }),
    )
    .await;
    let row = tokio::task::spawn_blocking(row).await.unwrap();
    println!("{label}: one row read with SQL: {row}");
}
