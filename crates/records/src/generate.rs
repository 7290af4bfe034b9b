//! Record generation: a pure function from state and config to a record set.

use crate::record::RecordSet;
use crate::state::State;

/// Where task IPs come from (config `IPSources`, spec 4.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpSource {
    /// The slave's IPs.
    Host,
    /// `MesosContainerizer.NetworkSettings.IPAddress` labels.
    Mesos,
    /// `Docker.NetworkSettings.IPAddress` labels.
    Docker,
    /// `container_status.network_infos`.
    Netinfo,
}

/// The config keys generation depends on.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// `Domain`, lowercase, without a trailing dot (`mesos`).
    pub domain: String,
    /// `IPSources` in priority order.
    pub ip_sources: Vec<IpSource>,
    /// `EnforceRFC952`.
    pub enforce_rfc952: bool,
    /// `SOAMname`, normalized with one trailing dot (`ns1.mesos.`).
    pub soa_mname: String,
    /// `Listener`, as configured (`0.0.0.0`, `127.0.0.1` or an IP).
    pub listener: String,
}

/// What one generation produced.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// The records.
    pub records: RecordSet,
}

/// Generates the records for `state`. `masters` is the current master list
/// (spec 3.2), leader first when known.
pub fn generate(state: &State, cfg: &GenConfig, masters: &[String]) -> Generated {
    let _ = (state, cfg, masters);
    Generated::default()
}
