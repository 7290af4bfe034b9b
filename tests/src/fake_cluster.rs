//! The cluster a fake operator master serves ([`crate::fake_operator`]):
//! one model rendered two ways, as v1 operator API events and in the
//! `/master/state` shape, written here independently of the records
//! crate's translation, so a test can check that events and polling give
//! the same records.

use std::time::Duration;

use serde_json::{json, Value};

/// One agent.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeAgent {
    /// Agent id.
    pub id: String,
    /// Its IP (the pid host).
    pub ip: String,
    /// Its port.
    pub port: u16,
}

/// One framework.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeFramework {
    /// Framework id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Hostname.
    pub hostname: String,
}

/// One task status.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeStatus {
    /// `TASK_RUNNING`, ...
    pub state: String,
    /// Seconds.
    pub timestamp: f64,
    /// A container IP reported in `network_infos` and a Docker label.
    pub ip: Option<String>,
    /// `healthy`, for a task with a health check.
    pub healthy: Option<bool>,
}

/// One task.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeTask {
    /// Task id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Framework id.
    pub framework_id: String,
    /// Agent id.
    pub agent_id: String,
    /// Current state.
    pub state: String,
    /// Port ranges, as the scheduler got them (any order).
    pub ports: Vec<(u16, u16)>,
    /// Statuses, oldest first.
    pub statuses: Vec<FakeStatus>,
    /// DiscoveryInfo name, when any.
    pub discovery: Option<String>,
    /// Task labels (key, value): Marathon copies an app's labels here.
    pub labels: Vec<(String, String)>,
}

/// The cluster a fake master serves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FakeCluster {
    /// Agents in registration order.
    pub agents: Vec<FakeAgent>,
    /// Frameworks in registration order.
    pub frameworks: Vec<FakeFramework>,
    /// Active tasks in launch order.
    pub tasks: Vec<FakeTask>,
}

const TERMINAL: [&str; 5] = [
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
];

fn status_v1(task_id: &str, agent_id: &str, s: &FakeStatus) -> Value {
    let mut v = json!({
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "state": s.state,
        "source": "SOURCE_EXECUTOR",
        "timestamp": s.timestamp,
        "uuid": "AAAAAAAAAAAAAAAAAAAAAA==",
    });
    if let Some(h) = s.healthy {
        v["healthy"] = json!(h);
    }
    if let Some(ip) = &s.ip {
        v["labels"] =
            json!({"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": ip}]});
        v["container_status"] = json!({"network_infos": [
            {"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}
        ]});
    }
    v
}

fn status_v0(s: &FakeStatus) -> Value {
    let mut v = json!({"state": s.state, "timestamp": s.timestamp});
    if let Some(h) = s.healthy {
        v["healthy"] = json!(h);
    }
    if let Some(ip) = &s.ip {
        v["labels"] = json!([{"key": "Docker.NetworkSettings.IPAddress", "value": ip}]);
        v["container_status"] = json!({"network_infos": [
            {"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}
        ]});
    }
    v
}

/// Labels as Mesos renders them: `[{"key": k, "value": v}]`.
fn labels_json(labels: &[(String, String)]) -> Value {
    labels
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

/// Mesos' `stringify(Value::Ranges)` after coalescing.
fn ranges_text(ports: &[(u16, u16)]) -> String {
    let mut r: Vec<(u32, u32)> = ports
        .iter()
        .map(|&(b, e)| (u32::from(b), u32::from(e)))
        .collect();
    r.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (b, e) in r {
        if let Some(last) = out.last_mut() {
            if b <= last.1 + 1 {
                last.1 = last.1.max(e);
                continue;
            }
        }
        out.push((b, e));
    }
    let parts: Vec<String> = out.iter().map(|(b, e)| format!("{b}-{e}")).collect();
    format!("[{}]", parts.join(", "))
}

impl FakeTask {
    /// The v1 `Task`.
    pub fn v1(&self) -> Value {
        let mut resources = vec![
            json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "role": "*"}),
        ];
        // One resource per range, as a scheduler may accept them.
        for (b, e) in &self.ports {
            resources.push(json!({"name": "ports", "type": "RANGES", "role": "*",
                "ranges": {"range": [{"begin": b, "end": e}]}}));
        }
        let mut v = json!({
            "name": self.name,
            "task_id": {"value": self.id},
            "framework_id": {"value": self.framework_id},
            "agent_id": {"value": self.agent_id},
            "state": self.state,
            "resources": resources,
            "statuses": self.statuses.iter().map(|s| status_v1(&self.id, &self.agent_id, s)).collect::<Vec<_>>(),
            "user": "root",
        });
        if !self.labels.is_empty() {
            v["labels"] = json!({"labels": labels_json(&self.labels)});
        }
        if let Some(d) = &self.discovery {
            v["discovery"] = json!({"visibility": "FRAMEWORK", "name": d,
                "ports": {"ports": [{"number": 8080, "protocol": "tcp", "name": "http"}]}});
        }
        v
    }

    /// The `/master/state` task.
    pub fn v0(&self) -> Value {
        let mut resources = json!({"cpus": 0.5, "gpus": 0.0, "mem": 0.0, "disk": 0.0});
        if !self.ports.is_empty() {
            resources["ports"] = json!(ranges_text(&self.ports));
        }
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "framework_id": self.framework_id,
            "executor_id": "",
            "slave_id": self.agent_id,
            "state": self.state,
            "resources": resources,
            "statuses": self.statuses.iter().map(status_v0).collect::<Vec<_>>(),
        });
        if !self.labels.is_empty() {
            v["labels"] = labels_json(&self.labels);
        }
        if let Some(d) = &self.discovery {
            v["discovery"] = json!({"visibility": "FRAMEWORK", "name": d,
                "ports": {"ports": [{"number": 8080, "protocol": "tcp", "name": "http"}]}});
        }
        v
    }
}

impl FakeAgent {
    /// The v1 `GetAgents.Agent`.
    pub fn v1(&self) -> Value {
        json!({
            "agent_info": {"hostname": self.ip, "port": self.port, "id": {"value": self.id}},
            "active": true, "version": "1.11.0",
            "pid": format!("slave(1)@{}:{}", self.ip, self.port),
        })
    }
}

impl FakeFramework {
    /// The v1 `GetFrameworks.Framework`.
    pub fn v1(&self) -> Value {
        json!({
            "framework_info": {"user": "root", "name": self.name, "hostname": self.hostname,
                               "id": {"value": self.id}},
            "active": true, "connected": true, "recovered": false,
        })
    }
}

impl FakeCluster {
    /// The `/master/state` body with `leader` (`host:port`).
    pub fn state_json(&self, leader: &str) -> Vec<u8> {
        let frameworks: Vec<Value> = self
            .frameworks
            .iter()
            .map(|f| {
                json!({
                    "id": f.id, "name": f.name, "hostname": f.hostname, "active": true,
                    "tasks": self.tasks.iter().filter(|t| t.framework_id == f.id).map(FakeTask::v0).collect::<Vec<_>>(),
                    "completed_tasks": [],
                })
            })
            .collect();
        let slaves: Vec<Value> = self
            .agents
            .iter()
            .map(|a| json!({"id": a.id, "pid": format!("slave(1)@{}:{}", a.ip, a.port), "hostname": a.ip}))
            .collect();
        let body = json!({"version": "1.11.0", "leader": format!("master@{leader}"),
                          "frameworks": frameworks, "slaves": slaves});
        body.to_string().into_bytes()
    }

    /// The `SUBSCRIBED` event.
    pub fn subscribed(&self, heartbeat: Duration) -> Value {
        json!({"type": "SUBSCRIBED", "subscribed": {
            "get_state": {
                "get_tasks": {"tasks": self.tasks.iter().map(FakeTask::v1).collect::<Vec<_>>()},
                "get_executors": {},
                "get_frameworks": {"frameworks": self.frameworks.iter().map(FakeFramework::v1).collect::<Vec<_>>()},
                "get_agents": {"agents": self.agents.iter().map(FakeAgent::v1).collect::<Vec<_>>()},
            },
            "heartbeat_interval_seconds": heartbeat.as_secs_f64(),
        }})
    }
}

/// A change to make, with the event it sends.
#[derive(Clone, Debug)]
pub enum Change {
    /// `AGENT_ADDED`.
    AddAgent(FakeAgent),
    /// `AGENT_REMOVED` (its tasks go too).
    RemoveAgent(String),
    /// `FRAMEWORK_ADDED`.
    AddFramework(FakeFramework),
    /// `FRAMEWORK_UPDATED`.
    UpdateFramework(FakeFramework),
    /// `FRAMEWORK_REMOVED` (its tasks go too).
    RemoveFramework(String),
    /// `TASK_ADDED`.
    AddTask(FakeTask),
    /// `TASK_UPDATED`: task id, new state, status timestamp and IP. A
    /// terminal state removes the task.
    UpdateTask(String, String, f64, Option<String>),
    /// `TASK_UPDATED` of a health check: task id, status timestamp and
    /// `healthy`; a `TASK_RUNNING` status with the task's last IP.
    UpdateHealth(String, f64, bool),
}

impl FakeCluster {
    /// Applies `change`; returns the v1 event for it, or `None` when it
    /// refers to something unknown (nothing changes, nothing is sent).
    pub fn apply(&mut self, change: &Change) -> Option<Value> {
        Some(match change {
            Change::AddAgent(a) => {
                match self.agents.iter_mut().find(|x| x.id == a.id) {
                    Some(x) => *x = a.clone(),
                    None => self.agents.push(a.clone()),
                }
                json!({"type": "AGENT_ADDED", "agent_added": {"agent": a.v1()}})
            }
            Change::RemoveAgent(id) => {
                if !self.agents.iter().any(|a| &a.id == id) {
                    return None;
                }
                self.agents.retain(|a| &a.id != id);
                self.tasks.retain(|t| &t.agent_id != id);
                json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": id}}})
            }
            Change::AddFramework(f) | Change::UpdateFramework(f) => {
                let existed = self.frameworks.iter().any(|x| x.id == f.id);
                match self.frameworks.iter_mut().find(|x| x.id == f.id) {
                    Some(x) => *x = f.clone(),
                    None => self.frameworks.push(f.clone()),
                }
                if existed {
                    json!({"type": "FRAMEWORK_UPDATED", "framework_updated": {"framework": f.v1()}})
                } else {
                    json!({"type": "FRAMEWORK_ADDED", "framework_added": {"framework": f.v1()}})
                }
            }
            Change::RemoveFramework(id) => {
                let f = self.frameworks.iter().find(|f| &f.id == id)?.clone();
                self.frameworks.retain(|x| &x.id != id);
                self.tasks.retain(|t| &t.framework_id != id);
                json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info":
                    {"user": "root", "name": f.name, "id": {"value": f.id}}}})
            }
            Change::AddTask(t) => {
                if self.tasks.iter().any(|x| x.id == t.id) {
                    return None;
                }
                self.tasks.push(t.clone());
                json!({"type": "TASK_ADDED", "task_added": {"task": t.v1()}})
            }
            Change::UpdateTask(id, state, ts, ip) => {
                let i = self.tasks.iter().position(|t| &t.id == id)?;
                let t = self.tasks.get_mut(i)?;
                let status = FakeStatus {
                    state: state.clone(),
                    timestamp: *ts,
                    ip: ip.clone(),
                    healthy: None,
                };
                t.state = state.clone();
                t.statuses.push(status.clone());
                let ev = json!({"type": "TASK_UPDATED", "task_updated": {
                    "framework_id": {"value": t.framework_id},
                    "status": status_v1(&t.id, &t.agent_id, &status),
                    "state": state,
                }});
                if TERMINAL.contains(&state.as_str()) {
                    self.tasks.remove(i);
                }
                ev
            }
            Change::UpdateHealth(id, ts, healthy) => {
                let t = self.tasks.iter_mut().find(|t| &t.id == id)?;
                let status = FakeStatus {
                    state: "TASK_RUNNING".to_owned(),
                    timestamp: *ts,
                    ip: t.statuses.last().and_then(|s| s.ip.clone()),
                    healthy: Some(*healthy),
                };
                t.statuses.push(status.clone());
                json!({"type": "TASK_UPDATED", "task_updated": {
                    "framework_id": {"value": t.framework_id},
                    "status": status_v1(&t.id, &t.agent_id, &status),
                    "state": "TASK_RUNNING",
                }})
            }
        })
    }
}
