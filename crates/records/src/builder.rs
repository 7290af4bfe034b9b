//! Building a [`RecordSet`] (BEHAVIOUR.md 4.1): inserts that deduplicate and
//! credit new task records to the enumeration (BEHAVIOUR.md 4.11).
//!
//! Building is cheap per record: each insert appends a few bytes to a log,
//! and names are numbers. Generation appends each task name without
//! looking it up (a hash lookup per name, a cache miss or two each in a
//! table of half a million names, cost more than the rest of building),
//! so a name may be stored more than once while building; the few others
//! are interned (one hash lookup). [`RecordSetBuilder::finish`] then sorts
//! the names once, merging equal ones, groups each log by name with a
//! counting sort, sorts and deduplicates each name's values, and keeps
//! only the first insert of each record in the enumeration: the same
//! result as deduplicating on every insert, in insertion order.

use std::net::{Ipv4Addr, Ipv6Addr};

mod name_order;
use name_order::ranked_names;

use crate::name_text::{idx, NameText, SortedIndex, TextIndex};
use crate::record::{
    EnumData, EnumEntry, FwEntry, KindAt, PackedSrv, RecordKind, RecordSet, TaskEntry,
};

/// Builds a [`RecordSet`]: inserts deduplicate, and with the enumeration on,
/// a record inserted for the first time while a task is open is credited to
/// that task (BEHAVIOUR.md 4.11). Names are not checked: mesos-dns stores every
/// name its rules give.
///
/// ```
/// use mesos_records::RecordSetBuilder;
///
/// let mut b = RecordSetBuilder::new(true);
/// b.insert_a("ns1.mesos.", "10.0.0.1".parse().unwrap());
/// b.framework("marathon");
/// b.task("web", "web.1");
/// b.insert_srv("_web._tcp.marathon.mesos.", "web-x-s1.marathon.mesos.", 31000);
/// let rs = b.finish();
/// let task = rs.enumeration().frameworks().next().unwrap().tasks().next().unwrap();
/// assert_eq!(task.records().len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct RecordSetBuilder {
    pub(crate) names: NameText,
    pub(crate) index: TextIndex,
    /// Every insert, in order: name number and value.
    a: Vec<(u32, Ipv4Addr)>,
    aaaa: Vec<(u32, Ipv6Addr)>,
    srv: Vec<(u32, PackedSrv)>,
    enumerate: bool,
    /// True while a task is open.
    in_task: bool,
    /// Inserts made while a task was open: kind and place in its log.
    /// [`EnumData::tasks`] `records_end` index this list until `finish`.
    credits: Vec<KindAt>,
    enumeration: EnumData,
}

impl RecordSetBuilder {
    /// An empty builder; `enumerate` is `EnumerationOn`.
    pub fn new(enumerate: bool) -> Self {
        RecordSetBuilder {
            enumerate,
            ..RecordSetBuilder::default()
        }
    }

    /// Starts the next framework of the enumeration (and ends any task).
    pub fn framework(&mut self, name: &str) {
        self.in_task = false;
        if self.enumerate {
            let e = &mut self.enumeration;
            let name = e.span(name);
            let tasks_end = idx(e.tasks.len());
            e.frameworks.push(FwEntry { name, tasks_end });
        }
    }

    /// Starts the next task of the current framework: records inserted
    /// from now on for the first time are credited to it. Without a
    /// framework, starts one named `""`.
    pub fn task(&mut self, name: &str, id: &str) {
        if !self.enumerate {
            return;
        }
        if self.enumeration.frameworks.is_empty() {
            self.framework("");
        }
        let e = &mut self.enumeration;
        let (name, id) = (e.span(name), e.span(id));
        let records_end = idx(self.credits.len());
        e.tasks.push(TaskEntry {
            name,
            id,
            records_end,
        });
        if let Some(fw) = e.frameworks.last_mut() {
            fw.tasks_end = idx(e.tasks.len());
        }
        self.in_task = true;
    }

    /// Ends the current task: later records are credited to nobody.
    pub fn end_task(&mut self) {
        self.in_task = false;
    }

    /// Inserts an A record.
    pub fn insert_a(&mut self, name: &str, ip: Ipv4Addr) {
        let n = self.intern(name);
        self.add_a(n, ip);
    }

    /// Inserts an AAAA record.
    pub fn insert_aaaa(&mut self, name: &str, ip: Ipv6Addr) {
        let n = self.intern(name);
        self.add_aaaa(n, ip);
    }

    /// Inserts an SRV record.
    pub fn insert_srv(&mut self, name: &str, target: &str, port: u16) {
        let n = self.intern(name);
        let t = self.intern(target);
        self.add_srv(n, t, port);
    }

    /// The number of `name` (interned once).
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        self.index.intern(&mut self.names, name)
    }

    /// The number of a new name that `parts` concatenate to. The name may
    /// equal one pushed or interned before: [`RecordSetBuilder::finish`]
    /// merges equal names, so this skips the lookup [`intern`] makes.
    ///
    /// [`intern`]: RecordSetBuilder::intern
    pub(crate) fn push_name<'a>(
        &mut self,
        parts: impl IntoIterator<Item = &'a str>,
    ) -> u32 {
        self.names.push_parts(parts)
    }

    /// Makes room for about `names` more names of `bytes` in total, and
    /// `a`, `srv` and `credits` more inserts.
    pub(crate) fn reserve(&mut self, names: usize, bytes: usize, a: usize, srv: usize) {
        self.names.reserve(names, bytes);
        self.a.reserve(a);
        self.srv.reserve(srv);
        if self.enumerate {
            self.credits.reserve(a + srv);
        }
    }

    /// Name number `n`.
    pub(crate) fn name(&self, n: u32) -> &str {
        self.names.get(n)
    }

    fn credit(&mut self, kind: RecordKind, at: usize) {
        if self.in_task {
            self.credits.push(KindAt::new(kind, idx(at)));
            if let Some(t) = self.enumeration.tasks.last_mut() {
                t.records_end = idx(self.credits.len());
            }
        }
    }

    pub(crate) fn add_a(&mut self, name: u32, ip: Ipv4Addr) {
        self.credit(RecordKind::A, self.a.len());
        self.a.push((name, ip));
    }

    pub(crate) fn add_aaaa(&mut self, name: u32, ip: Ipv6Addr) {
        self.credit(RecordKind::Aaaa, self.aaaa.len());
        self.aaaa.push((name, ip));
    }

    pub(crate) fn add_srv(&mut self, name: u32, target: u32, port: u16) {
        self.credit(RecordKind::Srv, self.srv.len());
        self.srv.push((name, PackedSrv { target, port }));
    }

    /// True if `name` has the A record `ip` already. Linear in the inserts
    /// so far: generation asks only for master records, before any task.
    pub(crate) fn has_a(&self, name: u32, ip: Ipv4Addr) -> bool {
        self.a.contains(&(name, ip))
    }

    /// True if `name` has the AAAA record `ip` already (linear, as
    /// [`RecordSetBuilder::has_a`]).
    pub(crate) fn has_aaaa(&self, name: u32, ip: Ipv6Addr) -> bool {
        self.aaaa.contains(&(name, ip))
    }

    /// The finished record set: equal names merged, names sorted and
    /// numbered in byte order, values grouped, sorted and deduplicated,
    /// and only the first insert of each record credited.
    pub fn finish(self) -> RecordSet {
        // A name with no value that is no SRV target (a task's names when
        // it has no address) is left out: mesos-dns stores names only with
        // a value, so such a name does not exist.
        let mut used = vec![false; self.names.len()];
        let mut mark = |n: u32| {
            if let Some(u) = used.get_mut(n as usize) {
                *u = true;
            }
        };
        self.a.iter().for_each(|e| mark(e.0));
        self.aaaa.iter().for_each(|e| mark(e.0));
        for (n, v) in &self.srv {
            mark(*n);
            mark(v.target);
        }
        let (rank, n) = ranked_names(&self.names, &used);
        let rank_of = |id: u32| rank.get(id as usize).copied().unwrap_or_default();
        let names = self.names.renumbered(&rank, n);

        // Each value is packed with its log position into one integer, so
        // the per-name sorts compare integers.
        let mut ends = vec![[0u32; 3]; n];
        let a = group(
            &self.a,
            (&mut ends, RecordKind::A),
            |e| rank_of(e.0),
            |e, i| (u64::from(u32::from(e.1)) << 32) | u64::from(i),
            |k| (Ipv4Addr::from((k >> 32) as u32), k as u32),
        );
        let aaaa = group(
            &self.aaaa,
            (&mut ends, RecordKind::Aaaa),
            |e| rank_of(e.0),
            |e, i| (e.1, i),
            |k| k,
        );
        // Up to 2^24 names and SRV inserts (far more than the largest
        // clusters) fit a 64-bit key, half the memory of the general one.
        let narrow = n <= 1 << 24 && self.srv.len() <= 1 << 24;
        let srv = group_srv(&self.srv, &mut ends, rank_of, narrow);

        // The enumeration keeps the inserts that were first.
        let mut enumeration = self.enumeration;
        // Each task's inserts follow the previous task's in `credits`.
        let mut records = Vec::with_capacity(self.credits.len());
        let mut start = 0;
        for t in &mut enumeration.tasks {
            let end = t.records_end as usize;
            for &credit in self.credits.get(start..end).unwrap_or_default() {
                let (kind, at) = (credit.kind(), credit.at() as usize);
                let (first, name) = match kind {
                    RecordKind::A => (a.first.get(at), self.a.get(at).map(|e| e.0)),
                    RecordKind::Aaaa => {
                        (aaaa.first.get(at), self.aaaa.get(at).map(|e| e.0))
                    }
                    RecordKind::Srv => (srv.first.get(at), self.srv.get(at).map(|e| e.0)),
                };
                if let (Some(&first), Some(name)) = (first, name) {
                    if first != NOT_FIRST {
                        records.push(EnumEntry::new(rank_of(name), kind, first));
                    }
                }
            }
            start = end.max(start);
            t.records_end = idx(records.len());
        }
        enumeration.records = records;

        RecordSet {
            names,
            index: SortedIndex::default(),
            ends,
            a: a.values,
            aaaa: aaaa.values,
            srv: srv.values,
            enumeration,
            ..RecordSet::default()
        }
    }
}

/// [`group`] for the SRV log, with keys of the target's rank, the port
/// and the log position: 64-bit if `narrow` (ranks and positions below
/// 2^24), else 128-bit.
fn group_srv(
    log: &[(u32, PackedSrv)],
    ends: &mut [[u32; 3]],
    rank_of: impl Fn(u32) -> u32,
    narrow: bool,
) -> Grouped<PackedSrv> {
    let name_of = |e: &(u32, PackedSrv)| rank_of(e.0);
    if narrow {
        group(
            log,
            (ends, RecordKind::Srv),
            name_of,
            |e, i| {
                (u64::from(rank_of(e.1.target)) << 40)
                    | (u64::from(e.1.port) << 24)
                    | u64::from(i)
            },
            |k| {
                let v = PackedSrv {
                    target: (k >> 40) as u32,
                    port: (k >> 24) as u16,
                };
                (v, (k & 0xff_ffff) as u32)
            },
        )
    } else {
        group(
            log,
            (ends, RecordKind::Srv),
            name_of,
            |e, i| {
                (u128::from(rank_of(e.1.target)) << 64)
                    | (u128::from(e.1.port) << 32)
                    | u128::from(i)
            },
            |k| {
                let v = PackedSrv {
                    target: (k >> 64) as u32,
                    port: (k >> 32) as u16,
                };
                (v, k as u32)
            },
        )
    }
}

/// Marks a log entry that repeats an earlier insert.
const NOT_FIRST: u32 = u32::MAX;

/// One log grouped by name.
struct Grouped<V> {
    /// Per name in order, sorted and unique.
    values: Vec<V>,
    /// Per log entry: its index in `values`, or [`NOT_FIRST`].
    first: Vec<u32>,
}

/// Groups `log` by the rank `name_of` gives (all below `ends.len()`),
/// sorts each group by `key_of` (the value, then the log position `i`;
/// `split` undoes it), keeps the first insert of each value, and writes
/// where each name's values end to its `kind` column of `ends`.
fn group<E, V: PartialEq + Copy, K: Ord + Copy>(
    log: &[E],
    (ends, kind): (&mut [[u32; 3]], RecordKind),
    name_of: impl Fn(&E) -> u32,
    key_of: impl Fn(&E, u32) -> K,
    split: impl Fn(K) -> (V, u32),
) -> Grouped<V> {
    let Some(filler) = log.first().map(|e| key_of(e, 0)) else {
        // No values: every end stays 0.
        return Grouped {
            values: Vec::new(),
            first: Vec::new(),
        };
    };
    // Counting sort by name: bounds[r] is where rank r's entries begin.
    let n = ends.len();
    let mut bounds = vec![0u32; n + 1];
    for e in log {
        if let Some(c) = bounds.get_mut(name_of(e) as usize + 1) {
            *c += 1;
        }
    }
    for i in 1..bounds.len() {
        let prev = bounds.get(i - 1).copied().unwrap_or_default();
        if let Some(c) = bounds.get_mut(i) {
            *c += prev;
        }
    }
    // Scatter the keys (read in log order, written in name order), so the
    // per-name pass below reads them in order. Every slot is written: the
    // counts match the log. Afterwards bounds[r] is where rank r's entries
    // end.
    let mut by_name: Vec<K> = vec![filler; log.len()];
    for (i, e) in log.iter().enumerate() {
        if let Some(slot) = bounds.get_mut(name_of(e) as usize) {
            if let Some(p) = by_name.get_mut(*slot as usize) {
                *p = key_of(e, idx(i));
            }
            *slot += 1;
        }
    }

    let mut out = Grouped {
        values: Vec::with_capacity(log.len()),
        first: vec![NOT_FIRST; log.len()],
    };
    let mut start = 0;
    for (&end, e) in bounds.iter().zip(ends.iter_mut()) {
        let group = by_name.get_mut(start..end as usize).unwrap_or_default();
        start = end as usize;
        // The log position breaks ties: the first insert of a value wins.
        group.sort_unstable();
        let mut last = None;
        for (v, i) in group.iter().map(|&k| split(k)) {
            if last != Some(v) {
                if let Some(f) = out.first.get_mut(i as usize) {
                    *f = idx(out.values.len());
                }
                out.values.push(v);
                last = Some(v);
            }
        }
        e[kind as usize] = idx(out.values.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_names_are_in_byte_order() {
        let mut b = RecordSetBuilder::new(false);
        let mut want = Vec::new();
        for (i, stem) in [
            "app-123456789",
            "app-12345678",
            "_app-1234567890",
            "a",
            "app-1",
        ]
        .iter()
        .enumerate()
        {
            for tail in ["x.m.", ".m.", "-x.m.", "x.slave.m.", ""] {
                let name = format!("{stem}{tail}");
                b.insert_a(&name, Ipv4Addr::new(10, 0, 0, i as u8));
                want.push(name);
            }
        }
        want.sort();
        want.dedup();
        let rs = b.finish();
        let got: Vec<&str> = rs.owners().map(|o| o.name).collect();
        assert_eq!(got, want);
    }

    // BEHAVIOUR.md 4.11: a name pushed again (not looked up) is one name once
    // finished, and its records are deduplicated and credited once.
    #[test]
    fn pushed_names_merge_with_equal_names() {
        let mut b = RecordSetBuilder::new(true);
        let ip = Ipv4Addr::new(10, 0, 0, 1);
        b.insert_a("a.m.", ip);
        b.framework("f");
        b.task("t1", "t.1");
        let n1 = b.push_name(["a", ".m."]);
        b.add_a(n1, ip);
        let n2 = b.push_name(["b.m."]);
        b.add_a(n2, ip);
        let t = b.push_name(["b", ".m."]);
        b.add_srv(n1, t, 80);
        b.task("t2", "t.2");
        let n3 = b.push_name(["b.m."]);
        b.add_a(n3, ip);
        b.add_a(n3, Ipv4Addr::new(10, 0, 0, 2));
        let t = b.push_name(["b.m."]);
        b.add_srv(n1, t, 80);
        let rs = b.finish();
        assert_eq!(rs.names().collect::<Vec<_>>(), ["a.m.", "b.m."]);
        assert_eq!(rs.a("a.m."), Some(&[ip][..]));
        assert_eq!(rs.a("b.m."), Some(&[ip, Ipv4Addr::new(10, 0, 0, 2)][..]));
        assert_eq!(rs.srv("a.m.").map(|s| s.len()), Some(1));
        let fw = rs.enumeration().frameworks().next().unwrap();
        let credited: Vec<Vec<String>> = fw
            .tasks()
            .map(|t| {
                t.records()
                    .map(|r| format!("{} {} {}", r.name, r.rtype, r.host))
                    .collect()
            })
            .collect();
        assert_eq!(
            credited,
            [
                vec!["b.m. A 10.0.0.1".to_owned(), "a.m. SRV b.m.:80".to_owned()],
                vec!["b.m. A 10.0.0.2".to_owned()],
            ]
        );
    }

    // mesos-dns stores a name only with a value: a name pushed with none
    // (a task with no address) does not exist, unless it is an SRV target.
    #[test]
    fn names_without_values_are_left_out() {
        let mut b = RecordSetBuilder::new(true);
        b.push_name(["gone.m."]);
        let t = b.push_name(["target.m."]);
        let n = b.push_name(["_s._tcp.m."]);
        b.add_srv(n, t, 80);
        b.push_name(["also-gone.m."]);
        let rs = b.finish();
        assert_eq!(rs.names().collect::<Vec<_>>(), ["_s._tcp.m.", "target.m."]);
        assert!(!rs.has_name("gone.m."));
        assert_eq!(
            rs.srv("_s._tcp.m.").unwrap().first().unwrap().target,
            "target.m."
        );
    }

    #[test]
    fn srv_keys_of_both_widths_group_alike() {
        let srv = |target, port| PackedSrv { target, port };
        let log = [
            (2, srv(1, 80)),
            (0, srv(2, 443)),
            (2, srv(0, 80)),
            (2, srv(1, 80)),
            (1, srv(2, 65535)),
            (2, srv(1, 79)),
        ];
        let rank_of = |id: u32| 2 - id;
        let (mut narrow_ends, mut wide_ends) = ([[0u32; 3]; 3], [[0u32; 3]; 3]);
        let narrow = group_srv(&log, &mut narrow_ends, rank_of, true);
        let wide = group_srv(&log, &mut wide_ends, rank_of, false);
        assert_eq!(narrow.values, wide.values);
        assert_eq!(narrow.first, wide.first);
        assert_eq!(narrow_ends, wide_ends);
        // Rank 0 has three distinct values (one repeated), ranks 1 and 2 one.
        assert_eq!(
            narrow.values,
            [
                srv(1, 79),
                srv(1, 80),
                srv(2, 80),
                srv(0, 65535),
                srv(0, 443)
            ]
        );
        assert_eq!(narrow.first, [1, 4, 2, NOT_FIRST, 3, 0]);
        assert_eq!(narrow_ends, [[0, 0, 3], [0, 0, 4], [0, 0, 5]]);
    }
}
