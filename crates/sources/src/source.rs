//! What the state sources are told: where the state comes from
//! ([`Source`], [`EventSource`]) and how to load it ([`PollerConfig`]),
//! built by the server's config module.

use std::path::PathBuf;
use std::time::Duration;

use mesos_records::GenConfig;

use crate::fetch::HttpConfig;
use crate::master::DetectorSpec;

/// Mesos' heartbeat interval (`DEFAULT_HEARTBEAT_INTERVAL`), assumed until
/// `SUBSCRIBED` says otherwise.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// Default coalescing window of the event stream.
pub const DEFAULT_COALESCE: Duration = Duration::from_millis(5);

/// Where the state comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Static `Masters` (`host:port`); the first is the presumed leader.
    Masters(Vec<String>),
    /// `Zk` (a `zk://`, `file://` or standalone spec). `fallback` is the
    /// static `Masters` list, used until ZooKeeper reports a leader.
    Zk {
        /// The parsed detector spec.
        spec: DetectorSpec,
        /// Static masters to try meanwhile.
        fallback: Vec<String>,
    },
    /// A state JSON file, reloaded when it changes (our extension, for the
    /// demo cluster and for testing).
    StateFile(PathBuf),
    /// The v1 operator API event stream, with masters found as the inner
    /// source says (our extension, `StateSource: "events"`; see
    /// [`crate::stream`]).
    Events(Box<EventSource>),
}

/// Everything the poller needs, built by the server's config module.
#[derive(Clone, Debug)]
pub struct PollerConfig {
    /// Where the state comes from.
    pub source: Source,
    /// `RefreshSeconds`.
    pub refresh: Duration,
    /// HTTP settings (`MesosHTTPSOn`, TLS, auth, `StateTimeoutSeconds`, cap).
    pub http: HttpConfig,
    /// `ZkDetectionTimeout`; `None` when <= 0. When no leader is known and
    /// no state has loaded this long after start, an error is logged and
    /// [`PollerStatus::detection_timed_out`](crate::PollerStatus::detection_timed_out) is set (the server exits, as
    /// mesos-dns does). After the first load it is never set.
    pub zk_detection_timeout: Option<Duration>,
    /// Record generation settings.
    pub gen: GenConfig,
}

/// The event source: where masters come from, and tuning.
#[derive(Clone, Debug)]
pub struct EventSource {
    /// How to find masters: [`Source::Masters`] or [`Source::Zk`].
    pub masters: Source,
    /// Heartbeat interval assumed before `SUBSCRIBED` (also bounds each
    /// socket read at three times it).
    pub heartbeat: Duration,
    /// Coalescing window: at most one publish per window.
    pub coalesce: Duration,
}

impl EventSource {
    /// Events from the masters `masters` names, with Mesos' defaults.
    pub fn new(masters: Source) -> EventSource {
        EventSource {
            masters,
            heartbeat: DEFAULT_HEARTBEAT,
            coalesce: DEFAULT_COALESCE,
        }
    }
}

impl Source {
    /// The source that finds masters: the inner one for events.
    pub(crate) fn detection(&self) -> &Source {
        match self {
            Source::Events(e) => &e.masters,
            other => other,
        }
    }
}
