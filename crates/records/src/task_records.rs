//! Task records (spec 4.7) and the enumeration data (spec 4.11).
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
//! dots or upper case), then labelled. A legacy name that is not a valid DNS
//! name (see [`is_valid_name`](crate::store::is_valid_name)) is left out with
//! a reason, where mesos-dns stores it anyway. The canonical label is
//! shortened to fit in 63 octets ([`canonical_stem`]).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::canonical::{canonical_stem, hash};
use crate::generate::GenConfig;
use crate::label::LabelSpec;
use crate::state::{State, Task};
use crate::store::Store;
use crate::task_ip::task_ips;

/// The per-task values shared by both passes of a DI task.
struct Ctx<'a> {
    task: &'a Task,
    hash: [u8; 5],
    tail_id: &'a str,
    task_ips: &'a [IpAddr],
    slave_ips: &'a [IpAddr],
    fname: &'a str,
    /// `.D.`
    tail: &'a str,
    spec: LabelSpec,
}

pub(crate) fn task_records(
    store: &mut Store,
    state: &State,
    cfg: &GenConfig,
    spec: LabelSpec,
    tail: &str,
    slaves: &HashMap<String, (Vec<IpAddr>, String)>,
) {
    reserve(store, state);
    for fw in &state.frameworks {
        let fname = spec.domain_frag(&fw.name);
        store.records.framework(&fw.name);
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
                task_ips: task_ips(&cfg.ip_sources, task.running_status.as_ref(), sips),
                slave_ips: sips,
                fname: &fname,
                tail,
                spec,
            };
            store.records.task(&task.name, &task.id);
            match &task.discovery {
                Some(di) => {
                    // LEGACY pass with the raw name, kept by mesos-dns.
                    ctx.pass(store, &di.name);
                    let label = spec.label(&di.name);
                    // When the name is already a label, the second pass
                    // would only insert duplicates: skip it.
                    if label != di.name {
                        ctx.pass(store, &label);
                    }
                }
                None => ctx.pass(store, &spec.label(&task.name)),
            }
        }
    }
    store.records.end_task();
}

/// Makes room in `store` for the usual records of `state`'s tasks (about
/// 2.5 new names, 4 A and 4 SRV per port per task): growing the name
/// index and logs as we go would rehash and copy them several times.
fn reserve(store: &mut Store, state: &State) {
    let (mut tasks, mut ports) = (0usize, 0usize);
    for t in state.frameworks.iter().flat_map(|f| &f.tasks) {
        tasks += 1;
        ports += t.ports.len() + t.discovery.as_ref().map_or(0, |d| d.ports.len());
    }
    let names = tasks * 5 / 2;
    store
        .records
        .reserve(names, names * 48, tasks * 4, ports * 4);
}

impl Ctx<'_> {
    /// One `taskContextRecord` pass for `name`.
    fn pass(&self, store: &mut Store, name: &str) {
        let t = self.tail;
        let id = self.task.id.as_str();
        let f = self.fname;
        let stem = canonical_stem(name, &self.hash, self.tail_id);
        let arec_t = store.name(&[name, ".", f, t], "task", id);
        let canon_t = store.name(&[&stem, ".", f, t], "task", id);
        let arec_s = store.name(&[name, ".", f, ".slave", t], "task", id);
        let canon_s = store.name(&[&stem, ".", f, ".slave", t], "task", id);

        for &ip in self.task_ips {
            if let Some(n) = arec_t {
                store.ip_at(n, ip);
            }
            if let Some(n) = canon_t {
                store.ip_at(n, ip);
            }
        }
        for &ip in self.slave_ips {
            if let Some(n) = arec_s {
                store.ip_at(n, ip);
            }
            if let Some(n) = canon_s {
                store.ip_at(n, ip);
            }
        }

        let di = self.task.discovery.as_ref();
        // Resource ports: `withProtocol(none)` then `withSubdomains`, giving
        // tcp.slave, udp.slave, and without DiscoveryInfo tcp, udp.
        if let Some(target) = canon_s.filter(|_| !self.task.ports.is_empty()) {
            const FORMS: [[&str; 2]; 4] = [
                ["._tcp.", ".slave"],
                ["._udp.", ".slave"],
                ["._tcp.", ""],
                ["._udp.", ""],
            ];
            let forms = if di.is_none() {
                &FORMS[..]
            } else {
                &FORMS[..2]
            };
            let mut names = [None; 4];
            for (slot, [proto, sub]) in names.iter_mut().zip(forms) {
                *slot = store.name(&["_", name, proto, f, sub, t], "task", id);
            }
            for &port in &self.task.ports {
                for &n in names.iter().flatten() {
                    store.srv_at(n, target, port);
                }
            }
        }
        // DiscoveryInfo ports: `withProtocol(proto)` then `withNamedPort`.
        let Some(di) = di else { return };
        let Some(target) = canon_t else { return };
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
                    let n = store.name(
                        &[under, prefix, dot, "_", name, "._", pr, ".", f, t],
                        "task",
                        id,
                    );
                    if let Some(n) = n {
                        store.srv_at(n, target, p.number);
                    }
                }
            }
        }
    }
}
