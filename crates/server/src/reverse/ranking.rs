//! The names at one address in rank order (see [`ptrs`](super::ptrs)):
//! as a full derivation lays them out, runs of (count, offset) in one
//! list beside one names buffer ([`Base`]), and at an address changed
//! since, [`Rank`]s in a slice or a persistent B-tree ([`Ranked`]).

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Deref;
use std::sync::Arc;

use super::PTR_MAX;

/// Names at one address up to which a changed address keeps them in a
/// slice (copied on change); above it, in a persistent B-tree, whose
/// leaves hold 64 (a change copies a leaf, as many as the largest slice).
/// Small in tests, so that both forms and the moves between them are
/// exercised.
const FEW: usize = if cfg!(test) { 4 } else { 64 };

/// The name at `at` of a names buffer: each name there is its length
/// octet, then its lowercase wire form.
pub(super) fn wire_at(names: &[u8], at: u32) -> &[u8] {
    let at = at as usize;
    let len = names.get(at).map_or(0, |&l| usize::from(l));
    names.get(at + 1..at + 1 + len).unwrap_or(&[])
}

/// Appends `wire` to a names buffer (see [`wire_at`]): its offset, if the
/// name and the offset fit.
pub(super) fn push_name(names: &mut Vec<u8>, wire: &[u8]) -> Option<u32> {
    let at = u32::try_from(names.len()).ok()?;
    names.push(u8::try_from(wire.len()).ok()?);
    names.extend_from_slice(wire);
    Some(at)
}

/// The ranking of names at an address: by count (the name's addresses of
/// that family), then length, then bytes of the wire form.
pub(super) fn by_rank(a: (u32, &[u8]), b: (u32, &[u8])) -> Ordering {
    a.0.cmp(&b.0)
        .then(a.1.len().cmp(&b.1.len()))
        .then_with(|| a.1.cmp(b.1))
}

/// One name pointing at a changed address, as ranked there (see
/// [`by_rank`]): its count and where its name is in a names buffer (a
/// derived one, or its own).
#[derive(Clone)]
pub(super) struct Rank {
    names: Arc<Vec<u8>>,
    at: u32,
    count: u32,
}

impl Rank {
    /// A name of a delta, in a buffer of its own.
    pub(super) fn new(wire: &[u8], count: u32) -> Option<Self> {
        let mut names = Vec::with_capacity(1 + wire.len());
        let at = push_name(&mut names, wire)?;
        Some(Rank {
            names: Arc::new(names),
            at,
            count,
        })
    }

    /// Name `at` of a derived names buffer, with its count.
    pub(super) fn derived(names: &Arc<Vec<u8>>, (count, at): (u32, u32)) -> Self {
        Rank {
            names: Arc::clone(names),
            at,
            count,
        }
    }

    /// The same name with another count.
    pub(super) fn counted(&self, count: u32) -> Self {
        Rank {
            count,
            ..self.clone()
        }
    }

    /// The name, in lowercase wire form.
    fn wire(&self) -> &[u8] {
        wire_at(&self.names, self.at)
    }

    fn key(&self) -> (u32, &[u8]) {
        (self.count, self.wire())
    }
}

impl std::fmt::Debug for Rank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{:?}", self.count, self.wire())
    }
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Rank {}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        by_rank(self.key(), other.key())
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The names at a changed address, in rank order.
#[derive(Clone, Debug)]
pub(super) enum Ranked {
    /// At most [`FEW`] (a container's address: its task's names).
    Few(Arc<[Rank]>),
    /// More (an agent's address).
    Many(Arc<Many>),
}

/// The names at an address with many, and the first [`PTR_MAX`] of them.
#[derive(Clone, Debug)]
pub(super) struct Many {
    set: imbl::OrdSet<Rank>,
    top: Box<[Rank]>,
}

impl Many {
    fn new(set: imbl::OrdSet<Rank>) -> Self {
        let top = set.iter().take(PTR_MAX).cloned().collect();
        Many { set, top }
    }
}

impl Ranked {
    /// From ranks sorted and unique: a tree if many.
    pub(super) fn changed(ranks: Vec<Rank>) -> Self {
        match ranks.len() > FEW {
            true => Ranked::Many(Arc::new(Many::new(ranks.into_iter().collect()))),
            false => Ranked::Few(ranks.into()),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Ranked::Few(f) => f.len(),
            Ranked::Many(m) => m.set.len(),
        }
    }

    pub(super) fn insert(&mut self, rank: Rank) {
        match self {
            Ranked::Few(f) => {
                if let Err(at) = f.binary_search(&rank) {
                    let mut v = Vec::with_capacity(f.len() + 1);
                    v.extend_from_slice(&f[..at]);
                    v.push(rank);
                    v.extend_from_slice(&f[at..]);
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

    pub(super) fn remove(&mut self, rank: &Rank) {
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
                    true => Ranked::Few(set.into_iter().collect()),
                    false => Ranked::Many(Arc::new(Many::new(set))),
                };
            }
        }
    }
}

/// The PTR data of the last full derivation: every address's names in
/// rank order, each a (count, offset in `names`) in one list.
#[derive(Debug, Default)]
pub(super) struct Base {
    /// Every name that may be a target, once per family.
    pub(super) names: Arc<Vec<u8>>,
    /// The names of each address, a run in rank order.
    pub(super) ranks: Vec<(u32, u32)>,
    /// The IPv4 addresses in order, each with the start of its run (which
    /// ends where the next address's starts).
    pub(super) v4: Vec<(Ipv4Addr, u32)>,
    /// The same for IPv6, whose runs come after all IPv4 ones.
    pub(super) v6: Vec<(Ipv6Addr, u32)>,
}

impl Base {
    /// The names at `ip`, if it has any.
    pub(super) fn run(&self, ip: IpAddr) -> Option<&[(u32, u32)]> {
        let next = |e: Option<&(_, u32)>| e.map_or(self.ranks.len(), |e| e.1 as usize);
        let (start, end) = match ip {
            IpAddr::V4(a) => {
                let i = self.v4.binary_search_by_key(&a, |e| e.0).ok()?;
                let end = match self.v4.get(i + 1) {
                    Some(e) => e.1 as usize,
                    None => next(self.v6.first()),
                };
                (self.v4.get(i)?.1, end)
            }
            IpAddr::V6(a) => {
                let i = self.v6.binary_search_by_key(&a, |e| e.0).ok()?;
                (self.v6.get(i)?.1, next(self.v6.get(i + 1)))
            }
        };
        self.ranks.get(start as usize..end)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let v4 = self.v4.iter().map(|e| IpAddr::V4(e.0));
        v4.chain(self.v6.iter().map(|e| IpAddr::V6(e.0)))
    }

    pub(super) fn heap_size(&self) -> usize {
        self.names.capacity()
            + self.ranks.capacity() * 8
            + self.v4.capacity() * std::mem::size_of::<(Ipv4Addr, u32)>()
            + self.v6.capacity() * std::mem::size_of::<(Ipv6Addr, u32)>()
    }
}

/// The names at one address, derived or changed.
#[derive(Clone, Copy)]
pub(super) enum At<'a> {
    Base(&'a [u8], &'a [(u32, u32)]),
    Changed(&'a Ranked),
}

impl<'a> At<'a> {
    pub(super) fn len(self) -> usize {
        match self {
            At::Base(_, run) => run.len(),
            At::Changed(r) => r.len(),
        }
    }

    /// The first [`PTR_MAX`] names: the PTR records' targets.
    pub(super) fn top(self) -> Targets<'a> {
        let mut t = Targets {
            names: [&[]; PTR_MAX],
            len: 0,
        };
        let mut put = |w: &'a [u8]| {
            if let Some(slot) = t.names.get_mut(t.len) {
                *slot = w;
                t.len += 1;
            }
        };
        match self {
            At::Base(names, run) => run
                .iter()
                .take(PTR_MAX)
                .for_each(|r| put(wire_at(names, r.1))),
            At::Changed(Ranked::Few(f)) => {
                f.iter().take(PTR_MAX).for_each(|r| put(r.wire()))
            }
            At::Changed(Ranked::Many(m)) => m.top.iter().for_each(|r| put(r.wire())),
        }
        t
    }

    /// Every name with its count, in rank order.
    pub(super) fn all(self) -> Vec<(u32, &'a [u8])> {
        match self {
            At::Base(names, run) => {
                run.iter().map(|r| (r.0, wire_at(names, r.1))).collect()
            }
            At::Changed(Ranked::Few(f)) => f.iter().map(Rank::key).collect(),
            At::Changed(Ranked::Many(m)) => m.set.iter().map(Rank::key).collect(),
        }
    }
}

/// The targets of an address's PTR records, in order.
#[derive(Clone, Copy)]
pub(super) struct Targets<'a> {
    names: [&'a [u8]; PTR_MAX],
    len: usize,
}

impl<'a> Deref for Targets<'a> {
    type Target = [&'a [u8]];

    fn deref(&self) -> &[&'a [u8]] {
        self.names.get(..self.len).unwrap_or_default()
    }
}
