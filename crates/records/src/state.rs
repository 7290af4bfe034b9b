//! The subset of the Mesos `/master/state` JSON that mesos-dns reads
//! (BEHAVIOUR.md 3.3), validated once here.
//!
//! Read: `leader`; `slaves[]` `id`, `pid`; `frameworks[]` `name`, `hostname`,
//! `pid`, `tasks[]`; per task `id`, `name`, `slave_id`, `state`,
//! `resources.ports`, `statuses[]` (`state`, `timestamp`, `labels[]`,
//! `container_status.network_infos[]`, and for our extensions `healthy`)
//! `discovery` (`name`, `ports.ports[]`) and, for our extensions, the
//! task's `DNS_` `labels[]`. The extension fields are never type-checked: a
//! value of another type is ignored, as mesos-dns ignores the field. Everything else is ignored, including the types of fields
//! mesos-dns decodes but never uses (`slaves[].hostname`, `framework_id`,
//! `discovery.labels`...).
//!
//! A body that is not JSON, not an object, has no `leader` or has
//! `frameworks`/`slaves` that are not arrays is a [`StateError`]: the fetcher
//! keeps the last good records. A malformed framework, slave or task is left
//! out and recorded in [`State::skips`]; the rest is kept.
//!
//! Two readers give the same result. The lenient one (`raw.rs` over
//! `lenient.rs` and serde_json) defines it. The fast one (`fast.rs`
//! over `scan.rs`) reads a well-typed body straight from the text, about
//! twice as fast on a large state; it hands any entity it cannot read
//! exactly to the lenient one, and the whole body when that is needed for
//! the same error. The tests of `fast.rs` check that they agree.

use std::fmt;

use crate::lenient::{Check, Json, Text};
use crate::skip::{Skip, SkipReason};

mod fast;
mod fields;
mod raw;
pub mod scan;
mod task;
mod task_data;
pub use fast::{task_from_fields, StatusFields, TaskFields};
pub(crate) use fields::{each_port, parse_ip};
pub use fields::{expand_ports, parse_pid};
use raw::{PidText, RawFramework, RawSlave, RawState, TaskIssue};
pub use task::TaskTexts;
use task_data::PortsBuilder;
pub use task_data::{Ports, StatusIps, TaskState};

/// A text shared by the tasks and records that carry it (a task's id,
/// name and agent id, a record's owner name): one allocation, and a thin
/// pointer where an `Arc<str>` is two words.
pub type SharedStr = arcstr::ArcStr;

/// A parsed master state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// `leader`: `master@ip:port`, never empty.
    pub leader: String,
    /// Frameworks in state order (malformed ones left out).
    pub frameworks: Vec<Framework>,
    /// Slaves in state order (malformed ones, and those without a usable
    /// `pid`, left out).
    pub slaves: Vec<Slave>,
    /// What was left out while reading, and why.
    pub skips: Vec<Skip>,
}

/// A Mesos process id `id@host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pid {
    /// The host: an IP literal (brackets removed) or a host name, maybe empty.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// One slave (agent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slave {
    /// `id`.
    pub id: String,
    /// `pid`.
    pub pid: Pid,
}

/// One framework.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Framework {
    /// Raw `name`.
    pub name: String,
    /// `hostname`, used when there is no `pid`.
    pub hostname: String,
    /// `pid`, when present and valid.
    pub pid: Option<Pid>,
    /// True when a `pid` was present but invalid: no framework records.
    pub bad_pid: bool,
    /// Tasks in state order (malformed ones left out).
    pub tasks: Vec<Task>,
}

/// One task.
///
/// Kept by the live store for every task, so it is small: the name and
/// slave id are shared by the tasks read from one framework's list, the
/// state is a code for the Mesos states, the status IPs are one list and
/// the rare DiscoveryInfo is boxed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Task {
    /// `id` (shared with the live store's key for the task).
    pub id: SharedStr,
    /// Raw `name` (shared by the instances of an app read together).
    pub name: SharedStr,
    /// `slave_id`.
    pub slave_id: SharedStr,
    /// `state`, e.g. `TASK_RUNNING`.
    pub state: TaskState,
    /// `resources.ports` expanded, in order.
    pub ports: Ports,
    /// The IP data of the latest `TASK_RUNNING` status (largest timestamp,
    /// the earliest on a tie), if any (BEHAVIOUR.md 4.8).
    pub running_status: Option<StatusIps>,
    /// `discovery`, when its `name` is non-empty (a "DI task").
    pub discovery: Option<Box<Discovery>>,
    /// Task-level `labels[]` whose key starts with `DNS_` (the per-task
    /// policy, [`crate::policy`]), in state order; entries whose key or
    /// value is not a string are ignored. mesos-dns reads no task label.
    pub labels: Box<[(String, String)]>,
}

/// A task's DiscoveryInfo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Raw `name`, non-empty.
    pub name: String,
    /// `ports.ports[]` with a number in 0..=65535.
    pub ports: Vec<DiscoveryPort>,
}

/// One DiscoveryInfo port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscoveryPort {
    /// `number` (0 when absent, as in Go).
    pub number: u16,
    /// Raw `protocol`.
    pub protocol: String,
    /// Raw `name`.
    pub name: String,
}

/// Why a state body was rejected as a whole.
#[derive(Debug)]
pub enum StateError {
    /// Not JSON, or not the expected shape.
    Json(String),
    /// The body has no `leader`.
    NoLeader,
    /// Nothing usable: the body lists frameworks (or slaves) and every one
    /// of them is malformed. Loading it would wipe every record, so it
    /// fails like a body that does not parse and the last good records
    /// stay. An empty list is a cluster with nothing running and loads.
    NothingUsable(String),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Json(e) => write!(f, "invalid state JSON: {e}"),
            StateError::NoLeader => {
                f.write_str("fetched state does not contain leader information")
            }
            StateError::NothingUsable(e) => write!(f, "nothing usable in the state: {e}"),
        }
    }
}

impl std::error::Error for StateError {}

impl State {
    /// Parses a state body.
    ///
    /// # Errors
    /// A body that is not JSON, not an object, has an empty or missing
    /// `leader`, or `frameworks`/`slaves` that are not arrays; or a body
    /// with nothing usable ([`StateError::NothingUsable`]).
    pub fn parse(body: &[u8]) -> Result<State, StateError> {
        // The fast reader first; whatever it cannot read exactly (a body
        // that is not UTF-8, a syntax error, nesting deeper than it skips)
        // is read again by the lenient one, which has the last word.
        if let Ok(text) = std::str::from_utf8(body) {
            if let Some((raw, lenient)) = fast::read_state(text) {
                if lenient > 0 {
                    log::debug!("state: {lenient} entities read by the lenient reader");
                }
                return State::from_raw(raw);
            }
        }
        State::parse_lenient(body)
    }

    /// [`State::parse`] with the lenient reader only. Public only for the
    /// differential fuzz target, which checks that both readers agree.
    #[doc(hidden)]
    pub fn parse_lenient(body: &[u8]) -> Result<State, StateError> {
        let lossy: String;
        let raw: Json<RawState<'_>> = match serde_json::from_slice(body) {
            Ok(raw) => raw,
            // Go replaces invalid UTF-8 with U+FFFD instead of failing.
            Err(e) => match std::str::from_utf8(body) {
                Ok(_) => return Err(StateError::Json(e.to_string())),
                Err(_) => {
                    lossy = String::from_utf8_lossy(body).into_owned();
                    serde_json::from_str(&lossy)
                        .map_err(|e| StateError::Json(e.to_string()))?
                }
            },
        };
        match raw {
            Json::Value(raw) => State::from_raw(raw),
            Json::Absent => Err(StateError::Json("state is null".to_owned())),
            Json::Wrong(found) => {
                Err(StateError::Json(format!("state is {found}, not an object")))
            }
        }
    }

    fn from_raw(raw: RawState<'_>) -> Result<State, StateError> {
        raw.leader
            .check_type("leader")
            .and(raw.frameworks.check_type("frameworks"))
            .and(raw.slaves.check_type("slaves"))
            .map_err(StateError::Json)?;
        let leader = owned(raw.leader);
        if leader.is_empty() {
            return Err(StateError::NoLeader);
        }
        let mut state = State {
            leader,
            ..State::default()
        };
        let skips = &mut state.skips;
        let slaves = raw.slaves.value().unwrap_or_default();
        let frameworks = raw.frameworks.value().unwrap_or_default();
        let listed = (slaves.len(), frameworks.len());
        for (i, slave) in slaves.into_iter().enumerate() {
            match read_slave(slave) {
                Ok(s) => state.slaves.push(s),
                Err(e) => skip(
                    skips,
                    SkipReason::MalformedSlave,
                    format!("slaves[{i}]: {e}"),
                ),
            }
        }
        for (i, fw) in frameworks.into_iter().enumerate() {
            let fw = match fw {
                Json::Value(fw) => fw,
                Json::Absent => RawFramework::default(),
                Json::Wrong(found) => {
                    let e = format!("frameworks[{i}] is {found}");
                    skip(skips, SkipReason::MalformedFramework, e);
                    continue;
                }
            };
            if let Err(e) = fw.check().and(fw.tasks.check_type("tasks")) {
                skip(
                    skips,
                    SkipReason::MalformedFramework,
                    format!("frameworks[{i}]: {e}"),
                );
                continue;
            }
            state.frameworks.push(read_framework(i, fw, skips));
        }
        state.check_usable(listed)?;
        Ok(state)
    }

    /// Fails a state in which every listed slave, or every listed
    /// framework, was malformed; `listed` counts (slaves, frameworks) in
    /// the body. Partly malformed lists and empty lists are fine.
    fn check_usable(&self, listed: (usize, usize)) -> Result<(), StateError> {
        let (slaves, frameworks) = listed;
        let first = |reason: SkipReason| {
            self.skips
                .iter()
                .find(|s| s.reason == reason)
                .map_or_else(String::new, |s| format!(" (first: {})", s.detail))
        };
        if slaves > 0 && self.slaves.is_empty() {
            return Err(StateError::NothingUsable(format!(
                "all {slaves} slaves are malformed{}",
                first(SkipReason::MalformedSlave)
            )));
        }
        if frameworks > 0 && self.frameworks.is_empty() {
            return Err(StateError::NothingUsable(format!(
                "all {frameworks} frameworks are malformed{}",
                first(SkipReason::MalformedFramework)
            )));
        }
        Ok(())
    }
}

/// A string field's value, or `""`.
fn owned(t: Json<Text<'_>>) -> String {
    t.value().map(Text::into_owned).unwrap_or_default()
}

fn skip(skips: &mut Vec<Skip>, reason: SkipReason, detail: String) {
    log::debug!("state: skipping {reason}: {detail}");
    skips.push(Skip { reason, detail });
}

fn read_slave(raw: Json<RawSlave<'_>>) -> Result<Slave, String> {
    let raw = match raw {
        Json::Value(raw) => raw,
        Json::Absent => return Err("null".to_owned()),
        Json::Wrong(found) => return Err(format!("is {found}")),
    };
    raw.check()?;
    let id = owned(raw.id);
    let pid = match raw.pid {
        Json::Value(PidText(p)) => {
            parse_pid(&p).map_err(|e| format!("id {id:?}: pid {p:?}: {e}"))?
        }
        Json::Absent => return Err(format!("id {id:?}: no pid")),
        Json::Wrong(found) => return Err(format!("id {id:?}: pid is {found}")),
    };
    Ok(Slave { id, pid })
}

fn read_framework(i: usize, raw: RawFramework<'_>, skips: &mut Vec<Skip>) -> Framework {
    let name = owned(raw.name);
    let mut fw = Framework {
        hostname: owned(raw.hostname),
        ..Framework::default()
    };
    let bad_pid = match raw.pid {
        Json::Value(PidText(p)) => match parse_pid(&p) {
            Ok(pid) => {
                fw.pid = Some(pid);
                None
            }
            Err(e) => Some(format!("pid {p:?}: {e}")),
        },
        Json::Absent => None,
        Json::Wrong(found) => Some(format!("pid is {found}")),
    };
    if let Some(e) = bad_pid {
        let e = format!("framework {name:?}: {e}; no framework records");
        skip(skips, SkipReason::BadFrameworkPid, e);
        fw.bad_pid = true;
    }
    let tasks = raw.tasks.value().unwrap_or_default();
    fw.tasks = tasks.tasks;
    for (j, issue) in tasks.issues {
        match issue {
            TaskIssue::Skips(task_skips) => {
                for s in task_skips {
                    skip(skips, s.reason, s.detail);
                }
            }
            TaskIssue::Wrong(found) => {
                let e = format!("frameworks[{i}].tasks[{j}] is {found}");
                skip(skips, SkipReason::MalformedTask, e);
            }
            TaskIssue::Malformed(id, e) => {
                let e = format!("frameworks[{i}].tasks[{j}] (id {id:?}): {e}");
                skip(skips, SkipReason::MalformedTask, e);
            }
        }
    }
    fw.name = name;
    fw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bodies_without_leader_or_json() {
        assert!(matches!(State::parse(b"{}"), Err(StateError::NoLeader)));
        assert!(matches!(
            State::parse(br#"{"leader":""}"#),
            Err(StateError::NoLeader)
        ));
        assert!(matches!(
            State::parse(br#"{"leader":null}"#),
            Err(StateError::NoLeader)
        ));
        for bad in [
            &b"<html>"[..],
            b"",
            b"[1]",
            b"null",
            br#"{"leader":"m@1.2.3.4:5050""#,
        ] {
            assert!(
                matches!(State::parse(bad), Err(StateError::Json(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            State::parse(br#"{"leader":5}"#),
            Err(StateError::Json(_))
        ));
        let e = State::parse(br#"{"leader":"m@1.2.3.4:1","slaves":{}}"#).unwrap_err();
        assert!(e.to_string().contains("slaves"), "{e}");
    }

    #[test]
    fn reads_a_minimal_state() {
        let s =
            State::parse(br#"{"leader":"master@1.2.3.4:5050","extra":[1,{"a":null}]}"#)
                .unwrap();
        assert_eq!(s.leader, "master@1.2.3.4:5050");
        assert!(s.frameworks.is_empty() && s.slaves.is_empty() && s.skips.is_empty());
    }

    #[test]
    fn keys_match_case_insensitively() {
        let s = State::parse(
            br#"{"LEADER":"m@1.2.3.4:1","Slaves":[{"ID":"s1","Pid":"x@1.1.1.1:1"}]}"#,
        )
        .unwrap();
        assert_eq!(s.slaves[0].id, "s1");
        // Go's fold also maps `ſ` to `s` and the Kelvin sign to `k`; both
        // readers agree.
        let body = "{\"leader\":\"m@1.2.3.4:1\",\"\u{17f}laves\":[{\"id\":\"s1\",\"pid\":\"x@1.1.1.1:1\"}]}";
        for s in [
            State::parse(body.as_bytes()).unwrap(),
            State::parse_lenient(body.as_bytes()).unwrap(),
        ] {
            assert_eq!(s.slaves.len(), 1, "{body}");
        }
    }

    #[test]
    fn malformed_entities_are_skipped_with_reasons() {
        let body = br#"{
            "leader": "master@1.2.3.4:5050",
            "slaves": [
                {"id": "ok", "pid": "slave(1)@1.2.3.10:5051"},
                {"id": "nopid"},
                {"id": 7, "pid": "slave(1)@1.2.3.11:5051"},
                {"id": "badpid", "pid": "nonsense"},
                {"id": "nullpid", "pid": null},
                "junk"
            ],
            "frameworks": [
                {"name": "fw", "pid": "scheduler@1.2.3.4", "tasks": [
                    {"id": "t1", "name": "a", "slave_id": "ok", "state": "TASK_RUNNING"},
                    {"id": "t2", "statuses": [{"timestamp": "soon"}]},
                    {"id": "t3", "resources": {"ports": [31000]}},
                    42,
                    {"id": "t4", "resources": {"ports": "[31000]"}}
                ]},
                {"name": ["not", "a", "string"]},
                {"name": "tasks not array", "tasks": {}}
            ]
        }"#;
        let s = State::parse(body).unwrap();
        assert_eq!(s.slaves.len(), 1);
        assert_eq!(s.frameworks.len(), 1);
        let fw = &s.frameworks[0];
        assert!(fw.bad_pid && fw.pid.is_none());
        let ids: Vec<&str> = fw.tasks.iter().map(|t| &*t.id).collect();
        assert_eq!(ids, ["t1", "t4"]);
        let count = |r| s.skips.iter().filter(|k| k.reason == r).count();
        assert_eq!(count(SkipReason::MalformedSlave), 5);
        assert_eq!(count(SkipReason::MalformedFramework), 2);
        assert_eq!(count(SkipReason::MalformedTask), 3);
        assert_eq!(count(SkipReason::BadFrameworkPid), 1);
        assert_eq!(count(SkipReason::BadPortRange), 1);
        assert!(s
            .skips
            .iter()
            .any(|k| k.detail.contains("statuses.0.`timestamp` is a string")));
    }

    #[test]
    fn invalid_utf8_is_replaced_like_go() {
        let mut body = br#"{"leader":"m@1.2.3.4:1","frameworks":[{"name":"a"#.to_vec();
        body.push(0xff);
        body.extend_from_slice(br#"b"}]}"#);
        let s = State::parse(&body).unwrap();
        assert_eq!(s.frameworks[0].name, "a\u{fffd}b");
    }

    #[test]
    fn a_state_with_nothing_usable_fails_but_an_empty_cluster_loads() {
        let leader = r#""leader":"master@1.2.3.4:5050""#;
        let slave = r#"{"id":"s","pid":"slave(1)@1.2.3.5:5051"}"#;
        let fw = r#"{"name":"f","tasks":[]}"#;
        let parse = |rest: &str| State::parse(format!("{{{leader},{rest}}}").as_bytes());
        for bad in [
            r#""frameworks":[1,2,3]"#.to_owned(),
            format!(r#""frameworks":[1,{{"name":5}}],"slaves":[{slave}]"#),
            format!(r#""frameworks":[{fw}],"slaves":["x",{{"id":"nopid"}}]"#),
        ] {
            let e = parse(&bad).unwrap_err();
            assert!(matches!(e, StateError::NothingUsable(_)), "{bad}: {e}");
            assert!(e.to_string().contains("malformed"), "{e}");
        }
        // Empty or absent lists, or partly malformed ones, load.
        for good in [
            r#""frameworks":[],"slaves":[]"#.to_owned(),
            r#""frameworks":null"#.to_owned(),
            format!(r#""frameworks":[1,{fw}],"slaves":["x",{slave}]"#),
            format!(r#""frameworks":[null],"slaves":[{slave}]"#),
        ] {
            assert!(parse(&good).is_ok(), "{good}");
        }
        assert!(State::parse(format!("{{{leader}}}").as_bytes()).is_ok());
    }
}
