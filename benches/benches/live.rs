//! One task change at 10,000 and 100,000 tasks (issue 18): the live record
//! store and the answer table's delta path, side by side with today's full
//! path, in the same run.
//!
//! Run: `cargo bench -p mesos-dns-benches --bench live`. It prints, per
//! size (this thread's CPU time from schedstat, so other load on the
//! machine counts little):
//!
//! - full path, per change: parse the whole state, generate, publish
//!   (compare with the served set, compile, swap); the best of 3 runs;
//! - live store, cold: the store filled from a parsed state, producer by
//!   producer (what a subscribe or failover costs besides the parse), and
//!   the first table compiled from its view;
//! - live store, per change, over 1,000 changes of one task's address
//!   (a `TASK_UPDATED`), every 10th a task killed:
//!   the mean CPU time end to end (regenerate the task, count the delta,
//!   snapshot, `Publisher::publish_delta`), and the wall time of the
//!   records side and end to end, p50/p99/max (schedstat counts in
//!   scheduler ticks, too coarse for one change);
//! - building the whole record set from a view (what `/v1/enumerate` and
//!   friends cost once per generation).

use std::sync::Arc;
use std::time::Instant;

use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::{Publisher, SharedTable, Table};
use mesos_dns_benches::cluster::{cpu_ns, gen_config, masters, rss, synthetic_state};
use mesos_records::delta::View;
use mesos_records::state::{StatusIps, Task};
use mesos_records::{generate, Live, State};

const CHANGES: usize = 1000;

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// p50, p99, max and mean of `v` in microseconds.
fn spread(v: &mut [u64]) -> String {
    v.sort_unstable();
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0)
    };
    let mean = v.iter().sum::<u64>() / v.len().max(1) as u64;
    format!(
        "p50 {:.0} us, p99 {:.0} us, max {:.0} us, mean {:.0} us",
        at(0.5) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
        at(1.0) as f64 / 1e3,
        mean as f64 / 1e3
    )
}

/// The store filled from `state` as the event source fills it: slaves,
/// frameworks (by id), tasks one by one, the leader.
fn fill(live: &mut Live, state: &State) {
    live.set_slaves(&state.slaves);
    let heads: Vec<(String, mesos_records::state::Framework)> = state
        .frameworks
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let head = mesos_records::state::Framework {
                tasks: Vec::new(),
                ..f.clone()
            };
            (format!("fw-{i}"), head)
        })
        .collect();
    live.set_frameworks(&heads);
    for (i, f) in state.frameworks.iter().enumerate() {
        for t in &f.tasks {
            live.upsert_task(&format!("fw-{i}"), &t.id, t.clone());
        }
    }
    live.set_masters(&state.leader, &masters());
}

fn report(tasks: usize) {
    let cfg = gen_config();
    let dns = DnsConfig::default();
    let body = synthetic_state(tasks);
    let state = State::parse(&body).expect("synthetic state parses");

    // Today's path: the whole state per change.
    let shared = Arc::new(SharedTable::new(Table::empty(&dns)));
    let publisher = Publisher::new(Arc::clone(&shared), dns.clone());
    publisher.publish(generate(&state, &cfg, &masters()).records, 1);
    let mut full = u64::MAX;
    let mut changed = state.clone();
    for run in 0..3u8 {
        if let Some(t) = changed
            .frameworks
            .first_mut()
            .and_then(|f| f.tasks.first_mut())
        {
            t.state = ["TASK_KILLED", "TASK_RUNNING"][usize::from(run % 2)].into();
        }
        let c0 = cpu_ns();
        let s = State::parse(&body).expect("synthetic state parses");
        let g = generate(&changed, &cfg, &masters());
        publisher.publish(g.records, 2 + u32::from(run));
        full = full.min(cpu_ns() - c0);
        drop(s);
    }
    drop(publisher);
    drop(shared);

    // The live store.
    let before = rss();
    let c0 = cpu_ns();
    let mut live = Live::new(&cfg);
    live.set_tracking(false);
    fill(&mut live, &state);
    live.set_tracking(true);
    let c1 = cpu_ns();
    let grown = rss().saturating_sub(before);
    let _ = live.take_delta();
    let shared = Arc::new(SharedTable::new(Table::empty(&dns)));
    let publisher = Publisher::new(Arc::clone(&shared), dns.clone());
    let c2 = cpu_ns();
    let view: Arc<dyn View> = Arc::new(live.view());
    publisher.publish_delta(&Default::default(), view, 1, 0);
    let c3 = cpu_ns();

    let all: Vec<(usize, &Task)> = state
        .frameworks
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.tasks.iter().map(move |t| (i, t)))
        .collect();
    let (mut rec, mut e2e, mut sizes) = (Vec::new(), Vec::new(), 0usize);
    for k in 0..CHANGES {
        let Some(&(fw, task)) = all.get(k * 7919 % all.len()) else {
            break;
        };
        let fw = format!("fw-{fw}");
        let mut t = task.clone();
        if let Some(s) = t.running_status.as_mut() {
            let ip = std::net::IpAddr::from([192, 168, (k / 256) as u8, k as u8]);
            *s = StatusIps::new(
                s.mesos().to_vec(),
                s.docker().to_vec(),
                vec![ip],
                s.healthy,
            );
        }
        let id = t.id.clone();
        let w0 = Instant::now();
        // Every 10th change kills a task (it comes back when picked again).
        match k % 10 {
            4 => live.remove_task(&fw, &id),
            _ => live.upsert_task(&fw, &id, t),
        }
        let delta = live.take_delta();
        let view: Arc<dyn View> = Arc::new(live.view());
        let w1 = Instant::now();
        publisher.publish_delta(&delta, view, 2 + k as u32, 0);
        let w2 = Instant::now();
        sizes += delta.len();
        rec.push((w1 - w0).as_nanos() as u64);
        e2e.push((w2 - w0).as_nanos() as u64);
    }
    let c4 = cpu_ns();
    let cpu_each = (c4 - c3) / CHANGES as u64;
    let rs = live.view().record_set();
    let c5 = cpu_ns();
    let check = generate(&state, &cfg, &masters()).records;
    // The store went through changes; only the sizes compare.
    assert!(rs.len().abs_diff(check.len()) < rs.len() / 10 + 100);

    println!(
        "live/{tasks}: full path per change (parse + generate + publish) {:.0} ms (best of 3)",
        ms(full)
    );
    println!(
        "live/{tasks}: cold: store filled in {:.0} ms (RSS +{:.0} MB = {:.0} bytes/task), first table from the view {:.0} ms",
        ms(c1 - c0),
        grown as f64 / 1e6,
        grown as f64 / tasks as f64,
        ms(c3 - c2)
    );
    println!(
        "live/{tasks}: per change ({CHANGES} changes, {:.1} records a delta), CPU end to end (records + publish_delta): {:.0} us mean",
        sizes as f64 / CHANGES as f64,
        cpu_each as f64 / 1e3
    );
    println!(
        "live/{tasks}: per change, wall, records side: {}",
        spread(&mut rec)
    );
    println!(
        "live/{tasks}: per change, wall, end to end: {}",
        spread(&mut e2e)
    );
    println!(
        "live/{tasks}: whole record set from a view: {:.0} ms ({} records)",
        ms(c5 - c4),
        rs.len()
    );
}

fn main() {
    for tasks in [10_000, 100_000] {
        report(tasks);
    }
}
