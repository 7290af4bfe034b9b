//! The JSON shape of the state as read: lenient objects (see
//! [`crate::lenient`]) whose strings borrow from the body, and the task
//! list that reads each task as soon as it is parsed.

use super::{owned, read_task, Task};
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
/// parsed: no list of raw tasks is built and copied as it grows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tasks(pub(crate) Vec<ReadTask>);

// Nearly every entry is a task: boxing it would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ReadTask {
    /// A task, and what was left out of it (not logged yet).
    Ok(Task, Vec<Skip>),
    /// Not an object: the JSON type found.
    Wrong(&'static str),
    /// A field of the wrong type: the task id and the error.
    Malformed(String, String),
}

impl<'de> Shape<'de> for Tasks {
    fn from_seq<A: serde::de::SeqAccess<'de>>(
        mut seq: A,
    ) -> Result<Option<Self>, A::Error> {
        let mut out = Vec::new();
        while let Some(t) = seq.next_element::<Json<RawTask<'de>>>()? {
            out.push(match t {
                Json::Value(t) => ReadTask::new(t),
                Json::Absent => ReadTask::new(RawTask::default()),
                Json::Wrong(found) => ReadTask::Wrong(found),
            });
        }
        Ok(Some(Tasks(out)))
    }
}

impl ReadTask {
    fn new(raw: RawTask<'_>) -> ReadTask {
        if let Err(e) = raw.check() {
            return ReadTask::Malformed(owned(raw.id), e);
        }
        let mut skips = Vec::new();
        let task = read_task(raw, &mut skips);
        ReadTask::Ok(task, skips)
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
