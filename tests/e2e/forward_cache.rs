//! The forward cache (issue 20): answers from upstreams kept for their TTL,
//! checked with real clients against a stub upstream that counts what
//! reaches it.

use std::sync::atomic::Ordering;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns_tests::dns::{
    fixture_records, query, run_client, squash, tcp_exchange, test_config, udp_exchange,
    DnsFixture, StubMode, StubUpstream,
};

const A: u16 = 1;

fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("undecodable reply: {e}"))
}

/// One worker, so every query meets the same cache whatever its source
/// port.
fn cached(up: &StubUpstream, size: usize) -> DnsFixture {
    let cfg = DnsConfig {
        resolvers: vec![up.addr],
        timeout: Duration::from_millis(300),
        workers: 1,
        forward_cache_size: size,
        ..test_config()
    };
    DnsFixture::start(cfg, fixture_records())
}

fn reached(up: &StubUpstream) -> usize {
    up.received.load(Ordering::Acquire)
}

#[test]
fn rfc1035_7_3_a_cached_name_is_answered_without_the_upstream() {
    let up = StubUpstream::start(StubMode::Answer);
    let s = cached(&up, 100);
    for _ in 0..3 {
        let out = run_client("dig", s.addr(), &["www.example.org", "A"]);
        assert!(squash(&out).contains("IN A 192.0.2.1"), "{out}");
    }
    let out = run_client("dig", s.addr(), &["+tcp", "+short", "www.example.org", "A"]);
    assert_eq!(out.trim(), "192.0.2.1", "TCP clients share the cache");
    assert_eq!(reached(&up), 1, "one query reached the upstream");
    let snap = s.stats.snapshot(Default::default());
    assert_eq!((snap.cache_hits, snap.cache_misses), (3, 1));
    // The TTL counts down from the upstream's 30, never up.
    let m =
        decode(&udp_exchange(s.addr(), &query(9, "www.example.org.", A, None)).unwrap());
    assert!(m.answers[0].ttl <= 30 && m.answers[0].ttl > 0);
}

#[test]
fn draft_vixie_dnsext_dns0x20_each_client_gets_its_own_letter_case() {
    let up = StubUpstream::start(StubMode::Answer);
    let s = cached(&up, 100);
    udp_exchange(s.addr(), &query(1, "mixed.example.org.", A, None)).unwrap();
    let r = udp_exchange(s.addr(), &query(2, "MiXeD.ExAmPlE.oRg.", A, None)).unwrap();
    let m = decode(&r);
    assert_eq!(m.metadata.id, 2);
    assert_eq!(m.queries[0].name().to_string(), "MiXeD.ExAmPlE.oRg.");
    assert_eq!(reached(&up), 1);
}

#[test]
fn rfc6891_an_edns_client_never_gets_another_views_answer() {
    let up = StubUpstream::start(StubMode::Answer);
    let s = cached(&up, 100);
    let plain = query(1, "view.example.", A, None);
    let edns = query(2, "view.example.", A, Some((1232, 0)));
    udp_exchange(s.addr(), &plain).unwrap();
    udp_exchange(s.addr(), &edns).unwrap();
    assert_eq!(reached(&up), 2, "each view asked upstream once");
    run_client("dig", s.addr(), &["+dnssec", "view.example", "A"]);
    assert_eq!(reached(&up), 3, "DO is a view of its own");
    let out = run_client("dig", s.addr(), &["+dnssec", "view.example", "A"]);
    assert!(out.contains("flags: do;"), "our OPT, DO copied: {out}");
    assert_eq!(reached(&up), 3);
    let r = udp_exchange(s.addr(), &edns).unwrap();
    assert!(decode(&r).edns.is_some(), "our OPT for the EDNS client");
    let r = udp_exchange(s.addr(), &plain).unwrap();
    assert!(decode(&r).edns.is_none(), "none for the other");
    assert_eq!(reached(&up), 3);
}

#[test]
fn rfc2308_5_nxdomain_with_an_soa_is_cached_and_without_one_is_not() {
    let soa = StubUpstream::start(StubMode::NxDomainSoa);
    let s = cached(&soa, 100);
    for id in 0..3 {
        let m = decode(
            &udp_exchange(s.addr(), &query(id, "gone.example.", A, None)).unwrap(),
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        // The first is the upstream's own reply (TTL 600); from the cache,
        // the SOA's MINIMUM caps it.
        let ttl = m.authorities[0].ttl;
        assert!(id == 0 || (ttl <= 45 && ttl > 0), "{ttl}");
    }
    assert_eq!(reached(&soa), 1);
    let bare = StubUpstream::start(StubMode::NxDomain);
    let s = cached(&bare, 100);
    for id in 0..3 {
        udp_exchange(s.addr(), &query(id, "gone.example.", A, None)).unwrap();
    }
    assert_eq!(reached(&bare), 3);
}

#[test]
fn rfc2308_7_1_an_upstream_servfail_is_held_briefly() {
    let up = StubUpstream::start(StubMode::ServFail);
    let s = cached(&up, 100);
    let r = tcp_exchange(
        s.addr(),
        &[
            query(1, "broken.example.", A, None),
            query(2, "broken.example.", A, None),
        ],
    )
    .unwrap();
    for m in r {
        assert_eq!(decode(&m).metadata.response_code, ResponseCode::ServFail);
    }
    // Over TCP the second query may be read before the first answer came
    // back, so it may have gone upstream too; UDP after that is a hit.
    let before = reached(&up);
    let m =
        decode(&udp_exchange(s.addr(), &query(3, "broken.example.", A, None)).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(reached(&up), before);
}

#[test]
fn forward_cache_size_0_turns_the_cache_off() {
    let up = StubUpstream::start(StubMode::Answer);
    let s = cached(&up, 0);
    for id in 0..3 {
        udp_exchange(s.addr(), &query(id, "www.example.org.", A, None)).unwrap();
    }
    assert_eq!(reached(&up), 3);
    let snap = s.stats.snapshot(Default::default());
    assert_eq!((snap.cache_hits, snap.cache_misses), (0, 0));
}

#[test]
fn a_full_cache_evicts_and_counts_it() {
    let up = StubUpstream::start(StubMode::Answer);
    let s = cached(&up, 2);
    for name in ["a.example.", "b.example.", "c.example.", "d.example."] {
        udp_exchange(s.addr(), &query(1, name, A, None)).unwrap();
    }
    let snap = s.stats.snapshot(Default::default());
    assert_eq!(snap.cache_evictions, 2);
}

#[test]
fn mesos_dns_383_a_cached_answer_is_still_refused_to_other_clients() {
    let up = StubUpstream::start(StubMode::Answer);
    let cfg = DnsConfig {
        resolvers: vec![up.addr],
        workers: 1,
        allow_recursion: Vec::new(),
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    for id in 0..2 {
        let m =
            decode(&udp_exchange(s.addr(), &query(id, "x.example.", A, None)).unwrap());
        assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    }
    assert_eq!(reached(&up), 0);
}
