//! DNS over UDP with real clients (`dig`, `kdig`) and raw packets decoded by
//! hickory-proto. Expectations follow BEHAVIOUR.md 5.3 and 8.4 with the fixes
//! of BEHAVIOUR.md section 0.

use std::net::Ipv4Addr;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use mesos_dns_tests::dns::{
    fixture_records, query, run_client, squash, test_config, udp_exchange, DnsFixture,
};

const A: u16 = 1;
const SRV: u16 = 33;

fn server() -> DnsFixture {
    DnsFixture::start(test_config(), fixture_records())
}

fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("undecodable reply: {e}"))
}

/// Lines of dig's `+short` output, sorted.
fn short(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}

#[test]
fn spec_8_4_dig_a_aaaa_srv() {
    let s = server();
    let out = run_client("dig", s.addr(), &["+short", "chronos.marathon.mesos", "A"]);
    assert_eq!(short(&out), ["1.2.3.11"]);
    let out = run_client(
        "dig",
        s.addr(),
        &["+short", "toy-store.ipv6-framework.mesos", "AAAA"],
    );
    assert_eq!(short(&out), ["fd01:b::1:8000:2"]);
    let out = run_client(
        "dig",
        s.addr(),
        &["+short", "_liquor-store._tcp.marathon.mesos", "SRV"],
    );
    assert_eq!(
        short(&out),
        [
            "0 1 443 liquor-store-4dfjd-0.marathon.mesos.",
            "0 1 443 liquor-store-zvlg9-0.marathon.mesos.",
            "0 1 80 liquor-store-4dfjd-0.marathon.mesos.",
            "0 1 80 liquor-store-zvlg9-0.marathon.mesos.",
        ]
    );
    // dig's full output: authoritative, additional addresses for targets.
    let out = run_client("dig", s.addr(), &["_car-store._udp.marathon.mesos", "SRV"]);
    assert!(out.contains("flags: qr aa rd ra;"), "{out}");
    assert!(
        out.contains("ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 2"),
        "{out}"
    );
    assert!(
        squash(&out).contains("car-store-50.marathon.mesos. 60 IN A 1.2.3.11"),
        "{out}"
    );
}

#[test]
fn rfc1034_4_3_2_kdig_apex_soa_and_ns_in_answer() {
    let s = server();
    let out = run_client("kdig", s.addr(), &["mesos", "SOA"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("ANSWER: 1"), "{out}");
    assert!(
        out.contains("ns1.mesos. root.ns1.mesos. 1 60 600 86400 60"),
        "{out}"
    );
    let out = run_client("kdig", s.addr(), &["+short", "mesos", "NS"]);
    assert_eq!(short(&out), ["ns1.mesos."]);
    // The nameserver name resolves (BEHAVIOUR.md section 0).
    let out = run_client("kdig", s.addr(), &["+short", "ns1.mesos", "A"]);
    assert_eq!(short(&out), ["127.0.0.1"]);
}

#[test]
fn rfc2308_missing_names_nxdomain_existing_names_nodata() {
    let s = server();
    let out = run_client("dig", s.addr(), &["missing.mesos", "A"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("AUTHORITY: 1"), "{out}");
    assert!(
        squash(&out).contains("mesos. 60 IN SOA ns1.mesos. root.ns1.mesos."),
        "{out}"
    );
    // A missing SRV name too (mesos-dns: NOERROR with nothing).
    let out = run_client("kdig", s.addr(), &["_missing._tcp.marathon.mesos", "SRV"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    // The name exists with A only: AAAA is NODATA, not NXDOMAIN (clients.md).
    let out = run_client("dig", s.addr(), &["chronos.marathon.mesos", "AAAA"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("ANSWER: 0, AUTHORITY: 1"), "{out}");
    let out = run_client("kdig", s.addr(), &["chronos.marathon.mesos", "TXT"]);
    assert!(out.contains("status: NOERROR"), "{out}");
}

#[test]
fn rfc8482_any_returns_the_union() {
    let s = server();
    let out = run_client(
        "dig",
        s.addr(),
        &["+short", "liquor-store.marathon.mesos", "ANY"],
    );
    assert_eq!(short(&out), ["10.3.0.1", "10.3.0.2"]);
}

#[test]
fn rfc4343_mixed_case_question_comes_back_unchanged() {
    let s = server();
    let out = run_client(
        "dig",
        s.addr(),
        &["+noall", "+answer", "cHrOnOs.MARATHON.mesoS", "A"],
    );
    assert!(
        squash(&out).contains("cHrOnOs.MARATHON.mesoS. 60 IN A 1.2.3.11"),
        "{out}"
    );
    let r =
        udp_exchange(s.addr(), &query(7, "cHrOnOs.MARATHON.mesoS.", A, None)).unwrap();
    let m = decode(&r);
    assert_eq!(m.queries[0].name.to_ascii(), "cHrOnOs.MARATHON.mesoS.");
    assert_eq!(m.answers[0].name.to_ascii(), "cHrOnOs.MARATHON.mesoS.");
}

#[test]
fn spec_5_3_star_normalization() {
    let s = server();
    let out = run_client(
        "dig",
        s.addr(),
        &["+short", "chronos.*.marathon.mesos", "A"],
    );
    assert_eq!(short(&out), ["1.2.3.11"]);
}

#[test]
fn rfc6891_6_2_5_edns_sizes() {
    let s = server();
    // No EDNS: 512 octets at most, TC set, a random subset.
    let out = run_client(
        "dig",
        s.addr(),
        &["+noedns", "+ignore", "big.marathon.mesos", "A"],
    );
    assert!(out.contains("flags: qr aa tc rd ra;"), "{out}");
    // dig's default EDNS (1232): all 60 fit, OPT echoed.
    let out = run_client("dig", s.addr(), &["big.marathon.mesos", "A"]);
    assert!(out.contains("ANSWER: 60,"), "{out}");
    assert!(out.contains("EDNS: version: 0, flags:; udp: 1232"), "{out}");
    // A small advertised buffer is honoured (but never below 512).
    let out = run_client(
        "kdig",
        s.addr(),
        &["+bufsize=600", "+ignore", "huge.marathon.mesos", "A"],
    );
    assert!(out.contains("Flags: qr aa tc"), "{out}");
    let r = udp_exchange(
        s.addr(),
        &query(9, "huge.marathon.mesos.", A, Some((4096, 0))),
    )
    .unwrap();
    assert!(r.len() <= 1232, "capped at our maximum: {}", r.len());
    let m = decode(&r);
    assert!(m.metadata.truncation);
    assert_eq!(m.answers.len(), (1232 - 12 - 25 - 11) / 16);
}

#[test]
fn rfc6891_6_1_3_kdig_edns_version_1_gets_badvers() {
    let s = server();
    let out = run_client(
        "kdig",
        s.addr(),
        &["+edns=1", "chronos.marathon.mesos", "A"],
    );
    assert!(out.contains("BADVERS"), "{out}");
}

#[test]
fn rfc7766_dig_retries_truncated_answers_over_tcp() {
    let s = server();
    let out = run_client("dig", s.addr(), &["+noedns", "huge.marathon.mesos", "A"]);
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert!(out.contains("ANSWER: 3000,"), "{out}");
}

#[test]
fn malformed_packets_get_formerr_or_nothing_and_the_server_keeps_answering() {
    let s = server();
    let good = query(1, "chronos.marathon.mesos.", A, None);
    // QDCOUNT 0 with a body: FORMERR, header only.
    let mut bad = good.clone();
    bad[5] = 0;
    let m = decode(&udp_exchange(s.addr(), &bad).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    // A forward compression pointer in the question: FORMERR.
    let mut ptr = good[..12].to_vec();
    ptr.extend_from_slice(&[0xC0, 0x20, 0, 1, 0, 1]);
    let m = decode(&udp_exchange(s.addr(), &ptr).unwrap());
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    // Truncated inside the question: FORMERR with the same ID.
    let r = udp_exchange(s.addr(), &good[..20]).unwrap();
    assert_eq!(&r[..2], &good[..2]);
    assert_eq!(r[3] & 0x0F, 1);
    // Shorter than a header, or a response: no reply at all.
    let sock = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    sock.send_to(&good[..5], s.addr()).unwrap();
    let mut resp = good.clone();
    resp[2] |= 0x80;
    sock.send_to(&resp, s.addr()).unwrap();
    let mut buf = [0u8; 512];
    assert!(sock.recv_from(&mut buf).is_err(), "no reply to junk");
    // Random junk: never a crash, and the server still answers.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let len = (rng % 80) as usize;
        let mut p = good.clone();
        p.resize(len.max(12), 0);
        for b in p.iter_mut().skip(2) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if rng % 4 == 0 {
                *b = rng as u8;
            }
        }
        p[2] &= 0x7F;
        sock.send_to(&p, s.addr()).unwrap();
    }
    let m = decode(&udp_exchange(s.addr(), &good).unwrap());
    assert_eq!(m.answers.len(), 1);
    let snap = s.stats.snapshot(s.table.load().counts());
    assert!(snap.rcode[1] >= 3, "FORMERR counted: {:?}", snap.rcode);
}

#[test]
fn servfail_in_the_domain_before_the_first_load() {
    let s = DnsFixture::start_empty(test_config());
    let m = decode(
        &udp_exchange(s.addr(), &query(3, "chronos.marathon.mesos.", A, None)).unwrap(),
    );
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    s.publish(fixture_records(), 5);
    let m = decode(
        &udp_exchange(s.addr(), &query(3, "chronos.marathon.mesos.", A, None)).unwrap(),
    );
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

#[test]
fn rfc2782_srv_additional_addresses_decode() {
    let s = server();
    let r = udp_exchange(
        s.addr(),
        &query(
            4,
            "_liquor-store._tcp.marathon.mesos.",
            SRV,
            Some((1232, 0)),
        ),
    )
    .unwrap();
    let m = decode(&r);
    assert!(m.metadata.authoritative);
    assert_eq!(m.answers.len(), 4);
    assert_eq!(m.additionals.len(), 2);
    for a in &m.additionals {
        assert_eq!(a.record_type(), RecordType::A);
        let RData::A(ip) = &a.data else {
            panic!("not A")
        };
        assert!(ip.0 == Ipv4Addr::new(10, 3, 0, 1) || ip.0 == Ipv4Addr::new(10, 3, 0, 2));
    }
    assert!(m.edns.is_some());
}

#[test]
fn ipv6_loopback_listener() {
    let cfg = mesos_dns::dns_config::DnsConfig {
        listener: "::1".parse().unwrap(),
        ..test_config()
    };
    let s = DnsFixture::start(cfg, fixture_records());
    assert!(s.addr().is_ipv6());
    let out = run_client("dig", s.addr(), &["+short", "chronos.marathon.mesos", "A"]);
    assert_eq!(short(&out), ["1.2.3.11"]);
}
