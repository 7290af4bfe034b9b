//! The JSON shape of the state as read: lenient objects (see
//! [`crate::lenient`]) whose strings borrow from the body, and the task
//! list that reads each task as soon as it is parsed.

use super::task::{finish_task, task_parts, TaskParts};
use super::{owned, Task};
use crate::lenient::{json_object, Check, Json, Shape, Text};
use crate::skip::Skip;

/// A `pid` value. Go trims `"` and spaces from the raw token and rejects
/// `null`, so a `null` pid is an error here too.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PidText(pub(crate) String);

impl Shape<'_> for PidText {
    fn from_null() -> Json<Self> {
        Json::Wrong("null")
    }
    fn from_str(v: &str) -> Option<Self> {
        Some(PidText(v.to_owned()))
    }
}

impl Check for PidText {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

json_object!(RawState {
    checked {}
    unchecked {
        "leader" => leader: Text<'de>,
        "frameworks" => frameworks: Vec<Json<RawFramework<'de>>>,
        "slaves" => slaves: Vec<Json<RawSlave<'de>>>,
    }
});

json_object!(RawSlave {
    checked { "id" => id: Text<'de> }
    unchecked { "pid" => pid: PidText }
});

json_object!(RawFramework {
    checked { "name" => name: Text<'de>, "hostname" => hostname: Text<'de> }
    unchecked { "pid" => pid: PidText, "tasks" => tasks: Tasks }
});

/// A framework's `tasks`, each read into a [`Task`] as soon as it is
/// parsed: no list of raw tasks is built, and the tasks are the
/// framework's list as they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tasks {
    /// The tasks read, in order.
    pub(crate) tasks: Vec<Task>,
    /// What was left out, in order: the index in `tasks[]` and what.
    pub(crate) issues: Vec<(usize, TaskIssue)>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TaskIssue {
    /// Parts of a task that was read, left out (not logged yet).
    Skips(Vec<Skip>),
    /// Not an object: the JSON type found.
    Wrong(&'static str),
    /// A field of the wrong type: the task id and the error.
    Malformed(String, String),
}

impl<'de> Shape<'de> for Tasks {
    fn from_seq<A: serde::de::SeqAccess<'de>>(
        mut seq: A,
    ) -> Result<Option<Self>, A::Error> {
        let mut out = Tasks::default();
        let mut j = 0;
        while let Some(t) = seq.next_element::<Json<RawTask<'de>>>()? {
            out.push_lenient(j, t);
            j += 1;
        }
        Ok(Some(out))
    }
}

impl Tasks {
    /// Adds `tasks[j]` as the lenient reader found it.
    pub(crate) fn push_lenient(&mut self, j: usize, t: Json<RawTask<'_>>) {
        let raw = match t {
            Json::Value(t) => t,
            Json::Absent => RawTask::default(),
            Json::Wrong(found) => {
                self.issues.push((j, TaskIssue::Wrong(found)));
                return;
            }
        };
        if let Err(e) = raw.check() {
            self.issues
                .push((j, TaskIssue::Malformed(owned(raw.id), e)));
            return;
        }
        self.push(j, task_parts(raw));
    }

    /// Adds `tasks[j]`, type-checked.
    pub(crate) fn push(&mut self, j: usize, parts: TaskParts<'_>) {
        let mut skips = Vec::new();
        self.tasks.push(finish_task(parts, &mut skips));
        if !skips.is_empty() {
            self.issues.push((j, TaskIssue::Skips(skips)));
        }
    }
}

json_object!(RawTask {
    checked {
        "id" => id: Text<'de>,
        "name" => name: Text<'de>,
        "slave_id" => slave_id: Text<'de>,
        "state" => state: Text<'de>,
        "resources" => resources: RawResources<'de>,
        "statuses" => statuses: Vec<Json<RawStatus<'de>>>,
        "discovery" => discovery: RawDiscovery<'de>,
    }
    unchecked {}
});

json_object!(RawResources {
    checked { "ports" => ports: Text<'de> }
    unchecked {}
});

json_object!(RawStatus {
    checked {
        "state" => state: Text<'de>,
        "timestamp" => timestamp: f64,
        "labels" => labels: Vec<Json<RawLabel<'de>>>,
        "container_status" => container_status: RawContainerStatus<'de>,
    }
    unchecked {}
});

json_object!(RawLabel {
    checked { "key" => key: Text<'de>, "value" => value: Text<'de> }
    unchecked {}
});

json_object!(RawContainerStatus {
    checked { "network_infos" => network_infos: Vec<Json<RawNetworkInfo<'de>>> }
    unchecked {}
});

json_object!(RawNetworkInfo {
    checked {
        "ip_addresses" => ip_addresses: Vec<Json<RawIpAddress<'de>>>,
        "ip_address" => ip_address: Text<'de>,
    }
    unchecked {}
});

json_object!(RawIpAddress {
    checked { "ip_address" => ip_address: Text<'de> }
    unchecked {}
});

json_object!(RawDiscovery {
    checked { "name" => name: Text<'de>, "ports" => ports: RawDiscoveryPorts<'de> }
    unchecked {}
});

json_object!(RawDiscoveryPorts {
    checked { "ports" => ports: Vec<Json<RawDiscoveryPort<'de>>> }
    unchecked {}
});

json_object!(RawDiscoveryPort {
    checked { "number" => number: i64, "protocol" => protocol: Text<'de>, "name" => name: Text<'de> }
    unchecked {}
});
