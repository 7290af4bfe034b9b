//! The `mesos-dns` server: a drop-in replacement for the Go `mesos-dns`
//! binary. It reads the same `config.json` and flags, serves the same names
//! over DNS (UDP and TCP) and the same `/v1` HTTP API, and forwards other
//! names upstream.
//!
//! # How the parts fit
//!
//! ```text
//!  argv ──cli──> Args ──config──> Config ──run──┬─> DnsConfig ──serve──> N workers (mio, SO_REUSEPORT)
//!                                               │                         │  answer(table, query)
//!                                               │                         └─ forward (names outside the domain)
//!                                               ├─> PollerConfig ──mesos_sources::poller──┐
//!                                               │      state (master, ZooKeeper or file)  │ RecordSet
//!                                               │                                         v
//!                                               │               Table::compile ──> SharedTable (ArcSwap)
//!                                               └─> ApiSettings ──http──> /v1, /metrics, /health, /ready
//! ```
//!
//! - [`cli`] parses Go-style flags; [`config`] decodes `config.json` with Go
//!   `encoding/json` semantics and runs mesos-dns's validations in order;
//!   [`logger`] prints mesos-dns's log line format; [`error`] maps failures
//!   to exit codes (1 config or runtime, 2 flags).
//! - [`run`] binds every socket first (a busy port fails at once, unless
//!   systemd passed the DNS sockets: [`socket`]), starts the DNS workers on
//!   an empty table (SERVFAIL in the domain until the first state load) or
//!   on the records of a recent state [`snapshot`], starts the poller whose callback compiles and swaps the
//!   [`table`], starts the HTTP API, and waits for SIGINT or SIGTERM,
//!   reloading `config.json` on SIGHUP ([`reload`]); both take each part's
//!   settings from the config through [`parts`].
//! - The answer path is sans-IO: [`answer`] is a pure function of the table
//!   and the query bytes, so it is unit-tested and fuzzed without sockets.
//!
//! Every deliberate difference from mesos-dns is listed in the repository's
//! `COMPATIBILITY.md`.

// Config, flags, logging and the `run` wiring.
mod calendar;
pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod guard;
pub mod logger;
pub mod parts;
pub mod reload;
pub mod run;
pub mod run_secondary;
pub mod snapshot;

// DNS serving: the answer table and the workers around it.
pub mod answer;
pub mod dns_config;
pub mod forward;
pub mod reverse;
pub mod serve;
pub mod socket;
pub mod statics;
pub mod stats;
mod sys;
pub mod table;
pub mod tcp;
mod template;
pub mod upstreams;
mod worker;
pub mod xfr;

// The HTTP API and metrics.
pub mod http;

/// The version `-version` and `/v1/version` print: `MESOS_DNS_VERSION` at
/// build time (release builds set it from `git describe`), else the crate
/// version.
pub const VERSION: &str = match option_env!("MESOS_DNS_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

/// Serves `config` in the mode it asks for: following a primary
/// (`StateSource: "secondary"`, [`run_secondary::run`]) or Mesos
/// ([`run::run`]), until SIGINT or SIGTERM.
///
/// # Errors
///
/// As the mode's own function: logged, exit 1.
pub fn run_mode(
    config: config::Config,
    signals: run::Signals,
) -> Result<(), error::ExitError> {
    match config.file.state_source == "secondary" {
        true => run_secondary::run(config, signals),
        false => run::run(config, signals),
    }
}
