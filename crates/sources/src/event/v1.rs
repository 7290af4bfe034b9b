//! v1 tasks and the `SUBSCRIBED` snapshot read from the text, without a
//! JSON tree: a `SUBSCRIBED` at 100,000 tasks is tens of megabytes, and as
//! a `serde_json::Value` it took over a gigabyte and seconds to build.
//!
//! Fields are taken as raw JSON text and read one by one, as leniently as
//! a tree would be read: a field of another type than expected counts as
//! absent, never fails the record (ids excepted, as before).

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

#[derive(Deserialize)]
struct V1Task<'a> {
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
    #[serde(borrow, default)]
    statuses: Raw<'a>,
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
    let heartbeat = b
        .heartbeat_interval_seconds
        .read::<f64>()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
    let state = b.get_state.object::<GetState<'_>>();
    let mut snap = Snapshot::default();
    if let Some(state) = state {
        for a in field(state.get_agents, |l| l.agents).list() {
            snap.agents.push(read_agent(&tree(a))?);
        }
        for f in field(state.get_frameworks, |l| l.frameworks).list() {
            snap.frameworks.push(read_framework(&tree(f))?);
        }
        let tasks = field(state.get_tasks, |l| l.tasks).list();
        snap.tasks.reserve(tasks.len());
        for t in tasks {
            snap.tasks.push(task(t)?);
        }
    }
    Ok(Some((snap, heartbeat)))
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
    let t: Option<V1Task<'_>> = raw.object();
    let Some(t) = t else {
        return Err(EventError("no task_id.value".to_owned()));
    };
    let id = id_of(t.task_id, "task_id")?;
    let framework_id = id_of(t.framework_id, "framework_id")?;
    let agent_id = id_of(t.agent_id, "agent_id")?;
    let mut out = String::with_capacity(raw.text().map_or(0, str::len) / 2);
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
    for (i, s) in t.statuses.list().into_iter().enumerate() {
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
    let running = status_into(&mut out, Raw(raw));
    (out, running)
}

/// A v1 `TaskStatus` to a `/master/state` status: `labels.labels[]`
/// flattened; `state`, `timestamp`, `healthy` and `container_status` as
/// they are. Returns the status's timestamp (0 when absent, as the state
/// reader takes it) when it is a `TASK_RUNNING` status.
fn status_into(out: &mut String, raw: Raw<'_>) -> Option<f64> {
    out.push('{');
    let mut running = None;
    if let Some(s) = raw.object::<V1Status<'_>>() {
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

fn push_str_json(out: &mut String, s: &str) {
    out.push_str(&Value::from(s).to_string());
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
