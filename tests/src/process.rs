//! Running the built `mesos-dns` binary: a temporary directory for config
//! and state files, a child process whose output lines arrive on channels,
//! and bounded waits.
//!
//! The binary is `mesos-dns-e2e`, this package's build of the server's own
//! `main.rs` (see `Cargo.toml`): cargo tells only a package's own tests
//! where its binaries are, and it builds them before those tests run.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The binary under test: `mesos-dns-e2e` in the directory above the test
/// executable's (`target/<profile>/deps/e2e-<hash>`), where cargo puts it.
pub fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps");
    let bin = dir.join(format!("mesos-dns-e2e{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with cargo test -p mesos-dns-tests",
        bin.display()
    );
    bin
}

/// How long any one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// A fresh directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir()
            .join(format!("mesos-dns-proc-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The repository's `deploy/demo` directory.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/demo")
}

/// Runs the binary to completion with `args`.
pub fn run(args: &[&str]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mesos-dns binary runs");
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mesos-dns {args:?} did not exit within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A running server whose stdout and stderr lines arrive on channels.
pub struct Server {
    pub child: Child,
    pub stdout: Receiver<String>,
    pub stderr: Receiver<String>,
    pub seen_out: Vec<String>,
    pub seen_err: Vec<String>,
    /// Dropped with SIGTERM first (bounded wait, then SIGKILL): for a
    /// process that has children of its own to stop, such as the socket
    /// holder, which SIGKILL would orphan.
    pub term_on_drop: bool,
}

/// Finds a line containing `needle` among the lines already `seen`, or
/// waits up to [`WAIT`] for one on `rx`, keeping every line it reads.
fn wait_line(
    rx: &Receiver<String>,
    seen: &mut Vec<String>,
    needle: &str,
) -> Option<String> {
    if let Some(line) = seen.iter().find(|l| l.contains(needle)) {
        return Some(line.clone());
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).ok()?;
        seen.push(line.clone());
        if line.contains(needle) {
            return Some(line);
        }
    }
}

fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::spawn(Command::new(bin()).args(args))
    }

    /// Starts the binary from `sh` after the shell commands `setup` (such
    /// as `ulimit -Sn 512`); `exec` keeps the process id.
    pub fn start_after(setup: &str, args: &[&str]) -> Server {
        Server::spawn(
            Command::new("sh")
                .arg("-c")
                .arg(format!("{setup}; exec \"$0\" \"$@\""))
                .arg(bin())
                .args(args),
        )
    }

    /// Starts `command` (stdout and stderr piped) as the server.
    pub fn start_command(command: &mut Command) -> Server {
        Server::spawn(command)
    }

    fn spawn(command: &mut Command) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the mesos-dns binary runs");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Server {
            child,
            stdout,
            stderr,
            seen_out: Vec::new(),
            seen_err: Vec::new(),
            term_on_drop: false,
        }
    }

    /// Waits for a stdout line containing `needle` (or finds one already
    /// seen); returns it.
    pub fn wait_stdout(&mut self, needle: &str) -> String {
        match wait_line(&self.stdout, &mut self.seen_out, needle) {
            Some(line) => line,
            None => {
                self.drain_stderr();
                panic!(
                    "no stdout line with {needle:?} within {WAIT:?}; stdout {:?}, stderr {:?}",
                    self.seen_out, self.seen_err
                )
            }
        }
    }

    /// Waits for a stderr line containing `needle` (or finds one already
    /// seen); returns it.
    pub fn wait_stderr(&mut self, needle: &str) -> String {
        match wait_line(&self.stderr, &mut self.seen_err, needle) {
            Some(line) => line,
            None => panic!("no stderr line with {needle:?}; stderr {:?}", self.seen_err),
        }
    }

    pub fn drain_stderr(&mut self) {
        while let Ok(line) = self.stderr.try_recv() {
            self.seen_err.push(line);
        }
    }

    /// The DNS and HTTP addresses from the startup lines.
    pub fn addresses(&mut self) -> (SocketAddr, SocketAddr) {
        let dns = self.wait_stdout("DNS on ");
        let http = self.wait_stdout("HTTP API on http://");
        let dns = dns
            .split("DNS on ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let http = http
            .split("http://")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        (dns.parse().unwrap(), http.parse().unwrap())
    }

    /// Sends `signal` (`TERM`, `INT`) with the `kill` command.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits for the process to exit; returns its status and how long it
    /// took.
    pub fn wait_exit(&mut self) -> (ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("mesos-dns did not exit within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.term_on_drop {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + WAIT;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `dig` with `args` against `server`; fails (not skips) when dig is
/// missing.
pub fn dig(server: SocketAddr, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(["+time=2", "+tries=1"])
        .args(args)
        .output()
        .expect("dig is installed (Debian package bind9-dnsutils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The status (`NOERROR`, `NXDOMAIN`, `SERVFAIL`...) in dig's output.
pub fn status(dig_output: &str) -> String {
    dig_output
        .split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("(no answer)")
        .to_string()
}

/// The demo config with the ports set to 0 (any free port), the state file
/// at `state`, and `extra` keys merged in.
pub fn demo_config(state: &str, extra: serde_json::Value) -> String {
    let text = std::fs::read_to_string(demo_dir().join("config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&text).unwrap();
    config["Port"] = 0.into();
    config["HttpPort"] = 0.into();
    config["StateFile"] = state.into();
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            config[k] = v;
        }
    }
    config.to_string()
}
