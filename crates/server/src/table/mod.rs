//! The answer table: precompiled responses per (name, qtype), swapped
//! atomically whenever the poller publishes a new record set.
//!
//! Keys are owner names in lowercase, uncompressed wire form, so a query is
//! looked up by lowercasing its name into a stack buffer: no allocation.
//! Every name of the record set that the wire format can carry is served,
//! whatever octets its labels hold (RFC 2181 section 11), matched
//! case-insensitively for ASCII letters only (RFC 4343); the others are
//! counted ([`RecordCounts::unencodable`]).
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
//!
//! # Layout
//!
//! The data goes one way, and no module imports one above it:
//!
//! - `key` (a record set's text names as the table's wire keys) and
//!   `source` (every read of a record set) at the bottom;
//! - `render`, the templates of a name, from `source` and `key`;
//! - `index`, the name index a lookup reads, with what a lookup asks
//!   (`AnswerKind`) and finds (`Lookup`); `names` collects a compile's
//!   names into one;
//! - `compiled`, what a table is built into: index, templates, counts;
//! - the two drivers, `compile` (every answer of a record set) and `patch`
//!   (only those that changed from the table before), which share the
//!   modules below and not each other;
//! - [`Table`] here, which picks the driver, and `publish` on top.

mod apply;
mod compile;
mod compiled;
mod index;
mod key;
mod names;
mod patch;
mod publish;
mod render;
mod source;

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use mesos_records::{Delta, RecordSet, View};

use crate::dns_config::{AnswerSettings, DnsConfig};
use crate::template::Template;
use compiled::Compiled;
pub use compiled::RecordCounts;
pub(crate) use compiled::ZoneSettings;
pub(crate) use index::{hash, AnswerKind, Lookup};
#[cfg(test)]
pub(crate) use key::test_wire;
use key::wire_name;
pub use publish::{Published, Publisher};

/// Where a query goes when its name is not under the domain.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    /// Zone (lowercase wire) and its forwarder group, longest zone first.
    pub zones: Vec<(Box<[u8]>, usize)>,
    /// Whether each group (0 = default resolvers) has any upstream.
    pub has_upstreams: Vec<bool>,
    /// The groups' upstreams and the other forwarding settings, swapped
    /// with the routes (a reload may change both).
    pub upstreams: Arc<crate::upstreams::Upstreams>,
}

/// What a table was built from: a record set, or the view a delta
/// publisher handed over, whose whole record set is built on the first
/// request that needs it (an HTTP body, a full compile) and kept for the
/// generation.
///
/// A clone shares the built record set: the HTTP API renders its bodies
/// from a clone, without holding the table (a table held is a spare that
/// cannot be patched; see the `apply` module).
#[derive(Clone, Debug)]
pub struct Records {
    view: Arc<dyn View>,
    built: Arc<OnceLock<RecordSet>>,
}

impl Records {
    fn new(view: Arc<dyn View>) -> Self {
        Records {
            view,
            built: Arc::new(OnceLock::new()),
        }
    }

    /// The whole record set (built from the view on the first call).
    pub fn set(&self) -> &RecordSet {
        match self.view.as_record_set() {
            Some(set) => set,
            None => self.built.get_or_init(|| self.view.record_set()),
        }
    }
}

impl Default for Records {
    fn default() -> Self {
        Records::new(Arc::new(RecordSet::default()))
    }
}

/// One immutable generation of everything the server answers from.
#[derive(Debug, Default)]
pub struct Table {
    records: Records,
    serial: u32,
    loaded: bool,
    pub(crate) apex: Box<[u8]>,
    pub(crate) settings: AnswerSettings,
    pub(crate) routes: Routes,
    /// The names and templates, shared with the next table when its DNS
    /// records are the same.
    compiled: Arc<Compiled>,
    /// PTR records and reverse zones (see [`crate::reverse`]).
    pub(crate) reverse: crate::reverse::Reverse,
    /// The static records (see [`crate::statics`]).
    pub(crate) statics: Arc<crate::statics::Statics>,
}

/// The table the workers read, swapped whole on every publish.
#[derive(Debug)]
pub struct SharedTable {
    current: ArcSwap<Table>,
}

impl SharedTable {
    /// Starts with `table` (usually [`Table::empty`]).
    pub fn new(table: Table) -> Self {
        SharedTable {
            current: ArcSwap::from_pointee(table),
        }
    }

    /// Replaces the table; queries already in progress finish on the old
    /// one. The poller counts swaps in [`Stats`](crate::stats::Stats).
    pub fn publish(&self, table: Table) {
        self.current.store(Arc::new(table));
    }

    /// The current table (for the HTTP API; workers use a cache).
    pub fn load(&self) -> Arc<Table> {
        self.current.load_full()
    }

    /// The underlying `ArcSwap`, for per-worker `arc_swap::Cache`s.
    pub fn swap(&self) -> &ArcSwap<Table> {
        &self.current
    }
}

impl Table {
    /// The record set this table was compiled from (the HTTP API reads
    /// it). For a table built from a delta publisher's view, built from
    /// the view on the first call: O(size), once per generation.
    pub fn records(&self) -> &RecordSet {
        self.records.set()
    }

    /// Whether [`Table::records`] answers at once (the record set is held,
    /// or was built already from the view).
    pub fn records_ready(&self) -> bool {
        self.records.view.as_record_set().is_some() || self.records.built.get().is_some()
    }

    /// What this table was built from, to read after the table is let go.
    pub fn shared_records(&self) -> Records {
        self.records.clone()
    }

    /// The view this table was built from (its current values; see
    /// [`View`]).
    pub fn view(&self) -> &Arc<dyn View> {
        &self.records.view
    }

    /// The SOA serial of this generation.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// False for the empty table served before the first state load.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// The settings this table's answers were compiled under (zone
    /// transfers write the same SOA, NS, TTL and SRV weight).
    pub(crate) fn zone(&self) -> ZoneSettings<'_> {
        self.compiled.basis.zone()
    }

    /// Record counts, for `/metrics`.
    pub fn counts(&self) -> RecordCounts {
        self.compiled.counts
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
        Table::compile_view(records, cfg, serial)
    }

    /// [`Table::compile`] of the whole record set of `view` (built from it
    /// if it is not one).
    pub fn compile_view(view: Arc<dyn View>, cfg: &DnsConfig, serial: u32) -> Self {
        let t = Table::compile_bare(view, cfg, serial);
        t.derive_reverse();
        t
    }

    /// [`Table::compile_view`] of the records after `delta`, where `self`
    /// serves those before it (a patch that could not be made): the PTR
    /// data follows `self`'s, in time proportional to the delta, rather
    /// than being derived again from every record.
    pub(crate) fn compile_after(
        &self,
        delta: &Delta,
        view: Arc<dyn View>,
        cfg: &DnsConfig,
        serial: u32,
    ) -> Self {
        let t = Table::compile_bare(view, cfg, serial);
        if !t.reverse.follow(&self.reverse, delta, &**t.view()) {
            t.derive_reverse();
        }
        t
    }

    /// The compiled table of `view`, its PTR data still to come: derived
    /// by the first call of [`Table::ptrs`]. The publisher serves the
    /// first table of a process this way and derives its PTR data right
    /// after the swap (nothing was served before, so no reverse answer is
    /// delayed that was not missing anyway; a reverse query meanwhile
    /// waits for the data): the first forward answers come sooner by the
    /// derivation's time, about that of the compile at 100,000 tasks.
    pub(crate) fn compile_bare(
        view: Arc<dyn View>,
        cfg: &DnsConfig,
        serial: u32,
    ) -> Self {
        let apex = wire_name(&cfg.domain).unwrap_or_else(|| Box::new([0]));
        let records = Records::new(view);
        let compiled = compile::compile(records.set(), cfg, &apex, serial);
        Table::with_compiled(records, cfg, serial, apex, Arc::new(compiled))
    }

    /// Derives the PTR records now (see [`crate::reverse`]), off the query
    /// path; a table built from a delta takes them from the table before
    /// (see the `apply` module).
    fn derive_reverse(&self) {
        self.reverse.ptrs(|| self.records());
    }

    /// The static records this table serves.
    pub fn statics(&self) -> &crate::statics::Statics {
        &self.statics
    }

    /// Whether the whole record set was built from the view (for tests:
    /// a delta must not need it).
    #[cfg(test)]
    pub(crate) fn records_built(&self) -> bool {
        self.records.built.get().is_some()
    }

    /// The PTR records of this table's records.
    pub fn ptrs(&self) -> &Arc<crate::reverse::Ptrs> {
        self.reverse.ptrs(|| self.records())
    }

    /// The table for `records`, with SOA `serial`, patched from `self`
    /// where that is possible (only the names whose answers changed are
    /// rendered; see the `patch` module), else compiled in full. The
    /// second value is true for a patch.
    pub fn recompile(
        &self,
        records: Arc<RecordSet>,
        cfg: &DnsConfig,
        serial: u32,
    ) -> (Self, bool) {
        let apex = wire_name(&cfg.domain).unwrap_or_else(|| Box::new([0]));
        let patched = match self.loaded {
            true => {
                patch::patch(&self.compiled, self.records(), &records, cfg, &apex, serial)
            }
            false => None,
        };
        match patched {
            Some(c) => {
                let records = Records::new(records);
                let c = Arc::new(c);
                let t = Table::with_compiled(records, cfg, serial, apex, c);
                t.derive_reverse();
                (t, true)
            }
            None => (Table::compile(records, cfg, serial), false),
        }
    }

    /// A table for `records` that answers like `self`, whose DNS records
    /// are the same (`RecordSet::same_records`): nothing is compiled.
    pub(crate) fn with_same_answers(
        &self,
        records: Arc<dyn View>,
        cfg: &DnsConfig,
    ) -> Self {
        let compiled = Arc::clone(&self.compiled);
        let records = Records::new(records);
        let t =
            Table::with_compiled(records, cfg, self.serial, self.apex.clone(), compiled);
        if !t.reverse.share(&self.reverse) {
            t.derive_reverse();
        }
        t
    }

    fn with_compiled(
        records: Records,
        cfg: &DnsConfig,
        serial: u32,
        apex: Box<[u8]>,
        compiled: Arc<Compiled>,
    ) -> Self {
        let settings = cfg.answer_settings();
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
        let reverse = crate::reverse::Reverse::new(cfg, &apex, serial);
        Table {
            records,
            serial,
            loaded: true,
            apex,
            settings,
            routes: Routes {
                zones,
                has_upstreams,
                upstreams: Arc::new(crate::upstreams::Upstreams::new(cfg)),
            },
            compiled,
            reverse,
            statics: cfg.statics.load(),
        }
    }

    /// The template for `key` (lowercase wire) and `kind` (`None`: a type
    /// the zone never holds, so at most NODATA).
    #[inline]
    pub(crate) fn lookup(
        &self,
        key: &[u8],
        kind: Option<AnswerKind>,
    ) -> Lookup<Template<'_>> {
        match self.compiled.names.lookup(key, kind) {
            Lookup::Found(i) => self
                .compiled
                .templates
                .get(i)
                .map_or(Lookup::NoData, Lookup::Found),
            Lookup::NoData => Lookup::NoData,
            Lookup::NxDomain => Lookup::NxDomain,
        }
    }

    /// The shared negative template (the same for NXDOMAIN and NODATA).
    #[inline]
    pub(crate) fn negative(&self, _exists: bool) -> Option<Template<'_>> {
        self.compiled.templates.get(self.compiled.negative)
    }

    /// Templates held (identical answers are stored once).
    pub fn templates(&self) -> usize {
        self.compiled.templates.len()
    }

    /// Of [`Table::compiled_bytes`], the name records and templates shared
    /// with the tables patched from the same full compile (held once by
    /// them all).
    pub fn shared_bytes(&self) -> usize {
        self.compiled.names.base_heap_bytes() + self.compiled.templates.base_heap_bytes()
    }

    /// Heap bytes of the compiled names and templates.
    pub fn compiled_bytes(&self) -> usize {
        self.compiled.names.heap_bytes() + self.compiled.templates.heap_bytes()
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
        rs.insert_a("bang!.marathon.mesos.", Ipv4Addr::new(10, 1, 0, 7));
        rs.insert_a(
            "queue-svc\u{e9}.marathon.mesos.",
            Ipv4Addr::new(10, 1, 0, 8),
        );
        rs.insert_a("store..mesos.", Ipv4Addr::new(10, 1, 0, 9));
        let long = format!("_{}._tcp.marathon.mesos.", "c".repeat(63));
        rs.insert_srv(&long, "chronos.marathon.mesos.", 80);
        let t = Table::compile(Arc::new(rs), &DnsConfig::default(), 7);
        assert_eq!(t.counts().a, 4);
        assert_eq!(t.counts().skipped, 3);
        assert_eq!(t.counts().unencodable, 2);
        for name in [
            "chronos.marathon.mesos.",
            "upper.marathon.mesos.",
            "bang!.marathon.mesos.",
            "queue-svc\u{e9}.marathon.mesos.",
        ] {
            assert!(
                matches!(t.lookup(&key(name), Some(AnswerKind::A)), Lookup::Found(_)),
                "{name}"
            );
        }
        // ASCII only: `É` is not `é`.
        assert!(matches!(
            t.lookup(&key("queue-svc\u{c9}.marathon.mesos."), Some(AnswerKind::A)),
            Lookup::NxDomain
        ));
        // Empty non-terminal: NODATA.
        assert!(matches!(
            t.lookup(&key("marathon.mesos."), Some(AnswerKind::A)),
            Lookup::NoData
        ));
        assert!(matches!(
            t.lookup(&key("x.mesos."), Some(AnswerKind::A)),
            Lookup::NxDomain
        ));
        assert!(matches!(
            t.lookup(&key("mesos."), Some(AnswerKind::Soa)),
            Lookup::Found(_)
        ));
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
