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
use crate::task_records::{task_records, SlaveInfo, TaskOpts};

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
    let mut slave_ips = HashMap::with_capacity(state.slaves.len());
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
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cfg() -> GenConfig {
        GenConfig {
            listener: "127.0.0.1".to_owned(),
            resolver: Resolver::fixed(&[(
                "localhost",
                &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
            )]),
            local_addrs: LocalAddrs::fixed(&[ip("192.0.2.1"), ip("fe80::1")]),
            ..GenConfig::default()
        }
    }

    fn gen_json(json: &str, cfg: &GenConfig) -> Generated {
        let state = State::parse(json.as_bytes()).unwrap();
        generate(&state, cfg, &[])
    }

    fn reasons(g: &Generated) -> Vec<SkipReason> {
        g.skips.iter().map(|s| s.reason).collect()
    }

    const SLAVE: &str = r#"{"id":"S-0","pid":"slave(1)@10.0.0.1:5051"}"#;

    fn one_task(task: &str) -> String {
        format!(
            r#"{{"leader":"m@1.2.3.4:5050","slaves":[{SLAVE}],
            "frameworks":[{{"name":"fw","tasks":[{task}]}}]}}"#
        )
    }

    // generator_test.go TestParseState_SOAMname (BEHAVIOUR.md 4.10).
    #[test]
    fn spec_4_10_nameserver_record_from_soamname() {
        let mut c = cfg();
        c.soa_mname = "jdef123.mesos.".to_owned();
        c.listener = "4.5.6.7".to_owned();
        let g = gen_json(r#"{"leader":"foo@0.1.2.3:45"}"#, &c);
        assert!(g
            .records
            .a("jdef123.mesos.")
            .unwrap()
            .contains(&"4.5.6.7".parse().unwrap()));
        c.soa_mname = "ack456.mesos.".to_owned();
        c.listener = "2001:db8::1".to_owned();
        let g = gen_json(r#"{"leader":"foo@0.1.2.3:45"}"#, &c);
        assert!(g
            .records
            .aaaa("ack456.mesos.")
            .unwrap()
            .contains(&"2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn spec_4_10_listener_forms() {
        let mut c = cfg();
        let run = |c: &GenConfig| gen_json(r#"{"leader":"m@1.2.3.4:5050"}"#, c);
        c.listener = "0.0.0.0".to_owned();
        let g = run(&c);
        assert_eq!(g.records.a("ns1.mesos.").unwrap().len(), 1);
        assert_eq!(g.records.aaaa("ns1.mesos.").unwrap().len(), 1);
        c.listener = "::".to_owned();
        assert!(run(&c)
            .records
            .aaaa("ns1.mesos.")
            .unwrap()
            .contains(&"::".parse().unwrap()));
        c.listener = "dns.example".to_owned();
        let g = run(&c);
        assert!(!g.records.has_name("ns1.mesos."));
        assert_eq!(reasons(&g), [SkipReason::BadListener]);
        // SOAMname is kept as configured, upper case included
        // (BEHAVIOUR.md 11).
        c.listener = "127.0.0.1".to_owned();
        c.soa_mname = "NS1.Example.".to_owned();
        assert!(run(&c).records.a("NS1.Example.").is_some());
    }

    #[test]
    fn spec_4_4_framework_records() {
        let g = gen_json(
            r#"{"leader":"m@1.2.3.4:5050","frameworks":[
            {"name":"My App","pid":"scheduler@10.9.0.1:8080"},
            {"name":"hosted","hostname":"localhost"},
            {"name":"lost","hostname":"nowhere.example"},
            {"name":"broken","pid":"no-at-sign","tasks":[]},
            {"name":"...","pid":"s@10.9.0.2:1"}
        ]}"#,
            &cfg(),
        );
        let rs = &g.records;
        assert!(rs
            .a("myapp.mesos.")
            .unwrap()
            .contains(&"10.9.0.1".parse().unwrap()));
        assert_eq!(
            rs.srv("_framework._tcp.myapp.mesos.")
                .unwrap()
                .iter()
                .next()
                .unwrap()
                .port,
            8080
        );
        assert!(rs
            .a("hosted.mesos.")
            .unwrap()
            .contains(&Ipv4Addr::LOCALHOST));
        assert!(rs.srv("_framework._tcp.hosted.mesos.").is_none());
        assert!(!rs.has_name("lost.mesos.") && !rs.has_name("broken.mesos."));
        // `...` sanitizes to empty: mesos-dns stores `.mesos.`
        // (BEHAVIOUR.md 4.3).
        assert!(rs.a(".mesos.").is_some());
        assert!(rs.srv("_framework._tcp..mesos.").is_some());
        assert_eq!(
            reasons(&g),
            [SkipReason::BadFrameworkPid, SkipReason::Unresolved]
        );
        assert_eq!(g.records.enumeration().frameworks().len(), 5);
    }

    #[test]
    fn only_running_tasks_on_known_slaves() {
        let g = gen_json(
            &format!(
                r#"{{"leader":"m@1.2.3.4:5050","slaves":[{SLAVE}],"frameworks":[{{"name":"fw","tasks":[
                {{"id":"a","name":"a","slave_id":"S-0","state":"TASK_STAGING"}},
                {{"id":"b","name":"b","slave_id":"S-9","state":"TASK_RUNNING"}},
                {{"id":"c","name":"c","slave_id":"S-0","state":"TASK_RUNNING"}}]}}]}}"#
            ),
            &cfg(),
        );
        let rs = &g.records;
        assert!(!rs.has_name("a.fw.mesos.") && !rs.has_name("b.fw.mesos."));
        assert!(rs
            .a("c.fw.mesos.")
            .unwrap()
            .contains(&"10.0.0.1".parse().unwrap()));
        let tasks: Vec<_> = rs
            .enumeration()
            .frameworks()
            .next()
            .unwrap()
            .tasks()
            .collect();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].id(), "c");
    }

    #[test]
    fn unresolved_slave_is_known_without_ips() {
        let g = gen_json(
            r#"{"leader":"m@1.2.3.4:5050","slaves":[{"id":"S-1","pid":"slave(1)@agent.invalid:5051"}],
            "frameworks":[{"name":"fw","tasks":[{"id":"t","name":"web","slave_id":"S-1","state":"TASK_RUNNING",
            "resources":{"ports":"[8080-8080]"},
            "statuses":[{"state":"TASK_RUNNING","timestamp":1,"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"172.17.0.2"}]}]}}]}]}]}"#,
            &cfg(),
        );
        let rs = &g.records;
        assert!(rs
            .a("web.fw.mesos.")
            .unwrap()
            .contains(&"172.17.0.2".parse().unwrap()));
        assert!(!rs.has_name("web.fw.slave.mesos.") && !rs.has_name("slave.mesos."));
        // The SRV still points at the .slave name, as in mesos-dns.
        assert!(rs.srv("_web._tcp.fw.mesos.").is_some());
        assert_eq!(reasons(&g), [SkipReason::Unresolved]);
    }

    // BEHAVIOUR.md 0: a long task name never gives a canonical label over 63
    // octets.
    #[test]
    fn rfc1035_2_3_4_long_task_names_stay_valid() {
        let name = "x".repeat(60);
        let g = gen_json(
            &one_task(&format!(
                r#"{{"id":"t","name":"{name}","slave_id":"S-0","state":"TASK_RUNNING","resources":{{"ports":"[1-1]"}}}}"#
            )),
            &cfg(),
        );
        assert!(g.skips.is_empty(), "{:?}", g.skips);
        let canon = g
            .records
            .a_records()
            .map(|(n, _)| n)
            .find(|n| n.contains("-0.fw."))
            .unwrap();
        let label = canon.split('.').next().unwrap();
        assert_eq!(label.len(), 63);
        assert!(label.ends_with("-0"));
        let srv = &g.records.srv(&format!("_{name}._tcp.fw.mesos.")).unwrap();
        assert_eq!(
            srv.iter().next().unwrap().target,
            format!("{label}.fw.slave.mesos.")
        );
    }

    // Legacy DiscoveryInfo names are kept whatever they hold (issue 15).
    #[test]
    fn legacy_names_with_any_character_are_kept() {
        let g = gen_json(
            &one_task(
                r#"{"id":"t","name":"x","slave_id":"S-0","state":"TASK_RUNNING",
                "discovery":{"name":"My Shop","ports":{"ports":[{"number":80,"protocol":"","name":"Web_UI"},
                {"number":53,"protocol":"UDP","name":"$$"}]}}}"#,
            ),
            &cfg(),
        );
        let rs = &g.records;
        assert!(g.skips.is_empty(), "{:?}", g.skips);
        assert!(rs.a("myshop.fw.mesos.").is_some());
        assert!(rs.a("My Shop.fw.mesos.").is_some());
        assert!(rs.a("My Shop.fw.slave.mesos.").is_some());
        let names: Vec<&str> = rs
            .srv_records()
            .map(|(n, _)| n)
            .filter(|n| n.contains(".fw."))
            .collect();
        assert_eq!(
            names,
            [
                "_My Shop._tcp.fw.mesos.",
                "_My Shop._udp.fw.mesos.",
                "_myshop._tcp.fw.mesos.",
                "_myshop._udp.fw.mesos.",
                "_web-ui._My Shop._tcp.fw.mesos.",
                "_web-ui._My Shop._udp.fw.mesos.",
                "_web-ui._myshop._tcp.fw.mesos.",
                "_web-ui._myshop._udp.fw.mesos.",
            ]
        );
        assert!(rs
            .srv("_myshop._udp.fw.mesos.")
            .unwrap()
            .iter()
            .any(|s| s.port == 53));
        // The legacy pass's SRV targets keep the raw name too.
        let srv = rs.srv("_My Shop._tcp.fw.mesos.").unwrap();
        assert!(srv.iter().all(|s| s.target.starts_with("My Shop-")));
    }

    #[test]
    fn legacy_names_keep_dots_and_case() {
        let g = gen_json(
            &one_task(
                r#"{"id":"t","name":"x","slave_id":"S-0","state":"TASK_RUNNING",
                "discovery":{"name":"Shop.Front","ports":{"ports":[{"number":80,"protocol":"tcp"}]}}}"#,
            ),
            &cfg(),
        );
        assert!(g.skips.is_empty(), "{:?}", g.skips);
        assert!(g.records.a("Shop.Front.fw.slave.mesos.").is_some());
        assert!(g.records.srv("_Shop.Front._tcp.fw.mesos.").is_some());
        assert!(g.records.a("shop-front.fw.mesos.").is_some());
        assert!(g.records.a("shop-front.fw.slave.mesos.").is_some());
    }

    #[test]
    fn empty_task_name_keeps_the_canonical_name() {
        let g = gen_json(
            &one_task(
                r#"{"id":"test","name":"%%%","slave_id":"S-0","state":"TASK_RUNNING"}"#,
            ),
            &cfg(),
        );
        assert!(g.records.a("-iffe9-0.fw.slave.mesos.").is_some());
        // mesos-dns keeps the name with an empty label (BEHAVIOUR.md 4.3).
        assert!(g.records.a(".fw.slave.mesos.").is_some());
        assert!(g.skips.is_empty());
    }

    #[test]
    fn rfc4291_mapped_task_ips_are_a_records() {
        let g = gen_json(
            &one_task(
                r#"{"id":"t","name":"m","slave_id":"S-0","state":"TASK_RUNNING",
                "statuses":[{"state":"TASK_RUNNING","timestamp":2,"container_status":{"network_infos":[
                {"ip_addresses":[{"ip_address":"::ffff:10.8.0.1"}]}]}}]}"#,
            ),
            &cfg(),
        );
        assert!(g
            .records
            .a("m.fw.mesos.")
            .unwrap()
            .contains(&"10.8.0.1".parse().unwrap()));
        assert!(g.records.aaaa("m.fw.mesos.").is_none());
    }

    #[test]
    fn generation_is_deterministic_and_enumeration_optional() {
        let body = one_task(
            r#"{"id":"t","name":"a","slave_id":"S-0","state":"TASK_RUNNING","resources":{"ports":"[1-3]"}}"#,
        );
        let one = gen_json(&body, &cfg());
        let two = gen_json(&body, &cfg());
        assert_eq!(one.records, two.records);
        let mut c = cfg();
        c.enumeration = false;
        let off = gen_json(&body, &c);
        assert!(off.records.same_records(&one.records));
        assert!(off.records.enumeration().is_empty());
        assert!(!one.records.enumeration().is_empty());
    }
}
