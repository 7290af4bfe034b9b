//! One task, from what either reader found in it ([`TaskParts`]) to a
//! [`Task`] and what was left out of it.

use super::{expand_ports, parse_ip, Discovery, DiscoveryPort, StatusIps, Task};
use crate::lenient::Text;
use crate::skip::{Skip, SkipReason};

/// Docker containerizer IP label key.
const DOCKER_IP_LABEL: &str = "Docker.NetworkSettings.IPAddress";
/// Mesos containerizer IP label key.
const MESOS_IP_LABEL: &str = "MesosContainerizer.NetworkSettings.IPAddress";

/// What a type-checked task holds that is read, strings still borrowed
/// from the body where they can be; absent strings are empty.
#[derive(Debug, Default)]
pub(crate) struct TaskParts<'de> {
    pub(crate) id: Text<'de>,
    pub(crate) name: Text<'de>,
    pub(crate) slave_id: Text<'de>,
    pub(crate) state: Text<'de>,
    /// `resources.ports`.
    pub(crate) ports: Text<'de>,
    /// The latest running status's IPs ([`Running`]).
    pub(crate) running: Option<StatusIps>,
    /// `discovery`, if present (its name may be empty).
    pub(crate) discovery: Option<DiscoveryParts<'de>>,
}

/// A task's `discovery` as found.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryParts<'de> {
    pub(crate) name: Text<'de>,
    /// `ports.ports[]`: `number` (0 when absent), `protocol`, `name`.
    pub(crate) ports: Vec<(i64, Text<'de>, Text<'de>)>,
}

/// `statusIPs`: the `TASK_RUNNING` status with the largest timestamp, the
/// earliest on a tie, fed one status at a time. Go starts from -1, so a
/// status whose timestamp is -1 or less is never chosen.
pub(crate) struct Running {
    best: Option<StatusIps>,
    ts: f64,
}

impl Running {
    pub(crate) fn new() -> Self {
        Running {
            best: None,
            ts: -1.0,
        }
    }

    /// Whether a status with this `state` and `timestamp` (0 when absent)
    /// would be the new latest: only then are its IPs worth reading.
    pub(crate) fn wants(&self, state: Option<&str>, timestamp: f64) -> bool {
        state == Some("TASK_RUNNING") && timestamp > self.ts
    }

    /// Offers a status: taken if [`Running::wants`] it.
    pub(crate) fn offer(&mut self, state: Option<&str>, timestamp: f64, ips: StatusIps) {
        if self.wants(state, timestamp) {
            self.ts = timestamp;
            self.best = Some(ips);
        }
    }

    pub(crate) fn into_ips(self) -> Option<StatusIps> {
        self.best
    }
}

/// Adds a status label's IP if its key is one of the IP label keys.
pub(crate) fn label_ip(ips: &mut StatusIps, key: &str, value: &str) {
    if key == MESOS_IP_LABEL {
        ips.mesos.extend(parse_ip(value));
    } else if key == DOCKER_IP_LABEL {
        ips.docker.extend(parse_ip(value));
    }
}

/// The task; what is left out goes to `skips`.
pub(crate) fn finish_task(p: TaskParts<'_>, skips: &mut Vec<Skip>) -> Task {
    let skip =
        |skips: &mut Vec<Skip>, reason, detail| skips.push(Skip { reason, detail });
    let id = p.id.into_owned();
    let ports = expand_ports(&p.ports, |e| {
        skip(
            skips,
            SkipReason::BadPortRange,
            format!("task {id:?}: ports {:?}: {e}", p.ports),
        );
    });
    let discovery = p.discovery.and_then(|d| {
        if d.name.is_empty() {
            return None;
        }
        let mut ports = Vec::new();
        for (number, protocol, name) in d.ports {
            match u16::try_from(number) {
                Ok(number) => ports.push(DiscoveryPort {
                    number,
                    protocol: protocol.into_owned(),
                    name: name.into_owned(),
                }),
                Err(_) => skip(
                    skips,
                    SkipReason::BadDiscoveryPort,
                    format!("task {id:?}: discovery port number {number} is not a port"),
                ),
            }
        }
        Some(Discovery {
            name: d.name.into_owned(),
            ports,
        })
    });
    Task {
        name: p.name.into_owned(),
        slave_id: p.slave_id.into_owned(),
        state: p.state.into_owned(),
        ports,
        running_status: p.running,
        discovery,
        id,
    }
}
