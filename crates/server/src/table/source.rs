//! Every read the table compiler makes of a [`RecordSet`], in one place,
//! so a change of the record set's representation touches only this file.
//!
//! Names are the record set's text keys (absolute, with a trailing dot);
//! values come in the record set's order (sorted), so the first is the
//! lowest.

use std::net::{Ipv4Addr, Ipv6Addr};

use mesos_records::RecordSet;

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
