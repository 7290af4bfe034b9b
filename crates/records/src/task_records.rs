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

use crate::canonical::{canonical_stem, hash, slave_tail};
use crate::generate::GenConfig;
use crate::label::LabelSpec;
use crate::state::{State, Task};
use crate::store::Store;
use crate::task_ip::task_ips;

/// The per-task values shared by both passes of a DI task.
struct Ctx<'a> {
    task: &'a Task,
    hash: [u8; 5],
    tail_id: String,
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
    slave_ips: &HashMap<String, Vec<IpAddr>>,
) {
    for fw in &state.frameworks {
        let fname = spec.domain_frag(&fw.name);
        store.records.framework(&fw.name);
        for task in &fw.tasks {
            let Some(sips) = slave_ips.get(&task.slave_id) else {
                continue;
            };
            if task.state != "TASK_RUNNING" {
                continue;
            }
            let ctx = Ctx {
                task,
                hash: hash(&task.id),
                tail_id: slave_tail(&task.slave_id),
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

impl Ctx<'_> {
    /// One `taskContextRecord` pass for `name`.
    fn pass(&self, store: &mut Store, name: &str) {
        let t = self.tail;
        let id = self.task.id.as_str();
        let f = self.fname;
        let stem = canonical_stem(name, &self.hash, &self.tail_id);
        let arec_t = cat(&[name, ".", f, t]);
        let canon_t = cat(&[&stem, ".", f, t]);
        let arec_s = cat(&[name, ".", f, ".slave", t]);
        let canon_s = cat(&[&stem, ".", f, ".slave", t]);
        let ok_arec_t = store.name_ok(&arec_t, "task", id);
        let ok_canon_t = store.name_ok(&canon_t, "task", id);
        let ok_arec_s = store.name_ok(&arec_s, "task", id);
        let ok_canon_s = store.name_ok(&canon_s, "task", id);

        for &ip in self.task_ips {
            if ok_arec_t {
                store.ip(&arec_t, ip);
            }
            if ok_canon_t {
                store.ip(&canon_t, ip);
            }
        }
        for &ip in self.slave_ips {
            if ok_arec_s {
                store.ip(&arec_s, ip);
            }
            if ok_canon_s {
                store.ip(&canon_s, ip);
            }
        }

        let di = self.task.discovery.as_ref();
        let service = cat(&["_", name]);
        // Resource ports: `withProtocol(none)` then `withSubdomains`, giving
        // tcp.slave, udp.slave, and without DiscoveryInfo tcp, udp.
        if ok_canon_s && !self.task.ports.is_empty() {
            let mut names = vec![
                cat(&[&service, "._tcp.", f, ".slave", t]),
                cat(&[&service, "._udp.", f, ".slave", t]),
            ];
            if di.is_none() {
                names.push(cat(&[&service, "._tcp.", f, t]));
                names.push(cat(&[&service, "._udp.", f, t]));
            }
            names.retain(|n| store.name_ok(n, "task", id));
            for &port in &self.task.ports {
                for n in &names {
                    store.srv(n, &canon_s, port);
                }
            }
        }
        // DiscoveryInfo ports: `withProtocol(proto)` then `withNamedPort`.
        let Some(di) = di else { return };
        if !ok_canon_t {
            return;
        }
        for p in &di.ports {
            let proto = self.spec.label(&p.protocol);
            let protos: &[&str] = if proto.is_empty() {
                &["tcp", "udp"]
            } else {
                &[&proto]
            };
            let mut names: Vec<String> = protos
                .iter()
                .map(|pr| format!("{service}._{pr}.{}", self.fname))
                .collect();
            let port_name = self.spec.label(&p.name);
            if !port_name.is_empty() {
                let prefixed: Vec<String> =
                    names.iter().map(|n| format!("_{port_name}.{n}")).collect();
                names.extend(prefixed);
            }
            for n in names {
                let n = format!("{n}{t}");
                if store.name_ok(&n, "task", id) {
                    store.srv(&n, &canon_t, p.number);
                }
            }
        }
    }
}

/// Concatenates `parts` into a string of exactly the right capacity
/// (cheaper than `format!` on the hot path).
fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}
