//! `leader`, `master`, `masterN` and `_leader._tcp/_udp` (BEHAVIOUR.md 4.6).
//!
//! - The state `leader` is split on `@`; the second field must be
//!   `host:port` (Go `net.SplitHostPort`), otherwise no master record at all.
//! - `leader.D.` and `master.D.` get the leader's address(es); SRV
//!   `_leader._tcp.D.` and `_leader._udp.D.` point at `leader.D.:<port>`.
//! - The master list is walked in order with `idx = 0`: an entry that is not
//!   the leader's `host:port` text adds to `master.D.` and is skipped entirely
//!   if that added nothing new; the leader entry is numbered once; every
//!   numbered entry gets `master<idx>.D.`. A leader never numbered gets
//!   `master<idx>.D.` after the walk.
//!
//! Fix (BEHAVIOUR.md 0, 4.9): mesos-dns panics when a leader or master host is
//! not an IP literal. We resolve it with the bounded [`Resolver`]; if that
//! fails the entry (or, for the leader, every master record) is skipped with a
//! reason.

use std::net::IpAddr;

use crate::host::Resolver;
use crate::hostport::{parse_port, split_host_port};
use crate::skip::SkipReason;
use crate::store::Sink;

/// Adds the master records for `leader` and `masters` under `tail` (`.D.`).
pub(crate) fn master_records<S: Sink>(
    store: &mut S,
    tail: &str,
    masters: &[String],
    leader: &str,
    resolver: &Resolver,
) {
    let Some(leader_addr) = leader.split('@').nth(1) else {
        store.skip(
            SkipReason::BadLeader,
            format!("leader {leader:?} has no `@`"),
        );
        return;
    };
    let (host, port) = match split_host_port(leader_addr) {
        Ok(hp) => hp,
        Err(e) => {
            store.skip(SkipReason::BadLeader, format!("leader {leader:?}: {e}"));
            return;
        }
    };
    let leader_ips = match resolver.resolve(host) {
        Ok(ips) => ips,
        Err(e) => {
            store.skip(
                SkipReason::Unresolved,
                format!("leader {leader:?}: {e}; no master records"),
            );
            return;
        }
    };
    let leader_name = format!("leader{tail}");
    let all_masters = format!("master{tail}");
    for &ip in &leader_ips {
        store.ip(&leader_name, ip);
        store.ip(&all_masters, ip);
    }
    match parse_port(port) {
        Some(port) => {
            for srv in [format!("_leader._tcp{tail}"), format!("_leader._udp{tail}")] {
                store.srv(&srv, &leader_name, port);
            }
        }
        None => store.skip(
            SkipReason::BadLeader,
            format!("leader {leader:?}: port {port:?} is not a port; no _leader SRV"),
        ),
    }

    let mut numbered_leader = false;
    let mut idx = 0usize;
    for master in masters {
        let (mhost, _) = match split_host_port(master) {
            Ok(hp) => hp,
            Err(e) => {
                // The empty first slot means "leader unknown"
                // (BEHAVIOUR.md 3.2).
                if !master.is_empty() {
                    store.skip(SkipReason::BadMaster, format!("master {master:?}: {e}"));
                }
                continue;
            }
        };
        let ips: Vec<IpAddr> = match resolver.resolve(mhost) {
            Ok(ips) => ips,
            Err(e) => {
                store.skip(SkipReason::Unresolved, format!("master {master:?}: {e}"));
                continue;
            }
        };
        let is_leader = master == leader_addr;
        if !is_leader {
            let mut added = false;
            for &ip in &ips {
                added |= store.ip_if_new(&all_masters, ip);
            }
            if !added {
                // A duplicate master.
                continue;
            }
        }
        if is_leader && numbered_leader {
            continue;
        }
        let name = format!("master{idx}{tail}");
        for &ip in &ips {
            store.ip(&name, ip);
        }
        idx += 1;
        numbered_leader |= is_leader;
    }
    if !numbered_leader {
        if !masters.is_empty() {
            log::warn!("leader {leader:?} is not in the master list");
        }
        let name = format!("master{idx}{tail}");
        for &ip in &leader_ips {
            store.ip(&name, ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordSet;
    use crate::store::Store;

    /// Runs the master walk for domain `foo.com` and returns the records as
    /// sorted `name type value` lines.
    fn run(
        masters: &[&str],
        leader: &str,
        resolver: &Resolver,
    ) -> (Vec<String>, Vec<crate::skip::Skip>) {
        let mut store = Store::new(true);
        let masters: Vec<String> = masters.iter().map(|m| (*m).to_owned()).collect();
        master_records(&mut store, ".foo.com.", &masters, leader, resolver);
        let (rs, skips) = store.finish();
        (lines(&rs), skips)
    }

    fn lines(rs: &RecordSet) -> Vec<String> {
        let mut out = Vec::new();
        for (n, set) in rs.a_records() {
            out.extend(set.iter().map(|ip| format!("{n} A {ip}")));
        }
        for (n, set) in rs.aaaa_records() {
            out.extend(set.iter().map(|ip| format!("{n} AAAA {ip}")));
        }
        for (n, set) in rs.srv_records() {
            out.extend(
                set.iter()
                    .map(|s| format!("{n} SRV {}:{}", s.target, s.port)),
            );
        }
        out.sort();
        out
    }

    fn want(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    const SRV7: [&str; 2] = [
        "_leader._tcp.foo.com. SRV leader.foo.com.:7",
        "_leader._udp.foo.com. SRV leader.foo.com.:7",
    ];

    // generator_test.go TestMasterRecord, all 14 cases (BEHAVIOUR.md 4.6).
    #[test]
    fn spec_4_6_master_record_cases() {
        let r = Resolver::fixed(&[]);
        for leader in ["", "@", "1@", "@2", "3@4"] {
            let (got, _) = run(&[], leader, &r);
            assert!(got.is_empty(), "{leader:?}: {got:?}");
        }
        let base = |extra: &[&str]| {
            let mut v: Vec<&str> = SRV7.to_vec();
            v.extend_from_slice(extra);
            want(&v)
        };
        let v4_alone = base(&[
            "leader.foo.com. A 0.0.0.6",
            "master.foo.com. A 0.0.0.6",
            "master0.foo.com. A 0.0.0.6",
        ]);
        assert_eq!(run(&[], "5@0.0.0.6:7", &r).0, v4_alone);
        assert_eq!(
            run(&[], "5@[2001:db8::1]:7", &r).0,
            base(&[
                "leader.foo.com. AAAA 2001:db8::1",
                "master.foo.com. AAAA 2001:db8::1",
                "master0.foo.com. AAAA 2001:db8::1",
            ])
        );
        // single master: leader and fallback
        assert_eq!(run(&["0.0.0.6:7"], "5@0.0.0.6:7", &r).0, v4_alone);
        let eight_then_six = base(&[
            "leader.foo.com. A 0.0.0.6",
            "master.foo.com. A 0.0.0.6",
            "master.foo.com. A 0.0.0.8",
            "master0.foo.com. A 0.0.0.8",
            "master1.foo.com. A 0.0.0.6",
        ]);
        // leader not in fallback list
        assert_eq!(run(&["0.0.0.8:9"], "5@0.0.0.6:7", &r).0, eight_then_six);
        // duplicate fallback masters, leader not in fallback list
        assert_eq!(
            run(&["0.0.0.8:9", "0.0.0.8:9"], "5@0.0.0.6:7", &r).0,
            eight_then_six
        );
        // leader also listed (at the end)
        assert_eq!(
            run(&["0.0.0.8:9", "0.0.0.6:7"], "5@0.0.0.6:7", &r).0,
            eight_then_six
        );
        // duplicate leading masters in the list
        assert_eq!(
            run(&["0.0.0.8:9", "0.0.0.6:7", "0.0.0.6:7"], "5@0.0.0.6:7", &r).0,
            eight_then_six
        );
        // leader in the middle
        assert_eq!(
            run(&["0.0.0.8:9", "0.0.0.6:7", "0.0.0.7:0"], "5@0.0.0.6:7", &r).0,
            base(&[
                "leader.foo.com. A 0.0.0.6",
                "master.foo.com. A 0.0.0.6",
                "master.foo.com. A 0.0.0.8",
                "master.foo.com. A 0.0.0.7",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
                "master2.foo.com. A 0.0.0.7",
            ])
        );
        // an IPv6 master
        assert_eq!(
            run(
                &["0.0.0.8:9", "0.0.0.6:7", "[2001:db8::1]:0"],
                "5@0.0.0.6:7",
                &r
            )
            .0,
            base(&[
                "leader.foo.com. A 0.0.0.6",
                "master.foo.com. A 0.0.0.6",
                "master.foo.com. A 0.0.0.8",
                "master.foo.com. AAAA 2001:db8::1",
                "master0.foo.com. A 0.0.0.8",
                "master1.foo.com. A 0.0.0.6",
                "master2.foo.com. AAAA 2001:db8::1",
            ])
        );
    }

    #[test]
    fn empty_first_slot_means_leader_unknown() {
        let r = Resolver::fixed(&[]);
        let (got, skips) = run(&["", "0.0.0.6:7"], "5@0.0.0.6:7", &r);
        assert!(got.contains(&"master0.foo.com. A 0.0.0.6".to_owned()));
        assert!(skips.is_empty(), "{skips:?}");
    }

    // BEHAVIOUR.md 0 / 4.9: mesos-dns panics on host names here; we resolve
    // them.
    #[test]
    fn host_names_are_resolved_not_fatal() {
        let six: &[IpAddr] = &["0.0.0.6".parse().unwrap()];
        let nine: &[IpAddr] =
            &["0.0.0.9".parse().unwrap(), "2001:db8::9".parse().unwrap()];
        let r = Resolver::fixed(&[("m1", six), ("m2", nine)]);
        let (got, skips) =
            run(&["m2:5050", "lost:5050", "m1:5050"], "master@m1:5050", &r);
        assert_eq!(
            got,
            want(&[
                "_leader._tcp.foo.com. SRV leader.foo.com.:5050",
                "_leader._udp.foo.com. SRV leader.foo.com.:5050",
                "leader.foo.com. A 0.0.0.6",
                "master.foo.com. A 0.0.0.6",
                "master.foo.com. A 0.0.0.9",
                "master.foo.com. AAAA 2001:db8::9",
                "master0.foo.com. A 0.0.0.9",
                "master0.foo.com. AAAA 2001:db8::9",
                "master1.foo.com. A 0.0.0.6",
            ])
        );
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].reason, SkipReason::Unresolved);

        let (got, skips) = run(&["0.0.0.8:9"], "master@lost:5050", &r);
        assert!(got.is_empty());
        assert_eq!(skips[0].reason, SkipReason::Unresolved);
    }

    #[test]
    fn leader_with_bad_port_keeps_addresses() {
        let r = Resolver::fixed(&[]);
        let (got, skips) = run(&[], "m@1.2.3.4:", &r);
        assert_eq!(
            got,
            want(&[
                "leader.foo.com. A 1.2.3.4",
                "master.foo.com. A 1.2.3.4",
                "master0.foo.com. A 1.2.3.4",
            ])
        );
        assert_eq!(skips[0].reason, SkipReason::BadLeader);
    }
}
