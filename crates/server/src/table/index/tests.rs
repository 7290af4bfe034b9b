use super::*;

use crate::table::key::test_wire as wire;

#[test]
fn patched_index_finds_exactly_the_names_put_and_not_removed() {
    use std::collections::BTreeMap;
    // 64 slots: long runs that wrap around, and a full index.
    let mut names = super::super::names::Names::with_capacity(30);
    let mut model = BTreeMap::new();
    for i in 0..30u32 {
        let k = wire(&format!("n{i}.mesos."));
        let id = names.add(&k, false).0;
        names.get_mut(id).unwrap().kinds[AnswerKind::A as usize] = i;
        model.insert(k, i);
    }
    let mut index = names.finish(NONE, [NONE; 2]).copy_with_room(0);
    let mut rng = fastrand::Rng::with_seed(7);
    for step in 0..3000u32 {
        let k = wire(&format!("n{}.mesos.", rng.u32(0..60)));
        if rng.bool() {
            let mut rec = Record::EMPTY;
            // Records of every size: in place, or moved to the end.
            for kind in 0..6 {
                if rng.u8(0..3) == 0 {
                    rec.kinds[kind] = step;
                }
            }
            rec.kinds[AnswerKind::A as usize] = step;
            rec.children = rng.u32(0..2);
            if index.put(&k, &rec) {
                model.insert(k.clone(), step);
                assert_eq!(index.get(&k), Some(rec));
            } else {
                assert!(!model.contains_key(&k));
            }
        } else {
            index.remove(&k);
            model.remove(&k);
        }
        for i in 0..60 {
            let k = wire(&format!("n{i}.mesos."));
            let want = model
                .get(&k)
                .copied()
                .map_or(Lookup::NxDomain, Lookup::Found);
            assert_eq!(
                index.lookup(&k, Some(AnswerKind::A)),
                want,
                "step {step} n{i}"
            );
        }
    }
}

#[test]
fn same_is_slice_equality() {
    let keys: [&[u8]; 6] = [
        b"",
        b"\x01a\0",
        b"\x07abcdefg\0",
        b"\x07abcdefh\0",
        b"\x0fabcdefghijklmno\x05mesos\0",
        b"\x0fabcdefghijklmnp\x05mesos\0",
    ];
    for a in keys {
        for b in keys {
            assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
        }
    }
    assert_eq!(ONES[0b10_1101], 4);
}

#[test]
fn hash_reads_every_octet() {
    let a = wire("abcdefghijk.mesos.");
    for i in 0..a.len() {
        let mut b = a.clone();
        b[i] ^= 1;
        assert_ne!(hash(&a), hash(&b), "octet {i}");
    }
    assert_ne!(hash(b"\x01a\0"), hash(b"\x01b\0"));
}

#[test]
fn slots_hold_their_capacity_at_two_thirds_and_grow_past_three_quarters() {
    for n in [1usize, 10, 42, 43, 1000, 524_289, 699_050, 699_051] {
        let s = Slots::with_capacity(n);
        assert!(n * 3 <= s.size() * 2, "{n} in {}", s.size());
        assert!(s.size() <= (n + n / 2 + 1).max(16) * 2, "{n}");
    }
    // Half a million names (100,000 tasks): a million slots, not two.
    assert_eq!(Slots::with_capacity(524_289).size(), 1 << 20);
    let mut s = Slots::with_capacity(30);
    let size = s.size();
    let mut h = 1u64;
    while !s.needs_room() {
        h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        s.insert(h, s.len as u32);
    }
    assert_eq!(s.len, size * 3 / 4);
    assert!(s.crowded());
}

// A copy shares every page of slots with its original; a change to it
// copies only the page it writes, and leaves the original as it was.
#[test]
fn a_copy_of_the_slots_copies_only_the_pages_it_changes() {
    let mut s = Slots::with_capacity(40_000);
    let pages = s.size() / 4096;
    assert!(pages >= 8, "{}", s.size());
    for v in 0..20_000u32 {
        s.insert(u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15), v);
    }
    let mut copy = s.clone();
    assert!((0..pages).all(|p| copy.shares_page_of(&s, p * 4096)));
    let h = 0x0123_4567_89AB_CDEFu64;
    copy.insert(h, 99_999);
    let home = (h >> (64 - s.size().trailing_zeros())) as usize;
    let unshared: Vec<usize> = (0..pages)
        .filter(|&p| !copy.shares_page_of(&s, p * 4096))
        .collect();
    assert_eq!(unshared, [home / 4096]);
    assert_eq!(copy.find(h, |v| v == 99_999), Some(99_999));
    assert_eq!(s.find(h, |v| v == 99_999), None);
    assert_eq!((s.len, copy.len), (20_000, 20_001));
}

#[test]
fn a_finished_index_is_never_crowded() {
    // Names added past two thirds of their slots (not yet three
    // quarters): finishing grows the slots, so that a patched copy has
    // room for new names.
    let mut names = super::super::names::Names::with_capacity(30);
    for i in 0..45u32 {
        names.add(&wire(&format!("n{i}.mesos.")), false);
    }
    let index = names.finish(NONE, [NONE; 2]);
    assert!(
        !index.slots.crowded(),
        "{} of {}",
        index.slots.len,
        index.slots.size()
    );
    for i in 0..45u32 {
        assert_eq!(
            index.lookup(&wire(&format!("n{i}.mesos.")), None),
            Lookup::NoData
        );
    }
}
