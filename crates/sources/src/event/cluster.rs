//! The cluster that operator API events keep up to date, stored in the
//! `/master/state` shape, and the state body assembled from it.

use std::collections::HashMap;

use mesos_records::state::{Framework, Slave, State, Task};
use serde_json::{json, Value};

use super::tasks::Tasks;
use super::{list, AgentEntry, Event, FrameworkEntry, Snapshot, TaskEntry, TERMINAL};

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

/// The cluster as the events describe it, in `/master/state` form.
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
        for a in snapshot.agents {
            self.upsert_agent(a);
        }
        for f in snapshot.frameworks {
            self.upsert_framework(f);
        }
        for t in snapshot.tasks {
            self.upsert_task(t);
        }
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
            } => self.update_task(&framework_id, &task_id, state, status),
            Event::AgentAdded(a) => {
                self.upsert_agent(a);
                true
            }
            Event::AgentRemoved(id) => {
                let before = self.agents.len();
                self.agents.retain(|a| a.id != id);
                self.changes.agents = true;
                for tasks in self.tasks.values_mut() {
                    for t in tasks.take_where(|t| t.agent_id == id) {
                        self.changes.task(&t.framework_id, &t.id, true);
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
                    self.changes.task(&t.framework_id, &t.id, true);
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
        let tasks = self.tasks.entry(t.framework_id.clone()).or_default();
        tasks.upsert(t, &mut self.next_arrival);
    }

    fn update_task(&mut self, fw: &str, id: &str, state: Value, status: Value) -> bool {
        let Some(tasks) = self.tasks.get_mut(fw) else {
            log::debug!("TASK_UPDATED for task {id:?} of unknown framework {fw:?}");
            return false;
        };
        if tasks.get(id).is_none() {
            log::debug!("TASK_UPDATED for unknown task {id:?}");
            return false;
        }
        if state.as_str().is_some_and(|s| TERMINAL.contains(&s)) {
            tasks.remove(id);
            self.changes.task(fw, id, true);
            return true;
        }
        self.changes.task(fw, id, false);
        let Some(task) = tasks.get_mut(id) else {
            return false;
        };
        task.json.insert("state".to_owned(), state);
        match task.json.get_mut("statuses").and_then(Value::as_array_mut) {
            Some(list) => list.push(status),
            None => {
                task.json.insert("statuses".to_owned(), json!([status]));
            }
        }
        task.refresh_text();
        true
    }

    /// Takes framework `pid`s from a `/master/state` body (v1 events do not
    /// carry them). Returns true when one changed.
    pub fn learn_pids(&mut self, state_body: &Value) -> bool {
        let mut changed = false;
        let mut seen = HashMap::new();
        for fw in list(state_body, &["frameworks"]) {
            if let (Some(id), Some(pid)) =
                (fw.get("id").and_then(Value::as_str), fw.get("pid"))
            {
                seen.insert(id.to_owned(), pid.clone());
            }
        }
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

    /// The agents as the state reader reads them from
    /// [`Cluster::state_json`] (malformed ones left out; none if all are).
    pub fn slaves(&self) -> Vec<Slave> {
        let mut body = String::from("{\"leader\":\"-\",\"slaves\":[");
        for (i, a) in self.agents.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&a.json.to_string());
        }
        body.push_str("]}");
        State::parse(body.as_bytes()).map_or_else(|_| Vec::new(), |s| s.slaves)
    }

    /// The frameworks, by id in list order, as the state reader reads them
    /// (without tasks; a malformed one left out).
    pub fn framework_heads(&self) -> Vec<(String, Framework)> {
        self.frameworks
            .iter()
            .filter_map(|f| {
                let body = format!(
                    "{{\"leader\":\"-\",\"frameworks\":[{},\"tasks\":[]}}]}}",
                    self.framework_head(f)
                );
                let state = State::parse(body.as_bytes()).ok()?;
                let fw = state.frameworks.into_iter().next()?;
                Some((f.id.clone(), fw))
            })
            .collect()
    }

    /// Task `id` of framework `fw` as the state reader reads it, or `None`
    /// (unknown, or malformed).
    pub fn task(&self, fw: &str, id: &str) -> Option<Task> {
        read_task(&self.tasks.get(fw)?.get(id)?.text)
    }

    /// Task `id`'s arrival number: framework `fw`'s tasks sort by it in
    /// list order.
    pub fn task_arrival(&self, fw: &str, id: &str) -> Option<u64> {
        self.tasks.get(fw)?.arrival(id)
    }

    /// Every task, by framework id and in each framework's order, as the
    /// state reader reads it (malformed ones left out).
    pub fn all_tasks(&self) -> Vec<(&str, &str, Task)> {
        let mut out = Vec::with_capacity(self.task_count());
        for (fw, tasks) in &self.tasks {
            for t in tasks {
                if let Some(task) = read_task(&t.text) {
                    out.push((fw.as_str(), t.id.as_str(), task));
                }
            }
        }
        out
    }

    /// A `/master/state` body for [`State::parse`](mesos_records::State::parse):
    /// `leader`, `slaves`, and `frameworks` with their tasks.
    pub fn state_json(&self, leader: &str) -> Vec<u8> {
        // Concatenated from pre-serialized parts: a publish costs one copy
        // of the state text, not a rebuild of a JSON tree.
        let mut out = String::with_capacity(
            64 + self
                .tasks
                .values()
                .flatten()
                .map(|t| t.text.len() + 1)
                .sum::<usize>(),
        );
        out.push_str("{\"leader\":");
        out.push_str(&Value::from(leader).to_string());
        out.push_str(",\"slaves\":[");
        for (i, a) in self.agents.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&a.json.to_string());
        }
        out.push_str("],\"frameworks\":[");
        for (i, f) in self.frameworks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&self.framework_head(f));
            out.push_str(",\"tasks\":[");
            for (j, t) in self.tasks.get(&f.id).into_iter().flatten().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str(&t.text);
            }
            out.push_str("]}");
        }
        out.push_str("]}");
        out.into_bytes()
    }
}

/// One task's `/master/state` text read by the state reader.
fn read_task(text: &str) -> Option<Task> {
    let body = format!("{{\"leader\":\"-\",\"frameworks\":[{{\"tasks\":[{text}]}}]}}");
    let state = State::parse(body.as_bytes()).ok()?;
    state
        .frameworks
        .into_iter()
        .next()?
        .tasks
        .into_iter()
        .next()
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use mesos_records::generate::{generate, GenConfig};
    use mesos_records::host::{LocalAddrs, Resolver};
    use mesos_records::state::State;

    fn cfg() -> GenConfig {
        GenConfig {
            listener: "127.0.0.1".to_owned(),
            resolver: Resolver::fixed(&[]),
            local_addrs: LocalAddrs::fixed(&[IpAddr::V4(Ipv4Addr::LOCALHOST)]),
            ..GenConfig::default()
        }
    }

    fn parse(v: serde_json::Value) -> Event {
        Event::parse(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    /// A v1 `Task` as Mesos 1.x renders it.
    fn v1_task(
        id: &str,
        fw: &str,
        agent: &str,
        state: &str,
        ip: &str,
    ) -> serde_json::Value {
        json!({
            "name": format!("web-{id}"),
            "task_id": {"value": id},
            "framework_id": {"value": fw},
            "agent_id": {"value": agent},
            "state": state,
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}, "role": "*"},
                {"name": "ports", "type": "RANGES", "role": "*",
                 "ranges": {"range": [{"begin": 31005, "end": 31005}, {"begin": 31000, "end": 31001}]}},
                {"name": "ports", "type": "RANGES", "role": "*", "revocable": {},
                 "ranges": {"range": [{"begin": 32000, "end": 32000}]}}
            ],
            "statuses": [{
                "task_id": {"value": id},
                "state": "TASK_RUNNING",
                "source": "SOURCE_EXECUTOR",
                "timestamp": 1_500_000_000.5,
                "labels": {"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": ip}]},
                "container_status": {"network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}]}
            }],
            "discovery": {"visibility": "FRAMEWORK", "name": format!("disco-{id}"),
                          "ports": {"ports": [{"number": 80, "protocol": "tcp", "name": "http"}]}}
        })
    }

    /// The same task as `/master/state` renders it.
    fn v0_task(
        id: &str,
        fw: &str,
        agent: &str,
        state: &str,
        ip: &str,
    ) -> serde_json::Value {
        json!({
            "id": id, "name": format!("web-{id}"), "framework_id": fw, "slave_id": agent,
            "state": state,
            "resources": {"cpus": 0.1, "mem": 0, "disk": 0, "gpus": 0, "ports": "[31000-31001, 31005-31005]"},
            "statuses": [{
                "state": "TASK_RUNNING", "timestamp": 1_500_000_000.5,
                "labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": ip}],
                "container_status": {"network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}]}
            }],
            "discovery": {"visibility": "FRAMEWORK", "name": format!("disco-{id}"),
                          "ports": {"ports": [{"number": 80, "protocol": "tcp", "name": "http"}]}}
        })
    }

    fn subscribed() -> serde_json::Value {
        json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "heartbeat_interval_seconds": 15.0,
                "get_state": {
                    "get_agents": {"agents": [{
                        "agent_info": {"hostname": "10.0.0.1", "port": 5051, "id": {"value": "S1"}},
                        "active": true, "version": "1.4.0", "pid": "slave(1)@10.0.0.1:5051"
                    }]},
                    "get_frameworks": {"frameworks": [{
                        "framework_info": {"user": "root", "name": "marathon", "hostname": "10.0.0.9",
                                           "id": {"value": "F1"}},
                        "active": true, "connected": true
                    }]},
                    "get_tasks": {"tasks": [v1_task("T1", "F1", "S1", "TASK_RUNNING", "172.17.0.2")]}
                }
            }
        })
    }

    fn v0_state(tasks: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "leader": "master@127.0.0.1:5050",
            "slaves": [{"id": "S1", "pid": "slave(1)@10.0.0.1:5051", "hostname": "10.0.0.1"}],
            "frameworks": [{"id": "F1", "name": "marathon", "hostname": "10.0.0.9", "tasks": tasks}]
        }))
        .unwrap()
    }

    fn records_of(body: &[u8]) -> mesos_records::RecordSet {
        generate(&State::parse(body).unwrap(), &cfg(), &[]).records
    }

    #[test]
    fn subscribed_gives_the_same_records_as_master_state() {
        let mut c = Cluster::default();
        let Event::Subscribed { heartbeat, .. } = parse(subscribed()) else {
            panic!("not SUBSCRIBED");
        };
        assert_eq!(heartbeat, Some(Duration::from_secs(15)));
        assert!(c.apply(parse(subscribed())));
        let from_events = records_of(&c.state_json("master@127.0.0.1:5050"));
        let polled = records_of(&v0_state(vec![v0_task(
            "T1",
            "F1",
            "S1",
            "TASK_RUNNING",
            "172.17.0.2",
        )]));
        assert_eq!(from_events, polled);
        assert!(
            from_events.a("disco-t1.marathon.mesos.").is_some(),
            "{from_events:?}"
        );
        assert!(from_events.srv_records().next().is_some());
    }

    #[test]
    fn task_added_then_killed_shows_up_and_goes_away() {
        let mut c = Cluster::default();
        c.apply(parse(subscribed()));
        let added = json!({"type": "TASK_ADDED", "task_added": {"task":
            v1_task("T2", "F1", "S1", "TASK_STAGING", "172.17.0.3")}});
        assert!(c.apply(parse(added)));
        // Staging: no records yet.
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        assert!(rs.a("disco-t2.marathon.mesos.").is_none());
        let running = json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "F1"}, "state": "TASK_RUNNING",
            "status": {"task_id": {"value": "T2"}, "state": "TASK_RUNNING", "timestamp": 1_600_000_000.0,
                       "agent_id": {"value": "S1"},
                       "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "172.17.0.4"}]}]}}}});
        assert!(c.apply(parse(running)));
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        let ips = rs
            .a("disco-t2.marathon.mesos.")
            .expect("running task has an A record");
        assert!(
            ips.contains(&Ipv4Addr::new(172, 17, 0, 4)),
            "latest status wins: {ips:?}"
        );
        let killed = json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "F1"}, "state": "TASK_KILLED",
            "status": {"task_id": {"value": "T2"}, "state": "TASK_KILLED", "timestamp": 1_600_000_001.0}}});
        assert!(c.apply(parse(killed)));
        assert_eq!(c.task_count(), 1);
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        assert!(rs.a("disco-t2.marathon.mesos.").is_none());
        assert!(rs.a("disco-t1.marathon.mesos.").is_some());
    }

    #[test]
    fn agent_and_framework_removal_take_their_tasks() {
        let mut c = Cluster::default();
        c.apply(parse(subscribed()));
        assert!(c.apply(parse(
            json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "S1"}}})
        )));
        assert_eq!(c.task_count(), 0);
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        assert!(rs.a("disco-t1.marathon.mesos.").is_none());
        assert!(rs.a("slave.mesos.").is_none());

        c.apply(parse(subscribed()));
        let removed = json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info":
            {"name": "marathon", "id": {"value": "F1"}}}});
        assert!(c.apply(parse(removed)));
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        assert!(rs.a("marathon.mesos.").is_none());
        assert!(rs.a("disco-t1.marathon.mesos.").is_none());
        assert!(rs.a("slave.mesos.").is_some());
    }

    #[test]
    fn agent_added_without_pid_uses_hostname_and_port() {
        let e = parse(json!({"type": "AGENT_ADDED", "agent_added": {"agent": {
            "agent_info": {"hostname": "10.0.0.7", "port": 5052, "id": {"value": "S7"}}, "active": true}}}));
        let Event::AgentAdded(a) = e else {
            panic!("{e:?}")
        };
        assert_eq!(a.json["pid"], json!("slave(1)@10.0.0.7:5052"));
    }

    #[test]
    fn framework_updated_replaces_the_name() {
        let mut c = Cluster::default();
        c.apply(parse(subscribed()));
        let upd = json!({"type": "FRAMEWORK_UPDATED", "framework_updated": {"framework": {
            "framework_info": {"name": "chronos", "hostname": "10.0.0.9", "id": {"value": "F1"}}}}});
        c.apply(parse(upd));
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        assert!(rs.a("disco-t1.chronos.mesos.").is_some());
        assert!(rs.a("disco-t1.marathon.mesos.").is_none());
    }

    #[test]
    fn learned_pids_give_framework_records_their_pid_host() {
        let mut c = Cluster::default();
        c.apply(parse(subscribed()));
        let polled =
            json!({"frameworks": [{"id": "F1", "pid": "scheduler@10.0.0.42:9090"}]});
        assert!(c.learn_pids(&polled));
        assert!(!c.learn_pids(&polled));
        let rs = records_of(&c.state_json("master@127.0.0.1:5050"));
        let ips = rs.a("marathon.mesos.").unwrap();
        assert!(ips.contains(&Ipv4Addr::new(10, 0, 0, 42)), "{ips:?}");
    }

    #[test]
    fn heartbeat_and_unknown_types_change_nothing() {
        let mut c = Cluster::default();
        assert!(!c.apply(parse(json!({"type": "HEARTBEAT"}))));
        let e = parse(json!({"type": "OPERATION_UPDATED", "operation_updated": {}}));
        assert_eq!(e, Event::Other("OPERATION_UPDATED".to_owned()));
        assert!(!c.apply(e));
    }

    #[test]
    fn updates_for_unknown_tasks_change_nothing() {
        let mut c = Cluster::default();
        c.apply(parse(subscribed()));
        let upd = json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "F1"}, "state": "TASK_RUNNING",
            "status": {"task_id": {"value": "nope"}, "state": "TASK_RUNNING"}}});
        assert!(!c.apply(parse(upd)));
    }
}
