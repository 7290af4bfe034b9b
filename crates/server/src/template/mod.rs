//! Precompiled response bodies, patched and shuffled per query.
//!
//! A [`Template`] holds everything a response carries after the question:
//! the answer, authority and additional records, already in wire form. At
//! answer time the server writes the header and the client's own question
//! bytes (so 0x20 letter case comes back), copies the records behind them,
//! then fixes up the few compression pointers that depend on where the body
//! starts.
//!
//! Layout rules that make this cheap and safe:
//!
//! - Answer owners are the pointer `0xC00C` (the question name at offset
//!   12), whatever the question's length or case. This also makes the owner
//!   equal to the question as asked, which strict resolvers require.
//! - Every other pointer targets a name written earlier *in the body*, or
//!   (SOA and NS templates, and the negative one) the apex labels the
//!   question ends with. Its body-relative offset (negative, wrapped, for
//!   the question) is stored in the template and listed in `fixups`;
//!   rendering adds the body start (12 + the question with its type and
//!   class).
//! - SRV targets are never compressed (Go rejects compressed SRV RDATA,
//!   golang/go #36718), so the records of a shuffled answer section hold no
//!   fixups and can be copied in any order. They are pointer targets for
//!   the names after the answer section, as in mesos-dns (miekg/dns): an
//!   additional record's owner is then two octets. Such a pointer is
//!   relocated to where its answer record lands after the shuffle.
//! - When a response does not fit, the additional records are trimmed
//!   first (prefix order, no TC, RFC 2181 §9); if the answers alone do not
//!   fit, a random subset of them goes out with TC (UDP) or without it (TCP).

mod builder;
mod compaction;

pub(crate) use builder::{Builder, HashedMap, Scratch, Section};

/// Largest body a template holds: a TCP message minus header, the longest
/// question and an OPT record. Fits in a `u16`, as do all offsets in it.
pub(crate) const MAX_BODY: usize = 65_535 - 12 - 259 - 11;

/// In a template's moves: a fixup that points outside the answer section.
const NOT_MOVED: u16 = u16::MAX;

/// Where the answer records of a shuffled response landed.
#[derive(Clone, Copy)]
enum Landing<'a> {
    /// The output offset of each record, by record.
    Records(&'a [u16]),
    /// A rotation: the record starting at body offset `first` came first;
    /// the section is `answers` octets long.
    Rotation { first: usize, answers: usize },
}

/// Record counts of a rendered body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// End offset in `out`.
    pub end: usize,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
    /// Some answer records were left out.
    pub answers_cut: bool,
    /// Some additional or authority records were left out.
    pub rest_cut: bool,
}

/// Where one template lives in [`Templates`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Head {
    /// Offset of the body in `Templates::bytes`.
    body: u32,
    /// Offset in `Templates::words` of the record bounds (`records + 1`
    /// of them), followed by the fixups.
    words: u32,
    len: u16,
    records: u16,
    ancount: u16,
    nscount: u16,
    fixups: u16,
    min_answer: u16,
    shuffle: bool,
    /// Some pointer targets a name in the answer section.
    into_answers: bool,
}

/// Templates in three arenas: a few large allocations instead of three per
/// template, so building and freeing a table of a million names is cheap.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    heads: Vec<Head>,
    bytes: Vec<u8>,
    words: Vec<u16>,
}

impl Arena {
    fn heap_bytes(&self) -> usize {
        self.heads.capacity() * std::mem::size_of::<Head>()
            + self.bytes.capacity()
            + self.words.capacity() * 2
    }

    fn arena_len(&self) -> usize {
        self.heads.len() * std::mem::size_of::<Head>()
            + self.bytes.len()
            + self.words.len() * 2
    }
}

/// Every template of one table. Identical templates are stored once.
///
/// Templates are only ever added, so a full compile's arena is frozen into
/// a shared `base` ([`Templates::freeze`]) and the tables patched from it
/// add theirs to an arena of their own: a copy to patch
/// ([`Templates::copy_with_room`]) shares the base and copies only what
/// was added since, and the two tables of a left-right pair (see the
/// table's `apply` module) hold the base once. Template `i` is in the base
/// below the base's length, else in the own arena.
#[derive(Debug, Default)]
pub(crate) struct Templates {
    base: std::sync::Arc<Arena>,
    own: Arena,
}

impl Templates {
    /// Room for about `records` records in `templates` templates.
    pub(crate) fn with_capacity(templates: usize, records: usize) -> Self {
        Templates {
            base: Default::default(),
            own: Arena {
                heads: Vec::with_capacity(templates),
                bytes: Vec::with_capacity(records.saturating_mul(18)),
                words: Vec::with_capacity(templates.saturating_mul(2) + records),
            },
        }
    }

    /// Template `i`, if there is one.
    #[inline]
    pub(crate) fn get(&self, i: u32) -> Option<Template<'_>> {
        let base = &*self.base;
        let (all, i) = match (i as usize).checked_sub(base.heads.len()) {
            None => (base, i as usize),
            Some(j) => (&self.own, j),
        };
        Some(Template {
            head: all.heads.get(i)?,
            all,
        })
    }

    /// Number of templates.
    pub(crate) fn len(&self) -> usize {
        self.base.heads.len() + self.own.heads.len()
    }

    /// Heap bytes held (a shared base counted in full).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.base.heap_bytes() + self.own.heap_bytes()
    }

    /// Heap bytes of the shared base (held once by the tables sharing it).
    pub(crate) fn base_heap_bytes(&self) -> usize {
        self.base.heap_bytes()
    }

    /// Octets used in the arenas.
    pub(crate) fn arena_len(&self) -> usize {
        self.base.arena_len() + self.own.arena_len()
    }

    /// A copy to add to, with room for about `templates` more templates
    /// of `bytes` octets and `words` record bounds and fixups in all: the
    /// base shared, the own arena copied.
    pub(crate) fn copy_with_room(
        &self,
        templates: usize,
        bytes: usize,
        words: usize,
    ) -> Self {
        fn copy<T: Copy>(v: &[T], extra: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(v.len() + extra);
            out.extend_from_slice(v);
            out
        }
        Templates {
            base: std::sync::Arc::clone(&self.base),
            own: Arena {
                heads: copy(&self.own.heads, templates),
                bytes: copy(&self.own.bytes, bytes),
                words: copy(&self.own.words, words),
            },
        }
    }

    /// Frees the unused capacity, and makes the templates a shared base
    /// if there is none yet (after a full compile).
    pub(crate) fn freeze(&mut self) {
        self.own.heads.shrink_to_fit();
        self.own.bytes.shrink_to_fit();
        self.own.words.shrink_to_fit();
        if self.base.heads.is_empty() {
            self.base = std::sync::Arc::new(std::mem::take(&mut self.own));
        }
    }

    /// The arena templates are added to, and the index of its first.
    fn adding(&mut self) -> (&mut Arena, u32) {
        (&mut self.own, self.base.heads.len() as u32)
    }
}

/// One precompiled response body, borrowed from [`Templates`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Template<'t> {
    head: &'t Head,
    all: &'t Arena,
}

impl<'t> Template<'t> {
    #[inline]
    fn body(&self) -> &'t [u8] {
        let at = self.head.body as usize;
        self.all
            .bytes
            .get(at..at + usize::from(self.head.len))
            .unwrap_or_default()
    }

    /// Record boundaries in the body: record i is `bounds[i]..bounds[i + 1]`.
    fn bounds(&self) -> &'t [u16] {
        let at = self.head.words as usize;
        self.all
            .words
            .get(at..at + usize::from(self.head.records) + 1)
            .unwrap_or_default()
    }

    /// Body offsets of relocatable pointers, ascending.
    fn fixups(&self) -> &'t [u16] {
        let at = self.head.words as usize + usize::from(self.head.records) + 1;
        self.all
            .words
            .get(at..at + usize::from(self.head.fixups))
            .unwrap_or_default()
    }

    /// Per fixup, the answer record its pointer points into, or
    /// [`NOT_MOVED`] (empty unless some pointer points into the answers).
    fn moves(&self) -> &'t [u16] {
        if !self.head.into_answers {
            return &[];
        }
        let fixups = usize::from(self.head.fixups);
        let at = self.head.words as usize + usize::from(self.head.records) + 1 + fixups;
        self.all.words.get(at..at + fixups).unwrap_or_default()
    }

    /// Total number of records (answer + authority + additional).
    fn records(&self) -> usize {
        usize::from(self.head.records)
    }

    /// Everything that makes up the template (for tests comparing two).
    #[cfg(test)]
    #[allow(clippy::type_complexity)]
    pub(crate) fn content(&self) -> (&'t [u8], &'t [u16], &'t [u16], [u16; 3], bool) {
        let h = self.head;
        (
            self.body(),
            self.bounds(),
            self.fixups(),
            [h.ancount, h.nscount, h.min_answer],
            h.shuffle,
        )
    }

    /// Number of answer records.
    #[inline]
    pub(crate) fn ancount(&self) -> u16 {
        self.head.ancount
    }

    /// Writes the body into `out[start..]`, using at most `limit` (an
    /// absolute end offset in `out`, no larger than `out.len()`).
    #[inline]
    pub(crate) fn render(&self, out: &mut [u8], start: usize, limit: usize) -> Rendered {
        let h = self.head;
        let body = self.body();
        let avail = limit.min(out.len()).saturating_sub(start);
        // The whole body fits and needs no shuffle: one copy (the common
        // case: a single answer, or answers with their additionals).
        if body.len() <= avail && (h.ancount < 2 || !h.shuffle) {
            if let Some(dst) = out.get_mut(start..start + body.len()) {
                dst.copy_from_slice(body);
                if h.fixups != 0 {
                    self.fix(out, start, body.len());
                }
                let rest = h.records.saturating_sub(h.ancount);
                return Rendered {
                    end: start + body.len(),
                    ancount: h.ancount,
                    nscount: rest.min(h.nscount),
                    arcount: rest.saturating_sub(h.nscount),
                    answers_cut: false,
                    rest_cut: false,
                };
            }
        }
        self.render_records(out, start, limit)
    }

    /// [`Template::render`] record by record: shuffled answers, or a body
    /// that does not fit whole.
    #[inline(never)]
    fn render_records(&self, out: &mut [u8], start: usize, limit: usize) -> Rendered {
        let limit = limit.min(out.len());
        let (shuffle, min_answer) = (self.head.shuffle, self.head.min_answer);
        let n = usize::from(self.head.ancount);
        let (body, bounds) = (self.body(), self.bounds());
        let bound = |i: usize| bounds.get(i).map_or(0, |&b| usize::from(b));
        let answers_len = bound(n);
        let avail = limit.saturating_sub(start);
        let mut r = Rendered {
            end: start,
            ..Rendered::default()
        };
        let mut pos = start;
        // Pointers into shuffled answers follow their records: each record's
        // position is noted (up to 256 answers), or above that the order is
        // a rotation, whose positions follow from the bounds.
        let track = shuffle && self.head.into_answers && answers_len <= avail;
        let mut order = match (track, n > 256) {
            (true, true) => Order::rotation(n),
            _ => Order::new(if shuffle { n } else { 0 }),
        };
        let copy = |out: &mut [u8], from: usize, to: usize, pos: &mut usize| -> bool {
            let rec = body.get(from..to).unwrap_or_default();
            let end = pos.saturating_add(rec.len());
            match out.get_mut(*pos..end) {
                Some(dst) if end <= limit => {
                    dst.copy_from_slice(rec);
                    *pos = end;
                    true
                }
                _ => false,
            }
        };
        if answers_len <= avail {
            // Where each answer record landed (for up to 16, or 256).
            let mut tiny = [0u16; 16];
            let mut small = (track && n > 16 && n <= 256).then_some([0u16; 256]);
            let at: &mut [u16] = match small.as_mut() {
                Some(s) => s,
                None => &mut tiny,
            };
            for i in 0..n {
                let k = order.index(i, n);
                if track {
                    if let Some(a) = at.get_mut(k) {
                        *a = pos as u16;
                    }
                }
                copy(out, bound(k), bound(k + 1), &mut pos);
            }
            r.ancount = self.head.ancount;
            let mut included = n;
            if body.len() <= avail {
                // The rest in one copy.
                copy(out, answers_len, body.len(), &mut pos);
                included = self.records();
            } else {
                for i in n..self.records() {
                    if !copy(out, bound(i), bound(i + 1), &mut pos) {
                        r.rest_cut = true;
                        break;
                    }
                    included = i + 1;
                }
            }
            let rest = included - n;
            let ns = usize::from(self.head.nscount);
            r.nscount = rest.min(ns) as u16;
            r.arcount = rest.saturating_sub(ns) as u16;
            match (track, &order) {
                (false, _) => self.fix(out, start, bound(included)),
                (true, Order::Rotate { b }) => {
                    let rotation = Landing::Rotation {
                        first: bound(*b),
                        answers: answers_len,
                    };
                    self.fix_moved(out, start, bound(included), rotation);
                }
                (true, _) => {
                    self.fix_moved(out, start, bound(included), Landing::Records(at));
                }
            }
        } else {
            // A random subset of the answers, and nothing else.
            for i in 0..n {
                let k = order.index(i, n);
                if copy(out, bound(k), bound(k + 1), &mut pos) {
                    r.ancount += 1;
                } else if !shuffle || limit - pos < usize::from(min_answer) {
                    break;
                }
            }
            r.answers_cut = true;
            r.rest_cut = self.records() > n;
            if !shuffle {
                self.fix(out, start, bound(usize::from(r.ancount)));
            }
        }
        r.end = pos;
        r
    }

    /// [`Template::fix`] after the answers were shuffled: a pointer into
    /// answer record k (see [`Template::moves`]) follows its record to
    /// where it landed; others get `start` added.
    #[inline(never)]
    fn fix_moved(&self, out: &mut [u8], start: usize, upto: usize, landing: Landing<'_>) {
        let bounds = self.bounds();
        for (&f, &k) in self.fixups().iter().zip(self.moves()) {
            let f = usize::from(f);
            if f >= upto {
                break;
            }
            let Some(at) = out.get_mut(start + f..start + f + 2) else {
                break;
            };
            let rel = usize::from(u16::from_be_bytes([at[0], at[1]]));
            let to = match landing {
                _ if k == NOT_MOVED => rel + start,
                Landing::Records(landed) => {
                    let k = usize::from(k);
                    match (landed.get(k), bounds.get(k)) {
                        (Some(&a), Some(&b)) => usize::from(a) + rel - usize::from(b),
                        _ => rel + start,
                    }
                }
                // The whole answer section turned: record b first.
                Landing::Rotation { first, .. } if rel >= first => start + rel - first,
                Landing::Rotation { first, answers } => start + answers - first + rel,
            };
            let ptr = 0xC000 | (to as u16 & 0x3FFF);
            at.copy_from_slice(&ptr.to_be_bytes());
        }
    }

    /// Relocates the pointers that lie in the first `upto` octets of the
    /// body (which were copied in template order).
    #[inline]
    fn fix(&self, out: &mut [u8], start: usize, upto: usize) {
        for &f in self.fixups() {
            let f = usize::from(f);
            if f >= upto {
                break;
            }
            let Some(at) = out.get_mut(start + f..start + f + 2) else {
                break;
            };
            let rel = usize::from(u16::from_be_bytes([at[0], at[1]]));
            let ptr = 0xC000 | ((rel + start) as u16 & 0x3FFF);
            at.copy_from_slice(&ptr.to_be_bytes());
        }
    }
}

/// The order in which answer records are copied: a (lazy) Fisher-Yates
/// shuffle of up to 256 records on the stack, an affine permutation `(a*i + b) mod n`
/// with `gcd(a, n) = 1` above that (every record equally likely first, no
/// allocation), or template order.
// Lives on the stack for one response; boxing the table would allocate.
#[allow(clippy::large_enum_variant)]
enum Order {
    Identity,
    Tiny([u8; 16]),
    Small([u8; 256]),
    Affine {
        a: u64,
        b: u64,
    },
    /// `(i + b) mod n`: record `b` first, then the others in template
    /// order (for more than 256 answers that additional records point
    /// into).
    Rotate {
        b: usize,
    },
}

impl Order {
    /// A random rotation of `n` records.
    fn rotation(n: usize) -> Self {
        Order::Rotate {
            b: fastrand::usize(..n.max(1)),
        }
    }

    fn new(n: usize) -> Self {
        if n < 2 {
            Order::Identity
        } else if n <= 16 {
            Order::Tiny([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        } else if n <= 256 {
            let mut p = [0u8; 256];
            for (i, v) in p.iter_mut().enumerate().take(n) {
                *v = i as u8;
            }
            Order::Small(p)
        } else {
            let n = n as u64;
            let mut a = 1;
            for _ in 0..16 {
                let c = fastrand::u64(1..n);
                if gcd(c, n) == 1 {
                    a = c;
                    break;
                }
            }
            Order::Affine {
                a,
                b: fastrand::u64(..n),
            }
        }
    }

    /// The record to copy at position `i`. Must be called for i = 0, 1, 2...
    /// in turn: the small case is a lazy Fisher-Yates shuffle, so a
    /// truncated answer pays only for the records it takes.
    #[inline]
    fn index(&mut self, i: usize, n: usize) -> usize {
        match self {
            Order::Identity => i,
            Order::Tiny(p) => {
                if i + 1 < n {
                    p.swap(i, fastrand::usize(i..n));
                }
                p.get(i).map_or(i, |&v| usize::from(v))
            }
            Order::Small(p) => {
                if i + 1 < n {
                    p.swap(i, fastrand::usize(i..n));
                }
                p.get(i).map_or(i, |&v| usize::from(v))
            }
            Order::Affine { a, b } => ((*a * i as u64 + *b) % n as u64) as usize,
            Order::Rotate { b } => (i + *b) % n.max(1),
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests;
