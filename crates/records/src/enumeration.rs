//! The data behind `/v1/enumerate` (spec 4.11): frameworks in state order,
//! their running tasks on known slaves in state order, and per task the
//! records it inserted first, in insertion order (a record already there is
//! credited to nobody again).
//!
//! Read through [`Enumeration`], a view into a [`RecordSet`](crate::RecordSet).

use std::fmt;
use std::net::IpAddr;

use crate::record::Srv;

/// Stored enumeration data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EnumData {
    pub(crate) frameworks: Vec<FwData>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FwData {
    pub(crate) name: String,
    pub(crate) tasks: Vec<TaskData>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskData {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) records: Vec<RecData>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecData {
    pub(crate) name: String,
    pub(crate) rtype: &'static str,
    pub(crate) host: HostData,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HostData {
    Ip(IpAddr),
    Srv(String, u16),
}

/// `/v1/enumerate` data: frameworks in state order (spec 4.11). Empty when
/// `EnumerationOn` is false.
#[derive(Clone, Copy, Debug)]
pub struct Enumeration<'a> {
    data: &'a EnumData,
}

impl<'a> Enumeration<'a> {
    pub(crate) fn new(data: &'a EnumData) -> Self {
        Enumeration { data }
    }

    /// True if there are no frameworks (mesos-dns prints `null`).
    pub fn is_empty(&self) -> bool {
        self.data.frameworks.is_empty()
    }

    /// Frameworks in state order.
    pub fn frameworks(&self) -> impl ExactSizeIterator<Item = EnumFramework<'a>> + Clone {
        self.data
            .frameworks
            .iter()
            .map(|f| EnumFramework { data: f })
    }
}

/// One framework in the enumeration.
#[derive(Clone, Copy, Debug)]
pub struct EnumFramework<'a> {
    data: &'a FwData,
}

impl<'a> EnumFramework<'a> {
    /// The raw framework name from the state.
    pub fn name(&self) -> &'a str {
        &self.data.name
    }

    /// Running tasks on known slaves, in state order.
    pub fn tasks(&self) -> impl ExactSizeIterator<Item = EnumTask<'a>> + Clone {
        self.data.tasks.iter().map(|t| EnumTask { data: t })
    }
}

/// One task in the enumeration.
#[derive(Clone, Copy, Debug)]
pub struct EnumTask<'a> {
    data: &'a TaskData,
}

impl<'a> EnumTask<'a> {
    /// The raw task name.
    pub fn name(&self) -> &'a str {
        &self.data.name
    }

    /// The task id.
    pub fn id(&self) -> &'a str {
        &self.data.id
    }

    /// Records this task inserted first, in insertion order. mesos-dns
    /// prints `null` when there are none.
    pub fn records(&self) -> impl ExactSizeIterator<Item = EnumRecord<'a>> + Clone {
        self.data.records.iter().map(|r| EnumRecord {
            name: &r.name,
            rtype: r.rtype,
            host: match &r.host {
                HostData::Ip(ip) => Host::Ip(*ip),
                HostData::Srv(t, p) => Host::Srv(Srv {
                    target: t,
                    port: *p,
                }),
            },
        })
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
    Srv(Srv<'a>),
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
