//! `config.json`: every mesos-dns key with its default, matched
//! case-insensitively, and its validation.
//!
//! Loading follows mesos-dns (BEHAVIOUR.md section 2): the path's first `~/` is
//! expanded and the path made absolute ([`path`]); the file is decoded on
//! top of the defaults with Go's `encoding/json` semantics ([`decode`]):
//! keys match case-insensitively, the last duplicate wins, `null` empties a
//! list, a wrong type is a one-line error naming the key; unknown keys are
//! logged as warnings, not fatal. Then the checks of BEHAVIOUR.md 2.3 run in
//! mesos-dns's order ([`validate`]), each failing with one line that names
//! the key, and the result is a typed [`Config`]. [`render`] gives the
//! `/v1/config` view in Go field order with the secret redacted.
//!
//! Our extension keys (defaults keep mesos-dns behaviour): `StateFile`,
//! `DnsWorkers`, `EDNSMaxPayload`, `TCPMaxConnections`,
//! `TCPMaxConnectionsPerClient`, `TCPIdleSeconds`, `StateMaxBytes`,
//! `StateSource`, `ForwardCacheSize`, `ReverseZones`, `StaticZoneFile`,
//! `TransferAllow`, `NotifySecondaries`, `IXFRJournalVersions`,
//! `IXFRJournalBytes`, `StateSnapshotFile`, `StateSnapshotMaxAgeSeconds`,
//! `Primaries`, `HealthFilter`,
//! `HealthFilterMinFraction`, `TaskLabelPolicy`, `HoldDownFraction`, and
//! `AllowRecursion`, whose default departs from
//! mesos-dns on purpose (see [`DEFAULT_ALLOW_RECURSION`]).

use std::collections::BTreeMap;
use std::fmt;

pub mod auth;
pub mod decode;
pub mod json;
pub mod path;
pub mod render;
pub mod resolv;
pub mod validate;

pub use validate::Config;

/// `RefreshSeconds`: seconds between state fetches.
pub const DEFAULT_REFRESH_SECONDS: i64 = 60;
/// `Port`: the DNS port (UDP and TCP).
pub const DEFAULT_PORT: i64 = 53;
/// `Timeout`: seconds for an upstream DNS exchange (0 also means 5).
pub const DEFAULT_TIMEOUT: i64 = 5;
/// `StateTimeoutSeconds`: seconds for a whole state fetch.
pub const DEFAULT_STATE_TIMEOUT_SECONDS: i64 = 300;
/// `ZkDetectionTimeout`: seconds without a leader before exiting (≤ 0: never).
pub const DEFAULT_ZK_DETECTION_TIMEOUT: i64 = 30;
/// `HttpPort`: the HTTP API port.
pub const DEFAULT_HTTP_PORT: i64 = 8123;
/// `TTL`: seconds, the TTL of every served record.
pub const DEFAULT_TTL: i32 = 60;
/// `SRVRecordDefaultWeight`: the SRV weight.
pub const DEFAULT_SRV_RECORD_DEFAULT_WEIGHT: u16 = 1;
/// `SOARefresh`: seconds.
pub const DEFAULT_SOA_REFRESH: u32 = 60;
/// `SOARetry`: seconds.
pub const DEFAULT_SOA_RETRY: u32 = 600;
/// `SOAExpire`: seconds.
pub const DEFAULT_SOA_EXPIRE: u32 = 86_400;
/// `SOAMinttl`: seconds.
pub const DEFAULT_SOA_MINTTL: u32 = 60;
/// `SOAMname`: the primary nameserver's name.
pub const DEFAULT_SOA_MNAME: &str = "ns1.mesos";
/// `SOARname`: the zone contact (`@` allowed).
pub const DEFAULT_SOA_RNAME: &str = "root.ns1.mesos";
/// `Resolvers`: upstream DNS servers.
pub const DEFAULT_RESOLVERS: [&str; 1] = ["8.8.8.8"];
/// `IPSources`: task IP sources in priority order.
pub const DEFAULT_IP_SOURCES: [&str; 3] = ["netinfo", "mesos", "host"];
/// `Domain`: the zone served.
pub const DEFAULT_DOMAIN: &str = "mesos";
/// `Listener` and `HTTPListener`: bind addresses.
pub const DEFAULT_LISTENER: &str = "0.0.0.0";
/// `DnsWorkers` (extension): DNS worker threads; 0 means one per CPU.
pub const DEFAULT_DNS_WORKERS: i64 = 0;
/// `EDNSMaxPayload` (extension): octets, the largest UDP answer sent to an
/// EDNS client (RFC 6891 requestor's payload size, capped here).
pub const DEFAULT_EDNS_MAX_PAYLOAD: u16 = crate::dns_config::DEFAULT_EDNS_MAX;
/// `TCPMaxConnections` (extension): open DNS TCP connections in total.
pub const DEFAULT_TCP_MAX_CONNECTIONS: i64 =
    crate::dns_config::DEFAULT_TCP_MAX_CONNECTIONS as i64;
/// `TCPMaxConnectionsPerClient` (extension): open DNS TCP connections per
/// client IP.
pub const DEFAULT_TCP_MAX_CONNECTIONS_PER_CLIENT: i64 =
    crate::dns_config::DEFAULT_TCP_MAX_PER_CLIENT as i64;
/// `TCPIdleSeconds` (extension): seconds before an idle DNS TCP connection
/// is closed (RFC 7766 section 6.2.3).
pub const DEFAULT_TCP_IDLE_SECONDS: i64 =
    crate::dns_config::DEFAULT_TCP_IDLE.as_secs() as i64;
/// `StateSource` (extension): how the Mesos state is followed.
pub const DEFAULT_STATE_SOURCE: &str = "poll";
/// `HealthFilterMinFraction` (extension): with `HealthFilter`, a name keeps
/// only its healthy tasks while at least this fraction of them is healthy;
/// below it, all are served (fail open).
pub const DEFAULT_HEALTH_FILTER_MIN_FRACTION: f64 = 0.5;
/// `HoldDownFraction` (extension): a state that would remove more than this
/// fraction of the records is held back for one load; `0` (the default,
/// mesos-dns's behaviour) never holds. 0.5 is a good value to turn it on.
pub const DEFAULT_HOLD_DOWN_FRACTION: f64 = 0.0;

/// A fraction in a config key (0..=1 once validated), kept as the JSON
/// number written so `/v1/config` prints it back as it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fraction(pub serde_json::Number);

impl Fraction {
    /// The fraction `x` (0 if `x` is not finite).
    pub fn new(x: f64) -> Fraction {
        // Whole numbers as integers, as a user would write them (`0`).
        #[allow(clippy::cast_possible_truncation)]
        if x.fract() == 0.0 && x.abs() < 1e15 {
            return Fraction((x as i64).into());
        }
        Fraction(serde_json::Number::from_f64(x).unwrap_or_else(|| 0.into()))
    }

    /// Its value.
    pub fn get(&self) -> f64 {
        self.0.as_f64().unwrap_or(0.0)
    }
}

/// `StateMaxBytes` (extension): octets, the largest state body accepted.
pub const DEFAULT_STATE_MAX_BYTES: i64 = mesos_sources::fetch::DEFAULT_MAX_BODY as i64;

/// `ForwardCacheSize` (extension): forwarded answers kept, all DNS workers
/// together; 0 turns the forward cache off.
pub const DEFAULT_FORWARD_CACHE_SIZE: i64 =
    crate::dns_config::DEFAULT_FORWARD_CACHE_SIZE as i64;

/// `StateSnapshotMaxAgeSeconds` (extension): the oldest state snapshot
/// served at startup, one hour. A running server keeps serving its last
/// records however long the master is unreachable, so a snapshot taken a
/// moment before a restart is no worse than what the server would have
/// served without the restart; an hour covers a restart, a binary upgrade
/// or a host reboot with a wide margin, while records older than that
/// (a host that was down for a day) are more likely to send clients to
/// tasks that have moved than to help. Until the first live load replaces
/// them, `/ready` and `/metrics` say the answers come from a snapshot.
pub const DEFAULT_STATE_SNAPSHOT_MAX_AGE_SECONDS: i64 = 3600;

/// `AllowRecursion` (extension): the clients whose queries for names
/// outside the domain are forwarded; everyone else gets REFUSED. The
/// default is the addresses a cluster's own hosts and tasks use: loopback,
/// RFC 1918, link-local and RFC 4193 unique local
/// ([`crate::client::PRIVATE_NETWORKS`]). mesos-dns forwards for anyone,
/// which makes every node an open resolver (an amplifier for reflection
/// attacks, mesos-dns #383) as soon as port 53 is reachable from outside;
/// clusters on public addresses list their prefixes, and
/// `["0.0.0.0/0", "::/0"]` restores mesos-dns's behaviour.
pub const DEFAULT_ALLOW_RECURSION: [&str; 8] = crate::client::PRIVATE_NETWORKS;

/// `IXFRJournalVersions` (extension): differences between serials kept
/// for IXFR (RFC 1995); a client further behind gets the whole zone.
pub const DEFAULT_IXFR_JOURNAL_VERSIONS: i64 = crate::xfr::DEFAULT_VERSIONS as i64;
/// `IXFRJournalBytes` (extension): octets of those differences kept at
/// most (an estimate of their memory).
pub const DEFAULT_IXFR_JOURNAL_BYTES: i64 = crate::xfr::DEFAULT_BYTES as i64;

/// `MesosCredentials`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `Principal`.
    pub principal: String,
    /// `Secret`: never printed (redacted in `/v1/config`).
    pub secret: String,
}

/// The keys of `config.json` as decoded, Go-shaped: `None` is Go's nil
/// slice or map (printed as `null`), and the values are as the user wrote
/// them until [`validate`] normalizes `Domain`, `SOAMname`, `SOARname`,
/// `SOASerial` and an empty `Resolvers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFile {
    /// `RefreshSeconds`, must be > 0.
    pub refresh_seconds: i64,
    /// `Port`, 0..=65535 (0: an ephemeral port).
    pub port: i64,
    /// `Timeout`, seconds, ≥ 0.
    pub timeout: i64,
    /// `StateTimeoutSeconds`, > 0.
    pub state_timeout_seconds: i64,
    /// `ZkDetectionTimeout`, seconds.
    pub zk_detection_timeout: i64,
    /// `HttpPort`, 0..=65535.
    pub http_port: i64,
    /// `TTL`, seconds, ≥ 0.
    pub ttl: i32,
    /// `SRVRecordDefaultWeight`.
    pub srv_record_default_weight: u16,
    /// `SOASerial` (overwritten at startup).
    pub soa_serial: u32,
    /// `SOARefresh`.
    pub soa_refresh: u32,
    /// `SOARetry`.
    pub soa_retry: u32,
    /// `SOAExpire`.
    pub soa_expire: u32,
    /// `SOAMinttl`.
    pub soa_minttl: u32,
    /// `SOAMname`.
    pub soa_mname: String,
    /// `SOARname`.
    pub soa_rname: String,
    /// `Masters`.
    pub masters: Option<Vec<String>>,
    /// `ZoneResolvers`.
    pub zone_resolvers: Option<BTreeMap<String, Option<Vec<String>>>>,
    /// `Resolvers`.
    pub resolvers: Option<Vec<String>>,
    /// `IPSources`.
    pub ip_sources: Option<Vec<String>>,
    /// `Zk`.
    pub zk: String,
    /// `Domain`.
    pub domain: String,
    /// `File`: the config file's absolute path (informational).
    pub file: String,
    /// `Listener`.
    pub listener: String,
    /// `HTTPListener`.
    pub http_listener: String,
    /// `RecurseOn`.
    pub recurse_on: bool,
    /// `DnsOn`.
    pub dns_on: bool,
    /// `HttpOn`.
    pub http_on: bool,
    /// `ExternalOn`.
    pub external_on: bool,
    /// `EnforceRFC952`.
    pub enforce_rfc952: bool,
    /// `SetTruncateBit`.
    pub set_truncate_bit: bool,
    /// `EnumerationOn`.
    pub enumeration_on: bool,
    /// `MesosHTTPSOn`.
    pub mesos_https_on: bool,
    /// `CACertFile`.
    pub ca_cert_file: String,
    /// `CertFile`.
    pub cert_file: String,
    /// `KeyFile`.
    pub key_file: String,
    /// `MesosCredentials`.
    pub mesos_credentials: Credentials,
    /// `IAMConfigFile`.
    pub iam_config_file: String,
    /// `MesosAuthentication`: `""`, `basic` or `iam`.
    pub mesos_authentication: String,
    /// `StateFile` (extension): read the state from this file instead of a
    /// master; it is re-read when it changes.
    pub state_file: String,
    /// `DnsWorkers` (extension), ≥ 0.
    pub dns_workers: i64,
    /// `EDNSMaxPayload` (extension), 512..=65535.
    pub edns_max_payload: u16,
    /// `TCPMaxConnections` (extension), > 0.
    pub tcp_max_connections: i64,
    /// `TCPMaxConnectionsPerClient` (extension), > 0.
    pub tcp_max_connections_per_client: i64,
    /// `TCPIdleSeconds` (extension), > 0.
    pub tcp_idle_seconds: i64,
    /// `StateMaxBytes` (extension), > 0.
    pub state_max_bytes: i64,
    /// `StateSource` (extension): `poll` (the default: fetch
    /// `/master/state` every `RefreshSeconds`) or `events` (follow the v1
    /// operator API event stream, Mesos 1.0 or later).
    pub state_source: String,
    /// `ForwardCacheSize` (extension), ≥ 0.
    pub forward_cache_size: i64,
    /// `ReverseZones` (extension): reverse zones under `in-addr.arpa` or
    /// `ip6.arpa` answered authoritatively; `null` or `[]`: none.
    pub reverse_zones: Option<Vec<String>>,
    /// `StaticZoneFile` (extension): an RFC 1035 master file of static
    /// records; relative to the config file's directory; `""`: none.
    pub static_zone_file: String,
    /// `AllowRecursion` (extension): address prefixes (`10.0.0.0/8`, a
    /// bare address) of the clients whose out-of-domain queries are
    /// forwarded; `null` or `[]` forwards for nobody.
    pub allow_recursion: Option<Vec<String>>,
    /// `TransferAllow` (extension): address prefixes of the clients
    /// allowed zone transfers (AXFR, IXFR); `null` or `[]` (the default)
    /// refuses every transfer.
    pub transfer_allow: Option<Vec<String>>,
    /// `NotifySecondaries` (extension): `ip:port` of the secondaries sent
    /// a NOTIFY (RFC 1996) when the serial changes.
    pub notify_secondaries: Option<Vec<String>>,
    /// `IXFRJournalVersions` (extension), ≥ 0.
    pub ixfr_journal_versions: i64,
    /// `IXFRJournalBytes` (extension), ≥ 0.
    pub ixfr_journal_bytes: i64,
    /// `StateSnapshotFile` (extension): where the served records are
    /// saved after each state load, and read back at startup; empty (the
    /// default) for no snapshot.
    pub state_snapshot_file: String,
    /// `StateSnapshotMaxAgeSeconds` (extension), > 0: the oldest snapshot
    /// served at startup.
    pub state_snapshot_max_age_seconds: i64,
    /// `Primaries` (extension): `ip:port` of the primaries followed with
    /// `StateSource: "secondary"`, in order of preference.
    pub primaries: Option<Vec<String>>,
    /// `HealthFilter` (extension): leave tasks whose latest status reports
    /// `healthy: false` out of the names they share with other tasks.
    pub health_filter: bool,
    /// `HealthFilterMinFraction` (extension), 0..=1.
    pub health_filter_min_fraction: Fraction,
    /// `TaskLabelPolicy` (extension): read the `DNS_EXCLUDE`, `DNS_TTL`,
    /// `DNS_IPSOURCES` and `DNS_SRV_WEIGHT` task labels.
    pub task_label_policy: bool,
    /// `HoldDownFraction` (extension), 0..=1; 0 is off.
    pub hold_down_fraction: Fraction,
}

impl Default for ConfigFile {
    fn default() -> Self {
        let strings = |s: &[&str]| Some(s.iter().map(|s| s.to_string()).collect());
        ConfigFile {
            refresh_seconds: DEFAULT_REFRESH_SECONDS,
            port: DEFAULT_PORT,
            timeout: DEFAULT_TIMEOUT,
            state_timeout_seconds: DEFAULT_STATE_TIMEOUT_SECONDS,
            zk_detection_timeout: DEFAULT_ZK_DETECTION_TIMEOUT,
            http_port: DEFAULT_HTTP_PORT,
            ttl: DEFAULT_TTL,
            srv_record_default_weight: DEFAULT_SRV_RECORD_DEFAULT_WEIGHT,
            soa_serial: 0,
            soa_refresh: DEFAULT_SOA_REFRESH,
            soa_retry: DEFAULT_SOA_RETRY,
            soa_expire: DEFAULT_SOA_EXPIRE,
            soa_minttl: DEFAULT_SOA_MINTTL,
            soa_mname: DEFAULT_SOA_MNAME.to_string(),
            soa_rname: DEFAULT_SOA_RNAME.to_string(),
            masters: None,
            zone_resolvers: Some(BTreeMap::new()),
            resolvers: strings(&DEFAULT_RESOLVERS),
            ip_sources: strings(&DEFAULT_IP_SOURCES),
            zk: String::new(),
            domain: DEFAULT_DOMAIN.to_string(),
            file: String::new(),
            listener: DEFAULT_LISTENER.to_string(),
            http_listener: DEFAULT_LISTENER.to_string(),
            recurse_on: true,
            dns_on: true,
            http_on: true,
            external_on: true,
            enforce_rfc952: false,
            set_truncate_bit: true,
            enumeration_on: true,
            mesos_https_on: false,
            ca_cert_file: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            mesos_credentials: Credentials::default(),
            iam_config_file: String::new(),
            mesos_authentication: String::new(),
            state_file: String::new(),
            dns_workers: DEFAULT_DNS_WORKERS,
            edns_max_payload: DEFAULT_EDNS_MAX_PAYLOAD,
            tcp_max_connections: DEFAULT_TCP_MAX_CONNECTIONS,
            tcp_max_connections_per_client: DEFAULT_TCP_MAX_CONNECTIONS_PER_CLIENT,
            tcp_idle_seconds: DEFAULT_TCP_IDLE_SECONDS,
            state_max_bytes: DEFAULT_STATE_MAX_BYTES,
            state_source: DEFAULT_STATE_SOURCE.to_string(),
            forward_cache_size: DEFAULT_FORWARD_CACHE_SIZE,
            reverse_zones: Some(Vec::new()),
            static_zone_file: String::new(),
            allow_recursion: strings(&DEFAULT_ALLOW_RECURSION),
            transfer_allow: Some(Vec::new()),
            notify_secondaries: Some(Vec::new()),
            ixfr_journal_versions: DEFAULT_IXFR_JOURNAL_VERSIONS,
            ixfr_journal_bytes: DEFAULT_IXFR_JOURNAL_BYTES,
            state_snapshot_file: String::new(),
            state_snapshot_max_age_seconds: DEFAULT_STATE_SNAPSHOT_MAX_AGE_SECONDS,
            primaries: Some(Vec::new()),
            health_filter: false,
            health_filter_min_fraction: Fraction::new(DEFAULT_HEALTH_FILTER_MIN_FRACTION),
            task_label_policy: false,
            hold_down_fraction: Fraction::new(DEFAULT_HOLD_DOWN_FRACTION),
        }
    }
}

/// Why `config.json` was rejected. Each one displays as one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read.
    Missing {
        /// Absolute path.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// Not JSON, or a value of the wrong type for its key.
    Unmarshal {
        /// Absolute path.
        path: String,
        /// serde_json's syntax error or Go's `json: cannot unmarshal ...`.
        reason: String,
    },
    /// A check of BEHAVIOUR.md 2.3 (or one of ours) failed.
    Invalid {
        /// The key at fault (or two, `DnsOn/HttpOn`).
        key: &'static str,
        /// mesos-dns's message where it has one.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(key: &'static str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing { path, reason } => {
                write!(f, "missing configuration file: {path:?} ({reason})")
            }
            ConfigError::Unmarshal { path, reason } => {
                write!(f, "failed to unmarshal config file {path:?}: {reason}")
            }
            ConfigError::Invalid { key, message } => {
                write!(f, "{message} (config key {key})")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Reads, decodes and validates the config file at `path` (the `-config`
/// flag, before `~/` expansion), with the system's resolv.conf and the
/// current time.
///
/// # Errors
///
/// The first problem found, as one line.
pub fn load(path: &str) -> Result<(Config, Vec<String>), ConfigError> {
    let abs = path::absolute(path);
    let text = std::fs::read(&abs).map_err(|e| ConfigError::Missing {
        path: abs.clone(),
        reason: e.kind().to_string(),
    })?;
    let (file, unknown) = decode::decode(&text, &abs)?;
    let env = validate::Env::system();
    let config = validate::validate(file, &env)?;
    Ok((config, unknown))
}

/// Like [`load`], for a `config.json` given as text (tests).
///
/// # Errors
///
/// As [`load`].
pub fn load_text(
    text: &[u8],
    abs: &str,
    env: &validate::Env<'_>,
) -> Result<(Config, Vec<String>), ConfigError> {
    let (file, unknown) = decode::decode(text, abs)?;
    Ok((validate::validate(file, env)?, unknown))
}

/// A valid config from `config.json` text, for unit tests: no resolv.conf,
/// the clock at 1000. Panics on an invalid text.
#[cfg(test)]
pub(crate) fn for_test(text: &str) -> Config {
    let env = validate::Env {
        resolv_conf: std::path::Path::new("/nonexistent"),
        now: 1000,
    };
    load_text(text.as_bytes(), "/etc/mesos-dns/config.json", &env)
        .expect("test config is valid")
        .0
}

#[cfg(test)]
mod tests;
