//! Name compression when writing (RFC 1035 §4.1.4).
//!
//! ```text
//!     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//!     | 1  1|                OFFSET                   |
//!     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//!
//! A [`Compressor`] remembers where names were written (up to
//! [`Compressor::CAPACITY`] label positions, no allocation) and replaces the
//! longest suffix of a later name that matches an earlier one by a pointer.
//! Matching ignores ASCII case (RFC 4343 §3), so an owner name written in
//! lowercase compresses to a question the client spelled `WwW.ExAmPlE`, and
//! the client reads back its own spelling. When the table is full, names
//! are still written correctly, only less compactly.
//!
//! The offsets are positions in the [`Writer`], so the writer must start at
//! the first octet of the message (the header).

use crate::name::check_wire;
use crate::{WireError, Writer};

/// Highest offset a pointer can express.
const MAX_OFFSET: usize = 0x3fff;

/// A fixed-capacity table of earlier name positions.
#[derive(Clone, Debug)]
pub struct Compressor {
    /// Offsets of label starts in the output, each `<= 0x3fff`.
    offsets: [u16; Compressor::CAPACITY],
    /// How many of `offsets` are in use, `0..=CAPACITY`.
    len: usize,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Compressor {
    /// Number of label positions remembered.
    pub const CAPACITY: usize = 32;

    /// An empty table.
    pub const fn new() -> Self {
        Self {
            offsets: [0; Self::CAPACITY],
            len: 0,
        }
    }

    /// Forgets all positions (after [`Writer::truncate`], say).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Forgets positions at or beyond `len` (to follow a [`Writer::truncate`]).
    pub fn truncate(&mut self, len: usize) {
        let keep = self
            .offsets
            .get(..self.len)
            .unwrap_or_default()
            .iter()
            .take_while(|&&o| usize::from(o) < len)
            .count();
        self.len = keep;
    }

    /// Remembers that a name (written by other means, e.g. copied question
    /// bytes) starts at offset `at`. Ignored if the table is full or `at`
    /// is beyond what a pointer can reach.
    pub fn remember(&mut self, at: usize) {
        if at > MAX_OFFSET {
            return;
        }
        if let (Some(slot), Ok(at)) = (self.offsets.get_mut(self.len), u16::try_from(at))
        {
            *slot = at;
            self.len = self.len.saturating_add(1);
        }
    }

    /// Writes the uncompressed wire-form name `name`, replacing its longest
    /// suffix that was written before by a pointer, and remembers the new
    /// labels for later names.
    ///
    /// # Errors
    ///
    /// Any error of [`check_wire`] for an invalid `name`;
    /// [`WireError::Full`] if the output does not fit (the writer may then
    /// hold part of the name: truncate it back).
    pub fn write_name(
        &mut self,
        w: &mut Writer<'_>,
        name: &[u8],
    ) -> Result<(), WireError> {
        check_wire(name)?;
        let mut rest = name;
        loop {
            let Some((&n, tail)) = rest.split_first() else {
                return Err(WireError::Truncated);
            };
            if n == 0 {
                return w.u8(0);
            }
            if let Some(to) = self.find(w, rest) {
                return w.u16(0xc000 | to);
            }
            self.remember(w.len());
            let (label, tail) = tail
                .split_at_checked(usize::from(n))
                .ok_or(WireError::Truncated)?;
            w.u8(n)?;
            w.bytes(label)?;
            rest = tail;
        }
    }

    /// The offset of an earlier name equal to `suffix`, if any.
    fn find(&self, w: &Writer<'_>, suffix: &[u8]) -> Option<u16> {
        self.offsets
            .get(..self.len)?
            .iter()
            .copied()
            .find(|&o| same_name(w, usize::from(o), suffix))
    }
}

/// Whether the (possibly compressed) name at `at` in the output equals the
/// uncompressed `wire`, ignoring ASCII case.
fn same_name(w: &Writer<'_>, mut at: usize, wire: &[u8]) -> bool {
    let mut rest = wire;
    // A name has at most 127 labels; pointers must go backwards; both bound
    // the walk even if the output holds something odd.
    for _ in 0..256 {
        let Some(b) = w.get(at) else {
            return false;
        };
        if b & 0xc0 == 0xc0 {
            let Some(lo) = w.get(at.saturating_add(1)) else {
                return false;
            };
            let to = usize::from(u16::from_be_bytes([b & 0x3f, lo]));
            if to >= at {
                return false;
            }
            at = to;
            continue;
        }
        let Some((&n, tail)) = rest.split_first() else {
            return false;
        };
        if n != b {
            return false;
        }
        if n == 0 {
            return true;
        }
        let Some((label, tail)) = tail.split_at_checked(usize::from(n)) else {
            return false;
        };
        let start = at.saturating_add(1);
        let end = start.saturating_add(usize::from(n));
        let Some(written) = w.written().get(start..end) else {
            return false;
        };
        if !written.eq_ignore_ascii_case(label) {
            return false;
        }
        rest = tail;
        at = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_4_1_4_suffixes_become_pointers() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.bytes(&[0; 20]).unwrap();
        let mut c = Compressor::new();
        c.write_name(&mut w, b"\x01F\x03ISI\x04ARPA\x00").unwrap();
        c.write_name(&mut w, b"\x03FOO\x01F\x03ISI\x04ARPA\x00")
            .unwrap();
        c.write_name(&mut w, b"\x04ARPA\x00").unwrap();
        c.write_name(&mut w, b"\x00").unwrap();
        assert_eq!(
            w.written().get(20..).unwrap(),
            b"\x01F\x03ISI\x04ARPA\x00\x03FOO\xc0\x14\xc0\x1a\x00"
        );
    }

    #[test]
    fn matching_ignores_case() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        let mut c = Compressor::new();
        c.write_name(&mut w, b"\x01a\x00").unwrap();
        c.write_name(&mut w, b"\x01A\x00").unwrap();
        c.write_name(&mut w, b"\x01a\x00").unwrap();
        assert_eq!(w.written(), b"\x01a\x00\xc0\x00\xc0\x00");
    }

    #[test]
    fn full_table_still_writes_names() {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        let mut c = Compressor::new();
        for i in 0..40u8 {
            c.write_name(&mut w, &[1, b'a' + (i % 26), 1, b'0' + i / 26, 0])
                .unwrap();
        }
        assert_eq!(c.len, Compressor::CAPACITY);
        assert!(w.len() > 40 * 3);
    }

    #[test]
    fn full_buffer_is_an_error() {
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf);
        let mut c = Compressor::new();
        assert_eq!(c.write_name(&mut w, b"\x03abc\x00"), Err(WireError::Full));
        assert_eq!(c.write_name(&mut w, b"\x03ab"), Err(WireError::Truncated));
    }
}
