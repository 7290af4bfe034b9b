//! Why a name has the values it has (our extension, `GET /v1/explain/{name}`).
//!
//! Generation keeps, when asked ([`GenConfig::explain`](crate::GenConfig::explain)),
//! one [`TaskNote`] per task of the state: the task as read, its framework,
//! the IP source that gave its addresses, its policy, and why it made no
//! records if it made none. [`Explain::explain`] finds the tasks whose
//! names include the one asked for (the names are made again from the
//! note, the same way task generation makes them) and says, per
//! record type, which task gave each value served and which tasks were
//! left out and why.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::canonical::{canonical_stem, hash, slave_tail};
use crate::label::LabelSpec;
use crate::lookup::Lookup;
use crate::policy::TaskPolicy;
use crate::state::Task;
use crate::task_ip::IpSource;

/// One task of the state, as generation saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskNote {
    /// The framework's raw name.
    pub framework: String,
    /// The task as read.
    pub task: Task,
    /// What its labels asked for (`TaskLabelPolicy`).
    pub policy: TaskPolicy,
    /// The IP source its addresses came from, if any did.
    pub ip_source: Option<IpSource>,
    /// Its addresses.
    pub task_ips: Vec<IpAddr>,
    /// Why it made no records at all, if it made none.
    pub left_out: Option<String>,
}

impl TaskNote {
    pub(crate) fn new(
        framework: &str,
        task: &Task,
        policy: TaskPolicy,
        ip_source: Option<IpSource>,
        task_ips: &[IpAddr],
        left_out: Option<String>,
    ) -> Self {
        TaskNote {
            framework: framework.to_owned(),
            task: task.clone(),
            policy,
            ip_source,
            task_ips: task_ips.to_vec(),
            left_out,
        }
    }
}

/// Which unhealthy tasks were left out of which names, by name text
/// (`HealthFilter`).
pub type LeftOut = HashMap<String, Vec<String>>;

/// The explain data of one generation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Explain {
    /// `.D.`
    pub(crate) tail: String,
    pub(crate) spec: LabelSpec,
    pub(crate) notes: Vec<TaskNote>,
    /// Agent IPs by agent id.
    pub(crate) agents: HashMap<String, Vec<IpAddr>>,
    /// `HealthFilter`: unhealthy task ids left out, by name.
    pub(crate) unhealthy: LeftOut,
}

/// A record type's role in a task's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A/AAAA of the task's addresses.
    TaskIps,
    /// A/AAAA of the agent's addresses.
    AgentIps,
    /// SRV to the task.
    Srv,
}

/// One task's part in a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPart {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// Framework name.
    pub framework: String,
    /// Agent (slave) id.
    pub agent: String,
    /// Task state.
    pub state: String,
    /// `healthy` of its latest running status.
    pub healthy: Option<bool>,
    /// The IP source of its addresses (`agent` for the `.slave.` names).
    pub ip_source: Option<&'static str>,
    /// The values it gives the name: IPs, or `target:port`.
    pub values: Vec<String>,
    /// Why it is left out of the name, if it is.
    pub left_out: Option<String>,
    /// The TTL its labels set, if any.
    pub ttl: Option<u32>,
}

/// What [`Explain::explain`] found for a name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// Served values by type (`A`, `AAAA`, `SRV`), each with the ids of
    /// the tasks that gave it (none for framework, agent and master
    /// records).
    pub values: Vec<(&'static str, String, Vec<String>)>,
    /// The tasks that make the name, served or left out.
    pub tasks: Vec<TaskPart>,
}

impl Explain {
    /// Explains `name` (with a trailing dot) against the records `rs`
    /// generated with this data (a [`RecordSet`](crate::RecordSet)). `None` when the name has no record and
    /// no task would make it.
    pub fn explain(&self, rs: &dyn Lookup, name: &str) -> Option<Explanation> {
        let mut out = Explanation::default();
        for note in &self.notes {
            if let Some(part) = self.part(note, name) {
                out.tasks.push(part);
            }
        }
        let givers = |v: &str| -> Vec<String> {
            out.tasks
                .iter()
                .filter(|t| t.left_out.is_none() && t.values.iter().any(|x| x == v))
                .map(|t| t.id.clone())
                .collect()
        };
        let mut values = Vec::new();
        for ip in rs.a(name) {
            let v = ip.to_string();
            values.push(("A", givers(&v), v));
        }
        for ip in rs.aaaa(name) {
            let v = ip.to_string();
            values.push(("AAAA", givers(&v), v));
        }
        for (target, port) in rs.srv(name) {
            let v = format!("{target}:{port}");
            values.push(("SRV", givers(&v), v));
        }
        out.values = values.into_iter().map(|(t, g, v)| (t, v, g)).collect();
        if out.values.is_empty() && out.tasks.is_empty() {
            return None;
        }
        Some(out)
    }

    /// `note`'s part in `name`, if its names include it.
    fn part(&self, note: &TaskNote, name: &str) -> Option<TaskPart> {
        let t = &note.task;
        let fname = self.spec.domain_frag(&note.framework);
        let fw = format!(".{fname}{}", self.tail);
        let slave = format!(".{fname}.slave{}", self.tail);
        if !name.ends_with(&fw) && !name.ends_with(&slave) {
            return None;
        }
        let (role, shared, port_of) = self.role(t, name, &fw, &slave)?;
        let agent_ips = self.agents.get(&*t.slave_id).map_or(&[][..], Vec::as_slice);
        let stem =
            |pass: &str| canonical_stem(pass, &hash(&t.id), &slave_tail(&t.slave_id));
        let (values, source) = match role {
            Role::TaskIps => (
                note.task_ips.iter().map(ToString::to_string).collect(),
                note.ip_source.map(IpSource::name),
            ),
            Role::AgentIps => (
                agent_ips.iter().map(ToString::to_string).collect(),
                Some("agent"),
            ),
            Role::Srv => {
                let (pass, di_ports) = port_of;
                let target = match di_ports {
                    Some(_) => format!("{}{fw}", stem(&pass)),
                    None => format!("{}{slave}", stem(&pass)),
                };
                let ports: Vec<u16> = di_ports.unwrap_or_else(|| t.ports.to_vec());
                let v = ports.iter().map(|p| format!("{target}:{p}")).collect();
                (v, None)
            }
        };
        let left_out = note.left_out.clone().or_else(|| {
            let held = self
                .unhealthy
                .get(name)
                .is_some_and(|ids| ids.iter().any(|id| **id == *t.id));
            (held && shared).then(|| "unhealthy (healthy: false)".to_owned())
        });
        Some(TaskPart {
            id: t.id.to_string(),
            name: t.name.to_string(),
            framework: note.framework.clone(),
            agent: t.slave_id.to_string(),
            state: t.state.to_string(),
            healthy: t.running_status.as_ref().and_then(|s| s.healthy),
            ip_source: source,
            values,
            left_out,
            ttl: note.policy.ttl,
        })
    }

    /// The role `name` plays among `t`'s names, whether other tasks may
    /// share it, and for SRV names the pass name and the DiscoveryInfo
    /// ports (`None`: the resource ports).
    #[allow(clippy::type_complexity)]
    fn role(
        &self,
        t: &Task,
        name: &str,
        fw: &str,
        slave: &str,
    ) -> Option<(Role, bool, (String, Option<Vec<u16>>))> {
        let passes: Vec<String> = match &t.discovery {
            Some(di) => {
                let label = self.spec.label(&di.name);
                let mut v = vec![di.name.clone()];
                if label != di.name {
                    v.push(label);
                }
                v
            }
            None => vec![self.spec.label(&t.name)],
        };
        let tail = slave_tail(&t.slave_id);
        for pass in passes {
            let stem = canonical_stem(&pass, &hash(&t.id), &tail);
            let none = (pass.clone(), None);
            for (own, shared) in [(&pass, true), (&stem, false)] {
                if name == format!("{own}{fw}") {
                    return Some((Role::TaskIps, shared, none));
                }
                if name == format!("{own}{slave}") {
                    return Some((Role::AgentIps, shared, none));
                }
            }
            if !t.ports.is_empty() {
                let mut suffixes = vec![slave];
                if t.discovery.is_none() {
                    suffixes.push(fw);
                }
                for suffix in suffixes {
                    for proto in ["._tcp", "._udp"] {
                        if name == format!("_{pass}{proto}{suffix}") {
                            return Some((Role::Srv, true, none));
                        }
                    }
                }
            }
            let Some(di) = &t.discovery else { continue };
            let mut ports = Vec::new();
            for p in &di.ports {
                let proto = self.spec.label(&p.protocol);
                let protos: Vec<String> = if proto.is_empty() {
                    vec!["tcp".to_owned(), "udp".to_owned()]
                } else {
                    vec![proto]
                };
                let port_name = self.spec.label(&p.name);
                for pr in &protos {
                    let plain = format!("_{pass}._{pr}{fw}");
                    let named = format!("_{port_name}.{plain}");
                    if name == plain || (!port_name.is_empty() && name == named) {
                        ports.push(p.number);
                    }
                }
            }
            if !ports.is_empty() {
                return Some((Role::Srv, true, (pass, Some(ports))));
            }
        }
        None
    }
}
