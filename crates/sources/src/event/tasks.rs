//! One framework's tasks: in arrival order, found by id in constant time.
//!
//! Events name a task by id. A framework can hold tens of thousands of
//! tasks, so finding one by scanning the list made every event cost time
//! in proportion to the cluster. Each task is stamped with a number from
//! one counter of the whole cluster when it arrives; the numbers keep the
//! arrival order (a task updated keeps its number, one removed and added
//! again gets a new one, at the end), and a map from id to number finds it.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mesos_records::skip::Skip;
use mesos_records::state::{SharedStr, Task};

/// One task as the state reader read it: typed, only what the record
/// rules read (a `/master/state` task object is kilobytes).
#[derive(Clone, Debug)]
pub(super) enum Slot {
    /// Read.
    Read {
        /// The task, shared with the live record store.
        task: Arc<Task>,
        /// The timestamp of the status `task.running_status` came from
        /// (-1 when none: a status must be later to replace it).
        running_ts: f64,
        /// What the reader left out of it.
        skips: Vec<Skip>,
    },
    /// Malformed: the state reader leaves it out (rare: boxed, so that
    /// a read task's slot is no larger than its own fields).
    Malformed(Box<Malformed>),
}

/// A malformed task: its ids and what the reader left out.
#[derive(Clone, Debug)]
pub(super) struct Malformed {
    pub(super) id: String,
    pub(super) agent_id: String,
    pub(super) skips: Vec<Skip>,
}

impl Slot {
    pub(super) fn id(&self) -> &str {
        match self {
            Slot::Read { task, .. } => &task.id,
            Slot::Malformed(m) => &m.id,
        }
    }

    pub(super) fn agent_id(&self) -> &str {
        match self {
            Slot::Read { task, .. } => &task.slave_id,
            Slot::Malformed(m) => &m.agent_id,
        }
    }
}

/// A framework's tasks (see the [module docs](self)).
#[derive(Clone, Debug, Default)]
pub(super) struct Tasks {
    /// By arrival number.
    order: BTreeMap<u64, Slot>,
    /// Task id to arrival number; the id text is the task's own (which
    /// the live record store shares too).
    by_id: HashMap<SharedStr, u64>,
}

impl Tasks {
    /// Room for `n` tasks.
    pub(super) fn with_capacity(n: usize) -> Self {
        Tasks {
            order: BTreeMap::new(),
            by_id: HashMap::with_capacity(n),
        }
    }

    /// Task `id`.
    pub(super) fn get(&self, id: &str) -> Option<&Slot> {
        self.order.get(self.by_id.get(id)?)
    }

    /// Task `id`, to change.
    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut Slot> {
        self.order.get_mut(self.by_id.get(id)?)
    }

    /// Task `id`'s arrival number: tasks of one framework sort by it in
    /// list order.
    pub(super) fn arrival(&self, id: &str) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// Replaces task `id` with `t` in its place, or appends `t` with
    /// arrival number `next` (then advanced).
    pub(super) fn upsert(&mut self, id: String, t: Slot, next: &mut u64) {
        let id = match &t {
            Slot::Read { task, .. } if *task.id == *id => task.id.clone(),
            _ => SharedStr::from(id),
        };
        match self.by_id.entry(id) {
            Entry::Occupied(at) => {
                if let Some(x) = self.order.get_mut(at.get()) {
                    *x = t;
                }
            }
            Entry::Vacant(at) => {
                let n = *next;
                *next += 1;
                at.insert(n);
                self.order.insert(n, t);
            }
        }
    }

    /// Removes task `id`.
    pub(super) fn remove(&mut self, id: &str) -> Option<Slot> {
        let n = self.by_id.remove(id)?;
        self.order.remove(&n)
    }

    /// Removes and returns the tasks `drop` picks, in list order.
    pub(super) fn take_where(&mut self, drop: impl Fn(&Slot) -> bool) -> Vec<Slot> {
        let gone: Vec<u64> = self
            .order
            .iter()
            .filter(|(_, t)| drop(t))
            .map(|(n, _)| *n)
            .collect();
        let mut out = Vec::with_capacity(gone.len());
        for n in gone {
            if let Some(t) = self.order.remove(&n) {
                self.by_id.remove(t.id());
                out.push(t);
            }
        }
        out
    }

    /// The tasks in order, to change in place.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        self.order.values_mut()
    }

    /// Number of tasks.
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }
}

impl<'a> IntoIterator for &'a Tasks {
    type Item = &'a Slot;
    type IntoIter = std::collections::btree_map::Values<'a, u64, Slot>;
    fn into_iter(self) -> Self::IntoIter {
        self.order.values()
    }
}

impl IntoIterator for Tasks {
    type Item = Slot;
    type IntoIter = std::collections::btree_map::IntoValues<u64, Slot>;
    fn into_iter(self) -> Self::IntoIter {
        self.order.into_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every task of the cluster has a slot: a read task's is its three
    // fields, the rare malformed one boxed.
    #[test]
    fn a_slot_is_a_read_task_s_size() {
        assert_eq!(std::mem::size_of::<Slot>(), 40);
    }
}
