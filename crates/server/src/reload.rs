//! SIGHUP: `config.json` read again and applied while serving.
//!
//! The file is decoded and validated exactly as at startup. An invalid
//! file is rejected whole: the config in force stays, and the same one-line
//! error naming the key is logged. A valid one is compared with the config
//! in force key by key ([`plan`]):
//!
//! - keys the compiled answers depend on (`TTL`, the `SOA*` fields but
//!   `SOAMname`, `SRVRecordDefaultWeight`): the records of the last state
//!   load are compiled again under the new values and the table swapped,
//!   with a new SOA serial;
//! - keys the table carries beside its answers (`Resolvers`,
//!   `ZoneResolvers`, `Timeout`, `ExternalOn`, `AllowRecursion`,
//!   `RecurseOn`, `SetTruncateBit`): a table with the same answers and the
//!   new routes and upstreams is swapped in, nothing compiled;
//! - keys of record generation (`IPSources`, `EnforceRFC952`,
//!   `EnumerationOn`, `Domain`, `SOAMname`): the poller generates with
//!   them from its next load, started at once (a state file is read
//!   again, a master asked again; until that load succeeds the records in
//!   force stay). `Domain` and `SOAMname` shape the table too: the new
//!   table settings are staged in the [`Publisher`] and applied with the
//!   first records generated for them, so the zone moves in one swap (a
//!   later reload before that load updates the staged settings). The
//!   event-stream source builds its records from events as they come:
//!   there these keys need a restart;
//! - `Listener` and `Port`, `HTTPListener` and `HttpPort`: the DNS
//!   workers (or the HTTP server) are started on the new address first,
//!   then the old ones stopped; if the new address cannot be bound, a
//!   warning says why and the old listener stays (a restart is needed).
//!   Queries already received by the old DNS workers but not yet answered
//!   when they stop (a forward in flight) are dropped: clients retry;
//! - every other key needs a restart (`DnsOn`, `HttpOn`, the state source and
//!   its credentials, the worker and connection limits, the zone-transfer
//!   keys): a warning names
//!   each one, its old value stays in force, and the rest of the reload is
//!   applied.
//!
//! A swap never fails a query: a query in progress finishes on the table it
//! started with, a forward in flight on its upstreams. `/v1/config` shows
//! the config in force afterwards (the restart keys with their old values);
//! `/metrics` counts the reloads by result.

use crate::calendar::now_unix;
use crate::config::{self, render::render, Config, ConfigError};
use crate::dns_config::DnsConfig;
use std::sync::Arc;

use crate::http::{ApiContext, ApiSettings, HttpHandle, HttpLimits, LiveSettings};
use crate::logger::STARTUP;
use crate::serve::{self, DnsServer};
use crate::stats::Stats;
use crate::table::Publisher;
use crate::table::SharedTable;
use mesos_sources::poller::Poller;

/// How a changed key is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apply {
    /// The answers are compiled again from the last state.
    Answers,
    /// The table is swapped with the same answers (routes, upstreams,
    /// flags).
    Table,
    /// The records are generated again, from the next state load.
    Records,
    /// The records are generated again, and the table settings change
    /// with the first load generated for them.
    Zone,
    /// The DNS listener is moved.
    ListenDns,
    /// The HTTP listener is moved.
    ListenHttp,
    /// Not applied: the old value stays until a restart.
    Restart,
}

/// One key of `config.json`: how a change is applied, how to tell a
/// change, and how to keep the old value (file and derived fields).
struct Key {
    name: &'static str,
    apply: Apply,
    differs: fn(&Config, &Config) -> bool,
    keep_old: fn(&mut Config, &Config),
}

/// `key!("Name", Apply, file fields; derived fields)`.
macro_rules! key {
    ($name:literal, $apply:ident, $($f:ident),+ $(; $($d:ident),+)?) => {
        Key {
            name: $name,
            apply: Apply::$apply,
            differs: |a, b| false $(|| a.file.$f != b.file.$f)+,
            keep_old: |new, old| {
                $(new.file.$f = old.file.$f.clone();)+
                $($(new.$d = old.$d.clone();)+)?
            },
        }
    };
}

/// Every key of `config.json` but `File` and `SOASerial` (not settings).
fn keys() -> Vec<Key> {
    vec![
        key!("TTL", Answers, ttl),
        key!("SOARname", Answers, soa_rname),
        key!("SOARefresh", Answers, soa_refresh),
        key!("SOARetry", Answers, soa_retry),
        key!("SOAExpire", Answers, soa_expire),
        key!("SOAMinttl", Answers, soa_minttl),
        key!("SRVRecordDefaultWeight", Answers, srv_record_default_weight),
        // `ExternalOn` false empties the resolvers in validation: the
        // derived lists follow whichever of the three changed.
        key!("Resolvers", Table, resolvers; resolvers, zone_resolvers),
        key!("ZoneResolvers", Table, zone_resolvers; resolvers, zone_resolvers),
        key!("ExternalOn", Table, external_on; resolvers, zone_resolvers),
        key!("Timeout", Table, timeout; upstream_timeout),
        key!("AllowRecursion", Table, allow_recursion; allow_recursion),
        key!("RecurseOn", Table, recurse_on),
        key!("SetTruncateBit", Table, set_truncate_bit),
        key!("Listener", ListenDns, listener; dns_addr),
        key!("Port", ListenDns, port; dns_addr),
        key!("HTTPListener", ListenHttp, http_listener; http_addr),
        key!("HttpPort", ListenHttp, http_port; http_addr),
        key!("DnsOn", Restart, dns_on),
        key!("HttpOn", Restart, http_on),
        key!("Domain", Zone, domain),
        key!("SOAMname", Zone, soa_mname),
        key!("IPSources", Records, ip_sources; ip_sources),
        key!("EnforceRFC952", Records, enforce_rfc952),
        key!("EnumerationOn", Records, enumeration_on),
        key!("HealthFilter", Records, health_filter),
        key!(
            "HealthFilterMinFraction",
            Records,
            health_filter_min_fraction
        ),
        key!("TaskLabelPolicy", Records, task_label_policy),
        key!("HoldDownFraction", Restart, hold_down_fraction),
        key!("Masters", Restart, masters),
        key!("Zk", Restart, zk),
        key!("StateFile", Restart, state_file),
        key!("StateSource", Restart, state_source),
        key!("RefreshSeconds", Restart, refresh_seconds; refresh),
        key!("StateTimeoutSeconds", Restart, state_timeout_seconds; state_timeout),
        key!("ZkDetectionTimeout", Restart, zk_detection_timeout; zk_detection_timeout),
        key!("StateMaxBytes", Restart, state_max_bytes),
        key!("MesosHTTPSOn", Restart, mesos_https_on),
        key!("CACertFile", Restart, ca_cert_file; tls),
        key!("CertFile", Restart, cert_file; tls),
        key!("KeyFile", Restart, key_file; tls),
        key!("MesosCredentials", Restart, mesos_credentials; auth),
        key!("IAMConfigFile", Restart, iam_config_file; auth),
        key!("MesosAuthentication", Restart, mesos_authentication; auth),
        key!("DnsWorkers", Restart, dns_workers; dns_workers),
        key!("EDNSMaxPayload", Restart, edns_max_payload),
        key!("TCPMaxConnections", Restart, tcp_max_connections),
        key!(
            "TCPMaxConnectionsPerClient",
            Restart,
            tcp_max_connections_per_client
        ),
        key!("TCPIdleSeconds", Restart, tcp_idle_seconds),
        key!("ForwardCacheSize", Restart, forward_cache_size),
        key!("ReverseZones", Restart, reverse_zones),
        key!("StateSnapshotFile", Restart, state_snapshot_file),
        key!(
            "StateSnapshotMaxAgeSeconds",
            Restart,
            state_snapshot_max_age_seconds
        ),
        key!("StaticZoneFile", Restart, static_zone_file),
        key!("TransferAllow", Restart, transfer_allow; transfer_allow),
        key!("NotifySecondaries", Restart, notify_secondaries; notify_secondaries),
        key!("IXFRJournalVersions", Restart, ixfr_journal_versions),
        key!("IXFRJournalBytes", Restart, ixfr_journal_bytes),
        key!("Primaries", Restart, primaries; primaries),
    ]
}

/// What a valid reloaded config changes.
#[derive(Debug)]
pub struct Plan {
    /// The config to put in force: the new one with every restart key at
    /// its old value.
    pub config: Config,
    /// Changed keys applied now.
    pub applied: Vec<&'static str>,
    /// Changed keys that need a restart (kept at their old values).
    pub restart: Vec<&'static str>,
    /// Whether the answers must be compiled again.
    pub answers: bool,
    /// Whether the records must be generated again.
    pub records: bool,
    /// Whether the table settings must wait for those records (`Domain`,
    /// `SOAMname`).
    pub zone: bool,
    /// Changed listener keys (DNS or HTTP), applied if the new address
    /// can be bound.
    pub listen: Vec<(&'static str, bool)>,
}

/// Compares `new` with the config in force, `old`; `regenerate` says
/// whether the state source can generate its records again (else the
/// [`Apply::Records`] keys need a restart).
pub fn plan(old: &Config, mut new: Config, regenerate: bool) -> Plan {
    let (mut applied, mut restart) = (Vec::new(), Vec::new());
    let (mut answers, mut records, mut zone, mut listen) =
        (false, false, false, Vec::new());
    // The keys that are not settings: the path stays; the serial is the
    // table's anyway.
    new.file.file.clone_from(&old.file.file);
    new.file.soa_serial = old.file.soa_serial;
    let keys = keys();
    // Changes are found first, then the restart keys put back, so a
    // derived field shared by two keys is compared before either moves.
    let changed: Vec<&Key> = keys.iter().filter(|k| (k.differs)(old, &new)).collect();
    for k in &changed {
        let apply = match (k.apply, regenerate) {
            (Apply::Records | Apply::Zone, false) => Apply::Restart,
            (apply, _) => apply,
        };
        match apply {
            Apply::Restart => {
                (k.keep_old)(&mut new, old);
                restart.push(k.name);
            }
            Apply::Answers => {
                answers = true;
                applied.push(k.name);
            }
            Apply::Records => {
                records = true;
                applied.push(k.name);
            }
            Apply::Zone => {
                (records, zone) = (true, true);
                applied.push(k.name);
            }
            Apply::Table => applied.push(k.name),
            Apply::ListenDns => listen.push((k.name, true)),
            Apply::ListenHttp => listen.push((k.name, false)),
        }
    }
    Plan {
        config: new,
        applied,
        restart,
        answers,
        records,
        zone,
        listen,
    }
}

/// The running servers a reload may move to new addresses.
pub struct Servers {
    /// The DNS workers, with the table and counters they are started with.
    pub dns: Option<(DnsServer, Arc<SharedTable>, Arc<Stats>)>,
    /// The HTTP server and its context.
    pub http: Option<(HttpHandle, Arc<ApiContext>)>,
}

/// The config in force and the parts a reload updates.
pub struct Reloader {
    servers: Servers,
    /// The number of the last generation settings given to the poller.
    gen_epoch: u64,
    path: String,
    current: Config,
    /// Where the table is compiled and swapped.
    publisher: std::sync::Arc<Publisher>,
    /// The DNS settings in force: kept for their startup-only parts.
    dns: DnsConfig,
    api: std::sync::Arc<LiveSettings>,
}

impl Reloader {
    /// A reloader for the config read from `path` at startup.
    pub fn new(
        path: String,
        current: Config,
        dns: DnsConfig,
        publisher: std::sync::Arc<Publisher>,
        api: std::sync::Arc<LiveSettings>,
        servers: Servers,
    ) -> Self {
        Reloader {
            servers,
            gen_epoch: 0,
            path,
            current,
            publisher,
            dns,
            api,
        }
    }

    /// Reads the config file again and applies it (see the module doc),
    /// `poller` generating the records; logs and counts the outcome. Never
    /// fails the server.
    pub fn reload(&mut self, poller: &Poller) {
        log::info!(target: STARTUP, "SIGHUP: reloading config from {:?}", self.path);
        let (new, unknown) = match config::load(&self.path) {
            Ok(loaded) => loaded,
            Err(e) => return self.reject(&e),
        };
        for key in unknown {
            log::warn!("config file {:?}: unknown key {key:?} ignored", self.path);
        }
        for warning in &new.warnings {
            log::warn!("{warning}");
        }
        let f = &self.current.file;
        let events = f.state_source == "events" && f.state_file.is_empty();
        let mut plan = plan(&self.current, new, !events);
        self.move_listeners(&mut plan);
        // `Listener` is also the address of the nameserver's A record
        // (the event stream keeps the old one until a restart).
        plan.records |= !events && plan.applied.contains(&"Listener");
        for key in &plan.restart {
            log::warn!(
                "config reload: {key} changed but needs a restart to take effect; \
                 the old value stays in force"
            );
        }
        let dns = self.dns_settings(&plan.config);
        if plan.records {
            self.gen_epoch += 1;
            if plan.zone {
                // Staged before the poller can generate for it.
                self.publisher.stage(dns.clone(), self.gen_epoch);
            }
            // The source and Zk are those in force: both always work here.
            let regenerated = crate::parts::poller_config(&plan.config)
                .is_ok_and(|p| poller.regenerate(p.gen, self.gen_epoch));
            if !regenerated {
                log::warn!("config reload: the records are not generated again");
            }
        }
        if !plan.applied.is_empty() && !plan.zone {
            self.publisher
                .reconfigure(dns.clone(), plan.answers, now_unix());
        }
        self.dns = dns;
        let keep = self.api.load();
        let mut settings = ApiSettings::from_config(&plan.config);
        settings.version.clone_from(&keep.version);
        self.api.store(settings);
        self.api.count_reload(true);
        match plan.applied.is_empty() {
            true => log::info!(target: STARTUP, "config reloaded: no change applied"),
            false => log::info!(
                target: STARTUP,
                "config reloaded: applied {}",
                plan.applied.join(", ")
            ),
        }
        if log::log_enabled!(log::Level::Debug) {
            if let serde_json::Value::Object(keys) = render(&plan.config.file, 0) {
                for (key, value) in keys {
                    log::debug!("   - {key}: {value}");
                }
            }
        }
        self.current = plan.config;
    }

    /// The servers, to stop them.
    pub fn into_servers(self) -> Servers {
        self.servers
    }

    /// Moves the listeners whose address changed in `plan`: new sockets
    /// first, then the old server stopped. A listener that cannot move
    /// keeps its old address (its keys become restart keys in `plan`).
    fn move_listeners(&mut self, plan: &mut Plan) {
        for dns in [true, false] {
            let names: Vec<&'static str> = plan
                .listen
                .iter()
                .filter(|(_, d)| *d == dns)
                .map(|(n, _)| *n)
                .collect();
            if names.is_empty() {
                continue;
            }
            let moved = match dns {
                true => self.move_dns(&plan.config),
                false => self.move_http(&plan.config),
            };
            match moved {
                Ok(()) => plan.applied.extend(&names),
                Err(e) => {
                    log::warn!(
                        "config reload: cannot move the {} listener ({e}); it stays \
                         where it is until a restart",
                        if dns { "DNS" } else { "HTTP" }
                    );
                    for k in keys().iter().filter(|k| names.contains(&k.name)) {
                        (k.keep_old)(&mut plan.config, &self.current);
                    }
                    plan.restart.extend(&names);
                }
            }
        }
    }

    fn move_dns(&mut self, c: &Config) -> Result<(), String> {
        let Some((old, table, stats)) = self.servers.dns.take() else {
            return Err("DnsOn is false".into());
        };
        let cfg = DnsConfig {
            listener: c.dns_addr.ip(),
            port: c.dns_addr.port(),
            ..self.dns.clone()
        };
        match serve::start(&cfg, Arc::clone(&table), Arc::clone(&stats)) {
            Ok(new) => {
                let addr = new.local_addr();
                self.servers.dns = Some((new, table, stats));
                old.stop();
                self.dns.listener = cfg.listener;
                self.dns.port = cfg.port;
                log::info!(target: STARTUP, "DNS on {addr} (UDP and TCP, {} workers)", cfg.worker_count());
                Ok(())
            }
            Err(e) => {
                self.servers.dns = Some((old, table, stats));
                Err(e.to_string())
            }
        }
    }

    fn move_http(&mut self, c: &Config) -> Result<(), String> {
        let Some((old, ctx)) = self.servers.http.take() else {
            return Err("HttpOn is false".into());
        };
        let started = crate::parts::bind_http(c.http_addr)
            .map_err(|e| format!("{}: {e}", c.http_addr))
            .and_then(|l| {
                crate::http::start(l, Arc::clone(&ctx), HttpLimits::default())
                    .map_err(|e| e.to_string())
            });
        match started {
            Ok(new) => {
                let addr = new.local_addr();
                self.servers.http = Some((new, ctx));
                old.stop();
                log::info!(target: STARTUP, "HTTP API on http://{addr}/v1/version");
                Ok(())
            }
            Err(e) => {
                self.servers.http = Some((old, ctx));
                Err(e)
            }
        }
    }

    fn reject(&self, e: &ConfigError) {
        log::error!("config reload rejected, the config in force stays: {e}");
        self.api.count_reload(false);
    }

    /// The DNS settings of `c`, with the parts fixed at startup (workers,
    /// sockets, limits, the upstreams with counters) kept.
    fn dns_settings(&self, c: &Config) -> DnsConfig {
        let new = crate::parts::dns_config(c);
        let counted = self.dns.counted_upstreams();
        DnsConfig {
            domain: new.domain,
            soa_mname: new.soa_mname,
            ttl: new.ttl,
            soa_rname: new.soa_rname,
            soa_refresh: new.soa_refresh,
            soa_retry: new.soa_retry,
            soa_expire: new.soa_expire,
            soa_minttl: new.soa_minttl,
            srv_weight: new.srv_weight,
            recurse_on: new.recurse_on,
            external_on: new.external_on,
            set_truncate_bit: new.set_truncate_bit,
            resolvers: new.resolvers,
            zone_resolvers: new.zone_resolvers,
            timeout: new.timeout,
            allow_recursion: new.allow_recursion,
            stats_upstreams: counted,
            ..self.dns.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        config::for_test(text)
    }

    const BASE: &str = r#""masters":["10.0.0.1:5050"],"Port":8053"#;

    #[test]
    fn nothing_changed_applies_nothing() {
        let p = plan(
            &config(&format!("{{{BASE}}}")),
            config(&format!("{{{BASE}}}")),
            true,
        );
        assert!(p.applied.is_empty() && p.restart.is_empty() && !p.answers);
    }

    #[test]
    fn answer_keys_recompile_and_table_keys_do_not() {
        let old = config(&format!("{{{BASE}}}"));
        let p = plan(
            &old,
            config(&format!(r#"{{{BASE},"TTL":5,"SOARname":"x@y.z"}}"#)),
            true,
        );
        assert_eq!(p.applied, ["TTL", "SOARname"]);
        assert!(p.answers && p.restart.is_empty());
        assert_eq!(p.config.file.ttl, 5);
        let p = plan(
            &old,
            config(&format!(
                r#"{{{BASE},"Resolvers":["10.0.0.53"],"Timeout":2}}"#
            )),
            true,
        );
        assert_eq!(p.applied, ["Resolvers", "Timeout"]);
        assert!(!p.answers);
        assert_eq!(p.config.resolvers, ["10.0.0.53:53".parse().unwrap()]);
        assert_eq!(p.config.upstream_timeout, std::time::Duration::from_secs(2));
    }

    #[test]
    fn restart_keys_keep_their_old_values_and_the_rest_applies() {
        let old = config(&format!("{{{BASE}}}"));
        let new = config(
            r#"{"masters":["10.0.0.2:5050"],"Port":9053,"Domain":"corp","TTL":7}"#,
        );
        let p = plan(&old, new, true);
        assert_eq!(p.restart, ["Masters"]);
        assert_eq!(p.applied, ["TTL", "Domain"]);
        assert!(p.zone && p.records);
        // A listener moves only if the new address can be bound.
        assert_eq!(p.listen, [("Port", true)]);
        assert_eq!(p.config.dns_addr.port(), 9053);
        assert_eq!(p.config.file.domain, "corp");
        assert_eq!(p.config.file.masters, old.file.masters);
        assert_eq!(p.config.file.ttl, 7);
        // A source that cannot generate again keeps the Domain.
        let new = config(r#"{"masters":["10.0.0.1:5050"],"Port":8053,"Domain":"corp"}"#);
        let p = plan(&old, new, false);
        assert_eq!(p.restart, ["Domain"]);
        assert!(!p.zone && !p.records);
        assert_eq!(p.config.file.domain, "mesos");
    }

    #[test]
    fn external_off_empties_the_upstreams() {
        let old = config(&format!(r#"{{{BASE},"Resolvers":["10.0.0.53"]}}"#));
        let p = plan(
            &old,
            config(&format!(
                r#"{{{BASE},"Resolvers":["10.0.0.53"],"ExternalOn":false}}"#
            )),
            true,
        );
        assert_eq!(p.applied, ["ExternalOn"]);
        assert!(p.config.resolvers.is_empty());
    }

    #[test]
    fn generation_keys_regenerate_unless_the_source_cannot() {
        let old = config(&format!("{{{BASE}}}"));
        let new = || {
            config(&format!(
                r#"{{{BASE},"IPSources":["host"],"EnumerationOn":false}}"#
            ))
        };
        let p = plan(&old, new(), true);
        assert_eq!(p.applied, ["IPSources", "EnumerationOn"]);
        assert!(p.records && !p.answers && p.restart.is_empty());
        assert!(!p.config.file.enumeration_on);
        let p = plan(&old, new(), false);
        assert_eq!(p.restart, ["IPSources", "EnumerationOn"]);
        assert!(!p.records && p.applied.is_empty());
        assert_eq!(p.config.ip_sources, old.ip_sources);
        assert!(p.config.file.enumeration_on);
    }
}
