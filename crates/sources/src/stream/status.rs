//! Counters of the event source, read by the metrics endpoint.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

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
