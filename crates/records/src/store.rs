//! The record store being built (spec 4.1): inserts that deduplicate, credit
//! new task records to the enumeration (spec 4.11), and keep invalid names out.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::record::{EnumRecord, Enumeration, RecordSet, Srv, SrvKey};
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
    !body.is_empty()
        && name.len() <= MAX_NAME_LEN
        && body.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Where a task's newly inserted records are listed, when enumeration is on.
pub(crate) type Credit<'a> = Option<&'a mut Vec<EnumRecord>>;

/// A record set under construction plus what was skipped.
///
/// Names are kept in hash maps while building: a `BTreeMap<String, _>` of a
/// few hundred thousand names costs a pointer chase per key comparison on
/// every insert. [`Store::finish`] sorts once into the [`RecordSet`].
#[derive(Debug, Default)]
pub(crate) struct Store {
    a: HashMap<String, BTreeSet<Ipv4Addr>>,
    aaaa: HashMap<String, BTreeSet<Ipv6Addr>>,
    srv: HashMap<String, BTreeSet<Srv>>,
    pub(crate) enumeration: Enumeration,
    pub(crate) skips: Vec<Skip>,
}

/// Inserts `v` under `name`, allocating the key only for a new name.
fn insert<V: Ord>(map: &mut HashMap<String, BTreeSet<V>>, name: &str, v: V) -> bool {
    match map.get_mut(name) {
        Some(set) => set.insert(v),
        None => {
            map.insert(name.to_owned(), BTreeSet::from([v]));
            true
        }
    }
}

impl Store {
    /// The finished, sorted record set.
    pub(crate) fn finish(self) -> (RecordSet, Vec<Skip>) {
        let rs = RecordSet {
            a: self.a.into_iter().collect(),
            aaaa: self.aaaa.into_iter().collect(),
            srv: self.srv.into_iter().collect(),
            enumeration: self.enumeration,
        };
        (rs, self.skips)
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

    /// Inserts an A or AAAA record; an IPv4-mapped IPv6 address becomes an
    /// A record, as Go's `To4` makes it in mesos-dns. Returns true if new.
    pub(crate) fn ip(&mut self, name: &str, ip: IpAddr, credit: Credit<'_>) -> bool {
        let (added, rtype) = match ip {
            IpAddr::V4(v4) => (insert(&mut self.a, name, v4), "A"),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (insert(&mut self.a, name, v4), "A"),
                None => (insert(&mut self.aaaa, name, v6), "AAAA"),
            },
        };
        if added {
            log::trace!("[{rtype}]\t{name}: {}", display_ip(ip));
            if let Some(list) = credit {
                list.push(EnumRecord {
                    name: name.to_owned(),
                    host: display_ip(ip),
                    rtype,
                });
            }
        }
        added
    }

    /// Inserts an SRV record. Returns true if new.
    pub(crate) fn srv(
        &mut self,
        name: &str,
        target: &str,
        port: u16,
        credit: Credit<'_>,
    ) -> bool {
        let added = match self.srv.get_mut(name) {
            // Borrowed lookup first: a duplicate costs no allocation.
            Some(set) if set.contains(&(target, port) as &dyn SrvKey) => false,
            Some(set) => set.insert(Srv {
                target: target.to_owned(),
                port,
            }),
            None => {
                let srv = Srv {
                    target: target.to_owned(),
                    port,
                };
                self.srv.insert(name.to_owned(), BTreeSet::from([srv]));
                true
            }
        };
        if added {
            log::trace!("[SRV]\t{name}: {target}:{port}");
            if let Some(list) = credit {
                list.push(EnumRecord {
                    name: name.to_owned(),
                    host: {
                        let mut h = String::with_capacity(target.len() + 6);
                        h.push_str(target);
                        h.push(':');
                        h.push_str(itoa(port, &mut [0; 5]));
                        h
                    },
                    rtype: "SRV",
                });
            }
        }
        added
    }
}

/// `n` in decimal, written into `buf`.
fn itoa(mut n: u16, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(i..).unwrap_or_default()).unwrap_or_default()
}

/// Go `net.IP.String()`: dotted quad for IPv4 and IPv4-mapped IPv6,
/// RFC 5952 text otherwise.
pub(crate) fn display_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_matches_display() {
        for n in [0u16, 7, 10, 80, 443, 9999, 10000, 65535] {
            assert_eq!(itoa(n, &mut [0; 5]), n.to_string());
        }
    }

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

    #[test]
    fn rfc4291_2_5_5_2_mapped_ipv6_is_an_a_record() {
        let mut s = Store::default();
        let mut list = Vec::new();
        assert!(s.ip(
            "x.mesos.",
            "::ffff:1.2.3.4".parse().unwrap(),
            Some(&mut list)
        ));
        assert!(!s.ip("x.mesos.", "1.2.3.4".parse().unwrap(), Some(&mut list)));
        let (rs, _) = s.finish();
        assert_eq!(rs.a["x.mesos."].len(), 1);
        assert!(rs.aaaa.is_empty());
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].host, "1.2.3.4");
        assert_eq!(list[0].rtype, "A");
    }

    // spec 4.11: a duplicate is not credited again.
    #[test]
    fn only_new_records_are_credited() {
        let mut s = Store::default();
        let mut list = Vec::new();
        assert!(s.srv("_a._tcp.m.", "t.m.", 80, Some(&mut list)));
        assert!(!s.srv("_a._tcp.m.", "t.m.", 80, Some(&mut list)));
        assert!(s.ip("t.m.", "2001:db8::1".parse().unwrap(), Some(&mut list)));
        let got: Vec<(&str, &str, &str)> = list
            .iter()
            .map(|r| (r.name.as_str(), r.host.as_str(), r.rtype))
            .collect();
        assert_eq!(
            got,
            [
                ("_a._tcp.m.", "t.m.:80", "SRV"),
                ("t.m.", "2001:db8::1", "AAAA")
            ]
        );
    }
}
