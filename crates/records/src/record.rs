//! The generated record set: names to A, AAAA and SRV values, plus the
//! enumeration data behind `/v1/enumerate`.
//!
//! Names are absolute, with a trailing dot (`leader.mesos.`). Names under the
//! Mesos domain are lowercase; a few legacy names (spec 4.7, the unsanitized
//! DiscoveryInfo pass, and an `SOAMname` with upper case) may not be, exactly
//! as mesos-dns stores them. The server decides which names it can serve.
//!
//! A [`RecordSet`] is read-only once built: [`RecordSet::a`],
//! [`RecordSet::aaaa`] and [`RecordSet::srv`] look a name up, and
//! [`RecordSet::owners`] (or the per-type iterators) walk every name in
//! byte order, so iteration is deterministic for the same input. Values of a
//! name are sorted (IPs numerically, SRVs by target then port) and unique.
//! Build one with a [`RecordSetBuilder`](crate::RecordSetBuilder); the
//! `insert_*` methods here are for small fixtures.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::enumeration::{EnumData, Enumeration};

/// One SRV value: the target name (absolute, trailing dot) and the port.
///
/// Priority is always 0 and the weight is the configured
/// `SRVRecordDefaultWeight`, so neither is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Srv<'a> {
    /// Target host name, absolute with a trailing dot.
    pub target: &'a str,
    /// Target port.
    pub port: u16,
}

/// The SRV values of one name, sorted by target then port.
#[derive(Clone, Copy, Debug)]
pub struct SrvSet<'a> {
    values: &'a [(String, u16)],
}

impl<'a> SrvSet<'a> {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True if there are none (never, for a set returned by a lookup).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values in order.
    pub fn iter(&self) -> SrvIter<'a> {
        SrvIter {
            values: self.values.iter(),
        }
    }

    /// The first (lowest) value.
    pub fn first(&self) -> Option<Srv<'a>> {
        self.iter().next()
    }
}

impl<'a> IntoIterator for SrvSet<'a> {
    type Item = Srv<'a>;
    type IntoIter = SrvIter<'a>;
    fn into_iter(self) -> SrvIter<'a> {
        self.iter()
    }
}

/// Iterator over an [`SrvSet`].
#[derive(Clone, Debug)]
pub struct SrvIter<'a> {
    values: std::slice::Iter<'a, (String, u16)>,
}

impl<'a> Iterator for SrvIter<'a> {
    type Item = Srv<'a>;
    fn next(&mut self) -> Option<Srv<'a>> {
        self.values.next().map(|(t, p)| Srv {
            target: t.as_str(),
            port: *p,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.values.size_hint()
    }
}

impl ExactSizeIterator for SrvIter<'_> {}

/// One owner name with all its records (any of the three may be empty, not
/// all).
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    /// The name, absolute.
    pub name: &'a str,
    /// Its A values, sorted.
    pub a: &'a [Ipv4Addr],
    /// Its AAAA values, sorted.
    pub aaaa: &'a [Ipv6Addr],
    /// Its SRV values, sorted.
    pub srv: SrvSet<'a>,
}

/// Everything one state load generates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordSet {
    a: BTreeMap<String, Vec<Ipv4Addr>>,
    aaaa: BTreeMap<String, Vec<Ipv6Addr>>,
    srv: BTreeMap<String, Vec<(String, u16)>>,
    pub(crate) enumeration: EnumData,
}

/// Inserts `v` in order under `name`; true if it was not there before.
fn insert_sorted<V: Ord>(map: &mut BTreeMap<String, Vec<V>>, name: &str, v: V) -> bool {
    let list = match map.get_mut(name) {
        Some(list) => list,
        None => map.entry(name.to_owned()).or_default(),
    };
    match list.binary_search(&v) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, v);
            true
        }
    }
}

impl RecordSet {
    pub(crate) fn from_parts(
        a: BTreeMap<String, Vec<Ipv4Addr>>,
        aaaa: BTreeMap<String, Vec<Ipv6Addr>>,
        srv: BTreeMap<String, Vec<(String, u16)>>,
        enumeration: EnumData,
    ) -> RecordSet {
        RecordSet {
            a,
            aaaa,
            srv,
            enumeration,
        }
    }

    /// The A values of `name`, sorted, or `None` if it has none.
    pub fn a(&self, name: &str) -> Option<&[Ipv4Addr]> {
        self.a.get(name).map(Vec::as_slice)
    }

    /// The AAAA values of `name`, sorted, or `None` if it has none.
    pub fn aaaa(&self, name: &str) -> Option<&[Ipv6Addr]> {
        self.aaaa.get(name).map(Vec::as_slice)
    }

    /// The SRV values of `name`, or `None` if it has none.
    pub fn srv(&self, name: &str) -> Option<SrvSet<'_>> {
        self.srv.get(name).map(|v| SrvSet { values: v })
    }

    /// Every name with an A record and its values, in byte order of names.
    pub fn a_records(&self) -> impl Iterator<Item = (&str, &[Ipv4Addr])> + '_ {
        self.a.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Every name with an AAAA record and its values, in byte order.
    pub fn aaaa_records(&self) -> impl Iterator<Item = (&str, &[Ipv6Addr])> + '_ {
        self.aaaa.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Every name with an SRV record and its values, in byte order.
    pub fn srv_records(&self) -> impl Iterator<Item = (&str, SrvSet<'_>)> + '_ {
        self.srv
            .iter()
            .map(|(n, v)| (n.as_str(), SrvSet { values: v }))
    }

    /// Every name that owns at least one record, in byte order, with all
    /// its records.
    pub fn owners(&self) -> impl Iterator<Item = Owner<'_>> + '_ {
        let mut names: Vec<&str> = self
            .a
            .keys()
            .chain(self.aaaa.keys())
            .chain(self.srv.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names.into_iter().map(|name| Owner {
            name,
            a: self.a(name).unwrap_or_default(),
            aaaa: self.aaaa(name).unwrap_or_default(),
            srv: SrvSet {
                values: self.srv.get(name).map_or(&[], Vec::as_slice),
            },
        })
    }

    /// The data behind `/v1/enumerate`.
    pub fn enumeration(&self) -> Enumeration<'_> {
        Enumeration::new(&self.enumeration)
    }

    /// Inserts an A record; returns true if it was not there before. Each
    /// insert may move every later value: for fixtures, not for bulk use.
    pub fn insert_a(&mut self, name: &str, ip: Ipv4Addr) -> bool {
        insert_sorted(&mut self.a, name, ip)
    }

    /// Inserts an AAAA record; returns true if it was not there before.
    pub fn insert_aaaa(&mut self, name: &str, ip: Ipv6Addr) -> bool {
        insert_sorted(&mut self.aaaa, name, ip)
    }

    /// Inserts an SRV record; returns true if it was not there before.
    pub fn insert_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        insert_sorted(&mut self.srv, name, (target.to_owned(), port))
    }

    /// True if `name` owns any A, AAAA or SRV record.
    pub fn has_name(&self, name: &str) -> bool {
        self.a.contains_key(name)
            || self.aaaa.contains_key(name)
            || self.srv.contains_key(name)
    }

    /// Number of names that own at least one record.
    pub fn name_count(&self) -> usize {
        self.owners().count()
    }

    /// Total number of record values (A + AAAA + SRV).
    pub fn len(&self) -> usize {
        self.a.values().map(Vec::len).sum::<usize>()
            + self.aaaa.values().map(Vec::len).sum::<usize>()
            + self.srv.values().map(Vec::len).sum::<usize>()
    }

    /// True if there are no records at all.
    pub fn is_empty(&self) -> bool {
        self.a.is_empty() && self.aaaa.is_empty() && self.srv.is_empty()
    }

    /// True if the DNS-visible records (not the enumeration) are equal.
    /// The server bumps the SOA serial only when this is false.
    pub fn same_records(&self, other: &RecordSet) -> bool {
        self.a == other.a && self.aaaa == other.aaaa && self.srv == other.srv
    }

    /// A sorted zone-style dump, one record per line: `name A ip`,
    /// `name AAAA ip`, `name SRV 0 <weight> <port> <target>` (weight 1, the
    /// default). Deterministic; used by golden tests and for debugging.
    pub fn dump(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mut lines: Vec<String> = Vec::with_capacity(self.len());
        for (n, set) in self.a_records() {
            lines.extend(set.iter().map(|ip| format!("{n}\tA\t{ip}")));
        }
        for (n, set) in self.aaaa_records() {
            lines.extend(set.iter().map(|ip| format!("{n}\tAAAA\t{ip}")));
        }
        for (n, set) in self.srv_records() {
            lines.extend(
                set.iter()
                    .map(|s| format!("{n}\tSRV\t0 1 {} {}", s.port, s.target)),
            );
        }
        lines.sort();
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        out
    }

    /// Every owner name and SRV target, owners first (may repeat).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.a
            .keys()
            .chain(self.aaaa.keys())
            .chain(self.srv.keys())
            .map(String::as_str)
            .chain(self.srv.values().flatten().map(|s| s.0.as_str()))
    }

    /// True if every name passes [`crate::is_valid_name`]. Generation
    /// guarantees it.
    pub fn all_names_valid(&self) -> bool {
        self.names().all(crate::store::is_valid_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_set_dedups_without_changing_order() {
        let mut rs = RecordSet::default();
        assert!(rs.insert_srv("_a._tcp.m.", "b.m.", 80));
        assert!(rs.insert_srv("_a._tcp.m.", "a.m.", 443));
        assert!(rs.insert_srv("_a._tcp.m.", "a.m.", 80));
        assert!(!rs.insert_srv("_a._tcp.m.", "b.m.", 80));
        assert!(!rs.insert_srv("_a._tcp.m.", "a.m.", 443));
        let got: Vec<(&str, u16)> = rs
            .srv("_a._tcp.m.")
            .unwrap()
            .iter()
            .map(|s| (s.target, s.port))
            .collect();
        assert_eq!(got, [("a.m.", 80), ("a.m.", 443), ("b.m.", 80)]);
        assert_eq!(rs.len(), 3);
    }
}
