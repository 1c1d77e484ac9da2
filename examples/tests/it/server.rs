//! Starting the example binaries as real processes on free ports.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A port that was free a moment ago (for programs that cannot be told to use port 0).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A fresh directory under `target/`, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running example server, killed on drop.
pub(crate) struct Server {
    child: Child,
    /// The address of the first (often only) listener.
    pub addr: SocketAddr,
    /// Every address the program announced, in order (read by the database tests).
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub addrs: Vec<SocketAddr>,
}

impl Server {
    /// Starts `binary` with `PORT=0` and `envs`, and reads the address it prints.
    pub(crate) fn start(binary: &str, args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::start_listeners(binary, args, envs, 1)
    }

    /// Starts `binary` in the working directory `cwd`.
    pub(crate) fn start_in(binary: &str, cwd: &Path, envs: &[(&str, &str)]) -> Self {
        Self::spawn(binary, &[], envs, 1, Some(cwd), Stdio::inherit())
    }

    /// Starts `binary` with its stderr (its log) written to the file `log`.
    pub(crate) fn start_logged(binary: &str, envs: &[(&str, &str)], log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("create log file");
        Self::spawn(binary, &[], envs, 1, None, Stdio::from(file))
    }

    /// Starts `binary` and reads `count` addresses from its first lines of output
    /// (`listening on http://ADDR/`).
    pub(crate) fn start_listeners(
        binary: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        count: usize,
    ) -> Self {
        Self::spawn(binary, args, envs, count, None, Stdio::inherit())
    }

    fn spawn(
        binary: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        count: usize,
        cwd: Option<&Path>,
        stderr: Stdio,
    ) -> Self {
        let mut command = Command::new(binary);
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        command
            .args(args)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(stderr);
        // Start from a clean policy: no `SESSION_*` setting, key or database URL leaks in
        // from the caller (the test harness exports some); `envs` says what the test wants.
        for (name, _) in std::env::vars() {
            if name.starts_with("SESSION_") || name == "DATABASE_URL" || name == "REDIS_URL" {
                command.env_remove(name);
            }
        }
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut addrs = Vec::new();
        while addrs.len() < count {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                other => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!("{binary} printed no address ({other:?}); exit status {status:?}")
                }
            };
            let url = line
                .strip_prefix("listening on http://")
                .unwrap_or_else(|| panic!("unexpected line `{line}` from {binary}"));
            addrs.push(url.trim_end_matches('/').parse().expect("socket address"));
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            addr: addrs[0],
            addrs,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
