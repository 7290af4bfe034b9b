//! dns-wire hot paths, each next to hickory-proto doing the same job on the
//! same bytes in the same run, so the ratio is meaningful on any machine.
//!
//! - `parse_query_edns`: a typical resolver query (SRV, EDNS, DO, cookie);
//! - `lookup_key`: parse plus the lowercase lookup key of the name;
//! - `write_a_answer` and `write_srv10_answer`: parse the query, then write
//!   the full response (header, echoed question, records with owners
//!   compressed to the question, OPT), as a server does per packet. hickory
//!   is measured encoding the equivalent message and decoding our bytes.
//!
//! Run: `cargo bench -p mesos-dns-benches --bench wire`.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use dns_wire as w;
use hickory_proto::op::{self as h, MessageType, OpCode};
use hickory_proto::rr::{self as hr, rdata as hd, RData, RecordType};

/// `_web._tcp.Marathon.Mesos. IN SRV`, RD, EDNS 1232 with DO and a cookie,
/// as `dig +dnssec` sends it.
const QUERY: &[u8] = &[
    0x4d, 0x3a, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, //
    4, b'_', b'w', b'e', b'b', 4, b'_', b't', b'c', b'p', //
    8, b'M', b'a', b'r', b'a', b't', b'h', b'o', b'n', 5, b'M', b'e', b's', b'o', b's',
    0, //
    0x00, 0x21, 0x00, 0x01, //
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0c, //
    0x00, 0x0a, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,
];

const TARGETS: [&[u8]; 10] = [
    b"\x0bweb-0-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-1-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-2-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-3-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-4-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-5-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-6-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-7-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-8-abcde\x05slave\x05mesos\x00",
    b"\x0bweb-9-abcde\x05slave\x05mesos\x00",
];

/// Writes the response to `q` with `n_srv` SRV answers (or one A answer if
/// `n_srv` is 0) into `out`.
fn write_answer(q: &w::Query<'_>, n_srv: usize, out: &mut [u8]) -> usize {
    let mut wr = w::Writer::new(out);
    let mut hdr = q.response_header(w::Rcode::NOERROR);
    hdr.flags = hdr.flags.with_aa(true);
    hdr.ancount = n_srv.max(1) as u16;
    hdr.write(&mut wr).unwrap();
    let mut c = w::Compressor::new();
    c.remember(wr.len());
    wr.bytes(q.question).unwrap();
    let mut key = [0u8; w::MAX_NAME_LEN];
    let owner = q.qname.to_lowercase(&mut key);
    if n_srv == 0 {
        w::write_a(&mut wr, &mut c, owner, 60, Ipv4Addr::new(10, 1, 2, 3)).unwrap();
    } else {
        for (i, target) in TARGETS.iter().take(n_srv).enumerate() {
            let srv = w::Srv {
                priority: 0,
                weight: 0,
                port: 31000 + i as u16,
                target: *target,
            };
            w::write_srv(&mut wr, &mut c, owner, 60, &srv).unwrap();
        }
    }
    if let Some(e) = q.response_edns(w::Rcode::NOERROR) {
        w::write_opt(&mut wr, &e).unwrap();
    }
    wr.len()
}

/// The same response built as a hickory message.
fn hickory_answer(n_srv: usize) -> h::Message {
    let qname = hr::Name::from_ascii("_web._tcp.Marathon.Mesos.").unwrap();
    let mut m = h::Message::new(0x4d3a, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = true;
    m.metadata.recursion_desired = true;
    let mut q = h::Query::new();
    q.set_name(qname.clone())
        .set_query_type(RecordType::SRV)
        .set_query_class(hr::DNSClass::IN);
    m.add_query(q);
    if n_srv == 0 {
        m.add_answer(hr::Record::from_rdata(
            qname.to_lowercase(),
            60,
            RData::A(hd::A(Ipv4Addr::new(10, 1, 2, 3))),
        ));
    } else {
        for i in 0..n_srv {
            let target =
                hr::Name::from_ascii(format!("web-{i}-abcde.slave.mesos.")).unwrap();
            let srv = hd::SRV::new(0, 0, 31000 + i as u16, target);
            m.add_answer(hr::Record::from_rdata(
                qname.to_lowercase(),
                60,
                RData::SRV(srv),
            ));
        }
    }
    let mut e = h::Edns::new();
    e.set_max_payload(1232).set_dnssec_ok(true);
    m.set_edns(e);
    m
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_query_edns");
    g.bench_function("dns-wire", |b| {
        b.iter(|| w::parse_query(black_box(QUERY)).unwrap().qtype)
    });
    g.bench_function("hickory", |b| {
        b.iter(|| {
            h::Message::from_vec(black_box(QUERY))
                .unwrap()
                .queries
                .len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("lookup_key");
    g.bench_function("dns-wire", |b| {
        b.iter(|| {
            let q = w::parse_query(black_box(QUERY)).unwrap();
            let mut key = [0u8; w::MAX_NAME_LEN];
            let k = q.qname.to_lowercase(&mut key);
            black_box(k.len())
        })
    });
    g.bench_function("hickory", |b| {
        b.iter(|| {
            let m = h::Message::from_vec(black_box(QUERY)).unwrap();
            black_box(m.queries[0].name().to_lowercase().len())
        })
    });
    g.finish();

    let q = w::parse_query(QUERY).unwrap();
    for (group, n_srv) in [("write_a_answer", 0usize), ("write_srv10_answer", 10)] {
        let mut out = vec![0u8; 1232];
        let len = write_answer(&q, n_srv, &mut out);
        let ours = out[..len].to_vec();
        // Sanity: hickory reads what we write, with the expected answers.
        let decoded = h::Message::from_vec(&ours).unwrap();
        assert_eq!(decoded.answers.len(), n_srv.max(1));
        let theirs = hickory_answer(n_srv);

        let mut g = c.benchmark_group(group);
        g.bench_function("dns-wire", |b| {
            b.iter(|| {
                let q = w::parse_query(black_box(QUERY)).unwrap();
                write_answer(&q, n_srv, black_box(&mut out))
            })
        });
        g.bench_function("hickory-encode", |b| {
            b.iter(|| black_box(&theirs).to_vec().unwrap().len())
        });
        g.bench_function("hickory-decode", |b| {
            b.iter(|| {
                h::Message::from_vec(black_box(&ours))
                    .unwrap()
                    .answers
                    .len()
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = wire;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(wire);
