//! v1 tasks and the `SUBSCRIBED` snapshot read from the text, without a
//! JSON tree: a `SUBSCRIBED` at 100,000 tasks is tens of megabytes, and as
//! a `serde_json::Value` it took over a gigabyte and seconds to build.
//!
//! The usual record is read in one pass down to each task's fields, taken
//! as raw JSON text. One with a part of another shape is read again level
//! by level, as leniently as a tree would be read: a field of another type
//! than expected counts as absent, never fails the record (ids excepted,
//! as before).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{merge_ranges, read_agent, read_framework, EventError, Snapshot, TaskEntry};

/// A field's raw JSON, `null` included (`Option<&RawValue>` would read a
/// `null` as absent).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Raw<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|r| Raw(Some(r)))
    }
}

impl<'a> Raw<'a> {
    fn text(self) -> Option<&'a str> {
        self.0.map(RawValue::get)
    }

    /// The value read as `T`, or `None` (absent or of another type).
    fn read<T: Deserialize<'a>>(self) -> Option<T> {
        serde_json::from_str(self.text()?).ok()
    }

    /// The value as an object read as `T` (a struct also reads from an
    /// array: that is not an object here).
    fn object<T: Deserialize<'a>>(self) -> Option<T> {
        self.text()
            .filter(|t| t.starts_with('{'))
            .and_then(|t| serde_json::from_str(t).ok())
    }

    fn str(self) -> Option<Cow<'a, str>> {
        self.read::<&str>()
            .map(Cow::Borrowed)
            .or_else(|| self.read::<String>().map(Cow::Owned))
    }

    /// The elements of an array (none when it is not one).
    fn list(self) -> Vec<Raw<'a>> {
        self.read::<Vec<&RawValue>>()
            .map(|l| l.into_iter().map(|r| Raw(Some(r))).collect())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Raw<'a>,
    #[serde(borrow, default)]
    subscribed: Raw<'a>,
}

#[derive(Deserialize)]
struct Subscribed<'a> {
    #[serde(borrow, default)]
    heartbeat_interval_seconds: Raw<'a>,
    #[serde(borrow, default)]
    get_state: Raw<'a>,
}

#[derive(Deserialize)]
struct GetState<'a> {
    #[serde(borrow, default)]
    get_agents: Raw<'a>,
    #[serde(borrow, default)]
    get_frameworks: Raw<'a>,
    #[serde(borrow, default)]
    get_tasks: Raw<'a>,
}

#[derive(Deserialize)]
struct Lists<'a> {
    #[serde(borrow, default)]
    agents: Raw<'a>,
    #[serde(borrow, default)]
    frameworks: Raw<'a>,
    #[serde(borrow, default)]
    tasks: Raw<'a>,
    #[serde(borrow, default)]
    labels: Raw<'a>,
    #[serde(borrow, default)]
    range: Raw<'a>,
    #[serde(borrow, default)]
    value: Raw<'a>,
}

/// A v1 `Task`; `S` is its `statuses` (raw, or read in the same pass).
#[derive(Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de> + Default"))]
struct V1Task<'a, S> {
    #[serde(borrow, default)]
    task_id: Raw<'a>,
    #[serde(borrow, default)]
    framework_id: Raw<'a>,
    #[serde(borrow, default)]
    agent_id: Raw<'a>,
    #[serde(borrow, default)]
    name: Raw<'a>,
    #[serde(borrow, default)]
    state: Raw<'a>,
    #[serde(borrow, default)]
    discovery: Raw<'a>,
    #[serde(borrow, default)]
    labels: Raw<'a>,
    #[serde(borrow, default)]
    resources: Raw<'a>,
    #[serde(default)]
    statuses: S,
}

/// The usual `SUBSCRIBED`, read in one pass down to each task's fields
/// (every level of the raw reading scans the whole record again). A part
/// of another shape fails this reading; the raw one then reads it.
#[derive(Deserialize)]
struct FastTop<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Raw<'a>,
    #[serde(borrow, default)]
    subscribed: Option<FastSubscribed<'a>>,
}

#[derive(Deserialize)]
struct FastSubscribed<'a> {
    #[serde(borrow, default)]
    heartbeat_interval_seconds: Raw<'a>,
    #[serde(borrow, default)]
    get_state: Option<FastState<'a>>,
}

#[derive(Deserialize)]
struct FastState<'a> {
    #[serde(borrow, default)]
    get_agents: Raw<'a>,
    #[serde(borrow, default)]
    get_frameworks: Raw<'a>,
    #[serde(borrow, default)]
    get_tasks: Option<FastTasks<'a>>,
}

#[derive(Deserialize)]
struct FastTasks<'a> {
    #[serde(borrow, default)]
    tasks: Vec<V1Task<'a, Vec<V1Status<'a>>>>,
}

#[derive(Deserialize)]
struct V1Status<'a> {
    #[serde(borrow, default)]
    state: Raw<'a>,
    #[serde(borrow, default)]
    timestamp: Raw<'a>,
    #[serde(borrow, default)]
    healthy: Raw<'a>,
    #[serde(borrow, default)]
    container_status: Raw<'a>,
    #[serde(borrow, default)]
    labels: Raw<'a>,
}

#[derive(Deserialize)]
struct V1Resource<'a> {
    #[serde(borrow, default)]
    name: Raw<'a>,
    #[serde(borrow, default)]
    revocable: Raw<'a>,
    #[serde(borrow, default)]
    ranges: Raw<'a>,
    #[serde(borrow, default)]
    begin: Raw<'a>,
    #[serde(borrow, default)]
    end: Raw<'a>,
}

/// `v.key` of an object, or an empty [`Lists`] view.
fn field<'a>(v: Raw<'a>, pick: impl Fn(Lists<'a>) -> Raw<'a>) -> Raw<'a> {
    v.object::<Lists<'_>>().map(pick).unwrap_or_default()
}

/// `raw.value` as a string (an id `{"value": ...}`).
fn id_of(raw: Raw<'_>, key: &str) -> Result<String, EventError> {
    field(raw, |l| l.value)
        .str()
        .map(Cow::into_owned)
        .ok_or_else(|| EventError(format!("no {key}.value")))
}

/// Reads a `SUBSCRIBED` record; `Ok(None)` when the record is something
/// else (or not readable this way: the tree reader then says why).
pub(super) fn subscribed(
    record: &[u8],
) -> Result<Option<(Snapshot, Option<Duration>)>, EventError> {
    if let Ok(top) = serde_json::from_slice::<FastTop<'_>>(record) {
        if top.kind.str().as_deref() != Some("SUBSCRIBED") {
            return Ok(None);
        }
        let fast = top.subscribed.and_then(|b| {
            let state = b.get_state?;
            Some((b.heartbeat_interval_seconds, state))
        });
        if let Some((heartbeat, state)) = fast {
            if let Some(tasks) = state.get_tasks {
                let mut snap = Snapshot::default();
                read_heads(&mut snap, state.get_agents, state.get_frameworks)?;
                snap.tasks.reserve(tasks.tasks.len());
                for t in tasks.tasks {
                    let statuses = t.statuses.iter().map(Some);
                    snap.tasks.push(entry(&t, statuses)?);
                }
                return Ok(Some((snap, heartbeat_of(heartbeat))));
            }
        }
    }
    subscribed_raw(record)
}

/// [`subscribed`] reading every level raw.
fn subscribed_raw(
    record: &[u8],
) -> Result<Option<(Snapshot, Option<Duration>)>, EventError> {
    let Ok(top) = serde_json::from_slice::<Top<'_>>(record) else {
        return Ok(None);
    };
    if top.kind.str().as_deref() != Some("SUBSCRIBED") {
        return Ok(None);
    }
    let Some(b) = top.subscribed.object::<Subscribed<'_>>() else {
        return Err(EventError(
            "SUBSCRIBED without an object \"subscribed\"".to_owned(),
        ));
    };
    let heartbeat = heartbeat_of(b.heartbeat_interval_seconds);
    let state = b.get_state.object::<GetState<'_>>();
    let mut snap = Snapshot::default();
    if let Some(state) = state {
        read_heads(&mut snap, state.get_agents, state.get_frameworks)?;
        let tasks = field(state.get_tasks, |l| l.tasks).list();
        snap.tasks.reserve(tasks.len());
        for t in tasks {
            snap.tasks.push(task(t)?);
        }
    }
    Ok(Some((snap, heartbeat)))
}

/// `heartbeat_interval_seconds`, when a positive number.
fn heartbeat_of(raw: Raw<'_>) -> Option<Duration> {
    raw.read::<f64>()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// `get_agents.agents[]` and `get_frameworks.frameworks[]`.
fn read_heads(
    snap: &mut Snapshot,
    agents: Raw<'_>,
    frameworks: Raw<'_>,
) -> Result<(), EventError> {
    for a in field(agents, |l| l.agents).list() {
        snap.agents.push(read_agent(&tree(a))?);
    }
    for f in field(frameworks, |l| l.frameworks).list() {
        snap.frameworks.push(read_framework(&tree(f))?);
    }
    Ok(())
}

/// A small part as a tree (agents and frameworks are few).
fn tree(raw: Raw<'_>) -> Value {
    raw.read::<Value>().unwrap_or(Value::Null)
}

/// A v1 `Task` (JSON text) to a `/master/state` task.
pub(super) fn task_text(text: &str) -> Result<TaskEntry, EventError> {
    let raw: &RawValue =
        serde_json::from_str(text).map_err(|e| EventError(e.to_string()))?;
    task(Raw(Some(raw)))
}

/// A v1 `Task` to a `/master/state` task: `task_id.value` to `id`,
/// `agent_id.value` to `slave_id`, `name`, `state` and `discovery` as they
/// are, the `ports` ranges merged into Mesos' text, `labels.labels[]`
/// flattened to `labels[]`, and each status as [`status_text`] gives it.
fn task(raw: Raw<'_>) -> Result<TaskEntry, EventError> {
    let t: Option<V1Task<'_, Raw<'_>>> = raw.object();
    let Some(t) = t else {
        return Err(EventError("no task_id.value".to_owned()));
    };
    let statuses: Vec<Option<V1Status<'_>>> =
        t.statuses.list().into_iter().map(Raw::object).collect();
    entry(&t, statuses.iter().map(Option::as_ref))
}

/// A v1 task's parts written as a `/master/state` task.
fn entry<'s, 'a: 's, S>(
    t: &V1Task<'a, S>,
    statuses: impl Iterator<Item = Option<&'s V1Status<'a>>>,
) -> Result<TaskEntry, EventError> {
    let id = id_of(t.task_id, "task_id")?;
    let framework_id = id_of(t.framework_id, "framework_id")?;
    let agent_id = id_of(t.agent_id, "agent_id")?;
    let mut out = String::with_capacity(512);
    out.push_str("{\"id\":");
    push_str_json(&mut out, &id);
    out.push_str(",\"framework_id\":");
    push_str_json(&mut out, &framework_id);
    out.push_str(",\"slave_id\":");
    push_str_json(&mut out, &agent_id);
    for (key, v) in [
        ("name", t.name),
        ("state", t.state),
        ("discovery", t.discovery),
    ] {
        if let Some(text) = v.text() {
            let _ = write!(out, ",\"{key}\":{text}");
        }
    }
    if t.labels.text().is_some() {
        let flat = field(t.labels, |l| l.labels).text().unwrap_or("null");
        let _ = write!(out, ",\"labels\":{flat}");
    }
    out.push_str(",\"resources\":{");
    if let Some(ports) = ports_text(t.resources) {
        out.push_str("\"ports\":");
        push_str_json(&mut out, &ports);
    }
    out.push_str("},\"statuses\":[");
    let mut running_ts = -1.0_f64;
    for (i, s) in statuses.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(ts) = status_into(&mut out, s) {
            running_ts = running_ts.max(ts);
        }
    }
    out.push_str("]}");
    Ok(TaskEntry {
        framework_id,
        id,
        agent_id,
        text: out,
        running_ts,
    })
}

/// A v1 `TaskStatus` (JSON text) in `/master/state` form, and its
/// timestamp when it is a `TASK_RUNNING` status.
pub(super) fn status_text(text: &str) -> (String, Option<f64>) {
    let mut out = String::new();
    let raw: Option<&RawValue> = serde_json::from_str(text).ok();
    let status = Raw(raw).object::<V1Status<'_>>();
    let running = status_into(&mut out, status.as_ref());
    (out, running)
}

/// A v1 `TaskStatus` to a `/master/state` status: `labels.labels[]`
/// flattened; `state`, `timestamp`, `healthy` and `container_status` as
/// they are. Returns the status's timestamp (0 when absent, as the state
/// reader takes it) when it is a `TASK_RUNNING` status.
fn status_into(out: &mut String, status: Option<&V1Status<'_>>) -> Option<f64> {
    out.push('{');
    let mut running = None;
    if let Some(s) = status {
        if s.state.str().as_deref() == Some("TASK_RUNNING") {
            running = Some(s.timestamp.read::<f64>().unwrap_or(0.0));
        }
        let mut first = true;
        let mut put = |out: &mut String, key: &str, text: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "\"{key}\":{text}");
        };
        for (key, v) in [
            ("state", s.state),
            ("timestamp", s.timestamp),
            ("healthy", s.healthy),
            ("container_status", s.container_status),
        ] {
            if let Some(text) = v.text() {
                put(out, key, text);
            }
        }
        if s.labels.text().is_some() {
            let flat = field(s.labels, |l| l.labels).text().unwrap_or("null");
            put(out, "labels", flat);
        }
    }
    out.push('}');
    running
}

/// Mesos' text for the non-revocable `ports` ranges of a task's
/// `resources` (see [`super::ports_text`]).
fn ports_text(resources: Raw<'_>) -> Option<String> {
    let mut ranges = Vec::new();
    let mut any = false;
    for r in resources.list() {
        let Some(r) = r.object::<V1Resource<'_>>() else {
            continue;
        };
        if r.name.str().as_deref() != Some("ports") || r.revocable.text().is_some() {
            continue;
        }
        any = true;
        for range in field(r.ranges, |l| l.range).list() {
            let Some(range) = range.object::<V1Resource<'_>>() else {
                continue;
            };
            if let (Some(b), Some(e)) =
                (range.begin.read::<u64>(), range.end.read::<u64>())
            {
                if b <= e {
                    ranges.push((b, e));
                }
            }
        }
    }
    any.then(|| merge_ranges(ranges))
}

/// `s` as a JSON string.
fn push_str_json(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&Value::from(s).to_string());
    }
}

#[derive(Deserialize)]
struct StateFrameworks<'a> {
    #[serde(borrow, default)]
    frameworks: Raw<'a>,
}

#[derive(Deserialize)]
struct FrameworkPid<'a> {
    #[serde(borrow, default)]
    id: Raw<'a>,
    #[serde(borrow, default)]
    pid: Raw<'a>,
}

/// `frameworks[]` `id` to `pid` of a `/master/state` body, for the ones
/// with a string id and a `pid`.
pub(super) fn framework_pids(body: &[u8]) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    let Ok(state) = serde_json::from_slice::<StateFrameworks<'_>>(body) else {
        return out;
    };
    for f in state.frameworks.list() {
        let Some(f) = f.object::<FrameworkPid<'_>>() else {
            continue;
        };
        if let (Some(id), Some(_)) = (f.id.str(), f.pid.text()) {
            out.insert(id.into_owned(), tree(f.pid));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // Both readings of a SUBSCRIBED give the same snapshot, odd parts
    // included (a status that is not an object makes the one-pass reading
    // fail: the raw one reads it).
    #[test]
    fn one_pass_and_raw_readings_agree() {
        let task = |id: &str, statuses: Value| {
            json!({"name": "web", "task_id": {"value": id}, "framework_id": {"value": "F\"1"},
                "agent_id": {"value": "S1"}, "state": "TASK_RUNNING", "labels": {"labels": [{"key": "DNS_X", "value": "1"}]},
                "discovery": {"name": "d", "ports": {"ports": [{"number": 80}]}},
                "resources": [{"name": "ports", "ranges": {"range": [{"begin": 3, "end": 4}, {"begin": 1, "end": 2}]}},
                              {"name": "ports", "revocable": null, "ranges": {"range": [{"begin": 9, "end": 9}]}}],
                "statuses": statuses})
        };
        let status = json!({"state": "TASK_RUNNING", "timestamp": 2, "healthy": true,
            "labels": {"labels": []}, "container_status": {"network_infos": []}});
        for statuses in [
            json!([status, {"state": "TASK_RUNNING"}]),
            json!([status, 7]),
        ] {
            let body = json!({"type": "SUBSCRIBED", "subscribed": {"heartbeat_interval_seconds": 5,
                "get_state": {"get_tasks": {"tasks": [task("T1", statuses.clone()), task("T2", json!([]))]}}}});
            let body = serde_json::to_vec(&body).unwrap();
            let fast = subscribed(&body).unwrap().unwrap();
            let raw = subscribed_raw(&body).unwrap().unwrap();
            assert_eq!(fast, raw);
            let t1 = &fast.0.tasks[0];
            assert_eq!(t1.framework_id, "F\"1");
            assert_eq!(t1.running_ts, 2.0);
            assert!(t1.text.contains(r#""ports":"[1-4]""#), "{}", t1.text);
        }
    }
}
