//! A secondary's side of the exchanges with a primary: the SOA serial over
//! UDP, and an IXFR or AXFR over TCP read up to its closing SOA (RFC 1995
//! section 4, RFC 5936 section 2.2), each record as [`Rr`].
//!
//! Kept: the apex SOA, and A, AAAA, SRV, TXT and CNAME records, the types
//! the table serves; others (the apex NS, and anything else a primary that
//! is not mesos-dns may hold) are left out.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use dns_wire::{write_query, Class, Message, Name, Rcode, Rdata, Rtype};

use crate::statics::Data;

/// How long one exchange with a primary may take (each read).
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The SOA values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Soa {
    pub(super) mname: String,
    pub(super) rname: String,
    pub(super) serial: u32,
    pub(super) refresh: u32,
    pub(super) retry: u32,
    pub(super) expire: u32,
    pub(super) minimum: u32,
    pub(super) ttl: u32,
}

/// One record of a transfer: the apex SOA, or an owner (as sent), its
/// data and TTL.
#[derive(Debug)]
pub(super) enum Rr {
    Soa(Soa),
    Rec(String, Data, u32),
}

/// Why a refresh failed.
#[derive(Debug)]
pub(crate) enum FollowError {
    /// No primary answered.
    Io(io::Error),
    /// A reply that is not a usable transfer.
    Bad(String),
}

impl std::fmt::Display for FollowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FollowError::Io(e) => write!(f, "{e}"),
            FollowError::Bad(m) => f.write_str(m),
        }
    }
}

impl From<io::Error> for FollowError {
    fn from(e: io::Error) -> Self {
        FollowError::Io(e)
    }
}

pub(super) fn bad(m: impl Into<String>) -> FollowError {
    FollowError::Bad(m.into())
}

/// The primary's SOA serial, asked over UDP.
pub(super) fn soa_serial(
    primary: SocketAddr,
    apex_text: &str,
) -> Result<u32, FollowError> {
    let bind = if primary.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(bind)?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut q = [0u8; 512];
    let id = fastrand::u16(..);
    let n = write_query(&mut q, id, apex_text, Rtype::SOA, None)
        .map_err(|e| bad(e.to_string()))?;
    sock.send_to(q.get(..n).unwrap_or_default(), primary)?;
    let mut buf = [0u8; 4096];
    for _ in 0..4 {
        let (len, from) = sock.recv_from(&mut buf)?;
        let Ok(m) = Message::parse(buf.get(..len).unwrap_or_default()) else {
            continue;
        };
        if from != primary || m.header.id != id {
            continue;
        }
        if m.rcode() != Rcode::NOERROR {
            return Err(bad(format!("SOA query answered {:?}", m.rcode())));
        }
        let soa = m.answers().find_map(|r| match r.rdata {
            Rdata::Soa(s) => Some(s.serial),
            _ => None,
        });
        return soa.ok_or_else(|| bad("no SOA in the answer"));
    }
    Err(bad("no answer to the SOA query"))
}

/// Asks for an IXFR from `have` (AXFR without one) and reads the reply's
/// records, in order, up to the closing SOA.
pub(super) fn transfer(
    primary: SocketAddr,
    apex_text: &str,
    apex: &[u8],
    have: Option<u32>,
) -> Result<Vec<Rr>, FollowError> {
    let mut s = TcpStream::connect_timeout(&primary, IO_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut q = vec![0u8; 512];
    let id = fastrand::u16(..);
    let qtype = if have.is_some() {
        Rtype::IXFR
    } else {
        Rtype::AXFR
    };
    let n = write_query(&mut q, id, apex_text, qtype, None)
        .map_err(|e| bad(e.to_string()))?;
    q.truncate(n);
    if let Some(serial) = have {
        // The client's SOA in the authority section (RFC 1995 section 3).
        if let Some(c) = q.get_mut(9) {
            *c = 1;
        }
        q.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0]);
        q.extend_from_slice(&serial.to_be_bytes());
        q.extend_from_slice(&[0; 16]);
    }
    let len = u16::try_from(q.len()).unwrap_or(0).to_be_bytes();
    s.write_all(&len)?;
    s.write_all(&q)?;
    let mut out = Vec::new();
    let mut first: Option<u32> = None;
    let mut soas = 0usize;
    let mut incremental = None;
    loop {
        let mut l = [0u8; 2];
        s.read_exact(&mut l)?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(l))];
        s.read_exact(&mut msg)?;
        let m = Message::parse(&msg)
            .map_err(|e| bad(format!("bad transfer message: {e}")))?;
        if m.header.id != id {
            return Err(bad("transfer reply with another ID"));
        }
        if m.rcode() != Rcode::NOERROR {
            return Err(bad(format!("transfer answered {:?}", m.rcode())));
        }
        let count = m.header.ancount;
        for r in m.answers() {
            if r.class != Class::IN {
                continue;
            }
            let rr = match r.rdata {
                Rdata::Soa(x) => {
                    if !r.name.eq_wire(apex) {
                        continue;
                    }
                    Rr::Soa(Soa {
                        mname: text(&x.mname),
                        rname: text(&x.rname),
                        serial: x.serial,
                        refresh: x.refresh,
                        retry: x.retry,
                        expire: x.expire,
                        minimum: x.minimum,
                        ttl: r.ttl,
                    })
                }
                Rdata::A(ip) => Rr::Rec(text(&r.name), Data::A(ip), r.ttl),
                Rdata::Aaaa(ip) => Rr::Rec(text(&r.name), Data::Aaaa(ip), r.ttl),
                Rdata::Srv(x) => Rr::Rec(
                    text(&r.name),
                    Data::Srv(x.priority, x.weight, x.port, text(&x.target)),
                    r.ttl,
                ),
                Rdata::Cname(n) => Rr::Rec(text(&r.name), Data::Cname(text(&n)), r.ttl),
                Rdata::Other(d) if r.rtype == Rtype::TXT => match strings(d) {
                    Some(s) => Rr::Rec(text(&r.name), Data::Txt(s), r.ttl),
                    None => continue,
                },
                _ => continue,
            };
            if let Rr::Soa(x) = &rr {
                soas += 1;
                match first {
                    None => first = Some(x.serial),
                    Some(_) if out.len() == 1 => incremental = Some(true),
                    Some(_) => {}
                }
            } else if out.len() == 1 {
                incremental = Some(false);
            }
            out.push(rr);
        }
        let Some(last) = first else {
            return Err(bad("transfer without a first SOA"));
        };
        // The single current SOA: nothing new (a primary behind us).
        if out.len() == 1 && count == 1 && have.is_some() {
            return Ok(out);
        }
        let closed = match (incremental, out.last()) {
            (Some(false), Some(Rr::Soa(x))) => x.serial == last && soas >= 2,
            // SOA new, (SOA old, removed, SOA new', added)+, SOA new: the
            // last difference opens with SOA new, and one more closes.
            (Some(true), Some(Rr::Soa(x))) => {
                x.serial == last && soas >= 4 && soas % 2 == 0
            }
            _ => false,
        };
        if closed {
            return Ok(out);
        }
    }
}

/// A name as absolute text with a trailing dot (`a.b.` ; `.` for the
/// root), octets outside printable ASCII kept as they are.
pub(super) fn text(n: &Name<'_>) -> String {
    let mut s = String::new();
    for l in n.labels() {
        s.push_str(&String::from_utf8_lossy(l));
        s.push('.');
    }
    if s.is_empty() {
        s.push('.');
    }
    s
}

/// TXT RDATA's character strings (RFC 1035 section 3.3.14); `None` if a
/// length runs past the end.
fn strings(mut d: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = d.split_first() {
        let (s, rest) = rest.split_at_checked(usize::from(len))?;
        out.push(s.to_vec());
        d = rest;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_3_3_14_txt_strings_are_read_and_a_short_one_is_refused() {
        assert_eq!(strings(b""), Some(vec![]));
        assert_eq!(
            strings(b"\x03abc\x00\x01z"),
            Some(vec![b"abc".to_vec(), vec![], b"z".to_vec()])
        );
        assert_eq!(strings(b"\x04abc"), None);
    }
}
