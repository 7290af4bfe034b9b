//! Parse + generate for synthetic clusters (issue 3 scale goal: 100,000
//! running tasks in under 250 ms on one core, under 200 bytes per record).
//!
//! A cluster has 5 frameworks, 1,000 agents, apps of 10 instances, 2 ports
//! per task, one `TASK_RUNNING` status with a NetworkInfo IP per task, and
//! a DiscoveryInfo with two named ports on the first framework's tasks
//! (100,000 tasks: a 50 MB state, 1.2 million records on 262,000 names).
//!
//! Run: `cargo bench -p mesos-dns-benches --bench records` (add
//! `-- --report-only` to skip criterion). Before the criterion groups it
//! prints, per size, with the enumeration off and on (mesos-dns's default):
//! the JSON size, the record count and the number of owner names, the CPU
//! time of a parse and of a generate, separately and together (the best of
//! three runs, from this thread's schedstat, so other load on the machine
//! counts little; it still slows caches and memory), and
//! the resident memory the record set adds (from `/proc/self/statm` around
//! `generate`; it includes allocator slack and generation temporaries not
//! yet returned, and leaves out freed parse memory that generation reuses),
//! and the record set's own heap bytes (`RecordSet::heap_size`, exact
//! buffer capacities, no allocator overhead).
//!
//! The record set stores each name once and values in flat arrays (see
//! `mesos_records::record`), so the bytes per record are mostly the
//! names, the 4 to 16 bytes of each value, and with the enumeration on a
//! 12-byte reference per credited record.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use mesos_records::{generate, GenConfig, LocalAddrs, Resolver, State};

const FRAMEWORKS: usize = 5;
const AGENTS: usize = 1000;
const INSTANCES: usize = 10;

/// A `/master/state` body with `tasks` running tasks.
fn synthetic_state(tasks: usize) -> Vec<u8> {
    let mut s = String::with_capacity(tasks * 700 + AGENTS * 200);
    s.push_str(r#"{"version":"1.11.0","leader":"master@10.0.0.1:5050","slaves":["#);
    for a in 0..AGENTS {
        if a > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"id":"3f1c7e1a-9d5b-4c4e-8a3e-0d1f2b3c4d5e-S{a}","pid":"slave(1)@10.1.{}.{}:5051","hostname":"agent-{a}","resources":{{"cpus":16.0,"mem":63000.0,"ports":"[31000-32000]"}},"active":true}}"#,
            a / 250,
            a % 250 + 1
        );
    }
    s.push_str(r#"],"frameworks":["#);
    for f in 0..FRAMEWORKS {
        if f > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"id":"fw-{f}","name":"framework-{f}","pid":"scheduler-{f}@10.0.1.{}:15101","hostname":"sched-{f}","active":true,"tasks":["#,
            f + 1
        );
        let mut first = true;
        for t in (0..tasks).filter(|t| (t / INSTANCES) % FRAMEWORKS == f) {
            if !first {
                s.push(',');
            }
            first = false;
            let app = t / INSTANCES;
            let agent = t % AGENTS;
            let port = 31000 + (t / AGENTS) * 2 % 1000;
            let _ = write!(
                s,
                r#"{{"id":"app-{app}.{t:08x}-2a3b-11eb-9a0b-0242ac110002","name":"app-{app}","framework_id":"fw-{f}","executor_id":"","slave_id":"3f1c7e1a-9d5b-4c4e-8a3e-0d1f2b3c4d5e-S{agent}","state":"TASK_RUNNING","resources":{{"cpus":0.5,"mem":512.0,"disk":0.0,"ports":"[{port}-{}]"}},"statuses":[{{"state":"TASK_RUNNING","timestamp":1605000200.{t},"container_status":{{"container_id":{{"value":"c{t}"}},"network_infos":[{{"ip_addresses":[{{"protocol":"IPv4","ip_address":"172.{}.{}.{}"}}]}}]}}}}]"#,
                port + 1,
                16 + t / 65536 % 16,
                t / 256 % 256,
                t % 256
            );
            if f == 0 {
                let _ = write!(
                    s,
                    r#","discovery":{{"visibility":"FRAMEWORK","name":"app-{app}","ports":{{"ports":[{{"number":{port},"name":"http","protocol":"tcp"}},{{"number":{},"name":"admin","protocol":"tcp"}}]}}}}"#,
                    port + 1
                );
            }
            s.push('}');
        }
        s.push_str("]}");
    }
    s.push_str("]}");
    s.into_bytes()
}

fn config() -> GenConfig {
    GenConfig {
        listener: "127.0.0.1".to_owned(),
        resolver: Resolver::fixed(&[]),
        local_addrs: LocalAddrs::fixed(&[]),
        ..GenConfig::default()
    }
}

fn masters() -> Vec<String> {
    vec!["10.0.0.1:5050".to_owned()]
}

/// This thread's on-CPU time in nanoseconds (Linux schedstat), or 0. The
/// machine may be shared, so wall time overstates the cost; CPU time is
/// what "on one core" means.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident set size in bytes (Linux), or 0.
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Runs per size in [`report`]: the CPU figures are the fastest run, the
/// memory figure the first (the process is then in its freshest state).
const RUNS: usize = 3;

fn report(tasks: usize, enumeration: bool) {
    let body = synthetic_state(tasks);
    let mut cfg = config();
    cfg.enumeration = enumeration;
    let (mut parse_ns, mut gen_ns) = (u64::MAX, u64::MAX);
    let (mut n, mut names, mut grown, mut heap) = (0, 0, 0, 0);
    for run in 0..RUNS {
        let c0 = cpu_ns();
        let state = State::parse(&body).expect("synthetic state parses");
        let c1 = cpu_ns();
        let before = rss();
        let g = generate(&state, &cfg, &masters());
        let c2 = cpu_ns();
        let after = rss();
        drop(state);
        parse_ns = parse_ns.min(c1 - c0);
        gen_ns = gen_ns.min(c2 - c1);
        if run == 0 {
            n = g.records.len();
            names = g.records.name_count();
            grown = after.saturating_sub(before);
            heap = g.records.heap_size();
        }
        black_box(g);
    }
    println!(
        "records/{tasks} (enumeration {}): state {:.1} MB, {n} records on {names} names; \
         CPU parse {:.0} ms + generate {:.0} ms = {:.0} ms (best of {RUNS}); \
         RSS +{:.1} MB = {:.0} bytes/record; record set heap {:.1} MB = {:.0} bytes/record",
        if enumeration { "on" } else { "off" },
        body.len() as f64 / 1e6,
        parse_ns as f64 / 1e6,
        gen_ns as f64 / 1e6,
        (parse_ns + gen_ns) as f64 / 1e6,
        grown as f64 / 1e6,
        grown as f64 / n as f64,
        heap as f64 / 1e6,
        heap as f64 / n as f64,
    );
}

fn bench(c: &mut Criterion) {
    for tasks in [10_000, 100_000] {
        let body = synthetic_state(tasks);
        let cfg = config();
        let state = State::parse(&body).expect("synthetic state parses");
        let mut group = c.benchmark_group(format!("records/{tasks}"));
        group.sample_size(10);
        group.bench_function("parse", |b| b.iter(|| State::parse(black_box(&body))));
        group.bench_function("generate", |b| {
            b.iter(|| generate(black_box(&state), &cfg, &masters()))
        });
        group.bench_function("parse+generate", |b| {
            b.iter(|| {
                let s = State::parse(black_box(&body)).expect("parses");
                generate(&s, &cfg, &masters())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);

fn main() {
    // Memory first, in a fresh process state (criterion allocates a lot).
    for tasks in [10_000, 100_000] {
        for enumeration in [false, true] {
            report(tasks, enumeration);
        }
    }
    if std::env::args().any(|a| a == "--report-only") {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
