//! The answer function on its own, no sockets: a hit, a miss, a large SRV
//! set (UDP: truncated to a random subset; TCP: all of it), and compiling a
//! table.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dns_wire::{write_query, Edns, Rtype};
use mesos_dns::answer::{answer, Answer, Transport};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::Table;
use mesos_records::RecordSet;

fn records(tasks: u32) -> RecordSet {
    let mut rs = RecordSet::default();
    rs.insert_a("chronos.marathon.mesos.", Ipv4Addr::new(1, 2, 3, 11));
    // A small SRV set whose answer fits in 512 octets with all its
    // additional records only if the targets are compressed.
    for i in 0..5u8 {
        let target = format!("my-service-4dfj{i}-s1{i}.marathon.slave.mesos.");
        rs.insert_a(&target, Ipv4Addr::new(10, 7, 0, i));
        rs.insert_srv(
            "_my-service._tcp.marathon.mesos.",
            &target,
            31000 + u16::from(i),
        );
    }
    for i in 0..tasks {
        let [_, a, b, c] = i.to_be_bytes();
        let ip = Ipv4Addr::new(10, a, b, c);
        let target = format!("web-{i}-s{}.marathon.mesos.", i % 50);
        rs.insert_a(&target, ip);
        rs.insert_a("web.marathon.mesos.", ip);
        rs.insert_srv(
            "_web._tcp.marathon.mesos.",
            &target,
            31000 + (i % 1000) as u16,
        );
    }
    rs
}

/// A query with ID 0x1234, and with an OPT record for 1232 octets when
/// `edns`.
fn query(name: &str, qtype: u16, edns: bool) -> Vec<u8> {
    let opt = Edns {
        udp_payload: 1232,
        ext_rcode: 0,
        version: 0,
        dnssec_ok: false,
    };
    let mut q = vec![0u8; 512];
    let n =
        write_query(&mut q, 0x1234, name, Rtype(qtype), edns.then_some(&opt)).unwrap();
    q.truncate(n);
    q
}

fn bench_answer(c: &mut Criterion) {
    let table = Table::compile(Arc::new(records(500)), &DnsConfig::default(), 1);
    let mut out = vec![0u8; 65_535];
    let mut g = c.benchmark_group("answer");
    g.throughput(Throughput::Elements(1));
    let cases = [
        (
            "hit_a",
            query("chronos.marathon.mesos.", 1, true),
            Transport::Udp,
        ),
        (
            "hit_a_mixed_case",
            query("Chronos.Marathon.MESOS.", 1, false),
            Transport::Udp,
        ),
        (
            "miss_nxdomain",
            query("nope.marathon.mesos.", 1, true),
            Transport::Udp,
        ),
        (
            "nodata_aaaa",
            query("chronos.marathon.mesos.", 28, true),
            Transport::Udp,
        ),
        (
            "srv_5_udp",
            query("_my-service._tcp.marathon.mesos.", 33, false),
            Transport::Udp,
        ),
        (
            "srv_500_udp_truncated",
            query("_web._tcp.marathon.mesos.", 33, true),
            Transport::Udp,
        ),
        (
            "srv_500_tcp_full",
            query("_web._tcp.marathon.mesos.", 33, false),
            Transport::Tcp,
        ),
        (
            "a_500_udp_truncated",
            query("web.marathon.mesos.", 1, true),
            Transport::Udp,
        ),
    ];
    for (name, q, transport) in cases {
        assert!(matches!(
            answer(&table, &q, &mut out, transport),
            Answer::Reply(_)
        ));
        g.bench_function(name, |b| {
            b.iter(|| answer(black_box(&table), black_box(&q), &mut out, transport))
        });
    }
    g.finish();
}

fn bench_compile(c: &mut Criterion) {
    let rs = Arc::new(records(10_000));
    let cfg = DnsConfig::default();
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("tasks_10k", |b| {
        b.iter(|| Table::compile(Arc::clone(&rs), &cfg, 1))
    });
    g.finish();
}

criterion_group!(benches, bench_answer, bench_compile);
criterion_main!(benches);
