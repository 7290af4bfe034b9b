//! Zone transfers (RFC 5936 AXFR, RFC 1995 IXFR) to real secondaries: NSD
//! and Knot load the zone from the built binary and answer the same as it
//! does for every name; `kdig` AXFR carries exactly `/v1/axfr`'s records.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use hickory_proto::op::Message;
use mesos_dns_tests::dns::{query, run_client, udp_exchange};
use mesos_dns_tests::http::get;
use mesos_dns_tests::port::free_port;
use mesos_dns_tests::process::{demo_config, demo_dir, Server, TempDir};
use mesos_dns_tests::secondary::{soa_serial, Kind, Secondary, FOLLOW_WAIT};
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
    // The whole zone after the change (a table patched from a delta
    // builds its record set for it, off the DNS workers).
    let axfr = run_client("kdig", dns, &["AXFR", "mesos."]);
    assert_eq!(listed(&axfr), api_records(http));
    let metrics = get(&format!("http://{http}/metrics")).body;
    assert!(metrics.contains("mesosdns_xfr_ixfr_total"), "{metrics}");
}

/// A 100,000-task zone: per task its own A name and its app's A and SRV
/// names (two tasks an app), about 500,000 records.
fn big_zone(tasks: u32) -> mesos_records::RecordSet {
    let mut b = mesos_records::RecordSetBuilder::new(false);
    for t in 0..tasks {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + t);
        let app = t / 2;
        let task = format!("app-{app}-t{t}.marathon.mesos.");
        b.insert_a(&task, ip);
        b.insert_a(&format!("app-{app}.marathon.mesos."), ip);
        let port = 31_000 + (t % 1000) as u16;
        b.insert_srv(&format!("_app-{app}._tcp.marathon.mesos."), &task, port);
        b.insert_srv(&format!("_app-{app}._udp.marathon.mesos."), &task, port);
    }
    b.finish()
}

#[test]
fn rfc5936_a_100000_task_zone_streams_whole_across_a_swap() {
    use mesos_dns::client::Cidr;
    use mesos_dns::stats::Stats;
    use mesos_dns::table::{SharedTable, Table};
    use mesos_dns::xfr::Transfers;
    use mesos_dns_tests::dns::{read_framed, test_config};
    use std::io::Write;
    use std::sync::Arc;

    let cfg = test_config();
    let big = big_zone(100_000);
    let records = big.len();
    let table = Arc::new(SharedTable::new(Table::compile(Arc::new(big), &cfg, 7)));
    let stats = Arc::new(Stats::for_config(&cfg));
    let allow = vec![Cidr::parse("127.0.0.1").unwrap()];
    let transfers = Transfers::new(allow, 8, 1 << 20, stats.transfer_counters());
    let server = mesos_dns::serve::start_with(
        &cfg,
        Arc::clone(&table),
        Arc::clone(&stats),
        Arc::new(transfers),
    )
    .unwrap();
    let mut s = std::net::TcpStream::connect(server.local_addr()).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let q = query(0x77, "mesos.", 252, None);
    s.write_all(&(q.len() as u16).to_be_bytes()).unwrap();
    s.write_all(&q).unwrap();
    let (mut msgs, mut answers, mut soas) = (0usize, 0usize, Vec::new());
    loop {
        let m =
            Message::from_vec(&read_framed(&mut s).expect("the next message")).unwrap();
        msgs += 1;
        if msgs == 1 {
            // A new version is published while the transfer is under way:
            // it finishes on the version it started with.
            table.publish(Table::compile(Arc::new(big_zone(10)), &cfg, 8));
        }
        for r in &m.answers {
            answers += 1;
            if let hickory_proto::rr::RData::SOA(soa) = &r.data {
                soas.push(soa.serial);
            }
        }
        if soas.len() == 2 {
            break;
        }
    }
    assert_eq!(soas, [7, 7]);
    // SOA twice, NS, every record.
    assert_eq!(answers, records + 3);
    assert!(msgs > 100, "{msgs} messages");
    assert_eq!(soa_serial(server.local_addr(), "mesos."), Some(8));
}

#[test]
fn transfers_outside_transfer_allow_are_refused_and_counted() {
    let dir = TempDir::new("xfr-refused");
    let (_s, dns, http) = primary(&dir, json!({ "TransferAllow": ["10.0.0.0/8"] }));
    // The client is 127.0.0.1, outside 10.0.0.0/8.
    for qtype in [252, 251] {
        let q = query(3, "mesos.", qtype, None);
        let replies = mesos_dns_tests::dns::tcp_exchange(dns, &[q]).expect("an answer");
        let m = Message::from_vec(&replies[0]).unwrap();
        assert_eq!(
            m.metadata.response_code,
            hickory_proto::op::ResponseCode::Refused,
            "{qtype}"
        );
    }
    let metrics = get(&format!("http://{http}/metrics")).body;
    assert!(
        metrics.contains("mesosdns_xfr_refused_total 2"),
        "{metrics}"
    );
}

#[test]
fn rfc1995_2_a_client_serial_ahead_gets_the_single_soa() {
    let dir = TempDir::new("xfr-ahead");
    let (_s, dns, _) = primary(&dir, json!({}));
    let serial = soa_serial(dns, "mesos.").unwrap();
    let ahead = serial.wrapping_add(1000);
    let out = run_client("kdig", dns, &[&format!("IXFR={ahead}"), "mesos."]);
    let records: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
        .collect();
    assert_eq!(records.len(), 1, "{out}");
    assert!(
        records[0].contains(&format!("SOA\tns1.mesos. root.ns1.mesos. {serial} ")),
        "{out}"
    );
    // Over UDP, IXFR gets the SOA too (RFC 1995 section 2).
    let udp = mesos_dns_tests::process::dig(
        dns,
        &[&format!("IXFR={ahead}"), "mesos.", "+notcp"],
    );
    assert!(udp.contains(&format!("{serial} 60 600 86400 60")), "{udp}");
}
