//! The process wiring: config to the parts' settings, sockets bound at
//! once, the poller publishing compiled tables, signals, shutdown.
//!
//! Startup differs from mesos-dns on purpose (COMPATIBILITY.md): every
//! socket is bound before anything else starts, so a busy port fails at
//! once (exit 1), where mesos-dns binds only after its first state load;
//! until that first load the DNS side answers SERVFAIL for names in the
//! domain ([`Table::empty`]) and the HTTP data endpoints answer 503.
//! SIGINT and SIGTERM stop the process cleanly with exit 0 (mesos-dns dies
//! of the signal); a second signal ends it at once. SIGHUP reloads
//! `config.json` ([`crate::reload`]; mesos-dns dies of it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use mesos_sources::poller;
use mesos_sources::{PollerStatus, Update};

use crate::calendar::now_unix;
use crate::config::{self, render::render, Config};
use crate::dns_config::DnsConfig;
use crate::error::{ExitError, Failed};
use crate::guard::PublishGuard;
use crate::http::{self, ApiContext, ApiSettings, HttpLimits, LiveSettings};
use crate::logger::STARTUP;
use crate::parts::{beside_config, dns_server, http_listener, state_file_path};
pub use crate::parts::{dns_config, poller_config};
use crate::reload::{Reloader, Servers};
use crate::serve;
use crate::snapshot::{self, SnapshotStatus};
use crate::stats::Stats;
use crate::table::{Published, Publisher, SharedTable, Table};

/// How often the main thread checks for a signal or a fatal condition.
const TICK: Duration = Duration::from_millis(50);
/// How long shutdown waits for the poller's thread (a fetch in flight is
/// abandoned after this; the process exit ends it).
const POLLER_STOP_WAIT: Duration = Duration::from_secs(1);

/// Loads `config.json` from the `-config` path, logging warnings (unknown
/// keys and the like) and, at `-v=1`, the resulting configuration.
///
/// # Errors
///
/// The config is unusable: the reason is logged as one `ERROR:` line.
pub fn load_config(path: &str) -> Result<Config, ExitError> {
    let (config, unknown) = config::load(path).map_err(|e| {
        log::error!("{e}");
        ExitError::Failed
    })?;
    for key in unknown {
        log::warn!(
            "config file {:?}: unknown key {key:?} ignored",
            config.file.file
        );
    }
    for warning in &config.warnings {
        log::warn!("{warning}");
    }
    log::info!("config loaded from {:?}", config.file.file);
    log::info!("Mesos-DNS configuration:");
    if let serde_json::Value::Object(keys) = render(&config.file, config.file.soa_serial)
    {
        for (key, value) in keys {
            log::info!("   - {key}: {value}");
        }
    }
    Ok(config)
}

/// File descriptors the server may hold at once with its caps: every
/// DNS TCP connection, every forward in flight (one socket each), every
/// HTTP connection (two: the stream and the clone kept to shut it down),
/// the listeners and pollers, and a margin for the state fetch, logs and
/// the like.
pub fn open_files_needed(
    dns: &DnsConfig,
    http: &HttpLimits,
    dns_on: bool,
    http_on: bool,
) -> u64 {
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let mut need: u64 = 64;
    if dns_on {
        let workers = n(dns.worker_count());
        // Per worker: UDP socket, TCP listener, epoll, waker.
        need = need
            .saturating_add(workers.saturating_mul(4))
            .saturating_add(n(dns.tcp_max_connections))
            .saturating_add(workers.saturating_mul(n(dns.forward_max_in_flight)));
    }
    if http_on {
        need = need
            .saturating_add(n(http.max_connections).saturating_mul(2).saturating_add(3));
    }
    need
}

/// How many malloc arenas the server uses. Two: what allocates runs on
/// few threads at once (the state thread, and the compaction thread beside
/// it); the DNS workers answer from their tables without allocating. At
/// 100,000 tasks on the event source, after a minute of 1,000 changes a
/// second, resident memory settled at 224 MB with two (223 with one),
/// against 252 MB with glibc's default.
const HEAP_ARENAS: u16 = 2;

/// Caps the heap's arenas at two (`HEAP_ARENAS`), unless the operator chose a
/// number (`MALLOC_ARENA_MAX`, or `glibc.malloc.arena_max` in
/// `GLIBC_TUNABLES`). `main` calls it before any thread starts.
pub fn limit_heap_arenas() {
    let chosen = std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
    if !chosen && crate::sys::process::limit_heap_arenas(HEAP_ARENAS) {
        log::debug!("heap arenas capped at {HEAP_ARENAS}");
    }
}

/// Raises the open-files limit to its hard limit (as Go does) and warns
/// when it is still below what the connection caps may need: past it, new
/// connections and forwards fail (counted, never fatal).
fn check_open_files(config: &Config, dns: &DnsConfig) {
    let limit = match crate::sys::process::raise_open_files_limit() {
        Ok(limit) => limit,
        Err(e) => {
            log::debug!("open files limit unknown: {e}");
            return;
        }
    };
    if limit.now != limit.before {
        log::debug!(
            "open files limit raised from {} to {}",
            limit.before,
            limit.now
        );
    }
    let f = &config.file;
    let need = open_files_needed(dns, &HttpLimits::default(), f.dns_on, f.http_on);
    if limit.now < need {
        log::warn!(
            "open files limit {} (hard limit {}) is below the {need} the connection caps may \
             use (TCPMaxConnections {}, {} forwards in flight per worker, {} HTTP connections): \
             raise it (ulimit -n, systemd LimitNOFILE) or lower TCPMaxConnections",
            limit.now,
            limit.hard,
            dns.tcp_max_connections,
            dns.forward_max_in_flight,
            HttpLimits::default().max_connections
        );
    }
}

/// The flags the signal handlers set.
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// SIGINT or SIGTERM: stop.
    pub stop: Arc<AtomicBool>,
    /// SIGHUP: reload `config.json` (cleared by the main loop).
    pub reload: Arc<AtomicBool>,
}

/// Installs the SIGINT, SIGTERM and SIGHUP handlers and returns the flags
/// they set. `main` calls it before anything else, so a signal that
/// arrives while the config is still being read stops the server cleanly
/// (or is a reload once it serves) instead of killing it. A second stop
/// signal while shutting down exits at once.
///
/// # Errors
///
/// The handlers cannot be installed (logged; exit 1).
pub fn install_signals() -> Result<Signals, ExitError> {
    let signals = Signals::default();
    let stop = &signals.stop;
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(stop)))
            .map_err(|e| {
                Failed::logged(format!("cannot install signal handlers: {e}"))
            })?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&signals.reload))
        .map_err(|e| Failed::logged(format!("cannot install signal handlers: {e}")))?;
    Ok(signals)
}

/// Serves until SIGINT or SIGTERM, reloading the config on SIGHUP.
///
/// # Errors
///
/// A socket that cannot be bound, a thread that cannot start, or (as in
/// mesos-dns) no leader found within `ZkDetectionTimeout`: logged, exit 1.
pub fn run(config: Config, signals: Signals) -> Result<(), ExitError> {
    let stop = signals.stop;
    let dns = dns_config(&config);
    check_open_files(&config, &dns);
    let poller_cfg = poller_config(&config).map_err(|e| Failed::logged(e.to_string()))?;

    // Bind everything before starting anything.
    let http_listener = http_listener(&config)?;
    let table = Arc::new(SharedTable::new(Table::empty(&dns)));
    let stats = Arc::new(Stats::for_config(&dns));
    let transfers = Arc::new(crate::parts::transfers(&config, stats.transfer_counters()));
    let publisher = Arc::new(
        Publisher::new(Arc::clone(&table), dns.clone())
            .with_transfers(Arc::clone(&transfers)),
    );
    if let Err(e) = publisher.start_compaction(stats.compaction_counter()) {
        log::warn!("cannot start the table compaction thread: {e}; patched tables are compacted on the change path");
    }
    let snapshot_status = Arc::new(SnapshotStatus::default());
    let snapshot_writer = start_snapshot(
        &config,
        &poller_cfg.gen,
        &publisher,
        &table,
        &snapshot_status,
    )?;
    let dns_server = dns_server(&config, &dns, &table, &stats, &transfers)?;

    if let Some(path) = crate::parts::static_zone_file_path(&config) {
        crate::statics::watch::start(
            path,
            dns.domain.clone(),
            dns.ttl,
            dns.statics.clone(),
            Arc::clone(&table),
            Arc::clone(&publisher),
        )
        .map_err(|e| Failed::logged(format!("cannot follow StaticZoneFile: {e}")))?;
    }
    let guard = Arc::new(PublishGuard::default());
    let table_for_release = Arc::clone(&table);
    // The poller's status, for the generation number of each record set
    // (set once the poller runs; a set published before is of number 0).
    let poller_status: Arc<OnceLock<Arc<PollerStatus>>> = Arc::default();
    let publish = {
        let poller_status = Arc::clone(&poller_status);
        let publisher = Arc::clone(&publisher);
        let stats = Arc::clone(&stats);
        let domain = dns.domain.clone();
        let snapshot_status = Arc::clone(&snapshot_status);
        let snapshot_writer = snapshot_writer.as_ref().map(snapshot::Writer::notifier);
        let (guard, table) = (Arc::clone(&guard), Arc::clone(&table));
        let hold_down = config.file.hold_down_fraction.get();
        move |update: Update| {
            let epoch = poller_status
                .get()
                .map_or(0, |s| s.gen_epoch.load(Ordering::Acquire));
            // The hold-down and the history (issue 22) around the publish.
            let loads = poller_status
                .get()
                .map_or(0, |s| s.loads.load(Ordering::Relaxed));
            let published = guard.guarded(hold_down, &table, update, loads, |u| {
                publish_update(&publisher, u, epoch)
            });
            let Some(p) = published else {
                return;
            };
            if snapshot_status.live_load() {
                log::info!(target: STARTUP, "first state load: serving {domain} (serial {}), replacing the snapshot", p.serial);
            } else if p.first_load {
                log::info!(target: STARTUP, "first state load: serving {domain} (serial {})", p.serial);
            }
            if let Some(w) = &snapshot_writer {
                w.notify();
            }
            log::debug!(
                "table published: serial {}, {} in {} us, swapped in {} us",
                p.serial,
                match (p.compiled, p.patched) {
                    (true, true) => "patched",
                    (true, false) => "compiled",
                    (false, _) => "unchanged",
                },
                p.compile.as_micros(),
                p.swap.as_micros()
            );
            stats.table_swapped(p.compiled.then_some(p.compile));
        }
    };
    let poller = poller::spawn_updates(poller_cfg, publish)
        .map_err(|e| Failed::logged(format!("cannot start the state poller: {e}")))?;
    let _ = poller_status.set(Arc::clone(poller.status()));
    let api_settings = Arc::new(LiveSettings::from(ApiSettings::from_config(&config)));
    let http_server = match http_listener {
        Some(listener) => {
            let ctx = Arc::new(ApiContext {
                table: Arc::clone(&table),
                settings: Arc::clone(&api_settings),
                poller: Arc::clone(poller.status()),
                dns: dns_server.as_ref().map(|_| Arc::clone(&stats)),
                snapshot: Arc::clone(&snapshot_status),
                guard: Arc::clone(&guard),
            });
            let handle = http::start(listener, Arc::clone(&ctx), HttpLimits::default())
                .map_err(|e| {
                Failed::logged(format!("failed to setup http server: {e}"))
            })?;
            Some((handle, ctx))
        }
        None => None,
    };
    log_startup(
        &config,
        dns_server.as_ref().map(serve::DnsServer::local_addr),
        http_server.as_ref().map(|(h, _)| h.local_addr()),
    );
    if dns_server
        .as_ref()
        .is_some_and(serve::DnsServer::from_manager)
    {
        log::info!(target: STARTUP, "DNS sockets from the service manager (socket activation): a restart loses no query");
    }

    let zk_detection_timeout = config.zk_detection_timeout;
    let servers = Servers {
        dns: dns_server.map(|d| (d, table, stats)),
        http: http_server,
    };
    // A state held back by HoldDownFraction is published on a later tick.
    let release = {
        let (guard, table, publisher) = (
            guard,
            Arc::clone(&table_for_release),
            Arc::clone(&publisher),
        );
        let status = Arc::clone(poller.status());
        move || {
            let loads = status.loads.load(Ordering::Relaxed);
            let epoch = status.gen_epoch.load(Ordering::Acquire);
            guard.release_due(&table, loads, |u| publish_update(&publisher, u, epoch));
        }
    };
    let mut reloader = Reloader::new(
        config.file.file.clone(),
        config,
        dns,
        publisher,
        api_settings,
        servers,
    );
    let mut result = Ok(());
    while !stop.load(Ordering::Relaxed) {
        if signals.reload.swap(false, Ordering::Relaxed) {
            reloader.reload(&poller);
        }
        release();
        if poller.status().detection_timed_out.load(Ordering::Relaxed) {
            let after = zk_detection_timeout.unwrap_or_default();
            log::error!("master detection timed out after {}s", after.as_secs());
            result = Err(ExitError::Failed);
            break;
        }
        std::thread::sleep(TICK);
    }
    if result.is_ok() {
        log::info!(target: STARTUP, "shutting down");
    }
    // DNS stops last, so it answers while the rest shuts down; its
    // workers then drain (see `worker::Worker::run`).
    let servers = reloader.into_servers();
    if let Some((h, _)) = servers.http {
        h.stop();
    }
    stop_poller(poller);
    if let Some(w) = snapshot_writer {
        w.stop();
    }
    if let Some((d, _, _)) = servers.dns {
        d.stop();
    }
    result
}

/// With `StateSnapshotFile` set: serves the snapshot if one can be
/// ([`snapshot::load`]), before the DNS workers start, and starts the
/// writer.
///
/// # Errors
///
/// The writer's thread cannot start.
fn start_snapshot(
    config: &Config,
    gen: &mesos_records::GenConfig,
    publisher: &Publisher,
    table: &Arc<SharedTable>,
    status: &Arc<SnapshotStatus>,
) -> Result<Option<snapshot::Writer>, ExitError> {
    let f = &config.file;
    if f.state_snapshot_file.is_empty() {
        return Ok(None);
    }
    let path = beside_config(config, &f.state_snapshot_file);
    let settings = snapshot::settings_text(gen);
    let max_age =
        Duration::from_secs(u64::try_from(f.state_snapshot_max_age_seconds).unwrap_or(0));
    let t0 = std::time::Instant::now();
    if let Some((set, made)) = snapshot::load(&path, max_age, &settings) {
        let p = publisher.publish(set, now_unix());
        status.set_serving(made);
        log::info!(
            target: STARTUP,
            "serving the state snapshot {} ({} s old, serial {}, loaded in {} ms) until the first state load",
            path.display(),
            u64::from(now_unix()).saturating_sub(made),
            p.serial,
            t0.elapsed().as_millis()
        );
    }
    snapshot::Writer::start(path, settings, Arc::clone(table), Arc::clone(status))
        .map(Some)
        .map_err(|e| {
            Failed::logged(format!("cannot start the snapshot writer: {e}")).into()
        })
}

/// Publishes one update of the state source.
fn publish_update(publisher: &Publisher, update: Update, epoch: u64) -> Published {
    match update {
        Update::Full(set) => publisher.publish_generated(set, now_unix(), epoch),
        Update::Delta { delta, view } => {
            publisher.publish_delta(&delta, view, now_unix(), epoch)
        }
    }
}

/// Stops the poller, waiting at most [`POLLER_STOP_WAIT`] for a fetch in
/// flight (it may take up to `StateTimeoutSeconds`).
fn stop_poller(poller: poller::Poller) {
    let (done, wait) = mpsc::channel();
    let stopper = std::thread::Builder::new()
        .name("poller-stop".into())
        .spawn(move || {
            poller.stop();
            let _ = done.send(());
        });
    if stopper.is_ok() {
        let _ = wait.recv_timeout(POLLER_STOP_WAIT);
    }
}

/// The lines printed at every verbosity: where we listen, where the state
/// comes from, and for the demo a `dig` line to try.
pub(crate) fn log_startup(c: &Config, dns: Option<SocketAddr>, http: Option<SocketAddr>) {
    let f = &c.file;
    log::info!(target: STARTUP, "mesos-dns {} for domain {:?}", crate::VERSION, f.domain);
    if let Some(addr) = dns {
        log::info!(target: STARTUP, "DNS on {addr} (UDP and TCP, {} workers)", c.dns_workers);
    }
    if let Some(addr) = http {
        log::info!(target: STARTUP, "HTTP API on http://{addr}/v1/version");
    }
    if f.state_source == "secondary" {
        let primaries = f.primaries.as_deref().unwrap_or_default();
        log::info!(target: STARTUP, "secondary of {primaries:?}");
    } else if !f.state_file.is_empty() {
        log::info!(target: STARTUP, "state from file {} (re-read when it changes)", state_file_path(c).display());
        if let Some(addr) = dns {
            let ip = if addr.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                addr.ip().to_string()
            };
            log::info!(target: STARTUP, "try: dig @{ip} -p {} leader.{} A", addr.port(), f.domain);
        }
    } else if !f.zk.is_empty() {
        let zk = crate::config::render::redact_url(&f.zk);
        log::info!(target: STARTUP, "masters from ZooKeeper {zk}");
    } else {
        log::info!(target: STARTUP, "masters {:?}", f.masters.as_deref().unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_files_needed_counts_every_cap() {
        let dns = DnsConfig {
            workers: 2,
            tcp_max_connections: 1024,
            forward_max_in_flight: 512,
            ..DnsConfig::default()
        };
        let http = HttpLimits::default();
        assert_eq!(
            open_files_needed(&dns, &http, true, true),
            64 + 8 + 1024 + 1024 + 515
        );
        assert_eq!(open_files_needed(&dns, &http, false, true), 64 + 515);
        assert_eq!(open_files_needed(&dns, &http, true, false), 64 + 8 + 2048);
    }
}
