//! The tasks of a `SUBSCRIBED` in `/master/state` form, written into one
//! `/master/state` body as they are read: the cluster reads them all in
//! one pass of the state reader, with no text per task to allocate, copy
//! and free (at 100,000 tasks that was a third of the time to subscribe).

use std::collections::HashMap;
use std::ops::Range;

use super::TaskEntry;

/// What precedes the tasks in [`TaskList::body`].
const HEAD: &str = "{\"leader\":\"-\",\"frameworks\":[{\"tasks\":[";
/// What follows them.
const TAIL: &str = "]}]}";

/// Tasks in `/master/state` form, written into one `/master/state` body as
/// they are read: the cluster reads them all in one pass of the state
/// reader.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskList {
    /// [`HEAD`], the task objects comma-separated (a task being written
    /// last).
    text: String,
    /// Framework ids, each once.
    frameworks: Vec<String>,
    /// Framework id to its index in `frameworks`.
    framework_index: HashMap<String, usize>,
    /// The tasks, in order.
    tasks: Vec<Listed>,
}

/// One task of a [`TaskList`].
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Listed {
    /// Its framework's index in [`TaskList`]'s frameworks.
    pub(super) framework: usize,
    /// `task_id.value`.
    pub(super) id: String,
    /// `agent_id.value`.
    pub(super) agent_id: String,
    /// Its object in the body.
    pub(super) span: Range<usize>,
    /// See [`TaskEntry`]'s `running_ts`.
    pub(super) running_ts: f64,
}

impl Default for TaskList {
    fn default() -> Self {
        TaskList {
            text: HEAD.to_owned(),
            frameworks: Vec::new(),
            framework_index: HashMap::new(),
            tasks: Vec::new(),
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
        self.tasks.is_empty()
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
        if !self.tasks.is_empty() {
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
        let framework = self.framework(framework_id);
        self.tasks.push(Listed {
            framework,
            id,
            agent_id,
            span: start..self.text.len(),
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
    pub(super) fn into_parts(mut self) -> (String, Vec<String>, Vec<Listed>) {
        self.text.push_str(TAIL);
        (self.text, self.frameworks, self.tasks)
    }
}
