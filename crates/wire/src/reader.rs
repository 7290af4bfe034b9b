//! A bounds-checked, big-endian cursor over a received message.
//!
//! All multi-octet integers on the wire are in network byte order
//! (RFC 1035 §2.3.2). A [`Reader`] remembers the whole message as well as
//! its window, so that names inside a sub-reader made by [`Reader::limit`]
//! (for RDATA) can still follow compression pointers to earlier parts of
//! the message.

use crate::WireError;

/// A cursor over `&[u8]` that never reads past its end.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    msg: &'a [u8],
    /// Next octet to read; always `<= end`.
    pos: usize,
    /// End of this reader's window; always `<= msg.len()`.
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the whole message, positioned at offset 0.
    pub const fn new(msg: &'a [u8]) -> Self {
        Self {
            msg,
            pos: 0,
            end: msg.len(),
        }
    }

    /// A reader over the whole message, positioned at `pos`.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if `pos` is past the end of the message.
    pub fn at(msg: &'a [u8], pos: usize) -> Result<Self, WireError> {
        if pos > msg.len() {
            return Err(WireError::Truncated);
        }
        Ok(Self {
            msg,
            pos,
            end: msg.len(),
        })
    }

    /// The whole message this reader is a window on.
    pub const fn message(&self) -> &'a [u8] {
        self.msg
    }

    /// Offset of the next octet to read, from the start of the message.
    pub const fn pos(&self) -> usize {
        self.pos
    }

    /// Octets left in this reader's window.
    pub const fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// The unread part of the window.
    pub fn rest(&self) -> &'a [u8] {
        self.msg.get(self.pos..self.end).unwrap_or_default()
    }

    /// Reads `n` octets.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than `n` octets remain.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let stop = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        if stop > self.end {
            return Err(WireError::Truncated);
        }
        let out = self.msg.get(self.pos..stop).ok_or(WireError::Truncated)?;
        self.pos = stop;
        Ok(out)
    }

    /// Reads exactly `N` octets into an array.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than `N` octets remain.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let b = self.bytes(N)?;
        b.try_into().map_err(|_| WireError::Truncated)
    }

    /// Skips `n` octets.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than `n` octets remain.
    pub fn skip(&mut self, n: usize) -> Result<(), WireError> {
        self.bytes(n).map(|_| ())
    }

    /// Reads one octet.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] at the end of the window.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        self.array::<1>().map(|[b]| b)
    }

    /// Returns the next octet without consuming it.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] at the end of the window.
    pub fn peek_u8(&self) -> Result<u8, WireError> {
        self.rest().first().copied().ok_or(WireError::Truncated)
    }

    /// Reads a big-endian `u16`.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than two octets remain.
    pub fn u16(&mut self) -> Result<u16, WireError> {
        self.array().map(u16::from_be_bytes)
    }

    /// Reads a big-endian `u32`.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than four octets remain.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        self.array().map(u32::from_be_bytes)
    }

    /// Splits off a sub-reader over the next `n` octets (an RDATA of
    /// RDLENGTH `n`) and advances this reader past them. The sub-reader
    /// still sees the whole message for compression pointers.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than `n` octets remain.
    pub fn limit(&mut self, n: usize) -> Result<Reader<'a>, WireError> {
        let start = self.pos;
        self.skip(n)?;
        Ok(Reader {
            msg: self.msg,
            pos: start,
            end: self.pos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_integers() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        assert_eq!(r.u32(), Ok(0x0405_0607));
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.u8(), Err(WireError::Truncated));
    }

    #[test]
    fn short_read_does_not_advance() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(WireError::Truncated));
        assert_eq!(r.pos(), 0);
        assert_eq!(r.bytes(usize::MAX), Err(WireError::Truncated));
    }

    #[test]
    fn limit_makes_a_window_that_sees_the_message() {
        let msg = [9, 1, 2, 3, 4];
        let mut r = Reader::new(&msg);
        r.skip(1).unwrap();
        let mut sub = r.limit(2).unwrap();
        assert_eq!(r.pos(), 3);
        assert_eq!(sub.u16(), Ok(0x0102));
        assert_eq!(sub.u8(), Err(WireError::Truncated));
        assert_eq!(sub.message(), &msg);
        assert_eq!(r.limit(3).map(|_| ()), Err(WireError::Truncated));
    }
}
