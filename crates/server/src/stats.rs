//! DNS counters: per-worker, lock-free, summed on demand.
//!
//! Each worker owns one [`WorkerStats`] (cache-line aligned, so two workers
//! never write to the same line). Only its worker writes to it, with a plain
//! relaxed load and store (no locked read-modify-write on the hot path);
//! readers take a [`StatsSnapshot`] that sums every worker. The HTTP API
//! renders the snapshot in `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dns_wire::{Rcode, Rtype};

use crate::answer::Transport;
use crate::table::RecordCounts;

/// Names of the rcode slots: index = rcode value (0..=15), then BADVERS.
pub const RCODE_NAMES: [&str; 17] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
    "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13",
    "RCODE14", "RCODE15", "BADVERS",
];
/// Slot of BADVERS in the rcode counters.
pub const RCODE_BADVERS: usize = 16;

/// Maps a response code to its counter slot (see [`RCODE_NAMES`]).
pub fn rcode_slot(rcode: Rcode) -> usize {
    if rcode == Rcode::BADVERS {
        RCODE_BADVERS
    } else {
        usize::from(rcode.0 & 0xF)
    }
}

/// Names of the qtype slots; the last one counts every other type.
pub const QTYPE_NAMES: [&str; 10] = [
    "A", "AAAA", "SRV", "SOA", "NS", "ANY", "PTR", "TXT", "DS", "other",
];

/// Names of the transport slots.
pub const TRANSPORT_NAMES: [&str; 2] = ["udp", "tcp"];

/// Upper bounds (octets, inclusive) of the answer-size histogram buckets.
pub const SIZE_BUCKETS: [u64; 8] = [64, 128, 256, 512, 1232, 4096, 16384, 65535];

/// Outcomes of one forwarding attempt to one upstream.
pub const FORWARD_OUTCOMES: [&str; 3] = ["ok", "timeout", "error"];

/// Upper bounds (milliseconds, inclusive) of the forward latency buckets;
/// a last, implicit bucket counts everything slower.
pub const LATENCY_BUCKETS_MS: [u64; 9] = [1, 2, 5, 10, 25, 50, 100, 500, 1000];

/// Maps a qtype value to its counter slot.
pub fn qtype_slot(qtype: u16) -> usize {
    match Rtype(qtype) {
        Rtype::A => 0,
        Rtype::AAAA => 1,
        Rtype::SRV => 2,
        Rtype::SOA => 3,
        Rtype::NS => 4,
        Rtype::ANY => 5,
        Rtype::PTR => 6,
        Rtype::TXT => 7,
        Rtype::DS => 8,
        _ => 9,
    }
}

/// Maps an answer size to its histogram slot.
fn size_slot(len: usize) -> usize {
    let len = len as u64;
    SIZE_BUCKETS
        .iter()
        .position(|&b| len <= b)
        .unwrap_or(SIZE_BUCKETS.len() - 1)
}

/// A counter written by exactly one thread.
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Single writer, so a load and a store suffice (no lock prefix).
    #[inline]
    fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Counters of one upstream resolver, written by one worker.
#[derive(Debug, Default)]
struct UpstreamCounters {
    outcomes: [Counter; 3],
    latency: [Counter; LATENCY_BUCKETS_MS.len() + 1],
    /// Sum of the latencies, in microseconds.
    latency_micros: Counter,
}

/// The counters of one worker thread. Only that worker writes them.
#[derive(Debug)]
#[repr(align(128))]
pub struct WorkerStats {
    rcode: [Counter; 17],
    qtype: [Counter; 10],
    transport: [Counter; 2],
    size: [Counter; SIZE_BUCKETS.len()],
    /// Sum of the response sizes, in octets.
    size_sum: Counter,
    truncated: Counter,
    dropped: Counter,
    send_errors: Counter,
    forward_refused: Counter,
    forward_failed: Counter,
    forward_overload: Counter,
    forward_denied: Counter,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_evictions: Counter,
    tcp_accepted: Counter,
    tcp_rejected: Counter,
    upstreams: Box<[UpstreamCounters]>,
}

impl WorkerStats {
    fn new(upstreams: usize) -> Self {
        WorkerStats {
            rcode: Default::default(),
            qtype: Default::default(),
            transport: Default::default(),
            size: Default::default(),
            size_sum: Counter::default(),
            truncated: Counter::default(),
            dropped: Counter::default(),
            send_errors: Counter::default(),
            forward_refused: Counter::default(),
            forward_failed: Counter::default(),
            forward_overload: Counter::default(),
            forward_denied: Counter::default(),
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            cache_evictions: Counter::default(),
            tcp_accepted: Counter::default(),
            tcp_rejected: Counter::default(),
            upstreams: (0..upstreams)
                .map(|_| UpstreamCounters::default())
                .collect(),
        }
    }

    /// Counts one query that got a response.
    pub fn query(
        &self,
        transport: Transport,
        qtype: u16,
        rcode: usize,
        size: usize,
        tc: bool,
    ) {
        self.transport[transport as usize].add(1);
        if let Some(c) = self.qtype.get(qtype_slot(qtype)) {
            c.add(1);
        }
        if let Some(c) = self.rcode.get(rcode) {
            c.add(1);
        }
        if let Some(c) = self.size.get(size_slot(size)) {
            c.add(1);
        }
        self.size_sum.add(size as u64);
        if tc {
            self.truncated.add(1);
        }
    }

    /// Counts a packet dropped without a response (short, QR=1, ...).
    pub fn dropped(&self) {
        self.dropped.add(1);
    }

    /// Counts a response that could not be sent.
    pub fn send_error(&self) {
        self.send_errors.add(1);
    }

    /// Counts a query refused because forwarding is off.
    pub fn forward_refused(&self) {
        self.forward_refused.add(1);
    }

    /// Counts a forwarded query for which every upstream failed.
    pub fn forward_failed(&self) {
        self.forward_failed.add(1);
    }

    /// Counts a query not forwarded because too many were in flight.
    pub fn forward_overload(&self) {
        self.forward_overload.add(1);
    }

    /// Counts a query not forwarded because its client is outside
    /// `AllowRecursion` (answered REFUSED).
    pub fn forward_denied(&self) {
        self.forward_denied.add(1);
    }

    /// Adds what the worker's forward cache did.
    pub(crate) fn forward_cache(&self, c: CacheCounts) {
        if c.hits > 0 {
            self.cache_hits.add(c.hits);
        }
        if c.misses > 0 {
            self.cache_misses.add(c.misses);
        }
        if c.evictions > 0 {
            self.cache_evictions.add(c.evictions);
        }
    }

    /// Counts one attempt to upstream number `upstream`: outcome slot
    /// (0 ok, 1 timeout, 2 error) and its latency.
    pub fn forward_attempt(&self, upstream: usize, outcome: usize, latency: Duration) {
        let Some(u) = self.upstreams.get(upstream) else {
            return;
        };
        if let Some(c) = u.outcomes.get(outcome) {
            c.add(1);
        }
        // Compare in microseconds: 1.5 ms belongs in the 2 ms bucket, not 1 ms.
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        u.latency_micros.add(us);
        let slot = LATENCY_BUCKETS_MS
            .iter()
            .position(|&b| us <= b.saturating_mul(1000))
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        if let Some(c) = u.latency.get(slot) {
            c.add(1);
        }
    }

    /// Counts an accepted (true) or rejected (false) TCP connection.
    pub fn tcp_connection(&self, accepted: bool) {
        if accepted {
            self.tcp_accepted.add(1);
        } else {
            self.tcp_rejected.add(1);
        }
    }
}

/// Forwarding counters of one upstream, summed over workers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpstreamSnapshot {
    /// The upstream address as configured (`ip:port`).
    pub addr: String,
    /// Attempts by outcome, indexed like [`FORWARD_OUTCOMES`].
    pub outcomes: [u64; 3],
    /// Latency histogram, indexed like [`LATENCY_BUCKETS_MS`] plus one
    /// overflow slot (not cumulative).
    pub latency: [u64; LATENCY_BUCKETS_MS.len() + 1],
    /// Sum of the attempts' latencies, in microseconds.
    pub latency_micros: u64,
}

/// A point-in-time sum of every worker's counters. Buckets are not
/// cumulative.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Responses by rcode, indexed like [`RCODE_NAMES`].
    pub rcode: [u64; 17],
    /// Responses by qtype, indexed like [`QTYPE_NAMES`].
    pub qtype: [u64; 10],
    /// Responses by transport, indexed like [`TRANSPORT_NAMES`].
    pub transport: [u64; 2],
    /// Responses by size, indexed like [`SIZE_BUCKETS`].
    pub size: [u64; SIZE_BUCKETS.len()],
    /// Sum of the response sizes, in octets.
    pub size_sum: u64,
    /// Responses sent with TC set or trimmed to fit.
    pub truncated: u64,
    /// Packets dropped without a response.
    pub dropped: u64,
    /// Responses that could not be sent.
    pub send_errors: u64,
    /// Out-of-domain queries refused because `ExternalOn` is false.
    pub forward_refused: u64,
    /// Forwarded queries for which every upstream failed (SERVFAIL).
    pub forward_failed: u64,
    /// Queries refused because too many forwards were in flight.
    pub forward_overload: u64,
    /// Out-of-domain queries refused because the client is outside
    /// `AllowRecursion`.
    pub forward_denied: u64,
    /// Forwarded queries answered from the forward cache.
    pub cache_hits: u64,
    /// Forwarded queries the forward cache did not hold (or held expired).
    pub cache_misses: u64,
    /// Forward cache entries evicted to make room.
    pub cache_evictions: u64,
    /// TCP connections accepted.
    pub tcp_accepted: u64,
    /// TCP connections closed at once because of the connection caps.
    pub tcp_rejected: u64,
    /// Per-upstream forwarding counters.
    pub upstreams: Vec<UpstreamSnapshot>,
    /// Table swaps since start.
    pub table_swaps: u64,
    /// Swaps whose DNS records changed, so the table was compiled.
    pub table_compiles: u64,
    /// Duration of the last compile, in microseconds (0 before the first).
    pub table_compile_micros: u64,
    /// Patched tables compiled again in the background and swapped in.
    pub table_compactions: u64,
    /// Records in the current table, by type.
    pub records: RecordCounts,
    /// Zone transfers: AXFR (whole zone), IXFR (difference), up to date
    /// (single SOA), refused, records sent; NOTIFY sent, acknowledged,
    /// given up on.
    pub xfr: [u64; 8],
}

/// Every worker's counters, plus the table swap counter.
#[derive(Debug)]
pub struct Stats {
    workers: Mutex<Vec<Arc<WorkerStats>>>,
    upstream_names: Vec<String>,
    table_swaps: AtomicU64,
    table_compiles: AtomicU64,
    table_compile_micros: AtomicU64,
    table_compactions: Arc<AtomicU64>,
    xfr: Arc<TransferCounters>,
}

impl Stats {
    /// Counters for a server whose upstreams are, in order, `upstreams`
    /// (the forwarder's flat upstream index).
    pub fn new(upstream_names: Vec<String>) -> Self {
        Stats {
            workers: Mutex::new(Vec::new()),
            upstream_names,
            table_swaps: AtomicU64::new(0),
            table_compiles: AtomicU64::new(0),
            table_compile_micros: AtomicU64::new(0),
            table_compactions: Arc::default(),
            xfr: Arc::default(),
        }
    }

    /// The zone-transfer counters, shared with [`crate::xfr::Transfers`].
    pub fn transfer_counters(&self) -> Arc<TransferCounters> {
        Arc::clone(&self.xfr)
    }

    /// The table compaction counter, shared with the compaction thread
    /// (see [`crate::table::Publisher::start_compaction`]).
    pub fn compaction_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.table_compactions)
    }

    /// Creates and registers the counters of one more worker.
    pub fn worker(&self) -> Arc<WorkerStats> {
        let w = Arc::new(WorkerStats::new(self.upstream_names.len()));
        if let Ok(mut v) = self.workers.lock() {
            v.push(Arc::clone(&w));
        }
        w
    }

    /// Counts one table swap; `compiled` is the compile's duration when
    /// the DNS records changed (an unchanged set reuses the answers).
    pub fn table_swapped(&self, compiled: Option<Duration>) {
        self.table_swaps.fetch_add(1, Relaxed);
        if let Some(d) = compiled {
            self.table_compiles.fetch_add(1, Relaxed);
            let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
            self.table_compile_micros.store(micros, Relaxed);
        }
    }

    /// Sums every worker's counters. `records` comes from the current table.
    pub fn snapshot(&self, records: RecordCounts) -> StatsSnapshot {
        let mut s = StatsSnapshot {
            upstreams: self
                .upstream_names
                .iter()
                .map(|a| UpstreamSnapshot {
                    addr: a.clone(),
                    ..Default::default()
                })
                .collect(),
            table_swaps: self.table_swaps.load(Relaxed),
            table_compiles: self.table_compiles.load(Relaxed),
            table_compile_micros: self.table_compile_micros.load(Relaxed),
            table_compactions: self.table_compactions.load(Relaxed),
            records,
            xfr: self.xfr.snapshot(),
            ..Default::default()
        };
        let workers = match self.workers.lock() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        };
        fn sum<const N: usize>(into: &mut [u64; N], from: &[Counter; N]) {
            for (i, c) in into.iter_mut().zip(from) {
                *i += c.get();
            }
        }
        for w in &workers {
            sum(&mut s.rcode, &w.rcode);
            sum(&mut s.qtype, &w.qtype);
            sum(&mut s.transport, &w.transport);
            sum(&mut s.size, &w.size);
            s.size_sum += w.size_sum.get();
            s.truncated += w.truncated.get();
            s.dropped += w.dropped.get();
            s.send_errors += w.send_errors.get();
            s.forward_refused += w.forward_refused.get();
            s.forward_failed += w.forward_failed.get();
            s.forward_overload += w.forward_overload.get();
            s.forward_denied += w.forward_denied.get();
            s.cache_hits += w.cache_hits.get();
            s.cache_misses += w.cache_misses.get();
            s.cache_evictions += w.cache_evictions.get();
            s.tcp_accepted += w.tcp_accepted.get();
            s.tcp_rejected += w.tcp_rejected.get();
            for (u, c) in s.upstreams.iter_mut().zip(w.upstreams.iter()) {
                sum(&mut u.outcomes, &c.outcomes);
                sum(&mut u.latency, &c.latency);
                u.latency_micros += c.latency_micros.get();
            }
        }
        s
    }
}

/// What a worker's forward cache did since its counters were last taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// Transfer counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct TransferCounters {
    /// AXFR replies started (and IXFR ones answered with the whole zone).
    pub axfr: AtomicU64,
    /// IXFR replies with a difference.
    pub ixfr: AtomicU64,
    /// IXFR replies with the single SOA (the client is up to date).
    pub up_to_date: AtomicU64,
    /// Transfer queries refused (client outside `TransferAllow`).
    pub refused: AtomicU64,
    /// Records sent in transfers.
    pub records: AtomicU64,
    /// NOTIFY messages sent (retries included).
    pub notify_sent: AtomicU64,
    /// NOTIFYs acknowledged by the secondary.
    pub notify_acked: AtomicU64,
    /// NOTIFYs given up on after the last retry.
    pub notify_failed: AtomicU64,
}

impl TransferCounters {
    /// The counts in [`StatsSnapshot::xfr`](StatsSnapshot)
    /// order.
    pub fn snapshot(&self) -> [u64; 8] {
        [
            &self.axfr,
            &self.ixfr,
            &self.up_to_date,
            &self.refused,
            &self.records,
            &self.notify_sent,
            &self.notify_acked,
            &self.notify_failed,
        ]
        .map(|c| c.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_sums_workers() {
        let stats = Stats::new(vec!["127.0.0.1:53".into()]);
        let a = stats.worker();
        let b = stats.worker();
        a.query(Transport::Udp, 1, 0, 56, false);
        b.query(Transport::Tcp, 33, 3, 600, true);
        b.query(Transport::Tcp, 9999, RCODE_BADVERS, 70_000, false);
        a.forward_attempt(0, 1, Duration::from_secs(5));
        b.forward_attempt(0, 0, Duration::from_millis(3));
        a.forward_attempt(7, 0, Duration::ZERO); // unknown upstream: ignored
        stats.table_swapped(Some(Duration::from_micros(1500)));
        stats.table_swapped(None);
        let s = stats.snapshot(RecordCounts::default());
        assert_eq!(s.transport, [1, 2]);
        assert_eq!(s.qtype[0], 1);
        assert_eq!(s.qtype[2], 1);
        assert_eq!(s.qtype[9], 1);
        assert_eq!(s.rcode[0], 1);
        assert_eq!(s.rcode[3], 1);
        assert_eq!(s.rcode[RCODE_BADVERS], 1);
        assert_eq!(s.size[0], 1);
        assert_eq!(s.size[4], 1);
        assert_eq!(s.size[SIZE_BUCKETS.len() - 1], 1);
        assert_eq!(s.size_sum, 56 + 600 + 70_000);
        assert_eq!(s.truncated, 1);
        assert_eq!(s.upstreams[0].outcomes, [1, 1, 0]);
        assert_eq!(s.upstreams[0].latency_micros, 5_003_000);
        assert_eq!(s.upstreams[0].latency[2], 1);
        assert_eq!(s.upstreams[0].latency[LATENCY_BUCKETS_MS.len()], 1);
        assert_eq!(s.table_swaps, 2);
        assert_eq!(s.table_compiles, 1);
        assert_eq!(s.table_compile_micros, 1500);
    }

    #[test]
    fn forward_latency_buckets_are_inclusive_upper_bounds() {
        let stats = Stats::new(vec!["127.0.0.1:53".into()]);
        let w = stats.worker();
        w.forward_attempt(0, 0, Duration::from_micros(1000)); // le 1 ms
        w.forward_attempt(0, 0, Duration::from_micros(1500)); // le 2 ms
        w.forward_attempt(0, 0, Duration::from_micros(2001)); // le 5 ms
        let s = stats.snapshot(RecordCounts::default());
        assert_eq!(s.upstreams[0].latency[..3], [1, 1, 1]);
    }

    #[test]
    fn worker_stats_are_cache_line_aligned() {
        assert!(std::mem::align_of::<WorkerStats>() >= 128);
    }
}
