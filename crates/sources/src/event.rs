//! Mesos v1 operator API events (`master.proto` `Event`) and the in-memory
//! cluster they keep up to date.
//!
//! The v1 JSON differs from `/master/state`: ids are `{"value": ...}`,
//! resources are typed objects with `ranges.range[]`, status labels are
//! nested (`labels.labels[]`), agents carry `agent_info`, frameworks
//! `framework_info`, and tasks come as one flat list with a
//! `framework_id`. Every object is translated to the `/master/state` shape
//! and read by the same reader as a polled state
//! ([`State::parse`](mesos_records::State::parse)): [`Cluster`] keeps agents
//! and frameworks in that shape and tasks as the reader read them, and
//! [`Cluster::state`] assembles the [`State`](mesos_records::State) a
//! polled body would give, so records generated from events come out
//! identical to polled ones.
//!
//! Translation (v1 to `/master/state`):
//! - agent: `agent_info.id.value` to `id`, `pid` (when absent,
//!   `slave(1)@<agent_info.hostname>:<agent_info.port or 5051>`),
//!   `agent_info.hostname` to `hostname`;
//! - framework: `framework_info.id.value`, `.name`, `.hostname` (`""` when
//!   absent, as Mesos renders it). The v1 API does not carry a framework's
//!   libprocess `pid`; [`Cluster::learn_pids`] takes it from a
//!   `/master/state` body (the reconcile) so framework records match;
//! - task: `task_id.value` to `id`, `agent_id.value` to `slave_id`, `name`,
//!   `state`, `discovery` as is, non-revocable `ports` resources merged into
//!   Mesos' range text (`[31000-31001, 31005-31005]`), the task's
//!   `labels.labels[]` flattened to `labels[]`, and each status with
//!   `labels.labels[]` flattened to `labels[]` (`healthy` kept).
//!
//! Tasks leave on a terminal `TASK_UPDATED`, with their framework
//! (`FRAMEWORK_REMOVED`) or their agent (`AGENT_REMOVED`); a non-running
//! task makes no records either way.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Map, Value};

mod cluster;
mod snapshot;
mod task_list;
mod tasks;
mod v1;
pub use cluster::{Changes, Cluster};
pub use task_list::TaskList;

/// Mesos' default agent port, used when an agent has no `pid`.
const DEFAULT_AGENT_PORT: u16 = 5051;

/// Why an event record was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError(pub String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad operator API event: {}", self.0)
    }
}

impl std::error::Error for EventError {}

/// A task already in `/master/state` form, as JSON text (the cluster
/// reads it into a typed task at once). A `SUBSCRIBED`'s tasks are written
/// into one [`TaskList`] instead.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEntry {
    /// `framework_id.value`.
    pub framework_id: String,
    /// `task_id.value`.
    pub id: String,
    /// `agent_id.value`.
    pub agent_id: String,
    /// The `/master/state` task object.
    text: String,
    /// The latest timestamp of its `TASK_RUNNING` statuses (-1 when none
    /// is later than -1): the status the state reader takes IPs from.
    running_ts: f64,
}

/// An agent already in `/master/state` form.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentEntry {
    /// `agent_info.id.value`.
    pub id: String,
    /// The `/master/state` slave object.
    pub json: Value,
}

/// A framework already in `/master/state` form (without its tasks).
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkEntry {
    /// `framework_info.id.value`.
    pub id: String,
    /// The `/master/state` framework object, without `tasks` and `pid`.
    pub json: Map<String, Value>,
}

/// The full state a `SUBSCRIBED` event carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// `get_agents.agents[]`.
    pub agents: Vec<AgentEntry>,
    /// `get_frameworks.frameworks[]`.
    pub frameworks: Vec<FrameworkEntry>,
    /// `get_tasks.tasks[]`.
    pub tasks: TaskList,
}

/// One decoded event.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `SUBSCRIBED`: the whole state and the heartbeat interval.
    Subscribed {
        /// The state.
        snapshot: Snapshot,
        /// `heartbeat_interval_seconds`, when given and positive.
        heartbeat: Option<Duration>,
    },
    /// `TASK_ADDED`.
    TaskAdded(TaskEntry),
    /// `TASK_UPDATED`: the new state and the status that caused it.
    TaskUpdated {
        /// `framework_id.value`.
        framework_id: String,
        /// `status.task_id.value`.
        task_id: String,
        /// `state`.
        state: Value,
        /// `status` in `/master/state` form, as JSON text.
        status: String,
        /// `status`'s timestamp, when it is a `TASK_RUNNING` status.
        running: Option<f64>,
    },
    /// `AGENT_ADDED`.
    AgentAdded(AgentEntry),
    /// `AGENT_REMOVED`.
    AgentRemoved(String),
    /// `FRAMEWORK_ADDED` or `FRAMEWORK_UPDATED`.
    FrameworkUpserted(FrameworkEntry),
    /// `FRAMEWORK_REMOVED`.
    FrameworkRemoved(String),
    /// `HEARTBEAT`.
    Heartbeat,
    /// A type this version does not use (newer Mesos sends more, e.g.
    /// `OPERATION_UPDATED`); ignored.
    Other(String),
}

impl Event {
    /// Decodes one RecordIO record.
    ///
    /// # Errors
    /// Not JSON, no `type`, or a known type whose payload lacks an id.
    pub fn parse(record: &[u8]) -> Result<Event, EventError> {
        Event::parse_with(record, snapshot::subscribed)
    }

    /// [`Event::parse`] with a `SUBSCRIBED` read by the lenient reading
    /// alone, never in one pass: the fuzz target checks that both agree.
    ///
    /// # Errors
    /// As [`Event::parse`].
    #[doc(hidden)]
    pub fn parse_lenient(record: &[u8]) -> Result<Event, EventError> {
        Event::parse_with(record, v1::subscribed_raw)
    }

    fn parse_with(
        record: &[u8],
        subscribed: fn(&[u8]) -> v1::SubscribedRead,
    ) -> Result<Event, EventError> {
        if let Some((snapshot, heartbeat)) = subscribed(record)? {
            return Ok(Event::Subscribed {
                snapshot,
                heartbeat,
            });
        }
        let v: Value =
            serde_json::from_slice(record).map_err(|e| EventError(e.to_string()))?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| EventError("no \"type\"".to_owned()))?;
        let body = |key: &str| {
            v.get(key)
                .filter(|b| b.is_object())
                .ok_or_else(|| EventError(format!("{kind} without an object {key:?}")))
        };
        Ok(match kind {
            "SUBSCRIBED" => {
                let b = body("subscribed")?;
                let heartbeat = b
                    .get("heartbeat_interval_seconds")
                    .and_then(Value::as_f64)
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
                let snapshot = read_snapshot(b.get("get_state").unwrap_or(&Value::Null))?;
                Event::Subscribed {
                    snapshot,
                    heartbeat,
                }
            }
            "TASK_ADDED" => Event::TaskAdded(v1::task_text(
                &body("task_added")?
                    .get("task")
                    .unwrap_or(&Value::Null)
                    .to_string(),
            )?),
            "TASK_UPDATED" => {
                let b = body("task_updated")?;
                let framework_id = id_of(b, "framework_id")?;
                let status =
                    b.get("status").filter(|s| s.is_object()).ok_or_else(|| {
                        EventError("TASK_UPDATED without a status".to_owned())
                    })?;
                let task_id = id_of(status, "task_id")?;
                let state = b
                    .get("state")
                    .or_else(|| status.get("state"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let (status, running) = v1::status_text(&status.to_string());
                Event::TaskUpdated {
                    framework_id,
                    task_id,
                    state,
                    status,
                    running,
                }
            }
            "AGENT_ADDED" => Event::AgentAdded(read_agent(
                body("agent_added")?.get("agent").unwrap_or(&Value::Null),
            )?),
            "AGENT_REMOVED" => {
                Event::AgentRemoved(id_of(body("agent_removed")?, "agent_id")?)
            }
            "FRAMEWORK_ADDED" | "FRAMEWORK_UPDATED" => {
                let key = if kind == "FRAMEWORK_ADDED" {
                    "framework_added"
                } else {
                    "framework_updated"
                };
                Event::FrameworkUpserted(read_framework(
                    body(key)?.get("framework").unwrap_or(&Value::Null),
                )?)
            }
            "FRAMEWORK_REMOVED" => {
                let info = body("framework_removed")?
                    .get("framework_info")
                    .unwrap_or(&Value::Null);
                Event::FrameworkRemoved(id_of(info, "id")?)
            }
            "HEARTBEAT" => Event::Heartbeat,
            other => Event::Other(other.to_owned()),
        })
    }
}

/// `v[key].value` as a string.
fn id_of(v: &Value, key: &str) -> Result<String, EventError> {
    v.get(key)
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| EventError(format!("no {key}.value")))
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut cur = v;
    for key in path {
        match cur.get(key) {
            Some(next) => cur = next,
            None => return &[],
        }
    }
    cur.as_array().map_or(&[], Vec::as_slice)
}

fn read_snapshot(state: &Value) -> Result<Snapshot, EventError> {
    let mut snap = Snapshot::default();
    for a in list(state, &["get_agents", "agents"]) {
        snap.agents.push(read_agent(a)?);
    }
    for f in list(state, &["get_frameworks", "frameworks"]) {
        snap.frameworks.push(read_framework(f)?);
    }
    for t in list(state, &["get_tasks", "tasks"]) {
        snap.tasks.push(v1::task_text(&t.to_string())?);
    }
    Ok(snap)
}

/// `GetAgents.Agent` to a `/master/state` slave.
fn read_agent(agent: &Value) -> Result<AgentEntry, EventError> {
    let info = agent.get("agent_info").unwrap_or(&Value::Null);
    let id = id_of(info, "id")?;
    let hostname = info.get("hostname").cloned().unwrap_or(json!(""));
    let pid = match agent.get("pid") {
        Some(pid) => pid.clone(),
        None => {
            let port = info
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(DEFAULT_AGENT_PORT);
            let host = hostname.as_str().unwrap_or_default();
            json!(format!(
                "slave(1)@{}",
                mesos_records::hostport::join_host_port(host, port)
            ))
        }
    };
    Ok(AgentEntry {
        json: json!({ "id": id, "pid": pid, "hostname": hostname }),
        id,
    })
}

/// `GetFrameworks.Framework` to a `/master/state` framework head.
fn read_framework(fw: &Value) -> Result<FrameworkEntry, EventError> {
    let info = fw.get("framework_info").unwrap_or(&Value::Null);
    let id = id_of(info, "id")?;
    let mut json = Map::new();
    json.insert("id".to_owned(), json!(id));
    for key in ["name", "hostname"] {
        json.insert(key.to_owned(), info.get(key).cloned().unwrap_or(json!("")));
    }
    Ok(FrameworkEntry { id, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_events_are_errors_not_panics() {
        for bad in [
            &b"not json"[..],
            b"[]",
            br#"{"type": 7}"#,
            br#"{"type": "TASK_ADDED"}"#,
            br#"{"type": "TASK_ADDED", "task_added": {"task": {"task_id": "T1"}}}"#,
            br#"{"type": "TASK_UPDATED", "task_updated": {"framework_id": {"value": "F"}}}"#,
            br#"{"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {}}}"#,
            br#"{"type": "SUBSCRIBED", "subscribed": {"get_state": {"get_agents": {"agents": [{}]}}}}"#,
        ] {
            assert!(Event::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
