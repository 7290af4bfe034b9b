//! Forwarding (BEHAVIOUR.md 5.4) against stub upstreams on loopback.

use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RData;
use mesos_dns::dns_config::DnsConfig;
use mesos_dns_tests::dns::{
    fixture_records, open_fds, query, read_framed, run_client, squash, tcp_exchange,
    test_config, udp_exchange, DnsFixture, StubMode, StubUpstream,
};

const A: u16 = 1;

fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("undecodable reply: {e}"))
}

fn with_upstreams(resolvers: &[&StubUpstream]) -> DnsFixture {
    let cfg = DnsConfig {
        resolvers: resolvers.iter().map(|u| u.addr).collect(),
        timeout: Duration::from_millis(300),
        ..test_config()
    };
    DnsFixture::start(cfg, fixture_records())
}

#[test]
fn spec_8_4_forwarded_answer_is_passed_through_udp_and_tcp() {
    let up = StubUpstream::start(StubMode::Answer);
    let s = with_upstreams(&[&up]);
    let out = run_client("dig", s.addr(), &["google.com", "A"]);
    assert!(
        squash(&out).contains("google.com. 30 IN A 192.0.2.1"),
        "{out}"
    );
    assert!(!out.contains(" aa "), "not authoritative: {out}");
    let out = run_client("kdig", s.addr(), &["+tcp", "+short", "example.org", "A"]);
    assert_eq!(out.trim(), "192.0.2.1");
    let r = tcp_exchange(
        s.addr(),
        &[
            query(11, "a.example.", A, None),
            query(12, "b.example.", A, None),
        ],
    )
    .unwrap();
    let mut ids: Vec<u16> = r.iter().map(|m| decode(m).metadata.id).collect();
    ids.sort();
    assert_eq!(ids, [11, 12]);
    assert!(up.received.load(std::sync::atomic::Ordering::Acquire) >= 4);
}

#[test]
fn spec_5_4_next_upstream_after_a_timeout_and_servfail_when_all_fail() {
    let dead = StubUpstream::start(StubMode::Silent);
    let good = StubUpstream::start(StubMode::Answer);
    let s = with_upstreams(&[&dead, &good]);
    let m = decode(&udp_exchange(s.addr(), &query(1, "x.example.", A, None)).unwrap());
    let RData::A(ip) = &m.answers[0].data else {
        panic!("not A")
    };
    assert_eq!(ip.0, std::net::Ipv4Addr::new(192, 0, 2, 1));
    let snap = s.stats.snapshot(Default::default());
    assert_eq!(snap.upstreams[0].outcomes[1], 1, "one timeout on the first");
    assert_eq!(
        snap.upstreams[1].outcomes[0], 1,
        "one success on the second"
    );

    let dead2 = StubUpstream::start(StubMode::Silent);
    let s = with_upstreams(&[&dead, &dead2]);
    let m = decode(&udp_exchange(s.addr(), &query(2, "x.example.", A, None)).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(m.metadata.id, 2);
    assert_eq!(m.queries.len(), 1);
}

#[test]
fn spec_5_4_upstream_rcode_and_tc_pass_through() {
    let nx = StubUpstream::start(StubMode::NxDomain);
    let s = with_upstreams(&[&nx]);
    let m = decode(&udp_exchange(s.addr(), &query(3, "nope.example.", A, None)).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    let tc = StubUpstream::start(StubMode::Truncated);
    let s = with_upstreams(&[&tc]);
    let m = decode(&udp_exchange(s.addr(), &query(4, "big.example.", A, None)).unwrap());
    assert!(m.metadata.truncation);
    // SetTruncateBit false clears it, even on forwarded replies.
    let cfg = DnsConfig {
        resolvers: vec![tc.addr],
        set_truncate_bit: false,
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let m = decode(&udp_exchange(s.addr(), &query(5, "big.example.", A, None)).unwrap());
    assert!(!m.metadata.truncation);
}

#[test]
fn rfc1035_4_2_1_oversized_upstream_reply_is_cut_for_a_udp_client() {
    let big = StubUpstream::start(StubMode::Large);
    let s = with_upstreams(&[&big]);
    // No EDNS: 512 octets at most, so the reply shrinks to its question + TC.
    let r = udp_exchange(s.addr(), &query(6, "big.example.", A, None)).unwrap();
    assert!(r.len() <= 512);
    let m = decode(&r);
    assert!(m.metadata.truncation);
    assert_eq!(m.metadata.id, 6);
    assert_eq!(m.queries.len(), 1);
    let out = run_client("dig", s.addr(), &["+noedns", "big.example", "A"]);
    assert!(out.contains("ANSWER: 100,"), "dig retried over TCP: {out}");
    // With a large enough EDNS buffer and EDNSMaxPayload, all 100 records
    // pass over UDP.
    let cfg = DnsConfig {
        resolvers: vec![big.addr],
        edns_max: 4096,
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let r =
        udp_exchange(s.addr(), &query(7, "big.example.", A, Some((4096, 0)))).unwrap();
    assert_eq!(decode(&r).answers.len(), 100);
}

/// A small query advertising a 65535-octet buffer must not get a large
/// reply: forwarded UDP replies are capped at `EDNSMaxPayload` (1232) and
/// cut as a resolver cuts them, with TC and the OPT record. Before, the
/// upstream's 1.6 KB reply passed through (an amplifier).
#[test]
fn rfc6891_7_forwarded_udp_reply_is_capped_at_edns_max_payload() {
    let big = StubUpstream::start(StubMode::Large);
    let s = with_upstreams(&[&big]);
    let q = query(8, "big.example.", A, Some((65_535, 0)));
    let r = udp_exchange(s.addr(), &q).unwrap();
    assert!(r.len() <= 1232, "{} octets", r.len());
    assert!(
        r.len() < 2 * q.len(),
        "{} octets for a {}-octet query",
        r.len(),
        q.len()
    );
    let m = decode(&r);
    assert!(m.metadata.truncation);
    assert_eq!(m.metadata.id, 8);
    assert!(
        m.metadata.recursion_available,
        "the upstream's flags are kept"
    );
    assert_eq!(m.queries.len(), 1);
    assert!(m.answers.is_empty());
    let opt = m.edns.expect("the OPT record is kept");
    assert_eq!(opt.max_payload(), 1232);
    // Over TCP the whole reply passes.
    let r = tcp_exchange(s.addr(), &[q]).unwrap();
    assert_eq!(decode(&r[0]).answers.len(), 100);
}

/// `AllowRecursion`: a client outside the list gets REFUSED for names
/// outside the domain, nothing reaches the upstream, and it is counted;
/// names in the domain are answered as before.
#[test]
fn mesos_dns_383_forwarding_only_for_allowed_clients() {
    let up = StubUpstream::start(StubMode::Answer);
    let cfg = DnsConfig {
        resolvers: vec![up.addr],
        allow_recursion: vec![mesos_dns::client::Cidr::parse("10.0.0.0/8").unwrap()],
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let m = decode(&udp_exchange(s.addr(), &query(9, "google.com.", A, None)).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(m.answers.is_empty());
    let r = tcp_exchange(s.addr(), &[query(10, "google.com.", A, None)]).unwrap();
    assert_eq!(decode(&r[0]).metadata.response_code, ResponseCode::Refused);
    let out = run_client(
        "dig",
        s.addr(),
        &["+short", "liquor-store.marathon.mesos", "A"],
    );
    assert!(
        !out.trim().is_empty(),
        "in-domain names still answer: {out}"
    );
    assert_eq!(up.received.load(std::sync::atomic::Ordering::Acquire), 0);
    let snap = s.stats.snapshot(Default::default());
    assert_eq!(snap.forward_denied, 2);
    assert_eq!(snap.rcode[5], 2, "REFUSED counted");
    // The default list holds loopback: forwarded.
    let s = with_upstreams(&[&up]);
    let m = decode(&udp_exchange(s.addr(), &query(11, "google.com.", A, None)).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

/// One client cannot take every forwarding slot of a worker: beyond
/// `forward_max_per_client` in flight it gets SERVFAIL at once.
#[test]
fn forwards_in_flight_are_capped_per_client() {
    let dead = StubUpstream::start(StubMode::Silent);
    let cfg = DnsConfig {
        resolvers: vec![dead.addr],
        timeout: Duration::from_secs(2),
        forward_max_per_client: 2,
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    // One socket: one client, one worker (SO_REUSEPORT hashes the
    // addresses).
    let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for i in 0..5u16 {
        c.send_to(&query(i, "slow.example.", A, None), s.addr())
            .unwrap();
    }
    let mut buf = [0u8; 512];
    let mut first = Vec::new();
    for _ in 0..3 {
        let n = c.recv(&mut buf).unwrap();
        let m = decode(&buf[..n]);
        assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
        first.push(m.metadata.id);
    }
    first.sort();
    assert_eq!(first, [2, 3, 4], "the three beyond the cap, at once");
    assert_eq!(s.stats.snapshot(Default::default()).forward_overload, 3);
}

#[test]
fn spec_5_4_external_off_refuses() {
    let up = StubUpstream::start(StubMode::Answer);
    let cfg = DnsConfig {
        resolvers: vec![up.addr],
        external_on: false,
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let out = run_client("dig", s.addr(), &["google.com", "A"]);
    assert!(out.contains("status: REFUSED"), "{out}");
    assert_eq!(up.received.load(std::sync::atomic::Ordering::Acquire), 0);
    let snap = s.stats.snapshot(Default::default());
    assert_eq!(snap.forward_refused, 1);
    assert_eq!(snap.rcode[5], 1, "REFUSED counted");
}

#[test]
fn spec_5_2_zone_resolvers_take_their_zone() {
    let default = StubUpstream::start(StubMode::NxDomain);
    let zone = StubUpstream::start(StubMode::Answer);
    let cfg = DnsConfig {
        resolvers: vec![default.addr],
        zone_resolvers: vec![("corp.internal".into(), vec![zone.addr])],
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let out = run_client("dig", s.addr(), &["+short", "db.CORP.internal", "A"]);
    assert_eq!(out.trim(), "192.0.2.1");
    let out = run_client("dig", s.addr(), &["other.example", "A"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
}

#[test]
fn mesos_dns_422_forwarding_does_not_leak_sockets() {
    let up = StubUpstream::start(StubMode::Answer);
    let dead = StubUpstream::start(StubMode::Silent);
    let s = with_upstreams(&[&dead, &up]);
    // Attempts that time out on the first upstream, then succeed.
    for i in 0..5u16 {
        let r = udp_exchange(s.addr(), &query(i, "slow.example.", A, None)).unwrap();
        assert_eq!(decode(&r).metadata.id, i);
    }
    let s = with_upstreams(&[&up]);
    udp_exchange(s.addr(), &query(1, "warm.example.", A, None)).unwrap();
    let before = open_fds();
    for i in 0..300u16 {
        let r = udp_exchange(s.addr(), &query(i, "leak.example.", A, None)).unwrap();
        assert_eq!(decode(&r).metadata.id, i);
    }
    for i in 0..20u16 {
        let r = tcp_exchange(s.addr(), &[query(i, "leak.example.", A, None)]).unwrap();
        assert_eq!(decode(&r[0]).metadata.id, i);
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = open_fds();
    // Other tests in this binary open sockets too; a leak would add 320.
    assert!(after < before + 100, "fds before {before}, after {after}");
}

/// One TCP connection has at most 16 forwards in flight: its later queries
/// wait unread until earlier ones come back, so the replies it can have
/// queued stay bounded (before, all 40 went out at once); every query is
/// answered in the end.
#[test]
fn rfc7766_a_tcp_connection_has_a_bounded_number_of_forwards() {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // An upstream that accepts TCP connections and never answers; each
    // forward over TCP is one connection.
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = upstream.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in upstream.incoming().take(40) {
            counter.fetch_add(1, Ordering::AcqRel);
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let cfg = DnsConfig {
        resolvers: vec![addr],
        timeout: Duration::from_secs(2),
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    let mut c = std::net::TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut pipeline = Vec::new();
    for i in 0..40u16 {
        let q = query(i, "slow.example.", A, None);
        pipeline.extend_from_slice(&(q.len() as u16).to_be_bytes());
        pipeline.extend_from_slice(&q);
    }
    c.write_all(&pipeline).unwrap();
    // Well before the first 2 s timeout: only the first 16 went upstream.
    for _ in 0..50 {
        if accepted.load(Ordering::Acquire) >= 16 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(accepted.load(Ordering::Acquire), 16);
    let mut ids = Vec::new();
    for _ in 0..40 {
        let m = decode(&read_framed(&mut c).expect("every query is answered"));
        assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
        ids.push(m.metadata.id);
    }
    ids.sort();
    assert_eq!(ids, (0..40).collect::<Vec<u16>>());
    assert_eq!(accepted.load(Ordering::Acquire), 40);
}
