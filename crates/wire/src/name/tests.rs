#[test]
fn exact_subdomain_test_agrees_on_lowercase_names() {
    let names: [&[u8]; 7] = [
        b"\x05mesos\x00",
        b"\x03web\x05mesos\x00",
        b"\x03web\x08marathon\x05mesos\x00",
        b"\x04xmesos\x00",
        b"\x05mesos\x03com\x00",
        b"\x00",
        b"\x02ab",
    ];
    let zones: [&[u8]; 3] = [b"\x05mesos\x00", b"\x00", b"\x08marathon\x05mesos\x00"];
    for name in names {
        for zone in zones {
            assert_eq!(is_subdomain_exact(name, zone), is_subdomain(name, zone));
        }
    }
    assert!(is_subdomain(b"\x03WEB\x05MeSoS\x00", b"\x05mesos\x00"));
    assert!(!is_subdomain_exact(
        b"\x03WEB\x05MeSoS\x00",
        b"\x05mesos\x00"
    ));
}
use super::*;

fn parse_at(msg: &[u8], at: usize) -> Result<(Name<'_>, usize), WireError> {
    let mut r = Reader::at(msg, at)?;
    let n = Name::parse(&mut r)?;
    Ok((n, r.pos()))
}

#[test]
fn parses_plain_name() {
    let msg = b"\x03www\x07example\x03com\x00rest";
    let (n, end) = parse_at(msg, 0).unwrap();
    assert_eq!(end, 17);
    assert_eq!(n.wire_len(), 17);
    assert_eq!(n.label_count(), 3);
    let mut key = [0; MAX_NAME_LEN];
    assert_eq!(n.to_lowercase(&mut key), b"\x03www\x07example\x03com\x00");
    assert_eq!(std::format!("{n}"), "www.example.com.");
}

#[test]
fn follows_backward_pointer_and_lowercases() {
    let msg = b"\x03COM\x00\x03WwW\xc0\x00";
    let (n, end) = parse_at(msg, 5).unwrap();
    assert_eq!(end, 11);
    assert_eq!(n.wire_len(), 9);
    let mut key = [0; MAX_NAME_LEN];
    assert_eq!(n.to_lowercase(&mut key), b"\x03www\x03com\x00");
    assert!(n.eq_wire(b"\x03WWW\x03com\x00"));
    assert!(!n.eq_wire(b"\x03wwx\x03com\x00"));
    assert!(n.is_subdomain_of(b"\x03com\x00"));
    assert!(n.is_subdomain_of(b"\x00"));
    assert!(!n.is_subdomain_of(b"\x02om\x00"));
}

#[test]
fn rejects_pointer_into_own_run() {
    let msg = b"\x01a\xc0\x00";
    assert_eq!(
        parse_at(msg, 0).map(|_| ()),
        Err(WireError::BadPointer { at: 2, to: 0 })
    );
}

#[test]
fn root_name() {
    let (n, end) = parse_at(b"\x00", 0).unwrap();
    assert!(n.is_root());
    assert_eq!(end, 1);
    assert_eq!(std::format!("{n}"), ".");
}

#[test]
fn from_dotted_converts_and_checks() {
    let mut out = [0; MAX_NAME_LEN];
    assert_eq!(from_dotted("a.bc.", &mut out).unwrap(), b"\x01a\x02bc\x00");
    assert_eq!(from_dotted("a.bc", &mut out).unwrap(), b"\x01a\x02bc\x00");
    assert_eq!(from_dotted("", &mut out).unwrap(), b"\x00");
    assert_eq!(from_dotted(".", &mut out).unwrap(), b"\x00");
    assert_eq!(from_dotted("a..b", &mut out), Err(WireError::EmptyLabel));
    assert_eq!(from_dotted(".a", &mut out), Err(WireError::EmptyLabel));
    let l64 = "x".repeat(64);
    assert_eq!(from_dotted(&l64, &mut out), Err(WireError::LabelTooLong));
    // 4 labels of 63 = 256 octets with the root: one too many.
    let l63 = "y".repeat(63);
    let long = [l63.as_str(); 4].join(".");
    assert_eq!(from_dotted(&long, &mut out), Err(WireError::NameTooLong));
    let ok = std::format!("{}.{}", [l63.as_str(); 3].join("."), "z".repeat(61));
    assert_eq!(from_dotted(&ok, &mut out).unwrap().len(), 255);
    assert_eq!(check_wire(from_dotted(&ok, &mut out).unwrap()), Ok(255));
}

#[test]
fn check_wire_rejects_non_names() {
    assert_eq!(check_wire(b"\x01a"), Err(WireError::Truncated));
    assert_eq!(check_wire(b"\x01a\x00\x00"), Err(WireError::TrailingData));
    assert_eq!(check_wire(b"\xc0\x0c"), Err(WireError::LabelType(0xc0)));
}

#[test]
fn display_escapes() {
    let msg = b"\x03a.\\\x01\x00\x00";
    let (n, _) = parse_at(msg, 0).unwrap();
    assert_eq!(std::format!("{n}"), "a\\.\\\\.\\000.");
}
