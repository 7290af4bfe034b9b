//! A persistent ordered map that is filled in bulk: a hash map while a
//! store is filled, then a B-tree built with full leaves.
//!
//! A B-tree leaf that fills splits in half, so a map filled one key at a
//! time in no particular order ends with its leaves about 63% full (the
//! live store's names come in task order, which is not their byte order:
//! `app-10` sorts before `app-2`). At 100,000 tasks the name map's leaves
//! took 19-20 MB where full ones take 12.6 MB; and each leaf, made at a
//! split in the middle of the fill, sat between the names and values made
//! around it. Filled as a hash map instead (one table, freed whole), the
//! map is then built once, its keys in order, in [`LEAF`]-key groups whose
//! first halves go in first: each split leaves one group's first half in a
//! leaf, which its second half then fills.

use std::borrow::Borrow;
use std::hash::Hash;

/// Keys to a leaf of `imbl`'s B-tree (its `ORD_CHUNK_SIZE`).
const LEAF: usize = 64;

/// A map from `K` to `V`, persistent once built (see the module docs).
#[derive(Clone, Debug)]
pub(crate) enum Packed<K: Ord + Clone, V: Clone> {
    /// Being filled: clones copy the table, so take no snapshot meanwhile.
    Filling(foldhash::HashMap<K, V>),
    Built(imbl::OrdMap<K, V>),
}

impl<K: Ord + Clone, V: Clone> Default for Packed<K, V> {
    fn default() -> Self {
        Packed::Built(imbl::OrdMap::new())
    }
}

impl<K: Ord + Clone + Hash, V: Clone> Packed<K, V> {
    /// Starts a fill: the entries so far move into a hash map.
    pub(crate) fn begin_fill(&mut self) {
        if let Packed::Built(map) = self {
            let entries = std::mem::take(map);
            *self = Packed::Filling(entries.into_iter().collect());
        }
    }

    /// Ends a fill: builds the B-tree with full leaves.
    pub(crate) fn end_fill(&mut self) {
        if let Packed::Filling(table) = self {
            let entries: Vec<(K, V)> = std::mem::take(table).into_iter().collect();
            *self = Packed::Built(packed(entries));
        }
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + Eq + ?Sized,
    {
        match self {
            Packed::Filling(t) => t.get(key),
            Packed::Built(m) => m.get(key),
        }
    }

    pub(crate) fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + Eq + ?Sized,
    {
        match self {
            Packed::Filling(t) => t.get_key_value(key),
            Packed::Built(m) => m.get_key_value(key),
        }
    }

    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + Hash + Eq + ?Sized,
    {
        match self {
            Packed::Filling(t) => t.get_mut(key),
            Packed::Built(m) => m.get_mut(key),
        }
    }

    pub(crate) fn insert(&mut self, key: K, value: V) {
        match self {
            Packed::Filling(t) => {
                t.insert(key, value);
            }
            Packed::Built(m) => {
                m.insert(key, value);
            }
        }
    }

    pub(crate) fn remove<Q>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Ord + Hash + Eq + ?Sized,
    {
        match self {
            Packed::Filling(t) => {
                t.remove(key);
            }
            Packed::Built(m) => {
                m.remove(key);
            }
        }
    }

    /// Entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            Packed::Filling(t) => t.len(),
            Packed::Built(m) => m.len(),
        }
    }

    /// Whether there is no entry.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The B-tree of `entries` (keys unique), with full leaves (see the
/// module docs).
fn packed<K: Ord + Clone, V: Clone>(mut entries: Vec<(K, V)>) -> imbl::OrdMap<K, V> {
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut second_halves = Vec::with_capacity(entries.len() / 2 + LEAF);
    let mut map = imbl::OrdMap::new();
    for (i, (k, v)) in entries.into_iter().enumerate() {
        match i % LEAF < LEAF / 2 {
            true => {
                map.insert(k, v);
            }
            false => second_halves.push((k, v)),
        }
    }
    for (k, v) in second_halves {
        map.insert(k, v);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_gives_the_same_map_as_inserts_one_by_one() {
        let mut one_by_one = imbl::OrdMap::new();
        let mut filled: Packed<String, u32> = Packed::default();
        filled.insert("before".to_owned(), 0);
        one_by_one.insert("before".to_owned(), 0);
        filled.begin_fill();
        assert_eq!(filled.get("before"), Some(&0));
        // Keys out of order, some given twice, some removed.
        for i in 0..1000u32 {
            let k = format!("app-{}", (i * 7919) % 600);
            filled.insert(k.clone(), i);
            one_by_one.insert(k, i);
            if i % 13 == 0 {
                let gone = format!("app-{}", (i * 31) % 600);
                filled.remove(gone.as_str());
                one_by_one.remove(gone.as_str());
            }
            if let Some(v) = filled.get_mut("app-1") {
                *v += 1;
            }
            if let Some(v) = one_by_one.get_mut("app-1") {
                *v += 1;
            }
        }
        filled.end_fill();
        let Packed::Built(map) = &filled else {
            panic!("built after the fill");
        };
        assert_eq!(*map, one_by_one);
        assert_eq!(filled.len(), one_by_one.len());
        assert_eq!(
            filled.get_key_value("app-5").map(|(k, _)| k.as_str()),
            Some("app-5")
        );
        // Built: changes go to the B-tree.
        filled.insert("after".to_owned(), 1);
        assert_eq!(filled.get("after"), Some(&1));
    }

    #[test]
    fn packing_inserts_every_entry_once() {
        for n in [0, 1, 31, 32, 33, 64, 65, 1000] {
            let entries: Vec<(u32, u32)> = (0..n).rev().map(|i| (i, i * 2)).collect();
            let map = packed(entries);
            assert_eq!(map.len(), n as usize);
            assert!(map.iter().all(|(k, v)| *v == k * 2));
        }
    }
}
