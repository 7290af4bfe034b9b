//! Eager validation of an incoming query.
//!
//! [`parse_query`] checks everything a server needs before it answers
//! (RFC 1035 §4.1, RFC 6891 §6.1.1) and returns a [`Query`] whose fields
//! can be used without further error handling:
//!
//! - the header, and QDCOUNT == 1 (RFC 9619);
//! - the question name, which may not use compression: it is the first
//!   name in the message, with nothing before it to point to;
//! - QTYPE and QCLASS;
//! - the answer and authority sections (normally empty), skipped record by
//!   record;
//! - the additional section, to find at most one OPT record, whose owner
//!   must be the root and whose options must be well framed;
//! - nothing after the last record.
//!
//! [`write_query`] is the other side, a client's query, for the tests,
//! benches and fuzz targets that ask the server.

use crate::edns::{check_options, write_opt, Edns, MIN_UDP_PAYLOAD};
use crate::name::from_dotted;
use crate::record::skip_record;
use crate::{
    skip_name, Class, Flags, Header, Name, Reader, Rtype, WireError, Writer, HEADER_LEN,
    MAX_NAME_LEN,
};

/// A validated query.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The header as received (QDCOUNT is 1).
    pub header: Header,
    /// The question name, uncompressed, in the client's letter case.
    pub qname: Name<'a>,
    /// The question type.
    pub qtype: Rtype,
    /// The question class.
    pub qclass: Class,
    /// The raw question (QNAME, QTYPE, QCLASS) as received, to echo back
    /// verbatim so the client's 0x20 case randomisation survives.
    pub question: &'a [u8],
    /// The OPT record, if the query had one.
    pub edns: Option<Edns>,
}

impl Query<'_> {
    /// Largest UDP response the client accepts: 512 without EDNS (RFC 1035
    /// §2.3.4), else its advertised payload size but at least 512.
    pub fn udp_limit(&self) -> usize {
        self.edns
            .map_or(usize::from(MIN_UDP_PAYLOAD), |e| e.payload_limit())
    }
}

/// Parses and validates a query; see the module documentation for what is
/// checked. Whether it *is* a query (QR clear, OPCODE QUERY) is left to the
/// caller, which answers those cases differently.
///
/// # Errors
///
/// - [`WireError::Truncated`]: shorter than its header or sections say;
/// - [`WireError::QdCount`]: QDCOUNT other than 1;
/// - [`WireError::BadPointer`]: any pointer in the question name;
/// - [`WireError::LabelType`], [`WireError::NameTooLong`]: bad names;
/// - [`WireError::DuplicateOpt`], [`WireError::BadOpt`],
///   [`WireError::BadRdata`]: bad EDNS;
/// - [`WireError::TrailingData`]: octets after the last record.
pub fn parse_query(packet: &[u8]) -> Result<Query<'_>, WireError> {
    let mut r = Reader::new(packet);
    let header = Header::parse(&mut r)?;
    if header.qdcount != 1 {
        return Err(WireError::QdCount(header.qdcount));
    }
    let qname = Name::parse(&mut r)?;
    let name_end = r.pos();
    if name_end.saturating_sub(HEADER_LEN) != qname.wire_len() {
        // RFC 1035 §4.1.4: a pointer refers to a *prior* occurrence of a
        // name; the question name is the first, so it cannot be compressed.
        let at = name_end.saturating_sub(2);
        let to = Reader::at(packet, at).and_then(|mut p| p.u16())? & 0x3fff;
        return Err(WireError::BadPointer {
            at: u16::try_from(at).unwrap_or(u16::MAX),
            to,
        });
    }
    let qtype = Rtype(r.u16()?);
    let qclass = Class(r.u16()?);
    let question = packet.get(HEADER_LEN..r.pos()).unwrap_or_default();

    for _ in 0..u32::from(header.ancount).saturating_add(u32::from(header.nscount)) {
        skip_record(&mut r)?;
    }
    let mut edns = None;
    for _ in 0..header.arcount {
        let owner = r.pos();
        skip_name(&mut r)?;
        let root = r.pos() == owner.saturating_add(1);
        let rtype = Rtype(r.u16()?);
        let class = Class(r.u16()?);
        let ttl = r.u32()?;
        let rdlength = r.u16()?;
        let rdata = r.limit(usize::from(rdlength))?;
        if rtype == Rtype::OPT {
            // RFC 6891 §6.1.1: at most one OPT, owned by the root.
            if edns.is_some() {
                return Err(WireError::DuplicateOpt);
            }
            if !root || packet.get(owner) != Some(&0) {
                return Err(WireError::BadOpt);
            }
            check_options(rdata)?;
            edns = Some(Edns::from_fields(class, ttl));
        }
    }
    if r.remaining() != 0 {
        return Err(WireError::TrailingData);
    }
    Ok(Query {
        header,
        qname,
        qtype,
        qclass,
        question,
        edns,
    })
}

/// Writes a standard query into `out` and returns its length: `id`, RD
/// set, one IN question for `name` (dotted text, read as
/// [`from_dotted`] reads it), and an OPT record when `edns` is given.
///
/// # Errors
///
/// The errors of [`from_dotted`] for a name the wire cannot carry;
/// [`WireError::Full`] if the query does not fit in `out`.
pub fn write_query(
    out: &mut [u8],
    id: u16,
    name: &str,
    qtype: Rtype,
    edns: Option<&Edns>,
) -> Result<usize, WireError> {
    let mut qname = [0u8; MAX_NAME_LEN];
    let qname = from_dotted(name, &mut qname)?;
    let mut w = Writer::new(out);
    Header {
        id,
        flags: Flags::default().with_rd(true),
        qdcount: 1,
        arcount: u16::from(edns.is_some()),
        ..Header::default()
    }
    .write(&mut w)?;
    w.bytes(qname)?;
    w.u16(qtype.0)?;
    w.u16(Class::IN.0)?;
    if let Some(edns) = edns {
        write_opt(&mut w, edns)?;
    }
    Ok(w.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
\x03Web\x08marathon\x05mesos\x00\x00\x01\x00\x01";

    #[test]
    fn parses_plain_query() {
        let q = parse_query(PLAIN).unwrap();
        assert_eq!(q.header.id, 0x1234);
        assert!(q.header.flags.rd());
        assert_eq!((q.qtype, q.qclass), (Rtype::A, Class::IN));
        assert_eq!(q.question, PLAIN.get(12..).unwrap());
        assert!(q.qname.eq_wire(b"\x03web\x08marathon\x05mesos\x00"));
        assert_eq!(q.edns, None);
        assert_eq!(q.udp_limit(), 512);
    }

    #[test]
    fn parses_edns() {
        let mut p = [0u8; 64];
        let base = PLAIN.len();
        p.get_mut(..base).unwrap().copy_from_slice(PLAIN);
        p[11] = 1;
        let opt = b"\x00\x00\x29\x10\x00\x00\x00\x80\x00\x00\x04\x00\x0a\x00\x00";
        p.get_mut(base..base + opt.len())
            .unwrap()
            .copy_from_slice(opt);
        let q = parse_query(p.get(..base + opt.len()).unwrap()).unwrap();
        let e = q.edns.unwrap();
        assert_eq!(
            (e.udp_payload, e.version, e.dnssec_ok, e.ext_rcode),
            (4096, 0, true, 0)
        );
        assert_eq!(q.udp_limit(), 4096);
    }

    #[test]
    fn writes_what_it_parses() {
        let mut out = [0u8; 64];
        let n =
            write_query(&mut out, 0x1234, "Web.marathon.mesos.", Rtype::A, None).unwrap();
        assert_eq!(out.get(..n), Some(PLAIN));
        let edns = Edns {
            udp_payload: 4096,
            ext_rcode: 0,
            version: 0,
            dnssec_ok: true,
        };
        let n = write_query(&mut out, 7, "web.mesos", Rtype::SRV, Some(&edns)).unwrap();
        let q = parse_query(out.get(..n).unwrap()).unwrap();
        assert_eq!((q.header.id, q.qtype, q.edns), (7, Rtype::SRV, Some(edns)));
        assert!(q.qname.eq_wire(b"\x03web\x05mesos\x00"));
        assert_eq!(
            write_query(&mut out, 0, "a..b", Rtype::A, None),
            Err(WireError::EmptyLabel)
        );
        assert_eq!(
            write_query(&mut [0u8; 20], 0, "web.mesos", Rtype::A, None),
            Err(WireError::Full)
        );
    }

    #[test]
    fn rejects_compressed_question() {
        let p = b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\xc0\x02\x00\x01\x00\x01";
        assert_eq!(
            parse_query(p).map(|_| ()),
            Err(WireError::BadPointer { at: 14, to: 2 })
        );
    }
}
