//! Task IPs from the configured `IPSources` (BEHAVIOUR.md 4.8, HEAD semantics):
//! the sources are tried in order and the result is every valid IP of the
//! first source that yields at least one. `mesos`, `docker` and `netinfo`
//! read only the latest `TASK_RUNNING` status ([`crate::state::Task::running_status`]);
//! `host` is the slave's IPs.

use std::net::IpAddr;

use crate::state::StatusIps;

/// Where task IPs come from (config `IPSources`, BEHAVIOUR.md 4.8).
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

impl IpSource {
    /// The mesos-dns default: `netinfo`, `mesos`, `host`.
    pub const DEFAULT: [IpSource; 3] =
        [IpSource::Netinfo, IpSource::Mesos, IpSource::Host];

    /// Parses a config name (`host`, `mesos`, `docker`, `netinfo`).
    pub fn from_name(name: &str) -> Option<IpSource> {
        match name {
            "host" => Some(IpSource::Host),
            "mesos" => Some(IpSource::Mesos),
            "docker" => Some(IpSource::Docker),
            "netinfo" => Some(IpSource::Netinfo),
            _ => None,
        }
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            IpSource::Host => "host",
            IpSource::Mesos => "mesos",
            IpSource::Docker => "docker",
            IpSource::Netinfo => "netinfo",
        }
    }
}

/// `Task.IPs`: the IPs of the first source in `sources` that has any.
pub fn task_ips<'a>(
    sources: &[IpSource],
    status: Option<&'a StatusIps>,
    slave_ips: &'a [IpAddr],
) -> &'a [IpAddr] {
    task_ip_source(sources, status, slave_ips).1
}

/// [`task_ips`] and the source that gave them (`None` when none did).
pub fn task_ip_source<'a>(
    sources: &[IpSource],
    status: Option<&'a StatusIps>,
    slave_ips: &'a [IpAddr],
) -> (Option<IpSource>, &'a [IpAddr]) {
    for &src in sources {
        let ips: &[IpAddr] = match (src, status) {
            (IpSource::Host, _) => slave_ips,
            (IpSource::Mesos, Some(s)) => s.mesos(),
            (IpSource::Docker, Some(s)) => s.docker(),
            (IpSource::Netinfo, Some(s)) => s.netinfo(),
            (_, None) => &[],
        };
        if !ips.is_empty() {
            return (Some(src), ips);
        }
    }
    (None, &[])
}

#[cfg(test)]
mod tests {
    use super::IpSource::*;
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn status(netinfo: &[&str], docker: &[&str], mesos: &[&str]) -> StatusIps {
        StatusIps::new(ips(mesos), ips(docker), ips(netinfo), None)
    }

    // state_test.go TestTask_IPs, the source-order half.
    #[test]
    fn first_populated_source_wins() {
        let slave = ips(&["2.3.4.5"]);
        let st = status(&["1.2.3.4", "fd01:b::1:8000:2"], &[], &[]);
        assert_eq!(task_ips(&[], Some(&st), &slave), &[] as &[IpAddr]);
        assert_eq!(task_ips(&[Host, Netinfo], Some(&st), &slave), &slave[..]);
        assert_eq!(
            task_ips(&[Netinfo, Host], Some(&st), &slave),
            &ips(&["1.2.3.4", "fd01:b::1:8000:2"])[..]
        );
        assert_eq!(task_ips(&[Host, Mesos], Some(&st), &[]), &[] as &[IpAddr]);
        let st = status(&["1.3.5.7"], &["2.4.6.8"], &["10.3.0.3"]);
        assert_eq!(
            task_ips(&[Docker, Netinfo], Some(&st), &slave),
            &ips(&["2.4.6.8"])[..]
        );
        assert_eq!(
            task_ips(&[Mesos], Some(&st), &slave),
            &ips(&["10.3.0.3"])[..]
        );
        assert_eq!(task_ips(&[Netinfo], None, &slave), &[] as &[IpAddr]);
        assert_eq!(task_ips(&[Docker, Host], None, &slave), &slave[..]);
    }

    #[test]
    fn names() {
        assert_eq!(IpSource::from_name("netinfo"), Some(Netinfo));
        assert_eq!(IpSource::from_name("docker"), Some(Docker));
        assert_eq!(IpSource::from_name("mesos"), Some(Mesos));
        assert_eq!(IpSource::from_name("host"), Some(Host));
        assert_eq!(IpSource::from_name("rkt"), None);
    }
}
