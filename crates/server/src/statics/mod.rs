//! Static records: `StaticZoneFile`, an RFC 1035 master file whose records
//! inside the domain are served beside the Mesos records (issue 20).
//!
//! - **Reading.** [`parse`] reads the file (`$ORIGIN` defaults to the
//!   domain, `$TTL` to `TTL`); [`Statics::build`] keeps the records inside
//!   the domain (others are logged and left out) and rejects a name with a
//!   CNAME and other data (RFC 1034 section 3.6.2). The file is read at
//!   startup and again whenever it changes ([`watch`]); a file that does
//!   not read keeps the records of the last good one, with one error line.
//! - **Collisions.** A static name hides the Mesos records of the same name
//!   (every type): the file is the operator's word, and a task must not be
//!   able to take over a name the operator set by being called like it.
//!   Each publish logs the static names that hide Mesos names, once per
//!   change of that list.
//! - **Answers.** A static name answers from the file alone: its records of
//!   the type asked (ANY: all), else NODATA with the apex SOA. A CNAME is
//!   followed as RFC 1034 section 4.3.2 says: the CNAME, then the target's
//!   records of the type asked, through more static CNAMEs (at most 8), and
//!   into the Mesos records for A and AAAA; a target outside the domain, or
//!   a Mesos target for another type, is left to the resolver. Names above
//!   a static name are empty non-terminals (NODATA, RFC 8020).
//! - `/v1/axfr` lists the static records beside the Mesos ones, and so
//!   does an AXFR over DNS (the Mesos records of a static name left out,
//!   as the answers leave them). IXFR differences carry the Mesos records
//!   only (the journal follows their deltas), and a change of the file
//!   alone keeps the serial: a secondary sees a changed file with its
//!   next whole-zone transfer.

mod parse;
pub mod watch;

use std::collections::{HashMap, HashSet};

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::{
    write_opt, Class, Edns, Flags, Header, Query, Rcode, Rtype, Writer, HEADER_LEN,
    MAX_NAME_LEN, OPT_LEN,
};

pub use parse::{parse, Data, StaticRecord};

use crate::answer::{Answer, Meta};
use crate::table::{AnswerKind, Lookup, Table};

/// One static record in wire form: owner (lowercase), type, TTL, RDATA.
pub(crate) type WireRecord = (Box<[u8]>, Rtype, u32, Box<[u8]>);

/// CNAMEs followed in one answer at most.
const MAX_CHAIN: usize = 8;

/// One record, ready to write after its owner.
#[derive(Clone, Debug)]
struct Rr {
    rtype: Rtype,
    ttl: u32,
    rdata: Box<[u8]>,
}

/// The records of one static name.
#[derive(Clone, Debug, Default)]
struct Node {
    rrs: Vec<Rr>,
    /// The CNAME's target, lowercase wire (its record is in `rrs`).
    cname: Option<Box<[u8]>>,
}

/// The static records in force.
#[derive(Debug, Default)]
pub struct Statics {
    /// Every record kept, in file order.
    pub records: Vec<StaticRecord>,
    names: HashMap<Box<[u8]>, Node>,
    /// Names above a static name, up to the apex (empty non-terminals).
    above: HashSet<Box<[u8]>>,
}

impl Statics {
    /// The records of `records` inside `apex` (lowercase wire); the second
    /// value lists what was left out, one line each.
    ///
    /// # Errors
    ///
    /// A name with a CNAME and other data, or two CNAMEs.
    pub fn build(
        records: Vec<StaticRecord>,
        apex: &[u8],
    ) -> Result<(Self, Vec<String>), String> {
        let mut s = Statics::default();
        let mut skipped = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        for r in records {
            let Ok(wire) = from_dotted(&r.name, &mut buf) else {
                continue;
            };
            if !is_subdomain_exact(wire, apex) {
                skipped.push(format!("{} is outside the domain", r.name));
                continue;
            }
            let key: Box<[u8]> = wire.into();
            let (rtype, rdata, cname) = match &r.data {
                Data::A(ip) => (Rtype::A, ip.octets().to_vec(), None),
                Data::Aaaa(ip) => (Rtype::AAAA, ip.octets().to_vec(), None),
                Data::Srv(prio, weight, port, target) => {
                    let mut d = Vec::new();
                    for v in [prio, weight, port] {
                        d.extend_from_slice(&v.to_be_bytes());
                    }
                    d.extend_from_slice(from_dotted(target, &mut buf).unwrap_or(&[0]));
                    (Rtype::SRV, d, None)
                }
                Data::Txt(strings) => {
                    let mut d = Vec::new();
                    for t in strings {
                        d.push(u8::try_from(t.len()).unwrap_or(255));
                        d.extend_from_slice(t.get(..255).unwrap_or(t));
                    }
                    (Rtype::TXT, d, None)
                }
                Data::Cname(target) => {
                    let t: Box<[u8]> =
                        from_dotted(target, &mut buf).unwrap_or(&[0]).into();
                    (Rtype::CNAME, t.to_vec(), Some(t))
                }
            };
            let node = s.names.entry(key).or_default();
            if node.cname.is_some() || (cname.is_some() && !node.rrs.is_empty()) {
                return Err(format!(
                    "{} has a CNAME and other data (RFC 1034 3.6.2)",
                    r.name
                ));
            }
            node.cname = node.cname.take().or(cname);
            if rdata.len() > usize::from(u16::MAX) {
                continue;
            }
            node.rrs.push(Rr {
                rtype,
                ttl: r.ttl,
                rdata: rdata.into(),
            });
            s.records.push(r);
        }
        for key in s.names.keys() {
            let mut at = 0;
            while let Some(&len) = key.get(at) {
                if len == 0 {
                    break;
                }
                at += 1 + usize::from(len);
                let Some(up) = key.get(at..) else { break };
                if up.len() < apex.len() {
                    break;
                }
                s.above.insert(up.into());
            }
        }
        Ok((s, skipped))
    }

    /// Every static record as (owner in lowercase wire form, type, TTL,
    /// RDATA), by owner then type, for zone transfers.
    pub(crate) fn wire_records(&self) -> Vec<WireRecord> {
        let mut out: Vec<_> = self
            .names
            .iter()
            .flat_map(|(k, node)| {
                node.rrs
                    .iter()
                    .map(|rr| (k.clone(), rr.rtype, rr.ttl, rr.rdata.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// Whether there are no static records.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `key` (lowercase wire) is a static name.
    pub fn has(&self, key: &[u8]) -> bool {
        self.names.contains_key(key)
    }

    /// Whether `key` has static names below it.
    pub(crate) fn is_above(&self, key: &[u8]) -> bool {
        self.above.contains(key)
    }

    /// The static names (text, absolute) that `table`'s Mesos records
    /// also hold, sorted.
    pub fn collisions(&self, table: &Table) -> Vec<String> {
        let mut out: Vec<String> = self
            .records
            .iter()
            .map(|r| r.name.clone())
            .filter(|n| {
                let mut buf = [0u8; MAX_NAME_LEN];
                from_dotted(n, &mut buf)
                    .is_ok_and(|w| !matches!(table.lookup(w, None), Lookup::NxDomain))
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Answers `q` for `key` (lowercase wire, inside the domain) when it is
    /// a static name, within `limit` octets (an OPT record included when
    /// the query had one): `Some(Reply)` when written, `Some(Drop)` when
    /// it did not fit; `None` when it is not static, or is and has no data
    /// of the type asked (NODATA, which the caller writes with the apex
    /// SOA).
    pub(crate) fn answer(
        &self,
        table: &Table,
        q: &Query<'_>,
        key: &[u8],
        out: &mut [u8],
        limit: usize,
        meta: &mut Meta,
    ) -> Option<Answer> {
        let node = self.names.get(key)?;
        let wanted = |rr: &Rr| q.qtype == Rtype::ANY || rr.rtype == q.qtype;
        if (node.cname.is_none() || q.qtype == Rtype::CNAME)
            && !node.rrs.iter().any(wanted)
        {
            return None;
        }
        let body = HEADER_LEN + q.question.len();
        let opt = if q.edns.is_some() { OPT_LEN } else { 0 };
        let room = limit.min(out.len()).saturating_sub(opt);
        if room < body {
            return Some(Answer::Drop);
        }
        let mut w = Cursor {
            out: out.get_mut(..room)?,
            at: body,
            ancount: 0,
            cut: false,
        };
        let mut owner = HEADER_LEN;
        let mut current = node;
        for _ in 0..=MAX_CHAIN {
            match (&current.cname, q.qtype == Rtype::CNAME) {
                (Some(target), false) => {
                    let Some(rr) = current.rrs.first() else { break };
                    let Some(rdata_at) = w.record(owner, rr) else {
                        break;
                    };
                    owner = rdata_at;
                    if let Some(next) = self.names.get(target) {
                        current = next;
                        continue;
                    }
                    if is_subdomain_exact(target, &table.apex) {
                        w.mesos(table, target, q.qtype, owner);
                    }
                    break;
                }
                _ => {
                    for rr in current.rrs.iter().filter(|r| wanted(r)) {
                        if w.record(owner, rr).is_none() {
                            break;
                        }
                    }
                    break;
                }
            }
        }
        let (end, ancount, cut) = (w.at, w.ancount, w.cut);
        meta.rcode = Rcode::NOERROR;
        meta.truncated = cut;
        let h = Header {
            id: q.header.id,
            flags: Flags(0)
                .with_qr(true)
                .with_aa(true)
                .with_tc(cut && table.settings.set_truncate_bit)
                .with_rd(q.header.flags.rd())
                .with_cd(q.header.flags.cd())
                .with_ra(table.settings.recurse_on),
            qdcount: 1,
            ancount,
            nscount: 0,
            arcount: u16::from(q.edns.is_some()),
        };
        let head = out.first_chunk_mut::<HEADER_LEN>()?;
        *head = h.to_bytes();
        out.get_mut(HEADER_LEN..body)?.copy_from_slice(q.question);
        if let Some(e) = q.edns {
            let ours = Edns {
                udp_payload: table.settings.edns_max.max(512),
                ext_rcode: 0,
                version: 0,
                dnssec_ok: e.dnssec_ok,
            };
            write_opt(&mut Writer::new(out.get_mut(end..)?), &ours).ok()?;
            return Some(Answer::Reply(end + OPT_LEN));
        }
        Some(Answer::Reply(end))
    }
}

/// The static records as `/v1/axfr` shows them: `[{"Name", "Type",
/// "TTL", "Value"}]`, values in master-file form.
pub(crate) fn axfr_json(j: &mut crate::http::json::GoJson, s: &Statics) {
    j.begin_array();
    for r in &s.records {
        let (rtype, value) = match &r.data {
            Data::A(ip) => ("A", ip.to_string()),
            Data::Aaaa(ip) => ("AAAA", ip.to_string()),
            Data::Srv(p, w, port, t) => ("SRV", format!("{p} {w} {port} {t}")),
            Data::Cname(t) => ("CNAME", t.clone()),
            Data::Txt(strings) => {
                let quoted: Vec<String> = strings
                    .iter()
                    .map(|t| format!("{:?}", String::from_utf8_lossy(t)))
                    .collect();
                ("TXT", quoted.join(" "))
            }
        };
        j.begin_object();
        j.key("Name");
        j.string(&r.name);
        j.key("Type");
        j.string(rtype);
        j.key("TTL");
        j.uint(u64::from(r.ttl));
        j.key("Value");
        j.string(&value);
        j.end_object();
    }
    j.end_array();
}

/// Writes answer records into a response.
struct Cursor<'o> {
    out: &'o mut [u8],
    at: usize,
    ancount: u16,
    /// A record did not fit.
    cut: bool,
}

impl Cursor<'_> {
    /// Writes `rr` owned by the name at offset `owner`; returns the offset
    /// of its RDATA.
    fn record(&mut self, owner: usize, rr: &Rr) -> Option<usize> {
        let ptr = 0xC000 | u16::try_from(owner).ok().filter(|&o| o < 0x4000)?;
        let len = u16::try_from(rr.rdata.len()).ok()?;
        let mut rec = Vec::with_capacity(12 + rr.rdata.len());
        rec.extend_from_slice(&ptr.to_be_bytes());
        rec.extend_from_slice(&rr.rtype.0.to_be_bytes());
        rec.extend_from_slice(&Class::IN.0.to_be_bytes());
        rec.extend_from_slice(&rr.ttl.to_be_bytes());
        rec.extend_from_slice(&len.to_be_bytes());
        rec.extend_from_slice(&rr.rdata);
        self.raw(&rec).map(|start| start + 12)
    }

    /// Copies a whole record; returns where it starts.
    fn raw(&mut self, rec: &[u8]) -> Option<usize> {
        let start = self.at;
        let Some(dst) = self.out.get_mut(start..start + rec.len()) else {
            self.cut = true;
            return None;
        };
        dst.copy_from_slice(rec);
        self.at += rec.len();
        self.ancount += 1;
        Some(start)
    }

    /// The Mesos A or AAAA records of `target` (lowercase wire), owned by
    /// the name at offset `owner`: rendered from the table's template into
    /// a scratch message whose question is `target`, and copied with their
    /// owner pointer moved.
    fn mesos(&mut self, table: &Table, target: &[u8], qtype: Rtype, owner: usize) {
        let kind = match qtype {
            Rtype::A => AnswerKind::A,
            Rtype::AAAA => AnswerKind::Aaaa,
            _ => return,
        };
        let Lookup::Found(t) = table.lookup(target, Some(kind)) else {
            return;
        };
        let Some(ptr) = u16::try_from(owner).ok().filter(|&o| o < 0x4000) else {
            return;
        };
        let mut scratch = vec![0u8; 4096];
        let start = HEADER_LEN + target.len() + 4;
        if let Some(dst) = scratch.get_mut(HEADER_LEN..HEADER_LEN + target.len()) {
            dst.copy_from_slice(target);
        }
        let end = scratch.len();
        let r = t.render(&mut scratch, start, end);
        let mut at = start;
        for _ in 0..r.ancount {
            // Owner pointer (2), type, class, TTL, RDLENGTH (10), RDATA.
            let Some(len) = scratch.get(at + 10..at + 12) else {
                return;
            };
            let n = 12 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            let Some(rec) = scratch.get_mut(at..at + n) else {
                return;
            };
            if rec.first_chunk::<2>() != Some(&[0xC0, 0x0C]) {
                return;
            }
            rec[..2].copy_from_slice(&(0xC000 | ptr).to_be_bytes());
            let rec = rec.to_vec();
            if self.raw(&rec).is_none() {
                return;
            }
            at += n;
        }
    }
}

#[cfg(test)]
mod tests;
