//! The binary's command line and config handling, run as a process: exit
//! codes, the one-line errors, startup on busy ports, signals.

use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use mesos_dns_tests::port::closed_addr;
use mesos_dns_tests::process::{demo_config, demo_dir, run, Server, TempDir};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn version_prints_and_exits_0_before_reading_config() {
    for flag in ["-version", "--version", "-version=true"] {
        let out = run(&[flag, "-config", "/nonexistent/config.json"]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}\n", mesos_dns::VERSION)
        );
        assert!(out.stderr.is_empty());
    }
}

#[test]
fn help_prints_usage_to_stderr_and_exits_0() {
    for flag in ["-h", "-help", "--help"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(out.stdout.is_empty());
        let err = stderr(&out);
        assert!(err.starts_with("Usage of "), "{err}");
        assert!(err.contains("  -config string"));
    }
}

#[test]
fn unknown_flag_exits_2_with_go_message_and_usage() {
    let out = run(&["-bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let mut lines = err.lines();
    assert_eq!(lines.next(), Some("flag provided but not defined: -bogus"));
    assert!(lines.next().is_some_and(|l| l.starts_with("Usage of ")));
    let out = run(&["-config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("flag needs an argument: -config\n"));
    let out = run(&["-version=maybe"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs with a config text; asserts exit 1 and exactly one `ERROR:` line.
fn one_line_error(text: &str) -> String {
    let dir = TempDir::new("badconfig");
    let path = dir.write("config.json", text);
    let out = run(&["-config", &path]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("ERROR: "), "{err}");
    assert!(out.stdout.is_empty());
    lines[0].to_string()
}

#[test]
fn bad_config_exits_1_with_one_line_naming_the_key() {
    let m = r#""masters":["10.0.0.1:5050"]"#;
    let line = one_line_error(&format!(r#"{{{m},"ttl":"60"}}"#));
    assert!(
        line.ends_with(
            "json: cannot unmarshal string into Go struct field Config.TTL of type int32"
        ),
        "{line}"
    );
    let line = one_line_error(&format!(r#"{{{m},"RefreshSeconds":0}}"#));
    assert!(
        line.ends_with(
            "RefreshSeconds must be positive, not 0 (config key RefreshSeconds)"
        ),
        "{line}"
    );
    let line = one_line_error("{}");
    assert!(line.ends_with("(config key Masters/Zk)"), "{line}");
    let line = one_line_error(&format!(r#"{{{m},"IPSources":["autoip"]}}"#));
    assert!(
        line.contains("invalid ip source \"autoip\" (config key IPSources)"),
        "{line}"
    );
    let line = one_line_error("{\"masters\": [");
    assert!(line.contains("failed to unmarshal config file"), "{line}");
    // The Go log format: `ERROR: YYYY/MM/DD HH:MM:SS file.rs:LINE: message`.
    let mut words = line.split(' ');
    assert_eq!(words.next(), Some("ERROR:"));
    assert_eq!(words.next().map(str::len), Some(10));
    assert_eq!(words.next().map(str::len), Some(8));
    assert!(words
        .next()
        .is_some_and(|w| w.contains(".rs:") && w.ends_with(':')));
}

#[test]
fn missing_config_file_exits_1() {
    let out = run(&["-config", "/nonexistent/dir/config.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out)
        .contains("missing configuration file: \"/nonexistent/dir/config.json\""));
}

fn demo_state_in(dir: &TempDir) -> String {
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    dir.write("state.json", &state)
}

#[test]
fn unknown_keys_warn_and_sigterm_exits_0_promptly() {
    let dir = TempDir::new("sigterm");
    let state = demo_state_in(&dir);
    let config = dir.write(
        "config.json",
        &demo_config(&state, serde_json::json!({"Bogus": 1, "ExternalOn": false})),
    );
    let mut server = Server::start(&["-config", &config]);
    let warning = server.wait_stderr("unknown key");
    assert!(
        warning.starts_with("WARNING: ") && warning.contains("\"Bogus\""),
        "{warning}"
    );
    server.addresses();
    server.wait_stdout("first state load");
    server.signal("TERM");
    let (status, took) = server.wait_exit();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
}

#[test]
fn sigint_exits_0() {
    let dir = TempDir::new("sigint");
    let state = demo_state_in(&dir);
    let config = dir.write("config.json", &demo_config(&state, serde_json::json!({})));
    let mut server = Server::start(&["-config", &config]);
    server.addresses();
    server.signal("INT");
    let (status, _) = server.wait_exit();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn busy_dns_port_fails_at_once_with_exit_1() {
    let dir = TempDir::new("busydns");
    let state = demo_state_in(&dir);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let config = dir.write(
        "config.json",
        &demo_config(&state, serde_json::json!({"Port": port})),
    );
    let out = run(&["-config", &config]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("failed to setup DNS server"), "{err}");
    assert!(err.contains(&port.to_string()), "{err}");
}

#[test]
fn busy_http_port_fails_at_once_with_exit_1() {
    let dir = TempDir::new("busyhttp");
    let state = demo_state_in(&dir);
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let config = dir.write(
        "config.json",
        &demo_config(&state, serde_json::json!({"HttpPort": port})),
    );
    let out = run(&["-config", &config]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("failed to setup http server"), "{err}");
}

#[test]
fn verbose_logs_the_configuration_to_stdout() {
    let dir = TempDir::new("verbose");
    let state = demo_state_in(&dir);
    let config = dir.write("config.json", &demo_config(&state, serde_json::json!({})));
    let mut server = Server::start(&["-v=1", "-config", &config]);
    let line = server.wait_stdout("config loaded from");
    assert!(line.starts_with("VERBOSE: "), "{line}");
    server.wait_stdout("   - RefreshSeconds: 60");
    let secret_free = server.wait_stdout("MesosCredentials");
    assert!(secret_free.contains("\"Secret\":\"\""), "{secret_free}");
    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));
}

/// mesos-dns exits 1 when ZooKeeper names no leader within
/// `ZkDetectionTimeout`; so do we (here ZooKeeper is a closed port).
#[test]
fn zk_detection_timeout_exits_1() {
    let dir = TempDir::new("zktimeout");
    let closed = closed_addr();
    let config = dir.write(
        "config.json",
        &serde_json::json!({
            "Zk": format!("zk://{closed}/mesos"),
            "ZkDetectionTimeout": 1,
            "Port": 0, "HttpPort": 0,
            "Listener": "127.0.0.1", "HTTPListener": "127.0.0.1",
            "ExternalOn": false
        })
        .to_string(),
    );
    let out = run(&["-config", &config]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("master detection timed out after 1s"), "{err}");
}

/// `-config ~/x` expands the first `~/` to `$HOME` (and `$USERPROFILE`
/// wins when both are set, a mesos-dns quirk); relative paths become
/// absolute.
#[test]
fn config_path_expands_home_and_becomes_absolute() {
    let dir = TempDir::new("home");
    let home = dir.0.display().to_string();
    let out = std::process::Command::new(mesos_dns_tests::process::bin())
        .args(["-config", "~/nope.json"])
        .env("HOME", &home)
        .env_remove("USERPROFILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("missing configuration file: \"{home}/nope.json\"")),
        "{err}"
    );
    let out = std::process::Command::new(mesos_dns_tests::process::bin())
        .args(["-config", "~/nope.json"])
        .env("HOME", "/elsewhere")
        .env("USERPROFILE", &home)
        .output()
        .unwrap();
    assert!(stderr(&out).contains(&format!("\"{home}/nope.json\"")));
    let out = std::process::Command::new(mesos_dns_tests::process::bin())
        .args(["-config", "sub/../nope.json"])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains(&format!("\"{home}/nope.json\"")),
        "{}",
        stderr(&out)
    );
}

/// `DnsOn: false` starts only HTTP, `HttpOn: false` only DNS.
#[test]
fn dns_on_and_http_on_choose_the_servers() {
    let dir = TempDir::new("onoff");
    let state = demo_state_in(&dir);
    let config = dir.write(
        "config.json",
        &demo_config(&state, serde_json::json!({"DnsOn": false})),
    );
    let mut server = Server::start(&["-config", &config]);
    server.wait_stdout("HTTP API on http://");
    server.wait_stdout("first state load");
    assert!(
        !server.seen_out.iter().any(|l| l.contains("DNS on ")),
        "{:?}",
        server.seen_out
    );
    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));

    let config = dir.write(
        "config2.json",
        &demo_config(&state, serde_json::json!({"HttpOn": false})),
    );
    let mut server = Server::start(&["-config", &config]);
    server.wait_stdout("DNS on ");
    server.wait_stdout("first state load");
    assert!(
        !server.seen_out.iter().any(|l| l.contains("HTTP API")),
        "{:?}",
        server.seen_out
    );
    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));
}

/// A `Zk` URL's password never shows: not in `/v1/config`, not in the
/// configuration dump of `-v=1`, not in the startup lines or the error.
#[test]
fn zk_password_is_redacted_in_api_and_logs() {
    let dir = TempDir::new("zkredact");
    let closed = closed_addr();
    let config = dir.write(
        "config.json",
        &serde_json::json!({
            "Zk": format!("zk://mesos:hunter2@{closed}/mesos"),
            "ZkDetectionTimeout": 2,
            "Port": 0, "HttpPort": 0,
            "Listener": "127.0.0.1", "HTTPListener": "127.0.0.1",
            "ExternalOn": false
        })
        .to_string(),
    );
    let mut server = Server::start(&["-v=1", "-config", &config]);
    let (_, http) = server.addresses();
    let body = ureq::get(&format!("http://{http}/v1/config"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        body.contains(&format!("\"Zk\": \"zk://mesos:REDACTED@{closed}/mesos\"")),
        "{body}"
    );
    server.wait_stdout("   - Zk: \"zk://mesos:REDACTED@");
    assert_eq!(server.wait_exit().0.code(), Some(1));
    std::thread::sleep(std::time::Duration::from_millis(100));
    server.drain_stderr();
    while let Ok(line) = server.stdout.try_recv() {
        server.seen_out.push(line);
    }
    for line in server.seen_out.iter().chain(&server.seen_err) {
        assert!(!line.contains("hunter2"), "{line}");
    }
    assert!(!body.contains("hunter2"));
}

/// The soft and hard open-files limits of process `pid`.
fn open_files_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .to_string();
    let mut words = line.split_whitespace().skip(3);
    (
        words.next().unwrap().to_string(),
        words.next().unwrap().to_string(),
    )
}

/// As Go programs do, the soft open-files limit is raised to the hard
/// limit at startup; a hard limit below what the connection caps may use
/// is a warning.
#[test]
fn open_files_limit_is_raised_to_the_hard_limit() {
    let dir = TempDir::new("nofile");
    let state = demo_state_in(&dir);
    let config = dir.write("config.json", &demo_config(&state, serde_json::json!({})));
    let mut server = Server::start_after("ulimit -Sn 256", &["-config", &config]);
    server.addresses();
    let (soft, hard) = open_files_limits(server.child.id());
    assert_eq!(soft, hard, "soft limit not raised");
    assert_ne!(soft, "256");
    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));

    // A hard limit of 256: raised to it, and too low for the caps.
    let mut server = Server::start_after("ulimit -n 256", &["-config", &config]);
    let warning =
        server.wait_stderr("open files limit 256 (hard limit 256) is below the");
    assert!(warning.contains("TCPMaxConnections 1024"), "{warning}");
    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));
}
