//! What a task's records are made from besides the task: its framework's
//! name and name ends, the slaves, and the config. The store keeps no
//! task's records (they were a sixth of its memory): it makes them again
//! from these whenever it needs them, to take them out or to build the
//! whole record set, and these change only through the store, which
//! takes a task's records out before changing what they are made from.

use std::collections::HashMap;
use std::sync::Arc;

use super::collect::Collect;
use super::values::{Rec, Text, Values};
use crate::label::LabelSpec;
use crate::state::Task;
use crate::store::Sink;
use crate::task_ip::IpSource;
use crate::task_records::{
    one_task, FwSuffixes, SharedNames, Slaves, TaskExtras, TaskOpts,
};

/// Shared with every view (each field is replaced or copied on write).
#[derive(Clone, Debug)]
pub(crate) struct Inputs {
    pub(crate) ip_sources: Arc<[IpSource]>,
    pub(crate) spec: LabelSpec,
    /// Slaves by id (later duplicates win).
    pub(crate) slaves: Arc<Slaves>,
    /// Name and name ends by framework key.
    pub(crate) suffixes: Arc<HashMap<Text, (String, FwSuffixes)>>,
}

impl Inputs {
    /// The records of `task` under framework `fw`, or `None` when it makes
    /// none (framework or slave unknown, not running). With `share`, names
    /// known to `values` share its text (records to be kept).
    pub(crate) fn task_records(
        &self,
        values: &Values,
        share: bool,
        fw: &str,
        task: &Task,
    ) -> Option<Vec<Rec>> {
        let mut c = match share {
            true => Collect::new(values, false),
            false => Collect::unshared(values),
        };
        self.make(&mut c, fw, task, |_| {}).then_some(c.recs)
    }

    /// Writes the records of `task` under framework `fw` to `sink`, after
    /// `listed` when it makes some; true when it does.
    pub(crate) fn make<S: Sink>(
        &self,
        sink: &mut S,
        fw: &str,
        task: &Task,
        listed: impl FnOnce(&mut S),
    ) -> bool {
        let Some((name, sfx)) = self.suffixes.get(fw) else {
            return false;
        };
        let opts = TaskOpts {
            ip_sources: &self.ip_sources,
            spec: self.spec,
            label_policy: false,
            health_filter: false,
            explain: false,
        };
        one_task(
            sink,
            &mut SharedNames::default(),
            &mut TaskExtras::default(),
            &opts,
            (name, sfx),
            (task, 0),
            &self.slaves,
            listed,
        )
    }
}
