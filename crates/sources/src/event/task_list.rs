//! The tasks of a `SUBSCRIBED`, each already read as the state reader
//! reads it ([`task_from_fields`](mesos_records::state::task_from_fields)),
//! or else in `/master/state` form, written into one `/master/state` body
//! as they are read: the cluster reads all those in one pass of the state
//! reader, with no text per task to allocate, copy and free.

use std::collections::HashMap;
use std::ops::Range;

use mesos_records::skip::Skip;
use mesos_records::state::{State, Task};

use super::TaskEntry;

/// What precedes the tasks in [`TaskList::body`].
const HEAD: &str = "{\"leader\":\"-\",\"frameworks\":[{\"tasks\":[";
/// What follows them.
const TAIL: &str = "]}]}";

/// Tasks of a `SUBSCRIBED`, read, or in `/master/state` form written into
/// one `/master/state` body that the cluster reads in one pass of the
/// state reader. Two lists are equal when they hold the same tasks as the
/// state reader reads them.
#[derive(Clone, Debug)]
pub struct TaskList {
    /// [`HEAD`], the task objects comma-separated (a task being written
    /// last).
    text: String,
    /// Framework ids, each once.
    frameworks: Vec<String>,
    /// Framework id to its index in `frameworks`.
    framework_index: HashMap<String, usize>,
    /// The tasks, in order.
    tasks: Chunks,
}

/// Tasks of a [`TaskList`], in order, in chunks: 100,000 tasks read are
/// tens of megabytes, which a growing vector copied again at every
/// doubling.
#[derive(Clone, Debug, Default)]
pub(super) struct Chunks {
    chunks: Vec<Vec<Listed>>,
    len: usize,
}

/// Tasks per chunk.
const CHUNK: usize = 4096;

impl Chunks {
    fn push(&mut self, t: Listed) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(t),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(t);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    fn last(&self) -> Option<&Listed> {
        self.chunks.last().and_then(|c| c.last())
    }

    /// Number of tasks.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The tasks in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Listed> {
        self.chunks.iter().flatten()
    }

    /// The tasks in order, taken.
    pub(super) fn into_listed(self) -> impl Iterator<Item = Listed> {
        self.chunks.into_iter().flatten()
    }
}

/// One task of a [`TaskList`].
#[derive(Clone, Debug)]
pub(super) struct Listed {
    /// Its framework's index in [`TaskList`]'s frameworks.
    pub(super) framework: usize,
    /// `task_id.value`.
    pub(super) id: String,
    /// `agent_id.value`.
    pub(super) agent_id: String,
    /// Its object in the body (empty when read).
    pub(super) span: Range<usize>,
    /// The task and what the state reader left out of it, when read.
    pub(super) read: Option<(Task, Vec<Skip>)>,
    /// See [`TaskEntry`]'s `running_ts`.
    pub(super) running_ts: f64,
}

impl Default for TaskList {
    fn default() -> Self {
        TaskList {
            text: HEAD.to_owned(),
            frameworks: Vec::new(),
            framework_index: HashMap::new(),
            tasks: Chunks::default(),
        }
    }
}

impl TaskList {
    /// Room for `len` bytes of tasks.
    pub(super) fn with_capacity(len: usize) -> Self {
        let mut list = TaskList::default();
        list.text.reserve(len);
        list
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.tasks.len() == 0
    }

    /// Appends a task already in `/master/state` form.
    pub(super) fn push(&mut self, t: TaskEntry) {
        let start = self.begin();
        self.text.push_str(&t.text);
        self.end(start, &t.framework_id, t.id, t.agent_id, t.running_ts);
    }

    /// Starts a task: the caller writes its object into [`TaskList::text`]
    /// and then calls [`TaskList::end`] with the offset this gives.
    pub(super) fn begin(&mut self) -> usize {
        if self.text.len() > HEAD.len() {
            self.text.push(',');
        }
        self.text.len()
    }

    /// The body being written.
    pub(super) fn text(&mut self) -> &mut String {
        &mut self.text
    }

    /// Ends the task written since `start`.
    pub(super) fn end(
        &mut self,
        start: usize,
        framework_id: &str,
        id: String,
        agent_id: String,
        running_ts: f64,
    ) {
        let span = start..self.text.len();
        self.add(framework_id, id, agent_id, span, running_ts, None);
    }

    /// Appends a task already read.
    pub(super) fn push_read(
        &mut self,
        framework_id: &str,
        id: String,
        agent_id: String,
        running_ts: f64,
        read: (Task, Vec<Skip>),
    ) {
        self.add(framework_id, id, agent_id, 0..0, running_ts, Some(read));
    }

    fn add(
        &mut self,
        framework_id: &str,
        id: String,
        agent_id: String,
        span: Range<usize>,
        running_ts: f64,
        read: Option<(Task, Vec<Skip>)>,
    ) {
        let framework = self.framework(framework_id);
        self.tasks.push(Listed {
            framework,
            id,
            agent_id,
            span,
            read,
            running_ts,
        });
    }

    /// The index of framework `id`, added when new (tasks usually come
    /// framework by framework: the last task's is tried first).
    fn framework(&mut self, id: &str) -> usize {
        if let Some(last) = self.tasks.last() {
            if self.frameworks.get(last.framework).is_some_and(|f| f == id) {
                return last.framework;
            }
        }
        if let Some(&i) = self.framework_index.get(id) {
            return i;
        }
        let i = self.frameworks.len();
        self.frameworks.push(id.to_owned());
        self.framework_index.insert(id.to_owned(), i);
        i
    }

    /// The whole `/master/state` body (`leader` `-`, one framework with
    /// every task), the framework ids, and the tasks with their place in
    /// the body.
    pub(super) fn into_parts(mut self) -> (String, Vec<String>, Chunks) {
        self.text.push_str(TAIL);
        (self.text, self.frameworks, self.tasks)
    }
}

impl PartialEq for TaskList {
    fn eq(&self, other: &Self) -> bool {
        self.resolved() == other.resolved()
    }
}

/// A task of a [`TaskList`] as the state reader reads it: its framework
/// id, id, agent id, `running_ts`, the task and what was left out.
type Resolved<'l> = (
    Option<&'l String>,
    &'l str,
    &'l str,
    f64,
    (Option<Task>, Vec<Skip>),
);

impl TaskList {
    /// Every task as the state reader reads it.
    fn resolved(&self) -> Vec<Resolved<'_>> {
        let text = |t: &Listed| self.text.get(t.span.clone()).unwrap_or_default();
        self.tasks
            .iter()
            .map(|t| {
                let read = match &t.read {
                    Some((task, skips)) => (Some(task.clone()), skips.clone()),
                    None => read_text(text(t)),
                };
                let framework = self.frameworks.get(t.framework);
                (
                    framework,
                    t.id.as_str(),
                    t.agent_id.as_str(),
                    t.running_ts,
                    read,
                )
            })
            .collect()
    }
}

/// One task's `/master/state` text read by the state reader: the task, or
/// `None` when it is malformed, and what was left out.
pub(super) fn read_text(text: &str) -> (Option<Task>, Vec<Skip>) {
    let body = format!("{HEAD}{text}{TAIL}");
    match State::parse(body.as_bytes()) {
        Ok(state) => {
            let task = state
                .frameworks
                .into_iter()
                .next()
                .and_then(|f| f.tasks.into_iter().next());
            (task, state.skips)
        }
        Err(_) => (None, Vec::new()),
    }
}
