//! Forwarding names outside the domain to upstream resolvers, without
//! blocking the worker (BEHAVIOUR.md 5.4).
//!
//! The client's query goes unchanged to each upstream of its group in
//! turn, over the transport the client used, each attempt bounded by
//! `Timeout`. The first reply that matches the query (same ID, QR set, same
//! question) is passed back whatever its rcode; replies that do not match
//! are ignored (they are more likely spoofed than a transport failure).
//! When every upstream times out or fails, the client gets SERVFAIL.
//!
//! Every attempt has its own socket (a fresh ephemeral UDP port, or a TCP
//! connection), registered in the worker's `Poll` and closed as soon as the
//! attempt ends: no socket outlives its query (mesos-dns #422). The number
//! of queries in flight per worker is capped, and so is the number from one
//! client (an IPv4 address or IPv6 /64), so that one client cannot take
//! every slot; beyond a cap, SERVFAIL at once.
//!
//! Only clients in `AllowRecursion` are forwarded for; anyone else gets
//! REFUSED (an open resolver is an amplifier, mesos-dns #383).
//!
//! Over UDP a reply is passed back only if it fits what the client accepts
//! (512 octets without EDNS, else its advertised size) and
//! `EDNSMaxPayload`; a larger one is cut to header, question and OPT with
//! TC set, as a resolver does (RFC 1035 section 4.2.1, RFC 6891 section
//! 7), and the client retries over TCP.
//!
//! Answers that come back are kept in the worker's cache
//! (`forward/cache.rs`), positive and negative, by their TTLs; a query it
//! holds is answered at once.

mod attempt;
mod cache;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dns_wire::{parse_query, Rcode};
use mio::{Poll, Token};

pub use self::attempt::matches;
use self::attempt::{connect, drive_tcp, read_udp, Step, Upstream};
use self::cache::{Cache, Hit};
use crate::answer::{error as error_response, size_limit, Transport};
use crate::client;
use crate::stats::WorkerStats;
use crate::upstreams::Upstreams;

/// Tokens at or above this belong to the forwarder.
pub(crate) const FIRST_TOKEN: usize = 1 << 30;

/// Who is waiting for a forwarded answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Client {
    /// A UDP client at this address.
    Udp(SocketAddr),
    /// A TCP connection: its token and generation (so a reply for a closed
    /// connection whose token was reused is dropped).
    Tcp { token: Token, generation: u64 },
}

/// A finished forward: the client and the response to send it.
pub(crate) struct Done {
    pub client: Client,
    pub response: Vec<u8>,
    pub qtype: u16,
    pub rcode: usize,
    pub truncated: bool,
}

struct Pending {
    client: Client,
    query: Vec<u8>,
    transport: Transport,
    /// The forwarding settings the forward started with (a reload does
    /// not move it to other upstreams).
    up: Arc<Upstreams>,
    group: usize,
    /// Index in the group's upstream list.
    attempt: usize,
    /// Counts every attempt, to tell stale deadlines apart.
    serial: u64,
    socket: Upstream,
    started: Instant,
    /// [`client::key`] of the client, for the per-client cap.
    key: IpAddr,
}

/// The forwarder of one worker.
pub(crate) struct Forwarder {
    max_in_flight: usize,
    max_per_client: usize,
    /// Forwards in flight per client key (entries at 0 are removed).
    per_client: HashMap<IpAddr, usize>,
    edns_max: u16,
    pending: HashMap<Token, Pending>,
    /// Attempt deadlines in order (kept sorted: a reload may change the
    /// timeout).
    deadlines: VecDeque<(Instant, Token, u64)>,
    next_token: usize,
    next_serial: u64,
    buf: Vec<u8>,
    cache: Cache,
}

/// An answer from the forward cache, written into the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cached {
    pub len: usize,
    pub qtype: u16,
    pub rcode: usize,
    pub truncated: bool,
}

impl Forwarder {
    pub(crate) fn new(cfg: &crate::dns_config::DnsConfig) -> Self {
        Forwarder {
            max_in_flight: cfg.forward_max_in_flight.max(1),
            max_per_client: cfg.forward_max_per_client.max(1),
            per_client: HashMap::new(),
            edns_max: cfg.edns_max,
            pending: HashMap::new(),
            deadlines: VecDeque::new(),
            next_token: FIRST_TOKEN,
            next_serial: 0,
            buf: vec![0u8; 65_535],
            cache: Cache::new(
                cfg.forward_cache_size.div_ceil(cfg.worker_count().max(1)),
                cfg.edns_max,
            ),
        }
    }

    /// Answers `query` from the cache into `out` when it holds the answer
    /// and `peer` may use forwarding (else the forward path refuses it).
    /// Counts the hit or miss in `stats`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn cached(
        &mut self,
        query: &[u8],
        peer: IpAddr,
        transport: Transport,
        up: &Arc<Upstreams>,
        group: usize,
        now: Instant,
        out: &mut [u8],
        stats: &WorkerStats,
    ) -> Option<Cached> {
        if !self.cache.enabled() || !client::allowed(&up.allow, peer) {
            return None;
        }
        let q = parse_query(query).ok()?;
        self.cache.follow(up);
        let limit = size_limit(&q, self.edns_max, transport);
        let hit = self.cache.lookup(query, &q, group, now, out, limit);
        stats.forward_cache(std::mem::take(&mut self.cache.counts));
        match hit {
            Hit::Miss => None,
            Hit::Reply { len, rcode, cut } => {
                // As for a relayed reply: no TC when `SetTruncateBit` is off.
                if cut && !up.set_truncate_bit {
                    if let Some(b) = out.get_mut(2) {
                        *b &= !0x02;
                    }
                }
                Some(Cached {
                    len,
                    qtype: q.qtype.0,
                    rcode: usize::from(rcode),
                    truncated: cut,
                })
            }
        }
    }

    /// The next attempt deadline, for the poll timeout.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.front().map(|d| d.0)
    }

    /// Starts forwarding `query` for `client` at address `peer` to `group`
    /// of the upstreams `up` (the served table's). Returns a
    /// response to send at once if it is not forwarded: REFUSED for a peer
    /// outside `AllowRecursion`, SERVFAIL when too many are in flight (in
    /// all or from this peer) or no upstream could be reached at all.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &mut self,
        poll: &Poll,
        query: &[u8],
        client: Client,
        peer: IpAddr,
        transport: Transport,
        up: &Arc<Upstreams>,
        group: usize,
        stats: &WorkerStats,
    ) -> Option<Done> {
        if !client::allowed(&up.allow, peer) {
            stats.forward_denied();
            return self.respond(query, client, Rcode::REFUSED);
        }
        let key = client::key(peer);
        let mine = self.per_client.get(&key).copied().unwrap_or(0);
        if self.pending.len() >= self.max_in_flight || mine >= self.max_per_client {
            stats.forward_overload();
            return self.servfail(query, client);
        }
        let token = Token(self.next_token);
        self.next_token = if self.next_token == usize::MAX {
            FIRST_TOKEN
        } else {
            self.next_token + 1
        };
        let now = Instant::now();
        let mut attempt = 0;
        while let Some((addr, flat)) = up.get(group, attempt) {
            match connect(poll, token, addr, transport, query) {
                Ok(socket) => {
                    self.next_serial += 1;
                    let serial = self.next_serial;
                    self.deadline(now + up.timeout, token, serial);
                    self.pending.insert(
                        token,
                        Pending {
                            client,
                            query: query.to_vec(),
                            transport,
                            up: Arc::clone(up),
                            group,
                            attempt,
                            serial,
                            socket,
                            started: now,
                            key,
                        },
                    );
                    *self.per_client.entry(key).or_default() += 1;
                    return None;
                }
                Err(_) => {
                    stats.forward_attempt(flat, 2, Duration::ZERO);
                    attempt += 1;
                }
            }
        }
        stats.forward_failed();
        self.servfail(query, client)
    }

    /// Handles a readiness event on one of the forwarder's tokens.
    pub(crate) fn on_event(
        &mut self,
        poll: &Poll,
        token: Token,
        stats: &WorkerStats,
    ) -> Option<Done> {
        let p = self.pending.get_mut(&token)?;
        let (flat, started) = (p.flat(), p.started);
        let outcome = match &mut p.socket {
            Upstream::Udp(sock) => read_udp(sock, &p.query, &mut self.buf),
            Upstream::Tcp {
                stream,
                out,
                written,
                inbuf,
            } => drive_tcp(stream, out, written, inbuf, &p.query),
        };
        match outcome {
            Step::Wait => None,
            Step::Reply(len) => {
                let reply = match &p.socket {
                    Upstream::Udp(_) => self.buf.get(..len).unwrap_or_default().to_vec(),
                    Upstream::Tcp { inbuf, .. } => {
                        inbuf.get(2..2 + len).unwrap_or_default().to_vec()
                    }
                };
                let p = self.finish(poll, token)?;
                self.release(p.key);
                let flat = p.flat();
                stats.forward_attempt(flat, 0, p.started.elapsed());
                self.cache.store(&p.query, &reply, p.group, Instant::now());
                stats.forward_cache(std::mem::take(&mut self.cache.counts));
                Some(self.relay(&p, reply))
            }
            Step::Failed => {
                stats.forward_attempt(flat, 2, started.elapsed());
                self.next_attempt(poll, token, stats)
            }
        }
    }

    /// Moves every attempt past its deadline on to the next upstream;
    /// returns the forwards that ran out of upstreams.
    pub(crate) fn expire(
        &mut self,
        poll: &Poll,
        now: Instant,
        stats: &WorkerStats,
    ) -> Vec<Done> {
        let mut done = Vec::new();
        while let Some(&(deadline, token, serial)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            let Some(p) = self.pending.get(&token) else {
                continue;
            };
            if p.serial != serial {
                continue;
            }
            let flat = p.flat();
            stats.forward_attempt(flat, 1, p.started.elapsed());
            if let Some(d) = self.next_attempt(poll, token, stats) {
                done.push(d);
            }
        }
        done
    }

    /// Closes every socket (shutdown).
    pub(crate) fn close_all(&mut self, poll: &Poll) {
        let tokens: Vec<Token> = self.pending.keys().copied().collect();
        for t in tokens {
            self.finish(poll, t);
        }
        self.deadlines.clear();
        self.per_client.clear();
    }

    /// One forward of the client with `key` ended.
    fn release(&mut self, key: IpAddr) {
        if let Some(n) = self.per_client.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_client.remove(&key);
            }
        }
    }

    /// Queues an attempt deadline in order.
    fn deadline(&mut self, at: Instant, token: Token, serial: u64) {
        // Almost always the last (one timeout for all); after a reload
        // changed it, in its place.
        let i = self.deadlines.partition_point(|d| d.0 <= at);
        self.deadlines.insert(i, (at, token, serial));
    }

    /// Drops the attempt's socket and removes the pending query.
    fn finish(&mut self, poll: &Poll, token: Token) -> Option<Pending> {
        let mut p = self.pending.remove(&token)?;
        match &mut p.socket {
            Upstream::Udp(s) => {
                let _ = poll.registry().deregister(s);
            }
            Upstream::Tcp { stream, .. } => {
                let _ = poll.registry().deregister(stream);
            }
        }
        Some(p)
    }

    /// Tries the next upstream of the group, or gives up with SERVFAIL.
    fn next_attempt(
        &mut self,
        poll: &Poll,
        token: Token,
        stats: &WorkerStats,
    ) -> Option<Done> {
        let mut p = self.finish(poll, token)?;
        loop {
            p.attempt += 1;
            let Some((addr, flat)) = p.up.get(p.group, p.attempt) else {
                self.release(p.key);
                stats.forward_failed();
                return self.servfail(&p.query, p.client);
            };
            match connect(poll, token, addr, p.transport, &p.query) {
                Ok(socket) => {
                    self.next_serial += 1;
                    p.serial = self.next_serial;
                    p.socket = socket;
                    p.started = Instant::now();
                    self.deadline(p.started + p.up.timeout, token, p.serial);
                    self.pending.insert(token, p);
                    return None;
                }
                Err(_) => stats.forward_attempt(flat, 2, Duration::ZERO),
            }
        }
    }

    /// Passes an upstream reply back: TC cleared when `SetTruncateBit` is
    /// off; over UDP, a reply larger than the client accepts (512 octets
    /// without EDNS, else its size) or than `EDNSMaxPayload` is cut to its
    /// header, question and OPT with TC set.
    fn relay(&self, p: &Pending, mut reply: Vec<u8>) -> Done {
        let mut truncated = false;
        if let Ok(q) = parse_query(&p.query) {
            let limit = match p.transport {
                Transport::Udp => size_limit(&q, self.edns_max, Transport::Udp),
                Transport::Tcp => usize::from(u16::MAX),
            };
            if reply.len() > limit {
                reply = self.cut(&q, &reply);
                truncated = true;
            }
        }
        if let Some(b) = reply.get_mut(2) {
            truncated |= *b & 0x02 != 0;
            if !p.up.set_truncate_bit {
                *b &= !0x02;
            }
        }
        let rcode = reply.get(3).map_or(0, |b| usize::from(b & 0x0F));
        Done {
            client: p.client,
            qtype: qtype_of(&p.query),
            response: reply,
            rcode,
            truncated,
        }
    }

    /// A reply too large for the client, cut as a resolver cuts it: the
    /// upstream's header flags and rcode with TC set, the question, and our
    /// OPT if the query had one; no records.
    fn cut(&self, q: &dns_wire::Query<'_>, reply: &[u8]) -> Vec<u8> {
        let rcode = Rcode(u16::from(reply.get(3).map_or(0, |b| b & 0x0F)));
        let mut out = [0u8; 512];
        let Some(n) = error_response(q, rcode, self.edns_max, &mut out) else {
            return Vec::new();
        };
        let mut cut = out.get(..n).unwrap_or_default().to_vec();
        if let (Some(dst), Some(src)) = (cut.get_mut(2..4), reply.get(2..4)) {
            dst.copy_from_slice(src);
        }
        if let Some(b) = cut.get_mut(2) {
            *b |= 0x02;
        }
        cut
    }

    fn servfail(&self, query: &[u8], client: Client) -> Option<Done> {
        self.respond(query, client, Rcode::SERVFAIL)
    }

    /// A response without records with `rcode`, for a query not forwarded.
    fn respond(&self, query: &[u8], client: Client, rcode: Rcode) -> Option<Done> {
        let q = parse_query(query).ok()?;
        let mut out = [0u8; 512];
        let n = error_response(&q, rcode, self.edns_max, &mut out)?;
        Some(Done {
            client,
            response: out.get(..n)?.to_vec(),
            qtype: q.qtype.0,
            rcode: usize::from(rcode.0),
            truncated: false,
        })
    }
}

impl Pending {
    /// The counter slot of the current attempt's upstream.
    fn flat(&self) -> usize {
        self.up
            .get(self.group, self.attempt)
            .map_or(usize::MAX, |(_, f)| f)
    }
}

fn qtype_of(query: &[u8]) -> u16 {
    parse_query(query).map_or(0, |q| q.qtype.0)
}
