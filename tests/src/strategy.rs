//! Strategies for arbitrary states and generation configs, shared by the
//! property tests of record generation and of serving its names: odd
//! task, framework and DiscoveryInfo names, slave ids with dots, long
//! names, every config variant.

use std::net::IpAddr;

use mesos_records::state::{
    Discovery, DiscoveryPort, Framework, Pid, Slave, StatusIps, Task,
};
use mesos_records::{GenConfig, IpSource, LocalAddrs, Resolver, State};
use proptest::prelude::*;

/// Text that exercises the label rules: ASCII soup, dots, long runs,
/// unicode, and the empty string.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._ -]{0,12}",
        "[a-z0-9]{50,70}",
        "[a-z]{1,20}(\\.[a-z]{0,70}){0,4}",
        "\\PC{0,30}",
        "[a-z!@é*]{1,8}(\\.[A-Za-z!@é]{0,8}){0,2}",
        "[a-z]{55,64}",
        Just(String::new()),
        Just("-".repeat(70)),
    ]
}

pub fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
        any::<[u8; 4]>()
            .prop_map(|b| IpAddr::V6(std::net::Ipv4Addr::from(b).to_ipv6_mapped())),
    ]
}

pub fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        ip().prop_map(|i| i.to_string()),
        Just("localhost".to_owned()),
        Just("agent.example".to_owned()),
        text(),
    ]
}

pub fn slave_id() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..4).prop_map(|i| format!("20200101-000000-1-5050-1-S{i}")),
        text(),
    ]
}

pub fn task() -> impl Strategy<Value = Task> {
    let status = (
        prop::collection::vec(ip(), 0..3),
        prop::collection::vec(ip(), 0..2),
        prop::collection::vec(ip(), 0..2),
    )
        .prop_map(|(netinfo, docker, mesos)| {
            StatusIps::new(mesos, docker, netinfo, None)
        });
    let di_port = (any::<u16>(), text(), text()).prop_map(|(number, protocol, name)| {
        DiscoveryPort {
            number,
            protocol,
            name,
        }
    });
    let discovery = (text(), prop::collection::vec(di_port, 0..3))
        .prop_map(|(name, ports)| Box::new(Discovery { name, ports }));
    (
        text(),
        text(),
        slave_id(),
        prop_oneof![4 => Just("TASK_RUNNING".to_owned()), 1 => text()],
        prop::collection::vec(any::<u16>(), 0..3),
        prop::option::of(status),
        prop::option::of(discovery),
    )
        .prop_map(
            |(id, name, slave_id, state, ports, running_status, discovery)| Task {
                id: id.into(),
                name: name.into(),
                slave_id: slave_id.into(),
                state: state.as_str().into(),
                ports: ports.into(),
                running_status,
                discovery,
                labels: Box::default(),
            },
        )
}

pub fn state() -> impl Strategy<Value = (State, Vec<String>)> {
    let slave = (slave_id(), host(), any::<u16>()).prop_map(|(id, host, port)| Slave {
        id,
        pid: Pid { host, port },
    });
    let framework = (
        text(),
        host(),
        prop::option::of(
            (host(), any::<u16>()).prop_map(|(host, port)| Pid { host, port }),
        ),
        any::<bool>(),
        prop::collection::vec(task(), 0..5),
    )
        .prop_map(|(name, hostname, pid, bad_pid, tasks)| Framework {
            name,
            hostname,
            pid,
            bad_pid,
            tasks,
        });
    let leader = prop_oneof![
        (host(), any::<u16>()).prop_map(|(h, p)| format!("master@{h}:{p}")),
        ip().prop_map(|i| format!("master@[{i}]:5050")),
        text(),
    ];
    let masters = prop::collection::vec(
        prop_oneof![
            (ip(), any::<u16>()).prop_map(|(i, p)| match i {
                IpAddr::V4(v4) => format!("{v4}:{p}"),
                IpAddr::V6(v6) => format!("[{v6}]:{p}"),
            }),
            text(),
        ],
        0..4,
    );
    (
        leader,
        prop::collection::vec(slave, 0..4),
        prop::collection::vec(framework, 0..4),
        masters,
    )
        .prop_map(|(leader, slaves, frameworks, masters)| {
            (
                State {
                    leader,
                    frameworks,
                    slaves,
                    skips: Vec::new(),
                },
                masters,
            )
        })
}

pub fn config() -> impl Strategy<Value = GenConfig> {
    (
        "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,3}",
        any::<bool>(),
        prop::sample::subsequence(
            vec![
                IpSource::Netinfo,
                IpSource::Docker,
                IpSource::Mesos,
                IpSource::Host,
            ],
            0..=4,
        ),
        // The config makes SOAMname absolute (BEHAVIOUR.md 2.3).
        prop_oneof![
            Just("ns1.mesos.".to_owned()),
            text().prop_map(|t| format!("{t}.")),
        ],
        prop_oneof![
            Just("0.0.0.0".to_owned()),
            Just("127.0.0.1".to_owned()),
            ip().prop_map(|i| i.to_string()),
            text()
        ],
    )
        .prop_map(
            |(domain, rfc952, ip_sources, soa_mname, listener)| GenConfig {
                domain,
                ip_sources,
                enforce_rfc952: rfc952,
                soa_mname,
                listener,
                enumeration: true,
                resolver: Resolver::from_fn(|h| match h {
                    "localhost" => Ok(vec!["127.0.0.1".parse().unwrap()]),
                    "agent.example" => Ok(vec![
                        "10.9.9.9".parse().unwrap(),
                        "fd00::9".parse().unwrap(),
                    ]),
                    _ => Err(format!("{h}: no such host")),
                }),
                local_addrs: LocalAddrs::fixed(&["192.0.2.1".parse().unwrap()]),
                ..GenConfig::default()
            },
        )
}
