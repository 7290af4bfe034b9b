//! The generation settings the unit tests share: loopback listener and
//! local address, no name resolution (so records never depend on the
//! machine running the tests).

use std::net::{IpAddr, Ipv4Addr};

use mesos_records::generate::GenConfig;
use mesos_records::host::{LocalAddrs, Resolver};

pub(crate) fn cfg() -> GenConfig {
    GenConfig {
        listener: "127.0.0.1".to_owned(),
        resolver: Resolver::fixed(&[]),
        local_addrs: LocalAddrs::fixed(&[IpAddr::V4(Ipv4Addr::LOCALHOST)]),
        ..GenConfig::default()
    }
}
