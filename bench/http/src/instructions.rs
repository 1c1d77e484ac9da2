//! `--instructions`: user-space instructions per request, counted by valgrind's callgrind.
//!
//! Each server runs under `valgrind --tool=callgrind`; the load generator warms it up, the
//! counters are zeroed (`callgrind_control -z PID`), a fixed number of requests is driven
//! (the connections take tickets, so exactly that many are sent), the counters are dumped
//! (`callgrind_control -d PID`) and the dump's total instruction count (`Ir`) is divided
//! by the requests. The count is deterministic up to the few instructions of timers and
//! scheduling, so it does not depend on what else runs on the machine; it leaves out the
//! kernel (system calls, networking, file system) and the time spent waiting or missing
//! caches.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::stats::{self, PAIRS};
use crate::{Measured, Mode, Options, Plan, Running};

/// Whether valgrind and `callgrind_control` can run; the reason when not.
pub fn available() -> Result<(), String> {
    for tool in ["valgrind", "callgrind_control"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Err(format!(
                "`{tool}` not found: this mode runs every server under valgrind's callgrind \
                 (Debian/Ubuntu: `apt-get install valgrind`); the time mode (without \
                 --instructions) does not need it"
            ));
        }
    }
    Ok(())
}

/// The command line prefix that runs a server under callgrind, its dumps in `dir`.
pub fn valgrind_args(dir: &Path) -> Vec<OsString> {
    let mut out = OsString::from("--callgrind-out-file=");
    out.push(dir.join("cg.%p"));
    vec![
        "valgrind".into(),
        "-q".into(),
        "--tool=callgrind".into(),
        out,
    ]
}

/// Sends `command` (`-z` zero, `-d` dump) to the callgrind of process `pid`.
fn control(command: &str, pid: u32) {
    let out = Command::new("callgrind_control")
        .args([command, &pid.to_string()])
        .output()
        .expect("run callgrind_control");
    assert!(
        out.status.success(),
        "callgrind_control {command} {pid} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The total `Ir` of the last dump of process `pid` in `dir` (`cg.PID.N`, highest `N`).
fn last_dump(dir: &Path, pid: u32) -> u64 {
    let prefix = format!("cg.{pid}.");
    let (_, path) = std::fs::read_dir(dir)
        .expect("callgrind directory")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n: u64 = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, e.path()))
        })
        .max()
        .expect("a callgrind dump");
    let text = std::fs::read_to_string(&path).expect("read the dump");
    parse_total(&text).unwrap_or_else(|| panic!("no totals in {}", path.display()))
}

/// The first event count of a callgrind dump's `totals:` line (or `summary:`).
fn parse_total(text: &str) -> Option<u64> {
    let find = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

/// One configuration's count in one workload.
struct Counted {
    /// Instructions per measured request.
    per_request: f64,
    /// The measured requests (with their sanity counters).
    measured: Measured,
    /// Sanity counters over the warm-up and the measured requests.
    sanity: Measured,
}

/// The instruction mode: every configuration under callgrind, one after the other.
pub fn run(o: &Options, plan: &Plan) {
    println!(
        "# --instructions: {} configurations x {} workloads, each under callgrind: {} warm-up requests, then {} counted, {} connections, client {:?}; server pinned: {}",
        plan.configs.len(),
        plan.workloads.len(),
        o.warmup_requests,
        o.requests,
        o.conns(),
        o.client,
        plan.pinned()
    );
    // `HTTPBENCH_KEEP_DUMPS=DIR` keeps the dumps there (`cg.PID.N`, the last of each
    // server the counted requests'), for `callgrind_annotate --inclusive=yes`.
    let keep = std::env::var_os("HTTPBENCH_KEEP_DUMPS").map(PathBuf::from);
    let dir: PathBuf = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("httpbench-cg-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).expect("callgrind directory");
    let mut all: Vec<Vec<Counted>> = Vec::new();
    for (wname, mode, payload) in plan.workloads.iter().copied() {
        let mut results = Vec::new();
        for config in &plan.configs {
            let mut r = Running::start(o, plan, config, *mode, *payload, Some(&dir));
            let pid = r.pid();
            let mut sanity =
                plan.rt
                    .block_on(r.slice(o, plan.tick, 0.0, 0.0, Some(o.warmup_requests)));
            control("-z", pid);
            let m = plan
                .rt
                .block_on(r.slice(o, plan.tick, 0.0, 0.0, Some(o.requests)));
            control("-d", pid);
            let ir = last_dump(&dir, pid);
            drop(r);
            sanity.add_sanity(&m);
            let per_request = ir as f64 / m.requests.max(1) as f64;
            if keep.is_some() {
                eprintln!("{wname:14} {:20} dump of pid {pid} kept in {}", config.name, dir.display());
            }
            eprintln!(
                "{wname:14} {:20} {:>10.0} instructions/req over {} requests ({} in all), cookie {:>4} errors {} bad {} extra-set-cookie {} max counter {}",
                config.name,
                per_request,
                m.requests,
                ir,
                sanity.cookie_len,
                sanity.errors,
                sanity.bad,
                sanity.extra_set_cookies,
                sanity.max_counter
            );
            results.push(Counted {
                per_request,
                measured: m,
                sanity,
            });
        }
        print_workload(plan, wname, *mode, &results);
        all.push(results);
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    print_pairs(plan, &all);
}

/// What configuration `ci` adds to its framework without sessions, per request.
fn added(plan: &Plan, results: &[Counted], ci: usize) -> Option<f64> {
    let bi = plan.index(plan.configs[ci].baseline)?;
    Some(results[ci].per_request - results[bi].per_request)
}

fn print_workload(plan: &Plan, wname: &str, mode: Mode, results: &[Counted]) {
    println!();
    println!("## {wname} (instructions)");
    println!();
    println!(
        "| configuration | instructions/req | added by the session layer instructions/req | ratio to no-session | requests counted | cookie length | errors | sanity |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (ci, config) in plan.configs.iter().enumerate() {
        let r = &results[ci];
        let base = plan
            .index(config.baseline)
            .map(|bi| results[bi].per_request);
        println!(
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            config.label,
            r.per_request,
            added(plan, results, ci).map_or("-".to_owned(), |a| format!("{a:.0}")),
            base.map_or("-".to_owned(), |b| format!("{:.2}", r.per_request / b)),
            r.measured.requests,
            r.sanity.cookie(),
            r.sanity.errors,
            r.sanity.sanity(config, mode)
        );
    }
}

fn print_pairs(plan: &Plan, all: &[Vec<Counted>]) {
    println!();
    println!("## Pairs: instructions added per request, ours / peer");
    println!();
    println!(
        "Added = a configuration's instructions per request minus its framework's without sessions (user space only: no kernel, no waiting). The counts repeat within about 1% from run to run, so a ratio within 2% of the limit is LEVEL, neither PASS nor FAIL."
    );
    println!();
    println!(
        "| workload | ours | peer | ours added instructions/req | peer added instructions/req | ratio | limit | verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (wi, (wname, _, _)) in plan.workloads.iter().enumerate() {
        let results = &all[wi];
        for pair in PAIRS {
            let (Some(oi), Some(pi)) = (plan.index(pair.ours), plan.index(pair.peer)) else {
                continue;
            };
            let (Some(oa), Some(pa)) = (added(plan, results, oi), added(plan, results, pi)) else {
                continue;
            };
            let ratio = stats::ratio(oa, pa);
            let verdict = stats::count_verdict(pair, ratio);
            println!(
                "| {wname} | {} | {} | {oa:.0} | {pa:.0} | {ratio:.2} | {} | {verdict} |",
                pair.ours,
                pair.peer,
                pair.limit_text()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_of_a_dump() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 195652\n\nfn=(1) main\n3 4\ntotals: 195654\n";
        assert_eq!(parse_total(dump), Some(195654));
        assert_eq!(parse_total("summary: 7\n"), Some(7));
        assert_eq!(parse_total("events: Ir\n"), None);
    }
}
