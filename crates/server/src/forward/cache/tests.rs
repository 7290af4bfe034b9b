use super::*;
use dns_wire::{parse_query, write_query, Edns, Message, Rdata};

const T0: Duration = Duration::ZERO;

fn q(id: u16, name: &str, qtype: Rtype, edns: Option<Edns>) -> Vec<u8> {
    let mut b = [0u8; 512];
    let n = write_query(&mut b, id, name, qtype, edns.as_ref()).unwrap();
    b[..n].to_vec()
}

fn edns(dnssec_ok: bool) -> Option<Edns> {
    Some(Edns {
        udp_payload: 1232,
        ext_rcode: 0,
        version: 0,
        dnssec_ok,
    })
}

/// The upstream's reply to `query`: its question, `rcode`, the answer and
/// authority records given (owner: the question name), and an OPT with a
/// cookie-like option when the query had EDNS.
fn reply(
    query: &[u8],
    rcode: u8,
    answers: &[(u16, u32, &[u8])],
    soa: Option<(u32, u32)>,
) -> Vec<u8> {
    let p = parse_query(query).unwrap();
    let mut r = query[..HEADER_LEN + p.question.len()].to_vec();
    r[2] |= 0x80;
    r[3] = 0x80 | rcode;
    r[6..12].fill(0);
    r[7] = answers.len() as u8;
    for &(t, ttl, rdata) in answers {
        r.extend_from_slice(&[0xC0, 0x0C]);
        r.extend_from_slice(&t.to_be_bytes());
        r.extend_from_slice(&[0, 1]);
        r.extend_from_slice(&ttl.to_be_bytes());
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(rdata);
    }
    if let Some((ttl, minimum)) = soa {
        r[9] = 1;
        r.extend_from_slice(&[0xC0, 0x0C, 0, 6, 0, 1]);
        r.extend_from_slice(&ttl.to_be_bytes());
        let mut rd = vec![0, 0]; // mname and rname: the root
        for v in [1u32, 2, 3, 4, minimum] {
            rd.extend_from_slice(&v.to_be_bytes());
        }
        r.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        r.extend_from_slice(&rd);
    }
    if p.edns.is_some() {
        r[11] = 1;
        // OPT, payload 4096, an option 10 (COOKIE) of 8 octets.
        r.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8]);
        r.extend_from_slice(&[7; 8]);
    }
    r
}

fn look(c: &mut Cache, query: &[u8], at: Duration, t0: Instant) -> Option<Vec<u8>> {
    let p = parse_query(query).unwrap();
    let mut out = [0u8; 4096];
    match c.lookup(query, &p, 0, t0 + at, &mut out, 4096) {
        Hit::Miss => None,
        Hit::Reply { len, .. } => Some(out[..len].to_vec()),
    }
}

fn ttls(reply: &[u8]) -> Vec<u32> {
    let m = Message::parse(reply).unwrap();
    m.answers().chain(m.authority()).map(|r| r.ttl).collect()
}

const A1: &[u8] = &[192, 0, 2, 1];

#[test]
fn rfc1035_7_3_ttls_count_down_and_the_entry_expires() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let first = q(1, "www.example.org", Rtype::A, None);
    c.store(
        &first,
        &reply(&first, 0, &[(1, 300, A1), (1, 30, A1)], None),
        0,
        t0,
    );
    let again = q(2, "WwW.ExAmPlE.oRg", Rtype::A, None);
    let r = look(&mut c, &again, Duration::from_secs(20), t0).expect("hit");
    assert_eq!(&r[..2], &[0, 2], "the client's ID");
    assert_eq!(
        &r[12..12 + 17],
        &again[12..12 + 17],
        "the client's 0x20 case"
    );
    assert_eq!(ttls(&r), [280, 10]);
    let m = Message::parse(&r).unwrap();
    assert_eq!(
        m.answers().next().unwrap().rdata,
        Rdata::A([192, 0, 2, 1].into())
    );
    assert!(m
        .answers()
        .next()
        .unwrap()
        .name
        .eq_wire(b"\x03WwW\x07ExAmPlE\x03oRg\x00"));
    assert_eq!(
        look(&mut c, &again, Duration::from_secs(30), t0),
        None,
        "expired"
    );
    assert_eq!(c.len(), 0);
    assert_eq!(
        c.counts,
        Counts {
            hits: 1,
            misses: 1,
            evictions: 0
        }
    );
}

#[test]
fn ttls_are_capped_at_max_ttl() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let first = q(1, "a.example", Rtype::A, None);
    c.store(
        &first,
        &reply(&first, 0, &[(1, 7 * 86_400, A1)], None),
        0,
        t0,
    );
    let r = look(&mut c, &first, T0, t0).unwrap();
    assert_eq!(ttls(&r), [MAX_TTL]);
}

#[test]
fn rfc2308_5_negative_answers_live_for_the_soa_minimum_and_need_an_soa() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let nx = q(1, "nope.example", Rtype::A, None);
    c.store(&nx, &reply(&nx, 3, &[], Some((3600, 60))), 0, t0);
    let r = look(&mut c, &nx, Duration::from_secs(10), t0).expect("NXDOMAIN kept");
    assert_eq!(r[3] & 0x0F, 3);
    assert_eq!(
        ttls(&r),
        [50],
        "the SOA's TTL is its MINIMUM, counting down"
    );
    assert_eq!(look(&mut c, &nx, Duration::from_secs(60), t0), None);

    let nodata = q(1, "a.example", Rtype::AAAA, None);
    c.store(&nodata, &reply(&nodata, 0, &[], Some((5, 60))), 0, t0);
    let r = look(&mut c, &nodata, T0, t0).expect("NODATA kept");
    assert_eq!(ttls(&r), [5], "capped by the SOA's own TTL");

    let bare = q(1, "bare.example", Rtype::A, None);
    c.store(&bare, &reply(&bare, 3, &[], None), 0, t0);
    assert_eq!(look(&mut c, &bare, T0, t0), None, "no SOA: not kept");
}

#[test]
fn rfc2308_7_1_servfail_is_kept_a_few_seconds_only() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let sf = q(1, "broken.example", Rtype::A, None);
    c.store(&sf, &reply(&sf, 2, &[], None), 0, t0);
    assert!(look(&mut c, &sf, Duration::from_secs(1), t0).is_some());
    let past = Duration::from_secs(u64::from(SERVFAIL_TTL));
    assert_eq!(look(&mut c, &sf, past, t0), None);
}

#[test]
fn other_rcodes_truncated_and_zero_ttl_replies_are_not_kept() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let x = q(1, "x.example", Rtype::A, None);
    c.store(&x, &reply(&x, 5, &[], None), 0, t0); // REFUSED
    let mut tc = reply(&x, 0, &[(1, 30, A1)], None);
    tc[2] |= 0x02;
    c.store(&x, &tc, 0, t0);
    c.store(&x, &reply(&x, 0, &[(1, 0, A1)], None), 0, t0);
    let other = q(1, "y.example", Rtype::A, None);
    c.store(&x, &reply(&other, 0, &[(1, 30, A1)], None), 0, t0);
    assert_eq!(c.len(), 0);
}

#[test]
fn rfc6891_one_clients_edns_view_never_reaches_another() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let plain = q(1, "v.example", Rtype::A, None);
    let with_do = q(2, "v.example", Rtype::A, edns(true));
    let without_do = q(3, "v.example", Rtype::A, edns(false));
    c.store(&with_do, &reply(&with_do, 0, &[(1, 30, A1)], None), 0, t0);
    assert_eq!(look(&mut c, &plain, T0, t0), None, "no EDNS: another view");
    assert_eq!(
        look(&mut c, &without_do, T0, t0),
        None,
        "DO clear: another view"
    );
    let r = look(&mut c, &with_do, T0, t0).expect("same view");
    let m = Message::parse(&r).unwrap();
    let e = m.edns().expect("our OPT");
    assert!(e.dnssec_ok);
    assert_eq!(e.udp_payload, 1232, "our size, not the upstream's");
    assert_eq!(
        r.len(),
        HEADER_LEN + 15 + 16 + OPT_LEN,
        "the upstream's cookie is gone"
    );
    let mut cd = plain.clone();
    cd[3] |= 0x10;
    c.store(&plain, &reply(&plain, 0, &[(1, 30, A1)], None), 0, t0);
    assert!(look(&mut c, &plain, T0, t0).is_some());
    assert_eq!(look(&mut c, &cd, T0, t0), None, "CD set: another view");
}

#[test]
fn rfc7871_client_subnet_queries_bypass_the_cache() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let mut ecs = q(1, "e.example", Rtype::A, edns(false));
    // Append an ECS option (family 1, /24, scope 0, 192.0.2) to the OPT.
    let opt = [0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2];
    let n = ecs.len();
    ecs[n - 1] = opt.len() as u8;
    ecs.extend_from_slice(&opt);
    c.store(&ecs, &reply(&ecs, 0, &[(1, 30, A1)], None), 0, t0);
    assert_eq!(c.len(), 0);
    assert_eq!(look(&mut c, &ecs, T0, t0), None);
}

#[test]
fn a_cached_reply_too_large_for_the_client_is_cut_with_tc() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let tcp = q(1, "big.example", Rtype::A, None);
    let many: Vec<(u16, u32, &[u8])> = (0..40).map(|_| (1u16, 30u32, A1)).collect();
    c.store(&tcp, &reply(&tcp, 0, &many, None), 0, t0);
    let p = parse_query(&tcp).unwrap();
    let mut out = [0u8; 4096];
    let Hit::Reply { len, cut, .. } = c.lookup(&tcp, &p, 0, t0, &mut out, 512) else {
        panic!("miss")
    };
    assert!(cut && len <= 512);
    let m = Message::parse(&out[..len]).unwrap();
    assert!(m.header.flags.tc());
    assert_eq!(m.header.ancount, 0);
}

#[test]
fn a_full_cache_evicts_and_counts_it() {
    let mut c = Cache::new(2, 1232);
    let t0 = Instant::now();
    for name in ["a.example", "b.example", "c.example"] {
        let x = q(1, name, Rtype::A, None);
        c.store(&x, &reply(&x, 0, &[(1, 30, A1)], None), 0, t0);
    }
    assert_eq!(c.len(), 2);
    assert_eq!(c.counts.evictions, 1);
    let hits = ["a.example", "b.example", "c.example"]
        .iter()
        .filter(|n| look(&mut c, &q(1, n, Rtype::A, None), T0, t0).is_some())
        .count();
    assert_eq!(hits, 2);
}

#[test]
fn groups_and_types_are_separate_entries() {
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    let a = q(1, "g.example", Rtype::A, None);
    c.store(&a, &reply(&a, 0, &[(1, 30, A1)], None), 1, t0);
    assert_eq!(look(&mut c, &a, T0, t0), None, "group 0");
    let aaaa = q(1, "g.example", Rtype::AAAA, None);
    let p = parse_query(&aaaa).unwrap();
    let mut out = [0u8; 512];
    assert_eq!(c.lookup(&aaaa, &p, 1, t0, &mut out, 512), Hit::Miss);
}

#[test]
fn a_reload_that_changes_the_upstreams_empties_the_cache() {
    use crate::dns_config::DnsConfig;
    let cfg = |port: u16| DnsConfig {
        resolvers: vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))],
        ..DnsConfig::default()
    };
    let mut c = Cache::new(10, 1232);
    let t0 = Instant::now();
    c.follow(&Arc::new(Upstreams::new(&cfg(53))));
    let x = q(1, "x.example", Rtype::A, None);
    c.store(&x, &reply(&x, 0, &[(1, 30, A1)], None), 0, t0);
    c.follow(&Arc::new(Upstreams::new(&cfg(53))));
    assert_eq!(c.len(), 1, "the same upstreams in a new table");
    c.follow(&Arc::new(Upstreams::new(&cfg(5353))));
    assert_eq!(c.len(), 0);
}
