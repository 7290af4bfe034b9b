//! One task, from what either reader found in it ([`TaskParts`]) to a
//! [`Task`] and what was left out of it.

use std::collections::HashSet;
use std::net::IpAddr;

use foldhash::fast::RandomState;

use super::{
    each_port, parse_ip, Discovery, DiscoveryPort, PortsBuilder, SharedStr, StatusIps,
    Task, TaskState,
};
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
    pub(crate) running: Option<IpLists>,
    /// `discovery`, if present (its name may be empty).
    pub(crate) discovery: Option<DiscoveryParts<'de>>,
    /// Task `labels[]` whose key starts with [`POLICY_LABEL_PREFIX`].
    pub(crate) labels: Vec<(Text<'de>, Text<'de>)>,
}

/// Task labels kept for the per-task policy start with this.
pub(crate) const POLICY_LABEL_PREFIX: &str = "DNS_";

/// Adds a task label if it is one the policy reads.
pub(crate) fn policy_label<'de>(
    labels: &mut Vec<(Text<'de>, Text<'de>)>,
    key: Text<'de>,
    value: Text<'de>,
) {
    if key.starts_with(POLICY_LABEL_PREFIX) {
        labels.push((key, value));
    }
}

/// A task's `discovery` as found.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryParts<'de> {
    pub(crate) name: Text<'de>,
    /// `ports.ports[]`: `number` (0 when absent), `protocol`, `name`.
    pub(crate) ports: Vec<(i64, Text<'de>, Text<'de>)>,
}

/// The IPs of one status as they are read, each source's apart (see
/// [`StatusIps`]).
#[derive(Debug, Default)]
pub(crate) struct IpLists {
    pub(crate) mesos: Vec<IpAddr>,
    pub(crate) docker: Vec<IpAddr>,
    pub(crate) netinfo: Vec<IpAddr>,
    pub(crate) healthy: Option<bool>,
}

/// The slave ids and names of the tasks read so far, each kept once:
/// most tasks name one of a few agents, the instances of an app have one
/// name, and the tasks read with one share them. Hashed with foldhash and
/// a random seed, as the record builder's names are (see `name_text`):
/// the names come from the cluster, but with an unknown seed no one can
/// aim them at one bucket, and SipHash cost several times as much on
/// every task of a large state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskTexts(HashSet<SharedStr, RandomState>);

impl TaskTexts {
    /// The shared text of `id`.
    fn get(&mut self, id: &str) -> SharedStr {
        if let Some(shared) = self.0.get(id) {
            return shared.clone();
        }
        let shared = SharedStr::from(id);
        self.0.insert(shared.clone());
        shared
    }
}

/// `statusIPs`: the `TASK_RUNNING` status with the largest timestamp, the
/// earliest on a tie, fed one status at a time. Go starts from -1, so a
/// status whose timestamp is -1 or less is never chosen.
pub(crate) struct Running {
    best: Option<IpLists>,
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
    pub(crate) fn offer(&mut self, state: Option<&str>, timestamp: f64, ips: IpLists) {
        if self.wants(state, timestamp) {
            self.ts = timestamp;
            self.best = Some(ips);
        }
    }

    pub(crate) fn into_ips(self) -> Option<IpLists> {
        self.best
    }
}

/// Adds `text`'s IP, if it parses, to `list`. A status has one or two
/// IPs: no room is made beyond them, so that the list kept
/// ([`StatusIps::new`]) needs no shrinking copy.
pub(crate) fn push_ip(list: &mut Vec<IpAddr>, text: &str) {
    if let Some(ip) = parse_ip(text) {
        if list.len() < 4 {
            list.reserve_exact(1);
        }
        list.push(ip);
    }
}

/// Adds a status label's IP if its key is one of the IP label keys.
pub(crate) fn label_ip(ips: &mut IpLists, key: &str, value: &str) {
    if key == MESOS_IP_LABEL {
        push_ip(&mut ips.mesos, value);
    } else if key == DOCKER_IP_LABEL {
        push_ip(&mut ips.docker, value);
    }
}

/// The task, its name and slave id shared through `texts`; what is left out
/// goes to `skips`.
pub(crate) fn finish_task(
    p: TaskParts<'_>,
    texts: &mut TaskTexts,
    skips: &mut Vec<Skip>,
) -> Task {
    let skip =
        |skips: &mut Vec<Skip>, reason, detail| skips.push(Skip { reason, detail });
    let id = SharedStr::from(&*p.id);
    let mut ports = PortsBuilder::default();
    let bad = |e| {
        skip(
            skips,
            SkipReason::BadPortRange,
            format!("task {id:?}: ports {:?}: {e}", p.ports),
        );
    };
    each_port(&p.ports, bad, |port| ports.push(port));
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
        Some(Box::new(Discovery {
            name: d.name.into_owned(),
            ports,
        }))
    });
    Task {
        name: texts.get(&p.name),
        slave_id: texts.get(&p.slave_id),
        state: TaskState::new(&p.state),
        ports: ports.finish(),
        running_status: p
            .running
            .map(|r| StatusIps::new(r.mesos, r.docker, r.netinfo, r.healthy)),
        discovery,
        labels: p
            .labels
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        id,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::skip::{Skip, SkipReason};
    use crate::state::{State, Task};

    fn task_and_skips(json: &str) -> (Task, Vec<Skip>) {
        let body =
            format!(r#"{{"leader":"m@1.2.3.4:1","frameworks":[{{"tasks":[{json}]}}]}}"#);
        let s = State::parse(body.as_bytes()).unwrap();
        (s.frameworks[0].tasks[0].clone(), s.skips)
    }

    fn task_of(json: &str) -> Task {
        let (t, skips) = task_and_skips(json);
        assert!(skips.is_empty(), "{skips:?}");
        t
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    // state_test.go TestTask_IPs, the status-selection half (BEHAVIOUR.md 4.8).
    #[test]
    fn latest_running_status_wins() {
        let t = task_of(
            r#"{"statuses":[
            {"state":"TASK_RUNNING","timestamp":1,"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"1.2.3.4"}]}]}},
            {"state":"TASK_RUNNING","timestamp":4,"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"1.3.5.7"}]}]}},
            {"state":"TASK_RUNNING","timestamp":3,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.3.4.5"}]},
            {"state":"TASK_RUNNING","timestamp":5,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.4.6.8"}]},
            {"state":"TASK_RUNNING","timestamp":2,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.5.8.1"}]},
            {"state":"TASK_KILLED","timestamp":9,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"9.9.9.9"}]}
        ]}"#,
        );
        let st = t.running_status.unwrap();
        assert_eq!(st.docker(), ips(&["2.4.6.8"]));
        assert!(st.netinfo().is_empty());
    }

    #[test]
    fn status_ties_and_negative_timestamps() {
        let t = task_of(
            r#"{"statuses":[
            {"state":"TASK_RUNNING","timestamp":-1,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]}
        ]}"#,
        );
        assert_eq!(t.running_status, None);
        let t = task_of(
            r#"{"statuses":[
            {"state":"TASK_RUNNING","timestamp":2,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]},
            {"state":"TASK_RUNNING","timestamp":2,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.2.2.2"}]}
        ]}"#,
        );
        assert_eq!(t.running_status.unwrap().docker(), ips(&["1.1.1.1"]));
    }

    #[test]
    fn policy_labels_and_health_of_the_latest_running_status() {
        let t = task_of(
            r#"{"labels":[{"key":"DNS_TTL","value":"5"},{"key":"app","value":"x"},{"key":"DNS_EXCLUDE","value":7}],
            "statuses":[{"state":"TASK_RUNNING","timestamp":1,"healthy":true},
            {"state":"TASK_RUNNING","timestamp":2,"healthy":false},
            {"state":"TASK_KILLING","timestamp":3,"healthy":true}]}"#,
        );
        assert_eq!(*t.labels, [("DNS_TTL".to_owned(), "5".to_owned())]);
        assert_eq!(t.running_status.unwrap().healthy, Some(false));
        let t = task_of(
            r#"{"labels":{},"statuses":[{"state":"TASK_RUNNING","healthy":"no"}]}"#,
        );
        assert!(t.labels.is_empty());
        assert_eq!(t.running_status.unwrap().healthy, None);
    }

    #[test]
    fn netinfo_forms() {
        let t = task_of(
            r#"{"statuses":[{"state":"TASK_RUNNING","container_status":{"network_infos":[
            {"ip_address":""},
            {"ip_addresses":[{"ip_address":"1.2.3.4"},{"ip_address":"fd01:b::1:8000:2"},{"ip_address":"junk"}]},
            {"ip_address":"1.2.3.5"},
            {"ip_address":"1.2.3.6","ip_addresses":[{"ip_address":"1.2.4.8"}]}
        ]}}]}"#,
        );
        let st = t.running_status.unwrap();
        assert_eq!(
            st.netinfo(),
            ips(&["1.2.3.4", "fd01:b::1:8000:2", "1.2.3.5", "1.2.4.8"])
        );
    }

    #[test]
    fn labels_keep_order_and_both_keys() {
        let t = task_of(
            r#"{"statuses":[{"state":"TASK_RUNNING","labels":[
            {"key":"Docker.NetworkSettings.IPAddress","value":"1.2.3.4"},
            {"key":"MesosContainerizer.NetworkSettings.IPAddress","value":"10.3.0.3"},
            {"key":"Docker.NetworkSettings.IPAddress","value":"2.3.4.5"},
            {"key":"container-ip","value":"9.9.9.9"}
        ]}]}"#,
        );
        let st = t.running_status.unwrap();
        assert_eq!(st.docker(), ips(&["1.2.3.4", "2.3.4.5"]));
        assert_eq!(st.mesos(), ips(&["10.3.0.3"]));
    }

    #[test]
    fn discovery_info() {
        let (t, skips) = task_and_skips(
            r#"{"id":"x","discovery":{"name":"liquor.store","visibility":5,"ports":{"ports":[
            {"number":80,"protocol":"tcp","name":"http"},{"number":70000},{"protocol":"udp"}]}}}"#,
        );
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].reason, SkipReason::BadDiscoveryPort);
        let d = t.discovery.unwrap();
        assert_eq!(d.name, "liquor.store");
        assert_eq!(d.ports.len(), 2);
        assert_eq!(d.ports[1].number, 0);
        assert_eq!(d.ports[1].protocol, "udp");
        assert_eq!(task_of(r#"{"discovery":{"name":""}}"#).discovery, None);
    }
}
