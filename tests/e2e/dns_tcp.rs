//! DNS over TCP (RFC 1035 §4.2.2, RFC 7766) against the in-process server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;
use mesos_dns_tests::dns::{
    fixture_records, query, read_framed, run_client, tcp_exchange, test_config,
    DnsFixture,
};

const A: u16 = 1;
const AAAA: u16 = 28;

fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("undecodable reply: {e}"))
}

#[test]
fn rfc7766_dig_and_kdig_over_tcp() {
    let s = DnsFixture::start(test_config(), fixture_records());
    let out = run_client(
        "dig",
        s.addr(),
        &["+tcp", "+short", "chronos.marathon.mesos", "A"],
    );
    assert_eq!(out.trim(), "1.2.3.11");
    let out = run_client(
        "kdig",
        s.addr(),
        &["+tcp", "+short", "toy-store.ipv6-framework.mesos", "AAAA"],
    );
    assert_eq!(out.trim(), "fd01:b::1:8000:2");
}

#[test]
fn rfc7766_6_2_1_several_queries_on_one_connection() {
    let s = DnsFixture::start(test_config(), fixture_records());
    let qs = vec![
        query(1, "chronos.marathon.mesos.", A, None),
        query(2, "chronos.marathon.mesos.", AAAA, None),
        query(3, "missing.mesos.", A, None),
        query(4, "big.marathon.mesos.", A, Some((1232, 0))),
    ];
    let replies = tcp_exchange(s.addr(), &qs).expect("four replies");
    let ids: Vec<u16> = replies.iter().map(|r| decode(r).metadata.id).collect();
    assert_eq!(ids, [1, 2, 3, 4], "local answers come back in order");
    assert_eq!(decode(&replies[0]).answers.len(), 1);
    assert_eq!(decode(&replies[3]).answers.len(), 60);
    // glibc writes A and AAAA back to back on one connection; kdig too.
    let out = run_client(
        "kdig",
        s.addr(),
        &[
            "+tcp",
            "+keepopen",
            "+short",
            "chronos.marathon.mesos",
            "A",
            "chronos.marathon.mesos",
            "A",
        ],
    );
    assert_eq!(out.lines().filter(|l| *l == "1.2.3.11").count(), 2, "{out}");
}

#[test]
fn rfc7766_8_tcp_answers_are_never_truncated() {
    let s = DnsFixture::start(test_config(), fixture_records());
    let r = tcp_exchange(s.addr(), &[query(9, "huge.marathon.mesos.", A, None)]).unwrap();
    let m = decode(&r[0]);
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 3000);
}

#[test]
fn rfc7766_query_split_across_segments() {
    let s = DnsFixture::start(test_config(), fixture_records());
    let q = query(5, "chronos.marathon.mesos.", A, None);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    c.set_nodelay(true).unwrap();
    for b in framed.chunks(3) {
        c.write_all(b).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let m = decode(&read_framed(&mut c).unwrap());
    assert_eq!(m.metadata.id, 5);
}

#[test]
fn idle_connections_are_closed() {
    let cfg = mesos_dns::dns_config::DnsConfig {
        tcp_idle: Duration::from_millis(300),
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 16];
    let n = c.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed by the server");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn per_client_connection_cap() {
    let cfg = mesos_dns::dns_config::DnsConfig {
        tcp_max_per_client: 2,
        workers: 1,
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let q = query(6, "chronos.marathon.mesos.", A, None);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    let mut open: Vec<TcpStream> = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        c.write_all(&framed).unwrap();
        assert!(read_framed(&mut c).is_some(), "within the cap");
        open.push(c);
    }
    let mut third = TcpStream::connect(s.addr()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let _ = third.write_all(&framed);
    assert!(read_framed(&mut third).is_none(), "over the cap: closed");
    drop(open);
    // Slots come back once connections close.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let r = mesos_dns_tests::dns::tcp_exchange(s.addr(), std::slice::from_ref(&q));
        if r.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "slots never released");
        std::thread::sleep(Duration::from_millis(50));
    }
}
