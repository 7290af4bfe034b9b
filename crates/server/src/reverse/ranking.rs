//! The names at one address in rank order (see [`ptrs`](super::ptrs)):
//! as a full derivation lays them out, runs of (count, offset) in one
//! list beside the [`Names`] ([`Base`]), and at an address changed
//! since, [`Rank`]s in a slice or a persistent B-tree ([`Ranked`]).

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Deref;
use std::sync::Arc;

use dns_wire::MAX_NAME_LEN;

use super::PTR_MAX;

/// Names at one address up to which a changed address keeps them in a
/// slice (copied on change); above it, in a persistent B-tree, whose
/// leaves hold 64 (a change copies a leaf, as many as the largest slice).
/// Small in tests, so that both forms and the moves between them are
/// exercised.
const FEW: usize = if cfg!(test) { 4 } else { 64 };

/// Names in wire form, each split after its first label: that label in
/// one buffer, and the labels after it (a framework's and the domain's,
/// shared by many names) once in another.
#[derive(Debug, Default)]
pub(super) struct Names {
    /// Each name: the length of its first part, that part, and the number
    /// of its rest (little-endian `u16`; 0: none, the name is whole).
    firsts: Vec<u8>,
    /// Each rest: its length octet, then its wire form.
    rests: Vec<u8>,
    /// The offset in `rests` of rest number `n`, at `n - 1`.
    rest_at: Vec<u32>,
}

/// The rests of a [`Names`] being filled, by their wire form, and the
/// last two found (a task's names alternate between a few).
#[derive(Default)]
pub(super) struct Rests {
    numbers: foldhash::HashMap<Box<[u8]>, u16>,
    recent: [u16; 2],
}

impl Rests {
    /// Rests numbered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.numbers.len()
    }
}

impl Names {
    /// Appends `wire`, whole: its offset, if it fits.
    pub(super) fn push_whole(&mut self, wire: &[u8]) -> Option<u32> {
        self.put(wire, 0)
    }

    /// Appends `wire`, its labels after the first shared through `rests`:
    /// its offset, if it fits.
    pub(super) fn push(&mut self, wire: &[u8], rests: &mut Rests) -> Option<u32> {
        let first = 1 + usize::from(*wire.first()?);
        let (head, rest) = (wire.get(..first)?, wire.get(first..)?);
        let recent = rests
            .recent
            .iter()
            .find(|&&n| n > 0 && self.rest(n) == rest);
        let n = match recent.or_else(|| rests.numbers.get(rest)) {
            Some(&n) => n,
            None => match u16::try_from(self.rest_at.len() + 1) {
                Ok(n) => {
                    self.rest_at.push(u32::try_from(self.rests.len()).ok()?);
                    self.rests.push(u8::try_from(rest.len()).ok()?);
                    self.rests.extend_from_slice(rest);
                    rests.numbers.insert(rest.into(), n);
                    n
                }
                // Too many to number: whole.
                Err(_) => return self.put(wire, 0),
            },
        };
        if rests.recent[0] != n {
            rests.recent = [n, rests.recent[0]];
        }
        self.put(head, n)
    }

    /// Rest number `n` (none: empty).
    fn rest(&self, n: u16) -> &[u8] {
        let Some(&at) = usize::from(n)
            .checked_sub(1)
            .and_then(|n| self.rest_at.get(n))
        else {
            return &[];
        };
        let at = at as usize;
        let len = self.rests.get(at).map_or(0, |&l| usize::from(l));
        self.rests.get(at + 1..at + 1 + len).unwrap_or_default()
    }

    fn put(&mut self, head: &[u8], rest: u16) -> Option<u32> {
        let at = u32::try_from(self.firsts.len()).ok()?;
        self.firsts.push(u8::try_from(head.len()).ok()?);
        self.firsts.extend_from_slice(head);
        self.firsts.extend_from_slice(&rest.to_le_bytes());
        Some(at)
    }

    /// The name at `at`.
    pub(super) fn get(&self, at: u32) -> Wire<'_> {
        let at = at as usize;
        let len = self.firsts.get(at).map_or(0, |&l| usize::from(l));
        let end = at + 1 + len;
        let head = self.firsts.get(at + 1..end).unwrap_or_default();
        let rest = match self.firsts.get(end..end + 2) {
            Some(&[a, b]) => u16::from_le_bytes([a, b]),
            _ => 0,
        };
        Wire(head, self.rest(rest))
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.firsts.shrink_to_fit();
        self.rests.shrink_to_fit();
        self.rest_at.shrink_to_fit();
    }

    fn heap_size(&self) -> usize {
        self.firsts.capacity() + self.rests.capacity() + self.rest_at.capacity() * 4
    }
}

/// A name in wire form, in two parts.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Wire<'a>(pub(super) &'a [u8], pub(super) &'a [u8]);

impl<'a> Wire<'a> {
    pub(super) fn len(self) -> usize {
        self.0.len() + self.1.len()
    }

    fn bytes(self) -> impl Iterator<Item = u8> + 'a {
        self.0.iter().chain(self.1).copied()
    }

    pub(super) fn to_vec(self) -> Vec<u8> {
        [self.0, self.1].concat()
    }

    /// The name whole in `buf` (which a wire name always fits).
    pub(super) fn joined(self, buf: &mut [u8; MAX_NAME_LEN]) -> &[u8] {
        let len = self.len().min(buf.len());
        for (d, s) in buf.iter_mut().zip(self.bytes()) {
            *d = s;
        }
        buf.get(..len).unwrap_or_default()
    }
}

/// The same octets, however split.
impl PartialEq for Wire<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Wire<'_> {}

/// By octets, however split.
impl Ord for Wire<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Split alike (names of one derivation, after their first label)
        // or differing in the first parts: no need to go octet by octet.
        let n = self.0.len().min(other.0.len());
        match (self.0.get(..n), other.0.get(..n)) {
            (Some(a), Some(b)) if a != b => a.cmp(b),
            _ if self.0.len() == other.0.len() => self.1.cmp(other.1),
            _ => self.bytes().cmp(other.bytes()),
        }
    }
}

impl PartialOrd for Wire<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The ranking of names at an address: by count (the name's addresses of
/// that family), then length, then bytes of the wire form.
pub(super) fn by_rank(a: (u32, Wire<'_>), b: (u32, Wire<'_>)) -> Ordering {
    a.0.cmp(&b.0)
        .then(a.1.len().cmp(&b.1.len()))
        .then_with(|| a.1.cmp(&b.1))
}

/// One name pointing at a changed address, as ranked there (see
/// [`by_rank`]): its count and where its name is in a [`Names`] (the
/// derivation's, or the delta's that brought it).
#[derive(Clone)]
pub(super) struct Rank {
    names: Arc<Names>,
    at: u32,
    count: u32,
}

impl Rank {
    /// Name `at` of `names` (a derivation's, or a delta's), with its count.
    pub(super) fn derived(names: &Arc<Names>, (count, at): (u32, u32)) -> Self {
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
    fn wire(&self) -> Wire<'_> {
        self.names.get(self.at)
    }

    fn key(&self) -> (u32, Wire<'_>) {
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
    pub(super) names: Arc<Names>,
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
        self.names.heap_size()
            + self.ranks.capacity() * 8
            + self.v4.capacity() * std::mem::size_of::<(Ipv4Addr, u32)>()
            + self.v6.capacity() * std::mem::size_of::<(Ipv6Addr, u32)>()
    }
}

/// The names at one address, derived or changed.
#[derive(Clone, Copy)]
pub(super) enum At<'a> {
    Base(&'a Names, &'a [(u32, u32)]),
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
            names: [Wire::default(); PTR_MAX],
            len: 0,
        };
        let mut put = |w: Wire<'a>| {
            if let Some(slot) = t.names.get_mut(t.len) {
                *slot = w;
                t.len += 1;
            }
        };
        match self {
            At::Base(names, run) => {
                run.iter().take(PTR_MAX).for_each(|r| put(names.get(r.1)))
            }
            At::Changed(Ranked::Few(f)) => {
                f.iter().take(PTR_MAX).for_each(|r| put(r.wire()))
            }
            At::Changed(Ranked::Many(m)) => m.top.iter().for_each(|r| put(r.wire())),
        }
        t
    }

    /// Every name in rank order, with its count and where it is kept:
    /// the address of the [`Names`] it is in and its offset there (equal
    /// for every address the name is at, since derived or since the
    /// delta that brought it).
    pub(super) fn each_kept(self, mut visit: impl FnMut(u32, (usize, u32), Wire<'a>)) {
        let kept = |names: &Names, at: u32| (std::ptr::from_ref(names) as usize, at);
        match self {
            At::Base(names, run) => {
                for &(count, at) in run {
                    visit(count, kept(names, at), names.get(at));
                }
            }
            At::Changed(Ranked::Few(few)) => {
                for r in few.iter() {
                    visit(r.count, kept(&r.names, r.at), r.wire());
                }
            }
            At::Changed(Ranked::Many(m)) => {
                for r in &m.set {
                    visit(r.count, kept(&r.names, r.at), r.wire());
                }
            }
        }
    }

    /// Every name with its count, in rank order.
    pub(super) fn all(self) -> Vec<(u32, Wire<'a>)> {
        let mut all = Vec::with_capacity(self.len());
        self.each_kept(|count, _, wire| all.push((count, wire)));
        all
    }
}

/// The targets of an address's PTR records, in order.
#[derive(Clone, Copy)]
pub(super) struct Targets<'a> {
    names: [Wire<'a>; PTR_MAX],
    len: usize,
}

impl<'a> Deref for Targets<'a> {
    type Target = [Wire<'a>];

    fn deref(&self) -> &[Wire<'a>] {
        self.names.get(..self.len).unwrap_or_default()
    }
}
