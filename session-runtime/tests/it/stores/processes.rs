//! Two processes on one file-store directory: the compare-and-swap holds across them
//! (the per-stripe advisory lock), so interleaved increments lose nothing.

use session_runtime::Timestamp;
use session_runtime::store::{FileStore, Record, SessionStore, StoreError, StoreKey};

const NOW: Timestamp = Timestamp(1_700_000_000);
const KEY: StoreKey = StoreKey([0x42; 32]);
/// The directory the child increments in; unset, the child test does nothing.
const DIR_ENV: &str = "SESSION_TEST_TWO_PROCESSES_DIR";
/// How many increments each process makes: 500 (1,000 in all), or this variable's value.
const SAVES_ENV: &str = "SESSION_TEST_TWO_PROCESSES_SAVES";

fn saves() -> u64 {
    std::env::var(SAVES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn counter(record: &Record) -> u64 {
    std::str::from_utf8(&record.payload)
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("a counter payload")
}

/// Read-modify-write increments of one counter record, retried on a conflict. As a child
/// of `two_processes_lose_no_update` it increments [`saves`] times in the directory
/// named by [`DIR_ENV`]; run on its own, it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_child() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        return;
    };
    let store =
        FileStore::open(std::path::PathBuf::from(dir), super::support::test_keys()).unwrap();
    let mut done = 0;
    while done < saves() {
        let record = store.load(&KEY, NOW).await.unwrap().expect("created");
        let next = Record {
            payload: (counter(&record) + 1).to_string().into_bytes(),
            ..record
        };
        match store.save(&KEY, &next).await {
            Ok(_) => done += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("save failed: {e}"),
        }
    }
}

#[test]
fn two_processes_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    let store = FileStore::open(&sessions, super::support::test_keys()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(store.create(
            &KEY,
            &Record {
                payload: b"0".to_vec(),
                expires_at: Timestamp(NOW.0 + 3600),
                version: 0,
                principal: None,
            },
        ))
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "stores::processes::two_processes_child",
                    "--test-threads=1",
                    "--quiet",
                ])
                .env(DIR_ENV, &sessions)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child failed");
    }
    let record = runtime.block_on(store.load(&KEY, NOW)).unwrap().unwrap();
    assert_eq!(
        counter(&record),
        2 * saves(),
        "every acknowledged save of both processes is counted: none lost"
    );
    assert_eq!(record.version, 2 * saves() + 1);
}
