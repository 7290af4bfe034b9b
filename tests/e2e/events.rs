//! The event-stream state source (`StateSource: "events"`) against the fake
//! operator master: records identical to polling, changes showing up and
//! going away, stream faults and leader changes recovering without loss,
//! and the change-to-DNS latency under query load.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos_dns::table::{Publisher, SharedTable, Table};
use mesos_dns_tests::dns::{query, test_config, udp_exchange};
use mesos_dns_tests::fake_operator::{
    Change, FakeAgent, FakeCluster, FakeFramework, FakeOperator, FakeStatus, FakeTask,
};
use mesos_dns_tests::zookeeper::ZkServer;
use mesos_records::{generate, RecordSet, State};
use mesos_sources::fetch::Auth;
use mesos_sources::master::DetectorSpec;
use mesos_sources::poller::{self, Poller};
use mesos_sources::{EventSource, Source, Update};
use proptest::prelude::*;

use crate::poller::{gen_config, poller_config};

/// Heartbeat interval the fake masters announce.
const HEARTBEAT: Duration = Duration::from_millis(250);

fn agent(i: u8) -> FakeAgent {
    FakeAgent {
        id: format!("S{i}"),
        ip: format!("10.0.0.{}", i + 1),
        port: 5051,
    }
}

fn framework(id: &str, name: &str) -> FakeFramework {
    FakeFramework {
        id: id.to_owned(),
        name: name.to_owned(),
        hostname: "10.0.9.1".to_owned(),
    }
}

fn task(id: &str, name: &str, fw: &str, agent: &str, ip: Option<&str>) -> FakeTask {
    FakeTask {
        id: id.to_owned(),
        name: name.to_owned(),
        framework_id: fw.to_owned(),
        agent_id: agent.to_owned(),
        state: "TASK_RUNNING".to_owned(),
        ports: vec![(31000, 31001)],
        statuses: vec![FakeStatus {
            state: "TASK_RUNNING".to_owned(),
            timestamp: 1.0,
            ip: ip.map(str::to_owned),
            healthy: None,
        }],
        discovery: None,
        labels: Vec::new(),
    }
}

fn small_cluster() -> FakeCluster {
    FakeCluster {
        agents: vec![agent(0), agent(1)],
        frameworks: vec![framework("F1", "marathon")],
        tasks: vec![task("web.1", "web", "F1", "S0", Some("172.17.0.2"))],
    }
}

/// Runs the subscriber against `masters`, collecting the last published set.
struct Subscriber {
    poller: Option<Poller>,
    last: Arc<Mutex<Option<RecordSet>>>,
    masters: Vec<String>,
}

impl Subscriber {
    fn start(masters: &[String], refresh: Duration) -> Subscriber {
        Self::start_from(Source::Masters(masters.to_vec()), masters, refresh)
    }

    fn start_from(source: Source, masters: &[String], refresh: Duration) -> Subscriber {
        let mut ev = EventSource::new(source);
        ev.heartbeat = HEARTBEAT * 2;
        let cfg = poller_config(Source::Events(Box::new(ev)), refresh);
        let last = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&last);
        let poller =
            poller::spawn(cfg, move |set| *sink.lock().unwrap() = Some(set)).unwrap();
        Subscriber {
            poller: Some(poller),
            last,
            masters: masters.to_vec(),
        }
    }

    fn status(&self) -> &mesos_sources::PollerStatus {
        self.poller.as_ref().unwrap().status()
    }

    /// Waits (bounded) until the published records equal what polling
    /// `state` gives.
    fn wait_same_as(&self, state: &[u8], within: Duration) -> RecordSet {
        self.wait_same_as_with(state, &self.masters, within)
    }

    /// As [`Subscriber::wait_same_as`], with the master list the detector
    /// reports now.
    fn wait_same_as_with(
        &self,
        state: &[u8],
        masters: &[String],
        within: Duration,
    ) -> RecordSet {
        let polled = polled_records(state, masters);
        let deadline = Instant::now() + within;
        loop {
            let last = self.last.lock().unwrap().clone();
            if last.as_ref() == Some(&polled) {
                return polled;
            }
            if Instant::now() >= deadline {
                panic!(
                    "event-built records never matched polling within {within:?}\n\
                     events: {last:#?}\npolled: {polled:#?}"
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        if let Some(p) = self.poller.take() {
            p.stop();
        }
    }
}

/// What the poller would publish for `state`.
fn polled_records(state: &[u8], masters: &[String]) -> RecordSet {
    let state = State::parse(state).unwrap();
    generate(&state, &gen_config(), masters).records
}

fn has_a(rs: &RecordSet, name: &str) -> bool {
    rs.a(name).is_some()
}

fn wait_until(within: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn events_follow_task_start_kill_agent_loss_and_framework_removal() {
    let m = FakeOperator::start(small_cluster(), HEARTBEAT).unwrap();
    let sub = Subscriber::start(&[m.host_port()], Duration::from_secs(60));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "web.marathon.mesos."), "{rs:#?}");
    // mesosdns_state_bytes: the SUBSCRIBED record's size, as a polled
    // state's body.
    let subscribed = m
        .cluster()
        .lock()
        .unwrap()
        .subscribed(HEARTBEAT)
        .to_string();
    assert_eq!(
        sub.status().state_bytes.load(Ordering::Relaxed),
        subscribed.len() as u64
    );

    // Task start: staging first (no records), then running.
    let mut t = task("api.1", "api", "F1", "S1", Some("172.17.0.3"));
    t.state = "TASK_STAGING".to_owned();
    t.statuses.clear();
    assert!(m.change(&Change::AddTask(t)));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(!has_a(&rs, "api.marathon.mesos."));
    assert!(m.change(&Change::UpdateTask(
        "api.1".into(),
        "TASK_RUNNING".into(),
        2.0,
        Some("172.17.0.3".into())
    )));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "api.marathon.mesos."));

    // Kill.
    assert!(m.change(&Change::UpdateTask(
        "api.1".into(),
        "TASK_KILLED".into(),
        3.0,
        None
    )));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(!has_a(&rs, "api.marathon.mesos."));

    // Agent loss takes web.1 (on S0) away, and the agent comes back.
    assert!(m.change(&Change::RemoveAgent("S0".into())));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(!has_a(&rs, "web.marathon.mesos."));
    assert!(m.change(&Change::AddAgent(agent(0))));
    assert!(m.change(&Change::AddTask(task("web.2", "web", "F1", "S0", None))));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "web.marathon.mesos."));

    // Framework removal takes its records and tasks.
    assert!(m.change(&Change::RemoveFramework("F1".into())));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(
        !rs.a_records().any(|(n, _)| n.ends_with(".marathon.mesos.")),
        "{rs:#?}"
    );
    assert!(has_a(&rs, "slave.mesos."));

    assert_eq!(
        sub.status()
            .events
            .reconcile_differences
            .load(Ordering::Relaxed),
        0
    );
    assert_eq!(m.subscribes(), 1, "no resubscription was needed");
}

/// Sends changes, then a fault; more changes while the subscriber is
/// disconnected; the final records must equal polling.
fn recovers_from(fault: impl Fn(&FakeOperator)) {
    let m = FakeOperator::start(small_cluster(), HEARTBEAT).unwrap();
    let sub = Subscriber::start(&[m.host_port()], Duration::from_secs(60));
    sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(m.change(&Change::AddTask(task("a.1", "alpha", "F1", "S1", None))));
    fault(&m);
    // Changes the broken stream cannot carry: only a resync shows them.
    assert!(m.change(&Change::AddTask(task("b.1", "beta", "F1", "S1", None))));
    assert!(m.change(&Change::UpdateTask(
        "web.1".into(),
        "TASK_FAILED".into(),
        5.0,
        None
    )));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(10));
    assert!(has_a(&rs, "alpha.marathon.mesos.") && has_a(&rs, "beta.marathon.mesos."));
    assert!(!has_a(&rs, "web.marathon.mesos."));
    wait_until(Duration::from_secs(5), "a second SUBSCRIBE", || {
        m.subscribes() >= 2
    });
    assert!(sub.status().events.stream_failures.load(Ordering::Relaxed) >= 1);
    // And the new stream works.
    assert!(m.change(&Change::AddTask(task("c.1", "gamma", "F1", "S1", None))));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "gamma.marathon.mesos."));
}

#[test]
fn stream_cut_mid_record_resubscribes_and_loses_nothing() {
    recovers_from(FakeOperator::cut_mid_record);
}

#[test]
fn garbage_record_resubscribes_and_loses_nothing() {
    recovers_from(FakeOperator::send_garbage);
}

#[test]
fn stalled_stream_without_heartbeats_resubscribes_and_loses_nothing() {
    recovers_from(FakeOperator::stall);
}

#[test]
fn closed_stream_resubscribes_and_loses_nothing() {
    recovers_from(FakeOperator::close_streams);
}

/// A state with nothing usable is a failed load on the event source too
/// (as on the polled one, issue 17): an event that leaves every framework
/// malformed keeps the last records served, and is counted; the next good
/// one brings the records back in step with the cluster.
#[test]
fn an_event_that_leaves_no_framework_usable_keeps_the_last_records() {
    let m = FakeOperator::start(small_cluster(), HEARTBEAT).unwrap();
    let sub = Subscriber::start(&[m.host_port()], Duration::from_secs(60));
    let good = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    let failures = || sub.status().failures.load(Ordering::Relaxed);
    let before = failures();
    // F1, the only framework, named by a number: the state reader
    // refuses its head, so no framework is usable.
    let bad = serde_json::json!({"type": "FRAMEWORK_UPDATED", "framework_updated": {
        "framework": {"framework_info": {"user": "root", "name": 7, "hostname": "10.0.9.1",
                                         "id": {"value": "F1"}},
                      "active": true, "connected": true}}});
    m.broadcast(serde_json::to_vec(&bad).unwrap());
    wait_until(Duration::from_secs(5), "the refused state counted", || {
        failures() > before
    });
    assert_eq!(sub.last.lock().unwrap().as_ref(), Some(&good));
    assert!(has_a(&good, "web.marathon.mesos."));
    assert!(m.change(&Change::UpdateFramework(framework("F1", "marathon"))));
    assert!(m.change(&Change::AddTask(task("a.1", "alpha", "F1", "S1", None))));
    let rs = sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "alpha.marathon.mesos.") && has_a(&rs, "web.marathon.mesos."));
}

#[test]
fn a_non_leading_master_redirects_to_the_leader() {
    let cluster = Arc::new(Mutex::new(small_cluster()));
    let leader = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    let other = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    other.set_leader(&leader.host_port());
    let sub = Subscriber::start(
        &[other.host_port(), leader.host_port()],
        Duration::from_secs(60),
    );
    sub.wait_same_as(&leader.state_json(), Duration::from_secs(5));
    assert_eq!(other.subscribes(), 0);
    assert_eq!(leader.subscribes(), 1);
    assert_eq!(sub.status().leader(), leader.host_port());
    assert!(leader.change(&Change::AddTask(task("a.1", "alpha", "F1", "S1", None))));
    let rs = sub.wait_same_as(&leader.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "alpha.marathon.mesos."));
}

#[test]
fn credentials_do_not_follow_a_redirect_to_an_unknown_master() {
    let cluster = Arc::new(Mutex::new(small_cluster()));
    let leader = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    let other = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    other.set_leader(&leader.host_port());
    let mut ev = EventSource::new(Source::Masters(vec![other.host_port()]));
    ev.heartbeat = HEARTBEAT * 2;
    let mut cfg = poller_config(Source::Events(Box::new(ev)), Duration::from_secs(60));
    cfg.http.auth = Auth::Basic {
        principal: "principal".into(),
        secret: "secret".into(),
    };
    let p = poller::spawn(cfg, |_| {}).unwrap();
    // Subscribed, then reconciled against the same master.
    wait_until(Duration::from_secs(5), "subscribe and reconcile", || {
        leader.subscribes() >= 1 && leader.state_hits() >= 1
    });
    p.stop();
    let (asked, followed) = (other.authorizations(), leader.authorizations());
    assert!(
        !asked.is_empty() && asked.iter().all(Option::is_some),
        "{asked:?}"
    );
    assert!(followed.len() >= 2, "{followed:?}");
    assert!(
        followed.iter().all(Option::is_none),
        "the leader only a redirect named got credentials: {followed:?}"
    );
}

#[test]
fn a_leader_change_resubscribes_to_the_new_leader() {
    let cluster = Arc::new(Mutex::new(small_cluster()));
    let a = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    let b = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    b.set_leader(&a.host_port());
    let sub = Subscriber::start(&[a.host_port(), b.host_port()], Duration::from_secs(60));
    sub.wait_same_as(&a.state_json(), Duration::from_secs(5));
    assert_eq!(sub.status().leader(), a.host_port());

    // B takes over; A closes its streams and redirects.
    b.set_leader(&b.host_port());
    a.set_leader(&b.host_port());
    assert!(b.change(&Change::AddTask(task("a.1", "alpha", "F1", "S1", None))));
    assert!(b.change(&Change::RemoveAgent("S0".into())));
    let rs = sub.wait_same_as(&b.state_json(), Duration::from_secs(10));
    assert!(has_a(&rs, "alpha.marathon.mesos.") && !has_a(&rs, "web.marathon.mesos."));
    wait_until(Duration::from_secs(5), "the new leader", || {
        sub.status().leader() == b.host_port()
    });
    assert_eq!(b.subscribes(), 1);
    assert!(b.change(&Change::AddTask(task("c.1", "gamma", "F1", "S1", None))));
    let rs = sub.wait_same_as(&b.state_json(), Duration::from_secs(5));
    assert!(has_a(&rs, "gamma.marathon.mesos."));
}

#[test]
fn a_zookeeper_leader_change_resubscribes_to_the_new_leader() {
    let zk = ZkServer::start().unwrap();
    let cluster = Arc::new(Mutex::new(small_cluster()));
    let a = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    let b = FakeOperator::start_shared(Arc::clone(&cluster), HEARTBEAT).unwrap();
    let ra = zk
        .register_master("/mesos", "master-a", a_addr(&a))
        .unwrap();
    let _rb = zk
        .register_master("/mesos", "master-b", a_addr(&b))
        .unwrap();
    let source = Source::Zk {
        spec: DetectorSpec::parse(&format!("zk://{}/mesos", zk.host_port())).unwrap(),
        fallback: Vec::new(),
    };
    let both = [a.host_port(), b.host_port()];
    let sub = Subscriber::start_from(source, &both, Duration::from_secs(60));
    sub.wait_same_as(&a.state_json(), Duration::from_secs(15));
    assert_eq!(a.subscribes(), 1);
    assert_eq!(b.subscribes(), 0);
    // a resigns in ZooKeeper while its stream stays open: only the
    // detector's report can move the subscriber to b.
    ra.resign();
    wait_until(Duration::from_secs(5), "a SUBSCRIBE to b", || {
        b.subscribes() == 1
    });
    assert!(b.change(&Change::AddTask(task("z.1", "zeta", "F1", "S1", None))));
    let rs =
        sub.wait_same_as_with(&b.state_json(), &[b.host_port()], Duration::from_secs(5));
    assert!(has_a(&rs, "zeta.marathon.mesos."));
    assert_eq!(sub.status().leader(), b.host_port());
}

fn a_addr(m: &FakeOperator) -> SocketAddr {
    m.host_port().parse().unwrap()
}

#[test]
fn reconcile_learns_framework_pids_and_counts_no_difference() {
    let m = FakeOperator::start(small_cluster(), HEARTBEAT).unwrap();
    let sub = Subscriber::start(&[m.host_port()], Duration::from_millis(300));
    sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
    wait_until(Duration::from_secs(5), "two reconciles", || {
        sub.status().events.reconciles.load(Ordering::Relaxed) >= 2
    });
    assert!(m.state_hits() >= 2);
    assert_eq!(
        sub.status()
            .events
            .reconcile_differences
            .load(Ordering::Relaxed),
        0
    );
    assert!(sub.status().ready());
}

// ---- property: random event sequences give the records polling gives ----

fn arb_change() -> impl Strategy<Value = Change> {
    let names = prop::sample::select(vec!["web", "api", "Web_App", "db", "x.y"]);
    let fw_names = prop::sample::select(vec!["marathon", "chronos", "Spark"]);
    let state = prop::sample::select(vec![
        "TASK_RUNNING",
        "TASK_RUNNING",
        "TASK_STAGING",
        "TASK_KILLED",
        "TASK_FINISHED",
        "TASK_LOST",
    ]);
    let ip =
        prop::option::of((1u8..4, 1u8..250).prop_map(|(a, b)| format!("172.17.{a}.{b}")));
    prop_oneof![
        1 => (0u8..4).prop_map(|i| Change::AddAgent(agent(i))),
        1 => (0u8..4).prop_map(|i| Change::RemoveAgent(format!("S{i}"))),
        1 => (0u8..3, fw_names.clone())
            .prop_map(|(i, n)| Change::AddFramework(framework(&format!("F{i}"), n))),
        1 => (0u8..3).prop_map(|i| Change::RemoveFramework(format!("F{i}"))),
        4 => (0u8..10, names, 0u8..3, 0u8..4, ip.clone(), prop::option::of(Just("disco")),
              prop::collection::vec((31000u16..31010, 0u16..3), 0..3))
            .prop_map(|(t, n, f, a, ip, d, ports)| {
                let mut task = task(&format!("T{t}"), n, &format!("F{f}"), &format!("S{a}"), ip.as_deref());
                task.ports = ports.into_iter().map(|(b, w)| (b, b + w)).collect();
                task.discovery = d.map(str::to_owned);
                Change::AddTask(task)
            }),
        4 => (0u8..10, state, 1u32..1000, ip)
            .prop_map(|(t, s, ts, ip)| Change::UpdateTask(format!("T{t}"), s.to_owned(), f64::from(ts), ip)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_event_sequences_give_the_records_polling_gives(
        changes in prop::collection::vec(arb_change(), 1..60)
    ) {
        let m = FakeOperator::start(small_cluster(), HEARTBEAT).unwrap();
        let sub = Subscriber::start(&[m.host_port()], Duration::from_secs(60));
        sub.wait_same_as(&m.state_json(), Duration::from_secs(5));
        for c in &changes {
            m.change(c);
        }
        // Within the reconcile's confirmation delay, so only events count.
        sub.wait_same_as(&m.state_json(), Duration::from_millis(1500));
        prop_assert_eq!(sub.status().events.reconcile_differences.load(Ordering::Relaxed), 0);
        prop_assert_eq!(m.subscribes(), 1);
    }
}

// ---- latency: TASK_UPDATED (running) to the name answering over DNS ----

fn answers(server: SocketAddr, name: &str, id: u16) -> bool {
    let Some(resp) = udp_exchange(server, &query(id, name, 1, None)) else {
        return false;
    };
    resp.len() >= 12 && resp[3] & 0x0f == 0 && u16::from_be_bytes([resp[6], resp[7]]) > 0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn change_to_dns_latency_under_query_load() {
    // 1,000 in an optimized build (`cargo test --release`, the figure to
    // report), 200 in a debug build so the suite stays quick;
    // EVENTS_LATENCY_CHANGES overrides both.
    let changes: usize = std::env::var("EVENTS_LATENCY_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(if cfg!(debug_assertions) { 200 } else { 1000 });
    let m = FakeOperator::start(small_cluster(), Duration::from_millis(500)).unwrap();
    let dns_cfg = test_config();
    let table = Arc::new(SharedTable::new(Table::empty(&dns_cfg)));
    let stats = Arc::new(mesos_dns::stats::Stats::for_config(&dns_cfg));
    let server =
        mesos_dns::serve::start(&dns_cfg, Arc::clone(&table), Arc::clone(&stats))
            .unwrap();
    let addr = server.local_addr();

    let mut ev = EventSource::new(Source::Masters(vec![m.host_port()]));
    ev.heartbeat = Duration::from_secs(1);
    let cfg = poller_config(Source::Events(Box::new(ev)), Duration::from_secs(60));
    // As the server publishes: deltas from the live record store, and
    // the patched tables compacted in the background.
    let publisher = Arc::new(Publisher::new(Arc::clone(&table), dns_cfg.clone()));
    let compactions = Arc::new(AtomicU64::new(0));
    publisher
        .start_compaction(Arc::clone(&compactions))
        .unwrap();
    let now = AtomicU64::new(1);
    let poller = poller::spawn_updates(cfg, move |u: Update| {
        let s = u32::try_from(now.fetch_add(1, Ordering::Relaxed)).unwrap_or(0);
        match u {
            Update::Full(set) => publisher.publish_generated(set, s, 0),
            Update::Delta { delta, view } => publisher.publish_delta(&delta, view, s, 0),
        };
    })
    .unwrap();
    wait_until(Duration::from_secs(5), "the first records", || {
        answers(addr, "web.marathon.mesos.", 1)
    });

    // Query load: two clients asking for a known name in a loop.
    let stop = Arc::new(AtomicBool::new(false));
    let load_queries = Arc::new(AtomicU64::new(0));
    let loaders: Vec<_> = (0..2)
        .map(|i| {
            let (stop, n) = (Arc::clone(&stop), Arc::clone(&load_queries));
            std::thread::spawn(move || {
                let mut id = 0u16;
                while !stop.load(Ordering::Relaxed) {
                    id = id.wrapping_add(1);
                    let name = if i == 0 {
                        "web.marathon.mesos."
                    } else {
                        "_slave._tcp.mesos."
                    };
                    let qt = if i == 0 { 1 } else { 33 };
                    if udp_exchange(addr, &query(id, name, qt, None)).is_some() {
                        n.fetch_add(1, Ordering::Relaxed);
                    }
                    // A steady load, not a CPU hog on a shared test machine.
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        })
        .collect();

    let mut lat = Vec::with_capacity(changes);
    let started = Instant::now();
    for i in 0..changes {
        let id = format!("lat.{i}");
        let name = format!("lat{i}");
        let mut t = task(&id, &name, "F1", "S1", None);
        t.state = "TASK_STAGING".to_owned();
        t.statuses.clear();
        assert!(m.change(&Change::AddTask(t)));
        let ip = format!("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256);
        let fqdn = format!("{name}.marathon.mesos.");
        let t0 = Instant::now();
        assert!(m.change(&Change::UpdateTask(
            id,
            "TASK_RUNNING".into(),
            10.0,
            Some(ip)
        )));
        let deadline = t0 + Duration::from_secs(5);
        let mut qid = 0u16;
        loop {
            qid = qid.wrapping_add(1);
            if answers(addr, &fqdn, qid) {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
            assert!(Instant::now() < deadline, "{fqdn} never answered");
        }
        lat.push(t0.elapsed());
    }
    let total = started.elapsed();
    // Each change grew the small table by more than an eighth of its
    // size at first: compactions were swapped in meanwhile, and every
    // name added still answers.
    wait_until(Duration::from_secs(10), "a compaction", || {
        compactions.load(Ordering::Relaxed) > 0
    });
    for i in (0..changes).step_by(7) {
        assert!(
            answers(addr, &format!("lat{i}.marathon.mesos."), 9),
            "lat{i}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.join().unwrap();
    }
    lat.sort();
    let (p50, p99, max) = (
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    let hist = poller.status().events.latency.snapshot();
    eprintln!(
        "event-to-DNS latency over {changes} TASK_RUNNING updates ({} tasks at the end, {} load queries = {:.0}/s, {total:?}): \
         p50 {p50:?}, p99 {p99:?}, max {max:?}; in-process event-to-publish histogram {hist:?}; {} compactions",
        changes + 1,
        load_queries.load(Ordering::Relaxed),
        load_queries.load(Ordering::Relaxed) as f64 / total.as_secs_f64(),
        compactions.load(Ordering::Relaxed),
    );
    assert!(
        load_queries.load(Ordering::Relaxed) > 0,
        "the query load ran"
    );
    assert_eq!(lat.len(), changes);
    poller.stop();
    server.stop();
}
