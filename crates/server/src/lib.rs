//! The `mesos-dns` server: config and flags, the DNS workers, the forwarder
//! and the HTTP API.
//!
//! (Architecture essay: to be written as the modules land.)

// Config, flags, logging and the `run` wiring.
pub mod cli;
pub mod config;
pub mod error;
pub mod logger;
pub mod run;

// DNS serving: the answer table and the workers around it.
pub mod table;
pub mod answer;
pub mod dns_config;
pub mod socket;
pub mod stats;
mod template;
mod forward;
pub mod serve;
mod tcp;
mod worker;

// The HTTP API and metrics.
pub mod http;

/// The version `-version` and `/v1/version` print: `MESOS_DNS_VERSION` at
/// build time (release builds set it from `git describe`), else the crate
/// version.
pub const VERSION: &str = match option_env!("MESOS_DNS_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};
