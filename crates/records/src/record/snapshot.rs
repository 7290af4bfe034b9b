//! A [`RecordSet`] as bytes and back: the state snapshot a restarted
//! server serves before its first live state load.
//!
//! # Format (version 1)
//!
//! Little-endian throughout; every count is a `u32` before its items.
//!
//! | part | bytes |
//! |---|---|
//! | magic | `MDNSSNAP` |
//! | version | `u32`, 1 |
//! | made | `u64`, Unix seconds when the records were current |
//! | settings | count, UTF-8: what the records were generated for |
//! | names | count of ends, `u32` ends, count, UTF-8 text |
//! | value ends | count, `[u32; 3]` per name (A, AAAA, SRV) |
//! | A, AAAA | count, 4 or 16 bytes each |
//! | SRV | count, target name number `u32` and port `u16` each |
//! | enumeration | text; frameworks (name span, tasks end); tasks (name span, id span, records end); records (name `u32`, kind `u8`, value index `u32`) |
//! | overrides | TTLs (name text, `u32`), then SRV weights (target text, `u16`), each list in byte order of names |
//! | checksum | `u32`, CRC-32 of every byte before it |
//!
//! The explain data (an opt-in debugging aid) is not kept. The arrays are
//! the record set's own, so encoding and decoding are copies (the hash
//! index is built on the first lookup by name): 100,000 tasks decode in
//! tens of milliseconds. [`decode`] checks everything a lookup relies on (names
//! distinct and in byte order, ends rising and in range, SRV targets and
//! enumeration references naming real entries, overrides in order) and
//! returns a
//! [`SnapshotError`] for any file that is not exactly what [`encode`]
//! writes: it never panics, and never allocates more than the input's size
//! before reading the items.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{
    EnumData, EnumEntry, FwEntry, KindAt, Overrides, PackedSrv, RecordKind, RecordSet,
    TaskEntry,
};
use crate::name_text::{idx, NameText, SortedIndex};

/// The first bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"MDNSSNAP";

/// The format version [`encode`] writes and [`decode`] reads.
pub const VERSION: u32 = 1;

/// What a snapshot says about its records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// Unix seconds when the records were current (last confirmed by a
    /// state load).
    pub made_unix: u64,
    /// What the records were generated for (the server's generation
    /// settings, as text): a snapshot made under other settings is not
    /// served.
    pub settings: String,
}

/// Why bytes are not a snapshot [`decode`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// No `MDNSSNAP` magic: not a snapshot at all.
    Magic,
    /// A snapshot of another format version.
    Version(u32),
    /// The bytes end before the snapshot does.
    Truncated,
    /// The checksum does not match: the file is damaged.
    Checksum,
    /// A part is inconsistent (named), though the checksum matched.
    Invalid(&'static str),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Magic => f.write_str("not a mesos-dns state snapshot"),
            SnapshotError::Version(v) => {
                write!(f, "snapshot format version {v}, this build reads {VERSION}")
            }
            SnapshotError::Truncated => f.write_str("snapshot truncated"),
            SnapshotError::Checksum => f.write_str("snapshot checksum mismatch"),
            SnapshotError::Invalid(part) => write!(f, "snapshot {part} inconsistent"),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// The snapshot of `set` with `meta`.
pub fn encode(set: &RecordSet, meta: &SnapshotMeta) -> Vec<u8> {
    let (text, name_ends) = set.names.parts();
    let e = &set.enumeration;
    let size = 64
        + meta.settings.len()
        + text.len()
        + name_ends.len() * 16
        + set.a.len() * 4
        + set.aaaa.len() * 16
        + set.srv.len() * 6
        + e.text.len()
        + e.frameworks.len() * 12
        + e.tasks.len() * 20
        + e.records.len() * 9;
    let mut w = Vec::with_capacity(size);
    w.extend_from_slice(&MAGIC);
    put32(&mut w, VERSION);
    w.extend_from_slice(&meta.made_unix.to_le_bytes());
    put_text(&mut w, &meta.settings);

    put_count(&mut w, name_ends.len());
    name_ends.iter().for_each(|&x| put32(&mut w, x));
    put_text(&mut w, text);
    put_count(&mut w, set.ends.len());
    set.ends.iter().flatten().for_each(|&x| put32(&mut w, x));
    put_count(&mut w, set.a.len());
    set.a
        .iter()
        .for_each(|ip| w.extend_from_slice(&ip.octets()));
    put_count(&mut w, set.aaaa.len());
    set.aaaa
        .iter()
        .for_each(|ip| w.extend_from_slice(&ip.octets()));
    put_count(&mut w, set.srv.len());
    for s in &set.srv {
        put32(&mut w, s.target);
        w.extend_from_slice(&s.port.to_le_bytes());
    }

    put_text(&mut w, &e.text);
    put_count(&mut w, e.frameworks.len());
    for f in &e.frameworks {
        f.name.iter().for_each(|&x| put32(&mut w, x));
        put32(&mut w, f.tasks_end);
    }
    put_count(&mut w, e.tasks.len());
    for t in &e.tasks {
        t.name.iter().chain(&t.id).for_each(|&x| put32(&mut w, x));
        put32(&mut w, t.records_end);
    }
    put_count(&mut w, e.records.len());
    for r in &e.records {
        put32(&mut w, r.name);
        w.push(r.kind() as u8);
        put32(&mut w, r.at());
    }
    let mut ttl: Vec<_> = set.overrides.ttl.iter().collect();
    ttl.sort_unstable();
    put_count(&mut w, ttl.len());
    for (name, t) in ttl {
        put_text(&mut w, name);
        put32(&mut w, *t);
    }
    let mut weight: Vec<_> = set.overrides.srv_weight.iter().collect();
    weight.sort_unstable();
    put_count(&mut w, weight.len());
    for (name, t) in weight {
        put_text(&mut w, name);
        w.extend_from_slice(&t.to_le_bytes());
    }
    let sum = crc32fast::hash(&w);
    put32(&mut w, sum);
    w
}

/// The record set and meta data in `bytes`, checked whole.
///
/// # Errors
///
/// Not a snapshot, another version, truncated, damaged or inconsistent:
/// the [`SnapshotError`] says which.
pub fn decode(bytes: &[u8]) -> Result<(SnapshotMeta, RecordSet), SnapshotError> {
    let mut r = Reader { b: bytes };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(SnapshotError::Magic);
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(SnapshotError::Version(version));
    }
    let (body, sum) = bytes
        .split_last_chunk::<4>()
        .filter(|(body, _)| body.len() >= MAGIC.len() + 4)
        .ok_or(SnapshotError::Truncated)?;
    if crc32fast::hash(body) != u32::from_le_bytes(*sum) {
        // A shorter file than its counts say fails here too; tell it apart.
        return Err(match (Reader { b: body }).skim() {
            Err(e) => e,
            Ok(()) => SnapshotError::Checksum,
        });
    }
    let mut r = Reader {
        b: body.get(MAGIC.len() + 4..).unwrap_or_default(),
    };
    let made_unix = u64::from_le_bytes(r.array()?);
    let settings = r.text("settings")?;
    let (meta, set) = (
        SnapshotMeta {
            made_unix,
            settings,
        },
        r.record_set()?,
    );
    if !r.b.is_empty() {
        return Err(SnapshotError::Invalid("length"));
    }
    Ok((meta, set))
}

fn put32(w: &mut Vec<u8>, x: u32) {
    w.extend_from_slice(&x.to_le_bytes());
}

fn put_count(w: &mut Vec<u8>, n: usize) {
    put32(w, idx(n));
}

fn put_text(w: &mut Vec<u8>, s: &str) {
    put_count(w, s.len());
    w.extend_from_slice(s.as_bytes());
}

/// A bounds-checked cursor; every read that runs past the end is
/// [`SnapshotError::Truncated`].
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if n > self.b.len() {
            return Err(SnapshotError::Truncated);
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        self.array().map(u32::from_le_bytes)
    }

    /// A count of items of `size` bytes each, and their bytes: the count is
    /// checked against what is left before anything is allocated.
    fn items(&mut self, size: usize) -> Result<(usize, &'a [u8]), SnapshotError> {
        let n = self.u32()? as usize;
        let len = n.checked_mul(size).ok_or(SnapshotError::Truncated)?;
        Ok((n, self.take(len)?))
    }

    fn text(&mut self, part: &'static str) -> Result<String, SnapshotError> {
        let (_, b) = self.items(1)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| SnapshotError::Invalid(part))
    }

    fn u32s(&mut self, per: usize) -> Result<(usize, Vec<u32>), SnapshotError> {
        let (n, b) = self.items(4 * per)?;
        Ok((n, b.chunks_exact(4).map(le32).collect()))
    }

    /// Walks every part without building anything, to tell a truncated
    /// file from a damaged one.
    fn skim(mut self) -> Result<(), SnapshotError> {
        self.take(MAGIC.len() + 4 + 8)?;
        self.items(1)?; // settings
        for size in [4, 1, 12, 4, 16, 6, 1, 12, 20, 9] {
            self.items(size)?;
        }
        for value in [4, 2] {
            let (n, _) = self.items(0)?;
            for _ in 0..n {
                self.items(1)?;
                self.take(value)?;
            }
        }
        Ok(())
    }

    fn record_set(&mut self) -> Result<RecordSet, SnapshotError> {
        let (_, name_ends) = self.u32s(1)?;
        let text = self.text("names")?;
        let names = NameText::from_parts(text, name_ends)
            .ok_or(SnapshotError::Invalid("names"))?;
        let mut prev: Option<&str> = None;
        for name in names.iter() {
            if prev.is_some_and(|p| p >= name) {
                return Err(SnapshotError::Invalid("name order"));
            }
            prev = Some(name);
        }
        let count = names.len();

        let (n, flat) = self.u32s(3)?;
        if n != count {
            return Err(SnapshotError::Invalid("value ends"));
        }
        let ends: Vec<[u32; 3]> =
            flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        let (_, b) = self.items(4)?;
        let a: Vec<Ipv4Addr> = b
            .chunks_exact(4)
            .map(|c| Ipv4Addr::from(octets4(c)))
            .collect();
        let (_, b) = self.items(16)?;
        let aaaa: Vec<Ipv6Addr> = b
            .chunks_exact(16)
            .map(|c| {
                let mut o = [0u8; 16];
                o.copy_from_slice(c);
                Ipv6Addr::from(o)
            })
            .collect();
        let (_, b) = self.items(6)?;
        let srv: Vec<PackedSrv> = b
            .chunks_exact(6)
            .map(|c| PackedSrv {
                target: le32(c),
                port: u16::from_le_bytes([c[4], c[5]]),
            })
            .collect();
        let lens = [a.len(), aaaa.len(), srv.len()];
        for k in 0..3 {
            let mut start = 0u32;
            for e in &ends {
                if e[k] < start {
                    return Err(SnapshotError::Invalid("value ends"));
                }
                start = e[k];
            }
            if start as usize != lens[k] {
                return Err(SnapshotError::Invalid("value ends"));
            }
        }
        if srv.iter().any(|s| s.target as usize >= count) {
            return Err(SnapshotError::Invalid("SRV targets"));
        }
        let enumeration = self.enumeration(count, lens)?;
        let overrides = Overrides {
            ttl: self.overrides(le32, 4)?,
            srv_weight: self.overrides(|b| u16::from_le_bytes([b[0], b[1]]), 2)?,
        };
        Ok(RecordSet {
            names,
            index: SortedIndex::default(),
            ends,
            a,
            aaaa,
            srv,
            enumeration,
            overrides,
            explain: None,
        })
    }

    /// One list of overrides: names in byte order, each with a value of
    /// `size` bytes read by `value`.
    fn overrides<T>(
        &mut self,
        value: impl Fn(&[u8]) -> T,
        size: usize,
    ) -> Result<std::collections::HashMap<String, T>, SnapshotError> {
        let (n, _) = self.items(0)?;
        // Each entry takes at least its name's count and its value.
        if n > self.b.len() / (4 + size) {
            return Err(SnapshotError::Truncated);
        }
        let mut map = std::collections::HashMap::with_capacity(n);
        let mut prev = String::new();
        for i in 0..n {
            let name = self.text("overrides")?;
            if i > 0 && name <= prev {
                return Err(SnapshotError::Invalid("overrides"));
            }
            let v = value(self.take(size)?);
            prev.clone_from(&name);
            map.insert(name, v);
        }
        Ok(map)
    }

    fn enumeration(
        &mut self,
        names: usize,
        lens: [usize; 3],
    ) -> Result<EnumData, SnapshotError> {
        const PART: &str = "enumeration";
        let text = self.text(PART)?;
        let span_ok = |s: [u32; 2]| {
            s[0] <= s[1] && text.get(s[0] as usize..s[1] as usize).is_some()
        };
        let (_, b) = self.items(12)?;
        let frameworks: Vec<FwEntry> = b
            .chunks_exact(12)
            .map(|c| FwEntry {
                name: [le32(c), le32(&c[4..])],
                tasks_end: le32(&c[8..]),
            })
            .collect();
        let (_, b) = self.items(20)?;
        let tasks: Vec<TaskEntry> = b
            .chunks_exact(20)
            .map(|c| TaskEntry {
                name: [le32(c), le32(&c[4..])],
                id: [le32(&c[8..]), le32(&c[12..])],
                records_end: le32(&c[16..]),
            })
            .collect();
        let (_, b) = self.items(9)?;
        let mut records = Vec::with_capacity(b.len() / 9);
        for c in b.chunks_exact(9) {
            let kind = match c[4] {
                0 => RecordKind::A,
                1 => RecordKind::Aaaa,
                2 => RecordKind::Srv,
                _ => return Err(SnapshotError::Invalid(PART)),
            };
            let (name, at) = (le32(c), le32(&c[5..]));
            if name as usize >= names
                || at as usize >= lens[kind as usize]
                || at > KindAt::MAX_AT
            {
                return Err(SnapshotError::Invalid(PART));
            }
            records.push(EnumEntry::new(name, kind, at));
        }
        let ok = frameworks.iter().all(|f| span_ok(f.name))
            && tasks.iter().all(|t| span_ok(t.name) && span_ok(t.id))
            && rising(frameworks.iter().map(|f| f.tasks_end), tasks.len())
            && rising(tasks.iter().map(|t| t.records_end), records.len());
        if !ok {
            return Err(SnapshotError::Invalid(PART));
        }
        Ok(EnumData {
            text,
            frameworks,
            tasks,
            records,
        })
    }
}

/// True if `ends` never fall and none is past `total`.
fn rising(ends: impl Iterator<Item = u32>, total: usize) -> bool {
    let mut start = 0u32;
    for e in ends {
        if e < start || e as usize > total {
            return false;
        }
        start = e;
    }
    true
}

/// The little-endian `u32` at the start of `c` (at least 4 bytes).
fn le32(c: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    if let Some(b) = c.get(..4) {
        a.copy_from_slice(b);
    }
    u32::from_le_bytes(a)
}

/// The first 4 bytes of `c` in network order (an IPv4 address's octets).
fn octets4(c: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    if let Some(b) = c.get(..4) {
        a.copy_from_slice(b);
    }
    a
}

#[cfg(test)]
mod tests;
