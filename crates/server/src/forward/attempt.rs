//! One attempt at one upstream: its socket (a fresh UDP port or a TCP
//! connection), sending the query, reading the reply, and whether the reply
//! answers the query.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use dns_wire::{parse_query, Header, HEADER_LEN};
use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Poll, Token};

use crate::answer::Transport;

/// The socket of one attempt.
pub(super) enum Upstream {
    Udp(UdpSocket),
    Tcp {
        stream: TcpStream,
        /// Framed query still to write.
        out: Vec<u8>,
        written: usize,
        /// Framed reply read so far.
        inbuf: Vec<u8>,
    },
}
/// Opens the attempt's socket and sends (UDP) or queues (TCP) the query.
pub(super) fn connect(
    poll: &Poll,
    token: Token,
    addr: SocketAddr,
    transport: Transport,
    query: &[u8],
) -> io::Result<Upstream> {
    match transport {
        Transport::Udp => {
            let mut sock = crate::socket::upstream_udp(addr)?;
            sock.send(query)?;
            poll.registry()
                .register(&mut sock, token, Interest::READABLE)?;
            Ok(Upstream::Udp(sock))
        }
        Transport::Tcp => {
            let mut stream = TcpStream::connect(addr)?;
            poll.registry().register(
                &mut stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )?;
            let len =
                u16::try_from(query.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
            let mut out = Vec::with_capacity(query.len() + 2);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(query);
            Ok(Upstream::Tcp {
                stream,
                out,
                written: 0,
                inbuf: Vec::new(),
            })
        }
    }
}

pub(super) enum Step {
    Wait,
    /// A matching reply of this length is ready.
    Reply(usize),
    Failed,
}

/// Whether `reply` answers `query`: same ID, QR set, same question.
pub fn matches(query: &[u8], reply: &[u8]) -> bool {
    let (Some(qh), Some(rh)) = (query.first_chunk::<12>(), reply.first_chunk::<12>())
    else {
        return false;
    };
    let (q, r) = (Header::from_bytes(qh), Header::from_bytes(rh));
    if q.id != r.id || !r.flags.qr() {
        return false;
    }
    let Ok(parsed) = parse_query(query) else {
        return false;
    };
    // The name may come back in any case (0x20); its type and class (the
    // last four octets) must be the same octets: case folding them would
    // take a reply for type 97 as one for type 65.
    let (name, type_class) = parsed
        .question
        .split_at(parsed.question.len().saturating_sub(4));
    // A reply without a question (FORMERR, some SERVFAILs) is accepted too.
    r.qdcount == 0
        || reply
            .get(HEADER_LEN..HEADER_LEN + parsed.question.len())
            .is_some_and(|b| {
                let (n, tc) = b.split_at(name.len());
                n.eq_ignore_ascii_case(name) && tc == type_class
            })
}

pub(super) fn read_udp(sock: &UdpSocket, query: &[u8], buf: &mut [u8]) -> Step {
    loop {
        match sock.recv(buf) {
            Ok(n) => {
                if matches(query, buf.get(..n).unwrap_or_default()) {
                    return Step::Reply(n);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // ICMP port unreachable and friends: this upstream failed.
            Err(_) => return Step::Failed,
        }
    }
}

pub(super) fn drive_tcp(
    stream: &mut TcpStream,
    out: &[u8],
    written: &mut usize,
    inbuf: &mut Vec<u8>,
    query: &[u8],
) -> Step {
    if let Ok(Some(_)) | Err(_) = stream.take_error() {
        return Step::Failed;
    }
    while *written < out.len() {
        match stream.write(out.get(*written..).unwrap_or_default()) {
            Ok(0) => return Step::Failed,
            Ok(n) => *written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Step::Wait,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Failed,
        }
    }
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Step::Failed,
            Ok(n) => inbuf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Failed,
        }
        if let Some(len) = framed_len(inbuf) {
            if inbuf.len() >= 2 + len {
                break;
            }
        }
    }
    match framed_len(inbuf) {
        Some(len) if inbuf.len() >= 2 + len => {
            if matches(query, inbuf.get(2..2 + len).unwrap_or_default()) {
                Step::Reply(len)
            } else {
                Step::Failed
            }
        }
        _ => Step::Wait,
    }
}

fn framed_len(buf: &[u8]) -> Option<usize> {
    buf.first_chunk::<2>()
        .map(|b| usize::from(u16::from_be_bytes(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_matching_requires_id_qr_and_question() {
        let q =
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01";
        let mut r = q.to_vec();
        r[2] |= 0x80;
        assert!(matches(q, &r));
        let mut upper = r.clone();
        upper[13] = b'A';
        assert!(matches(q, &upper), "0x20 case from upstream");
        let mut other_id = r.clone();
        other_id[1] = 0x35;
        assert!(!matches(q, &other_id));
        assert!(!matches(q, q), "QR clear");
        let mut other_name = r.clone();
        other_name[13] = b'b';
        assert!(!matches(q, &other_name));
    }

    #[test]
    fn reply_matching_compares_type_and_class_exactly() {
        // Found by the forward_match fuzz target: type 65 (HTTPS) and 97
        // differ only in an ASCII letter's case bit.
        let q =
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x41\x00\x01";
        let mut r = q.to_vec();
        r[2] |= 0x80;
        assert!(matches(q, &r));
        let mut other_type = r.clone();
        other_type[16] = 0x61;
        assert!(!matches(q, &other_type));
    }
}
