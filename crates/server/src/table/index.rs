//! The name index: every owner name of a table in one arena, found through
//! an open-addressing table of (hash tag, arena offset) slots.
//!
//! A name's record in the arena is its key (lowercase uncompressed wire
//! form) followed by the templates it has:
//!
//! ```text
//! [key length] [key octets] [kinds: one bit per AnswerKind, PARENT, HIDDEN]
//!     [template index, u32 LE]... [children, u32 LE, if PARENT]
//! ```
//!
//! with one index per kind bit, in kind order. A lookup costs one slot (a
//! miss usually ends there, on an empty slot or a tag that differs) and one
//! record; building costs a few large allocations, however many names.
//!
//! The child count (names one label below, served or empty non-terminals)
//! is for patching a copy of the index ([`NameIndex::put`],
//! [`NameIndex::remove`]): it tells when an empty non-terminal loses its
//! last descendant. Lookups never read it. A patched record that no longer
//! fits where it was, or was in the part of the arena shared with other
//! tables ([`NameIndex`]), goes to the end of the arena, leaving its old
//! place unused.

use std::ops::Range;
use std::sync::OnceLock;

mod slots;
pub(super) use slots::Slots;

/// Kinds of precompiled answers per name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AnswerKind {
    A = 0,
    Aaaa = 1,
    Srv = 2,
    Any = 3,
    Soa = 4,
    Ns = 5,
}

/// What a lookup of a name for one [`AnswerKind`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup<T> {
    /// The name has an answer of that kind (a template, or its index).
    Found(T),
    /// The name exists without records of that kind: NODATA.
    NoData,
    /// The name does not exist: NXDOMAIN.
    NxDomain,
}

#[cfg(test)]
impl<T> Lookup<T> {
    /// The same outcome with `f` applied to a found answer.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Lookup<U> {
        match self {
            Lookup::Found(t) => Lookup::Found(f(t)),
            Lookup::NoData => Lookup::NoData,
            Lookup::NxDomain => Lookup::NxDomain,
        }
    }
}

/// No template (an index into a table's templates).
pub(super) const NONE: u32 = u32::MAX;

/// Kinds bit of a name that is known (as an SRV target's glue) but not
/// served: not in the domain, or not servable. Lookups do not find it.
pub(super) const HIDDEN: u8 = 0x80;

/// Kinds bit of a name whose record ends with its child count.
const PARENT: u8 = 0x40;

/// The kind bits of a record's kinds octet.
const KIND_BITS: u8 = 0x3F;

/// A name's record, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Record {
    /// Known (as an SRV target's glue) but not served.
    pub hidden: bool,
    /// Template index per [`AnswerKind`], or [`NONE`].
    pub kinds: [u32; 6],
    /// Names one label below this one (served or empty non-terminals).
    pub children: u32,
}

impl Record {
    /// A name with no templates and no children.
    pub const EMPTY: Record = Record {
        hidden: false,
        kinds: [NONE; 6],
        children: 0,
    };

    /// One bit per kind with a template.
    fn kind_bits(&self) -> u8 {
        self.kinds
            .iter()
            .enumerate()
            .filter(|(_, &t)| t != NONE)
            .fold(0, |m, (k, _)| m | 1 << k)
    }

    /// True if the name has a template of its own (not an empty
    /// non-terminal).
    pub fn has_data(&self) -> bool {
        self.kinds.iter().any(|&t| t != NONE)
    }

    /// Octets of this record with a key of `key_len` octets.
    pub fn encoded_len(&self, key_len: usize) -> usize {
        let ids = self.kind_bits().count_ones() as usize;
        2 + key_len + 4 * ids + if self.children > 0 { 4 } else { 0 }
    }

    /// Appends the record of `key` to `arena`.
    pub fn encode(&self, key: &[u8], arena: &mut Vec<u8>) {
        arena.push(key.len() as u8);
        arena.extend_from_slice(key);
        let (tail, n) = self.tail();
        arena.extend_from_slice(tail.get(..n).unwrap_or_default());
    }

    /// Writes the record of the key at `key` in `arena` at `at`, which is
    /// not below `key.start`: the key is moved first, and nothing below
    /// `at` is written. The record takes [`Record::encoded_len`] octets.
    pub fn encode_at(&self, arena: &mut [u8], at: usize, key: Range<usize>) {
        let len = key.len();
        let (tail, n) = self.tail();
        let tail = tail.get(..n).unwrap_or_default();
        if arena.get(at + 1..at + 1 + len + n).is_none()
            || arena.get(key.clone()).is_none()
        {
            return;
        }
        arena.copy_within(key, at + 1);
        arena[at] = len as u8;
        arena[at + 1 + len..at + 1 + len + n].copy_from_slice(tail);
    }

    /// What follows the key: the kinds octet, the templates and the child
    /// count; in the first `.1` octets of `.0`.
    fn tail(&self) -> ([u8; 29], usize) {
        let mut out = [0u8; 29];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(o) = out.get_mut(n..n + bytes.len()) {
                o.copy_from_slice(bytes);
                n += bytes.len();
            }
        };
        let flags = if self.hidden { HIDDEN } else { 0 }
            | if self.children > 0 { PARENT } else { 0 };
        put(&[self.kind_bits() | flags]);
        for &t in self.kinds.iter().filter(|&&t| t != NONE) {
            put(&t.to_le_bytes());
        }
        if self.children > 0 {
            put(&self.children.to_le_bytes());
        }
        (out, n)
    }

    /// The record at the start of `r` (an arena from a record's offset)
    /// and its key, if it is one.
    fn decode(r: &[u8]) -> Option<(&[u8], Record)> {
        let (&len, rest) = r.split_first()?;
        let (key, rest) = rest.split_at_checked(usize::from(len))?;
        let (&flags, mut rest) = rest.split_first()?;
        let u32_at = |rest: &mut &[u8]| -> Option<u32> {
            let (w, tail) = rest.split_first_chunk::<4>()?;
            *rest = tail;
            Some(u32::from_le_bytes(*w))
        };
        let mut rec = Record {
            hidden: flags & HIDDEN != 0,
            ..Record::EMPTY
        };
        for (k, t) in rec.kinds.iter_mut().enumerate() {
            if flags & KIND_BITS & (1 << k) != 0 {
                *t = u32_at(&mut rest)?;
            }
        }
        if flags & PARENT != 0 {
            rec.children = u32_at(&mut rest)?;
        }
        Some((key, rec))
    }
}

/// The hash of a key: a multiply-rotate over 8-octet words (the last word
/// overlaps the one before when the length is not a multiple of 8), then a
/// folded multiply, started from a random per-process [`seed`]. A DNS
/// client only chooses which key to look up, but the keys themselves are
/// task names, which whoever can launch tasks chooses: with a seed they
/// cannot compute, they cannot aim many names at one probe run.
#[inline]
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (seed() ^ bytes.len() as u64).wrapping_mul(K);
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

/// The random start of every [`hash`] in this process (tables are
/// patched from one another, so they all share it).
#[inline]
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| fastrand::u64(..))
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

/// The name index of a table.
///
/// Its arena is in two parts: the records of the full compile, shared by
/// every index patched from it (`base`, never changed), and the records a
/// patch put since (`own`): an offset below the base's length is in the
/// base, the others in `own`. A copy to patch copies the slots and `own`
/// only; a record of the base that changes is put anew in `own`.
#[derive(Debug, Default)]
pub(super) struct NameIndex {
    slots: Slots,
    base: std::sync::Arc<Vec<u8>>,
    own: Vec<u8>,
}

impl NameIndex {
    /// The template index of `key` for `kind`.
    #[inline]
    pub fn lookup(&self, key: &[u8], kind: Option<AnswerKind>) -> Lookup<u32> {
        // The record found, kept from the probe (reading it is a choice
        // between the arena's two parts).
        let mut hit: &[u8] = &[];
        let found = self.slots.find(hash(key), |off| {
            let r = self.record(off);
            let is = r.first().map(|&n| usize::from(n)) == Some(key.len())
                && r.get(1..=key.len()).is_some_and(|k| same(k, key));
            if is {
                hit = r;
            }
            is
        });
        if found.is_none() {
            return Lookup::NxDomain;
        }
        let r = hit.get(1 + key.len()..).unwrap_or_default();
        let kinds = r.first().copied().unwrap_or(HIDDEN);
        if kinds & HIDDEN != 0 {
            return Lookup::NxDomain;
        }
        let Some(kind) = kind else {
            return Lookup::NoData;
        };
        let bit = 1u8 << kind as u8;
        if kinds & bit == 0 {
            return Lookup::NoData;
        }
        let below = ONES.get(usize::from(kinds & (bit - 1))).copied();
        let at = 1 + 4 * usize::from(below.unwrap_or(0));
        match r.get(at..at + 4) {
            Some(&[a, b, c, d]) => Lookup::Found(u32::from_le_bytes([a, b, c, d])),
            _ => Lookup::NoData,
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.slots.heap_bytes() + self.base.capacity() + self.own.capacity()
    }

    /// An index of `slots` (whose values are offsets in `arena`).
    pub fn from_parts(slots: Slots, arena: Vec<u8>) -> Self {
        NameIndex {
            slots,
            base: std::sync::Arc::new(arena),
            own: Vec::new(),
        }
    }

    /// The arena from offset `off` (of a record) to the end of its part.
    #[inline]
    fn record(&self, off: u32) -> &[u8] {
        let off = off as usize;
        let part = match off.checked_sub(self.base.len()) {
            None => self.base.get(off..),
            Some(o) => self.own.get(o..),
        };
        part.unwrap_or_default()
    }

    /// Heap bytes of the shared base.
    pub fn base_heap_bytes(&self) -> usize {
        self.base.capacity()
    }

    /// Octets of the arena in use.
    pub fn arena_len(&self) -> usize {
        self.base.len() + self.own.len()
    }

    /// Marks in `used` (by template index) every template a name has.
    pub fn mark_templates(&self, used: &mut [bool]) {
        for off in self.slots.values() {
            if let Some((_, rec)) = Record::decode(self.record(off)) {
                for &t in rec.kinds.iter().filter(|&&t| t != NONE) {
                    if let Some(u) = used.get_mut(t as usize) {
                        *u = true;
                    }
                }
            }
        }
    }

    /// A copy with the same slots and every name's record in one fresh
    /// arena (shared as the copy's base), its template indexes replaced by
    /// `map[index]`: without the records patches left unused.
    pub fn compacted(&self, map: &[u32]) -> Self {
        let mut slots = self.slots.clone();
        let mut arena = Vec::with_capacity(self.arena_len());
        for mut v in slots.values_mut() {
            let Some((key, mut rec)) = Record::decode(self.record(v.get())) else {
                continue;
            };
            for t in rec.kinds.iter_mut().filter(|t| **t != NONE) {
                *t = map.get(*t as usize).copied().unwrap_or(NONE);
            }
            v.set(arena.len() as u32);
            rec.encode(key, &mut arena);
        }
        arena.shrink_to_fit();
        NameIndex::from_parts(slots, arena)
    }

    /// A copy to patch, with room for `extra` more arena octets.
    pub fn copy_with_room(&self, extra: usize) -> Self {
        let mut own = Vec::with_capacity(self.own.len() + extra);
        own.extend_from_slice(&self.own);
        NameIndex {
            slots: self.slots.clone(),
            base: std::sync::Arc::clone(&self.base),
            own,
        }
    }

    /// The slot of `key`, or the empty slot where it goes.
    fn position(&self, key: &[u8]) -> Result<usize, usize> {
        self.slots.position(hash(key), |off| {
            let r = self.record(off);
            r.first().map(|&n| usize::from(n)) == Some(key.len())
                && r.get(1..=key.len()) == Some(key)
        })
    }

    /// The record in filled slot `at`: its offset, the record and the
    /// octets it takes.
    fn record_at(&self, at: usize) -> Option<(u32, Record, usize)> {
        let off = (self.slots.get(at)? as u32).wrapping_sub(1);
        let r = self.record(off);
        let (key, rec) = Record::decode(r)?;
        Some((off, rec, rec.encoded_len(key.len())))
    }

    /// The record of `key`, if it is in the index.
    pub fn get(&self, key: &[u8]) -> Option<Record> {
        let at = self.position(key).ok()?;
        self.record_at(at).map(|(_, rec, _)| rec)
    }

    /// Sets the record of `key`, adding the name if it is new: in place
    /// when the new record fits there, else at the end of the arena.
    /// False if the name is new and the slots are full (nothing changed).
    pub fn put(&mut self, key: &[u8], rec: &Record) -> bool {
        let (base, end) = (self.base.len(), self.own.len());
        match self.position(key) {
            Ok(at) => {
                let Some((off, _, old_len)) = self.record_at(at) else {
                    return false;
                };
                rec.encode(key, &mut self.own);
                // In place if it fits and is not in the shared base.
                match (off as usize).checked_sub(base) {
                    Some(off) if self.own.len() - end <= old_len => {
                        self.own.copy_within(end.., off);
                        self.own.truncate(end);
                    }
                    _ => self.slots.set(at, (base + end) as u32),
                }
                true
            }
            Err(_) if self.slots.needs_room() || base + end > u32::MAX as usize / 2 => {
                false
            }
            Err(at) => {
                rec.encode(key, &mut self.own);
                self.slots.fill(at, hash(key), (base + end) as u32);
                true
            }
        }
    }

    /// Removes `key` from the index (its record stays in the arena,
    /// unused).
    pub fn remove(&mut self, key: &[u8]) {
        let Ok(at) = self.position(key) else {
            return;
        };
        let (base, own) = (&self.base, &self.own);
        self.slots.remove(at, |off| {
            let off = off as usize;
            let r = match off.checked_sub(base.len()) {
                None => base.get(off..),
                Some(o) => own.get(o..),
            };
            let r = r.unwrap_or_default();
            let len = usize::from(r.first().copied().unwrap_or(0));
            hash(r.get(1..=len).unwrap_or_default())
        });
    }
}

#[cfg(test)]
mod tests;
