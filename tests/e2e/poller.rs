//! The poller against the fake Mesos master: publishing, keeping the last
//! good records, backoff, the leader moving, the state file source, stop.
//! Also the helpers the other state tests share.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos_dns_tests::fake_master::{FakeMaster, Fault};
use mesos_records::{GenConfig, IpSource, RecordSet};
use mesos_sources::fetch::HttpConfig;
use mesos_sources::poller::{self, Poller};
use mesos_sources::{PollerConfig, Source};

/// A small but complete state whose leader is `leader`.
pub(crate) fn state_json(leader: SocketAddr) -> Vec<u8> {
    serde_json::json!({
        "leader": format!("master@{leader}"),
        "hostname": "master",
        "frameworks": [{
            "id": "F1",
            "name": "marathon",
            "hostname": "127.0.0.1",
            "pid": "scheduler-1@127.0.0.1:9090",
            "tasks": [{
                "id": "web.1",
                "name": "web",
                "framework_id": "F1",
                "slave_id": "S1",
                "state": "TASK_RUNNING",
                "resources": {"ports": "[31000-31000]"},
                "statuses": [{"state": "TASK_RUNNING", "timestamp": 1.0}]
            }]
        }],
        "slaves": [{"id": "S1", "hostname": "agent1", "pid": "slave(1)@127.0.0.1:5051"}]
    })
    .to_string()
    .into_bytes()
}

pub(crate) fn gen_config() -> GenConfig {
    GenConfig {
        domain: "mesos".into(),
        ip_sources: vec![IpSource::Netinfo, IpSource::Mesos, IpSource::Host],
        enforce_rfc952: false,
        soa_mname: "ns1.mesos.".into(),
        listener: "127.0.0.1".into(),
        ..GenConfig::default()
    }
}

/// Sends `log` output to the test's stderr (shown for failing tests).
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        eprintln!(
            "{:?} {} {}: {}",
            Instant::now(),
            r.level(),
            r.target(),
            r.args()
        );
    }
    fn flush(&self) {}
}

pub(crate) fn poller_config(source: Source, refresh: Duration) -> PollerConfig {
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    PollerConfig {
        source,
        refresh,
        http: HttpConfig {
            timeout: Duration::from_secs(2),
            ..HttpConfig::default()
        },
        zk_detection_timeout: Some(Duration::from_secs(30)),
        gen: gen_config(),
    }
}

/// Collects every published record set.
#[derive(Clone, Default)]
pub(crate) struct Published(Arc<Mutex<Vec<RecordSet>>>);

impl Published {
    pub(crate) fn spawn(&self, cfg: PollerConfig) -> Poller {
        let sink = Arc::clone(&self.0);
        poller::spawn(cfg, move |set| sink.lock().unwrap().push(set)).unwrap()
    }

    pub(crate) fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub(crate) fn last(&self) -> Option<RecordSet> {
        self.0.lock().unwrap().last().cloned()
    }

    /// Waits (bounded) for a published set satisfying `pred`.
    pub(crate) fn wait_for(
        &self,
        within: Duration,
        pred: impl Fn(&RecordSet) -> bool,
    ) -> RecordSet {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.0.lock().unwrap().iter().rev().find(|s| pred(s)) {
                return s.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no matching record set within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The leader port the records announce (`_leader._tcp.mesos.` SRV).
pub(crate) fn leader_port(set: &RecordSet) -> Option<u16> {
    set.srv("_leader._tcp.mesos.")
        .and_then(|s| s.first())
        .map(|s| s.port)
}

pub(crate) fn wait_until(within: Duration, what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn poller_loads_state_and_sends_mesos_dns_headers() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_secs(60),
    ));
    let set = out.wait_for(Duration::from_secs(10), |s| {
        leader_port(s) == Some(m.addr().port())
    });
    assert!(set
        .a("leader.mesos.")
        .is_some_and(|a| a.contains(&[127, 0, 0, 1].into())));
    assert!(p.status().ready());
    assert_eq!(p.status().leader(), m.host_port());
    let req = &m.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/master/state")
    );
    assert_eq!(req.header("user-agent"), Some("Mesos-DNS"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert!(req
        .header("accept-encoding")
        .is_some_and(|v| v.contains("gzip")));
    p.stop();
}

#[test]
fn skipped_items_are_counted_in_the_status() {
    let m = FakeMaster::start(b"").unwrap();
    let mut state: serde_json::Value =
        serde_json::from_slice(&state_json(m.addr())).unwrap();
    // mesos-dns crashes on a port range without '-'; we skip that range.
    state["frameworks"][0]["tasks"][0]["resources"]["ports"] = "[31000]".into();
    m.set_state(state.to_string().as_bytes());
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_secs(60),
    ));
    out.wait_for(Duration::from_secs(10), |s| !s.is_empty());
    assert!(
        p.status()
            .skipped
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    assert!(!p.status().skip_counts().is_empty());
    p.stop();
}

#[test]
fn master_down_keeps_last_records_then_recovers() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_millis(300),
    ));
    let first = out.wait_for(Duration::from_secs(10), |s| !s.is_empty());
    m.set_fault(Fault::Down);
    let failures = || {
        p.status()
            .consecutive_failures
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    wait_until(Duration::from_secs(10), "a failed load", || failures() >= 1);
    let published = out.count();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        out.count(),
        published,
        "nothing is published while the master is down"
    );
    assert_eq!(out.last().as_ref(), Some(&first), "the last good set stays");
    m.set_fault(Fault::None);
    wait_until(Duration::from_secs(10), "recovery", || failures() == 0);
    assert!(out.count() > published);
    p.stop();
}

#[test]
fn a_state_with_nothing_usable_keeps_the_last_records() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_millis(300),
    ));
    let first = out.wait_for(Duration::from_secs(10), |s| !s.is_empty());
    assert!(first.a("web.marathon.mesos.").is_some());
    let failures = || {
        p.status()
            .failures
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    // Parseable, but every framework is malformed: loading it would wipe
    // every task record. It fails instead, and is counted.
    let leader = format!("master@{}", m.addr());
    let broken =
        serde_json::json!({"leader": leader, "frameworks": [1, 2, 3], "slaves": []});
    m.set_state(broken.to_string().as_bytes());
    wait_until(Duration::from_secs(10), "a failed load", || failures() >= 1);
    let published = out.count();
    wait_until(Duration::from_secs(10), "a second failed load", || {
        failures() >= 2
    });
    assert_eq!(out.count(), published, "nothing published");
    assert_eq!(out.last().as_ref(), Some(&first), "the last good set stays");
    // A cluster with nothing running is not broken: it loads.
    let empty = serde_json::json!({"leader": leader, "frameworks": [], "slaves": []});
    m.set_state(empty.to_string().as_bytes());
    let now = out.wait_for(Duration::from_secs(10), |s| {
        s.a("web.marathon.mesos.").is_none()
    });
    assert!(now.a("leader.mesos.").is_some());
    p.stop();
}

#[test]
fn master_down_at_start_is_retried_with_backoff() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    m.set_fault(Fault::Down);
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_secs(60),
    ));
    std::thread::sleep(Duration::from_millis(3500));
    assert!(!p.status().ready());
    // Tries at about 0 s, 1 s and 3 s: backing off, not hammering.
    let n = p
        .status()
        .failures
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!((2..=4).contains(&n), "{n} failed loads in 3.5 s");
    m.set_fault(Fault::None);
    out.wait_for(Duration::from_secs(10), |s| !s.is_empty());
    assert!(p.status().ready());
    p.stop();
}

#[test]
fn leader_moving_between_masters_is_followed() {
    let a = FakeMaster::start(b"").unwrap();
    let b = FakeMaster::start(b"").unwrap();
    a.set_state(&state_json(a.addr()));
    b.set_state(&state_json(a.addr()));
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![a.host_port(), b.host_port()]),
        Duration::from_millis(200),
    ));
    out.wait_for(Duration::from_secs(10), |s| {
        leader_port(s) == Some(a.addr().port())
    });
    // Leadership moves to b; a now points at b.
    b.set_state(&state_json(b.addr()));
    a.set_state(&state_json(b.addr()));
    out.wait_for(Duration::from_secs(10), |s| {
        leader_port(s) == Some(b.addr().port())
    });
    wait_until(Duration::from_secs(5), "leader status", || {
        p.status().leader() == b.host_port()
    });
    assert_eq!(
        p.status()
            .leader_changes
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // a dies entirely: b is still found through the list.
    a.set_fault(Fault::Down);
    let before = b.state_hits();
    wait_until(Duration::from_secs(10), "more loads from b", || {
        b.state_hits() >= before + 2
    });
    assert_eq!(leader_port(&out.last().unwrap()), Some(b.addr().port()));
    // a answers errors now: b served last, so b is asked first and a not
    // at all (mesos-dns would ask a first on every tick).
    a.set_fault(Fault::Status(503));
    let (a_hits, b_hits) = (a.state_hits(), b.state_hits());
    wait_until(Duration::from_secs(10), "more loads from b", || {
        b.state_hits() >= b_hits + 3
    });
    assert_eq!(a.state_hits(), a_hits);
    p.stop();
}

#[test]
fn state_file_source_reloads_when_the_file_changes() {
    let dir =
        std::env::temp_dir().join(format!("mesos-dns-statefile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let one: SocketAddr = "127.0.0.1:5050".parse().unwrap();
    let two: SocketAddr = "127.0.0.1:5051".parse().unwrap();
    std::fs::write(&file, state_json(one)).unwrap();
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::StateFile(file.clone()),
        Duration::from_secs(60),
    ));
    out.wait_for(Duration::from_secs(10), |s| leader_port(s) == Some(5050));
    std::fs::write(&file, state_json(two)).unwrap();
    out.wait_for(Duration::from_secs(5), |s| leader_port(s) == Some(5051));
    // A broken edit keeps the last good records.
    let n = out.count();
    std::fs::write(&file, b"{ not json").unwrap();
    wait_until(Duration::from_secs(5), "a failed reload", || {
        p.status()
            .consecutive_failures
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    });
    assert_eq!(out.count(), n);
    p.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stop_returns_promptly_between_ticks() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_secs(3600),
    ));
    out.wait_for(Duration::from_secs(10), |s| !s.is_empty());
    let t = Instant::now();
    p.stop();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
}

// Issue 18: a body equal to the last one is not parsed or published
// again; a changed one is, as a change of the records.
#[test]
fn issue_18_an_unchanged_state_body_is_not_published_again() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let out = Published::default();
    let p = out.spawn(poller_config(
        Source::Masters(vec![m.host_port()]),
        Duration::from_millis(150),
    ));
    out.wait_for(Duration::from_secs(10), |s| !s.is_empty());
    let loads = || p.status().loads.load(std::sync::atomic::Ordering::Relaxed);
    let (published, before) = (out.count(), loads());
    wait_until(Duration::from_secs(10), "three more loads", || {
        loads() >= before + 3
    });
    assert_eq!(
        out.count(),
        published,
        "an unchanged body publishes nothing"
    );
    let changed = String::from_utf8(state_json(m.addr()))
        .unwrap()
        .replace("\"web\"", "\"api\"");
    m.set_state(changed.as_bytes());
    let set = out.wait_for(Duration::from_secs(10), |s| {
        s.a("api.marathon.mesos.").is_some()
    });
    assert!(set.a("web.marathon.mesos.").is_none());
    assert_eq!(
        p.status()
            .live_differences
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    p.stop();
}
