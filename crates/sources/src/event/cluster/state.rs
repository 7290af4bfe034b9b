//! The [`State`] of a [`Cluster`]: what [`State::parse`] gives for its
//! `/master/state` body, assembled from the typed parts.

use std::sync::Arc;

use mesos_records::skip::Skip;
use mesos_records::state::{State, Task};

use super::{Cluster, Slot};

impl Cluster {
    /// The state [`State::parse`] gives for the `/master/state` body of this
    /// cluster (`leader`, `slaves`, and `frameworks` with their tasks, tasks
    /// of unknown frameworks left out), built from the typed parts.
    pub fn state(&self, leader: &str) -> State {
        let (mut state, ids) = self.heads(leader);
        for (fw, id) in state.frameworks.iter_mut().zip(&ids) {
            let tasks = self.tasks.get(id);
            fw.tasks.reserve(tasks.map_or(0, super::Tasks::len));
            for t in tasks.into_iter().flatten() {
                if let Some(task) = add_skips(&mut state.skips, t) {
                    fw.tasks.push(Task::clone(task));
                }
            }
        }
        state
    }

    /// [`Cluster::state`] lent to `f`. The tasks no one else holds (after
    /// a `SUBSCRIBED`, until the live store shares them) are moved into it
    /// and back instead of copied: at 100,000 tasks, copying them and
    /// dropping the copies took a tenth of the time to the first answer.
    pub fn with_state<R>(&mut self, leader: &str, f: impl FnOnce(&State) -> R) -> R {
        let (mut state, ids) = self.heads(leader);
        // Where a task was moved out, meanwhile.
        let moved = Arc::new(Task::default());
        for (fw, id) in state.frameworks.iter_mut().zip(&ids) {
            let Some(tasks) = self.tasks.get_mut(id) else {
                continue;
            };
            fw.tasks.reserve(tasks.len());
            for t in tasks.iter_mut() {
                if add_skips(&mut state.skips, t).is_none() {
                    continue;
                }
                if let Slot::Read { task, .. } = t {
                    let held = std::mem::replace(task, Arc::clone(&moved));
                    fw.tasks
                        .push(Arc::try_unwrap(held).unwrap_or_else(|shared| {
                            let copy = Task::clone(&shared);
                            *task = shared;
                            copy
                        }));
                }
            }
        }
        let out = f(&state);
        for (fw, id) in state.frameworks.into_iter().zip(&ids) {
            let Some(tasks) = self.tasks.get_mut(id) else {
                continue;
            };
            let mut back = fw.tasks.into_iter();
            for t in tasks.iter_mut() {
                if let Slot::Read { task, .. } = t {
                    let Some(b) = back.next() else { break };
                    if Arc::ptr_eq(task, &moved) {
                        *task = Arc::new(b);
                    }
                }
            }
        }
        out
    }

    /// The state without tasks, and the id of each of its frameworks.
    fn heads(&self, leader: &str) -> (State, Vec<String>) {
        let (slaves, mut skips) = self.read_slaves();
        let mut frameworks = Vec::with_capacity(self.frameworks.len());
        let mut ids = Vec::with_capacity(self.frameworks.len());
        for f in &self.frameworks {
            let (head, head_skips) = self.read_head(f);
            skips.extend(head_skips);
            if let Some(fw) = head {
                frameworks.push(fw);
                ids.push(f.id.clone());
            }
        }
        let state = State {
            leader: leader.to_owned(),
            frameworks,
            slaves,
            skips,
        };
        (state, ids)
    }
}

/// Adds what the reader left out of task `t` to `skips`; its task, when
/// it was read.
fn add_skips<'t>(skips: &mut Vec<Skip>, t: &'t Slot) -> Option<&'t Arc<Task>> {
    match t {
        Slot::Read { task, skips: s, .. } => {
            skips.extend(s.iter().cloned());
            Some(task)
        }
        Slot::Malformed(m) => {
            skips.extend(m.skips.iter().cloned());
            None
        }
    }
}
