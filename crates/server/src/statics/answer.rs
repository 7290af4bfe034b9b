//! Answering from the static records: a static name's own records, its
//! CNAME chain (into the Mesos records for A and AAAA), and the static
//! names that hide Mesos names (see the [module docs](super)).

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::{
    write_opt, Class, Flags, Header, Query, Rcode, Rtype, Writer, HEADER_LEN,
    MAX_NAME_LEN, OPT_LEN,
};

use super::{Rr, Statics, MAX_CHAIN};
use crate::answer::reply::{our_edns, Answer, Meta};
use crate::table::{AnswerKind, Lookup, Table};

impl Statics {
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
            let ours = our_edns(e, Rcode::NOERROR, table.settings.edns_max);
            write_opt(&mut Writer::new(out.get_mut(end..)?), &ours).ok()?;
            return Some(Answer::Reply(end + OPT_LEN));
        }
        Some(Answer::Reply(end))
    }
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
