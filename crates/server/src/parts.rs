//! What each part of the server gets from one [`Config`]: the DNS side's
//! settings, the state poller's, and the HTTP listener. Startup
//! ([`crate::run`]) and a reload on SIGHUP ([`crate::reload`]) both build
//! them here, so they cannot disagree.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mesos_records::GenConfig;
use mesos_sources::fetch::HttpConfig;
use mesos_sources::master::DetectorSpec;
use mesos_sources::{EventSource, PollerConfig, Source};

use crate::config::{Config, ConfigError};
use crate::dns_config::DnsConfig;
use crate::error::Failed;
use crate::http;
use crate::serve::{self, DnsServer};
use crate::stats::Stats;
use crate::table::SharedTable;
use crate::xfr::Transfers;

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
        forward_cache_size: usize::try_from(f.forward_cache_size).unwrap_or(0),
        reverse_zones: f
            .reverse_zones
            .iter()
            .flatten()
            .map(|z| z.strip_suffix('.').unwrap_or(z).to_ascii_lowercase())
            .collect(),
        allow_recursion: c.allow_recursion.clone(),
        ..DnsConfig::default()
    }
}

/// The zone-transfer settings: `TransferAllow` and the IXFR journal's
/// bounds.
pub fn transfers(
    c: &Config,
    counters: std::sync::Arc<crate::xfr::Counters>,
) -> crate::xfr::Transfers {
    let f = &c.file;
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    crate::xfr::Transfers::new(
        c.transfer_allow.clone(),
        count(f.ixfr_journal_versions),
        count(f.ixfr_journal_bytes),
        counters,
    )
    .with_notify(c.notify_secondaries.clone())
}

/// The `StaticZoneFile` path, relative to the config file's directory
/// like `StateFile`'s; `None` when unset.
pub(crate) fn static_zone_file_path(c: &Config) -> Option<PathBuf> {
    let file = Path::new(&c.file.static_zone_file);
    if c.file.static_zone_file.is_empty() {
        return None;
    }
    Some(match Path::new(&c.file.file).parent() {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    })
}

/// A `StateFile` path: relative paths are relative to the config file's
/// directory, so `-config deploy/demo/config.json` works from anywhere.
pub(crate) fn state_file_path(c: &Config) -> PathBuf {
    beside_config(c, &c.file.state_file)
}

/// A file named in the config: a relative path is relative to the
/// config file's directory.
pub(crate) fn beside_config(c: &Config, file: &str) -> PathBuf {
    let state = Path::new(file);
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
            health_filter: f
                .health_filter
                .then_some(f.health_filter_min_fraction.get()),
            label_policy: f.task_label_policy,
            // The task notes cost a copy of every task, and the live
            // (incremental) store does not keep them: only with a policy
            // whose effect they explain.
            explain: f.enumeration_on && (f.health_filter || f.task_label_policy),
            ..GenConfig::default()
        },
    })
}

/// The HTTP listener when `HTTPOn` (a bind error is logged).
pub(crate) fn http_listener(
    config: &Config,
) -> Result<Option<std::net::TcpListener>, Failed> {
    if !config.file.http_on {
        return Ok(None);
    }
    bind_http(config.http_addr).map(Some).map_err(|e| {
        Failed::logged(format!(
            "failed to setup http server: {}: {e}",
            config.http_addr
        ))
    })
}

/// The DNS workers when `DNSOn`, answering from `table` (a bind or start
/// error is logged).
pub(crate) fn dns_server(
    config: &Config,
    dns: &DnsConfig,
    table: &Arc<SharedTable>,
    stats: &Arc<Stats>,
    transfers: &Arc<Transfers>,
) -> Result<Option<DnsServer>, Failed> {
    if !config.file.dns_on {
        return Ok(None);
    }
    let started = serve::start_with(
        dns,
        Arc::clone(table),
        Arc::clone(stats),
        Arc::clone(transfers),
    );
    started
        .map(Some)
        .map_err(|e| Failed::logged(format!("failed to setup DNS server: {e}")))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn config(text: &str) -> Config {
        config::for_test(text)
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
}
