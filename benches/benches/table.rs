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
//! thread of its own); and the memory the new table adds. The publish
//! there patches a table of one task fewer: the line before it times a
//! first load's publish, compiled from scratch as a server's first state
//! load is, on a fresh heap and on a warm one. Then one task
//! added and removed 2,000 times: today's publish of the whole record set
//! beside `Publisher::publish_delta` (the CPU per change, and the full
//! compiles it falls back to as the arenas grow); `-- --delta-only` prints
//! only that, `--tasks N --changes M` for one size, `--ptrs` with the PTR
//! data of each new table readied (as a reverse query would). Instructions per
//! change, apart from the rest of the run:
//!
//! ```text
//! valgrind --tool=callgrind --collect-atstart=no \
//!   --toggle-collect='*Publisher::publish_delta*' \
//!   --toggle-collect='*Publisher::publish_generated*' \
//!   target/release/deps/table-* --delta-only --tasks 100000 --changes 200
//! callgrind_annotate --inclusive=yes callgrind.out.* | grep Publisher::
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use criterion::{criterion_group, Criterion};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::{Publisher, SharedTable, Table};
use mesos_dns_benches::cluster::{
    cpu_ns, gen_config, masters, records, rss, synthetic_state,
};
use mesos_records::delta::Lookup;
use mesos_records::{generate, RecordSet, State, View};

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn report(tasks: usize) {
    let cfg = DnsConfig::default();
    let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
    let publisher = Publisher::new(Arc::clone(&shared), cfg.clone());
    // The table being replaced: one task fewer, so the new one differs.
    // Its publish is a first load (a compile from scratch, the PTR data
    // derived after the swap), on a heap that is still mostly fresh.
    let older = records(tasks - 1);
    let f0 = cpu_ns();
    let first = publisher.publish(older, 1);
    let f1 = cpu_ns();
    assert!(first.first_load);
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
    // A first load again, on the heap the steps above warmed.
    let again =
        Publisher::new(Arc::new(SharedTable::new(Table::empty(&cfg))), cfg.clone());
    let set = mesos_dns_benches::cluster::records(tasks);
    let c10 = cpu_ns();
    let warm = again.publish(set, 5);
    let c11 = cpu_ns();
    assert!(warm.first_load);
    println!(
        "table/{tasks}: a first load's publish (compiled from scratch, PTR data after \
         the swap) CPU {:.0} ms (compile {:.0} ms wall) on a fresh heap, {:.0} ms \
         (compile {:.0} ms) on a warm one",
        ms(f1 - f0),
        first.compile.as_secs_f64() * 1e3,
        ms(c11 - c10),
        warm.compile.as_secs_f64() * 1e3,
    );
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

/// A record set with the reverse index of SRV targets a delta publisher's
/// store keeps (`RecordSet`'s own `srv_owners` walks every SRV record).
#[derive(Debug)]
struct Indexed {
    set: RecordSet,
    owners: HashMap<String, Vec<String>>,
}

impl Indexed {
    fn new(set: RecordSet) -> Self {
        let mut owners: HashMap<String, Vec<String>> = HashMap::new();
        for (name, srvs) in set.srv_records() {
            for s in srvs {
                owners
                    .entry(s.target.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
        Indexed { set, owners }
    }
}

impl Lookup for Indexed {
    fn a(&self, name: &str) -> &[Ipv4Addr] {
        Lookup::a(&self.set, name)
    }
    fn aaaa(&self, name: &str) -> &[Ipv6Addr] {
        Lookup::aaaa(&self.set, name)
    }
    fn srv(&self, name: &str) -> Vec<(&str, u16)> {
        Lookup::srv(&self.set, name)
    }
    fn srv_owners(&self, target: &str) -> Vec<&str> {
        let owners = self.owners.get(target).into_iter().flatten();
        owners.map(String::as_str).collect()
    }
}

impl View for Indexed {
    fn record_set(&self) -> RecordSet {
        self.set.clone()
    }
    fn as_record_set(&self) -> Option<&RecordSet> {
        Some(&self.set)
    }
}

/// One task added and removed, over and over, at `tasks` tasks: today's
/// publish of the whole record set (compare, copy and patch) beside a
/// publish of the delta, in CPU time per change.
fn delta_report(tasks: usize, changes: usize, ptrs: bool) {
    let cfg = DnsConfig::default();
    let shared = Arc::new(SharedTable::new(Table::empty(&cfg)));
    let publisher = Publisher::new(Arc::clone(&shared), cfg.clone());
    let (a, b) = (records(tasks - 1), records(tasks));
    let (ab, ba) = (a.diff(&b), b.diff(&a));
    publisher.publish(a.clone(), 1);
    let rss0 = rss();
    // Today: the whole record set, compared and patched from a copy.
    let mut full = Vec::new();
    for i in 0..20u32 {
        let set = if i % 2 == 0 { b.clone() } else { a.clone() };
        let c0 = cpu_ns();
        let p = publisher.publish(set, 2 + i);
        full.push(cpu_ns() - c0);
        assert!(p.patched);
    }
    let rss1 = rss();
    let va: Arc<dyn View> = Arc::new(Indexed::new(a.clone()));
    let vb: Arc<dyn View> = Arc::new(Indexed::new(b.clone()));
    let (mut per, mut compiled, mut copied) = (Vec::new(), 0, 0);
    // The served table is `a` (20 publishes: even). Per change, wall time
    // (the thread's CPU time moves in scheduler ticks); in all, CPU time.
    let cpu0 = cpu_ns();
    for i in 0..changes {
        let (d, v) = match i % 2 {
            0 => (&ab, &vb),
            _ => (&ba, &va),
        };
        let v = Arc::clone(v);
        let t0 = std::time::Instant::now();
        let p = publisher.publish_delta(d, v, 100 + i as u32, 0);
        if ptrs {
            // The PTR data the first reverse query after the change reads.
            black_box(shared.load().ptrs().len());
        }
        per.push(t0.elapsed().as_nanos() as u64);
        compiled += usize::from(!p.patched);
        copied += usize::from(p.copied);
    }
    let cpu = (cpu_ns() - cpu0) as f64 / changes as f64 / 1e3;
    let rss2 = rss();
    let (table_bytes, shared_bytes) = {
        let t = shared.load();
        (t.compiled_bytes(), t.shared_bytes())
    };
    let stats = |v: &mut Vec<u64>| {
        v.sort_unstable();
        let mean = v.iter().sum::<u64>() as f64 / v.len() as f64;
        let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize] as f64 / 1e3;
        (mean / 1e3, at(0.5), at(0.99), at(1.0))
    };
    let f = stats(&mut full);
    let d = stats(&mut per);
    println!(
        "delta/{tasks}: one task change ({} records removed, {} added) in CPU us, \
         mean/p50/p99/max: today's publish of the record set {:.0}/{:.0}/{:.0}/{:.0}; \
         publish_delta CPU mean {cpu:.1}, wall mean/p50/p99/max {:.1}/{:.1}/{:.1}/{:.0} \
         over {changes} changes ({compiled} full compiles, {copied} copies); compiled \
         table {:.0} MB, of which {:.0} MB shared by the served table and the spare; RSS {:.0} MB after the \
         record-set publishes, {:.0} MB after the deltas (with the bench's two views)",
        ab.removed.len(),
        ab.added.len(),
        f.0,
        f.1,
        f.2,
        f.3,
        d.0,
        d.1,
        d.2,
        d.3,
        table_bytes as f64 / 1e6,
        shared_bytes as f64 / 1e6,
        rss1 as f64 / 1e6,
        rss2 as f64 / 1e6,
    );
    let _ = rss0;
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
    let only_delta = std::env::args().any(|a| a == "--delta-only");
    // `--ptrs`: each change also readies the PTR data (as a reverse query
    // after it would), counted in the change's time.
    let ptrs = std::env::args().any(|a| a == "--ptrs");
    // `--tasks N --changes M`: one size (for callgrind, which counts the
    // instructions of `publish_delta` and `publish_generated` apart).
    let arg = |flag: &str| {
        let mut args = std::env::args().skip_while(|a| a != flag).skip(1);
        args.next().and_then(|n| n.parse::<usize>().ok())
    };
    let sizes = arg("--tasks").map_or(vec![10_000, 100_000], |n| vec![n]);
    for tasks in sizes {
        if !only_delta {
            report(tasks);
        }
        delta_report(tasks, arg("--changes").unwrap_or(2000), ptrs);
    }
    if only_delta || std::env::args().any(|a| a == "--report-only") {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
