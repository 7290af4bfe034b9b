//! Mesos master state to mesos-dns records, and the blocking state poller.
//!
//! (Essay in progress.)
#![warn(missing_docs)]

pub mod canonical;
pub mod generate;
pub mod host;
pub mod label;
mod leader_records;
mod lenient;
pub mod record;
pub mod skip;
pub mod state;
mod store;
pub mod task_ip;
mod task_records;

// State fetching and leader detection (records-fetch).
mod detector;
pub mod fetch;
pub mod iam;
pub mod master;
pub mod poller;
pub mod zookeeper;

// The v1 operator API event stream (events).
pub mod event;
pub mod recordio;
pub mod stream;

pub use generate::{generate, GenConfig, Generated, IpSource};
pub use host::{LocalAddrs, Resolver};
pub use label::LabelSpec;
pub use record::{EnumFramework, EnumRecord, EnumTask, Enumeration, RecordSet, Srv};
pub use skip::{Skip, SkipReason};
pub use state::{State, StateError};
pub use store::{is_valid_name, MAX_NAME_LEN};
