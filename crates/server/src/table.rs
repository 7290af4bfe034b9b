//! The answer table: precompiled responses per (name, qtype), swapped
//! atomically whenever the poller publishes a new record set.

use std::sync::Arc;

use mesos_records::RecordSet;

/// One immutable generation of everything the server answers from.
#[derive(Debug, Default)]
pub struct Table {
    records: Arc<RecordSet>,
    serial: u32,
    loaded: bool,
}

impl Table {
    /// The record set this table was compiled from (the HTTP API reads it).
    pub fn records(&self) -> &RecordSet {
        &self.records
    }

    /// The SOA serial of this generation.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// False for the empty table served before the first state load.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }
}
