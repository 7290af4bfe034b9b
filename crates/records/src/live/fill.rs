//! Filling the store with a framework's whole task list at once (a
//! polled state, an event stream's resync), in the order that packs the
//! store's persistent maps.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Live, ORDER_STEP};
use crate::state::Task;

/// The places of a list of `n` tasks in the order they go into the
/// store: the even ones, then the odd. The maps' keys come nearly sorted
/// from a task list, and a B-tree leaf that fills splits in half: in list
/// order every leaf would stay half empty, and a filled store took twice
/// the room for its names and tasks. Split in the first pass, the leaves
/// keep room that the second fills.
pub(super) fn packing_order(n: usize) -> impl Iterator<Item = usize> {
    (0..n).step_by(2).chain((1..n).step_by(2))
}

impl Live {
    /// Adds `tasks` of framework `fw` (key and task, in list order) as
    /// [`Live::upsert_task`] one after the other would, for a store being
    /// filled: at the even places first, then the odd, so that the maps'
    /// B-tree leaves end up full (see `packing_order`).
    pub fn append_tasks(&mut self, fw: &str, tasks: Vec<(&str, Arc<Task>)>) {
        let fwt = self.fw_text(fw);
        let mut next = self.task_range_keys(&fwt).next_back().map_or(0, |(_, o)| o);
        let mut placed: Vec<Option<(&str, u64, Arc<Task>)>> =
            Vec::with_capacity(tasks.len());
        // A key given twice: the later task, in the earlier's place.
        let mut at: HashMap<&str, usize> = HashMap::with_capacity(tasks.len());
        for (key, task) in tasks {
            if let Some(slot) = at.get(key).and_then(|&i| placed.get_mut(i)) {
                if let Some(p) = slot {
                    p.2 = task;
                }
                continue;
            }
            let order = match self.orders.get(&fwt).and_then(|m| m.get(key)) {
                Some(&o) => o,
                None => {
                    next += ORDER_STEP;
                    next
                }
            };
            at.insert(key, placed.len());
            placed.push(Some((key, order, task)));
        }
        for i in packing_order(placed.len()) {
            if let Some((key, order, task)) = placed.get_mut(i).and_then(Option::take) {
                self.put_task(&fwt, key, order, task);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_once_evens_first() {
        assert_eq!(packing_order(5).collect::<Vec<_>>(), [0, 2, 4, 1, 3]);
        assert_eq!(packing_order(1).collect::<Vec<_>>(), [0]);
        assert_eq!(packing_order(0).count(), 0);
    }
}
