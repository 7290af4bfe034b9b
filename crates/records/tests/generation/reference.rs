//! BEHAVIOUR.md 8.3: every record expectation of mesos-dns's TestInsertState
//! and the observed full dump, over `tests/data/state/reference.json`, a state
//! written for this project from the description of mesos-dns's fixture
//! (BEHAVIOUR.md 8.1).

use std::collections::BTreeSet;

use mesos_records::IpSource::{Docker, Host, Mesos, Netinfo};
use mesos_records::{generate, IpSource, RecordSet};

/// TestInsertState's harness: leader `master@144.76.157.37:5050`, masters
/// `[144.76.157.37:5050]`, nameserver `mesos-dns.mesos.`.
fn insert_state(rfc952: bool, sources: &[IpSource]) -> RecordSet {
    let mut state = crate::state("reference");
    state.leader = "master@144.76.157.37:5050".to_owned();
    let cfg = crate::config(rfc952, sources, "mesos-dns.mesos.");
    generate(&state, &cfg, &["144.76.157.37:5050".to_owned()]).records
}

fn a(rs: &RecordSet, name: &str) -> BTreeSet<String> {
    rs.a(name)
        .map(|s| s.iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

fn aaaa(rs: &RecordSet, name: &str) -> BTreeSet<String> {
    rs.aaaa(name)
        .map(|s| s.iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

fn srv(rs: &RecordSet, name: &str) -> BTreeSet<String> {
    rs.srv(name)
        .map(|s| {
            s.iter()
                .map(|v| format!("{}:{}", v.target, v.port))
                .collect()
        })
        .unwrap_or_default()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn spec_8_3_insert_state_rfc952() {
    let rs = insert_state(true, &[Netinfo, Docker, Mesos, Host]);
    for (name, want) in [
        ("big-dog.marathon.mesos.", &["10.3.0.1"][..]),
        ("liquor-store.marathon.mesos.", &["10.3.0.1", "10.3.0.2"]),
        (
            "liquor-store.marathon.slave.mesos.",
            &["1.2.3.11", "1.2.3.12"],
        ),
        ("car-store.marathon.slave.mesos.", &["1.2.3.11"]),
        ("nginx.marathon.mesos.", &["10.3.0.3"]),
        ("poseidon.marathon.mesos.", &[]),
        ("poseidon.marathon.slave.mesos.", &[]),
        ("master.mesos.", &["144.76.157.37"]),
        ("master0.mesos.", &["144.76.157.37"]),
        ("leader.mesos.", &["144.76.157.37"]),
        ("slave.mesos.", &["1.2.3.10", "1.2.3.11", "1.2.3.12"]),
        ("some-box.chronoswithaspaceandmixe.mesos.", &["1.2.3.11"]),
        ("marathon.mesos.", &["1.2.3.11"]),
        ("mesos-dns.mesos.", &["127.0.0.1"]),
    ] {
        assert_eq!(a(&rs, name), set(want), "A {name}");
    }
    for (name, want) in [
        ("toy-store.ipv6-framework.mesos.", "fd01:b::1:8000:2"),
        ("toy-store.ipv6-framework.slave.mesos.", "2001:db8::1"),
        ("ipv6-framework.mesos.", "2001:db8::1"),
        ("slave.mesos.", "2001:db8::1"),
    ] {
        assert_eq!(aaaa(&rs, name), set(&[want]), "AAAA {name}");
    }
    for (name, want) in [
        (
            "_big-dog._tcp.marathon.mesos.",
            &[
                "big-dog-4dfjd-0.marathon.mesos.:80",
                "big-dog-4dfjd-0.marathon.mesos.:443",
            ][..],
        ),
        ("_poseidon._tcp.marathon.mesos.", &[]),
        ("_leader._tcp.mesos.", &["leader.mesos.:5050"]),
        (
            "_liquor-store._tcp.marathon.mesos.",
            &[
                "liquor-store-4dfjd-0.marathon.mesos.:80",
                "liquor-store-4dfjd-0.marathon.mesos.:443",
                "liquor-store-zasmd-1.marathon.mesos.:80",
                "liquor-store-zasmd-1.marathon.mesos.:443",
            ],
        ),
        ("_liquor-store._udp.marathon.mesos.", &[]),
        ("_liquor-store.marathon.mesos.", &[]),
        (
            "_https._liquor-store._tcp.marathon.mesos.",
            &[
                "liquor-store-4dfjd-0.marathon.mesos.:443",
                "liquor-store-zasmd-1.marathon.mesos.:443",
            ],
        ),
        (
            "_http._liquor-store._tcp.marathon.mesos.",
            &[
                "liquor-store-4dfjd-0.marathon.mesos.:80",
                "liquor-store-zasmd-1.marathon.mesos.:80",
            ],
        ),
        (
            "_car-store._tcp.marathon.mesos.",
            &[
                "car-store-zinaz-0.marathon.slave.mesos.:31364",
                "car-store-zinaz-0.marathon.slave.mesos.:31365",
            ],
        ),
        (
            "_car-store._udp.marathon.mesos.",
            &[
                "car-store-zinaz-0.marathon.slave.mesos.:31364",
                "car-store-zinaz-0.marathon.slave.mesos.:31365",
            ],
        ),
        ("_slave._tcp.mesos.", &["slave.mesos.:5051"]),
        (
            "_framework._tcp.marathon.mesos.",
            &["marathon.mesos.:25501"],
        ),
    ] {
        assert_eq!(srv(&rs, name), set(want), "SRV {name}");
    }
}

#[test]
fn spec_8_3_ip_source_variants() {
    let host = insert_state(true, &[Host]);
    assert_eq!(
        a(&host, "liquor-store.marathon.mesos."),
        set(&["1.2.3.11", "1.2.3.12"])
    );
    assert_eq!(
        a(&host, "liquor-store.marathon.slave.mesos."),
        set(&["1.2.3.11", "1.2.3.12"])
    );
    assert_eq!(a(&host, "nginx.marathon.mesos."), set(&["1.2.3.11"]));
    assert_eq!(
        a(&host, "car-store.marathon.slave.mesos."),
        set(&["1.2.3.11"])
    );
    assert_eq!(
        aaaa(&host, "toy-store.ipv6-framework.mesos."),
        set(&["2001:db8::1"])
    );
    assert_eq!(
        aaaa(&host, "toy-store.ipv6-framework.slave.mesos."),
        set(&["2001:db8::1"])
    );

    let mesos = insert_state(true, &[Mesos, Host]);
    assert_eq!(
        a(&mesos, "liquor-store.marathon.mesos."),
        set(&["1.2.3.11", "1.2.3.12"])
    );
    assert_eq!(
        a(&mesos, "liquor-store.marathon.slave.mesos."),
        set(&["1.2.3.11", "1.2.3.12"])
    );
    assert_eq!(a(&mesos, "nginx.marathon.mesos."), set(&["10.3.0.3"]));
    assert_eq!(
        a(&mesos, "car-store.marathon.slave.mesos."),
        set(&["1.2.3.11"])
    );
    assert_eq!(
        aaaa(&mesos, "toy-store.ipv6-framework.mesos."),
        set(&["2001:db8::1"])
    );
    assert_eq!(
        aaaa(&mesos, "toy-store.ipv6-framework.slave.mesos."),
        set(&["2001:db8::1"])
    );

    let docker = insert_state(true, &[Docker, Host]);
    assert_eq!(
        a(&docker, "liquor-store.marathon.mesos."),
        set(&["10.3.0.1", "10.3.0.2"])
    );
    assert_eq!(
        a(&docker, "liquor-store.marathon.slave.mesos."),
        set(&["1.2.3.11", "1.2.3.12"])
    );
    assert_eq!(a(&docker, "nginx.marathon.mesos."), set(&["1.2.3.11"]));
    assert_eq!(
        a(&docker, "car-store.marathon.slave.mesos."),
        set(&["1.2.3.11"])
    );
    assert_eq!(
        aaaa(&docker, "toy-store.ipv6-framework.mesos."),
        set(&["2001:db8::1"])
    );
    assert_eq!(
        aaaa(&docker, "toy-store.ipv6-framework.slave.mesos."),
        set(&["2001:db8::1"])
    );

    let netinfo = insert_state(true, &[Netinfo]);
    assert_eq!(
        a(&netinfo, "toy-store.ipv6-framework.mesos."),
        set(&["12.0.1.3", "12.0.1.2"])
    );
    assert_eq!(
        aaaa(&netinfo, "toy-store.ipv6-framework.mesos."),
        set(&["fd01:b::1:8000:2"])
    );
    assert_eq!(
        aaaa(&netinfo, "toy-store.ipv6-framework.slave.mesos."),
        set(&["2001:db8::1"])
    );
}

/// The observed full dump: RFC 1123, IPSources netinfo,docker,mesos,host,
/// leader and masters 127.0.0.1:25050, listener 127.0.0.1, `ns1.mesos.`.
fn full_dump(rfc952: bool) -> RecordSet {
    let mut state = crate::state("reference");
    state.leader = "master@127.0.0.1:25050".to_owned();
    let cfg = crate::config(rfc952, &[Netinfo, Docker, Mesos, Host], "ns1.mesos.");
    let g = generate(&state, &cfg, &["127.0.0.1:25050".to_owned()]);
    assert!(g.skips.is_empty(), "{:?}", g.skips);
    g.records
}

#[test]
fn spec_8_3_full_dump_counts_50_a_6_aaaa_46_srv() {
    let rs = full_dump(false);
    assert_eq!(
        (
            rs.a_records().count(),
            rs.aaaa_records().count(),
            rs.srv_records().count()
        ),
        (50, 6, 46),
        "\n{}",
        rs.dump()
    );
    for name in [
        "leader.mesos.",
        "master.mesos.",
        "master0.mesos.",
        "ns1.mesos.",
        "nopid.mesos.",
    ] {
        assert_eq!(a(&rs, name), set(&["127.0.0.1"]), "{name}");
    }
    assert_eq!(a(&rs, "marathon.mesos."), set(&["1.2.3.11"]));
    assert_eq!(
        a(&rs, "chronoswithaspaceandmixedcase-2.0.1.mesos."),
        set(&["1.2.3.12"])
    );
    assert_eq!(
        a(&rs, "slave.mesos."),
        set(&["1.2.3.10", "1.2.3.11", "1.2.3.12"])
    );
    for (stem, fw) in [
        ("toy-store-go588-3", "ipv6-framework"),
        ("some-box-h3dyr-0", "chronoswithaspaceandmixedcase-2.0.1"),
        ("liquor-store-4dfjd-0", "marathon"),
        ("big-dog-4dfjd-0", "marathon"),
        ("liquor-store-zasmd-1", "marathon"),
        ("car-store-zinaz-0", "marathon"),
        ("chronos-rx8q6-0", "marathon"),
        ("nginx-6ud99-0", "marathon"),
        ("reviewbot-8sq89-1", "marathon"),
        ("liquor.store-4dfjd-0", "marathon"),
        ("big.dog-4dfjd-0", "marathon"),
    ] {
        for name in [
            format!("{stem}.{fw}.mesos."),
            format!("{stem}.{fw}.slave.mesos."),
        ] {
            assert!(rs.a(&name).is_some() || rs.aaaa(&name).is_some(), "{name}");
        }
    }
    for legacy in [
        "liquor.store.marathon.mesos.",
        "big.dog.marathon.slave.mesos.",
    ] {
        assert!(rs.a(legacy).is_some(), "{legacy}");
    }
    assert_eq!(
        srv(&rs, "_liquor.store._tcp.marathon.mesos."),
        set(&[
            "liquor.store-4dfjd-0.marathon.mesos.:80",
            "liquor.store-4dfjd-0.marathon.mesos.:443",
            "liquor.store-zasmd-1.marathon.mesos.:80",
            "liquor.store-zasmd-1.marathon.mesos.:443",
        ])
    );
    assert_eq!(
        a(&rs, "toy-store.ipv6-framework.mesos."),
        set(&["12.0.1.2", "12.0.1.3"])
    );
    assert_eq!(
        aaaa(&rs, "toy-store.ipv6-framework.mesos."),
        set(&["fd01:b::1:8000:2"])
    );
    assert!(!rs
        .srv_records()
        .map(|(n, _)| n)
        .any(|n| n.contains("nginx")));
    assert!(!rs.has_name("poseidon.marathon.mesos."));
}

#[test]
fn spec_8_3_rfc952_changes_only_the_chronos_fragment() {
    let rfc1123 = full_dump(false).dump();
    let rfc952 = full_dump(true).dump();
    assert_eq!(
        rfc1123.replace(
            "chronoswithaspaceandmixedcase-2.0.1",
            "chronoswithaspaceandmixe"
        ),
        rfc952
    );
    assert_ne!(rfc1123, rfc952);
}

// BEHAVIOUR.md 4.11: frameworks and tasks in state order, records in insertion
// order, a duplicate credited to the first task only.
#[test]
fn spec_4_11_enumeration_order() {
    let rs = full_dump(false);
    let fws: Vec<&str> = rs.enumeration().frameworks().map(|f| f.name()).collect();
    assert_eq!(
        fws,
        [
            "ipv6-framework",
            "chronos with a space AND MIXED CASE-2.0.1",
            "no pid",
            "marathon"
        ]
    );
    let frameworks: Vec<_> = rs.enumeration().frameworks().collect();
    assert_eq!(frameworks[2].tasks().len(), 0);
    let marathon = frameworks[3];
    let tasks: Vec<&str> = marathon.tasks().map(|t| t.name()).collect();
    assert_eq!(
        tasks,
        [
            "liquor.store",
            "big.dog2",
            "non-human-readable-liquor-store",
            "car.store",
            "chronos",
            "nginx",
            "reviewbot"
        ]
    );
    let marathon_tasks: Vec<_> = marathon.tasks().collect();
    let liquor = marathon_tasks[0];
    let first: Vec<(&str, &str, String)> = liquor
        .records()
        .take(5)
        .map(|r| (r.name, r.rtype, r.host.to_string()))
        .collect();
    let first: Vec<(&str, &str, &str)> =
        first.iter().map(|(n, t, h)| (*n, *t, h.as_str())).collect();
    assert_eq!(
        first,
        [
            ("liquor.store.marathon.mesos.", "A", "10.3.0.1"),
            ("liquor.store-4dfjd-0.marathon.mesos.", "A", "10.3.0.1"),
            ("liquor.store.marathon.slave.mesos.", "A", "1.2.3.11"),
            (
                "liquor.store-4dfjd-0.marathon.slave.mesos.",
                "A",
                "1.2.3.11"
            ),
            (
                "_liquor.store._tcp.marathon.slave.mesos.",
                "SRV",
                "liquor.store-4dfjd-0.marathon.slave.mesos.:31354"
            ),
        ]
    );
    // The second liquor-store task shares the legacy and plain names.
    let other = marathon_tasks[2];
    assert!(other
        .records()
        .all(|r| r.name != "liquor.store.marathon.slave.mesos."
            || r.host.to_string() == "1.2.3.12"));
    let credited: usize = rs
        .enumeration()
        .frameworks()
        .flat_map(|f| f.tasks())
        .map(|t| t.records().len())
        .sum();
    // Every task record is credited exactly once; the 18 others are the
    // framework, slave, nameserver and master records (10 A, 2 AAAA, 6 SRV).
    assert_eq!(credited, rs.len() - 18);
}
