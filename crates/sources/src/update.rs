//! What a source hands the answer table: a whole record set, or a change
//! and the records after it (issue 18).

use std::sync::Arc;

use mesos_records::delta::{Delta, View};
use mesos_records::record::RecordSet;

/// One publish. Moved once per publish, so the size of a record set
/// in place costs nothing worth a box.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Update {
    /// A whole record set, from a full generation (or the first load of
    /// the live store).
    Full(RecordSet),
    /// The change since the last update, and the records after it.
    Delta {
        /// The change: exactly the difference between the records of the
        /// last update and `view`.
        delta: Delta,
        /// The records after the change; immutable.
        view: Arc<dyn View>,
    },
}

impl Update {
    /// The whole record set after this update (built from the view for a
    /// delta: O(size)).
    pub fn into_record_set(self) -> RecordSet {
        match self {
            Update::Full(set) => set,
            Update::Delta { view, .. } => view.record_set(),
        }
    }
}
