//! The answer table on its own: compiling a generated record set of 10,000
//! and 100,000 tasks, publishing it, and dropping the old one.
//!
//! Run: `cargo bench -p mesos-dns-benches --bench table` (add
//! `-- --report-only` to skip criterion). Before the criterion groups it
//! prints, per size, the CPU time of each step from a state body to the new
//! table swapped in (this thread's schedstat, so other load on the machine
//! does not count): parse, generate, publish (comparing with the served
//! records, compiling, swapping); a publish of unchanged records; freeing a
//! replaced table and its record set (which the publisher leaves to a
//! thread of its own); and the memory the new table adds.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, Criterion};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::{Publisher, SharedTable, Table};
use mesos_dns_benches::cluster::{
    cpu_ns, gen_config, masters, records, rss, synthetic_state,
};
use mesos_records::{generate, State};

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn report(tasks: usize) {
    let cfg = DnsConfig::default();
    let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
    let publisher = Publisher::new(Arc::clone(&shared), cfg.clone());
    // The table being replaced: one task fewer, so the new one differs.
    publisher.publish(records(tasks - 1), 1);
    let body = synthetic_state(tasks);
    let c0 = cpu_ns();
    let state = State::parse(&body).expect("synthetic state parses");
    let c1 = cpu_ns();
    let set = generate(&state, &gen_config(), &masters()).records;
    let c2 = cpu_ns();
    drop(state);
    let (n, names) = (set.len(), set.name_count());
    let before = rss();
    let c3 = cpu_ns();
    let p = publisher.publish(set, 2);
    let c4 = cpu_ns();
    let after = rss();
    assert!(p.compiled);
    let table = shared.load();
    let (compiled, templates) = (table.compiled_bytes(), table.templates());
    drop(table);
    // The same records again: compared, not compiled.
    let same = records(tasks);
    let c5 = cpu_ns();
    let q = publisher.publish(same, 3);
    let c6 = cpu_ns();
    assert!(!q.compiled);
    // What the freeing thread does with a replaced table.
    let records = Arc::new(records(tasks));
    let table = Table::compile(Arc::clone(&records), &cfg, 4);
    let c7 = cpu_ns();
    drop(table);
    let c8 = cpu_ns();
    drop(records);
    let c9 = cpu_ns();
    println!(
        "table/{tasks}: {n} records on {names} names, {templates} templates; CPU parse \
         {:.0} ms, generate {:.0} ms, publish {:.0} ms (compare + compile {:.0} ms, swap \
         {} us); unchanged records: publish {:.0} ms; freeing a table {:.1} ms and its \
         record set {:.0} ms (off the poller); RSS +{:.0} MB, compiled names and \
         templates {:.0} MB",
        ms(c1 - c0),
        ms(c2 - c1),
        ms(c4 - c3),
        p.compile.as_secs_f64() * 1e3,
        p.swap.as_micros(),
        ms(c6 - c5),
        ms(c8 - c7),
        ms(c9 - c8),
        after.saturating_sub(before) as f64 / 1e6,
        compiled as f64 / 1e6,
    );
}

fn bench(c: &mut Criterion) {
    let cfg = DnsConfig::default();
    for tasks in [10_000, 100_000] {
        let rs = Arc::new(records(tasks));
        let mut g = c.benchmark_group(format!("table/{tasks}"));
        g.sample_size(10);
        g.bench_function("compile", |b| {
            b.iter(|| Table::compile(Arc::clone(black_box(&rs)), &cfg, 1))
        });
        g.bench_function("compile+drop", |b| {
            b.iter(|| drop(Table::compile(Arc::clone(black_box(&rs)), &cfg, 1)))
        });
        // The churn case: patched from the table of one task fewer.
        let old = Table::compile(Arc::new(records(tasks - 1)), &cfg, 1);
        g.bench_function("recompile", |b| {
            b.iter(|| old.recompile(Arc::clone(black_box(&rs)), &cfg, 2))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);

fn main() {
    for tasks in [10_000, 100_000] {
        report(tasks);
    }
    if std::env::args().any(|a| a == "--report-only") {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
