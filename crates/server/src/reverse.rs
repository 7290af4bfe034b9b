//! Reverse lookups: PTR records derived from the A and AAAA records of the
//! domain, and the reverse zones we are authoritative for (issue 20).
//!
//! # Which names an address gets
//!
//! Every address an A or AAAA record in the domain points to gets PTR
//! records under `in-addr.arpa` or `ip6.arpa`, naming the owners of those
//! records, so each PTR name resolves forward to that same address
//! (forward-confirmed reverse DNS, which Kerberos, HDFS and Java's TLS
//! hostname checks rely on). The owners are ranked, and the first
//! [`PTR_MAX`] kept:
//!
//! 1. names with fewer addresses first: a name that points at this address
//!    alone (a task's canonical `t-h-s.fw.D.`, `masterN.D.`) names it
//!    better than a name shared by every instance (`t.fw.D.`) or every
//!    agent (`slave.D.`), and its forward answer always holds the address,
//!    where a long shared list may be cut to fit a UDP answer;
//! 2. then shorter names, then byte order: the same state gives the same
//!    PTR answer, in the same order, on every server and every reload.
//!
//! The cap keeps the answer of an agent's address (shared by every
//! host-networked task on it, hundreds of names) within 512 octets;
//! resolvers use the first name anyway (glibc's `gethostbyaddr` takes it
//! as the host name and the rest as aliases). Owner names spelled with
//! capitals (raw DiscoveryInfo names) are left out: another spelling may
//! hold the key they are served under, and the forward lookup would not
//! confirm.
//!
//! # Where the answers come from
//!
//! A PTR (or ANY) query for a derived name is answered authoritatively.
//! Under a zone listed in `ReverseZones` we are authoritative for
//! everything: another type at a derived name, or a name with derived
//! names below it, is NODATA; any other name NXDOMAIN; both with that
//! zone's SOA (RFC 2308), whose fields are the domain's (`SOAMname`,
//! `SOARname`, the serial and timers). The zone's apex answers SOA and NS.
//! Any other reverse name is forwarded like every name outside the domain.
//!
//! The PTR data is derived from the table's record set when a table is
//! compiled in full, and follows the deltas of a table patched from one
//! (in time proportional to the change, see `ptrs`): it is ready when a
//! table is published, never derived on a query's path.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::{
    write_opt, Class, Flags, Header, Query, Rcode, Rtype, Writer, HEADER_LEN,
    MAX_NAME_LEN, OPT_LEN,
};
use mesos_records::delta::{Lookup, Record, Value};
use mesos_records::{Delta, RecordSet};

use crate::answer::reply::{our_edns, size_limit, Answer, Meta, Transport};
use crate::dns_config::DnsConfig;

/// PTR records per address at most.
pub const PTR_MAX: usize = 4;

mod ptrs;
mod ranking;
pub use ptrs::Ptrs;

const IN_ADDR: &[u8] = b"\x07in-addr\x04arpa\x00";
const IP6: &[u8] = b"\x03ip6\x04arpa\x00";

/// The fixed part of one PTR record of a target of `len` octets: owner
/// pointing at the question (offset 12), IN, `ttl`; the target follows,
/// uncompressed.
fn ptr_head(len: usize, ttl: u32) -> [u8; 12] {
    let mut h = [0xC0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    h[2..4].copy_from_slice(&Rtype::PTR.0.to_be_bytes());
    h[4..6].copy_from_slice(&Class::IN.0.to_be_bytes());
    h[6..10].copy_from_slice(&ttl.to_be_bytes());
    h[10..12].copy_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
    h
}

/// The reverse name of `ip` in lowercase wire form
/// (`4.3.2.1.in-addr.arpa.`, or 32 nibbles under `ip6.arpa.`).
pub fn reverse_name(ip: IpAddr) -> Box<[u8]> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut w = Vec::with_capacity(72);
    match ip {
        IpAddr::V4(v4) => {
            for o in v4.octets().iter().rev() {
                let s = o.to_string();
                w.push(s.len() as u8);
                w.extend_from_slice(s.as_bytes());
            }
            w.extend_from_slice(IN_ADDR);
        }
        IpAddr::V6(v6) => {
            for o in v6.octets().iter().rev() {
                for nibble in [o & 0x0F, o >> 4] {
                    w.push(1);
                    w.push(HEX[usize::from(nibble)]);
                }
            }
            w.extend_from_slice(IP6);
        }
    }
    w.into()
}

/// The address whose reverse name is `key` (lowercase wire), the inverse
/// of [`reverse_name`]: `None` for any other spelling (a leading zero, a
/// label too many or too few, capitals), which names no address.
pub fn address(key: &[u8]) -> Option<IpAddr> {
    let mut labels = Labels { rest: key };
    if key.ends_with(IN_ADDR) && key.len() <= 16 + IN_ADDR.len() {
        let mut octets = [0u8; 4];
        for o in octets.iter_mut().rev() {
            let l = labels.next()?;
            let canonical = matches!(l, [_] | [b'1'..=b'9', ..]) && l.len() <= 3;
            if !canonical || !l.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let v = l.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
            *o = u8::try_from(v).ok()?;
        }
        return (labels.rest == IN_ADDR).then(|| IpAddr::from(octets));
    }
    if key.ends_with(IP6) && key.len() == 64 + IP6.len() {
        let mut octets = [0u8; 16];
        for o in octets.iter_mut().rev() {
            for shift in [0, 4] {
                let &[c] = labels.next()? else { return None };
                let nibble = match c {
                    b'0'..=b'9' => c - b'0',
                    b'a'..=b'f' => c - b'a' + 10,
                    _ => return None,
                };
                *o |= nibble << shift;
            }
        }
        return (labels.rest == IP6).then(|| IpAddr::from(octets));
    }
    None
}

/// The labels of a wire name, from the first.
struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let label = tail.get(..usize::from(len))?;
        self.rest = tail.get(usize::from(len)..)?;
        Some(label)
    }
}

/// The reverse side of one table: the configured zones, and the PTR data
/// derived once from its records.
#[derive(Debug, Default)]
pub struct Reverse {
    /// `ReverseZones`, lowercase wire, longest first.
    zones: Arc<[Box<[u8]>]>,
    /// The zones' SOA RDATA (`SOAMname`, `SOARname`, serial, timers).
    soa: Box<[u8]>,
    /// `SOAMname` in wire form (the NS of each zone).
    mname: Box<[u8]>,
    ttl: u32,
    /// TTL of the SOA in negative answers: min(`TTL`, `SOAMinttl`).
    negative_ttl: u32,
    apex: Box<[u8]>,
    ptrs: OnceLock<Arc<Ptrs>>,
}

impl Reverse {
    /// The reverse side of a table with SOA `serial` under `cfg`; the PTR
    /// data comes later ([`Reverse::ptrs`], [`Reverse::share`]).
    pub fn new(cfg: &DnsConfig, apex: &[u8], serial: u32) -> Self {
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut zones: Vec<Box<[u8]>> = cfg
            .reverse_zones
            .iter()
            .filter_map(|z| {
                from_dotted(&z.to_ascii_lowercase(), &mut buf)
                    .ok()
                    .map(Into::into)
            })
            .collect();
        zones.sort_by_key(|z| std::cmp::Reverse(z.len()));
        let mname: Box<[u8]> = from_dotted(&cfg.soa_mname, &mut buf)
            .map_or_else(|_| Box::new([0u8]) as Box<[u8]>, Into::into);
        let mut soa = mname.to_vec();
        soa.extend_from_slice(from_dotted(&cfg.soa_rname, &mut buf).unwrap_or(&[0]));
        for v in [
            serial,
            cfg.soa_refresh,
            cfg.soa_retry,
            cfg.soa_expire,
            cfg.soa_minttl,
        ] {
            soa.extend_from_slice(&v.to_be_bytes());
        }
        Reverse {
            zones: zones.into(),
            soa: soa.into(),
            mname,
            ttl: cfg.ttl,
            negative_ttl: cfg.ttl.min(cfg.soa_minttl),
            apex: apex.into(),
            ptrs: OnceLock::new(),
        }
    }

    /// The PTR data, derived from `records` on the first call.
    pub fn ptrs<'r>(&self, records: impl FnOnce() -> &'r RecordSet) -> &Arc<Ptrs> {
        self.ptrs
            .get_or_init(|| Arc::new(Ptrs::derive(records(), &self.apex, &self.zones)))
    }

    /// Takes `other`'s PTR data if it has derived it and was derived under
    /// the same settings (a table whose records did not change); false if
    /// it did not.
    pub fn share(&self, other: &Reverse) -> bool {
        match (self.same_settings(other), other.ptrs.get()) {
            (true, Some(p)) => {
                let _ = self.ptrs.set(Arc::clone(p));
                true
            }
            _ => false,
        }
    }

    /// The PTR data, if derived, shared or followed already (nothing is
    /// derived for it).
    pub fn current(&self) -> Option<&Arc<Ptrs>> {
        self.ptrs.get()
    }

    /// Takes `compacted`, the data `other` holds laid out again
    /// ([`Ptrs::compacted`] of the first), if `other` still holds that
    /// data under the same settings; else [`Reverse::share`]s `other`'s.
    /// False if it has none.
    pub fn share_compacted(
        &self,
        other: &Reverse,
        compacted: Option<(Arc<Ptrs>, Ptrs)>,
    ) -> bool {
        match (compacted, other.ptrs.get()) {
            (Some((of, c)), Some(p))
                if Arc::ptr_eq(&of, p) && self.same_settings(other) =>
            {
                let _ = self.ptrs.set(Arc::new(c));
                true
            }
            _ => self.share(other),
        }
    }

    /// Takes the PTR data of `before` brought forward by `delta`, whose
    /// values after the change `view` holds (see `ptrs`), in time
    /// proportional to the change; false if `before` has none under the
    /// same settings.
    pub fn follow<L: Lookup + ?Sized>(
        &self,
        before: &Reverse,
        delta: &Delta,
        view: &L,
    ) -> bool {
        let (true, Some(p)) = (self.same_settings(before), before.ptrs.get()) else {
            return false;
        };
        // A name spelled with and without its trailing dot is one wire
        // name, which the derivation ranks once per spelling: left to it.
        let twinned = |r: &Record| match (&r.value, r.name.strip_suffix('.')) {
            (Value::Srv { .. }, _) => false,
            (_, None) => true,
            (_, Some(bare)) => !view.a(bare).is_empty() || !view.aaaa(bare).is_empty(),
        };
        if delta.removed.iter().chain(&delta.added).any(twinned) {
            return false;
        }
        let followed = p.follow(delta, view, &self.apex, &self.zones);
        let _ = self.ptrs.set(Arc::new(followed));
        true
    }

    /// Whether the PTR data is there (derived, shared or followed).
    pub fn is_ready(&self) -> bool {
        self.ptrs.get().is_some()
    }

    fn same_settings(&self, other: &Reverse) -> bool {
        self.ttl == other.ttl && self.zones == other.zones && self.apex == other.apex
    }

    /// Whether `key` (a lowercase wire name outside the domain) is a name
    /// this side may answer: a reverse name.
    #[inline]
    pub(crate) fn covers(key: &[u8]) -> bool {
        (key.ends_with(IN_ADDR) && is_subdomain_exact(key, IN_ADDR))
            || (key.ends_with(IP6) && is_subdomain_exact(key, IP6))
    }

    /// Answers `q` (lowercase name `key`, a reverse name) into `out`, or
    /// `None` when it is to be forwarded.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn answer(
        &self,
        ptrs: &Ptrs,
        q: &Query<'_>,
        key: &[u8],
        out: &mut [u8],
        transport: Transport,
        settings: &crate::dns_config::AnswerSettings,
        meta: &mut Meta,
    ) -> Option<Answer> {
        let zone = self.zones.iter().find(|z| is_subdomain_exact(key, z));
        let found = ptrs.records(key);
        let ours = zone.is_some() || found.is_some();
        if !ours {
            return None;
        }
        let wants_ptr = matches!(q.qtype, Rtype::PTR | Rtype::ANY);
        if found.is_some() && !wants_ptr && zone.is_none() {
            return None;
        }
        if q.qclass != Class::IN {
            return Some(self.write(
                q,
                Rcode::REFUSED,
                &[],
                None,
                out,
                transport,
                settings,
                meta,
            ));
        }
        if let (Some(top), true) = (found, wants_ptr) {
            let mut heads = [[0u8; 12]; PTR_MAX];
            for (h, w) in heads.iter_mut().zip(top.iter()) {
                *h = ptr_head(w.len(), self.ttl);
            }
            let mut rrs: [[&[u8]; 3]; PTR_MAX] = [[&[], &[], &[]]; PTR_MAX];
            for ((rr, h), w) in rrs.iter_mut().zip(&heads).zip(top.iter()) {
                *rr = [h, w.0, w.1];
            }
            return Some(self.write(
                q,
                Rcode::NOERROR,
                rrs.get(..top.len()).unwrap_or_default(),
                None,
                out,
                transport,
                settings,
                meta,
            ));
        }
        let z = zone?;
        if key == &z[..] {
            let rr = match q.qtype {
                Rtype::SOA | Rtype::ANY => Some(self.soa_record(z, self.ttl)),
                Rtype::NS => Some(self.ns_record(z)),
                _ => None,
            };
            if let Some(rr) = rr {
                return Some(self.write(
                    q,
                    Rcode::NOERROR,
                    &[[&rr, &[], &[]]],
                    None,
                    out,
                    transport,
                    settings,
                    meta,
                ));
            }
        }
        let exists = found.is_some() || key == &z[..] || ptrs.above.contains_key(key);
        let rcode = if exists {
            Rcode::NOERROR
        } else {
            Rcode::NXDOMAIN
        };
        let soa = self.soa_record(z, self.negative_ttl);
        Some(self.write(q, rcode, &[], Some(&soa), out, transport, settings, meta))
    }

    fn soa_record(&self, zone: &[u8], ttl: u32) -> Box<[u8]> {
        record(zone, Rtype::SOA, ttl, &self.soa)
    }

    fn ns_record(&self, zone: &[u8]) -> Box<[u8]> {
        record(zone, Rtype::NS, self.ttl, &self.mname)
    }

    /// Writes the response: `answers` (each record in two parts) as many
    /// as fit, `authority` (an SOA) if given, our OPT if the query had one.
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        q: &Query<'_>,
        rcode: Rcode,
        answers: &[[&[u8]; 3]],
        authority: Option<&[u8]>,
        out: &mut [u8],
        transport: Transport,
        settings: &crate::dns_config::AnswerSettings,
        meta: &mut Meta,
    ) -> Answer {
        meta.rcode = rcode;
        let limit = size_limit(q, settings.edns_max, transport).min(out.len());
        let opt = if q.edns.is_some() { OPT_LEN } else { 0 };
        let Some(room) = limit.checked_sub(opt) else {
            return Answer::Drop;
        };
        let mut w = Writer::new(out.get_mut(..room).unwrap_or_default());
        if w.bytes(&[0; HEADER_LEN]).is_err() || w.bytes(q.question).is_err() {
            return Answer::Drop;
        }
        let mut ancount = 0u16;
        let mut cut = false;
        for rr in answers {
            if w.remaining() < rr.iter().map(|p| p.len()).sum()
                || rr.iter().any(|p| w.bytes(p).is_err())
            {
                cut = true;
                break;
            }
            ancount += 1;
        }
        let mut nscount = 0;
        if let Some(soa) = authority {
            if w.bytes(soa).is_ok() {
                nscount = 1;
            }
        }
        let mut end = w.written().len();
        meta.truncated = cut;
        let h = Header {
            id: q.header.id,
            flags: Flags(0)
                .with_qr(true)
                .with_aa(rcode != Rcode::REFUSED)
                .with_tc(cut && transport == Transport::Udp && settings.set_truncate_bit)
                .with_rd(q.header.flags.rd())
                .with_cd(q.header.flags.cd())
                .with_ra(settings.recurse_on)
                .with_rcode(rcode),
            qdcount: 1,
            ancount,
            nscount,
            arcount: u16::from(q.edns.is_some()),
        };
        if let Some(dst) = out.first_chunk_mut::<HEADER_LEN>() {
            *dst = h.to_bytes();
        }
        if let Some(e) = q.edns {
            let ours = our_edns(e, rcode, settings.edns_max);
            let Some(tail) = out.get_mut(end..) else {
                return Answer::Drop;
            };
            if write_opt(&mut Writer::new(tail), &ours).is_err() {
                return Answer::Drop;
            }
            end += OPT_LEN;
        }
        Answer::Reply(end)
    }
}

/// A record with an uncompressed owner.
fn record(owner: &[u8], rtype: Rtype, ttl: u32, rdata: &[u8]) -> Box<[u8]> {
    let mut r = owner.to_vec();
    r.extend_from_slice(&rtype.0.to_be_bytes());
    r.extend_from_slice(&Class::IN.0.to_be_bytes());
    r.extend_from_slice(&ttl.to_be_bytes());
    r.extend_from_slice(&u16::try_from(rdata.len()).unwrap_or(0).to_be_bytes());
    r.extend_from_slice(rdata);
    r.into()
}

#[cfg(test)]
mod tests;
