//! A small, bounded load test of the database stores on loopback: per request, one load
//! plus one commit (a compare-and-swap save), with 1 and with 16 concurrent clients; and
//! loads alone.
//!
//! ```text
//! SESSION_TEST_POSTGRES_URL=postgres://... SESSION_TEST_MYSQL_URL=mysql://... \
//!     cargo run --release -p session-runtime --features postgres,mysql --example db_load [REQUESTS]
//! ```
//!
//! Each database variable that is set is measured (a fresh table, dropped at the end);
//! `REQUESTS` (default 4000) is the number of requests per run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use session_runtime::store::database::{Dialect, DieselStore, DieselStoreBuilder};
use session_runtime::store::mysql::MysqlStore;
use session_runtime::store::postgres::PostgresStore;
use session_runtime::{Record, SessionStore, StoreKey, Timestamp};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(4000);
    let mut measured = false;
    if let Ok(url) = std::env::var("SESSION_TEST_POSTGRES_URL") {
        run("postgres", PostgresStore::builder(url), requests).await?;
        measured = true;
    }
    if let Ok(url) = std::env::var("SESSION_TEST_MYSQL_URL") {
        run("mysql", MysqlStore::builder(url), requests).await?;
        measured = true;
    }
    if !measured {
        return Err("set SESSION_TEST_POSTGRES_URL and/or SESSION_TEST_MYSQL_URL".into());
    }
    Ok(())
}

async fn run<D: Dialect>(
    name: &str,
    builder: DieselStoreBuilder<D>,
    requests: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut suffix = [0u8; 4];
    getrandom::getrandom(&mut suffix).map_err(|e| e.to_string())?;
    let table = format!(
        "load_{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let store = Arc::new(builder.table(&table).pool_size(16).connect().await?);
    store.migrate().await?;
    let now = Timestamp(1_800_000_000);
    for (clients, commit) in [(1usize, false), (16, false), (1, true), (16, true)] {
        let keys: Vec<StoreKey> = (0..clients).map(|i| StoreKey([i as u8 + 1; 32])).collect();
        for k in &keys {
            store.delete(k).await?;
            store.create(k, &record(now, 1)).await?;
        }
        let per_client = requests / clients;
        let started = Instant::now();
        let tasks: Vec<_> = keys
            .into_iter()
            .map(|k| {
                let store: Arc<DieselStore<D>> = store.clone();
                tokio::spawn(async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..per_client {
                        let t = Instant::now();
                        let loaded = store.load(&k, now).await?.ok_or("session vanished")?;
                        if commit {
                            store.save(&k, &record(now, loaded.version)).await?;
                        }
                        total += t.elapsed();
                    }
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(total)
                })
            })
            .collect();
        let mut latency = Duration::ZERO;
        for task in tasks {
            latency += task.await?.map_err(|e| e.to_string())?;
        }
        let elapsed = started.elapsed();
        let done = per_client * clients;
        let what = if commit { "load+commit" } else { "load only  " };
        let ops = if commit { 2.0 } else { 1.0 };
        println!(
            "{name:8} clients={clients:2} requests={done:5} {what} mean {:7.1} us/request, {:8.0} requests/s ({:.0} store ops/s)",
            latency.as_secs_f64() * 1e6 / done as f64,
            done as f64 / elapsed.as_secs_f64(),
            ops * done as f64 / elapsed.as_secs_f64(),
        );
    }
    store.drop_table().await?;
    Ok(())
}

fn record(now: Timestamp, version: u64) -> Record {
    Record {
        payload: vec![b'x'; 512],
        expires_at: now.add_seconds(3600),
        version,
        principal: None,
    }
}
