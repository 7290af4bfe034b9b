//! Record generation: a pure function from state and config to a record set.
//!
//! Order, as in mesos-dns (spec 4.1): frameworks, slaves, the nameserver
//! record, masters, tasks. The order matters only for the enumeration and
//! for which task a duplicate record is credited to. Host names are resolved
//! through [`GenConfig::resolver`], so the output depends only on the input
//! and that resolver.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::canonical::slave_tail;
use crate::host::{LocalAddrs, Resolver};
use crate::label::LabelSpec;
use crate::leader_records::master_records;
use crate::record::RecordSet;
use crate::skip::{count_by_reason, Skip, SkipReason};
use crate::state::State;
use crate::store::Store;
pub use crate::task_ip::IpSource;
use crate::task_records::task_records;

/// The config keys generation depends on, plus the host lookups.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// `Domain`, lowercase, without a trailing dot (`mesos`).
    pub domain: String,
    /// `IPSources` in priority order.
    pub ip_sources: Vec<IpSource>,
    /// `EnforceRFC952`.
    pub enforce_rfc952: bool,
    /// `SOAMname`, normalized with one trailing dot (`ns1.mesos.`).
    pub soa_mname: String,
    /// `Listener`, as configured (`0.0.0.0`, `127.0.0.1` or an IP).
    pub listener: String,
    /// `EnumerationOn`: build the `/v1/enumerate` data. Off saves the memory
    /// of one copy of every task record.
    pub enumeration: bool,
    /// Resolves framework, slave, leader and master host names.
    pub resolver: Resolver,
    /// The machine's addresses, for the nameserver record when `listener`
    /// is `0.0.0.0`.
    pub local_addrs: LocalAddrs,
}

impl Default for GenConfig {
    /// mesos-dns defaults: domain `mesos`, IPSources `netinfo, mesos, host`,
    /// RFC 1123, `ns1.mesos.`, listener `0.0.0.0`, enumeration on, the
    /// system resolver and `/proc` interface addresses.
    fn default() -> GenConfig {
        GenConfig {
            domain: "mesos".to_owned(),
            ip_sources: IpSource::DEFAULT.to_vec(),
            enforce_rfc952: false,
            soa_mname: "ns1.mesos.".to_owned(),
            listener: "0.0.0.0".to_owned(),
            enumeration: true,
            resolver: Resolver::default(),
            local_addrs: LocalAddrs::default(),
        }
    }
}

impl GenConfig {
    /// The label rules in force.
    pub fn label_spec(&self) -> LabelSpec {
        if self.enforce_rfc952 {
            LabelSpec::Rfc952
        } else {
            LabelSpec::Rfc1123
        }
    }
}

/// What one generation produced.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// The records.
    pub records: RecordSet,
    /// Everything left out, from reading the state and from generation, in
    /// the order it happened.
    pub skips: Vec<Skip>,
}

impl Generated {
    /// Skip counts by reason (zeros left out), for metrics.
    pub fn skip_counts(&self) -> Vec<(SkipReason, usize)> {
        count_by_reason(&self.skips)
    }

    /// A one-line summary of the skips, e.g. `2 skipped (unresolved: 1,
    /// bad_port_range: 1)`, or `None` when nothing was skipped.
    pub fn skip_summary(&self) -> Option<String> {
        if self.skips.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .skip_counts()
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        Some(format!(
            "{} skipped ({})",
            self.skips.len(),
            parts.join(", ")
        ))
    }
}

/// Generates the records for `state`. `masters` is the current master list
/// (spec 3.2), leader first when known (an empty first entry means unknown).
pub fn generate(state: &State, cfg: &GenConfig, masters: &[String]) -> Generated {
    let mut g = Gen {
        store: Store::new(cfg.enumeration),
        cfg,
        spec: cfg.label_spec(),
        tail: format!(".{}.", cfg.domain),
        resolved: HashMap::new(),
    };
    g.store.skips.extend(state.skips.iter().cloned());
    g.framework_records(state);
    let slave_ips = g.slave_records(state);
    g.listener_record();
    master_records(&mut g.store, &g.tail, masters, &state.leader, &cfg.resolver);
    task_records(
        &mut g.store,
        state,
        &cfg.ip_sources,
        g.spec,
        &g.tail,
        &slave_ips,
    );
    let (records, skips) = g.store.finish();
    let out = Generated { records, skips };
    if let Some(s) = out.skip_summary() {
        log::debug!("records: {s}");
    }
    out
}

/// Generation context.
struct Gen<'a> {
    store: Store,
    cfg: &'a GenConfig,
    spec: LabelSpec,
    /// `.D.`
    tail: String,
    /// Lookups already made in this generation.
    resolved: HashMap<String, Result<Vec<IpAddr>, String>>,
}

impl Gen<'_> {
    /// `hostToIPs` through the resolver, once per host per generation.
    /// An empty host (a framework with neither `pid` nor `hostname`) gets
    /// no records and no skip.
    fn resolve(&mut self, what: &str, host: &str) -> Vec<IpAddr> {
        if host.is_empty() {
            return Vec::new();
        }
        let r = match self.resolved.get(host) {
            Some(r) => r.clone(),
            None => {
                let r = self.cfg.resolver.resolve(host);
                if host.parse::<IpAddr>().is_err() {
                    self.resolved.insert(host.to_owned(), r.clone());
                }
                r
            }
        };
        r.unwrap_or_else(|e| {
            self.store
                .skip(SkipReason::Unresolved, format!("{what}: {e}"));
            Vec::new()
        })
    }

    /// Spec 4.4: `<fname>.D.` A/AAAA and `_framework._tcp.<fname>.D.` SRV.
    fn framework_records(&mut self, state: &State) {
        for fw in &state.frameworks {
            if fw.bad_pid {
                continue;
            }
            let (host, port) = match &fw.pid {
                Some(pid) => (pid.host.as_str(), Some(pid.port)),
                None => (fw.hostname.as_str(), None),
            };
            let ips = self.resolve(&format!("framework {:?}", fw.name), host);
            if ips.is_empty() {
                continue;
            }
            let name = format!("{}{}", self.spec.domain_frag(&fw.name), self.tail);
            for ip in ips {
                self.store.ip(&name, ip);
            }
            let srv = format!("_framework._tcp.{name}");
            if let Some(port) = port {
                self.store.srv(&srv, &name, port);
            }
        }
    }

    /// Spec 4.5: `slave.D.` A/AAAA and `_slave._tcp.D.` SRV. Returns each
    /// slave's IPs and [`slave_tail`] by id (later duplicates win). A slave
    /// whose host does not resolve is still known, with no IPs (mesos-dns
    /// stores a non-IP placeholder there, issue #509, which never makes a
    /// valid record).
    fn slave_records(&mut self, state: &State) -> HashMap<String, (Vec<IpAddr>, String)> {
        let name = format!("slave{}", self.tail);
        let srv = format!("_slave._tcp{}", self.tail);
        let mut out = HashMap::with_capacity(state.slaves.len());
        for slave in &state.slaves {
            let ips = self.resolve(&format!("slave {:?}", slave.id), &slave.pid.host);
            for &ip in &ips {
                self.store.ip(&name, ip);
            }
            if !ips.is_empty() {
                self.store.srv(&srv, &name, slave.pid.port);
            }
            out.insert(slave.id.clone(), (ips, slave_tail(&slave.id)));
        }
        out
    }

    /// Spec 4.10: the `SOAMname` record from `Listener`.
    fn listener_record(&mut self) {
        let name = self.cfg.soa_mname.clone();
        let ips: Vec<IpAddr> = match self.cfg.listener.as_str() {
            "0.0.0.0" => self.cfg.local_addrs.get(),
            "127.0.0.1" => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            other => match other.parse() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    self.store.skip(
                        SkipReason::BadListener,
                        format!("listener {other:?} is not an IP address; no record for {name:?}"),
                    );
                    return;
                }
            },
        };
        if ips.is_empty() {
            return;
        }
        for ip in ips {
            self.store.ip(&name, ip);
        }
    }
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
