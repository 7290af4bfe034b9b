//! The name index: every owner name of a table in one arena, found through
//! an open-addressing table of (hash tag, arena offset) slots.
//!
//! A name's record in the arena is its key (lowercase uncompressed wire
//! form) followed by the templates it has:
//!
//! ```text
//! [key length] [key octets] [kinds: one bit per Kind, HIDDEN] [template index, u32 LE]...
//! ```
//!
//! with one index per kind bit, in kind order. A lookup costs one slot (a
//! miss usually ends there, on an empty slot or a tag that differs) and one
//! record; building costs a few large allocations, however many names.

use super::Kind;

/// Kinds bit of a name that is known (as an SRV target's glue) but not
/// served: not in the domain, or not servable. Lookups do not find it.
pub(super) const HIDDEN: u8 = 0x80;

/// The hash of a key: a multiply-rotate over 8-octet words (the last word
/// overlaps the one before when the length is not a multiple of 8), then a
/// folded multiply. Keys
/// are our own names, so there is nothing for a client to flood: it only
/// chooses which key to look up.
#[inline]
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = (h.rotate_left(5) ^ word(w)).wrapping_mul(K);
    }
    if !words.remainder().is_empty() {
        let w = match bytes.last_chunk::<8>() {
            Some(w) => u64::from_le_bytes(*w),
            None => bytes.iter().fold(0, |w, &b| (w << 8) | u64::from(b)),
        };
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    // A folded multiply: every input bit reaches the low and the high bits
    // (hash maps take positions from either end).
    let p = u128::from(h) * 0x9e37_79b9_7f4a_7c15;
    (p as u64) ^ (p >> 64) as u64
}

/// An 8-octet word (`w` has 8 octets).
#[inline]
fn word(w: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(w);
    u64::from_le_bytes(b)
}

/// `a == b`, a word at a time with no call (keys are short).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(la), Some(lb)) => {
            let diff = a
                .chunks_exact(8)
                .zip(b.chunks_exact(8))
                .fold(0, |d, (x, y)| d | (word(x) ^ word(y)));
            diff | (u64::from_le_bytes(*la) ^ u64::from_le_bytes(*lb)) == 0
        }
        _ => a == b,
    }
}

/// How many bits are set in each 6-bit value (x86-64's baseline has no
/// popcount instruction).
const ONES: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = (i as u32).count_ones() as u8;
        i += 1;
    }
    t
};

/// An open-addressing table of `(tag << 32) | (value + 1)` slots, 0 for
/// empty, with linear probing; at most half full.
#[derive(Debug, Default)]
struct Slots {
    slots: Vec<u64>,
    shift: u32,
    len: usize,
}

impl Slots {
    fn with_capacity(n: usize) -> Self {
        let size = n.saturating_mul(2).max(16).next_power_of_two();
        Slots {
            slots: vec![0; size],
            shift: 64 - size.trailing_zeros(),
            len: 0,
        }
    }

    #[inline]
    fn start(&self, h: u64) -> usize {
        (h >> self.shift) as usize
    }

    /// The value of the first slot with `h`'s tag for which `is_key` holds.
    #[inline]
    fn find(&self, h: u64, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        self.probe(h, is_key).ok()
    }

    /// [`Slots::find`], or on a miss the empty slot where `h` goes.
    #[inline]
    fn probe(&self, h: u64, mut is_key: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        let mask = self.slots.len().wrapping_sub(1);
        let tag = h as u32;
        let mut i = self.start(h);
        for _ in 0..self.slots.len() {
            let Some(&s) = self.slots.get(i) else {
                break;
            };
            if s == 0 {
                return Err(i);
            }
            let value = (s as u32).wrapping_sub(1);
            if (s >> 32) as u32 == tag && is_key(value) {
                return Ok(value);
            }
            i = (i + 1) & mask;
        }
        Err(usize::MAX)
    }

    /// Puts `value` under `h` in empty slot `at` (from [`Slots::probe`]).
    fn fill(&mut self, at: usize, h: u64, value: u32) {
        if let Some(s) = self.slots.get_mut(at) {
            *s = (u64::from(h as u32) << 32) | u64::from(value + 1);
            self.len += 1;
        }
    }

    /// Adds `value` under `h` (the caller checked that its key is absent).
    fn insert(&mut self, h: u64, value: u32) {
        if let Err(at) = self.probe(h, |_| false) {
            self.fill(at, h, value);
        }
    }

    fn needs_room(&self) -> bool {
        (self.len + 1) * 2 > self.slots.len()
    }
}

/// A name being collected by [`Names`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    /// Where its key is in `Names::keys`.
    key: u32,
    key_len: u8,
    pub hidden: bool,
    /// Template index per [`Kind`], or [`NONE`](super::NONE).
    pub kinds: [u32; 6],
    /// The name's first A and AAAA values, for SRV additional records.
    pub glue_a: Option<[u8; 4]>,
    pub glue_aaaa: Option<[u8; 16]>,
}

/// The names of a table being compiled.
#[derive(Debug, Default)]
pub(super) struct Names {
    slots: Slots,
    keys: Vec<u8>,
    pub names: Vec<Pending>,
    /// The parent of the last name whose ancestors were added.
    last_parent: Vec<u8>,
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
        }
    }

    /// The id of `key`, if it was added.
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        self.slots
            .find(hash(key), |id| key_of(&self.keys, &self.names, id) == key)
    }

    /// The id of `key`, adding it (with no templates) if needed, and
    /// whether it was added now.
    pub fn add(&mut self, key: &[u8], hidden: bool) -> (u32, bool) {
        if self.slots.needs_room() {
            self.grow();
        }
        let h = hash(key);
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
            kinds: [super::NONE; 6],
            glue_a: None,
            glue_aaaa: None,
        });
        self.keys.extend_from_slice(key);
        self.slots.fill(at, h, id);
        (id, true)
    }

    /// The id of served name `key`, adding it and every ancestor up to
    /// `apex` (empty non-terminals, RFC 8020) if needed.
    pub fn add_served(&mut self, key: &[u8], apex: &[u8]) -> u32 {
        let (id, added) = self.add(key, false);
        if added {
            // Every name added here has its ancestors added too, so the
            // walk stops at the first one already known: most often the
            // parent of the name added before (names come sorted).
            let skip = 1 + usize::from(key.first().copied().unwrap_or(0));
            let parent = key.get(skip..).unwrap_or_default();
            if key.len() > apex.len() && parent != self.last_parent.as_slice() {
                let mut rest = key;
                while rest.len() > apex.len() {
                    let skip = 1 + usize::from(rest.first().copied().unwrap_or(0));
                    rest = rest.get(skip..).unwrap_or_default();
                    if !self.add(rest, false).1 {
                        break;
                    }
                }
                self.last_parent.clear();
                self.last_parent.extend_from_slice(parent);
            }
        }
        id
    }

    pub fn get(&self, id: u32) -> Option<&Pending> {
        self.names.get(id as usize)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Pending> {
        self.names.get_mut(id as usize)
    }

    fn grow(&mut self) {
        let mut slots = Slots::with_capacity(self.slots.slots.len());
        for (id, p) in self.names.iter().enumerate() {
            let at = p.key as usize;
            let key = self.keys.get(at..at + usize::from(p.key_len));
            slots.insert(hash(key.unwrap_or_default()), id as u32);
        }
        self.slots = slots;
    }

    /// The finished index.
    pub fn finish(self) -> NameIndex {
        let Names {
            mut slots,
            keys,
            names,
            ..
        } = self;
        let size: usize = names
            .iter()
            .map(|p| 2 + usize::from(p.key_len) + 4 * kinds_of(p).count_ones() as usize)
            .sum();
        let mut arena = Vec::with_capacity(size);
        let mut offsets = Vec::with_capacity(names.len());
        for p in &names {
            offsets.push(arena.len() as u32);
            let at = p.key as usize;
            arena.push(p.key_len);
            arena.extend_from_slice(
                keys.get(at..at + usize::from(p.key_len))
                    .unwrap_or_default(),
            );
            let kinds = kinds_of(p);
            arena.push(kinds | if p.hidden { HIDDEN } else { 0 });
            for &t in p.kinds.iter().filter(|&&t| t != super::NONE) {
                arena.extend_from_slice(&t.to_le_bytes());
            }
        }
        for s in slots.slots.iter_mut().filter(|s| **s != 0) {
            let id = (*s as u32).wrapping_sub(1) as usize;
            let off = offsets.get(id).copied().unwrap_or(0);
            *s = (*s & !0xFFFF_FFFF) | u64::from(off + 1);
        }
        slots.slots.shrink_to_fit();
        NameIndex { slots, arena }
    }
}

/// One bit per kind the name has a template for.
fn kinds_of(p: &Pending) -> u8 {
    p.kinds
        .iter()
        .enumerate()
        .filter(|(_, &t)| t != super::NONE)
        .fold(0, |m, (k, _)| m | 1 << k)
}

/// The finished, read-only name index of a table.
#[derive(Debug, Default)]
pub(super) struct NameIndex {
    slots: Slots,
    arena: Vec<u8>,
}

/// What a lookup found: `Ok(template index)`, or `Err(true)` when the name
/// exists without that kind (NODATA), `Err(false)` when it does not.
pub(super) type Found = Result<u32, bool>;

impl NameIndex {
    /// The template of `key` for `kind` (see [`Found`]).
    #[inline]
    pub fn lookup(&self, key: &[u8], kind: Option<Kind>) -> Found {
        let arena = &self.arena;
        let record = |off: u32| arena.get(off as usize..).unwrap_or_default();
        let found = self.slots.find(hash(key), |off| {
            let r = record(off);
            r.first().map(|&n| usize::from(n)) == Some(key.len())
                && r.get(1..=key.len()).is_some_and(|k| same(k, key))
        });
        let Some(off) = found else {
            return Err(false);
        };
        let r = record(off).get(1 + key.len()..).unwrap_or_default();
        let kinds = r.first().copied().unwrap_or(HIDDEN);
        if kinds & HIDDEN != 0 {
            return Err(false);
        }
        let Some(kind) = kind else {
            return Err(true);
        };
        let bit = 1u8 << kind as u8;
        if kinds & bit == 0 {
            return Err(true);
        }
        let below = ONES.get(usize::from(kinds & (bit - 1))).copied();
        let at = 1 + 4 * usize::from(below.unwrap_or(0));
        match r.get(at..at + 4) {
            Some(&[a, b, c, d]) => Ok(u32::from_le_bytes([a, b, c, d])),
            _ => Err(true),
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.slots.capacity() * 8 + self.arena.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::NONE;

    fn wire(s: &str) -> Vec<u8> {
        let mut b = [0u8; 255];
        dns_wire::name::from_dotted(s, &mut b).unwrap().to_vec()
    }

    #[test]
    fn finds_every_name_added_through_growth_and_no_other() {
        let mut names = Names::with_capacity(1);
        let keys: Vec<Vec<u8>> =
            (0..5000).map(|i| wire(&format!("t{i}.x.mesos."))).collect();
        for (i, k) in keys.iter().enumerate() {
            let (id, added) = names.add(k, false);
            assert!(added);
            names.get_mut(id).unwrap().kinds[Kind::A as usize] = i as u32;
        }
        assert_eq!(names.add(&keys[7], false), (7, false));
        let index = names.finish();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(index.lookup(k, Some(Kind::A)), Ok(i as u32));
            assert_eq!(index.lookup(k, Some(Kind::Srv)), Err(true));
            assert_eq!(index.lookup(k, None), Err(true));
        }
        assert_eq!(
            index.lookup(&wire("t5000.x.mesos."), Some(Kind::A)),
            Err(false)
        );
        assert_eq!(index.lookup(&wire("x.mesos."), Some(Kind::A)), Err(false));
    }

    #[test]
    fn served_names_bring_their_ancestors_and_hidden_names_stay_hidden() {
        let apex = wire("mesos.");
        let mut names = Names::with_capacity(4);
        let id = names.add_served(&wire("a.b.c.mesos."), &apex);
        let p = names.get_mut(id).unwrap();
        p.kinds[Kind::Srv as usize] = 9;
        p.kinds[Kind::A as usize] = 4;
        let hidden = names.add(&wire("Upper.mesos."), true).0;
        names.get_mut(hidden).unwrap().kinds[Kind::A as usize] = 5;
        assert_eq!(names.names.len(), 5);
        let index = names.finish();
        assert_eq!(index.lookup(&wire("a.b.c.mesos."), Some(Kind::A)), Ok(4));
        assert_eq!(index.lookup(&wire("a.b.c.mesos."), Some(Kind::Srv)), Ok(9));
        assert_eq!(
            index.lookup(&wire("a.b.c.mesos."), Some(Kind::Aaaa)),
            Err(true)
        );
        for ent in ["b.c.mesos.", "c.mesos.", "mesos."] {
            assert_eq!(index.lookup(&wire(ent), Some(Kind::A)), Err(true), "{ent}");
        }
        assert_eq!(
            index.lookup(&wire("Upper.mesos."), Some(Kind::A)),
            Err(false)
        );
        assert_eq!(NONE, u32::MAX);
    }

    #[test]
    fn same_is_slice_equality() {
        let keys: [&[u8]; 6] = [
            b"",
            b"\x01a\0",
            b"\x07abcdefg\0",
            b"\x07abcdefh\0",
            b"\x0fabcdefghijklmno\x05mesos\0",
            b"\x0fabcdefghijklmnp\x05mesos\0",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert_eq!(ONES[0b10_1101], 4);
    }

    #[test]
    fn hash_reads_every_octet() {
        let a = wire("abcdefghijk.mesos.");
        for i in 0..a.len() {
            let mut b = a.clone();
            b[i] ^= 1;
            assert_ne!(hash(&a), hash(&b), "octet {i}");
        }
        assert_ne!(hash(b"\x01a\0"), hash(b"\x01b\0"));
    }
}
