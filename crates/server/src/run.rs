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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos_records::{GenConfig, RecordSet};
use mesos_sources::fetch::HttpConfig;
use mesos_sources::master::DetectorSpec;
use mesos_sources::poller;
use mesos_sources::{EventSource, PollerConfig, PollerStatus, Source};

use crate::config::{self, render::render, Config, ConfigError};
use crate::dns_config::DnsConfig;
use crate::error::{ExitError, Failed};
use crate::http::{self, ApiContext, ApiSettings, HttpLimits, LiveSettings};
use crate::logger::STARTUP;
use crate::reload::{Reloader, Servers};
use crate::serve;
use crate::stats::Stats;
use crate::table::{Publisher, SharedTable, Table};

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

/// The DNS side's settings.
pub fn dns_config(c: &Config) -> DnsConfig {
    let f = &c.file;
    let count = |n: i64| usize::try_from(n).unwrap_or(1);
    DnsConfig {
        listener: c.dns_addr.ip(),
        port: c.dns_addr.port(),
        domain: f.domain.clone(),
        ttl: u32::try_from(f.ttl).unwrap_or(0),
        soa_mname: f.soa_mname.clone(),
        soa_rname: f.soa_rname.clone(),
        soa_refresh: f.soa_refresh,
        soa_retry: f.soa_retry,
        soa_expire: f.soa_expire,
        soa_minttl: f.soa_minttl,
        srv_weight: f.srv_record_default_weight,
        recurse_on: f.recurse_on,
        external_on: f.external_on,
        set_truncate_bit: f.set_truncate_bit,
        resolvers: c.resolvers.clone(),
        zone_resolvers: c.zone_resolvers.clone(),
        timeout: c.upstream_timeout,
        workers: c.dns_workers,
        edns_max: f.edns_max_payload,
        tcp_idle: Duration::from_secs(u64::try_from(f.tcp_idle_seconds).unwrap_or(1)),
        tcp_max_connections: count(f.tcp_max_connections),
        tcp_max_per_client: count(f.tcp_max_connections_per_client),
        allow_recursion: c.allow_recursion.clone(),
        ..DnsConfig::default()
    }
}

/// A `StateFile` path: relative paths are relative to the config file's
/// directory, so `-config deploy/demo/config.json` works from anywhere.
fn state_file_path(c: &Config) -> PathBuf {
    let state = Path::new(&c.file.state_file);
    match Path::new(&c.file.file).parent() {
        Some(dir) if state.is_relative() => dir.join(state),
        _ => state.to_path_buf(),
    }
}

/// The state poller's settings.
///
/// # Errors
///
/// A `Zk` value the detector cannot parse.
pub fn poller_config(c: &Config) -> Result<PollerConfig, ConfigError> {
    let f = &c.file;
    let masters = f.masters.clone().unwrap_or_default();
    let source = if !f.state_file.is_empty() {
        Source::StateFile(state_file_path(c))
    } else if !f.zk.is_empty() {
        let spec = DetectorSpec::parse(&f.zk).map_err(|e| {
            // The message may quote the URL: never its password.
            let e = crate::config::render::redact_urls(&e.to_string());
            ConfigError::invalid("Zk", format!("failed to create master detector: {e}"))
        })?;
        Source::Zk {
            spec,
            fallback: masters,
        }
    } else {
        Source::Masters(masters)
    };
    // `StateSource: "events"` follows the operator API event stream of the
    // same masters (a StateFile stays a file).
    let source = match source {
        Source::Masters(_) | Source::Zk { .. } if f.state_source == "events" => {
            Source::Events(Box::new(EventSource::new(source)))
        }
        other => other,
    };
    Ok(PollerConfig {
        source,
        refresh: c.refresh,
        http: HttpConfig {
            https: f.mesos_https_on,
            tls: c.tls.clone(),
            auth: c.auth.clone(),
            timeout: c.state_timeout,
            max_body: u64::try_from(f.state_max_bytes).unwrap_or(1),
        },
        zk_detection_timeout: c.zk_detection_timeout,
        gen: GenConfig {
            domain: f.domain.clone(),
            ip_sources: c.ip_sources.clone(),
            enforce_rfc952: f.enforce_rfc952,
            soa_mname: f.soa_mname.clone(),
            listener: f.listener.clone(),
            enumeration: f.enumeration_on,
            ..GenConfig::default()
        },
    })
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

/// Raises the open-files limit to its hard limit (as Go does) and warns
/// when it is still below what the connection caps may need: past it, new
/// connections and forwards fail (counted, never fatal).
fn check_open_files(config: &Config, dns: &DnsConfig) {
    let limit = match crate::udp_batch::raise_open_files_limit() {
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

fn now_unix() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

fn failed(message: String) -> Failed {
    log::error!("{message}");
    Failed
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
            .map_err(|e| failed(format!("cannot install signal handlers: {e}")))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&signals.reload))
        .map_err(|e| failed(format!("cannot install signal handlers: {e}")))?;
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
    let poller_cfg = poller_config(&config).map_err(|e| failed(e.to_string()))?;

    // Bind everything before starting anything.
    let http_listener = match config.file.http_on {
        true => Some(bind_http(config.http_addr).map_err(|e| {
            failed(format!(
                "failed to setup http server: {}: {e}",
                config.http_addr
            ))
        })?),
        false => None,
    };
    let table = Arc::new(SharedTable::new(Table::empty(&dns)));
    let stats = Arc::new(Stats::for_config(&dns));
    let dns_server = match config.file.dns_on {
        true => Some(
            serve::start(&dns, Arc::clone(&table), Arc::clone(&stats))
                .map_err(|e| failed(format!("failed to setup DNS server: {e}")))?,
        ),
        false => None,
    };

    let publisher = Arc::new(Publisher::new(Arc::clone(&table), dns.clone()));
    // The poller's status, for the generation number of each record set
    // (set once the poller runs; a set published before is of number 0).
    let poller_status: Arc<OnceLock<Arc<PollerStatus>>> = Arc::default();
    let publish = {
        let poller_status = Arc::clone(&poller_status);
        let publisher = Arc::clone(&publisher);
        let stats = Arc::clone(&stats);
        let domain = dns.domain.clone();
        move |set: RecordSet| {
            let epoch = poller_status
                .get()
                .map_or(0, |s| s.gen_epoch.load(Ordering::Acquire));
            let p = publisher.publish_generated(set, now_unix(), epoch);
            if p.first_load {
                log::info!(target: STARTUP, "first state load: serving {domain} (serial {})", p.serial);
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
    let poller = poller::spawn(poller_cfg, publish)
        .map_err(|e| failed(format!("cannot start the state poller: {e}")))?;
    let _ = poller_status.set(Arc::clone(poller.status()));
    let api_settings = Arc::new(LiveSettings::from(ApiSettings::from_config(&config)));
    let http_server = match http_listener {
        Some(listener) => {
            let ctx = Arc::new(ApiContext {
                table: Arc::clone(&table),
                settings: Arc::clone(&api_settings),
                poller: Arc::clone(poller.status()),
                dns: dns_server.as_ref().map(|_| Arc::clone(&stats)),
            });
            let handle =
                http::start(listener, Arc::clone(&ctx), HttpLimits::default())
                    .map_err(|e| failed(format!("failed to setup http server: {e}")))?;
            Some((handle, ctx))
        }
        None => None,
    };
    log_startup(
        &config,
        dns_server.as_ref().map(serve::DnsServer::local_addr),
        http_server.as_ref().map(|(h, _)| h.local_addr()),
    );

    let zk_detection_timeout = config.zk_detection_timeout;
    let servers = Servers {
        dns: dns_server.map(|d| (d, table, stats)),
        http: http_server,
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
    let servers = reloader.into_servers();
    if let Some((h, _)) = servers.http {
        h.stop();
    }
    if let Some((d, _, _)) = servers.dns {
        d.stop();
    }
    stop_poller(poller);
    result
}

/// Binds the HTTP listener. Go listens on `0.0.0.0` as a dual-stack `[::]`
/// socket, so we do too, falling back to IPv4 when the host has no IPv6.
pub(crate) fn bind_http(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    if addr.ip() == std::net::IpAddr::from([0, 0, 0, 0]) {
        let dual = crate::socket::bind_addr(addr.ip(), addr.port());
        match http::bind(dual) {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Err(e),
            Err(_) => {}
        }
    }
    http::bind(addr)
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
fn log_startup(c: &Config, dns: Option<SocketAddr>, http: Option<SocketAddr>) {
    let f = &c.file;
    log::info!(target: STARTUP, "mesos-dns {} for domain {:?}", crate::VERSION, f.domain);
    if let Some(addr) = dns {
        log::info!(target: STARTUP, "DNS on {addr} (UDP and TCP, {} workers)", c.dns_workers);
    }
    if let Some(addr) = http {
        log::info!(target: STARTUP, "HTTP API on http://{addr}/v1/version");
    }
    if !f.state_file.is_empty() {
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
    use crate::config::validate::Env;

    fn config(text: &str) -> Config {
        let env = Env {
            resolv_conf: Path::new("/nonexistent"),
            now: 1000,
        };
        config::load_text(text.as_bytes(), "/etc/mesos-dns/config.json", &env)
            .unwrap()
            .0
    }

    #[test]
    fn dns_config_carries_every_dns_key() {
        let c = config(
            r#"{"masters":["10.0.0.1:5050"],"Listener":"127.0.0.1","Port":8053,
                "Domain":"Corp.Mesos","TTL":30,"SOAMname":"ns.corp","SOARname":"a@b.c",
                "SOARefresh":1,"SOARetry":2,"SOAExpire":3,"SOAMinttl":4,
                "SRVRecordDefaultWeight":7,"RecurseOn":false,"SetTruncateBit":false,
                "Resolvers":["10.0.0.53"],"ZoneResolvers":{"consul":["10.0.0.54"]},
                "Timeout":0,"DnsWorkers":3,"EDNSMaxPayload":4096,"TCPIdleSeconds":2,
                "TCPMaxConnections":9,"TCPMaxConnectionsPerClient":3}"#,
        );
        let d = dns_config(&c);
        assert_eq!(d.listener, "127.0.0.1".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(d.port, 8053);
        assert_eq!(d.domain, "corp.mesos");
        assert_eq!(d.ttl, 30);
        assert_eq!(
            (d.soa_mname.as_str(), d.soa_rname.as_str()),
            ("ns.corp.", "a.b.c.")
        );
        assert_eq!(
            (d.soa_refresh, d.soa_retry, d.soa_expire, d.soa_minttl),
            (1, 2, 3, 4)
        );
        assert_eq!(d.srv_weight, 7);
        assert!(!d.recurse_on && d.external_on && !d.set_truncate_bit);
        assert_eq!(d.resolvers, ["10.0.0.53:53".parse().unwrap()]);
        assert_eq!(
            d.zone_resolvers,
            [("consul".to_string(), vec!["10.0.0.54:53".parse().unwrap()])]
        );
        assert_eq!(d.timeout, Duration::from_secs(5));
        assert_eq!(d.workers, 3);
        assert_eq!(d.edns_max, 4096);
        assert_eq!(d.tcp_idle, Duration::from_secs(2));
        assert_eq!((d.tcp_max_connections, d.tcp_max_per_client), (9, 3));
    }

    #[test]
    fn poller_config_picks_the_state_source() {
        let c = config(r#"{"masters":["10.0.0.1:5050","m2:5050"],"RefreshSeconds":7}"#);
        let p = poller_config(&c).unwrap();
        assert!(matches!(p.source, Source::Masters(ref m) if m.len() == 2));
        assert_eq!(p.refresh, Duration::from_secs(7));
        assert_eq!(p.http.timeout, Duration::from_secs(300));
        assert_eq!(p.gen.domain, "mesos");
        assert_eq!(p.gen.soa_mname, "ns1.mesos.");

        let c = config(
            r#"{"zk":"zk://10.0.0.1:2181,10.0.0.2:2181/mesos","masters":["10.0.0.1:5050"]}"#,
        );
        let p = poller_config(&c).unwrap();
        assert!(
            matches!(p.source, Source::Zk { ref fallback, .. } if fallback.len() == 1)
        );

        let c = config(r#"{"zk":"zk://"}"#);
        let e = poller_config(&c).unwrap_err();
        assert!(matches!(e, ConfigError::Invalid { key: "Zk", .. }), "{e}");

        let c = config(r#"{"StateFile":"demo/state.json","StateMaxBytes":1000}"#);
        let p = poller_config(&c).unwrap();
        let Source::StateFile(path) = p.source else {
            panic!("not a state file source")
        };
        assert_eq!(path, Path::new("/etc/mesos-dns/demo/state.json"));
        assert_eq!(p.http.max_body, 1000);
        let c = config(r#"{"StateFile":"/srv/state.json"}"#);
        assert!(
            matches!(poller_config(&c).unwrap().source, Source::StateFile(p) if p == Path::new("/srv/state.json"))
        );
    }

    #[test]
    fn state_source_events_wraps_the_master_source() {
        let c = config(r#"{"masters":["10.0.0.1:5050"],"StateSource":"events"}"#);
        let Source::Events(ev) = poller_config(&c).unwrap().source else {
            panic!("not an event source")
        };
        assert!(matches!(ev.masters, Source::Masters(ref m) if m.len() == 1));
        let c = config(r#"{"zk":"zk://10.0.0.1:2181/mesos","StateSource":"events"}"#);
        let Source::Events(ev) = poller_config(&c).unwrap().source else {
            panic!("not an event source")
        };
        assert!(matches!(ev.masters, Source::Zk { .. }));
        let c = config(r#"{"StateFile":"/srv/state.json","StateSource":"events"}"#);
        assert!(matches!(
            poller_config(&c).unwrap().source,
            Source::StateFile(_)
        ));
    }

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
