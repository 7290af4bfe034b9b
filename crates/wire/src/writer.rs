//! A bounds-checked cursor over an output buffer.
//!
//! Writing past the end of the buffer is an error ([`WireError::Full`]),
//! never a panic. A failed write leaves the already written octets intact,
//! so a caller can [`Writer::truncate`] back to a known length and write
//! something shorter (a truncated response with TC set, say).

use crate::WireError;

/// A cursor over `&mut [u8]` that writes big-endian integers.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    /// Octets written so far; always `<= buf.len()`.
    len: usize,
}

/// A two-octet hole left by [`Writer::reserve_u16`], to be filled in later
/// (an RDLENGTH, a count) with [`Writer::fill_u16`].
#[must_use = "a reserved slot must be filled"]
#[derive(Debug, PartialEq, Eq)]
pub struct Slot(usize);

impl Slot {
    /// Offset of the slot in the output.
    pub const fn offset(&self) -> usize {
        self.0
    }
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Octets written so far; also the offset of the next octet.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total size of the output buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Octets still free in the output buffer.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.len)
    }

    /// The octets written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Forgets everything written after `len` octets. Does nothing if
    /// `len` is not shorter than what was written.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
        }
    }

    /// Writes `b`.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if `b` does not fit; nothing is written then.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), WireError> {
        let stop = self.len.checked_add(b.len()).ok_or(WireError::Full)?;
        let dst = self.buf.get_mut(self.len..stop).ok_or(WireError::Full)?;
        dst.copy_from_slice(b);
        self.len = stop;
        Ok(())
    }

    /// Writes one octet.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if the buffer is full.
    pub fn u8(&mut self, v: u8) -> Result<(), WireError> {
        self.bytes(&[v])
    }

    /// Writes a big-endian `u16`.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if it does not fit.
    pub fn u16(&mut self, v: u16) -> Result<(), WireError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Writes a big-endian `u32`.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if it does not fit.
    pub fn u32(&mut self, v: u32) -> Result<(), WireError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Leaves a two-octet hole (zeroed) to fill in later.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if two octets do not fit.
    pub fn reserve_u16(&mut self) -> Result<Slot, WireError> {
        let at = self.len;
        self.u16(0)?;
        Ok(Slot(at))
    }

    /// Octets written since the end of `slot` (an RDLENGTH).
    pub fn len_since(&self, slot: &Slot) -> usize {
        self.len.saturating_sub(slot.0.saturating_add(2))
    }

    /// Fills the hole left by [`Writer::reserve_u16`]. If the writer was
    /// truncated to before the slot, nothing is written.
    pub fn fill_u16(&mut self, slot: Slot, v: u16) {
        let stop = slot.0.saturating_add(2);
        if stop <= self.len {
            if let Some(dst) = self.buf.get_mut(slot.0..stop) {
                dst.copy_from_slice(&v.to_be_bytes());
            }
        }
    }

    /// Fills `slot` with the number of octets written since it: the usual
    /// way to finish an RDATA.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if more than 65535 octets were written since.
    pub fn fill_len(&mut self, slot: Slot) -> Result<(), WireError> {
        let n = u16::try_from(self.len_since(&slot)).map_err(|_| WireError::Full)?;
        self.fill_u16(slot, n);
        Ok(())
    }

    /// Overwrites two octets at `at` (inside what was already written),
    /// e.g. a header count.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if `at + 2` is beyond what was written.
    pub fn patch_u16(&mut self, at: usize, v: u16) -> Result<(), WireError> {
        let stop = at.checked_add(2).ok_or(WireError::Full)?;
        if stop > self.len {
            return Err(WireError::Full);
        }
        let dst = self.buf.get_mut(at..stop).ok_or(WireError::Full)?;
        dst.copy_from_slice(&v.to_be_bytes());
        Ok(())
    }

    /// The octet written at `at`, if any (used by the name compressor to
    /// compare against earlier names).
    pub(crate) fn get(&self, at: usize) -> Option<u8> {
        self.written().get(at).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_big_endian_and_reports_full() {
        let mut buf = [0u8; 6];
        let mut w = Writer::new(&mut buf);
        w.u8(1).unwrap();
        w.u16(0x0203).unwrap();
        assert_eq!(w.u32(0x0405_0607), Err(WireError::Full));
        assert_eq!(w.written(), &[1, 2, 3]);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn slot_back_patches_rdlength() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        let s = w.reserve_u16().unwrap();
        w.bytes(&[7, 7, 7]).unwrap();
        assert_eq!(w.len_since(&s), 3);
        w.fill_len(s).unwrap();
        assert_eq!(w.written(), &[0, 3, 7, 7, 7]);
    }

    #[test]
    fn truncate_then_fill_is_harmless() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        w.u8(9).unwrap();
        let s = w.reserve_u16().unwrap();
        w.truncate(1);
        w.fill_u16(s, 0xffff);
        assert_eq!(w.written(), &[9]);
        assert_eq!(w.patch_u16(0, 1), Err(WireError::Full));
    }
}
