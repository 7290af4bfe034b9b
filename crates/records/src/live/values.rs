//! The current values of every name, with how many producers give each,
//! and the SRV owners of every target: the part of the live store the
//! answer table reads ([`Lookup`]). Persistent maps, so a snapshot is a
//! clone in O(1) and the store goes on changing its own copy.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::name_vals::NameVals;
pub(crate) use super::name_vals::{Few, SrvFew, Text, Val};
use super::packed::Packed;
use crate::delta::{Lookup, Record, Value};

/// One record a producer gives: owner name and value.
pub(crate) type Rec = (Text, Val);

/// What a batch of changes touched: each record's presence before the
/// batch (see [`Values::take_delta`]).
pub(crate) type Touched = HashMap<(Text, Val), bool>;

/// Every name's values, and every SRV target's owners.
///
/// Ordered maps, not hash tries: a trie node has room for 32 entries
/// whatever it holds, and at 500,000 names most hold a few, so the trie
/// took about three times the entries' own size; a B-tree leaf is at
/// least half full.
#[derive(Clone, Debug, Default)]
pub(crate) struct Values {
    names: Packed<Text, NameVals>,
    /// Target to the owner names with an SRV value of it (and how many
    /// values), by owner text. A slice, not a `Vec`: one allocation of
    /// the list's own size per target (a task's target has a few owners,
    /// and there is one per task: a `Vec` header and its second
    /// allocation took a third of the list's room).
    owners: Packed<Text, Owners>,
    /// Number of (name, value) records.
    len: usize,
    /// The last short SRV list made: a task's SRV names (`_t._tcp` and
    /// `_t._udp`, under `fw.D.` and `fw.slave.D.`) get the same values one
    /// after the other, so the next list equal to it shares it (at 100,000
    /// tasks the SRV lists were about a tenth of the store).
    last_srv: Option<SrvFew>,
    /// The owner lists made last (see [`OwnerLists`]).
    owner_lists: OwnerLists,
}

/// The owners of one SRV target, by owner text, with how many values.
type Owners = Few<(Text, u32)>;

/// The owner list of the target changed last, and the last list of the
/// target changed before it. The instances of an app have one target each
/// with the same owners (the app's SRV names), and a task's target gets
/// its owners in one run of changes: a target's list equal to the one
/// before it shares it (at 100,000 tasks of one to three instances an app,
/// about a third of the owner lists).
#[derive(Clone, Debug, Default)]
struct OwnerLists {
    current: Option<(Text, Owners)>,
    done: Option<Owners>,
}

impl OwnerLists {
    /// `list`, the new owner list of `target`, or the equal list before
    /// it in its place.
    fn share(&mut self, target: &Text, list: &mut Owners) {
        if self.current.as_ref().is_some_and(|(t, _)| t != target) {
            self.done = self.current.take().map(|(_, l)| l);
        }
        if let Some(done) = self.done.as_ref().filter(|d| ***d == **list) {
            *list = done.clone();
        }
        self.current = Some((target.clone(), list.clone()));
    }
}

impl Values {
    /// Starts a fill: until [`Values::end_fill`], the maps are hash maps
    /// (see [`Packed`]); take no snapshot meanwhile.
    pub(crate) fn begin_fill(&mut self) {
        self.names.begin_fill();
        self.owners.begin_fill();
    }

    /// Ends a fill: the maps are built with full leaves.
    pub(crate) fn end_fill(&mut self) {
        self.names.end_fill();
        self.owners.end_fill();
    }

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
        } else if let NameVals::SrvFew(list) = vals {
            share(list, &mut self.last_srv);
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
        let Some(list) = self.owners.get_mut(target) else {
            if up {
                self.owners
                    .insert(target.clone(), Few::one((name.clone(), 1)));
            }
            return;
        };
        match list.binary_search_by(|(o, _)| o.as_str().cmp(name)) {
            // Any change makes the list again (a few owners: most
            // targets are one task's, named by its few SRV names).
            Ok(i) => {
                let mut l = list.to_vec();
                match l.get_mut(i) {
                    Some((_, n)) if up => *n += 1,
                    Some((_, n)) if *n > 1 => *n -= 1,
                    Some(_) => {
                        l.remove(i);
                    }
                    None => return,
                }
                *list = l.into();
            }
            Err(i) if up => {
                let mut l = list.to_vec();
                l.insert(i, (name.clone(), 1));
                *list = l.into();
            }
            Err(_) => {}
        }
        if list.is_empty() {
            self.owners.remove(target);
        } else {
            self.owner_lists.share(target, list);
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
                Val::Aaaa(ip) => Value::Aaaa(*ip),
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

/// `list`, or the equal `last` in its place; `last` becomes the list kept.
fn share(list: &mut SrvFew, last: &mut Option<SrvFew>) {
    match last {
        Some(l) if **l == **list => *list = l.clone(),
        _ => *last = Some(list.clone()),
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
    use super::super::name_vals::FEW;
    use super::*;

    #[test]
    fn a_name_entry_is_three_words() {
        // The name map holds half a million entries at 100,000 tasks:
        // a thin text and two words of values (see `Few`, `Val`).
        assert_eq!(std::mem::size_of::<Text>(), 8);
        assert_eq!(std::mem::size_of::<Val>(), 16);
        assert_eq!(std::mem::size_of::<NameVals>(), 16);
        assert_eq!(std::mem::size_of::<Few<(Text, u32)>>(), 8);
    }

    // A name whose values are of several kinds (rare: the kinds are kept
    // apart otherwise) counts each value as a name of one kind does.
    #[test]
    fn a_name_of_several_kinds_counts_each_value() {
        let name: Text = Text::from("x.mesos.");
        let a = Val::A(Ipv4Addr::new(10, 0, 0, 1));
        let srv = Val::Srv(Text::from("t.mesos."), 80);
        let v6 = Val::Aaaa(Box::new(Ipv6Addr::LOCALHOST));
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

    // Names given the same SRV values one after the other (a task's
    // `_t._tcp` and `_t._udp`) share one list; a change to one of them
    // leaves the other's values as they were.
    #[test]
    fn equal_srv_lists_are_shared_and_change_apart() {
        let (tcp, udp) = (Text::from("_a._tcp.mesos."), Text::from("_a._udp.mesos."));
        let t = Text::from("t.mesos.");
        let mut vals = Values::default();
        for port in [80, 443] {
            for name in [&tcp, &udp] {
                vals.change(&(name.clone(), Val::Srv(t.clone(), port)), true, None);
            }
        }
        let list = |v: &Values, n: &str| match v.names.get(n) {
            Some(NameVals::SrvFew(x)) => x.as_ptr(),
            other => panic!("{n}: not a short SRV list: {other:?}"),
        };
        assert_eq!(list(&vals, "_a._tcp.mesos."), list(&vals, "_a._udp.mesos."));
        vals.change(&(udp, Val::Srv(t.clone(), 443)), false, None);
        assert_eq!(
            vals.srv("_a._tcp.mesos."),
            [("t.mesos.", 80), ("t.mesos.", 443)]
        );
        assert_eq!(vals.srv("_a._udp.mesos."), [("t.mesos.", 80)]);
        assert_eq!(vals.count("_a._tcp.mesos.", &Val::Srv(t, 443)), 1);
    }

    // Two targets given the same owners, one after the other (two
    // instances of an app under its SRV names), share one owner list; a
    // change to one leaves the other's owners as they were.
    #[test]
    fn equal_owner_lists_are_shared_and_change_apart() {
        let (tcp, udp) = (Text::from("_a._tcp.mesos."), Text::from("_a._udp.mesos."));
        let (t1, t2) = (Text::from("a-1.mesos."), Text::from("a-2.mesos."));
        let mut vals = Values::default();
        for t in [&t1, &t2] {
            for port in [80, 443] {
                for name in [&tcp, &udp] {
                    vals.change(&(name.clone(), Val::Srv(t.clone(), port)), true, None);
                }
            }
        }
        let list = |v: &Values, t: &str| v.owners.get(t).map(|l| l.as_ptr());
        assert!(list(&vals, "a-1.mesos.").is_some());
        assert_eq!(list(&vals, "a-1.mesos."), list(&vals, "a-2.mesos."));
        vals.change(&(udp.clone(), Val::Srv(t2.clone(), 80)), false, None);
        vals.change(&(udp, Val::Srv(t2, 443)), false, None);
        assert_eq!(
            vals.srv_owners("a-1.mesos."),
            ["_a._tcp.mesos.", "_a._udp.mesos."]
        );
        assert_eq!(vals.srv_owners("a-2.mesos."), ["_a._tcp.mesos."]);
    }

    // An SRV list counts the same short or long: past `FEW` values it
    // moves to the long form, and counts carry over.
    #[test]
    fn srv_lists_count_short_and_long() {
        let name: Text = Text::from("_a._tcp.mesos.");
        let srv = |i: usize| Val::Srv(Text::from(format!("t{}.mesos.", i % 3)), i as u16);
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
        let name: Text = Text::from("app.mesos.");
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
        let v6 = Val::Aaaa(Box::new(Ipv6Addr::LOCALHOST));
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
        let name: Text = Text::from("x.mesos.");
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
