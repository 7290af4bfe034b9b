//! What happens at the publish point besides the publish (issue 22): the
//! hold-down of a shrinking state, and a short change history per name
//! for `GET /v1/explain/{name}`.
//!
//! # Hold-down (`HoldDownFraction`)
//!
//! After a Mesos master failover, the new leader can briefly report a
//! partial cluster. A record set that would remove more than
//! `HoldDownFraction` of the records served is held back: the served
//! records stay, and the hold is logged and counted. The next record set
//! that still shrinks that much (the same shrink seen on the next load,
//! one `RefreshSeconds` later when polling, the next change or reconcile
//! with the event stream) is published, as is any that does not shrink
//! that much; so is one generated [`HOLD_DOWN_MAX`] or more after the hold
//! began. `0` (the default) never holds, as mesos-dns.
//!
//! # History
//!
//! Each publish that changes records notes, per owner name changed, the
//! time, the new serial, what changed (`+A 10.0.0.1`, `-SRV t.:80`) and
//! why, when the explain data says (the tasks of that name left out and
//! their reasons). At most [`HISTORY_PER_NAME`] changes per name and
//! [`HISTORY_NAMES`] names are kept (the names changed longest ago go
//! first); a publish changing more than [`HISTORY_MAX_NAMES`] names notes
//! only that many.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use mesos_records::delta::Value;
use mesos_records::{Delta, RecordSet};
use mesos_sources::Update;

use crate::calendar::now_unix;
use crate::table::{Published, SharedTable};

/// Changes kept per name.
pub const HISTORY_PER_NAME: usize = 8;
/// Names kept in the history.
pub const HISTORY_NAMES: usize = 4096;
/// Names noted per publish.
pub const HISTORY_MAX_NAMES: usize = 256;
/// A held record set is published once it comes this long after the
/// hold began, shrink or not.
pub const HOLD_DOWN_MAX: Duration = Duration::from_secs(300);

/// One change of a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Unix seconds.
    pub time: u64,
    /// The serial of the table that made the change.
    pub serial: u32,
    /// What changed: `+A 10.0.0.1`, `-SRV target:port`...
    pub what: Vec<String>,
    /// Why, as far as the explain data says.
    pub why: String,
}

/// A record set held back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    /// Unix seconds when the hold began.
    pub since: u64,
    /// Records served.
    pub served: usize,
    /// Records the held set has.
    pub held: usize,
}

/// What to do with a new record set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Publish it.
    Publish,
    /// Publish it: the shrink was seen again (or held too long).
    Release,
    /// Keep the served records.
    Hold,
}

#[derive(Debug, Default)]
struct State {
    held: Option<(Hold, Instant)>,
    /// Names by when they last changed (a count of changes noted, oldest
    /// first), so that one change costs O(log n), not a scan of them all.
    order: BTreeMap<u64, String>,
    /// Per name: when it last changed (its key in `order`) and its changes
    /// (oldest first).
    changes: HashMap<String, (u64, VecDeque<Change>)>,
    /// The count of changes noted.
    noted: u64,
}

/// The hold-down and the history, shared by the publish closure and the
/// HTTP API.
#[derive(Debug, Default)]
pub struct PublishGuard {
    state: Mutex<State>,
    /// Held for a whole publish, so a release and a load never interleave.
    publishing: Mutex<()>,
    /// The update held back, and the source's load count when it was.
    pending: Mutex<Option<(Update, u64)>>,
    /// Record sets held back.
    pub holds: AtomicU64,
    /// Held record sets published when the shrink was seen again.
    pub releases: AtomicU64,
}

impl PublishGuard {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether to publish a record set of `new` records over `served`
    /// ones under `HoldDownFraction` `fraction`, at `now_unix`.
    pub fn check(
        &self,
        fraction: f64,
        served: usize,
        new: usize,
        now_unix: u64,
    ) -> Verdict {
        let mut st = self.lock();
        let shrink = served.saturating_sub(new) as f64;
        if fraction <= 0.0 || served == 0 || shrink <= fraction * served as f64 {
            st.held = None;
            return Verdict::Publish;
        }
        match &st.held {
            None => {
                let hold = Hold {
                    since: now_unix,
                    served,
                    held: new,
                };
                log::warn!(
                    "state holds {new} records where {served} are served (more than \
                     HoldDownFraction {fraction} removed): held back until the next load"
                );
                st.held = Some((hold, Instant::now()));
                self.holds.fetch_add(1, Ordering::Relaxed);
                Verdict::Hold
            }
            Some((hold, at)) => {
                log::warn!(
                    "state still holds {new} records where {served} are served: published \
                     (held since {}{})",
                    hold.since,
                    if at.elapsed() >= HOLD_DOWN_MAX { ", too long" } else { "" }
                );
                st.held = None;
                self.releases.fetch_add(1, Ordering::Relaxed);
                Verdict::Release
            }
        }
    }

    /// Publishes `update` with `publish` unless the hold-down holds it
    /// back (`None`), under `HoldDownFraction` `fraction`, against the
    /// table served from `table`; notes the changes it made.
    ///
    /// A delta is held like a whole set. While one is held, the source's
    /// next delta is relative to records never served: it is published
    /// whole (the records of its view), which is the next load.
    /// `loads` is the source's count of loads, this one included.
    pub fn guarded(
        &self,
        fraction: f64,
        table: &SharedTable,
        update: Update,
        loads: u64,
        publish: impl FnOnce(Update) -> Published,
    ) -> Option<Published> {
        let _publishing = self
            .publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = u64::from(now_unix());
        let old = table.load();
        let served = match old.is_loaded() {
            true => {
                let c = old.counts();
                usize::try_from(c.a + c.aaaa + c.srv).unwrap_or(usize::MAX)
            }
            false => 0,
        };
        let update = match update {
            Update::Delta { view, .. } if self.held().is_some() => {
                Update::Full(view.record_set())
            }
            other => other,
        };
        let (new_len, delta) = match &update {
            Update::Full(set) => (set.len(), None),
            Update::Delta { delta, .. } => (
                (served + delta.added.len()).saturating_sub(delta.removed.len()),
                Some(delta.clone()),
            ),
        };
        let verdict = self.check(fraction, served, new_len, now);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if verdict == Verdict::Hold {
            *pending = Some((update, loads));
            return None;
        }
        *pending = None;
        drop(pending);
        let released = verdict == Verdict::Release;
        Some(self.publish_noting(table, update, delta, released, publish))
    }

    /// Publishes the update held back once the source loaded again and
    /// still sent nothing else (it skips a state that did not change: the
    /// same shrink), or [`HOLD_DOWN_MAX`] after the hold began. `loads` is
    /// the source's count of loads. Called on the main loop's tick.
    pub fn release_due(
        &self,
        table: &SharedTable,
        loads: u64,
        publish: impl FnOnce(Update) -> Published,
    ) -> Option<Published> {
        let _publishing = self
            .publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let too_long = {
            let st = self.lock();
            st.held
                .as_ref()
                .is_some_and(|(_, at)| at.elapsed() >= HOLD_DOWN_MAX)
        };
        match &*pending {
            Some((_, at)) if loads > *at || too_long => {}
            _ => return None,
        }
        let (update, _) = pending.take()?;
        drop(pending);
        if let Some((hold, _)) = self.lock().held.take() {
            log::warn!(
                "state still holds {} records where {} are served on the next load:                  published (held since {})",
                hold.held,
                hold.served,
                hold.since
            );
        }
        self.releases.fetch_add(1, Ordering::Relaxed);
        let delta = match &update {
            Update::Delta { delta, .. } => Some(delta.clone()),
            Update::Full(_) => None,
        };
        Some(self.publish_noting(table, update, delta, true, publish))
    }

    /// Publishes `update` and notes its changes (`delta`, or the
    /// difference with the served set).
    fn publish_noting(
        &self,
        table: &SharedTable,
        update: Update,
        delta: Option<Delta>,
        released: bool,
        publish: impl FnOnce(Update) -> Published,
    ) -> Published {
        let now = u64::from(now_unix());
        let old = table.load();
        let p = publish(update);
        if old.is_loaded() && p.compiled {
            let new = table.load();
            let delta = delta.unwrap_or_else(|| old.records().diff(new.records()));
            let explain = new.view().as_record_set();
            self.note(&delta, explain, p.serial, now, released);
        }
        p
    }

    /// The record set held back now, if any.
    pub fn held(&self) -> Option<Hold> {
        self.lock().held.as_ref().map(|(h, _)| h.clone())
    }

    /// Notes the changes of `delta`, published as `serial` at `now_unix`;
    /// `new`, the records after it when they are a record set, says why a
    /// name changed when its explain data can.
    pub fn note(
        &self,
        delta: &Delta,
        new: Option<&RecordSet>,
        serial: u32,
        now_unix: u64,
        released: bool,
    ) {
        if delta.is_empty() {
            return;
        }
        let mut what: HashMap<&str, Vec<String>> = HashMap::new();
        for (sign, records) in [('-', &delta.removed), ('+', &delta.added)] {
            for r in records {
                if what.len() >= HISTORY_MAX_NAMES && !what.contains_key(r.name.as_str())
                {
                    continue;
                }
                let v = match &r.value {
                    Value::A(ip) => format!("{sign}A {ip}"),
                    Value::Aaaa(ip) => format!("{sign}AAAA {ip}"),
                    Value::Srv { target, port } => format!("{sign}SRV {target}:{port}"),
                };
                what.entry(r.name.as_str()).or_default().push(v);
            }
        }
        let explain = new.and_then(|n| n.explain_data().map(|e| (n, e)));
        let mut st = self.lock();
        for (name, what) in what {
            let mut why = match released {
                true => "a shrinking state held down once and seen again".to_owned(),
                false => "state change".to_owned(),
            };
            if let Some(e) = explain.and_then(|(n, x)| x.explain(n, name)) {
                let reasons: Vec<String> = e
                    .tasks
                    .iter()
                    .filter_map(|t| t.left_out.as_ref().map(|r| format!("{}: {r}", t.id)))
                    .collect();
                if !reasons.is_empty() {
                    why = format!("{why}; left out: {}", reasons.join(", "));
                }
            }
            let change = Change {
                time: now_unix,
                serial,
                what,
                why,
            };
            st.noted += 1;
            let st = &mut *st;
            let (at, list) = st.changes.entry(name.to_owned()).or_default();
            st.order.remove(&*at);
            *at = st.noted;
            st.order.insert(st.noted, name.to_owned());
            list.push_back(change);
            while list.len() > HISTORY_PER_NAME {
                list.pop_front();
            }
            while st.order.len() > HISTORY_NAMES {
                if let Some((_, gone)) = st.order.pop_first() {
                    st.changes.remove(&gone);
                }
            }
        }
    }

    /// The changes kept for `name`, oldest first.
    pub fn history(&self, name: &str) -> Vec<Change> {
        self.lock()
            .changes
            .get(name)
            .map(|(_, l)| l.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_records::delta::Record;

    #[test]
    fn issue_22_hold_down_holds_once_then_releases() {
        let g = PublishGuard::default();
        assert_eq!(g.check(0.0, 100, 1, 1), Verdict::Publish);
        assert_eq!(g.check(0.5, 100, 60, 1), Verdict::Publish);
        assert_eq!(g.check(0.5, 100, 40, 2), Verdict::Hold);
        assert_eq!(g.held().map(|h| (h.since, h.held)), Some((2, 40)));
        assert_eq!(g.check(0.5, 100, 40, 3), Verdict::Release);
        assert!(g.held().is_none());
        // A shrink that goes away clears the hold.
        assert_eq!(g.check(0.5, 100, 10, 4), Verdict::Hold);
        assert_eq!(g.check(0.5, 100, 100, 5), Verdict::Publish);
        assert_eq!(g.check(0.5, 100, 10, 6), Verdict::Hold);
        assert_eq!(g.holds.load(Ordering::Relaxed), 3);
        assert_eq!(g.releases.load(Ordering::Relaxed), 1);
        // An empty table (first load) is never held.
        assert_eq!(g.check(0.5, 0, 0, 7), Verdict::Publish);
    }

    #[test]
    fn history_keeps_the_last_changes_per_name() {
        let g = PublishGuard::default();
        let mut sets = Vec::new();
        for i in 0..12u8 {
            let mut b = mesos_records::RecordSetBuilder::new(false);
            b.insert_a("web.marathon.mesos.", [10, 0, 0, i].into());
            sets.push(b.finish());
        }
        for (i, w) in sets.windows(2).enumerate() {
            g.note(
                &w[0].diff(&w[1]),
                Some(&w[1]),
                i as u32,
                100 + i as u64,
                false,
            );
        }
        let h = g.history("web.marathon.mesos.");
        assert_eq!(h.len(), HISTORY_PER_NAME);
        let last = h.last().unwrap();
        assert_eq!(last.serial, 10);
        assert_eq!(last.what, ["-A 10.0.0.10", "+A 10.0.0.11"]);
        assert_eq!(last.why, "state change");
        assert!(g.history("other.").is_empty());
    }

    #[test]
    fn history_forgets_the_names_changed_longest_ago_first() {
        let g = PublishGuard::default();
        let change = |name: &str, serial: u32| {
            let rec = Record::new(name, Value::A([10, 0, 0, 1].into()));
            g.note(&Delta::new(Vec::new(), vec![rec]), None, serial, 1, false);
        };
        for i in 0..HISTORY_NAMES {
            change(&format!("n{i}.mesos."), 1);
        }
        // Changed again: now the latest, so the next name pushes out n1.
        change("n0.mesos.", 2);
        change("new.mesos.", 3);
        assert_eq!(g.history("n0.mesos.").len(), 2);
        assert!(g.history("n1.mesos.").is_empty());
        assert_eq!(g.history("n2.mesos.").len(), 1);
        assert_eq!(g.history("new.mesos.").len(), 1);
    }
}
