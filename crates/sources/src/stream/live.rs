//! The event source's live record store (issue 18): the cluster's changes
//! fed to [`Live`] producer by producer, without building or reading a
//! whole state.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use mesos_records::delta::Lookup;
use mesos_records::state::Framework;
use mesos_records::{GenConfig, Live, LiveView, RecordSet};

use super::{reconcile, Subscriber};
use crate::event::{Changes, Cluster};
use crate::update::Update;

impl<P: FnMut(Update)> Subscriber<P> {
    /// The change to publish from the live store (and the number of
    /// records after it): `changes` fed to it, or after a resync a full
    /// generation, published at once, the store being built after the
    /// publish ([`Subscriber::build_live`]).
    pub(super) fn live_update(
        &mut self,
        master: &str,
        changes: &crate::event::Changes,
    ) -> (Update, usize) {
        let leader = self.leader_text(master);
        let masters = self.masters();
        match self.live.as_mut() {
            Some(l) if !changes.reset => {
                sync(l, &self.cluster, changes, &leader, &masters);
                let delta = l.take_delta();
                let view = l.view();
                let n = view.len();
                let view = Arc::new(view);
                (Update::Delta { delta, view }, n)
            }
            _ => {
                self.live = None;
                let full = self.event_records(master);
                self.build_after = Some(AsPublished {
                    heads: self.cluster.framework_heads(),
                    leader,
                    masters,
                });
                let n = full.len();
                (Update::Full(full), n)
            }
        }
    }

    /// Builds the live store from the cluster (after a resync's records
    /// were published whole). The store is built as the cluster was when
    /// published, then brought to the cluster now: what changed in between
    /// (a reconcile learns framework pids and the leader's pid) is noted
    /// for the next delta, which must be relative to the published set.
    pub(super) fn build_live(&mut self, master: &str) {
        let leader = self.leader_text(master);
        let masters = self.masters();
        let l = match self.build_after.take() {
            Some(p) => {
                let mut l = build(
                    &self.cluster,
                    &self.cfg.gen,
                    &p.heads,
                    &p.leader,
                    &p.masters,
                );
                l.set_frameworks(&self.cluster.framework_heads());
                l.set_masters(&leader, &masters);
                l
            }
            None => {
                let heads = self.cluster.framework_heads();
                build(&self.cluster, &self.cfg.gen, &heads, &leader, &masters)
            }
        };
        self.live = Some(l);
        self.next_check = Instant::now() + self.cfg.refresh;
    }

    /// The consistency check: the live store against a full generation
    /// from the same cluster. A difference is counted and logged, the full
    /// result is published and the store is built anew.
    pub(super) fn check_live(&mut self, master: &str) {
        self.next_check = Instant::now() + self.cfg.refresh;
        if self.live.is_none() {
            return;
        }
        let full = self.event_records(master);
        let Some(live) = &self.live else { return };
        let view = live.view();
        if same_records(&full, &view) {
            return;
        }
        let ours = view.record_set();
        let status = Arc::clone(&self.shared.status);
        status.live_differences.fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "event stream: the live records differ from a full generation: {}; publishing the full result",
            reconcile::describe_difference(&ours, &full)
        );
        let leader = self.leader_text(master);
        let heads = self.cluster.framework_heads();
        let mut l = build(
            &self.cluster,
            &self.cfg.gen,
            &heads,
            &leader,
            &self.masters(),
        );
        let _ = l.take_delta();
        self.live = Some(l);
        (self.publish)(Update::Full(full));
        status.publishes.fetch_add(1, Ordering::Relaxed);
    }
}

/// True when `view` holds exactly the records of `full`: the same number,
/// and every name of `full` has the same values in `view`. Read in place:
/// building the view's whole record set (its enumeration included) would
/// cost as much memory again as `full` at every check.
fn same_records(full: &RecordSet, view: &LiveView) -> bool {
    fn same<T: Ord + Copy>(a: &[T], b: &[T]) -> bool {
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }
    full.len() == view.len()
        && full.a_records().all(|(n, v)| same(v, view.a(n)))
        && full.aaaa_records().all(|(n, v)| same(v, view.aaaa(n)))
        && full.srv_records().all(|(n, v)| {
            let mut a: Vec<(&str, u16)> = v.iter().map(|s| (s.target, s.port)).collect();
            let mut b = view.srv(n);
            a.sort_unstable();
            b.sort_unstable();
            a == b
        })
}

/// What a resync published whole: the live store is built from it.
pub(super) struct AsPublished {
    /// The framework heads (with the pids learned then).
    heads: Vec<(String, Framework)>,
    /// The leader's text.
    leader: String,
    /// The master list.
    masters: Vec<String>,
}

/// Builds a store holding everything `cluster` holds, with the framework
/// heads `heads` (the cluster's, or those of an earlier publish).
pub(super) fn build(
    cluster: &Cluster,
    cfg: &GenConfig,
    heads: &[(String, Framework)],
    leader: &str,
    masters: &[String],
) -> Live {
    let mut live = Live::new(cfg);
    // Published whole: nothing to note.
    live.set_tracking(false);
    live.set_slaves(&cluster.slaves());
    live.set_frameworks(heads);
    let all = cluster.all_tasks();
    for run in all.chunk_by(|a, b| a.0 == b.0) {
        let fw = run.first().map_or("", |t| t.0);
        live.append_tasks(
            fw,
            run.iter().map(|(_, id, t)| (*id, Arc::clone(t))).collect(),
        );
    }
    live.set_masters(leader, masters);
    live.set_tracking(true);
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
    let mut new: Vec<(u64, &str, &str)> = Vec::new();
    for (fw, id, _) in &changes.tasks {
        match (cluster.task(fw, id), live.contains_task(fw, id)) {
            (Some(task), true) => live.upsert_task(fw, id, task),
            (Some(_), false) => {
                let at = cluster.task_arrival(fw, id).unwrap_or(u64::MAX);
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

#[cfg(test)]
mod tests {
    use mesos_records::generate;
    use serde_json::{json, Value};

    use super::*;
    use crate::event::Event;
    use crate::test_config::cfg;

    fn task(id: &str, fw: &str, agent: &str, state: &str, ip: &str) -> Value {
        json!({
            "name": "web", "task_id": {"value": id}, "framework_id": {"value": fw},
            "agent_id": {"value": agent}, "state": state,
            "resources": [{"name": "ports", "type": "RANGES", "role": "*",
                           "ranges": {"range": [{"begin": 31000, "end": 31000}]}}],
            "statuses": [{"task_id": {"value": id}, "state": "TASK_RUNNING", "timestamp": 1.0,
                "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}}]
        })
    }

    fn agent(id: &str, ip: &str) -> Value {
        json!({"agent_info": {"hostname": ip, "port": 5051, "id": {"value": id}},
               "active": true, "pid": format!("slave(1)@{ip}:5051")})
    }

    fn framework(id: &str, name: &str) -> Value {
        json!({"framework_info": {"name": name, "hostname": "10.0.0.9", "id": {"value": id}},
               "active": true})
    }

    fn event(v: Value) -> Event {
        Event::parse(&serde_json::to_vec(&v).unwrap_or_default()).expect("event")
    }

    // Issue 18: every kind of event, fed to the live store as changes,
    // gives what a full generation from the same cluster gives, the
    // enumeration's order included.
    #[test]
    fn issue_18_event_changes_give_the_records_of_a_full_generation() {
        let leader = "master@127.0.0.1:5050";
        let mut c = Cluster::default();
        c.apply(event(json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
            "get_agents": {"agents": [agent("S1", "10.0.0.1")]},
            "get_frameworks": {"frameworks": [framework("F1", "marathon")]},
            "get_tasks": {"tasks": [task("T1", "F1", "S1", "TASK_RUNNING", "172.17.0.1"),
                                    task("T2", "F1", "S1", "TASK_RUNNING", "172.17.0.2")]}}}})));
        let mut live = build(&c, &cfg(), &c.framework_heads(), leader, &[]);
        let _ = c.take_changes();
        let updated = |id: &str, state: &str, ip: &str| {
            json!({"type": "TASK_UPDATED", "task_updated": {
                "framework_id": {"value": "F1"}, "state": state,
                "status": {"task_id": {"value": id}, "state": state, "timestamp": 2.0,
                    "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}}}})
        };
        let steps = [
            vec![json!({"type": "TASK_ADDED", "task_added": {"task":
                task("T3", "F1", "S2", "TASK_RUNNING", "172.17.0.3")}})],
            vec![
                json!({"type": "AGENT_ADDED", "agent_added": {"agent": agent("S2", "10.0.0.2")}}),
            ],
            vec![updated("T1", "TASK_RUNNING", "172.17.0.9")],
            // Killed and started again in one batch: it moves to the end.
            vec![
                updated("T1", "TASK_KILLED", "172.17.0.9"),
                json!({"type": "TASK_ADDED", "task_added": {"task":
                    task("T1", "F1", "S1", "TASK_RUNNING", "172.17.0.8")}}),
                json!({"type": "TASK_ADDED", "task_added": {"task":
                    task("T4", "F2", "S1", "TASK_RUNNING", "172.17.0.4")}}),
            ],
            vec![
                json!({"type": "FRAMEWORK_ADDED", "framework_added": {"framework": framework("F2", "chronos")}}),
            ],
            vec![
                json!({"type": "FRAMEWORK_UPDATED", "framework_updated": {"framework": framework("F1", "mara")}}),
            ],
            vec![
                json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "S2"}}}),
            ],
            vec![
                json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info":
                {"name": "mara", "id": {"value": "F1"}}}}),
            ],
        ];
        for (i, batch) in steps.into_iter().enumerate() {
            let before = live.view().record_set();
            for e in batch {
                c.apply(event(e));
            }
            let changes = c.take_changes();
            sync(&mut live, &c, &changes, leader, &[]);
            let state = c.state(leader);
            let want = generate(&state, &cfg(), &[]).records;
            let got = live.view().record_set();
            assert_eq!(got, want, "step {i}: {changes:?}");
            assert!(same_records(&want, &live.view()), "step {i}");
            assert!(
                !same_records(&before, &live.view()) || before == want,
                "step {i}"
            );
            assert_eq!(live.take_delta(), before.diff(&want), "step {i}");
        }
        assert!(live.view().record_set().a("slave.mesos.").is_some());
    }

    // A store built after a reconcile learned framework pids starts from
    // what was published before it and notes the difference, so its first
    // delta is relative to the published records.
    #[test]
    fn issue_18_a_store_built_late_deltas_from_what_was_published() {
        let leader = "master@127.0.0.1:5050";
        let mut c = Cluster::default();
        c.apply(event(json!({"type": "SUBSCRIBED", "subscribed": {"get_state": {
            "get_agents": {"agents": [agent("S1", "10.0.0.1")]},
            "get_frameworks": {"frameworks": [framework("F1", "marathon")]},
            "get_tasks": {"tasks": [task("T1", "F1", "S1", "TASK_RUNNING", "172.17.0.1")]}}}})));
        let _ = c.take_changes();
        let heads = c.framework_heads();
        let published = generate(&c.state(leader), &cfg(), &[]).records;
        assert!(c.learn_pids(
            br#"{"frameworks": [{"id": "F1", "pid": "scheduler@10.0.0.42:9090"}]}"#
        ));
        let later = "master@127.0.0.2:5050";
        let mut live = build(&c, &cfg(), &heads, leader, &[]);
        live.set_frameworks(&c.framework_heads());
        live.set_masters(later, &[]);
        let now = generate(&c.state(later), &cfg(), &[]).records;
        assert_eq!(live.view().record_set(), now);
        let delta = live.take_delta();
        assert!(!delta.added.is_empty());
        assert_eq!(delta, published.diff(&now));
    }
}
