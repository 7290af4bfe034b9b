//! The generated record set: names to A, AAAA and SRV value sets, plus the
//! enumeration data behind `/v1/enumerate`.
//!
//! Names are absolute, with a trailing dot (`leader.mesos.`). Names under the
//! Mesos domain are lowercase; a few legacy names (spec 4.7, the unsanitized
//! DiscoveryInfo pass, and an `SOAMname` with upper case) may not be, exactly
//! as mesos-dns stores them. The server decides which names it can serve.
//!
//! Maps and sets are ordered, so iteration is deterministic for the same
//! input: golden files and table builds do not depend on hash order.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// One SRV value: the target name (absolute, trailing dot) and the port.
///
/// Priority is always 0 and the weight is the configured
/// `SRVRecordDefaultWeight`, so neither is stored.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Srv {
    /// Target host name, absolute with a trailing dot.
    pub target: String,
    /// Target port.
    pub port: u16,
}

/// Everything one state load generates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordSet {
    /// A records: name to IPv4 addresses.
    pub a: BTreeMap<String, BTreeSet<Ipv4Addr>>,
    /// AAAA records: name to IPv6 addresses.
    pub aaaa: BTreeMap<String, BTreeSet<Ipv6Addr>>,
    /// SRV records: name to targets.
    pub srv: BTreeMap<String, BTreeSet<Srv>>,
    /// The data behind `/v1/enumerate`, in state order.
    pub enumeration: Enumeration,
}

/// `/v1/enumerate` data: frameworks in state order (spec 4.11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enumeration {
    /// Frameworks in state order.
    pub frameworks: Vec<EnumFramework>,
}

/// One framework in the enumeration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnumFramework {
    /// The raw framework name from the state.
    pub name: String,
    /// Running tasks on known slaves, in state order.
    pub tasks: Vec<EnumTask>,
}

/// One task in the enumeration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnumTask {
    /// The raw task name.
    pub name: String,
    /// The task id.
    pub id: String,
    /// Records this task inserted first, in insertion order. mesos-dns prints
    /// `null` when there are none.
    pub records: Vec<EnumRecord>,
}

/// One record credited to a task in the enumeration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumRecord {
    /// Owner name, absolute.
    pub name: String,
    /// The value as mesos-dns prints it: an IP, or `target:port` for SRV.
    pub host: String,
    /// `A`, `AAAA` or `SRV`.
    pub rtype: &'static str,
}

impl RecordSet {
    /// Inserts an A record; returns true if it was not there before.
    pub fn insert_a(&mut self, name: &str, ip: Ipv4Addr) -> bool {
        insert(&mut self.a, name, ip)
    }

    /// Inserts an AAAA record; returns true if it was not there before.
    pub fn insert_aaaa(&mut self, name: &str, ip: Ipv6Addr) -> bool {
        insert(&mut self.aaaa, name, ip)
    }

    /// Inserts an SRV record; returns true if it was not there before.
    pub fn insert_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        // Look up by borrowed key first: most duplicates then cost no
        // allocation.
        if let Some(set) = self.srv.get_mut(name) {
            if set.contains(&(target, port) as &dyn SrvKey) {
                return false;
            }
            return set.insert(Srv {
                target: target.to_owned(),
                port,
            });
        }
        let srv = Srv {
            target: target.to_owned(),
            port,
        };
        self.srv.insert(name.to_owned(), BTreeSet::from([srv]));
        true
    }

    /// True if `name` owns any A, AAAA or SRV record.
    pub fn has_name(&self, name: &str) -> bool {
        self.a.contains_key(name)
            || self.aaaa.contains_key(name)
            || self.srv.contains_key(name)
    }

    /// Total number of record values (A + AAAA + SRV).
    pub fn len(&self) -> usize {
        self.a.values().map(BTreeSet::len).sum::<usize>()
            + self.aaaa.values().map(BTreeSet::len).sum::<usize>()
            + self.srv.values().map(BTreeSet::len).sum::<usize>()
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
}

/// Inserts `v` under `name`, allocating the key only for a new name.
fn insert<V: Ord>(map: &mut BTreeMap<String, BTreeSet<V>>, name: &str, v: V) -> bool {
    match map.get_mut(name) {
        Some(set) => set.insert(v),
        None => {
            map.insert(name.to_owned(), BTreeSet::from([v]));
            true
        }
    }
}

impl RecordSet {
    /// A sorted zone-style dump, one record per line: `name A ip`,
    /// `name AAAA ip`, `name SRV 0 <weight> <port> <target>` (weight 1, the
    /// default). Deterministic; used by golden tests and for debugging.
    pub fn dump(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mut lines: Vec<String> = Vec::with_capacity(self.len());
        for (n, set) in &self.a {
            lines.extend(set.iter().map(|ip| format!("{n}\tA\t{ip}")));
        }
        for (n, set) in &self.aaaa {
            lines.extend(set.iter().map(|ip| format!("{n}\tAAAA\t{ip}")));
        }
        for (n, set) in &self.srv {
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
}

impl RecordSet {
    /// Every owner name and SRV target, owners first (may repeat).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.a
            .keys()
            .chain(self.aaaa.keys())
            .chain(self.srv.keys())
            .map(String::as_str)
            .chain(self.srv.values().flatten().map(|s| s.target.as_str()))
    }

    /// True if every name passes [`crate::is_valid_name`]. Generation
    /// guarantees it.
    pub fn all_names_valid(&self) -> bool {
        self.names().all(crate::store::is_valid_name)
    }
}

/// A borrowed view of an SRV value, so a set of [`Srv`] can be searched
/// with `(&str, u16)` without allocating (same order as `Srv`'s derive).
pub(crate) trait SrvKey {
    fn key(&self) -> (&str, u16);
}

impl SrvKey for Srv {
    fn key(&self) -> (&str, u16) {
        (&self.target, self.port)
    }
}

impl SrvKey for (&str, u16) {
    fn key(&self) -> (&str, u16) {
        (self.0, self.1)
    }
}

impl<'a> std::borrow::Borrow<dyn SrvKey + 'a> for Srv {
    fn borrow(&self) -> &(dyn SrvKey + 'a) {
        self
    }
}

impl PartialEq for dyn SrvKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn SrvKey + '_ {}

impl PartialOrd for dyn SrvKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn SrvKey + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
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
        let got: Vec<(&str, u16)> = rs.srv["_a._tcp.m."]
            .iter()
            .map(|s| (s.target.as_str(), s.port))
            .collect();
        assert_eq!(got, [("a.m.", 80), ("a.m.", 443), ("b.m.", 80)]);
        assert_eq!(rs.len(), 3);
    }
}
