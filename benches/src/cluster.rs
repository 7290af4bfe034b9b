//! A synthetic Mesos `/master/state` body of any size, for the benches.
//!
//! 5 frameworks, 1,000 agents, apps of 2 instances (the dnsperf harness has
//! 1 to 3, so both give about 5 names a task), 2 ports per task, one
//! `TASK_RUNNING` status with a NetworkInfo IP per task, and a
//! DiscoveryInfo with two named ports on the first framework's tasks.

use std::fmt::Write as _;

use mesos_records::{generate, GenConfig, LocalAddrs, RecordSet, Resolver, State};

const FRAMEWORKS: usize = 5;
const AGENTS: usize = 1000;
const INSTANCES: usize = 2;

/// A `/master/state` body with `tasks` running tasks.
pub fn synthetic_state(tasks: usize) -> Vec<u8> {
    let mut s = String::with_capacity(tasks * 700 + AGENTS * 200);
    s.push_str(r#"{"version":"1.11.0","leader":"master@10.0.0.1:5050","slaves":["#);
    for a in 0..AGENTS {
        if a > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"id":"3f1c7e1a-9d5b-4c4e-8a3e-0d1f2b3c4d5e-S{a}","pid":"slave(1)@10.1.{}.{}:5051","hostname":"agent-{a}","resources":{{"cpus":16.0,"mem":63000.0,"ports":"[31000-32000]"}},"active":true}}"#,
            a / 250,
            a % 250 + 1
        );
    }
    s.push_str(r#"],"frameworks":["#);
    for f in 0..FRAMEWORKS {
        if f > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"id":"fw-{f}","name":"framework-{f}","pid":"scheduler-{f}@10.0.1.{}:15101","hostname":"sched-{f}","active":true,"tasks":["#,
            f + 1
        );
        let mut first = true;
        for t in (0..tasks).filter(|t| (t / INSTANCES) % FRAMEWORKS == f) {
            if !first {
                s.push(',');
            }
            first = false;
            let app = t / INSTANCES;
            let agent = t % AGENTS;
            let port = 31000 + (t / AGENTS) * 2 % 1000;
            let _ = write!(
                s,
                r#"{{"id":"app-{app}.{t:08x}-2a3b-11eb-9a0b-0242ac110002","name":"app-{app}","framework_id":"fw-{f}","executor_id":"","slave_id":"3f1c7e1a-9d5b-4c4e-8a3e-0d1f2b3c4d5e-S{agent}","state":"TASK_RUNNING","resources":{{"cpus":0.5,"mem":512.0,"disk":0.0,"ports":"[{port}-{}]"}},"statuses":[{{"state":"TASK_RUNNING","timestamp":1605000200.{t},"container_status":{{"container_id":{{"value":"c{t}"}},"network_infos":[{{"ip_addresses":[{{"protocol":"IPv4","ip_address":"172.{}.{}.{}"}}]}}]}}}}]"#,
                port + 1,
                16 + t / 65536 % 16,
                t / 256 % 256,
                t % 256
            );
            if f == 0 {
                let _ = write!(
                    s,
                    r#","discovery":{{"visibility":"FRAMEWORK","name":"app-{app}","ports":{{"ports":[{{"number":{port},"name":"http","protocol":"tcp"}},{{"number":{},"name":"admin","protocol":"tcp"}}]}}}}"#,
                    port + 1
                );
            }
            s.push('}');
        }
        s.push_str("]}");
    }
    s.push_str("]}");
    s.into_bytes()
}

/// The generation settings of the benches: no DNS look-ups, no local
/// addresses, enumeration on (mesos-dns's default).
pub fn gen_config() -> GenConfig {
    GenConfig {
        listener: "127.0.0.1".to_owned(),
        resolver: Resolver::fixed(&[]),
        local_addrs: LocalAddrs::fixed(&[]),
        ..GenConfig::default()
    }
}

/// The masters the benches' state came from.
pub fn masters() -> Vec<String> {
    vec!["10.0.0.1:5050".to_owned()]
}

/// The record set of a synthetic cluster of `tasks` tasks.
///
/// # Panics
///
/// If the synthetic state does not parse (a bug in this module).
pub fn records(tasks: usize) -> RecordSet {
    let state = State::parse(&synthetic_state(tasks)).expect("synthetic state parses");
    generate(&state, &gen_config(), &masters()).records
}

/// This thread's on-CPU time in nanoseconds (Linux schedstat), or 0. The
/// machine may be shared, so wall time overstates the cost; CPU time is
/// what "on one core" means.
pub fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident set size in bytes (Linux), or 0.
pub fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
