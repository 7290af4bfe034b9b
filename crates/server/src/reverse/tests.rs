//! PTR derivation and reverse-zone answers, decoded with hickory-proto.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

use crate::answer::{answer, Answer, Transport};
use crate::table::Table;

fn records() -> RecordSet {
    let mut rs = RecordSet::default();
    // Three instances of one app on container IPs.
    for (i, h) in [(1u8, "aaa"), (2, "bbb"), (3, "ccc")] {
        let ip = Ipv4Addr::new(10, 1, 0, i);
        rs.insert_a("web.marathon.mesos.", ip);
        rs.insert_a(&format!("web-{h}-s1.marathon.mesos."), ip);
    }
    // Ten host-networked tasks on one agent.
    let agent = Ipv4Addr::new(10, 0, 0, 5);
    rs.insert_a("slave.mesos.", agent);
    rs.insert_a("slave.mesos.", Ipv4Addr::new(10, 0, 0, 6));
    for i in 0..10 {
        rs.insert_a(&format!("task{i}.marathon.slave.mesos."), agent);
        rs.insert_a(&format!("task{i}-h{i}-s1.marathon.slave.mesos."), agent);
    }
    rs.insert_aaaa("v6.marathon.mesos.", "2001:db8::1".parse().unwrap());
    rs.insert_a("Raw.Name.mesos.", Ipv4Addr::new(10, 1, 0, 9));
    rs.insert_a("outside.example.", Ipv4Addr::new(10, 1, 0, 10));
    rs
}

fn cfg(zones: &[&str]) -> DnsConfig {
    DnsConfig {
        reverse_zones: zones.iter().map(|z| z.to_string()).collect(),
        resolvers: vec!["127.0.0.1:5353".parse().unwrap()],
        soa_minttl: 30,
        ..DnsConfig::default()
    }
}

fn ask(t: &Table, name: &str, qtype: RecordType) -> Option<Message> {
    let mut q = [0u8; 512];
    let n = dns_wire::write_query(&mut q, 7, name, Rtype(qtype.into()), None).unwrap();
    let mut out = [0u8; 4096];
    match answer(t, &q[..n], &mut out, Transport::Udp) {
        Answer::Reply(len) => Some(Message::from_vec(&out[..len]).unwrap()),
        Answer::Forward { .. } => None,
        Answer::Drop => panic!("dropped"),
    }
}

fn ptr_names(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .map(|r| match &r.data {
            RData::PTR(p) => p.0.to_string(),
            other => panic!("not PTR: {other:?}"),
        })
        .collect()
}

#[test]
fn reverse_names_follow_rfc1035_3_5_and_rfc3596_2_5() {
    assert_eq!(
        &*reverse_name(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 2))),
        b"\x012\x010\x011\x0210\x07in-addr\x04arpa\x00"
    );
    let v6 = reverse_name(IpAddr::V6("2001:db8::1".parse::<Ipv6Addr>().unwrap()));
    assert!(v6.starts_with(b"\x011\x010\x010"));
    assert!(v6.ends_with(b"\x018\x01b\x01d\x010\x011\x010\x010\x012\x03ip6\x04arpa\x00"));
    assert_eq!(v6.len(), 32 * 2 + 10);
}

#[test]
fn reverse_names_read_back_as_their_address_and_no_other_spelling_does() {
    for ip in [
        IpAddr::V4(Ipv4Addr::new(10, 1, 0, 2)),
        IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
        IpAddr::V4(Ipv4Addr::new(255, 100, 9, 10)),
        IpAddr::V6("2001:db8::1".parse().unwrap()),
        IpAddr::V6("ffff:abcd::9".parse().unwrap()),
    ] {
        assert_eq!(address(&reverse_name(ip)), Some(ip), "{ip}");
    }
    for bad in [
        &b"\x0202\x010\x011\x0210\x07in-addr\x04arpa\x00"[..],
        b"\x03256\x010\x011\x0210\x07in-addr\x04arpa\x00",
        b"\x010\x011\x0210\x07in-addr\x04arpa\x00",
        b"\x011\x012\x010\x011\x0210\x07in-addr\x04arpa\x00",
        b"\x01x\x010\x011\x0210\x07in-addr\x04arpa\x00",
        b"\x07in-addr\x04arpa\x00",
        b"\x03ip6\x04arpa\x00",
        b"",
    ] {
        assert_eq!(address(bad), None, "{bad:?}");
    }
    let mut v6 = reverse_name(IpAddr::V6("2001:db8::1".parse().unwrap())).to_vec();
    v6[1] = b'A';
    assert_eq!(address(&v6), None, "capitals");
}

#[test]
fn the_most_specific_names_come_first_and_resolve_forward() {
    let t = Table::compile(Arc::new(records()), &cfg(&[]), 1);
    let m = ask(&t, "2.0.1.10.in-addr.arpa", RecordType::PTR).expect("answered");
    assert!(m.metadata.authoritative);
    assert_eq!(
        ptr_names(&m),
        ["web-bbb-s1.marathon.mesos.", "web.marathon.mesos."]
    );
    // Forward confirmation: each name's A answer holds the address.
    for name in ptr_names(&m) {
        let a = ask(&t, &name, RecordType::A).unwrap();
        assert!(
            a.answers
                .iter()
                .any(|r| r.data == RData::A(Ipv4Addr::new(10, 1, 0, 2).into())),
            "{name}"
        );
    }
    let m = ask(
        &t,
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
        RecordType::PTR,
    )
    .unwrap();
    assert_eq!(ptr_names(&m), ["v6.marathon.mesos."]);
}

#[test]
fn an_agent_address_shared_by_many_tasks_gets_ptr_max_names_in_a_fixed_order() {
    let t = Table::compile(Arc::new(records()), &cfg(&[]), 1);
    let m = ask(&t, "5.0.0.10.in-addr.arpa", RecordType::PTR).unwrap();
    assert_eq!(
        ptr_names(&m),
        [
            "task0.marathon.slave.mesos.",
            "task1.marathon.slave.mesos.",
            "task2.marathon.slave.mesos.",
            "task3.marathon.slave.mesos.",
        ]
    );
    assert_eq!(m.answers.len(), PTR_MAX);
    // `slave.mesos.` points at two agents: ranked after every name that
    // points here alone, so it is cut.
    assert!(!ptr_names(&m).contains(&"slave.mesos.".to_string()));
    let m = ask(&t, "6.0.0.10.in-addr.arpa", RecordType::PTR).unwrap();
    assert_eq!(ptr_names(&m), ["slave.mesos."]);
}

#[test]
fn names_with_capitals_or_outside_the_domain_get_no_ptr() {
    let t = Table::compile(Arc::new(records()), &cfg(&[]), 1);
    assert!(
        ask(&t, "9.0.1.10.in-addr.arpa", RecordType::PTR).is_none(),
        "forwarded"
    );
    assert!(ask(&t, "10.0.1.10.in-addr.arpa", RecordType::PTR).is_none());
}

#[test]
fn outside_reverse_zones_unknown_names_and_other_types_are_forwarded() {
    let t = Table::compile(Arc::new(records()), &cfg(&[]), 1);
    assert!(ask(&t, "99.0.1.10.in-addr.arpa", RecordType::PTR).is_none());
    assert!(ask(&t, "2.0.1.10.in-addr.arpa", RecordType::TXT).is_none());
    let m = ask(&t, "2.0.1.10.In-Addr.ARPA", RecordType::ANY).unwrap();
    assert_eq!(m.answers.len(), 2, "ANY is PTR here; any case");
}

#[test]
fn rfc2308_reverse_zones_answer_nxdomain_and_nodata_with_their_soa() {
    let t = Table::compile(Arc::new(records()), &cfg(&["10.IN-ADDR.arpa"]), 9);
    let m = ask(&t, "99.0.1.10.in-addr.arpa", RecordType::PTR).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.metadata.authoritative);
    let soa = &m.authorities[0];
    assert_eq!(soa.name.to_string(), "10.in-addr.arpa.");
    assert_eq!(soa.ttl, 30);
    let RData::SOA(s) = &soa.data else {
        panic!("not SOA")
    };
    assert_eq!((s.serial, s.minimum), (9, 30));
    assert_eq!(s.mname.to_string(), "ns1.mesos.");

    let m = ask(&t, "2.0.1.10.in-addr.arpa", RecordType::TXT).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty() && m.authorities.len() == 1, "NODATA");
    // RFC 8020: an empty non-terminal is NODATA, not NXDOMAIN.
    let m = ask(&t, "0.1.10.in-addr.arpa", RecordType::PTR).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let m = ask(&t, "10.in-addr.arpa", RecordType::SOA).unwrap();
    assert_eq!(m.answers.len(), 1);
    let m = ask(&t, "10.in-addr.arpa", RecordType::NS).unwrap();
    assert_eq!(
        m.answers[0].data,
        RData::NS(hickory_proto::rr::rdata::NS("ns1.mesos.".parse().unwrap()))
    );
    // Outside the zone: forwarded as before.
    assert!(ask(&t, "1.0.168.192.in-addr.arpa", RecordType::PTR).is_none());
}

#[test]
fn tables_with_the_same_records_share_their_ptr_data() {
    let c = cfg(&[]);
    let t = Table::compile(Arc::new(records()), &c, 1);
    assert_eq!(t.ptrs().len(), 6, "capitals and outside names left out");
    let same = t.with_same_answers(Arc::new(records()), &c);
    assert!(Arc::ptr_eq(t.ptrs(), same.ptrs()));
    let patched = t.recompile(Arc::new(records()), &c, 2).0;
    let ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1));
    assert_eq!(patched.ptrs().targets(ip), t.ptrs().targets(ip));
}

#[test]
fn target_names_split_after_the_first_label_read_back_and_rank_whole() {
    use super::ranking::{by_rank, Names, Rests, Wire};
    use std::cmp::Ordering;
    let mut names = Names::default();
    let mut rests = Rests::default();
    let wires: [&[u8]; 4] = [
        b"\x01a\x08marathon\x05mesos\x00",
        b"\x02bb\x08marathon\x05mesos\x00",
        b"\x05mesos\x00",
        b"\x01a\x05mesos\x00",
    ];
    let at: Vec<u32> = wires
        .iter()
        .map(|w| names.push(w, &mut rests).unwrap())
        .collect();
    for (w, at) in wires.iter().zip(&at) {
        assert_eq!(names.get(*at).to_vec(), *w);
    }
    assert_eq!(rests.len(), 3, "marathon.mesos. kept once");
    // However split (a delta's names are whole), the same octets are the
    // same name, and rank as the octets do.
    let whole = Wire(wires[0], &[]);
    assert_eq!(names.get(at[0]), whole);
    assert_eq!(by_rank((1, names.get(at[0])), (1, whole)), Ordering::Equal);
    let b = Wire(b"\x01b\x05me", b"sos\x00");
    assert_eq!(by_rank((1, names.get(at[3])), (1, b)), Ordering::Less);
    assert_eq!(by_rank((1, b), (1, names.get(at[3]))), Ordering::Greater);
    assert_eq!(by_rank((1, names.get(at[1])), (2, b)), Ordering::Less);
}

#[test]
fn a_name_spelled_with_and_without_its_trailing_dot_is_one_target() {
    let mut rs = RecordSet::default();
    let ip = Ipv4Addr::new(10, 1, 0, 1);
    rs.insert_a("web.marathon.mesos.", ip);
    rs.insert_a("web.marathon.mesos", ip);
    rs.insert_a("b.marathon.mesos.", ip);
    rs.insert_aaaa("b.marathon.mesos", "2001:db8::1".parse().unwrap());
    let ptrs = Ptrs::derive(&rs, b"\x05mesos\x00", &[]);
    assert_eq!(
        ptrs.targets(IpAddr::V4(ip)),
        [
            &b"\x01b\x08marathon\x05mesos\x00"[..],
            b"\x03web\x08marathon\x05mesos\x00"
        ]
        .map(Box::from)
    );
    assert_eq!(ptrs.len(), 2);
    assert_eq!(
        ptrs.targets(IpAddr::V6("2001:db8::1".parse().unwrap())),
        [Box::from(&b"\x01b\x08marathon\x05mesos\x00"[..])]
    );
}

mod follow {
    //! The PTR data that followed a chain of deltas is the full derive of
    //! the last record set, map for map.

    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use std::collections::{BTreeMap, BTreeSet};

    /// Names of the pool: unique and shared, outside the domain, with
    /// capitals.
    const NAMES: &[&str] = &[
        "a.marathon.mesos.",
        "b.marathon.mesos.",
        "web.marathon.mesos.",
        "web-x-s1.marathon.mesos.",
        "slave.mesos.",
        "longer-name.marathon.slave.mesos.",
        "Caps.mesos.",
        "outside.example.",
    ];

    fn under_ptrs(rs: &RecordSet, zones: &[Box<[u8]>]) -> Ptrs {
        Ptrs::derive(rs, b"\x05mesos\x00", zones)
    }

    fn set(entries: &[(usize, u8, bool)]) -> RecordSet {
        let mut rs = RecordSet::default();
        for &(n, ip, v6) in entries {
            let name = NAMES[n % NAMES.len()];
            match v6 {
                false => {
                    rs.insert_a(name, Ipv4Addr::new(10, 0, ip % 3, ip));
                }
                true => {
                    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(ip));
                    rs.insert_aaaa(name, v6);
                }
            }
        }
        rs
    }

    /// Empty non-terminal → names below it.
    type Above = BTreeMap<Vec<u8>, usize>;

    /// The PTR targets of every address and the empty non-terminals, as
    /// the module docs rank them, name by name from `rs`: the reference
    /// the kept ranking must agree with.
    fn reference(
        rs: &RecordSet,
        zones: &[Box<[u8]>],
    ) -> (BTreeMap<IpAddr, Vec<Vec<u8>>>, Above) {
        let mut by: BTreeMap<IpAddr, Vec<(usize, Vec<u8>)>> = BTreeMap::new();
        let mut buf = [0u8; 255];
        let named = |name: &str, buf: &mut [u8; 255]| -> Option<Vec<u8>> {
            let wire = dns_wire::name::from_dotted(name, buf).ok()?;
            let fits = !name.bytes().any(|b| b.is_ascii_uppercase())
                && wire.ends_with(b"\x05mesos\x00");
            fits.then(|| wire.to_vec())
        };
        for (name, ips) in rs.a_records() {
            let Some(w) = named(name, &mut buf) else {
                continue;
            };
            for ip in ips {
                by.entry(IpAddr::V4(*ip))
                    .or_default()
                    .push((ips.len(), w.clone()));
            }
        }
        for (name, ips) in rs.aaaa_records() {
            let Some(w) = named(name, &mut buf) else {
                continue;
            };
            for ip in ips {
                by.entry(IpAddr::V6(*ip))
                    .or_default()
                    .push((ips.len(), w.clone()));
            }
        }
        let mut above = BTreeMap::new();
        let targets = by
            .into_iter()
            .map(|(ip, mut names)| {
                names.sort_by(|a, b| (a.0, a.1.len(), &a.1).cmp(&(b.0, b.1.len(), &b.1)));
                let key = reverse_name(ip);
                if let Some(z) = zones.iter().find(|z| key.ends_with(z)) {
                    // Every suffix of the key from the zone's apex up.
                    let mut at = 0;
                    while at < key.len() {
                        at += 1 + usize::from(key[at]);
                        if key.len() - at >= z.len() {
                            *above.entry(key[at..].to_vec()).or_insert(0) += 1;
                        }
                    }
                }
                (
                    ip,
                    names.into_iter().take(PTR_MAX).map(|(_, w)| w).collect(),
                )
            })
            .collect();
        (targets, above)
    }

    fn agrees(
        ptrs: &Ptrs,
        rs: &RecordSet,
        zones: &[Box<[u8]>],
    ) -> Result<(), TestCaseError> {
        let (targets, above) = reference(rs, zones);
        prop_assert_eq!(ptrs.len(), targets.len());
        for (ip, want) in &targets {
            let got: Vec<Vec<u8>> =
                ptrs.targets(*ip).into_iter().map(Vec::from).collect();
            prop_assert_eq!(&got, want, "{}", ip);
            let key = reverse_name(*ip);
            prop_assert!(ptrs.records(&key).is_some());
        }
        let kept: BTreeMap<Vec<u8>, usize> =
            ptrs.above.iter().map(|(k, n)| (k.to_vec(), *n)).collect();
        prop_assert_eq!(kept, above);
        Ok(())
    }

    /// A record set of `records` (name, address, v6) out of a pool of
    /// `NAMES` and of names crowding one agent's address.
    fn crowded(records: &BTreeSet<(usize, u8, bool)>) -> RecordSet {
        let mut rs = RecordSet::default();
        for &(n, ip, v6) in records {
            let name = match NAMES.get(n) {
                Some(name) => name.to_string(),
                None => format!("t{n}.marathon.slave.mesos."),
            };
            match v6 {
                false => rs.insert_a(&name, Ipv4Addr::new(10, 0, 0, ip)),
                true => rs.insert_aaaa(
                    &name,
                    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, ip.into()),
                ),
            };
        }
        rs
    }

    proptest! {
        /// Random changes of a few records at a time, many on one address
        /// (so the ranking of an agent's address grows past the slice and
        /// back): after each, the followed data is the full derive, map
        /// for map, and both are the reference ranking.
        #[test]
        fn followed_ptr_data_is_the_reference_after_each_random_delta(
            steps in prop::collection::vec(
                prop::collection::vec(
                    (0usize..40, prop_oneof![Just(1u8), Just(1), 0u8..6], any::<bool>()),
                    1..6,
                ),
                1..40,
            ),
            zoned in any::<bool>(),
        ) {
            let zones: Vec<Box<[u8]>> = match zoned {
                true => vec![b"\x0210\x07in-addr\x04arpa\x00"[..].into()],
                false => Vec::new(),
            };
            let mut records = BTreeSet::new();
            let mut prev = RecordSet::default();
            let mut ptrs = under_ptrs(&prev, &zones);
            for step in &steps {
                // Each record of the step comes if absent and goes if there.
                for r in step {
                    if !records.remove(r) {
                        records.insert(*r);
                    }
                }
                let next = crowded(&records);
                let before = ptrs;
                ptrs = before.follow(&prev.diff(&next), &next, b"\x05mesos\x00", &zones);
                prop_assert_eq!(&ptrs, &under_ptrs(&next, &zones));
                agrees(&ptrs, &next, &zones)?;
                // Laid out again as one derivation: the same data, with
                // nothing changed; every other step follows from it.
                let compacted = ptrs.compacted().expect("the names fit");
                prop_assert!(!compacted.overlay_grown());
                prop_assert_eq!(&compacted, &ptrs);
                agrees(&compacted, &next, &zones)?;
                if step.len() % 2 == 0 {
                    ptrs = compacted;
                }
                // The data before the change is untouched (the table
                // before it still answers from it).
                agrees(&before, &prev, &zones)?;
                prev = next;
            }
        }

        #[test]
        fn followed_ptr_data_is_the_full_derive(
            chain in prop::collection::vec(
                prop::collection::vec((0usize..8, 0u8..12, any::<bool>()), 0..24),
                1..6,
            ),
            zoned in any::<bool>(),
        ) {
            let zones: Vec<Box<[u8]>> = match zoned {
                true => vec![b"\x0210\x07in-addr\x04arpa\x00"[..].into()],
                false => Vec::new(),
            };
            let mut prev = RecordSet::default();
            let mut ptrs = under_ptrs(&prev, &zones);
            for entries in &chain {
                let next = set(entries);
                ptrs = ptrs.follow(&prev.diff(&next), &next, b"\x05mesos\x00", &zones);
                prop_assert_eq!(&ptrs, &under_ptrs(&next, &zones));
                agrees(&ptrs, &next, &zones)?;
                prev = next;
            }
        }
    }
}
