//! A polled state into the live store: the difference from the last one,
//! by task id (and slave list, framework list, leader), as producer
//! changes.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::fill::packing_order;
use super::{Live, ORDER_STEP};
use crate::state::{Framework, Slave, State, Task};

/// The lists last loaded.
#[derive(Debug, Default)]
pub(crate) struct Last {
    slaves: Vec<Slave>,
    frameworks: Vec<(String, Framework)>,
}

/// A framework's tasks as loaded: borrowed (each task kept is copied) or
/// owned (each task kept is moved into the store).
enum Tasks<'a> {
    Borrowed(&'a [Task]),
    Owned(Vec<Task>),
}

impl Tasks<'_> {
    fn list(&self) -> &[Task] {
        match self {
            Tasks::Borrowed(t) => t,
            Tasks::Owned(t) => t,
        }
    }

    /// Task `i`, to keep.
    fn take(&mut self, i: usize) -> Arc<Task> {
        match self {
            Tasks::Borrowed(t) => Arc::new(t.get(i).cloned().unwrap_or_default()),
            Tasks::Owned(t) => {
                Arc::new(t.get_mut(i).map(std::mem::take).unwrap_or_default())
            }
        }
    }
}

/// Keys for items by their text: the text itself (the store then shares
/// a task's id as its key) and for a duplicate, which a state may hold,
/// its occurrence and the text, made unlike every text and key of the list.
fn occurrence_keys<T>(texts: Vec<T>) -> Vec<T>
where
    T: std::borrow::Borrow<str> + Eq + std::hash::Hash + for<'a> From<&'a str>,
{
    let all: HashSet<&str> = texts.iter().map(Borrow::borrow).collect();
    if all.len() == texts.len() {
        return texts;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut made: HashSet<String> = HashSet::new();
    let keys: Vec<Option<String>> = texts
        .iter()
        .map(|t| {
            let t: &str = t.borrow();
            let n = seen.entry(t).or_default();
            *n += 1;
            if *n == 1 {
                return None;
            }
            loop {
                let key = format!("{}/{t}", *n - 1);
                if !all.contains(key.as_str()) && made.insert(key.clone()) {
                    return Some(key);
                }
                *n += 1;
            }
        })
        .collect();
    drop(all);
    texts
        .into_iter()
        .zip(keys)
        .map(|(t, k)| k.map_or(t, |k| T::from(k.as_str())))
        .collect()
}

impl Live {
    /// Brings the store to `state` and `masters` (the master list, leader
    /// first when known), changing only what differs from the last state
    /// loaded: tasks by framework and task id, the slave list, the
    /// framework list (a polled state has no framework ids: frameworks
    /// are known by name and occurrence) and the leader.
    pub fn load(&mut self, state: &State, masters: &[String]) {
        let keys = self.load_heads(state);
        for (key, fw) in keys.iter().zip(&state.frameworks) {
            self.load_tasks(key, Tasks::Borrowed(&fw.tasks));
        }
        self.set_masters(&state.leader, masters);
    }

    /// [`Live::load`] of a state no longer needed: its tasks are moved
    /// into the store, not copied (a store filled from a whole state
    /// would otherwise hold a copy of every task, and the state's tasks
    /// freed after it leave holes the allocator keeps).
    pub fn load_owned(&mut self, mut state: State, masters: &[String]) {
        let keys = self.load_heads(&state);
        for (key, fw) in keys.iter().zip(&mut state.frameworks) {
            let tasks = std::mem::take(&mut fw.tasks);
            self.load_tasks(key, Tasks::Owned(tasks));
        }
        self.set_masters(&state.leader, masters);
    }

    /// The skips, slave list and framework list of `state`; returns the
    /// frameworks' keys.
    fn load_heads(&mut self, state: &State) -> Vec<String> {
        self.set_state_skips(state.skips.clone());
        if state.slaves != self.last.slaves {
            self.set_slaves(&state.slaves);
            self.last.slaves = state.slaves.clone();
        }
        let keys =
            occurrence_keys(state.frameworks.iter().map(|f| f.name.clone()).collect());
        let heads: Vec<(String, Framework)> = keys
            .iter()
            .zip(&state.frameworks)
            .map(|(k, f)| {
                let head = Framework {
                    name: f.name.clone(),
                    hostname: f.hostname.clone(),
                    pid: f.pid.clone(),
                    bad_pid: f.bad_pid,
                    tasks: Vec::new(),
                };
                (k.clone(), head)
            })
            .collect();
        if heads != self.last.frameworks {
            let now: HashSet<&String> = keys.iter().collect();
            let gone: Vec<String> = self
                .last
                .frameworks
                .iter()
                .filter(|(k, _)| !now.contains(k))
                .map(|(k, _)| k.clone())
                .collect();
            for k in gone {
                self.remove_tasks_of(&k);
            }
            self.set_frameworks(&heads);
            self.last.frameworks = heads;
        }
        keys
    }

    /// Brings framework `fw`'s tasks to `tasks`, in that order.
    fn load_tasks(&mut self, fw: &str, mut tasks: Tasks<'_>) {
        let fwt = self.fw_text(fw);
        let keys: Vec<super::Text> =
            occurrence_keys(tasks.list().iter().map(|t| t.id.clone()).collect());
        let wanted: HashSet<&str> = keys.iter().map(|k| &**k).collect();
        let gone: Vec<super::Text> = self.orders.get(&fwt).map_or_else(Vec::new, |m| {
            m.keys()
                .filter(|k| !wanted.contains(k.as_str()))
                .cloned()
                .collect()
        });
        for k in gone {
            self.remove_task(fw, &k);
        }
        let olds: Vec<Option<u64>> = keys
            .iter()
            .map(|k| self.orders.get(&fwt).and_then(|m| m.get(&**k)).copied())
            .collect();
        let orders = plan(&olds);
        // Moves first, all out then all in: a new order key may be one
        // another task is leaving.
        let mut moving = Vec::new();
        for ((key, old), &order) in keys.iter().zip(&olds).zip(&orders) {
            if let Some(o) = *old {
                if o != order {
                    if let Some(t) = self.view.tasks.remove(&(fwt.clone(), o)) {
                        moving.push((order, t));
                    }
                    if let Some(o) =
                        self.orders.get_mut(&fwt).and_then(|m| m.get_mut(&**key))
                    {
                        *o = order;
                    }
                }
            }
        }
        for (order, t) in moving {
            self.view.tasks.insert((fwt.clone(), order), t);
        }
        for i in packing_order(keys.len()) {
            let (Some(key), Some(&order)) = (keys.get(i), orders.get(i)) else {
                continue;
            };
            let same = self.view.tasks.get(&(fwt.clone(), order)).is_some_and(|t| {
                *t.key == **key && tasks.list().get(i) == Some(&*t.task)
            });
            if !same {
                let task = tasks.take(i);
                self.put_task(&fwt, key, order, task);
            }
        }
    }
}

/// Order keys for a list given each entry's old key (`None`: new): the
/// old keys where they are still in order, new keys between them, or all
/// renumbered when they are not in order or there is no room.
fn plan(olds: &[Option<u64>]) -> Vec<u64> {
    let renumber = || (1..=olds.len() as u64).map(|i| i * ORDER_STEP).collect();
    let mut prev = 0;
    for &o in olds.iter().flatten() {
        if o <= prev {
            return renumber();
        }
        prev = o;
    }
    // The next old key after each entry.
    let mut next = vec![None; olds.len()];
    let mut n = None;
    for (slot, old) in next.iter_mut().zip(olds).rev() {
        *slot = n;
        if old.is_some() {
            n = *old;
        }
    }
    let mut out = Vec::with_capacity(olds.len());
    let mut lo = 0u64;
    for (old, hi) in olds.iter().zip(next) {
        let v = match (*old, hi) {
            (Some(o), _) => o,
            (None, Some(hi)) if hi - lo >= 2 => lo + (hi - lo) / 2,
            (None, Some(_)) => return renumber(),
            (None, None) => lo + ORDER_STEP,
        };
        out.push(v);
        lo = v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrence_keys_are_the_texts_and_unlike_them_for_duplicates() {
        let keys =
            |t: &[&str]| occurrence_keys(t.iter().map(|s| s.to_string()).collect());
        assert_eq!(keys(&["a", "b"]), ["a", "b"]);
        assert_eq!(keys(&["a", "a", "a"]), ["a", "1/a", "2/a"]);
        // A text that looks like a duplicate's key keeps it; the duplicate
        // takes the next free one.
        assert_eq!(keys(&["a", "1/a", "a", "a"]), ["a", "1/a", "2/a", "3/a"]);
        assert_eq!(keys(&["a", "a", "1/a"]), ["a", "2/a", "1/a"]);
    }

    #[test]
    fn plan_keeps_orders_and_fits_new_entries_between() {
        let s = ORDER_STEP;
        assert_eq!(plan(&[Some(s), None, Some(2 * s)]), [s, s + s / 2, 2 * s]);
        assert_eq!(plan(&[None, Some(s)]), [s / 2, s]);
        assert_eq!(plan(&[Some(s), None]), [s, 2 * s]);
        assert_eq!(plan(&[Some(2 * s), Some(s)]), [s, 2 * s]);
        assert_eq!(plan(&[Some(1), None, Some(2)]), [s, 2 * s, 3 * s]);
    }
}
