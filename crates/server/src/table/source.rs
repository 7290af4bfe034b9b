//! Every read the table compiler makes of a [`RecordSet`], in one place,
//! so a change of the record set's representation touches only this file.
//!
//! Names are the record set's text keys (absolute, with a trailing dot);
//! values come in the record set's order (sorted), so the first is the
//! lowest.

use std::net::{Ipv4Addr, Ipv6Addr};

use mesos_records::{RecordSet, SrvSet};

/// The first A and AAAA values of a name, written after SRV answers that
/// target it.
pub(super) type Glue = (Option<[u8; 4]>, Option<[u8; 16]>);

/// How many owner names and record values the set holds, for reserving
/// room.
pub(super) fn size(rs: &RecordSet) -> (usize, usize) {
    (rs.name_count(), rs.len())
}

/// Every A owner with its addresses.
pub(super) fn a(
    rs: &RecordSet,
) -> impl Iterator<Item = (&str, impl Iterator<Item = Ipv4Addr> + '_)> {
    rs.a_records().map(|(n, ips)| (n, ips.iter().copied()))
}

/// Every AAAA owner with its addresses.
pub(super) fn aaaa(
    rs: &RecordSet,
) -> impl Iterator<Item = (&str, impl Iterator<Item = Ipv6Addr> + '_)> {
    rs.aaaa_records().map(|(n, ips)| (n, ips.iter().copied()))
}

/// Every SRV owner with its (target, port) values, ordered by target.
pub(super) fn srv(
    rs: &RecordSet,
) -> impl Iterator<Item = (&str, impl Iterator<Item = (&str, u16)> + '_)> {
    rs.srv_records()
        .map(|(n, set)| (n, set.into_iter().map(|s| (s.target, s.port))))
}

/// The A addresses of `name`.
pub(super) fn a_of<'r>(
    rs: &'r RecordSet,
    name: &str,
) -> impl Iterator<Item = Ipv4Addr> + 'r {
    rs.a(name).into_iter().flatten().copied()
}

/// The AAAA addresses of `name`.
pub(super) fn aaaa_of<'r>(
    rs: &'r RecordSet,
    name: &str,
) -> impl Iterator<Item = Ipv6Addr> + 'r {
    rs.aaaa(name).into_iter().flatten().copied()
}

/// The SRV values of `name`, ordered by target.
pub(super) fn srv_of<'r>(
    rs: &'r RecordSet,
    name: &str,
) -> impl Iterator<Item = (&'r str, u16)> + 'r {
    rs.srv(name)
        .into_iter()
        .flatten()
        .map(|s| (s.target, s.port))
}

/// One owner name and all its values (any of them may be empty).
#[derive(Clone, Copy, Debug)]
pub(super) struct Values<'r> {
    pub name: &'r str,
    pub a: &'r [Ipv4Addr],
    pub aaaa: &'r [Ipv6Addr],
    srv: Option<SrvSet<'r>>,
}

impl<'r> Values<'r> {
    /// The SRV (target, port) values, ordered by target.
    pub fn srv(&self) -> impl Iterator<Item = (&'r str, u16)> + 'r {
        self.srv.into_iter().flatten().map(|s| (s.target, s.port))
    }

    pub fn srv_len(&self) -> usize {
        self.srv.map_or(0, |s| s.len())
    }

    /// True if both have the same values (of two record sets).
    pub fn same_values(&self, other: &Values<'_>) -> bool {
        self.a == other.a
            && self.aaaa == other.aaaa
            && match (self.srv, other.srv) {
                (Some(x), Some(y)) => x.len() == y.len() && x.iter().eq(y.iter()),
                (x, y) => x.is_none() && y.is_none(),
            }
    }

    /// The first A and AAAA values.
    pub fn first_addresses(&self) -> Glue {
        (
            self.a.first().map(|ip| ip.octets()),
            self.aaaa.first().map(|ip| ip.octets()),
        )
    }
}

/// Every owner name with all its values, in byte order of names.
pub(super) fn owners(rs: &RecordSet) -> impl Iterator<Item = Values<'_>> {
    rs.owners().map(|o| Values {
        name: o.name,
        a: o.a,
        aaaa: o.aaaa,
        srv: (!o.srv.is_empty()).then_some(o.srv),
    })
}

/// The values of `name`.
pub(super) fn values_of<'r>(rs: &'r RecordSet, name: &'r str) -> Values<'r> {
    Values {
        name,
        a: rs.a(name).unwrap_or_default(),
        aaaa: rs.aaaa(name).unwrap_or_default(),
        srv: rs.srv(name),
    }
}

/// The first A and AAAA values of `name`.
pub(super) fn first_addresses_of(rs: &RecordSet, name: &str) -> Glue {
    (
        a_of(rs, name).next().map(|ip| ip.octets()),
        aaaa_of(rs, name).next().map(|ip| ip.octets()),
    )
}
