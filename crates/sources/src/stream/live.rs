//! The event source's live record store (issue 18): the cluster's changes
//! fed to [`Live`] producer by producer, without building or reading a
//! whole state.

use mesos_records::{GenConfig, Live};

use crate::event::{Changes, Cluster};

/// Builds a store holding everything `cluster` holds.
pub(super) fn build(
    cluster: &Cluster,
    cfg: &GenConfig,
    leader: &str,
    masters: &[String],
) -> Live {
    let mut live = Live::new(cfg);
    live.set_slaves(&cluster.slaves());
    live.set_frameworks(&cluster.framework_heads());
    for (fw, id, task) in cluster.all_tasks() {
        live.upsert_task(fw, id, task);
    }
    live.set_masters(leader, masters);
    live
}

/// Tells `live` what `changes` changed in `cluster` (not a reset).
pub(super) fn sync(
    live: &mut Live,
    cluster: &Cluster,
    changes: &Changes,
    leader: &str,
    masters: &[String],
) {
    if changes.agents {
        live.set_slaves(&cluster.slaves());
    }
    // A task removed (then perhaps added again) leaves first: one added
    // again goes to the end of its framework's list, as in the cluster.
    for (fw, id, removed) in &changes.tasks {
        if *removed {
            live.remove_task(fw, id);
        }
    }
    if changes.frameworks {
        live.set_frameworks(&cluster.framework_heads());
    }
    // Tasks the store does not hold go to the end in the cluster's order;
    // the others keep their place.
    let mut new: Vec<(usize, &str, &str)> = Vec::new();
    for (fw, id, _) in &changes.tasks {
        match (cluster.task(fw, id), live.contains_task(fw, id)) {
            (Some(task), true) => live.upsert_task(fw, id, task),
            (Some(_), false) => {
                let at = cluster.task_position(fw, id).unwrap_or(usize::MAX);
                new.push((at, fw, id));
            }
            (None, _) => live.remove_task(fw, id),
        }
    }
    new.sort_unstable();
    for (_, fw, id) in new {
        if let Some(task) = cluster.task(fw, id) {
            live.upsert_task(fw, id, task);
        }
    }
    live.set_masters(leader, masters);
}
