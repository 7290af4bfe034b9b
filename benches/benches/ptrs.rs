//! The PTR data of the reverse zones (issues 18 and 20) at 10,000 and
//! 100,000 tasks: what deriving it in full adds to a from-scratch table
//! compile, and what one task change costs it on the delta path.
//!
//! Run: `cargo bench -p mesos-dns-benches --bench ptrs` (`-- --tasks N`
//! for one size, `--crowd H` for the names sharing the changed agent's
//! address, 2,000 by default). It prints, per size, in this thread's CPU
//! time (schedstat, so other load on the machine counts little):
//!
//! - `held`: the heap bytes of the derived data (`Ptrs::heap_size`, exact
//!   buffer capacities) and the resident memory the first derive adds
//!   (from `/proc/self/statm`; it includes allocator slack and
//!   temporaries not yet returned);
//! - `derive`: `Ptrs::derive` of the generated record set, the best and
//!   the median of 5 runs;
//! - `follow`: `Ptrs::follow` of one host-networked task added and
//!   removed, 2,000 times, on an agent address that `--crowd` other task
//!   names point at (every host-networked task's `*.slave.` name points
//!   at its agent's address): the mean CPU per change, and the wall time
//!   p50/p99/max;
//! - `compacted`: `Ptrs::compacted` of the followed data (what the
//!   compaction thread does at a pause; linear in every address and name,
//!   whatever changed), the best and the median of 5 runs.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

use mesos_dns::reverse::Ptrs;
use mesos_dns_benches::cluster::{cpu_ns, records, rss};
use mesos_records::RecordSet;

const APEX: &[u8] = b"\x05mesos\x00";
const CHANGES: usize = 2000;

fn derive(rs: &RecordSet) -> Ptrs {
    Ptrs::derive(rs, APEX, &[])
}

/// The record set of `tasks` tasks with `crowd` more task names on the
/// address of agent `agent`, and the same with one more task there.
fn crowded(tasks: usize, crowd: usize, agent: Ipv4Addr) -> (RecordSet, RecordSet) {
    let mut a = records(tasks);
    for i in 0..crowd {
        a.insert_a(&format!("crowd-{i}.marathon.slave.mesos."), agent);
    }
    let mut b = a.clone();
    b.insert_a("hot.marathon.slave.mesos.", agent);
    b.insert_a("hot.marathon.mesos.", Ipv4Addr::new(10, 250, 0, 1));
    (a, b)
}

fn report(tasks: usize, crowd: usize) {
    let rs = records(tasks);
    let before = rss();
    let first = derive(&rs);
    let grown = rss().saturating_sub(before);
    println!(
        "ptrs/{tasks}: held: {:.1} MB heap (Ptrs::heap_size), {:.1} MB resident \
         added by the first derive",
        first.heap_size() as f64 / 1e6,
        grown as f64 / 1e6,
    );
    drop(first);
    let mut runs = Vec::new();
    let mut n = 0;
    for _ in 0..5 {
        let c0 = cpu_ns();
        let p = derive(black_box(&rs));
        runs.push(cpu_ns() - c0);
        n = p.len();
    }
    runs.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    println!(
        "ptrs/{tasks}: derive {n} addresses from {} records: CPU best {:.1} ms, \
         median {:.1} ms",
        rs.len(),
        ms(runs[0]),
        ms(runs[2]),
    );
    drop(rs);
    // An agent of the generated cluster: the first address `slave.mesos.`
    // points at.
    let base = records(tasks);
    let agent = *base
        .a("slave.mesos.")
        .and_then(|ips| ips.first())
        .expect("agents");
    drop(base);
    let (a, b) = crowded(tasks, crowd, agent);
    let (ab, ba) = (a.diff(&b), b.diff(&a));
    let mut p = derive(&a);
    let mut per = Vec::with_capacity(CHANGES);
    let c0 = cpu_ns();
    for i in 0..CHANGES {
        let (d, v) = match i % 2 {
            0 => (&ab, &b),
            _ => (&ba, &a),
        };
        let t0 = Instant::now();
        p = p.follow(d, v, APEX, &[]);
        per.push(t0.elapsed().as_nanos() as u64);
    }
    let cpu = (cpu_ns() - c0) as f64 / CHANGES as f64 / 1e3;
    assert_eq!(p, derive(&a), "followed back to the start");
    let mut laid = Vec::new();
    for _ in 0..5 {
        let c0 = cpu_ns();
        let c = p.compacted().expect("the names fit");
        laid.push(cpu_ns() - c0);
        assert_eq!(c, p, "laid out again, the same data");
    }
    laid.sort_unstable();
    per.sort_unstable();
    let at = |q: f64| per[((per.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    println!(
        "ptrs/{tasks}: follow one task change at an agent address shared by \
         {} names: CPU mean {cpu:.1} us, wall p50/p99/max {:.1}/{:.1}/{:.0} us",
        a.a_records()
            .filter(|(_, ips)| ips.contains(&agent))
            .count(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
    println!(
        "ptrs/{tasks}: compacted (laid out again as one derivation): CPU best \
         {:.1} ms, median {:.1} ms",
        ms(laid[0]),
        ms(laid[2]),
    );
}

fn main() {
    let arg = |flag: &str| {
        let mut args = std::env::args().skip_while(|a| a != flag).skip(1);
        args.next().and_then(|n| n.parse::<usize>().ok())
    };
    let crowd = arg("--crowd").unwrap_or(2000);
    for tasks in arg("--tasks").map_or(vec![10_000, 100_000], |n| vec![n]) {
        report(tasks, crowd);
    }
}
