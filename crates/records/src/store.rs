//! The record store generation writes to: a [`RecordSetBuilder`] plus the
//! skips, building names from parts and keeping invalid names out.

use std::net::IpAddr;

use crate::builder::RecordSetBuilder;
use crate::record::RecordSet;
use crate::skip::{Skip, SkipReason};

/// Longest name in presentation form with the trailing dot: 255 octets on
/// the wire is 254 characters here (RFC 1035 2.3.4).
pub const MAX_NAME_LEN: usize = 254;

/// True if `name` is absolute (trailing dot), not the root, at most 255
/// octets on the wire, and each label is 1..=63 letters, digits, hyphens or
/// underscores. Every name generation stores passes this test.
pub fn is_valid_name(name: &str) -> bool {
    let Some(body) = name.strip_suffix('.') else {
        return false;
    };
    if body.is_empty() || name.len() > MAX_NAME_LEN {
        return false;
    }
    are_labels(&[body])
}

/// True if the concatenation of `parts` is one or more labels separated by
/// dots, each 1..=63 letters, digits, hyphens or underscores: then it
/// makes a valid name with a valid [`Suffix`] (length aside), which
/// checks only the parts that change from name to name.
fn are_labels(parts: &[&str]) -> bool {
    // One pass over the bytes, by table: this runs for every name
    // generated.
    let mut label = 0usize;
    for part in parts {
        for &b in part.as_bytes() {
            match BYTE_CLASS.get(usize::from(b)) {
                Some(&LABEL) => {
                    label += 1;
                    if label > 63 {
                        return false;
                    }
                }
                Some(&DOT) if label > 0 => label = 0,
                _ => return false,
            }
        }
    }
    label > 0
}

/// [`BYTE_CLASS`] of a letter, digit, hyphen or underscore.
const LABEL: u8 = 1;
/// [`BYTE_CLASS`] of `.`.
const DOT: u8 = 2;

/// Each byte's class in a name: [`LABEL`], [`DOT`], or 0 (not allowed).
const BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            t[b] = LABEL;
        } else if c == b'.' {
            t[b] = DOT;
        }
        b += 1;
    }
    t
};

/// The end of many names, e.g. `.marathon.mesos.`, checked once: names
/// built as labels plus a valid suffix need only their labels checked.
#[derive(Clone, Debug)]
pub(crate) struct Suffix {
    text: String,
    /// True if `text` is `.` followed by a valid name.
    valid: bool,
}

impl Suffix {
    /// The suffix `text` (normally starting with `.`).
    pub(crate) fn new(text: String) -> Suffix {
        let valid = text.strip_prefix('.').is_some_and(is_valid_name);
        Suffix { text, valid }
    }
}
/// A record set under construction plus what was skipped.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) records: RecordSetBuilder,
    pub(crate) skips: Vec<Skip>,
}

impl Store {
    /// A store; `enumerate` is `EnumerationOn`.
    pub(crate) fn new(enumerate: bool) -> Self {
        Store {
            records: RecordSetBuilder::new(enumerate),
            ..Store::default()
        }
    }

    /// The finished, sorted record set.
    pub(crate) fn finish(self) -> (RecordSet, Vec<Skip>) {
        (self.records.finish(), self.skips)
    }

    /// Records a skip (logged at debug level).
    pub(crate) fn skip(&mut self, reason: SkipReason, detail: String) {
        log::debug!("records: skipping {reason}: {detail}");
        self.skips.push(Skip { reason, detail });
    }

    /// True if `name` may be stored; otherwise records why not.
    pub(crate) fn name_ok(&mut self, name: &str, kind: &str, id: &str) -> bool {
        if is_valid_name(name) {
            return true;
        }
        self.skip(
            SkipReason::InvalidName,
            format!("{kind} {id:?}: {name:?} is not a valid DNS name"),
        );
        false
    }

    /// The number of the name `parts` and `suffix` concatenate to, if it
    /// may be stored (otherwise the skip is recorded as by
    /// [`Store::name_ok`]). The name is not looked up: an equal name gets
    /// another number until [`RecordSetBuilder::finish`] merges them.
    pub(crate) fn name(
        &mut self,
        parts: &[&str],
        suffix: &Suffix,
        kind: &str,
        id: &str,
    ) -> Option<u32> {
        let len = parts.iter().map(|p| p.len()).sum::<usize>() + suffix.text.len();
        if suffix.valid && len <= MAX_NAME_LEN && are_labels(parts) {
            let all = parts.iter().copied().chain([suffix.text.as_str()]);
            return Some(self.records.push_name(all));
        }
        // The rare path: check the whole name as generation always did, so
        // an invalid one is skipped with the same reason.
        let mut name = String::with_capacity(len);
        for p in parts {
            name.push_str(p);
        }
        name.push_str(&suffix.text);
        if !self.name_ok(&name, kind, id) {
            return None;
        }
        Some(self.records.push_name([name.as_str()]))
    }

    /// Inserts an A or AAAA record; an IPv4-mapped IPv6 address becomes an
    /// A record, as Go's `To4` makes it in mesos-dns.
    pub(crate) fn ip(&mut self, name: &str, ip: IpAddr) {
        let n = self.records.intern(name);
        self.ip_at(n, ip);
    }

    /// [`Store::ip`] for name number `n`.
    pub(crate) fn ip_at(&mut self, n: u32, ip: IpAddr) {
        match unmap(ip) {
            IpAddr::V4(v4) => self.records.add_a(n, v4),
            IpAddr::V6(v6) => self.records.add_aaaa(n, v6),
        }
        if log::log_enabled!(log::Level::Trace) {
            let rtype = if unmap(ip).is_ipv4() { "A" } else { "AAAA" };
            let name = self.records.name(n);
            log::trace!("[{rtype}]\t{name}: {}", crate::Host::Ip(ip));
        }
    }

    /// [`Store::ip`], returning true if the record is new. Linear in the
    /// records so far (see [`RecordSetBuilder::has_a`]).
    pub(crate) fn ip_if_new(&mut self, name: &str, ip: IpAddr) -> bool {
        let n = self.records.intern(name);
        let known = match unmap(ip) {
            IpAddr::V4(v4) => self.records.has_a(n, v4),
            IpAddr::V6(v6) => self.records.has_aaaa(n, v6),
        };
        if !known {
            self.ip_at(n, ip);
        }
        !known
    }

    /// Inserts an SRV record.
    pub(crate) fn srv(&mut self, name: &str, target: &str, port: u16) {
        let n = self.records.intern(name);
        let t = self.records.intern(target);
        self.srv_at(n, t, port);
    }

    /// [`Store::srv`] for name numbers.
    pub(crate) fn srv_at(&mut self, name: u32, target: u32, port: u16) {
        self.records.add_srv(name, target, port);
        if log::log_enabled!(log::Level::Trace) {
            let (n, t) = (self.records.name(name), self.records.name(target));
            log::trace!("[SRV]\t{n}: {t}:{port}");
        }
    }
}

/// An IPv4-mapped IPv6 address as IPv4 (Go's `To4`).
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_2_3_4_name_limits() {
        assert!(is_valid_name("leader.mesos."));
        assert!(is_valid_name("_http._liquor-store._tcp.marathon.mesos."));
        assert!(is_valid_name("Liquor.Store.marathon.mesos."));
        assert!(is_valid_name(&format!("{}.mesos.", "a".repeat(63))));
        assert!(!is_valid_name(&format!("{}.mesos.", "a".repeat(64))));
        let long = format!("{}mesos.", "abcdefghi.".repeat(24));
        assert_eq!(long.len(), 246);
        assert!(is_valid_name(&long));
        let too_long = format!("{}mesos.", "abcdefghi.".repeat(25));
        assert!(!is_valid_name(&too_long));
        for bad in [
            "",
            ".",
            "mesos",
            ".mesos.",
            "a..mesos.",
            "a b.mesos.",
            "é.mesos.",
            "a*.mesos.",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }

    fn credited(rs: &RecordSet) -> Vec<(String, &'static str, String)> {
        let fw = rs.enumeration().frameworks().next().unwrap();
        let t = fw.tasks().next().unwrap();
        t.records()
            .map(|r| (r.name.to_owned(), r.rtype, r.host.to_string()))
            .collect()
    }

    #[test]
    fn rfc4291_2_5_5_2_mapped_ipv6_is_an_a_record() {
        let mut s = Store::new(true);
        s.records.task("t", "t.1");
        assert!(s.ip_if_new("x.mesos.", "::ffff:1.2.3.4".parse().unwrap()));
        assert!(!s.ip_if_new("x.mesos.", "1.2.3.4".parse().unwrap()));
        let (rs, _) = s.finish();
        assert_eq!(
            credited(&rs),
            [("x.mesos.".to_owned(), "A", "1.2.3.4".to_owned())]
        );
        assert_eq!(rs.a("x.mesos.").unwrap().len(), 1);
        assert!(rs.aaaa("x.mesos.").is_none());
    }

    // spec 4.11: a duplicate is not credited again.
    #[test]
    fn only_new_records_are_credited() {
        let mut s = Store::new(true);
        s.records.framework("f");
        s.records.task("t", "t.1");
        s.srv("_a._tcp.m.", "t.m.", 80);
        s.srv("_a._tcp.m.", "t.m.", 80);
        s.ip("t.m.", "2001:db8::1".parse().unwrap());
        let got = credited(&s.finish().0);
        let got: Vec<(&str, &str, &str)> = got
            .iter()
            .map(|(n, t, h)| (n.as_str(), *t, h.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("_a._tcp.m.", "SRV", "t.m.:80"),
                ("t.m.", "AAAA", "2001:db8::1")
            ]
        );
    }

    /// RFC 1035 2.3.4 and the label bytes generation allows, label by label.
    fn reference_valid(name: &str) -> bool {
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        name.len() <= MAX_NAME_LEN
            && name
                .strip_suffix('.')
                .is_some_and(|body| body.split('.').all(label_ok))
    }

    // A name built from labels and a checked suffix is stored exactly when
    // the whole name is valid, as if it were checked whole.
    proptest::proptest! {
        #[test]
        fn names_by_parts_match_whole_name_check(
            parts in proptest::collection::vec(
                "[a-z0-9_-]{1,40}(\\.[A-Z0-9]{1,30})?|[a-z_.A-Z0-9-]{0,70}|é",
                0..4,
            ),
            suffix in "\\.?[a-z.]{0,12}\\.?|\\.m\\.",
            long in 0usize..4,
        ) {
            let suffix = format!("{}{suffix}", ".abcdefghij".repeat(long * 6));
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            let whole = format!("{}{suffix}", parts.concat());
            let mut s = Store::new(false);
            let n = s.name(&parts, &Suffix::new(suffix), "task", "t");
            proptest::prop_assert_eq!(is_valid_name(&whole), reference_valid(&whole));
            proptest::prop_assert_eq!(n.is_some(), is_valid_name(&whole));
            proptest::prop_assert_eq!(s.skips.len(), usize::from(n.is_none()));
            if let Some(n) = n {
                proptest::prop_assert_eq!(s.records.name(n), whole.as_str());
            }
        }
    }
}
