//! The publish path: from a generated record set to the new table swapped
//! in.
//!
//! A record set whose DNS records equal the served table's (most refreshes
//! of a quiet cluster) is not compiled again: the new table shares the old
//! one's names and templates and keeps its serial. A replaced table is
//! freed on a thread of its own, once every query still reading it is done:
//! freeing a table of a million names takes a while, and must not stall
//! the poller or a DNS worker (see the `retire` module). A table patched
//! by many deltas is compacted in the background (see the `compact`
//! module).

mod compact;
mod retire;

use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use mesos_records::{Delta, RecordSet, View};

use super::apply::Spare;
use super::{SharedTable, Table};
use crate::dns_config::{self, DnsConfig};
use crate::xfr::Transfers;
use compact::Compaction;
use retire::{free_retired, Retired};

/// Compiles record sets into tables and swaps them in.
#[derive(Debug)]
pub struct Publisher {
    shared: Arc<SharedTable>,
    /// The settings tables are compiled under; held for a whole publish,
    /// so a reload and a state load never interleave.
    cfg: Mutex<Settings>,
    /// Replaced tables, to the freeing thread (inline frees if it could not
    /// start).
    retired: Option<mpsc::Sender<Retired>>,
    /// The zone-transfer journal, told of every new serial.
    transfers: Option<Arc<Transfers>>,
    /// The compaction thread, told of every delta patched (see the
    /// `compact` module); unset until started.
    compactor: OnceLock<mpsc::Sender<()>>,
}

/// The settings in force, and those staged for records generated later.
#[derive(Debug)]
struct Settings {
    cfg: DnsConfig,
    /// Settings to apply with the first records generated with generation
    /// settings number `.1` or later (a reload changed `Domain` or
    /// `SOAMname`, which the records and the table must change together).
    staged: Option<(DnsConfig, u64)>,
    /// The table the last delta replaced, to patch in place with the next
    /// one (see the `apply` module); dropped by every other publish.
    spare: Option<Spare>,
    /// The compaction under way (see the `compact` module); ended by
    /// every publish other than a delta's.
    compaction: Option<Compaction>,
    /// The number of the last compaction started.
    next_compaction: u64,
}

impl Settings {
    /// Applies the staged settings when records generated under
    /// generation settings number `epoch` reach them; true if it did.
    /// Staged settings apply with the records generated for them, in full,
    /// since the apex or the nameserver may have changed.
    fn restage(&mut self, epoch: u64) -> bool {
        let due = matches!(self.staged, Some((_, n)) if epoch >= n);
        if due {
            if let Some((cfg, _)) = self.staged.take() {
                self.cfg = cfg;
            }
        }
        due
    }
}

/// What one publish did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// The new table's SOA serial.
    pub serial: u32,
    /// This was the first state load.
    pub first_load: bool,
    /// The DNS records changed, so the table was compiled (otherwise the
    /// answers were reused).
    pub compiled: bool,
    /// The table was compiled by patching the served one (only the
    /// changed answers rendered), not in full.
    pub patched: bool,
    /// Of a patch from a delta: the served table was copied to patch it
    /// (there was no spare free; see the `apply` module).
    pub copied: bool,
    /// Time spent comparing with the old records and compiling.
    pub compile: Duration,
    /// Time spent swapping the new table in.
    pub swap: Duration,
}

impl Publisher {
    /// A publisher into `shared` under `cfg`, with its freeing thread.
    pub fn new(shared: Arc<SharedTable>, cfg: DnsConfig) -> Self {
        let (tx, rx) = mpsc::channel::<Retired>();
        let retired = std::thread::Builder::new()
            .name("table-free".into())
            .spawn(move || free_retired(&rx))
            .ok()
            .map(|_| tx);
        Publisher {
            shared,
            cfg: Mutex::new(Settings {
                cfg,
                staged: None,
                spare: None,
                compaction: None,
                next_compaction: 0,
            }),
            retired,
            transfers: None,
            compactor: OnceLock::new(),
        }
    }

    /// Tells `transfers` of every change published (its IXFR journal).
    pub fn with_transfers(mut self, transfers: Arc<Transfers>) -> Self {
        self.transfers = Some(transfers);
        self
    }

    /// Compiles `set` (unless its DNS records are those served now) and
    /// swaps it in; `now_unix` is the time for a new serial.
    pub fn publish(&self, set: RecordSet, now_unix: u32) -> Published {
        self.publish_generated(set, now_unix, 0)
    }

    /// [`Publisher::publish`] for records generated with generation
    /// settings number `epoch` (see [`Publisher::stage`]).
    pub fn publish_generated(
        &self,
        set: RecordSet,
        now_unix: u32,
        epoch: u64,
    ) -> Published {
        let mut settings = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        let t0 = Instant::now();
        settings.end_patches();
        let restage = settings.restage(epoch);
        let cfg = &settings.cfg;
        let old = self.shared.load();
        let loaded = old.is_loaded();
        let same = !restage && loaded && old.records().same_records(&set);
        let serial =
            dns_config::serial_for(loaded.then(|| (old.serial(), same)), now_unix);
        let set = Arc::new(set);
        let copied = false;
        let (table, patched) = if same {
            (old.with_same_answers(set, cfg), false)
        } else if !loaded {
            (Table::compile_bare(set, cfg, serial), false)
        } else if restage {
            (Table::compile(set, cfg, serial), false)
        } else {
            old.recompile(set, cfg, serial)
        };
        let t1 = Instant::now();
        let swap = self.swap_in(table, &old, restage || !loaded, None);
        self.retire(old);
        if !loaded {
            self.derive_first_ptrs();
        }
        Published {
            serial,
            first_load: !loaded,
            compiled: !same,
            patched,
            copied,
            compile: t1 - t0,
            swap,
        }
    }
}

impl Publisher {
    /// Swaps `table` in for `old` and tells the zone transfers: a new
    /// start when `reset`, else the change (`delta`, or the difference of
    /// the two tables' record sets). Returns the time the swap took.
    fn swap_in(
        &self,
        table: Table,
        old: &Table,
        reset: bool,
        delta: Option<&Delta>,
    ) -> Duration {
        let t = Instant::now();
        self.shared.publish(table);
        let swap = t.elapsed();
        if let Some(x) = &self.transfers {
            let new = self.shared.load();
            match (reset, delta) {
                (true, _) => x.reset(&new),
                (false, Some(d)) => x.published_delta(old, &new, d),
                (false, None) => x.published(old, &new),
            }
        }
        swap
    }

    /// Applies `delta`, the change that leads to the values `view` holds,
    /// to the served table and swaps the result in, in time proportional
    /// to the change (see the `apply` module): the entry point of a
    /// publisher of deltas. `view` must not change after this call (the
    /// table keeps it for the HTTP API of its generation); `delta` must be
    /// the difference between the last view (or record set) published and
    /// `view`. An empty delta keeps the answers and the serial. `epoch`
    /// is as for [`Publisher::publish_generated`]. The first load, staged
    /// settings and whatever a delta cannot patch are compiled in full.
    pub fn publish_delta(
        &self,
        delta: &Delta,
        view: Arc<dyn View>,
        now_unix: u32,
        epoch: u64,
    ) -> Published {
        let mut settings = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        let t0 = Instant::now();
        let restage = settings.restage(epoch);
        let old = self.shared.load();
        let loaded = old.is_loaded();
        let same = !restage && loaded && delta.is_empty();
        let serial =
            dns_config::serial_for(loaded.then(|| (old.serial(), same)), now_unix);
        let spare = settings.spare.take();
        let cfg = &settings.cfg;
        // The spare after this publish: the one before if the answers are
        // the same, the replaced table after a patch, else none.
        let mut copied = false;
        let (table, patched, pending, kept) = if same {
            (old.with_same_answers(view, cfg), false, None, spare)
        } else if !loaded {
            (Table::compile_bare(view, cfg, serial), false, None, None)
        } else if restage {
            (Table::compile_view(view, cfg, serial), false, None, None)
        } else {
            match old.apply(delta, Arc::clone(&view), cfg, serial, spare) {
                Some(a) => {
                    copied = a.copied;
                    (a.table, true, Some(a.names), None)
                }
                None => (
                    old.compile_after(delta, view, cfg, serial),
                    false,
                    None,
                    None,
                ),
            }
        };
        let t1 = Instant::now();
        match &pending {
            Some(names) => {
                if let Some(c) = &mut settings.compaction {
                    c.rendered(names);
                }
            }
            None if !same => settings.compaction = None,
            None => {}
        }
        let swap = self.swap_in(table, &old, restage || !loaded, Some(delta));
        settings.spare = match pending {
            Some(pending) => {
                self.freed_elsewhere();
                Some(old.into_spare(pending))
            }
            None => {
                self.retire(old);
                kept
            }
        };
        drop(settings);
        if patched {
            self.patched();
        }
        if !loaded {
            self.derive_first_ptrs();
        }
        Published {
            serial,
            first_load: !loaded,
            compiled: !same,
            patched,
            copied,
            compile: t1 - t0,
            swap,
        }
    }
}

impl Publisher {
    /// Serves the current records under new settings `cfg` (a reload):
    /// compiled again in full when `answers` (a key the answers depend on
    /// changed: TTL, SOA, SRV weight, flags), with a new serial from
    /// `now_unix`; otherwise the compiled answers are kept and only the
    /// routes and forwarding settings change. Before the first state load
    /// the empty table is replaced by the new settings' empty table.
    /// Queries in progress finish on the old table.
    ///
    /// With settings staged (see [`Publisher::stage`]), `cfg` replaces
    /// them instead, and applies with the records they wait for.
    pub fn reconfigure(&self, cfg: DnsConfig, answers: bool, now_unix: u32) {
        let mut current = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        current.end_patches();
        if let Some((staged, _)) = &mut current.staged {
            *staged = cfg;
            return;
        }
        let old = self.shared.load();
        let table = if !old.is_loaded() {
            Table::empty(&cfg)
        } else if answers {
            let serial = dns_config::serial_for(Some((old.serial(), false)), now_unix);
            Table::compile_view(Arc::clone(old.view()), &cfg, serial)
        } else {
            old.with_same_answers(Arc::clone(old.view()), &cfg)
        };
        self.shared.publish(table);
        if let (Some(x), true) = (&self.transfers, answers) {
            x.reset(&self.shared.load());
        }
        current.cfg = cfg;
        self.retire(old);
    }

    /// Publishes the served records again under a new serial from
    /// `now_unix`, so that the table takes up what the settings share and
    /// may change on their own (the static records, see
    /// [`crate::statics`]): the zone changed, so its serial does too
    /// (RFC 1982's order, as every change), the journal cannot say how
    /// (later IXFRs get the whole zone) and the secondaries are notified.
    pub fn refresh(&self, now_unix: u32) {
        let mut current = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        let old = self.shared.load();
        if !old.is_loaded() {
            return;
        }
        current.end_patches();
        let serial = dns_config::serial_for(Some((old.serial(), false)), now_unix);
        self.shared.publish(Table::compile_view(
            Arc::clone(old.view()),
            &current.cfg,
            serial,
        ));
        if let Some(x) = &self.transfers {
            x.reset(&self.shared.load());
        }
        self.retire(old);
    }

    /// Keeps `cfg` for the first records published with
    /// [`Publisher::publish_generated`] for generation settings number
    /// `epoch` or later: a table and the records it is compiled from must
    /// agree on the `Domain` and `SOAMname`. Until then the table in force
    /// stays.
    pub fn stage(&self, cfg: DnsConfig, epoch: u64) {
        let mut current = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        current.staged = Some((cfg, epoch));
    }

    /// The PTR data of the first table served, derived once it answers
    /// (see [`Table::compile_bare`]).
    fn derive_first_ptrs(&self) {
        let _ = self.shared.load().ptrs();
    }

    /// Hands a replaced table to the freeing thread.
    fn retire(&self, old: Arc<Table>) {
        match &self.retired {
            Some(tx) => {
                // On a send error the thread is gone: `old` is freed here.
                let _ = tx.send(Retired::Table(old));
            }
            None => drop(old),
        }
    }

    /// Tells the freeing thread of a publish that retired no table.
    fn freed_elsewhere(&self) {
        if let Some(tx) = &self.retired {
            let _ = tx.send(Retired::Nothing);
        }
    }

    /// Asks the freeing thread to trim the heap as soon as it has freed
    /// the tables retired so far.
    fn trim_soon(&self) {
        if let Some(tx) = &self.retired {
            let _ = tx.send(Retired::Trim);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{AnswerKind, Lookup};
    use std::net::Ipv4Addr;

    fn set(ip: u8) -> RecordSet {
        let mut rs = RecordSet::default();
        rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, ip));
        rs
    }

    fn key(s: &str) -> Box<[u8]> {
        crate::table::wire_name(s).unwrap()
    }

    #[test]
    fn unchanged_records_keep_the_answers_and_the_serial() {
        let cfg = DnsConfig::default();
        let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let p = Publisher::new(Arc::clone(&shared), cfg);
        let first = p.publish(set(1), 1000);
        assert!(first.first_load && first.compiled);
        assert_eq!(first.serial, 1000);
        let t1 = shared.load();
        let again = p.publish(set(1), 2000);
        assert!(!again.first_load && !again.compiled);
        assert_eq!(again.serial, 1000);
        let t2 = shared.load();
        assert!(Arc::ptr_eq(&t1.compiled, &t2.compiled));
        assert!(!Arc::ptr_eq(&t1, &t2));
        let changed = p.publish(set(2), 2000);
        assert!(changed.compiled);
        assert_eq!(changed.serial, 2000);
        let t3 = shared.load();
        let web = key("web.marathon.mesos.");
        assert!(matches!(
            t3.lookup(&web, Some(AnswerKind::A)),
            Lookup::Found(_)
        ));
        assert!(!Arc::ptr_eq(&t2, &t3));
    }

    #[test]
    fn reconfigure_recompiles_only_for_answer_keys() {
        let cfg = DnsConfig::default();
        let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let p = Publisher::new(Arc::clone(&shared), cfg.clone());
        p.publish(set(1), 1000);
        let t1 = shared.load();
        // Forwarding only: the same answers and serial, new upstreams.
        let upstream: std::net::SocketAddr = "127.0.0.1:5353".parse().unwrap();
        let fwd = DnsConfig {
            resolvers: vec![upstream],
            ..cfg.clone()
        };
        p.reconfigure(fwd.clone(), false, 2000);
        let t2 = shared.load();
        assert!(Arc::ptr_eq(&t1.compiled, &t2.compiled));
        assert_eq!(t2.serial(), 1000);
        assert_eq!(t2.routes.upstreams.get(0, 0).map(|u| u.0), Some(upstream));
        // TTL: compiled again from the same records, with a new serial.
        let ttl = DnsConfig { ttl: 5, ..fwd };
        p.reconfigure(ttl, true, 2000);
        let t3 = shared.load();
        assert!(!Arc::ptr_eq(&t2.compiled, &t3.compiled));
        assert_eq!(t3.serial(), 2000);
        assert!(Arc::ptr_eq(t2.view(), t3.view()));
        assert!(matches!(
            t3.lookup(&key("web.marathon.mesos."), Some(AnswerKind::A)),
            Lookup::Found(_)
        ));
        // The next state load compiles under the new settings.
        assert_eq!(p.publish(set(2), 3000).serial, 3000);
        assert_eq!(
            shared.load().routes.upstreams.get(0, 0).map(|u| u.0),
            Some(upstream)
        );
    }

    #[test]
    fn staged_settings_wait_for_the_records_generated_for_them() {
        let cfg = DnsConfig::default();
        let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let p = Publisher::new(Arc::clone(&shared), cfg.clone());
        p.publish(set(1), 1000);
        let corp = DnsConfig {
            domain: "corp".into(),
            ..cfg
        };
        p.stage(corp, 1);
        // Records of the old generation settings: the old domain stays.
        p.publish_generated(set(1), 2000, 0);
        assert_eq!(shared.load().apex, key("mesos."));
        let mut rs = RecordSet::default();
        rs.insert_a("web.marathon.corp.", Ipv4Addr::new(10, 0, 0, 1));
        let done = p.publish_generated(rs.clone(), 3000, 1);
        assert!(done.compiled && done.serial == 3000);
        let t = shared.load();
        assert_eq!(t.apex, key("corp."));
        assert!(matches!(
            t.lookup(&key("web.marathon.corp."), Some(AnswerKind::A)),
            Lookup::Found(_)
        ));
        // Applied once: later sets compare as usual.
        assert!(!p.publish_generated(rs, 4000, 1).compiled);
    }

    #[test]
    fn a_replaced_table_is_freed_once_its_last_reader_is_done() {
        let cfg = DnsConfig::default();
        let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let p = Publisher::new(Arc::clone(&shared), cfg);
        p.publish(set(1), 1000);
        let reader = shared.load();
        let weak = Arc::downgrade(&reader);
        p.publish(set(2), 1001);
        // The freeing thread waits for this reader.
        std::thread::sleep(Duration::from_millis(20));
        assert!(weak.upgrade().is_some());
        drop(reader);
        let mut freed = false;
        for _ in 0..500 {
            if weak.upgrade().is_none() {
                freed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(freed);
    }
}
