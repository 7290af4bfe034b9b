//! What the poll loop, the event stream and the ZooKeeper detector share:
//! the wake-up flags, the master list and its fallback, the detection
//! timeout, and the [`PollerStatus`] they report to. Both loops ask here,
//! so they cannot disagree about which masters to try or when to give up.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos_records::GenConfig;

use crate::source::Source;
use crate::status::PollerStatus;

#[derive(Default)]
struct Wake {
    stop: bool,
    reload: bool,
}

/// State shared by the loop, the detector and the [`Poller`](crate::poller::Poller) handle.
pub(crate) struct SourceShared {
    wake: Mutex<Wake>,
    cv: Condvar,
    /// `[leader-or-"", others...]`; `None` until the detector reports.
    masters: Mutex<Option<Vec<String>>>,
    /// New generation settings from a config reload, for the next load,
    /// with their number.
    gen: Mutex<Option<(GenConfig, u64)>>,
    pub(crate) status: Arc<PollerStatus>,
}

impl SourceShared {
    /// Nothing detected yet; `masters` preset for static masters.
    pub(crate) fn new(masters: Option<Vec<String>>) -> SourceShared {
        SourceShared {
            wake: Mutex::new(Wake::default()),
            cv: Condvar::new(),
            masters: Mutex::new(masters),
            gen: Mutex::new(None),
            status: Arc::new(PollerStatus::default()),
        }
    }

    pub(crate) fn stopping(&self) -> bool {
        self.wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop
    }

    /// Sleeps up to `d`, returning early on stop.
    pub(crate) fn sleep(&self, d: Duration) {
        let _ = self.wait(Instant::now() + d);
    }

    /// Waits until `deadline`, a reload request or stop. Returns true when
    /// a reload was requested.
    pub(crate) fn wait(&self, deadline: Instant) -> bool {
        let mut w = self.wake.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if w.stop {
                return false;
            }
            if w.reload {
                w.reload = false;
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            w = self
                .cv
                .wait_timeout(w, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn notify(&self, f: impl FnOnce(&mut Wake)) {
        f(&mut self.wake.lock().unwrap_or_else(PoisonError::into_inner));
        self.cv.notify_all();
    }

    /// Wakes the loop for a load now.
    pub(crate) fn request_reload(&self) {
        self.notify(|w| w.reload = true);
    }

    /// New generation settings (a config reload): the next load generates
    /// with them, and starts at once.
    pub(crate) fn set_gen(&self, gen: GenConfig, epoch: u64) {
        *self.gen.lock().unwrap_or_else(PoisonError::into_inner) = Some((gen, epoch));
        self.request_reload();
    }

    /// The generation settings set since the last call, if any.
    pub(crate) fn take_gen(&self) -> Option<(GenConfig, u64)> {
        self.gen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Tells every thread to stop, waking the ones that sleep.
    pub(crate) fn request_stop(&self) {
        self.notify(|w| w.stop = true);
    }

    /// A new master list from the detector; reloads at once.
    pub(crate) fn set_masters(&self, list: Vec<String>, leader_changed: bool) {
        if leader_changed {
            let leader = list.first().cloned().unwrap_or_default();
            self.status.set_leader(&leader);
        }
        *self.masters.lock().unwrap_or_else(PoisonError::into_inner) = Some(list);
        self.notify(|w| w.reload = true);
    }

    pub(crate) fn set_leader(&self, leader: &str) {
        self.status.set_leader(leader);
    }

    /// The detector's list as it last reported it; `None` until then.
    pub(crate) fn detected(&self) -> Option<Vec<String>> {
        self.masters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The masters to try, `[leader-or-"", others...]`: the detector's
    /// list once it reported, else what `source` configures (for `Zk`, an
    /// unknown leader and then the static `Masters` fallback). An event
    /// source finds its masters as its inner source says.
    pub(crate) fn masters(&self, source: &Source) -> Vec<String> {
        if let Some(list) = self.detected() {
            return list;
        }
        match source.detection() {
            Source::Zk { fallback, .. } => {
                let mut l = vec![String::new()];
                l.extend(fallback.iter().cloned());
                l
            }
            Source::Masters(list) => list.clone(),
            Source::StateFile(_) | Source::Events(_) => Vec::new(),
        }
    }

    /// `ZkDetectionTimeout`: with a ZooKeeper source, no leader known and
    /// nothing loaded `limit` after `started`, logs an error once and sets
    /// [`PollerStatus::detection_timed_out`], on which the server exits as
    /// mesos-dns does. After the first load it never fires: a lost leader
    /// or ZooKeeper then never stops the process and the last good records
    /// stay served (mesos-dns re-arms the timer and exits; listed in
    /// COMPATIBILITY.md). True when it fired on this call.
    pub(crate) fn check_detection_timeout(
        &self,
        source: &Source,
        limit: Option<Duration>,
        started: Instant,
    ) -> bool {
        let Some(limit) = limit else {
            return false;
        };
        let status = &self.status;
        let fired = matches!(source.detection(), Source::Zk { .. })
            && !status.ready()
            && status.leader().is_empty()
            && started.elapsed() >= limit
            && !status.detection_timed_out.swap(true, Ordering::Relaxed);
        if fired {
            log::error!(
                "no leading master detected within ZkDetectionTimeout ({}s)",
                limit.as_secs()
            );
        }
        fired
    }
}

/// A duration in whole microseconds, saturating (for the status counters).
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch, never 0 (0 means "never" in the status).
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::DetectorSpec;
    use crate::source::EventSource;

    fn zk() -> Source {
        Source::Zk {
            spec: DetectorSpec::parse("zk://127.0.0.1:2181/mesos").unwrap(),
            fallback: vec!["10.0.0.9:5050".to_owned()],
        }
    }

    #[test]
    fn masters_fall_back_until_the_detector_reports() {
        let s = SourceShared::new(None);
        let fallback = vec![String::new(), "10.0.0.9:5050".to_owned()];
        assert_eq!(s.masters(&zk()), fallback);
        // An event source finds its masters as its inner source says.
        let events = Source::Events(Box::new(EventSource::new(zk())));
        assert_eq!(s.masters(&events), fallback);
        let fixed = Source::Masters(vec!["10.0.0.1:5050".to_owned()]);
        assert_eq!(s.masters(&fixed), ["10.0.0.1:5050"]);
        assert!(s.masters(&Source::StateFile("x".into())).is_empty());
        s.set_masters(vec!["10.0.0.2:5050".to_owned()], true);
        assert_eq!(s.masters(&zk()), ["10.0.0.2:5050"]);
        assert_eq!(s.masters(&events), ["10.0.0.2:5050"]);
        assert_eq!(s.status.leader(), "10.0.0.2:5050");
    }

    #[test]
    fn detection_times_out_once_only_for_zookeeper_before_any_leader_or_load() {
        let past = Instant::now();
        let limit = Some(Duration::ZERO);
        let timed_out =
            |s: &SourceShared| s.status.detection_timed_out.load(Ordering::Relaxed);

        // Static masters never time out, nor does an unset limit.
        let s = SourceShared::new(None);
        let fixed = Source::Masters(vec!["10.0.0.1:5050".to_owned()]);
        assert!(!s.check_detection_timeout(&fixed, limit, past));
        assert!(!s.check_detection_timeout(&zk(), None, past));
        assert!(!s.check_detection_timeout(&zk(), Some(Duration::from_secs(3600)), past));
        assert!(!timed_out(&s));

        // Zk, nothing known: fires once and stays set, for the poller and
        // the event stream alike (the server exits on it).
        assert!(s.check_detection_timeout(&zk(), limit, past));
        assert!(timed_out(&s));
        assert!(!s.check_detection_timeout(&zk(), limit, past));
        let s = SourceShared::new(None);
        let events = Source::Events(Box::new(EventSource::new(zk())));
        assert!(s.check_detection_timeout(&events, limit, past));

        // A known leader, or a state loaded before, keeps it quiet.
        let s = SourceShared::new(None);
        s.set_leader("10.0.0.1:5050");
        assert!(!s.check_detection_timeout(&zk(), limit, past));
        let s = SourceShared::new(None);
        s.status.last_success_ms.store(1, Ordering::Relaxed);
        assert!(!s.check_detection_timeout(&zk(), limit, past));
        assert!(!timed_out(&s));
    }
}
