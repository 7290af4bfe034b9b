//! The JSON shape of the state as read: lenient objects (see
//! [`crate::lenient`]) whose strings borrow from the body, the task list
//! that reads each task as soon as it is parsed, and the translation of a
//! lenient task into the [`TaskParts`] both readers hand to `task.rs`.

use super::task::{
    finish_task, label_ip, policy_label, push_ip, DiscoveryParts, IpLists, Running,
    TaskParts, TaskTexts,
};
use super::{owned, Task};
use crate::lenient::{json_object, Check, Json, Shape, Text};
use crate::skip::Skip;

/// A `pid` value. Go trims `"` and spaces from the raw token and rejects
/// `null`, so a `null` pid is an error here too.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PidText(pub(crate) String);

impl Shape<'_> for PidText {
    fn from_null() -> Json<Self> {
        Json::Wrong("null")
    }
    fn from_str(v: &str) -> Option<Self> {
        Some(PidText(v.to_owned()))
    }
}

impl Check for PidText {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

json_object!(RawState {
    checked {}
    unchecked {
        "leader" => leader: Text<'de>,
        "frameworks" => frameworks: Vec<Json<RawFramework<'de>>>,
        "slaves" => slaves: Vec<Json<RawSlave<'de>>>,
    }
});

json_object!(RawSlave {
    checked { "id" => id: Text<'de> }
    unchecked { "pid" => pid: PidText }
});

json_object!(RawFramework {
    checked { "name" => name: Text<'de>, "hostname" => hostname: Text<'de> }
    unchecked { "pid" => pid: PidText, "tasks" => tasks: Tasks }
});

/// A framework's `tasks`, each read into a [`Task`] as soon as it is
/// parsed: no list of raw tasks is built, and the tasks are the
/// framework's list as they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tasks {
    /// The tasks read, in order.
    pub(crate) tasks: Vec<Task>,
    /// What was left out, in order: the index in `tasks[]` and what.
    pub(crate) issues: Vec<(usize, TaskIssue)>,
    /// The names and slave ids of the tasks, shared.
    texts: TaskTexts,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TaskIssue {
    /// Parts of a task that was read, left out (not logged yet).
    Skips(Vec<Skip>),
    /// Not an object: the JSON type found.
    Wrong(&'static str),
    /// A field of the wrong type: the task id and the error.
    Malformed(String, String),
}

impl<'de> Shape<'de> for Tasks {
    fn from_seq<A: serde::de::SeqAccess<'de>>(
        mut seq: A,
    ) -> Result<Option<Self>, A::Error> {
        let mut out = Tasks::default();
        let mut j = 0;
        while let Some(t) = seq.next_element::<Json<RawTask<'de>>>()? {
            out.push_lenient(j, t);
            j += 1;
        }
        Ok(Some(out))
    }
}

impl Tasks {
    /// Adds `tasks[j]` as the lenient reader found it.
    pub(crate) fn push_lenient(&mut self, j: usize, t: Json<RawTask<'_>>) {
        let raw = match t {
            Json::Value(t) => t,
            Json::Absent => RawTask::default(),
            Json::Wrong(found) => {
                self.issues.push((j, TaskIssue::Wrong(found)));
                return;
            }
        };
        if let Err(e) = raw.check() {
            self.issues
                .push((j, TaskIssue::Malformed(owned(raw.id), e)));
            return;
        }
        self.push(j, task_parts(raw));
    }

    /// Adds `tasks[j]`, type-checked.
    pub(crate) fn push(&mut self, j: usize, parts: TaskParts<'_>) {
        let mut skips = Vec::new();
        self.tasks
            .push(finish_task(parts, &mut self.texts, &mut skips));
        if !skips.is_empty() {
            self.issues.push((j, TaskIssue::Skips(skips)));
        }
    }
}

json_object!(RawTask {
    checked {
        "id" => id: Text<'de>,
        "name" => name: Text<'de>,
        "slave_id" => slave_id: Text<'de>,
        "state" => state: Text<'de>,
        "resources" => resources: RawResources<'de>,
        "statuses" => statuses: Vec<Json<RawStatus<'de>>>,
        "discovery" => discovery: RawDiscovery<'de>,
    }
    unchecked { "labels" => labels: Vec<Json<RawLabel<'de>>> }
});

json_object!(RawResources {
    checked { "ports" => ports: Text<'de> }
    unchecked {}
});

json_object!(RawStatus {
    checked {
        "state" => state: Text<'de>,
        "timestamp" => timestamp: f64,
        "labels" => labels: Vec<Json<RawLabel<'de>>>,
        "container_status" => container_status: RawContainerStatus<'de>,
    }
    unchecked { "healthy" => healthy: bool }
});

json_object!(RawLabel {
    checked { "key" => key: Text<'de>, "value" => value: Text<'de> }
    unchecked {}
});

json_object!(RawContainerStatus {
    checked { "network_infos" => network_infos: Vec<Json<RawNetworkInfo<'de>>> }
    unchecked {}
});

json_object!(RawNetworkInfo {
    checked {
        "ip_addresses" => ip_addresses: Vec<Json<RawIpAddress<'de>>>,
        "ip_address" => ip_address: Text<'de>,
    }
    unchecked {}
});

json_object!(RawIpAddress {
    checked { "ip_address" => ip_address: Text<'de> }
    unchecked {}
});

json_object!(RawDiscovery {
    checked { "name" => name: Text<'de>, "ports" => ports: RawDiscoveryPorts<'de> }
    unchecked {}
});

json_object!(RawDiscoveryPorts {
    checked { "ports" => ports: Vec<Json<RawDiscoveryPort<'de>>> }
    unchecked {}
});

json_object!(RawDiscoveryPort {
    checked { "number" => number: i64, "protocol" => protocol: Text<'de>, "name" => name: Text<'de> }
    unchecked {}
});

/// The parts of a type-checked lenient task.
pub(crate) fn task_parts(raw: RawTask<'_>) -> TaskParts<'_> {
    fn text(t: Json<Text<'_>>) -> Text<'_> {
        t.value().unwrap_or_default()
    }
    let mut running = Running::new();
    for s in raw.statuses.value().unwrap_or_default() {
        if let Json::Value(s) = s {
            let state = match &s.state {
                Json::Value(v) => Some(v.as_ref()),
                _ => None,
            };
            let ts = s.timestamp.clone().value().unwrap_or(0.0);
            if running.wants(state, ts) {
                running.offer(state, ts, status_ips(&s));
            }
        }
    }
    let discovery = raw.discovery.value().map(|d| DiscoveryParts {
        name: text(d.name),
        ports: d
            .ports
            .value()
            .and_then(|p| p.ports.value())
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let p = p.value().unwrap_or_default();
                (
                    p.number.value().unwrap_or(0),
                    text(p.protocol),
                    text(p.name),
                )
            })
            .collect(),
    });
    let mut labels = Vec::new();
    for l in raw.labels.value().unwrap_or_default() {
        if let Json::Value(RawLabel {
            key: Json::Value(k),
            value: Json::Value(v),
            ..
        }) = l
        {
            policy_label(&mut labels, k, v);
        }
    }
    TaskParts {
        labels,
        id: text(raw.id),
        name: text(raw.name),
        slave_id: text(raw.slave_id),
        state: text(raw.state),
        ports: raw
            .resources
            .value()
            .and_then(|r| r.ports.value())
            .unwrap_or_default(),
        running: running.into_ips(),
        discovery,
    }
}

fn status_ips(s: &RawStatus<'_>) -> IpLists {
    let mut out = IpLists {
        healthy: s.healthy.clone().value(),
        ..IpLists::default()
    };
    if let Json::Value(labels) = &s.labels {
        for l in labels {
            if let Json::Value(l) = l {
                if let (Json::Value(key), Json::Value(value)) = (&l.key, &l.value) {
                    label_ip(&mut out, key, value);
                }
            }
        }
    }
    let infos = match &s.container_status {
        Json::Value(c) => match &c.network_infos {
            Json::Value(n) => n.as_slice(),
            _ => &[],
        },
        _ => &[],
    };
    for ni in infos {
        let Json::Value(ni) = ni else { continue };
        let addrs = match &ni.ip_addresses {
            Json::Value(a) if !a.is_empty() => a.as_slice(),
            _ => &[],
        };
        if addrs.is_empty() {
            // The Mesos 0.25 form, only when `ip_addresses` is empty.
            if let Json::Value(ip) = &ni.ip_address {
                push_ip(&mut out.netinfo, ip);
            }
        }
        for a in addrs {
            if let Json::Value(RawIpAddress {
                ip_address: Json::Value(ip),
                ..
            }) = a
            {
                push_ip(&mut out.netinfo, ip);
            }
        }
    }
    out
}
