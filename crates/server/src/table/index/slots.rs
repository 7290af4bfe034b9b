//! The index's slots: an open-addressing table from key hashes to
//! arena offsets (or, while compiling, name numbers).

use std::sync::Arc;

/// Slots to a page (32 KiB): the unit a patched copy shares with the table
/// it was copied from, and copies when it changes a slot there.
const PAGE: usize = 4096;

/// An open-addressing table of `(tag << 32) | (value + 1)` slots, 0 for
/// empty, with linear probing; at most three quarters full.
///
/// Sized for at most two thirds full ([`Slots::with_capacity`]), so a
/// table patched after a full compile has room for names it adds. At half
/// full, a miss reads 2.5 slots on average and a hit 1.5, eight slots to a
/// cache line; the slots were sized for a quarter to half full before,
/// which at 100,000 tasks (half a million names just past a power of two)
/// held 2 M slots, 16 MB, a quarter full, in each table of a patched pair.
///
/// The slots are kept in shared pages of [`PAGE`] slots, copied on write:
/// a clone (the copy a delta patches) shares every page with the table it
/// was copied from, and a patch copies only the pages it changes. At
/// 100,000 tasks that is a few pages of 32 KiB where a whole copy was 8 MB,
/// made on the path of the first change after a pause and held twice by
/// a patched pair of tables.
#[derive(Clone, Debug, Default)]
pub(in crate::table) struct Slots {
    pages: Vec<Arc<[u64]>>,
    /// Slots to a page is `1 << page_bits` (fewer than [`PAGE`] only when
    /// there are fewer slots in all).
    page_bits: u32,
    /// Slots in all, a power of two.
    size: usize,
    shift: u32,
    pub(super) len: usize,
}

impl Slots {
    /// Room for `n` values, at most two thirds full.
    pub fn with_capacity(n: usize) -> Self {
        let size = n
            .saturating_add(n / 2)
            .saturating_add(1)
            .max(16)
            .next_power_of_two();
        let page = size.min(PAGE);
        let pages = (0..size / page)
            .map(|_| std::iter::repeat_n(0, page).collect())
            .collect();
        Slots {
            pages,
            page_bits: page.trailing_zeros(),
            size,
            shift: 64 - size.trailing_zeros(),
            len: 0,
        }
    }

    /// Slots in all.
    #[cfg(test)]
    pub fn size(&self) -> usize {
        self.size
    }

    /// Heap bytes of the pages (each counted, shared or not).
    pub fn heap_bytes(&self) -> usize {
        self.size * 8 + self.pages.capacity() * std::mem::size_of::<Arc<[u64]>>()
    }

    /// Where slot `i` is: its page, and its place in the page.
    #[inline]
    fn place(&self, i: usize) -> (usize, usize) {
        (i >> self.page_bits, i & ((1usize << self.page_bits) - 1))
    }

    /// Slot `i`.
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<u64> {
        let (page, at) = self.place(i);
        self.pages.get(page)?.get(at).copied()
    }

    /// Slot `i`, to change (its page copied first if shared).
    fn get_mut(&mut self, i: usize) -> Option<&mut u64> {
        let (page, at) = self.place(i);
        Arc::make_mut(self.pages.get_mut(page)?).get_mut(at)
    }

    /// Whether slot `i`'s page is shared with another copy (tests).
    #[cfg(test)]
    pub(super) fn shares_page_of(&self, other: &Slots, i: usize) -> bool {
        match (
            self.pages.get(self.place(i).0),
            other.pages.get(other.place(i).0),
        ) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    #[inline]
    fn start(&self, h: u64) -> usize {
        (h >> self.shift) as usize
    }

    /// The value of the first slot with `h`'s tag for which `is_key` holds.
    #[inline]
    pub(super) fn find(&self, h: u64, is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        self.probe(h, is_key).ok()
    }

    /// [`Slots::find`], or on a miss the empty slot where `h` goes.
    #[inline]
    pub fn probe(&self, h: u64, is_key: impl FnMut(u32) -> bool) -> Result<u32, usize> {
        self.search(h, is_key).map(|(_, value)| value)
    }

    /// The slot and value of the first slot with `h`'s tag for which
    /// `is_key` holds, or the empty slot where `h` goes (`usize::MAX` if
    /// the slots are full): the one probe loop of the index.
    #[inline]
    fn search(
        &self,
        h: u64,
        mut is_key: impl FnMut(u32) -> bool,
    ) -> Result<(usize, u32), usize> {
        let mask = self.size.wrapping_sub(1);
        let tag = h as u32;
        let mut i = self.start(h);
        for _ in 0..self.size {
            let Some(s) = self.get(i) else {
                break;
            };
            if s == 0 {
                return Err(i);
            }
            let value = (s as u32).wrapping_sub(1);
            if (s >> 32) as u32 == tag && is_key(value) {
                return Ok((i, value));
            }
            i = (i + 1) & mask;
        }
        Err(usize::MAX)
    }

    /// Puts `value` under `h` in empty slot `at` (from [`Slots::probe`]).
    pub fn fill(&mut self, at: usize, h: u64, value: u32) {
        if let Some(s) = self.get_mut(at) {
            *s = (u64::from(h as u32) << 32) | u64::from(value + 1);
            self.len += 1;
        }
    }

    /// Adds `value` under `h` (the caller checked that its key is absent).
    pub fn insert(&mut self, h: u64, value: u32) {
        if let Err(at) = self.probe(h, |_| false) {
            self.fill(at, h, value);
        }
    }

    /// The slot where a search for `h` starts, read (to bring it into
    /// the cache ahead of the search; see [`Names::warm`]).
    ///
    /// [`Names::warm`]: crate::table::names::Names::warm
    #[inline]
    pub fn first_slot(&self, h: u64) -> u64 {
        self.get(self.start(h)).unwrap_or(0)
    }

    /// True when one more value would fill more than three quarters.
    pub fn needs_room(&self) -> bool {
        (self.len + 1) * 4 > self.size * 3
    }

    /// True when more than two thirds full: a full compile that ends so
    /// full grows first (see [`Slots`]), or patches would soon find the
    /// index full and compile in full again at the same size.
    pub fn crowded(&self) -> bool {
        self.len * 3 > self.size * 2
    }

    /// Every filled slot's value.
    pub fn values(&self) -> impl Iterator<Item = u32> + '_ {
        self.pages
            .iter()
            .flat_map(|p| p.iter())
            .filter(|s| **s != 0)
            .map(|s| (*s as u32).wrapping_sub(1))
    }

    /// Every filled slot's value, to rewrite (every page copied if shared).
    pub fn values_mut(&mut self) -> impl Iterator<Item = ValueMut<'_>> {
        self.pages
            .iter_mut()
            .flat_map(|p| Arc::make_mut(p).iter_mut())
            .filter(|s| **s != 0)
            .map(|slot| ValueMut { slot })
    }

    /// The slot holding the value for which `is_key` holds (with `h`'s
    /// tag), or the empty slot where `h` goes.
    pub(super) fn position(
        &self,
        h: u64,
        is_key: impl FnMut(u32) -> bool,
    ) -> Result<usize, usize> {
        self.search(h, is_key).map(|(at, _)| at)
    }

    /// Sets the value of filled slot `at`.
    pub(super) fn set(&mut self, at: usize, value: u32) {
        if let Some(s) = self.get_mut(at) {
            *s = (*s & !0xFFFF_FFFF) | u64::from(value + 1);
        }
    }

    /// Empties slot `at`, then moves later slots of the same run back so
    /// that every value stays reachable from its start slot (deletion by
    /// backward shift; `hash_of` gives a value's key hash).
    pub(super) fn remove(&mut self, at: usize, hash_of: impl Fn(u32) -> u64) {
        let mask = self.size.wrapping_sub(1);
        let Some(s) = self.get_mut(at) else {
            return;
        };
        *s = 0;
        self.len -= 1;
        let (mut hole, mut j) = (at, (at + 1) & mask);
        for _ in 0..self.size {
            let s = self.get(j).unwrap_or(0);
            if s == 0 {
                break;
            }
            let home = self.start(hash_of((s as u32).wrapping_sub(1)));
            // The value may move to the hole unless its start slot lies
            // cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                if let Some(h) = self.get_mut(hole) {
                    *h = s;
                }
                if let Some(v) = self.get_mut(j) {
                    *v = 0;
                }
                hole = j;
            }
            j = (j + 1) & mask;
        }
    }
}

/// One filled slot's value, to rewrite (see [`Slots::values_mut`]).
pub(in crate::table) struct ValueMut<'s> {
    slot: &'s mut u64,
}

impl ValueMut<'_> {
    pub fn get(&self) -> u32 {
        (*self.slot as u32).wrapping_sub(1)
    }

    pub fn set(&mut self, value: u32) {
        *self.slot = (*self.slot & !0xFFFF_FFFF) | u64::from(value + 1);
    }
}
