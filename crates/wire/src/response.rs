//! Error responses written straight into a buffer.
//!
//! A response to a query copies the ID, the OPCODE, RD (RFC 1035 §4.1.1)
//! and CD (RFC 4035 §3.1.6), sets QR, echoes the question verbatim, and,
//! if the query had an OPT record, carries one too (RFC 6891 §7) with the
//! DO bit copied (RFC 3225 §3). An extended RCODE such as BADVERS puts its
//! upper eight bits in that OPT record (RFC 6891 §6.1.3).

use crate::edns::{write_opt, Edns, DEFAULT_UDP_PAYLOAD};
use crate::{Flags, Header, Query, Rcode, WireError, Writer, HEADER_LEN};

impl Query<'_> {
    /// The header of a response to this query: same ID and OPCODE, QR set,
    /// RD and CD copied, `rcode`'s low bits, QDCOUNT 1, other counts 0
    /// (ARCOUNT 1 if the query had EDNS).
    pub fn response_header(&self, rcode: Rcode) -> Header {
        let q = self.header.flags;
        Header {
            id: self.header.id,
            flags: Flags(0)
                .with_qr(true)
                .with_opcode(q.opcode())
                .with_rd(q.rd())
                .with_cd(q.cd())
                .with_rcode(rcode),
            qdcount: 1,
            ancount: 0,
            nscount: 0,
            arcount: u16::from(self.edns.is_some()),
        }
    }

    /// The OPT record for a response to this query, if it had one: version
    /// 0, our UDP payload size ([`DEFAULT_UDP_PAYLOAD`]), DO copied and
    /// the extended bits of `rcode`.
    pub fn response_edns(&self, rcode: Rcode) -> Option<Edns> {
        self.edns.map(|e| Edns {
            udp_payload: DEFAULT_UDP_PAYLOAD,
            ext_rcode: rcode.extended(),
            version: 0,
            dnssec_ok: e.dnssec_ok,
        })
    }
}

/// Writes a response with no records to `query` (REFUSED, NOTIMP, SERVFAIL,
/// NXDOMAIN without SOA, BADVERS ...) into `out` and returns its length:
/// header, the echoed question, and an OPT record if the query had one.
///
/// # Errors
///
/// [`WireError::ExtendedRcode`] if `rcode` needs an OPT record and the query
/// had none; [`WireError::Full`] if `out` is too small (at most
/// 12 + 259 + 11 = 282 octets are needed, so 512 always suffices).
pub fn write_error(
    query: &Query<'_>,
    rcode: Rcode,
    out: &mut [u8],
) -> Result<usize, WireError> {
    if rcode.is_extended() && query.edns.is_none() {
        return Err(WireError::ExtendedRcode);
    }
    let mut w = Writer::new(out);
    query.response_header(rcode).write(&mut w)?;
    w.bytes(query.question)?;
    if let Some(e) = query.response_edns(rcode) {
        write_opt(&mut w, &e)?;
    }
    Ok(w.len())
}

/// Writes a FORMERR response built from the header alone, for a packet
/// whose question could not be parsed: ID, OPCODE and RD copied, QR set,
/// RCODE FORMERR, all counts zero. Returns its length (12).
///
/// # Errors
///
/// [`WireError::Truncated`] if `packet` is shorter than a header;
/// [`WireError::Full`] if `out` is shorter than 12 octets.
pub fn write_formerr(packet: &[u8], out: &mut [u8]) -> Result<usize, WireError> {
    let head: &[u8; HEADER_LEN] = packet.first_chunk().ok_or(WireError::Truncated)?;
    let q = Header::from_bytes(head);
    let h = Header {
        id: q.id,
        flags: Flags(0)
            .with_qr(true)
            .with_opcode(q.flags.opcode())
            .with_rd(q.flags.rd())
            .with_cd(q.flags.cd())
            .with_rcode(Rcode::FORMERR),
        qdcount: 0,
        ancount: 0,
        nscount: 0,
        arcount: 0,
    };
    let mut w = Writer::new(out);
    h.write(&mut w)?;
    Ok(w.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_query, Message};

    const EDNS_QUERY: &[u8] = b"\xbe\xef\x01\x10\x00\x01\x00\x00\x00\x00\x00\x01\
\x01X\x00\x00\x21\x00\x01\
\x00\x00\x29\x05\x00\x00\x01\x80\x00\x00\x00";

    #[test]
    fn rfc6891_6_1_3_badvers_response() {
        let q = parse_query(EDNS_QUERY).unwrap();
        assert_eq!(q.edns.map(|e| e.version), Some(1));
        let mut out = [0u8; 512];
        let n = write_error(&q, Rcode::BADVERS, &mut out).unwrap();
        let m = Message::parse(out.get(..n).unwrap()).unwrap();
        assert_eq!(m.header.id, 0xbeef);
        assert!(m.header.flags.qr() && m.header.flags.rd() && m.header.flags.cd());
        assert_eq!(m.header.flags.rcode(), 0);
        assert_eq!(m.rcode(), Rcode::BADVERS);
        let e = m.edns().unwrap();
        assert_eq!(
            (e.version, e.dnssec_ok, e.udp_payload),
            (0, true, DEFAULT_UDP_PAYLOAD)
        );
        assert_eq!(out.get(12..19), EDNS_QUERY.get(12..19));
    }

    #[test]
    fn refused_without_edns_and_buffer_limits() {
        let p = EDNS_QUERY.get(..19).unwrap();
        let mut p = <[u8; 19]>::try_from(p).unwrap();
        p[11] = 0;
        let q = parse_query(&p).unwrap();
        let mut out = [0u8; 19];
        assert_eq!(write_error(&q, Rcode::REFUSED, &mut out), Ok(19));
        assert_eq!(out[3] & 0xf, 5);
        assert_eq!(
            write_error(&q, Rcode::BADVERS, &mut out),
            Err(WireError::ExtendedRcode)
        );
        let mut small = [0u8; 18];
        assert_eq!(
            write_error(&q, Rcode::REFUSED, &mut small),
            Err(WireError::Full)
        );
    }

    #[test]
    fn formerr_from_header_only() {
        let mut out = [0u8; 12];
        let packet = b"\x12\x34\x01\x00\x00\x05\x00\x00\x00\x00\x00\x00\xff";
        assert_eq!(write_formerr(packet, &mut out), Ok(12));
        assert_eq!(&out, b"\x12\x34\x81\x01\x00\x00\x00\x00\x00\x00\x00\x00");
        assert_eq!(
            write_formerr(&packet[..11], &mut out),
            Err(WireError::Truncated)
        );
    }
}
