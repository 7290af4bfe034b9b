//! Inserts into a built [`RecordSet`], for the small record sets of tests,
//! benches and fuzz targets (the `fixtures` feature; always on in this
//! crate's own tests). Each insert may move every later name and value,
//! O(n): production code builds with a
//! [`RecordSetBuilder`](crate::RecordSetBuilder) instead.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use super::{EnumEntry, PackedSrv, RecordKind, RecordSet};
use crate::name_text::{idx, SortedIndex};

impl RecordSet {
    /// Inserts an A record; returns true if it was not there before. Each
    /// insert may move every later value: for fixtures, not for bulk use.
    pub fn insert_a(&mut self, name: &str, ip: Ipv4Addr) -> bool {
        let i = self.add_name(name);
        let r = self.range(i, RecordKind::A);
        let added = insert_in(&mut self.a, r, ip);
        self.grew(i, RecordKind::A, added)
    }

    /// Inserts an AAAA record; returns true if it was not there before.
    pub fn insert_aaaa(&mut self, name: &str, ip: Ipv6Addr) -> bool {
        let i = self.add_name(name);
        let r = self.range(i, RecordKind::Aaaa);
        let added = insert_in(&mut self.aaaa, r, ip);
        self.grew(i, RecordKind::Aaaa, added)
    }

    /// Inserts an SRV record; returns true if it was not there before.
    pub fn insert_srv(&mut self, name: &str, target: &str, port: u16) -> bool {
        self.add_name(target);
        let i = self.add_name(name);
        let target = idx(self.find(target).unwrap_or_default());
        let r = self.range(i, RecordKind::Srv);
        let added = insert_in(&mut self.srv, r, PackedSrv { target, port });
        self.grew(i, RecordKind::Srv, added)
    }

    /// The number of `name`, inserting it in order if it is new.
    fn add_name(&mut self, name: &str) -> usize {
        if let Some(i) = self.find(name) {
            return i;
        }
        // First name not below `name`.
        let (mut lo, mut hi) = (0, self.names.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.names.get(idx(mid)) < name {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let at = idx(lo);
        let bump = |i: &mut u32| {
            if *i >= at {
                *i = i.saturating_add(1);
            }
        };
        self.names.insert(at, name);
        let prev = lo.checked_sub(1).and_then(|p| self.ends.get(p)).copied();
        self.ends.insert(lo, prev.unwrap_or_default());
        self.srv.iter_mut().for_each(|v| bump(&mut v.target));
        self.enumeration
            .records
            .iter_mut()
            .for_each(|e| bump(&mut e.name));
        // Names moved: the index starts again.
        self.index = SortedIndex::default();
        lo
    }

    /// After a value was inserted at `added` for name `i`: moves the ends
    /// of `i` and later names, and enumeration entries past it.
    fn grew(&mut self, i: usize, kind: RecordKind, added: Option<usize>) -> bool {
        let Some(at) = added else { return false };
        for e in self.ends.get_mut(i..).unwrap_or_default() {
            e[kind as usize] = e[kind as usize].saturating_add(1);
        }
        for e in &mut self.enumeration.records {
            if e.kind() == kind && e.at() as usize >= at {
                *e = EnumEntry::new(e.name, kind, e.at().saturating_add(1));
            }
        }
        true
    }
}

/// Inserts `v` in order into `vals[range]`; returns where, or `None` if it
/// was there.
fn insert_in<V: Ord>(vals: &mut Vec<V>, range: Range<usize>, v: V) -> Option<usize> {
    let start = range.start;
    let slice = vals.get(range).unwrap_or_default();
    match slice.binary_search(&v) {
        Ok(_) => None,
        Err(p) => {
            vals.insert(start + p, v);
            Some(start + p)
        }
    }
}

/// The record set of mesos-dns's DNS handler tests (`TestHandlers`,
/// BEHAVIOUR.md 8.4): `chronos` and `liquor-store` under `marathon.mesos.`,
/// `toy-store`'s AAAA, `_liquor-store._tcp` with two targets on ports 80
/// and 443, `_car-store._udp` whose target is an address of `chronos`,
/// and the nameserver `ns1.mesos.`. Suites add their own large names.
pub fn dns_examples() -> RecordSet {
    let mut rs = RecordSet::default();
    rs.insert_a("chronos.marathon.mesos.", Ipv4Addr::new(1, 2, 3, 11));
    rs.insert_a("ns1.mesos.", Ipv4Addr::new(127, 0, 0, 1));
    rs.insert_a("liquor-store.marathon.mesos.", Ipv4Addr::new(10, 3, 0, 1));
    rs.insert_a("liquor-store.marathon.mesos.", Ipv4Addr::new(10, 3, 0, 2));
    rs.insert_aaaa(
        "toy-store.ipv6-framework.mesos.",
        Ipv6Addr::new(0xfd01, 0xb, 0, 0, 0, 1, 0x8000, 2),
    );
    let t1 = "liquor-store-4dfjd-0.marathon.mesos.";
    let t2 = "liquor-store-zvlg9-0.marathon.mesos.";
    rs.insert_a(t1, Ipv4Addr::new(10, 3, 0, 1));
    rs.insert_a(t2, Ipv4Addr::new(10, 3, 0, 2));
    for (t, p) in [(t1, 80), (t1, 443), (t2, 80), (t2, 443)] {
        rs.insert_srv("_liquor-store._tcp.marathon.mesos.", t, p);
    }
    let car = "car-store-50.marathon.mesos.";
    rs.insert_srv("_car-store._udp.marathon.mesos.", car, 31364);
    rs.insert_srv("_car-store._udp.marathon.mesos.", car, 31365);
    rs.insert_a(car, Ipv4Addr::new(1, 2, 3, 11));
    rs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SrvValue;

    #[test]
    fn dns_examples_hold_the_example_records() {
        let rs = dns_examples();
        assert_eq!(
            rs.a("chronos.marathon.mesos."),
            Some(&[Ipv4Addr::new(1, 2, 3, 11)][..])
        );
        assert_eq!(
            rs.srv("_liquor-store._tcp.marathon.mesos.")
                .map(|s| s.len()),
            Some(4)
        );
        assert_eq!(
            rs.srv("_car-store._udp.marathon.mesos.").map(|s| s.len()),
            Some(2)
        );
        assert_eq!(
            rs.aaaa("toy-store.ipv6-framework.mesos."),
            Some(&["fd01:b::1:8000:2".parse::<Ipv6Addr>().unwrap()][..])
        );
    }

    #[test]
    fn srv_set_dedups_without_changing_order() {
        let mut rs = RecordSet::default();
        assert!(rs.insert_srv("_a._tcp.m.", "b.m.", 80));
        assert!(rs.insert_srv("_a._tcp.m.", "a.m.", 443));
        assert!(rs.insert_srv("_a._tcp.m.", "a.m.", 80));
        assert!(!rs.insert_srv("_a._tcp.m.", "b.m.", 80));
        assert!(!rs.insert_srv("_a._tcp.m.", "a.m.", 443));
        let got: Vec<(&str, u16)> = rs
            .srv("_a._tcp.m.")
            .unwrap()
            .iter()
            .map(|s| (s.target, s.port))
            .collect();
        assert_eq!(got, [("a.m.", 80), ("a.m.", 443), ("b.m.", 80)]);
        assert_eq!(rs.len(), 3);
        // Targets are names, but not owners.
        assert!(!rs.has_name("a.m."));
        assert_eq!(rs.name_count(), 1);
    }

    #[test]
    fn fixture_inserts_keep_the_enumeration_pointing_at_its_records() {
        let mut b = crate::RecordSetBuilder::new(true);
        b.task("t", "t.1");
        b.insert_a("m.", Ipv4Addr::new(10, 0, 0, 5));
        b.insert_srv("_s._tcp.m.", "x.m.", 80);
        let mut rs = b.finish();
        let show = |rs: &RecordSet| -> Vec<String> {
            let fw = rs.enumeration().frameworks().next().unwrap();
            let t = fw.tasks().next().unwrap();
            t.records()
                .map(|r| format!("{} {} {}", r.name, r.rtype, r.host))
                .collect()
        };
        let before = show(&rs);
        assert_eq!(before, ["m. A 10.0.0.5", "_s._tcp.m. SRV x.m.:80"]);
        // New names and values sorting before the credited ones.
        assert!(rs.insert_a("a.", Ipv4Addr::new(10, 0, 0, 1)));
        assert!(rs.insert_a("m.", Ipv4Addr::new(10, 0, 0, 1)));
        assert!(rs.insert_srv("_r._tcp.m.", "a.m.", 1));
        assert!(rs.insert_srv("_s._tcp.m.", "a.m.", 1));
        assert_eq!(show(&rs), before);
    }

    #[test]
    fn fixture_inserts_keep_names_and_values_sorted() {
        let mut rs = RecordSet::default();
        assert!(rs.insert_a("m.", Ipv4Addr::new(10, 0, 0, 2)));
        assert!(rs.insert_srv("_s._tcp.m.", "z.m.", 1));
        assert!(rs.insert_a("b.m.", Ipv4Addr::new(10, 0, 0, 1)));
        assert!(rs.insert_a("m.", Ipv4Addr::new(10, 0, 0, 1)));
        assert!(!rs.insert_a("m.", Ipv4Addr::new(10, 0, 0, 2)));
        assert!(rs.insert_aaaa("b.m.", Ipv6Addr::LOCALHOST));
        assert!(rs.insert_srv("_s._tcp.m.", "a.m.", 2));
        let owners: Vec<&str> = rs.owners().map(|o| o.name).collect();
        assert_eq!(owners, ["_s._tcp.m.", "b.m.", "m."]);
        assert_eq!(
            rs.a("m."),
            Some(&[Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)][..])
        );
        assert_eq!(rs.a("b.m."), Some(&[Ipv4Addr::new(10, 0, 0, 1)][..]));
        assert_eq!(rs.aaaa("b.m."), Some(&[Ipv6Addr::LOCALHOST][..]));
        assert_eq!(rs.aaaa("m."), None);
        let srv: Vec<SrvValue<'_>> = rs.srv("_s._tcp.m.").unwrap().iter().collect();
        assert_eq!(
            srv,
            [
                SrvValue {
                    target: "a.m.",
                    port: 2
                },
                SrvValue {
                    target: "z.m.",
                    port: 1
                }
            ]
        );
        assert_eq!(rs.len(), 6);
    }
}
