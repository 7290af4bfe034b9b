//! Collecting the names of a table being compiled, then laying them out as
//! a [`NameIndex`].

use super::index::{hash, NameIndex, Record, Slots, NONE};
use super::key::parent;

/// A name being collected by [`Names`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    /// Where its key is in `Names::keys`.
    key: u32,
    key_len: u8,
    pub hidden: bool,
    /// Template index per [`AnswerKind`](super::AnswerKind) up to ANY, or [`NONE`]
    /// (SOA and NS are the apex's only, given to [`Names::finish`]: this
    /// keeps a `Pending` at 28 octets, half a million of them at 100,000
    /// tasks; the glue of SRV targets is read from the record set).
    pub kinds: [u32; 4],
    /// Names one label below this one.
    children: u32,
}

const _: () = assert!(std::mem::size_of::<Pending>() <= 28);

/// The names of a table being compiled.
#[derive(Debug, Default)]
pub(super) struct Names {
    slots: Slots,
    keys: Vec<u8>,
    pub names: Vec<Pending>,
    /// The parent of the last served name added, and its id.
    last_parent: Vec<u8>,
    last_parent_id: u32,
}

/// The key of name `id`.
fn key_of<'k>(keys: &'k [u8], names: &[Pending], id: u32) -> &'k [u8] {
    let Some(p) = names.get(id as usize) else {
        return &[];
    };
    let at = p.key as usize;
    keys.get(at..at + usize::from(p.key_len))
        .unwrap_or_default()
}

impl Names {
    /// Room for about `n` names.
    pub fn with_capacity(n: usize) -> Self {
        Names {
            slots: Slots::with_capacity(n),
            keys: Vec::with_capacity(n.saturating_mul(32)),
            names: Vec::with_capacity(n),
            last_parent: Vec::new(),
            last_parent_id: NONE,
        }
    }

    /// The id of `key`, if it was added.
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        self.slots
            .probe(hash(key), |id| key_of(&self.keys, &self.names, id) == key)
            .ok()
    }

    /// Reads the first index slot of each of `hashes` (of keys about to be
    /// added or looked up), so that their cache misses overlap: a compile
    /// from scratch adds half a million names at 100,000 tasks, each at a
    /// random place of an index far larger than the cache, and one miss
    /// at a time, the wait for memory was most of the time spent adding.
    pub fn warm(&self, hashes: impl Iterator<Item = u64>) {
        let seen = hashes.fold(0u64, |acc, h| acc ^ self.slots.first_slot(h));
        std::hint::black_box(seen);
    }

    /// The id of `key`, adding it (with no templates) if needed, and
    /// whether it was added now.
    pub fn add(&mut self, key: &[u8], hidden: bool) -> (u32, bool) {
        self.add_hashed(key, hash(key), hidden)
    }

    /// [`Names::add`] of `key` whose [`hash`] is `h`.
    pub fn add_hashed(&mut self, key: &[u8], h: u64, hidden: bool) -> (u32, bool) {
        if self.slots.needs_room() {
            self.grow();
        }
        let at = match self
            .slots
            .probe(h, |id| key_of(&self.keys, &self.names, id) == key)
        {
            Ok(id) => return (id, false),
            Err(at) => at,
        };
        let id = self.names.len() as u32;
        self.names.push(Pending {
            key: self.keys.len() as u32,
            key_len: key.len() as u8,
            hidden,
            kinds: [NONE; 4],
            children: 0,
        });
        self.keys.extend_from_slice(key);
        self.slots.fill(at, h, id);
        (id, true)
    }

    /// The id of served name `key`, adding it and every ancestor up to
    /// `apex` (empty non-terminals, RFC 8020) if needed, each new name
    /// counted as a child of its parent.
    pub fn add_served(&mut self, key: &[u8], apex: &[u8]) -> u32 {
        self.add_served_hashed(key, hash(key), apex)
    }

    /// [`Names::add_served`] of `key` whose [`hash`] is `h`.
    pub fn add_served_hashed(&mut self, key: &[u8], h: u64, apex: &[u8]) -> u32 {
        let (id, added) = self.add_hashed(key, h, false);
        if !added || key.len() <= apex.len() {
            return id;
        }
        let up = parent(key);
        // Names come sorted, so the parent is most often the one of the
        // name added before.
        if up == self.last_parent.as_slice() {
            if let Some(p) = self.get_mut(self.last_parent_id) {
                p.children += 1;
            }
            return id;
        }
        // Every name added here has its ancestors added too, so the walk
        // stops at the first one already known.
        let (mut child, mut first) = (key, None);
        loop {
            let up = parent(child);
            let (pid, added) = self.add(up, false);
            first.get_or_insert(pid);
            if let Some(p) = self.get_mut(pid) {
                p.children += 1;
            }
            if !added || up.len() <= apex.len() {
                break;
            }
            child = up;
        }
        self.last_parent.clear();
        self.last_parent.extend_from_slice(up);
        self.last_parent_id = first.unwrap_or(NONE);
        id
    }

    pub fn get(&self, id: u32) -> Option<&Pending> {
        self.names.get(id as usize)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Pending> {
        self.names.get_mut(id as usize)
    }

    /// Twice the slots (room for the names at two thirds full is room at
    /// a third past the three quarters that call for growing).
    fn grow(&mut self) {
        let mut slots = Slots::with_capacity(self.names.len() + 1);
        for (id, p) in self.names.iter().enumerate() {
            let at = p.key as usize;
            let key = self.keys.get(at..at + usize::from(p.key_len));
            slots.insert(hash(key.unwrap_or_default()), id as u32);
        }
        self.slots = slots;
    }

    /// The finished index, with the SOA and NS templates of name
    /// `apex_id`.
    pub fn finish(mut self, apex_id: u32, apex_soa_ns: [u32; 2]) -> NameIndex {
        if self.slots.crowded() {
            self.grow();
        }
        let Names {
            mut slots,
            keys,
            names,
            ..
        } = self;
        let apex = names.get(apex_id as usize).map(|p| p.key);
        let record = |p: &Pending| {
            let [a, aaaa, srv, any] = p.kinds;
            let [soa, ns] = match Some(p.key) == apex {
                true => apex_soa_ns,
                false => [NONE; 2],
            };
            Record {
                hidden: p.hidden,
                kinds: [a, aaaa, srv, any, soa, ns],
                children: p.children,
            }
        };
        let size: usize = names
            .iter()
            .map(|p| record(p).encoded_len(usize::from(p.key_len)))
            .sum();
        // The records are laid out in the keys' own buffer (a fresh one
        // would be tens of megabytes of new pages to fault in): keys are
        // in the order of the names, end to end, and a record is its key
        // and more, so each record starts where its key is or later.
        // Written from the last back, a record covers only keys already
        // moved.
        let mut arena = keys;
        arena.resize(size.max(arena.len()), 0);
        let mut offsets = vec![0u32; names.len()];
        let mut end = size;
        for (p, offset) in names.iter().zip(offsets.iter_mut()).rev() {
            let rec = record(p);
            let key = p.key as usize..p.key as usize + usize::from(p.key_len);
            let at = end.saturating_sub(rec.encoded_len(key.len()));
            rec.encode_at(&mut arena, at, key);
            *offset = at as u32;
            end = at;
        }
        arena.truncate(size);
        arena.shrink_to_fit();
        for mut v in slots.values_mut() {
            let off = offsets.get(v.get() as usize).copied().unwrap_or(0);
            v.set(off);
        }
        NameIndex::from_parts(slots, arena)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::index::AnswerKind;
    use crate::table::Lookup;

    use crate::table::key::test_wire as wire;

    #[test]
    fn finds_every_name_added_through_growth_and_no_other() {
        let mut names = Names::with_capacity(1);
        let keys: Vec<Vec<u8>> =
            (0..5000).map(|i| wire(&format!("t{i}.x.mesos."))).collect();
        for (i, k) in keys.iter().enumerate() {
            let (id, added) = names.add(k, false);
            assert!(added);
            names.get_mut(id).unwrap().kinds[AnswerKind::A as usize] = i as u32;
        }
        assert_eq!(names.add(&keys[7], false), (7, false));
        let index = names.finish(NONE, [NONE; 2]);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(
                index.lookup(k, Some(AnswerKind::A)),
                Lookup::Found(i as u32)
            );
            assert_eq!(index.lookup(k, Some(AnswerKind::Srv)), Lookup::NoData);
            assert_eq!(index.lookup(k, None), Lookup::NoData);
        }
        assert_eq!(
            index.lookup(&wire("t5000.x.mesos."), Some(AnswerKind::A)),
            Lookup::NxDomain
        );
        assert_eq!(
            index.lookup(&wire("x.mesos."), Some(AnswerKind::A)),
            Lookup::NxDomain
        );
    }

    #[test]
    fn served_names_bring_their_ancestors_and_hidden_names_stay_hidden() {
        let apex = wire("mesos.");
        let mut names = Names::with_capacity(4);
        names.add_served(&apex, &apex);
        let id = names.add_served(&wire("a.b.c.mesos."), &apex);
        let p = names.get_mut(id).unwrap();
        p.kinds[AnswerKind::Srv as usize] = 9;
        p.kinds[AnswerKind::A as usize] = 4;
        names.add_served(&wire("d.b.c.mesos."), &apex);
        names.add_served(&wire("e.c.mesos."), &apex);
        let hidden = names.add(&wire("Upper.mesos."), true).0;
        names.get_mut(hidden).unwrap().kinds[AnswerKind::A as usize] = 5;
        assert_eq!(names.names.len(), 7);
        let index = names.finish(0, [7, 8]);
        assert_eq!(
            index.lookup(&wire("a.b.c.mesos."), Some(AnswerKind::A)),
            Lookup::Found(4)
        );
        assert_eq!(
            index.lookup(&wire("a.b.c.mesos."), Some(AnswerKind::Srv)),
            Lookup::Found(9)
        );
        assert_eq!(
            index.lookup(&wire("a.b.c.mesos."), Some(AnswerKind::Aaaa)),
            Lookup::NoData
        );
        assert_eq!(index.lookup(&apex, Some(AnswerKind::Ns)), Lookup::Found(8));
        for ent in ["b.c.mesos.", "c.mesos.", "mesos."] {
            assert_eq!(
                index.lookup(&wire(ent), Some(AnswerKind::A)),
                Lookup::NoData,
                "{ent}"
            );
        }
        assert_eq!(
            index.lookup(&wire("Upper.mesos."), Some(AnswerKind::A)),
            Lookup::NxDomain
        );
        let children = |s: &str| index.get(&wire(s)).unwrap().children;
        assert_eq!(children("b.c.mesos."), 2);
        assert_eq!(children("c.mesos."), 2);
        assert_eq!(children("mesos."), 1);
        assert_eq!(children("a.b.c.mesos."), 0);
    }
}
