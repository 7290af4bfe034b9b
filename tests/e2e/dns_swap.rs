//! Table swaps under load: every answer comes whole from one generation.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;
use hickory_proto::rr::RData;
use mesos_dns::dns_config::next_serial;
use mesos_dns_tests::dns::{query, test_config, udp_exchange, DnsFixture};
use mesos_records::RecordSet;

const A: u16 = 1;

/// Generation `g`: `swap.mesos.` has 8 addresses 10.g.0.0..7.
fn generation(g: u8) -> RecordSet {
    let mut rs = RecordSet::default();
    for i in 0..8 {
        rs.insert_a("swap.mesos.", Ipv4Addr::new(10, g, 0, i));
    }
    rs
}

#[test]
fn swaps_under_load_never_tear_or_mismatch_answers() {
    let s = Arc::new(DnsFixture::start(test_config(), generation(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4u16 {
        let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
        clients.push(std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            let mut n = 0u16;
            while !stop.load(Ordering::Acquire) {
                n = n.wrapping_add(1);
                let id = c * 10_000 + n % 10_000;
                let Some(r) = udp_exchange(s.addr(), &query(id, "swap.mesos.", A, None))
                else {
                    panic!("no answer during swaps");
                };
                let m = Message::from_vec(&r).unwrap();
                assert_eq!(m.metadata.id, id, "mismatched answer");
                let gens: BTreeSet<u8> = m
                    .answers
                    .iter()
                    .map(|r| match &r.data {
                        RData::A(a) => a.0.octets()[1],
                        _ => panic!("not A"),
                    })
                    .collect();
                assert_eq!(m.answers.len(), 8, "whole answer");
                assert_eq!(gens.len(), 1, "torn answer: {gens:?}");
                seen.extend(gens);
            }
            seen
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut g = 0u8;
    let mut prev = (generation(0), 1u32);
    let mut published = 0u32;
    while Instant::now() < deadline {
        g = g.wrapping_add(1);
        let rs = generation(g);
        let serial = next_serial(Some((&prev.0, prev.1)), &rs, 1);
        assert!(serial > prev.1, "serial moves forward");
        s.publish(rs.clone(), serial);
        published += 1;
        prev = (rs, serial);
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Release);
    let mut seen = BTreeSet::new();
    for c in clients {
        seen.extend(c.join().unwrap());
    }
    assert!(seen.len() > 3, "clients saw several generations: {seen:?}");
    assert!(published > 10, "only {published} swaps in 2 s");
}
