//! The HTTP API of the real binary: `deploy/demo` config and state, ports
//! rewritten to free ones, queried with curl while dig queries the DNS side
//! of the same process. Checks the wiring: readiness after the first load,
//! the version constant, the redacted secret, one serial across
//! `/v1/config`, `/v1/axfr` and the SOA, HTTP and DNS reading the same
//! table, and `/metrics` counting the process's own DNS traffic.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mesos_dns_tests::process::{demo_config, demo_dir, dig, Server, TempDir, WAIT};
use serde_json::{json, Value};

/// `(status, body)` of a curl GET; fails (not skips) without curl.
fn curl(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl must be installed (tests/run.sh installs it)");
    assert!(out.status.success(), "curl {url}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn json_of(url: &str) -> Value {
    let (status, body) = curl(url);
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The value of the one sample `series` (name plus labels) in `metrics`.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
        .parse()
        .unwrap()
}

#[test]
fn binary_serves_the_api_from_the_table_dns_answers_from() {
    let dir = TempDir::new("httpproc");
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state);
    let extra = json!({
        "ExternalOn": false,
        "EnumerationOn": true,
        "MesosAuthentication": "basic",
        "MesosCredentials": {"principal": "ops", "secret": "hunter2"},
    });
    let config = dir.write("config.json", &demo_config(&state, extra));
    let mut server = Server::start(&["-config", &config]);
    let (dns, http) = server.addresses();
    let base = format!("http://{http}");
    server.wait_stdout("first state load");

    // Ready once the first load is in (bounded wait: the log line and the
    // poller status are set a moment apart).
    let deadline = Instant::now() + WAIT;
    while curl(&format!("{base}/ready")).0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(curl(&format!("{base}/health")), (200, "OK\n".into()));

    let version = json_of(&format!("{base}/v1/version"));
    assert_eq!(version["Version"], json!(mesos_dns::VERSION));

    let config = json_of(&format!("{base}/v1/config"));
    let (_, config_text) = curl(&format!("{base}/v1/config"));
    assert!(!config_text.contains("hunter2"), "{config_text}");
    assert_eq!(
        config["MesosCredentials"],
        json!({"Principal": "ops", "Secret": "REDACTED"})
    );
    assert!(config_text.starts_with("{\n  \"RefreshSeconds\": 60,\n  \"Port\": "));

    // One serial everywhere: /v1/config, /v1/axfr and the SOA record.
    let axfr = json_of(&format!("{base}/v1/axfr"));
    assert_eq!(config["SOASerial"], axfr["Serial"]);
    let soa = dig(dns, &["+short", "mesos", "SOA"]);
    let soa_serial: u64 = soa.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(json!(soa_serial), axfr["Serial"], "{soa}");

    // HTTP and DNS read the same table: every A name in /v1/axfr answers
    // the same addresses over dig and over /v1/hosts.
    let a = axfr["Records"]["As"].as_object().unwrap();
    assert!(a.len() > 3, "{axfr}");
    for (name, values) in a.iter().filter(|(n, _)| n.ends_with(".mesos.")).take(6) {
        let mut want: Vec<String> = values
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        want.sort();
        let mut by_dns: Vec<String> = dig(dns, &["+short", name, "A"])
            .lines()
            .map(str::to_owned)
            .collect();
        by_dns.sort();
        assert_eq!(by_dns, want, "dig {name}");
        let hosts = json_of(&format!("{base}/v1/hosts/{name}"));
        let mut by_http: Vec<String> = hosts
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| !h["ip"].as_str().unwrap().contains(':'))
            .map(|h| h["ip"].as_str().unwrap().to_owned())
            .collect();
        by_http.sort();
        assert_eq!(by_http, want, "/v1/hosts/{name}");
    }

    // /metrics counts this process's own DNS traffic and state loads.
    let (_, before) = curl(&format!("{base}/metrics"));
    let udp = "mesosdns_dns_responses_total{transport=\"udp\"}";
    let was = sample(&before, udp);
    for _ in 0..3 {
        dig(dns, &["+short", "leader.mesos", "A"]);
    }
    let (status, after) = curl(&format!("{base}/metrics"));
    assert_eq!(status, 200);
    assert_eq!(sample(&after, udp), was + 3.0);
    assert!(sample(&after, "mesosdns_state_loads_total") >= 1.0);
    assert_eq!(sample(&after, "mesosdns_table_loaded"), 1.0);
    // The first load compiled a table, and its cost is reported.
    assert!(sample(&after, "mesosdns_table_compiles_total") >= 1.0);
    assert!(sample(&after, "mesosdns_table_compile_duration_seconds") > 0.0);
    // Nothing was patched, so nothing was compacted.
    assert_eq!(sample(&after, "mesosdns_table_compactions_total"), 0.0);
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed (Debian package prometheus; tests/run.sh)");
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), after.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(checked.status.success(), "{checked:?}\n{after}");

    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));
}
