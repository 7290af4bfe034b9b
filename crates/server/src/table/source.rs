//! Every read the table compiler makes of a [`RecordSet`], or of the
//! [`Lookup`] a delta comes with, in one place, so a change of their
//! representation touches only this file.
//!
//! Names are the record set's text keys (absolute, with a trailing dot);
//! values come in the record set's order (sorted), so the first is the
//! lowest.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use mesos_records::delta::Lookup;
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

/// [`srv`], each value with its target's slot (see
/// [`first_addresses_at`]).
pub(super) fn srv_with_slots(
    rs: &RecordSet,
) -> impl Iterator<Item = (&str, impl Iterator<Item = ((&str, u16), usize)> + '_)> {
    rs.srv_records().map(|(n, set)| {
        let values = set.with_slots().map(|(s, slot)| ((s.target, s.port), slot));
        (n, values)
    })
}

/// The first A and AAAA values of the name in `slot`, as [`srv`] numbers
/// targets: read in place, where [`first_addresses_of`] looks the name up.
pub(super) fn first_addresses_at(rs: &RecordSet, slot: usize) -> Glue {
    let (a, aaaa) = rs.first_addresses_at(slot);
    (a.map(|ip| ip.octets()), aaaa.map(|ip| ip.octets()))
}

/// The A addresses of `name`.
pub(super) fn a_of<'r>(
    rs: &'r dyn Lookup,
    name: &str,
) -> impl Iterator<Item = Ipv4Addr> + 'r {
    rs.a(name).iter().copied()
}

/// The AAAA addresses of `name`.
pub(super) fn aaaa_of<'r>(
    rs: &'r dyn Lookup,
    name: &str,
) -> impl Iterator<Item = Ipv6Addr> + 'r {
    rs.aaaa(name).iter().copied()
}

/// The SRV values of `name`, ordered by target.
pub(super) fn srv_of<'r>(
    rs: &'r dyn Lookup,
    name: &str,
) -> impl Iterator<Item = (&'r str, u16)> + 'r {
    rs.srv(name).into_iter()
}

/// One owner name and all its values (any of them may be empty).
#[derive(Clone, Copy, Debug)]
pub(super) struct Values<'r> {
    pub name: &'r str,
    pub a: &'r [Ipv4Addr],
    pub aaaa: &'r [Ipv6Addr],
    srv: Srv<'r>,
}

/// Where the SRV values of a [`Values`] are: in a record set, or a list
/// read from a [`Lookup`].
#[derive(Clone, Copy, Debug)]
enum Srv<'r> {
    Set(Option<SrvSet<'r>>),
    List(&'r [(&'r str, u16)]),
}

impl<'r> Values<'r> {
    /// The SRV (target, port) values, ordered by target.
    pub fn srv(&self) -> impl Iterator<Item = (&'r str, u16)> + 'r {
        let (set, list) = match self.srv {
            Srv::Set(set) => (set, &[][..]),
            Srv::List(list) => (None, list),
        };
        let set = set.into_iter().flatten().map(|s| (s.target, s.port));
        set.chain(list.iter().copied())
    }

    pub fn srv_len(&self) -> usize {
        match self.srv {
            Srv::Set(set) => set.map_or(0, |s| s.len()),
            Srv::List(list) => list.len(),
        }
    }

    /// True if both have the same values.
    pub fn same_values(&self, other: &Values<'_>) -> bool {
        self.a == other.a
            && self.aaaa == other.aaaa
            && self.srv_len() == other.srv_len()
            && self.srv().eq(other.srv())
    }

    /// The values of `name` given as lists (`srv` by target, then port).
    pub fn of_lists(
        name: &'r str,
        a: &'r [Ipv4Addr],
        aaaa: &'r [Ipv6Addr],
        srv: &'r [(&'r str, u16)],
    ) -> Self {
        Values {
            name,
            a,
            aaaa,
            srv: Srv::List(srv),
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
        srv: Srv::Set((!o.srv.is_empty()).then_some(o.srv)),
    })
}

/// The values of `name`.
pub(super) fn values_of<'r>(rs: &'r RecordSet, name: &'r str) -> Values<'r> {
    Values {
        name,
        a: rs.a(name).unwrap_or_default(),
        aaaa: rs.aaaa(name).unwrap_or_default(),
        srv: Srv::Set(rs.srv(name)),
    }
}

/// The glue of SRV target `target` (spelled without capitals), in a full
/// compile and a patch alike: the first A and AAAA values among the names
/// of its key, the target with and without its trailing dot, the spelling
/// with the dot first (of two spellings with addresses, the compile wrote
/// that one last, in byte order).
pub(super) fn glue_of_key(rs: &dyn Lookup, target: &str) -> Glue {
    let (dotted, bare) = match target.strip_suffix('.') {
        Some(bare) => (Cow::Borrowed(target), bare),
        None => (Cow::Owned(format!("{target}.")), target),
    };
    let first_a = |name: &str| rs.a(name).first().map(|ip| ip.octets());
    let first_aaaa = |name: &str| rs.aaaa(name).first().map(|ip| ip.octets());
    (
        first_a(&dotted).or_else(|| first_a(bare)),
        first_aaaa(&dotted).or_else(|| first_aaaa(bare)),
    )
}

/// The first A and AAAA values of `name`.
pub(super) fn first_addresses_of(rs: &dyn Lookup, name: &str) -> Glue {
    (
        a_of(rs, name).next().map(|ip| ip.octets()),
        aaaa_of(rs, name).next().map(|ip| ip.octets()),
    )
}
