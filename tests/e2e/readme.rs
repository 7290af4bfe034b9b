//! The README tried as a new user would: its demo command, copied
//! literally from its code block, run with bash in a fresh `git clone` of
//! the committed HEAD, then queried with real `dig` and `curl`.
//!
//! What a newcomer does, and what this test does:
//!
//! 1. clone the repository (here: the workspace's own HEAD commit, so the
//!    test sees exactly what is committed, not the work tree);
//! 2. paste the README's demo command into a shell in the clone
//!    (`CARGO_TARGET_DIR` points at this workspace's target directory so
//!    the release build is shared and incremental; the command itself is
//!    not touched);
//! 3. wait for the build and the first state load (bounded: 15 minutes is
//!    generous for a cold release build on a small machine);
//! 4. try the names the demo serves with `dig`, and `/v1/version` with
//!    `curl`, on the ports written in `deploy/demo/config.json`.
//!
//! It also checks the README's other command is literally `tests/run.sh`
//! and that `.ci/run` runs it. `git`, `dig` and `curl` missing is a
//! failure, not a skip. The demo's ports are fixed (the point is to run
//! the command as written), so a busy port fails the test with a clear
//! message instead of a confusing one.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the build and the first state load may take.
const START_LIMIT: Duration = Duration::from_secs(15 * 60);
/// What the server prints once it serves the demo records.
const FIRST_LOAD_LINE: &str = "first state load";
/// A name the demo state does not have.
const MISSING_NAME: &str = "no-such-task.marathon.mesos";

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("the tests crate sits in the workspace root")
        .to_path_buf()
}

/// The workspace's target directory (the parent of cargo's per-target
/// temporary directory), so the clone's release build reuses it.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .to_path_buf()
}

/// The lines of the README's fenced code blocks, trimmed.
fn code_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            lines.push(line.trim().to_string());
        }
    }
    lines
}

/// The demo command: the one code line that runs the server on the demo
/// config. Every occurrence must be the same line.
fn demo_command(readme: &str) -> String {
    let mut found: Vec<String> = code_lines(readme)
        .into_iter()
        .filter(|l| l.starts_with("cargo run") && l.contains("deploy/demo/config.json"))
        .collect();
    found.dedup();
    assert!(
        !found.is_empty(),
        "README.md has no code block line `cargo run ... deploy/demo/config.json`"
    );
    assert_eq!(
        found.len(),
        1,
        "README.md gives different demo commands: {found:?}"
    );
    found.remove(0)
}

fn run(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The demo's fixed ports are machine-wide, so runs of this test from
/// several checkouts or target directories take turns: a lock directory
/// in the system temp dir, made atomically, holding the owner's pid. A
/// lock whose owner is gone is taken over. Removed on drop.
struct PortLock(PathBuf);

impl PortLock {
    fn acquire() -> PortLock {
        PortLock::acquire_at(std::env::temp_dir().join("mesos-dns-readme-demo.lock"))
    }

    fn acquire_at(dir: PathBuf) -> PortLock {
        let deadline = Instant::now() + 2 * START_LIMIT;
        loop {
            match fs::create_dir(&dir) {
                Ok(()) => {
                    fs::write(dir.join("pid"), std::process::id().to_string())
                        .expect("write the lock's pid");
                    return PortLock(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if Self::stale(&dir) {
                        let _ = fs::remove_dir_all(&dir);
                        continue;
                    }
                }
                Err(e) => panic!("cannot create the lock {}: {e}", dir.display()),
            }
            assert!(
                Instant::now() < deadline,
                "another run of this test held {} for {:?}",
                dir.display(),
                2 * START_LIMIT
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// The owner's process is gone, or it never wrote its pid.
    fn stale(dir: &Path) -> bool {
        match fs::read_to_string(dir.join("pid")) {
            Ok(pid) => !Path::new("/proc").join(pid.trim()).exists(),
            Err(_) => fs::metadata(dir)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(30)),
        }
    }
}

impl Drop for PortLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A scratch directory, removed on drop; `name` keeps the tests of one
/// process apart.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir()
            .join(format!("mesos-dns-readme-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The demo command running in its own process group; the whole group
/// (bash, cargo, the server) is stopped on drop, also when a check fails.
struct Demo {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Demo {
    fn start(command: &str, clone: &Path, logs: &Path) -> Demo {
        let stdout = logs.join("demo.stdout");
        let stderr = logs.join("demo.stderr");
        let child = Command::new("bash")
            .arg("-c")
            .arg(command)
            .current_dir(clone)
            .env("CARGO_TARGET_DIR", target_dir())
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("create the stdout log"))
            .stderr(File::create(&stderr).expect("create the stderr log"))
            .process_group(0)
            .spawn()
            .expect("bash is installed");
        Demo {
            child,
            stdout,
            stderr,
        }
    }

    fn logs(&self) -> String {
        let read = |p: &Path| fs::read_to_string(p).unwrap_or_default();
        let tail = |s: String| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        format!(
            "--- stdout ---\n{}\n--- stderr (last 40 lines) ---\n{}",
            read(&self.stdout),
            tail(read(&self.stderr))
        )
    }

    /// Waits for the first state load line, failing if the command exits
    /// or the limit passes.
    fn wait_first_load(&mut self) {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if fs::read_to_string(&self.stdout)
                .unwrap_or_default()
                .contains(FIRST_LOAD_LINE)
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the demo command exited ({status}) before serving:\n{}",
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {FIRST_LOAD_LINE:?} line within {START_LIMIT:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg("--")
            .arg(format!("-{}", self.child.id()))
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.signal_group("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Whatever is left of the group (the server outlives bash if
        // bash died first).
        self.signal_group("KILL");
        let _ = self.child.wait();
    }
}

/// Fails unless `addr` is free for the protocols the demo binds.
fn assert_free(addr: SocketAddr, udp: bool) {
    let why = "is busy: is a demo (or mesos-dns) already running? Stop it and rerun";
    if let Err(e) = TcpListener::bind(addr) {
        panic!("TCP {addr} {why} ({e})");
    }
    if udp {
        if let Err(e) = UdpSocket::bind(addr) {
            panic!("UDP {addr} {why} ({e})");
        }
    }
}

fn dig(dns: SocketAddr, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{}", dns.ip()))
        .arg("-p")
        .arg(dns.port().to_string())
        .args(["+time=2", "+tries=2"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("dig is installed (Debian package bind9-dnsutils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rcode(dig_output: &str) -> &str {
    dig_output
        .split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("(no answer)")
}

/// The demo's listening addresses, as its config writes them.
fn demo_addresses(config: &Value) -> (SocketAddr, SocketAddr) {
    let ip = |key: &str| config[key].as_str().unwrap_or("127.0.0.1").to_string();
    let port = |key: &str| {
        config[key]
            .as_u64()
            .expect("the demo config sets its ports")
    };
    let addr = |ip: String, port: u64| -> SocketAddr {
        let ip = if ip == "0.0.0.0" {
            "127.0.0.1".into()
        } else {
            ip
        };
        format!("{ip}:{port}").parse().expect("an IP listener")
    };
    (
        addr(ip("Listener"), port("Port")),
        addr(ip("HTTPListener"), port("HttpPort")),
    )
}

/// The leader's host in the demo state (`master@host:port`).
fn leader_ip(state: &Value) -> String {
    let leader = state["leader"]
        .as_str()
        .expect("the demo state has a leader");
    let (_, hostport) = leader.split_once('@').expect("leader is name@host:port");
    let (host, _) = hostport.rsplit_once(':').expect("leader has a port");
    host.to_string()
}

/// The SRV name of a running task of the demo state whose name and
/// framework name are already DNS labels (so the name needs no
/// sanitizing) and that has no DiscoveryInfo, with the resource ports of
/// every running task of that name, sorted: `(SRV name, ports)`.
fn srv_example(state: &Value, domain: &str) -> (String, Vec<u16>) {
    let is_label = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let ports = |task: &Value| -> Vec<u16> {
        let text = task["resources"]["ports"].as_str().unwrap_or_default();
        let ranges = text.trim().trim_start_matches('[').trim_end_matches(']');
        let mut out = Vec::new();
        for range in ranges.split(',').filter(|r| !r.trim().is_empty()) {
            let (lo, hi) = range.split_once('-').expect("port ranges are lo-hi");
            let lo: u16 = lo.trim().parse().expect("a port");
            let hi: u16 = hi.trim().parse().expect("a port");
            out.extend(lo..=hi);
        }
        out
    };
    let running = |task: &Value| task["state"] == "TASK_RUNNING";
    for fw in state["frameworks"].as_array().expect("frameworks") {
        let fname = fw["name"].as_str().unwrap_or_default();
        let tasks: Vec<&Value> = fw["tasks"].as_array().into_iter().flatten().collect();
        for task in &tasks {
            let name = task["name"].as_str().unwrap_or_default();
            if running(task)
                && is_label(fname)
                && is_label(name)
                && task.get("discovery").is_none()
                && !ports(task).is_empty()
            {
                let mut all: Vec<u16> = tasks
                    .iter()
                    .filter(|t| t["name"] == name && running(t))
                    .flat_map(|t| ports(t))
                    .collect();
                all.sort_unstable();
                return (format!("_{name}._tcp.{fname}.{domain}"), all);
            }
        }
    }
    panic!("the demo state has no running task with ports to try SRV on");
}

#[test]
fn readme_test_command_is_tests_run_sh_and_ci_runs_it() {
    let root = workspace_root();
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        code_lines(&readme).iter().any(|l| l == "tests/run.sh"),
        "README.md has no code block line that is literally `tests/run.sh`"
    );
    let ci = fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines()
            .map(str::trim)
            .any(|l| l == "tests/run.sh" || l.starts_with("tests/run.sh ")),
        ".ci/run does not run tests/run.sh"
    );
    assert!(
        root.join("tests/run.sh").is_file(),
        "tests/run.sh is missing"
    );
}

#[test]
fn readme_demo_command_works_in_a_fresh_clone() {
    let root = workspace_root();
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let command = demo_command(&readme);

    let scratch = Scratch::new("clone");
    let head = run("git", &["rev-parse", "HEAD"], &root);
    let head = head.trim();
    let clone = scratch.0.join("mesos-dns-rs");
    let clone_arg = clone.to_str().expect("a UTF-8 temp path");
    let root_arg = root.to_str().expect("a UTF-8 workspace path");
    run(
        "git",
        &["clone", "--quiet", "--no-checkout", root_arg, clone_arg],
        &scratch.0,
    );
    run("git", &["checkout", "--quiet", "--detach", head], &clone);

    let read_json = |p: &str| -> Value {
        let text =
            fs::read_to_string(clone.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p}: {e}"))
    };
    let config = read_json("deploy/demo/config.json");
    let state_file = config["StateFile"]
        .as_str()
        .expect("the demo reads a StateFile");
    let state = read_json(&format!("deploy/demo/{state_file}"));
    let domain = config["Domain"].as_str().unwrap_or("mesos").to_string();
    let (dns, http) = demo_addresses(&config);
    let _lock = PortLock::acquire();
    assert_free(dns, true);
    assert_free(http, false);
    // Fail now, not after a 15-minute build, when a client is missing.
    run("dig", &["-v"], &scratch.0);
    run("curl", &["--version"], &scratch.0);

    let mut demo = Demo::start(&command, &clone, &scratch.0);
    demo.wait_first_load();
    let stdout = fs::read_to_string(&demo.stdout).unwrap_or_default();
    assert!(
        stdout.contains(&format!("try: dig @{} -p {}", dns.ip(), dns.port())),
        "the demo does not print the dig line to try:\n{}",
        demo.logs()
    );

    let leader = dig(dns, &[&format!("leader.{domain}"), "A"]);
    assert_eq!(rcode(&leader), "NOERROR", "{leader}");
    let short = dig(dns, &["+short", &format!("leader.{domain}"), "A"]);
    assert_eq!(short.trim(), leader_ip(&state), "{short}");

    let (srv_name, ports) = srv_example(&state, &domain);
    let srv = dig(dns, &["+short", &srv_name, "SRV"]);
    let mut answered: Vec<u16> = Vec::new();
    for line in srv.lines() {
        // priority weight port target
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{srv_name}:\n{srv}");
        assert!(
            fields[3].ends_with(&format!(".slave.{domain}.")),
            "{srv_name}:\n{srv}"
        );
        answered.push(fields[2].parse().expect("an SRV port"));
    }
    answered.sort_unstable();
    assert_eq!(answered, ports, "{srv_name}:\n{srv}");

    let missing = dig(dns, &[MISSING_NAME, "A"]);
    assert_eq!(rcode(&missing), "NXDOMAIN", "{missing}");
    assert!(
        missing.contains("AUTHORITY: 1"),
        "NXDOMAIN carries the SOA:\n{missing}"
    );

    let url = format!("http://{http}/v1/version");
    let body = run("curl", &["-sS", "--max-time", "5", &url], &scratch.0);
    let version: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(version["Service"], "Mesos-DNS", "{body}");
    assert_eq!(version["Version"], mesos_dns::VERSION, "{body}");

    drop(demo);
}

#[test]
fn demo_command_comes_from_a_fenced_code_block_only() {
    let command = "cargo run --release -p mesos-dns -- -config deploy/demo/config.json";
    let fenced =
        format!("Run it:\n\n```sh\n{command}\n```\n\nand again:\n```\n{command}\n```\n");
    assert_eq!(demo_command(&fenced), command);
    // Prose and indented blocks do not count.
    let prose = format!("Run `{command}` or\n\n    {command}\n");
    let missing = std::panic::catch_unwind(|| demo_command(&prose));
    assert!(
        missing.is_err(),
        "a command outside a fenced block was taken"
    );
}

#[test]
fn two_different_demo_commands_are_an_error() {
    let readme = "```sh\ncargo run -p mesos-dns -- -config deploy/demo/config.json\n```\n\
                  ```sh\ncargo run --release -p mesos-dns -- -config deploy/demo/config.json\n```\n";
    assert!(std::panic::catch_unwind(|| demo_command(readme)).is_err());
}

/// The rows of the README's configuration tables: `(keys, default cell)`.
/// A row may name several keys (`` `CertFile`, `KeyFile` ``).
fn config_rows(readme: &str) -> Vec<(Vec<String>, String)> {
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README.md has a ## Configuration section");
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let keys = cells[0]
            .trim_start_matches("| ")
            .split(", ")
            .map(|k| k.trim_matches('`').to_string())
            .collect();
        rows.push((
            keys,
            cells.get(1).unwrap_or(&"").trim_matches('`').to_string(),
        ));
    }
    rows
}

#[test]
fn readme_config_tables_list_every_key_with_the_code_default() {
    let readme =
        fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let defaults =
        mesos_dns::config::render::render(&mesos_dns::config::ConfigFile::default(), 0);
    let defaults = defaults
        .as_object()
        .expect("the config renders as an object");
    let mut listed = Vec::new();
    for (keys, default) in config_rows(&readme) {
        for key in keys {
            let code = defaults.get(&key).unwrap_or_else(|| {
                panic!("README.md lists {key:?}, which is not a config key")
            });
            // Prose defaults ("set at startup") are not checked; JSON ones are.
            if let Ok(readme_value) = serde_json::from_str::<Value>(&default) {
                assert_eq!(&readme_value, code, "README.md's default of {key}");
            }
            listed.push(key);
        }
    }
    for key in defaults.keys() {
        assert!(
            listed.contains(key),
            "README.md does not list the key {key}"
        );
    }
}

#[test]
fn a_lock_left_by_a_dead_process_is_taken_over_and_released() {
    let scratch = Scratch::new("lock");
    let dir = scratch.0.join("demo.lock");
    fs::create_dir(&dir).unwrap();
    // Pids are positive: no process has pid 0 under /proc.
    fs::write(dir.join("pid"), "0").unwrap();
    let lock = PortLock::acquire_at(dir.clone());
    assert_eq!(
        fs::read_to_string(dir.join("pid")).unwrap(),
        std::process::id().to_string()
    );
    drop(lock);
    assert!(!dir.exists());
}
