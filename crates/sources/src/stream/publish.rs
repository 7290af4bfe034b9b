//! Publishing what the events changed: through the live record store
//! when the generation settings allow it, else as a whole generation;
//! never a cluster with nothing usable.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use mesos_records::generate::generate;
use mesos_records::record::RecordSet;
use mesos_records::Live;

use super::Subscriber;
use crate::shared::{micros, unix_ms};
use crate::update::Update;

impl<P: FnMut(Update)> Subscriber<P> {
    /// Notes whether the cluster has anything usable. While it has not,
    /// the live store is dropped: the first publish after it has again is
    /// a whole one.
    pub(super) fn check_usable(&mut self) {
        let now = self.cluster.unusable();
        match (&self.unusable, &now) {
            (None, Some(why)) => log::warn!(
                "event stream: nothing usable in the state: {why}; keeping old DNS state"
            ),
            (Some(_), None) => log::info!("event stream: the state is usable again"),
            _ => {}
        }
        if now.is_some() {
            self.live = None;
            self.build_after = None;
        }
        self.unusable = now;
    }

    /// Generates records from the event-built cluster.
    pub(super) fn event_records(&mut self, master: &str) -> RecordSet {
        let leader = self.leader_text(master);
        let masters = self.masters();
        let gen = &self.cfg.gen;
        let generated = self
            .cluster
            .with_state(&leader, |state| generate(state, gen, &masters));
        // Skips by reason, for `/metrics` (as the poll loop does).
        self.shared.status.set_skip_counts(generated.skip_counts());
        generated.records
    }

    pub(super) fn publish_events(&mut self, master: &str) {
        let t0 = Instant::now();
        let changes = self.cluster.take_changes();
        if changes.reset || changes.agents || changes.frameworks {
            self.check_usable();
        }
        if self.unusable.is_some() {
            let status = &self.shared.status;
            status.consecutive_failures.fetch_add(1, Ordering::Relaxed);
            status.failures.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let (update, records) = match Live::supports(&self.cfg.gen) {
            true => self.live_update(master, &changes),
            false => {
                let records = self.event_records(master);
                let n = records.len();
                (Update::Full(records), n)
            }
        };
        let status = Arc::clone(&self.shared.status);
        status
            .generate_micros
            .store(micros(t0.elapsed()), Ordering::Relaxed);
        status.records.store(records as u64, Ordering::Relaxed);
        status.consecutive_failures.store(0, Ordering::Relaxed);
        status.loads.fetch_add(1, Ordering::Relaxed);
        status.last_success_ms.store(unix_ms(), Ordering::Relaxed);
        (self.publish)(update);
        status.publishes.fetch_add(1, Ordering::Relaxed);
        if self.live.is_some() && Instant::now() >= self.next_check {
            self.check_live(master);
        }
    }
}
