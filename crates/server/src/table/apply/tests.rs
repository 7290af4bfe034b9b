//! A table that took deltas one after the other must answer exactly as a
//! full compile of the last record set: every kind of lookup of every name
//! of the pool (see the `patch` tests), their ancestors and absent names,
//! template octet for octet, the negative answer and the counts, after
//! every step. The steps go through the publisher, so the spare, the copy
//! and the fallbacks to a full compile all take their turn, and so do
//! compactions (see the publisher's `compact` module) started at one step
//! and swapped in at a later one.

use std::net::Ipv4Addr;
use std::sync::Arc;

use mesos_records::delta::Lookup;
use mesos_records::{RecordSet, View};
use proptest::prelude::*;

use crate::dns_config::DnsConfig;
use crate::table::patch::tests::{
    apply, assert_same_answers, build, cfgs, entries, keys, ops, pool, Entry, MID, SMALL,
};
use crate::table::{Publisher, SharedTable, Table};

/// A view that is not a record set, as a delta publisher's store: the
/// table must build the record set from it when it needs one.
#[derive(Debug)]
struct Store(RecordSet);

impl Lookup for Store {
    fn a(&self, name: &str) -> &[Ipv4Addr] {
        Lookup::a(&self.0, name)
    }
    fn aaaa(&self, name: &str) -> &[std::net::Ipv6Addr] {
        Lookup::aaaa(&self.0, name)
    }
    fn srv(&self, name: &str) -> Vec<(&str, u16)> {
        Lookup::srv(&self.0, name)
    }
    fn srv_owners(&self, target: &str) -> Vec<&str> {
        Lookup::srv_owners(&self.0, target)
    }
}

impl View for Store {
    fn record_set(&self) -> RecordSet {
        self.0.clone()
    }
}

/// What a chain of deltas did.
#[derive(Debug, Default)]
struct Steps {
    patched: usize,
    copied: usize,
    compacted: usize,
}

/// A publisher into an empty table under `cfg`, and the table it serves.
fn publisher(cfg: &DnsConfig) -> (Arc<SharedTable>, Publisher) {
    let shared = Arc::new(SharedTable::new(Table::empty(cfg)));
    (Arc::clone(&shared), Publisher::new(shared, cfg.clone()))
}

/// Publishes `sets` as deltas, each from the one before, and checks the
/// served table against a full compile after every step.
fn check_deltas(cfg: &DnsConfig, pool: &[String], sets: &[RecordSet]) -> Steps {
    compact_deltas(cfg, pool, sets, &[])
}

/// [`check_deltas`] with compactions: each `(start, end)` of `compactions`
/// starts one after step `start` (if the served table grew since its full
/// compile) and swaps it in after step `end`; the served table is checked
/// again after the swap.
fn compact_deltas(
    cfg: &DnsConfig,
    pool: &[String],
    sets: &[RecordSet],
    compactions: &[(usize, usize)],
) -> Steps {
    let keys = keys(pool);
    let mut jobs = Vec::new();
    let (shared, p) = publisher(cfg);
    let mut prev = RecordSet::default();
    let mut steps = Steps::default();
    for (i, rs) in sets.iter().enumerate() {
        let delta = prev.diff(rs);
        let view: Arc<dyn View> = match i % 2 {
            0 => Arc::new(rs.clone()),
            _ => Arc::new(Store(rs.clone())),
        };
        let now = 1000 + i as u32;
        let done = p.publish_delta(&delta, view, now, 0);
        assert_eq!(done.compiled, i == 0 || !delta.is_empty());
        steps.patched += usize::from(done.patched);
        steps.copied += usize::from(done.copied);
        let served = shared.load();
        let full = Table::compile(Arc::new(rs.clone()), cfg, served.serial());
        assert_same_answers(&served, &full, &keys);
        // The PTR data too, followed on a patch and on a fallback alike.
        assert_eq!(**served.ptrs(), **full.ptrs());
        assert!(served.records().same_records(rs));
        drop(served);
        for &(_, end) in compactions.iter().filter(|(start, _)| *start == i) {
            // Any growth at all: the test wants them to happen.
            if let Some(job) = p.compaction_start(u32::MAX, false) {
                jobs.push((end, job.run()));
            }
        }
        let (due, later) = jobs.into_iter().partition(|(end, _)| *end == i);
        jobs = later;
        for (_, done) in due {
            let before = shared.load();
            let swapped = p.compaction_finish(done);
            let served = shared.load();
            assert_eq!(swapped, !Arc::ptr_eq(&before, &served));
            if swapped {
                steps.compacted += 1;
                assert_eq!(served.serial(), before.serial());
                assert_same_answers(&served, &full, &keys);
                assert_eq!(**served.ptrs(), **full.ptrs());
            }
        }
        prev = rs.clone();
    }
    steps
}

/// The record sets of `start` changed by each list of `steps` in turn.
fn sets(
    pool: &[String],
    start: Vec<Entry>,
    steps: &[Vec<(u8, Entry)>],
) -> Vec<RecordSet> {
    let mut e = start;
    let mut out = vec![build(pool, &e)];
    for ops in steps {
        e = apply(&e, ops);
        out.push(build(pool, &e));
    }
    out
}

proptest! {
    #[test]
    fn small_deltas_answer_as_full_compiles(
        start in entries(40, SMALL),
        steps in proptest::collection::vec(ops(4, SMALL), 1..6),
    ) {
        let pool = pool(0);
        let sets = sets(&pool, start, &steps);
        for cfg in cfgs() {
            check_deltas(&cfg, &pool, &sets);
        }
    }

    #[test]
    fn compactions_swapped_in_between_deltas_answer_as_full_compiles(
        start in entries(40, SMALL),
        steps in proptest::collection::vec(ops(4, SMALL), 1..8),
        compactions in proptest::collection::vec((0usize..8, 0usize..4), 1..3),
    ) {
        let pool = pool(0);
        let sets = sets(&pool, start, &steps);
        let compactions: Vec<(usize, usize)> =
            compactions.into_iter().map(|(s, n)| (s, s + n)).collect();
        compact_deltas(&DnsConfig::default(), &pool, &sets, &compactions);
    }

    #[test]
    fn mid_size_deltas_answer_as_full_compiles(
        start in entries(1500, MID),
        steps in proptest::collection::vec(ops(6, MID), 1..5),
    ) {
        let pool = pool(300);
        let sets = sets(&pool, start, &steps);
        check_deltas(&DnsConfig::default(), &pool, &sets);
    }
}

#[test]
fn long_chains_of_deltas_patch_the_spare_in_place() {
    // Names with dots and without capitals only, so every step can patch.
    let pool: Vec<String> = pool(100)
        .into_iter()
        .filter(|n| {
            n.ends_with('.') && !n.bytes().any(|c| c.is_ascii_uppercase()) && n.len() < 60
        })
        .collect();
    let n = pool.len() as u16;
    let mut rng = fastrand::Rng::with_seed(5);
    let start: Vec<Entry> = (0..600)
        .map(|_| (rng.u16(..n), rng.u8(0..3), rng.u8(..)))
        .collect();
    let steps: Vec<Vec<(u8, Entry)>> = (0..60)
        .map(|_| {
            (0..rng.usize(1..4))
                .map(|_| (rng.u8(0..3), (rng.u16(..n), rng.u8(0..3), rng.u8(..))))
                .collect()
        })
        .collect();
    let sets = sets(&pool, start, &steps);
    let steps = check_deltas(&DnsConfig::default(), &pool, &sets);
    // Some steps remove nothing that is there (no change), and the arenas
    // are compiled again as they grow; the rest patch, in place after the
    // first copy of each full compile.
    assert!(steps.patched > 30, "{steps:?}");
    assert!(steps.copied * 4 < steps.patched, "{steps:?}");

    // Compactions every few steps, swapped in three steps later: each one
    // started is swapped in (every step patches), and they keep the
    // arenas from reaching the bound where a change compiles in full.
    let every: Vec<(usize, usize)> = (1..55).step_by(5).map(|s| (s, s + 3)).collect();
    let compacted = compact_deltas(&DnsConfig::default(), &pool, &sets, &every);
    assert!(compacted.compacted >= 8, "{compacted:?}");
    assert!(compacted.patched > steps.patched, "{compacted:?} {steps:?}");
}

/// A compaction leaves the served table's arenas at the size of a full
/// compile, and lets go of the spare.
#[test]
fn a_compaction_shrinks_the_arenas_to_a_full_compile() {
    let cfg = DnsConfig::default();
    let (shared, p) = publisher(&cfg);
    let mut prev = RecordSet::default();
    let mut rs = RecordSet::default();
    for i in 0..200u8 {
        rs.insert_a(&format!("f{i}.mesos."), Ipv4Addr::new(10, 1, 0, i));
    }
    for step in 0..20u8 {
        rs.insert_a(&format!("g{step}.mesos."), Ipv4Addr::new(10, 2, 0, step));
        p.publish_delta(
            &prev.diff(&rs),
            Arc::new(rs.clone()),
            u32::from(step) + 1,
            0,
        );
        prev = rs.clone();
    }
    let before = shared.load();
    let grown = before.compiled.arena_len() - before.compiled.full_len;
    assert!(grown > 0);
    // Nothing to compact under a growth of more than the whole table.
    assert!(p.compaction_start(0, false).is_none());
    let job = p.compaction_start(u32::MAX, false).expect("grown");
    // One compaction at a time.
    assert!(p.compaction_start(u32::MAX, false).is_none());
    assert!(p.compaction_finish(job.run()));
    let after = shared.load();
    let full = Table::compile(Arc::new(rs.clone()), &cfg, after.serial());
    let names: Vec<String> = rs.a_records().map(|(n, _)| n.to_owned()).collect();
    assert_same_answers(&after, &full, &keys(&names));
    // Only the apex (its serial) was rendered after the copy.
    let (a, f) = (&after.compiled, &full.compiled);
    assert!(
        a.arena_len() - a.full_len < grown / 4,
        "{} {} {grown}",
        a.arena_len(),
        a.full_len
    );
    assert!(
        a.full_len < f.full_len + f.full_len / 8,
        "{} {}",
        a.full_len,
        f.full_len
    );
    assert!(!p.spare_held());
    // A full publish meanwhile drops the compaction.
    let job = {
        rs.insert_a("h.mesos.", Ipv4Addr::new(10, 3, 0, 1));
        p.publish_delta(&prev.diff(&rs), Arc::new(rs.clone()), 100, 0);
        p.compaction_start(u32::MAX, false).expect("grown again")
    };
    p.publish(rs.clone(), 200);
    assert!(!p.compaction_finish(job.run()));
}

#[test]
fn a_delta_moves_srv_glue_and_empty_non_terminals() {
    let cfg = DnsConfig::default();
    let pool = ["mesos.", "a.b.c.mesos.", "_s._tcp.mesos.", "t.mesos."].map(String::from);
    let mut s0 = RecordSet::default();
    // Enough names that the arenas have room for two patches.
    for i in 0..50 {
        s0.insert_a(&format!("f{i}.mesos."), Ipv4Addr::new(10, 1, 0, i));
    }
    s0.insert_a("t.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    s0.insert_srv("_s._tcp.mesos.", "t.mesos.", 80);
    let mut s1 = s0.clone();
    // A lower address is the new glue; a deep name brings two ancestors.
    s1.insert_a("t.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    s1.insert_a("a.b.c.mesos.", Ipv4Addr::new(10, 0, 0, 3));
    let s2 = s0.clone();
    let steps = check_deltas(&cfg, &pool, &[s0, s1, s2]);
    assert_eq!(steps.patched, 2);
}

// An SRV target's glue when its addresses are held by the spelling
// without the trailing dot (which a full compile falls back to) and only
// the SRV owner changes.
#[test]
fn a_delta_keeps_the_glue_of_an_undotted_target() {
    let cfg = DnsConfig::default();
    let pool = ["mesos.", "_s._tcp.mesos.", "t.mesos."].map(String::from);
    let mut s0 = RecordSet::default();
    for i in 0..50 {
        s0.insert_a(&format!("f{i}.mesos."), Ipv4Addr::new(10, 1, 0, i));
    }
    s0.insert_a("t.mesos", Ipv4Addr::new(10, 0, 0, 2));
    s0.insert_srv("_s._tcp.mesos.", "t.mesos.", 80);
    let mut s1 = s0.clone();
    s1.insert_srv("_s._tcp.mesos.", "t.mesos.", 81);
    let s2 = s0.clone();
    check_deltas(&cfg, &pool, &[s0, s1, s2]);
}

#[test]
fn a_spare_still_read_is_not_patched_the_served_table_is_copied() {
    let cfg = DnsConfig::default();
    let pool = ["mesos.", "t.mesos.", "u.mesos."].map(String::from);
    let keys = keys(&pool);
    let mut sets = vec![RecordSet::default()];
    for i in 0..50 {
        let mut s = sets[0].clone();
        s.insert_a(&format!("f{i}.mesos."), Ipv4Addr::new(10, 1, 0, i));
        sets[0] = s;
    }
    for i in 1..5u8 {
        let mut s = sets[0].clone();
        s.insert_a("t.mesos.", Ipv4Addr::new(10, 0, 0, i));
        sets.push(s);
    }
    let (shared, p) = publisher(&cfg);
    let mut prev = RecordSet::default();
    let mut held = Vec::new();
    let mut copied = Vec::new();
    for (i, rs) in sets.iter().enumerate() {
        // From the second delta on, a reader holds every replaced table:
        // the spare is never free.
        if i >= 2 {
            held.push(shared.load());
        }
        let done = p.publish_delta(&prev.diff(rs), Arc::new(rs.clone()), i as u32, 0);
        copied.push(done.copied);
        let served = shared.load();
        let full = Table::compile(Arc::new(rs.clone()), &cfg, served.serial());
        assert_same_answers(&served, &full, &keys);
        prev = rs.clone();
    }
    // The first load compiles, the first delta copies, the second patches
    // the spare in place; held spares are copied around after that.
    assert_eq!(copied, [false, true, false, true, true]);
    // And the tables still read answer as they did.
    for (t, rs) in held.iter().zip(&sets[1..]) {
        let full = Table::compile(Arc::new(rs.clone()), &cfg, t.serial());
        assert_same_answers(t, &full, &keys);
    }
}

/// A spare let go of when changes pause (nothing to compact): the next
/// change copies the served table, with the same answers, and the change
/// after it patches a spare again.
#[test]
fn a_spare_released_at_a_pause_is_made_again_by_the_next_changes() {
    let cfg = DnsConfig::default();
    let pool = ["mesos.", "t.mesos."].map(String::from);
    let keys = keys(&pool);
    let (shared, p) = publisher(&cfg);
    let mut prev = RecordSet::default();
    for i in 0..50 {
        prev.insert_a(&format!("f{i}.mesos."), Ipv4Addr::new(10, 1, 0, i));
    }
    let mut copied = Vec::new();
    for i in 0..5u8 {
        let mut rs = prev.clone();
        rs.insert_a("t.mesos.", Ipv4Addr::new(10, 0, 0, i));
        if i == 3 {
            assert!(p.spare_held());
            p.release_spare();
            assert!(!p.spare_held());
        }
        let done =
            p.publish_delta(&prev.diff(&rs), Arc::new(rs.clone()), u32::from(i), 0);
        copied.push(done.copied);
        let served = shared.load();
        let full = Table::compile(Arc::new(rs.clone()), &cfg, served.serial());
        assert_same_answers(&served, &full, &keys);
        prev = rs;
    }
    assert_eq!(copied, [false, true, false, true, false]);
    assert!(p.spare_held());
}

/// A delta brings the PTR data forward at publish time: the first reverse
/// query finds it ready, and nothing built the whole record set for it.
#[test]
fn ptr_data_follows_a_delta_without_a_full_derive() {
    let cfg = DnsConfig::default();
    let (shared, p) = publisher(&cfg);
    let mut before = RecordSet::default();
    before.insert_a("web-a-s1.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    before.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    p.publish_delta(
        &RecordSet::default().diff(&before),
        Arc::new(Store(before.clone())),
        1,
        0,
    );
    let mut after = before.clone();
    after.insert_a("web-b-s1.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    after.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    let done =
        p.publish_delta(&before.diff(&after), Arc::new(Store(after.clone())), 2, 0);
    assert!(done.patched);
    let t = shared.load();
    assert!(t.reverse.is_ready(), "derived before any query");
    assert!(!t.records_built(), "no full derive from the view");
    let full = Table::compile(Arc::new(after), &cfg, t.serial());
    assert_eq!(**t.ptrs(), **full.ptrs());
    let ip = std::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    assert_eq!(t.ptrs().targets(ip).len(), 2);
}

/// Many names changed during a compaction are rendered into the copy in
/// rounds without the publisher's lock, and the copy still answers as the
/// served table.
#[test]
fn a_compaction_catches_up_on_many_changes() {
    let cfg = DnsConfig::default();
    let (shared, p) = publisher(&cfg);
    let mut rs = RecordSet::default();
    for i in 0..1000u32 {
        let ip = Ipv4Addr::from(0x0a01_0000 + i);
        rs.insert_a(&format!("f{i}.mesos."), ip);
    }
    p.publish_delta(&RecordSet::default().diff(&rs), Arc::new(rs.clone()), 1, 0);
    let mut prev = rs.clone();
    let change = |rs: &mut RecordSet, step: u32, prev: &mut RecordSet| {
        for j in 0..40 {
            let ip = Ipv4Addr::from(0x0a02_0000 + step * 64 + j);
            rs.insert_a(&format!("g{step}-{j}.mesos."), ip);
        }
        p.publish_delta(&prev.diff(rs), Arc::new(rs.clone()), step + 2, 0);
        *prev = rs.clone();
    };
    change(&mut rs, 0, &mut prev);
    let job = p.compaction_start(u32::MAX, false).expect("grown");
    for step in 1..12 {
        change(&mut rs, step, &mut prev);
    }
    let done = job.run();
    assert!(p.compaction_finish(done));
    let served = shared.load();
    let full = Table::compile(Arc::new(rs.clone()), &cfg, served.serial());
    let names: Vec<String> = rs.a_records().map(|(n, _)| n.to_owned()).collect();
    assert!(names.len() > 1400);
    assert_same_answers(&served, &full, &keys(&names));
    assert_eq!(**served.ptrs(), **full.ptrs());
}

/// PTR data changed at many addresses is laid out again by a compaction
/// at a pause, even with nothing else to compact, and still answers as a
/// full derivation; a change during the compaction keeps the data it
/// followed instead.
#[test]
fn a_compaction_at_a_pause_lays_out_changed_ptr_data_again() {
    let cfg = DnsConfig::default();
    let (shared, p) = publisher(&cfg);
    let mut rs = RecordSet::default();
    for i in 0..100u32 {
        rs.insert_a(&format!("f{i}.mesos."), Ipv4Addr::from(0x0a01_0000 + i));
    }
    p.publish_delta(&RecordSet::default().diff(&rs), Arc::new(rs.clone()), 1, 0);
    let mut prev = rs.clone();
    let mut serial = 2;
    let mut moved = |first: u32, prev: &mut RecordSet| {
        let mut rs = prev.clone();
        for i in first..first + 10 {
            rs.insert_a(&format!("g{i}.mesos."), Ipv4Addr::from(0x0a02_0000 + i));
        }
        p.publish_delta(&prev.diff(&rs), Arc::new(rs.clone()), serial, 0);
        serial += 1;
        *prev = rs;
    };
    for step in 0..3 {
        moved(step * 10, &mut prev);
    }
    // The arenas compacted alone: the PTR data stays as followed.
    assert!(
        p.compaction_finish(p.compaction_start(u32::MAX, false).expect("grown").run())
    );
    assert!(shared.load().ptrs().overlay_grown());
    // (Growth of an eighth: only the apex was rendered after the copy.)
    assert!(p.compaction_start(3, false).is_none());
    // A change during the compaction: its copy of the PTR data is moot.
    let job = p.compaction_start(3, true).expect("PTR data changed");
    moved(30, &mut prev);
    assert!(p.compaction_finish(job.run()));
    let served = shared.load();
    assert!(served.ptrs().overlay_grown());
    let full = Table::compile(Arc::new(prev.clone()), &cfg, served.serial());
    assert_eq!(**served.ptrs(), **full.ptrs());
    // At a pause, it is adopted.
    let job = p.compaction_start(3, true).expect("PTR data changed");
    assert!(p.compaction_finish(job.run()));
    let served = shared.load();
    assert!(!served.ptrs().overlay_grown());
    assert_eq!(**served.ptrs(), **full.ptrs());
    let names: Vec<String> = prev.a_records().map(|(n, _)| n.to_owned()).collect();
    assert_same_answers(&served, &full, &keys(&names));
    // And the next change follows from the laid out data.
    moved(40, &mut prev);
    let served = shared.load();
    let full = Table::compile(Arc::new(prev.clone()), &cfg, served.serial());
    assert_eq!(**served.ptrs(), **full.ptrs());
}
