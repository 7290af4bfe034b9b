//! What the state sources report, read by the metrics endpoint and the
//! readiness check: [`PollerStatus`] for every source, with
//! [`EventStatus`] for the event stream inside it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use mesos_records::SkipReason;

/// Counters and state for metrics and readiness. All loads are relaxed.
#[derive(Debug, Default)]
pub struct PollerStatus {
    /// The number of the generation settings the last published records
    /// were generated with: 0 for those of the start, else the `epoch`
    /// given to [`Poller::regenerate`](crate::poller::Poller::regenerate).
    pub gen_epoch: AtomicU64,
    /// Unix time in ms of the last successful load; 0 = never.
    pub last_success_ms: AtomicU64,
    /// Failures since the last success.
    pub consecutive_failures: AtomicU64,
    /// Successful loads since start.
    pub loads: AtomicU64,
    /// Failed loads since start.
    pub failures: AtomicU64,
    /// Duration of the last successful fetch and parse, in microseconds.
    pub fetch_micros: AtomicU64,
    /// Duration of the last generation, in microseconds.
    pub generate_micros: AtomicU64,
    /// Size of the last state body, in bytes.
    pub state_bytes: AtomicU64,
    /// Number of records in the last published set.
    pub records: AtomicU64,
    /// Record sets published since start.
    pub publishes: AtomicU64,
    /// Consistency checks in which the live record store differed from a
    /// full generation (the full result was published).
    pub live_differences: AtomicU64,
    /// Leader changes seen (by ZooKeeper or by the state's `leader`).
    pub leader_changes: AtomicU64,
    /// True while a ZooKeeper session is open.
    pub zk_connected: AtomicBool,
    /// True once the `ZkDetectionTimeout` passed, before any state loaded,
    /// without a leader.
    pub detection_timed_out: AtomicBool,
    /// Event-stream counters (all zero when polling).
    pub events: EventStatus,
    /// Items left out by the last load (malformed tasks, bad names, ...).
    pub skipped: AtomicU64,
    /// The current leader (`""` when unknown) and the last known one.
    leader: Mutex<(String, String)>,
    skip_counts: Mutex<Vec<(SkipReason, usize)>>,
}

impl PollerStatus {
    /// True once a state has loaded (the server may answer from then on).
    pub fn ready(&self) -> bool {
        self.last_success_ms.load(Ordering::Relaxed) != 0
    }

    /// The current leader `host:port`, or `""` when unknown.
    pub fn leader(&self) -> String {
        self.leader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// Skips of the last load by reason (zeros left out), for metrics.
    pub fn skip_counts(&self) -> Vec<(SkipReason, usize)> {
        self.skip_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records the skips of the last load.
    pub(crate) fn set_skip_counts(&self, counts: Vec<(SkipReason, usize)>) {
        *self
            .skip_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = counts;
    }

    /// Sets the current leader (`""`: unknown); true when it changed.
    pub(crate) fn set_leader(&self, leader: &str) -> bool {
        let mut l = self.leader.lock().unwrap_or_else(PoisonError::into_inner);
        let (current, last_known) = &mut *l;
        if current == leader {
            return false;
        }
        leader.clone_into(current);
        if !leader.is_empty() {
            // A change is a new leader unlike the last known one, even with
            // an unknown spell in between.
            if !last_known.is_empty() && last_known != leader {
                self.leader_changes.fetch_add(1, Ordering::Relaxed);
            }
            leader.clone_into(last_known);
        }
        true
    }
}

/// Upper bounds of the event-to-publish latency buckets, in seconds.
pub const LATENCY_BOUNDS_SECONDS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Event-to-publish latencies: from a change event's arrival to the end
/// of the publish callback (the table swap), per event.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    counts: [AtomicU64; LATENCY_BOUNDS_SECONDS.len() + 1],
    sum_micros: AtomicU64,
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BOUNDS_SECONDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BOUNDS_SECONDS.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Per-bucket counts (not cumulative; the last one is above every
    /// bound) and the sum in seconds.
    pub fn snapshot(&self) -> (Vec<u64>, f64) {
        let counts = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        (counts, self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6)
    }
}

/// Counters of the event source, for metrics. All zero when polling.
#[derive(Debug, Default)]
pub struct EventStatus {
    /// True while a stream is subscribed.
    pub subscribed: AtomicBool,
    /// `SUBSCRIBED` events received (full resyncs).
    pub subscriptions: AtomicU64,
    /// Events received, heartbeats included.
    pub events: AtomicU64,
    /// Sessions that ended in an error (closed, stalled, corrupt stream).
    pub stream_failures: AtomicU64,
    /// Reconciles against `/master/state` done.
    pub reconciles: AtomicU64,
    /// Reconciles that found records differing from the event-built ones
    /// (after a second look).
    pub reconcile_differences: AtomicU64,
    /// Event-to-publish latency.
    pub latency: LatencyHistogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_changes_count_new_leaders_only() {
        let s = PollerStatus::default();
        let changes = || s.leader_changes.load(Ordering::Relaxed);
        assert!(s.set_leader("10.0.0.1:5050"));
        assert!(!s.set_leader("10.0.0.1:5050"));
        assert_eq!(changes(), 0, "the first leader is not a change");
        // Unknown for a while, then the same leader again: no change.
        assert!(s.set_leader(""));
        assert_eq!(s.leader(), "");
        assert!(s.set_leader("10.0.0.1:5050"));
        assert_eq!(changes(), 0);
        // Unknown, then another leader: one change.
        assert!(s.set_leader(""));
        assert!(s.set_leader("10.0.0.2:5050"));
        assert_eq!(changes(), 1);
        assert!(s.set_leader("10.0.0.3:5050"));
        assert_eq!(changes(), 2);
        assert_eq!(s.leader(), "10.0.0.3:5050");
    }

    #[test]
    fn latency_histogram_buckets_by_upper_bound() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(400));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_secs(10));
        let (counts, sum) = h.snapshot();
        assert_eq!(counts.len(), LATENCY_BOUNDS_SECONDS.len() + 1);
        assert_eq!(counts[0], 1);
        assert_eq!(counts[1], 1);
        assert_eq!(counts[LATENCY_BOUNDS_SECONDS.len()], 1);
        assert!((sum - 10.0014).abs() < 1e-9, "{sum}");
    }
}
