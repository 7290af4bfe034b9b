//! The checks of BEHAVIOUR.md 2.3, in mesos-dns's order, and the typed
//! [`Config`] they produce.
//!
//! 1. `DnsOn`/`HttpOn`; 2. `Masters`/`Zk` (or our `StateFile`);
//! 3. `Masters` syntax and duplicates (hostnames accepted: we resolve
//!    them); 4. `Resolvers` (empty: the system's, see [`super::resolv`])
//!    and `ZoneResolvers`, only when `ExternalOn`; 5. `IPSources`;
//! 6. `StateTimeoutSeconds`, then `RefreshSeconds` (> 0: mesos-dns
//!    crashes on ≤ 0); 7. `Domain`; 8. `SOAMname`, `SOARname`, `SOASerial`;
//! 9. certificates; 10. authentication; 11. our checks of ports,
//!    listeners and extension keys.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos_records::hostport::{parse_config_port, split_host_port};
use mesos_records::IpSource;
use mesos_sources::fetch::{Auth, Tls};

use crate::client::Cidr;

use super::auth::{certificate_error, validate_auth};
use super::resolv;
use super::{ConfigError, ConfigFile};

/// What validation reads from the system: the resolv.conf path and the
/// time that becomes `SOASerial`.
#[derive(Clone, Copy, Debug)]
pub struct Env<'a> {
    /// resolv.conf, for an empty `Resolvers`.
    pub resolv_conf: &'a Path,
    /// Seconds since the Unix epoch.
    pub now: u32,
}

impl Env<'static> {
    /// The real system.
    pub fn system() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        Env {
            resolv_conf: Path::new(resolv::SYSTEM_RESOLV_CONF),
            now,
        }
    }
}

/// A validated configuration: the Go-shaped keys (normalized) for
/// `/v1/config`, and the typed values the server runs on.
#[derive(Clone, Debug)]
pub struct Config {
    /// The keys, normalized: `Domain` lowercase, `SOAMname`/`SOARname` with
    /// one trailing dot, `SOASerial` the startup time, an empty `Resolvers`
    /// replaced by the system's when `ExternalOn`.
    pub file: ConfigFile,
    /// Upstream resolvers, in order (empty when `ExternalOn` is false).
    pub resolvers: Vec<SocketAddr>,
    /// `ZoneResolvers`: (zone lowercase without trailing dot, upstreams),
    /// sorted by zone (empty when `ExternalOn` is false).
    pub zone_resolvers: Vec<(String, Vec<SocketAddr>)>,
    /// `IPSources` in priority order.
    pub ip_sources: Vec<IpSource>,
    /// `Listener` and `Port`.
    pub dns_addr: SocketAddr,
    /// `HTTPListener` and `HttpPort`.
    pub http_addr: SocketAddr,
    /// `Timeout` (0 means 5 s, as in mesos-dns).
    pub upstream_timeout: Duration,
    /// `RefreshSeconds`.
    pub refresh: Duration,
    /// `StateTimeoutSeconds`.
    pub state_timeout: Duration,
    /// `ZkDetectionTimeout`; `None` when ≤ 0 (never give up).
    pub zk_detection_timeout: Option<Duration>,
    /// `AllowRecursion`, parsed.
    pub allow_recursion: Vec<Cidr>,
    /// `TransferAllow`, parsed.
    pub transfer_allow: Vec<Cidr>,
    /// `NotifySecondaries`, parsed.
    pub notify_secondaries: Vec<SocketAddr>,
    /// `Primaries`, parsed (followed when `StateSource` is `secondary`).
    pub primaries: Vec<SocketAddr>,
    /// `DnsWorkers`, with 0 resolved to the number of CPUs.
    pub dns_workers: usize,
    /// `CACertFile`, `CertFile` and `KeyFile`, loaded and parsed.
    pub tls: Tls,
    /// `MesosAuthentication` with its credentials or IAM key, loaded.
    pub auth: Auth,
    /// Things worth a warning that are not errors.
    pub warnings: Vec<String>,
}

type Checked<T> = Result<T, ConfigError>;

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::invalid(key, message)
}

/// Runs every check and normalization on decoded keys.
///
/// # Errors
///
/// The first failed check, as [`ConfigError::Invalid`].
pub fn validate(mut f: ConfigFile, env: &Env<'_>) -> Checked<Config> {
    let mut warnings = Vec::new();
    // 1.
    if !f.dns_on && !f.http_on {
        return Err(invalid(
            "DnsOn/HttpOn",
            "service validation failed: either DNS or HTTP server should be on",
        ));
    }
    // 2.
    let masters = f.masters.as_deref().unwrap_or_default();
    let secondary = f.state_source == "secondary";
    let primaries = addresses(f.primaries.as_deref(), "Primaries")?;
    if secondary && primaries.is_empty() {
        return Err(invalid(
            "Primaries",
            "StateSource \"secondary\" needs Primaries: the ip:port of the primaries to follow",
        ));
    }
    if !secondary && masters.is_empty() && f.zk.is_empty() && f.state_file.is_empty() {
        return Err(invalid(
            "Masters/Zk",
            "service validation failed: specify Mesos masters or Zookeeper in config.json",
        ));
    }
    if !f.state_file.is_empty() && (!masters.is_empty() || !f.zk.is_empty()) {
        warnings.push("StateFile is set: Masters and Zk are ignored".to_string());
    }
    // 3.
    validate_masters(masters)?;
    // 4.
    let (resolvers, zone_resolvers) = if f.external_on {
        if f.resolvers.as_ref().is_none_or(Vec::is_empty) {
            let system = resolv::system_resolvers(env.resolv_conf).map_err(|e| {
                invalid(
                    "Resolvers",
                    format!(
                        "empty Resolvers: cannot read the system resolvers from {}: {e}",
                        env.resolv_conf.display()
                    ),
                )
            })?;
            if system.is_empty() {
                warnings.push(format!(
                    "Resolvers is empty and {} lists no usable nameserver: \
                     names outside the domain will get SERVFAIL",
                    env.resolv_conf.display()
                ));
            }
            f.resolvers = Some(system);
        }
        let resolvers = parse_resolvers(f.resolvers.as_deref().unwrap_or_default())
            .map_err(|e| {
                invalid("Resolvers", format!("error validating resolvers: {e}"))
            })?;
        (resolvers, validate_zone_resolvers(&f)?)
    } else {
        (Vec::new(), Vec::new())
    };
    // 5.
    let ip_sources = validate_ip_sources(f.ip_sources.as_deref().unwrap_or_default())?;
    // 6.
    if f.state_timeout_seconds <= 0 {
        return Err(invalid(
            "StateTimeoutSeconds",
            format!("Invalid HTTP Timeout: {}", f.state_timeout_seconds),
        ));
    }
    if f.refresh_seconds <= 0 {
        return Err(invalid(
            "RefreshSeconds",
            format!("RefreshSeconds must be positive, not {}", f.refresh_seconds),
        ));
    }
    // 7.
    f.domain = f.domain.to_lowercase();
    if !is_domain(&f.domain) {
        return Err(invalid(
            "Domain",
            format!("{} is not a valid domain name", f.domain),
        ));
    }
    // 8.
    f.soa_mname = normalize_soa_name(&f.soa_mname);
    if !is_dns_name(&f.soa_mname) {
        return Err(invalid(
            "SOAMname",
            format!("{} is not a valid domain name", f.soa_mname),
        ));
    }
    f.soa_rname = normalize_soa_name(&f.soa_rname.replace('@', "."));
    if !is_dns_name(&f.soa_rname) {
        return Err(invalid(
            "SOARname",
            format!("{} is not a valid domain name", f.soa_rname),
        ));
    }
    f.soa_serial = env.now;
    // 9.
    let tls = Tls::load(&f.ca_cert_file, &f.cert_file, &f.key_file)
        .map_err(|e| certificate_error(&e))?;
    // 10.
    let auth = validate_auth(&f, &mut warnings)?;
    // 11.
    let dns_addr =
        SocketAddr::new(listener_ip(&f.listener, "Listener")?, port(f.port, "Port")?);
    let http_addr = SocketAddr::new(
        listener_ip(&f.http_listener, "HTTPListener")?,
        port(f.http_port, "HttpPort")?,
    );
    validate_extensions(&f)?;
    let allow_recursion = validate_allow_recursion(&f, dns_addr, &mut warnings)?;
    let transfer_allow = cidrs(f.transfer_allow.as_deref(), "TransferAllow")?;
    let notify_secondaries =
        addresses(f.notify_secondaries.as_deref(), "NotifySecondaries")?;
    let seconds = |s: i64| Duration::from_secs(u64::try_from(s).unwrap_or(0));
    let dns_workers = match usize::try_from(f.dns_workers) {
        Ok(0) | Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Ok(n) => n,
    };
    Ok(Config {
        resolvers,
        zone_resolvers,
        ip_sources,
        dns_addr,
        http_addr,
        upstream_timeout: seconds(if f.timeout == 0 { 5 } else { f.timeout }),
        refresh: seconds(f.refresh_seconds),
        state_timeout: seconds(f.state_timeout_seconds),
        zk_detection_timeout: (f.zk_detection_timeout > 0)
            .then(|| seconds(f.zk_detection_timeout)),
        allow_recursion,
        transfer_allow,
        notify_secondaries,
        primaries,
        dns_workers,
        tls,
        auth,
        warnings,
        file: f,
    })
}

/// Step 3. Hostnames are accepted (mesos-dns crashes on them later).
fn validate_masters(masters: &[String]) -> Checked<()> {
    let err = |m: String| invalid("Masters", format!("error validating masters: {m}"));
    let mut seen = std::collections::HashSet::new();
    for m in masters {
        let (host, p) = split_host_port(m)
            .map_err(|e| err(format!("illegal host:port specified: {m}. Error: {e}")))?;
        if host.is_empty() {
            return Err(err(format!(
                "illegal host:port specified: {m}. Error: empty host"
            )));
        }
        let port = parse_config_port(p).ok_or_else(|| {
            err(format!(
                "illegal host:port specified: {m}. Error: bad port {p:?}"
            ))
        })?;
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => host.to_ascii_lowercase(),
        };
        if !seen.insert((host, port)) {
            return Err(err(format!("duplicate found: {m}")));
        }
    }
    Ok(())
}

/// Resolver syntax: an IP literal with an optional port (default 53), no
/// duplicates after normalization.
fn parse_resolvers(list: &[String]) -> Result<Vec<SocketAddr>, String> {
    let mut out: Vec<SocketAddr> = Vec::with_capacity(list.len());
    for r in list {
        let addr = match r.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, 53),
            Err(_) => {
                let (host, p) = split_host_port(r)
                    .map_err(|_| format!("illegal host:port specified: {r}"))?;
                let ip = host
                    .parse::<IpAddr>()
                    .map_err(|_| format!("illegal ip specified: {host}"))?;
                let port = parse_config_port(p)
                    .ok_or_else(|| format!("illegal port specified: {r}"))?;
                SocketAddr::new(ip, port)
            }
        };
        if out.contains(&addr) {
            return Err(format!("duplicate found: {r}"));
        }
        out.push(addr);
    }
    Ok(out)
}

/// Step 4, `ZoneResolvers`. Zones are compared case-insensitively (a fix:
/// mesos-dns never matches a zone written with capitals).
fn validate_zone_resolvers(f: &ConfigFile) -> Checked<Vec<(String, Vec<SocketAddr>)>> {
    let key = "ZoneResolvers";
    let mut zones: Vec<(String, Vec<SocketAddr>)> = Vec::new();
    for (zone, list) in f.zone_resolvers.iter().flatten() {
        let list = list.as_deref().unwrap_or_default();
        if list.is_empty() {
            return Err(invalid(key, format!("field ZoneResolver {zone} is empty")));
        }
        if !is_domain(zone) {
            return Err(invalid(key, format!("{zone} is not a valid domain name")));
        }
        let addrs = parse_resolvers(list).map_err(|e| {
            invalid(
                key,
                format!("error validating zone resolvers of {zone}: {e}"),
            )
        })?;
        if zone.eq_ignore_ascii_case(&f.domain) {
            return Err(invalid(
                key,
                format!("can't specify ZoneResolver for Mesos domain ({})", f.domain),
            ));
        }
        let lower = zone.to_ascii_lowercase();
        if zones.iter().any(|(z, _)| *z == lower) {
            return Err(invalid(
                key,
                format!("zone {zone} given twice (zones ignore case)"),
            ));
        }
        zones.push((lower, addrs));
    }
    let dotted: Vec<String> = zones
        .iter()
        .map(|(z, _)| format!(".{z}"))
        .chain(std::iter::once(format!(
            ".{}",
            f.domain.to_ascii_lowercase()
        )))
        .collect();
    for a in &dotted {
        for b in &dotted {
            if a != b && a.ends_with(b.as_str()) {
                return Err(invalid(
                    key,
                    format!("ambiguous zone resolvers: {a} is masked by {b}"),
                ));
            }
        }
    }
    zones.sort();
    Ok(zones)
}

/// Step 5.
fn validate_ip_sources(sources: &[String]) -> Checked<Vec<IpSource>> {
    let err =
        |m: String| invalid("IPSources", format!("IPSources validation failed: {m}"));
    if sources.is_empty() {
        return Err(err("empty ip sources".to_string()));
    }
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        let source = match s.as_str() {
            "host" => IpSource::Host,
            "docker" => IpSource::Docker,
            "mesos" => IpSource::Mesos,
            "netinfo" => IpSource::Netinfo,
            _ => return Err(err(format!("invalid ip source {s:?}"))),
        };
        if out.contains(&source) {
            return Err(err("duplicate ip source specified".to_string()));
        }
        out.push(source);
    }
    Ok(out)
}

/// mesos-dns's domain regex `^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$`, plus the
/// DNS limits (labels ≤ 63 octets, name ≤ 253) so every name we build fits.
fn is_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A name with one trailing dot whose labels fit DNS (RFC 1035 2.3.4).
fn is_dns_name(name: &str) -> bool {
    let Some(body) = name.strip_suffix('.') else {
        return false;
    };
    body.is_empty()
        || (body.len() <= 253 && body.split('.').all(|l| !l.is_empty() && l.len() <= 63))
}

/// Trailing dots stripped, then one added (case kept, as in mesos-dns).
pub fn normalize_soa_name(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// `Listener`/`HTTPListener`: an IP, `""` (all IPv4 addresses), or a
/// hostname resolved now (Go resolves it when binding).
fn listener_ip(s: &str, key: &'static str) -> Checked<IpAddr> {
    if s.is_empty() {
        return Ok(IpAddr::from([0, 0, 0, 0]));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(ip);
    }
    (s, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .map(|a| a.ip())
        .ok_or_else(|| {
            invalid(
                key,
                format!("{key} {s:?} is not an IP address or a known host name"),
            )
        })
}

fn port(n: i64, key: &'static str) -> Checked<u16> {
    u16::try_from(n)
        .map_err(|_| invalid(key, format!("{key} {n} is not a port (0..65535)")))
}

/// `AllowRecursion`: every entry a prefix; a warning when forwarding is
/// open to every address on a listener others can reach.
fn validate_allow_recursion(
    f: &ConfigFile,
    dns_addr: SocketAddr,
    warnings: &mut Vec<String>,
) -> Checked<Vec<Cidr>> {
    let list = f
        .allow_recursion
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|t| Cidr::parse(t))
        .collect::<Result<Vec<Cidr>, String>>()
        .map_err(|e| invalid("AllowRecursion", format!("AllowRecursion: {e}")))?;
    let open = list.iter().any(Cidr::is_everything);
    if open && f.dns_on && f.external_on && !dns_addr.ip().is_loopback() {
        warnings.push(format!(
            "AllowRecursion {} forwards for every address and DNS listens on {}: \
             an open resolver that can be used for reflection attacks; list the \
             cluster's networks instead",
            list.iter()
                .filter(|c| c.is_everything())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            dns_addr.ip()
        ));
    }
    Ok(list)
}

/// A list of address prefixes (`TransferAllow`).
fn cidrs(list: Option<&[String]>, key: &'static str) -> Checked<Vec<Cidr>> {
    list.unwrap_or_default()
        .iter()
        .map(|t| Cidr::parse(t))
        .collect::<Result<Vec<Cidr>, String>>()
        .map_err(|e| invalid(key, format!("{key}: {e}")))
}

/// A list of `ip:port` (`NotifySecondaries`); `[v6]:port` for IPv6.
fn addresses(list: Option<&[String]>, key: &'static str) -> Checked<Vec<SocketAddr>> {
    list.unwrap_or_default()
        .iter()
        .map(|t| {
            t.parse::<SocketAddr>().map_err(|_| {
                invalid(key, format!("{key}: {t:?} is not an ip:port address"))
            })
        })
        .collect()
}

/// Step 11: our keys, and the signed values mesos-dns mishandles.
fn validate_extensions(f: &ConfigFile) -> Checked<()> {
    let non_negative = [
        ("Timeout", f.timeout),
        ("TTL", i64::from(f.ttl)),
        ("DnsWorkers", f.dns_workers),
        ("IXFRJournalVersions", f.ixfr_journal_versions),
        ("IXFRJournalBytes", f.ixfr_journal_bytes),
    ];
    for (key, n) in non_negative {
        if n < 0 {
            return Err(invalid(key, format!("{key} must not be negative, not {n}")));
        }
    }
    if f.dns_workers > 1024 {
        return Err(invalid(
            "DnsWorkers",
            format!("DnsWorkers {} is above 1024", f.dns_workers),
        ));
    }
    if f.edns_max_payload < 512 {
        return Err(invalid(
            "EDNSMaxPayload",
            format!(
                "EDNSMaxPayload {} is below 512 (RFC 6891 6.2.5)",
                f.edns_max_payload
            ),
        ));
    }
    let positive = [
        ("TCPMaxConnections", f.tcp_max_connections),
        (
            "TCPMaxConnectionsPerClient",
            f.tcp_max_connections_per_client,
        ),
        ("TCPIdleSeconds", f.tcp_idle_seconds),
        ("StateMaxBytes", f.state_max_bytes),
        (
            "StateSnapshotMaxAgeSeconds",
            f.state_snapshot_max_age_seconds,
        ),
    ];
    for (key, n) in positive {
        if n <= 0 {
            return Err(invalid(key, format!("{key} must be positive, not {n}")));
        }
    }
    if f.forward_cache_size < 0 {
        return Err(invalid(
            "ForwardCacheSize",
            format!(
                "ForwardCacheSize must not be negative, not {}",
                f.forward_cache_size
            ),
        ));
    }
    for z in f.reverse_zones.iter().flatten() {
        let lower = z.to_ascii_lowercase();
        let name = lower.strip_suffix('.').unwrap_or(&lower);
        let mut buf = [0u8; dns_wire::MAX_NAME_LEN];
        let valid =
            dns_wire::name::from_dotted(name, &mut buf).is_ok() && !name.is_empty();
        let reverse = ["in-addr.arpa", "ip6.arpa"]
            .iter()
            .any(|r| name == *r || name.ends_with(&format!(".{r}")));
        if !valid || !reverse {
            return Err(invalid(
                "ReverseZones",
                format!("ReverseZones entry {z:?} is not a zone under in-addr.arpa or ip6.arpa"),
            ));
        }
    }
    for (key, x) in [
        (
            "HealthFilterMinFraction",
            f.health_filter_min_fraction.get(),
        ),
        ("HoldDownFraction", f.hold_down_fraction.get()),
    ] {
        if !(0.0..=1.0).contains(&x) {
            return Err(invalid(
                key,
                format!("{key} must be between 0 and 1, not {x}"),
            ));
        }
    }
    if !matches!(f.state_source.as_str(), "poll" | "events" | "secondary") {
        return Err(invalid(
            "StateSource",
            format!(
                "StateSource must be \"poll\", \"events\" or \"secondary\", not {:?}",
                f.state_source
            ),
        ));
    }
    Ok(())
}
