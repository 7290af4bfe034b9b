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
    // One pass over the bytes: this runs for every name generated.
    let mut label = 0usize;
    for &b in body.as_bytes() {
        if b == b'.' {
            if label == 0 {
                return false;
            }
            label = 0;
        } else if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            label += 1;
            if label > 63 {
                return false;
            }
        } else {
            return false;
        }
    }
    label > 0
}
/// A record set under construction plus what was skipped.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) records: RecordSetBuilder,
    pub(crate) skips: Vec<Skip>,
    /// Reused to build names.
    scratch: String,
    /// Recently used names by hash slot: (hash, number).
    recent: Vec<(u64, u32)>,
}

/// Slots of [`Store::recent`] (16 KiB).
const RECENT: usize = 1024;

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

    /// The number of the name `parts` concatenate to, if it may be stored
    /// (otherwise the skip is recorded as by [`Store::name_ok`]).
    pub(crate) fn name(&mut self, parts: &[&str], kind: &str, id: &str) -> Option<u32> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        for p in parts {
            buf.push_str(p);
        }
        let n = self.name_of(&buf, kind, id);
        self.scratch = buf;
        n
    }

    fn name_of(&mut self, name: &str, kind: &str, id: &str) -> Option<u32> {
        let r = &mut self.records;
        let h = r.index.hash(name);
        // Most names repeat within a few tasks (an app's instances): a small
        // table of recent names answers them from cache.
        let slot = (h as usize) % RECENT;
        if self.recent.len() != RECENT {
            self.recent = vec![(0, u32::MAX); RECENT];
        }
        if let Some(&(rh, n)) = self.recent.get(slot) {
            if rh == h && n != u32::MAX && r.names.get(n) == name {
                return Some(n);
            }
        }
        // Only valid names are interned here, so a known name is valid.
        let n = match r.index.find_hashed(&r.names, name, h) {
            Some(n) => n,
            None => {
                if !self.name_ok(name, kind, id) {
                    return None;
                }
                let r = &mut self.records;
                r.index.push_new(&mut r.names, name, h)
            }
        };
        if let Some(e) = self.recent.get_mut(slot) {
            *e = (h, n);
        }
        Some(n)
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
}
