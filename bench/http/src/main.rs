//! A loopback HTTP load test of session layers, side by side in one run.
//!
//! `httpbench` (no arguments) runs every configuration: for each workload and round it
//! starts one server process per configuration (`httpbench serve ...`, pinned to core 0
//! with `taskset` when the machine has two cores or more), drives it from this process
//! (pinned to core 1) with `--conns` keep-alive connections that each keep their own
//! cookie, measures requests per second and the server's CPU time (from
//! `/proc/<pid>/stat`), then stops it. Rounds interleave the configurations, so a slow
//! moment of the machine spreads over all of them. It prints one Markdown table per
//! workload: ratios to the same framework without sessions, server CPU per request and
//! what the session layer adds to it, the load generator's own CPU per request (its
//! ceiling is about 10^6 / that figure requests per second on its core), the cookie's
//! length, and the sanity checks (every
//! response 200, the counter climbing by one on every request of a connection in `write`
//! mode and staying at 1 in `read` mode, no `Set-Cookie` on a read after the first).
//!
//! Options: `--secs N` (measured seconds per run, default 10), `--warmup N` (default 1),
//! `--rounds N` (default 2), `--conns N` (default 64), `--only a,b` (configurations whose
//! name contains one of these), `--workloads write-counter,...`, `--client raw|hyper`
//! (the load generator's HTTP client: [`raw`], the default, or hyper's).

mod servers;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper_util::rt::TokioIo;
use servers::{Mode, Payload};

/// A server configuration and the configuration without sessions it is compared to.
struct Config {
    name: &'static str,
    baseline: &'static str,
    label: &'static str,
}

const CONFIGS: &[Config] = &[
    Config {
        name: "axum-none",
        baseline: "axum-none",
        label: "axum, no session",
    },
    Config {
        name: "ours-memory",
        baseline: "axum-none",
        label: "ours, memory store",
    },
    Config {
        name: "tower-memory",
        baseline: "axum-none",
        label: "tower-sessions 0.15, memory store",
    },
    Config {
        name: "ours-encrypted",
        baseline: "axum-none",
        label: "ours, encrypted cookie",
    },
    Config {
        name: "ours-signed",
        baseline: "axum-none",
        label: "ours, signed cookie",
    },
    Config {
        name: "ours-file",
        baseline: "axum-none",
        label: "ours, file store, durability `none` (default)",
    },
    Config {
        name: "ours-file-group",
        baseline: "axum-none",
        label: "ours, file store, durability `group`",
    },
    Config {
        name: "ours-file-fsync",
        baseline: "axum-none",
        label: "ours, file store, durability `fsync`",
    },
    Config {
        name: "ours-typed-memory",
        baseline: "axum-none",
        label: "ours, typed schema (derive), memory store",
    },
    Config {
        name: "ours-typed-encrypted",
        baseline: "axum-none",
        label: "ours, typed schema (derive), encrypted cookie",
    },
    Config {
        name: "ours-postgres",
        baseline: "axum-none",
        label: "ours, PostgreSQL (Diesel)",
    },
    Config {
        name: "tower-postgres",
        baseline: "axum-none",
        label: "tower-sessions 0.14, sqlx PostgreSQL store",
    },
    Config {
        name: "floor-postgres",
        baseline: "axum-none",
        label: "floor: tokio-postgres, prepared SELECT + upsert",
    },
    // The cost of the active-sessions index (issue 15): the same session, whose `user` is
    // set on the first request, with and without `principal = "user"` declared.
    Config {
        name: "idx-file-off",
        baseline: "axum-none",
        label: "file store, `user` set, no principal",
    },
    Config {
        name: "idx-file-on",
        baseline: "axum-none",
        label: "file store, `principal = \"user\"` (indexed)",
    },
    Config {
        name: "idx-postgres-off",
        baseline: "axum-none",
        label: "PostgreSQL, `user` set, no principal",
    },
    Config {
        name: "idx-postgres-on",
        baseline: "axum-none",
        label: "PostgreSQL, `principal = \"user\"` (indexed)",
    },
    Config {
        name: "idx-signed-off",
        baseline: "axum-none",
        label: "signed cookie, `user` set, no principal",
    },
    Config {
        name: "idx-signed-revocable",
        baseline: "axum-none",
        label: "signed cookie, `principal = \"user\"`, memory revocation store",
    },
    Config {
        name: "actix-none",
        baseline: "actix-none",
        label: "actix-web, no session",
    },
    Config {
        name: "actix-private",
        baseline: "actix-none",
        label: "actix-session 0.11, private cookie",
    },
    Config {
        name: "actix-signed",
        baseline: "actix-none",
        label: "actix-session 0.11, signed cookie",
    },
];

const WORKLOADS: &[(&str, Mode, Payload)] = &[
    ("write-counter", Mode::Write, Payload::Counter),
    ("write-321B", Mode::Write, Payload::Big),
    ("read-counter", Mode::Read, Payload::Counter),
    ("read-321B", Mode::Read, Payload::Big),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let mode = match args[3].as_str() {
            "write" => Mode::Write,
            _ => Mode::Read,
        };
        let payload = match args[4].as_str() {
            "counter" => Payload::Counter,
            _ => Payload::Big,
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        println!("port {}", listener.local_addr().expect("address").port());
        servers::serve(&args[2], mode, payload, listener);
        return;
    }
    let opts = Options::parse(&args[1..]);
    run(&opts);
}

struct Options {
    secs: f64,
    warmup: f64,
    rounds: usize,
    conns: usize,
    only: Vec<String>,
    workloads: Vec<String>,
    client: Client,
}

/// The load generator's HTTP client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    /// [`raw`]: hand-rolled HTTP/1.1 on a `TcpStream` (the default).
    Raw,
    /// hyper's HTTP/1 client (`--client hyper`), the load generator before 2026-11-30.
    Hyper,
}

impl Options {
    fn parse(args: &[String]) -> Self {
        let mut o = Options {
            secs: 10.0,
            warmup: 1.0,
            rounds: 2,
            conns: 64,
            only: Vec::new(),
            workloads: Vec::new(),
            client: Client::Raw,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut v = || {
                it.next()
                    .cloned()
                    .unwrap_or_else(|| panic!("{a} needs a value"))
            };
            match a.as_str() {
                "--secs" => o.secs = v().parse().expect("--secs N"),
                "--warmup" => o.warmup = v().parse().expect("--warmup N"),
                "--rounds" => o.rounds = v().parse().expect("--rounds N"),
                "--conns" => o.conns = v().parse().expect("--conns N"),
                "--only" => o.only = v().split(',').map(str::to_owned).collect(),
                "--workloads" => o.workloads = v().split(',').map(str::to_owned).collect(),
                "--client" => {
                    o.client = match v().as_str() {
                        "raw" => Client::Raw,
                        "hyper" => Client::Hyper,
                        other => panic!("--client raw|hyper, not {other}"),
                    }
                }
                other => panic!("unknown option {other}"),
            }
        }
        o
    }
}

/// What one run of one configuration measured.
#[derive(Default, Clone)]
struct Measured {
    requests: u64,
    secs: f64,
    cpu_secs: f64,
    /// CPU seconds of the load generator (this process) over the same interval.
    client_cpu_secs: f64,
    errors: u64,
    bad: u64,
    extra_set_cookies: u64,
    cookie_len: usize,
    max_counter: u64,
}

impl Measured {
    fn add(&mut self, o: &Measured) {
        self.requests += o.requests;
        self.secs += o.secs;
        self.cpu_secs += o.cpu_secs;
        self.client_cpu_secs += o.client_cpu_secs;
        self.errors += o.errors;
        self.bad += o.bad;
        self.extra_set_cookies += o.extra_set_cookies;
        self.cookie_len = self.cookie_len.max(o.cookie_len);
        self.max_counter = self.max_counter.max(o.max_counter);
    }
    fn rps(&self) -> f64 {
        self.requests as f64 / self.secs.max(1e-9)
    }
    fn cpu_us(&self) -> f64 {
        self.cpu_secs * 1e6 / (self.requests.max(1) as f64)
    }
    fn client_cpu_us(&self) -> f64 {
        self.client_cpu_secs * 1e6 / (self.requests.max(1) as f64)
    }
}

fn run(o: &Options) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = cores >= 2 && Command::new("taskset").arg("-V").output().is_ok();
    let needs_postgres = CONFIGS.iter().any(|c| {
        c.name.contains("postgres")
            && (o.only.is_empty() || o.only.iter().any(|s| c.name.contains(s.as_str())))
    });
    let _postgres = needs_postgres.then(Postgres::start);
    if pin {
        // Threads started from now on (the load generator's runtime) inherit core 1.
        let _ = Command::new("taskset")
            .args(["-pc", "1", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
    }
    let configs: Vec<&Config> = CONFIGS
        .iter()
        .filter(|c| {
            o.only.is_empty()
                || c.name == c.baseline
                || o.only.iter().any(|s| c.name.contains(s.as_str()))
        })
        .collect();
    let workloads: Vec<_> = WORKLOADS
        .iter()
        .filter(|w| o.workloads.is_empty() || o.workloads.iter().any(|s| s == w.0))
        .collect();
    let tick = clock_ticks();
    println!(
        "# {} configurations x {} workloads x {} rounds, {} s each (+{} s warm-up), {} connections, client {:?}; server pinned: {}",
        configs.len(),
        workloads.len(),
        o.rounds,
        o.secs,
        o.warmup,
        o.conns,
        o.client,
        if pin {
            "core 0, load generator core 1"
        } else {
            "no"
        }
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut results: Vec<Vec<Measured>> =
        vec![vec![Measured::default(); configs.len()]; workloads.len()];
    for round in 0..o.rounds {
        for (wi, (wname, mode, payload)) in workloads.iter().enumerate() {
            for (ci, config) in configs.iter().enumerate() {
                let m = rt.block_on(measure(o, config, *mode, *payload, pin, tick));
                eprintln!(
                    "round {} {wname:14} {:16} {:>9.0} req/s {:>7.1} us cpu/req (load generator {:>5.1}) cookie {:>4} errors {} bad {} extra-set-cookie {} max counter {}",
                    round + 1,
                    config.name,
                    m.rps(),
                    m.cpu_us(),
                    m.client_cpu_us(),
                    m.cookie_len,
                    m.errors,
                    m.bad,
                    m.extra_set_cookies,
                    m.max_counter
                );
                results[wi][ci].add(&m);
            }
        }
    }
    for (wi, (wname, mode, _)) in workloads.iter().enumerate() {
        println!();
        println!("## {wname}");
        println!();
        println!(
            "| configuration | req/s | ratio to no-session | server CPU µs/req | added by the session layer µs/req | load generator CPU µs/req | cookie length | errors | sanity |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for (ci, config) in configs.iter().enumerate() {
            let m = &results[wi][ci];
            let base = configs
                .iter()
                .position(|c| c.name == config.baseline)
                .map(|bi| &results[wi][bi]);
            let (ratio, added) = match base {
                Some(b) => (
                    format!("{:.2}", m.rps() / b.rps()),
                    format!("{:.1}", m.cpu_us() - b.cpu_us()),
                ),
                None => ("-".into(), "-".into()),
            };
            let sanity = if config.name == config.baseline {
                "-".to_owned()
            } else if m.bad == 0
                && m.errors == 0
                && (*mode == Mode::Read || m.max_counter > 1)
                && (*mode == Mode::Write || m.extra_set_cookies == 0)
            {
                match mode {
                    Mode::Write => format!("ok (counter up to {})", m.max_counter),
                    Mode::Read => "ok (no write after the first)".to_owned(),
                }
            } else {
                format!(
                    "FAILED: {} bad answers, {} extra Set-Cookie",
                    m.bad, m.extra_set_cookies
                )
            };
            println!(
                "| {} | {:.0} | {} | {:.1} | {} | {:.1} | {} | {} | {} |",
                config.label,
                m.rps(),
                ratio,
                m.cpu_us(),
                added,
                m.client_cpu_us(),
                if m.cookie_len == 0 {
                    "-".to_owned()
                } else {
                    m.cookie_len.to_string()
                },
                m.errors,
                sanity
            );
        }
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User plus system CPU seconds of process `pid` so far.
fn cpu_secs(pid: u32, tick: f64) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of proc(5); `rest` starts at field 3.
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / tick
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        // The file store's directory of a file configuration (named by the server's pid:
        // `taskset` execs the server, so the pid is the child's).
        let dir = std::env::temp_dir().join(format!("httpbench-file-{}", self.0.id()));
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The URL of the PostgreSQL server this run started, if it needed one.
static DATABASE_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A PostgreSQL cluster started for the run (`pg.sh up`), stopped and removed on drop.
struct Postgres {
    dir: std::path::PathBuf,
}

impl Postgres {
    fn script() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pg.sh")
    }

    /// Starts the server (before the orchestrator pins itself, so the server may use every
    /// core) and records its URL for the servers.
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("httpbench-pg-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(Self::script())
            .arg("up")
            .arg(&dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("run pg.sh");
        assert!(out.status.success(), "pg.sh up failed");
        let url = String::from_utf8(out.stdout).expect("UTF-8 URL");
        let url = url.lines().last().expect("a URL").trim().to_owned();
        let _ = DATABASE_URL.set(url);
        Postgres { dir }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script())
            .arg("down")
            .arg(&self.dir)
            .status();
    }
}

fn start_server(config: &str, mode: Mode, payload: Payload, pin: bool) -> (Server, u16) {
    let exe = std::env::current_exe().expect("own path");
    let mode = if mode == Mode::Write { "write" } else { "read" };
    let payload = if payload == Payload::Counter {
        "counter"
    } else {
        "big"
    };
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    if let Some(url) = DATABASE_URL.get() {
        cmd.env("BENCH_DATABASE_URL", url);
    }
    let mut child = cmd
        .args(["serve", config, mode, payload])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut port = 0;
    for line in lines.by_ref() {
        let line = line.expect("server output");
        if let Some(p) = line.strip_prefix("port ") {
            port = p.parse().expect("port");
        }
        if line == "ready" {
            break;
        }
    }
    assert!(port != 0, "{config}: server did not start");
    (Server(child), port)
}

#[derive(Default)]
struct Shared {
    done: AtomicU64,
    errors: AtomicU64,
    bad: AtomicU64,
    extra_set_cookies: AtomicU64,
    cookie_len: AtomicU64,
    max_counter: AtomicU64,
    stop: AtomicBool,
}

async fn measure(
    o: &Options,
    config: &Config,
    mode: Mode,
    payload: Payload,
    pin: bool,
    tick: f64,
) -> Measured {
    let (server, port) = start_server(config.name, mode, payload, pin);
    let pid = server.0.id();
    let shared = Arc::new(Shared::default());
    let check = config.name != config.baseline;
    let tasks: Vec<_> = (0..o.conns)
        .map(|_| {
            tokio::spawn(connection(
                port,
                mode,
                check,
                o.client,
                Arc::clone(&shared),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
    let me = std::process::id();
    let (d0, e0, c0, l0, t0) = (
        shared.done.load(Ordering::Relaxed),
        shared.errors.load(Ordering::Relaxed),
        cpu_secs(pid, tick),
        cpu_secs(me, tick),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs_f64(o.secs)).await;
    let (d1, c1, l1, t1) = (
        shared.done.load(Ordering::Relaxed),
        cpu_secs(pid, tick),
        cpu_secs(me, tick),
        Instant::now(),
    );
    shared.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    drop(server);
    let _ = e0;
    Measured {
        requests: d1 - d0,
        secs: (t1 - t0).as_secs_f64(),
        cpu_secs: c1 - c0,
        client_cpu_secs: l1 - l0,
        // Errors and sanity failures count over the whole run, warm-up included.
        errors: shared.errors.load(Ordering::Relaxed),
        bad: shared.bad.load(Ordering::Relaxed),
        extra_set_cookies: shared.extra_set_cookies.load(Ordering::Relaxed),
        cookie_len: shared.cookie_len.load(Ordering::Relaxed) as usize,
        max_counter: shared.max_counter.load(Ordering::Relaxed),
    }
}

/// One keep-alive connection with its own cookie, sending requests until told to stop:
/// through [`raw`] (the default) or hyper's client (`--client hyper`).
async fn connection(port: u16, mode: Mode, check: bool, client: Client, shared: Arc<Shared>) {
    match client {
        Client::Raw => raw::connection(port, mode, check, shared).await,
        Client::Hyper => hyper_connection(port, mode, check, shared).await,
    }
}

/// What one connection remembers between responses, and the checks it makes on each.
struct Checker {
    mode: Mode,
    check: bool,
    cookie: Option<String>,
    prev: u64,
    responses: u64,
}

impl Checker {
    fn new(mode: Mode, check: bool) -> Self {
        Checker {
            mode,
            check,
            cookie: None,
            prev: 0,
            responses: 0,
        }
    }

    /// A `Set-Cookie` header of the response: keeps its `name=value` (or forgets the
    /// cookie on `Max-Age=0`), and counts it as extra on a read after the first response.
    fn set_cookie(&mut self, value: &[u8], shared: &Shared) {
        let Ok(value) = std::str::from_utf8(value) else {
            return;
        };
        if self.mode == Mode::Read && self.responses > 0 {
            shared.extra_set_cookies.fetch_add(1, Ordering::Relaxed);
        }
        let pair = value.split(';').next().unwrap_or("").trim();
        if value.contains("Max-Age=0") {
            self.cookie = None;
        } else {
            shared
                .cookie_len
                .fetch_max(pair.len() as u64, Ordering::Relaxed);
            match &mut self.cookie {
                Some(c) => {
                    c.clear();
                    c.push_str(pair);
                }
                None => self.cookie = Some(pair.to_owned()),
            }
        }
    }

    /// The end of a response: its status and body (the counter).
    fn response(&mut self, ok: bool, body: &[u8], shared: &Shared) {
        self.responses += 1;
        if !ok {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.check {
            let n: u64 = std::str::from_utf8(body)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let expected = match self.mode {
                Mode::Write => self.prev + 1,
                Mode::Read => 1,
            };
            if n != expected {
                shared.bad.fetch_add(1, Ordering::Relaxed);
            }
            self.prev = n;
            shared.max_counter.fetch_max(n, Ordering::Relaxed);
        }
        shared.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// The same connection through hyper's HTTP/1 client (the load generator before
/// 2026-11-30; kept to show what the raw client changes: `--client hyper`).
async fn hyper_connection(port: u16, mode: Mode, check: bool, shared: Arc<Shared>) {
    let mut state = Checker::new(mode, check);
    'connect: while !shared.stop.load(Ordering::Relaxed) {
        let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        tokio::spawn(conn);
        while !shared.stop.load(Ordering::Relaxed) {
            let mut req = hyper::Request::get("/").header(HOST, "127.0.0.1");
            if let Some(c) = &state.cookie {
                req = req.header(COOKIE, c.as_str());
            }
            let req = req.body(Empty::<Bytes>::new()).expect("request");
            let res = match sender.send_request(req).await {
                Ok(res) => res,
                Err(_) => {
                    if !shared.stop.load(Ordering::Relaxed) {
                        shared.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    continue 'connect;
                }
            };
            let ok = res.status() == hyper::StatusCode::OK;
            for value in res.headers().get_all(SET_COOKIE) {
                state.set_cookie(value.as_bytes(), &shared);
            }
            let body = match res.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    continue 'connect;
                }
            };
            state.response(ok, &body, &shared);
        }
    }
}

/// A minimal HTTP/1.1 keep-alive client on a raw `TcpStream`: one `write` per request
/// (built into a reused buffer), responses parsed in place with `httparse`
/// (`Content-Length` or chunked bodies), no task or channel per request. It exists so that
/// the load generator costs less per request than the servers it measures: on two cores
/// the old client (hyper's, two tasks and a channel per connection) bounded the fastest
/// configurations.
mod raw {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Why a connection is dropped and opened again.
    #[derive(Debug)]
    enum Broken {
        Io,
        Malformed,
    }

    pub(super) async fn connection(port: u16, mode: Mode, check: bool, shared: Arc<Shared>) {
        let mut state = Checker::new(mode, check);
        let mut req = Vec::with_capacity(1024);
        let mut buf = Vec::with_capacity(16 * 1024);
        while !shared.stop.load(Ordering::Relaxed) {
            let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
            else {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            buf.clear();
            while !shared.stop.load(Ordering::Relaxed) {
                req.clear();
                req.extend_from_slice(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
                if let Some(c) = &state.cookie {
                    req.extend_from_slice(b"Cookie: ");
                    req.extend_from_slice(c.as_bytes());
                    req.extend_from_slice(b"\r\n");
                }
                req.extend_from_slice(b"\r\n");
                if stream.write_all(&req).await.is_err() {
                    if !shared.stop.load(Ordering::Relaxed) {
                        shared.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
                match response(&mut stream, &mut buf, &mut state, &shared).await {
                    Ok(true) => {}
                    // The server closes the connection (`Connection: close`).
                    Ok(false) => break,
                    Err(_) => {
                        if !shared.stop.load(Ordering::Relaxed) {
                            shared.errors.fetch_add(1, Ordering::Relaxed);
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Reads more bytes into `buf`; end of stream is an error (a response is pending).
    async fn fill(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<(), Broken> {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(16 * 1024);
        }
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => Err(Broken::Io),
            Ok(_) => Ok(()),
        }
    }

    /// Reads and checks one response; `Ok(keep_alive)`.
    async fn response(
        stream: &mut tokio::net::TcpStream,
        buf: &mut Vec<u8>,
        state: &mut Checker,
        shared: &Shared,
    ) -> Result<bool, Broken> {
        // The head.
        let (head_len, ok, body_len, chunked, keep_alive) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut res = httparse::Response::new(&mut headers);
            match res.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let ok = res.code == Some(200);
                    let mut body_len = 0usize;
                    let mut chunked = false;
                    let mut keep_alive = true;
                    for h in res.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            body_len = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse().ok())
                                .ok_or(Broken::Malformed)?;
                        } else if h.name.eq_ignore_ascii_case("set-cookie") {
                            state.set_cookie(h.value, shared);
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = h.value.eq_ignore_ascii_case(b"chunked");
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            keep_alive = !h.value.eq_ignore_ascii_case(b"close");
                        }
                    }
                    break (n, ok, body_len, chunked, keep_alive);
                }
                Ok(httparse::Status::Partial) => fill(stream, buf).await?,
                Err(_) => return Err(Broken::Malformed),
            }
        };
        // The body.
        let end = if chunked {
            let mut body = Vec::new();
            let mut at = head_len;
            loop {
                match httparse::parse_chunk_size(&buf[at..]) {
                    Ok(httparse::Status::Complete((n, size))) => {
                        let size = usize::try_from(size).map_err(|_| Broken::Malformed)?;
                        let need = at + n + size + 2;
                        while buf.len() < need {
                            fill(stream, buf).await?;
                        }
                        body.extend_from_slice(&buf[at + n..at + n + size]);
                        at = need;
                        if size == 0 {
                            break;
                        }
                    }
                    Ok(httparse::Status::Partial) => fill(stream, buf).await?,
                    Err(_) => return Err(Broken::Malformed),
                }
            }
            state.response(ok, &body, shared);
            at
        } else {
            let end = head_len + body_len;
            while buf.len() < end {
                fill(stream, buf).await?;
            }
            state.response(ok, &buf[head_len..end], shared);
            end
        };
        buf.drain(..end);
        Ok(keep_alive)
    }
}
