//! The usual `SUBSCRIBED` read in one pass, with the state reader's own
//! cursor ([`Scan`]): each task is read down to its fields as raw JSON
//! text and written at once in `/master/state` form into the snapshot's
//! [`TaskList`], with no value, tree or text per task in between.
//!
//! It reads what the lenient reading ([`super::v1`]) reads, the same way:
//! keys matched exactly, values taken as raw text and read by the same
//! functions. It only reads well-shaped parts: a task with a duplicate
//! key, or a part of another type than the usual one, is read by the
//! lenient reading from its own text; a record whose levels above the
//! tasks are odd, or with a task that reading fails, is read whole by it
//! (so what it gives, error included, is the lenient reading's).

use std::borrow::Cow;
use std::time::Duration;

use mesos_records::state::scan::{Bail, Fast, Scan};
use mesos_records::state::{task_from_fields, TaskFields, TaskTexts};

use super::task_list::TaskList;
use super::v1::{self, is_string, Raw, StatusParts, TaskParts};
use super::Snapshot;

/// What the one-pass reading made of a record.
pub(super) enum Read {
    /// A `SUBSCRIBED`: the state and the heartbeat interval.
    Subscribed(Snapshot, Option<Duration>),
    /// Another event.
    Other,
    /// The lenient reading must read it.
    Lenient,
}

/// Reads a `SUBSCRIBED` record in one pass, or with the lenient reading
/// when [`read`] hands it over; `Ok(None)` when the record is something
/// else (or not readable either way: the tree reader then says why).
pub(super) fn subscribed(record: &[u8]) -> v1::SubscribedRead {
    match read(record) {
        Read::Subscribed(snapshot, heartbeat) => Ok(Some((snapshot, heartbeat))),
        Read::Other => Ok(None),
        Read::Lenient => v1::subscribed_raw(record),
    }
}

/// The keys of the lenient reading's `Lists` view: a duplicate of any of
/// them makes it read nothing from the object.
const LISTS: [&str; 6] = ["agents", "frameworks", "tasks", "labels", "range", "value"];

/// Keys seen in one object: a duplicate key is a serde error in the
/// lenient reading, so the one-pass reading hands it over.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, bit: usize) -> Fast<()> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return Err(Bail);
        }
        self.0 |= mask;
        Ok(())
    }
}

/// The next value's raw text.
fn span<'a>(s: &mut Scan<'a>) -> Fast<&'a str> {
    let start = s.start();
    s.skip()?;
    s.since(start)
}

/// An object as the lenient reading's `Lists` view reads it: `each` at the
/// value of `want`, every other key skipped.
fn lists<'a>(
    s: &mut Scan<'a>,
    want: &str,
    mut each: impl FnMut(&mut Scan<'a>) -> Fast<()>,
) -> Fast<()> {
    let mut seen = Seen::default();
    object(s, |s, key| {
        if let Some(bit) = LISTS.iter().position(|k| *k == key) {
            seen.first(bit)?;
        }
        if key == want {
            each(s)
        } else {
            s.skip()
        }
    })
}

/// Reads a record (see the [module docs](self)).
pub(super) fn read(record: &[u8]) -> Read {
    let Ok(text) = std::str::from_utf8(record) else {
        return Read::Lenient;
    };
    let mut s = Scan::new(text);
    let mut top = Top {
        capacity: record.len() / 2,
        ..Top::default()
    };
    if top.read(&mut s).is_err() || !s.at_end() {
        return Read::Lenient;
    }
    if !top.kind.is_some_and(|k| is_string(k, "SUBSCRIBED")) {
        return Read::Other;
    }
    let Some(state) = top.state else {
        return Read::Lenient;
    };
    let (Some(agents), Some(frameworks), Some(heartbeat)) = (
        raw(state.agents),
        raw(state.frameworks),
        raw(state.heartbeat),
    ) else {
        return Read::Lenient;
    };
    let mut snapshot = Snapshot {
        tasks: state.tasks,
        ..Snapshot::default()
    };
    if v1::read_heads(&mut snapshot, agents, frameworks).is_err() {
        return Read::Lenient;
    }
    Read::Subscribed(snapshot, v1::heartbeat_of(heartbeat))
}

/// A part's raw text as the lenient reading holds it (absent: the default).
fn raw(text: Option<&str>) -> Option<Raw<'_>> {
    match text {
        Some(t) => Raw::parse(t),
        None => Some(Raw::default()),
    }
}

/// The record's top level.
#[derive(Default)]
struct Top<'a> {
    /// `type`.
    kind: Option<&'a str>,
    /// `subscribed`, when read.
    state: Option<State<'a>>,
    /// Room for the tasks' text.
    capacity: usize,
}

/// `subscribed` down to the tasks.
#[derive(Default)]
struct State<'a> {
    /// `heartbeat_interval_seconds`.
    heartbeat: Option<&'a str>,
    /// `get_state.get_agents`.
    agents: Option<&'a str>,
    /// `get_state.get_frameworks`.
    frameworks: Option<&'a str>,
    /// `get_state.get_tasks.tasks[]`.
    tasks: TaskList,
}

impl<'a> Top<'a> {
    fn read(&mut self, s: &mut Scan<'a>) -> Fast<()> {
        let mut seen = Seen::default();
        object(s, |s, key| match key {
            "type" => {
                seen.first(0)?;
                self.kind = Some(span(s)?);
                Ok(())
            }
            "subscribed" => {
                seen.first(1)?;
                if self.kind.is_some_and(|k| !is_string(k, "SUBSCRIBED")) {
                    return s.skip();
                }
                let mut state = State {
                    tasks: TaskList::with_capacity(self.capacity),
                    ..State::default()
                };
                state.read(s)?;
                self.state = Some(state);
                Ok(())
            }
            _ => s.skip(),
        })
    }
}

impl<'a> State<'a> {
    /// `subscribed`: the lenient reading's `Subscribed` and `GetState`.
    fn read(&mut self, s: &mut Scan<'a>) -> Fast<()> {
        let mut got_state = false;
        let mut seen = Seen::default();
        object(s, |s, key| match key {
            "heartbeat_interval_seconds" => {
                seen.first(0)?;
                self.heartbeat = Some(span(s)?);
                Ok(())
            }
            "get_state" => {
                seen.first(1)?;
                got_state = true;
                self.get_state(s)
            }
            _ => s.skip(),
        })?;
        if got_state {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    fn get_state(&mut self, s: &mut Scan<'a>) -> Fast<()> {
        let mut seen = Seen::default();
        object(s, |s, key| match key {
            "get_agents" => {
                seen.first(0)?;
                self.agents = Some(span(s)?);
                Ok(())
            }
            "get_frameworks" => {
                seen.first(1)?;
                self.frameworks = Some(span(s)?);
                Ok(())
            }
            "get_tasks" => {
                seen.first(2)?;
                let mut scratch = Scratch::default();
                lists(s, "tasks", |s| {
                    if s.peek() != Some(b'[') {
                        return Err(Bail);
                    }
                    s.array(|s| self.task(s, &mut scratch))
                })
            }
            _ => s.skip(),
        })
    }

    /// One task: read in one pass when it can be, else by the lenient
    /// reading.
    fn task(&mut self, s: &mut Scan<'a>, scratch: &mut Scratch<'a>) -> Fast<()> {
        let start = s.start();
        if let Ok((parts, ports)) = task(s, scratch) {
            // Read as the state reader reads its `/master/state` form, or
            // else written in that form for it.
            scratch.ports.clear();
            if ports {
                v1::merge_ranges(&mut scratch.ranges, &mut scratch.ports);
            }
            let fields = TaskFields {
                id: &parts.id,
                slave_id: &parts.agent_id,
                name: parts.name,
                state: parts.state,
                discovery: parts.discovery,
                labels: parts.labels,
                ports: ports.then_some(scratch.ports.as_str()),
            };
            let list = &mut self.tasks;
            if let Ok(read) =
                task_from_fields(&fields, &scratch.statuses, &mut scratch.texts)
            {
                let running_ts = v1::running_ts(&scratch.statuses);
                let (id, agent_id) = (parts.id, parts.agent_id);
                list.push_read(&parts.framework_id, id, agent_id, running_ts, read);
                return Ok(());
            }
            let at = list.begin();
            let ports = ports.then_some(&mut scratch.ranges);
            let statuses = scratch.statuses.iter().copied();
            let running_ts = v1::write_task(list.text(), &parts, ports, statuses);
            list.end(
                at,
                &parts.framework_id,
                parts.id,
                parts.agent_id,
                running_ts,
            );
            return Ok(());
        }
        s.rewind(start);
        s.skip()?;
        let raw = Raw::parse(s.since(start)?).ok_or(Bail)?;
        self.tasks.push(v1::task(raw).map_err(|_| Bail)?);
        Ok(())
    }
}

/// An object (and nothing else), `each` called at every key's value.
fn object<'a>(
    s: &mut Scan<'a>,
    each: impl FnMut(&mut Scan<'a>, &str) -> Fast<()>,
) -> Fast<()> {
    if s.peek() != Some(b'{') {
        return Err(Bail);
    }
    s.object(each)
}

/// Room reused from task to task.
#[derive(Default)]
struct Scratch<'a> {
    /// The task's statuses.
    statuses: Vec<Option<StatusParts<'a>>>,
    /// The task's port ranges.
    ranges: Vec<(u64, u64)>,
    /// The task's ports, as Mesos' range text.
    ports: String,
    /// The names and agent ids of the tasks read, shared by their tasks.
    texts: TaskTexts,
}

/// A v1 `Task`'s parts, and whether it has a `ports` resource (its ranges
/// then in `scratch`).
fn task<'a>(s: &mut Scan<'a>, scratch: &mut Scratch<'a>) -> Fast<(TaskParts<'a>, bool)> {
    scratch.statuses.clear();
    scratch.ranges.clear();
    let (mut id, mut framework_id, mut agent_id) = (None, None, None);
    let (mut name, mut state, mut discovery, mut labels) = (None, None, None, None);
    let mut ports = false;
    let mut seen = Seen::default();
    object(s, |s, key| {
        match key {
            "task_id" => {
                seen.first(0)?;
                id = Some(id_value(s)?);
            }
            "framework_id" => {
                seen.first(1)?;
                framework_id = Some(id_value(s)?);
            }
            "agent_id" => {
                seen.first(2)?;
                agent_id = Some(id_value(s)?);
            }
            "name" => {
                seen.first(3)?;
                name = Some(span(s)?);
            }
            "state" => {
                seen.first(4)?;
                state = Some(span(s)?);
            }
            "discovery" => {
                seen.first(5)?;
                discovery = Some(span(s)?);
            }
            "labels" => {
                seen.first(6)?;
                labels = Some(flat_labels(s)?);
            }
            "resources" => {
                seen.first(7)?;
                ports = resources(s, &mut scratch.ranges)?;
            }
            "statuses" => {
                seen.first(8)?;
                statuses(s, &mut scratch.statuses)?;
            }
            _ => s.skip()?,
        }
        Ok(())
    })?;
    let parts = TaskParts {
        id: id.ok_or(Bail)?.into_owned(),
        framework_id: framework_id.ok_or(Bail)?,
        agent_id: agent_id.ok_or(Bail)?.into_owned(),
        name,
        state,
        discovery,
        labels,
    };
    Ok((parts, ports))
}

/// An id, `{"value": "..."}`.
fn id_value<'a>(s: &mut Scan<'a>) -> Fast<Cow<'a, str>> {
    let mut value = None;
    lists(s, "value", |s| {
        value = Some(s.string()?);
        Ok(())
    })?;
    value.ok_or(Bail)
}

/// `labels` (an object): the raw text of its `labels`, `null` without.
fn flat_labels<'a>(s: &mut Scan<'a>) -> Fast<&'a str> {
    let mut flat = None;
    lists(s, "labels", |s| {
        flat = Some(span(s)?);
        Ok(())
    })?;
    Ok(flat.unwrap_or("null"))
}

/// `statuses` (an array of objects).
fn statuses<'a>(s: &mut Scan<'a>, out: &mut Vec<Option<StatusParts<'a>>>) -> Fast<()> {
    if s.peek() != Some(b'[') {
        return Err(Bail);
    }
    s.array(|s| {
        let mut st = StatusParts::default();
        let mut seen = Seen::default();
        object(s, |s, key| {
            match key {
                "state" => {
                    seen.first(0)?;
                    st.state = Some(span(s)?);
                }
                "timestamp" => {
                    seen.first(1)?;
                    st.timestamp = Some(span(s)?);
                }
                "healthy" => {
                    seen.first(2)?;
                    st.healthy = Some(span(s)?);
                }
                "container_status" => {
                    seen.first(3)?;
                    st.container_status = Some(span(s)?);
                }
                "labels" => {
                    seen.first(4)?;
                    st.labels = Some(flat_labels(s)?);
                }
                _ => s.skip()?,
            }
            Ok(())
        })?;
        out.push(Some(st));
        Ok(())
    })
}

/// The keys of the lenient reading's `V1Resource`, which reads both a
/// resource and a range.
const RESOURCE: [&str; 5] = ["name", "revocable", "ranges", "begin", "end"];

/// `resources` (an array of objects): the non-revocable `ports` ranges
/// added to `ranges`; false when there is no such resource.
fn resources(s: &mut Scan<'_>, ranges: &mut Vec<(u64, u64)>) -> Fast<bool> {
    if s.peek() != Some(b'[') {
        return Err(Bail);
    }
    let mut any = false;
    s.array(|s| {
        let mut r: [Option<&str>; 5] = [None; 5];
        resource(s, &mut r)?;
        let [name, revocable, range_list, ..] = r;
        if !name.is_some_and(|n| is_string(n, "ports")) || revocable.is_some() {
            return Ok(());
        }
        any = true;
        let Some(list) = range_list else {
            return Ok(());
        };
        let mut s = Scan::new(list);
        lists(&mut s, "range", |s| {
            if s.peek() != Some(b'[') {
                return Err(Bail);
            }
            s.array(|s| {
                let mut r: [Option<&str>; 5] = [None; 5];
                resource(s, &mut r)?;
                if let (Some(b), Some(e)) = (r[3].and_then(u64_of), r[4].and_then(u64_of))
                {
                    if b <= e {
                        ranges.push((b, e));
                    }
                }
                Ok(())
            })
        })
    })?;
    Ok(any)
}

/// A `V1Resource` object: the raw text of each of its [`RESOURCE`] keys.
fn resource<'a>(s: &mut Scan<'a>, out: &mut [Option<&'a str>; 5]) -> Fast<()> {
    let mut seen = Seen::default();
    object(s, |s, key| match RESOURCE.iter().position(|k| *k == key) {
        Some(i) => {
            seen.first(i)?;
            let value = span(s)?;
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(value);
            }
            Ok(())
        }
        None => s.skip(),
    })
}

/// A JSON value read as a `u64` (as the lenient reading reads it).
fn u64_of(text: &str) -> Option<u64> {
    if text.len() < 20 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests;
