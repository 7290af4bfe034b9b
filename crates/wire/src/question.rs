//! The question section (RFC 1035 §4.1.2).
//!
//! ```text
//!                                 1  1  1  1  1  1
//!   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                                               |
//! /                     QNAME                     /
//! /                                               /
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                     QTYPE                     |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                     QCLASS                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```

use crate::{Class, Compressor, Name, Reader, Rtype, WireError, Writer};

/// One entry of the question section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question<'a> {
    /// The name asked about.
    pub qname: Name<'a>,
    /// The record type asked for.
    pub qtype: Rtype,
    /// The class asked for.
    pub qclass: Class,
}

impl<'a> Question<'a> {
    /// Reads a question.
    ///
    /// # Errors
    ///
    /// Any error of [`Name::parse`], or [`WireError::Truncated`].
    pub fn parse(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let qname = Name::parse(r)?;
        let qtype = Rtype(r.u16()?);
        let qclass = Class(r.u16()?);
        Ok(Self {
            qname,
            qtype,
            qclass,
        })
    }
}

/// Writes a question for the uncompressed wire-form name `qname`.
///
/// # Errors
///
/// See [`Compressor::write_name`].
pub fn write_question(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    qname: &[u8],
    qtype: Rtype,
    qclass: Class,
) -> Result<(), WireError> {
    c.write_name(w, qname)?;
    w.u16(qtype.0)?;
    w.u16(qclass.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 32];
        let mut w = Writer::new(&mut buf);
        write_question(
            &mut w,
            &mut Compressor::new(),
            b"\x01a\x00",
            Rtype::SRV,
            Class::IN,
        )
        .unwrap();
        let n = w.len();
        assert_eq!(w.written(), b"\x01a\x00\x00\x21\x00\x01");
        let mut r = Reader::new(buf.get(..n).unwrap());
        let q = Question::parse(&mut r).unwrap();
        assert!(q.qname.eq_wire(b"\x01A\x00"));
        assert_eq!((q.qtype, q.qclass), (Rtype::SRV, Class::IN));
    }
}
