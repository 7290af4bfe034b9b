//! A change of the DNS records: the record values removed and added.
//!
//! A [`Delta`] is the unit every incremental consumer works from: the
//! answer table patches the names it touches, and the zone-transfer
//! journal (IXFR, RFC 1995) keeps deltas stamped with the serial each one
//! leads to. It holds DNS records only (A, AAAA, SRV values of owner
//! names), not the enumeration behind `/v1/enumerate`.
//!
//! [`RecordSet::diff`] computes the delta between two record sets by
//! walking both in name order: O(size of both), the reference that any
//! faster producer of deltas must agree with.
//!
//! A delta is normalised: each side sorted by (name, value) and without
//! duplicates, and no record is both removed and added.

use std::cmp::Ordering;
use std::net::{Ipv4Addr, Ipv6Addr};

pub use crate::lookup::Lookup;
use crate::record::{Owner, RecordSet};

/// One record value of an owner name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An SRV target (absolute, trailing dot) and port; priority 0 and the
    /// configured weight, as every SRV record.
    Srv {
        /// Target host name.
        target: String,
        /// Target port.
        port: u16,
    },
}

/// One record: an owner name (absolute, trailing dot) and one value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Record {
    /// The owner name.
    pub name: String,
    /// The value.
    pub value: Value,
}

impl Record {
    /// A record of `name` with `value`.
    pub fn new(name: &str, value: Value) -> Record {
        Record {
            name: name.to_owned(),
            value,
        }
    }
}

/// The records removed and added by one change (see the
/// [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// Records present before and gone after, sorted.
    pub removed: Vec<Record>,
    /// Records absent before and present after, sorted.
    pub added: Vec<Record>,
}

impl Delta {
    /// A delta from unordered sides: sorts them, drops duplicates, and
    /// cancels a record found on both sides.
    pub fn new(mut removed: Vec<Record>, mut added: Vec<Record>) -> Delta {
        removed.sort_unstable();
        removed.dedup();
        added.sort_unstable();
        added.dedup();
        if removed.is_empty() || added.is_empty() {
            return Delta { removed, added };
        }
        let (mut r, mut a) = (Vec::new(), Vec::new());
        let mut ai = added.into_iter().peekable();
        for rec in removed {
            while ai.peek().is_some_and(|x| *x < rec) {
                a.extend(ai.next());
            }
            match ai.peek() == Some(&rec) {
                true => {
                    ai.next();
                }
                false => r.push(rec),
            }
        }
        a.extend(ai);
        Delta {
            removed: r,
            added: a,
        }
    }

    /// True if nothing changed.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }

    /// Number of records removed plus added.
    pub fn len(&self) -> usize {
        self.removed.len() + self.added.len()
    }

    /// Every owner name with a record removed or added, sorted, each once.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .removed
            .iter()
            .chain(&self.added)
            .map(|r| r.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// This delta followed by `next`, as one delta (what IXFR condenses
    /// several versions into: RFC 1995 section 4).
    pub fn then(&self, next: &Delta) -> Delta {
        let removed = self.removed.iter().chain(&next.removed);
        let added = self.added.iter().chain(&next.added);
        // A record added by `self` and removed by `next` cancels, as does
        // one removed by `self` and added back by `next`.
        Delta::new(removed.cloned().collect(), added.cloned().collect())
    }
}

/// What a publisher of deltas hands the answer table with each change: the
/// values after the change ([`Lookup`], read while the delta is applied),
/// and the whole record set on demand for what needs every record (the
/// HTTP API's bodies, a full compile after a settings change). A view is
/// immutable once handed over: the table keeps it for the HTTP API of
/// that generation.
pub trait View: Lookup + Send + Sync + std::fmt::Debug {
    /// The whole record set, DNS records and enumeration. May cost
    /// O(size): the table asks at most once per generation, and only when
    /// an HTTP body or a full compile needs it.
    fn record_set(&self) -> RecordSet;

    /// The view itself when it is a [`RecordSet`] (nothing to build).
    fn as_record_set(&self) -> Option<&RecordSet> {
        None
    }
}

impl View for RecordSet {
    fn record_set(&self) -> RecordSet {
        self.clone()
    }

    fn as_record_set(&self) -> Option<&RecordSet> {
        Some(self)
    }
}

/// The reference lookup. `srv_owners` walks every SRV record: O(size).
impl Lookup for RecordSet {
    fn a(&self, name: &str) -> &[Ipv4Addr] {
        RecordSet::a(self, name).unwrap_or_default()
    }

    fn aaaa(&self, name: &str) -> &[Ipv6Addr] {
        RecordSet::aaaa(self, name).unwrap_or_default()
    }

    fn srv(&self, name: &str) -> Vec<(&str, u16)> {
        RecordSet::srv(self, name)
            .into_iter()
            .flatten()
            .map(|s| (s.target, s.port))
            .collect()
    }

    fn srv_owners(&self, target: &str) -> Vec<&str> {
        self.srv_records()
            .filter(|(_, set)| set.iter().any(|s| s.target == target))
            .map(|(n, _)| n)
            .collect()
    }

    fn ttl_of(&self, name: &str) -> Option<u32> {
        RecordSet::ttl_of(self, name)
    }

    fn srv_weight_of(&self, target: &str) -> Option<u16> {
        RecordSet::srv_weight_of(self, target)
    }
}

impl RecordSet {
    /// The records to remove from `self` and add to it to get `new`: every
    /// value of an owner name present in one and not the other.
    pub fn diff(&self, new: &RecordSet) -> Delta {
        let mut d = Delta::default();
        let mut old = self.owners().peekable();
        let mut next = new.owners().peekable();
        loop {
            let order = match (old.peek(), next.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(o), Some(n)) => o.name.cmp(n.name),
            };
            match order {
                Ordering::Less => {
                    if let Some(o) = old.next() {
                        values(&o, &mut d.removed);
                    }
                }
                Ordering::Greater => {
                    if let Some(n) = next.next() {
                        values(&n, &mut d.added);
                    }
                }
                Ordering::Equal => {
                    if let (Some(o), Some(n)) = (old.next(), next.next()) {
                        let (mut was, mut is) = (Vec::new(), Vec::new());
                        values(&o, &mut was);
                        values(&n, &mut is);
                        let part = Delta::new(was, is);
                        d.removed.extend(part.removed);
                        d.added.extend(part.added);
                    }
                }
            }
        }
        d.removed.sort_unstable();
        d.added.sort_unstable();
        d
    }
}

/// Appends every value of `o` to `out`.
fn values(o: &Owner<'_>, out: &mut Vec<Record>) {
    out.extend(o.a.iter().map(|ip| Record::new(o.name, Value::A(*ip))));
    out.extend(
        o.aaaa
            .iter()
            .map(|ip| Record::new(o.name, Value::Aaaa(*ip))),
    );
    out.extend(o.srv.iter().map(|s| {
        Record::new(
            o.name,
            Value::Srv {
                target: s.target.to_owned(),
                port: s.port,
            },
        )
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, n)
    }

    fn set(recs: &[(&str, u8)]) -> RecordSet {
        let mut rs = RecordSet::default();
        for (n, i) in recs {
            rs.insert_a(n, ip(*i));
        }
        rs
    }

    fn a(n: &str, i: u8) -> Record {
        Record::new(n, Value::A(ip(i)))
    }

    #[test]
    fn diff_finds_removed_added_and_changed_names() {
        let old = set(&[("a.mesos.", 1), ("b.mesos.", 1), ("b.mesos.", 2)]);
        let mut new = set(&[("b.mesos.", 2), ("b.mesos.", 3), ("c.mesos.", 1)]);
        new.insert_srv("_x._tcp.mesos.", "c.mesos.", 80);
        let d = old.diff(&new);
        assert_eq!(d.removed, vec![a("a.mesos.", 1), a("b.mesos.", 1)]);
        let srv = Record::new(
            "_x._tcp.mesos.",
            Value::Srv {
                target: "c.mesos.".into(),
                port: 80,
            },
        );
        assert_eq!(d.added, vec![srv, a("b.mesos.", 3), a("c.mesos.", 1)]);
        assert_eq!(
            d.names(),
            ["_x._tcp.mesos.", "a.mesos.", "b.mesos.", "c.mesos."]
        );
        assert!(old.diff(&old).is_empty());
        assert_eq!(new.diff(&old).removed, d.added);
        assert_eq!(Lookup::srv_owners(&new, "c.mesos."), ["_x._tcp.mesos."]);
        assert_eq!(Lookup::srv(&new, "_x._tcp.mesos."), [("c.mesos.", 80)]);
        assert!(Lookup::a(&new, "a.mesos.").is_empty());
    }

    #[test]
    fn new_cancels_a_record_on_both_sides() {
        let d = Delta::new(
            vec![a("x.", 2), a("x.", 1), a("x.", 1)],
            vec![a("x.", 1), a("y.", 1)],
        );
        assert_eq!(d.removed, vec![a("x.", 2)]);
        assert_eq!(d.added, vec![a("y.", 1)]);
    }

    #[test]
    fn then_condenses_two_changes() {
        let s1 = set(&[("a.", 1), ("b.", 1)]);
        let s2 = set(&[("b.", 1), ("b.", 2), ("c.", 1)]);
        let s3 = set(&[("a.", 1), ("b.", 2)]);
        assert_eq!(s1.diff(&s2).then(&s2.diff(&s3)), s1.diff(&s3));
        assert!(s1.diff(&s2).then(&s2.diff(&s1)).is_empty());
    }
}
