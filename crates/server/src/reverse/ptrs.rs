//! The PTR data of a table (see the [module docs](super) for which names
//! an address gets), derived in full from a record set, or from the PTR
//! data before a [`Delta`] and the values after it.
//!
//! # The ranking, kept
//!
//! Each address keeps every name pointing at it as a [`Rank`] (the name's
//! number of addresses, then the name), in order, beside its PTR records:
//! the first [`PTR_MAX`] of that order. A full derivation collects the
//! (address, rank) pairs of every A and AAAA record in one pass, sorts
//! them once and cuts them into addresses: no name is looked up.
//!
//! # Following the deltas
//!
//! A delta adds or removes a name's rank at the addresses of its A and
//! AAAA records; a name whose number of addresses changed moves to its
//! new rank at each of its addresses. Then each address whose order
//! changed takes its first [`PTR_MAX`] names again. So a change costs
//! the addresses of the names it touches, each `O(log n)` in the names at
//! that address (an agent's address is shared by every host-networked
//! task on it), not the size of the record set or of an address. The
//! maps are persistent (`imbl`): the table before the change keeps its
//! PTR data, and the new one shares all but what changed.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::sync::Arc;

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::MAX_NAME_LEN;
use mesos_records::delta::{Lookup, Value};
use mesos_records::{Delta, RecordSet};

use super::{address, ptr_record, reverse_name, PTR_MAX};

/// The PTR records of one address, each ready to send.
pub(super) type Records = Arc<[Box<[u8]>]>;

/// Names at one address up to which they are kept in a sorted slice
/// (copied on change); above it, in a persistent B-tree. Small in tests,
/// so that both forms and the moves between them are exercised.
const FEW: usize = if cfg!(test) { 4 } else { 32 };

/// One name pointing at an address, as ranked there: by `count` (the
/// name's addresses of that family), then length, then bytes of `wire`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rank {
    count: usize,
    /// The name in lowercase wire form.
    wire: Arc<[u8]>,
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        self.count
            .cmp(&other.count)
            .then(self.wire.len().cmp(&other.wire.len()))
            .then_with(|| self.wire.cmp(&other.wire))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The names at one address, in rank order.
#[derive(Clone, Debug)]
enum Ranked {
    /// At most [`FEW`] (a container's address: its task's names).
    Few(Arc<[Rank]>),
    /// More (an agent's address).
    Many(imbl::OrdSet<Rank>),
}

impl Ranked {
    /// From ranks sorted and unique.
    fn from_sorted(ranks: Vec<Rank>) -> Self {
        match ranks.len() > FEW {
            true => Ranked::Many(ranks.into_iter().collect()),
            false => Ranked::Few(ranks.into()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Ranked::Few(f) => f.len(),
            Ranked::Many(m) => m.len(),
        }
    }

    /// The first `n` names.
    fn first(&self, n: usize) -> Vec<&Rank> {
        match self {
            Ranked::Few(f) => f.iter().take(n).collect(),
            Ranked::Many(m) => m.iter().take(n).collect(),
        }
    }

    fn insert(&mut self, rank: Rank) {
        match self {
            Ranked::Few(f) => {
                if let Err(at) = f.binary_search(&rank) {
                    let mut v = f.to_vec();
                    v.insert(at, rank);
                    *self = Ranked::from_sorted(v);
                }
            }
            Ranked::Many(m) => {
                m.insert(rank);
            }
        }
    }

    fn remove(&mut self, rank: &Rank) {
        match self {
            Ranked::Few(f) => {
                if let Ok(at) = f.binary_search(rank) {
                    let mut v = f.to_vec();
                    v.remove(at);
                    *f = v.into();
                }
            }
            Ranked::Many(m) => {
                m.remove(rank);
                // Back to a slice well below the bound, so that one name
                // coming and going does not move it back and forth.
                if m.len() <= FEW / 2 {
                    *self = Ranked::Few(m.iter().cloned().collect());
                }
            }
        }
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        let iter = |r: &Ranked| -> Vec<Rank> {
            match r {
                Ranked::Few(f) => f.to_vec(),
                Ranked::Many(m) => m.iter().cloned().collect(),
            }
        };
        self.len() == other.len() && iter(self) == iter(other)
    }
}

/// What one address has: the names pointing at it, ranked, and its PTR
/// records (the first [`PTR_MAX`] of them).
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    ranked: Ranked,
    records: Records,
}

/// The PTR records of every address, derived from one record set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ptrs {
    /// Address → the names pointing at it and its PTR records, ready to
    /// send (owner compressed to the question). No address without names.
    addrs: imbl::HashMap<IpAddr, Entry>,
    /// Ancestors of the reverse names of those addresses inside a
    /// `ReverseZones` zone (empty non-terminals: NODATA, not NXDOMAIN,
    /// RFC 8020), with the number of names below each.
    pub(super) above: imbl::HashMap<Box<[u8]>, usize>,
}

impl Ptrs {
    /// Derives the PTR records of `records` (see the module docs): owner
    /// names under `apex`, TTL `ttl`; `zones` are the reverse zones whose
    /// empty non-terminals are kept.
    pub fn derive(
        records: &RecordSet,
        apex: &[u8],
        ttl: u32,
        zones: &[Box<[u8]>],
    ) -> Self {
        let mut pairs: Vec<(IpAddr, Rank)> = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut add =
            |name: &str, count: usize, ips: &mut dyn Iterator<Item = IpAddr>| {
                let Some(wire) = target(name, apex, &mut buf) else {
                    return;
                };
                let rank = Rank {
                    count,
                    wire: wire.into(),
                };
                pairs.extend(ips.map(|ip| (ip, rank.clone())));
            };
        for (name, ips) in records.a_records() {
            add(name, ips.len(), &mut ips.iter().map(|ip| IpAddr::V4(*ip)));
        }
        for (name, ips) in records.aaaa_records() {
            add(name, ips.len(), &mut ips.iter().map(|ip| IpAddr::V6(*ip)));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut addrs = Vec::new();
        let mut pairs = pairs.into_iter().peekable();
        while let Some((ip, first)) = pairs.next() {
            let mut ranks = vec![first];
            while let Some((_, r)) = pairs.next_if(|(next, _)| *next == ip) {
                ranks.push(r);
            }
            let records = ranks
                .iter()
                .take(PTR_MAX)
                .map(|r| ptr_record(&r.wire, ttl))
                .collect();
            let ranked = Ranked::from_sorted(ranks);
            addrs.push((ip, Entry { ranked, records }));
        }
        let mut above = std::collections::HashMap::new();
        if !zones.is_empty() {
            for (ip, _) in &addrs {
                for up in ancestors(&reverse_name(*ip), zones) {
                    *above.entry(up).or_insert(0) += 1;
                }
            }
        }
        Ptrs {
            addrs: addrs.into_iter().collect(),
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
        ttl: u32,
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
        let mut touched: Vec<IpAddr> = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        for group in changes.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let Some(&(name, v6, ..)) = group.first() else {
                continue;
            };
            let Some(wire) = target(name, apex, &mut buf) else {
                continue;
            };
            let wire: Arc<[u8]> = wire.into();
            let now: Vec<IpAddr> = match v6 {
                false => view.a(name).iter().map(|ip| IpAddr::V4(*ip)).collect(),
                true => view.aaaa(name).iter().map(|ip| IpAddr::V6(*ip)).collect(),
            };
            let added = group.iter().filter(|c| c.3).count();
            let count = now.len();
            let before = Rank {
                count: (count + (group.len() - added)).saturating_sub(added),
                wire: Arc::clone(&wire),
            };
            let after = Rank { count, wire };
            if before.count == count {
                // Only the addresses added and removed move.
                for &(_, _, ip, added) in group {
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
            ptrs.refresh(ip, ttl, zones);
        }
        ptrs
    }

    fn insert(&mut self, ip: IpAddr, rank: Rank) {
        match self.addrs.get_mut(&ip) {
            Some(e) => e.ranked.insert(rank),
            None => {
                let entry = Entry {
                    ranked: Ranked::Few(Arc::new([rank])),
                    records: Arc::new([]),
                };
                self.addrs.insert(ip, entry);
            }
        }
    }

    fn remove(&mut self, ip: IpAddr, rank: &Rank) {
        if let Some(e) = self.addrs.get_mut(&ip) {
            e.ranked.remove(rank);
        }
    }

    /// Takes the first [`PTR_MAX`] names at `ip` as its PTR records again
    /// if they changed, or drops the address when no name points at it.
    fn refresh(&mut self, ip: IpAddr, ttl: u32, zones: &[Box<[u8]>]) {
        let Some(e) = self.addrs.get_mut(&ip) else {
            return;
        };
        if e.ranked.len() == 0 {
            self.addrs.remove(&ip);
            self.count_above(ip, zones, false);
            return;
        }
        let first = e.ranked.first(PTR_MAX);
        let same = first.len() == e.records.len()
            && first
                .iter()
                .zip(e.records.iter())
                .all(|(r, rr)| rr.get(12..) == Some(&r.wire[..]));
        if same {
            return;
        }
        let new = e.records.is_empty();
        e.records = first.iter().map(|r| ptr_record(&r.wire, ttl)).collect();
        if new {
            self.count_above(ip, zones, true);
        }
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

    /// The PTR records of the reverse name `key` (lowercase wire), if its
    /// address has any.
    pub(super) fn records(&self, key: &[u8]) -> Option<&Records> {
        self.addrs.get(&address(key)?).map(|e| &e.records)
    }

    /// Addresses with PTR records.
    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// Whether no address has PTR records.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The targets of the PTR records of `ip`, in order (for tests and
    /// the HTTP API).
    pub fn targets(&self, ip: IpAddr) -> Vec<Box<[u8]>> {
        self.addrs
            .get(&ip)
            .map(|e| {
                e.records
                    .iter()
                    .filter_map(|r| r.get(12..).map(Into::into))
                    .collect()
            })
            .unwrap_or_default()
    }
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
