//! Compiling a record set into a table's names and templates.
//!
//! One pass per record kind (A, AAAA, then SRV, whose additional records
//! need every name's addresses), each name's key added to the index as it
//! comes, with its ancestors; then ANY for the names that have more than
//! one kind, and the apex. The only allocations are the index's and the
//! templates' arenas, grown a few times at most.

use std::collections::HashMap;

use dns_wire::{Rtype, MAX_LABEL_LEN, MAX_NAME_LEN};
use mesos_records::RecordSet;

use super::index::{NameIndex, Names, Pending};
use super::{hash, in_zone, source, wire_name, Kind, RecordCounts, NONE};
use crate::dns_config::DnsConfig;
use crate::template::{Builder, Scratch, Section, Templates};

/// What a compile produces.
#[derive(Debug, Default)]
pub(super) struct Compiled {
    pub names: NameIndex,
    pub templates: Templates,
    /// The negative template (apex SOA in the authority section).
    pub negative: u32,
    pub counts: RecordCounts,
}

/// A compiled SRV value list: where it is in `Compiler::lists`, its
/// template and its counts.
#[derive(Clone, Copy, Debug)]
struct SrvTemplate {
    at: usize,
    len: usize,
    template: u32,
    written: u64,
    skipped: u64,
}

struct Compiler<'r> {
    cfg: &'r DnsConfig,
    records: &'r RecordSet,
    apex: &'r [u8],
    serial: u32,
    names: Names,
    templates: Templates,
    scratch: Scratch,
    counts: RecordCounts,
    /// SRV targets of the template being built (reused).
    targets: Vec<&'r str>,
    /// The SRV values of the owner being compiled (reused).
    values: Vec<(&'r str, u16)>,
    /// Every distinct SRV value list compiled so far, end to end: owners
    /// with the same values (`_tcp` and `_udp`, and the like) share one
    /// template, found by the hash of their values.
    lists: Vec<(&'r str, u16)>,
    srv_seen: HashMap<u64, SrvTemplate>,
    /// Names that need an ANY template of their own: the apex, and names
    /// with more than one kind (with the name's text key).
    any: Vec<(u32, &'r str)>,
}

/// Compiles every answer for `records`; `apex` is the domain's wire name.
pub(super) fn compile(
    records: &RecordSet,
    cfg: &DnsConfig,
    apex: &[u8],
    serial: u32,
) -> Compiled {
    let (owners, values) = source::size(records);
    let mut c = Compiler {
        cfg,
        records,
        apex,
        serial,
        names: Names::with_capacity(owners + owners / 4 + 16),
        templates: Templates::with_capacity(owners + 16, values),
        scratch: Scratch::default(),
        counts: RecordCounts::default(),
        targets: Vec::new(),
        values: Vec::new(),
        lists: Vec::new(),
        srv_seen: HashMap::new(),
        any: Vec::new(),
    };
    let apex_id = c.names.add_served(apex, apex);
    let mut buf = [0u8; MAX_NAME_LEN];
    for (name, ips) in source::a(records) {
        let ips = ips.map(|ip| ip.octets());
        c.addresses(name, ips, Kind::A, apex_id, &mut buf, |p| &mut p.glue_a);
    }
    for (name, ips) in source::aaaa(records) {
        let ips = ips.map(|ip| ip.octets());
        c.addresses(name, ips, Kind::Aaaa, apex_id, &mut buf, |p| {
            &mut p.glue_aaaa
        });
    }
    for (name, srvs) in source::srv(records) {
        // An SRV owner that is not served is no glue: only counted.
        if let Some((wire, true)) = c.key(name, &mut buf) {
            let id = c.names.add_served(wire, apex);
            let t = c.srv(srvs);
            c.set(id, Kind::Srv, t, name, apex_id);
        }
    }
    c.finish_any(apex_id);
    let t = c.apex_soa();
    let ns = c.apex_ns();
    if let Some(p) = c.names.get_mut(apex_id) {
        p.kinds[Kind::Soa as usize] = t;
        p.kinds[Kind::Ns as usize] = ns;
    }
    let negative = c.negative();
    c.counts.names = c
        .names
        .names
        .iter()
        .filter(|p| !p.hidden && p.kinds[..3].iter().any(|&t| t != NONE))
        .count() as u64;
    let mut templates = c.templates;
    templates.shrink_to_fit();
    Compiled {
        names: c.names.finish(),
        templates,
        negative,
        counts: c.counts,
    }
}

impl<'r> Compiler<'r> {
    /// One A or AAAA owner: its answer template and first address (glue
    /// for SRV targets), or for a name that is not served, only that glue.
    fn addresses<const N: usize>(
        &mut self,
        name: &'r str,
        mut ips: impl Iterator<Item = [u8; N]>,
        kind: Kind,
        apex_id: u32,
        buf: &mut [u8; MAX_NAME_LEN],
        glue: fn(&mut Pending) -> &mut Option<[u8; N]>,
    ) {
        let Some((wire, served)) = self.key(name, buf) else {
            return;
        };
        if !served {
            let first = ips.next();
            let id = self.names.add(wire, true).0;
            if let Some(p) = self.names.get_mut(id) {
                *glue(p) = first;
            }
            return;
        }
        let id = self.names.add_served(wire, self.apex);
        let rtype = if kind == Kind::A {
            Rtype::A
        } else {
            Rtype::AAAA
        };
        let (ttl, mut first, mut n) = (self.cfg.ttl, None, 0);
        let mut b = Builder::new(&mut self.scratch);
        for ip in ips {
            first.get_or_insert(ip);
            b.record(Section::Answer, |b| {
                b.question_owner(rtype, ttl)?;
                b.rdata(&ip)
            });
            n += 1;
        }
        let t = b.finish(true, &mut self.templates);
        if kind == Kind::A {
            self.counts.a += n;
        } else {
            self.counts.aaaa += n;
        }
        self.set(id, kind, t, name, apex_id);
        if let Some(p) = self.names.get_mut(id) {
            *glue(p) = first;
        }
    }

    /// The wire key of record set name `name` and whether it is served (in
    /// the domain and servable); `None`, counted as skipped, if it is not a
    /// DNS name. Names not served are counted as skipped too.
    fn key<'b>(
        &mut self,
        name: &str,
        buf: &'b mut [u8; MAX_NAME_LEN],
    ) -> Option<(&'b [u8], bool)> {
        let Some((wire, servable)) = wire_key(name, buf) else {
            self.counts.skipped += 1;
            return None;
        };
        let served = servable && in_zone(wire, self.apex);
        if !served {
            self.counts.skipped += 1;
        }
        Some((wire, served))
    }

    /// Records template `t` as name `id`'s answer for `kind`, and notes
    /// when the name needs an ANY template of its own.
    fn set(&mut self, id: u32, kind: Kind, t: u32, name: &'r str, apex_id: u32) {
        let Some(p) = self.names.get_mut(id) else {
            return;
        };
        let had = p.kinds[..3].iter().any(|&t| t != NONE);
        p.kinds[kind as usize] = t;
        if had || id == apex_id {
            self.any.push((id, name));
        }
    }

    /// ANY answers: the union of the name's A, AAAA and SRV answers (the
    /// same template when it has one kind), and at the apex, SOA and NS
    /// first.
    fn finish_any(&mut self, apex_id: u32) {
        let mut any = std::mem::take(&mut self.any);
        any.sort_unstable();
        any.dedup_by_key(|(id, _)| *id);
        for &(id, name) in &any {
            let t = self.any(id == apex_id, Some(name));
            if let Some(p) = self.names.get_mut(id) {
                p.kinds[Kind::Any as usize] = t;
            }
        }
        if any.first().is_none_or(|&(id, _)| id != apex_id) {
            let t = self.any(true, None);
            if let Some(p) = self.names.get_mut(apex_id) {
                p.kinds[Kind::Any as usize] = t;
            }
        }
        for p in self.names.names.iter_mut() {
            if p.kinds[Kind::Any as usize] == NONE {
                if let Some(&t) = p.kinds[..3].iter().find(|&&t| t != NONE) {
                    p.kinds[Kind::Any as usize] = t;
                }
            }
        }
    }

    /// An SRV template: the answers, then one A and one AAAA of each
    /// target in the additional section.
    fn srv(&mut self, srvs: impl Iterator<Item = (&'r str, u16)>) -> u32 {
        self.values.clear();
        self.values.extend(srvs);
        let h = self.values.iter().fold(0u64, |h, &(target, port)| {
            (h.rotate_left(7) ^ hash(target.as_bytes())).wrapping_add(u64::from(port))
        });
        if let Some(seen) = self.srv_seen.get(&h) {
            if self.lists.get(seen.at..seen.at + seen.len) == Some(self.values.as_slice())
            {
                self.counts.srv += seen.written;
                self.counts.skipped += seen.skipped;
                return seen.template;
            }
        }
        let mut b = Builder::new(&mut self.scratch);
        let values = self.values.iter().copied();
        let (written, skipped) = write_srv(&mut b, self.cfg, values, &mut self.targets);
        write_glue(&mut b, self.cfg, &self.names, &mut self.targets);
        let template = b.finish(true, &mut self.templates);
        self.counts.srv += written;
        self.counts.skipped += skipped;
        if let std::collections::hash_map::Entry::Vacant(slot) = self.srv_seen.entry(h) {
            slot.insert(SrvTemplate {
                at: self.lists.len(),
                len: self.values.len(),
                template,
                written,
                skipped,
            });
            self.lists.extend_from_slice(&self.values);
        }
        template
    }

    /// An ANY template: at the apex, SOA and NS; then the A, AAAA and SRV
    /// answers of `name`, with the SRV targets' addresses.
    fn any(&mut self, apex: bool, name: Option<&'r str>) -> u32 {
        let (cfg, records, serial) = (self.cfg, self.records, self.serial);
        let mut b = Builder::new(&mut self.scratch);
        if apex {
            b.record(Section::Answer, |b| {
                write_soa(b, cfg, serial, None, cfg.ttl)
            });
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::NS, cfg.ttl)?;
                b.ns(&wire_name(&cfg.soa_mname).unwrap_or_default())
            });
        }
        if let Some(name) = name {
            for ip in source::a_of(records, name) {
                b.record(Section::Answer, |b| {
                    b.question_owner(Rtype::A, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            for ip in source::aaaa_of(records, name) {
                b.record(Section::Answer, |b| {
                    b.question_owner(Rtype::AAAA, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            write_srv(
                &mut b,
                cfg,
                source::srv_of(records, name),
                &mut self.targets,
            );
            write_glue(&mut b, cfg, &self.names, &mut self.targets);
        }
        b.finish(!apex, &mut self.templates)
    }

    fn apex_soa(&mut self) -> u32 {
        let (cfg, serial) = (self.cfg, self.serial);
        let mut b = Builder::new(&mut self.scratch);
        b.record(Section::Answer, |b| {
            write_soa(b, cfg, serial, None, cfg.ttl)
        });
        b.finish(false, &mut self.templates)
    }

    fn apex_ns(&mut self) -> u32 {
        let (cfg, records) = (self.cfg, self.records);
        let mname = wire_name(&cfg.soa_mname).unwrap_or_default();
        let mut b = Builder::new(&mut self.scratch);
        b.record(Section::Answer, |b| {
            b.question_owner(Rtype::NS, cfg.ttl)?;
            b.ns(&mname)
        });
        // Glue: the nameserver's own addresses, when it is in the domain.
        if in_zone(&mname, self.apex) {
            if let Some(ip) = source::a_of(records, &cfg.soa_mname).next() {
                b.record(Section::Additional, |b| {
                    b.owner(&mname, Rtype::A, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            if let Some(ip) = source::aaaa_of(records, &cfg.soa_mname).next() {
                b.record(Section::Additional, |b| {
                    b.owner(&mname, Rtype::AAAA, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
        }
        b.finish(false, &mut self.templates)
    }

    fn negative(&mut self) -> u32 {
        let (cfg, serial, apex) = (self.cfg, self.serial, self.apex);
        let mut b = Builder::new(&mut self.scratch);
        let ttl = cfg.ttl.min(cfg.soa_minttl);
        b.record(Section::Authority, |b| {
            write_soa(b, cfg, serial, Some(apex), ttl)
        });
        b.finish(false, &mut self.templates)
    }
}

/// The uncompressed wire form of `text` (exactly as
/// [`dns_wire::name::from_dotted`] makes it, `None` where it fails) and
/// whether the name is servable: every label lowercase letters, digits,
/// `-` or `_`. Names with upper case are unreachable in mesos-dns too,
/// since it lowercases questions; others would be rejected by strict
/// clients.
fn wire_key<'b>(text: &str, out: &'b mut [u8; MAX_NAME_LEN]) -> Option<(&'b [u8], bool)> {
    let t = text.as_bytes();
    let t = t.strip_suffix(b".").unwrap_or(t);
    // Branch-free over the octets, so it runs on whole vectors.
    let bad = t.iter().fold(false, |bad, &c| {
        bad | !(c.is_ascii_lowercase()
            | c.is_ascii_digit()
            | (c == b'-')
            | (c == b'_')
            | (c == b'.'))
    });
    let end = 1 + t.len();
    if t.is_empty() {
        *out.first_mut()? = 0;
        return Some((out.get(..1)?, true));
    }
    // The text after a placeholder octet, then each dot (and the
    // placeholder) replaced by the length of the label after it.
    out.get_mut(1..end)?.copy_from_slice(t);
    *out.get_mut(end)? = 0;
    let mut len_at = 0;
    loop {
        let label = next_dot(t, len_at) - len_at;
        if label == 0 || label > MAX_LABEL_LEN {
            return None;
        }
        *out.get_mut(len_at)? = label as u8;
        len_at += 1 + label;
        if len_at >= end {
            break;
        }
    }
    Some((out.get(..=end)?, !bad))
}

/// The index of the first `.` in `t` at or after `from`, or `t.len()`:
/// eight octets at a time.
fn next_dot(t: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut i = from;
    while let Some(w) = t.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*w) ^ (ONES * u64::from(b'.'));
        // The lowest octet flagged is the lowest zero octet of x.
        let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    t.get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == b'.'))
        .map_or(t.len(), |k| i + k)
}

/// The SRV answers of `srvs`, their targets pushed to `targets`; returns
/// how many were written and how many were skipped (a target that is not
/// a DNS name).
fn write_srv<'r>(
    b: &mut Builder<'_>,
    cfg: &DnsConfig,
    srvs: impl Iterator<Item = (&'r str, u16)>,
    targets: &mut Vec<&'r str>,
) -> (u64, u64) {
    let (mut n, mut skipped) = (0, 0);
    let mut buf = [0u8; MAX_NAME_LEN];
    for (target, port) in srvs {
        targets.push(target);
        let Some((wire, _)) = wire_key(target, &mut buf) else {
            skipped += 1;
            continue;
        };
        b.record(Section::Answer, |b| {
            b.question_owner(Rtype::SRV, cfg.ttl)?;
            b.srv(cfg.srv_weight, port, wire)
        });
        n += 1;
    }
    (n, skipped)
}

/// One A and one AAAA for each distinct target in `targets`, in the
/// additional section (mesos-dns picks one of each; we pick the lowest),
/// targets in name order. Empties `targets`.
fn write_glue(
    b: &mut Builder<'_>,
    cfg: &DnsConfig,
    names: &Names,
    targets: &mut Vec<&str>,
) {
    targets.sort_unstable();
    targets.dedup();
    let mut buf = [0u8; MAX_NAME_LEN];
    for t in targets.iter() {
        let Some((wire, _)) = wire_key(t, &mut buf) else {
            continue;
        };
        if let Some(p) = names.find(wire).and_then(|id| names.get(id)) {
            if let Some(ip) = p.glue_a {
                b.record(Section::Additional, |b| {
                    b.owner(wire, Rtype::A, cfg.ttl)?;
                    b.rdata(&ip)
                });
            }
            if let Some(ip) = p.glue_aaaa {
                b.record(Section::Additional, |b| {
                    b.owner(wire, Rtype::AAAA, cfg.ttl)?;
                    b.rdata(&ip)
                });
            }
        }
        if b.is_full() {
            break;
        }
    }
    targets.clear();
}

/// An SOA record owned by `owner` (or the question, at the apex).
fn write_soa(
    b: &mut Builder<'_>,
    cfg: &DnsConfig,
    serial: u32,
    owner: Option<&[u8]>,
    ttl: u32,
) -> Result<(), dns_wire::WireError> {
    match owner {
        Some(o) => b.owner(o, Rtype::SOA, ttl)?,
        None => b.question_owner(Rtype::SOA, ttl)?,
    }
    let mname = wire_name(&cfg.soa_mname).unwrap_or_else(|| Box::new([0]));
    let rname = wire_name(&cfg.soa_rname).unwrap_or_else(|| Box::new([0]));
    b.soa(
        &mname,
        &rname,
        [
            serial,
            cfg.soa_refresh,
            cfg.soa_retry,
            cfg.soa_expire,
            cfg.soa_minttl,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dns_wire::name::from_dotted;
    use proptest::prelude::*;

    /// The definition `wire_key` follows.
    fn servable(text: &str) -> bool {
        text.bytes().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, b'-' | b'_' | b'.')
        })
    }

    fn check(text: &str) {
        let mut a = [0u8; MAX_NAME_LEN];
        let mut b = [0u8; MAX_NAME_LEN];
        let want = from_dotted(text, &mut a)
            .ok()
            .map(|w| (w.to_vec(), servable(text)));
        let got = wire_key(text, &mut b).map(|(w, s)| (w.to_vec(), s));
        assert_eq!(got, want, "{text:?}");
    }

    #[test]
    fn wire_key_is_from_dotted_and_servable_in_one_pass() {
        for text in [
            "",
            ".",
            "..",
            "a",
            "a.",
            "a..",
            ".a",
            "a..b",
            "web.marathon.mesos.",
            "Web.marathon.mesos.",
            "a b.mesos.",
            "_x._tcp.m-1.mesos",
            "*.mesos.",
        ] {
            check(text);
        }
        let label = "a".repeat(63);
        check(&format!("{label}.mesos."));
        check(&format!("{label}b.mesos."));
        // 255 octets exactly, and one more.
        let four = format!("{label}.{label}.{label}.{}.", "a".repeat(61));
        check(&four);
        check(&format!("{label}.{label}.{label}.{}.", "a".repeat(62)));
        check(&four.replace('a', "B"));
    }

    proptest! {
        #[test]
        fn wire_key_matches_on_any_text(text in "[a-cA-C0-9._ *-]{0,300}") {
            check(&text);
        }

        #[test]
        fn wire_key_matches_near_the_length_limits(
            labels in proptest::collection::vec("[a-z]{1,70}", 1..8),
            dot in any::<bool>(),
        ) {
            let text = labels.join(".") + if dot { "." } else { "" };
            check(&text);
        }
    }
}
