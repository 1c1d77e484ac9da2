//! A loopback HTTP load test of session layers, side by side in one run.
//!
//! `httpbench` (no arguments) measures every configuration in time mode: for each workload
//! it starts one server process per configuration (`httpbench serve ...`, pinned to core 0
//! with `taskset` when the machine has two cores or more), warms each up, then measures
//! them in short interleaved slices: slice after slice, every configuration in turn (the
//! order rotates and reverses from slice to slice), each driven from this process (pinned to
//! core 1) by `--conns` keep-alive connections that each keep their own cookie across
//! slices. A slice measures requests per second and the server's CPU time (the scheduler's
//! run time of its threads in nanoseconds, `/proc/<pid>/task/*/schedstat`, not the
//! 10-ms ticks of `/proc/<pid>/stat`, see [`run_secs`]). A slow moment of a shared machine
//! so hits every configuration alike, and the medians over slices ignore the outliers.
//!
//! Two options take the measurement's own noise out of server CPU per request. `--rate R`
//! offers a fixed load of `R` requests per second (over all connections, see [`Pace`])
//! instead of driving every server as fast as it answers: a saturated server's CPU per
//! request moves with how requests happen to batch (on this 2-core VM, the same
//! configuration's CPU per request ranged 21-40 µs from slice to slice, interquartile range
//! 25-40 % of the median); at a fixed rate every configuration sees the same arrivals.
//! `--realtime` runs the load generator and the servers under `SCHED_FIFO` (`chrt`), so that
//! the other processes of a shared machine (builds) no longer take core 0 from the server
//! or core 1 from the load generator in the middle of a slice. What each change bought, run
//! against run, is in `bench/http/results/2026-11-30-precision.md`.
//! Requests per second then show the offered load, not what a server can do: run without
//! `--rate` for the throughput table. It prints one Markdown table per
//! workload: per configuration the median and interquartile range over slices of server
//! CPU per request and requests per second, what the session layer adds to the CPU per
//! request (the configuration's median minus the median of the same framework without
//! sessions, same run), the load generator's own CPU per request (its ceiling is about
//! 10^6 / that figure requests per second on its core), the cookie's length, and the
//! sanity checks (every response 200, the counter climbing by one on every request of a
//! connection in `write` mode and staying at 1 in `read` mode, no `Set-Cookie` on a read
//! after the first). A pair table ends the output: for each must-show pair (ours against
//! the matching peer), ours added / peer added (ratio of the medians, and each slice's
//! own ratio: median and range), with a verdict against the limit (see [`stats::verdict`]).
//!
//! `httpbench --instructions` measures instead the user-space instructions per request
//! (deterministic: independent of the machine's load): each server runs under valgrind's
//! callgrind, is warmed up with `--warmup-requests` requests, its counters are zeroed
//! (`callgrind_control -z`), `--requests` requests are driven with the same load generator,
//! and the counters dumped (`callgrind_control -d`); instructions per request, what the
//! session layer adds (minus the same framework without sessions) and the same pair table
//! follow. This counts the server process's user-space instructions only: not system
//! calls, kernel time, waiting or cache misses, so it says nothing of the file and database
//! stores, whose cost is mostly in the kernel and in the database (keep the time mode's
//! table for those).
//!
//! Options: `--secs S` (measured seconds per slice, default 1), `--slices N` (slices per
//! configuration and workload, default 10; `--rounds` is the same option), `--warmup S`
//! (seconds of warm-up per server, default 1), `--settle S` (seconds after a slice's
//! connections open before it measures, default 0.1), `--conns N` (default 64; 8 with
//! `--instructions`), `--only a,b` (configurations whose name contains one of these; the
//! no-session baselines always run), `--workloads write-counter,...`, `--client raw|hyper`
//! (the load generator's HTTP client: [`raw`], the default, or hyper's), `--instructions`,
//! `--requests N` (measured requests per configuration with `--instructions`, default
//! 2000), `--warmup-requests N` (default 200), `--rate R` (offered requests per second,
//! default none: as fast as answered), `--realtime` (`SCHED_FIFO`; root or `CAP_SYS_NICE`).
//! With `--instructions`, the environment variable `HTTPBENCH_KEEP_DUMPS=DIR` keeps the
//! callgrind dumps in `DIR` (`cg.PID.N`; the pid of each configuration is printed) for
//! `callgrind_annotate`.

mod instructions;
mod servers;
mod stats;

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
use stats::{PAIRS, Spread};

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
        label: "ours, PostgreSQL (tokio-postgres for requests)",
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
    if opts.instructions
        && let Err(e) = instructions::available()
    {
        eprintln!("httpbench --instructions: {e}");
        std::process::exit(2);
    }
    let plan = Plan::new(&opts);
    if opts.instructions {
        instructions::run(&opts, &plan);
    } else {
        run(&opts, &plan);
    }
}

struct Options {
    secs: f64,
    warmup: f64,
    settle: f64,
    slices: usize,
    conns: Option<usize>,
    only: Vec<String>,
    workloads: Vec<String>,
    client: Client,
    instructions: bool,
    requests: u64,
    warmup_requests: u64,
    /// Offered load in requests per second over all connections (`--rate`), or `None`:
    /// every connection sends its next request as soon as the last is answered.
    rate: Option<f64>,
    /// Run the load generator and the servers under `SCHED_FIFO` (`--realtime`).
    realtime: bool,
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
            secs: 1.0,
            warmup: 1.0,
            settle: 0.1,
            slices: 10,
            conns: None,
            only: Vec::new(),
            workloads: Vec::new(),
            client: Client::Raw,
            instructions: false,
            requests: 2000,
            warmup_requests: 200,
            rate: None,
            realtime: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--instructions" {
                o.instructions = true;
                continue;
            }
            if a == "--realtime" {
                o.realtime = true;
                continue;
            }
            let mut v = || {
                it.next()
                    .cloned()
                    .unwrap_or_else(|| panic!("{a} needs a value"))
            };
            match a.as_str() {
                "--secs" => o.secs = v().parse().expect("--secs S"),
                "--warmup" => o.warmup = v().parse().expect("--warmup S"),
                "--settle" => o.settle = v().parse().expect("--settle S"),
                "--slices" | "--rounds" => o.slices = v().parse().expect("--slices N"),
                "--conns" => o.conns = Some(v().parse().expect("--conns N")),
                "--only" => o.only = v().split(',').map(str::to_owned).collect(),
                "--workloads" => o.workloads = v().split(',').map(str::to_owned).collect(),
                "--requests" => o.requests = v().parse().expect("--requests N"),
                "--rate" => {
                    let r: f64 = v().parse().expect("--rate R");
                    o.rate = (r > 0.0).then_some(r);
                }
                "--warmup-requests" => {
                    o.warmup_requests = v().parse().expect("--warmup-requests N")
                }
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
        o.slices = o.slices.max(1);
        o
    }

    /// Connections of the load generator.
    fn conns(&self) -> usize {
        self.conns
            .unwrap_or(if self.instructions { 8 } else { 64 })
            .max(1)
    }
}

/// What a run covers: configurations, workloads, pinning, the database.
struct Plan {
    configs: Vec<&'static Config>,
    workloads: Vec<&'static (&'static str, Mode, Payload)>,
    pin: bool,
    /// Whether this process (and so the servers it starts) runs under `SCHED_FIFO`.
    realtime: bool,
    tick: f64,
    rt: tokio::runtime::Runtime,
    _postgres: Option<Postgres>,
}

impl Plan {
    fn new(o: &Options) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pin = cores >= 2 && Command::new("taskset").arg("-V").output().is_ok();
        let configs: Vec<&Config> = CONFIGS
            .iter()
            .filter(|c| {
                o.only.is_empty()
                    || c.name == c.baseline
                    || o.only.iter().any(|s| c.name.contains(s.as_str()))
            })
            .collect();
        let postgres = configs
            .iter()
            .any(|c| c.name.contains("postgres"))
            .then(Postgres::start);
        if pin {
            // Threads started from now on (the load generator's runtime) inherit core 1.
            let _ = Command::new("taskset")
                .args(["-pc", "1", &std::process::id().to_string()])
                .stdout(Stdio::null())
                .status();
        }
        // After PostgreSQL's start, so that the database stays an ordinary process. Not
        // under callgrind: instruction counts do not depend on the scheduler.
        let realtime = o.realtime && !o.instructions && Self::realtime();
        let workloads = WORKLOADS
            .iter()
            .filter(|w| o.workloads.is_empty() || o.workloads.iter().any(|s| s == w.0))
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Plan {
            configs,
            workloads,
            pin,
            realtime,
            tick: clock_ticks(),
            rt,
            _postgres: postgres,
        }
    }

    /// Puts this process's thread under `SCHED_FIFO` priority 10 (`chrt`): threads and
    /// processes it starts from now on inherit it, the load generator's runtime and the
    /// servers. Other processes of the machine then run only while these wait (and in the
    /// 5 % of each second the kernel keeps for them, `sched_rt_runtime_us`). Needs root or
    /// `CAP_SYS_NICE`; says so and goes on without it otherwise.
    fn realtime() -> bool {
        let ok = Command::new("chrt")
            .args(["-f", "-p", "10", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "--realtime: `chrt -f -p 10` failed (root or CAP_SYS_NICE needed); running at normal priority"
            );
        }
        ok
    }

    fn pinned(&self) -> &'static str {
        if self.pin {
            "core 0, load generator core 1"
        } else {
            "no"
        }
    }

    /// The index of `name` among the run's configurations.
    fn index(&self, name: &str) -> Option<usize> {
        self.configs.iter().position(|c| c.name == name)
    }
}

/// What one slice (or the warm-up) of one configuration measured.
#[derive(Default, Clone)]
struct Measured {
    requests: u64,
    secs: f64,
    /// The server's CPU seconds over the slice: the kernel's run time in nanoseconds
    /// (`/proc/<pid>/task/*/schedstat`), or `/proc/<pid>/stat` where that is missing.
    cpu_secs: f64,
    /// The same from `/proc/<pid>/stat` (utime + stime, in clock ticks), for comparison.
    stat_cpu_secs: f64,
    /// Busy and steal ticks of core 0 (`/proc/stat`) over the slice, the server's included.
    core0: Core0,
    /// CPU seconds of the load generator (this process) over the same interval.
    client_cpu_secs: f64,
    errors: u64,
    bad: u64,
    extra_set_cookies: u64,
    cookie_len: usize,
    max_counter: u64,
}

impl Measured {
    /// Adds the sanity counters of `o` (errors, bad answers, cookie length, counter).
    fn add_sanity(&mut self, o: &Measured) {
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
    fn stat_cpu_us(&self) -> f64 {
        self.stat_cpu_secs * 1e6 / (self.requests.max(1) as f64)
    }

    /// The sanity column: whether every cookie was accepted and nothing failed.
    fn sanity(&self, config: &Config, mode: Mode) -> String {
        if config.name == config.baseline {
            "-".to_owned()
        } else if self.bad == 0
            && self.errors == 0
            && (mode == Mode::Read || self.max_counter > 1)
            && (mode == Mode::Write || self.extra_set_cookies == 0)
        {
            match mode {
                Mode::Write => format!("ok (counter up to {})", self.max_counter),
                Mode::Read => "ok (no write after the first)".to_owned(),
            }
        } else {
            format!(
                "FAILED: {} bad answers, {} extra Set-Cookie",
                self.bad, self.extra_set_cookies
            )
        }
    }

    fn cookie(&self) -> String {
        if self.cookie_len == 0 {
            "-".to_owned()
        } else {
            self.cookie_len.to_string()
        }
    }
}

/// A server of the run with its load generator's connections' state (cookies), kept from
/// slice to slice.
struct Running {
    config: &'static Config,
    server: Server,
    port: u16,
    checkers: Vec<Checker>,
}

impl Running {
    fn start(
        o: &Options,
        plan: &Plan,
        config: &'static Config,
        mode: Mode,
        payload: Payload,
        callgrind: Option<&std::path::Path>,
    ) -> Self {
        let (server, port) = start_server(config.name, mode, payload, plan.pin, callgrind);
        let check = config.name != config.baseline;
        Running {
            config,
            server,
            port,
            checkers: (0..o.conns()).map(|_| Checker::new(mode, check)).collect(),
        }
    }

    fn pid(&self) -> u32 {
        self.server.0.id()
    }

    /// Drives the server: opens the connections (each with its cookie), waits `settle`
    /// seconds, then measures for `secs` seconds, or (`limit`) until `limit` requests are
    /// done; closes the connections.
    async fn slice(
        &mut self,
        o: &Options,
        tick: f64,
        settle: f64,
        secs: f64,
        limit: Option<u64>,
    ) -> Measured {
        let pid = self.pid();
        let shared = Arc::new(Shared {
            limit: limit.unwrap_or(u64::MAX),
            pace: o.rate.map(Pace::new),
            ..Shared::default()
        });
        let tasks: Vec<_> = self
            .checkers
            .drain(..)
            .map(|state| tokio::spawn(connection(self.port, o.client, state, Arc::clone(&shared))))
            .collect();
        // A counted slice ends only when its requests are answered: if the server exits
        // meanwhile, stop the connections (they would reconnect forever) and say so below.
        let watcher = limit.map(|_| {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                while !shared.over() {
                    if !alive(pid) {
                        shared.stop.store(true, Ordering::Relaxed);
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                false
            })
        });
        if settle > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(settle)).await;
        }
        let me = std::process::id();
        let (d0, c0, s0, l0, k0, t0) = (
            shared.done.load(Ordering::Relaxed),
            run_secs(pid),
            cpu_secs(pid, tick),
            cpu_secs(me, tick),
            Core0::read(),
            Instant::now(),
        );
        if limit.is_none() {
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            shared.stop.store(true, Ordering::Relaxed);
        }
        let (mode, check) = (self.mode(), self.config.name != self.config.baseline);
        for t in tasks {
            let state = match tokio::time::timeout(Duration::from_secs(600), t).await {
                Ok(Ok(state)) => state,
                // A connection that did not end: a fresh one (it loses its cookie).
                _ => Checker::new(mode, check),
            };
            self.checkers.push(state);
        }
        if let Some(w) = watcher {
            let died = w.await.unwrap_or(false);
            assert!(
                !died,
                "server {} (pid {pid}) exited before its {} counted requests were answered",
                self.config.name, shared.limit
            );
        }
        let (d1, c1, s1, l1, k1, t1) = (
            shared.done.load(Ordering::Relaxed),
            run_secs(pid),
            cpu_secs(pid, tick),
            cpu_secs(me, tick),
            Core0::read(),
            Instant::now(),
        );
        Measured {
            requests: d1 - d0,
            secs: (t1 - t0).as_secs_f64(),
            cpu_secs: match (c0, c1) {
                (Some(a), Some(b)) => b.since(&a).unwrap_or(s1 - s0),
                _ => s1 - s0,
            },
            stat_cpu_secs: s1 - s0,
            core0: Core0 {
                busy: k1.busy.saturating_sub(k0.busy),
                steal: k1.steal.saturating_sub(k0.steal),
            },
            client_cpu_secs: l1 - l0,
            // Errors and sanity failures count over the whole slice, settling included.
            errors: shared.errors.load(Ordering::Relaxed),
            bad: shared.bad.load(Ordering::Relaxed),
            extra_set_cookies: shared.extra_set_cookies.load(Ordering::Relaxed),
            cookie_len: shared.cookie_len.load(Ordering::Relaxed) as usize,
            max_counter: shared.max_counter.load(Ordering::Relaxed),
        }
    }

    fn mode(&self) -> Mode {
        self.checkers.first().map_or(Mode::Write, |c| c.mode)
    }
}

/// The order of the configurations in slice `k`: rotated by `k / 2`, reversed on odd
/// slices, so that every configuration runs early and late, before and after each other one
/// (over `2 n` slices, each takes every place).
fn slice_order(n: usize, k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).map(|i| (i + k / 2) % n.max(1)).collect();
    if k % 2 == 1 {
        order.reverse();
    }
    order
}

/// One configuration's slices in one workload.
#[derive(Default)]
struct Slices {
    slices: Vec<Measured>,
    /// Sanity counters over the warm-up and every slice.
    sanity: Measured,
}

impl Slices {
    fn cpu(&self) -> Vec<f64> {
        self.slices.iter().map(Measured::cpu_us).collect()
    }
    fn rps(&self) -> Vec<f64> {
        self.slices.iter().map(Measured::rps).collect()
    }
    fn client(&self) -> Vec<f64> {
        self.slices.iter().map(Measured::client_cpu_us).collect()
    }
}

/// The time mode: interleaved slices, medians, the pair table.
fn run(o: &Options, plan: &Plan) {
    println!(
        "# {} configurations x {} workloads x {} interleaved slices of {} s (+{} s settling; {} s warm-up per server), {} connections, client {:?}, offered load {}; server pinned: {}; scheduling: {}; CPU from {}",
        plan.configs.len(),
        plan.workloads.len(),
        o.slices,
        o.secs,
        o.settle,
        o.warmup,
        o.conns(),
        o.client,
        o.rate
            .map_or("as fast as answered".to_owned(), |r| format!("{r} req/s")),
        plan.pinned(),
        if plan.realtime {
            "SCHED_FIFO 10 (load generator and servers)"
        } else {
            "normal"
        },
        if run_secs(std::process::id()).is_some() {
            "schedstat (ns)"
        } else {
            "/proc/<pid>/stat (ticks)"
        }
    );
    let mut all: Vec<Vec<Slices>> = Vec::new();
    for (wname, mode, payload) in plan.workloads.iter().copied() {
        let mut running: Vec<Running> = plan
            .configs
            .iter()
            .map(|c| Running::start(o, plan, c, *mode, *payload, None))
            .collect();
        let mut results: Vec<Slices> = running.iter().map(|_| Slices::default()).collect();
        for (r, res) in running.iter_mut().zip(&mut results) {
            let m = plan.rt.block_on(r.slice(o, plan.tick, 0.0, o.warmup, None));
            res.sanity.add_sanity(&m);
        }
        for k in 0..o.slices {
            for ci in slice_order(running.len(), k) {
                let r = &mut running[ci];
                let m = plan
                    .rt
                    .block_on(r.slice(o, plan.tick, o.settle, o.secs, None));
                eprintln!(
                    "slice {:>2} {wname:14} {:20} {:>9.0} req/s {:>7.1} us cpu/req (stat {:>5.1}; load generator {:>5.1}; core 0 busy {:>3} steal {} ticks) cookie {:>4} errors {} bad {} extra-set-cookie {} max counter {}",
                    k + 1,
                    r.config.name,
                    m.rps(),
                    m.cpu_us(),
                    m.stat_cpu_us(),
                    m.client_cpu_us(),
                    m.core0.busy,
                    m.core0.steal,
                    m.cookie_len,
                    m.errors,
                    m.bad,
                    m.extra_set_cookies,
                    m.max_counter
                );
                results[ci].sanity.add_sanity(&m);
                results[ci].slices.push(m);
            }
        }
        drop(running);
        print_workload(plan, o, wname, *mode, &results);
        all.push(results);
    }
    print_pairs_time(plan, &all);
}

/// The median of the baseline (same framework, no session) of configuration `ci`.
/// The CPU per request of each slice of configuration `ci`'s framework without sessions.
fn baseline_slices(plan: &Plan, results: &[Slices], ci: usize) -> Option<Vec<f64>> {
    let bi = plan.index(plan.configs[ci].baseline)?;
    Some(results[bi].cpu())
}

fn baseline_cpu(plan: &Plan, results: &[Slices], ci: usize) -> Option<f64> {
    let bi = plan.index(plan.configs[ci].baseline)?;
    Spread::of(&results[bi].cpu()).map(|s| s.median)
}

fn print_workload(plan: &Plan, o: &Options, wname: &str, mode: Mode, results: &[Slices]) {
    println!();
    println!("## {wname}");
    println!();
    println!(
        "| configuration | req/s, median (IQR) | ratio to no-session (medians) | server CPU µs/req, median (IQR) | added by the session layer µs/req (median − median no-session) | load generator CPU µs/req (median) | cookie length | errors | sanity |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (ci, config) in plan.configs.iter().enumerate() {
        let r = &results[ci];
        let (Some(cpu), Some(rps)) = (Spread::of(&r.cpu()), Spread::of(&r.rps())) else {
            continue;
        };
        let client = Spread::of(&r.client()).map_or(0.0, |s| s.median);
        let base = plan.index(config.baseline).map(|bi| &results[bi]);
        let (ratio, added) = match base {
            Some(b) => {
                let b_rps = Spread::of(&b.rps()).map_or(f64::NAN, |s| s.median);
                let b_cpu = Spread::of(&b.cpu()).map_or(f64::NAN, |s| s.median);
                (
                    format!("{:.2}", rps.median / b_rps),
                    format!("{:.1}", cpu.median - b_cpu),
                )
            }
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {:.0} ({:.0}) | {} | {:.1} ({:.1}) | {} | {:.1} | {} | {} | {} |",
            config.label,
            rps.median,
            rps.iqr(),
            ratio,
            cpu.median,
            cpu.iqr(),
            added,
            client,
            r.sanity.cookie(),
            r.sanity.errors,
            r.sanity.sanity(config, mode)
        );
    }
    if let Some(rate) = o.rate {
        // A server that cannot keep up batches more requests per wake-up than the others,
        // which lowers its CPU per request: its figure is not comparable.
        let behind: Vec<&str> = plan
            .configs
            .iter()
            .zip(results)
            .filter(|(_, r)| Spread::of(&r.rps()).is_some_and(|s| s.median < 0.95 * rate))
            .map(|(c, _)| c.name)
            .collect();
        if !behind.is_empty() {
            println!();
            println!(
                "Below the offered load of {rate} req/s (saturated; CPU per request not comparable with the others): {}",
                behind.join(", ")
            );
        }
    }
}

/// The pair table of the time mode.
fn print_pairs_time(plan: &Plan, all: &[Vec<Slices>]) {
    println!();
    println!("## Pairs: server CPU added per request, ours / peer");
    println!();
    let slices = all
        .iter()
        .flatten()
        .map(|s| s.slices.len())
        .max()
        .unwrap_or(0);
    println!(
        "Added = a configuration's CPU µs/req minus the median of its framework without sessions, same run. Ratio of the medians; each slice's own ratio (ours and peer of the same slice): median and range. PASS: the ratio of the medians meets the limit and so do at least {} of the {} slices (3/4, and a one-sided sign test at 5 %); FAIL: it does not and as many slices do not either; UNCLEAR otherwise. The 95 % interval: a paired bootstrap of the ratio of medians ({} draws of the slices, the same slices for ours, the peer and both baselines); its verdict: PASS when the whole interval meets the limit, FAIL when none of it does, UNCLEAR otherwise.",
        stats::agreeing(slices),
        slices,
        stats::RESAMPLES
    );
    println!();
    println!(
        "| workload | ours | peer | ours added µs/req | peer added µs/req | ratio of medians | per-slice ratio: median (min–max) | slices meeting the limit | limit | verdict | 95 % interval of the ratio | verdict by the interval |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (wi, (wname, _, _)) in plan.workloads.iter().enumerate() {
        let results = &all[wi];
        for pair in PAIRS {
            let (Some(oi), Some(pi)) = (plan.index(pair.ours), plan.index(pair.peer)) else {
                continue;
            };
            let (Some(ob), Some(pb)) = (
                baseline_cpu(plan, results, oi),
                baseline_cpu(plan, results, pi),
            ) else {
                continue;
            };
            let ours: Vec<f64> = results[oi].cpu().iter().map(|c| c - ob).collect();
            let peer: Vec<f64> = results[pi].cpu().iter().map(|c| c - pb).collect();
            let (Some(os), Some(ps)) = (Spread::of(&ours), Spread::of(&peer)) else {
                continue;
            };
            let of_medians = stats::ratio(os.median, ps.median);
            let per_slice: Vec<f64> = ours
                .iter()
                .zip(&peer)
                .map(|(a, b)| stats::ratio(*a, *b))
                .collect();
            let defined = per_slice.iter().filter(|r| !r.is_nan()).count();
            let meeting = per_slice.iter().filter(|r| pair.passes(**r)).count();
            let slice_text = Spread::of(&per_slice).map_or("-".to_owned(), |s| {
                format!("{:.2} ({:.2}–{:.2})", s.median, s.min, s.max)
            });
            let interval = match (
                baseline_slices(plan, results, oi),
                baseline_slices(plan, results, pi),
            ) {
                (Some(obs), Some(pbs)) => {
                    stats::ratio_interval(&results[oi].cpu(), &obs, &results[pi].cpu(), &pbs)
                }
                _ => None,
            };
            let interval_text =
                interval.map_or("-".to_owned(), |(low, high)| format!("{low:.2}–{high:.2}"));
            println!(
                "| {wname} | {} | {} | {:.1} | {:.1} | {:.2} | {} | {meeting}/{defined} | {} | {} | {interval_text} | {} |",
                pair.ours,
                pair.peer,
                os.median,
                ps.median,
                of_medians,
                slice_text,
                pair.limit_text(),
                stats::verdict(pair, of_medians, &per_slice),
                stats::interval_verdict(pair, interval)
            );
        }
    }
}

/// Whether process `pid` still runs (not exited, not a zombie waiting to be reaped).
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Field 3 of proc(5), the state, follows the command name's closing parenthesis.
    !matches!(
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next()),
        Some('Z' | 'X') | None
    )
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

/// Run time of every thread of process `pid` so far, in seconds: the scheduler's own
/// count in nanoseconds (first field of `/proc/<pid>/task/<tid>/schedstat`). `None` when
/// the kernel has no schedstat (no `CONFIG_SCHED_INFO`) or the process is gone.
///
/// `/proc/<pid>/stat` derives utime + stime from the same run time but reports them in
/// clock ticks (1/100 s): one reading is off by up to 10 ms, 1 % of a fully busy 1-s slice
/// and several % of a slice in which the server gets a third of its core.
fn run_secs(pid: u32) -> Option<RunTime> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns: u64 = 0;
    let mut threads = Vec::new();
    for task in dir.flatten() {
        // A thread that ended between the listing and the read no longer counts (its
        // time moves to the process's dead-threads total, which schedstat does not show:
        // see `RunTime::since`).
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        if let Some(v) = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
        {
            ns += v;
            threads.extend(
                task.file_name()
                    .to_str()
                    .and_then(|t| t.parse::<u32>().ok()),
            );
        }
    }
    threads.sort_unstable();
    (!threads.is_empty()).then_some(RunTime {
        secs: ns as f64 * 1e-9,
        threads,
    })
}

/// A process's threads' run time at one moment (`run_secs`), and which threads it sums.
struct RunTime {
    secs: f64,
    /// Thread ids, sorted.
    threads: Vec<u32>,
}

impl RunTime {
    /// Run time from `earlier` to `self`, if every thread of `earlier` still ran at `self`:
    /// a thread that ended in between takes its whole life's time out of the sum (a tokio
    /// blocking thread ends after 10 s idle), and the caller falls back to `/proc/<pid>/stat`,
    /// which keeps ended threads' time.
    fn since(&self, earlier: &RunTime) -> Option<f64> {
        earlier
            .threads
            .iter()
            .all(|t| self.threads.binary_search(t).is_ok())
            .then_some(self.secs - earlier.secs)
    }
}

/// Ticks of core 0 from `/proc/stat`: busy (user, nice, system, irq, softirq) and stolen by
/// the hypervisor. Says under which load a slice ran: the server's own CPU is part of busy.
#[derive(Default, Clone, Copy)]
struct Core0 {
    busy: u64,
    steal: u64,
}

impl Core0 {
    fn read() -> Core0 {
        Core0::parse(&std::fs::read_to_string("/proc/stat").unwrap_or_default())
    }

    /// Core 0's line of `/proc/stat`'s `text` (zeros without one).
    fn parse(text: &str) -> Core0 {
        let Some(line) = text.lines().find(|l| l.starts_with("cpu0 ")) else {
            return Core0::default();
        };
        let f: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        Core0 {
            busy: at(0) + at(1) + at(2) + at(5) + at(6),
            steal: at(7),
        }
    }
}

/// Paces the requests of a slice at a fixed offered load (`--rate`): request `n` (counted
/// over all connections) is sent no earlier than `n / rate` seconds after the start. A
/// connection that falls behind sends at once, so a server slower than the rate is driven
/// as hard as without pacing.
struct Pace {
    start: tokio::time::Instant,
    per_request: f64,
    issued: AtomicU64,
}

impl Pace {
    /// Pacing at `rate` requests per second over all connections, from now.
    fn new(rate: f64) -> Self {
        Pace {
            start: tokio::time::Instant::now(),
            per_request: 1.0 / rate,
            issued: AtomicU64::new(0),
        }
    }

    /// When the next request may go.
    fn next(&self) -> tokio::time::Instant {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        self.start + Duration::from_secs_f64(n as f64 * self.per_request)
    }
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

/// Starts `httpbench serve config ...` (pinned to core 0 with `pin`; under callgrind, its
/// output in that directory, with `callgrind`) and waits for it to listen.
fn start_server(
    config: &str,
    mode: Mode,
    payload: Payload,
    pin: bool,
    callgrind: Option<&std::path::Path>,
) -> (Server, u16) {
    let exe = std::env::current_exe().expect("own path");
    let mode = if mode == Mode::Write { "write" } else { "read" };
    let payload = if payload == Payload::Counter {
        "counter"
    } else {
        "big"
    };
    let mut argv: Vec<std::ffi::OsString> = Vec::new();
    if pin {
        argv.extend(["taskset".into(), "-c".into(), "0".into()]);
    }
    if let Some(dir) = callgrind {
        argv.extend(instructions::valgrind_args(dir));
    }
    argv.push(exe.into());
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
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
    /// Requests the connections may send in all (`u64::MAX`: until `stop`).
    limit: u64,
    /// Requests the connections have started.
    started: AtomicU64,
    /// The offered load's schedule (`--rate`), if any.
    pace: Option<Pace>,
}

impl Shared {
    /// Whether a connection may send one more request (taking it from the limit).
    fn go(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
            && (self.limit == u64::MAX || self.started.fetch_add(1, Ordering::Relaxed) < self.limit)
    }

    /// Waits until the next request may be sent (`--rate`); at once without pacing.
    async fn pace(&self) {
        if let Some(p) = &self.pace {
            let at = p.next();
            if at > tokio::time::Instant::now() {
                tokio::time::sleep_until(at).await;
            }
        }
    }

    /// Whether the run is over (stopped, or every allowed request started).
    fn over(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || (self.limit != u64::MAX && self.started.load(Ordering::Relaxed) >= self.limit)
    }
}

/// One keep-alive connection with its own cookie (`state`, handed back at the end), sending
/// requests until told to stop: through [`raw`] (the default) or hyper's client
/// (`--client hyper`).
async fn connection(port: u16, client: Client, state: Checker, shared: Arc<Shared>) -> Checker {
    match client {
        Client::Raw => raw::connection(port, state, shared).await,
        Client::Hyper => hyper_connection(port, state, shared).await,
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
async fn hyper_connection(port: u16, mut state: Checker, shared: Arc<Shared>) -> Checker {
    'connect: while !shared.over() {
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
        while shared.go() {
            shared.pace().await;
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
    state
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

    pub(super) async fn connection(port: u16, mut state: Checker, shared: Arc<Shared>) -> Checker {
        let mut req = Vec::with_capacity(1024);
        let mut buf = Vec::with_capacity(16 * 1024);
        while !shared.over() {
            let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            buf.clear();
            while shared.go() {
                shared.pace().await;
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
        state
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_alive_until_it_exits() {
        assert!(alive(std::process::id()));
        let mut child = Command::new("sleep").arg("0").spawn().expect("sleep");
        let pid = child.id();
        // Exited but not yet reaped: a zombie counts as gone.
        while std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z"))
            .unwrap_or(false)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(pid));
        child.wait().expect("reap");
        assert!(!alive(pid));
    }

    #[test]
    fn every_configuration_takes_every_place() {
        let n = 4;
        let mut seen = vec![vec![0; n]; n];
        for k in 0..2 * n {
            let order = slice_order(n, k);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "slice {k}: {order:?}");
            for (place, ci) in order.into_iter().enumerate() {
                seen[ci][place] += 1;
            }
        }
        assert!(seen.iter().flatten().all(|&c| c > 0), "{seen:?}");
    }

    #[test]
    fn request_limit_counts_tickets() {
        let shared = Shared {
            limit: 2,
            ..Shared::default()
        };
        assert!(shared.go() && !shared.over());
        assert!(shared.go() && shared.over());
        assert!(!shared.go());
    }

    #[test]
    fn pace_spaces_requests_by_the_rate() {
        let pace = Pace::new(1000.0);
        for n in 0..5u64 {
            let at = pace.next() - pace.start;
            let want = Duration::from_millis(n);
            let off = at.abs_diff(want);
            assert!(off < Duration::from_micros(1), "request {n}: {at:?}");
        }
    }

    #[test]
    fn run_time_comes_from_schedstat_per_thread() {
        let me = std::process::id();
        let a = run_secs(me).expect("this kernel has schedstat");
        // Some work on this thread (a test's own thread, not the main one: every
        // thread's time counts).
        let x = (0..2_000_000u64).fold(0u64, |x, i| x ^ i.wrapping_mul(x | 1));
        std::hint::black_box(x);
        let b = run_secs(me).expect("still there");
        // Other tests' threads may end meanwhile: then there is no figure, never a wrong one.
        if let Some(d) = b.since(&a) {
            assert!(a.secs > 0.0 && d > 0.0, "{} then {}", a.secs, b.secs);
        }
        // A thread that ends takes its time out of the sum: no figure across it.
        let gone = RunTime {
            secs: b.secs,
            threads: b.threads[..b.threads.len() - 1].to_vec(),
        };
        assert_eq!(gone.since(&b), None);
        assert_eq!(b.since(&b), Some(0.0));
        assert!(run_secs(u32::MAX).is_none());
    }

    #[test]
    fn core0_ticks_from_proc_stat() {
        let text =
            "cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 1 2 3 400 5 6 7 8 0 0\ncpu1 9 9 9 9 9 9 9 9 0 0\n";
        let c = Core0::parse(text);
        assert_eq!((c.busy, c.steal), (1 + 2 + 3 + 6 + 7, 8));
        assert_eq!(Core0::parse("").busy, 0);
    }
}
