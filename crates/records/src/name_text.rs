//! Names in one text buffer, each referred to by a `u32` number: its
//! insertion order while building (when a name may be stored more than
//! once), its rank in byte order once a record set is finished (when every
//! name is stored once).
//!
//! The hash index uses foldhash with a per-process random seed. Task names
//! come from the cluster, so someone who can launch tasks chooses some of
//! the keys; with an unknown seed they cannot aim many names at one bucket
//! (flooding), and the hash is several times cheaper than SipHash on the few
//! hundred thousand names of a large cluster.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// `n` as a `u32` offset or index. Record sets are far below 4 GiB of names
/// or 2^32 values (a state body would have to be larger still); beyond
/// that, offsets saturate and names read back wrong rather than panic.
pub(crate) fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Names in one buffer: name `i` is `text[ends[i - 1]..ends[i]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NameText {
    text: String,
    ends: Vec<u32>,
}

impl NameText {
    /// Number of names.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Name `i`, or `""` if there is none.
    pub(crate) fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let end = self.ends.get(i).map_or(0, |&e| e as usize);
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(end, |&e| e as usize),
            None => 0,
        };
        self.text.get(start..end).unwrap_or_default()
    }

    /// Appends `name`; returns its number.
    pub(crate) fn push(&mut self, name: &str) -> u32 {
        self.push_parts([name])
    }

    /// Appends the name `parts` concatenate to; returns its number.
    pub(crate) fn push_parts<'a>(
        &mut self,
        parts: impl IntoIterator<Item = &'a str>,
    ) -> u32 {
        for p in parts {
            self.text.push_str(p);
        }
        self.ends.push(idx(self.text.len()));
        idx(self.ends.len() - 1)
    }

    #[cfg(any(test, feature = "fixtures"))]
    /// Inserts `name` as number `at`, moving later names up by one.
    pub(crate) fn insert(&mut self, at: u32, name: &str) {
        let at = (at as usize).min(self.ends.len());
        let offset = match at.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        self.text.insert_str(offset, name);
        let len = idx(name.len());
        for e in self.ends.get_mut(at..).unwrap_or_default() {
            *e = e.saturating_add(len);
        }
        self.ends.insert(at, idx(offset + name.len()));
    }

    /// The names renumbered: name `i` becomes number `to[i]`, below
    /// `count` (a name numbered `count` or above is dropped). Names sent to the same number must be equal (they become
    /// one); every number below `count` must get a name. Reads this buffer
    /// in order and writes the new one out of order, which is cheaper than
    /// the reverse for a large buffer.
    pub(crate) fn renumbered(&self, to: &[u32], count: usize) -> NameText {
        // Each new number's length, then summed up to where each ends.
        let mut ends = vec![0u32; count];
        for (i, &t) in to.iter().enumerate() {
            if let Some(l) = ends.get_mut(t as usize) {
                *l = idx(self.get(idx(i)).len());
            }
        }
        let mut end = 0u32;
        for e in &mut ends {
            end = end.saturating_add(*e);
            *e = end;
        }
        let mut bytes = vec![0u8; end as usize];
        for (i, &t) in to.iter().enumerate() {
            if t as usize >= count {
                continue;
            }
            let start = match (t as usize).checked_sub(1) {
                Some(p) => ends.get(p).map_or(0, |&e| e as usize),
                None => 0,
            };
            // An equal name writes the same bytes again.
            let name = self.get(idx(i)).as_bytes();
            if let Some(dst) = bytes.get_mut(start..start + name.len()) {
                dst.copy_from_slice(name);
            }
        }
        // Whole names were moved, so this cannot fail; if it did, the
        // names would read back empty rather than panic.
        let text = String::from_utf8(bytes).unwrap_or_default();
        NameText { text, ends }
    }

    /// The buffer and where each name ends in it (for the snapshot
    /// encoder).
    pub(crate) fn parts(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }

    /// Names from a buffer and their ends, or `None` unless the ends rise
    /// (never fall), fall on character boundaries and the last one is the
    /// buffer's end.
    pub(crate) fn from_parts(text: String, ends: Vec<u32>) -> Option<NameText> {
        let mut start = 0usize;
        for &e in &ends {
            let e = e as usize;
            if e < start || !text.is_char_boundary(e) {
                return None;
            }
            start = e;
        }
        (start == text.len()).then_some(NameText { text, ends })
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }

    /// Iterates the names in number order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        (0..idx(self.len())).map(move |i| self.get(i))
    }

    /// Reserves room for `names` more names of `bytes` in total.
    pub(crate) fn reserve(&mut self, names: usize, bytes: usize) {
        self.ends.reserve(names);
        self.text.reserve(bytes);
    }
}

/// A hash index from name text to name number.
#[derive(Clone, Default)]
pub(crate) struct TextIndex {
    table: HashTable<u32>,
    hasher: RandomState,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TextIndex({} names)", self.table.len())
    }
}

impl TextIndex {
    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.table.allocation_size()
    }

    /// The hash of `name` in this index.
    pub(crate) fn hash(&self, name: &str) -> u64 {
        self.hasher.hash_one(name)
    }

    /// The number of `name` in `names`.
    pub(crate) fn find(&self, names: &NameText, name: &str) -> Option<u32> {
        self.find_hashed(names, name, self.hash(name))
    }

    /// [`TextIndex::find`] with the name's [`TextIndex::hash`].
    pub(crate) fn find_hashed(
        &self,
        names: &NameText,
        name: &str,
        h: u64,
    ) -> Option<u32> {
        self.table.find(h, |&i| names.get(i) == name).copied()
    }

    /// The number of `name`, appending it to `names` if it is new.
    pub(crate) fn intern(&mut self, names: &mut NameText, name: &str) -> u32 {
        let h = self.hash(name);
        match self.find_hashed(names, name, h) {
            Some(i) => i,
            None => self.push_new(names, name, h),
        }
    }

    /// Appends `name`, not in `names` yet, with hash `h`; returns its number.
    pub(crate) fn push_new(&mut self, names: &mut NameText, name: &str, h: u64) -> u32 {
        let i = names.push(name);
        let hasher = &self.hasher;
        self.table
            .insert_unique(h, i, |&j| hasher.hash_one(names.get(j)));
        i
    }

    /// An index of every name of `names` (which must be distinct).
    pub(crate) fn build(names: &NameText) -> TextIndex {
        let hasher = RandomState::default();
        let mut table = HashTable::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let h = hasher.hash_one(name);
            table.insert_unique(h, idx(i), |&j| hasher.hash_one(names.get(j)));
        }
        TextIndex { table, hasher }
    }
}

/// Lookups a [`SortedIndex`] answers by binary search before it builds
/// its hash index.
const SEARCHES_BEFORE_INDEX: u32 = 64;

/// The index of names stored once each, in byte order (a finished record
/// set's): built on demand. Until [`SEARCHES_BEFORE_INDEX`] lookups were
/// made, a lookup is a binary search of the names, so a record set that is
/// looked up a few times only (a first load's compile asks for the
/// nameserver's addresses and little else) never pays for the hash index
/// of half a million names before it is served; one looked up more builds
/// it then.
#[derive(Default)]
pub(crate) struct SortedIndex {
    built: OnceLock<TextIndex>,
    searches: AtomicU32,
}

impl Clone for SortedIndex {
    fn clone(&self) -> Self {
        SortedIndex {
            built: self.built.clone(),
            searches: AtomicU32::new(self.searches.load(Ordering::Relaxed)),
        }
    }
}

impl std::fmt::Debug for SortedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.built.get() {
            Some(index) => index.fmt(f),
            None => write!(f, "SortedIndex(not built)"),
        }
    }
}

impl SortedIndex {
    /// The number of `name` in `names` (distinct, in byte order).
    pub(crate) fn find(&self, names: &NameText, name: &str) -> Option<u32> {
        if let Some(index) = self.built.get() {
            return index.find(names, name);
        }
        if self.searches.fetch_add(1, Ordering::Relaxed) < SEARCHES_BEFORE_INDEX {
            return search(names, name);
        }
        self.built(names).find(names, name)
    }

    /// The hash index of `names`, built now if it was not yet.
    fn built(&self, names: &NameText) -> &TextIndex {
        self.built.get_or_init(|| TextIndex::build(names))
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.built.get().map_or(0, TextIndex::heap_size)
    }
}

/// The number of `name` in `names` (distinct, in byte order), by binary
/// search.
fn search(names: &NameText, name: &str) -> Option<u32> {
    let (mut lo, mut hi) = (0, idx(names.len()));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match names.get(mid).cmp(name) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_gives_one_number_per_name() {
        let mut text = NameText::default();
        let mut index = TextIndex::default();
        let a = index.intern(&mut text, "a.mesos.");
        let b = index.intern(&mut text, "b.mesos.");
        assert_eq!(index.intern(&mut text, "a.mesos."), a);
        assert_ne!(a, b);
        assert_eq!(text.get(b), "b.mesos.");
        assert_eq!(index.find(&text, "b.mesos."), Some(b));
        assert_eq!(index.find(&text, "c.mesos."), None);
        assert_eq!(text.get(7), "");
    }

    #[test]
    fn insert_moves_later_names() {
        let mut text = NameText::default();
        text.push("b.");
        text.push("d.");
        text.insert(1, "c.");
        text.insert(0, "a.");
        text.insert(4, "e.");
        assert_eq!(
            text.iter().collect::<Vec<_>>(),
            ["a.", "b.", "c.", "d.", "e."]
        );
    }

    #[test]
    fn a_sorted_index_finds_the_same_before_and_after_it_is_built() {
        let mut text = NameText::default();
        for name in ["a.", "ab.", "b.", "b.c.", "ba."] {
            text.push(name);
        }
        let index = SortedIndex::default();
        let look = |index: &SortedIndex| {
            ["", "a.", "ab.", "b", "b.", "b.c.", "ba.", "c."]
                .map(|n| index.find(&text, n))
        };
        let want = [
            None,
            Some(0),
            Some(1),
            None,
            Some(2),
            Some(3),
            Some(4),
            None,
        ];
        let mut rounds = 0;
        while index.built.get().is_none() {
            assert_eq!(look(&index), want);
            rounds += 1;
        }
        assert_eq!(rounds, SEARCHES_BEFORE_INDEX as usize / want.len() + 1);
        assert_eq!(look(&index), want);
    }

    #[test]
    fn renumbering_merges_equal_names() {
        let mut text = NameText::default();
        for name in ["c.", "a.", "c.", "bb."] {
            text.push(name);
        }
        let merged = text.renumbered(&[2, 0, 2, 1], 3);
        assert_eq!(merged.iter().collect::<Vec<_>>(), ["a.", "bb.", "c."]);
        let index = TextIndex::build(&merged);
        assert_eq!(index.find(&merged, "bb."), Some(1));
        assert_eq!(index.find(&merged, "c."), Some(2));
        assert_eq!(index.find(&merged, "d."), None);
    }
}
