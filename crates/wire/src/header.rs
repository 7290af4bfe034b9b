//! The message header (RFC 1035 §4.1.1).
//!
//! ```text
//!                                 1  1  1  1  1  1
//!   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    QDCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    ANCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    NSCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                    ARCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//!
//! AD and CD come from RFC 4035 §3.2; the RCODE field holds only the low
//! four bits of an [`Rcode`], the upper eight travel in the OPT record
//! (RFC 6891 §6.1.3).

use core::fmt;

use crate::{Reader, WireError, Writer};

/// Length of the fixed header, in octets.
pub const HEADER_LEN: usize = 12;

/// The 12-octet message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    /// Identifier copied from query to response.
    pub id: u16,
    /// The second 16-bit word: QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE.
    pub flags: Flags,
    /// Number of entries in the question section.
    pub qdcount: u16,
    /// Number of resource records in the answer section.
    pub ancount: u16,
    /// Number of resource records in the authority section.
    pub nscount: u16,
    /// Number of resource records in the additional section.
    pub arcount: u16,
}

impl Header {
    /// Reads a header.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if fewer than 12 octets remain.
    pub fn parse(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let b: [u8; HEADER_LEN] = r.array()?;
        Ok(Self::from_bytes(&b))
    }

    /// Decodes the fixed 12 octets.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> Self {
        let [i0, i1, f0, f1, q0, q1, a0, a1, n0, n1, r0, r1] = *b;
        Self {
            id: u16::from_be_bytes([i0, i1]),
            flags: Flags(u16::from_be_bytes([f0, f1])),
            qdcount: u16::from_be_bytes([q0, q1]),
            ancount: u16::from_be_bytes([a0, a1]),
            nscount: u16::from_be_bytes([n0, n1]),
            arcount: u16::from_be_bytes([r0, r1]),
        }
    }

    /// Encodes the fixed 12 octets.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let [i0, i1] = self.id.to_be_bytes();
        let [f0, f1] = self.flags.0.to_be_bytes();
        let [q0, q1] = self.qdcount.to_be_bytes();
        let [a0, a1] = self.ancount.to_be_bytes();
        let [n0, n1] = self.nscount.to_be_bytes();
        let [r0, r1] = self.arcount.to_be_bytes();
        [i0, i1, f0, f1, q0, q1, a0, a1, n0, n1, r0, r1]
    }

    /// Writes the header.
    ///
    /// # Errors
    ///
    /// [`WireError::Full`] if 12 octets do not fit.
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        w.bytes(&self.to_bytes())
    }
}

/// The flags word of the header. Bits are numbered as in RFC 1035, where
/// bit 0 (QR) is the most significant.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u16);

const QR: u16 = 0x8000;
const AA: u16 = 0x0400;
const TC: u16 = 0x0200;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
const Z: u16 = 0x0040;
const AD: u16 = 0x0020;
const CD: u16 = 0x0010;

impl Flags {
    const fn bit(self, mask: u16) -> bool {
        self.0 & mask != 0
    }

    const fn set(self, mask: u16, on: bool) -> Self {
        if on {
            Self(self.0 | mask)
        } else {
            Self(self.0 & !mask)
        }
    }

    /// QR: this message is a response.
    pub const fn qr(self) -> bool {
        self.bit(QR)
    }
    /// The kind of query (4 bits).
    pub const fn opcode(self) -> Opcode {
        Opcode(((self.0 >> 11) & 0xf) as u8)
    }
    /// AA: authoritative answer.
    pub const fn aa(self) -> bool {
        self.bit(AA)
    }
    /// TC: the message was truncated.
    pub const fn tc(self) -> bool {
        self.bit(TC)
    }
    /// RD: recursion desired.
    pub const fn rd(self) -> bool {
        self.bit(RD)
    }
    /// RA: recursion available.
    pub const fn ra(self) -> bool {
        self.bit(RA)
    }
    /// Z: reserved, must be zero (RFC 1035 §4.1.1).
    pub const fn z(self) -> bool {
        self.bit(Z)
    }
    /// AD: authentic data (RFC 4035 §3.2.3).
    pub const fn ad(self) -> bool {
        self.bit(AD)
    }
    /// CD: checking disabled (RFC 4035 §3.2.2).
    pub const fn cd(self) -> bool {
        self.bit(CD)
    }
    /// The low four bits of the response code. Combine with the OPT
    /// record's extended RCODE via [`Rcode::from_parts`].
    pub const fn rcode(self) -> u8 {
        (self.0 & 0xf) as u8
    }

    /// With QR set or cleared.
    pub const fn with_qr(self, on: bool) -> Self {
        self.set(QR, on)
    }
    /// With the given opcode (only its low four bits are used).
    pub const fn with_opcode(self, op: Opcode) -> Self {
        Self((self.0 & !0x7800) | (((op.0 as u16) & 0xf) << 11))
    }
    /// With AA set or cleared.
    pub const fn with_aa(self, on: bool) -> Self {
        self.set(AA, on)
    }
    /// With TC set or cleared.
    pub const fn with_tc(self, on: bool) -> Self {
        self.set(TC, on)
    }
    /// With RD set or cleared.
    pub const fn with_rd(self, on: bool) -> Self {
        self.set(RD, on)
    }
    /// With RA set or cleared.
    pub const fn with_ra(self, on: bool) -> Self {
        self.set(RA, on)
    }
    /// With AD set or cleared.
    pub const fn with_ad(self, on: bool) -> Self {
        self.set(AD, on)
    }
    /// With CD set or cleared.
    pub const fn with_cd(self, on: bool) -> Self {
        self.set(CD, on)
    }
    /// With the header RCODE field set to the low four bits of `rcode`.
    pub const fn with_rcode(self, rcode: Rcode) -> Self {
        Self((self.0 & !0xf) | (rcode.low() as u16))
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flags({:#06x}: opcode {}", self.0, self.opcode().0)?;
        for (on, name) in [
            (self.qr(), "qr"),
            (self.aa(), "aa"),
            (self.tc(), "tc"),
            (self.rd(), "rd"),
            (self.ra(), "ra"),
            (self.z(), "z"),
            (self.ad(), "ad"),
            (self.cd(), "cd"),
        ] {
            if on {
                write!(f, " {name}")?;
            }
        }
        write!(f, " rcode {})", self.rcode())
    }
}

/// The 4-bit OPCODE (RFC 1035 §4.1.1, RFC 1996, RFC 2136).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Opcode(pub u8);

impl Opcode {
    /// A standard query.
    pub const QUERY: Self = Self(0);
    /// An inverse query (obsolete, RFC 3425).
    pub const IQUERY: Self = Self(1);
    /// A server status request.
    pub const STATUS: Self = Self(2);
    /// A zone change notification (RFC 1996).
    pub const NOTIFY: Self = Self(4);
    /// A dynamic update (RFC 2136).
    pub const UPDATE: Self = Self(5);
}

/// A response code of up to 12 bits: the low four live in the header, the
/// upper eight in the OPT record's TTL field (RFC 6891 §6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rcode(pub u16);

impl Rcode {
    /// No error.
    pub const NOERROR: Self = Self(0);
    /// The server could not interpret the query.
    pub const FORMERR: Self = Self(1);
    /// The server failed to process the query.
    pub const SERVFAIL: Self = Self(2);
    /// The name does not exist.
    pub const NXDOMAIN: Self = Self(3);
    /// The kind of query is not implemented.
    pub const NOTIMP: Self = Self(4);
    /// The server refuses to answer.
    pub const REFUSED: Self = Self(5);
    /// Not authoritative for the zone (RFC 2136 section 2.2; RFC 5936
    /// section 2.2.1 for a transfer of a zone not served).
    pub const NOTAUTH: Self = Self(9);
    /// The EDNS version is not supported (RFC 6891 §6.1.3). Needs OPT.
    pub const BADVERS: Self = Self(16);

    /// Combines the header's 4 bits with the OPT record's extended 8 bits.
    pub const fn from_parts(header: u8, extended: u8) -> Self {
        Self(((extended as u16) << 4) | (header as u16 & 0xf))
    }
    /// The low four bits, for the header.
    pub const fn low(self) -> u8 {
        (self.0 & 0xf) as u8
    }
    /// The upper eight bits, for the OPT record (bits above 12 are dropped).
    pub const fn extended(self) -> u8 {
        ((self.0 >> 4) & 0xff) as u8
    }
    /// Whether this code needs an OPT record to be expressed.
    pub const fn is_extended(self) -> bool {
        self.0 > 0xf
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            16 => "BADVERS",
            n => return write!(f, "RCODE{n}"),
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_4_1_1_header_round_trip() {
        let b = [0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 3, 0, 4];
        let h = Header::parse(&mut Reader::new(&b)).unwrap();
        assert_eq!(h.id, 0xabcd);
        assert!(h.flags.qr() && h.flags.rd() && h.flags.ra());
        assert!(!h.flags.aa() && !h.flags.tc());
        assert_eq!(h.flags.opcode(), Opcode::QUERY);
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 2, 3, 4));
        assert_eq!(h.to_bytes(), b);
    }

    #[test]
    fn flag_setters_touch_only_their_bits() {
        let f = Flags(0)
            .with_qr(true)
            .with_opcode(Opcode::UPDATE)
            .with_aa(true)
            .with_tc(true)
            .with_rd(true)
            .with_ra(true)
            .with_ad(true)
            .with_cd(true)
            .with_rcode(Rcode::REFUSED);
        assert_eq!(f.0, 0b1010_1111_1011_0101);
        assert_eq!(f.opcode(), Opcode::UPDATE);
        assert_eq!(f.rcode(), 5);
        let g = f
            .with_aa(false)
            .with_opcode(Opcode::QUERY)
            .with_rcode(Rcode::NOERROR);
        assert_eq!(g.0, 0b1000_0011_1011_0000);
    }

    #[test]
    fn rfc6891_6_1_3_badvers_splits_across_header_and_opt() {
        assert_eq!(Rcode::BADVERS.low(), 0);
        assert_eq!(Rcode::BADVERS.extended(), 1);
        assert_eq!(Rcode::from_parts(0, 1), Rcode::BADVERS);
        assert!(Rcode::BADVERS.is_extended() && !Rcode::REFUSED.is_extended());
    }
}
