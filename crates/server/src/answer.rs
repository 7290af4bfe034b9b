//! The sans-IO answer function: query bytes in, response bytes out.
//!
//! [`answer`] is a pure function of the table and the packet (plus the
//! random shuffle), so it is unit-tested, benched and fuzzed without a
//! socket. The request policy, in order (BEHAVIOUR.md 5.2 with the fixes of
//! BEHAVIOUR.md section 0):
//!
//! 1. shorter than a header, or QR set: dropped;
//! 2. OPCODE other than QUERY: NOTIMP (RFC 1035 §4.1.1);
//! 3. malformed, no question or several (RFC 9619): FORMERR;
//! 4. EDNS version above 0: BADVERS (RFC 6891 §6.1.3);
//! 5. a name under the domain: class other than IN is REFUSED; before the
//!    first state load, SERVFAIL; otherwise the precompiled answer, or
//!    NXDOMAIN/NODATA with the apex SOA (RFC 2308); IXFR of the apex, its
//!    SOA (RFC 1995 section 2; zone transfers over TCP are `xfr`'s);
//!    A static name (`StaticZoneFile`) answers from its records instead
//!    ([`crate::statics`]);
//! 6. a reverse name with derived PTR records, or in a `ReverseZones`
//!    zone: answered from the table ([`crate::reverse`]);
//! 7. any other name (and DS at the apex, which belongs to the parent
//!    zone): forwarded to the zone's or the default upstreams, or REFUSED
//!    when `ExternalOn` is false or there is no upstream.
//!
//! Every response echoes the client's question bytes (so its letter case
//! comes back) and carries an OPT record when the query had one, with our
//! payload size and the DO bit copied (RFC 6891 §7, RFC 3225 §3).
//! The `.*` normalization of mesos-dns removes every `*` label after the
//! first from the lookup key (`bob.*.mesos` finds `bob.mesos`).

use dns_wire::name::is_subdomain_exact;
use dns_wire::{
    parse_query, write_formerr, write_opt, Class, Flags, Header, Opcode, Query, Rcode,
    Rtype, Writer, HEADER_LEN, MAX_NAME_LEN, OPT_LEN,
};

pub(crate) mod reply;

pub(crate) use reply::{our_edns, size_limit, Meta};
pub use reply::{Answer, Transport, MAX_TCP_MESSAGE};

use crate::reverse::Reverse;
use crate::table::{AnswerKind, Lookup, Table};

/// Answers `packet`, received over `transport`, into `out` (which should
/// hold at least 512 octets for UDP and 65535 for TCP; a smaller buffer
/// lowers the size limit). See the module docs for the policy.
pub fn answer(
    table: &Table,
    packet: &[u8],
    out: &mut [u8],
    transport: Transport,
) -> Answer {
    answer_meta(table, packet, out, transport).0
}

pub(crate) fn answer_meta(
    table: &Table,
    packet: &[u8],
    out: &mut [u8],
    transport: Transport,
) -> (Answer, Meta) {
    let mut meta = Meta::default();
    let Some(head) = packet.first_chunk::<HEADER_LEN>() else {
        return (Answer::Drop, meta);
    };
    let flags = Header::from_bytes(head).flags;
    if flags.qr() {
        return (Answer::Drop, meta);
    }
    let settings = &table.settings;
    let parsed = parse_query(packet);
    if flags.opcode() != Opcode::QUERY {
        meta.rcode = Rcode::NOTIMP;
        let n = match &parsed {
            Ok(q) => error(q, Rcode::NOTIMP, settings.edns_max, out),
            Err(_) => header_only(packet, Rcode::NOTIMP, out),
        };
        return (n.map_or(Answer::Drop, Answer::Reply), meta);
    }
    let Ok(q) = parsed else {
        meta.rcode = Rcode::FORMERR;
        let n = header_only(packet, Rcode::FORMERR, out);
        return (n.map_or(Answer::Drop, Answer::Reply), meta);
    };
    meta.qtype = q.qtype.0;
    let reply = |rcode: Rcode, out: &mut [u8], meta: &mut Meta| {
        meta.rcode = rcode;
        error(&q, rcode, settings.edns_max, out).map_or(Answer::Drop, Answer::Reply)
    };
    if q.edns.is_some_and(|e| e.version > 0) {
        return (reply(Rcode::BADVERS, out, &mut meta), meta);
    }
    let mut lower = [0u8; KEY_BUF];
    let mut norm: [u8; MAX_NAME_LEN];
    let name = q.question.get(..q.qname.wire_len()).unwrap_or_default();
    let (mut key, star) = lowercase_key(name, &mut lower);
    let raw = key;
    // A stored name may hold `*` labels (a raw DiscoveryInfo name): it is
    // served as it is; other names lose their `*` labels.
    if star && matches!(table.lookup(key, None), Lookup::NxDomain) {
        norm = [0u8; MAX_NAME_LEN];
        key = normalize(key, &mut norm);
    }
    let apex: &[u8] = &table.apex;
    let parent_side = q.qtype == Rtype::DS && key == apex;
    // In the domain: the question itself must end with the apex (not only
    // once its `*` labels are gone), since templates may point into it.
    let in_domain =
        is_subdomain_exact(key, apex) && (!star || is_subdomain_exact(raw, apex));
    if !in_domain && table.is_loaded() && Reverse::covers(key) {
        let ptrs = table.ptrs();
        let r = &table.reverse;
        if let Some(a) = r.answer(ptrs, &q, key, out, transport, settings, &mut meta) {
            return (a, meta);
        }
    }
    if !in_domain || parent_side {
        let group = table
            .routes
            .zones
            .iter()
            .find(|(z, _)| is_subdomain_exact(key, z) && !(parent_side && **z == *key))
            .map_or(0, |&(_, g)| g);
        let has = table
            .routes
            .has_upstreams
            .get(group)
            .copied()
            .unwrap_or(false);
        if !settings.external_on || !has {
            meta.refused_external = true;
            return (reply(Rcode::REFUSED, out, &mut meta), meta);
        }
        return (Answer::Forward { group }, meta);
    }
    if q.qclass != Class::IN {
        return (reply(Rcode::REFUSED, out, &mut meta), meta);
    }
    if !table.is_loaded() {
        return (reply(Rcode::SERVFAIL, out, &mut meta), meta);
    }
    // Static names hide the Mesos records of the same name (`statics`).
    let statics = &table.statics;
    let static_name = !statics.is_empty() && statics.has(key);
    if static_name {
        let limit = size_limit(&q, settings.edns_max, transport).min(out.len());
        if let Some(a) = statics.answer(table, &q, key, out, limit, &mut meta) {
            return (a, meta);
        }
    }
    let kind = match q.qtype {
        Rtype::A => Some(AnswerKind::A),
        Rtype::AAAA => Some(AnswerKind::Aaaa),
        Rtype::SRV => Some(AnswerKind::Srv),
        Rtype::ANY => Some(AnswerKind::Any),
        Rtype::SOA => Some(AnswerKind::Soa),
        Rtype::NS => Some(AnswerKind::Ns),
        // IXFR over UDP: the SOA tells the client whether it is up to date
        // (RFC 1995 section 2); over TCP `xfr` answers before this.
        Rtype::IXFR if key == apex => Some(AnswerKind::Soa),
        _ => None,
    };
    let looked = match table.lookup(key, kind) {
        _ if static_name => Lookup::NoData,
        Lookup::NxDomain if !statics.is_empty() && statics.is_above(key) => {
            Lookup::NoData
        }
        found => found,
    };
    let (template, rcode) = match looked {
        Lookup::Found(t) if t.ancount() > 0 => (Some(t), Rcode::NOERROR),
        Lookup::Found(_) | Lookup::NoData => (table.negative(true), Rcode::NOERROR),
        Lookup::NxDomain => (table.negative(false), Rcode::NXDOMAIN),
    };
    let Some(template) = template else {
        return (reply(Rcode::SERVFAIL, out, &mut meta), meta);
    };
    let limit = size_limit(&q, settings.edns_max, transport).min(out.len());
    let opt_len = if q.edns.is_some() { OPT_LEN } else { 0 };
    let body_start = HEADER_LEN + q.question.len();
    let Some(qdst) = out.get_mut(HEADER_LEN..body_start) else {
        return (Answer::Drop, meta);
    };
    qdst.copy_from_slice(q.question);
    let Some(body_limit) = limit.checked_sub(opt_len).filter(|&l| l >= body_start) else {
        return (Answer::Drop, meta);
    };
    let r = template.render(out, body_start, body_limit);
    let tc = r.answers_cut && transport == Transport::Udp && settings.set_truncate_bit;
    meta.truncated = r.answers_cut;
    meta.rcode = rcode;
    let h = Header {
        id: q.header.id,
        flags: Flags(0)
            .with_qr(true)
            .with_aa(true)
            .with_tc(tc)
            .with_rd(flags.rd())
            .with_cd(flags.cd())
            .with_ra(settings.recurse_on)
            .with_rcode(rcode),
        qdcount: 1,
        ancount: r.ancount,
        nscount: r.nscount,
        arcount: r.arcount + u16::from(q.edns.is_some()),
    };
    if let Some(dst) = out.first_chunk_mut::<HEADER_LEN>() {
        *dst = h.to_bytes();
    }
    let mut end = r.end;
    if let Some(e) = q.edns {
        let Some(tail) = out.get_mut(end..) else {
            return (Answer::Drop, meta);
        };
        let mut w = Writer::new(tail);
        if write_opt(&mut w, &our_edns(e, Rcode::NOERROR, settings.edns_max)).is_err() {
            return (Answer::Drop, meta);
        }
        end += OPT_LEN;
    }
    (Answer::Reply(end), meta)
}

/// A response with no records: header, question, OPT if the query had one.
pub(crate) fn error(
    q: &Query<'_>,
    rcode: Rcode,
    edns_max: u16,
    out: &mut [u8],
) -> Option<usize> {
    let mut w = Writer::new(out);
    q.response_header(rcode).write(&mut w).ok()?;
    w.bytes(q.question).ok()?;
    if let Some(e) = q.edns {
        write_opt(&mut w, &our_edns(e, rcode, edns_max)).ok()?;
    }
    Some(w.len())
}

/// A header-only response (no question could be parsed).
fn header_only(packet: &[u8], rcode: Rcode, out: &mut [u8]) -> Option<usize> {
    let n = write_formerr(packet, out).ok()?;
    let b = out.get_mut(3)?;
    *b = (*b & 0xF0) | (rcode.low() & 0x0F);
    Some(n)
}

/// Room for the longest name rounded up to whole 8-octet words.
const KEY_BUF: usize = MAX_NAME_LEN.next_multiple_of(8);

/// Copies the uncompressed question name `name` into `out` lowercased, eight
/// octets at a time, and says whether any octet is `*`. Length octets are
/// at most 63, below `A`, so the whole wire form can be lowercased; the
/// zeroes after the name in `out` are neither letters nor `*`.
fn lowercase_key<'b>(name: &[u8], out: &'b mut [u8; KEY_BUF]) -> (&'b [u8], bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let len = name.len().min(MAX_NAME_LEN);
    if let (Some(dst), Some(src)) = (out.get_mut(..len), name.get(..len)) {
        dst.copy_from_slice(src);
    }
    let mut star = 0u64;
    for c in out.chunks_exact_mut(8).take(len.div_ceil(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        let low = x & !HIGH;
        // Bit 7 of each byte of `low + 0x3f` is set from `A` up, of
        // `low + 0x25` from `[` up: together, exactly `A..=Z` (ASCII only).
        let upper =
            low.wrapping_add(0x3f * ONES) & !low.wrapping_add(0x25 * ONES) & !x & HIGH;
        let y = x ^ (b'*' as u64 * ONES);
        star |= y.wrapping_sub(ONES) & !y & HIGH;
        c.copy_from_slice(&(x | (upper >> 2)).to_le_bytes());
    }
    (out.get(..len).unwrap_or_default(), star != 0)
}

/// Removes every `*` label after the first (mesos-dns's `.*` stripping).
fn normalize<'b>(lower: &[u8], out: &'b mut [u8; MAX_NAME_LEN]) -> &'b [u8] {
    let mut n = 0;
    let mut i = 0;
    let mut first = true;
    while let Some(&len) = lower.get(i) {
        if len == 0 {
            break;
        }
        let end = i + 1 + usize::from(len);
        let Some(label) = lower.get(i..end) else {
            break;
        };
        if first || label != b"\x01*" {
            if let Some(dst) = out.get_mut(n..n + label.len()) {
                dst.copy_from_slice(label);
                n += label.len();
            }
        }
        first = false;
        i = end;
    }
    if let Some(root) = out.get_mut(n) {
        *root = 0;
    }
    out.get(..=n).unwrap_or_default()
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn lowercase_key_matches_std_and_finds_stars() {
        let names: [&[u8]; 5] = [
            b"\x03Web\x08MaRaThOn\x05mesos\x00",
            b"\x01*\x05MESOS\x00",
            b"\x00",
            b"\x07chr*nos\x05mesos\x00",
            &[b'\x3f'; 255],
        ];
        for name in names {
            let mut buf = [0u8; KEY_BUF];
            let (key, star) = lowercase_key(name, &mut buf);
            assert_eq!(key, name.to_ascii_lowercase().as_slice());
            assert_eq!(star, name.contains(&b'*'), "{name:?}");
        }
        // Every octet value, at every alignment.
        let all: Vec<u8> = (0..=255u8).collect();
        for start in 0..8 {
            let name = &all[start..start + 200];
            let mut buf = [0u8; KEY_BUF];
            let (key, star) = lowercase_key(name, &mut buf);
            assert_eq!(key, name.to_ascii_lowercase().as_slice());
            assert_eq!(star, name.contains(&b'*'));
        }
    }
}

#[cfg(test)]
mod tests;
