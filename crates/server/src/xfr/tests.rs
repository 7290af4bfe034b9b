//! Transfers decoded with hickory-proto as an independent oracle.

use super::*;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use hickory_proto::op::{Message as HMessage, ResponseCode};
use hickory_proto::rr::RData;

use crate::dns_config::DnsConfig;
use mesos_records::RecordSet;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn transfers() -> Arc<Transfers> {
    let allow = vec![Cidr::parse("127.0.0.0/8").unwrap()];
    Arc::new(Transfers::new(allow, 8, 1 << 20, Arc::default()))
}

/// The DNS examples plus `n` addresses of one name.
fn records(n: u16) -> RecordSet {
    let mut rs = mesos_records::record::fixture::dns_examples();
    for i in 0..n {
        let [hi, lo] = i.to_be_bytes();
        rs.insert_a("huge.marathon.mesos.", Ipv4Addr::new(10, 8, hi, lo));
    }
    rs
}

fn table(rs: RecordSet, serial: u32) -> Arc<Table> {
    Arc::new(Table::compile(Arc::new(rs), &DnsConfig::default(), serial))
}

/// A transfer query; IXFR carries the client's SOA with `serial`.
fn query(name: &str, qtype: Rtype, serial: Option<u32>) -> Vec<u8> {
    let mut q = vec![0u8; 512];
    let n = dns_wire::write_query(&mut q, 0x1234, name, qtype, None).unwrap();
    q.truncate(n);
    if let Some(s) = serial {
        q[9] = 1; // NSCOUNT
        q.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0]);
        q.extend_from_slice(&s.to_be_bytes());
        q.extend_from_slice(&[0; 16]);
    }
    q
}

/// Every message of the reply, decoded.
fn exchange(x: &Arc<Transfers>, t: &Arc<Table>, q: &[u8], peer: IpAddr) -> Vec<HMessage> {
    let mut out = vec![0u8; 65_535];
    let mut framed = Vec::new();
    match x.start(t, q, peer, &mut out).expect("a transfer query") {
        Start::Reply { len, .. } => return vec![HMessage::from_vec(&out[..len]).unwrap()],
        Start::Stream(mut s) => while s.next_message(&mut framed) {},
    }
    let mut msgs = Vec::new();
    let mut rest = &framed[..];
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        assert!(len < 65_535 && len <= tail.len());
        msgs.push(HMessage::from_vec(&tail[..len]).unwrap());
        rest = &tail[len..];
    }
    msgs
}

/// The answer records of every message, as `name type data` lines.
fn lines(msgs: &[HMessage]) -> Vec<String> {
    msgs.iter()
        .flat_map(|m| &m.answers)
        .map(|r| {
            let data = match &r.data {
                RData::SOA(s) => format!("{}", s.serial),
                d => d.to_string(),
            };
            format!("{} {} {}", r.name, r.data.record_type(), data)
        })
        .collect()
}

/// What the zone holds: SOA and NS, and every record of `rs` under the
/// domain.
fn expected(rs: &RecordSet) -> BTreeSet<String> {
    let mut want: BTreeSet<String> = rs
        .dump()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let name = f[0].to_ascii_lowercase();
            name.ends_with(".mesos.")
                .then(|| format!("{name} {} {}", f[1], f[2]))
        })
        .collect();
    want.insert("mesos. NS ns1.mesos.".into());
    want
}

#[test]
fn rfc5936_2_2_axfr_is_soa_every_record_soa_in_messages_under_64k() {
    let rs = records(5000);
    let t = table(rs.clone(), 7);
    let msgs = exchange(&transfers(), &t, &query("mesos.", Rtype::AXFR, None), LOCAL);
    assert!(msgs.len() > 2, "5000 addresses take several messages");
    for m in &msgs {
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.metadata.authoritative);
        assert_eq!(m.metadata.id, 0x1234);
    }
    let got = lines(&msgs);
    assert_eq!(got.first().map(String::as_str), Some("mesos. SOA 7"));
    assert_eq!(got.last().map(String::as_str), Some("mesos. SOA 7"));
    let body: BTreeSet<String> = got[1..got.len() - 1]
        .iter()
        .map(|l| match l.split_once(' ') {
            Some((name, rest)) => format!("{} {rest}", name.to_ascii_lowercase()),
            None => l.clone(),
        })
        .collect();
    assert_eq!(body.len(), got.len() - 2, "no record twice");
    let want = expected(&rs);
    let missing: Vec<_> = want.difference(&body).take(5).collect();
    let extra: Vec<_> = body.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}

#[test]
fn refused_outside_transfer_allow_and_notauth_for_another_zone() {
    let x = transfers();
    let t = table(records(0), 7);
    let other: IpAddr = "192.0.2.1".parse().unwrap();
    let m = exchange(&x, &t, &query("mesos.", Rtype::AXFR, None), other);
    assert_eq!(m[0].metadata.response_code, ResponseCode::Refused);
    assert_eq!(x.counters.refused.load(Ordering::Relaxed), 1);
    let none = Arc::new(Transfers::none(Arc::default()));
    let m = exchange(&none, &t, &query("mesos.", Rtype::AXFR, None), LOCAL);
    assert_eq!(
        m[0].metadata.response_code,
        ResponseCode::Refused,
        "default: nobody"
    );
    let m = exchange(&x, &t, &query("marathon.mesos.", Rtype::AXFR, None), LOCAL);
    assert_eq!(m[0].metadata.response_code, ResponseCode::NotAuth);
    let m = exchange(&x, &t, &query("mesos.", Rtype::IXFR, None), LOCAL);
    assert_eq!(
        m[0].metadata.response_code,
        ResponseCode::FormErr,
        "IXFR without SOA"
    );
    let mut out = vec![0u8; 512];
    assert!(x
        .start(&t, &query("mesos.", Rtype::SOA, None), LOCAL, &mut out)
        .is_none());
}

#[test]
fn rfc1995_4_ixfr_sends_the_condensed_difference() {
    let x = transfers();
    let s1 = records(3);
    let mut s2 = records(4);
    s2.insert_a("new.marathon.mesos.", Ipv4Addr::new(10, 1, 1, 1));
    let s3 = records(2);
    let t = table(s3, 3);
    x.published(&table(s1, 1), &table(s2.clone(), 2));
    x.published(&table(s2, 2), &t);
    let got = lines(&exchange(
        &x,
        &t,
        &query("mesos.", Rtype::IXFR, Some(1)),
        LOCAL,
    ));
    assert_eq!(
        got,
        [
            "mesos. SOA 3",
            "mesos. SOA 1",
            "huge.marathon.mesos. A 10.8.0.2",
            "mesos. SOA 3",
            "mesos. SOA 3",
        ]
    );
    assert_eq!(x.counters.ixfr.load(Ordering::Relaxed), 1);
}

#[test]
fn rfc1995_2_current_or_newer_serial_gets_one_soa_unknown_gets_the_zone() {
    let x = transfers();
    let t = table(records(2), 3);
    for serial in [3, 4, 3u32.wrapping_sub(1).wrapping_add(1 << 30)] {
        let got = lines(&exchange(
            &x,
            &t,
            &query("mesos.", Rtype::IXFR, Some(serial)),
            LOCAL,
        ));
        assert_eq!(got, ["mesos. SOA 3"], "serial {serial}");
    }
    let got = lines(&exchange(
        &x,
        &t,
        &query("mesos.", Rtype::IXFR, Some(1)),
        LOCAL,
    ));
    assert!(got.len() > 4 && got[1] == "mesos. NS ns1.mesos.", "{got:?}");
    assert_eq!(got.last().map(String::as_str), Some("mesos. SOA 3"));
}

#[test]
fn a_transfer_finishes_on_the_table_it_started_with() {
    let x = transfers();
    let shared = crate::table::SharedTable::new(Table::compile(
        Arc::new(records(5000)),
        &DnsConfig::default(),
        7,
    ));
    let mut out = vec![0u8; 65_535];
    let q = query("mesos.", Rtype::AXFR, None);
    let Some(Start::Stream(mut s)) = x.start(&shared.load(), &q, LOCAL, &mut out) else {
        panic!("a stream");
    };
    let mut framed = Vec::new();
    assert!(s.next_message(&mut framed));
    shared.publish(Table::compile(
        Arc::new(records(1)),
        &DnsConfig::default(),
        8,
    ));
    while s.next_message(&mut framed) {}
    let tail = &framed[framed.len() - 40..];
    let serial_7 = 7u32.to_be_bytes();
    assert!(
        tail.windows(4).any(|w| w == serial_7),
        "the last SOA is serial 7"
    );
}

#[test]
fn no_journal_is_kept_when_no_client_may_transfer() {
    let (t1, t2) = (table(records(1), 1), table(records(2), 2));
    let none = Transfers::none(Arc::default());
    none.published(&t1, &t2);
    assert_eq!(none.journal_size(), (0, 0));
    let x = transfers();
    x.published(&t1, &t2);
    let (versions, bytes) = x.journal_size();
    assert_eq!(versions, 1);
    assert!(bytes > 0);
}
