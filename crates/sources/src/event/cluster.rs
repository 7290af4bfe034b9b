//! The cluster that operator API events keep up to date: agents and
//! frameworks in `/master/state` form, tasks as the state reader reads
//! them (typed, a few hundred bytes each), and the [`State`] assembled
//! from them for a full generation, without a JSON round trip.

use std::collections::HashMap;
use std::sync::Arc;

use mesos_records::skip::Skip;
use mesos_records::state::{Framework, Slave, State, StateError, Task, TaskState};
use serde_json::Value;

use super::task_list::read_text;
use super::tasks::{Malformed, Slot, Tasks};
use super::{AgentEntry, Event, FrameworkEntry, Snapshot, TaskEntry, TaskList};

/// What changed in a [`Cluster`] since [`Cluster::take_changes`] was last
/// called: what the live record store must be told.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Everything was replaced (`SUBSCRIBED`).
    pub reset: bool,
    /// The agent list changed.
    pub agents: bool,
    /// The framework list (or a framework's pid) changed.
    pub frameworks: bool,
    /// Tasks added, changed or removed, as (framework id, task id), each
    /// once, with whether it was removed at some point (a task removed and
    /// added again moves to the end of its framework's list).
    pub tasks: Vec<(String, String, bool)>,
    /// Index into `tasks`.
    at: HashMap<(String, String), usize>,
}

impl Changes {
    fn task(&mut self, fw: &str, id: &str, removed: bool) {
        if self.reset {
            // Everything is new anyway.
            return;
        }
        let key = (fw.to_owned(), id.to_owned());
        match self.at.get(&key) {
            Some(&i) => {
                if let Some(t) = self.tasks.get_mut(i) {
                    t.2 |= removed;
                }
            }
            None => {
                self.at.insert(key, self.tasks.len());
                self.tasks.push((fw.to_owned(), id.to_owned(), removed));
            }
        }
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.reset && !self.agents && !self.frameworks && self.tasks.is_empty()
    }
}

/// The cluster as the events describe it: agents and frameworks in
/// `/master/state` form, tasks typed as the state reader reads them.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    agents: Vec<AgentEntry>,
    frameworks: Vec<FrameworkEntry>,
    /// Tasks per framework id, in arrival order.
    tasks: HashMap<String, Tasks>,
    /// The next task's arrival number.
    next_arrival: u64,
    /// Framework pids learned from `/master/state`.
    pids: HashMap<String, Value>,
    /// Changes since the last [`Cluster::take_changes`].
    changes: Changes,
}

impl Cluster {
    /// Replaces everything with a `SUBSCRIBED` snapshot (learned pids are
    /// kept: they do not come with events).
    pub fn reset(&mut self, snapshot: Snapshot) {
        self.agents = Vec::new();
        self.frameworks = Vec::new();
        self.tasks.clear();
        self.changes = Changes {
            reset: true,
            ..Changes::default()
        };
        for a in snapshot.agents {
            self.upsert_agent(a);
        }
        for f in snapshot.frameworks {
            self.upsert_framework(f);
        }
        let (frameworks, read) = read_tasks(snapshot.tasks);
        let mut counts = vec![0; frameworks.len()];
        for (fw, _, _) in &read {
            if let Some(n) = counts.get_mut(*fw) {
                *n += 1;
            }
        }
        let mut by_framework: Vec<Tasks> =
            counts.into_iter().map(Tasks::with_capacity).collect();
        for (fw, id, slot) in read {
            if let Some(tasks) = by_framework.get_mut(fw) {
                tasks.upsert(id, slot, &mut self.next_arrival);
            }
        }
        self.tasks = frameworks.into_iter().zip(by_framework).collect();
        self.changes = Changes {
            reset: true,
            ..Changes::default()
        };
    }

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// Applies one event. Returns true when the state changed.
    pub fn apply(&mut self, event: Event) -> bool {
        match event {
            Event::Subscribed { snapshot, .. } => {
                self.reset(snapshot);
                true
            }
            Event::TaskAdded(t) => {
                self.upsert_task(t);
                true
            }
            Event::TaskUpdated {
                framework_id,
                task_id,
                state,
                status,
                running,
            } => self.update_task(&framework_id, &task_id, &state, &status, running),
            Event::AgentAdded(a) => {
                self.upsert_agent(a);
                true
            }
            Event::AgentRemoved(id) => {
                let before = self.agents.len();
                self.agents.retain(|a| a.id != id);
                self.changes.agents = true;
                for (fw, tasks) in &mut self.tasks {
                    for t in tasks.take_where(|t| t.agent_id() == id) {
                        self.changes.task(fw, t.id(), true);
                    }
                }
                self.agents.len() != before
            }
            Event::FrameworkUpserted(f) => {
                self.upsert_framework(f);
                true
            }
            Event::FrameworkRemoved(id) => {
                let before = self.frameworks.len();
                self.frameworks.retain(|f| f.id != id);
                self.changes.frameworks = true;
                for t in self.tasks.remove(&id).into_iter().flatten() {
                    self.changes.task(&id, t.id(), true);
                }
                self.frameworks.len() != before
            }
            Event::Heartbeat | Event::Other(_) => false,
        }
    }

    fn upsert_agent(&mut self, a: AgentEntry) {
        self.changes.agents = true;
        match self.agents.iter_mut().find(|x| x.id == a.id) {
            Some(x) => *x = a,
            None => self.agents.push(a),
        }
    }

    fn upsert_framework(&mut self, f: FrameworkEntry) {
        self.changes.frameworks = true;
        match self.frameworks.iter_mut().find(|x| x.id == f.id) {
            Some(x) => *x = f,
            None => self.frameworks.push(f),
        }
    }

    fn upsert_task(&mut self, t: TaskEntry) {
        self.changes.task(&t.framework_id, &t.id, false);
        let fw = t.framework_id.clone();
        let id = t.id.clone();
        let (task, skips) = read_text(&t.text);
        let slot = slot(t.id, t.agent_id, t.running_ts, task, skips);
        let tasks = self.tasks.entry(fw).or_default();
        tasks.upsert(id, slot, &mut self.next_arrival);
    }

    /// A new state and status for a task: the state reader reads the task
    /// with every status so far, and takes IPs from the latest
    /// `TASK_RUNNING` one; so the new status replaces the task's IPs when
    /// it is a `TASK_RUNNING` status later than the one they came from.
    fn update_task(
        &mut self,
        fw: &str,
        id: &str,
        state: &Value,
        status: &str,
        running: Option<f64>,
    ) -> bool {
        let Some(tasks) = self.tasks.get_mut(fw) else {
            log::debug!("TASK_UPDATED for task {id:?} of unknown framework {fw:?}");
            return false;
        };
        let Some(slot) = tasks.get_mut(id) else {
            log::debug!("TASK_UPDATED for unknown task {id:?}");
            return false;
        };
        if state.as_str().is_some_and(TaskState::is_terminal_text) {
            tasks.remove(id);
            self.changes.task(fw, id, true);
            return true;
        }
        self.changes.task(fw, id, false);
        // The new parts alone, read as the reader reads a task.
        let mut text = String::from("{\"id\":");
        text.push_str(&Value::from(id).to_string());
        text.push_str(",\"state\":");
        text.push_str(&state.to_string());
        text.push_str(",\"statuses\":[");
        text.push_str(status);
        text.push_str("]}");
        let (part, part_skips) = read_text(&text);
        let next = match (&*slot, part) {
            (
                Slot::Read {
                    task,
                    running_ts,
                    skips,
                },
                Some(part),
            ) => {
                let mut task = Task::clone(task);
                task.state = part.state;
                let mut running_ts = *running_ts;
                if let Some(ts) = running.filter(|ts| *ts > running_ts) {
                    task.running_status = part.running_status;
                    running_ts = ts;
                }
                Slot::Read {
                    task: Arc::new(task),
                    running_ts,
                    skips: skips.clone(),
                }
            }
            (Slot::Read { task, skips, .. }, None) => {
                let mut skips = skips.clone();
                skips.extend(part_skips);
                Slot::Malformed(Box::new(Malformed {
                    id: task.id.to_string(),
                    agent_id: task.slave_id.to_string(),
                    skips,
                }))
            }
            // Its malformed parts stay.
            (Slot::Malformed(_), _) => return true,
        };
        *slot = next;
        true
    }

    /// Takes framework `pid`s from a `/master/state` body (v1 events do not
    /// carry them). Returns true when one changed.
    pub fn learn_pids(&mut self, state_body: &[u8]) -> bool {
        let seen = super::v1::framework_pids(state_body);
        let mut changed = false;
        for (id, pid) in &seen {
            if self.pids.get(id) != Some(pid) {
                changed = true;
            }
        }
        changed |= self.pids.keys().any(|id| !seen.contains_key(id));
        self.pids = seen;
        self.changes.frameworks |= changed;
        changed
    }

    /// Number of tasks held.
    pub fn task_count(&self) -> usize {
        self.tasks.values().map(Tasks::len).sum()
    }

    /// Framework `f` in `/master/state` form with its learned pid, as an
    /// object not yet closed (tasks follow).
    fn framework_head(&self, f: &FrameworkEntry) -> String {
        let mut head = f.json.clone();
        if let Some(pid) = self.pids.get(&f.id) {
            head.insert("pid".to_owned(), pid.clone());
        }
        // `{"id":...}` is never empty: reopen it for the tasks.
        let head = Value::Object(head).to_string();
        head.strip_suffix('}').unwrap_or(&head).to_owned()
    }

    /// The agents as the state reader reads them (malformed ones left
    /// out; none if all are), and what it left out.
    fn read_slaves(&self) -> (Vec<Slave>, Vec<Skip>) {
        let mut body = String::from("{\"leader\":\"-\",\"slaves\":[");
        self.write_agents(&mut body);
        body.push_str("]}");
        State::parse(body.as_bytes())
            .map_or_else(|_| Default::default(), |s| (s.slaves, s.skips))
    }

    /// The agents in `/master/state` form, comma-separated.
    fn write_agents(&self, out: &mut String) {
        for (i, a) in self.agents.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&a.json.to_string());
        }
    }

    /// The agents as the state reader reads them (malformed ones left
    /// out; none if all are).
    pub fn slaves(&self) -> Vec<Slave> {
        self.read_slaves().0
    }

    /// Framework `f`'s head as the state reader reads it (`None` when
    /// malformed), and what it left out.
    fn read_head(&self, f: &FrameworkEntry) -> (Option<Framework>, Vec<Skip>) {
        let body = format!(
            "{{\"leader\":\"-\",\"frameworks\":[{},\"tasks\":[]}}]}}",
            self.framework_head(f)
        );
        match State::parse(body.as_bytes()) {
            Ok(s) => (s.frameworks.into_iter().next(), s.skips),
            Err(_) => (None, Vec::new()),
        }
    }

    /// Why nothing in the cluster is usable: the agents and framework
    /// heads are read as one `/master/state` body, so [`State::parse`]'s
    /// own rule decides (every agent listed malformed, or every framework
    /// listed). `None` when something is (an empty cluster is usable). The
    /// event source then keeps the records it serves, as the polled source
    /// does, instead of publishing an empty cluster.
    pub fn unusable(&self) -> Option<String> {
        let mut body = String::from("{\"leader\":\"-\",\"slaves\":[");
        self.write_agents(&mut body);
        body.push_str("],\"frameworks\":[");
        for (i, f) in self.frameworks.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&self.framework_head(f));
            body.push_str(",\"tasks\":[]}");
        }
        body.push_str("]}");
        match State::parse(body.as_bytes()) {
            Err(StateError::NothingUsable(why)) => Some(why),
            _ => None,
        }
    }

    /// The frameworks, by id in list order, as the state reader reads them
    /// (without tasks; a malformed one left out).
    pub fn framework_heads(&self) -> Vec<(String, Framework)> {
        self.frameworks
            .iter()
            .filter_map(|f| Some((f.id.clone(), self.read_head(f).0?)))
            .collect()
    }

    /// Task `id` of framework `fw` as the state reader reads it, or `None`
    /// (unknown, or malformed).
    pub fn task(&self, fw: &str, id: &str) -> Option<Arc<Task>> {
        match self.tasks.get(fw)?.get(id)? {
            Slot::Read { task, .. } => Some(Arc::clone(task)),
            Slot::Malformed(_) => None,
        }
    }

    /// Task `id`'s arrival number: framework `fw`'s tasks sort by it in
    /// list order.
    pub fn task_arrival(&self, fw: &str, id: &str) -> Option<u64> {
        self.tasks.get(fw)?.arrival(id)
    }

    /// Every task, by framework id and in each framework's order, as the
    /// state reader reads it (malformed ones left out).
    pub fn all_tasks(&self) -> Vec<(&str, &str, Arc<Task>)> {
        let mut out = Vec::with_capacity(self.task_count());
        for (fw, tasks) in &self.tasks {
            for t in tasks {
                if let Slot::Read { task, .. } = t {
                    out.push((fw.as_str(), &*task.id, Arc::clone(task)));
                }
            }
        }
        out
    }

    /// True when `polled` (a `/master/state` read) holds exactly what
    /// [`Cluster::state`] gives for `leader`, in the same order: then both
    /// generate the same records, and the reconcile need not generate
    /// either (at 100,000 tasks each generation is hundreds of megabytes
    /// while it lasts). Compares in place, without building the state.
    pub fn same_state(&self, polled: &State, leader: &str) -> bool {
        if polled.leader != leader || self.read_slaves().0 != polled.slaves {
            return false;
        }
        let mut theirs = polled.frameworks.iter();
        for f in &self.frameworks {
            let Some(head) = self.read_head(f).0 else {
                continue;
            };
            let Some(p) = theirs.next() else {
                return false;
            };
            let same_head = head.name == p.name
                && head.hostname == p.hostname
                && head.pid == p.pid
                && head.bad_pid == p.bad_pid;
            if !same_head {
                return false;
            }
            let mut ours =
                self.tasks
                    .get(&f.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| match t {
                        Slot::Read { task, .. } => Some(task),
                        Slot::Malformed(_) => None,
                    });
            for pt in &p.tasks {
                if ours.next().is_none_or(|t| **t != *pt) {
                    return false;
                }
            }
            if ours.next().is_some() {
                return false;
            }
        }
        theirs.next().is_none()
    }
}

fn slot(
    id: String,
    agent_id: String,
    running_ts: f64,
    task: Option<Task>,
    skips: Vec<Skip>,
) -> Slot {
    match task {
        Some(task) => Slot::Read {
            task: Arc::new(task),
            running_ts,
            skips,
        },
        None => Slot::Malformed(Box::new(Malformed {
            id,
            agent_id,
            skips,
        })),
    }
}

/// A `SUBSCRIBED`'s tasks read: the framework ids, and each task with its
/// framework's index and its id. All are read in one body when nothing in
/// it is left out (the usual case), else one by one (to know whose the
/// skips are).
fn read_tasks(list: TaskList) -> (Vec<String>, Vec<(usize, String, Slot)>) {
    let (body, frameworks, tasks) = list.into_parts();
    let written = tasks.iter().filter(|t| t.read.is_none()).count();
    let read = match written {
        0 => Some(Vec::new()),
        _ => State::parse(body.as_bytes())
            .ok()
            .filter(|s| s.skips.is_empty())
            .and_then(|s| s.frameworks.into_iter().next())
            .map(|f| f.tasks)
            .filter(|read| read.len() == written),
    };
    let one_by_one = read.is_none();
    let mut read = read.unwrap_or_default().into_iter();
    let slots = tasks
        .into_listed()
        .map(|t| {
            let (task, skips) = match t.read {
                Some((task, skips)) => (Some(task), skips),
                None if one_by_one => {
                    read_text(body.get(t.span.clone()).unwrap_or_default())
                }
                None => (read.next(), Vec::new()),
            };
            let id = t.id.clone();
            (
                t.framework,
                id,
                slot(t.id, t.agent_id, t.running_ts, task, skips),
            )
        })
        .collect();
    (frameworks, slots)
}

mod state;
#[cfg(test)]
mod tests;
