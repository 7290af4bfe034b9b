//! Secondary mode (`StateSource: "secondary"`): the built binary follows
//! our primary and Knot by NOTIFY and IXFR/AXFR, answers as they do, and
//! keeps serving a lost primary's zone until SOA EXPIRE (RFC 1034 4.3.5,
//! RFC 1995, RFC 1996).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mesos_dns_tests::port::free_port;
use mesos_dns_tests::process::{Server, TempDir};
use mesos_dns_tests::secondary::{soa_serial, KnotPrimary, FOLLOW_WAIT};
use serde_json::json;

use crate::xfr::{answer, api_records, next_serial, primary};

/// The binary as a secondary of `primaries` on loopback port `port`.
fn secondary(
    dir: &TempDir,
    port: u16,
    primaries: &[SocketAddr],
) -> (Server, SocketAddr, SocketAddr) {
    let config = json!({
        "StateSource": "secondary",
        "Primaries": primaries.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "Listener": "127.0.0.1", "Port": port,
        "HTTPListener": "127.0.0.1", "HttpPort": 0,
        "ExternalOn": false, "DnsWorkers": 1,
        "TransferAllow": ["127.0.0.1"],
    });
    let path = dir.write("secondary.json", &config.to_string());
    let mut s = Server::start(&["-config", &path]);
    let (dns, http) = s.addresses();
    (s, dns, http)
}

/// Waits until `server` serves serial `serial`.
fn wait_serial(server: SocketAddr, serial: u32) {
    let start = Instant::now();
    while soa_serial(server, "mesos.") != Some(serial) {
        assert!(
            start.elapsed() < FOLLOW_WAIT,
            "no serial {serial} at {server}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn same_answers(a: SocketAddr, b: SocketAddr, names: &BTreeSet<String>) {
    for name in names {
        for qtype in [1, 28, 33, 6, 2] {
            assert_eq!(
                answer(a, name, qtype),
                answer(b, name, qtype),
                "{name} {qtype}"
            );
        }
    }
}

fn names(http: SocketAddr) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = api_records(http)
        .iter()
        .filter_map(|l| l.split(' ').next().map(str::to_owned))
        .collect();
    names.extend(["mesos.".into(), "nope.mesos.".into()]);
    names
}

#[test]
fn rfc1996_our_secondary_follows_our_primary_by_notify_and_ixfr() {
    let dir = TempDir::new("secondary-ours");
    let port = free_port();
    let notify = json!({ "NotifySecondaries": [format!("127.0.0.1:{port}")] });
    let (_p, pdns, phttp) = primary(&dir, notify);
    let (_s, sdns, shttp) = secondary(&dir, port, &[pdns]);
    let first = soa_serial(pdns, "mesos.").unwrap();
    wait_serial(sdns, first);
    same_answers(pdns, sdns, &names(phttp));
    assert_eq!(
        api_records(shttp),
        api_records(phttp),
        "/v1/axfr shows the zone"
    );
    let state = dir.path("state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    std::fs::write(&state, text.replacen("10.0.1.11", "10.0.1.99", 1)).unwrap();
    let second = next_serial(pdns, first);
    wait_serial(sdns, second);
    same_answers(pdns, sdns, &names(phttp));
    let metrics = mesos_dns_tests::http::get(&format!("http://{phttp}/metrics")).body;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("mesosdns_xfr_ixfr_total") && !l.ends_with(" 0")),
        "the secondary asked for the difference: {metrics}"
    );
}

#[test]
fn rfc1034_4_3_5_secondary_serves_until_expire_then_servfail() {
    let dir = TempDir::new("secondary-expire");
    let soa = json!({ "SOARefresh": 1, "SOARetry": 1, "SOAExpire": 3 });
    let (p, pdns, _) = primary(&dir, soa);
    let (_s, sdns, _) = secondary(&dir, free_port(), &[pdns]);
    wait_serial(sdns, soa_serial(pdns, "mesos.").unwrap());
    drop(p);
    // The primary is gone: the zone is still served...
    assert_eq!(answer(sdns, "leader.mesos.", 1)[0], "NoError");
    // ...until SOA EXPIRE has passed without a successful refresh.
    let start = Instant::now();
    while answer(sdns, "leader.mesos.", 1)[0] != "ServFail" {
        assert!(
            start.elapsed() < FOLLOW_WAIT,
            "still answering after EXPIRE"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rfc1995_our_secondary_follows_knot_as_primary() {
    let dir = TempDir::new("secondary-knot");
    let port = free_port();
    let ours = SocketAddr::from(([127, 0, 0, 1], port));
    let zone = "web.marathon IN A 10.1.1.1\nweb.marathon IN A 10.1.1.2\n\
                _web._tcp.marathon IN SRV 0 1 80 web.marathon\nv6 IN AAAA fd00::1";
    let knot = KnotPrimary::start("mesos", 10, zone, ours);
    let (_s, sdns, _) = secondary(&dir, port, &[knot.addr]);
    wait_serial(sdns, 10);
    let names: BTreeSet<String> = [
        "web.marathon.mesos.",
        "_web._tcp.marathon.mesos.",
        "v6.mesos.",
        "mesos.",
    ]
    .map(String::from)
    .into();
    same_answers(knot.addr, sdns, &names);
    knot.write_zone(11, &zone.replace("10.1.1.2", "10.1.1.3"));
    knot.reload();
    wait_serial(sdns, 11);
    same_answers(knot.addr, sdns, &names);
    assert!(answer(sdns, "web.marathon.mesos.", 1)
        .iter()
        .any(|l| l.contains("10.1.1.3")));
}

#[test]
fn rfc5936_our_secondary_answers_a_primarys_static_records_as_it_does() {
    let dir = TempDir::new("secondary-statics");
    // TXT and CNAME, an A with its own TTL beside a Mesos name's, an SRV
    // with another weight and priority, and a name that hides a Mesos one.
    let zone = "$TTL 90\n\
        db        IN A     10.0.0.1\n\
        db           TXT   \"role=primary\" \"v=2\"\n\
        alias        CNAME db\n\
        _pg._tcp     SRV   3 5 5432 db\n\
        leader       A     10.9.9.9\n";
    dir.write("static.zone", zone);
    let port = free_port();
    let keys = json!({
        "StaticZoneFile": "static.zone",
        "NotifySecondaries": [format!("127.0.0.1:{port}")],
    });
    let (mut p, pdns, phttp) = primary(&dir, keys);
    let (_s, sdns, _shttp) = secondary(&dir, port, &[pdns]);
    let first = soa_serial(pdns, "mesos.").unwrap();
    wait_serial(sdns, first);
    let mut all = names(phttp);
    all.extend(
        [
            "db.mesos.",
            "alias.mesos.",
            "_pg._tcp.mesos.",
            "leader.mesos.",
        ]
        .map(String::from),
    );
    same_answers(pdns, sdns, &all);
    for name in [
        "db.mesos.",
        "alias.mesos.",
        "_pg._tcp.mesos.",
        "nope.mesos.",
    ] {
        for qtype in [16, 5, 255] {
            assert_eq!(
                answer(pdns, name, qtype),
                answer(sdns, name, qtype),
                "{name} {qtype}"
            );
        }
    }
    assert!(answer(sdns, "db.mesos.", 16)
        .iter()
        .any(|r| r.contains("role=primary")));
    // The file changes: a new serial, a whole zone, the same answers.
    dir.write("static.zone", &zone.replace("role=primary", "role=replica"));
    p.wait_stdout("(changed)");
    let second = next_serial(pdns, first);
    wait_serial(sdns, second);
    same_answers(pdns, sdns, &all);
    assert!(answer(sdns, "db.mesos.", 16)
        .iter()
        .any(|r| r.contains("role=replica")));
}
