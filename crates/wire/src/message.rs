//! Whole-message parsing (RFC 1035 §4.1).
//!
//! ```text
//! +---------------------+
//! |        Header       |
//! +---------------------+
//! |       Question      | the question for the name server
//! +---------------------+
//! |        Answer       | RRs answering the question
//! +---------------------+
//! |      Authority      | RRs pointing toward an authority
//! +---------------------+
//! |      Additional     | RRs holding additional information
//! +---------------------+
//! ```
//!
//! [`Message::parse`] validates every name, every record and every typed
//! RDATA up front. The section iterators then decode again as they go, and
//! cannot fail.

use crate::edns::Edns;
use crate::{Header, Question, Rcode, Reader, Record, Rtype, WireError};

/// A fully validated message.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    msg: &'a [u8],
    /// The header.
    pub header: Header,
    /// Start offsets of the question, answer, authority and additional
    /// sections.
    starts: [usize; 4],
    edns: Option<Edns>,
}

impl<'a> Message<'a> {
    /// Parses and validates a whole message.
    ///
    /// # Errors
    ///
    /// - [`WireError::Truncated`]: shorter than its header says;
    /// - name errors ([`WireError::BadPointer`], [`WireError::LabelType`],
    ///   [`WireError::NameTooLong`]);
    /// - [`WireError::BadRdata`]: RDATA that does not match its type;
    /// - [`WireError::DuplicateOpt`], [`WireError::BadOpt`]: bad EDNS;
    /// - [`WireError::TrailingData`]: octets after the last record.
    pub fn parse(msg: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(msg);
        let header = Header::parse(&mut r)?;
        let mut starts = [r.pos(); 4];
        for _ in 0..header.qdcount {
            Question::parse(&mut r)?;
        }
        let mut edns = None;
        let counts = [header.ancount, header.nscount, header.arcount];
        for (start, count) in starts.iter_mut().skip(1).zip(counts) {
            *start = r.pos();
            for _ in 0..count {
                let rec = Record::parse(&mut r)?;
                if rec.rtype == Rtype::OPT {
                    // RFC 6891 §6.1.1: at most one OPT, owned by the root.
                    if edns.is_some() {
                        return Err(WireError::DuplicateOpt);
                    }
                    if !rec.name.is_root() {
                        return Err(WireError::BadOpt);
                    }
                    edns = Some(Edns::from_fields(rec.class, rec.ttl));
                }
            }
        }
        if r.remaining() != 0 {
            return Err(WireError::TrailingData);
        }
        Ok(Self {
            msg,
            header,
            starts,
            edns,
        })
    }

    /// The message octets.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.msg
    }

    /// The OPT record's contents, if there is one.
    pub const fn edns(&self) -> Option<Edns> {
        self.edns
    }

    /// The full response code: header bits plus OPT extended bits.
    pub fn rcode(&self) -> Rcode {
        let ext = self.edns.map_or(0, |e| e.ext_rcode);
        Rcode::from_parts(self.header.flags.rcode(), ext)
    }

    /// The question section.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            r: self.reader(0),
            left: self.header.qdcount,
        }
    }

    /// The answer section.
    pub fn answers(&self) -> Records<'a> {
        self.records(1, self.header.ancount)
    }

    /// The authority section.
    pub fn authority(&self) -> Records<'a> {
        self.records(2, self.header.nscount)
    }

    /// The additional section (including any OPT record).
    pub fn additional(&self) -> Records<'a> {
        self.records(3, self.header.arcount)
    }

    fn reader(&self, section: usize) -> Reader<'a> {
        let at = self.starts.get(section).copied().unwrap_or(self.msg.len());
        Reader::at(self.msg, at).unwrap_or(Reader::new(&[]))
    }

    fn records(&self, section: usize, left: u16) -> Records<'a> {
        Records {
            r: self.reader(section),
            left,
        }
    }
}

/// Iterator over a validated question section.
#[derive(Clone, Debug)]
pub struct Questions<'a> {
    r: Reader<'a>,
    left: u16,
}

impl<'a> Iterator for Questions<'a> {
    type Item = Question<'a>;

    fn next(&mut self) -> Option<Question<'a>> {
        self.left = self.left.checked_sub(1)?;
        Question::parse(&mut self.r).ok()
    }
}

/// Iterator over a validated record section.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    r: Reader<'a>,
    left: u16,
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        self.left = self.left.checked_sub(1)?;
        Record::parse(&mut self.r).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rdata;
    use core::net::Ipv4Addr;

    #[test]
    fn parses_all_sections() {
        // A response: question a., one A answer, one NS authority, OPT.
        let msg = b"\x00\x07\x84\x00\x00\x01\x00\x01\x00\x01\x00\x01\
\x01a\x00\x00\x01\x00\x01\
\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04\
\x00\x00\x02\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c\
\x00\x00\x29\x04\xd0\x01\x00\x00\x00\x00\x00";
        let m = Message::parse(msg).unwrap();
        assert_eq!(m.header.id, 7);
        let q = m.questions().next().unwrap();
        assert!(q.qname.eq_wire(b"\x01a\x00"));
        let a = m.answers().next().unwrap();
        assert_eq!(a.rdata, Rdata::A(Ipv4Addr::new(1, 2, 3, 4)));
        assert!(a.name.eq_wire(b"\x01A\x00"));
        let ns = m.authority().next().unwrap();
        assert!(matches!(ns.rdata, Rdata::Ns(n) if n.eq_wire(b"\x01a\x00")));
        assert_eq!(m.additional().count(), 1);
        assert_eq!(m.rcode(), Rcode::BADVERS);
        assert_eq!(m.edns().map(|e| e.udp_payload), Some(1232));
    }
}
