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
        self.a.entry(name.to_owned()).or_default().insert(ip)
    }

    /// Inserts an AAAA record; returns true if it was not there before.
    pub fn insert_aaaa(&mut self, name: &str, ip: Ipv6Addr) -> bool {
        self.aaaa.entry(name.to_owned()).or_default().insert(ip)
    }

    /// Inserts an SRV record; returns true if it was not there before.
    pub fn insert_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        self.srv.entry(name.to_owned()).or_default().insert(Srv {
            target: target.to_owned(),
            port,
        })
    }

    /// True if `name` owns any A, AAAA or SRV record.
    pub fn has_name(&self, name: &str) -> bool {
        self.a.contains_key(name) || self.aaaa.contains_key(name) || self.srv.contains_key(name)
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
