//! Compiling a record set into a table's names and templates.
//!
//! One pass per record kind (A, AAAA, then SRV, whose additional records
//! need every name's addresses), each name's key added to the index as it
//! comes, with its ancestors; then ANY for the names that have more than
//! one kind, and the apex. The only allocations are the index's and the
//! templates' arenas, grown a few times at most.
//!
//! Keys are lowercase (RFC 4343), so a name spelled with capitals (a raw
//! DiscoveryInfo name, `SOAMname`) can share its key with other spellings.
//! Those names are rare and compiled last: the spelling without capitals
//! keeps the key (it is the one mesos-dns answers, as it lowercases
//! questions), else the first spelling in byte order; the others are
//! counted as skipped. Each key records its spelling's own records.

use dns_wire::{Rtype, MAX_NAME_LEN};
use mesos_records::RecordSet;

use super::compiled::{Basis, Compiled, RecordCounts};
use super::index::{hash, AnswerKind, NONE};
use super::key::{in_zone, lookup_key};
use super::names::Names;
use super::render::{Renderer, SrvTo};
use super::source;
use crate::dns_config::DnsConfig;
use crate::template::{HashedMap, Templates};

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
    r: Renderer<'r>,
    rs: &'r RecordSet,
    /// Whether every A and AAAA owner is spelled with its trailing dot:
    /// then only the exact spelling of an SRV target gives its glue, read
    /// from the record set by the target's slot (see [`Compiler::srv`]).
    dotted: bool,
    names: Names,
    counts: RecordCounts,
    /// The SRV values of the owner being compiled, and their targets'
    /// slots if known (reused).
    values: Vec<(&'r str, u16)>,
    slots: Vec<Option<usize>>,
    /// Every distinct SRV value list compiled so far, end to end: owners
    /// with the same values (`_tcp` and `_udp`, and the like) share one
    /// template, found by the hash of their values.
    lists: Vec<(&'r str, u16)>,
    srv_seen: HashedMap<SrvTemplate>,
    /// Names that need an ANY template of their own: the apex, and names
    /// with more than one kind (with the name's text key).
    any: Vec<(u32, &'r str)>,
    /// Names spelled with capitals, by kind, compiled after the others.
    capitals: Vec<(&'r str, AnswerKind)>,
    case_keys: Vec<Box<[u8]>>,
}

/// Compiles every answer for `records`; `apex` is the domain's wire name.
pub(super) fn compile(
    records: &RecordSet,
    cfg: &DnsConfig,
    apex: &[u8],
    serial: u32,
) -> Compiled {
    let (owners, values) = source::size(records);
    let templates = Templates::with_capacity(owners + 16, values);
    let mut c = Compiler {
        r: Renderer::new(cfg, records, apex, serial, templates),
        rs: records,
        dotted: true,
        names: Names::with_capacity(owners + owners / 4 + 16),
        counts: RecordCounts::default(),
        values: Vec::new(),
        slots: Vec::new(),
        lists: Vec::new(),
        srv_seen: HashedMap::default(),
        any: Vec::new(),
        capitals: Vec::new(),
        case_keys: Vec::new(),
    };
    let apex_id = c.names.add_served(apex, apex);
    let mut buf = [0u8; MAX_NAME_LEN];
    let a = source::a(records);
    c.batched(
        a,
        |o| o.0,
        AnswerKind::A,
        &mut buf,
        |c, (name, ips), key| {
            let ips = ips.map(|ip| ip.octets());
            c.addresses(name, key, ips, AnswerKind::A, apex_id);
        },
    );
    let aaaa = source::aaaa(records);
    c.batched(
        aaaa,
        |o| o.0,
        AnswerKind::Aaaa,
        &mut buf,
        |c, (name, ips), key| {
            let ips = ips.map(|ip| ip.octets());
            c.addresses(name, key, ips, AnswerKind::Aaaa, apex_id);
        },
    );
    let srv = source::srv_with_slots(records);
    c.batched(
        srv,
        |o| o.0,
        AnswerKind::Srv,
        &mut buf,
        |c, (name, srvs), key| {
            // An SRV owner that is not served is no glue: only counted.
            if let Some((wire, Owner::Served, h)) = key {
                let id = c.names.add_served_hashed(wire, h, apex);
                let t = c.srv(name, srvs.map(|(v, slot)| (v, Some(slot))));
                c.set(id, AnswerKind::Srv, t, name, apex_id);
            }
        },
    );
    c.capitals(apex_id, &mut buf);
    c.finish_any(apex_id);
    let apex_soa_ns = [c.r.apex_soa(), c.r.apex_ns()];
    let negative = c.r.negative();
    c.counts.names = c
        .names
        .names
        .iter()
        .filter(|p| !p.hidden && p.kinds[..3].iter().any(|&t| t != NONE))
        .count() as u64;
    let mut templates = c.r.templates;
    templates.freeze();
    let names = c.names.finish(apex_id, apex_soa_ns);
    let full_len = names.arena_len() + templates.arena_len();
    let mut case_keys = c.case_keys;
    case_keys.sort_unstable();
    case_keys.dedup();
    Compiled {
        names,
        templates,
        negative,
        counts: c.counts,
        basis: Basis::new(cfg, apex),
        full_len,
        case_keys,
    }
}

/// Where a name with a wire form goes ([`Compiler::key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// In the domain: served.
    Served,
    /// Outside the domain: not served (its addresses are still glue).
    Elsewhere,
}

/// How many owners [`Compiler::batched`] looks up ahead of their compile.
const AHEAD: usize = 16;

/// The keys of one batch of owners (see [`Compiler::batched`]).
#[derive(Default)]
struct Ahead {
    keys: Vec<u8>,
    /// Per owner, as [`Compiler::key`] found it: where its key is in
    /// `keys`, where it goes, and the key's hash.
    owners: Vec<Option<(usize, usize, Owner, u64)>>,
}

/// An owner's key as [`Compiler::key`] found it, with the key's hash.
type Key<'a> = Option<(&'a [u8], Owner, u64)>;

impl Ahead {
    fn get(&self, i: usize) -> Key<'_> {
        let (at, end, owner, h) = (*self.owners.get(i)?)?;
        Some((self.keys.get(at..end)?, owner, h))
    }
}

impl<'r> Compiler<'r> {
    /// Compiles `owners` (each named by `name`, owning `kind`) with `one`,
    /// given each owner's key, in batches of [`AHEAD`] whose keys are
    /// found, and index slots read, before the batch is compiled (see
    /// [`Names::warm`]).
    fn batched<T>(
        &mut self,
        mut owners: impl Iterator<Item = T>,
        name: impl Fn(&T) -> &'r str,
        kind: AnswerKind,
        buf: &mut [u8; MAX_NAME_LEN],
        mut one: impl FnMut(&mut Self, T, Key<'_>),
    ) {
        let mut ahead = Ahead::default();
        let mut batch = Vec::with_capacity(AHEAD);
        loop {
            batch.extend(owners.by_ref().take(AHEAD));
            if batch.is_empty() {
                return;
            }
            ahead.keys.clear();
            ahead.owners.clear();
            for owner in &batch {
                let key = self.key(name(owner), kind, buf).map(|(wire, owner)| {
                    let at = ahead.keys.len();
                    ahead.keys.extend_from_slice(wire);
                    (at, ahead.keys.len(), owner, hash(wire))
                });
                ahead.owners.push(key);
            }
            self.names.warm(ahead.owners.iter().flatten().map(|k| k.3));
            for (i, owner) in batch.drain(..).enumerate() {
                one(self, owner, ahead.get(i));
            }
        }
    }

    /// One A or AAAA owner (with its key): its answer template, if it is
    /// served. (Its addresses are glue for SRV targets, served or not,
    /// read from the record set: see [`source::glue_of_key`].)
    fn addresses<const N: usize>(
        &mut self,
        name: &'r str,
        key: Key<'_>,
        ips: impl Iterator<Item = [u8; N]>,
        kind: AnswerKind,
        apex_id: u32,
    ) {
        self.dotted &= name.ends_with('.');
        let Some((wire, Owner::Served, h)) = key else {
            return;
        };
        let id = self.names.add_served_hashed(wire, h, self.r.apex);
        let t = self.render_addresses(kind, name, ips);
        self.set(id, kind, t, name, apex_id);
    }

    /// The A or AAAA template of `ips`, counted.
    fn render_addresses<const N: usize>(
        &mut self,
        kind: AnswerKind,
        owner: &str,
        ips: impl Iterator<Item = [u8; N]>,
    ) -> u32 {
        let rtype = if kind == AnswerKind::A {
            Rtype::A
        } else {
            Rtype::AAAA
        };
        let (t, n) = self.r.addresses(rtype, owner, ips);
        match kind {
            AnswerKind::A => self.counts.a += n,
            _ => self.counts.aaaa += n,
        }
        t
    }

    /// The lowercase wire key of record set name `name` (owning `kind`)
    /// and where it goes; `None` if it is not compiled now: a name the wire
    /// format cannot carry (counted as skipped and unencodable), or one
    /// spelled with capitals (kept for [`Compiler::capitals`]). Names
    /// outside the domain are counted as skipped.
    fn key<'b>(
        &mut self,
        name: &'r str,
        kind: AnswerKind,
        buf: &'b mut [u8; MAX_NAME_LEN],
    ) -> Option<(&'b [u8], Owner)> {
        let Some((wire, upper)) = lookup_key(name, buf) else {
            self.counts.skipped += 1;
            self.counts.unencodable += 1;
            return None;
        };
        if upper {
            self.capitals.push((name, kind));
            return None;
        }
        if in_zone(wire, self.r.apex) {
            return Some((wire, Owner::Served));
        }
        self.counts.skipped += 1;
        Some((wire, Owner::Elsewhere))
    }

    /// The names spelled with capitals, in byte order: each takes its
    /// lowercase key unless another spelling holds data there already (a
    /// name without capitals, compiled before, or an earlier spelling);
    /// then it is counted as skipped. Their addresses are not glue (the
    /// glue of a target spelled with capitals is read by its spelling).
    fn capitals(&mut self, apex_id: u32, buf: &mut [u8; MAX_NAME_LEN]) {
        let mut capitals = std::mem::take(&mut self.capitals);
        capitals.sort_unstable_by_key(|&(name, kind)| (name, kind as u8));
        let records = self.r.records;
        let mut holder: Option<&str> = None;
        for (name, kind) in capitals {
            let Some((key, _)) = lookup_key(name, buf) else {
                continue;
            };
            if !in_zone(key, self.r.apex) {
                self.counts.skipped += 1;
                continue;
            }
            self.case_keys.push(key.into());
            let held = self
                .names
                .find(key)
                .and_then(|id| self.names.get(id))
                .is_some_and(|p| p.kinds[..3].iter().any(|&t| t != NONE));
            if held && holder != Some(name) {
                self.counts.skipped += 1;
                continue;
            }
            holder = Some(name);
            let id = self.names.add_served(key, self.r.apex);
            let t = match kind {
                AnswerKind::A => {
                    let ips = source::a_of(records, name).map(|ip| ip.octets());
                    self.render_addresses(kind, name, ips)
                }
                AnswerKind::Aaaa => {
                    let ips = source::aaaa_of(records, name).map(|ip| ip.octets());
                    self.render_addresses(kind, name, ips)
                }
                _ => self.srv(name, source::srv_of(records, name).map(|v| (v, None))),
            };
            self.set(id, kind, t, name, apex_id);
        }
    }

    /// Records template `t` as name `id`'s answer for `kind`, and notes
    /// when the name needs an ANY template of its own.
    fn set(&mut self, id: u32, kind: AnswerKind, t: u32, name: &'r str, apex_id: u32) {
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
        let rs = self.rs;
        let glue = |_: &[u8], target: &str| source::glue_of_key(rs, target);
        let mut done = Vec::with_capacity(any.len() + 1);
        for &(id, name) in &any {
            done.push((id, self.r.any(id == apex_id, Some(name), &glue)));
        }
        if any.first().is_none_or(|&(id, _)| id != apex_id) {
            done.push((apex_id, self.r.any(true, None, &glue)));
        }
        for (id, t) in done {
            if let Some(p) = self.names.get_mut(id) {
                p.kinds[AnswerKind::Any as usize] = t;
            }
        }
        for p in self.names.names.iter_mut() {
            if p.kinds[AnswerKind::Any as usize] == NONE {
                if let Some(&t) = p.kinds[..3].iter().find(|&&t| t != NONE) {
                    p.kinds[AnswerKind::Any as usize] = t;
                }
            }
        }
    }

    /// An SRV template (shared by owners with the same values, unless a
    /// task label set the owner's TTL), of `srvs` with their targets'
    /// slots if known.
    fn srv(
        &mut self,
        owner: &str,
        srvs: impl Iterator<Item = ((&'r str, u16), Option<usize>)>,
    ) -> u32 {
        self.values.clear();
        self.slots.clear();
        for (v, slot) in srvs {
            self.values.push(v);
            self.slots.push(slot);
        }
        if self.r.records.ttl_of(owner).is_some() {
            return self.render_srv(owner).0;
        }
        let h = self.values.iter().fold(0u64, |h, &(target, port)| {
            (h.rotate_left(7) ^ hash(target.as_bytes())).wrapping_add(u64::from(port))
        });
        if let Some(seen) = self.srv_seen.get(&h) {
            if self.lists.get(seen.at..seen.at + seen.len) == Some(self.values.as_slice())
            {
                self.counts.srv += seen.written;
                self.counts.skipped += seen.skipped;
                self.counts.unencodable += seen.skipped;
                return seen.template;
            }
        }
        let (template, written, skipped) = self.render_srv(owner);
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

    /// The SRV template of `owner`'s values in `self.values`, counted:
    /// with how many values were written and skipped. A target's glue is
    /// read by its slot where that gives the same as its key (every A and
    /// AAAA owner spelled with its dot, and so the target), else looked
    /// up by both spellings.
    fn render_srv(&mut self, owner: &str) -> (u32, u64, u64) {
        let (rs, dotted) = (self.rs, self.dotted);
        let values = self
            .values
            .iter()
            .zip(&self.slots)
            .map(|(&(t, port), slot)| {
                let known = slot.filter(|_| dotted && t.ends_with('.'));
                SrvTo {
                    target: t,
                    port,
                    glue: known.map(|slot| source::first_addresses_at(rs, slot)),
                }
            });
        let glue = |_: &[u8], target: &str| source::glue_of_key(rs, target);
        let (template, written, skipped) = self.r.srv(owner, values, &glue);
        self.counts.srv += written;
        // The values skipped are those whose target cannot be encoded.
        self.counts.skipped += skipped;
        self.counts.unencodable += skipped;
        (template, written, skipped)
    }
}
