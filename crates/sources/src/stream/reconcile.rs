//! The safety net: compare the event-built records with a full
//! `/master/state` fetch from the subscribed master.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use mesos_records::generate::generate;
use mesos_records::hostport::{host_port, pid_address};
use mesos_records::record::RecordSet;
use mesos_records::state::State;

use super::Subscriber;
use crate::shared::{micros, unix_ms};
use crate::update::Update;

impl<P: FnMut(Update)> Subscriber<P> {
    /// Fetches `/master/state` from the subscribed master and compares.
    pub(super) fn reconcile(&mut self, master: &str, suspect: bool) -> Reconciled {
        let t0 = Instant::now();
        let url = self.client.url(master);
        // The subscribed master may be one a redirect named: credentials
        // go along only when it is configured or detected.
        let body = match self.client.get(&url, &self.masters()) {
            Ok(b) => b,
            Err(e) => {
                log::warn!("event stream: reconcile: {e}");
                return Reconciled::Failed;
            }
        };
        let state = match State::parse(&body) {
            Ok(s) => s,
            Err(e) => {
                log::warn!("event stream: reconcile: {url}: {e}");
                return Reconciled::Failed;
            }
        };
        let status = Arc::clone(&self.shared.status);
        status
            .fetch_micros
            .store(micros(t0.elapsed()), Ordering::Relaxed);
        status.events.reconciles.fetch_add(1, Ordering::Relaxed);
        match pid_address(&state.leader) {
            Some(leader) if same_endpoint(leader, master) => {}
            Some(leader) => {
                return Reconciled::Resubscribe(format!(
                    "{master} reports {leader} as the leader"
                ))
            }
            None => return Reconciled::Failed,
        }
        let mut learned = self.cluster.learn_pids(&body);
        drop(body);
        let pid = Some((master.to_owned(), state.leader.clone()));
        if self.leader_pid != pid {
            self.leader_pid = pid;
            learned = true;
        }
        if self.cluster.same_state(&state, &self.leader_text(master)) {
            return if learned {
                Reconciled::Learned
            } else {
                Reconciled::Same
            };
        }
        let masters = self.masters();
        let polled = generate(&state, &self.cfg.gen, &masters).records;
        drop(state);
        let ours = self.event_records(master);
        if ours.same_records(&polled) {
            return if learned {
                Reconciled::Learned
            } else {
                Reconciled::Same
            };
        }
        if !suspect {
            log::debug!("event stream: reconcile differs; checking again shortly");
            return Reconciled::Suspect;
        }
        status
            .events
            .reconcile_differences
            .fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "event stream: /master/state differs from the events: {}; publishing the polled records and resubscribing",
            describe_difference(&ours, &polled)
        );
        status.records.store(polled.len() as u64, Ordering::Relaxed);
        status.last_success_ms.store(unix_ms(), Ordering::Relaxed);
        (self.publish)(Update::Full(polled));
        // The store is built anew from the new subscription.
        self.live = None;
        status.publishes.fetch_add(1, Ordering::Relaxed);
        Reconciled::Resubscribe("reconcile found a difference".to_owned())
    }
}

pub(super) enum Reconciled {
    Same,
    Learned,
    Suspect,
    Failed,
    Resubscribe(String),
}

/// A short account of which names differ (at most five of each side).
pub(super) fn describe_difference(ours: &RecordSet, polled: &RecordSet) -> String {
    let names = |r: &RecordSet| -> std::collections::BTreeSet<String> {
        let mut s = std::collections::BTreeSet::new();
        s.extend(r.a_records().map(|(k, v)| format!("{k} A {v:?}")));
        s.extend(r.aaaa_records().map(|(k, v)| format!("{k} AAAA {v:?}")));
        s.extend(
            r.srv_records()
                .map(|(k, v)| format!("{k} SRV {:?}", v.iter().collect::<Vec<_>>())),
        );
        s
    };
    let (a, b) = (names(ours), names(polled));
    let only_events: Vec<&String> = a.difference(&b).take(5).collect();
    let only_state: Vec<&String> = b.difference(&a).take(5).collect();
    format!(
        "{} record set(s) only from events {only_events:?}, {} only in the state {only_state:?}",
        a.difference(&b).count(),
        b.difference(&a).count()
    )
}

/// True when two `host:port` strings are the same text or the same IP and
/// port.
fn same_endpoint(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    match (host_port(a), host_port(b)) {
        (Some((ha, pa)), Some((hb, pb))) => {
            pa == pb
                && match (
                    ha.parse::<std::net::IpAddr>(),
                    hb.parse::<std::net::IpAddr>(),
                ) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => false,
                }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_endpoint_compares_ips_by_value() {
        assert!(same_endpoint("127.0.0.1:5050", "127.0.0.1:5050"));
        assert!(same_endpoint("[::1]:5050", "[0::1]:5050"));
        assert!(!same_endpoint("127.0.0.1:5050", "127.0.0.1:5051"));
        assert!(!same_endpoint("a:1", "b:1"));
    }
}
