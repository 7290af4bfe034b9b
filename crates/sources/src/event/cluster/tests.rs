//! The cluster against `/master/state`: the same records either way.
use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::test_config::cfg;
use mesos_records::generate::generate;
use mesos_records::state::State;

fn parse(v: serde_json::Value) -> Event {
    Event::parse(&serde_json::to_vec(&v).unwrap()).unwrap()
}

/// A v1 `Task` as Mesos 1.x renders it.
fn v1_task(id: &str, fw: &str, agent: &str, state: &str, ip: &str) -> serde_json::Value {
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
fn v0_task(id: &str, fw: &str, agent: &str, state: &str, ip: &str) -> serde_json::Value {
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

fn cluster_records(c: &Cluster) -> mesos_records::RecordSet {
    generate(&c.state("master@127.0.0.1:5050"), &cfg(), &[]).records
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
    let from_events = cluster_records(&c);
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
    let rs = cluster_records(&c);
    assert!(rs.a("disco-t2.marathon.mesos.").is_none());
    let running = json!({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": "F1"}, "state": "TASK_RUNNING",
        "status": {"task_id": {"value": "T2"}, "state": "TASK_RUNNING", "timestamp": 1_600_000_000.0,
                   "agent_id": {"value": "S1"},
                   "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "172.17.0.4"}]}]}}}});
    assert!(c.apply(parse(running)));
    let rs = cluster_records(&c);
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
    let rs = cluster_records(&c);
    assert!(rs.a("disco-t2.marathon.mesos.").is_none());
    assert!(rs.a("disco-t1.marathon.mesos.").is_some());
}

// BEHAVIOUR.md 4.8: the IPs come from the latest TASK_RUNNING status
// (the earliest on a tie); the typed task updated status by status
// reads as the whole task with all its statuses does.
#[test]
fn updates_pick_the_status_the_state_reader_picks() {
    let mut c = Cluster::default();
    c.apply(parse(subscribed()));
    let upd = |state: &str, ts: f64, ip: &str| {
        json!({"type": "TASK_UPDATED", "task_updated": {
            "framework_id": {"value": "F1"}, "state": state,
            "status": {"task_id": {"value": "T1"}, "state": state, "timestamp": ts,
                "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}}}})
    };
    let mut statuses = vec![
        json!({"state": "TASK_RUNNING", "timestamp": 1_500_000_000.5,
        "labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": "172.17.0.2"}],
        "container_status": {"network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": "172.17.0.2"}]}]}}),
    ];
    for (state, ts, ip) in [
        ("TASK_RUNNING", 1_400_000_000.0, "10.1.0.1"),
        ("TASK_RUNNING", 1_500_000_000.5, "10.1.0.2"),
        ("TASK_KILLING", 1_600_000_000.0, "10.1.0.3"),
        ("TASK_RUNNING", 1_600_000_000.0, "10.1.0.4"),
        ("TASK_RUNNING", 1_600_000_000.0, "10.1.0.5"),
    ] {
        assert!(c.apply(parse(upd(state, ts, ip))));
        statuses.push(json!({"state": state, "timestamp": ts,
            "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}}));
        let mut task = v0_task("T1", "F1", "S1", state, "172.17.0.2");
        task["statuses"] = json!(statuses);
        assert_eq!(
            cluster_records(&c),
            records_of(&v0_state(vec![task])),
            "{state} {ts} {ip}"
        );
    }
    let ips = cluster_records(&c)
        .a("disco-t1.marathon.mesos.")
        .unwrap()
        .to_vec();
    assert_eq!(ips, [Ipv4Addr::new(10, 1, 0, 4)]);
}

#[test]
fn agent_and_framework_removal_take_their_tasks() {
    let mut c = Cluster::default();
    c.apply(parse(subscribed()));
    assert!(c.apply(parse(
        json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "S1"}}})
    )));
    assert_eq!(c.task_count(), 0);
    let rs = cluster_records(&c);
    assert!(rs.a("disco-t1.marathon.mesos.").is_none());
    assert!(rs.a("slave.mesos.").is_none());

    c.apply(parse(subscribed()));
    let removed = json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info":
        {"name": "marathon", "id": {"value": "F1"}}}});
    assert!(c.apply(parse(removed)));
    let rs = cluster_records(&c);
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
    let rs = cluster_records(&c);
    assert!(rs.a("disco-t1.chronos.mesos.").is_some());
    assert!(rs.a("disco-t1.marathon.mesos.").is_none());
}

#[test]
fn learned_pids_give_framework_records_their_pid_host() {
    let mut c = Cluster::default();
    c.apply(parse(subscribed()));
    let polled = json!({"frameworks": [{"id": "F1", "pid": "scheduler@10.0.0.42:9090"}]});
    let polled = serde_json::to_vec(&polled).unwrap();
    assert!(c.learn_pids(&polled));
    assert!(!c.learn_pids(&polled));
    let rs = cluster_records(&c);
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

// The reconcile's shortcut: a polled state equal to the cluster's needs
// no generation; any difference (here a later status) is seen.
#[test]
fn same_state_matches_the_polled_state_only_when_equal() {
    let leader = "master@127.0.0.1:5050";
    let mut c = Cluster::default();
    c.apply(parse(subscribed()));
    let polled = |ip: &str| {
        State::parse(&v0_state(vec![v0_task(
            "T1",
            "F1",
            "S1",
            "TASK_RUNNING",
            ip,
        )]))
        .unwrap()
    };
    let mut state = polled("172.17.0.2");
    state.leader = leader.to_owned();
    assert!(c.same_state(&state, leader));
    assert!(!c.same_state(&state, "master@127.0.0.2:5050"));
    let running = json!({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": "F1"}, "state": "TASK_RUNNING",
        "status": {"task_id": {"value": "T1"}, "state": "TASK_RUNNING", "timestamp": 1_600_000_000.0,
                   "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "172.17.0.4"}]}]}}}});
    c.apply(parse(running));
    assert!(!c.same_state(&state, leader));
}

#[test]
fn a_cluster_whose_agents_or_frameworks_are_all_malformed_is_unusable() {
    let mut c = Cluster::default();
    assert_eq!(c.unusable(), None, "an empty cluster is usable");
    c.apply(parse(subscribed()));
    assert_eq!(c.unusable(), None);

    let mut bad_frameworks = subscribed();
    bad_frameworks["subscribed"]["get_state"]["get_frameworks"]["frameworks"][0]
        ["framework_info"]["name"] = json!(7);
    c.apply(parse(bad_frameworks));
    let why = c.unusable().expect("no framework is usable");
    assert!(why.contains("all 1 frameworks are malformed"), "{why}");

    let mut bad_agents = subscribed();
    bad_agents["subscribed"]["get_state"]["get_agents"]["agents"][0]["pid"] = json!(7);
    c.apply(parse(bad_agents));
    let why = c.unusable().expect("no agent is usable");
    assert!(why.contains("all 1 slaves are malformed"), "{why}");

    c.apply(parse(subscribed()));
    assert_eq!(c.unusable(), None, "usable again");
}

// The state lent by `with_state` is `state()`'s, whether the tasks are
// moved (no one else holds them) or copied (one is held elsewhere), and
// the cluster holds the same tasks after.
#[test]
fn the_state_lent_is_the_state_and_the_tasks_come_back() {
    let leader = "master@127.0.0.1:5050";
    let mut c = Cluster::default();
    let mut sub = subscribed();
    let tasks = &mut sub["subscribed"]["get_state"]["get_tasks"]["tasks"];
    for (i, fw) in [(2, "F1"), (3, "F9"), (4, "F1")] {
        let t = v1_task(&format!("T{i}"), fw, "S1", "TASK_RUNNING", "172.17.0.9");
        tasks.as_array_mut().unwrap().push(t);
    }
    tasks
        .as_array_mut()
        .unwrap()
        .push(json!({"task_id": {"value": "T5"},
        "framework_id": {"value": "F1"}, "agent_id": {"value": "S1"}, "name": 5}));
    c.apply(parse(sub));
    let want = c.state(leader);
    assert_eq!(want.frameworks[0].tasks.len(), 3);
    assert!(!want.skips.is_empty(), "the malformed task's skip");
    let held = c.task("F1", "T2").unwrap();
    for _ in 0..2 {
        assert_eq!(c.with_state(leader, Clone::clone), want);
        assert_eq!(c.state(leader), want);
    }
    assert!(Arc::ptr_eq(&held, &c.task("F1", "T2").unwrap()));
    drop(held);
    assert_eq!(c.with_state(leader, Clone::clone), want);
    assert_eq!(*c.task("F1", "T4").unwrap(), want.frameworks[0].tasks[2]);
}
