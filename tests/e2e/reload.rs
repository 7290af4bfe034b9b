//! SIGHUP reloads `config.json`, run against the binary on loopback: a
//! changed TTL under query load, an invalid key, changed resolvers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use mesos_dns_tests::dns::{query, udp_exchange, StubMode, StubUpstream};
use mesos_dns_tests::http::get;
use mesos_dns_tests::port::free_port;
use mesos_dns_tests::process::{demo_config, demo_dir, Server, TempDir, WAIT};
use serde_json::{json, Value};

const A: u16 = 1;
/// The most queries the load thread sends (the loop is bounded).
const MAX_QUERIES: usize = 200_000;
/// Queries the load thread still sends once the reload is logged.
const AFTER_RELOAD: usize = 200;

/// A server on the demo state with `extra` keys; returns it, its temporary
/// directory, the config path and its DNS and HTTP addresses, after the
/// first state load.
fn start(extra: &Value) -> (Server, TempDir, String, SocketAddr, SocketAddr) {
    let dir = TempDir::new("reload");
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state);
    let config = dir.write("config.json", &demo_config(&state, extra.clone()));
    let mut server = Server::start(&["-config", &config]);
    let (dns, http) = server.addresses();
    server.wait_stdout("first state load");
    (server, dir, state, dns, http)
}

/// Rewrites the config with `extra` and sends SIGHUP.
fn reload(server: &Server, dir: &TempDir, state: &str, extra: &Value) {
    dir.write("config.json", &demo_config(state, extra.clone()));
    server.signal("HUP");
}

fn metric(http: SocketAddr, series: &str) -> u64 {
    let body = get(&format!("http://{http}/metrics")).body;
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{body}"))
        .parse()
        .unwrap()
}

fn config(http: SocketAddr) -> Value {
    get(&format!("http://{http}/v1/config")).json()
}

/// The TTL of the answer to `leader.mesos A` (None: no reply).
fn leader_ttl(dns: SocketAddr, id: u16) -> Option<u32> {
    let reply = udp_exchange(dns, &query(id, "leader.mesos.", A, None))?;
    let m = Message::from_vec(&reply).ok()?;
    assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{m:?}");
    assert_eq!(m.answers.len(), 1, "{m:?}");
    Some(m.answers[0].ttl)
}

#[test]
fn sighup_applies_a_new_ttl_without_losing_a_query() {
    let (mut server, dir, state, dns, http) = start(&json!({"TTL": 60}));
    assert_eq!(leader_ttl(dns, 1), Some(60));

    let reloaded = Arc::new(AtomicBool::new(false));
    let load = {
        let reloaded = Arc::clone(&reloaded);
        std::thread::spawn(move || {
            let (mut ttls, mut lost, mut after) = (Vec::new(), 0, 0);
            for i in 0..MAX_QUERIES {
                match leader_ttl(dns, (i % 60_000) as u16) {
                    Some(ttl) => ttls.push(ttl),
                    None => lost += 1,
                }
                if reloaded.load(Ordering::Acquire) {
                    after += 1;
                    if after >= AFTER_RELOAD {
                        break;
                    }
                }
            }
            (ttls, lost)
        })
    };
    // Some load before the reload.
    std::thread::sleep(Duration::from_millis(200));
    reload(&server, &dir, &state, &json!({"TTL": 5}));
    let line = server.wait_stdout("config reloaded");
    assert!(line.contains("applied TTL"), "{line}");
    reloaded.store(true, Ordering::Release);
    let (ttls, lost) = load.join().unwrap();

    assert_eq!(lost, 0, "queries lost during the reload");
    assert!(ttls.iter().all(|t| *t == 60 || *t == 5), "{ttls:?}");
    assert_eq!(ttls.first(), Some(&60), "the old TTL before the reload");
    assert_eq!(ttls.last(), Some(&5), "the new TTL after the reload");
    // Once switched, never back.
    let first_new = ttls.iter().position(|t| *t == 5).unwrap();
    assert!(ttls[first_new..].iter().all(|t| *t == 5), "{ttls:?}");

    assert_eq!(config(http)["TTL"], json!(5));
    assert_eq!(
        metric(http, r#"mesosdns_config_reloads_total{result="ok"}"#),
        1
    );
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn sighup_with_an_invalid_key_keeps_the_config_in_force() {
    let (mut server, dir, state, dns, http) = start(&json!({"TTL": 60}));
    reload(
        &server,
        &dir,
        &state,
        &json!({"TTL": 5, "RefreshSeconds": 0}),
    );
    let line = server.wait_stderr("config reload rejected");
    assert!(line.starts_with("ERROR: "), "{line}");
    assert!(
        line.ends_with(
            "RefreshSeconds must be positive, not 0 (config key RefreshSeconds)"
        ),
        "{line}"
    );
    // Counted, the process alive, the old config in force and served.
    let deadline = Instant::now() + WAIT;
    while metric(http, r#"mesosdns_config_reloads_total{result="error"}"#) != 1 {
        assert!(
            Instant::now() < deadline,
            "the rejected reload is never counted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        metric(http, r#"mesosdns_config_reloads_total{result="ok"}"#),
        0
    );
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
    assert_eq!(leader_ttl(dns, 2), Some(60));
    let c = config(http);
    assert_eq!(
        (c["TTL"].clone(), c["RefreshSeconds"].clone()),
        (json!(60), json!(60))
    );

    // A wrong type is rejected the same way, naming the key.
    reload(&server, &dir, &state, &json!({"TTL": "5"}));
    let line = server.wait_stderr("Config.TTL of type int32");
    assert!(line.contains("config reload rejected"), "{line}");
    assert_eq!(leader_ttl(dns, 3), Some(60));

    // A key that needs a restart is named; the rest is applied.
    reload(&server, &dir, &state, &json!({"TTL": 7, "DnsWorkers": 3}));
    let line = server.wait_stderr("DnsWorkers changed but needs a restart");
    assert!(line.starts_with("WARNING: "), "{line}");
    server.wait_stdout("applied TTL");
    assert_eq!(leader_ttl(dns, 4), Some(7));
    let c = config(http);
    assert_eq!(
        (c["TTL"].clone(), c["DnsWorkers"].clone()),
        (json!(7), json!(2))
    );
}

#[test]
fn sighup_moves_forwarding_to_the_new_resolvers() {
    let old = StubUpstream::start(StubMode::Answer);
    let new = StubUpstream::start(StubMode::Answer);
    // No forward cache: every query is to reach an upstream.
    let upstream = |u: &StubUpstream| json!({"Resolvers": [u.addr.to_string()], "Timeout": 2, "ForwardCacheSize": 0});
    let (mut server, dir, state, dns, http) = start(&upstream(&old));

    let forward = |id: u16| {
        let reply =
            udp_exchange(dns, &query(id, "example.org.", A, None)).expect("a reply");
        let m = Message::from_vec(&reply).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{m:?}");
    };
    for id in 0..5 {
        forward(id);
    }
    assert_eq!(old.received.load(Ordering::Acquire), 5);
    assert_eq!(new.received.load(Ordering::Acquire), 0);

    reload(&server, &dir, &state, &upstream(&new));
    let line = server.wait_stdout("config reloaded");
    assert!(line.contains("Resolvers"), "{line}");
    for id in 5..10 {
        forward(id);
    }
    assert_eq!(
        old.received.load(Ordering::Acquire),
        5,
        "none to the old one"
    );
    assert_eq!(new.received.load(Ordering::Acquire), 5);
    assert_eq!(config(http)["Resolvers"], json!([new.addr.to_string()]));
}

#[test]
fn sighup_generates_the_records_again_for_a_generation_key() {
    let (mut server, dir, state, _dns, http) = start(&json!({"EnumerationOn": false}));
    let enumerate = format!("http://{http}/v1/enumerate");
    assert_eq!(get(&enumerate).status, 404);

    reload(&server, &dir, &state, &json!({"EnumerationOn": true}));
    let line = server.wait_stdout("config reloaded");
    assert!(line.contains("applied EnumerationOn"), "{line}");
    // The endpoint is on at once; the enumeration arrives with the load
    // the reload started (the state file is read again).
    let deadline = Instant::now() + WAIT;
    loop {
        let reply = get(&enumerate);
        assert_eq!(reply.status, 200, "{reply:?}");
        if reply.body.contains("marathon") {
            break;
        }
        assert!(Instant::now() < deadline, "no enumeration: {reply:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(config(http)["EnumerationOn"], json!(true));
}

#[test]
fn sighup_moves_the_listeners_and_keeps_a_busy_one() {
    let (mut server, dir, state, dns, http) = start(&json!({}));
    assert_eq!(leader_ttl(dns, 1), Some(60));
    let (dns_port, http_port) = (free_port(), free_port());
    reload(
        &server,
        &dir,
        &state,
        &json!({"Port": dns_port, "HttpPort": http_port}),
    );
    let moved_dns: SocketAddr = format!("127.0.0.1:{dns_port}").parse().unwrap();
    let moved_http: SocketAddr = format!("127.0.0.1:{http_port}").parse().unwrap();
    server.wait_stdout(&format!("DNS on {moved_dns}"));
    server.wait_stdout(&format!("HTTP API on http://{moved_http}/"));
    let line = server.wait_stdout("config reloaded");
    assert!(line.contains("Port") && line.contains("HttpPort"), "{line}");
    assert_eq!(leader_ttl(moved_dns, 2), Some(60));
    assert_eq!(config(moved_http)["Port"], json!(dns_port));
    // The old sockets are closed.
    assert!(std::net::TcpStream::connect(http).is_err());
    assert!(std::net::TcpStream::connect(dns).is_err());

    // A busy port: the listener stays, the rest applies.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    reload(
        &server,
        &dir,
        &state,
        &json!({"Port": dns_port, "HttpPort": busy_port, "TTL": 9}),
    );
    let line = server.wait_stderr("cannot move the HTTP listener");
    assert!(line.starts_with("WARNING: "), "{line}");
    server.wait_stderr("HttpPort changed but needs a restart");
    server.wait_stdout("applied TTL");
    assert_eq!(leader_ttl(moved_dns, 3), Some(9));
    assert_eq!(config(moved_http)["HttpPort"], json!(http_port));
}

#[test]
fn sighup_moves_the_domain_with_its_records() {
    let (mut server, dir, state, dns, http) = start(&json!({}));
    assert_eq!(leader_ttl(dns, 1), Some(60));
    reload(&server, &dir, &state, &json!({"Domain": "corp", "TTL": 8}));
    let line = server.wait_stdout("config reloaded");
    assert!(line.contains("Domain"), "{line}");
    // The new zone arrives with the load the reload started, all at once:
    // leader.corp answers with the new TTL, and the SOA is corp's.
    let deadline = Instant::now() + WAIT;
    let ask = |id: u16, name: &str, qtype: u16| {
        let reply = udp_exchange(dns, &query(id, name, qtype, None)).expect("a reply");
        Message::from_vec(&reply).unwrap()
    };
    loop {
        let m = ask(2, "leader.corp.", A);
        if m.metadata.response_code == ResponseCode::NoError && !m.answers.is_empty() {
            assert_eq!(m.answers[0].ttl, 8, "{m:?}");
            break;
        }
        assert!(Instant::now() < deadline, "leader.corp never served: {m:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let soa = ask(3, "corp.", 6);
    assert_eq!(soa.metadata.response_code, ResponseCode::NoError, "{soa:?}");
    assert_eq!(soa.answers.len(), 1, "{soa:?}");
    assert_eq!(config(http)["Domain"], json!("corp"));
}
