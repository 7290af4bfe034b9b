//! The values of one name, with how many producers give each: inline
//! for the one value of one producer (nearly every name), a short shared
//! slice for a few, sorted lists for more.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// A name or SRV target, shared by every record that carries it.
pub(crate) type Text = crate::state::SharedStr;

/// One record value, its SRV target shared.
///
/// Two words: the rare IPv6 address is boxed (inline it made every value,
/// and every name's values, a word larger).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Val {
    A(Ipv4Addr),
    Aaaa(Box<Ipv6Addr>),
    Srv(Text, u16),
}

/// A short list shared by snapshots: one allocation (count, length and
/// items) behind one thin pointer, where an `Arc<[T]>` is two words. A
/// name's values and an SRV target's owners are map values of the live
/// store, half a million of them at 100,000 tasks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Few<T>(triomphe::ThinArc<(), T>);

impl<T> std::ops::Deref for Few<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0.slice
    }
}

impl<T> From<Vec<T>> for Few<T> {
    fn from(v: Vec<T>) -> Self {
        Few(triomphe::ThinArc::from_header_and_iter((), v.into_iter()))
    }
}

impl<T> Few<T> {
    /// The list of one item.
    pub(crate) fn one(item: T) -> Self {
        Few(triomphe::ThinArc::from_header_and_iter(
            (),
            std::iter::once(item),
        ))
    }
}

/// One kind of values of a name, sorted and unique, with a producer count
/// per value.
#[derive(Clone, Debug)]
pub(crate) struct Vals<T> {
    v: Vec<T>,
    /// Beside `v`; empty until some value has more than one producer
    /// (most lists never do: each value is given by one task).
    n: Vec<u32>,
}

impl<T> Default for Vals<T> {
    fn default() -> Self {
        Vals {
            v: Vec::new(),
            n: Vec::new(),
        }
    }
}

impl<T: Ord + Clone> Vals<T> {
    fn count(&self, v: &T) -> u32 {
        match self.v.binary_search(v) {
            Ok(i) => self.count_at(i),
            Err(_) => 0,
        }
    }

    fn count_at(&self, i: usize) -> u32 {
        match self.n.is_empty() {
            true => 1,
            false => self.n.get(i).copied().unwrap_or(0),
        }
    }

    /// True when the list is the one value given by one producer.
    fn is_single(&self) -> bool {
        self.v.len() == 1 && self.count_at(0) == 1
    }

    /// Counts `v` up or down, inserting or removing it at 0; returns the
    /// count before.
    fn bump(&mut self, v: &T, up: bool) -> u32 {
        match self.v.binary_search(v) {
            Ok(i) => {
                let before = self.count_at(i);
                match (up, before) {
                    (false, 1) => {
                        self.v.remove(i);
                        if !self.n.is_empty() {
                            self.n.remove(i);
                        }
                    }
                    _ => {
                        if self.n.is_empty() {
                            self.n = vec![1; self.v.len()];
                        }
                        if let Some(c) = self.n.get_mut(i) {
                            *c = if up { *c + 1 } else { *c - 1 };
                        }
                    }
                }
                before
            }
            Err(i) => {
                if up {
                    // Most lists hold one or two values: no room beyond
                    // them (a Vec would make room for four).
                    if self.v.len() < 4 {
                        self.v.reserve_exact(1);
                    }
                    self.v.insert(i, v.clone());
                    if !self.n.is_empty() {
                        self.n.insert(i, 1);
                    }
                }
                0
            }
        }
    }
}

/// The values of one name. Nearly every name has one value from one
/// producer, kept inline (no allocation: a name's memory is most of the
/// store's); a name with more keeps each kind's values alone, and the rare
/// name with several kinds keeps all three.
#[derive(Clone, Debug)]
pub(crate) enum NameVals {
    /// One value, given by one producer.
    One(Val),
    /// Up to [`FEW`] addresses, each given by one producer (most names
    /// with several: an app's instances), see [`IpFew`].
    AFew(IpFew<Ipv4Addr>),
    A(Arc<Vals<Ipv4Addr>>),
    AaaaFew(IpFew<Ipv6Addr>),
    Aaaa(Arc<Vals<Ipv6Addr>>),
    /// Up to [`FEW`] SRV values (most SRV names: one per instance and
    /// port of an app), see [`SrvFew`].
    SrvFew(SrvFew),
    Srv(Arc<Vals<(Text, u16)>>),
    Mixed(Arc<AllVals>),
}

/// A short list of addresses each given by one producer, sorted, in one
/// allocation made again on each change. An address given by a second
/// producer moves the list to a [`Vals`].
pub(crate) type IpFew<T> = Few<T>;

/// Counts `ip` up or down in `x`, made again; returns the count before,
/// or `None` when `x` cannot hold the result (a second producer, or
/// more than [`FEW`] addresses).
fn ip_few_bump<T: Ord + Copy>(x: &mut IpFew<T>, ip: &T, up: bool) -> Option<u32> {
    match (x.binary_search(ip), up) {
        (Ok(_), true) => None,
        (Ok(i), false) => {
            let mut v = x.to_vec();
            v.remove(i);
            *x = v.into();
            Some(1)
        }
        (Err(_), false) => Some(0),
        (Err(_), true) if x.len() >= FEW => None,
        (Err(i), true) => {
            let mut v = Vec::with_capacity(x.len() + 1);
            v.extend_from_slice(x.get(..i).unwrap_or_default());
            v.push(*ip);
            v.extend_from_slice(x.get(i..).unwrap_or_default());
            *x = v.into();
            Some(0)
        }
    }
}

/// `x` as a [`Vals`] list.
fn ip_few_vals<T: Copy>(x: &[T]) -> Vals<T> {
    Vals {
        v: x.to_vec(),
        n: Vec::new(),
    }
}

/// The most values a [`SrvFew`] or [`IpFew`] list holds.
pub(super) const FEW: usize = 8;

/// A short SRV list: target, port and producer count (which fits in the
/// room the pair leaves), sorted by target and port, in one allocation
/// made again on each change (two for a list in a [`Vals`]).
pub(crate) type SrvFew = Few<(Text, u16, u32)>;

/// Where `(t, p)` is in `x`, or would be.
fn few_find(x: &[(Text, u16, u32)], t: &str, p: u16) -> Result<usize, usize> {
    x.binary_search_by(|(a, b, _)| (a.as_ref(), *b).cmp(&(t, p)))
}

/// `x` as a [`Vals`] list.
fn few_vals(x: &[(Text, u16, u32)]) -> Vals<(Text, u16)> {
    let v = x.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
    let n = match x.iter().all(|e| e.2 == 1) {
        true => Vec::new(),
        false => x.iter().map(|e| e.2).collect(),
    };
    Vals { v, n }
}

/// Counts `(t, p)` up or down in `x`, made again; returns the count
/// before, or `None` when the list is full and would grow.
fn few_bump(x: &mut SrvFew, t: &Text, p: u16, up: bool) -> Option<u32> {
    match few_find(x, t, p) {
        Ok(i) => {
            let mut v = x.to_vec();
            let before = v.get(i).map_or(0, |e| e.2);
            match (up, before) {
                (false, 1) => {
                    v.remove(i);
                }
                _ => {
                    if let Some(e) = v.get_mut(i) {
                        e.2 = if up { e.2 + 1 } else { e.2 - 1 };
                    }
                }
            }
            *x = v.into();
            Some(before)
        }
        Err(_) if !up => Some(0),
        Err(_) if x.len() >= FEW => None,
        Err(i) => {
            let mut v = Vec::with_capacity(x.len() + 1);
            v.extend_from_slice(x.get(..i).unwrap_or_default());
            v.push((t.clone(), p, 1));
            v.extend_from_slice(x.get(i..).unwrap_or_default());
            *x = v.into();
            Some(0)
        }
    }
}

/// A name's A, AAAA and SRV values.
type AllVals = (Vals<Ipv4Addr>, Vals<Ipv6Addr>, Vals<(Text, u16)>);

impl NameVals {
    /// A name with the one value `v`, given by one producer.
    pub(super) fn new(v: &Val) -> NameVals {
        NameVals::One(v.clone())
    }

    /// The lists form of a name with the one value `v` (count 1).
    fn listed(v: &Val) -> NameVals {
        match v {
            Val::A(ip) => NameVals::AFew(Few::one(*ip)),
            Val::Aaaa(ip) => NameVals::AaaaFew(Few::one(**ip)),
            Val::Srv(t, p) => NameVals::SrvFew(Few::one((t.clone(), *p, 1))),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            NameVals::One(_) => false,
            NameVals::AFew(x) => x.is_empty(),
            NameVals::A(x) => x.v.is_empty(),
            NameVals::AaaaFew(x) => x.is_empty(),
            NameVals::Aaaa(x) => x.v.is_empty(),
            NameVals::SrvFew(x) => x.is_empty(),
            NameVals::Srv(x) => x.v.is_empty(),
            NameVals::Mixed(m) => {
                m.0.v.is_empty() && m.1.v.is_empty() && m.2.v.is_empty()
            }
        }
    }

    pub(super) fn count(&self, v: &Val) -> u32 {
        match (self, v) {
            (NameVals::One(x), v) => u32::from(x == v),
            (NameVals::AFew(x), Val::A(ip)) => u32::from(x.binary_search(ip).is_ok()),
            (NameVals::A(x), Val::A(ip)) => x.count(ip),
            (NameVals::AaaaFew(x), Val::Aaaa(ip)) => {
                u32::from(x.binary_search(ip).is_ok())
            }
            (NameVals::Aaaa(x), Val::Aaaa(ip)) => x.count(ip),
            (NameVals::SrvFew(x), Val::Srv(t, p)) => {
                few_find(x, t, *p).map_or(0, |i| x.get(i).map_or(0, |e| e.2))
            }
            (NameVals::Srv(x), Val::Srv(t, p)) => x.count(&(t.clone(), *p)),
            (NameVals::Mixed(m), Val::A(ip)) => m.0.count(ip),
            (NameVals::Mixed(m), Val::Aaaa(ip)) => m.1.count(ip),
            (NameVals::Mixed(m), Val::Srv(t, p)) => m.2.count(&(t.clone(), *p)),
            _ => 0,
        }
    }

    /// Counts `v` up or down; returns its count before, and whether the
    /// name has no value left.
    pub(super) fn bump(&mut self, v: &Val, up: bool) -> (u32, bool) {
        if let NameVals::One(x) = &*self {
            match (x == v, up) {
                (true, false) => return (1, true),
                (false, false) => return (0, false),
                (_, true) => *self = NameVals::listed(x),
            }
        }
        let before = self.bump_listed(v, up);
        if let Some(one) = self.single() {
            *self = NameVals::One(one);
        }
        (before, self.is_empty())
    }

    /// The only value, when there is one, given by one producer.
    fn single(&self) -> Option<Val> {
        match self {
            NameVals::A(x) if x.is_single() => x.v.first().map(|ip| Val::A(*ip)),
            NameVals::Aaaa(x) if x.is_single() => {
                x.v.first().map(|ip| Val::Aaaa(Box::new(*ip)))
            }
            NameVals::AFew(x) => match **x {
                [ip] => Some(Val::A(ip)),
                _ => None,
            },
            NameVals::AaaaFew(x) => match **x {
                [ip] => Some(Val::Aaaa(Box::new(ip))),
                _ => None,
            },
            NameVals::Srv(x) if x.is_single() => {
                x.v.first().map(|(t, p)| Val::Srv(t.clone(), *p))
            }
            NameVals::SrvFew(x) => match &**x {
                [(t, p, 1)] => Some(Val::Srv(t.clone(), *p)),
                _ => None,
            },
            _ => None,
        }
    }

    /// [`NameVals::bump`] on the lists form; returns the count before.
    fn bump_listed(&mut self, v: &Val, up: bool) -> u32 {
        match (&mut *self, v) {
            (NameVals::One(_), _) => 0,
            (NameVals::AFew(x), Val::A(ip)) => match ip_few_bump(x, ip, up) {
                Some(before) => before,
                None => {
                    *self = NameVals::A(Arc::new(ip_few_vals(x)));
                    self.bump_listed(v, up)
                }
            },
            (NameVals::AaaaFew(x), Val::Aaaa(ip)) => match ip_few_bump(x, ip, up) {
                Some(before) => before,
                None => {
                    *self = NameVals::Aaaa(Arc::new(ip_few_vals(x)));
                    self.bump_listed(v, up)
                }
            },
            (NameVals::A(x), Val::A(ip)) => Arc::make_mut(x).bump(ip, up),
            (NameVals::Aaaa(x), Val::Aaaa(ip)) => Arc::make_mut(x).bump(ip, up),
            (NameVals::SrvFew(x), Val::Srv(t, p)) => match few_bump(x, t, *p, up) {
                Some(before) => before,
                None => {
                    *self = NameVals::Srv(Arc::new(few_vals(x)));
                    self.bump_listed(v, up)
                }
            },
            (NameVals::Srv(x), Val::Srv(t, p)) => {
                Arc::make_mut(x).bump(&(t.clone(), *p), up)
            }
            (NameVals::Mixed(m), _) => {
                let m = Arc::make_mut(m);
                match v {
                    Val::A(ip) => m.0.bump(ip, up),
                    Val::Aaaa(ip) => m.1.bump(ip, up),
                    Val::Srv(t, p) => m.2.bump(&(t.clone(), *p), up),
                }
            }
            // Another kind: absent.
            _ if !up => 0,
            _ => {
                let mut m = (Vals::default(), Vals::default(), Vals::default());
                match &*self {
                    NameVals::A(x) => m.0 = Vals::clone(x),
                    NameVals::AFew(x) => m.0 = ip_few_vals(x),
                    NameVals::Aaaa(x) => m.1 = Vals::clone(x),
                    NameVals::AaaaFew(x) => m.1 = ip_few_vals(x),
                    NameVals::Srv(x) => m.2 = Vals::clone(x),
                    NameVals::SrvFew(x) => m.2 = few_vals(x),
                    NameVals::One(_) | NameVals::Mixed(_) => {}
                }
                *self = NameVals::Mixed(Arc::new(m));
                self.bump_listed(v, up)
            }
        }
    }

    pub(super) fn a(&self) -> &[Ipv4Addr] {
        match self {
            NameVals::One(Val::A(ip)) => std::slice::from_ref(ip),
            NameVals::AFew(x) => x,
            NameVals::A(x) => &x.v,
            NameVals::Mixed(m) => &m.0.v,
            _ => &[],
        }
    }

    pub(super) fn aaaa(&self) -> &[Ipv6Addr] {
        match self {
            NameVals::One(Val::Aaaa(ip)) => std::slice::from_ref(&**ip),
            NameVals::AaaaFew(x) => x,
            NameVals::Aaaa(x) => &x.v,
            NameVals::Mixed(m) => &m.1.v,
            _ => &[],
        }
    }

    pub(super) fn srv(&self) -> Vec<(&str, u16)> {
        let list = match self {
            NameVals::One(Val::Srv(t, p)) => return vec![(t.as_ref(), *p)],
            NameVals::SrvFew(x) => {
                return x.iter().map(|(t, p, _)| (t.as_ref(), *p)).collect()
            }
            NameVals::Srv(x) => &x.v,
            NameVals::Mixed(m) => &m.2.v,
            _ => return Vec::new(),
        };
        list.iter().map(|(t, p)| (t.as_ref(), *p)).collect()
    }
}
