//! Health-aware answers (our extension, `HealthFilter`): the name-level
//! rule, applied after every task's records are generated.
//!
//! Per-task generation ([`crate::task_records`]) keeps the values an
//! unhealthy task (latest `TASK_RUNNING` status with `healthy: false`)
//! would add to a name it can share with other tasks (`app.fw.D.`,
//! `app.fw.slave.D.`, the SRV names) out of the store and hands them here,
//! with which task touched which shared name and whether it was healthy.
//! Its own names (`app-hash-slave.fw.D.` and the like) are generated as
//! usual. A task without a health check counts as healthy.
//!
//! Here, per name: if fewer than `HealthFilterMinFraction` of the tasks
//! that make it are healthy, the held values are put back (fail open, so
//! an application whose every task fails its check still resolves) and
//! the name is counted as [`SkipReason::HealthFailOpen`]; otherwise they
//! stay out and each unhealthy task is counted once as
//! [`SkipReason::Unhealthy`].

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::explain::LeftOut;
use crate::skip::SkipReason;
use crate::store::{Sink, Store};

/// A value held back from a shared name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// An A or AAAA value.
    Ip(IpAddr),
    /// An SRV value: target name number and port.
    Srv(u32, u16),
}

/// What per-task generation tells the name-level rule.
#[derive(Debug, Default)]
pub(crate) struct HealthLedger {
    /// Shared name number, task number, healthy: every value a task gave a
    /// shared name (repeats allowed).
    seen: Vec<(u32, u32, bool)>,
    /// Values held back: name number, task number, value.
    held: Vec<(u32, u32, Held)>,
    /// Task ids by task number, for the log.
    ids: HashMap<u32, String>,
}

impl HealthLedger {
    /// Notes that task `task` gives shared name `name` a value.
    pub(crate) fn saw(&mut self, name: u32, task: u32, healthy: bool) {
        self.seen.push((name, task, healthy));
    }

    /// Holds `value` of unhealthy task `task` (id `id`) back from `name`.
    pub(crate) fn hold(&mut self, name: u32, task: u32, id: &str, value: Held) {
        self.seen.push((name, task, false));
        self.held.push((name, task, value));
        self.ids.entry(task).or_insert_with(|| id.to_owned());
    }
}

/// Applies the rule: held values of names that would keep fewer than
/// `min_fraction` of their tasks go back into `store`; the others stay
/// out. Returns the task ids left out, by name.
pub(crate) fn settle(
    store: &mut Store,
    ledger: HealthLedger,
    min_fraction: f64,
) -> LeftOut {
    let mut left_out = LeftOut::new();
    if ledger.held.is_empty() {
        return left_out;
    }
    // Names by text: a name may have several numbers while building.
    let text = |store: &Store, n: u32| store.records.name(n).to_owned();
    let held_names: HashSet<String> = ledger
        .held
        .iter()
        .map(|&(n, _, _)| text(store, n))
        .collect();
    // Per held name: the distinct tasks that make it, and the healthy ones.
    let mut tasks: HashMap<&str, HashMap<u32, bool>> = HashMap::new();
    let mut texts: Vec<(String, u32, bool)> = Vec::new();
    for &(n, task, healthy) in &ledger.seen {
        let t = text(store, n);
        if held_names.contains(&t) {
            texts.push((t, task, healthy));
        }
    }
    for (t, task, healthy) in &texts {
        let entry = tasks.entry(t.as_str()).or_default();
        let h = entry.entry(*task).or_insert(true);
        *h &= *healthy;
    }
    let fail_open: HashSet<String> = tasks
        .iter()
        .filter(|(_, by_task)| {
            let total = by_task.len() as f64;
            let healthy = by_task.values().filter(|&&h| h).count() as f64;
            healthy < min_fraction * total
        })
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let mut unhealthy: Vec<u32> = Vec::new();
    for (n, task, value) in ledger.held {
        let name = text(store, n);
        if fail_open.contains(&name) {
            match value {
                Held::Ip(ip) => store.ip_at(n, ip),
                Held::Srv(target, port) => store.srv_at(n, target, port),
            }
        } else {
            unhealthy.push(task);
            let id = ledger.ids.get(&task).cloned().unwrap_or_default();
            let ids = left_out.entry(name).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let mut names: Vec<&String> = fail_open.iter().collect();
    names.sort();
    for name in names {
        store.skip(
            SkipReason::HealthFailOpen,
            format!("{name}: fewer than {min_fraction} of its tasks are healthy; serving them all"),
        );
    }
    unhealthy.sort_unstable();
    unhealthy.dedup();
    for task in unhealthy {
        let id = ledger.ids.get(&task).map_or("", String::as_str);
        store.skip(
            SkipReason::Unhealthy,
            format!(
                "task {id:?} reports healthy: false; left out of the names it shares"
            ),
        );
    }
    left_out
}
