//! Static records served beside the Mesos ones, decoded with hickory-proto.

use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use mesos_records::RecordSet;

use super::*;
use crate::answer::{answer, Answer, Transport};
use crate::dns_config::DnsConfig;
use crate::table::Table;

const ZONE: &str = "\
$TTL 120
db          A     10.0.0.1
db          AAAA  2001:db8::1
db          TXT   \"role=primary\"
_pg._tcp    SRV   0 5 5432 db
alias       CNAME db
api-alias   CNAME api.marathon.mesos.
web-alias   CNAME web.marathon.mesos.
outside     CNAME www.example.org.
loop1       CNAME loop2
loop2       CNAME loop1
web.marathon 30 TXT \"static wins\"
deep.a.b    A     10.0.0.9
elsewhere.example. A 10.0.0.8
";

fn table(zone: &str) -> Table {
    let mut rs = RecordSet::default();
    rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 1, 0, 1));
    rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 1, 0, 2));
    rs.insert_a("api.marathon.mesos.", Ipv4Addr::new(10, 1, 0, 3));
    let cfg = DnsConfig::default();
    let records = parse(zone, "mesos.", 60).unwrap();
    let (s, skipped) = Statics::build(records, b"\x05mesos\x00").unwrap();
    assert_eq!(skipped, ["elsewhere.example. is outside the domain"]);
    cfg.statics.store(s);
    Table::compile(Arc::new(rs), &cfg, 1)
}

fn ask(t: &Table, name: &str, qtype: RecordType) -> Message {
    let mut q = [0u8; 512];
    let n = dns_wire::write_query(&mut q, 7, name, Rtype(qtype.into()), None).unwrap();
    let mut out = [0u8; 4096];
    match answer(t, &q[..n], &mut out, Transport::Udp) {
        Answer::Reply(len) => Message::from_vec(&out[..len]).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn static_records_of_every_type_are_served_with_their_ttl() {
    let t = table(ZONE);
    let m = ask(&t, "DB.mesos", RecordType::A);
    assert!(m.metadata.authoritative);
    assert_eq!(
        m.answers[0].data,
        RData::A(Ipv4Addr::new(10, 0, 0, 1).into())
    );
    assert_eq!(m.answers[0].ttl, 120);
    assert_eq!(
        m.answers[0].name.to_string(),
        "DB.mesos.",
        "the question's case"
    );
    assert_eq!(ask(&t, "db.mesos", RecordType::AAAA).answers.len(), 1);
    let m = ask(&t, "db.mesos", RecordType::TXT);
    assert_eq!(m.answers[0].data.to_string(), "role=primary");
    let m = ask(&t, "_pg._tcp.mesos", RecordType::SRV);
    assert_eq!(m.answers[0].data.to_string(), "0 5 5432 db.mesos.");
    assert_eq!(ask(&t, "db.mesos", RecordType::ANY).answers.len(), 3);
}

#[test]
fn rfc1034_4_3_2_cnames_are_followed_inside_the_domain() {
    let t = table(ZONE);
    let m = ask(&t, "alias.mesos", RecordType::A);
    let got: Vec<String> = m
        .answers
        .iter()
        .map(|r| format!("{} {}", r.name, r.data))
        .collect();
    assert_eq!(got, ["alias.mesos. db.mesos.", "db.mesos. 10.0.0.1"]);
    // Into the Mesos records.
    let m = ask(&t, "api-alias.mesos", RecordType::A);
    assert_eq!(m.answers.len(), 2, "{m:?}");
    assert_eq!(m.answers[1].name.to_string(), "api.marathon.mesos.");
    assert_eq!(
        m.answers[1].data,
        RData::A(Ipv4Addr::new(10, 1, 0, 3).into())
    );
    // A target that is a static name answers from the file alone.
    assert_eq!(ask(&t, "web-alias.mesos", RecordType::A).answers.len(), 1);
    // Out of the domain: the CNAME alone, for the resolver to follow.
    assert_eq!(ask(&t, "outside.mesos", RecordType::A).answers.len(), 1);
    // A loop ends.
    let m = ask(&t, "loop1.mesos", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.len() <= MAX_CHAIN + 1);
    // The CNAME itself when asked for.
    let m = ask(&t, "alias.mesos", RecordType::CNAME);
    assert_eq!(m.answers.len(), 1);
}

#[test]
fn a_static_name_hides_the_mesos_records_of_that_name() {
    let t = table(ZONE);
    let m = ask(&t, "web.marathon.mesos", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty(), "NODATA: only the static TXT");
    assert_eq!(m.name_servers_soa(), 1);
    assert_eq!(
        ask(&t, "web.marathon.mesos", RecordType::TXT).answers.len(),
        1
    );
    assert_eq!(
        ask(&t, "api.marathon.mesos", RecordType::A).answers.len(),
        1
    );
    assert_eq!(t.statics().collisions(&t), ["web.marathon.mesos."]);
}

#[test]
fn rfc8020_names_above_static_names_are_nodata() {
    let t = table(ZONE);
    let m = ask(&t, "a.b.mesos", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let m = ask(&t, "nothing.mesos", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
}

#[test]
fn rfc1034_3_6_2_a_cname_with_other_data_is_refused() {
    let records = parse("x CNAME y\nx A 10.0.0.1", "mesos.", 60).unwrap();
    assert_eq!(
        Statics::build(records, b"\x05mesos\x00").unwrap_err(),
        "x.mesos. has a CNAME and other data (RFC 1034 3.6.2)"
    );
}

trait Soa {
    fn name_servers_soa(&self) -> usize;
}

impl Soa for Message {
    fn name_servers_soa(&self) -> usize {
        self.authorities
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .count()
    }
}
