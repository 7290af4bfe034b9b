//! Unit tests of the answer function, decoded with hickory-proto as an
//! independent oracle. The fixture is the DNS examples of BEHAVIOUR.md 8.4.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use mesos_records::RecordSet;

use crate::dns_config::DnsConfig;

const Q_A: u16 = 1;
const Q_NS: u16 = 2;
const Q_SOA: u16 = 6;
const Q_AAAA: u16 = 28;
const Q_SRV: u16 = 33;
const Q_ANY: u16 = 255;

/// The DNS example records plus a 60-address name and a 5000-address
/// name (more than a TCP message holds).
fn fixture() -> RecordSet {
    let mut rs = mesos_records::record::fixture::dns_examples();
    for i in 0..60u8 {
        rs.insert_a("big.marathon.mesos.", Ipv4Addr::new(10, 9, 0, i));
    }
    for i in 0..5000u16 {
        rs.insert_a(
            "huge.marathon.mesos.",
            Ipv4Addr::new(10, 8, (i >> 8) as u8, i as u8),
        );
    }
    rs
}

fn cfg() -> DnsConfig {
    DnsConfig {
        recurse_on: false,
        resolvers: vec!["127.0.0.1:5353".parse().unwrap()],
        zone_resolvers: vec![("corp".into(), vec!["127.0.0.1:5354".parse().unwrap()])],
        soa_minttl: 30,
        ..DnsConfig::default()
    }
}

fn table() -> Table {
    Table::compile(Arc::new(fixture()), &cfg(), 42)
}

/// A query: ID 0xBEEF, RD, one question, optional OPT (payload, version)
/// with DO set.
fn query(name: &str, qtype: u16, edns: Option<(u16, u8)>) -> Vec<u8> {
    let edns = edns.map(|(udp_payload, version)| dns_wire::Edns {
        udp_payload,
        ext_rcode: 0,
        version,
        dnssec_ok: true,
    });
    let mut q = vec![0u8; 512];
    let n = dns_wire::write_query(
        &mut q,
        0xBEEF,
        name,
        dns_wire::Rtype(qtype),
        edns.as_ref(),
    )
    .unwrap();
    q.truncate(n);
    q
}

fn ask(t: &Table, packet: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let mut out = vec![0u8; 65535];
    match answer(t, packet, &mut out, transport) {
        Answer::Reply(n) => Some(out[..n].to_vec()),
        _ => None,
    }
}

fn udp(name: &str, qtype: u16) -> (Vec<u8>, Message) {
    let r = ask(&table(), &query(name, qtype, None), Transport::Udp).unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(m.metadata.id, 0xBEEF);
    (r, m)
}

fn a_addrs(m: &Message) -> Vec<Ipv4Addr> {
    let mut v: Vec<_> = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn spec_8_4_a_record_is_authoritative() {
    let (_, m) = udp("chronos.marathon.mesos.", Q_A);
    assert!(m.metadata.authoritative);
    assert!(!m.metadata.recursion_available);
    assert!(m.metadata.recursion_desired);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_addrs(&m), vec![Ipv4Addr::new(1, 2, 3, 11)]);
    assert_eq!(m.answers[0].ttl, 60);
}

#[test]
fn rfc4343_echoes_question_case_in_question_and_owner() {
    let (raw, m) = udp("cHrOnOs.MARATHON.mesoS.", Q_A);
    assert_eq!(&raw[13..20], b"cHrOnOs");
    assert_eq!(m.answers[0].name.to_ascii(), "cHrOnOs.MARATHON.mesoS.");
    assert_eq!(a_addrs(&m), vec![Ipv4Addr::new(1, 2, 3, 11)]);
}

#[test]
fn spec_8_4_aaaa_record() {
    let (_, m) = udp("toy-store.ipv6-framework.mesos.", Q_AAAA);
    match &m.answers[0].data {
        RData::AAAA(a) => {
            assert_eq!(a.0, "fd01:b::1:8000:2".parse::<Ipv6Addr>().unwrap())
        }
        other => panic!("not AAAA: {other:?}"),
    }
}

#[test]
fn rfc2782_srv_with_additional_addresses() {
    let (_, m) = udp("_liquor-store._tcp.marathon.mesos.", Q_SRV);
    assert_eq!(m.answers.len(), 4);
    for r in &m.answers {
        let RData::SRV(s) = &r.data else {
            panic!("not SRV")
        };
        assert_eq!((s.priority, s.weight), (0, 1));
    }
    let mut extra: Vec<String> = m
        .additionals
        .iter()
        .map(|r| format!("{} {:?}", r.name, r.data))
        .collect();
    extra.sort();
    assert_eq!(extra.len(), 2, "{extra:?}");
    assert!(extra[0].starts_with("liquor-store-4dfjd-0.marathon.mesos."));
}

#[test]
fn rfc2308_nodata_carries_apex_soa_with_minimum() {
    let (_, m) = udp("_liquor-store._tcp.marathon.mesos.", Q_A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert_eq!(m.authorities.len(), 1);
    let soa = &m.authorities[0];
    assert_eq!(soa.name.to_ascii(), "mesos.");
    assert_eq!(soa.ttl, 30, "min(TTL 60, SOAMinttl 30)");
    let RData::SOA(s) = &soa.data else {
        panic!("not SOA")
    };
    assert_eq!(s.mname.to_ascii(), "ns1.mesos.");
    assert_eq!(s.rname.to_ascii(), "root.ns1.mesos.");
    assert_eq!(
        (s.serial, s.refresh, s.retry, s.expire, s.minimum),
        (42, 60, 600, 86400, 30)
    );
}

#[test]
fn rfc2308_nxdomain_for_missing_names_of_every_type() {
    for qtype in [Q_A, Q_AAAA, Q_SRV, Q_SOA, Q_NS, Q_ANY, 16] {
        let (_, m) = udp("missing.mesos.", qtype);
        assert_eq!(
            m.metadata.response_code,
            ResponseCode::NXDomain,
            "qtype {qtype}"
        );
        assert_eq!(m.authorities.len(), 1);
        assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
    }
}

#[test]
fn rfc8020_empty_non_terminal_is_nodata() {
    let (_, m) = udp("marathon.mesos.", Q_A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(m.authorities.len(), 1);
}

#[test]
fn rfc1034_4_3_2_apex_soa_and_ns_in_answer_section() {
    let (_, m) = udp("mesos.", Q_SOA);
    assert_eq!(m.answers.len(), 1);
    assert_eq!(m.answers[0].record_type(), RecordType::SOA);
    assert!(m.authorities.is_empty());
    let (_, m) = udp("MESOS.", Q_NS);
    assert_eq!(m.answers.len(), 1);
    let RData::NS(ns) = &m.answers[0].data else {
        panic!("not NS")
    };
    // The target's `mesos.` points into the question, so it reads back
    // in the question's case: the same name (RFC 4343).
    assert_eq!(ns.0.to_ascii(), "ns1.MESOS.");
    assert_eq!(m.additionals.len(), 1, "glue for ns1.mesos.");
    let (_, m) = udp("mesos.", Q_ANY);
    assert_eq!(m.answers.len(), 2);
}

#[test]
fn any_is_the_union_of_a_aaaa_and_srv() {
    let (_, m) = udp("liquor-store.marathon.mesos.", Q_ANY);
    assert_eq!(a_addrs(&m).len(), 2);
    let (_, m) = udp("_liquor-store._tcp.marathon.mesos.", Q_ANY);
    assert_eq!(m.answers.len(), 4);
}

#[test]
fn spec_5_3_star_labels_are_removed_from_the_key() {
    let (_, m) = udp("chronos.*.marathon.mesos.", Q_A);
    assert_eq!(a_addrs(&m), vec![Ipv4Addr::new(1, 2, 3, 11)]);
    assert_eq!(m.answers[0].name.to_ascii(), "chronos.*.marathon.mesos.");
    // Also for SRV, whose additional section uses relocated pointers.
    let (_, m) = udp("_liquor-store._tcp.*.marathon.mesos.", Q_SRV);
    assert_eq!(m.answers.len(), 4);
    assert_eq!(m.additionals.len(), 2);
}

#[test]
fn rfc6891_7_opt_is_echoed_with_our_size_and_do_bit() {
    let t = table();
    let r = ask(
        &t,
        &query("chronos.marathon.mesos.", Q_A, Some((4096, 0))),
        Transport::Udp,
    )
    .unwrap();
    let m = Message::from_vec(&r).unwrap();
    let e = m.edns.as_ref().expect("OPT echoed");
    assert_eq!(e.max_payload(), 1232);
    assert!(e.flags().dnssec_ok);
    // Error responses echo OPT too.
    let r = ask(
        &t,
        &query("x.example.", Q_A, Some((1232, 0))),
        Transport::Udp,
    );
    assert!(r.is_none(), "forwarded, not answered");
}

#[test]
fn rfc6891_6_1_3_badvers() {
    let r = ask(
        &table(),
        &query("chronos.marathon.mesos.", Q_A, Some((1232, 1))),
        Transport::Udp,
    )
    .unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(u16::from(m.metadata.response_code), 16, "BADVERS");
    assert!(m.answers.is_empty());
}

#[test]
fn rfc6891_6_2_5_client_payload_is_honoured_up_to_our_max() {
    let t = table();
    // 60 A records: 12 + 24 + 60 * 16 = 996 octets, more than 512.
    let r = ask(&t, &query("big.marathon.mesos.", Q_A, None), Transport::Udp).unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert!(r.len() <= 512);
    assert!(m.metadata.truncation);
    assert_eq!(m.answers.len(), (512 - 12 - 24) / 16);
    let r = ask(
        &t,
        &query("big.marathon.mesos.", Q_A, Some((1232, 0))),
        Transport::Udp,
    )
    .unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 60);
    // A client size above our maximum is capped at it.
    let r = ask(
        &t,
        &query("huge.marathon.mesos.", Q_A, Some((65000, 0))),
        Transport::Udp,
    )
    .unwrap();
    assert!(r.len() <= 1232);
    assert!(Message::from_vec(&r).unwrap().metadata.truncation);
}

#[test]
fn rfc7766_tcp_answers_fill_65535_without_tc() {
    let r = ask(
        &table(),
        &query("huge.marathon.mesos.", Q_A, None),
        Transport::Tcp,
    )
    .unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert!(!m.metadata.truncation);
    assert!(r.len() <= 65535);
    assert!(m.answers.len() >= 4000, "{}", m.answers.len());
    let all: std::collections::BTreeSet<_> = a_addrs(&m).into_iter().collect();
    assert_eq!(all.len(), m.answers.len(), "no duplicates in the subset");
}

#[test]
fn set_truncate_bit_false_never_sets_tc() {
    let t = Table::compile(
        Arc::new(fixture()),
        &DnsConfig {
            set_truncate_bit: false,
            ..cfg()
        },
        1,
    );
    let r = ask(&t, &query("big.marathon.mesos.", Q_A, None), Transport::Udp).unwrap();
    assert!(r.len() <= 512);
    assert!(!Message::from_vec(&r).unwrap().metadata.truncation);
}

#[test]
fn answers_are_shuffled_per_response() {
    let t = table();
    let q = query("big.marathon.mesos.", Q_A, Some((1232, 0)));
    let firsts: std::collections::BTreeSet<_> = (0..50)
        .map(|_| a_addrs_in_order(&ask(&t, &q, Transport::Udp).unwrap())[0])
        .collect();
    assert!(
        firsts.len() > 1,
        "50 answers all started with the same record"
    );
}

fn a_addrs_in_order(r: &[u8]) -> Vec<Ipv4Addr> {
    Message::from_vec(r)
        .unwrap()
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

#[test]
fn rfc1035_4_1_1_short_and_response_packets_are_dropped() {
    let t = table();
    assert_eq!(ask(&t, &[0u8; 11], Transport::Udp), None);
    let mut q = query("chronos.marathon.mesos.", Q_A, None);
    q[2] |= 0x80;
    assert_eq!(ask(&t, &q, Transport::Udp), None);
}

#[test]
fn rfc9619_no_question_is_formerr() {
    let t = table();
    let mut q = query("chronos.marathon.mesos.", Q_A, None);
    q[5] = 0; // QDCOUNT 0, question left as trailing data
    let m = Message::from_vec(&ask(&t, &q, Transport::Udp).unwrap()).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    let r = ask(&t, &q[..12], Transport::Udp).unwrap();
    assert_eq!(r.len(), 12);
    // A header claiming a question it does not carry.
    let mut h = q[..12].to_vec();
    h[5] = 1;
    let m = Message::from_vec(&ask(&t, &h, Transport::Udp).unwrap()).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
}

#[test]
fn rfc1035_4_1_1_other_opcodes_are_notimp() {
    let mut q = query("chronos.marathon.mesos.", Q_A, None);
    q[2] = (q[2] & 0x87) | (4 << 3); // NOTIFY
    let r = ask(&table(), &q, Transport::Udp).unwrap();
    assert_eq!(r[3] & 0x0F, 4);
    assert_eq!((r[2] >> 3) & 0x0F, 4, "opcode echoed");
}

#[test]
fn non_in_class_in_the_domain_is_refused() {
    let mut q = query("chronos.marathon.mesos.", Q_A, None);
    let n = q.len();
    q[n - 1] = 3; // CH
    let m = Message::from_vec(&ask(&table(), &q, Transport::Udp).unwrap()).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(m.answers.is_empty() && m.authorities.is_empty());
}

#[test]
fn spec_5_2_routing_and_external_off() {
    let t = table();
    let mut out = [0u8; 512];
    let fwd = |name: &str, qtype: u16, out: &mut [u8]| {
        answer(&t, &query(name, qtype, None), out, Transport::Udp)
    };
    assert_eq!(
        fwd("google.com.", Q_A, &mut out),
        Answer::Forward { group: 0 }
    );
    assert_eq!(fwd("db.CORP.", Q_A, &mut out), Answer::Forward { group: 1 });
    assert_eq!(fwd("mesos.", 43, &mut out), Answer::Forward { group: 0 });
    let off = Table::compile(
        Arc::new(fixture()),
        &DnsConfig {
            external_on: false,
            ..cfg()
        },
        1,
    );
    let r = ask(&off, &query("google.com.", Q_A, None), Transport::Udp).unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(!m.metadata.authoritative);
}

#[test]
fn servfail_in_the_domain_until_the_first_load() {
    let t = Table::empty(&cfg());
    let r = ask(
        &t,
        &query("chronos.marathon.mesos.", Q_A, None),
        Transport::Udp,
    )
    .unwrap();
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    let mut out = [0u8; 512];
    let a = answer(
        &t,
        &query("google.com.", Q_A, None),
        &mut out,
        Transport::Udp,
    );
    assert_eq!(a, Answer::Forward { group: 0 });
}

#[test]
fn small_output_buffer_lowers_the_limit() {
    let mut out = [0u8; 100];
    let q = query("big.marathon.mesos.", Q_A, None);
    let Answer::Reply(n) = answer(&table(), &q, &mut out, Transport::Tcp) else {
        panic!("no reply")
    };
    assert!(n <= 100);
    assert!(Message::from_vec(&out[..n]).is_ok());
    let mut tiny = [0u8; 20];
    assert_eq!(
        answer(&table(), &q, &mut tiny, Transport::Udp),
        Answer::Drop
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9_][a-z0-9-]{0,20}"
    }

    prop_compose! {
        fn record_set()(
            names in proptest::collection::vec((label(), label()), 1..8),
            ips in proptest::collection::vec(any::<u32>(), 1..40),
            ports in proptest::collection::vec(any::<u16>(), 1..20),
        ) -> RecordSet {
            let mut rs = RecordSet::default();
            for (i, (a, b)) in names.iter().enumerate() {
                let n = format!("{a}.{b}.mesos.");
                for ip in ips.iter().skip(i) {
                    rs.insert_a(&n, Ipv4Addr::from(*ip));
                    rs.insert_aaaa(&n, Ipv6Addr::from(u128::from(*ip)));
                }
                for p in &ports {
                    rs.insert_srv(&format!("_{a}._tcp.{b}.mesos."), &n, *p);
                }
            }
            rs
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_answer_parses_with_the_right_id_question_and_size(
            rs in record_set(), edns in proptest::option::of(0u16..5000)
        ) {
            let names: Vec<String> = rs.a_records().map(|(n, _)| n)
                .chain(rs.srv_records().map(|(n, _)| n)).map(str::to_owned).collect();
            let t = Table::compile(Arc::new(rs.clone()), &cfg(), 9);
            for name in names {
                for qtype in [Q_A, Q_AAAA, Q_SRV, Q_ANY, Q_SOA, 16] {
                    for transport in [Transport::Udp, Transport::Tcp] {
                        let q = query(&name, qtype, edns.map(|s| (s, 0)));
                        let r = ask(&t, &q, transport).unwrap();
                        let limit = match (transport, edns) {
                            (Transport::Tcp, _) => 65535,
                            (Transport::Udp, None) => 512,
                            (Transport::Udp, Some(s)) => usize::from(s.clamp(512, 1232)),
                        };
                        prop_assert!(r.len() <= limit);
                        let m = Message::from_vec(&r).unwrap();
                        prop_assert_eq!(m.metadata.id, 0xBEEF);
                        prop_assert_eq!(&r[12..q.len() - if edns.is_some() { 11 } else { 0 }],
                            &q[12..q.len() - if edns.is_some() { 11 } else { 0 }]);
                        let expect = match qtype {
                            Q_A => rs.a(&name).map_or(0, |s| s.len()),
                            Q_AAAA => rs.aaaa(&name).map_or(0, |s| s.len()),
                            Q_SRV => rs.srv(&name).map_or(0, |s| s.len()),
                            _ => usize::MAX,
                        };
                        if expect != usize::MAX && !m.metadata.truncation
                            && transport == Transport::Udp {
                            prop_assert_eq!(m.answers.len(), expect);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn rfc2181_9_dropping_only_additional_records_does_not_set_tc() {
    let mut rs = RecordSet::default();
    for i in 0..8u8 {
        let t = format!("target-number-{i}.marathon.mesos.");
        rs.insert_srv("_s._tcp.marathon.mesos.", &t, 80);
        rs.insert_a(&t, Ipv4Addr::new(10, 0, 0, i));
    }
    let t = Table::compile(Arc::new(rs), &cfg(), 1);
    let r = ask(
        &t,
        &query("_s._tcp.marathon.mesos.", Q_SRV, None),
        Transport::Udp,
    )
    .unwrap();
    assert!(r.len() <= 512);
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(m.answers.len(), 8, "every answer fits");
    assert!(
        m.additionals.len() < 8,
        "some additional records were dropped"
    );
    assert!(!m.metadata.truncation);
    // With room for everything, all eight addresses come along.
    let r = ask(
        &t,
        &query("_s._tcp.marathon.mesos.", Q_SRV, Some((1232, 0))),
        Transport::Udp,
    )
    .unwrap();
    assert_eq!(Message::from_vec(&r).unwrap().additionals.len(), 8);
}
