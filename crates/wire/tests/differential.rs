//! Differential property tests against an independent implementation,
//! hickory-proto (a dev-dependency only).
//!
//! From one generated model message:
//! - we write it with our writers and hickory decodes the same thing;
//! - hickory writes it and we parse the same thing.
//!
//! Names are compared ignoring ASCII case where compression is involved:
//! our compressor matches case-insensitively, so a later name may come
//! back spelled like an earlier one (RFC 4343).

use std::net::{Ipv4Addr, Ipv6Addr};

use dns_wire as w;
use hickory_proto::op::{self as h, MessageType, OpCode};
use hickory_proto::rr::{self as hr, rdata as hd, RData, RecordType};
use proptest::prelude::*;

/// A name as its labels.
type Labels = Vec<Vec<u8>>;

#[derive(Clone, Debug)]
enum Rd {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Ns(Labels),
    Cname(Labels),
    Ptr(Labels),
    Srv(u16, u16, u16, Labels),
    Soa(Labels, Labels, [u32; 5]),
}

#[derive(Clone, Debug)]
struct Rr {
    owner: Labels,
    ttl: u32,
    rd: Rd,
}

#[derive(Clone, Debug)]
struct Model {
    id: u16,
    aa: bool,
    rd: bool,
    rcode: u8,
    qname: Labels,
    qtype: u16,
    answers: Vec<Rr>,
    authority: Vec<Rr>,
    edns: Option<(u16, bool)>,
}

fn wire_len(l: &Labels) -> usize {
    l.iter().map(|x| x.len() + 1).sum::<usize>() + 1
}

fn to_wire(l: &Labels) -> Vec<u8> {
    let mut out = Vec::new();
    for x in l {
        out.push(x.len() as u8);
        out.extend_from_slice(x);
    }
    out.push(0);
    out
}

fn label() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec!["mesos", "marathon", "_tcp", "_web", "Web", "a", "x-1", "A"])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..=63),
    ]
}

fn name() -> impl Strategy<Value = Labels> {
    prop::collection::vec(label(), 0..5)
        .prop_filter("name over 255 octets", |l| wire_len(l) <= 255)
}

fn rdata() -> impl Strategy<Value = Rd> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| Rd::A(a.into())),
        any::<[u8; 16]>().prop_map(|a| Rd::Aaaa(a.into())),
        name().prop_map(Rd::Ns),
        name().prop_map(Rd::Cname),
        name().prop_map(Rd::Ptr),
        (any::<u16>(), any::<u16>(), any::<u16>(), name())
            .prop_map(|(p, w, port, t)| Rd::Srv(p, w, port, t)),
        // hickory keeps refresh/retry/expire as i32: stay within it.
        (
            name(),
            name(),
            any::<u32>(),
            prop::array::uniform3(0u32..=i32::MAX as u32),
            any::<u32>()
        )
            .prop_map(|(m, r, s, [a, b, c], min)| Rd::Soa(
                m,
                r,
                [s, a, b, c, min]
            )),
    ]
}

fn rr() -> impl Strategy<Value = Rr> {
    (name(), any::<u32>(), rdata()).prop_map(|(owner, ttl, rd)| Rr { owner, ttl, rd })
}

fn model() -> impl Strategy<Value = Model> {
    (
        any::<u16>(),
        any::<bool>(),
        any::<bool>(),
        0u8..=5,
        name(),
        prop::sample::select(vec![1u16, 2, 5, 6, 12, 28, 33, 255]),
        prop::collection::vec(rr(), 0..8),
        prop::collection::vec(rr(), 0..3),
        proptest::option::of((512u16..=4096, any::<bool>())),
    )
        .prop_map(
            |(id, aa, rd, rcode, qname, qtype, answers, authority, edns)| Model {
                id,
                aa,
                rd,
                rcode,
                qname,
                qtype,
                answers,
                authority,
                edns,
            },
        )
}

// --- our side ---------------------------------------------------------------

fn write_rr(wr: &mut w::Writer<'_>, c: &mut w::Compressor, rr: &Rr) {
    let owner = to_wire(&rr.owner);
    let t = rr.ttl;
    match &rr.rd {
        Rd::A(a) => w::write_a(wr, c, &owner, t, *a),
        Rd::Aaaa(a) => w::write_aaaa(wr, c, &owner, t, *a),
        Rd::Ns(n) => w::write_ns(wr, c, &owner, t, &to_wire(n)),
        Rd::Cname(n) => w::write_cname(wr, c, &owner, t, &to_wire(n)),
        Rd::Ptr(n) => w::write_ptr(wr, c, &owner, t, &to_wire(n)),
        Rd::Srv(p, we, port, n) => {
            let target = to_wire(n);
            let srv = w::Srv {
                priority: *p,
                weight: *we,
                port: *port,
                target: &target[..],
            };
            w::write_srv(wr, c, &owner, t, &srv)
        }
        Rd::Soa(m, r, v) => {
            let (m, r) = (to_wire(m), to_wire(r));
            let soa = w::Soa {
                mname: &m[..],
                rname: &r[..],
                serial: v[0],
                refresh: v[1],
                retry: v[2],
                expire: v[3],
                minimum: v[4],
            };
            w::write_soa(wr, c, &owner, t, &soa)
        }
    }
    .unwrap();
}

fn ours(m: &Model) -> Vec<u8> {
    let mut buf = vec![0u8; 65535];
    let mut wr = w::Writer::new(&mut buf);
    let header = w::Header {
        id: m.id,
        flags: w::Flags(0)
            .with_qr(true)
            .with_aa(m.aa)
            .with_rd(m.rd)
            .with_rcode(w::Rcode(m.rcode.into())),
        qdcount: 1,
        ancount: m.answers.len() as u16,
        nscount: m.authority.len() as u16,
        arcount: u16::from(m.edns.is_some()),
    };
    header.write(&mut wr).unwrap();
    let mut c = w::Compressor::new();
    w::write_question(
        &mut wr,
        &mut c,
        &to_wire(&m.qname),
        w::Rtype(m.qtype),
        w::Class::IN,
    )
    .unwrap();
    for rr in m.answers.iter().chain(&m.authority) {
        write_rr(&mut wr, &mut c, rr);
    }
    if let Some((payload, dok)) = m.edns {
        let e = w::Edns {
            udp_payload: payload,
            ext_rcode: 0,
            version: 0,
            dnssec_ok: dok,
        };
        w::write_opt(&mut wr, &e).unwrap();
    }
    let n = wr.len();
    buf.truncate(n);
    buf
}

fn lower(l: &Labels) -> Labels {
    l.iter().map(|x| x.to_ascii_lowercase()).collect()
}

fn our_labels(n: &w::Name<'_>) -> Labels {
    n.labels().map(<[u8]>::to_vec).collect()
}

fn our_rd(r: &w::Rdata<'_>) -> Rd {
    match r {
        w::Rdata::A(a) => Rd::A(*a),
        w::Rdata::Aaaa(a) => Rd::Aaaa(*a),
        w::Rdata::Ns(n) => Rd::Ns(our_labels(n)),
        w::Rdata::Cname(n) => Rd::Cname(our_labels(n)),
        w::Rdata::Ptr(n) => Rd::Ptr(our_labels(n)),
        w::Rdata::Srv(s) => Rd::Srv(s.priority, s.weight, s.port, our_labels(&s.target)),
        w::Rdata::Soa(s) => Rd::Soa(
            our_labels(&s.mname),
            our_labels(&s.rname),
            [s.serial, s.refresh, s.retry, s.expire, s.minimum],
        ),
        other => panic!("unexpected rdata {other:?}"),
    }
}

// --- hickory side -------------------------------------------------------------

fn h_name(l: &Labels) -> hr::Name {
    hr::Name::from_labels(l.iter().map(|x| &x[..])).unwrap()
}

fn h_labels(n: &hr::Name) -> Labels {
    n.iter().map(<[u8]>::to_vec).collect()
}

fn h_rdata(rd: &Rd) -> RData {
    match rd {
        Rd::A(a) => RData::A(hd::A(*a)),
        Rd::Aaaa(a) => RData::AAAA(hd::AAAA(*a)),
        Rd::Ns(n) => RData::NS(hd::NS(h_name(n))),
        Rd::Cname(n) => RData::CNAME(hd::CNAME(h_name(n))),
        Rd::Ptr(n) => RData::PTR(hd::PTR(h_name(n))),
        Rd::Srv(p, w, port, n) => RData::SRV(hd::SRV::new(*p, *w, *port, h_name(n))),
        Rd::Soa(m, r, v) => RData::SOA(hd::SOA::new(
            h_name(m),
            h_name(r),
            v[0],
            v[1] as i32,
            v[2] as i32,
            v[3] as i32,
            v[4],
        )),
    }
}

fn from_h_rdata(r: &RData) -> Rd {
    match r {
        RData::A(a) => Rd::A(a.0),
        RData::AAAA(a) => Rd::Aaaa(a.0),
        RData::NS(n) => Rd::Ns(h_labels(&n.0)),
        RData::CNAME(n) => Rd::Cname(h_labels(&n.0)),
        RData::PTR(n) => Rd::Ptr(h_labels(&n.0)),
        RData::SRV(s) => Rd::Srv(s.priority, s.weight, s.port, h_labels(&s.target)),
        RData::SOA(s) => Rd::Soa(
            h_labels(&s.mname),
            h_labels(&s.rname),
            [
                s.serial,
                s.refresh as u32,
                s.retry as u32,
                s.expire as u32,
                s.minimum,
            ],
        ),
        other => panic!("unexpected hickory rdata {other:?}"),
    }
}

fn theirs(m: &Model) -> Vec<u8> {
    let mut msg = h::Message::new(m.id, MessageType::Response, OpCode::Query);
    msg.metadata.authoritative = m.aa;
    msg.metadata.recursion_desired = m.rd;
    msg.metadata.response_code = h::ResponseCode::from(0, m.rcode);
    let mut q = h::Query::new();
    q.set_name(h_name(&m.qname))
        .set_query_type(RecordType::from(m.qtype))
        .set_query_class(hr::DNSClass::IN);
    msg.add_query(q);
    for rr in &m.answers {
        msg.add_answer(hr::Record::from_rdata(
            h_name(&rr.owner),
            rr.ttl,
            h_rdata(&rr.rd),
        ));
    }
    for rr in &m.authority {
        msg.add_authority(hr::Record::from_rdata(
            h_name(&rr.owner),
            rr.ttl,
            h_rdata(&rr.rd),
        ));
    }
    if let Some((payload, dok)) = m.edns {
        let mut e = h::Edns::new();
        e.set_max_payload(payload).set_dnssec_ok(dok);
        msg.set_edns(e);
    }
    msg.to_vec().unwrap()
}

/// Compares a decoded record set with the model, names case-insensitively.
fn same_rd(got: &Rd, want: &Rd) -> bool {
    match (got, want) {
        (Rd::A(a), Rd::A(b)) => a == b,
        (Rd::Aaaa(a), Rd::Aaaa(b)) => a == b,
        (Rd::Ns(a), Rd::Ns(b))
        | (Rd::Cname(a), Rd::Cname(b))
        | (Rd::Ptr(a), Rd::Ptr(b)) => lower(a) == lower(b),
        // The SRV target is never compressed, so it must come back exactly.
        (Rd::Srv(p, w, o, a), Rd::Srv(q, x, r, b)) => (p, w, o, a) == (q, x, r, b),
        (Rd::Soa(m, r, v), Rd::Soa(n, s, u)) => {
            lower(m) == lower(n) && lower(r) == lower(s) && v == u
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What we write, hickory decodes to the model.
    #[test]
    fn hickory_decodes_what_we_write(m in model()) {
        let bytes = ours(&m);
        let got = h::Message::from_vec(&bytes).unwrap();
        prop_assert_eq!(got.metadata.id, m.id);
        prop_assert_eq!(got.metadata.message_type, MessageType::Response);
        prop_assert_eq!(got.metadata.authoritative, m.aa);
        prop_assert_eq!(got.metadata.recursion_desired, m.rd);
        prop_assert_eq!(u16::from(got.metadata.response_code), u16::from(m.rcode));
        prop_assert_eq!(got.queries.len(), 1);
        // The question is written first and never compressed: exact.
        prop_assert_eq!(h_labels(got.queries[0].name()), m.qname.clone());
        prop_assert_eq!(u16::from(got.queries[0].query_type()), m.qtype);
        prop_assert_eq!(got.answers.len(), m.answers.len());
        prop_assert_eq!(got.authorities.len(), m.authority.len());
        for (g, want) in got.answers.iter().chain(&got.authorities).zip(m.answers.iter().chain(&m.authority)) {
            prop_assert_eq!(lower(&h_labels(&g.name)), lower(&want.owner));
            prop_assert_eq!(g.ttl, want.ttl);
            let rd = from_h_rdata(&g.data);
            prop_assert!(same_rd(&rd, &want.rd), "{:?} != {:?}", rd, want.rd);
        }
        match (got.edns.as_ref(), m.edns) {
            (None, None) => {}
            (Some(e), Some((payload, dok))) => {
                prop_assert_eq!(e.max_payload(), payload);
                prop_assert_eq!(e.flags().dnssec_ok, dok);
                prop_assert_eq!(e.version(), 0);
            }
            (g, want) => prop_assert!(false, "edns {:?} vs {:?}", g, want),
        }
    }

    /// What hickory writes, we parse to the model.
    #[test]
    fn we_parse_what_hickory_writes(m in model()) {
        let bytes = theirs(&m);
        let got = w::Message::parse(&bytes).unwrap();
        prop_assert_eq!(got.header.id, m.id);
        prop_assert!(got.header.flags.qr());
        prop_assert_eq!(got.header.flags.aa(), m.aa);
        prop_assert_eq!(got.header.flags.rd(), m.rd);
        prop_assert_eq!(got.rcode(), w::Rcode(m.rcode.into()));
        let qs: Vec<_> = got.questions().collect();
        prop_assert_eq!(qs.len(), 1);
        prop_assert_eq!(our_labels(&qs[0].qname), m.qname.clone());
        prop_assert_eq!(qs[0].qtype, w::Rtype(m.qtype));
        prop_assert_eq!(qs[0].qclass, w::Class::IN);
        let recs: Vec<_> = got.answers().chain(got.authority()).collect();
        prop_assert_eq!(recs.len(), m.answers.len() + m.authority.len());
        for (g, want) in recs.iter().zip(m.answers.iter().chain(&m.authority)) {
            prop_assert_eq!(lower(&our_labels(&g.name)), lower(&want.owner));
            prop_assert_eq!(g.ttl, want.ttl);
            prop_assert_eq!(g.class, w::Class::IN);
            let rd = our_rd(&g.rdata);
            prop_assert!(same_rd(&rd, &want.rd), "{:?} != {:?}", rd, want.rd);
        }
        match (got.edns(), m.edns) {
            (None, None) => {}
            (Some(e), Some((payload, dok))) => {
                prop_assert_eq!(e.udp_payload, payload);
                prop_assert_eq!(e.dnssec_ok, dok);
                prop_assert_eq!(e.version, 0);
            }
            (g, want) => prop_assert!(false, "edns {:?} vs {:?}", g, want),
        }
    }

    /// Hickory-written queries pass `parse_query`, and our error responses
    /// to them decode in hickory with the same ID and question.
    #[test]
    fn queries_from_hickory_and_our_error_responses(
        id in any::<u16>(),
        qname in name(),
        qtype in any::<u16>(),
        edns in proptest::option::of((512u16..=4096, any::<bool>())),
    ) {
        let mut msg = h::Message::new(id, MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = true;
        let mut q = h::Query::new();
        q.set_name(h_name(&qname)).set_query_type(RecordType::from(qtype)).set_query_class(hr::DNSClass::IN);
        msg.add_query(q);
        if let Some((payload, dok)) = edns {
            let mut e = h::Edns::new();
            e.set_max_payload(payload).set_dnssec_ok(dok);
            msg.set_edns(e);
        }
        let bytes = msg.to_vec().unwrap();
        let query = w::parse_query(&bytes).unwrap();
        prop_assert_eq!(query.header.id, id);
        prop_assert_eq!(our_labels(&query.qname), qname.clone());
        prop_assert_eq!(query.qtype, w::Rtype(qtype));
        prop_assert_eq!(query.edns.map(|e| (e.udp_payload, e.dnssec_ok)), edns);
        let mut key = [0u8; w::MAX_NAME_LEN];
        prop_assert_eq!(query.qname.to_lowercase(&mut key), &to_wire(&lower(&qname))[..]);

        let mut out = [0u8; 512];
        let rcode = if edns.is_some() { w::Rcode::BADVERS } else { w::Rcode::REFUSED };
        let n = w::write_error(&query, rcode, &mut out).unwrap();
        let resp = h::Message::from_vec(&out[..n]).unwrap();
        prop_assert_eq!(resp.metadata.id, id);
        prop_assert_eq!(resp.metadata.message_type, MessageType::Response);
        prop_assert!(resp.metadata.recursion_desired);
        prop_assert_eq!(h_labels(resp.queries[0].name()), qname);
        prop_assert_eq!(u16::from(resp.metadata.response_code), rcode.0);
    }
}
