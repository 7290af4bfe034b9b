//! The PTR data of a table (see the [module docs](super) for which names
//! an address gets), derived in full from a record set, or from the PTR
//! data before a [`Delta`] and the values after it.
//!
//! # The ranking, kept
//!
//! Each address keeps every name pointing at it with the name's number of
//! addresses, in rank order (that number, then the name); its PTR records
//! are the first [`PTR_MAX`](super::PTR_MAX), written at answer time.
//!
//! A full derivation numbers the names of the A and AAAA records in one
//! pass (their wire forms split after the first label, each name's rest,
//! its framework's and the domain's labels, kept once), sorts the
//! (address, name number) pairs once, and lays out the addresses in
//! order, IPv4 and IPv6 apart, each with the start of its run in one list
//! of (count, offset of the name): a few allocations in all, 8 bytes a
//! pair and 8 (IPv6: 20) an address beside the names, and no name looked
//! up.
//!
//! # Following the deltas
//!
//! A delta adds or removes a name's rank at the addresses of its A and
//! AAAA records; a name whose number of addresses changed moves to its
//! new rank at each of its addresses. Once changed, an address's names
//! are [`Rank`]s (each holding the names its name is in: the derived
//! ones, or the delta's own), a slice while few and a persistent B-tree
//! when many (an agent's address is shared by every host-networked task
//! on it; the tree is built on its first change, not by the derivation),
//! so a change costs the addresses of the names it touches, each
//! `O(log n)` in the names there, not the size of the record set or of an
//! address. The addresses a delta changed go to a persistent map (`imbl`)
//! laid over the derived list: the table before the change keeps its PTR
//! data, and the new one shares all but what changed.

use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::Arc;

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::MAX_NAME_LEN;
use mesos_records::delta::{Lookup, Value};
use mesos_records::{Delta, RecordSet};

use super::ranking::{by_rank, At, Base, Names, Rank, Ranked, Rests, Targets, Wire};
use super::{address, reverse_name};

/// The share of the derivation's names at their addresses (`>>
/// OVERLAY_SHARE`: an eighth) that, held by addresses changed since,
/// makes the data worth laying out again.
const OVERLAY_SHARE: u32 = 3;

/// The PTR data of every address, derived from one record set.
#[derive(Clone, Debug, Default)]
pub struct Ptrs {
    /// The addresses of the last full derivation with their names (never
    /// none); shared by every `Ptrs` followed from it.
    base: Arc<Base>,
    /// The addresses changed since: their names now, or `None` for an
    /// address of `base` that has none left. No address without names.
    over: imbl::HashMap<IpAddr, Option<Ranked>>,
    /// Addresses with names.
    len: usize,
    /// Ancestors of the reverse names of those addresses inside a
    /// `ReverseZones` zone (empty non-terminals: NODATA, not NXDOMAIN,
    /// RFC 8020), with the number of names below each.
    pub(super) above: imbl::HashMap<Box<[u8]>, usize>,
}

impl Ptrs {
    /// Derives the PTR data of `records` (see the module docs): owner
    /// names under `apex`; `zones` are the reverse zones whose empty
    /// non-terminals are kept.
    pub fn derive(records: &RecordSet, apex: &[u8], zones: &[Box<[u8]>]) -> Self {
        // Each name that may be a target, numbered, in `names`; and
        // (address, name number) of each of its values.
        let mut names = Names::default();
        let mut rests = Rests::default();
        let mut numbered: Vec<(u32, u32)> = Vec::new();
        let mut v4: Vec<u64> = Vec::new();
        let mut v6: Vec<(u128, u32)> = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut name = |text: &str, count: usize| -> Option<u32> {
            let wire = target(text, apex, &mut buf)?;
            let n = u32::try_from(numbered.len()).ok()?;
            let count = u32::try_from(count).ok()?;
            numbered.push((count, names.push(wire, &mut rests)?));
            Some(n)
        };
        for (text, ips) in records.a_records() {
            if let Some(n) = name(text, ips.len()) {
                v4.extend(
                    ips.iter()
                        .map(|ip| u64::from(ip.to_bits()) << 32 | u64::from(n)),
                );
            }
        }
        for (text, ips) in records.aaaa_records() {
            if let Some(n) = name(text, ips.len()) {
                v6.extend(ips.iter().map(|ip| (ip.to_bits(), n)));
            }
        }
        names.shrink_to_fit();
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        // Each address's names, a run of `ranks` sorted by rank.
        let mut base = Base {
            ranks: Vec::with_capacity(v4.len() + v6.len()),
            ..Base::default()
        };
        let pairs = v4
            .iter()
            .map(|p| (IpAddr::V4(((p >> 32) as u32).into()), *p as u32))
            .chain(v6.iter().map(|(ip, n)| (IpAddr::V6((*ip).into()), *n)));
        let mut last = None;
        let mut scratch = Vec::new();
        for (ip, n) in pairs {
            let Some(&rank) = numbered.get(n as usize) else {
                continue;
            };
            if last != Some(ip) {
                close(&mut base, &names, &mut scratch);
                let Ok(start) = u32::try_from(base.ranks.len()) else {
                    break;
                };
                match ip {
                    IpAddr::V4(a) => base.v4.push((a, start)),
                    IpAddr::V6(a) => base.v6.push((a, start)),
                }
                last = Some(ip);
            }
            base.ranks.push(rank);
        }
        close(&mut base, &names, &mut scratch);
        drop((numbered, v4, v6, rests));
        base.ranks.shrink_to_fit();
        base.names = Arc::new(names);
        let mut above = std::collections::HashMap::new();
        if !zones.is_empty() {
            for ip in base.iter() {
                for up in ancestors(&reverse_name(ip), zones) {
                    *above.entry(up).or_insert(0) += 1;
                }
            }
        }
        Ptrs {
            len: base.v4.len() + base.v6.len(),
            base: Arc::new(base),
            over: imbl::HashMap::new(),
            above: above.into_iter().collect(),
        }
    }

    /// The PTR data after `delta`, from this data before it and `view`,
    /// the values after it (see the module docs), under the settings it
    /// was derived with. The same as [`Ptrs::derive`] of the record set
    /// after the change.
    pub fn follow<L: Lookup + ?Sized>(
        &self,
        delta: &Delta,
        view: &L,
        apex: &[u8],
        zones: &[Box<[u8]>],
    ) -> Self {
        let mut ptrs = self.clone();
        // (name, family is v6, address, added) of each A and AAAA record.
        let mut changes: Vec<(&str, bool, IpAddr, bool)> = Vec::new();
        let sides = delta.removed.iter().map(|r| (r, false));
        for (rec, added) in sides.chain(delta.added.iter().map(|r| (r, true))) {
            let (ip, v6) = match rec.value {
                Value::A(ip) => (IpAddr::V4(ip), false),
                Value::Aaaa(ip) => (IpAddr::V6(ip), true),
                Value::Srv { .. } => continue,
            };
            changes.push((rec.name.as_str(), v6, ip, added));
        }
        changes.sort_unstable();
        let groups: Vec<_> = changes.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).collect();
        // The names of the delta, whole, in one buffer that their ranks
        // share.
        let mut names = Names::default();
        let mut buf = [0u8; MAX_NAME_LEN];
        let at: Vec<Option<u32>> = groups
            .iter()
            .map(|g| names.push_whole(target(g.first()?.0, apex, &mut buf)?))
            .collect();
        let names = Arc::new(names);
        let mut touched: Vec<IpAddr> = Vec::new();
        for (group, at) in groups.iter().zip(at) {
            let (Some(&(name, v6, ..)), Some(at)) = (group.first(), at) else {
                continue;
            };
            let now: Vec<IpAddr> = match v6 {
                false => view.a(name).iter().map(|ip| IpAddr::V4(*ip)).collect(),
                true => view.aaaa(name).iter().map(|ip| IpAddr::V6(*ip)).collect(),
            };
            let added = group.iter().filter(|c| c.3).count();
            let count = now.len();
            let (Ok(was), Ok(is)) = (
                u32::try_from((count + (group.len() - added)).saturating_sub(added)),
                u32::try_from(count),
            ) else {
                continue;
            };
            let after = Rank::derived(&names, (is, at));
            let before = after.counted(was);
            if was == is {
                // Only the addresses added and removed move.
                for &(_, _, ip, added) in *group {
                    match added {
                        true => ptrs.insert(ip, after.clone()),
                        false => ptrs.remove(ip, &before),
                    }
                    touched.push(ip);
                }
            } else {
                // Every address of the name, before and after, ranks it anew
                // (where it was not before, there is nothing to remove).
                let gone = group.iter().filter(|c| !c.3).map(|c| c.2);
                for ip in now.iter().copied().chain(gone) {
                    ptrs.remove(ip, &before);
                    touched.push(ip);
                }
                for &ip in &now {
                    ptrs.insert(ip, after.clone());
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for ip in touched {
            let had = self.at(ip).is_some();
            let has = ptrs.settle(ip);
            if had != has {
                ptrs.len = (ptrs.len + usize::from(has)).saturating_sub(usize::from(had));
                ptrs.count_above(ip, zones, has);
            }
        }
        ptrs
    }

    /// Whether the addresses changed since the derivation hold more names
    /// than an eighth (`OVERLAY_SHARE`) of the derivation's: then
    /// [`Ptrs::compacted`] saves memory. Once changed, an address's names
    /// are ranks of their own (16 bytes each, in a slice or tree nodes of
    /// their own), where the derived list keeps 8 bytes a name. Counted by
    /// names, not addresses: an agent's address holds the names of every
    /// task on it. At 100,000 tasks, after a minute of 1,000 changes a
    /// second, 4% of the addresses had changed, holding half of the names
    /// (212,000 of 401,000) and 10 MB beside the 12 MB of the derivation.
    /// Linear in the addresses changed.
    pub fn overlay_grown(&self) -> bool {
        let changed: usize = self.over.values().flatten().map(Ranked::len).sum();
        changed > self.base.ranks.len() >> OVERLAY_SHARE
    }

    /// The same PTR data laid out again as one derivation: every address
    /// with its names, changed or not, in one list of runs over one
    /// `Names`, with no address changed since. Each name is copied once
    /// (names at several addresses share their place, found by where the
    /// data before kept them). In time linear in the addresses and their
    /// names, reading no record set. `None` if the names do not fit (as
    /// a derivation would leave them out).
    pub fn compacted(&self) -> Option<Ptrs> {
        let mut addresses: Vec<(IpAddr, At<'_>)> = self.iter().collect();
        addresses.sort_unstable_by_key(|&(ip, _)| ip);
        let mut names = Names::default();
        let mut rests = Rests::default();
        let mut copied: foldhash::HashMap<(usize, u32), u32> = Default::default();
        let mut base = Base::default();
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut fits = true;
        for (ip, at) in addresses {
            let Ok(start) = u32::try_from(base.ranks.len()) else {
                return None;
            };
            match ip {
                IpAddr::V4(a) => base.v4.push((a, start)),
                IpAddr::V6(a) => base.v6.push((a, start)),
            }
            at.each_kept(|count, kept, wire| {
                let n = match copied.entry(kept) {
                    Entry::Occupied(e) => *e.get(),
                    Entry::Vacant(e) => {
                        match names.push(wire.joined(&mut buf), &mut rests) {
                            Some(n) => *e.insert(n),
                            None => {
                                fits = false;
                                return;
                            }
                        }
                    }
                };
                base.ranks.push((count, n));
            });
        }
        if !fits {
            return None;
        }
        drop((copied, rests));
        names.shrink_to_fit();
        base.names = Arc::new(names);
        base.ranks.shrink_to_fit();
        base.v4.shrink_to_fit();
        base.v6.shrink_to_fit();
        Some(Ptrs {
            base: Arc::new(base),
            over: imbl::HashMap::new(),
            len: self.len,
            above: self.above.clone(),
        })
    }

    /// The names at `ip`, if any.
    fn at(&self, ip: IpAddr) -> Option<At<'_>> {
        match self.over.get(&ip) {
            Some(over) => over.as_ref().map(At::Changed),
            None => Some(At::Base(&self.base.names, self.base.run(ip)?)),
        }
    }

    /// The names at `ip`, to change (moved over the base).
    fn ranked_mut(&mut self, ip: IpAddr) -> Option<&mut Ranked> {
        if !self.over.contains_key(&ip) {
            let run = self.base.run(ip)?;
            let names = &self.base.names;
            let ranks = run.iter().map(|&r| Rank::derived(names, r));
            let now = Ranked::changed(ranks.collect());
            self.over.insert(ip, Some(now));
        }
        self.over.get_mut(&ip).and_then(Option::as_mut)
    }

    fn insert(&mut self, ip: IpAddr, rank: Rank) {
        match self.ranked_mut(ip) {
            Some(r) => r.insert(rank),
            None => {
                let r = Ranked::Few(Arc::new([rank]));
                self.over.insert(ip, Some(r));
            }
        }
    }

    fn remove(&mut self, ip: IpAddr, rank: &Rank) {
        if let Some(r) = self.ranked_mut(ip) {
            r.remove(rank);
        }
    }

    /// Drops `ip` if no name is left there; whether it has names.
    fn settle(&mut self, ip: IpAddr) -> bool {
        if self.at(ip).is_some_and(|r| r.len() > 0) {
            return true;
        }
        match self.base.run(ip).is_some() {
            true => self.over.insert(ip, None),
            false => self.over.remove(&ip),
        };
        false
    }

    /// Counts the reverse name of `ip` in (or out of) its ancestors'.
    fn count_above(&mut self, ip: IpAddr, zones: &[Box<[u8]>], add: bool) {
        if zones.is_empty() {
            return;
        }
        for up in ancestors(&reverse_name(ip), zones) {
            match add {
                true => *self.above.entry(up).or_insert(0) += 1,
                false => {
                    if let Some(n) = self.above.get_mut(&up) {
                        *n -= 1;
                        if *n == 0 {
                            self.above.remove(&up);
                        }
                    }
                }
            }
        }
    }

    /// The targets of the PTR records of the reverse name `key`
    /// (lowercase wire), in order, if its address has any.
    pub(super) fn records(&self, key: &[u8]) -> Option<Targets<'_>> {
        self.at(address(key)?).map(At::top)
    }

    /// Every address with names, and its names.
    fn iter(&self) -> impl Iterator<Item = (IpAddr, At<'_>)> {
        let base = self.base.iter().filter(|ip| !self.over.contains_key(ip));
        let base = base
            .filter_map(|ip| Some((ip, At::Base(&self.base.names, self.base.run(ip)?))));
        let over = self
            .over
            .iter()
            .filter_map(|(ip, r)| Some((*ip, At::Changed(r.as_ref()?))));
        base.chain(over)
    }

    /// Heap bytes of the derived data (exact buffer capacities; the
    /// addresses changed since are left out).
    pub fn heap_size(&self) -> usize {
        self.base.heap_size()
    }

    /// Addresses with PTR records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no address has PTR records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The targets of the PTR records of `ip` in wire form, in order (for
    /// tests and the HTTP API).
    pub fn targets(&self, ip: IpAddr) -> Vec<Box<[u8]>> {
        let top = self.at(ip).map(At::top);
        top.iter()
            .flat_map(|t| t.iter())
            .map(|w| w.to_vec().into())
            .collect()
    }
}

/// The same PTR data: the same names at the same addresses, however each
/// was reached (derived or followed).
impl PartialEq for Ptrs {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.above == other.above
            && self.iter().count() == self.len
            && self
                .iter()
                .all(|(ip, r)| other.at(ip).is_some_and(|o| o.all() == r.all()))
    }
}

/// Sorts the last run of `base` (an address's names, at its end) by rank,
/// and keeps one of equal ranks: a name spelled with and without its
/// trailing dot is one wire name, as a followed address keeps it.
fn close<'n>(base: &mut Base, names: &'n Names, scratch: &mut Vec<(u32, Wire<'n>, u32)>) {
    let last = base.v6.last().map(|e| e.1).or(base.v4.last().map(|e| e.1));
    let Some(at) = last.map(|at| at as usize) else {
        return;
    };
    let Some(tail @ [_, _, ..]) = base.ranks.get(at..) else {
        return;
    };
    // Each name read once, not at each comparison.
    scratch.clear();
    scratch.extend(tail.iter().map(|&(count, at)| (count, names.get(at), at)));
    scratch.sort_unstable_by(|a, b| by_rank((a.0, a.1), (b.0, b.1)));
    scratch.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    base.ranks.truncate(at);
    base.ranks.extend(scratch.iter().map(|r| (r.0, r.2)));
}

/// `name` in wire form if it may be a PTR target: under `apex`, and not
/// spelled with capitals (see the module docs).
fn target<'b>(
    name: &str,
    apex: &[u8],
    buf: &'b mut [u8; MAX_NAME_LEN],
) -> Option<&'b [u8]> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let wire = from_dotted(name, buf).ok()?;
    is_subdomain_exact(wire, apex).then_some(wire)
}

/// The ancestors of reverse name `key` inside the first of `zones` that
/// holds it, down to the zone's apex.
fn ancestors(key: &[u8], zones: &[Box<[u8]>]) -> Vec<Box<[u8]>> {
    let mut out = Vec::new();
    if let Some(z) = zones.iter().find(|z| is_subdomain_exact(key, z)) {
        let mut at = 0;
        while let Some(&len) = key.get(at) {
            at += 1 + usize::from(len);
            let Some(up) = key.get(at..) else { break };
            if up.len() < z.len() {
                break;
            }
            out.push(up.into());
        }
    }
    out
}
