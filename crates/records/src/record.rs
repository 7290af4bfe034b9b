//! The generated record set: names to A, AAAA and SRV values, plus the
//! enumeration data behind `/v1/enumerate`.
//!
//! Names are absolute, with a trailing dot (`leader.mesos.`). Names under the
//! Mesos domain are lowercase; a few legacy names (BEHAVIOUR.md 4.7, the
//! unsanitized DiscoveryInfo pass, and an `SOAMname` with upper case) may not
//! be, exactly as mesos-dns stores them. The server decides which names it can
//! serve.
//!
//! A [`RecordSet`] is read-only once built: [`RecordSet::a`],
//! [`RecordSet::aaaa`] and [`RecordSet::srv`] look a name up, and
//! [`RecordSet::owners`] (or the per-type iterators) walk every name in
//! byte order, so iteration is deterministic for the same input. Values of a
//! name are sorted (IPs numerically, SRVs by target then port) and unique.
//! Build one with a [`RecordSetBuilder`](crate::RecordSetBuilder). Tests
//! and benches may also insert into a built set (`record::fixture`, with the
//! `fixtures` feature); the server never does.
//!
//! # Representation
//!
//! Every owner name and SRV target is stored once, all in one buffer, in
//! byte order, and numbered by that order. Per name, three end offsets
//! locate its values in three flat arrays (`Ipv4Addr`, `Ipv6Addr`, and SRV
//! values holding the target's number and the port), so a name's values are
//! a slice and an SRV target costs 8 bytes, not a string. An index maps a
//! name to its number (a binary search of the names for the first few
//! lookups, then a hash index). The enumeration refers to the same names
//! and values ([`crate::enumeration`]).

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::Arc;

use crate::explain::Explain;

use crate::name_text::{idx, NameText, SortedIndex};

#[cfg(any(test, feature = "fixtures"))]
pub mod fixture;
pub mod snapshot;

/// One SRV value: the target name (absolute, trailing dot) and the port.
///
/// Priority is always 0 and the weight is the configured
/// `SRVRecordDefaultWeight`, so neither is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SrvValue<'a> {
    /// Target host name, absolute with a trailing dot.
    pub target: &'a str,
    /// Target port.
    pub port: u16,
}

/// The three record types, as indexes into per-name value ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordKind {
    A = 0,
    Aaaa = 1,
    Srv = 2,
}

/// A stored SRV value: the target's name number and the port. Ordered by
/// target then port, which is the byte order of targets once names are
/// numbered in byte order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PackedSrv {
    pub(crate) target: u32,
    pub(crate) port: u16,
}

/// The SRV values of one name, sorted by target then port.
#[derive(Clone, Copy)]
pub struct SrvSet<'a> {
    rs: &'a RecordSet,
    values: &'a [PackedSrv],
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
            rs: self.rs,
            values: self.values.iter(),
        }
    }

    /// The first (lowest) value.
    pub fn first(&self) -> Option<SrvValue<'a>> {
        self.iter().next()
    }

    /// The values in order, each with its target's name slot (see
    /// [`RecordSet::first_addresses_at`]).
    pub fn with_slots(&self) -> impl Iterator<Item = (SrvValue<'a>, usize)> + 'a {
        let rs = self.rs;
        self.values
            .iter()
            .map(move |&v| (rs.srv_value(v), v.target as usize))
    }
}

impl fmt::Debug for SrvSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for SrvSet<'a> {
    type Item = SrvValue<'a>;
    type IntoIter = SrvIter<'a>;
    fn into_iter(self) -> SrvIter<'a> {
        self.iter()
    }
}

/// Iterator over an [`SrvSet`].
#[derive(Clone)]
pub struct SrvIter<'a> {
    rs: &'a RecordSet,
    values: std::slice::Iter<'a, PackedSrv>,
}

impl<'a> Iterator for SrvIter<'a> {
    type Item = SrvValue<'a>;
    fn next(&mut self) -> Option<SrvValue<'a>> {
        let v = self.values.next()?;
        Some(self.rs.srv_value(*v))
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

/// Everything one state load generates (see the [module docs](self)).
#[derive(Clone, Default)]
pub struct RecordSet {
    /// Owner names and SRV targets, in byte order.
    pub(crate) names: NameText,
    pub(crate) index: SortedIndex,
    /// Per name: where its A, AAAA and SRV values end.
    pub(crate) ends: Vec<[u32; 3]>,
    pub(crate) a: Vec<Ipv4Addr>,
    pub(crate) aaaa: Vec<Ipv6Addr>,
    pub(crate) srv: Vec<PackedSrv>,
    pub(crate) enumeration: EnumData,
    /// Per-name TTLs and per-target SRV weights (`TaskLabelPolicy`).
    pub(crate) overrides: Overrides,
    /// The explain data, when generation kept it.
    pub(crate) explain: Option<Arc<Explain>>,
}

/// What task labels change in how a record set is served
/// (`TaskLabelPolicy`): empty unless a task sets `DNS_TTL` or
/// `DNS_SRV_WEIGHT`. Part of the DNS records: a change compiles again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Overrides {
    /// `DNS_TTL`: the TTL of a name's records, by name.
    pub(crate) ttl: HashMap<String, u32>,
    /// `DNS_SRV_WEIGHT`: the weight of SRV values pointing at a target, by
    /// target name.
    pub(crate) srv_weight: HashMap<String, u16>,
}

/// Stored enumeration data: names and ids in one buffer, records as
/// references to the record set's names and values (formatted only when
/// displayed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EnumData {
    /// Framework names, task names and task ids.
    pub(crate) text: String,
    pub(crate) frameworks: Vec<FwEntry>,
    pub(crate) tasks: Vec<TaskEntry>,
    pub(crate) records: Vec<EnumEntry>,
}

/// A piece of [`EnumData::text`].
pub(crate) type Span = [u32; 2];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FwEntry {
    pub(crate) name: Span,
    /// Its tasks end here in [`EnumData::tasks`] (they start where the
    /// previous framework's end).
    pub(crate) tasks_end: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskEntry {
    pub(crate) name: Span,
    pub(crate) id: Span,
    /// Its records end here in [`EnumData::records`].
    pub(crate) records_end: u32,
}

/// A credited record: the owner's name number and the value, packed in 8
/// octets (a record set of 100,000 tasks holds over a million of these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EnumEntry {
    pub(crate) name: u32,
    value: KindAt,
}

const _: () = assert!(std::mem::size_of::<EnumEntry>() == 8);

impl EnumEntry {
    /// The entry of value `at` of `kind`, owned by name `name`.
    pub(crate) fn new(name: u32, kind: RecordKind, at: u32) -> EnumEntry {
        EnumEntry {
            name,
            value: KindAt::new(kind, at),
        }
    }

    /// The value's kind.
    pub(crate) fn kind(&self) -> RecordKind {
        self.value.kind()
    }

    /// The value's index in its kind's array.
    pub(crate) fn at(&self) -> u32 {
        self.value.at()
    }
}

/// A record kind and an index (in the record set's, or a log's, array of
/// that kind) in one `u32`: the kind in the top two bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindAt(u32);

impl KindAt {
    /// The largest index held. Arrays are far shorter (a state body would
    /// be tens of gigabytes); a larger index saturates, and reads back
    /// wrong rather than panic, as [`idx`] does.
    pub(crate) const MAX_AT: u32 = (1 << 30) - 1;

    pub(crate) fn new(kind: RecordKind, at: u32) -> KindAt {
        KindAt((kind as u32) << 30 | at.min(Self::MAX_AT))
    }

    pub(crate) fn kind(self) -> RecordKind {
        match self.0 >> 30 {
            0 => RecordKind::A,
            1 => RecordKind::Aaaa,
            _ => RecordKind::Srv,
        }
    }

    pub(crate) fn at(self) -> u32 {
        self.0 & Self::MAX_AT
    }
}

impl EnumData {
    /// Appends `s` to the text.
    pub(crate) fn span(&mut self, s: &str) -> Span {
        let start = idx(self.text.len());
        self.text.push_str(s);
        [start, idx(self.text.len())]
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        use std::mem::size_of;
        self.text.capacity()
            + self.frameworks.capacity() * size_of::<FwEntry>()
            + self.tasks.capacity() * size_of::<TaskEntry>()
            + self.records.capacity() * size_of::<EnumEntry>()
    }

    pub(crate) fn text(&self, s: Span) -> &str {
        self.text
            .get(s[0] as usize..s[1] as usize)
            .unwrap_or_default()
    }
}

impl PartialEq for RecordSet {
    fn eq(&self, other: &RecordSet) -> bool {
        self.same_records(other) && self.enumeration == other.enumeration
    }
}

impl Eq for RecordSet {}

impl fmt::Debug for RecordSet {
    /// The owners and their values, then the enumeration size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.owners().map(|o| (o.name, (o.a, o.aaaa, o.srv))))
            .finish()?;
        write!(f, " + {} enumerated", self.enumeration.records.len())
    }
}

impl RecordSet {
    /// Name number `i`.
    pub(crate) fn name(&self, i: u32) -> &str {
        self.names.get(i)
    }

    pub(crate) fn srv_value(&self, v: PackedSrv) -> SrvValue<'_> {
        SrvValue {
            target: self.names.get(v.target),
            port: v.port,
        }
    }

    /// The values of name `i` of `kind`, as a range of its array.
    fn range(&self, i: usize, kind: RecordKind) -> Range<usize> {
        let k = kind as usize;
        let end = self.ends.get(i).map_or(0, |e| e[k] as usize);
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |e| e[k] as usize),
            None => 0,
        };
        start..end.max(start)
    }

    fn a_at(&self, i: usize) -> &[Ipv4Addr] {
        self.a.get(self.range(i, RecordKind::A)).unwrap_or_default()
    }

    fn aaaa_at(&self, i: usize) -> &[Ipv6Addr] {
        self.aaaa
            .get(self.range(i, RecordKind::Aaaa))
            .unwrap_or_default()
    }

    fn srv_at(&self, i: usize) -> SrvSet<'_> {
        SrvSet {
            rs: self,
            values: self
                .srv
                .get(self.range(i, RecordKind::Srv))
                .unwrap_or_default(),
        }
    }

    fn owner_at(&self, i: usize) -> Owner<'_> {
        Owner {
            name: self.names.get(idx(i)),
            a: self.a_at(i),
            aaaa: self.aaaa_at(i),
            srv: self.srv_at(i),
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.index.find(&self.names, name).map(|i| i as usize)
    }

    /// The A values of `name`, sorted, or `None` if it has none.
    pub fn a(&self, name: &str) -> Option<&[Ipv4Addr]> {
        let v = self.a_at(self.find(name)?);
        (!v.is_empty()).then_some(v)
    }

    /// The AAAA values of `name`, sorted, or `None` if it has none.
    pub fn aaaa(&self, name: &str) -> Option<&[Ipv6Addr]> {
        let v = self.aaaa_at(self.find(name)?);
        (!v.is_empty()).then_some(v)
    }

    /// The SRV values of `name`, or `None` if it has none.
    pub fn srv(&self, name: &str) -> Option<SrvSet<'_>> {
        let v = self.srv_at(self.find(name)?);
        (!v.is_empty()).then_some(v)
    }

    /// Every name that owns at least one record, in byte order, with all
    /// its records.
    pub fn owners(&self) -> impl Iterator<Item = Owner<'_>> + '_ {
        (0..self.names.len())
            .map(|i| self.owner_at(i))
            .filter(|o| !o.a.is_empty() || !o.aaaa.is_empty() || !o.srv.is_empty())
    }

    /// [`RecordSet::owners`] from name slot `from` on, each with its slot:
    /// a walk that can stop and resume at the slot after the last one seen
    /// (a zone transfer streamed over many messages).
    pub fn owners_from(
        &self,
        from: usize,
    ) -> impl Iterator<Item = (usize, Owner<'_>)> + '_ {
        (from..self.names.len())
            .map(|i| (i, self.owner_at(i)))
            .filter(|(_, o)| !o.a.is_empty() || !o.aaaa.is_empty() || !o.srv.is_empty())
    }

    /// The first A and AAAA values of the name in slot `slot` (as
    /// [`RecordSet::owners_from`] and [`SrvSet::with_slots`] number
    /// names): no hash lookup.
    pub fn first_addresses_at(
        &self,
        slot: usize,
    ) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
        (
            self.a_at(slot).first().copied(),
            self.aaaa_at(slot).first().copied(),
        )
    }

    /// Every name with an A record and its values, in byte order of names.
    pub fn a_records(&self) -> impl Iterator<Item = (&str, &[Ipv4Addr])> + '_ {
        (0..self.names.len())
            .map(|i| (self.names.get(idx(i)), self.a_at(i)))
            .filter(|(_, v)| !v.is_empty())
    }

    /// Every name with an AAAA record and its values, in byte order.
    pub fn aaaa_records(&self) -> impl Iterator<Item = (&str, &[Ipv6Addr])> + '_ {
        (0..self.names.len())
            .map(|i| (self.names.get(idx(i)), self.aaaa_at(i)))
            .filter(|(_, v)| !v.is_empty())
    }

    /// Every name with an SRV record and its values, in byte order.
    pub fn srv_records(&self) -> impl Iterator<Item = (&str, SrvSet<'_>)> + '_ {
        (0..self.names.len())
            .map(|i| (self.names.get(idx(i)), self.srv_at(i)))
            .filter(|(_, v)| !v.is_empty())
    }

    /// True if `name` owns any A, AAAA or SRV record.
    pub fn has_name(&self, name: &str) -> bool {
        self.find(name).is_some_and(|i| {
            let o = self.owner_at(i);
            !o.a.is_empty() || !o.aaaa.is_empty() || !o.srv.is_empty()
        })
    }

    /// Number of names that own at least one record: those whose value
    /// ends move past the name before's (read from the ends alone).
    pub fn name_count(&self) -> usize {
        let mut before = [0u32; 3];
        self.ends
            .iter()
            .filter(|&&e| std::mem::replace(&mut before, e) != e)
            .count()
    }

    /// Approximate heap bytes this record set holds (every buffer's
    /// capacity; not allocator overhead), for memory figures.
    pub fn heap_size(&self) -> usize {
        use std::mem::size_of;
        self.names.heap_size()
            + self.index.heap_size()
            + self.ends.capacity() * size_of::<[u32; 3]>()
            + self.a.capacity() * size_of::<Ipv4Addr>()
            + self.aaaa.capacity() * size_of::<Ipv6Addr>()
            + self.srv.capacity() * size_of::<PackedSrv>()
            + self.enumeration.heap_size()
    }

    /// Total number of record values (A + AAAA + SRV).
    pub fn len(&self) -> usize {
        self.a.len() + self.aaaa.len() + self.srv.len()
    }

    /// True if there are no records at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the DNS-visible records (not the enumeration) are equal.
    /// The server bumps the SOA serial only when this is false.
    pub fn same_records(&self, other: &RecordSet) -> bool {
        // The names are exactly the owners and targets, numbered in byte
        // order, so equal records mean equal arrays.
        self.names == other.names
            && self.ends == other.ends
            && self.a == other.a
            && self.aaaa == other.aaaa
            && self.srv == other.srv
            && self.overrides == other.overrides
    }

    /// The TTL a task label set for `name`'s records (`DNS_TTL`), if any;
    /// otherwise the configured `TTL` applies.
    pub fn ttl_of(&self, name: &str) -> Option<u32> {
        self.overrides.ttl.get(name).copied()
    }

    /// The weight a task label set for SRV values pointing at `target`
    /// (`DNS_SRV_WEIGHT`), if any; otherwise `SRVRecordDefaultWeight`.
    pub fn srv_weight_of(&self, target: &str) -> Option<u16> {
        self.overrides.srv_weight.get(target).copied()
    }

    /// True when some name has a label TTL or some target a label weight.
    pub fn has_overrides(&self) -> bool {
        !self.overrides.ttl.is_empty() || !self.overrides.srv_weight.is_empty()
    }

    /// The explain data, when generation kept it
    /// ([`GenConfig::explain`](crate::GenConfig::explain)).
    pub fn explain_data(&self) -> Option<&Explain> {
        self.explain.as_deref()
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

    /// Every owner name and SRV target (each once).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SRV targets with no records of their own are names, not owners.
    #[test]
    fn names_are_counted_when_they_own_records() {
        let mut b = crate::RecordSetBuilder::new(false);
        b.insert_srv("_a._tcp.m.", "t1.m.", 80);
        b.insert_srv("_a._tcp.m.", "t2.m.", 80);
        b.insert_a("t2.m.", "10.0.0.1".parse().unwrap());
        b.insert_aaaa("u.m.", "::1".parse().unwrap());
        b.insert_srv("z.m.", "t2.m.", 80);
        let rs = b.finish();
        assert_eq!(rs.names().count(), 5);
        assert_eq!(rs.name_count(), rs.owners().count());
        assert_eq!(rs.name_count(), 4);
        assert_eq!(RecordSet::default().name_count(), 0);
    }

    #[test]
    fn an_enumeration_entry_keeps_its_kind_and_index() {
        for kind in [RecordKind::A, RecordKind::Aaaa, RecordKind::Srv] {
            for at in [0, 1, 12345, KindAt::MAX_AT] {
                let e = EnumEntry::new(u32::MAX, kind, at);
                assert_eq!((e.name, e.kind(), e.at()), (u32::MAX, kind, at));
            }
            // Past the largest index: saturated, the kind kept.
            let e = EnumEntry::new(7, kind, u32::MAX);
            assert_eq!((e.kind(), e.at()), (kind, KindAt::MAX_AT));
        }
    }
}
