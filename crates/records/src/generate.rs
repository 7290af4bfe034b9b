//! Record generation: a pure function from state and config to a record set.
//!
//! Order, as in mesos-dns (BEHAVIOUR.md 4.1): frameworks, slaves, the
//! nameserver record, masters, tasks. The order matters only for the
//! enumeration and for which task a duplicate record is credited to. Host names
//! are resolved through [`GenConfig::resolver`], so the output depends only on
//! the input and that resolver.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::canonical::slave_tail;
use crate::explain::Explain;
use crate::health;
use crate::host::{LocalAddrs, Resolver};
use crate::label::LabelSpec;
use crate::leader_records::master_records;
use crate::record::Overrides;
use crate::record::RecordSet;
use crate::skip::{count_by_reason, Skip, SkipReason};
use crate::state::{Framework, Slave, State};
use crate::store::{Sink, Store};
pub use crate::task_ip::IpSource;
use crate::task_records::{task_records, SlaveInfo, Slaves, TaskOpts};

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
    /// `HealthFilter`: `Some(HealthFilterMinFraction)` to leave unhealthy
    /// tasks out of the names they share (see the `health` module);
    /// `None` (the default) serves them, as mesos-dns does.
    pub health_filter: Option<f64>,
    /// `TaskLabelPolicy`: read the `DNS_` task labels ([`crate::policy`]).
    pub label_policy: bool,
    /// Keep the explain data ([`crate::explain`]) in the record set: a
    /// copy of every task, so off by default.
    pub explain: bool,
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
            health_filter: None,
            label_policy: false,
            explain: false,
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
/// (BEHAVIOUR.md 3.2), leader first when known (an empty first entry means
/// unknown).
pub fn generate(state: &State, cfg: &GenConfig, masters: &[String]) -> Generated {
    let mut store = Store::new(cfg.enumeration);
    let spec = cfg.label_spec();
    let tail = cfg.tail();
    let mut res = Resolving::new(&cfg.resolver);
    store.skips.extend(state.skips.iter().cloned());
    for fw in &state.frameworks {
        framework_records(&mut store, &mut res, fw, spec, &tail);
    }
    let mut slave_ips =
        Slaves::with_capacity_and_hasher(state.slaves.len(), Default::default());
    for slave in &state.slaves {
        let info = slave_records(&mut store, &mut res, slave, &tail);
        slave_ips.insert(slave.id.clone(), info);
    }
    listener_record(&mut store, cfg);
    master_records(&mut store, &tail, masters, &state.leader, &cfg.resolver);
    let opts = TaskOpts {
        ip_sources: &cfg.ip_sources,
        spec,
        label_policy: cfg.label_policy,
        health_filter: cfg.health_filter.is_some(),
        explain: cfg.explain,
    };
    let extras = task_records(&mut store, state, &opts, &tail, &slave_ips);
    let unhealthy = match cfg.health_filter {
        Some(min) => health::settle(&mut store, extras.health, min),
        None => crate::explain::LeftOut::new(),
    };
    let overrides = overrides(&store, &extras.ttl, &extras.weight);
    let explain = cfg.explain.then(|| Explain {
        tail: tail.clone(),
        spec,
        notes: extras.notes,
        agents: slave_ips
            .iter()
            .map(|(id, (ips, _))| (id.clone(), ips.clone()))
            .collect(),
        unhealthy,
    });
    let (mut records, skips) = store.finish();
    records.overrides = overrides;
    records.explain = explain.map(std::sync::Arc::new);
    let out = Generated { records, skips };
    if let Some(s) = out.skip_summary() {
        log::debug!("records: {s}");
    }
    out
}

/// The label TTLs (smallest per name) and SRV weights (smallest per
/// target) by name text.
fn overrides(store: &Store, ttl: &[(u32, u32)], weight: &[(u32, u16)]) -> Overrides {
    let mut o = Overrides::default();
    for &(n, t) in ttl {
        let e = o.ttl.entry(store.records.name(n).to_owned()).or_insert(t);
        *e = (*e).min(t);
    }
    for &(n, w) in weight {
        let e = o
            .srv_weight
            .entry(store.records.name(n).to_owned())
            .or_insert(w);
        *e = (*e).min(w);
    }
    o
}

impl GenConfig {
    /// `.D.`, the end of every name under the domain.
    pub(crate) fn tail(&self) -> String {
        format!(".{}.", self.domain)
    }
}

/// Host lookups through the resolver, once per host name.
pub(crate) struct Resolving<'a> {
    resolver: &'a Resolver,
    /// Lookups already made.
    resolved: HashMap<String, Result<Vec<IpAddr>, String>>,
}

impl<'a> Resolving<'a> {
    /// Lookups through `resolver`, none made yet.
    pub(crate) fn new(resolver: &'a Resolver) -> Self {
        Resolving {
            resolver,
            resolved: HashMap::new(),
        }
    }

    /// `hostToIPs` through the resolver, once per host. An empty host (a
    /// framework with neither `pid` nor `hostname`) gets no records and no
    /// skip; one that does not resolve is skipped into `sink`.
    pub(crate) fn resolve<S: Sink>(
        &mut self,
        sink: &mut S,
        what: &str,
        host: &str,
    ) -> Vec<IpAddr> {
        if host.is_empty() {
            return Vec::new();
        }
        let r = match self.resolved.get(host) {
            Some(r) => r.clone(),
            None => {
                let r = self.resolver.resolve(host);
                if host.parse::<IpAddr>().is_err() {
                    self.resolved.insert(host.to_owned(), r.clone());
                }
                r
            }
        };
        r.unwrap_or_else(|e| {
            sink.skip(SkipReason::Unresolved, format!("{what}: {e}"));
            Vec::new()
        })
    }
}

/// BEHAVIOUR.md 4.4: `<fname>.D.` A/AAAA and `_framework._tcp.<fname>.D.`
/// SRV of one framework.
pub(crate) fn framework_records<S: Sink>(
    sink: &mut S,
    res: &mut Resolving<'_>,
    fw: &Framework,
    spec: LabelSpec,
    tail: &str,
) {
    if fw.bad_pid {
        return;
    }
    let (host, port) = match &fw.pid {
        Some(pid) => (pid.host.as_str(), Some(pid.port)),
        None => (fw.hostname.as_str(), None),
    };
    let ips = res.resolve(sink, &format!("framework {:?}", fw.name), host);
    if ips.is_empty() {
        return;
    }
    let name = format!("{}{}", spec.domain_frag(&fw.name), tail);
    for ip in ips {
        sink.ip(&name, ip);
    }
    let srv = format!("_framework._tcp.{name}");
    if let Some(port) = port {
        sink.srv(&srv, &name, port);
    }
}

/// BEHAVIOUR.md 4.5: `slave.D.` A/AAAA and `_slave._tcp.D.` SRV of one
/// slave. Returns its IPs and [`slave_tail`] (by id, later duplicates win).
/// A slave whose host does not resolve is still known, with no IPs
/// (mesos-dns stores a non-IP placeholder there, issue #509, which never
/// makes a valid record).
pub(crate) fn slave_records<S: Sink>(
    sink: &mut S,
    res: &mut Resolving<'_>,
    slave: &Slave,
    tail: &str,
) -> SlaveInfo {
    let name = format!("slave{tail}");
    let ips = res.resolve(sink, &format!("slave {:?}", slave.id), &slave.pid.host);
    for &ip in &ips {
        sink.ip(&name, ip);
    }
    if !ips.is_empty() {
        sink.srv(&format!("_slave._tcp{tail}"), &name, slave.pid.port);
    }
    (ips, slave_tail(&slave.id))
}

/// BEHAVIOUR.md 4.10: the `SOAMname` record from `Listener`.
pub(crate) fn listener_record<S: Sink>(sink: &mut S, cfg: &GenConfig) {
    let name = &cfg.soa_mname;
    let ips: Vec<IpAddr> = match cfg.listener.as_str() {
        "0.0.0.0" => cfg.local_addrs.get(),
        "127.0.0.1" => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        other => {
            match other.parse() {
                Ok(ip) => vec![ip],
                Err(_) => {
                    sink.skip(
                    SkipReason::BadListener,
                    format!("listener {other:?} is not an IP address; no record for {name:?}"),
                );
                    return;
                }
            }
        }
    };
    for ip in ips {
        sink.ip(name, ip);
    }
}

#[cfg(test)]
mod tests;
