//! The record store generation writes to: a [`RecordSetBuilder`] plus the
//! skips, building names from parts.
//!
//! Names are not checked: mesos-dns stores every name its rules give,
//! empty labels, over-long labels and any character included, lists them
//! all in its HTTP API, and serves those it can. So do we; which of them
//! can go on the wire is the DNS server's business.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::builder::RecordSetBuilder;
use crate::record::RecordSet;
use crate::skip::{Skip, SkipReason};

/// The end of many names, e.g. `.marathon.mesos.`, built once.
#[derive(Clone, Debug)]
pub(crate) struct Suffix {
    pub(crate) text: String,
}

impl Suffix {
    /// The suffix `text` (normally starting with `.`).
    pub(crate) fn new(text: String) -> Suffix {
        Suffix { text }
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
}

/// Where the generation rules write records: the [`Store`] of a full
/// generation, or the contribution of one producer in the live store
/// ([`crate::live`]). One copy of each rule writes to either.
pub(crate) trait Sink {
    /// The number of the name `parts` and `suffix` concatenate to. The
    /// name need not be looked up: an equal name may get another number
    /// (the [`Store`] merges them in [`RecordSetBuilder::finish`]).
    fn name(&mut self, parts: &[&str], suffix: &Suffix) -> u32;
    /// The number of `name`, looked up.
    fn intern(&mut self, name: &str) -> u32;
    /// Name number `n`.
    fn text(&self, n: u32) -> &str;
    /// Adds an A record.
    fn add_a(&mut self, n: u32, ip: Ipv4Addr);
    /// Adds an AAAA record.
    fn add_aaaa(&mut self, n: u32, ip: Ipv6Addr);
    /// Adds an SRV record.
    fn add_srv(&mut self, n: u32, target: u32, port: u16);
    /// True if name `n` has the (unmapped) address `ip` already.
    fn has_ip(&self, n: u32, ip: IpAddr) -> bool;
    /// The skips so far.
    fn skips(&mut self) -> &mut Vec<Skip>;

    /// Records a skip (logged at debug level).
    fn skip(&mut self, reason: SkipReason, detail: String) {
        log::debug!("records: skipping {reason}: {detail}");
        self.skips().push(Skip { reason, detail });
    }

    /// Inserts an A or AAAA record; an IPv4-mapped IPv6 address becomes an
    /// A record, as Go's `To4` makes it in mesos-dns.
    fn ip(&mut self, name: &str, ip: IpAddr) {
        let n = self.intern(name);
        self.ip_at(n, ip);
    }

    /// [`Sink::ip`] for name number `n`.
    fn ip_at(&mut self, n: u32, ip: IpAddr) {
        match unmap(ip) {
            IpAddr::V4(v4) => self.add_a(n, v4),
            IpAddr::V6(v6) => self.add_aaaa(n, v6),
        }
        if log::log_enabled!(log::Level::Trace) {
            let rtype = if unmap(ip).is_ipv4() { "A" } else { "AAAA" };
            let name = self.text(n);
            log::trace!("[{rtype}]\t{name}: {}", crate::Host::Ip(ip));
        }
    }

    /// [`Sink::ip`], returning true if the record is new.
    fn ip_if_new(&mut self, name: &str, ip: IpAddr) -> bool {
        let n = self.intern(name);
        let known = self.has_ip(n, unmap(ip));
        if !known {
            self.ip_at(n, ip);
        }
        !known
    }

    /// Inserts an SRV record.
    fn srv(&mut self, name: &str, target: &str, port: u16) {
        let n = self.intern(name);
        let t = self.intern(target);
        self.srv_at(n, t, port);
    }

    /// [`Sink::srv`] for name numbers.
    fn srv_at(&mut self, name: u32, target: u32, port: u16) {
        self.add_srv(name, target, port);
        if log::log_enabled!(log::Level::Trace) {
            let (n, t) = (self.text(name), self.text(target));
            log::trace!("[SRV]\t{n}: {t}:{port}");
        }
    }
}

impl Sink for Store {
    fn name(&mut self, parts: &[&str], suffix: &Suffix) -> u32 {
        let all = parts.iter().copied().chain([suffix.text.as_str()]);
        self.records.push_name(all)
    }

    fn intern(&mut self, name: &str) -> u32 {
        self.records.intern(name)
    }

    fn text(&self, n: u32) -> &str {
        self.records.name(n)
    }

    fn add_a(&mut self, n: u32, ip: Ipv4Addr) {
        self.records.add_a(n, ip);
    }

    fn add_aaaa(&mut self, n: u32, ip: Ipv6Addr) {
        self.records.add_aaaa(n, ip);
    }

    fn add_srv(&mut self, n: u32, target: u32, port: u16) {
        self.records.add_srv(n, target, port);
    }

    /// Linear in the records so far (see [`RecordSetBuilder::has_a`]).
    fn has_ip(&self, n: u32, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => self.records.has_a(n, v4),
            IpAddr::V6(v6) => self.records.has_aaaa(n, v6),
        }
    }

    fn skips(&mut self) -> &mut Vec<Skip> {
        &mut self.skips
    }
}

/// An IPv4-mapped IPv6 address as IPv4 (Go's `To4`).
pub(crate) fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    // BEHAVIOUR.md 4.11: a duplicate is not credited again.
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

    // Every name is stored as built, whatever it holds (issue 15).
    #[test]
    fn names_are_stored_as_built() {
        let mut s = Store::new(false);
        let fw = Suffix::new(".marathon.mesos.".to_owned());
        let empty = Suffix::new("..mesos.".to_owned());
        let long = "a".repeat(63);
        for (parts, suffix, want) in [
            (&["bang!"][..], &fw, "bang!.marathon.mesos.".to_owned()),
            (
                &["_", "bang!", "._tcp"],
                &fw,
                "_bang!._tcp.marathon.mesos.".to_owned(),
            ),
            (
                &["queue-svc\u{e9}"],
                &fw,
                "queue-svc\u{e9}.marathon.mesos.".to_owned(),
            ),
            (&["store"], &empty, "store..mesos.".to_owned()),
            (
                &["_", &long, "._tcp"],
                &fw,
                format!("_{long}._tcp.marathon.mesos."),
            ),
        ] {
            let n = s.name(parts, suffix);
            assert_eq!(s.records.name(n), want);
        }
        assert!(s.skips.is_empty());
    }
}
