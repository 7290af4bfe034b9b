//! The demo cluster end to end: the binary on `deploy/demo/config.json`
//! (ports rewritten to free ones), queried with `dig` and over HTTP, and
//! the state file edited while it runs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use mesos_dns_tests::process::{
    demo_config, demo_dir, dig, status, Server, TempDir, WAIT,
};

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

/// Polls `dig` until `check` accepts its output (bounded by [`WAIT`]).
fn eventually(dns: SocketAddr, args: &[&str], check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let out = dig(dns, args);
        if check(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "dig {args:?} never matched; last:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn short(dns: SocketAddr, args: &[&str]) -> Vec<String> {
    let mut all = vec!["+short"];
    all.extend_from_slice(args);
    let mut v: Vec<String> = dig(dns, &all).lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn demo_cluster_answers_dig_and_follows_its_state_file() {
    let dir = TempDir::new("demo");
    let state_text = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state_text);
    let config = dir.write(
        "config.json",
        &demo_config(&state, serde_json::json!({"ExternalOn": false})),
    );
    let mut server = Server::start(&["-config", &config]);
    let (dns, http) = server.addresses();
    server.wait_stdout("try: dig @127.0.0.1 -p");
    server.wait_stdout("first state load");

    assert_eq!(short(dns, &["leader.mesos", "A"]), ["10.0.0.10"]);
    assert_eq!(
        short(dns, &["nginx.marathon.mesos", "A"]),
        ["10.0.1.11", "10.0.1.12"]
    );
    assert_eq!(
        short(dns, &["NGINX.Marathon.MESOS", "A"]),
        ["10.0.1.11", "10.0.1.12"]
    );
    assert_eq!(short(dns, &["web-api.marathon.mesos", "A"]), ["172.17.0.5"]);
    let srv = short(dns, &["_redis._tcp.marathon.mesos", "SRV"]);
    assert_eq!(srv.len(), 1, "{srv:?}");
    assert!(
        srv[0].ends_with(".marathon.slave.mesos.") && srv[0].contains(" 31379 "),
        "{srv:?}"
    );
    // A staging task has no records; the name does not exist.
    assert_eq!(
        status(&dig(dns, &["postgres.marathon.mesos", "A"])),
        "NXDOMAIN"
    );
    assert_eq!(
        status(&dig(dns, &["broker-1.kafka.mesos", "A", "+tcp"])),
        "NOERROR"
    );
    // ExternalOn false: names outside the domain are refused.
    assert_eq!(status(&dig(dns, &["example.com", "A"])), "REFUSED");

    let version = http_get(http, "/v1/version");
    assert!(version.starts_with("HTTP/1.1 200"), "{version}");
    assert!(version.contains(mesos_dns::VERSION));
    let config_body = http_get(http, "/v1/config");
    assert!(config_body.contains("\"StateFile\""), "{config_body}");

    // Edit the state file: nginx scales to one instance, a new task starts.
    let edited = state_text
        .replacen("\"nginx.7d2c4f5c", "\"stopped.7d2c4f5c", 1)
        .replacen("\"name\": \"redis\"", "\"name\": \"cache\"", 1);
    assert_ne!(edited, state_text);
    std::fs::write(&state, edited).unwrap();
    eventually(dns, &["cache.marathon.mesos", "A", "+short"], |o| {
        o.trim() == "10.0.1.13"
    });
    assert_eq!(
        status(&dig(dns, &["redis.marathon.mesos", "A"])),
        "NXDOMAIN"
    );

    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));
}

#[test]
fn servfail_in_the_domain_until_the_first_state_load() {
    let dir = TempDir::new("servfail");
    let state = dir.path("state.json").display().to_string();
    let config = dir.write(
        "config.json",
        &demo_config(&state, serde_json::json!({"ExternalOn": false})),
    );
    let mut server = Server::start(&["-config", &config]);
    let (dns, _) = server.addresses();
    // The state file does not exist yet: listening, but no data.
    assert_eq!(status(&dig(dns, &["leader.mesos", "A"])), "SERVFAIL");
    let text = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    std::fs::write(&state, text).unwrap();
    eventually(dns, &["leader.mesos", "A", "+short"], |o| {
        o.trim() == "10.0.0.10"
    });
    server.signal("TERM");
    assert_eq!(server.wait_exit().0.code(), Some(0));
}
