//! `leader`, `master`, `masterN` and `_leader._tcp/_udp` (spec 4.6).
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
//! Fix (spec 0, 4.9): mesos-dns panics when a leader or master host is not
//! an IP literal. We resolve it with the bounded [`Resolver`]; if that fails
//! the entry (or, for the leader, every master record) is skipped with a
//! reason.

use std::net::IpAddr;

use crate::host::Resolver;
use crate::hostport::{parse_port, split_host_port};
use crate::skip::SkipReason;
use crate::store::Store;

/// Adds the master records for `leader` and `masters` under `tail` (`.D.`).
pub(crate) fn master_records(
    store: &mut Store,
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
                // The empty first slot means "leader unknown" (spec 3.2).
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
#[path = "leader_records_tests.rs"]
mod tests;
