//! The forward cache: upstream answers kept for their TTL, so a name asked
//! again is answered without leaving the worker (BEHAVIOUR.md 5.4).
//!
//! Each worker has its own cache (no lock on the answer path); a client's
//! queries reach the same worker through `SO_REUSEPORT`'s hash of its
//! address and port. What is kept, and for how long:
//!
//! - NOERROR with answers: for the smallest TTL of its records;
//! - NXDOMAIN and NODATA (RFC 2308): for the smallest of the SOA's TTL,
//!   its MINIMUM and the other records' TTLs; the SOA is sent with that
//!   TTL. A negative answer without an SOA is not kept (RFC 2308 §5);
//! - SERVFAIL from the upstream: [`SERVFAIL_TTL`] seconds (RFC 2308 §7.1
//!   allows at most five minutes; a few seconds shield the upstream from a
//!   storm without hiding its recovery);
//! - never: other rcodes, TC set, an extended rcode, a question that is
//!   not the query's, a TTL of 0, our own SERVFAIL after timeouts, and
//!   queries with an EDNS Client Subnet option (the answer is for a
//!   subnet, RFC 7871 §7.3.1).
//!
//! Every TTL is capped at [`MAX_TTL`] and counts down in what is sent
//! (RFC 1035 §7.3): an answer cached 20 s ago with TTL 300 goes out with
//! 280.
//!
//! Entries are keyed by the question (name lowercased, type, class), the
//! upstream group, and the view of the client: EDNS or not, DO, CD, AD and
//! RD. Two clients with different views never share an answer (a DO query
//! may get RRSIGs, a CD one unvalidated data, an RD=0 one a referral). The
//! upstream's OPT record is not kept: each client gets our own OPT (its DO
//! copied, our payload size, no options), so an upstream's cookie never
//! reaches another client. The client's question is copied over the cached
//! one, so its 0x20 letter case comes back; names compressed against the
//! question take that case too, as from any resolver.
//!
//! When full, the cache evicts the least recently used of a few entries
//! sampled at random (expired ones first): O(1), no list to maintain.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dns_wire::{
    skip_name, write_opt, Header, Message, Query, Rcode, Reader, Rtype, Writer,
    HEADER_LEN, MAX_NAME_LEN, OPT_LEN,
};

use crate::answer::our_edns;
use crate::upstreams::Upstreams;

/// Largest TTL kept and sent, in seconds: a day, as many resolvers cap it
/// (Unbound's `cache-max-ttl`).
pub(crate) const MAX_TTL: u32 = 86_400;
/// How long an upstream's SERVFAIL is kept, in seconds.
pub(crate) const SERVFAIL_TTL: u32 = 3;
/// Entries sampled to pick one to evict.
const SAMPLE: usize = 8;
/// EDNS option code of Client Subnet (RFC 7871).
const OPT_ECS: u16 = 8;

/// Key: group (2), view (1), type (2), class (2), lowercased name.
const KEY_MAX: usize = 7 + MAX_NAME_LEN;

/// One cached answer.
struct Entry {
    key: Box<[u8]>,
    /// The upstream's reply without its OPT record (ARCOUNT adjusted).
    reply: Box<[u8]>,
    /// Offset and TTL (capped) of every record's TTL field.
    ttls: Box<[(u16, u32)]>,
    stored: Instant,
    expires: Instant,
    /// [`Cache::clock`] at the last use.
    used: u64,
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hit {
    /// Not cached (or expired).
    Miss,
    /// A reply of this length was written; its rcode, and whether it was
    /// cut to fit (TC).
    Reply { len: usize, rcode: u8, cut: bool },
}

pub(crate) use crate::stats::CacheCounts as Counts;

/// One worker's cache.
pub(crate) struct Cache {
    cap: usize,
    map: HashMap<Box<[u8]>, usize>,
    slots: Vec<Entry>,
    clock: u64,
    rng: fastrand::Rng,
    /// The upstreams the entries came from: a reload that changes them
    /// empties the cache.
    upstreams: Vec<Vec<std::net::SocketAddr>>,
    /// The settings last looked at, held so that no later settings can
    /// take their address (which would pass for them).
    seen: Option<Arc<Upstreams>>,
    /// `EDNSMaxPayload`, the payload size in our OPT records.
    edns_max: u16,
    pub(crate) counts: Counts,
}

/// A reply as kept: see [`Entry`].
struct Kept {
    body: Vec<u8>,
    ttls: Vec<(u16, u32)>,
    /// Seconds it may be kept.
    life: u32,
}

impl Cache {
    /// A cache of at most `cap` entries (0: off); `edns_max` is the
    /// payload size to put in our OPT records.
    pub(crate) fn new(cap: usize, edns_max: u16) -> Self {
        Cache {
            cap,
            map: HashMap::new(),
            slots: Vec::new(),
            clock: 0,
            rng: fastrand::Rng::new(),
            upstreams: Vec::new(),
            seen: None,
            edns_max,
            counts: Counts::default(),
        }
    }

    /// Whether the cache is on.
    pub(crate) fn enabled(&self) -> bool {
        self.cap > 0
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Empties the cache when `up` holds other upstreams than the entries
    /// came from (a reload changed `Resolvers` or `ZoneResolvers`).
    pub(crate) fn follow(&mut self, up: &Arc<Upstreams>) {
        if self.seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, up)) {
            return;
        }
        self.seen = Some(Arc::clone(up));
        let now: Vec<Vec<_>> = up
            .groups
            .iter()
            .map(|g| g.iter().map(|u| u.0).collect())
            .collect();
        if now != self.upstreams {
            self.map.clear();
            self.slots.clear();
            self.upstreams = now;
        }
    }

    /// Answers `q` (the whole query `packet`, for upstream `group`) from the
    /// cache into `out`, within `limit` octets.
    pub(crate) fn lookup(
        &mut self,
        packet: &[u8],
        q: &Query<'_>,
        group: usize,
        now: Instant,
        out: &mut [u8],
        limit: usize,
    ) -> Hit {
        let edns_max = self.edns_max;
        let mut kbuf = [0u8; KEY_MAX];
        let Some(key) = key(packet, q, group, &mut kbuf) else {
            return Hit::Miss;
        };
        let Some(&i) = self.map.get(key) else {
            self.counts.misses += 1;
            return Hit::Miss;
        };
        let expired = self.slots.get(i).is_none_or(|e| e.expires <= now);
        if expired {
            self.remove(i);
            self.counts.misses += 1;
            return Hit::Miss;
        }
        self.clock += 1;
        let Some(e) = self.slots.get_mut(i) else {
            return Hit::Miss;
        };
        e.used = self.clock;
        self.counts.hits += 1;
        let rcode = e.reply.get(3).map_or(0, |b| b & 0x0F);
        let opt = if q.edns.is_some() { OPT_LEN } else { 0 };
        if e.reply.len() + opt > limit.min(out.len()) {
            // Too large for this client: header, question, OPT, TC.
            let n = cut(q, &e.reply, edns_max, out);
            return n.map_or(Hit::Miss, |len| Hit::Reply {
                len,
                rcode,
                cut: true,
            });
        }
        let n = e.reply.len();
        let Some(dst) = out.get_mut(..n) else {
            return Hit::Miss;
        };
        dst.copy_from_slice(&e.reply);
        let age = u32::try_from(now.saturating_duration_since(e.stored).as_secs())
            .unwrap_or(u32::MAX);
        for &(at, ttl) in e.ttls.iter() {
            let at = usize::from(at);
            if let Some(f) = out.get_mut(at..at + 4) {
                f.copy_from_slice(&ttl.saturating_sub(age).to_be_bytes());
            }
        }
        let id = q.header.id.to_be_bytes();
        if let Some(h) = out.get_mut(..2) {
            h.copy_from_slice(&id);
        }
        if let Some(dst) = out.get_mut(HEADER_LEN..HEADER_LEN + q.question.len()) {
            dst.copy_from_slice(q.question);
        }
        let mut end = n;
        if let Some(edns) = q.edns {
            let Some(tail) = out.get_mut(n..) else {
                return Hit::Miss;
            };
            if write_opt(
                &mut Writer::new(tail),
                &our_edns(edns, Rcode::NOERROR, edns_max),
            )
            .is_err()
            {
                return Hit::Miss;
            }
            end += OPT_LEN;
            bump_arcount(out);
        }
        Hit::Reply {
            len: end,
            rcode,
            cut: false,
        }
    }

    /// Keeps `reply`, the upstream's answer to `packet` (sent to `group`),
    /// if it may be kept (see the module docs).
    pub(crate) fn store(
        &mut self,
        packet: &[u8],
        reply: &[u8],
        group: usize,
        now: Instant,
    ) {
        if self.cap == 0 {
            return;
        }
        let Ok(q) = dns_wire::parse_query(packet) else {
            return;
        };
        let mut kbuf = [0u8; KEY_MAX];
        let Some(key) = key(packet, &q, group, &mut kbuf) else {
            return;
        };
        let Some(Kept { body, ttls, life }) = cacheable(&q, reply) else {
            return;
        };
        let entry = Entry {
            key: key.into(),
            reply: body.into(),
            ttls: ttls.into(),
            stored: now,
            expires: now + Duration::from_secs(u64::from(life)),
            used: self.clock,
        };
        if let Some(&i) = self.map.get(key) {
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = entry;
            }
            return;
        }
        if self.slots.len() >= self.cap {
            self.evict(now);
        }
        self.map.insert(entry.key.clone(), self.slots.len());
        self.slots.push(entry);
    }

    /// Removes one entry: an expired one among a few sampled, else the
    /// least recently used of them.
    fn evict(&mut self, now: Instant) {
        let n = self.slots.len();
        if n == 0 {
            return;
        }
        let mut victim = self.rng.usize(..n);
        let mut oldest = u64::MAX;
        for _ in 0..SAMPLE.min(n) {
            let i = self.rng.usize(..n);
            let Some(e) = self.slots.get(i) else { continue };
            if e.expires <= now {
                victim = i;
                break;
            }
            if e.used < oldest {
                oldest = e.used;
                victim = i;
            }
        }
        self.remove(victim);
        self.counts.evictions += 1;
    }

    /// Removes slot `i`, moving the last entry into its place.
    fn remove(&mut self, i: usize) {
        if i >= self.slots.len() {
            return;
        }
        let gone = self.slots.swap_remove(i);
        self.map.remove(&gone.key);
        if let Some(moved) = self.slots.get(i) {
            if let Some(slot) = self.map.get_mut(&moved.key) {
                *slot = i;
            }
        }
    }
}

/// The cache key of `q`, or `None` when the query must not be answered
/// from the cache (it carries an EDNS Client Subnet option).
fn key<'b>(
    packet: &[u8],
    q: &Query<'_>,
    group: usize,
    buf: &'b mut [u8; KEY_MAX],
) -> Option<&'b [u8]> {
    if q.edns.is_some() && has_ecs(packet, q) {
        return None;
    }
    let flags = q.header.flags;
    let view = u8::from(q.edns.is_some())
        | u8::from(q.edns.is_some_and(|e| e.dnssec_ok)) << 1
        | u8::from(flags.cd()) << 2
        | u8::from(flags.ad()) << 3
        | u8::from(flags.rd()) << 4;
    let g = u16::try_from(group).ok()?.to_be_bytes();
    let name = q.question.get(..q.qname.wire_len())?;
    let tc = q.question.get(name.len()..)?;
    let total = 3 + tc.len() + name.len();
    let k = buf.get_mut(..total)?;
    k[..2].copy_from_slice(&g);
    k[2] = view;
    k[3..3 + tc.len()].copy_from_slice(tc);
    let dst = &mut k[3 + tc.len()..];
    dst.copy_from_slice(name);
    dst.make_ascii_lowercase();
    Some(k)
}

/// Whether the query's OPT record carries a Client Subnet option.
fn has_ecs(packet: &[u8], q: &Query<'_>) -> bool {
    let Ok(mut r) = Reader::at(packet, HEADER_LEN + q.question.len()) else {
        return false;
    };
    let h = q.header;
    for _ in 0..(u32::from(h.ancount) + u32::from(h.nscount) + u32::from(h.arcount)) {
        let Ok(()) = skip_name(&mut r) else {
            return false;
        };
        let (Ok(t), Ok(_), Ok(_), Ok(len)) = (r.u16(), r.u16(), r.u32(), r.u16()) else {
            return false;
        };
        let Ok(mut rdata) = r.limit(usize::from(len)) else {
            return false;
        };
        if Rtype(t) == Rtype::OPT {
            while let (Ok(code), Ok(olen)) = (rdata.u16(), rdata.u16()) {
                if code == OPT_ECS {
                    return true;
                }
                if rdata.skip(usize::from(olen)).is_err() {
                    return false;
                }
            }
        }
    }
    false
}

/// The reply without its OPT record, the TTL fields to count down, and how
/// long it may be kept; `None` when it must not be kept.
fn cacheable(q: &Query<'_>, reply: &[u8]) -> Option<Kept> {
    let m = Message::parse(reply).ok()?;
    let h = m.header;
    let rcode = m.rcode();
    if h.flags.tc() || h.qdcount != 1 || m.edns().is_some_and(|e| e.ext_rcode != 0) {
        return None;
    }
    // The same question (any case): `forward::matches` checked it already
    // for replies with a question; the length must match for the copy.
    let qlen = q.question.len();
    let theirs = reply.get(HEADER_LEN..HEADER_LEN + qlen)?;
    if !theirs.eq_ignore_ascii_case(q.question) {
        return None;
    }
    let negative = match rcode {
        Rcode::NOERROR => h.ancount == 0,
        Rcode::NXDOMAIN => true,
        Rcode::SERVFAIL => false,
        _ => return None,
    };
    let mut r = Reader::at(reply, HEADER_LEN + qlen).ok()?;
    let mut ttls = Vec::new();
    let mut life = MAX_TTL;
    let mut soa = false;
    let mut opt_at = None;
    let total = usize::from(h.ancount) + usize::from(h.nscount) + usize::from(h.arcount);
    for i in 0..total {
        let start = r.pos();
        skip_name(&mut r).ok()?;
        let rtype = Rtype(r.u16().ok()?);
        r.u16().ok()?;
        let at = r.pos();
        let ttl = r.u32().ok()?;
        let len = usize::from(r.u16().ok()?);
        let rdata = r.bytes(len).ok()?;
        if rtype == Rtype::OPT {
            // Only a last OPT can be cut off without moving what names
            // after it point to.
            if i + 1 != total {
                return None;
            }
            opt_at = Some(start);
            continue;
        }
        let mut ttl = ttl.min(MAX_TTL);
        let in_authority = i >= usize::from(h.ancount)
            && i < usize::from(h.ancount) + usize::from(h.nscount);
        if negative && in_authority && rtype == Rtype::SOA {
            // RFC 2308 §5: the negative TTL is the SOA's MINIMUM, capped
            // by the SOA's own TTL.
            let minimum = rdata.last_chunk::<4>().map(|b| u32::from_be_bytes(*b))?;
            ttl = ttl.min(minimum);
            soa = true;
        }
        life = life.min(ttl);
        ttls.push((u16::try_from(at).ok()?, ttl));
    }
    if rcode == Rcode::SERVFAIL {
        life = SERVFAIL_TTL;
        for t in &mut ttls {
            t.1 = t.1.min(SERVFAIL_TTL);
        }
    } else if negative && !soa {
        return None;
    }
    if life == 0 {
        return None;
    }
    let mut body = reply.get(..opt_at.unwrap_or(reply.len()))?.to_vec();
    if opt_at.is_some() {
        let ar = h.arcount.saturating_sub(1).to_be_bytes();
        body.get_mut(10..12)?.copy_from_slice(&ar);
    }
    Some(Kept { body, ttls, life })
}

fn bump_arcount(out: &mut [u8]) {
    if let Some(ar) = out.get_mut(10..12) {
        let n = u16::from_be_bytes([ar[0], ar[1]]).saturating_add(1);
        ar.copy_from_slice(&n.to_be_bytes());
    }
}

/// A cached reply too large for the client: its header flags and rcode
/// with TC set, the client's question, our OPT if it sent one.
fn cut(q: &Query<'_>, reply: &[u8], edns_max: u16, out: &mut [u8]) -> Option<usize> {
    let rcode = Rcode(u16::from(reply.get(3)? & 0x0F));
    let n = crate::answer::error(q, rcode, edns_max, out)?;
    let flags = Header::from_bytes(reply.first_chunk::<HEADER_LEN>()?).flags;
    let dst = out.get_mut(2..4)?;
    dst.copy_from_slice(&flags.0.to_be_bytes());
    *dst.first_mut()? |= 0x02;
    Some(n)
}

#[cfg(test)]
mod tests;
