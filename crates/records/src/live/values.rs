//! The current values of every name, with how many producers give each,
//! and the SRV owners of every target: the part of the live store the
//! answer table reads ([`Lookup`]). Persistent maps, so a snapshot is a
//! clone in O(1) and the store goes on changing its own copy.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::delta::{Lookup, Record, Value};

/// A name or SRV target, shared by every record that carries it.
pub(crate) type Text = Arc<str>;

/// One record value, its SRV target shared.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Val {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Srv(Text, u16),
}

/// One record a producer gives: owner name and value.
pub(crate) type Rec = (Text, Val);

/// What a batch of changes touched: each record's presence before the
/// batch (see [`Values::take_delta`]).
pub(crate) type Touched = HashMap<(Text, Val), bool>;

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
pub(crate) type IpFew<T> = Arc<[T]>;

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
const FEW: usize = 8;

/// A short SRV list: target, port and producer count (which fits in the
/// room the pair leaves), sorted by target and port, in one allocation
/// made again on each change (two for a list in a [`Vals`]).
pub(crate) type SrvFew = Arc<[(Text, u16, u32)]>;

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
    fn new(v: &Val) -> NameVals {
        NameVals::One(v.clone())
    }

    /// The lists form of a name with the one value `v` (count 1).
    fn listed(v: &Val) -> NameVals {
        match v {
            Val::A(ip) => NameVals::AFew(Arc::from([*ip])),
            Val::Aaaa(ip) => NameVals::AaaaFew(Arc::from([*ip])),
            Val::Srv(t, p) => NameVals::SrvFew(Arc::from([(t.clone(), *p, 1)])),
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

    fn count(&self, v: &Val) -> u32 {
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
    fn bump(&mut self, v: &Val, up: bool) -> (u32, bool) {
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
            NameVals::Aaaa(x) if x.is_single() => x.v.first().map(|ip| Val::Aaaa(*ip)),
            NameVals::AFew(x) => match **x {
                [ip] => Some(Val::A(ip)),
                _ => None,
            },
            NameVals::AaaaFew(x) => match **x {
                [ip] => Some(Val::Aaaa(ip)),
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

    fn a(&self) -> &[Ipv4Addr] {
        match self {
            NameVals::One(Val::A(ip)) => std::slice::from_ref(ip),
            NameVals::AFew(x) => x,
            NameVals::A(x) => &x.v,
            NameVals::Mixed(m) => &m.0.v,
            _ => &[],
        }
    }

    fn aaaa(&self) -> &[Ipv6Addr] {
        match self {
            NameVals::One(Val::Aaaa(ip)) => std::slice::from_ref(ip),
            NameVals::AaaaFew(x) => x,
            NameVals::Aaaa(x) => &x.v,
            NameVals::Mixed(m) => &m.1.v,
            _ => &[],
        }
    }

    fn srv(&self) -> Vec<(&str, u16)> {
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

/// Every name's values, and every SRV target's owners.
///
/// Ordered maps, not hash tries: a trie node has room for 32 entries
/// whatever it holds, and at 500,000 names most hold a few, so the trie
/// took about three times the entries' own size; a B-tree leaf is at
/// least half full.
#[derive(Clone, Debug, Default)]
pub(crate) struct Values {
    names: imbl::OrdMap<Text, NameVals>,
    /// Target to the owner names with an SRV value of it (and how many
    /// values), by owner text.
    owners: imbl::OrdMap<Text, Arc<Vec<(Text, u32)>>>,
    /// Number of (name, value) records.
    len: usize,
}

impl Values {
    /// Number of (name, value) records.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The shared text of `name`, if some record has it.
    pub(crate) fn text(&self, name: &str) -> Option<Text> {
        self.names.get_key_value(name).map(|(k, _)| k.clone())
    }

    /// How many producers give `name` the value `v`.
    pub(crate) fn count(&self, name: &str, v: &Val) -> u32 {
        self.names.get(name).map_or(0, |n| n.count(v))
    }

    /// Adds (`up`) or removes one producer's record, noting in `touched`
    /// whether it was present before the batch.
    /// `None`: not noted (a store being filled, published whole).
    pub(crate) fn change(
        &mut self,
        (name, v): &Rec,
        up: bool,
        touched: Option<&mut Touched>,
    ) {
        let Some(vals) = self.names.get_mut(name) else {
            if up {
                self.names.insert(name.clone(), NameVals::new(v));
                self.len += 1;
                if let Some(t) = touched {
                    t.entry((name.clone(), v.clone())).or_insert(false);
                }
                self.owner(name, v, true);
            }
            return;
        };
        let (before, empty) = vals.bump(v, up);
        if empty {
            self.names.remove(name);
        }
        if let Some(t) = touched {
            t.entry((name.clone(), v.clone())).or_insert(before > 0);
        }
        match (up, before) {
            (true, 0) => {
                self.len += 1;
                self.owner(name, v, true);
            }
            (false, 1) => {
                self.len -= 1;
                self.owner(name, v, false);
            }
            _ => {}
        }
    }

    /// Notes that `name` gained (`up`) or lost the SRV value `v`.
    fn owner(&mut self, name: &Text, v: &Val, up: bool) {
        let Val::Srv(target, _) = v else { return };
        // Changed in place: one look-up, and no copy of the list unless a
        // snapshot shares it.
        let Some(list) = self.owners.get_mut(target) else {
            if up {
                self.owners
                    .insert(target.clone(), Arc::new(vec![(name.clone(), 1)]));
            }
            return;
        };
        let l = Arc::make_mut(list);
        match l.binary_search_by(|(o, _)| o.as_ref().cmp(name)) {
            Ok(i) => {
                if let Some((_, n)) = l.get_mut(i) {
                    match up {
                        true => *n += 1,
                        false => *n -= 1,
                    }
                    if *n == 0 {
                        l.remove(i);
                    }
                }
            }
            Err(i) if up => l.insert(i, (name.clone(), 1)),
            Err(_) => {}
        }
        if l.is_empty() {
            self.owners.remove(target);
        }
    }

    /// The records present after the batch and not before (added) and the
    /// reverse (removed), from what the batch touched.
    pub(crate) fn delta(&self, touched: Touched) -> crate::Delta {
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        for ((name, v), was) in touched {
            let now = self.count(&name, &v) > 0;
            if was == now {
                continue;
            }
            let value = match v {
                Val::A(ip) => Value::A(ip),
                Val::Aaaa(ip) => Value::Aaaa(ip),
                Val::Srv(t, port) => Value::Srv {
                    target: t.to_string(),
                    port,
                },
            };
            let r = Record {
                name: name.to_string(),
                value,
            };
            match now {
                true => added.push(r),
                false => removed.push(r),
            }
        }
        crate::Delta::new(removed, added)
    }
}

impl Lookup for Values {
    fn a(&self, name: &str) -> &[Ipv4Addr] {
        self.names.get(name).map_or(&[], NameVals::a)
    }

    fn aaaa(&self, name: &str) -> &[Ipv6Addr] {
        self.names.get(name).map_or(&[], NameVals::aaaa)
    }

    fn srv(&self, name: &str) -> Vec<(&str, u16)> {
        self.names.get(name).map_or_else(Vec::new, NameVals::srv)
    }

    fn srv_owners(&self, target: &str) -> Vec<&str> {
        self.owners
            .get(target)
            .map_or_else(Vec::new, |l| l.iter().map(|(o, _)| o.as_ref()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A name whose values are of several kinds (rare: the kinds are kept
    // apart otherwise) counts each value as a name of one kind does.
    #[test]
    fn a_name_of_several_kinds_counts_each_value() {
        let name: Text = Arc::from("x.mesos.");
        let a = Val::A(Ipv4Addr::new(10, 0, 0, 1));
        let srv = Val::Srv(Arc::from("t.mesos."), 80);
        let v6 = Val::Aaaa(Ipv6Addr::LOCALHOST);
        let mut vals = Values::default();
        let mut touched = Touched::new();
        for v in [&a, &a, &srv, &v6] {
            vals.change(&(name.clone(), v.clone()), true, Some(&mut touched));
        }
        assert_eq!(vals.len(), 3);
        assert_eq!(vals.count("x.mesos.", &a), 2);
        assert_eq!(vals.srv("x.mesos."), [("t.mesos.", 80)]);
        assert_eq!(vals.srv_owners("t.mesos."), ["x.mesos."]);
        assert_eq!(vals.aaaa("x.mesos."), [Ipv6Addr::LOCALHOST]);
        vals.change(&(name.clone(), srv.clone()), false, None);
        vals.change(&(name.clone(), a.clone()), false, None);
        assert_eq!(vals.a("x.mesos."), [Ipv4Addr::new(10, 0, 0, 1)]);
        assert!(vals.srv("x.mesos.").is_empty());
        assert!(vals.srv_owners("t.mesos.").is_empty());
        for v in [&a, &v6] {
            vals.change(&(name.clone(), v.clone()), false, None);
        }
        assert_eq!(vals.len(), 0);
        assert!(vals.names.is_empty());
        // Removing a value of another kind than the name's changes nothing.
        vals.change(&(name.clone(), a.clone()), true, None);
        vals.change(&(name, srv), false, None);
        assert_eq!(vals.len(), 1);
    }

    // Each name's entry: a short SRV list is a pointer like the others.
    #[test]
    fn a_name_s_values_take_three_words() {
        assert_eq!(std::mem::size_of::<NameVals>(), 24);
    }

    // An SRV list counts the same short or long: past `FEW` values it
    // moves to the long form, and counts carry over.
    #[test]
    fn srv_lists_count_short_and_long() {
        let name: Text = Arc::from("_a._tcp.mesos.");
        let srv = |i: usize| Val::Srv(Arc::from(format!("t{}.mesos.", i % 3)), i as u16);
        let mut vals = Values::default();
        let rec = |v: Val| (name.clone(), v);
        for i in 0..=FEW {
            vals.change(&rec(srv(i)), true, None);
            vals.change(&rec(srv(0)), true, None);
        }
        assert!(matches!(
            vals.names.get("_a._tcp.mesos."),
            Some(NameVals::Srv(_))
        ));
        assert_eq!(vals.count("_a._tcp.mesos.", &srv(0)), FEW as u32 + 2);
        assert_eq!(vals.len(), FEW + 1);
        assert_eq!(vals.srv("_a._tcp.mesos.").len(), FEW + 1);
        assert_eq!(vals.srv_owners("t1.mesos."), ["_a._tcp.mesos."]);
        let mut short = Values::default();
        for i in [2, 1, 2] {
            short.change(&rec(srv(i)), true, None);
        }
        assert!(matches!(
            short.names.get("_a._tcp.mesos."),
            Some(NameVals::SrvFew(_))
        ));
        assert_eq!(
            short.srv("_a._tcp.mesos."),
            [("t1.mesos.", 1), ("t2.mesos.", 2)]
        );
        assert_eq!(short.count("_a._tcp.mesos.", &srv(2)), 2);
        short.change(&rec(srv(2)), false, None);
        short.change(&rec(srv(2)), false, None);
        assert!(matches!(
            short.names.get("_a._tcp.mesos."),
            Some(NameVals::One(_))
        ));
        short.change(&rec(srv(1)), false, None);
        assert_eq!(short.len(), 0);
        assert!(short.names.is_empty());
    }

    // A short address list moves to the long form when an address gets a
    // second producer or the list grows past `FEW`, and counts carry over.
    #[test]
    fn address_lists_count_short_and_long() {
        let name: Text = Arc::from("app.mesos.");
        let a = |i: u8| Val::A(Ipv4Addr::new(10, 0, 0, i));
        let rec = |v: Val| (name.clone(), v);
        let mut vals = Values::default();
        for i in [3, 1, 2] {
            vals.change(&rec(a(i)), true, None);
        }
        assert!(matches!(
            vals.names.get("app.mesos."),
            Some(NameVals::AFew(_))
        ));
        assert_eq!(vals.a("app.mesos.")[0], Ipv4Addr::new(10, 0, 0, 1));
        vals.change(&rec(a(2)), true, None);
        assert!(matches!(vals.names.get("app.mesos."), Some(NameVals::A(_))));
        assert_eq!(vals.count("app.mesos.", &a(2)), 2);
        assert_eq!(vals.len(), 3);
        let mut many = Values::default();
        for i in 0..=FEW as u8 {
            many.change(&rec(a(i)), true, None);
        }
        assert!(matches!(many.names.get("app.mesos."), Some(NameVals::A(_))));
        assert_eq!(many.a("app.mesos.").len(), FEW + 1);
        let v6 = Val::Aaaa(Ipv6Addr::LOCALHOST);
        let mut short = Values::default();
        short.change(&rec(a(1)), true, None);
        short.change(&rec(a(2)), true, None);
        short.change(&rec(a(1)), false, None);
        assert!(matches!(
            short.names.get("app.mesos."),
            Some(NameVals::One(_))
        ));
        short.change(&rec(v6.clone()), true, None);
        assert_eq!(short.aaaa("app.mesos."), [Ipv6Addr::LOCALHOST]);
        assert_eq!(short.a("app.mesos."), [Ipv4Addr::new(10, 0, 0, 2)]);
        short.change(&rec(a(2)), false, None);
        short.change(&rec(v6), false, None);
        assert!(short.names.is_empty());
    }

    // A name given one value by two producers, then by one again, counts
    // as it would with lists (inline at count 1, lists above).
    #[test]
    fn a_single_value_counts_past_one_and_back() {
        let name: Text = Arc::from("x.mesos.");
        let a = Val::A(Ipv4Addr::new(10, 0, 0, 1));
        let b = Val::A(Ipv4Addr::new(10, 0, 0, 2));
        let mut vals = Values::default();
        let rec = |v: &Val| (name.clone(), v.clone());
        vals.change(&rec(&a), true, None);
        assert!(matches!(vals.names.get("x.mesos."), Some(NameVals::One(_))));
        vals.change(&rec(&a), true, None);
        assert_eq!(vals.count("x.mesos.", &a), 2);
        vals.change(&rec(&b), true, None);
        assert_eq!(
            vals.a("x.mesos."),
            [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
        );
        assert_eq!(vals.len(), 2);
        vals.change(&rec(&a), false, None);
        vals.change(&rec(&b), false, None);
        assert_eq!(vals.count("x.mesos.", &a), 1);
        assert!(matches!(vals.names.get("x.mesos."), Some(NameVals::One(_))));
        // Removing a value the name does not have changes nothing.
        vals.change(&rec(&b), false, None);
        assert_eq!(vals.a("x.mesos."), [Ipv4Addr::new(10, 0, 0, 1)]);
        vals.change(&rec(&a), false, None);
        assert_eq!(vals.len(), 0);
        assert!(vals.names.is_empty());
    }
}
