//! The answer table: precompiled responses per (name, qtype), swapped
//! atomically whenever the poller publishes a new record set.
//!
//! Keys are owner names in lowercase, uncompressed wire form, so a query is
//! looked up by lowercasing its name into a stack buffer: no allocation.
//!
//! What the table holds, per name under the domain:
//!
//! - A, AAAA and SRV answers (SRV with one A and one AAAA of each target in
//!   the additional section, as mesos-dns does);
//! - ANY: the union of the name's A, AAAA and SRV answers (mesos-dns's
//!   union, minus its SOA/NS authority noise; RFC 8482 allows either);
//! - at the apex, SOA and NS in the answer section (RFC 1034 §4.3.2), with
//!   the nameserver's A/AAAA as glue when it has records;
//! - every ancestor of a name up to the apex, with no data: an empty
//!   non-terminal answers NODATA, not NXDOMAIN (RFC 8020), which
//!   QNAME-minimising resolvers need.
//!
//! Negative answers (NXDOMAIN and NODATA) share two templates carrying the
//! apex SOA in the authority section, MINIMUM = `SOAMinttl`, TTL =
//! min(`TTL`, `SOAMinttl`) (RFC 2308 §3 and §5).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;
use dns_wire::{Rtype, MAX_NAME_LEN};
use mesos_records::RecordSet;

use crate::dns_config::DnsConfig;
use crate::template::{Builder, Section, Template};

/// A fast hasher for the name map. Keys are our own names, so there is
/// nothing for a client to flood: it only chooses which key to look up.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
}

type NameMap = HashMap<Box<[u8]>, Entry, std::hash::BuildHasherDefault<KeyHasher>>;

/// Record counts of a table, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordCounts {
    /// A records served.
    pub a: u64,
    /// AAAA records served.
    pub aaaa: u64,
    /// SRV records served.
    pub srv: u64,
    /// Owner names with data.
    pub names: u64,
    /// Names or values skipped: outside the domain, with upper case, or not
    /// encodable as a DNS name.
    pub skipped: u64,
}

/// Kinds of precompiled answers per name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    A = 0,
    Aaaa = 1,
    Srv = 2,
    Any = 3,
    Soa = 4,
    Ns = 5,
}

const NONE: u32 = u32::MAX;

/// The templates of one owner name (indexes into `Table::templates`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry([u32; 6]);

impl Default for Entry {
    fn default() -> Self {
        Entry([NONE; 6])
    }
}

/// Per-table settings the answer function reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub recurse_on: bool,
    pub external_on: bool,
    pub set_truncate_bit: bool,
    pub edns_max: u16,
}

/// Where a query goes when its name is not under the domain.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    /// Zone (lowercase wire) and its forwarder group, longest zone first.
    pub zones: Vec<(Box<[u8]>, usize)>,
    /// Whether each group (0 = default resolvers) has any upstream.
    pub has_upstreams: Vec<bool>,
}

/// One immutable generation of everything the server answers from.
#[derive(Debug, Default)]
pub struct Table {
    records: Arc<RecordSet>,
    serial: u32,
    loaded: bool,
    counts: RecordCounts,
    pub(crate) apex: Box<[u8]>,
    pub(crate) settings: Settings,
    pub(crate) routes: Routes,
    names: NameMap,
    templates: Vec<Template>,
    nxdomain: Option<Template>,
    nodata: Option<Template>,
}

/// The table the workers read, swapped whole on every publish.
#[derive(Debug)]
pub struct SharedTable {
    current: ArcSwap<Table>,
    swaps: std::sync::atomic::AtomicU64,
}

impl SharedTable {
    /// Starts with `table` (usually [`Table::empty`]).
    pub fn new(table: Table) -> Self {
        SharedTable {
            current: ArcSwap::from_pointee(table),
            swaps: Default::default(),
        }
    }

    /// Replaces the table; queries already in progress finish on the old one.
    pub fn publish(&self, table: Table) {
        self.current.store(Arc::new(table));
        self.swaps
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The current table (for the HTTP API; workers use a cache).
    pub fn load(&self) -> Arc<Table> {
        self.current.load_full()
    }

    /// How many times a table was published.
    pub fn swaps(&self) -> u64 {
        self.swaps.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The underlying `ArcSwap`, for per-worker `arc_swap::Cache`s.
    pub fn swap(&self) -> &ArcSwap<Table> {
        &self.current
    }
}

/// Lowercase wire form of a dotted name, if it is a valid DNS name.
pub(crate) fn wire_name(text: &str) -> Option<Box<[u8]>> {
    let mut buf = [0u8; MAX_NAME_LEN];
    dns_wire::name::from_dotted(text, &mut buf)
        .ok()
        .map(Into::into)
}

/// Whether every label of a name served in the domain is lowercase
/// letters, digits, `-` or `_` (names with upper case are unreachable in
/// mesos-dns too, since it lowercases questions; others would be rejected by
/// strict clients).
fn servable(text: &str) -> bool {
    text.bytes().all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
    })
}

/// Whether `name` equals `zone` or lies below it (both lowercase wire).
pub(crate) fn in_zone(name: &[u8], zone: &[u8]) -> bool {
    dns_wire::name::is_subdomain(name, zone)
}

impl Table {
    /// The record set this table was compiled from (the HTTP API reads it).
    pub fn records(&self) -> &RecordSet {
        &self.records
    }

    /// The SOA serial of this generation.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// False for the empty table served before the first state load.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Record counts, for `/metrics`.
    pub fn counts(&self) -> RecordCounts {
        self.counts
    }

    /// The table served before the first state load: SERVFAIL for names in
    /// the domain, forwarding for the rest.
    pub fn empty(cfg: &DnsConfig) -> Self {
        let mut t = Table::compile(Arc::new(RecordSet::default()), cfg, 0);
        t.loaded = false;
        t
    }

    /// Compiles every answer for `records` under `cfg`, with SOA `serial`
    /// (see [`crate::dns_config::next_serial`]).
    pub fn compile(records: Arc<RecordSet>, cfg: &DnsConfig, serial: u32) -> Self {
        let apex = wire_name(&cfg.domain).unwrap_or_else(|| Box::new([0]));
        let mut counts = RecordCounts::default();
        // Owner wire name -> (A, AAAA, SRV) text keys of the record set.
        let mut owners: BTreeMap<Box<[u8]>, [Option<&str>; 3]> = BTreeMap::new();
        let keys: [Vec<&str>; 3] = [
            records.a_records().map(|(n, _)| n).collect(),
            records.aaaa_records().map(|(n, _)| n).collect(),
            records.srv_records().map(|(n, _)| n).collect(),
        ];
        for (kind, names) in keys.iter().enumerate() {
            for name in names {
                match wire_name(name).filter(|w| servable(name) && in_zone(w, &apex)) {
                    Some(w) => owners.entry(w).or_default()[kind] = Some(*name),
                    None => counts.skipped += 1,
                }
            }
        }
        let mut c = Compiler {
            cfg,
            records: &records,
            apex: &apex,
            serial,
            scratch: vec![0u8; crate::template::MAX_BODY],
            templates: Vec::new(),
            counts,
        };
        let mut names =
            NameMap::with_capacity_and_hasher(owners.len() * 2, Default::default());
        for (owner, [a, aaaa, srv]) in &owners {
            let mut e = Entry::default();
            e.0[Kind::A as usize] = a.map_or(NONE, |n| c.a(n));
            e.0[Kind::Aaaa as usize] = aaaa.map_or(NONE, |n| c.aaaa(n));
            e.0[Kind::Srv as usize] = srv.map_or(NONE, |n| c.srv(n));
            let is_apex = **owner == *apex;
            if is_apex {
                e.0[Kind::Soa as usize] = c.apex_soa();
                e.0[Kind::Ns as usize] = c.apex_ns();
            }
            e.0[Kind::Any as usize] = c.any(is_apex, *a, *aaaa, *srv);
            c.counts.names += 1;
            names.insert(owner.clone(), e);
            // Empty non-terminals up to the apex (RFC 8020).
            let mut rest: &[u8] = owner;
            while rest.len() > apex.len() {
                let skip = 1 + usize::from(rest.first().copied().unwrap_or(0));
                rest = rest.get(skip..).unwrap_or_default();
                names.entry(rest.into()).or_default();
            }
        }
        let apex_entry = names.entry(apex.clone()).or_default();
        if apex_entry.0[Kind::Soa as usize] == NONE {
            apex_entry.0[Kind::Soa as usize] = c.apex_soa();
            apex_entry.0[Kind::Ns as usize] = c.apex_ns();
            apex_entry.0[Kind::Any as usize] = c.any(true, None, None, None);
        }
        let nxdomain = c.negative();
        let nodata = c.negative();
        let settings = Settings {
            recurse_on: cfg.recurse_on,
            external_on: cfg.external_on,
            set_truncate_bit: cfg.set_truncate_bit,
            edns_max: cfg.edns_max.max(512),
        };
        let mut zones: Vec<(Box<[u8]>, usize)> = cfg
            .zone_resolvers
            .iter()
            .enumerate()
            .filter_map(|(i, (z, _))| {
                wire_name(&z.to_ascii_lowercase()).map(|w| (w, i + 1))
            })
            .collect();
        zones.sort_by_key(|(z, _)| std::cmp::Reverse(z.len()));
        let mut has_upstreams = vec![!cfg.resolvers.is_empty()];
        has_upstreams.extend(cfg.zone_resolvers.iter().map(|(_, r)| !r.is_empty()));
        Table {
            counts: c.counts,
            templates: c.templates,
            records,
            serial,
            loaded: true,
            apex,
            settings,
            routes: Routes {
                zones,
                has_upstreams,
            },
            names,
            nxdomain: Some(nxdomain),
            nodata: Some(nodata),
        }
    }

    /// The template for `key` (lowercase wire) and `kind`, `Err(true)` for
    /// NODATA (the name exists), `Err(false)` for NXDOMAIN.
    pub(crate) fn lookup(
        &self,
        key: &[u8],
        kind: Option<Kind>,
    ) -> Result<&Template, bool> {
        let Some(e) = self.names.get(key) else {
            return Err(false);
        };
        let idx = kind.map_or(NONE, |k| e.0[k as usize]);
        self.templates.get(idx as usize).ok_or(true)
    }

    /// The shared negative template.
    pub(crate) fn negative(&self, exists: bool) -> Option<&Template> {
        if exists {
            self.nodata.as_ref()
        } else {
            self.nxdomain.as_ref()
        }
    }
}

/// Compile-time state: the scratch buffer is reused for every template.
struct Compiler<'a> {
    cfg: &'a DnsConfig,
    records: &'a RecordSet,
    apex: &'a [u8],
    serial: u32,
    scratch: Vec<u8>,
    templates: Vec<Template>,
    counts: RecordCounts,
}

impl Compiler<'_> {
    fn push(&mut self, t: Template) -> u32 {
        self.templates.push(t);
        (self.templates.len() - 1) as u32
    }

    fn a(&mut self, name: &str) -> u32 {
        let ttl = self.cfg.ttl;
        let set = self.records.a(name);
        let mut b = Builder::new(&mut self.scratch);
        let mut n = 0;
        for ip in set.into_iter().flatten() {
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::A, ttl)?;
                b.rdata(&ip.octets())
            });
            n += 1;
        }
        let t = b.finish(true);
        self.counts.a += n;
        self.push(t)
    }

    fn aaaa(&mut self, name: &str) -> u32 {
        let ttl = self.cfg.ttl;
        let set = self.records.aaaa(name);
        let mut b = Builder::new(&mut self.scratch);
        let mut n = 0;
        for ip in set.into_iter().flatten() {
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::AAAA, ttl)?;
                b.rdata(&ip.octets())
            });
            n += 1;
        }
        let t = b.finish(true);
        self.counts.aaaa += n;
        self.push(t)
    }

    fn srv(&mut self, name: &str) -> u32 {
        let mut skipped = 0;
        let mut b = Builder::new(&mut self.scratch);
        let n = write_srv(self.records, self.cfg, name, &mut b, &mut skipped);
        write_srv_additional(self.records, self.cfg, [name], &mut b);
        let t = b.finish(true);
        self.counts.srv += n;
        self.counts.skipped += skipped;
        self.push(t)
    }

    fn any(
        &mut self,
        apex: bool,
        a: Option<&str>,
        aaaa: Option<&str>,
        srv: Option<&str>,
    ) -> u32 {
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
        for ip in a.and_then(|n| records.a(n)).into_iter().flatten() {
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::A, cfg.ttl)?;
                b.rdata(&ip.octets())
            });
        }
        for ip in aaaa.and_then(|n| records.aaaa(n)).into_iter().flatten() {
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::AAAA, cfg.ttl)?;
                b.rdata(&ip.octets())
            });
        }
        if let Some(name) = srv {
            write_srv(records, cfg, name, &mut b, &mut 0);
            write_srv_additional(records, cfg, [name], &mut b);
        }
        let t = b.finish(!apex);
        self.push(t)
    }

    fn apex_soa(&mut self) -> u32 {
        let (cfg, serial) = (self.cfg, self.serial);
        let mut b = Builder::new(&mut self.scratch);
        b.record(Section::Answer, |b| {
            write_soa(b, cfg, serial, None, cfg.ttl)
        });
        let t = b.finish(false);
        self.push(t)
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
            if let Some(ip) = records.a(&cfg.soa_mname).and_then(|s| s.first()) {
                b.record(Section::Additional, |b| {
                    b.owner(&mname, Rtype::A, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            if let Some(ip) = records.aaaa(&cfg.soa_mname).and_then(|s| s.first()) {
                b.record(Section::Additional, |b| {
                    b.owner(&mname, Rtype::AAAA, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
        }
        let t = b.finish(false);
        self.push(t)
    }

    fn negative(&mut self) -> Template {
        let (cfg, serial, apex) = (self.cfg, self.serial, self.apex);
        let mut b = Builder::new(&mut self.scratch);
        let ttl = cfg.ttl.min(cfg.soa_minttl);
        b.record(Section::Authority, |b| {
            write_soa(b, cfg, serial, Some(apex), ttl)
        });
        b.finish(false)
    }
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

/// The SRV answers of `name`; returns how many were written. Targets that
/// are not valid DNS names are skipped and counted.
fn write_srv(
    records: &RecordSet,
    cfg: &DnsConfig,
    name: &str,
    b: &mut Builder<'_>,
    skipped: &mut u64,
) -> u64 {
    let mut n = 0;
    for srv in records.srv(name).into_iter().flatten() {
        let Some(target) = wire_name(srv.target) else {
            *skipped += 1;
            continue;
        };
        b.record(Section::Answer, |b| {
            b.question_owner(Rtype::SRV, cfg.ttl)?;
            b.srv(cfg.srv_weight, srv.port, &target)
        });
        n += 1;
    }
    n
}

/// One A and one AAAA for each distinct SRV target, in the additional
/// section (mesos-dns picks one of each; we pick the lowest).
fn write_srv_additional<'n>(
    records: &RecordSet,
    cfg: &DnsConfig,
    names: impl IntoIterator<Item = &'n str>,
    b: &mut Builder<'_>,
) {
    let mut targets: Vec<&str> = names
        .into_iter()
        .filter_map(|n| records.srv(n))
        .flatten()
        .map(|s| s.target)
        .collect();
    targets.sort_unstable();
    targets.dedup();
    for t in targets {
        let Some(wire) = wire_name(t) else { continue };
        if let Some(ip) = records.a(t).and_then(|s| s.first()) {
            b.record(Section::Additional, |b| {
                b.owner(&wire, Rtype::A, cfg.ttl)?;
                b.rdata(&ip.octets())
            });
        }
        if let Some(ip) = records.aaaa(t).and_then(|s| s.first()) {
            b.record(Section::Additional, |b| {
                b.owner(&wire, Rtype::AAAA, cfg.ttl)?;
                b.rdata(&ip.octets())
            });
        }
        if b.is_full() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(s: &str) -> Box<[u8]> {
        wire_name(s).unwrap()
    }

    #[test]
    fn compiles_names_ancestors_and_skips_unservable() {
        let mut rs = RecordSet::default();
        rs.insert_a("chronos.marathon.mesos.", Ipv4Addr::new(1, 2, 3, 11));
        rs.insert_a("Upper.marathon.mesos.", Ipv4Addr::new(1, 2, 3, 12));
        rs.insert_a("ns1.elsewhere.", Ipv4Addr::new(1, 2, 3, 13));
        let t = Table::compile(Arc::new(rs), &DnsConfig::default(), 7);
        assert_eq!(t.counts().a, 1);
        assert_eq!(t.counts().skipped, 2);
        assert!(t
            .lookup(&key("chronos.marathon.mesos."), Some(Kind::A))
            .is_ok());
        // Empty non-terminal: NODATA.
        assert!(matches!(
            t.lookup(&key("marathon.mesos."), Some(Kind::A)),
            Err(true)
        ));
        assert!(matches!(
            t.lookup(&key("x.mesos."), Some(Kind::A)),
            Err(false)
        ));
        assert!(t.lookup(&key("mesos."), Some(Kind::Soa)).is_ok());
        assert!(t.is_loaded());
        assert_eq!(t.serial(), 7);
        assert!(!Table::empty(&DnsConfig::default()).is_loaded());
    }

    #[test]
    fn table_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Table>();
        check::<SharedTable>();
    }
}
