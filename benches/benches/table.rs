//! The answer table on its own: compiling a generated record set of 10,000
//! and 100,000 tasks, publishing it, and dropping the old one.
//!
//! Run: `cargo bench -p mesos-dns-benches --bench table` (add
//! `-- --report-only` to skip criterion). Before the criterion groups it
//! prints, per size, the CPU time of each step from a state body to the new
//! table swapped in (this thread's schedstat, so other load on the machine
//! does not count): parse, generate, compile, publish (the swap), dropping
//! the old table and its record set; and the resident memory the table adds.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, Criterion};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::{SharedTable, Table};
use mesos_dns_benches::cluster::{
    cpu_ns, gen_config, masters, records, rss, synthetic_state,
};
use mesos_records::{generate, State};

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn report(tasks: usize) {
    let cfg = DnsConfig::default();
    let body = synthetic_state(tasks);
    let old_records = Arc::new(records(tasks));
    let shared = SharedTable::new(Table::compile(Arc::clone(&old_records), &cfg, 1));
    let c0 = cpu_ns();
    let state = State::parse(&body).expect("synthetic state parses");
    let c1 = cpu_ns();
    let set = generate(&state, &gen_config(), &masters()).records;
    let c2 = cpu_ns();
    drop(state);
    let (n, names) = (set.len(), set.a.len() + set.aaaa.len() + set.srv.len());
    let before = rss();
    let c3 = cpu_ns();
    let table = Table::compile(Arc::new(set), &cfg, 2);
    let c4 = cpu_ns();
    let after = rss();
    let old = shared.load();
    shared.publish(table);
    let c5 = cpu_ns();
    drop(old);
    let c6 = cpu_ns();
    drop(old_records);
    let c7 = cpu_ns();
    println!(
        "table/{tasks}: {n} records on {names} names, {} table names; CPU parse {:.0} ms, \
         generate {:.0} ms, compile {:.0} ms, publish {:.1} ms, drop old table {:.0} ms, \
         drop old record set {:.0} ms; compiled table RSS +{:.1} MB",
        shared.load().counts().names,
        ms(c1 - c0),
        ms(c2 - c1),
        ms(c4 - c3),
        ms(c5 - c4),
        ms(c6 - c5),
        ms(c7 - c6),
        after.saturating_sub(before) as f64 / 1e6,
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
