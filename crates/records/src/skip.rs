//! Why part of a state produced no records: counted and logged.
//!
//! mesos-dns fails the whole state (or crashes) on most of these; we skip
//! just the entity or the name concerned and generate the rest. Only when
//! every listed framework, or every listed slave, is skipped does the state
//! fail as a whole ([`StateError::NothingUsable`](crate::StateError::NothingUsable)).

use std::fmt;

/// The kind of a skip, for counters and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// A framework that is not an object or has a field of the wrong type
    /// (mesos-dns: the whole state fails). The framework and its tasks are
    /// skipped.
    MalformedFramework,
    /// A slave that is not an object, has a field of the wrong type, or no
    /// usable `pid` (mesos-dns: the whole state fails, or a crash).
    MalformedSlave,
    /// A task that is not an object or has a field of the wrong type
    /// (mesos-dns: the whole state fails).
    MalformedTask,
    /// A framework `pid` that does not parse as `id@host:port`
    /// (mesos-dns: the whole state fails). The framework gets no framework
    /// records; its tasks are still generated.
    BadFrameworkPid,
    /// One range of `resources.ports` that does not parse (no `[`, no `-`,
    /// a bound that is not a number or is above 65535). The other ranges stay.
    BadPortRange,
    /// A DiscoveryInfo port whose number is outside 0..=65535.
    BadDiscoveryPort,
    /// A host name (framework, slave, leader or master) that did not resolve
    /// in time, or resolved to no address.
    Unresolved,
    /// A state `leader` that is not `id@host:port`: no master records.
    BadLeader,
    /// A master list entry that is not `host:port`.
    BadMaster,
    /// A `Listener` that is not an IP address: no nameserver record.
    BadListener,
    /// `TaskLabelPolicy`: a task left out by its `DNS_EXCLUDE=true` label.
    ExcludedByLabel,
    /// `TaskLabelPolicy`: a `DNS_` task label whose value does not parse;
    /// ignored for that task.
    BadTaskLabel,
    /// `HealthFilter`: a task whose latest status reports `healthy: false`,
    /// left out of the names it shares with other tasks.
    Unhealthy,
    /// `HealthFilter`: a name that would have kept fewer than
    /// `HealthFilterMinFraction` of its tasks, served with all of them
    /// (fail open).
    HealthFailOpen,
}

impl SkipReason {
    /// Every reason, in declaration order.
    pub const ALL: [SkipReason; 14] = [
        SkipReason::MalformedFramework,
        SkipReason::MalformedSlave,
        SkipReason::MalformedTask,
        SkipReason::BadFrameworkPid,
        SkipReason::BadPortRange,
        SkipReason::BadDiscoveryPort,
        SkipReason::Unresolved,
        SkipReason::BadLeader,
        SkipReason::BadMaster,
        SkipReason::BadListener,
        SkipReason::ExcludedByLabel,
        SkipReason::BadTaskLabel,
        SkipReason::Unhealthy,
        SkipReason::HealthFailOpen,
    ];

    /// A short snake_case name, for metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::MalformedFramework => "malformed_framework",
            SkipReason::MalformedSlave => "malformed_slave",
            SkipReason::MalformedTask => "malformed_task",
            SkipReason::BadFrameworkPid => "bad_framework_pid",
            SkipReason::BadPortRange => "bad_port_range",
            SkipReason::BadDiscoveryPort => "bad_discovery_port",
            SkipReason::Unresolved => "unresolved",
            SkipReason::BadLeader => "bad_leader",
            SkipReason::BadMaster => "bad_master",
            SkipReason::BadListener => "bad_listener",
            SkipReason::ExcludedByLabel => "excluded_by_label",
            SkipReason::BadTaskLabel => "bad_task_label",
            SkipReason::Unhealthy => "unhealthy",
            SkipReason::HealthFailOpen => "health_fail_open",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One skip: its reason and a human-readable detail naming the entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// The kind, for counters.
    pub reason: SkipReason,
    /// What was skipped and why, for the log.
    pub detail: String,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

/// Counts of `skips` by reason, in [`SkipReason::ALL`] order, zeros left out.
pub fn count_by_reason(skips: &[Skip]) -> Vec<(SkipReason, usize)> {
    SkipReason::ALL
        .iter()
        .map(|&r| (r, skips.iter().filter(|s| s.reason == r).count()))
        .filter(|&(_, n)| n > 0)
        .collect()
}
