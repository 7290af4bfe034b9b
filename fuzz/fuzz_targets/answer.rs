//! `mesos_dns::answer::answer` against a fixed table: any packet, over UDP
//! and TCP, gives either nothing or a response that parses, fits the size
//! limit, keeps the query's ID and, for a well-formed query, echoes its
//! question verbatim. Never a panic.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use dns_wire::{parse_query, Message, Opcode};
use libfuzzer_sys::fuzz_target;
use mesos_dns::answer::{answer, Answer, Transport};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::Table;
use mesos_records::RecordSet;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rs = RecordSet::default();
        rs.insert_a("chronos.marathon.mesos.", Ipv4Addr::new(1, 2, 3, 11));
        rs.insert_aaaa("chronos.marathon.mesos.", Ipv6Addr::LOCALHOST);
        rs.insert_a("ns1.mesos.", Ipv4Addr::new(127, 0, 0, 1));
        for i in 0..300u16 {
            let [a, b] = i.to_be_bytes();
            let t = format!("t{i}.marathon.mesos.");
            rs.insert_a(&t, Ipv4Addr::new(10, 0, a, b));
            rs.insert_a("big.marathon.mesos.", Ipv4Addr::new(10, 0, a, b));
            rs.insert_srv("_big._tcp.marathon.mesos.", &t, 1000 + i);
        }
        let cfg = DnsConfig {
            resolvers: vec!["127.0.0.1:53".parse().unwrap()],
            zone_resolvers: vec![("corp".into(), vec!["127.0.0.1:54".parse().unwrap()])],
            ..DnsConfig::default()
        };
        Table::compile(Arc::new(rs), &cfg, 7)
    })
}

fuzz_target!(|data: &[u8]| {
    let t = table();
    let mut out = vec![0u8; 65_535];
    for (transport, limit) in [(Transport::Udp, 1232usize), (Transport::Tcp, 65_535)] {
        let n = match answer(t, data, &mut out, transport) {
            Answer::Reply(n) => n,
            Answer::Forward { group } => {
                assert!(group <= 1);
                continue;
            }
            Answer::Drop => continue,
        };
        assert!(n <= limit, "{n} > {limit}");
        let reply = &out[..n];
        let m = Message::parse(reply).expect("own response parses");
        assert_eq!(reply[..2], data[..2], "same ID");
        assert!(m.header.flags.qr());
        if let Ok(q) = parse_query(data) {
            if q.header.flags.opcode() == Opcode::QUERY {
                assert_eq!(&reply[12..12 + q.question.len()], q.question);
                if transport == Transport::Udp {
                    assert!(n <= q.udp_limit().max(512));
                }
            }
        }
    }
});
