//! DNS over TCP (RFC 1035 §4.2.2, RFC 7766): two-octet length framing,
//! several queries per connection, answered as they arrive (forwarded ones
//! may come back out of order, RFC 7766 §7).
//!
//! Limits: an idle timeout, a cap on queries per connection, and caps on
//! open connections per client and in total, shared by every worker (a
//! client is an IPv4 address or an IPv6 /64, see [`crate::client`]). A
//! connection over a cap is closed at once.
//!
//! The idle timeout counts from the last complete query or the last
//! answer octets taken by the client, never from a partial read: a message
//! trickled one octet at a time must be complete within the timeout of its
//! first octet, or the connection closes.
//!
//! A client that does not read its answers stops being read: received
//! queries are answered only while less than 16 KiB of answers wait for
//! the client and fewer than 16 of its forwarded queries are in flight,
//! and the socket is read only then. So a connection holds at
//! most 16 KiB plus one answer of output and one message of input,
//! whatever it sends; the rest waits in the kernel's socket buffers, and
//! the client's own window stops it.
//!
//! A zone transfer ([`crate::xfr`]) is a stream the connection holds: its
//! next message is written only once the previous output is taken, at
//! most `STREAM_BUDGET` messages per turn before the worker serves its
//! other sockets, and the connection's later queries wait until it ends.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Poll, Token};

use crate::client;
use crate::stats::WorkerStats;
use crate::xfr::{Next, Outgoing};

/// Tokens of connections start here (below the forwarder's).
pub(crate) const FIRST_TOKEN: usize = 16;

/// Largest framed message: two length octets and 65535 octets.
const MAX_FRAME: usize = 2 + 65_535;

/// Output waiting for the client (beyond what the kernel's socket buffer
/// took) from which the connection's queries stop being answered and read.
/// With one more answer (at most [`MAX_FRAME`]) and one message of input,
/// a connection holds well under 256 KiB; usually much less, since most
/// answers are small.
pub(crate) const MAX_QUEUED: usize = 16 * 1024;

/// Forwarded queries of one connection in flight from which its queries
/// stop being answered and read: each forward's reply is queued whatever
/// its size (up to [`MAX_FRAME`]), so this bounds that output too.
pub(crate) const MAX_WAITING: usize = 16;

/// Messages of a zone transfer written in one turn before the worker goes
/// on with its other sockets (and comes back to the transfer).
pub(crate) const STREAM_BUDGET: usize = 16;

/// Connection caps shared by every worker.
#[derive(Debug, Default)]
pub struct TcpLimits {
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    max_total: usize,
    max_per_client: usize,
}

impl TcpLimits {
    /// Caps of `max_total` connections, `max_per_client` per address.
    pub fn new(max_total: usize, max_per_client: usize) -> Self {
        TcpLimits {
            max_total,
            max_per_client,
            ..Default::default()
        }
    }

    /// Takes a slot for a client at `ip`, or returns false when a cap is
    /// reached. The per-client count is kept per [`client::key`] (an IPv6
    /// /64 is one client).
    fn acquire(&self, ip: IpAddr) -> bool {
        let ip = client::key(ip);
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        let mut map = match self.per_client.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let n = map.entry(ip).or_default();
        if *n >= self.max_per_client {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, ip: IpAddr) {
        let ip = client::key(ip);
        self.total.fetch_sub(1, Ordering::AcqRel);
        let mut map = match self.per_client.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if let Some(n) = map.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&ip);
            }
        }
    }

    /// Connections open now, all workers together.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// One client connection.
pub(crate) struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    generation: u64,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    last_active: Instant,
    queries: usize,
    /// Forwarded queries whose answers are still to come.
    pub(crate) waiting: usize,
    /// No more queries are read (cap reached or the client closed).
    draining: bool,
    writable_interest: bool,
    /// A zone transfer in progress.
    transfer: Option<Box<Outgoing>>,
}

impl Conn {
    /// The connection's generation (token reuse guard).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The client's address.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Queues one framed response.
    pub(crate) fn queue(&mut self, msg: &[u8]) {
        if let Ok(len) = u16::try_from(msg.len()) {
            self.outbuf.extend_from_slice(&len.to_be_bytes());
            self.outbuf.extend_from_slice(msg);
        }
    }

    /// Starts a zone transfer: its messages are written as the client
    /// takes them, before any later query is answered.
    pub(crate) fn start_transfer(&mut self, t: Box<Outgoing>) {
        self.transfer = Some(t);
    }

    /// Whether more answers may be queued: earlier ones are (mostly) sent,
    /// few forwards are still to come back, no transfer is under way.
    fn has_room(&self) -> bool {
        self.outbuf.len() < MAX_QUEUED
            && self.waiting < MAX_WAITING
            && self.transfer.is_none()
    }
}

/// The TCP connections of one worker.
pub(crate) struct Conns {
    conns: HashMap<Token, Conn>,
    next_token: usize,
    next_generation: u64,
    idle: Duration,
    max_queries: usize,
    /// Connections whose transfer stopped at its budget, or ended with
    /// queries behind it: the worker comes back to them.
    pending: Vec<Token>,
    /// Connections whose transfer waits for its record set to be built:
    /// the worker comes back to them after [`WAIT_TICK`].
    later: Vec<Token>,
}

/// How soon a transfer waiting for its record set is looked at again.
pub(crate) const WAIT_TICK: Duration = Duration::from_millis(10);

impl Conns {
    pub(crate) fn new(idle: Duration, max_queries: usize) -> Self {
        Conns {
            conns: HashMap::new(),
            next_token: FIRST_TOKEN,
            next_generation: 0,
            idle,
            max_queries: max_queries.max(1),
            pending: Vec::new(),
            later: Vec::new(),
        }
    }

    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut Conn> {
        self.conns.get_mut(&token)
    }

    /// Accepts every pending connection of `listener`.
    pub(crate) fn accept(
        &mut self,
        poll: &Poll,
        listener: &TcpListener,
        limits: &TcpLimits,
        stats: &WorkerStats,
    ) {
        loop {
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    if !limits.acquire(peer.ip()) {
                        stats.tcp_connection(false);
                        drop(stream);
                        continue;
                    }
                    let token = self.free_token();
                    if poll
                        .registry()
                        .register(&mut stream, token, Interest::READABLE)
                        .is_err()
                    {
                        limits.release(peer.ip());
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    stats.tcp_connection(true);
                    self.next_generation += 1;
                    self.conns.insert(
                        token,
                        Conn {
                            stream,
                            peer,
                            generation: self.next_generation,
                            inbuf: Vec::new(),
                            outbuf: Vec::new(),
                            last_active: Instant::now(),
                            queries: 0,
                            waiting: 0,
                            draining: false,
                            writable_interest: false,
                            transfer: None,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE, ECONNABORTED...: log rarely, never exit.
                    log::debug!("DNS TCP accept: {e}");
                    break;
                }
            }
        }
    }

    fn free_token(&mut self) -> Token {
        loop {
            let t = Token(self.next_token);
            self.next_token += 1;
            if self.next_token >= crate::forward::FIRST_TOKEN {
                self.next_token = FIRST_TOKEN;
            }
            if !self.conns.contains_key(&t) {
                return t;
            }
        }
    }

    /// Handles readiness on a connection: reads, hands every complete
    /// query to `handle` (which queues the answer or starts a forward),
    /// writes queued output, and closes the connection when it is done.
    pub(crate) fn on_event(
        &mut self,
        poll: &Poll,
        token: Token,
        limits: &TcpLimits,
        mut handle: impl FnMut(&[u8], &mut Conn, Token),
    ) {
        loop {
            let Some(c) = self.conns.get_mut(&token) else {
                return;
            };
            let (failed, throttled) =
                read_queries(c, self.max_queries, token, &mut handle);
            if failed || !self.flush(poll, token) {
                self.close(poll, token, limits);
                return;
            }
            // Answering stopped because too much output was queued, and
            // the output has drained since: answer what is buffered and
            // read on, since edge-triggered readiness will not fire again
            // for data already waiting.
            let resume = throttled && self.conns.get(&token).is_some_and(Conn::has_room);
            if !resume {
                return;
            }
        }
    }

    /// The connections to come back to (see [`Conns::pending`]), taken.
    pub(crate) fn take_pending(&mut self) -> Vec<Token> {
        std::mem::take(&mut self.pending)
    }

    /// Whether some connection waits for the worker to come back.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether some transfer waits for its record set ([`WAIT_TICK`]).
    pub(crate) fn has_later(&self) -> bool {
        !self.later.is_empty()
    }

    /// The transfers waiting for their record set, taken (to try again).
    pub(crate) fn take_later(&mut self) -> Vec<Token> {
        std::mem::take(&mut self.later)
    }

    /// Writes queued output, and the next messages of a transfer as the
    /// client takes them; returns false if the connection should close.
    pub(crate) fn flush(&mut self, poll: &Poll, token: Token) -> bool {
        let Some(c) = self.conns.get_mut(&token) else {
            return false;
        };
        let mut budget = STREAM_BUDGET;
        loop {
            let mut blocked = false;
            while !c.outbuf.is_empty() {
                match c.stream.write(&c.outbuf) {
                    Ok(0) => return false,
                    Ok(n) => {
                        c.outbuf.drain(..n);
                        c.last_active = Instant::now();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        blocked = true;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return false,
                }
            }
            if blocked {
                break;
            }
            let Some(t) = c.transfer.as_mut() else { break };
            if budget == 0 {
                self.pending.push(token);
                break;
            }
            budget -= 1;
            match t.next(&mut c.outbuf) {
                Next::More => {}
                Next::Done => {
                    c.transfer = None;
                    // Queries that waited behind the transfer are
                    // answered on the worker's next turn.
                    self.pending.push(token);
                }
                Next::Wait => {
                    self.later.push(token);
                    break;
                }
            }
        }
        let unanswered = frame(&c.inbuf).is_some();
        let streaming = c.transfer.is_some();
        if c.draining
            && c.outbuf.is_empty()
            && c.waiting == 0
            && !unanswered
            && !streaming
        {
            return false;
        }
        let want_write = !c.outbuf.is_empty();
        if want_write != c.writable_interest {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if poll
                .registry()
                .reregister(&mut c.stream, token, interest)
                .is_err()
            {
                return false;
            }
            c.writable_interest = want_write;
        }
        true
    }

    /// Closes connections idle for longer than the idle timeout (queued
    /// output or pending forwards keep a connection alive).
    pub(crate) fn sweep(&mut self, poll: &Poll, now: Instant, limits: &TcpLimits) {
        let idle = self.idle;
        let expired: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| c.waiting == 0 && now.duration_since(c.last_active) > idle)
            .map(|(&t, _)| t)
            .collect();
        for t in expired {
            self.close(poll, t, limits);
        }
    }

    pub(crate) fn close(&mut self, poll: &Poll, token: Token, limits: &TcpLimits) {
        if let Some(mut c) = self.conns.remove(&token) {
            let _ = poll.registry().deregister(&mut c.stream);
            limits.release(c.peer.ip());
        }
    }

    /// Closes every connection (shutdown).
    pub(crate) fn close_all(&mut self, poll: &Poll, limits: &TcpLimits) {
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for t in tokens {
            self.close(poll, t, limits);
        }
    }
}

/// Answers the complete queries already received, then reads and answers
/// more until the socket would block, as long as the output has room.
/// Returns (failed, stopped because output is queued).
fn read_queries(
    c: &mut Conn,
    max_queries: usize,
    token: Token,
    handle: &mut impl FnMut(&[u8], &mut Conn, Token),
) -> (bool, bool) {
    let mut chunk = [0u8; 4096];
    loop {
        // Answer complete messages while earlier answers leave room. The
        // buffer is taken out while `handle` borrows the connection, so no
        // message is copied. Queries already received are answered even at
        // the query cap or after the client closed: the client sent them.
        let buf = std::mem::take(&mut c.inbuf);
        let mut frames = Frames::new(&buf);
        while c.has_room() {
            let Some(msg) = frames.next() else { break };
            c.queries += 1;
            c.last_active = Instant::now();
            handle(msg, c, token);
            if c.queries >= max_queries {
                c.draining = true;
            }
        }
        let at = frames.consumed();
        c.inbuf = buf;
        c.inbuf.drain(..at);
        if c.inbuf.len() > MAX_FRAME {
            return (true, false);
        }
        if !c.has_room() {
            return (false, true);
        }
        if c.draining {
            return (false, false);
        }
        match c.stream.read(&mut chunk) {
            Ok(0) => {
                c.draining = true;
                return (false, false);
            }
            // Only a complete message counts as activity (above).
            Ok(n) => c
                .inbuf
                .extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (false, false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return (true, false),
        }
    }
}

/// The length of the first framed message, if it is complete.
fn frame(buf: &[u8]) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes(*buf.first_chunk::<2>()?));
    (buf.len() >= 2 + len).then_some(len)
}

/// The complete messages at the front of a connection's input, each
/// without its two length octets (RFC 1035 §4.2.2), in order. What is left
/// after the last one is the start of a message still arriving; its length
/// is `buf.len() - consumed()`. Sans-IO, so it is fuzzed on its own.
#[derive(Clone, Debug)]
pub struct Frames<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Frames<'a> {
    /// The messages at the front of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Frames { buf, at: 0 }
    }

    /// Octets taken by the messages returned so far, length octets
    /// included.
    pub fn consumed(&self) -> usize {
        self.at
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.buf.get(self.at..)?;
        let len = frame(rest)?;
        let msg = rest.get(2..2 + len)?;
        self.at += 2 + len;
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_needs_the_whole_message() {
        assert_eq!(frame(&[0]), None);
        assert_eq!(frame(&[0, 3, 1, 2]), None);
        assert_eq!(frame(&[0, 3, 1, 2, 3, 9]), Some(3));
        assert_eq!(frame(&[0, 0]), Some(0));
    }

    #[test]
    fn frames_split_complete_messages_and_leave_the_rest() {
        let buf = [0, 1, 7, 0, 0, 0, 2, 8, 9, 0, 3, 1];
        let mut f = Frames::new(&buf);
        assert_eq!(f.next(), Some(&[7u8][..]));
        assert_eq!(f.next(), Some(&[][..]));
        assert_eq!(f.next(), Some(&[8u8, 9][..]));
        assert_eq!(f.next(), None);
        assert_eq!(f.consumed(), 9);
    }

    #[test]
    fn limits_cap_total_and_per_client() {
        let l = TcpLimits::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.acquire(a));
        assert!(l.acquire(a));
        assert!(!l.acquire(a), "per-client cap");
        assert!(l.acquire(b));
        assert!(!l.acquire(b), "total cap");
        l.release(a);
        assert!(l.acquire(b));
        assert_eq!(l.open(), 3);
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let l = TcpLimits::new(10, 2);
        let a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        let b: IpAddr = "2001:db8:0:1:ffff::2".parse().unwrap();
        let c: IpAddr = "2001:db8:0:2::1".parse().unwrap();
        assert!(l.acquire(a));
        assert!(l.acquire(b));
        assert!(!l.acquire(a), "a and b are one client");
        assert!(l.acquire(c), "another /64");
        l.release(b);
        assert!(l.acquire(a));
    }
}
