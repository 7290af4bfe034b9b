//! A patched table must answer exactly as a full compile of the same
//! records: every kind of lookup of every name of both record sets, their
//! ancestors and some absent names, template octet for octet, and the
//! same counts.
//!
//! Record sets are built from entries over a pool of names chosen to
//! collide: names in and out of the domain, spellings of one name in
//! different case, odd octets, unencodable ones,
//! the nameserver (NS glue), the apex itself, and SRV targets drawn from
//! the same pool (so a changed address reaches other names' SRV answers).
//! proptest shrinks a failure to a short list of entries.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::table::{AnswerKind, Table};

/// One record: (name in the pool, 0 = A / 1 = AAAA / 2 = SRV, value).
pub(in crate::table) type Entry = (u16, u8, u8);

const KINDS: [Option<AnswerKind>; 7] = [
    None,
    Some(AnswerKind::A),
    Some(AnswerKind::Aaaa),
    Some(AnswerKind::Srv),
    Some(AnswerKind::Any),
    Some(AnswerKind::Soa),
    Some(AnswerKind::Ns),
];

/// A pool of names: a fixed set of awkward ones, `extra` numbered ones,
/// then two owners spelled without their trailing dot (which share their
/// wire names with the dotted spellings before them).
pub(in crate::table) fn pool(extra: usize) -> Vec<String> {
    let mut names: Vec<String> = [
        "mesos.",
        "ns1.mesos.",
        "a.mesos.",
        "b.a.mesos.",
        "c.b.a.mesos.",
        "web.marathon.mesos.",
        "_web._tcp.marathon.mesos.",
        "_http._web._tcp.marathon.mesos.",
        "_web._udp.marathon.mesos.",
        "x-1.slave.mesos.",
        "Up.marathon.mesos.",
        "a.Up.marathon.mesos.",
        "up.marathon.mesos.",
        "UP.marathon.mesos.",
        "bang!.marathon.mesos.",
        "elsewhere.",
        "ns1.elsewhere.",
        "a..mesos.",
        "marathon.mesos.",
        ".",
    ]
    .map(String::from)
    .to_vec();
    names.push(format!("{}.mesos.", "l".repeat(64)));
    for i in 0..extra {
        names.push(format!("t{}.app{}.fw{}.mesos.", i, i % 7, i % 3));
    }
    names.extend(UNDOTTED_OWNERS.map(String::from));
    names
}

/// Owners without the trailing dot, last in the pool.
const UNDOTTED_OWNERS: [&str; 2] = ["web.marathon.mesos", "x-1.slave.mesos"];

/// SRV targets besides the pool's names.
const UNDOTTED: [&str; 3] = ["ns1.mesos", "web.marathon.mesos", "mesos"];

pub(in crate::table) fn build(pool: &[String], entries: &[Entry]) -> RecordSet {
    let mut rs = RecordSet::default();
    for &(n, kind, v) in entries {
        let name = &pool[usize::from(n) % pool.len()];
        match kind % 3 {
            0 => rs.insert_a(name, Ipv4Addr::new(10, 0, 0, v % 8)),
            1 => rs.insert_aaaa(
                name,
                Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(v % 4)),
            ),
            _ => {
                // SRV targets without the trailing dot share the glue of
                // the owners with it.
                let i = usize::from(v) * 7 % (pool.len() + UNDOTTED.len());
                let target = match pool.get(i) {
                    Some(t) => t.as_str(),
                    None => UNDOTTED[i - pool.len()],
                };
                rs.insert_srv(name, target, 1000 + u16::from(v % 3))
            }
        };
    }
    rs
}

/// Lowercase wire keys to look up: every name of the pool (as is and
/// lowercased), their ancestors, and absent names.
pub(in crate::table) fn keys(pool: &[String]) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let mut buf = [0u8; MAX_NAME_LEN];
    for name in pool
        .iter()
        .map(String::as_str)
        .chain(["zzz.mesos.", "a.zzz.mesos."])
    {
        for text in [name.to_owned(), name.to_ascii_lowercase()] {
            let Some((mut wire, _)) = wire_key(&text, &mut buf) else {
                continue;
            };
            loop {
                keys.push(wire.to_vec());
                if wire.len() <= 1 {
                    break;
                }
                wire = super::parent(wire);
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Asserts that `x` and `y` answer every lookup of `keys` alike.
pub(in crate::table) fn assert_same_answers(x: &Table, y: &Table, keys: &[Vec<u8>]) {
    assert_eq!(x.counts(), y.counts());
    assert_eq!(
        x.negative(true).map(|t| t.content()),
        y.negative(true).map(|t| t.content())
    );
    for key in keys {
        for kind in KINDS {
            let got = x.lookup(key, kind).map(|t| t.content());
            let want = y.lookup(key, kind).map(|t| t.content());
            assert_eq!(got, want, "{:?} {kind:?}", String::from_utf8_lossy(key));
        }
    }
}

/// Publishes `sets` one after the other, each patched from the one
/// before, and checks each against a full compile; returns how many were
/// patched.
fn check_chain(cfg: &DnsConfig, pool: &[String], sets: &[RecordSet]) -> usize {
    let keys = keys(pool);
    let mut table = Table::compile(Arc::new(sets[0].clone()), cfg, 1);
    let mut patched = 0;
    for (serial, rs) in (2..).zip(&sets[1..]) {
        let (next, was) = table.recompile(Arc::new(rs.clone()), cfg, serial);
        let full = Table::compile(Arc::new(rs.clone()), cfg, serial);
        assert_same_answers(&next, &full, &keys);
        patched += usize::from(was);
        table = next;
    }
    patched
}

/// `entries` changed by `ops`: (0, e) adds e; (1, e) removes every record
/// of e's name; (2, e) removes e's name's records of e's kind.
/// The record sets of `start`, then `first` applied, then `second` too.
pub(in crate::table) fn chain(
    pool: &[String],
    start: Vec<Entry>,
    first: &[(u8, Entry)],
    second: &[(u8, Entry)],
) -> [RecordSet; 3] {
    let b = apply(&start, first);
    let c = apply(&b, second);
    [&start, &b, &c].map(|e| build(pool, e))
}

pub(in crate::table) fn apply(entries: &[Entry], ops: &[(u8, Entry)]) -> Vec<Entry> {
    let mut out = entries.to_vec();
    for &(op, e) in ops {
        match op % 3 {
            0 => out.push(e),
            1 => out.retain(|x| x.0 != e.0),
            _ => out.retain(|x| x.0 != e.0 || x.1 % 3 != e.1 % 3),
        }
    }
    out
}

pub(in crate::table) fn entry(pool: usize) -> impl Strategy<Value = Entry> {
    (0..pool as u16, 0u8..3, any::<u8>())
}

pub(in crate::table) fn entries(
    n: usize,
    pool: usize,
) -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec(entry(pool), 0..n)
}

pub(in crate::table) fn ops(
    n: usize,
    pool: usize,
) -> impl Strategy<Value = Vec<(u8, Entry)>> {
    proptest::collection::vec((0u8..3, entry(pool)), 0..n)
}

/// The sizes of the pools (see [`pool`]).
pub(in crate::table) const SMALL: usize = 21 + UNDOTTED_OWNERS.len();
pub(in crate::table) const MID: usize = SMALL + 300;

pub(in crate::table) fn cfgs() -> [DnsConfig; 2] {
    let sub = DnsConfig {
        domain: "marathon.mesos".into(),
        soa_mname: "web.marathon.mesos.".into(),
        ..DnsConfig::default()
    };
    [DnsConfig::default(), sub]
}

proptest! {
    #[test]
    fn small_patches_answer_as_full_compiles(
        start in entries(40, SMALL),
        first in ops(6, SMALL),
        second in ops(6, SMALL),
    ) {
        let pool = pool(0);
        assert_eq!(pool.len(), SMALL);
        let sets = chain(&pool, start, &first, &second);
        for cfg in cfgs() {
            check_chain(&cfg, &pool, &sets);
        }
    }

    #[test]
    fn mid_size_patches_answer_as_full_compiles(
        start in entries(1500, MID),
        first in ops(40, MID),
        second in ops(40, MID),
    ) {
        let pool = pool(300);
        assert_eq!(pool.len(), MID);
        let sets = chain(&pool, start, &first, &second);
        check_chain(&DnsConfig::default(), &pool, &sets);
    }
}

#[test]
fn long_chains_of_patches_stay_exact_and_fall_back_as_the_arenas_grow() {
    let pool = pool(100);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut e: Vec<Entry> = (0..800)
        .map(|_| (rng.u16(..118), rng.u8(0..3), rng.u8(..)))
        .collect();
    let mut sets = vec![build(&pool, &e)];
    for _ in 0..40 {
        let ops: Vec<(u8, Entry)> = (0..rng.usize(1..8))
            .map(|_| (rng.u8(0..3), (rng.u16(..118), rng.u8(0..3), rng.u8(..))))
            .collect();
        e = apply(&e, &ops);
        sets.push(build(&pool, &e));
    }
    let patched = check_chain(&DnsConfig::default(), &pool, &sets);
    assert!(patched > 20, "{patched}");
}

#[test]
fn a_name_without_a_trailing_dot_is_compiled_in_full() {
    let cfg = DnsConfig::default();
    let mut a = RecordSet::default();
    a.insert_a("web.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    let mut b = a.clone();
    b.insert_a("web.mesos", Ipv4Addr::new(10, 0, 0, 2));
    let pool = ["web.mesos.", "a.mesos.", "mesos."].map(String::from);
    let t = Table::compile(Arc::new(a.clone()), &cfg, 1);
    let (patched, was) = t.recompile(Arc::new(b.clone()), &cfg, 2);
    assert!(!was);
    let full = Table::compile(Arc::new(b.clone()), &cfg, 2);
    assert_same_answers(&patched, &full, &keys(&pool));
    // Unchanged, it still shares its wire name with a changed one.
    let mut d = b.clone();
    d.insert_srv("web.mesos.", "a.mesos.", 80);
    let t = Table::compile(Arc::new(b), &cfg, 1);
    let (patched, was) = t.recompile(Arc::new(d.clone()), &cfg, 2);
    assert!(!was);
    let full = Table::compile(Arc::new(d), &cfg, 2);
    assert_same_answers(&patched, &full, &keys(&pool));
    // And with dots, the same change is patched.
    let t = Table::compile(Arc::new(a.clone()), &cfg, 1);
    let mut c = a;
    c.insert_a("web.mesos.", Ipv4Addr::new(10, 0, 0, 2));
    assert!(t.recompile(Arc::new(c), &cfg, 2).1);
}

#[test]
fn other_settings_are_compiled_in_full() {
    let cfg = DnsConfig::default();
    let mut a = RecordSet::default();
    a.insert_a("web.mesos.", Ipv4Addr::new(10, 0, 0, 1));
    let t = Table::compile(Arc::new(a.clone()), &cfg, 1);
    let ttl = DnsConfig {
        ttl: 5,
        ..cfg.clone()
    };
    assert!(!t.recompile(Arc::new(a.clone()), &ttl, 2).1);
    assert!(t.recompile(Arc::new(a.clone()), &cfg, 2).1);
    assert!(!Table::empty(&cfg).recompile(Arc::new(a), &cfg, 2).1);
}
