//! The IXFR journal: the differences between recent serials, bounded by
//! count and by size (RFC 1995 section 5 leaves the policy to the server).
//!
//! Each entry is one [`Delta`] from a serial to the next. Entries form one
//! chain (each starts at the serial the previous one ends at): a push that
//! does not continue the chain (a reload compiled the zone anew, the
//! server restarted) starts a new one. A client at a serial in the chain
//! gets the entries from there on condensed into one difference
//! ([`Delta::then`], RFC 1995 section 4); any other gets the whole zone.
//!
//! Deltas are pushed as they come, today from `RecordSet::diff` at publish
//! time; a producer of O(change) deltas pushes the same way.

use std::collections::VecDeque;
use std::sync::Arc;

use mesos_records::delta::{Record, Value};
use mesos_records::Delta;

/// Default number of versions kept.
pub const DEFAULT_VERSIONS: usize = 64;
/// Default octets of differences kept (an estimate of their memory).
pub const DEFAULT_BYTES: usize = 16 << 20;

#[derive(Debug)]
struct Entry {
    from: u32,
    to: u32,
    delta: Arc<Delta>,
    bytes: usize,
}

/// Recent differences between serials (see the `xfr::journal` module docs).
#[derive(Debug)]
pub struct Journal {
    entries: VecDeque<Entry>,
    max_versions: usize,
    max_bytes: usize,
    bytes: usize,
}

impl Journal {
    /// A journal keeping at most `max_versions` differences and
    /// `max_bytes` of them (0 for either keeps none: every IXFR gets the
    /// whole zone).
    pub fn new(max_versions: usize, max_bytes: usize) -> Self {
        Journal {
            entries: VecDeque::new(),
            max_versions,
            max_bytes,
            bytes: 0,
        }
    }

    /// Adds the difference from serial `from` to serial `to`, dropping the
    /// oldest ones over the bounds.
    pub fn push(&mut self, from: u32, to: u32, delta: Delta) {
        if self.entries.back().is_some_and(|e| e.to != from) {
            self.clear();
        }
        let bytes = size(&delta);
        if self.max_versions == 0 || bytes > self.max_bytes {
            self.clear();
            return;
        }
        self.bytes += bytes;
        self.entries.push_back(Entry {
            from,
            to,
            delta: Arc::new(delta),
            bytes,
        });
        while self.entries.len() > self.max_versions || self.bytes > self.max_bytes {
            match self.entries.pop_front() {
                Some(e) => self.bytes -= e.bytes,
                None => break,
            }
        }
    }

    /// Forgets every difference (the zone changed in a way no difference
    /// of records says: the SOA or NS).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// The change from serial `from` to serial `current`, condensed, if
    /// the journal holds every step.
    pub fn since(&self, from: u32, current: u32) -> Option<Delta> {
        let first = self.entries.iter().position(|e| e.from == from)?;
        if self.entries.back()?.to != current {
            return None;
        }
        let mut steps = self.entries.range(first..);
        let mut d = Delta::clone(&steps.next()?.delta);
        for e in steps {
            d = d.then(&e.delta);
        }
        Some(d)
    }

    /// Differences held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if none are held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Estimated octets held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// An estimate of a delta's memory: each record's struct, name and
/// target.
fn size(d: &Delta) -> usize {
    let one = |r: &Record| {
        std::mem::size_of::<Record>()
            + r.name.len()
            + match &r.value {
                Value::Srv { target, .. } => target.len(),
                _ => 0,
            }
    };
    d.removed.iter().chain(&d.added).map(one).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_records::RecordSet;
    use std::net::Ipv4Addr;

    fn set(ips: &[u8]) -> RecordSet {
        let mut rs = RecordSet::default();
        for i in ips {
            rs.insert_a("web.mesos.", Ipv4Addr::new(10, 0, 0, *i));
        }
        rs
    }

    #[test]
    fn rfc1995_4_condenses_the_chain_from_a_known_serial() {
        let (s1, s2, s3) = (set(&[1]), set(&[1, 2]), set(&[2, 3]));
        let mut j = Journal::new(8, 1 << 20);
        j.push(1, 2, s1.diff(&s2));
        j.push(2, 3, s2.diff(&s3));
        assert_eq!(j.since(1, 3), Some(s1.diff(&s3)));
        assert_eq!(j.since(2, 3), Some(s2.diff(&s3)));
        assert_eq!(j.since(0, 3), None, "unknown serial");
        assert_eq!(j.since(1, 4), None, "journal behind the table");
    }

    #[test]
    fn bounds_drop_the_oldest_and_a_gap_starts_over() {
        let mut j = Journal::new(2, 1 << 20);
        for s in 1..=3u32 {
            j.push(s, s + 1, set(&[s as u8]).diff(&set(&[s as u8 + 1])));
        }
        assert_eq!(j.len(), 2);
        assert!(j.since(1, 4).is_none());
        assert!(j.since(2, 4).is_some());
        j.push(10, 11, Delta::default());
        assert_eq!(j.len(), 1);
        assert!(j.since(3, 11).is_none());
        let mut small = Journal::new(8, 1);
        small.push(1, 2, set(&[]).diff(&set(&[1])));
        assert!(small.is_empty(), "a delta over the byte bound is not kept");
    }
}
