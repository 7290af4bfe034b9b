//! `/metrics` in the Prometheus text exposition format, version 0.0.4:
//! which families are published and where their values come from; the
//! format itself is written by [`Exposition`].
//!
//! Families: the table (`mesosdns_records`, serial, loaded), the state
//! poller (`mesosdns_state_*`, leader changes), the DNS workers
//! (`mesosdns_dns_*`, from a [`StatsSnapshot`]), the HTTP server itself
//! (`mesosdns_http_*`) and the process's memory (`memory`).

mod exposition;
mod memory;

use std::sync::atomic::Ordering;

use mesos_sources::status::{EventStatus, PollerStatus, LATENCY_BOUNDS_SECONDS};

use super::endpoint::Endpoint;
use super::{ApiContext, HttpStats, STATUS_CODES};
use crate::guard::PublishGuard;
use crate::stats::{
    StatsSnapshot, FORWARD_OUTCOMES, LATENCY_BUCKETS_MS, QTYPE_NAMES, RCODE_NAMES,
    SIZE_BUCKETS, TRANSPORT_NAMES,
};
use crate::table::Table;
use mesos_records::SkipReason;

pub use exposition::{Exposition, MetricType};

/// Renders the whole `/metrics` page.
pub fn render(ctx: &ApiContext, stats: &HttpStats, table: &Table) -> String {
    let mut e = Exposition::new();
    e.family(
        "mesosdns_build_info",
        MetricType::Gauge,
        "Always 1; the version label says which mesos-dns-rs runs.",
    );
    e.sample(
        "mesosdns_build_info",
        &[("version", &ctx.settings.load().version)],
        1,
    );
    let (ok, error) = ctx.settings.reloads();
    e.family(
        "mesosdns_config_reloads_total",
        MetricType::Counter,
        "Config reloads on SIGHUP, by result: ok (applied) or error (rejected whole).",
    );
    e.sample("mesosdns_config_reloads_total", &[("result", "ok")], ok);
    e.sample(
        "mesosdns_config_reloads_total",
        &[("result", "error")],
        error,
    );
    table_families(&mut e, table);
    snapshot_families(&mut e, &ctx.snapshot);
    guard_families(&mut e, &ctx.guard);
    poller_families(&mut e, &ctx.poller);
    if let Some(dns) = &ctx.dns {
        dns_families(&mut e, &dns.snapshot(table.counts()));
    }
    http_families(&mut e, stats);
    memory::memory_families(&mut e);
    e.finish()
}

fn snapshot_families(e: &mut Exposition, s: &crate::snapshot::SnapshotStatus) {
    let serving = s.serving();
    single(
        e,
        "mesosdns_snapshot_serving",
        MetricType::Gauge,
        "1 while the answers come from the state snapshot read at startup (StateSnapshotFile), \
         0 once a live state load replaced it.",
        u64::from(serving.is_some()),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    single(
        e,
        "mesosdns_snapshot_age_seconds",
        MetricType::Gauge,
        "Age of the state snapshot served now (0 when none is).",
        serving.map_or(0, |made| now.saturating_sub(made)),
    );
    let (ok, error) = s.writes();
    e.family(
        "mesosdns_snapshot_writes_total",
        MetricType::Counter,
        "State snapshots written (records unchanged only refresh the file's time), by result.",
    );
    e.sample("mesosdns_snapshot_writes_total", &[("result", "ok")], ok);
    e.sample(
        "mesosdns_snapshot_writes_total",
        &[("result", "error")],
        error,
    );
}

/// One family with one unlabelled sample.
fn single(e: &mut Exposition, name: &str, kind: MetricType, help: &str, value: u64) {
    e.family(name, kind, help);
    e.sample(name, &[], value);
}

/// The hold-down counters (issue 22).
fn guard_families(e: &mut Exposition, guard: &PublishGuard) {
    single(
        e,
        "mesosdns_hold_down_held_total",
        MetricType::Counter,
        "State loads held back by HoldDownFraction (the served records kept).",
        guard.holds.load(Ordering::Relaxed),
    );
    single(
        e,
        "mesosdns_hold_down_released_total",
        MetricType::Counter,
        "Held-back state loads published when the same shrink was seen again.",
        guard.releases.load(Ordering::Relaxed),
    );
}

fn table_families(e: &mut Exposition, table: &Table) {
    let counts = table.counts();
    e.family(
        "mesosdns_records",
        MetricType::Gauge,
        "Records served from the current table, by type.",
    );
    for (rtype, n) in [("A", counts.a), ("AAAA", counts.aaaa), ("SRV", counts.srv)] {
        e.sample("mesosdns_records", &[("type", rtype)], n);
    }
    single(
        e,
        "mesosdns_record_names",
        MetricType::Gauge,
        "Owner names with data in the current table.",
        counts.names,
    );
    single(
        e,
        "mesosdns_records_skipped",
        MetricType::Gauge,
        "Generated names or values the current table does not serve (outside the domain, not encodable, or a spelling with capitals of a name another spelling holds).",
        counts.skipped,
    );
    single(
        e,
        "mesosdns_records_unencodable",
        MetricType::Gauge,
        "Generated names the DNS wire format cannot carry (an empty label, a label over 63 octets, a name over 255 octets), per record type or SRV value.",
        counts.unencodable,
    );
    single(
        e,
        "mesosdns_table_loaded",
        MetricType::Gauge,
        "1 once the first Mesos state load produced a table, else 0.",
        u64::from(table.is_loaded()),
    );
    single(
        e,
        "mesosdns_soa_serial",
        MetricType::Gauge,
        "The SOA serial of the current table.",
        u64::from(table.serial()),
    );
}

fn poller_families(e: &mut Exposition, p: &PollerStatus) {
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    e.family(
        "mesosdns_state_last_success_timestamp_seconds",
        MetricType::Gauge,
        "Unix time of the last successful Mesos state load (0: never).",
    );
    e.sample_f64(
        "mesosdns_state_last_success_timestamp_seconds",
        &[],
        get(&p.last_success_ms) as f64 / 1000.0,
    );
    single(
        e,
        "mesosdns_state_loads_total",
        MetricType::Counter,
        "Successful Mesos state loads.",
        get(&p.loads),
    );
    single(
        e,
        "mesosdns_state_failures_total",
        MetricType::Counter,
        "Failed Mesos state loads.",
        get(&p.failures),
    );
    single(
        e,
        "mesosdns_state_consecutive_failures",
        MetricType::Gauge,
        "Failed Mesos state loads since the last success.",
        get(&p.consecutive_failures),
    );
    e.family(
        "mesosdns_state_skipped",
        MetricType::Gauge,
        "What the last state load left out or changed, by reason: malformed or unresolved parts, and with HealthFilter or TaskLabelPolicy the tasks left out (unhealthy, excluded_by_label), the names served whole (health_fail_open) and the bad labels (bad_task_label).",
    );
    let skips = p.skip_counts();
    for reason in SkipReason::ALL {
        let n = skips
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| *n);
        e.sample(
            "mesosdns_state_skipped",
            &[("reason", reason.as_str())],
            n as u64,
        );
    }
    for (name, help, micros) in [
        (
            "mesosdns_state_fetch_duration_seconds",
            "Duration of the last successful state fetch and parse.",
            &p.fetch_micros,
        ),
        (
            "mesosdns_state_generate_duration_seconds",
            "Duration of the last record generation.",
            &p.generate_micros,
        ),
    ] {
        e.family(name, MetricType::Gauge, help);
        e.sample_f64(name, &[], get(micros) as f64 / 1e6);
    }
    single(
        e,
        "mesosdns_state_bytes",
        MetricType::Gauge,
        "Size of the last Mesos state body (on the event source, of the last SUBSCRIBED record).",
        get(&p.state_bytes),
    );
    single(
        e,
        "mesosdns_state_publishes_total",
        MetricType::Counter,
        "Record sets published to the DNS table.",
        get(&p.publishes),
    );
    single(
        e,
        "mesosdns_live_differences_total",
        MetricType::Counter,
        "Consistency checks in which the live record store differed from a full generation (the full result was published).",
        get(&p.live_differences),
    );
    single(
        e,
        "mesosdns_leader_changes_total",
        MetricType::Counter,
        "Mesos leader changes seen.",
        get(&p.leader_changes),
    );
    single(
        e,
        "mesosdns_zookeeper_connected",
        MetricType::Gauge,
        "1 while a ZooKeeper session is open.",
        u64::from(p.zk_connected.load(Ordering::Relaxed)),
    );
    let leader = p.leader();
    e.family(
        "mesosdns_leader_info",
        MetricType::Gauge,
        "Always 1; the leader label is the current Mesos leader (empty: unknown).",
    );
    e.sample("mesosdns_leader_info", &[("leader", &leader)], 1);
    event_families(e, &p.events);
}

/// The event-stream source (`StateSource: "events"`); zero when polling.
fn event_families(e: &mut Exposition, ev: &EventStatus) {
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    single(
        e,
        "mesosdns_events_subscribed",
        MetricType::Gauge,
        "1 while subscribed to the Mesos operator API event stream.",
        u64::from(ev.subscribed.load(Ordering::Relaxed)),
    );
    for (name, help, value) in [
        (
            "mesosdns_events_subscriptions_total",
            "SUBSCRIBED events received (full resyncs).",
            &ev.subscriptions,
        ),
        (
            "mesosdns_events_received_total",
            "Operator API events received, heartbeats included.",
            &ev.events,
        ),
        (
            "mesosdns_events_stream_failures_total",
            "Event streams that ended in an error (closed, stalled, corrupt).",
            &ev.stream_failures,
        ),
        (
            "mesosdns_events_reconciles_total",
            "Full /master/state reconciles done by the event source.",
            &ev.reconciles,
        ),
        (
            "mesosdns_events_reconcile_differences_total",
            "Reconciles whose records differed from the event-built ones.",
            &ev.reconcile_differences,
        ),
    ] {
        single(e, name, MetricType::Counter, help, get(value));
    }
    let name = "mesosdns_events_publish_latency_seconds";
    e.family(
        name,
        MetricType::Histogram,
        "From a change event's arrival to its records being published.",
    );
    let (counts, sum) = ev.latency.snapshot();
    e.histogram(name, &[], &LATENCY_BOUNDS_SECONDS, &counts, sum);
}

fn dns_families(e: &mut Exposition, s: &StatsSnapshot) {
    let labelled = |e: &mut Exposition,
                    name: &str,
                    help: &str,
                    label: &str,
                    names: &[&str],
                    values: &[u64]| {
        e.family(name, MetricType::Counter, help);
        for (v, n) in names.iter().zip(values) {
            e.sample(name, &[(label, v)], *n);
        }
    };
    labelled(
        e,
        "mesosdns_dns_responses_total",
        "DNS responses sent, by transport.",
        "transport",
        &TRANSPORT_NAMES,
        &s.transport,
    );
    labelled(
        e,
        "mesosdns_dns_responses_by_rcode_total",
        "DNS responses sent, by response code.",
        "rcode",
        &RCODE_NAMES,
        &s.rcode,
    );
    labelled(
        e,
        "mesosdns_dns_responses_by_qtype_total",
        "DNS responses sent, by query type.",
        "qtype",
        &QTYPE_NAMES,
        &s.qtype,
    );
    e.family(
        "mesosdns_dns_response_size_bytes",
        MetricType::Histogram,
        "Sizes of DNS responses sent.",
    );
    let bounds = SIZE_BUCKETS.map(|b| b as f64);
    e.histogram(
        "mesosdns_dns_response_size_bytes",
        &[],
        &bounds,
        &s.size,
        s.size_sum as f64,
    );
    for (name, help, value) in [
        (
            "mesosdns_dns_truncated_total",
            "DNS responses sent with TC set or trimmed to fit.",
            s.truncated,
        ),
        (
            "mesosdns_dns_dropped_total",
            "DNS packets dropped without a response.",
            s.dropped,
        ),
        (
            "mesosdns_dns_send_errors_total",
            "DNS responses that could not be sent.",
            s.send_errors,
        ),
        (
            "mesosdns_dns_forward_refused_total",
            "Queries outside the domain refused because ExternalOn is false.",
            s.forward_refused,
        ),
        (
            "mesosdns_dns_forward_failed_total",
            "Forwarded queries for which every upstream failed (SERVFAIL).",
            s.forward_failed,
        ),
        (
            "mesosdns_dns_forward_overload_total",
            "Queries answered SERVFAIL because too many forwards were in flight (per worker, or from one client).",
            s.forward_overload,
        ),
        (
            "mesosdns_dns_forward_denied_total",
            "Queries outside the domain refused because the client is outside AllowRecursion.",
            s.forward_denied,
        ),
        (
            "mesosdns_dns_forward_cache_hits_total",
            "Forwarded queries answered from the forward cache.",
            s.cache_hits,
        ),
        (
            "mesosdns_dns_forward_cache_misses_total",
            "Forwarded queries the forward cache did not hold (or held expired), so they went upstream.",
            s.cache_misses,
        ),
        (
            "mesosdns_dns_forward_cache_evictions_total",
            "Forward cache entries evicted to make room before their TTL ran out (or expired ones met while making room).",
            s.cache_evictions,
        ),
        (
            "mesosdns_xfr_axfr_total",
            "Zone transfers sent as the whole zone (AXFR, and IXFR from a serial the journal does not hold).",
            s.xfr[0],
        ),
        (
            "mesosdns_xfr_ixfr_total",
            "Zone transfers sent as a difference (IXFR from a serial in the journal).",
            s.xfr[1],
        ),
        (
            "mesosdns_xfr_up_to_date_total",
            "IXFR queries answered with the single current SOA (the client is up to date or ahead).",
            s.xfr[2],
        ),
        (
            "mesosdns_xfr_refused_total",
            "Zone transfer queries refused because the client is outside TransferAllow.",
            s.xfr[3],
        ),
        (
            "mesosdns_xfr_records_total",
            "Records sent in zone transfers.",
            s.xfr[4],
        ),
        (
            "mesosdns_xfr_notify_sent_total",
            "NOTIFY messages sent to NotifySecondaries, retries included.",
            s.xfr[5],
        ),
        (
            "mesosdns_xfr_notify_acked_total",
            "NOTIFY messages acknowledged by a secondary.",
            s.xfr[6],
        ),
        (
            "mesosdns_xfr_notify_failed_total",
            "NOTIFYs given up on after the last retry.",
            s.xfr[7],
        ),
        (
            "mesosdns_table_swaps_total",
            "Answer tables published to the DNS workers.",
            s.table_swaps,
        ),
        (
            "mesosdns_table_compiles_total",
            "Published tables whose DNS records changed, so they were compiled (in full or by patching the served table).",
            s.table_compiles,
        ),
        (
            "mesosdns_table_compactions_total",
            "Tables patched by many changes, compiled again in full in the background and swapped in with the same answers.",
            s.table_compactions,
        ),
    ] {
        single(e, name, MetricType::Counter, help, value);
    }
    e.family(
        "mesosdns_table_compile_duration_seconds",
        MetricType::Gauge,
        "Duration of the last table compile, full or patch (comparing with the served records included).",
    );
    e.sample_f64(
        "mesosdns_table_compile_duration_seconds",
        &[],
        s.table_compile_micros as f64 / 1e6,
    );
    e.family(
        "mesosdns_dns_tcp_connections_total",
        MetricType::Counter,
        "DNS TCP connections, accepted or rejected by the connection caps.",
    );
    e.sample(
        "mesosdns_dns_tcp_connections_total",
        &[("result", "accepted")],
        s.tcp_accepted,
    );
    e.sample(
        "mesosdns_dns_tcp_connections_total",
        &[("result", "rejected")],
        s.tcp_rejected,
    );
    e.family(
        "mesosdns_dns_forwarded_total",
        MetricType::Counter,
        "Forwarding attempts, by upstream and outcome.",
    );
    for u in &s.upstreams {
        for (outcome, n) in FORWARD_OUTCOMES.iter().zip(&u.outcomes) {
            e.sample(
                "mesosdns_dns_forwarded_total",
                &[("upstream", &u.addr), ("outcome", outcome)],
                *n,
            );
        }
    }
    e.family(
        "mesosdns_dns_forward_duration_seconds",
        MetricType::Histogram,
        "Latency of forwarding attempts, by upstream.",
    );
    let bounds = LATENCY_BUCKETS_MS.map(|ms| ms as f64 / 1000.0);
    for u in &s.upstreams {
        e.histogram(
            "mesosdns_dns_forward_duration_seconds",
            &[("upstream", &u.addr)],
            &bounds,
            &u.latency,
            u.latency_micros as f64 / 1e6,
        );
    }
}

fn http_families(e: &mut Exposition, stats: &HttpStats) {
    e.family(
        "mesosdns_http_requests_total",
        MetricType::Counter,
        "HTTP requests answered, by endpoint and status code.",
    );
    for endpoint in Endpoint::ALL {
        for (i, code) in STATUS_CODES.iter().enumerate() {
            let n = stats.requests(endpoint, i);
            if n > 0 {
                let code = code.to_string();
                e.sample(
                    "mesosdns_http_requests_total",
                    &[("endpoint", endpoint.label()), ("code", &code)],
                    n,
                );
            }
        }
    }
    let gauges = [
        (
            "mesosdns_http_connections_open",
            MetricType::Gauge,
            "HTTP connections open now.",
            stats.open.load(Ordering::Relaxed) as u64,
        ),
        (
            "mesosdns_http_connections_total",
            MetricType::Counter,
            "HTTP connections accepted and served.",
            stats.accepted.load(Ordering::Relaxed),
        ),
        (
            "mesosdns_http_connections_rejected_total",
            MetricType::Counter,
            "HTTP connections refused with 503 at a connection cap (total or per client) with every connection busy.",
            stats.rejected.load(Ordering::Relaxed),
        ),
        (
            "mesosdns_http_connections_evicted_total",
            MetricType::Counter,
            "HTTP connections waiting for a request closed to make room at a connection cap.",
            stats.evicted.load(Ordering::Relaxed),
        ),
        (
            "mesosdns_http_timeouts_total",
            MetricType::Counter,
            "HTTP connections closed for a header, body, idle or write timeout.",
            stats.timeouts.load(Ordering::Relaxed),
        ),
    ];
    for (name, kind, help, value) in gauges {
        e.family(name, kind, help);
        e.sample(name, &[], value);
    }
}
