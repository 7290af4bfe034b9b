use super::*;

fn sample() -> RecordSet {
    let mut rs = RecordSet::default();
    rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    rs.insert_aaaa("web.marathon.mesos.", "fd00::1".parse().unwrap());
    rs.insert_srv(
        "_web._tcp.marathon.mesos.",
        "web-a.marathon.slave.mesos.",
        31000,
    );
    rs.insert_a("leader.mesos.", Ipv4Addr::new(10, 0, 0, 9));
    rs.overrides.ttl.insert("web.marathon.mesos.".into(), 5);
    rs.overrides.ttl.insert("leader.mesos.".into(), 7);
    rs.overrides
        .srv_weight
        .insert("web-a.marathon.slave.mesos.".into(), 3);
    rs
}

fn meta() -> SnapshotMeta {
    SnapshotMeta {
        made_unix: 1_700_000_000,
        settings: "domain=mesos".into(),
    }
}

#[test]
fn a_record_set_round_trips() {
    let rs = sample();
    let bytes = encode(&rs, &meta());
    let (m, back) = decode(&bytes).unwrap();
    assert_eq!(m, meta());
    assert_eq!(back, rs);
    assert_eq!(back.dump(), rs.dump());
    assert_eq!(back.a("web.marathon.mesos.").map(<[_]>::len), Some(2));
    let srv = back.srv("_web._tcp.marathon.mesos.").unwrap();
    assert_eq!(srv.first().unwrap().target, "web-a.marathon.slave.mesos.");
    let empty = RecordSet::default();
    assert_eq!(decode(&encode(&empty, &meta())).unwrap().1, empty);
}

#[test]
fn generated_records_with_their_enumeration_round_trip() {
    let body = br#"{"leader": "master@10.0.0.1:5050",
      "slaves": [{"id": "a-S0", "pid": "slave(1)@10.0.1.1:5051"}],
      "frameworks": [{"name": "marathon", "pid": "scheduler@10.0.0.2:8080",
        "tasks": [{"id": "test", "name": "web", "slave_id": "a-S0",
                   "state": "TASK_RUNNING", "resources": {"ports": "[31000-31001]"}}]}]}"#;
    let state = crate::State::parse(body).unwrap();
    let cfg = crate::GenConfig {
        listener: "127.0.0.1".into(),
        resolver: crate::Resolver::fixed(&[]),
        local_addrs: crate::LocalAddrs::fixed(&[]),
        ..crate::GenConfig::default()
    };
    let rs = crate::generate(&state, &cfg, &["10.0.0.1:5050".to_owned()]).records;
    let (_, back) = decode(&encode(&rs, &meta())).unwrap();
    assert_eq!(back, rs);
    let json =
        |r: &RecordSet| format!("{:?}", r.enumeration().frameworks().collect::<Vec<_>>());
    assert_eq!(json(&back), json(&rs));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = encode(&sample(), &meta());
    for len in 0..bytes.len() {
        let err = decode(&bytes[..len]).unwrap_err();
        assert_eq!(err, SnapshotError::Truncated, "{len}");
    }
    assert_eq!(
        decode(&bytes[..bytes.len() / 2]).unwrap_err(),
        SnapshotError::Truncated
    );
}

#[test]
fn foreign_damaged_and_other_versions_are_errors() {
    let bytes = encode(&sample(), &meta());
    assert_eq!(
        decode(b"{\"json\": true}").unwrap_err(),
        SnapshotError::Magic
    );
    let mut v2 = bytes.clone();
    v2[8] = 2;
    assert_eq!(decode(&v2).unwrap_err(), SnapshotError::Version(2));
    for at in 12..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        assert!(decode(&bad).is_err(), "flip at {at}");
    }
}

/// With a matching checksum (the fuzz target's case), inconsistent
/// parts are still refused.
#[test]
fn inconsistent_parts_are_refused_even_with_a_good_checksum() {
    let bytes = encode(&sample(), &meta());
    let reseal = |mut b: Vec<u8>| {
        let n = b.len() - 4;
        let sum = crc32fast::hash(&b[..n]);
        b[n..].copy_from_slice(&sum.to_le_bytes());
        b
    };
    let mut refused = 0;
    for at in 12..bytes.len() - 4 {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[at] ^= flip;
            if let Err(e) = decode(&reseal(bad)) {
                refused += 1;
                assert!(!matches!(e, SnapshotError::Checksum), "{e}");
            }
        }
    }
    assert!(refused > 0);
}

/// The fuzz target's seed, written by hand to the documented format,
/// decodes: the format table above is the format.
#[test]
fn the_documented_format_is_the_format() {
    let seed = include_bytes!("../../../../../fuzz/corpus/snapshot_decode/seed-small");
    let (m, rs) = decode(seed).unwrap();
    assert_eq!(m, meta());
    assert_eq!(
        rs.a("leader.mesos."),
        Some(&[Ipv4Addr::new(10, 0, 0, 9)][..])
    );
    assert_eq!(encode(&rs, &m), seed);
    let fw = rs.enumeration().frameworks().next().unwrap();
    assert_eq!(fw.name(), "marathon");
    assert_eq!(fw.tasks().next().unwrap().records().len(), 2);
    assert_eq!(rs.ttl_of("web.marathon.mesos."), Some(5));
    assert_eq!(rs.srv_weight_of("web-a.marathon.slave.mesos."), Some(7));
}
