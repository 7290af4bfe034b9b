//! Where mesos-dns's state comes from.
//!
//! This crate finds the leading Mesos master, reads its state and hands
//! each new [`RecordSet`](mesos_records::RecordSet) to a callback (the
//! server swaps it in). It holds every piece of network code on the state
//! side:
//!
//! - [`master`]: the master specs mesos-dns accepts (`Masters`, `Zk`) and
//!   the `MasterInfo` nodes Mesos writes to ZooKeeper;
//! - [`zookeeper`] and the detector: a minimal ZooKeeper client and the
//!   thread that keeps the master list `[leader, others...]` current;
//! - [`fetch`] with [`iam`]: `/master/state` over HTTP(S), TLS, Basic and
//!   DC/OS IAM authentication, the total deadline and the body cap;
//! - [`poller`]: the blocking poll loop (fetch, generate, publish; backoff;
//!   keep the last good records), and the handle that starts and stops
//!   every thread of this crate;
//! - [`stream`] with [`recordio`] and [`event`]: the v1 operator API event
//!   stream, its RecordIO framing and its events, kept honest by a periodic
//!   reconcile against `/master/state`;
//! - [`source`] says what to read ([`Source`], [`PollerConfig`]) and
//!   [`status`] what happened ([`PollerStatus`], for metrics and
//!   readiness). Both loops take the master list and the
//!   `ZkDetectionTimeout` check from one shared module, so they agree.
//!
//! What it does not do: read a state body or make records. Both loops hand
//! the bytes they fetch to [`mesos_records::State::parse`] and the parsed
//! state to [`mesos_records::generate()`], so this crate decides *when* and
//! *from where*, and `mesos-records` decides *what* (it depends on no
//! network code). Nothing here answers DNS or serves HTTP: that is the
//! server's job.
#![warn(missing_docs)]

// Configuration in, status out, and what the loops share.
mod error;
mod shared;
pub mod source;
pub mod status;

// Finding the leader.
mod detector;
pub mod master;
pub mod zookeeper;

// Reading the state: one fetch, the poll loop, the event stream.
pub mod event;
pub mod fetch;
pub mod iam;
pub mod poller;
pub mod recordio;
pub mod stream;
pub mod update;

#[cfg(test)]
mod test_config;

pub use error::FetchError;
pub use source::{EventSource, PollerConfig, Source};
pub use status::{EventStatus, PollerStatus};
pub use update::Update;
