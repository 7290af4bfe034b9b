//! Record generation from state files, through the crate's public API:
//! golden files for every case in `tests/data`, and the reference state's
//! records (BEHAVIOUR.md 8.3). One binary; its modules share the fixtures
//! below.

mod golden;
mod policy;
mod reference;

use std::net::IpAddr;
use std::path::PathBuf;

use mesos_records::{GenConfig, IpSource, LocalAddrs, Resolver, State};

/// `tests/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Parses `tests/data/state/<name>.json`.
pub fn state(name: &str) -> State {
    let body = std::fs::read(data(&format!("state/{name}.json"))).unwrap();
    State::parse(&body).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The fake system resolver used by every fixture: `localhost` is
/// 127.0.0.1 only (as observed for mesos-dns on the reference state), a few
/// agent names have addresses, everything else fails.
pub fn resolver() -> Resolver {
    Resolver::from_fn(|host| match host {
        "localhost" => Ok(vec![ip("127.0.0.1")]),
        "agent-a.example" => Ok(vec![ip("10.1.0.1"), ip("fd00::a")]),
        "agent-b.example" => Ok(vec![ip("10.1.0.2")]),
        "scheduler.example" => Ok(vec![ip("10.2.0.1")]),
        "master-1.example" => Ok(vec![ip("10.0.0.1")]),
        "master-2.example" => Ok(vec![ip("10.0.0.2")]),
        _ => Err(format!("{host}: no such host")),
    })
}

/// The config of mesos-dns's records tests (BEHAVIOUR.md 8.3): domain `mesos`,
/// listener 127.0.0.1, and the given label mode and IP sources.
pub fn config(rfc952: bool, sources: &[IpSource], soa_mname: &str) -> GenConfig {
    GenConfig {
        domain: "mesos".to_owned(),
        ip_sources: sources.to_vec(),
        enforce_rfc952: rfc952,
        soa_mname: soa_mname.to_owned(),
        listener: "127.0.0.1".to_owned(),
        enumeration: true,
        resolver: resolver(),
        local_addrs: LocalAddrs::fixed(&[ip("192.0.2.53"), ip("fe80::53")]),
        ..GenConfig::default()
    }
}
