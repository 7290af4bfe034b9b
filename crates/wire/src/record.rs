//! Resource records (RFC 1035 §3.2.1, §4.1.3) and their RDATA.
//!
//! ```text
//!                                 1  1  1  1  1  1
//!   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! /                      NAME                     /
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      TYPE                     |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                     CLASS                     |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      TTL                      |
//! |                                               |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                   RDLENGTH                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--|
//! /                     RDATA                     /
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//!
//! Typed RDATA: A (RFC 1035 §3.4.1, 4 octets), AAAA (RFC 3596 §2.2,
//! 16 octets), NS, CNAME, PTR (one name each, RFC 1035 §3.3), SOA
//! (RFC 1035 §3.3.13), SRV (RFC 2782), OPT (RFC 6891). Anything else is
//! kept as opaque octets. The SRV layout (RFC 2782, "The format of the SRV
//! RR"):
//!
//! ```text
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                   PRIORITY                    |
//! |                    WEIGHT                     |
//! |                     PORT                      |
//! /                    TARGET                     /   never compressed
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::{Class, Compressor, Name, Reader, Rtype, WireError, Writer};

/// A parsed resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The owner name.
    pub name: Name<'a>,
    /// TYPE.
    pub rtype: Rtype,
    /// CLASS (for OPT: the UDP payload size).
    pub class: Class,
    /// TTL in seconds (for OPT: extended RCODE and flags).
    pub ttl: u32,
    /// The decoded RDATA.
    pub rdata: Rdata<'a>,
}

/// SRV RDATA (RFC 2782). `N` is [`Name`] when parsed, `&[u8]` (uncompressed
/// wire form) when written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Srv<N> {
    /// Lower is preferred, 0..=65535.
    pub priority: u16,
    /// Relative weight among equal priorities, 0..=65535.
    pub weight: u16,
    /// The service's port, 0..=65535.
    pub port: u16,
    /// The host providing the service; never compressed on output.
    pub target: N,
}

/// SOA RDATA (RFC 1035 §3.3.13). `N` is [`Name`] when parsed, `&[u8]`
/// (uncompressed wire form) when written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Soa<N> {
    /// The primary name server.
    pub mname: N,
    /// The mailbox of the person responsible, as a name.
    pub rname: N,
    /// Zone version.
    pub serial: u32,
    /// Seconds between refreshes.
    pub refresh: u32,
    /// Seconds between retries.
    pub retry: u32,
    /// Seconds after which the zone expires.
    pub expire: u32,
    /// Negative-caching TTL in seconds (RFC 2308 §4).
    pub minimum: u32,
}

/// Decoded RDATA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rdata<'a> {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A name server.
    Ns(Name<'a>),
    /// A canonical name.
    Cname(Name<'a>),
    /// A pointer name.
    Ptr(Name<'a>),
    /// A zone's start of authority.
    Soa(Soa<Name<'a>>),
    /// A service location.
    Srv(Srv<Name<'a>>),
    /// EDNS options, framing checked (see [`crate::edns`]).
    Opt(&'a [u8]),
    /// RDATA of any other type, uninterpreted.
    Other(&'a [u8]),
}

impl<'a> Rdata<'a> {
    /// Decodes the RDATA of type `rtype` held by the sub-reader `rdata`
    /// (made with [`Reader::limit`]), which must be consumed exactly.
    ///
    /// # Errors
    ///
    /// [`WireError::BadRdata`] if the length does not fit the type or a name
    /// runs past the RDATA; name errors ([`WireError::BadPointer`],
    /// [`WireError::LabelType`], [`WireError::NameTooLong`]) as they are.
    pub fn parse(rtype: Rtype, mut rdata: Reader<'a>) -> Result<Self, WireError> {
        let bad = WireError::BadRdata { rtype: rtype.0 };
        let fix = |e: WireError| if e == WireError::Truncated { bad } else { e };
        let out = match rtype {
            Rtype::A => Self::A(Ipv4Addr::from(rdata.array::<4>().map_err(fix)?)),
            Rtype::AAAA => Self::Aaaa(Ipv6Addr::from(rdata.array::<16>().map_err(fix)?)),
            Rtype::NS => Self::Ns(Name::parse(&mut rdata).map_err(fix)?),
            Rtype::CNAME => Self::Cname(Name::parse(&mut rdata).map_err(fix)?),
            Rtype::PTR => Self::Ptr(Name::parse(&mut rdata).map_err(fix)?),
            Rtype::SOA => Self::Soa(Soa {
                mname: Name::parse(&mut rdata).map_err(fix)?,
                rname: Name::parse(&mut rdata).map_err(fix)?,
                serial: rdata.u32().map_err(fix)?,
                refresh: rdata.u32().map_err(fix)?,
                retry: rdata.u32().map_err(fix)?,
                expire: rdata.u32().map_err(fix)?,
                minimum: rdata.u32().map_err(fix)?,
            }),
            Rtype::SRV => Self::Srv(Srv {
                priority: rdata.u16().map_err(fix)?,
                weight: rdata.u16().map_err(fix)?,
                port: rdata.u16().map_err(fix)?,
                target: Name::parse(&mut rdata).map_err(fix)?,
            }),
            Rtype::OPT => {
                crate::edns::check_options(rdata)?;
                return Ok(Self::Opt(rdata.rest()));
            }
            _ => return Ok(Self::Other(rdata.rest())),
        };
        if rdata.remaining() != 0 {
            return Err(bad);
        }
        Ok(out)
    }
}

impl<'a> Record<'a> {
    /// Reads one record and decodes its RDATA.
    ///
    /// # Errors
    ///
    /// [`WireError::Truncated`] if the record or its RDLENGTH runs past the
    /// end; any error of [`Name::parse`] or [`Rdata::parse`].
    pub fn parse(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let name = Name::parse(r)?;
        let rtype = Rtype(r.u16()?);
        let class = Class(r.u16()?);
        let ttl = r.u32()?;
        let rdlength = r.u16()?;
        let rdata = Rdata::parse(rtype, r.limit(usize::from(rdlength))?)?;
        Ok(Self {
            name,
            rtype,
            class,
            ttl,
            rdata,
        })
    }
}

/// Skips one record without decoding it: owner name (pointers not
/// followed), fixed fields and RDATA. Returns its TYPE.
///
/// # Errors
///
/// [`WireError::Truncated`] or any error of [`crate::skip_name`].
pub fn skip_record(r: &mut Reader<'_>) -> Result<Rtype, WireError> {
    crate::skip_name(r)?;
    let rtype = Rtype(r.u16()?);
    r.skip(6)?;
    let rdlength = r.u16()?;
    r.skip(usize::from(rdlength))?;
    Ok(rtype)
}

/// Writes a record's owner (compressed), TYPE, CLASS and TTL, and reserves
/// the RDLENGTH: write the RDATA next, then finish with
/// [`Writer::fill_len`].
///
/// # Errors
///
/// See [`Compressor::write_name`].
pub fn write_record_header(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    rtype: Rtype,
    class: Class,
    ttl: u32,
) -> Result<crate::Slot, WireError> {
    c.write_name(w, owner)?;
    w.u16(rtype.0)?;
    w.u16(class.0)?;
    w.u32(ttl)?;
    w.reserve_u16()
}

/// Writes a record with opaque RDATA (class IN unless `class` says
/// otherwise).
///
/// # Errors
///
/// See [`write_record_header`]; [`WireError::Full`].
pub fn write_record(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    rtype: Rtype,
    class: Class,
    ttl: u32,
    rdata: &[u8],
) -> Result<(), WireError> {
    let slot = write_record_header(w, c, owner, rtype, class, ttl)?;
    w.bytes(rdata)?;
    w.fill_len(slot)
}

/// Writes an `IN A` record.
///
/// # Errors
///
/// [`WireError::Full`], or an invalid `owner` (see [`Compressor::write_name`]).
pub fn write_a(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    addr: Ipv4Addr,
) -> Result<(), WireError> {
    write_record(w, c, owner, Rtype::A, Class::IN, ttl, &addr.octets())
}

/// Writes an `IN AAAA` record.
///
/// # Errors
///
/// [`WireError::Full`], or an invalid `owner`.
pub fn write_aaaa(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    addr: Ipv6Addr,
) -> Result<(), WireError> {
    write_record(w, c, owner, Rtype::AAAA, Class::IN, ttl, &addr.octets())
}

fn write_name_record(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    rtype: Rtype,
    ttl: u32,
    target: &[u8],
) -> Result<(), WireError> {
    let slot = write_record_header(w, c, owner, rtype, Class::IN, ttl)?;
    c.write_name(w, target)?;
    w.fill_len(slot)
}

/// Writes an `IN NS` record; `nsdname` may be compressed (RFC 3597 §4
/// allows it for the RFC 1035 types).
///
/// # Errors
///
/// [`WireError::Full`], or an invalid name.
pub fn write_ns(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    nsdname: &[u8],
) -> Result<(), WireError> {
    write_name_record(w, c, owner, Rtype::NS, ttl, nsdname)
}

/// Writes an `IN PTR` record; `ptrdname` may be compressed.
///
/// # Errors
///
/// [`WireError::Full`], or an invalid name.
pub fn write_ptr(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    ptrdname: &[u8],
) -> Result<(), WireError> {
    write_name_record(w, c, owner, Rtype::PTR, ttl, ptrdname)
}

/// Writes an `IN CNAME` record; `cname` may be compressed.
///
/// # Errors
///
/// [`WireError::Full`], or an invalid name.
pub fn write_cname(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    cname: &[u8],
) -> Result<(), WireError> {
    write_name_record(w, c, owner, Rtype::CNAME, ttl, cname)
}

/// Writes an `IN SOA` record; `mname` and `rname` may be compressed.
///
/// # Errors
///
/// [`WireError::Full`], or an invalid name.
pub fn write_soa(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    soa: &Soa<&[u8]>,
) -> Result<(), WireError> {
    let slot = write_record_header(w, c, owner, Rtype::SOA, Class::IN, ttl)?;
    c.write_name(w, soa.mname)?;
    c.write_name(w, soa.rname)?;
    for v in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
        w.u32(v)?;
    }
    w.fill_len(slot)
}

/// Writes an `IN SRV` record. The target is written without compression:
/// RFC 2782 says so, and Go's resolver rejects compressed SRV targets.
///
/// # Errors
///
/// [`WireError::Full`], or an invalid name.
pub fn write_srv(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    ttl: u32,
    srv: &Srv<&[u8]>,
) -> Result<(), WireError> {
    crate::name::check_wire(srv.target)?;
    let slot = write_record_header(w, c, owner, Rtype::SRV, Class::IN, ttl)?;
    w.u16(srv.priority)?;
    w.u16(srv.weight)?;
    w.u16(srv.port)?;
    w.bytes(srv.target)?;
    w.fill_len(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Writer<'_>, &mut Compressor)) -> ([u8; 128], usize) {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        let mut c = Compressor::new();
        f(&mut w, &mut c);
        let n = w.len();
        (buf, n)
    }

    fn parse_one(msg: &[u8], at: usize) -> Record<'_> {
        let mut r = Reader::at(msg, at).unwrap();
        let rec = Record::parse(&mut r).unwrap();
        assert_eq!(r.remaining(), 0);
        rec
    }

    #[test]
    fn a_record_round_trip() {
        let (buf, n) = written(|w, c| {
            write_a(w, c, b"\x01a\x00", 60, Ipv4Addr::new(10, 0, 0, 1)).unwrap()
        });
        let msg = buf.get(..n).unwrap();
        assert_eq!(
            msg,
            b"\x01a\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01"
        );
        let rec = parse_one(msg, 0);
        assert_eq!(rec.rdata, Rdata::A(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(rec.ttl, 60);
    }

    #[test]
    fn srv_target_is_not_compressed() {
        let (buf, n) = written(|w, c| {
            c.write_name(w, b"\x01t\x00").unwrap();
            let srv = Srv {
                priority: 1,
                weight: 2,
                port: 3,
                target: &b"\x01t\x00"[..],
            };
            write_srv(w, c, b"\x01t\x00", 5, &srv).unwrap();
        });
        let msg = buf.get(..n).unwrap();
        // Owner compressed to offset 0, target written out in full.
        assert_eq!(
            msg.get(3..).unwrap(),
            b"\xc0\x00\x00\x21\x00\x01\x00\x00\x00\x05\x00\x09\x00\x01\x00\x02\x00\x03\x01t\x00"
        );
        let rec = parse_one(msg, 3);
        let Rdata::Srv(s) = rec.rdata else {
            panic!("not SRV")
        };
        assert_eq!((s.priority, s.weight, s.port), (1, 2, 3));
        assert!(s.target.eq_wire(b"\x01t\x00"));
    }

    #[test]
    fn soa_round_trip() {
        let (buf, n) = written(|w, c| {
            let soa = Soa {
                mname: &b"\x02ns\x01z\x00"[..],
                rname: &b"\x04root\x01z\x00"[..],
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 5,
            };
            write_soa(w, c, b"\x01z\x00", 9, &soa).unwrap();
        });
        let rec = parse_one(buf.get(..n).unwrap(), 0);
        let Rdata::Soa(s) = rec.rdata else {
            panic!("not SOA")
        };
        assert!(
            s.mname.eq_wire(b"\x02ns\x01z\x00") && s.rname.eq_wire(b"\x04root\x01z\x00")
        );
        assert_eq!(
            [s.serial, s.refresh, s.retry, s.expire, s.minimum],
            [1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn wrong_rdlength_for_a_is_bad_rdata() {
        let msg = b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x03\x01\x02\x03";
        let mut r = Reader::new(msg);
        assert_eq!(Record::parse(&mut r), Err(WireError::BadRdata { rtype: 1 }));
        let msg = b"\x00\x00\x02\x00\x01\x00\x00\x00\x00\x00\x04\x01a\x00\x00";
        assert_eq!(
            Record::parse(&mut Reader::new(msg)),
            Err(WireError::BadRdata { rtype: 2 })
        );
    }

    #[test]
    fn writers_report_full() {
        for size in 0..27 {
            let mut buf = [0u8; 32];
            let mut w = Writer::new(buf.get_mut(..size).unwrap());
            let r = write_aaaa(
                &mut w,
                &mut Compressor::new(),
                b"\x00",
                1,
                Ipv6Addr::LOCALHOST,
            );
            assert_eq!(r, Err(WireError::Full), "size {size}");
        }
    }
}
