//! Property tests of names on their own: write → parse round trips with
//! and without compression, lowercase keys, and the dotted-text helpers.

use dns_wire::name::{check_wire, from_dotted, is_subdomain};
use dns_wire::{Compressor, Name, Reader, Writer, MAX_NAME_LEN};
use proptest::prelude::*;

fn to_wire(labels: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in labels {
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
    out
}

fn label() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec!["a", "A", "mesos", "MESOS", "marathon", "_tcp"])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..=63),
    ]
}

fn name() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(label(), 0..6)
        .prop_map(|l| to_wire(&l))
        .prop_filter("over 255 octets", |w| w.len() <= MAX_NAME_LEN)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn names_round_trip_with_and_without_compression(
        names in prop::collection::vec(name(), 1..12),
    ) {
        let mut plain = vec![0u8; 12 + 256 * names.len()];
        let mut packed = plain.clone();
        let mut w = Writer::new(&mut plain);
        let mut p = Writer::new(&mut packed);
        w.bytes(&[0; 12]).unwrap();
        p.bytes(&[0; 12]).unwrap();
        let mut c = Compressor::new();
        for n in &names {
            w.bytes(n).unwrap();
            c.write_name(&mut p, n).unwrap();
        }
        let (wl, pl) = (w.len(), p.len());
        prop_assert!(pl <= wl);
        let mut r = Reader::at(&plain[..wl], 12).unwrap();
        let mut s = Reader::at(&packed[..pl], 12).unwrap();
        for n in &names {
            let a = Name::parse(&mut r).unwrap();
            let b = Name::parse(&mut s).unwrap();
            let mut exact = [0u8; 256];
            let mut ew = Writer::new(&mut exact);
            a.write(&mut ew).unwrap();
            prop_assert_eq!(ew.written(), &n[..]);
            prop_assert!(b.eq_wire(n));
            prop_assert_eq!(a, b);
            let (mut ka, mut kb) = ([0u8; MAX_NAME_LEN], [0u8; MAX_NAME_LEN]);
            prop_assert_eq!(a.to_lowercase(&mut ka), &n.to_ascii_lowercase()[..]);
            prop_assert_eq!(b.to_lowercase(&mut kb), &n.to_ascii_lowercase()[..]);
        }
        prop_assert_eq!(r.remaining(), 0);
        prop_assert_eq!(s.remaining(), 0);
    }

    #[test]
    fn dotted_text_round_trips_for_hostname_labels(
        labels in prop::collection::vec("[a-zA-Z0-9_-]{1,63}", 0..5),
    ) {
        let text = labels.join(".");
        let mut out = [0u8; MAX_NAME_LEN];
        match from_dotted(&text, &mut out) {
            Ok(wire) => {
                prop_assert_eq!(check_wire(wire), Ok(wire.len()));
                let mut r = Reader::new(wire);
                let n = Name::parse(&mut r).unwrap();
                let shown = n.to_string();
                let expected = if text.is_empty() { ".".to_string() } else { format!("{text}.") };
                prop_assert_eq!(shown, expected);
                prop_assert!(is_subdomain(wire, b"\x00"));
                prop_assert!(is_subdomain(wire, wire));
            }
            Err(e) => {
                prop_assert_eq!(e, dns_wire::WireError::NameTooLong);
                prop_assert!(text.len() + 2 > MAX_NAME_LEN);
            }
        }
    }
}

#[test]
fn subdomain_checks_whole_labels() {
    let mut a = [0u8; MAX_NAME_LEN];
    let name = from_dotted("web.Marathon.mesos", &mut a).unwrap().to_vec();
    let mut b = [0u8; MAX_NAME_LEN];
    assert!(is_subdomain(&name, from_dotted("mesos", &mut b).unwrap()));
    assert!(is_subdomain(
        &name,
        from_dotted("MARATHON.mesos.", &mut b).unwrap()
    ));
    assert!(!is_subdomain(&name, from_dotted("esos", &mut b).unwrap()));
    assert!(!is_subdomain(
        &name,
        from_dotted("thon.mesos", &mut b).unwrap()
    ));
    assert!(!is_subdomain(from_dotted("mesos", &mut b).unwrap(), &name));
}
