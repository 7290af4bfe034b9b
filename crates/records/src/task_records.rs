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
use crate::label::LabelSpec;
use crate::state::{State, Task};
use crate::store::{Store, Suffix};
use crate::task_ip::{task_ips, IpSource};

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
}

pub(crate) fn task_records(
    store: &mut Store,
    state: &State,
    ip_sources: &[IpSource],
    spec: LabelSpec,
    tail: &str,
    slaves: &HashMap<String, (Vec<IpAddr>, String)>,
) {
    reserve(store, state);
    for fw in &state.frameworks {
        let fname = spec.domain_frag(&fw.name);
        let fw_suffix = Suffix::new(format!(".{fname}{tail}"));
        let slave_suffix = Suffix::new(format!(".{fname}.slave{tail}"));
        store.records.framework(&fw.name);
        let mut shared = SharedNames::default();
        for task in &fw.tasks {
            let Some((sips, slave_tail)) = slaves.get(&task.slave_id) else {
                continue;
            };
            if task.state != "TASK_RUNNING" {
                continue;
            }
            let ctx = Ctx {
                task,
                hash: hash(&task.id),
                tail_id: slave_tail,
                task_ips: task_ips(ip_sources, task.running_status.as_ref(), sips),
                slave_ips: sips,
                fw: &fw_suffix,
                slave: &slave_suffix,
                spec,
            };
            store.records.task(&task.name, &task.id);
            match &task.discovery {
                Some(di) => {
                    // LEGACY pass with the raw name, kept by mesos-dns.
                    ctx.pass(store, &mut shared, &di.name);
                    let label = spec.label(&di.name);
                    // When the name is already a label, the second pass
                    // would only insert duplicates: skip it.
                    if label != di.name {
                        ctx.pass(store, &mut shared, &label);
                    }
                }
                None => ctx.pass(store, &mut shared, &spec.label(&task.name)),
            }
        }
    }
    store.records.end_task();
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
struct SharedNames {
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
    fn pass(&self, store: &mut Store, shared: &mut SharedNames, name: &str) {
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
            store.ip_at(arec_t, ip);
            store.ip_at(canon_t, ip);
        }
        for &ip in self.slave_ips {
            store.ip_at(arec_s, ip);
            store.ip_at(canon_s, ip);
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
                    store.srv_at(n, target, port);
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
                    store.srv_at(n, target, p.number);
                }
            }
        }
    }
}
