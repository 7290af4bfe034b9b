//! The PTR data of a table (see the [module docs](super) for which names
//! an address gets), derived in full from a record set, or from the PTR
//! data before a [`Delta`] and the values after it.
//!
//! # The ranking, kept
//!
//! Each address keeps every name pointing at it as a [`Rank`] (the name's
//! number of addresses, then the name), in order; its PTR records are the
//! first [`PTR_MAX`], written at answer time.
//!
//! A full derivation numbers the names of the A and AAAA records in one
//! pass (their wire forms in one buffer), sorts the (address, name number)
//! pairs once, and lays the addresses out in order in one list, each one's
//! names a run of one shared buffer: a few allocations in all, and no name
//! looked up.
//!
//! # Following the deltas
//!
//! A delta adds or removes a name's rank at the addresses of its A and
//! AAAA records; a name whose number of addresses changed moves to its
//! new rank at each of its addresses. Once changed, an address's names
//! are a slice while few and a persistent B-tree when many (an agent's
//! address is shared by every host-networked task on it; the tree is
//! built on its first change, not by the derivation), so a change costs the
//! addresses of the names it touches, each `O(log n)` in the names there,
//! not the size of the record set or of an address. The addresses a delta
//! changed go to a persistent map (`imbl`) laid over the derived list:
//! the table before the change keeps its PTR data, and the new one shares
//! all but what changed.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::MAX_NAME_LEN;
use mesos_records::delta::{Lookup, Value};
use mesos_records::{Delta, RecordSet};

use super::{address, reverse_name, PTR_MAX};

/// Names at one address up to which a changed address keeps them in a
/// slice (copied on change); above it, in a persistent B-tree. Small in tests, so that both
/// forms and the moves between them are exercised.
const FEW: usize = if cfg!(test) { 4 } else { 32 };

/// A run of a buffer that many share (a full derivation keeps all names
/// in one, and all ranks in another).
#[derive(Clone)]
struct Shared<T> {
    all: Arc<Vec<T>>,
    at: usize,
    len: usize,
}

impl<T> Shared<T> {
    fn new(v: Vec<T>) -> Self {
        let len = v.len();
        Shared {
            all: Arc::new(v),
            at: 0,
            len,
        }
    }

    fn of(all: &Arc<Vec<T>>, at: usize, len: usize) -> Self {
        Shared {
            all: Arc::clone(all),
            at,
            len,
        }
    }
}

impl<T> Deref for Shared<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.all.get(self.at..self.at + self.len).unwrap_or(&[])
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One name pointing at an address, as ranked there: by `count` (the
/// name's addresses of that family), then length, then bytes of `wire`.
#[derive(Clone, Debug)]
pub(super) struct Rank {
    count: u32,
    /// The name in lowercase wire form.
    wire: Shared<u8>,
}

impl Rank {
    /// The name, in lowercase wire form.
    pub(super) fn wire(&self) -> &[u8] {
        &self.wire
    }
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count && *self.wire == *other.wire
    }
}

impl Eq for Rank {}

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
    /// As derived, or at most [`FEW`] after a change (a container's
    /// address: its task's names).
    Few(Shared<Rank>),
    /// More, once changed (an agent's address).
    Many(Arc<Many>),
}

/// The names at an address with many, and the first [`PTR_MAX`] of them.
#[derive(Clone, Debug)]
struct Many {
    set: imbl::OrdSet<Rank>,
    top: Vec<Rank>,
}

impl Many {
    fn new(set: imbl::OrdSet<Rank>) -> Self {
        let top = set.iter().take(PTR_MAX).cloned().collect();
        Many { set, top }
    }
}

impl Ranked {
    /// From ranks sorted and unique, changed: a tree if many.
    fn changed(ranks: Vec<Rank>) -> Self {
        match ranks.len() > FEW {
            true => Ranked::Many(Arc::new(Many::new(ranks.into_iter().collect()))),
            false => Ranked::Few(Shared::new(ranks)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Ranked::Few(f) => f.len(),
            Ranked::Many(m) => m.set.len(),
        }
    }

    /// The first [`PTR_MAX`] names: the PTR records' targets.
    fn top(&self) -> &[Rank] {
        match self {
            Ranked::Few(f) => f.get(..PTR_MAX).unwrap_or(f),
            Ranked::Many(m) => &m.top,
        }
    }

    fn insert(&mut self, rank: Rank) {
        match self {
            Ranked::Few(f) => {
                if let Err(at) = f.binary_search(&rank) {
                    let mut v = f.to_vec();
                    v.insert(at, rank);
                    *self = Ranked::changed(v);
                }
            }
            Ranked::Many(m) => {
                let mut set = m.set.clone();
                if set.insert(rank).is_none() {
                    *m = Arc::new(Many::new(set));
                }
            }
        }
    }

    fn remove(&mut self, rank: &Rank) {
        match self {
            Ranked::Few(f) => {
                if let Ok(at) = f.binary_search(rank) {
                    let mut v = f.to_vec();
                    v.remove(at);
                    *self = Ranked::changed(v);
                }
            }
            Ranked::Many(m) => {
                let mut set = m.set.clone();
                if set.remove(rank).is_none() {
                    return;
                }
                // Back to a slice well below the bound, so that one name
                // coming and going does not move it back and forth.
                *self = match set.len() <= FEW / 2 {
                    true => Ranked::Few(Shared::new(set.into_iter().collect())),
                    false => Ranked::Many(Arc::new(Many::new(set))),
                };
            }
        }
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        let all = |r: &Ranked| -> Vec<Rank> {
            match r {
                Ranked::Few(f) => f.to_vec(),
                Ranked::Many(m) => m.set.iter().cloned().collect(),
            }
        };
        self.len() == other.len() && all(self) == all(other)
    }
}

/// The PTR data of every address, derived from one record set.
#[derive(Clone, Debug, Default)]
pub struct Ptrs {
    /// The addresses of the last full derivation, in order, with their
    /// names (never none); shared by every `Ptrs` followed from it.
    base: Arc<Vec<(IpAddr, Ranked)>>,
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
        // Each name that may be a target, numbered, its wire form in
        // `wires`; and (address, name number) of each of its values.
        let mut wires: Vec<u8> = Vec::new();
        let mut names: Vec<(u32, usize, usize)> = Vec::new();
        let mut v4: Vec<u64> = Vec::new();
        let mut v6: Vec<(u128, u32)> = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut name = |text: &str, count: usize| -> Option<u32> {
            let wire = target(text, apex, &mut buf)?;
            let n = u32::try_from(names.len()).ok()?;
            names.push((u32::try_from(count).ok()?, wires.len(), wire.len()));
            wires.extend_from_slice(wire);
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
        let wires = Arc::new(wires);
        let ranks: Vec<Rank> = names
            .into_iter()
            .map(|(count, at, len)| Rank {
                count,
                wire: Shared::of(&wires, at, len),
            })
            .collect();
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        // Each address's names, a run of `all` sorted by rank.
        let mut all: Vec<Rank> = Vec::with_capacity(v4.len() + v6.len());
        let mut runs: Vec<(IpAddr, usize, usize)> = Vec::new();
        let pairs = v4
            .iter()
            .map(|p| (IpAddr::V4(((p >> 32) as u32).into()), *p as u32))
            .chain(v6.iter().map(|(ip, n)| (IpAddr::V6((*ip).into()), *n)));
        for (ip, n) in pairs {
            let Some(rank) = ranks.get(n as usize) else {
                continue;
            };
            match runs.last_mut() {
                Some((last, _, len)) if *last == ip => *len += 1,
                _ => {
                    close(&mut all, runs.last_mut());
                    runs.push((ip, all.len(), 1));
                }
            }
            all.push(rank.clone());
        }
        close(&mut all, runs.last_mut());
        drop(ranks);
        let all = Arc::new(all);
        let base: Vec<(IpAddr, Ranked)> = runs
            .into_iter()
            .map(|(ip, at, len)| (ip, Ranked::Few(Shared::of(&all, at, len))))
            .collect();
        let mut above = std::collections::HashMap::new();
        if !zones.is_empty() {
            for (ip, _) in &base {
                for up in ancestors(&reverse_name(*ip), zones) {
                    *above.entry(up).or_insert(0) += 1;
                }
            }
        }
        Ptrs {
            len: base.len(),
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
        let mut touched: Vec<IpAddr> = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        for group in changes.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let Some(&(name, v6, ..)) = group.first() else {
                continue;
            };
            let Some(wire) = target(name, apex, &mut buf) else {
                continue;
            };
            let wire = Shared::new(wire.to_vec());
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
            let before = Rank {
                count: was,
                wire: wire.clone(),
            };
            let after = Rank { count: is, wire };
            if was == is {
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
            let had = self.ranked(ip).is_some();
            let has = ptrs.settle(ip);
            if had != has {
                ptrs.len = (ptrs.len + usize::from(has)).saturating_sub(usize::from(had));
                ptrs.count_above(ip, zones, has);
            }
        }
        ptrs
    }

    /// The names at `ip`, if any.
    fn ranked(&self, ip: IpAddr) -> Option<&Ranked> {
        match self.over.get(&ip) {
            Some(over) => over.as_ref(),
            None => self
                .base
                .binary_search_by(|(at, _)| at.cmp(&ip))
                .ok()
                .and_then(|i| self.base.get(i))
                .map(|(_, r)| r),
        }
    }

    /// The names at `ip`, to change (moved over the base).
    fn ranked_mut(&mut self, ip: IpAddr) -> Option<&mut Ranked> {
        if !self.over.contains_key(&ip) {
            let now = self.ranked(ip)?.clone();
            self.over.insert(ip, Some(now));
        }
        self.over.get_mut(&ip).and_then(Option::as_mut)
    }

    fn insert(&mut self, ip: IpAddr, rank: Rank) {
        match self.ranked_mut(ip) {
            Some(r) => r.insert(rank),
            None => {
                let r = Ranked::Few(Shared::new(vec![rank]));
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
        if self.ranked(ip).is_some_and(|r| r.len() > 0) {
            return true;
        }
        let in_base = self.base.binary_search_by(|(at, _)| at.cmp(&ip)).is_ok();
        match in_base {
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
    pub(super) fn records(&self, key: &[u8]) -> Option<&[Rank]> {
        self.ranked(address(key)?).map(Ranked::top)
    }

    /// Every address with names, and its names (in no order).
    fn iter(&self) -> impl Iterator<Item = (IpAddr, &Ranked)> {
        let base = self
            .base
            .iter()
            .filter(|(ip, _)| !self.over.contains_key(ip));
        let over = self
            .over
            .iter()
            .filter_map(|(ip, r)| Some((*ip, r.as_ref()?)));
        base.map(|(ip, r)| (*ip, r)).chain(over)
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
        let top = self.ranked(ip).map(Ranked::top).unwrap_or_default();
        top.iter().map(|r| r.wire().into()).collect()
    }
}

/// The same PTR data: the same names at the same addresses, however each
/// was reached (derived or followed).
impl PartialEq for Ptrs {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.above == other.above
            && self.iter().count() == self.len
            && self.iter().all(|(ip, r)| other.ranked(ip) == Some(r))
    }
}

/// Sorts the last run of `all` (an address's names, at its end) by rank,
/// and keeps one of equal ranks: a name spelled with and without its
/// trailing dot is one wire name, as a followed address keeps it.
fn close(all: &mut Vec<Rank>, run: Option<&mut (IpAddr, usize, usize)>) {
    let Some((_, at, len)) = run else {
        return;
    };
    let Some(tail) = all.get_mut(*at..) else {
        return;
    };
    tail.sort_unstable();
    if tail.windows(2).any(|w| w[0] == w[1]) {
        let mut names = all.split_off(*at);
        names.dedup();
        *len = names.len();
        all.append(&mut names);
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
