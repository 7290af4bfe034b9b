//! Issue 22 end to end, through the binary against the fake operator
//! master, which serves one cluster both as `/master/state` (polling) and
//! as the v1 event stream: `HealthFilter` (an unhealthy task left out, an
//! app whose every task is unhealthy served whole, a task following its
//! health within one state update), `TaskLabelPolicy` (`DNS_EXCLUDE`,
//! `DNS_TTL`, `DNS_IPSOURCES`, `DNS_SRV_WEIGHT` in the DNS answers),
//! `GET /v1/explain/{name}` for each case, and `HoldDownFraction` holding
//! a shrinking state once, then accepting it.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use mesos_dns_tests::fake_operator::{
    Change, FakeAgent, FakeCluster, FakeFramework, FakeOperator, FakeStatus, FakeTask,
};
use mesos_dns_tests::process::{demo_config, dig, Server, TempDir, WAIT};
use serde_json::{json, Value};

fn agent(i: u8) -> FakeAgent {
    FakeAgent {
        id: format!("S{i}"),
        ip: format!("10.0.0.{}", i + 1),
        port: 5051,
    }
}

fn task(id: &str, name: &str, agent: &str, ip: &str, healthy: Option<bool>) -> FakeTask {
    FakeTask {
        id: id.to_owned(),
        name: name.to_owned(),
        framework_id: "F1".to_owned(),
        agent_id: agent.to_owned(),
        state: "TASK_RUNNING".to_owned(),
        ports: vec![(31000, 31000)],
        statuses: vec![FakeStatus {
            state: "TASK_RUNNING".to_owned(),
            timestamp: 1.0,
            ip: Some(ip.to_owned()),
            healthy,
        }],
        discovery: None,
        labels: Vec::new(),
    }
}

fn labelled(mut t: FakeTask, labels: &[(&str, &str)]) -> FakeTask {
    t.labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    t
}

fn cluster() -> FakeCluster {
    FakeCluster {
        agents: vec![agent(0), agent(1)],
        frameworks: vec![FakeFramework {
            id: "F1".to_owned(),
            name: "marathon".to_owned(),
            hostname: "10.0.9.1".to_owned(),
        }],
        tasks: vec![
            task("web.1", "web", "S0", "172.17.0.1", Some(true)),
            task("web.2", "web", "S1", "172.17.0.2", None),
            task("web.3", "web", "S1", "172.17.0.3", Some(false)),
            task("db.1", "db", "S0", "172.17.1.1", Some(false)),
            task("db.2", "db", "S1", "172.17.1.2", Some(false)),
            labelled(
                task("api.1", "api", "S0", "172.17.2.1", None),
                &[("DNS_EXCLUDE", "true")],
            ),
            task("api.2", "api", "S1", "172.17.2.2", None),
            labelled(
                task("cache.1", "cache", "S0", "172.17.3.1", None),
                &[
                    ("DNS_TTL", "5"),
                    ("DNS_IPSOURCES", "host"),
                    ("DNS_SRV_WEIGHT", "7"),
                ],
            ),
            labelled(
                task("odd.1", "odd", "S1", "172.17.4.1", None),
                &[("DNS_TTL", "soon")],
            ),
        ],
    }
}

/// The server following `op` with `source` (`poll` or `events`) and the
/// issue's keys in `extra`.
fn start(dir: &TempDir, op: &FakeOperator, source: &str, extra: Value) -> Server {
    let mut keys = json!({
        "Masters": [op.host_port()],
        "StateSource": source,
        "RefreshSeconds": 1,
        "ExternalOn": false,
    });
    if let (Some(keys), Value::Object(extra)) = (keys.as_object_mut(), extra) {
        keys.extend(extra);
    }
    let config = demo_config("", keys);
    let config = dir.write("config.json", &config);
    Server::start(&["-config", &config])
}

/// `(status, body)` of a curl GET.
fn curl(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl must be installed (tests/run.sh installs it)");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

fn explain(http: SocketAddr, name: &str) -> Value {
    let (status, body) = curl(&format!("http://{http}/v1/explain/{name}"));
    assert_eq!(status, 200, "{name}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The sorted `+short` answers of `name` `qtype`.
fn short(dns: SocketAddr, name: &str, qtype: &str) -> Vec<String> {
    let mut v: Vec<String> = dig(dns, &["+short", name, qtype])
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// Waits (bounded) until `name` `qtype` answers `want`.
fn wait_for(dns: SocketAddr, name: &str, qtype: &str, want: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = short(dns, name, qtype);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} {qtype}: {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The reasons `explain` gives for leaving task `id` out.
fn reason(e: &Value, id: &str) -> Option<String> {
    e["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["task"]["id"] == id)
        .map(|l| l["reason"].as_str().unwrap().to_owned())
}

fn health_and_labels(source: &str) {
    let dir = TempDir::new(&format!("policy-{source}"));
    let op = FakeOperator::start(cluster(), Duration::from_millis(250)).unwrap();
    let extra = json!({"HealthFilter": true, "TaskLabelPolicy": true});
    let mut server = start(&dir, &op, source, extra);
    let (dns, http) = server.addresses();
    server.wait_stdout("first state load");

    // HealthFilter: web.3 (healthy: false) is left out of the shared names.
    wait_for(
        dns,
        "web.marathon.mesos",
        "A",
        &["172.17.0.1", "172.17.0.2"],
    );
    let srv = short(dns, "_web._tcp.marathon.mesos", "SRV");
    assert_eq!(srv.len(), 2, "{srv:?}");
    // Its own name stays.
    let own = explain(http, "web.marathon.mesos");
    assert_eq!(
        reason(&own, "web.3").as_deref(),
        Some("unhealthy (healthy: false)"),
        "{own:#}"
    );
    let a = own["A"].as_array().unwrap();
    assert_eq!(a.len(), 2, "{own:#}");
    let first = &a[0]["tasks"][0];
    assert_eq!(first["id"], "web.1");
    assert_eq!(first["framework"], "marathon");
    assert_eq!(first["agent"], "S0");
    assert_eq!(first["ip_source"], "netinfo");
    assert_eq!(first["healthy"], true);
    // Every db task is unhealthy: served whole (fail open).
    assert_eq!(
        short(dns, "db.marathon.mesos", "A"),
        ["172.17.1.1", "172.17.1.2"]
    );
    // DNS_EXCLUDE.
    assert_eq!(short(dns, "api.marathon.mesos", "A"), ["172.17.2.2"]);
    let api = explain(http, "api.marathon.mesos");
    assert_eq!(
        reason(&api, "api.1").as_deref(),
        Some("excluded by label DNS_EXCLUDE=true")
    );
    // DNS_IPSOURCES=host, DNS_TTL=5, DNS_SRV_WEIGHT=7.
    let answer = dig(dns, &["+noall", "+answer", "cache.marathon.mesos", "A"]);
    let fields: Vec<&str> = answer.split_whitespace().collect();
    assert_eq!(fields.get(1), Some(&"5"), "{answer}");
    assert_eq!(fields.get(4), Some(&"10.0.0.1"), "{answer}");
    let srv = short(dns, "_cache._tcp.marathon.mesos", "SRV");
    assert_eq!(
        srv,
        ["0 7 31000 cache-x1w8y-s0.marathon.slave.mesos."],
        "{srv:?}"
    );
    let cache = explain(http, "cache.marathon.mesos");
    assert_eq!(cache["A"][0]["tasks"][0]["ip_source"], "host", "{cache:#}");
    assert_eq!(cache["A"][0]["tasks"][0]["ttl"], 5);
    // A bad label is ignored for its task, and counted.
    assert_eq!(short(dns, "odd.marathon.mesos", "A"), ["172.17.4.1"]);
    let (_, metrics) = curl(&format!("http://{http}/metrics"));
    assert!(
        metrics.contains("mesosdns_state_skipped{reason=\"bad_task_label\"} 1"),
        "{metrics}"
    );
    // Outside the domain, or unknown: 404 with a message.
    for name in ["www.example.org", "nothing.marathon.mesos"] {
        let (status, body) = curl(&format!("http://{http}/v1/explain/{name}"));
        assert_eq!(status, 404, "{name}: {body}");
        assert!(body.contains("\"error\""), "{body}");
    }

    // web.3 turns healthy: back within one state update.
    assert!(op.change(&Change::UpdateHealth("web.3".into(), 2.0, true)));
    wait_for(
        dns,
        "web.marathon.mesos",
        "A",
        &["172.17.0.1", "172.17.0.2", "172.17.0.3"],
    );
    let e = explain(http, "web.marathon.mesos");
    assert_eq!(reason(&e, "web.3"), None, "{e:#}");
    let changes = e["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["what"]
            .as_array()
            .unwrap()
            .contains(&json!("+A 172.17.0.3"))),
        "{e:#}"
    );
}

#[test]
fn issue_22_health_filter_and_task_labels_from_the_polled_state() {
    health_and_labels("poll");
}

#[test]
fn issue_22_health_filter_and_task_labels_from_the_event_stream() {
    health_and_labels("events");
}

#[test]
fn issue_22_a_shrinking_state_is_held_once_then_accepted() {
    let dir = TempDir::new("holddown");
    let mut c = cluster();
    for i in 0..12 {
        let ip = format!("172.18.0.{i}");
        c.tasks
            .push(task(&format!("big.{i}"), "big", "S1", &ip, None));
    }
    let op = FakeOperator::start(c, Duration::from_millis(250)).unwrap();
    let mut server = start(&dir, &op, "poll", json!({"HoldDownFraction": 0.5}));
    let (dns, http) = server.addresses();
    server.wait_stdout("first state load");
    wait_for(
        dns,
        "web.marathon.mesos",
        "A",
        &["172.17.0.1", "172.17.0.2", "172.17.0.3"],
    );
    // Agent S1 goes with most of the tasks: more than half the records.
    assert!(op.change(&Change::RemoveAgent("S1".into())));
    server.wait_stderr("held back until the next load");
    // The next load shows the same shrink: published.
    server.wait_stderr("still holds");
    wait_for(dns, "web.marathon.mesos", "A", &["172.17.0.1"]);
    let (_, metrics) = curl(&format!("http://{http}/metrics"));
    for series in [
        "mesosdns_hold_down_held_total 1",
        "mesosdns_hold_down_released_total 1",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
}
