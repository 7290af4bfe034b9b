//! Same answers, always (issue 18): random sequences of events and of
//! polled states through the live store and through a from-scratch
//! `generate()`, with identical record sets (enumeration included), skips,
//! deltas and lookups after every step.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use mesos_records::delta::Lookup;
use mesos_records::state::{
    Discovery, DiscoveryPort, Framework, Pid, Slave, State, StatusIps, Task,
};
use mesos_records::{
    generate, GenConfig, Live, LiveView, LocalAddrs, RecordSet, Resolver,
};
use proptest::prelude::*;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn cfg(variant: u8) -> GenConfig {
    let localhost = [IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let mut c = GenConfig {
        listener: "127.0.0.1".to_owned(),
        resolver: Resolver::fixed(&[("localhost", &localhost[..])]),
        local_addrs: LocalAddrs::fixed(&[]),
        ..GenConfig::default()
    };
    match variant {
        // The nameserver record lands on `master.D.`, where the master walk
        // looks for addresses given before it.
        1 => {
            c.soa_mname = "master.mesos.".to_owned();
            c.listener = "10.0.0.2".to_owned();
        }
        2 => {
            c.enumeration = false;
            c.enforce_rfc952 = true;
        }
        _ => {}
    }
    c
}

fn pid(last: u8, port: u16) -> Pid {
    Pid {
        host: format!("10.0.0.{last}"),
        port,
    }
}

fn slave() -> impl Strategy<Value = Slave> {
    (0..4u8, 1..4u8, prop_oneof![Just(5051u16), Just(5052)]).prop_map(
        |(id, last, port)| Slave {
            id: format!("S{id}"),
            pid: if last == 3 {
                Pid {
                    host: "nohost".to_owned(),
                    port,
                }
            } else {
                pid(last, port)
            },
        },
    )
}

fn framework_head() -> impl Strategy<Value = Framework> {
    (
        prop::sample::select(vec!["marathon", "chronos", "master", "a.b", "Web Shop"]),
        0..5u8,
    )
        .prop_map(|(name, how)| Framework {
            name: name.to_owned(),
            hostname: if how == 3 { "localhost" } else { "" }.to_owned(),
            pid: (how < 3).then(|| pid(how + 1, 8080)),
            bad_pid: how == 4,
            tasks: Vec::new(),
        })
}

fn task() -> impl Strategy<Value = Task> {
    (
        0..6u8,
        prop::sample::select(vec!["web", "api", "Web_UI", "my.shop", ""]),
        0..5u8,
        prop::sample::select(vec!["TASK_RUNNING", "TASK_RUNNING", "TASK_STAGING"]),
        prop::collection::vec(prop::sample::select(vec![80u16, 443, 31000]), 0..3),
        prop::option::of((0..4u8, 0..3u8)),
        prop::option::of((
            prop::sample::select(vec!["api", "My Shop", "web"]),
            prop::collection::vec((0..3u16, 0..3u8), 0..3),
        )),
    )
        .prop_map(|(id, name, slave, state, ports, status, di)| Task {
            id: format!("t{id}").into(),
            name: name.into(),
            slave_id: format!("S{slave}").into(),
            state: state.into(),
            ports: ports.into(),
            running_status: status.map(|(a, which)| {
                let ips = vec![ip(100 + a)];
                match which {
                    0 => StatusIps::new(vec![], vec![], ips, None),
                    1 => StatusIps::new(ips, vec![], vec![], None),
                    _ => StatusIps::new(vec![], ips, vec![], None),
                }
            }),
            discovery: di.map(|(name, ports)| {
                Box::new(Discovery {
                    name: name.to_owned(),
                    ports: ports
                        .into_iter()
                        .map(|(n, p)| DiscoveryPort {
                            number: 8000 + n,
                            protocol: ["tcp", "", "UDP"][usize::from(p)].to_owned(),
                            name: ["", "http", "Web_UI"][usize::from(n)].to_owned(),
                        })
                        .collect(),
                })
            }),
            labels: Box::default(),
        })
}

fn leader() -> impl Strategy<Value = (String, Vec<String>)> {
    (1..4u8, 0..3u8).prop_map(|(l, m)| {
        let masters = match m {
            0 => vec![],
            1 => vec![format!("10.0.0.{l}:5050"), "10.0.0.2:5050".to_owned()],
            _ => vec![
                String::new(),
                "10.0.0.1:5050".to_owned(),
                "10.0.0.3:5050".to_owned(),
            ],
        };
        (format!("master@10.0.0.{l}:5050"), masters)
    })
}

/// Checks the live view against a from-scratch generation, and the delta
/// against the diff of the two record sets.
fn check(
    live: &mut Live,
    state: &State,
    masters: &[String],
    cfg: &GenConfig,
    before: &RecordSet,
) -> Result<RecordSet, TestCaseError> {
    let want = generate(state, cfg, masters);
    let view: LiveView = live.view();
    let got = view.record_set();
    prop_assert_eq!(got.dump(), want.records.dump());
    prop_assert_eq!(
        format!("{:?}", got.enumeration()),
        format!("{:?}", want.records.enumeration())
    );
    prop_assert_eq!(&got, &want.records);
    prop_assert_eq!(view.skips(), want.skips);
    let delta = live.take_delta();
    prop_assert_eq!(&delta, &before.diff(&want.records));
    for name in delta.names() {
        prop_assert_eq!(view.a(name), Lookup::a(&want.records, name));
        prop_assert_eq!(view.aaaa(name), Lookup::aaaa(&want.records, name));
        prop_assert_eq!(view.srv(name), Lookup::srv(&want.records, name));
        prop_assert_eq!(
            view.srv_owners(name),
            Lookup::srv_owners(&want.records, name)
        );
    }
    Ok(want.records)
}

#[derive(Clone, Debug)]
enum Op {
    UpsertTask(usize, Task),
    AppendTasks(usize, Vec<Task>),
    RemoveTask(usize, u8),
    UpsertFramework(usize, Framework),
    RemoveFramework(usize),
    Slaves(Vec<Slave>),
    Leader(String, Vec<String>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, task()).prop_map(|(f, t)| Op::UpsertTask(f, t)),
        2 => (0..3usize, prop::collection::vec(task(), 0..8))
            .prop_map(|(f, t)| Op::AppendTasks(f, t)),
        2 => (0..3usize, 0..6u8).prop_map(|(f, t)| Op::RemoveTask(f, t)),
        2 => (0..3usize, framework_head()).prop_map(|(f, h)| Op::UpsertFramework(f, h)),
        1 => (0..3usize).prop_map(Op::RemoveFramework),
        1 => prop::collection::vec(slave(), 0..4).prop_map(Op::Slaves),
        1 => leader().prop_map(|(l, m)| Op::Leader(l, m)),
    ]
}

/// The cluster as the event source keeps it: frameworks by id in arrival
/// order, tasks per framework in arrival order.
#[derive(Default)]
struct Model {
    frameworks: Vec<(String, Framework)>,
    tasks: HashMap<String, Vec<Task>>,
    slaves: Vec<Slave>,
    leader: String,
    masters: Vec<String>,
}

impl Model {
    fn state(&self) -> State {
        State {
            leader: self.leader.clone(),
            slaves: self.slaves.clone(),
            frameworks: self
                .frameworks
                .iter()
                .map(|(id, f)| Framework {
                    tasks: self.tasks.get(id).cloned().unwrap_or_default(),
                    ..f.clone()
                })
                .collect(),
            skips: Vec::new(),
        }
    }

    /// Applies `op` to the model and the store alike.
    fn apply(&mut self, op: Op, live: &mut Live) {
        let fw_id = |f: usize| format!("fw{f}");
        match op {
            Op::UpsertTask(f, t) => {
                let list = self.tasks.entry(fw_id(f)).or_default();
                match list.iter_mut().find(|x| x.id == t.id) {
                    Some(x) => *x = t.clone(),
                    None => list.push(t.clone()),
                }
                live.upsert_task(&fw_id(f), &t.id.clone(), t);
            }
            Op::AppendTasks(f, ts) => {
                // As many upserts, at once (a store being filled).
                let list = self.tasks.entry(fw_id(f)).or_default();
                for t in &ts {
                    match list.iter_mut().find(|x| x.id == t.id) {
                        Some(x) => *x = t.clone(),
                        None => list.push(t.clone()),
                    }
                }
                let keys: Vec<String> = ts.iter().map(|t| t.id.to_string()).collect();
                let batch = keys
                    .iter()
                    .map(String::as_str)
                    .zip(ts.into_iter().map(Arc::new));
                live.append_tasks(&fw_id(f), batch.collect());
            }
            Op::RemoveTask(f, t) => {
                let id = format!("t{t}");
                if let Some(list) = self.tasks.get_mut(&fw_id(f)) {
                    list.retain(|x| *x.id != *id);
                }
                live.remove_task(&fw_id(f), &id);
            }
            Op::UpsertFramework(f, h) => {
                match self.frameworks.iter_mut().find(|(id, _)| *id == fw_id(f)) {
                    Some(x) => x.1 = h,
                    None => self.frameworks.push((fw_id(f), h)),
                }
                live.set_frameworks(&self.frameworks);
            }
            Op::RemoveFramework(f) => {
                self.frameworks.retain(|(id, _)| *id != fw_id(f));
                self.tasks.remove(&fw_id(f));
                live.remove_tasks_of(&fw_id(f));
                live.set_frameworks(&self.frameworks);
            }
            Op::Slaves(s) => {
                self.slaves = s;
                live.set_slaves(&self.slaves);
            }
            Op::Leader(l, m) => {
                self.leader = l;
                self.masters = m;
                live.set_masters(&self.leader, &self.masters);
            }
        }
    }
}

fn polled_state() -> impl Strategy<Value = State> {
    (
        leader(),
        prop::collection::vec(slave(), 0..4),
        prop::collection::vec(
            (framework_head(), prop::collection::vec(task(), 0..6)),
            0..4,
        ),
    )
        .prop_map(|((leader, _), slaves, fws)| State {
            leader,
            slaves,
            frameworks: fws
                .into_iter()
                .map(|(head, tasks)| Framework { tasks, ..head })
                .collect(),
            skips: Vec::new(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn issue_18_events_through_the_live_store_equal_full_generation(
        variant in 0..3u8,
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let cfg = cfg(variant);
        let mut live = Live::new(&cfg);
        let mut model = Model::default();
        let mut before = RecordSet::default();
        // The store starts with the listener and no leader.
        before = check(&mut live, &model.state(), &model.masters, &cfg, &before)?;
        for op in ops {
            model.apply(op, &mut live);
            before = check(&mut live, &model.state(), &model.masters, &cfg, &before)?;
        }
    }

    #[test]
    fn issue_18_polled_states_through_the_live_store_equal_full_generation(
        variant in 0..3u8,
        states in prop::collection::vec((polled_state(), leader()), 1..12),
    ) {
        let cfg = cfg(variant);
        let mut live = Live::new(&cfg);
        let mut before = check(&mut live, &State::default(), &[], &cfg, &RecordSet::default())?;
        let mut last: Option<State> = None;
        let mut last_masters: Vec<String> = Vec::new();
        for (i, (mut state, (_, masters))) in states.into_iter().enumerate() {
            // Now and then the store is filled whole from the last state
            // (untracked: its maps filled as hash maps, then built once)
            // and goes on from there.
            if let (2, Some(prev)) = (i % 3, &last) {
                live = Live::new(&cfg);
                live.set_tracking(false);
                live.load(prev, &last_masters);
                live.set_tracking(true);
                prop_assert!(live.take_delta().is_empty());
                prop_assert_eq!(&live.view().record_set(), &before);
            }
            last_masters.clone_from(&masters);
            // Often a small change of the last state rather than a new one.
            if let Some(prev) = last.take() {
                if state.frameworks.len() % 2 == 0 {
                    let mut next = prev.clone();
                    next.leader = state.leader.clone();
                    if let (Some(fw), Some(new)) = (next.frameworks.first_mut(), state.frameworks.first()) {
                        fw.tasks.extend(new.tasks.iter().cloned());
                        if !fw.tasks.is_empty() {
                            fw.tasks.remove(0);
                        }
                    }
                    state = next;
                }
            }
            // A state no longer needed gives its tasks to the store.
            match state.frameworks.iter().map(|f| f.tasks.len()).sum::<usize>() % 2 {
                0 => live.load(&state, &masters),
                _ => live.load_owned(state.clone(), &masters),
            }
            before = check(&mut live, &state, &masters, &cfg, &before)?;
            last = Some(state);
        }
    }
}
