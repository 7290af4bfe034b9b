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

/// The values of one name, each sorted and unique, with a producer count
/// per value.
#[derive(Clone, Debug, Default)]
pub(crate) struct NameVals {
    a: Vec<Ipv4Addr>,
    a_n: Vec<u32>,
    aaaa: Vec<Ipv6Addr>,
    aaaa_n: Vec<u32>,
    /// By target text, then port.
    srv: Vec<(Text, u16)>,
    srv_n: Vec<u32>,
}

impl NameVals {
    fn is_empty(&self) -> bool {
        self.a.is_empty() && self.aaaa.is_empty() && self.srv.is_empty()
    }

    fn count(&self, v: &Val) -> u32 {
        fn of<T: Ord>(vals: &[T], n: &[u32], v: &T) -> u32 {
            vals.binary_search(v)
                .ok()
                .and_then(|i| n.get(i).copied())
                .unwrap_or(0)
        }
        match v {
            Val::A(ip) => of(&self.a, &self.a_n, ip),
            Val::Aaaa(ip) => of(&self.aaaa, &self.aaaa_n, ip),
            Val::Srv(t, p) => of(&self.srv, &self.srv_n, &(t.clone(), *p)),
        }
    }

    /// Counts `v` up or down; returns its count before.
    fn bump(&mut self, v: &Val, up: bool) -> u32 {
        match v {
            Val::A(ip) => bump(&mut self.a, &mut self.a_n, ip, up),
            Val::Aaaa(ip) => bump(&mut self.aaaa, &mut self.aaaa_n, ip, up),
            Val::Srv(t, p) => bump(&mut self.srv, &mut self.srv_n, &(t.clone(), *p), up),
        }
    }
}

/// Counts `v` in the sorted `vals` (with `counts` beside) up or down,
/// inserting or removing it at 0; returns the count before.
fn bump<T: Ord + Clone>(
    vals: &mut Vec<T>,
    counts: &mut Vec<u32>,
    v: &T,
    up: bool,
) -> u32 {
    match vals.binary_search(v) {
        Ok(i) => {
            let Some(c) = counts.get_mut(i) else { return 0 };
            let before = *c;
            if up {
                *c += 1;
            } else {
                *c -= 1;
                if *c == 0 {
                    vals.remove(i);
                    counts.remove(i);
                }
            }
            before
        }
        Err(i) => {
            if up {
                vals.insert(i, v.clone());
                counts.insert(i, 1);
            }
            0
        }
    }
}

/// Every name's values, and every SRV target's owners.
#[derive(Clone, Debug, Default)]
pub(crate) struct Values {
    names: imbl::HashMap<Text, Arc<NameVals>>,
    /// Target to the owner names with an SRV value of it (and how many
    /// values), by owner text.
    owners: imbl::HashMap<Text, Arc<Vec<(Text, u32)>>>,
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
                let mut nv = NameVals::default();
                nv.bump(v, true);
                self.names.insert(name.clone(), Arc::new(nv));
                self.len += 1;
                if let Some(t) = touched {
                    t.entry((name.clone(), v.clone())).or_insert(false);
                }
                self.owner(name, v, true);
            }
            return;
        };
        let vals = Arc::make_mut(vals);
        let before = vals.bump(v, up);
        let empty = vals.is_empty();
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
        let mut list = self.owners.get(target).cloned().unwrap_or_default();
        let l = Arc::make_mut(&mut list);
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
        } else {
            self.owners.insert(target.clone(), list);
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
        self.names.get(name).map_or(&[], |n| &n.a)
    }

    fn aaaa(&self, name: &str) -> &[Ipv6Addr] {
        self.names.get(name).map_or(&[], |n| &n.aaaa)
    }

    fn srv(&self, name: &str) -> Vec<(&str, u16)> {
        self.names.get(name).map_or_else(Vec::new, |n| {
            n.srv.iter().map(|(t, p)| (t.as_ref(), *p)).collect()
        })
    }

    fn srv_owners(&self, target: &str) -> Vec<&str> {
        self.owners
            .get(target)
            .map_or_else(Vec::new, |l| l.iter().map(|(o, _)| o.as_ref()).collect())
    }
}
