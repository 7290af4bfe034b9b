//! The record store being built (spec 4.1): inserts that deduplicate, credit
//! new task records to the enumeration (spec 4.11), and keep invalid names out.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::enumeration::{EnumData, FwData, HostData, RecData, TaskData};
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
    !body.is_empty()
        && name.len() <= MAX_NAME_LEN
        && body.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Builds a [`RecordSet`]: inserts deduplicate, and with the enumeration on,
/// a record inserted for the first time while a task is open is credited to
/// that task (spec 4.11). Names are not checked here (generation checks
/// them with [`is_valid_name`] before inserting).
///
/// ```
/// use mesos_records::RecordSetBuilder;
///
/// let mut b = RecordSetBuilder::new(true);
/// b.insert_a("ns1.mesos.", "10.0.0.1".parse().unwrap());
/// b.framework("marathon");
/// b.task("web", "web.1");
/// b.insert_srv("_web._tcp.marathon.mesos.", "web-x-s1.marathon.mesos.", 31000);
/// let rs = b.finish();
/// let task = rs.enumeration().frameworks().next().unwrap().tasks().next().unwrap();
/// assert_eq!(task.records().len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct RecordSetBuilder {
    a: HashMap<String, BTreeSet<Ipv4Addr>>,
    aaaa: HashMap<String, BTreeSet<Ipv6Addr>>,
    srv: HashMap<String, BTreeSet<(String, u16)>>,
    enumerate: bool,
    /// True while a task is open: new records are credited to the last
    /// task of the last framework.
    in_task: bool,
    enumeration: EnumData,
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

impl RecordSetBuilder {
    /// An empty builder; `enumerate` is `EnumerationOn`.
    pub fn new(enumerate: bool) -> Self {
        RecordSetBuilder {
            enumerate,
            ..RecordSetBuilder::default()
        }
    }

    /// Starts the next framework of the enumeration (and ends any task).
    pub fn framework(&mut self, name: &str) {
        self.in_task = false;
        if self.enumerate {
            self.enumeration.frameworks.push(FwData {
                name: name.to_owned(),
                tasks: Vec::new(),
            });
        }
    }

    /// Starts the next task of the current framework: records inserted
    /// from now on for the first time are credited to it. Without a
    /// framework, starts one named `""`.
    pub fn task(&mut self, name: &str, id: &str) {
        if !self.enumerate {
            return;
        }
        if self.enumeration.frameworks.is_empty() {
            self.framework("");
        }
        if let Some(fw) = self.enumeration.frameworks.last_mut() {
            fw.tasks.push(TaskData {
                name: name.to_owned(),
                id: id.to_owned(),
                records: Vec::new(),
            });
            self.in_task = true;
        }
    }

    /// Ends the current task: later records are credited to nobody.
    pub fn end_task(&mut self) {
        self.in_task = false;
    }

    fn credit(&mut self, name: &str, rtype: &'static str, host: HostData) {
        if !self.in_task {
            return;
        }
        let task = self
            .enumeration
            .frameworks
            .last_mut()
            .and_then(|f| f.tasks.last_mut());
        if let Some(t) = task {
            t.records.push(RecData {
                name: name.to_owned(),
                rtype,
                host,
            });
        }
    }

    /// Inserts an A record; returns true if it was not there before.
    pub fn insert_a(&mut self, name: &str, ip: Ipv4Addr) -> bool {
        let added = insert(&mut self.a, name, ip);
        if added {
            self.credit(name, "A", HostData::Ip(IpAddr::V4(ip)));
        }
        added
    }

    /// Inserts an AAAA record; returns true if it was not there before.
    pub fn insert_aaaa(&mut self, name: &str, ip: Ipv6Addr) -> bool {
        let added = insert(&mut self.aaaa, name, ip);
        if added {
            self.credit(name, "AAAA", HostData::Ip(IpAddr::V6(ip)));
        }
        added
    }

    /// Inserts an SRV record; returns true if it was not there before.
    pub fn insert_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        let added = insert(&mut self.srv, name, (target.to_owned(), port));
        if added {
            self.credit(name, "SRV", HostData::Srv(target.to_owned(), port));
        }
        added
    }

    /// The finished, sorted record set.
    pub fn finish(self) -> RecordSet {
        fn sorted<V>(
            m: HashMap<String, BTreeSet<V>>,
        ) -> std::collections::BTreeMap<String, Vec<V>> {
            m.into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect()
        }
        RecordSet::from_parts(
            sorted(self.a),
            sorted(self.aaaa),
            sorted(self.srv),
            self.enumeration,
        )
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
            skips: Vec::new(),
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

    /// Inserts an A or AAAA record; an IPv4-mapped IPv6 address becomes an
    /// A record, as Go's `To4` makes it in mesos-dns. Returns true if new.
    pub(crate) fn ip(&mut self, name: &str, ip: IpAddr) -> bool {
        let (added, rtype) = match ip {
            IpAddr::V4(v4) => (self.records.insert_a(name, v4), "A"),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (self.records.insert_a(name, v4), "A"),
                None => (self.records.insert_aaaa(name, v6), "AAAA"),
            },
        };
        if added {
            log::trace!("[{rtype}]\t{name}: {}", crate::Host::Ip(ip));
        }
        added
    }

    /// Inserts an SRV record. Returns true if new.
    pub(crate) fn srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        let added = self.records.insert_srv(name, target, port);
        if added {
            log::trace!("[SRV]\t{name}: {target}:{port}");
        }
        added
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
        assert!(s.ip("x.mesos.", "::ffff:1.2.3.4".parse().unwrap()));
        assert!(!s.ip("x.mesos.", "1.2.3.4".parse().unwrap()));
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
        assert!(s.srv("_a._tcp.m.", "t.m.", 80));
        assert!(!s.srv("_a._tcp.m.", "t.m.", 80));
        assert!(s.ip("t.m.", "2001:db8::1".parse().unwrap()));
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
