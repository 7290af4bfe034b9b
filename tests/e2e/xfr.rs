//! Zone transfers (RFC 5936 AXFR, RFC 1995 IXFR) to real secondaries: NSD
//! and Knot load the zone from the built binary and answer the same as it
//! does for every name; `kdig` AXFR carries exactly `/v1/axfr`'s records.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use hickory_proto::op::Message;
use mesos_dns_tests::dns::{query, run_client, udp_exchange};
use mesos_dns_tests::http::get;
use mesos_dns_tests::process::{demo_config, demo_dir, Server, TempDir};
use mesos_dns_tests::secondary::{free_port, soa_serial, Kind, Secondary, FOLLOW_WAIT};
use serde_json::{json, Value};

/// The binary on the demo state, transfers allowed to loopback.
pub(crate) fn primary(dir: &TempDir, extra: Value) -> (Server, SocketAddr, SocketAddr) {
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state);
    let mut keys = json!({"TransferAllow": ["127.0.0.1"], "ExternalOn": false});
    if let (Value::Object(k), Value::Object(e)) = (&mut keys, extra) {
        k.extend(e);
    }
    let config = dir.write("config.json", &demo_config(&state, keys));
    let mut s = Server::start(&["-config", &config]);
    let (dns, http) = s.addresses();
    s.wait_stdout("first state load");
    (s, dns, http)
}

/// The records of a `kdig`/`dig` zone listing as `name TYPE data` lines
/// (A, AAAA and SRV only; SRV data as `target:port`).
pub(crate) fn listed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.get(3).copied()? {
                t @ ("A" | "AAAA") => Some(format!("{} {t} {}", f[0], f.get(4)?)),
                "SRV" => Some(format!("{} SRV {}:{}", f[0], f.get(7)?, f.get(6)?)),
                _ => None,
            }
        })
        .collect()
}

/// `/v1/axfr`'s records in the same form.
pub(crate) fn api_records(http: SocketAddr) -> BTreeSet<String> {
    let v = get(&format!("http://{http}/v1/axfr")).json();
    let mut out = BTreeSet::new();
    for (key, t) in [("As", "A"), ("AAAAs", "AAAA"), ("SRVs", "SRV")] {
        for (name, values) in v["Records"][key].as_object().into_iter().flatten() {
            for value in values.as_array().into_iter().flatten() {
                out.insert(format!("{name} {t} {}", value.as_str().unwrap()));
            }
        }
    }
    out
}

/// The answer of `server` for `name` and `qtype`: rcode, then the answer
/// records sorted, as text.
pub(crate) fn answer(server: SocketAddr, name: &str, qtype: u16) -> Vec<String> {
    let reply = udp_exchange(server, &query(9, name, qtype, Some((4096, 0))))
        .unwrap_or_else(|| panic!("{server} answers {name} {qtype}"));
    let m = Message::from_vec(&reply).unwrap();
    let mut out: Vec<String> = m
        .answers
        .iter()
        .map(|r| {
            let name = r.name.to_ascii().to_ascii_lowercase();
            format!("{name} {} {} {}", r.ttl, r.data.record_type(), r.data)
        })
        .collect();
    out.sort();
    out.insert(0, format!("{:?}", m.metadata.response_code));
    out
}

#[test]
fn rfc5936_kdig_axfr_carries_the_records_of_v1_axfr() {
    let dir = TempDir::new("xfr-kdig");
    let (_s, dns, http) = primary(&dir, json!({}));
    let out = run_client("kdig", dns, &["AXFR", "mesos."]);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
        .collect();
    assert!(lines.first().unwrap().contains("\tSOA\t"), "{out}");
    assert!(lines.last().unwrap().contains("\tSOA\t"), "{out}");
    assert_eq!(listed(&out), api_records(http));
    let dig = mesos_dns_tests::process::dig(dns, &["AXFR", "mesos."]);
    assert_eq!(listed(&dig), api_records(http));
}

#[test]
fn rfc5936_nsd_and_knot_secondaries_answer_the_same_for_every_name() {
    let dir = TempDir::new("xfr-secondaries");
    let (_s, dns, http) = primary(&dir, json!({}));
    let serial = soa_serial(dns, "mesos.").expect("our SOA");
    let nsd = Secondary::start(Kind::Nsd, "mesos", dns);
    let knot = Secondary::start(Kind::Knot, "mesos", dns);
    nsd.wait_serial("mesos.", serial);
    knot.wait_serial("mesos.", serial);
    let mut names: BTreeSet<String> = api_records(http)
        .iter()
        .filter_map(|l| l.split(' ').next().map(str::to_owned))
        .collect();
    names.extend([
        "mesos.".into(),
        "marathon.mesos.".into(),
        "nope.mesos.".into(),
    ]);
    for name in &names {
        for qtype in [1, 28, 33, 6, 2] {
            let ours = answer(dns, name, qtype);
            for s in [&nsd, &knot] {
                assert_eq!(
                    answer(s.addr, name, qtype),
                    ours,
                    "{:?} {name} {qtype}",
                    s.kind
                );
            }
        }
    }
}

/// Waits until `server` serves a serial other than `old`; returns it.
pub(crate) fn next_serial(server: SocketAddr, old: u32) -> u32 {
    let start = std::time::Instant::now();
    while start.elapsed() < FOLLOW_WAIT {
        match soa_serial(server, "mesos.") {
            Some(s) if s != old => return s,
            _ => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    panic!("the serial stayed {old}");
}

#[test]
fn rfc1996_notify_brings_nsd_and_knot_to_a_change_by_ixfr() {
    let dir = TempDir::new("xfr-notify");
    let (nsd_port, knot_port) = (free_port(), free_port());
    let targets = [
        format!("127.0.0.1:{nsd_port}"),
        format!("127.0.0.1:{knot_port}"),
    ];
    let (_s, dns, http) = primary(&dir, json!({ "NotifySecondaries": targets }));
    let first = soa_serial(dns, "mesos.").expect("our SOA");
    let nsd = Secondary::start_on(Kind::Nsd, "mesos", dns, nsd_port);
    let knot = Secondary::start_on(Kind::Knot, "mesos", dns, knot_port);
    nsd.wait_serial("mesos.", first);
    knot.wait_serial("mesos.", first);
    // One task moves: the secondaries hear of it by NOTIFY (their SOA
    // refresh is 60 seconds away) and fetch the difference.
    let state = dir.path("state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("10.0.1.11"));
    std::fs::write(&state, text.replacen("10.0.1.11", "10.0.1.99", 1)).unwrap();
    let second = next_serial(dns, first);
    nsd.wait_serial("mesos.", second);
    knot.wait_serial("mesos.", second);
    for s in [&nsd, &knot] {
        assert_eq!(
            answer(s.addr, "nginx.marathon.mesos.", 1),
            answer(dns, "nginx.marathon.mesos.", 1),
            "{:?}",
            s.kind
        );
    }
    assert!(knot.log().contains("IXFR, incoming"), "{}", knot.log());
    // kdig's IXFR from the first serial: the difference, condensed.
    let ixfr = run_client("kdig", dns, &[&format!("IXFR={first}"), "mesos."]);
    let diff = listed(&ixfr);
    assert!(diff.iter().any(|l| l.contains("10.0.1.99")), "{ixfr}");
    assert!(diff.iter().any(|l| l.contains("10.0.1.11")), "{ixfr}");
    assert!(
        diff.len() < api_records(http).len() / 2,
        "a difference, not the zone: {ixfr}"
    );
    let metrics = get(&format!("http://{http}/metrics")).body;
    assert!(metrics.contains("mesosdns_xfr_ixfr_total"), "{metrics}");
}
