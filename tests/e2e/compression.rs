//! Name compression of SRV answers (issue 15): the additional records'
//! owners point at the SRV targets in the answer section, as mesos-dns
//! (miekg/dns) does, while the targets themselves stay uncompressed (Go
//! rejects compressed SRV RDATA). Answers are shuffled per response, so
//! every response is decoded with hickory-proto and checked: each
//! additional owner must read back as the target of its address.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RData;
use mesos_dns::answer::{answer, Answer, Transport};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::Table;
use mesos_records::RecordSet;

const SRV: u16 = 33;

/// A query with ID 0xABCD, no EDNS.
fn query(name: &str, qtype: u16) -> Vec<u8> {
    mesos_dns_tests::dns::query(0xABCD, name, qtype, None)
}

/// `n` SRV targets under `_my-service._tcp.marathon.mesos.`, each with an
/// A record: target i has address 10.7.(i / 256).(i % 256).
fn table(n: u16) -> (Table, BTreeMap<String, Ipv4Addr>) {
    let mut rs = RecordSet::default();
    let mut want = BTreeMap::new();
    for i in 0..n {
        let target = format!("my-service-4dfj{i}-s1{}.marathon.slave.mesos.", i % 7);
        let ip = Ipv4Addr::new(10, 7, (i >> 8) as u8, i as u8);
        rs.insert_a(&target, ip);
        rs.insert_srv("_my-service._tcp.marathon.mesos.", &target, 31000 + i);
        want.insert(target, ip);
    }
    let t = Table::compile(Arc::new(rs), &DnsConfig::default(), 1);
    (t, want)
}

fn ask(t: &Table, q: &[u8], transport: Transport) -> Vec<u8> {
    let mut out = vec![0u8; 65535];
    let Answer::Reply(n) = answer(t, q, &mut out, transport) else {
        panic!("no reply");
    };
    out.truncate(n);
    out
}

/// The SRV RDATA of every answer record, read by hand: each must be
/// priority, weight, port and a target with no pointer.
fn assert_srv_targets_uncompressed(msg: &[u8], qlen: usize, ancount: usize) {
    let mut at = 12 + qlen;
    for _ in 0..ancount {
        assert_eq!(&msg[at..at + 2], &[0xC0, 0x0C], "answer owner");
        let rdlen = usize::from(u16::from_be_bytes([msg[at + 10], msg[at + 11]]));
        let rdata = &msg[at + 12..at + 12 + rdlen];
        let mut i = 6;
        while rdata[i] != 0 {
            assert!(rdata[i] <= 63, "a pointer or bad label in SRV RDATA");
            i += 1 + usize::from(rdata[i]);
        }
        assert_eq!(i + 1, rdlen);
        at += 12 + rdlen;
    }
}

/// Decodes `msg` and checks that every additional A record's owner is one
/// of the answer's targets, with that target's address; returns the
/// numbers of answers and additional records.
fn check(msg: &[u8], want: &BTreeMap<String, Ipv4Addr>) -> (usize, usize) {
    let m = Message::from_vec(msg).expect("hickory decodes the reply");
    assert_eq!(m.metadata.id, 0xABCD);
    let mut targets = Vec::new();
    for r in &m.answers {
        let RData::SRV(srv) = &r.data else {
            panic!("not an SRV: {r:?}");
        };
        targets.push(srv.target.to_ascii());
    }
    for r in &m.additionals {
        let RData::A(a) = &r.data else {
            panic!("not an A: {r:?}");
        };
        let owner = r.name.to_ascii();
        assert!(targets.contains(&owner), "{owner} is no target");
        assert_eq!(want.get(&owner), Some(&a.0), "{owner}");
    }
    (m.answers.len(), m.additionals.len())
}

// mesos-dns sends 5 SRV and their 5 A records in 434 octets here: header
// 12, question 37 (`_my-service._tcp.marathon.mesos.`), 5 SRV records of
// 2 + 10 + 6 + 43, 5 A records of 2 + 10 + 4 (owners are pointers to the
// SRV targets). We must not send more.
#[test]
fn rfc1035_4_1_4_srv_additional_owners_point_at_the_targets() {
    let (t, want) = table(5);
    let q = query("_my-service._tcp.marathon.mesos.", SRV);
    for _ in 0..200 {
        let r = ask(&t, &q, Transport::Udp);
        assert_eq!(r.len(), 12 + 37 + 5 * 61 + 5 * 16);
        assert_eq!(check(&r, &want), (5, 5));
        assert_srv_targets_uncompressed(&r, 37, 5);
    }
}

// Shuffles of up to 256 answers note where each record lands; above that
// the order is a rotation. Over TCP every record is sent. Past 16,000
// octets of answers (600 targets) no target is offered, and the
// additional records that fit are written out.
#[test]
fn pointers_follow_shuffled_answers() {
    for n in [2u16, 16, 17, 200, 256, 257, 600] {
        let (t, want) = table(n);
        let q = query("_my-service._tcp.marathon.mesos.", SRV);
        for _ in 0..20 {
            let r = ask(&t, &q, Transport::Tcp);
            let n = usize::from(n);
            let (an, ar) = check(&r, &want);
            assert_eq!(an, n);
            assert!(ar == n || (n == 600 && ar > 400), "{n} targets: {ar}");
            assert_srv_targets_uncompressed(&r, 37, n);
            // Over UDP: a random subset, or all answers and some glue.
            let r = ask(&t, &q, Transport::Udp);
            assert!(r.len() <= 512);
            check(&r, &want);
        }
    }
}

// RFC 4343: the answers' owners are the question as the client spelled
// it; the targets and the additional owners keep their own spelling.
#[test]
fn mixed_case_question_reads_back_its_own_case_and_the_targets_theirs() {
    let (t, want) = table(5);
    let q = query("_My-Service._TCP.Marathon.MESOS.", SRV);
    let r = ask(&t, &q, Transport::Udp);
    assert_eq!(check(&r, &want), (5, 5));
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(
        m.answers[0].name.to_ascii(),
        "_My-Service._TCP.Marathon.MESOS."
    );
}

// mesos-dns owns its negative SOA by the question (a two-octet pointer);
// ours is owned by the apex, which points into the question's last labels
// (the question always ends with them): 12 + 25 (question) + 2 + 10 + 6
// (`ns1` + pointer) + 7 (`root` + pointer) + 20, as small as mesos-dns.
#[test]
fn rfc2308_negative_soa_points_into_the_question() {
    let (t, _) = table(1);
    for (name, apex) in [
        ("nope.marathon.mesos.", "mesos."),
        ("NOPE.Marathon.MESOS.", "MESOS."),
    ] {
        let r = ask(&t, &query(name, 1), Transport::Udp);
        assert_eq!(r.len(), 12 + 25 + 2 + 10 + 6 + 7 + 20, "{name}");
        let m = Message::from_vec(&r).unwrap();
        let soa = &m.authorities[0];
        assert_eq!(soa.name.to_ascii(), apex);
        let RData::SOA(data) = &soa.data else {
            panic!("not an SOA: {soa:?}");
        };
        assert!(data.mname.to_ascii().eq_ignore_ascii_case("ns1.mesos."));
        assert!(data
            .rname
            .to_ascii()
            .eq_ignore_ascii_case("root.ns1.mesos."));
    }
}

// A question whose `*` labels come after the apex labels does not end
// with them: it is not in the domain (and is forwarded, or refused).
#[test]
fn a_question_ending_past_the_apex_is_not_in_the_domain() {
    let (t, _) = table(1);
    let mut out = vec![0u8; 512];
    let q = query("nope.mesos.*.", 1);
    let forwarded = answer(&t, &q, &mut out, Transport::Udp);
    assert!(matches!(forwarded, Answer::Forward { group: 0 }));
    let r = ask(&t, &query("nope.*.mesos.", 1), Transport::Udp);
    let m = Message::from_vec(&r).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}
