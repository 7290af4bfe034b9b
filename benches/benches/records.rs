//! Parse + generate for synthetic clusters (issue 3 scale goal: 100,000
//! running tasks in under 250 ms on one core, under 200 bytes per record).
//!
//! The cluster (`mesos_dns_benches::cluster`) has 5 frameworks, 1,000 agents, apps of 10 instances, 2 ports
//! per task, one `TASK_RUNNING` status with a NetworkInfo IP per task, and
//! a DiscoveryInfo with two named ports on the first framework's tasks
//! (100,000 tasks: a 50 MB state, 1.2 million records on 510,000 names).
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
//! Then, at 100,000 tasks, the generate time with issue 22's policies on
//! (`HealthFilter`, `TaskLabelPolicy` and their explain notes) beside off.
//!
//! The record set stores each name once and values in flat arrays (see
//! `mesos_records::record`), so the bytes per record are mostly the
//! names, the 4 to 16 bytes of each value, and with the enumeration on a
//! 12-byte reference per credited record.

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use mesos_dns_benches::cluster::{
    cpu_ns, gen_config as config, masters, rss, synthetic_state,
};
use mesos_records::{generate, State};

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

/// The generate CPU time with issue 22's policies on (`HealthFilter`,
/// `TaskLabelPolicy`, and the explain notes they keep), against off, on
/// the same state (no task is unhealthy or labelled: the cost of looking).
fn report_policies(tasks: usize) {
    let body = synthetic_state(tasks);
    let state = State::parse(&body).expect("synthetic state parses");
    let mut on = config();
    on.health_filter = Some(0.5);
    on.label_policy = true;
    on.explain = true;
    let mut best = [u64::MAX; 2];
    for _ in 0..RUNS {
        for (i, cfg) in [config(), on.clone()].iter().enumerate() {
            let c0 = cpu_ns();
            let g = generate(&state, cfg, &masters());
            let spent = cpu_ns() - c0;
            best[i] = best[i].min(spent);
            black_box(g);
        }
    }
    println!(
        "records/{tasks} generate: policies off {:.0} ms, HealthFilter + TaskLabelPolicy + \
         explain notes {:.0} ms (best of {RUNS})",
        best[0] as f64 / 1e6,
        best[1] as f64 / 1e6,
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
    report_policies(100_000);
    if std::env::args().any(|a| a == "--report-only") {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
