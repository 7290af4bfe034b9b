//! Every name the generation rules give is served over DNS, or counted
//! when the wire format cannot carry it (issue 15): `bang!`, `é`, names
//! with capitals (matched case-insensitively, ASCII only), `*` labels;
//! unencodable are an empty label (`store..mesos.` for a framework named
//! `@@@`), a label over 63 octets (`_` + a 63-character task label) and a
//! name over 255 octets. Responses are decoded with hickory-proto, not our
//! own parser.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use mesos_dns::answer::{answer, Answer, Transport};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::Table;
use mesos_dns_tests::dns::query;
use mesos_records::state::Discovery;
use mesos_records::{
    generate, GenConfig, IpSource, LocalAddrs, RecordSet, Resolver, State,
};
use proptest::prelude::*;

const A: u16 = 1;
const SRV: u16 = 33;

/// The wire form of `name` as a query would carry it, if it can (our own
/// reading of RFC 1035 2.3.4, independent of the server's).
fn encode(name: &str) -> Option<Vec<u8>> {
    let body = name.strip_suffix('.').unwrap_or(name);
    let mut wire = Vec::new();
    if !body.is_empty() {
        for label in body.split('.') {
            if label.is_empty() || label.len() > 63 {
                return None;
            }
            wire.push(label.len() as u8);
            wire.extend_from_slice(label.as_bytes());
        }
    }
    wire.push(0);
    (wire.len() <= 255).then_some(wire)
}

/// `name`'s answer of type `qtype` over TCP (no truncation), decoded.
fn ask(t: &Table, name: &str, qtype: u16) -> Message {
    assert!(encode(name).is_some(), "{name:?} is not encodable");
    let mut out = vec![0u8; 65535];
    let Answer::Reply(n) = answer(
        t,
        &query(0x1505, name, qtype, None),
        &mut out,
        Transport::Tcp,
    ) else {
        panic!("no reply for {name:?}");
    };
    let m = Message::from_vec(&out[..n]).expect("hickory decodes the reply");
    assert_eq!(m.metadata.id, 0x1505);
    m
}

fn compile(rs: RecordSet, domain: &str, soa_mname: &str) -> Table {
    let cfg = DnsConfig {
        domain: domain.to_owned(),
        soa_mname: soa_mname.to_owned(),
        ..DnsConfig::default()
    };
    Table::compile(Arc::new(rs), &cfg, 1)
}

fn adversarial() -> RecordSet {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/records/tests/data/state/adversarial.json");
    let state = State::parse(&std::fs::read(path).unwrap()).unwrap();
    let cfg = GenConfig {
        domain: "mesos".to_owned(),
        ip_sources: vec![IpSource::Host],
        soa_mname: "ns1.mesos.".to_owned(),
        listener: "127.0.0.1".to_owned(),
        enumeration: true,
        resolver: Resolver::from_fn(|h| Err(format!("{h}: not resolved"))),
        local_addrs: LocalAddrs::fixed(&[]),
        ..GenConfig::default()
    };
    generate(&state, &cfg, &[]).records
}

/// The octets of a decoded name, labels joined with `.`, trailing dot.
fn octets(name: &hickory_proto::rr::Name) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.iter() {
        out.extend_from_slice(label);
        out.push(b'.');
    }
    out
}

fn addresses(m: &Message) -> Vec<IpAddr> {
    addresses_in(&m.answers)
}

fn addresses_in(records: &[hickory_proto::rr::Record]) -> Vec<IpAddr> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

// RFC 2181 section 11: any octet is fine in a label.
#[test]
fn rfc2181_11_names_with_any_octet_are_served() {
    let t = compile(adversarial(), "mesos", "ns1.mesos.");
    let ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 7));
    for name in [
        "bang!.marathon.mesos.",
        "bang!-g3agf-s1.marathon.slave.mesos.",
        "queue-svc\u{e9}.marathon.mesos.",
        "queue-svc\u{e9}-cza9c-s1.marathon.mesos.",
        // ASCII case folding (RFC 4343), octets above 127 as they are.
        "BANG!.Marathon.MESOS.",
        "Queue-Svc\u{e9}.marathon.mesos.",
        // A 63-octet label is fine.
        &format!("{}.marathon.mesos.", "c".repeat(63)),
    ] {
        let m = ask(&t, name, A);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{name}");
        assert_eq!(addresses(&m), [ip], "{name}");
        // The owner is the question, as the client spelled it.
        assert_eq!(octets(&m.answers[0].name), name.as_bytes(), "{name}");
    }
    let m = ask(&t, "queue-svc\u{c9}.marathon.mesos.", A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);

    let m = ask(&t, "_bang!._tcp.marathon.mesos.", SRV);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let RData::SRV(srv) = &m.answers[0].data else {
        panic!("not an SRV: {:?}", m.answers[0]);
    };
    assert_eq!(srv.port, 80);
    assert_eq!(octets(&srv.target), b"bang!-g3agf-s1.marathon.mesos.");
    let glue: Vec<_> = m.additionals.iter().map(|r| octets(&r.name)).collect();
    assert_eq!(glue, [b"bang!-g3agf-s1.marathon.mesos.".to_vec()]);
}

// A stored name may hold `*` labels (a raw DiscoveryInfo name): it is
// served as it is; other questions still lose their `*` labels
// (BEHAVIOUR.md 5.3).
#[test]
fn names_with_star_labels_are_served_as_they_are() {
    let mut rs = RecordSet::default();
    rs.insert_a("a.*.b.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    rs.insert_a("chronos.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    let t = compile(rs, "mesos", "ns1.mesos.");
    for (name, ip) in [
        ("a.*.b.marathon.mesos.", [10, 0, 0, 1]),
        ("A.*.B.marathon.mesos.", [10, 0, 0, 1]),
        ("chronos.*.marathon.mesos.", [10, 0, 0, 2]),
    ] {
        let m = ask(&t, name, A);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{name}");
        assert_eq!(addresses(&m), [IpAddr::from(ip)], "{name}");
    }
    let m = ask(&t, "a.b.marathon.mesos.", A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}

// RFC 4343: names differing only in ASCII case share a key. The spelling
// without capitals holds it (mesos-dns lowercases questions, so it is the
// one it answers), else the first in byte order; SRV glue follows the
// target's exact spelling, as in mesos-dns.
#[test]
fn rfc4343_spellings_of_one_name_share_its_key() {
    let mut rs = RecordSet::default();
    rs.insert_a("Web.Front.fw.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    rs.insert_a("web.front.fw.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    rs.insert_a("WEB.only.fw.mesos.", Ipv4Addr::new(10, 0, 0, 3));
    rs.insert_a("Web.only.fw.mesos.", Ipv4Addr::new(10, 0, 0, 4));
    rs.insert_srv("_web._tcp.fw.mesos.", "Web.Front.fw.mesos.", 80);
    let t = compile(rs, "mesos", "ns1.mesos.");
    for (name, ip) in [
        ("web.front.fw.mesos.", [10, 0, 0, 2]),
        ("WEB.FRONT.fw.mesos.", [10, 0, 0, 2]),
        ("web.only.fw.mesos.", [10, 0, 0, 3]),
    ] {
        let m = ask(&t, name, A);
        assert_eq!(addresses(&m), [IpAddr::from(ip)], "{name}");
    }
    assert_eq!(t.counts().skipped, 2);
    let m = ask(&t, "_web._tcp.fw.mesos.", SRV);
    let RData::SRV(srv) = &m.answers[0].data else {
        panic!("not an SRV: {:?}", m.answers[0]);
    };
    assert_eq!(octets(&srv.target), b"Web.Front.fw.mesos.");
    assert_eq!(addresses_in(&m.additionals), [IpAddr::from([10, 0, 0, 1])]);
}

// RFC 1035 2.3.4: what cannot be encoded is counted, not served.
#[test]
fn rfc1035_2_3_4_unencodable_names_are_counted() {
    let rs = adversarial();
    let t = compile(rs, "mesos", "ns1.mesos.");
    let c = t.counts();
    // A owners: `.mesos.` (framework `@@@`), `store..mesos.`,
    // `store..slave.mesos.` and their canonical names. SRV owners:
    // `_framework._tcp..mesos.`, `_store._tcp` and `_udp` under
    // `..mesos.` and `..slave.mesos.`, the four `_` + 63 `c` names. No
    // served SRV owner has an unencodable target.
    assert_eq!(c.unencodable, 5 + 1 + 4 + 4);
    assert!(c.skipped >= c.unencodable);
    // Their encodable ancestors are there: `mesos.` and `slave.mesos.`.
    let m = ask(&t, "slave.mesos.", A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

/// How the test expects the table to count a record set: the owners per
/// type and the SRV values of served owners whose name cannot be encoded.
fn expected_unencodable(rs: &RecordSet, served: &BTreeSet<String>) -> u64 {
    let mut n = 0;
    for (name, _) in rs.a_records() {
        n += u64::from(encode(name).is_none());
    }
    for (name, _) in rs.aaaa_records() {
        n += u64::from(encode(name).is_none());
    }
    for (name, set) in rs.srv_records() {
        if encode(name).is_none() {
            n += 1;
        } else if served.contains(name) {
            n += set.iter().filter(|s| encode(s.target).is_none()).count() as u64;
        }
    }
    n
}

fn in_domain(name: &str, domain: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == format!("{domain}.") || name.ends_with(&format!(".{domain}."))
}

/// Names mesos-dns keeps as they are: DiscoveryInfo names (the legacy
/// pass uses them raw) and framework names, with any character.
fn odd() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z!@\u{e9}* .]{1,10}",
        "[a-z]{60,66}",
        Just("@@@".to_owned()),
        "\\PC{1,20}",
    ]
}

/// [`mesos_dns_tests::strategy::state`] with odd DiscoveryInfo names on its tasks and odd
/// names on some frameworks.
fn odd_state() -> impl Strategy<Value = (State, Vec<String>)> {
    (
        mesos_dns_tests::strategy::state(),
        prop::collection::vec(odd(), 1..8),
    )
        .prop_map(|((mut state, masters), names)| {
            for (i, fw) in state.frameworks.iter_mut().enumerate() {
                if i % 2 == 1 {
                    fw.name = names[i % names.len()].clone();
                }
            }
            let slaves: Vec<String> = state.slaves.iter().map(|s| s.id.clone()).collect();
            let tasks = state.frameworks.iter_mut().flat_map(|f| &mut f.tasks);
            for (i, task) in tasks.enumerate() {
                // Most tasks run on a known slave, so they get records.
                if let Some(id) =
                    slaves.get(i % slaves.len().max(1)).filter(|_| i % 4 != 3)
                {
                    task.slave_id = id.as_str().into();
                    task.state = "TASK_RUNNING".into();
                }
                let name = names[i % names.len()].clone();
                match &mut task.discovery {
                    Some(d) => d.name = name,
                    None if i % 3 != 2 => {
                        task.discovery = Some(Box::new(Discovery {
                            name,
                            ports: Vec::new(),
                        }))
                    }
                    None => {}
                }
            }
            (state, masters)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    // Every owner name of a generated record set, for each type it owns,
    // is answered with data, or is counted as unencodable, or (spelled
    // with capitals) shares its key with a spelling that holds it.
    #[test]
    fn every_generated_name_is_served_or_counted(
        (state, masters) in odd_state(),
        cfg in mesos_dns_tests::strategy::config(),
    ) {
        let g = generate(&state, &cfg, &masters);
        let rs = g.records;
        // Spellings by lowercase key: the one without capitals, else the
        // first in byte order, holds the key.
        let mut holder: BTreeMap<String, &str> = BTreeMap::new();
        for name in rs.names() {
            let key = name.to_ascii_lowercase();
            let has_data = rs.a(name).is_some() || rs.aaaa(name).is_some() || rs.srv(name).is_some();
            if !has_data {
                continue;
            }
            let held = holder.entry(key.clone()).or_insert(name);
            if *name == key {
                *held = name;
            }
        }
        let t = compile(rs.clone(), &cfg.domain, &cfg.soa_mname);
        let mut served = BTreeSet::new();
        let owners = rs.a_records().map(|(n, _)| (n, A))
            .chain(rs.aaaa_records().map(|(n, _)| (n, 28)))
            .chain(rs.srv_records().map(|(n, _)| (n, SRV)));
        for (name, qtype) in owners {
            if encode(name).is_none() || !in_domain(name, &cfg.domain) {
                continue;
            }
            let m = ask(&t, name, qtype);
            let held_here = holder.get(&name.to_ascii_lowercase()) == Some(&name);
            if !held_here {
                continue;
            }
            served.insert(name.to_owned());
            prop_assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{:?}", name);
            let want = RecordType::from(qtype);
            let any_value = qtype != SRV
                || rs.srv(name).is_some_and(|s| s.iter().any(|v| encode(v.target).is_some()));
            prop_assert_eq!(
                m.answers.iter().any(|r| r.record_type() == want),
                any_value,
                "{} answer for {:?}", want, name
            );
        }
        prop_assert_eq!(t.counts().unencodable, expected_unencodable(&rs, &served));
    }
}

// The HTTP half (issue 15): every generated name is in the HTTP API
// exactly as mesos-dns has it, whether or not DNS can carry it.
#[test]
fn spec_6_http_api_lists_every_generated_name() {
    use mesos_dns::http::HttpLimits;
    use mesos_dns_tests::http::{get, start_records};
    use serde_json::json;

    let s = start_records(Some(adversarial()), true, HttpLimits::default());
    let hosts = get(&s.url("/v1/hosts/bang!.marathon.mesos."));
    assert_eq!(
        hosts.json(),
        json!([{"host": "bang!.marathon.mesos.", "ip": "10.1.0.7"}])
    );
    let hosts = get(&s.url("/v1/hosts/queue-svc%C3%A9.marathon.mesos."));
    assert_eq!(
        hosts.json(),
        json!([{"host": "queue-svc\u{e9}.marathon.mesos.", "ip": "10.1.0.7"}])
    );
    let services = get(&s.url("/v1/services/_bang!._tcp.marathon.mesos."));
    assert_eq!(
        services.json(),
        json!([{
            "service": "_bang!._tcp.marathon.mesos.",
            "host": "bang!-g3agf-s1.marathon.mesos.",
            "ip": "10.1.0.7",
            "port": "80",
        }])
    );
    // mesos-dns enumerates 20 records for bang.1 and 12 for store.
    let e = get(&s.url("/v1/enumerate")).json();
    let records = |fw: usize, task: usize| {
        e["frameworks"][fw]["tasks"][task]["records"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(e["frameworks"][0]["tasks"][0]["id"], json!("bang.1"));
    assert_eq!(records(0, 0), 20);
    assert_eq!(e["frameworks"][1]["name"], json!("@@@"));
    assert_eq!(records(1, 0), 12);
    let axfr = get(&s.url("/v1/axfr")).json();
    let a = &axfr["Records"]["As"];
    for name in [
        "bang!.marathon.mesos.",
        "store..mesos.",
        "queue-svc\u{e9}.marathon.mesos.",
    ] {
        assert!(a.get(name).is_some(), "{name} not in /v1/axfr");
    }
    let long = format!("_{}._tcp.marathon.mesos.", "c".repeat(63));
    assert!(axfr["Records"]["SRVs"].get(&long).is_some());
}
