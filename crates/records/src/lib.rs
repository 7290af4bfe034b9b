//! Mesos master state to mesos-dns records, and the blocking state poller.
//!
//! (The crate essay is written by the modules' owners: the naming scheme as a
//! small specification, each rule cross-referenced to its test.)
#![warn(missing_docs)]

pub mod generate;
pub mod record;
pub mod state;

// State fetching and leader detection (records-fetch).
mod detector;
pub mod fetch;
pub mod iam;
pub mod master;
pub mod poller;
pub mod zookeeper;

pub use generate::{generate, GenConfig, Generated, IpSource};
pub use record::{EnumFramework, EnumRecord, EnumTask, Enumeration, RecordSet, Srv};
pub use state::{State, StateError};
