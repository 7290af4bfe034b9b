//! The EDNS(0) OPT pseudo-record (RFC 6891 §6.1).
//!
//! ```text
//! +------------+--------------+------------------------------+
//! | Field Name | Field Type   | Description                  |
//! +------------+--------------+------------------------------+
//! | NAME       | domain name  | MUST be 0 (root domain)      |
//! | TYPE       | u_int16_t    | OPT (41)                     |
//! | CLASS      | u_int16_t    | requestor's UDP payload size |
//! | TTL        | u_int32_t    | extended RCODE and flags     |
//! | RDLEN      | u_int16_t    | length of all RDATA          |
//! | RDATA      | octet stream | {attribute,value} pairs      |
//! +------------+--------------+------------------------------+
//!
//! The TTL field (RFC 6891 §6.1.3, DO from RFC 3225):
//!
//!             +0 (MSB)                            +1 (LSB)
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//! 0: |         EXTENDED-RCODE        |            VERSION            |
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//! 2: | DO|                           Z                               |
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//!
//! Each option in the RDATA (RFC 6891 §6.1.2):
//!
//!  +0 (MSB)                            +1 (LSB)
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//! 0: |                          OPTION-CODE                          |
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//! 2: |                         OPTION-LENGTH                         |
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//! 4: /                          OPTION-DATA                          /
//!  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//! ```
//!
//! Options are checked for framing and otherwise skipped: this crate
//! answers none of them.

use crate::{Class, Reader, Rtype, WireError, Writer};

/// Smallest UDP payload a requestor may advertise; lower values are
/// treated as 512 (RFC 6891 §6.2.5).
pub const MIN_UDP_PAYLOAD: u16 = 512;

/// UDP payload size advertised in responses this crate writes: the DNS
/// Flag Day 2020 value, which avoids IP fragmentation.
pub const DEFAULT_UDP_PAYLOAD: u16 = 1232;

/// Length of an OPT record with no options, in octets.
pub const OPT_LEN: usize = 11;

const DO: u32 = 0x8000;

/// What an OPT record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edns {
    /// The sender's UDP payload size (the CLASS field), any value 0..=65535;
    /// see [`Edns::payload_limit`].
    pub udp_payload: u16,
    /// The upper eight bits of a 12-bit RCODE (see [`crate::Rcode`]).
    pub ext_rcode: u8,
    /// EDNS version; only 0 is defined.
    pub version: u8,
    /// DO: the sender understands DNSSEC records (RFC 3225).
    pub dnssec_ok: bool,
}

impl Edns {
    /// Decodes the CLASS and TTL fields of an OPT record.
    pub const fn from_fields(class: Class, ttl: u32) -> Self {
        let [ext_rcode, version, _, _] = ttl.to_be_bytes();
        Self {
            udp_payload: class.0,
            ext_rcode,
            version,
            dnssec_ok: ttl & DO != 0,
        }
    }

    /// The TTL field encoding this value (Z bits zero).
    pub const fn ttl(&self) -> u32 {
        let dok = if self.dnssec_ok { DO } else { 0 };
        u32::from_be_bytes([self.ext_rcode, self.version, 0, 0]) | dok
    }

    /// Largest UDP response the sender accepts: `udp_payload`, but no less
    /// than 512 (RFC 6891 §6.2.5).
    pub fn payload_limit(&self) -> usize {
        usize::from(self.udp_payload.max(MIN_UDP_PAYLOAD))
    }
}

/// Checks the option framing of an OPT RDATA (each option's length within
/// the RDATA) and returns how many options it holds.
///
/// # Errors
///
/// [`WireError::BadRdata`] if an option runs past the end of the RDATA.
pub fn check_options(mut rdata: Reader<'_>) -> Result<usize, WireError> {
    let bad = WireError::BadRdata {
        rtype: Rtype::OPT.0,
    };
    let mut n = 0usize;
    while rdata.remaining() > 0 {
        let _code = rdata.u16().map_err(|_| bad)?;
        let len = rdata.u16().map_err(|_| bad)?;
        rdata.skip(usize::from(len)).map_err(|_| bad)?;
        n = n.saturating_add(1);
    }
    Ok(n)
}

/// Writes an OPT record with no options: root owner, TYPE 41, CLASS the
/// UDP payload size, TTL the extended RCODE, version and DO bit.
///
/// # Errors
///
/// [`WireError::Full`] if the 11 octets do not fit.
pub fn write_opt(w: &mut Writer<'_>, edns: &Edns) -> Result<(), WireError> {
    let [t0, t1] = Rtype::OPT.0.to_be_bytes();
    let [c0, c1] = edns.udp_payload.to_be_bytes();
    let [l0, l1, l2, l3] = edns.ttl().to_be_bytes();
    w.bytes(&[0, t0, t1, c0, c1, l0, l1, l2, l3, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6891_6_1_3_ttl_layout() {
        let e = Edns::from_fields(Class(4096), 0x0100_8000);
        assert_eq!(
            e,
            Edns {
                udp_payload: 4096,
                ext_rcode: 1,
                version: 0,
                dnssec_ok: true
            }
        );
        assert_eq!(e.ttl(), 0x0100_8000);
        assert_eq!(Edns::from_fields(Class(100), 0).payload_limit(), 512);
    }

    #[test]
    fn writes_eleven_octets() {
        let mut buf = [0; OPT_LEN];
        let mut w = Writer::new(&mut buf);
        let e = Edns::from_fields(Class(1232), 0x0000_8000);
        write_opt(&mut w, &e).unwrap();
        assert_eq!(buf, [0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]);
        let mut small = [0; OPT_LEN - 1];
        assert_eq!(
            write_opt(&mut Writer::new(&mut small), &e),
            Err(WireError::Full)
        );
    }

    #[test]
    fn option_framing() {
        let ok = [0, 10, 0, 2, 1, 2, 0, 8, 0, 0];
        assert_eq!(check_options(Reader::new(&ok)), Ok(2));
        let bad = [0, 10, 0, 3, 1, 2];
        assert_eq!(
            check_options(Reader::new(&bad)),
            Err(WireError::BadRdata { rtype: 41 })
        );
        assert_eq!(
            check_options(Reader::new(&[0, 10, 0])),
            Err(WireError::BadRdata { rtype: 41 })
        );
    }
}
