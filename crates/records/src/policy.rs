//! Per-task DNS policy from task labels (our extension, `TaskLabelPolicy`).
//!
//! Marathon copies an application's labels onto its tasks, so an operator
//! can set, per application:
//!
//! | label | effect |
//! |---|---|
//! | `DNS_EXCLUDE=true` | the task makes no records (`false` is allowed and does nothing) |
//! | `DNS_TTL=<seconds>` | the TTL of every name the task makes (0..=2147483647, RFC 2181 §8); a name several tasks make takes the smallest they set |
//! | `DNS_IPSOURCES=<list>` | `IPSources` for this task: a comma list of `netinfo`, `mesos`, `docker`, `host` |
//! | `DNS_SRV_WEIGHT=<n>` | the weight of the SRV records pointing at this task (0..=65535) |
//!
//! A value that does not parse is ignored for that task and recorded as a
//! [`SkipReason::BadTaskLabel`] skip (counted, logged); the task's other
//! labels still apply. It never fails a load. Unknown `DNS_` keys are
//! ignored. Without `TaskLabelPolicy`, no label is read.

use crate::skip::{Skip, SkipReason};
use crate::state::Task;
use crate::task_ip::IpSource;

/// The largest TTL RFC 2181 §8 allows.
pub const MAX_TTL: u32 = 0x7fff_ffff;

/// What a task's labels ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskPolicy {
    /// `DNS_EXCLUDE=true`.
    pub exclude: bool,
    /// `DNS_TTL`.
    pub ttl: Option<u32>,
    /// `DNS_IPSOURCES`.
    pub ip_sources: Option<Vec<IpSource>>,
    /// `DNS_SRV_WEIGHT`.
    pub srv_weight: Option<u16>,
}

impl TaskPolicy {
    /// The policy of `task`; each bad value is pushed to `skips` and left
    /// out. A later label of the same key wins.
    pub fn of(task: &Task, skips: &mut Vec<Skip>) -> TaskPolicy {
        let mut p = TaskPolicy::default();
        for (key, value) in &task.labels {
            let v = value.trim();
            let ok = match key.as_str() {
                "DNS_EXCLUDE" => parse_bool(v).map(|b| p.exclude = b),
                "DNS_TTL" => v
                    .parse::<u32>()
                    .ok()
                    .filter(|&t| t <= MAX_TTL)
                    .map(|t| p.ttl = Some(t)),
                "DNS_IPSOURCES" => parse_sources(v).map(|s| p.ip_sources = Some(s)),
                "DNS_SRV_WEIGHT" => v.parse::<u16>().ok().map(|w| p.srv_weight = Some(w)),
                _ => Some(()),
            };
            if ok.is_none() {
                let detail = format!(
                    "task {:?}: label {key}={value:?} is not valid; ignored",
                    task.id
                );
                log::debug!("records: skipping {}: {detail}", SkipReason::BadTaskLabel);
                skips.push(Skip {
                    reason: SkipReason::BadTaskLabel,
                    detail,
                });
            }
        }
        p
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A non-empty comma list of IP source names.
fn parse_sources(v: &str) -> Option<Vec<IpSource>> {
    let list: Option<Vec<IpSource>> = v
        .split(',')
        .map(|s| IpSource::from_name(s.trim()))
        .collect();
    list.filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(labels: &[(&str, &str)]) -> (TaskPolicy, Vec<Skip>) {
        let task = Task {
            id: "t".into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Task::default()
        };
        let mut skips = Vec::new();
        (TaskPolicy::of(&task, &mut skips), skips)
    }

    #[test]
    fn every_key_parses() {
        let (p, skips) = policy(&[
            ("DNS_EXCLUDE", "TRUE"),
            ("DNS_TTL", " 5 "),
            ("DNS_IPSOURCES", "docker, host"),
            ("DNS_SRV_WEIGHT", "10"),
            ("DNS_OTHER", "whatever"),
        ]);
        assert!(skips.is_empty(), "{skips:?}");
        assert_eq!(
            p,
            TaskPolicy {
                exclude: true,
                ttl: Some(5),
                ip_sources: Some(vec![IpSource::Docker, IpSource::Host]),
                srv_weight: Some(10),
            }
        );
    }

    #[test]
    fn bad_values_are_skipped_one_by_one() {
        let (p, skips) = policy(&[
            ("DNS_EXCLUDE", "yes"),
            ("DNS_TTL", "-1"),
            ("DNS_TTL", "2147483648"),
            ("DNS_IPSOURCES", "docker,bogus"),
            ("DNS_IPSOURCES", ""),
            ("DNS_SRV_WEIGHT", "65536"),
            ("DNS_SRV_WEIGHT", "3"),
        ]);
        assert_eq!(skips.len(), 6);
        assert!(skips.iter().all(|s| s.reason == SkipReason::BadTaskLabel));
        assert!(
            skips[0].detail.contains("DNS_EXCLUDE=\"yes\""),
            "{}",
            skips[0]
        );
        assert_eq!(
            p,
            TaskPolicy {
                srv_weight: Some(3),
                ..TaskPolicy::default()
            }
        );
    }
}
