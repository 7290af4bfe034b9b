//! Task records (BEHAVIOUR.md 4.7) and the enumeration data
//! (BEHAVIOUR.md 4.11).
//!
//! Only `TASK_RUNNING` tasks whose `slave_id` names a known slave are
//! generated. Per task, with `fname` = DomainFrag(framework name),
//! `h` = [`hash`](crate::canonical::hash) of the task id, `s` = slave tail:
//!
//! | name | type | value |
//! |---|---|---|
//! | `task.fname.D.`, `task-h-s.fname.D.` | A/AAAA | task IPs (IPSources) |
//! | `task.fname.slave.D.`, `task-h-s.fname.slave.D.` | A/AAAA | slave IPs |
//! | `_task._tcp/_udp.fname.slave.D.` | SRV | `task-h-s.fname.slave.D.:<resource port>` |
//! | `_task._tcp/_udp.fname.D.` (no DiscoveryInfo) | SRV | same |
//! | `[_<port name>.]_task._<proto>.fname.D.` (DiscoveryInfo) | SRV | `task-h-s.fname.D.:<DI port>` |
//!
//! `task` is the label of the task name, or for a task with a DiscoveryInfo
//! name, that name: first raw (the "legacy" pass, which can give names with
//! dots, upper case or any other character), then labelled. Every name is
//! kept, as mesos-dns keeps it. The canonical label is shortened to fit in
//! 63 octets ([`canonical_stem`]).

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::RandomState;

use crate::canonical::{canonical_stem, hash};
use crate::explain::TaskNote;
use crate::health::{HealthLedger, Held};
use crate::label::LabelSpec;
use crate::policy::TaskPolicy;
use crate::skip::SkipReason;
use crate::state::{State, Task};
use crate::store::{Sink, Store, Suffix};
use crate::task_ip::{task_ip_source, IpSource};

/// The settings of task generation.
pub(crate) struct TaskOpts<'a> {
    pub(crate) ip_sources: &'a [IpSource],
    pub(crate) spec: LabelSpec,
    /// `TaskLabelPolicy`.
    pub(crate) label_policy: bool,
    /// `HealthFilter` on.
    pub(crate) health_filter: bool,
    /// Keep the explain notes.
    pub(crate) explain: bool,
}

/// What task generation hands to the steps after it, besides the store.
#[derive(Debug, Default)]
pub(crate) struct TaskExtras {
    /// `HealthFilter`: the held values and who touched which shared name.
    pub(crate) health: HealthLedger,
    /// `DNS_TTL`: name number and TTL.
    pub(crate) ttl: Vec<(u32, u32)>,
    /// `DNS_SRV_WEIGHT`: SRV target name number and weight.
    pub(crate) weight: Vec<(u32, u16)>,
    /// The explain notes, when kept.
    pub(crate) notes: Vec<TaskNote>,
}

/// The per-task values shared by both passes of a DI task.
struct Ctx<'a> {
    task: &'a Task,
    hash: [u8; 5],
    tail_id: &'a str,
    task_ips: &'a [IpAddr],
    slave_ips: &'a [IpAddr],
    /// `.fname.D.`
    fw: &'a Suffix,
    /// `.fname.slave.D.`
    slave: &'a Suffix,
    spec: LabelSpec,
    /// The task's number in this generation.
    number: u32,
    /// `HealthFilter` on and the task reports `healthy: false`: its values
    /// of shared names are held back (see [`crate::health`]).
    hold: bool,
    /// `HealthFilter` on: note who touches shared names.
    note_health: bool,
    /// `DNS_TTL` and `DNS_SRV_WEIGHT`.
    ttl: Option<u32>,
    weight: Option<u16>,
}

/// A slave as tasks see it: its IPs and [`slave_tail`](crate::canonical::slave_tail).
pub(crate) type SlaveInfo = (Vec<IpAddr>, String);

/// The slaves by id, hashed as the builder's names are (foldhash with a
/// random seed, see `name_text`): every task looks its slave up, and
/// SipHash cost more than the rest of the lookups at 100,000 tasks.
pub(crate) type Slaves = HashMap<String, SlaveInfo, RandomState>;

/// The name ends of one framework's tasks: `.fname.D.` and
/// `.fname.slave.D.`.
#[derive(Clone, Debug)]
pub(crate) struct FwSuffixes {
    fw: Suffix,
    slave: Suffix,
}

impl FwSuffixes {
    /// The suffixes of framework `name` under `tail` (`.D.`).
    pub(crate) fn new(spec: LabelSpec, name: &str, tail: &str) -> FwSuffixes {
        let fname = spec.domain_frag(name);
        FwSuffixes {
            fw: Suffix::new(format!(".{fname}{tail}")),
            slave: Suffix::new(format!(".{fname}.slave{tail}")),
        }
    }
}

/// One task of framework `fw_name` (the `number`th of the generation):
/// its records into `sink` when it makes any (`TASK_RUNNING` on a known
/// slave, not excluded), after `listed` is called; returns whether it
/// made them. `shared` carries names between the instances of one app in
/// one framework (a fresh one gives the same records).
#[allow(clippy::too_many_arguments)]
pub(crate) fn one_task<S: Sink>(
    sink: &mut S,
    shared: &mut SharedNames,
    extras: &mut TaskExtras,
    opts: &TaskOpts<'_>,
    (fw_name, sfx): (&str, &FwSuffixes),
    (task, number): (&Task, u32),
    slaves: &Slaves,
    listed: impl FnOnce(&mut S),
) -> bool {
    let spec = opts.spec;
    let policy = match opts.label_policy {
        true => TaskPolicy::of(task, sink.skips()),
        false => TaskPolicy::default(),
    };
    let left_out = match slaves.get(&*task.slave_id) {
        _ if task.state != "TASK_RUNNING" => {
            Some(format!("not running ({})", task.state))
        }
        None => Some(format!("unknown agent {:?}", task.slave_id)),
        Some(_) if policy.exclude => {
            sink.skip(
                SkipReason::ExcludedByLabel,
                format!("task {:?}: DNS_EXCLUDE=true", task.id),
            );
            Some("excluded by label DNS_EXCLUDE=true".to_owned())
        }
        Some(_) => None,
    };
    let Some((sips, slave_tail)) =
        slaves.get(&*task.slave_id).filter(|_| left_out.is_none())
    else {
        if opts.explain {
            extras
                .notes
                .push(TaskNote::new(fw_name, task, policy, None, &[], left_out));
        }
        return false;
    };
    let sources = policy.ip_sources.as_deref().unwrap_or(opts.ip_sources);
    let status = task.running_status.as_ref();
    let (source, task_ips) = task_ip_source(sources, status, sips);
    let unhealthy = status.and_then(|s| s.healthy) == Some(false);
    let ctx = Ctx {
        task,
        hash: hash(&task.id),
        tail_id: slave_tail,
        task_ips,
        slave_ips: sips,
        fw: &sfx.fw,
        slave: &sfx.slave,
        spec,
        number,
        hold: opts.health_filter && unhealthy,
        note_health: opts.health_filter,
        ttl: policy.ttl,
        weight: policy.srv_weight,
    };
    if opts.explain {
        extras.notes.push(TaskNote::new(
            fw_name,
            task,
            policy.clone(),
            source,
            task_ips,
            None,
        ));
    }
    listed(sink);
    match &task.discovery {
        Some(di) => {
            // LEGACY pass with the raw name, kept by mesos-dns.
            ctx.pass(sink, shared, extras, &di.name);
            let label = spec.label(&di.name);
            // When the name is already a label, the second pass
            // would only insert duplicates: skip it.
            if label != di.name {
                ctx.pass(sink, shared, extras, &label);
            }
        }
        None => ctx.pass(sink, shared, extras, &spec.label(&task.name)),
    }
    true
}

pub(crate) fn task_records(
    store: &mut Store,
    state: &State,
    opts: &TaskOpts<'_>,
    tail: &str,
    slaves: &Slaves,
) -> TaskExtras {
    let mut extras = TaskExtras::default();
    let mut number = 0u32;
    reserve(store, state);
    for fw in &state.frameworks {
        let sfx = FwSuffixes::new(opts.spec, &fw.name, tail);
        store.records.framework(&fw.name);
        let mut shared = SharedNames::default();
        for task in &fw.tasks {
            number = number.wrapping_add(1);
            one_task(
                store,
                &mut shared,
                &mut extras,
                opts,
                (&fw.name, &sfx),
                (task, number),
                slaves,
                |store| store.records.task(&task.name, &task.id),
            );
        }
    }
    store.records.end_task();
    extras
}

/// Makes room in `store` for the usual records of `state`'s tasks (up to
/// 4 names and 4 A records per task, 2 SRV names and 4 SRV records per
/// port): growing the logs as we go would copy them several times. Room
/// never used costs address space, not memory.
fn reserve(store: &mut Store, state: &State) {
    let (mut tasks, mut ports) = (0usize, 0usize);
    for t in state.frameworks.iter().flat_map(|f| &f.tasks) {
        tasks += 1;
        ports += t.ports.len() + t.discovery.as_ref().map_or(0, |d| d.ports.len());
    }
    let names = tasks * 4 + ports * 2;
    store
        .records
        .reserve(names, names * 48, tasks * 4, ports * 4);
}

/// The names a pass shares with the other instances of its app (same
/// label, same framework): `name.fw.D.`, `name.fw.slave.D.` and the
/// resource-port SRV names, by pass name, for tasks without and with a
/// DiscoveryInfo (which have two SRV names fewer). An app's instances can
/// be anywhere in the framework's task list: one lookup of the short pass
/// name per task saves storing its shared names again, and sorting them
/// again in finish.
#[derive(Default)]
pub(crate) struct SharedNames {
    /// By pass name: `[0]` for tasks with a DiscoveryInfo, `[1]` without.
    /// Task names come from the cluster: the seed is random (see
    /// [`crate::name_text`]).
    by_name: [HashMap<String, PassNames, RandomState>; 2],
}

struct PassNames {
    arec_t: u32,
    arec_s: u32,
    /// The resource-port SRV names (2 or 4 of them), once computed.
    srv: Option<([u32; 4], usize)>,
}

impl SharedNames {
    fn get(&mut self, name: &str, plain: bool) -> Option<&mut PassNames> {
        self.by_name.get_mut(usize::from(plain))?.get_mut(name)
    }

    fn put(&mut self, name: &str, plain: bool, s: PassNames) -> Option<&mut PassNames> {
        let map = self.by_name.get_mut(usize::from(plain))?;
        Some(map.entry(name.to_owned()).or_insert(s))
    }
}

impl Ctx<'_> {
    /// One `taskContextRecord` pass for `name`.
    fn pass<S: Sink>(
        &self,
        store: &mut S,
        shared: &mut SharedNames,
        x: &mut TaskExtras,
        name: &str,
    ) {
        let (fw, slave) = (self.fw, self.slave);
        let stem = canonical_stem(name, &self.hash, self.tail_id);
        let di = self.task.discovery.as_ref();
        let mut known = shared.get(name, di.is_none());
        let (arec_t, canon_t, arec_s, canon_s);
        match known.as_deref_mut() {
            Some(k) => {
                arec_t = k.arec_t;
                canon_t = store.name(&[&stem], fw);
                arec_s = k.arec_s;
                canon_s = store.name(&[&stem], slave);
            }
            None => {
                arec_t = store.name(&[name], fw);
                canon_t = store.name(&[&stem], fw);
                arec_s = store.name(&[name], slave);
                canon_s = store.name(&[&stem], slave);
                known = shared.put(
                    name,
                    di.is_none(),
                    PassNames {
                        arec_t,
                        arec_s,
                        srv: None,
                    },
                );
            }
        }

        for &ip in self.task_ips {
            self.shared_ip(store, x, arec_t, ip);
            self.own_ip(store, x, canon_t, ip);
        }
        for &ip in self.slave_ips {
            self.shared_ip(store, x, arec_s, ip);
            self.own_ip(store, x, canon_s, ip);
        }

        // Resource ports: `withProtocol(none)` then `withSubdomains`, giving
        // tcp.slave, udp.slave, and without DiscoveryInfo tcp, udp.
        if !self.task.ports.is_empty() {
            let target = canon_s;
            let forms = [
                ("._tcp", slave),
                ("._udp", slave),
                ("._tcp", fw),
                ("._udp", fw),
            ];
            let forms = if di.is_none() {
                &forms[..]
            } else {
                &forms[..2]
            };
            let (names, len) = match known.as_ref().and_then(|k| k.srv) {
                Some(names) => names,
                None => {
                    let (mut names, mut len) = ([0; 4], 0);
                    for &(proto, suffix) in forms {
                        let n = store.name(&["_", name, proto], suffix);
                        if let Some(slot) = names.get_mut(len) {
                            *slot = n;
                            len += 1;
                        }
                    }
                    if let Some(k) = known {
                        k.srv = Some((names, len));
                    }
                    (names, len)
                }
            };
            for &port in &self.task.ports {
                for &n in names.get(..len).unwrap_or_default() {
                    self.shared_srv(store, x, n, target, port);
                }
            }
        }
        // DiscoveryInfo ports: `withProtocol(proto)` then `withNamedPort`.
        let Some(di) = di else { return };
        let target = canon_t;
        for p in &di.ports {
            let proto = self.spec.label(&p.protocol);
            let protos: &[&str] = if proto.is_empty() {
                &["tcp", "udp"]
            } else {
                &[&proto]
            };
            let port_name = self.spec.label(&p.name);
            // Plain names first, then the `_<port name>.` ones.
            let prefixes: &[&str] = if port_name.is_empty() {
                &[""]
            } else {
                &["", &port_name]
            };
            for prefix in prefixes {
                let (under, dot) = if prefix.is_empty() {
                    ("", "")
                } else {
                    ("_", ".")
                };
                for pr in protos {
                    let parts = [under, prefix, dot, "_", name, "._", pr];
                    let n = store.name(&parts, fw);
                    self.shared_srv(store, x, n, target, p.number);
                }
            }
        }
    }
}

impl Ctx<'_> {
    /// A value of one of the task's own names.
    fn own_ip<S: Sink>(&self, store: &mut S, x: &mut TaskExtras, n: u32, ip: IpAddr) {
        store.ip_at(n, ip);
        if let Some(ttl) = self.ttl {
            x.ttl.push((n, ttl));
        }
    }

    /// A value of a name other tasks may share: held back when the task
    /// is unhealthy and `HealthFilter` is on.
    fn shared_ip<S: Sink>(&self, store: &mut S, x: &mut TaskExtras, n: u32, ip: IpAddr) {
        if self.hold {
            x.health.hold(n, self.number, &self.task.id, Held::Ip(ip));
        } else {
            if self.note_health {
                x.health.saw(n, self.number, true);
            }
            store.ip_at(n, ip);
        }
        if let Some(ttl) = self.ttl {
            x.ttl.push((n, ttl));
        }
    }

    /// An SRV value (SRV names are shared), pointing at the task.
    fn shared_srv<S: Sink>(
        &self,
        store: &mut S,
        x: &mut TaskExtras,
        n: u32,
        target: u32,
        port: u16,
    ) {
        if self.hold {
            x.health
                .hold(n, self.number, &self.task.id, Held::Srv(target, port));
        } else {
            if self.note_health {
                x.health.saw(n, self.number, true);
            }
            store.srv_at(n, target, port);
        }
        if let Some(ttl) = self.ttl {
            x.ttl.push((n, ttl));
        }
        if let Some(w) = self.weight {
            x.weight.push((target, w));
        }
    }
}
