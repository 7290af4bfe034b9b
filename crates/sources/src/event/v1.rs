//! v1 tasks and the `SUBSCRIBED` snapshot read from the text, without a
//! JSON tree: a `SUBSCRIBED` at 100,000 tasks is tens of megabytes, and as
//! a `serde_json::Value` it took over a gigabyte and seconds to build.
//!
//! The usual record is read in one pass by [`super::snapshot`], each task
//! written in `/master/state` form as it is read. This module is the
//! lenient reading that defines the result: level by level, as leniently
//! as a tree would be read (a field of another type than expected counts
//! as absent, never fails the record, ids excepted). It reads what the
//! one-pass reading hands it (a task of an odd shape, or the whole record),
//! and `TASK_ADDED` and `TASK_UPDATED`. Both write the `/master/state` form
//! with the same writer ([`write_task`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use mesos_records::state::StatusFields;

use super::{read_agent, read_framework, EventError, Snapshot, TaskEntry};

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
    /// `text` as a raw value, when it is one.
    pub(super) fn parse(text: &'a str) -> Option<Self> {
        serde_json::from_str(text).ok().map(|r| Raw(Some(r)))
    }

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

/// A v1 `Task`.
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

/// A `SUBSCRIBED` read: the state and the heartbeat interval, `None` when
/// the record is something else.
pub(super) type SubscribedRead = Result<Option<(Snapshot, Option<Duration>)>, EventError>;

/// A `SUBSCRIBED` record read by the lenient reading alone, every level
/// raw (what [`super::snapshot::subscribed`] falls back to); `Ok(None)`
/// when the record is something else (or not readable this way: the tree
/// reader then says why).
pub(super) fn subscribed_raw(record: &[u8]) -> SubscribedRead {
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
        for t in field(state.get_tasks, |l| l.tasks).list() {
            snap.tasks.push(task(t)?);
        }
    }
    Ok(Some((snap, heartbeat)))
}

/// `heartbeat_interval_seconds`, when a positive number.
pub(super) fn heartbeat_of(raw: Raw<'_>) -> Option<Duration> {
    raw.read::<f64>()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// `get_agents.agents[]` and `get_frameworks.frameworks[]`.
pub(super) fn read_heads(
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

/// A v1 `Task` to a `/master/state` task ([`write_task`]).
pub(super) fn task(raw: Raw<'_>) -> Result<TaskEntry, EventError> {
    let t: Option<V1Task<'_>> = raw.object();
    let Some(t) = t else {
        return Err(EventError("no task_id.value".to_owned()));
    };
    let parts = TaskParts {
        id: id_of(t.task_id, "task_id")?,
        framework_id: Cow::Owned(id_of(t.framework_id, "framework_id")?),
        agent_id: id_of(t.agent_id, "agent_id")?,
        name: t.name.text(),
        state: t.state.text(),
        discovery: t.discovery.text(),
        labels: t.labels.text().map(|_| flat_labels(t.labels)),
    };
    let mut ranges = Vec::new();
    let ports = ports(t.resources, &mut ranges).then_some(&mut ranges);
    let statuses: Vec<Option<StatusParts<'_>>> = t
        .statuses
        .list()
        .into_iter()
        .map(|s| s.object::<V1Status<'_>>().map(status_parts))
        .collect();
    let mut text = String::with_capacity(512);
    let running_ts = write_task(&mut text, &parts, ports, statuses.into_iter());
    Ok(TaskEntry {
        framework_id: parts.framework_id.into_owned(),
        id: parts.id,
        agent_id: parts.agent_id,
        text,
        running_ts,
    })
}

/// `labels.labels` (present) as it is, `null` when it cannot be read.
fn flat_labels(labels: Raw<'_>) -> &str {
    field(labels, |l| l.labels).text().unwrap_or("null")
}

/// A status's parts.
fn status_parts<'a>(s: V1Status<'a>) -> StatusParts<'a> {
    StatusParts {
        state: s.state.text(),
        timestamp: s.timestamp.text(),
        healthy: s.healthy.text(),
        container_status: s.container_status.text(),
        labels: s.labels.text().map(|_| flat_labels(s.labels)),
    }
}

/// What a v1 `Task` gives its `/master/state` form: its ids, and its other
/// fields as raw JSON text (`None` when absent).
#[derive(Debug)]
pub(super) struct TaskParts<'a> {
    /// `task_id.value`.
    pub(super) id: String,
    /// `framework_id.value`.
    pub(super) framework_id: Cow<'a, str>,
    /// `agent_id.value`.
    pub(super) agent_id: String,
    pub(super) name: Option<&'a str>,
    pub(super) state: Option<&'a str>,
    pub(super) discovery: Option<&'a str>,
    /// When `labels` is present: `labels.labels`, or `null` when that
    /// cannot be read.
    pub(super) labels: Option<&'a str>,
}

/// What a v1 `TaskStatus` gives its `/master/state` form, as raw JSON text
/// (`None` when absent; `labels` being `labels.labels`, or `null` when that
/// cannot be read).
pub(super) type StatusParts<'a> = StatusFields<'a>;

/// Writes a v1 task's parts as a `/master/state` task: `task_id.value` to
/// `id`, `agent_id.value` to `slave_id`, `name`, `state` and `discovery`
/// as they are, the `ports` ranges (when the task has a `ports` resource)
/// merged into Mesos' text, `labels.labels[]` flattened to `labels[]`, and
/// each status (`None`: not an object) as [`write_status`] writes it.
/// Returns the latest timestamp of its `TASK_RUNNING` statuses (-1 when
/// none is later).
pub(super) fn write_task<'s>(
    out: &mut String,
    t: &TaskParts<'_>,
    ports: Option<&mut Vec<(u64, u64)>>,
    statuses: impl Iterator<Item = Option<StatusParts<'s>>>,
) -> f64 {
    out.push_str("{\"id\":");
    push_str_json(out, &t.id);
    out.push_str(",\"framework_id\":");
    push_str_json(out, &t.framework_id);
    out.push_str(",\"slave_id\":");
    push_str_json(out, &t.agent_id);
    for (key, v) in [
        (",\"name\":", t.name),
        (",\"state\":", t.state),
        (",\"discovery\":", t.discovery),
        (",\"labels\":", t.labels),
    ] {
        if let Some(text) = v {
            out.push_str(key);
            out.push_str(text);
        }
    }
    out.push_str(",\"resources\":{");
    if let Some(ranges) = ports {
        out.push_str("\"ports\":\"");
        merge_ranges(ranges, out);
        out.push('"');
    }
    out.push_str("},\"statuses\":[");
    let mut running_ts = -1.0_f64;
    for (i, s) in statuses.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(ts) = write_status(out, s.as_ref()) {
            running_ts = running_ts.max(ts);
        }
    }
    out.push_str("]}");
    running_ts
}

/// A v1 `TaskStatus` (JSON text) in `/master/state` form, and its
/// timestamp when it is a `TASK_RUNNING` status.
pub(super) fn status_text(text: &str) -> (String, Option<f64>) {
    let mut out = String::new();
    let raw: Option<&RawValue> = serde_json::from_str(text).ok();
    let status = Raw(raw).object::<V1Status<'_>>().map(status_parts);
    let running = write_status(&mut out, status.as_ref());
    (out, running)
}

/// Writes a v1 `TaskStatus` as a `/master/state` status: `labels.labels[]`
/// flattened; `state`, `timestamp`, `healthy` and `container_status` as
/// they are. Returns the status's timestamp (0 when absent, as the state
/// reader takes it) when it is a `TASK_RUNNING` status.
fn write_status(out: &mut String, status: Option<&StatusParts<'_>>) -> Option<f64> {
    out.push('{');
    let running = status.and_then(running);
    if let Some(s) = status {
        let mut first = true;
        for (key, v) in [
            ("\"state\":", s.state),
            ("\"timestamp\":", s.timestamp),
            ("\"healthy\":", s.healthy),
            ("\"container_status\":", s.container_status),
            ("\"labels\":", s.labels),
        ] {
            if let Some(text) = v {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(key);
                out.push_str(text);
            }
        }
    }
    out.push('}');
    running
}

/// A status's timestamp (0 when absent, as the state reader takes it)
/// when it is a `TASK_RUNNING` status.
fn running(s: &StatusParts<'_>) -> Option<f64> {
    if !s.state.is_some_and(|t| is_string(t, "TASK_RUNNING")) {
        return None;
    }
    let ts = s
        .timestamp
        .and_then(|t| serde_json::from_str::<f64>(t).ok());
    Some(ts.unwrap_or(0.0))
}

/// The latest timestamp of the `TASK_RUNNING` statuses (-1 when none is
/// later), as [`write_task`] gives it.
pub(super) fn running_ts(statuses: &[Option<StatusParts<'_>>]) -> f64 {
    let latest = statuses.iter().flatten().filter_map(running);
    latest.fold(-1.0_f64, f64::max)
}

/// True when the JSON value `text` is the string `want`.
pub(super) fn is_string(text: &str, want: &str) -> bool {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => inner == want,
        Some(_) => serde_json::from_str::<String>(text).is_ok_and(|s| s == want),
        None => false,
    }
}

/// The non-revocable `ports` ranges of a task's `resources` added to
/// `ranges`; false when the task has no such resource.
fn ports(resources: Raw<'_>, ranges: &mut Vec<(u64, u64)>) -> bool {
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
    any
}

/// Mesos' text for port ranges: sorted, overlapping and adjacent ones
/// joined, printed as `[a-b, c-d]`.
pub(super) fn merge_ranges(ranges: &mut [(u64, u64)], out: &mut String) {
    ranges.sort_unstable();
    let mut merged: Option<(u64, u64)> = None;
    let mut first = true;
    let mut put = |out: &mut String, (b, e): (u64, u64)| {
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{b}-{e}");
    };
    out.push('[');
    for &(b, e) in ranges.iter() {
        match &mut merged {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => {
                if let Some(done) = merged.replace((b, e)) {
                    put(out, done);
                }
            }
        }
    }
    if let Some(done) = merged {
        put(out, done);
    }
    out.push(']');
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

    fn ports_text(resources: &Value) -> Option<String> {
        let text = resources.to_string();
        let raw: &RawValue = serde_json::from_str(&text).unwrap();
        let mut ranges = Vec::new();
        ports(Raw(Some(raw)), &mut ranges).then(|| {
            let mut out = String::new();
            merge_ranges(&mut ranges, &mut out);
            out
        })
    }

    #[test]
    fn ports_merge_like_mesos() {
        let r = |ranges: Value| json!({"name": "ports", "type": "RANGES", "ranges": {"range": ranges}});
        assert_eq!(ports_text(&json!([])), None);
        assert_eq!(ports_text(&json!([r(json!([]))])).as_deref(), Some("[]"));
        assert_eq!(
            ports_text(&json!([
                r(json!([{"begin": 10, "end": 12}, {"begin": 1, "end": 2}])),
                r(json!([{"begin": 3, "end": 4}, {"begin": 11, "end": 20}])),
                r(json!([{"begin": 30, "end": 30}, {"begin": 9, "end": 5}]))
            ]))
            .as_deref(),
            Some("[1-4, 10-20, 30-30]")
        );
        let revocable = json!({"name": "ports", "revocable": null, "ranges": {"range": [{"begin": 1, "end": 1}]}});
        assert_eq!(ports_text(&json!([revocable])), None);
    }

    #[test]
    fn strings_compare_unescaped() {
        assert!(is_string(r#""TASK_RUNNING""#, "TASK_RUNNING"));
        assert!(is_string(r#""TASK_\u0052UNNING""#, "TASK_RUNNING"));
        assert!(!is_string(r#""TASK_RUNNING ""#, "TASK_RUNNING"));
        assert!(!is_string("null", "TASK_RUNNING"));
        assert!(!is_string("7", "TASK_RUNNING"));
    }
}
