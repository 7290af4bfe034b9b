//! Building templates: records written into reused buffers, names
//! compressed against the names already in the body, finished templates
//! stored once in a [`Templates`] arena.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use dns_wire::{Rtype, WireError, Writer};

use super::{Head, Templates, MAX_BODY};
use crate::table::hash;

/// Body-relative offsets at or above this are never used as pointer targets,
/// so a relocated pointer (plus up to 271 octets of header and question)
/// stays below the 14-bit pointer limit.
const PTR_LIMIT: usize = 16_000;

/// Which section the builder is writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    Answer,
    Authority,
    Additional,
}

/// A name written in a body that later names may point to.
#[derive(Clone, Copy, Debug)]
struct Suffix {
    /// Body offset of the name.
    off: u16,
    /// Where its uncompressed bytes are in `Scratch::suffixes`.
    at: u32,
    len: u8,
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct PassHasher(u64);

impl std::hash::Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash(bytes);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// A map keyed by hashes already computed ([`hash`]'s, with its random
/// seed): no second hash of the key.
pub(crate) type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<PassHasher>>;

/// Buffers reused by every template of one compile, so building a template
/// allocates nothing once they have grown.
#[derive(Debug)]
pub(crate) struct Scratch {
    body: Vec<u8>,
    /// Names written in the body, by the hash of their uncompressed form.
    names: HashedMap<Suffix>,
    suffixes: Vec<u8>,
    /// Label offsets and suffix hashes of the name being written.
    labels: Vec<(u8, u64)>,
    fixups: Vec<u16>,
    bounds: Vec<u16>,
    /// SRV targets of the answer section: (body offset, length).
    targets: Vec<(u16, u8)>,
    /// Templates already stored, by the hash of their content.
    stored: HashedMap<u32>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            body: vec![0; MAX_BODY],
            names: HashedMap::default(),
            suffixes: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
            bounds: Vec::new(),
            targets: Vec::new(),
            stored: HashedMap::default(),
        }
    }
}

/// Writes one template's records into the reused [`Scratch`].
pub(crate) struct Builder<'s> {
    w: Writer<'s>,
    names: &'s mut HashedMap<Suffix>,
    suffixes: &'s mut Vec<u8>,
    labels: &'s mut Vec<(u8, u64)>,
    fixups: &'s mut Vec<u16>,
    bounds: &'s mut Vec<u16>,
    targets: &'s mut Vec<(u16, u8)>,
    stored: &'s mut HashedMap<u32>,
    counts: [u16; 3],
    section: Section,
    full: bool,
}

impl<'s> Builder<'s> {
    /// A builder writing into `scratch` (at most [`MAX_BODY`] octets).
    pub(crate) fn new(scratch: &'s mut Scratch) -> Self {
        let Scratch {
            body,
            names,
            suffixes,
            labels,
            fixups,
            bounds,
            targets,
            stored,
        } = scratch;
        names.clear();
        suffixes.clear();
        fixups.clear();
        bounds.clear();
        bounds.push(0);
        targets.clear();
        let len = body.len().min(MAX_BODY);
        Builder {
            w: Writer::new(body.get_mut(..len).unwrap_or_default()),
            names,
            suffixes,
            labels,
            fixups,
            bounds,
            targets,
            stored,
            counts: [0; 3],
            section: Section::Answer,
            full: false,
        }
    }

    /// Offers the suffixes of the question that are `apex` (lowercase wire)
    /// and its ancestors as pointer targets: the template must only answer
    /// questions whose name ends with `apex`, as every name of a table
    /// does. The pointer is stored as a negative body offset (the question
    /// ends 4 octets, type and class, before the body), which relocation
    /// wraps into the question.
    pub(crate) fn question_ends_with(&mut self, apex: &[u8]) {
        let mut i = 0usize;
        while let Some(&n) = apex.get(i) {
            if n == 0 {
                break;
            }
            let suffix = apex.get(i..).unwrap_or_default();
            let back = 4 + suffix.len();
            if let Entry::Vacant(slot) = self.names.entry(hash(suffix)) {
                slot.insert(Suffix {
                    off: 0u16.wrapping_sub(back as u16),
                    at: self.suffixes.len() as u32,
                    len: suffix.len() as u8,
                });
                self.suffixes.extend_from_slice(suffix);
            }
            i += 1 + usize::from(n);
        }
    }

    /// True once a record did not fit; later records are ignored.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// Writes one record with `write`, in `section` (sections only move
    /// forward). A record that does not fit is rolled back and ends the
    /// template.
    pub(crate) fn record(
        &mut self,
        section: Section,
        write: impl FnOnce(&mut Self) -> Result<(), WireError>,
    ) {
        if self.full || section < self.section {
            return;
        }
        if self.section == Section::Answer && section != Section::Answer {
            self.offer_targets();
        }
        self.section = section;
        let start = self.w.len();
        let fix = self.fixups.len();
        let names = self.names.len();
        match write(self) {
            Ok(()) => {
                self.bounds.push(self.w.len() as u16);
                if let Some(c) = self.counts.get_mut(section as usize) {
                    *c += 1;
                }
            }
            Err(_) => {
                self.w.truncate(start);
                self.fixups.truncate(fix);
                self.targets.retain(|&(off, _)| usize::from(off) < start);
                if self.names.len() != names {
                    self.names.retain(|_, s| usize::from(s.off) < start);
                }
                self.full = true;
            }
        }
    }

    /// Owner `0xC00C` (the question), type, class IN, TTL.
    pub(crate) fn question_owner(
        &mut self,
        rtype: Rtype,
        ttl: u32,
    ) -> Result<(), WireError> {
        self.w.u16(0xC00C)?;
        self.type_class_ttl(rtype, ttl)
    }

    /// A compressed owner name, type, class IN, TTL.
    pub(crate) fn owner(
        &mut self,
        name: &[u8],
        rtype: Rtype,
        ttl: u32,
    ) -> Result<(), WireError> {
        self.name(name)?;
        self.type_class_ttl(rtype, ttl)
    }

    fn type_class_ttl(&mut self, rtype: Rtype, ttl: u32) -> Result<(), WireError> {
        self.w.u16(rtype.0)?;
        self.w.u16(dns_wire::Class::IN.0)?;
        self.w.u32(ttl)
    }

    /// RDATA of known length.
    pub(crate) fn rdata(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.w
            .u16(u16::try_from(data.len()).map_err(|_| WireError::Full)?)?;
        self.w.bytes(data)
    }

    /// SRV RDATA (RFC 2782): priority 0, weight, port, uncompressed target
    /// (Go rejects compressed SRV RDATA, golang/go #36718). In the answer
    /// section the target is offered to later names as a pointer target,
    /// as miekg/dns does for mesos-dns (see [`Builder::offer_targets`]).
    pub(crate) fn srv(
        &mut self,
        weight: u16,
        port: u16,
        target: &[u8],
    ) -> Result<(), WireError> {
        let len = 6 + target.len();
        self.w
            .u16(u16::try_from(len).map_err(|_| WireError::Full)?)?;
        self.w.u16(0)?;
        self.w.u16(weight)?;
        self.w.u16(port)?;
        let at = self.w.len();
        self.w.bytes(target)?;
        if self.section == Section::Answer {
            if let (Ok(at), Ok(len)) = (u16::try_from(at), u8::try_from(target.len())) {
                self.targets.push((at, len));
            }
        }
        Ok(())
    }

    /// Offers the SRV targets of the finished answer section as pointer
    /// targets to the names after it (the additional records' owners, in
    /// practice, which then take two octets). Answers are shuffled per
    /// response, so a pointer into them is relocated to where its record
    /// lands (see `Template::render`); a record can land anywhere in the
    /// answer section, so targets are offered only when the whole section
    /// ends below [`PTR_LIMIT`]. The first target with a given suffix wins.
    fn offer_targets(&mut self) {
        if self.w.len() >= PTR_LIMIT {
            self.targets.clear();
            return;
        }
        let body = self.w.written();
        for &(off, len) in self.targets.iter() {
            let (off, len) = (usize::from(off), usize::from(len));
            let wire = body.get(off..off + len).unwrap_or_default();
            let mut i = 0usize;
            while let Some(&n) = wire.get(i) {
                if n == 0 {
                    break;
                }
                let suffix = wire.get(i..).unwrap_or_default();
                match self.names.entry(hash(suffix)) {
                    Entry::Vacant(slot) => {
                        slot.insert(Suffix {
                            off: (off + i) as u16,
                            at: self.suffixes.len() as u32,
                            len: suffix.len() as u8,
                        });
                        self.suffixes.extend_from_slice(suffix);
                    }
                    // Here every suffix of a name in `names` is in it too
                    // (the apex's from `question_ends_with`, those of the
                    // names of an answer section written below PTR_LIMIT
                    // and of the targets before this one, and no record
                    // was rolled back, or nothing would be offered): the
                    // rest of this target's suffixes are there already,
                    // unless the hash is another suffix's.
                    Entry::Occupied(e) => {
                        let s = e.get();
                        let at = s.at as usize;
                        if self.suffixes.get(at..at + usize::from(s.len)) == Some(suffix)
                        {
                            break;
                        }
                    }
                }
                i += 1 + usize::from(n);
            }
        }
        self.targets.clear();
    }

    /// NS RDATA with a compressed target.
    pub(crate) fn ns(&mut self, target: &[u8]) -> Result<(), WireError> {
        let slot = self.w.reserve_u16()?;
        self.name(target)?;
        self.w.fill_len(slot)
    }

    /// SOA RDATA (RFC 1035 §3.3.13) with compressed MNAME and RNAME.
    pub(crate) fn soa(
        &mut self,
        mname: &[u8],
        rname: &[u8],
        fields: [u32; 5],
    ) -> Result<(), WireError> {
        let slot = self.w.reserve_u16()?;
        self.name(mname)?;
        self.name(rname)?;
        for f in fields {
            self.w.u32(f)?;
        }
        self.w.fill_len(slot)
    }

    /// The body offset of `suffix` if it was written earlier in this body.
    fn find(&self, suffix: &[u8], h: u64) -> Option<u16> {
        let s = self.names.get(&h)?;
        let at = s.at as usize;
        let same = self.suffixes.get(at..at + usize::from(s.len)) == Some(suffix);
        same.then_some(s.off)
    }

    /// Writes an uncompressed wire name compressed against the names
    /// already in this body, and registers its new suffixes.
    fn name(&mut self, wire: &[u8]) -> Result<(), WireError> {
        // Suffixes from the longest, with their hashes, up to the first
        // one written before.
        self.labels.clear();
        let mut hit = None;
        let mut i = 0usize;
        while let Some(&len) = wire.get(i) {
            if len == 0 {
                break;
            }
            let suffix = wire.get(i..).unwrap_or_default();
            let h = hash(suffix);
            if let Some(off) = self.find(suffix, h) {
                hit = Some((i, off));
                break;
            }
            self.labels.push((i as u8, h));
            i += 1 + usize::from(len);
        }
        let base = self.w.len();
        match hit {
            Some((literal_end, off)) => {
                self.w.bytes(wire.get(..literal_end).unwrap_or_default())?;
                self.fixups.push(self.w.len() as u16);
                self.w.u16(off)?;
            }
            None => self.w.bytes(wire)?,
        }
        for &(i, h) in self.labels.iter() {
            let off = base + usize::from(i);
            if off >= PTR_LIMIT {
                break;
            }
            if let Entry::Vacant(slot) = self.names.entry(h) {
                let suffix = wire.get(usize::from(i)..).unwrap_or_default();
                slot.insert(Suffix {
                    off: off as u16,
                    at: self.suffixes.len() as u32,
                    len: suffix.len() as u8,
                });
                self.suffixes.extend_from_slice(suffix);
            }
        }
        Ok(())
    }

    /// Finishes the template and stores it in `out` (once: an identical
    /// template stored earlier is shared). Answers are shuffled per
    /// response when `shuffle` and no pointer lives in the answer section.
    pub(crate) fn finish(self, shuffle: bool, out: &mut Templates) -> u32 {
        let ancount = usize::from(self.counts[0]);
        let answers_end = self.bounds.get(ancount).copied().unwrap_or(0);
        let shuffle = shuffle && self.fixups.iter().all(|&f| f >= answers_end);
        let body = self.w.written();
        // Pointers into the answer section (to SRV targets).
        let into_answers = self.fixups.iter().any(|&f| {
            let f = usize::from(f);
            body.get(f..f + 2)
                .is_some_and(|p| u16::from_be_bytes([p[0], p[1]]) < answers_end)
        });
        let min_answer = self
            .bounds
            .windows(2)
            .take(ancount)
            .map(|w| w[1] - w[0])
            .min()
            .unwrap_or(0);
        let head = Head {
            body: 0,
            words: 0,
            len: body.len() as u16,
            records: (self.bounds.len() - 1) as u16,
            ancount: self.counts[0],
            nscount: self.counts[1],
            fixups: self.fixups.len() as u16,
            min_answer,
            shuffle,
            into_answers,
        };
        let h = hash(body)
            ^ u64::from(head.records).rotate_left(16)
            ^ u64::from(head.ancount).rotate_left(32)
            ^ u64::from(head.fixups).rotate_left(48);
        if let Some(&i) = self.stored.get(&h) {
            if out.get(i).is_some_and(|t| {
                t.body() == body
                    && t.bounds() == self.bounds.as_slice()
                    && t.fixups() == self.fixups.as_slice()
                    && (
                        t.head.ancount,
                        t.head.nscount,
                        t.head.min_answer,
                        t.head.shuffle,
                    ) == (head.ancount, head.nscount, head.min_answer, head.shuffle)
            }) {
                return i;
            }
        }
        let (arena, first) = out.adding();
        let i = first + arena.heads.len() as u32;
        arena.heads.push(Head {
            body: arena.bytes.len() as u32,
            words: arena.words.len() as u32,
            ..head
        });
        arena.bytes.extend_from_slice(body);
        arena.words.extend_from_slice(self.bounds);
        arena.words.extend_from_slice(self.fixups);
        if into_answers {
            // Per fixup, the answer record it points into (or NOT_MOVED),
            // so a shuffled response relocates it without a search.
            let bounds = &self.bounds[..=ancount];
            for &f in self.fixups.iter() {
                let f = usize::from(f);
                let v = body
                    .get(f..f + 2)
                    .map_or(u16::MAX, |p| u16::from_be_bytes([p[0], p[1]]));
                let k = match v < answers_end {
                    true => bounds.partition_point(|&b| b <= v).saturating_sub(1) as u16,
                    false => super::NOT_MOVED,
                };
                arena.words.push(k);
            }
        }
        self.stored.entry(h).or_insert(i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::table::test_wire as wire;

    #[test]
    fn compresses_against_earlier_body_names_and_relocates() {
        let (mut scratch, mut ts) = (Scratch::default(), Templates::default());
        let mut b = Builder::new(&mut scratch);
        let ns1 = wire("ns1.mesos.");
        b.record(Section::Authority, |b| {
            b.owner(&wire("mesos."), Rtype::SOA, 60)?;
            b.soa(&ns1, &wire("root.ns1.mesos."), [1, 2, 3, 4, 5])
        });
        let i = b.finish(false, &mut ts);
        let t = ts.get(i).unwrap();
        // mname's "mesos." and rname's "ns1.mesos." are pointers.
        assert_eq!(t.fixups().len(), 2);
        let mut out = [0u8; 512];
        let r = t.render(&mut out, 30, 512);
        assert_eq!(r.nscount, 1);
        let f0 = t.fixups()[0] as usize + 30;
        assert_eq!(&out[f0..f0 + 2], &[0xC0, 30]);
    }

    #[test]
    fn a_full_builder_rolls_back_the_last_record() {
        let mut scratch = Scratch {
            body: vec![0; 40],
            ..Scratch::default()
        };
        let mut ts = Templates::default();
        let mut b = Builder::new(&mut scratch);
        for i in 0..5u8 {
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::A, 60)?;
                b.rdata(&[10, 0, 0, i])
            });
        }
        assert!(b.is_full());
        let i = b.finish(true, &mut ts);
        let t = ts.get(i).unwrap();
        assert_eq!(t.ancount(), 2);
        assert_eq!(t.body().len(), 32);
    }

    #[test]
    fn identical_templates_are_stored_once() {
        let (mut scratch, mut ts) = (Scratch::default(), Templates::default());
        let mut build = |ip: u8, shuffle: bool, ts: &mut Templates| {
            let mut b = Builder::new(&mut scratch);
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::A, 60)?;
                b.rdata(&[10, 0, 0, ip])
            });
            b.finish(shuffle, ts)
        };
        let first = build(1, true, &mut ts);
        assert_eq!(build(1, true, &mut ts), first);
        assert_ne!(build(2, true, &mut ts), first);
        assert_ne!(build(1, false, &mut ts), first);
        assert_eq!(ts.len(), 3);
        let t = ts.get(first).unwrap();
        assert_eq!((t.ancount(), t.body().len()), (1, 16));
        assert!(ts.get(3).is_none());
    }
}
