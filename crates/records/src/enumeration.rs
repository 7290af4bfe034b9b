//! The data behind `/v1/enumerate` (BEHAVIOUR.md 4.11): frameworks in state
//! order, their running tasks on known slaves in state order, and per task the
//! records it inserted first, in insertion order (a record already there is
//! credited to nobody again).
//!
//! Read through [`Enumeration`], a view into a [`crate::RecordSet`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use crate::record::{EnumEntry, RecordKind, RecordSet, SrvValue};

impl RecordSet {
    /// The data behind `/v1/enumerate`.
    pub fn enumeration(&self) -> Enumeration<'_> {
        Enumeration::new(self)
    }
}

/// Entries `i` of a list whose entries end at `end(i)`.
fn slice_of(i: usize, end: impl Fn(usize) -> Option<u32>) -> Range<usize> {
    let stop = end(i).unwrap_or(0) as usize;
    let start = i.checked_sub(1).and_then(&end).unwrap_or(0) as usize;
    start..stop.max(start)
}

/// `/v1/enumerate` data: frameworks in state order (BEHAVIOUR.md 4.11). Empty
/// when `EnumerationOn` is false.
#[derive(Clone, Copy)]
pub struct Enumeration<'a> {
    rs: &'a RecordSet,
}

impl fmt::Debug for Enumeration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.frameworks()).finish()
    }
}

impl<'a> Enumeration<'a> {
    pub(crate) fn new(rs: &'a RecordSet) -> Self {
        Enumeration { rs }
    }

    /// True if there are no frameworks (mesos-dns prints `null`).
    pub fn is_empty(&self) -> bool {
        self.rs.enumeration.frameworks.is_empty()
    }

    /// Frameworks in state order.
    pub fn frameworks(&self) -> impl ExactSizeIterator<Item = EnumFramework<'a>> + Clone {
        let rs = self.rs;
        (0..rs.enumeration.frameworks.len()).map(move |i| EnumFramework { rs, i })
    }
}

/// One framework in the enumeration.
#[derive(Clone, Copy)]
pub struct EnumFramework<'a> {
    rs: &'a RecordSet,
    i: usize,
}

impl fmt::Debug for EnumFramework<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnumFramework")
            .field("name", &self.name())
            .field("tasks", &self.tasks().collect::<Vec<_>>())
            .finish()
    }
}

impl<'a> EnumFramework<'a> {
    /// The raw framework name from the state.
    pub fn name(&self) -> &'a str {
        let e = &self.rs.enumeration;
        e.frameworks.get(self.i).map_or("", |f| e.text(f.name))
    }

    /// Running tasks on known slaves, in state order.
    pub fn tasks(&self) -> impl ExactSizeIterator<Item = EnumTask<'a>> + Clone {
        let rs = self.rs;
        let fws = &rs.enumeration.frameworks;
        slice_of(self.i, |j| fws.get(j).map(|f| f.tasks_end))
            .map(move |i| EnumTask { rs, i })
    }
}

/// One task in the enumeration.
#[derive(Clone, Copy)]
pub struct EnumTask<'a> {
    rs: &'a RecordSet,
    i: usize,
}

impl fmt::Debug for EnumTask<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnumTask")
            .field("name", &self.name())
            .field("id", &self.id())
            .field("records", &self.records().collect::<Vec<_>>())
            .finish()
    }
}

impl<'a> EnumTask<'a> {
    /// The raw task name.
    pub fn name(&self) -> &'a str {
        let e = &self.rs.enumeration;
        e.tasks.get(self.i).map_or("", |t| e.text(t.name))
    }

    /// The task id.
    pub fn id(&self) -> &'a str {
        let e = &self.rs.enumeration;
        e.tasks.get(self.i).map_or("", |t| e.text(t.id))
    }

    /// Records this task inserted first, in insertion order. mesos-dns
    /// prints `null` when there are none.
    pub fn records(&self) -> impl ExactSizeIterator<Item = EnumRecord<'a>> + Clone {
        let rs = self.rs;
        let e = &rs.enumeration;
        let range = slice_of(self.i, |j| e.tasks.get(j).map(|t| t.records_end));
        e.records
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(move |r| record(rs, r))
    }
}

/// The view of one stored entry.
fn record<'a>(rs: &'a RecordSet, e: &EnumEntry) -> EnumRecord<'a> {
    let at = e.at() as usize;
    let (rtype, host) = match e.kind() {
        RecordKind::A => (
            "A",
            Host::Ip(IpAddr::V4(
                rs.a.get(at).copied().unwrap_or(Ipv4Addr::UNSPECIFIED),
            )),
        ),
        RecordKind::Aaaa => (
            "AAAA",
            Host::Ip(IpAddr::V6(
                rs.aaaa.get(at).copied().unwrap_or(Ipv6Addr::UNSPECIFIED),
            )),
        ),
        RecordKind::Srv => (
            "SRV",
            Host::Srv(rs.srv_value(rs.srv.get(at).copied().unwrap_or_default())),
        ),
    };
    EnumRecord {
        name: rs.name(e.name),
        rtype,
        host,
    }
}

/// One record credited to a task in the enumeration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumRecord<'a> {
    /// Owner name, absolute.
    pub name: &'a str,
    /// `A`, `AAAA` or `SRV`.
    pub rtype: &'static str,
    /// The value; its `Display` is what mesos-dns prints as `host`.
    pub host: Host<'a>,
}

/// An enumerated record's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host<'a> {
    /// An A or AAAA value.
    Ip(IpAddr),
    /// An SRV value.
    Srv(SrvValue<'a>),
}

impl fmt::Display for Host<'_> {
    /// Go `net.IP.String()` for IPs (dotted quad for IPv4 and IPv4-mapped
    /// IPv6, RFC 5952 otherwise), `target:port` for SRV.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.fmt(f),
                None => v6.fmt(f),
            },
            Host::Ip(IpAddr::V4(v4)) => v4.fmt(f),
            Host::Srv(s) => write!(f, "{}:{}", s.target, s.port),
        }
    }
}
