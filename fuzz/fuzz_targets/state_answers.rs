//! A Mesos state through the whole pipeline: generation, a full table
//! compile, a patch to a second state, and the answers, checked with
//! hickory-proto as an independent decoder.
//!
//! The input describes a cluster (frameworks, agents and tasks with names,
//! addresses, ports and states drawn from small pools that include edge
//! cases) and a list of changes; both are written as `/master/state`
//! bodies and go through `State::parse` and `generate`. State A is compiled,
//! then B is patched from it (`Table::recompile`, or a full compile when
//! the patch gives up) and also compiled in full. For every name of B (and
//! every name A had), A, AAAA, SRV and ANY queries over TCP must give a
//! reply that hickory decodes, with the query's ID, NOERROR for a name of
//! B (NXDOMAIN or an empty NOERROR otherwise), and exactly B's records:
//! the same addresses, SRV targets and ports, the configured TTL and SRV
//! weight, owners equal to the name. The patched table answers as the full
//! compile does, record for record.
#![no_main]

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use libfuzzer_sys::fuzz_target;
use mesos_dns::answer::{answer, Answer, Transport};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::table::Table;
use mesos_records::{generate, GenConfig, LocalAddrs, RecordSet, Resolver, State};
use serde_json::{json, Value};

const FRAMEWORKS: [&str; 3] = ["marathon", "chronos", "Spark A"];
const NAMES: [&str; 16] = [
    "web",
    "Web",
    "api",
    "a.b",
    "x-y",
    "_x",
    "",
    "nginx",
    "db",
    "web-0",
    "1abc",
    "--",
    "a_b",
    "ünï",
    "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
    "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm",
];
const AGENTS: usize = 4;
// Small clusters: a patch bug shows with a few names, and a cheap
// execution lets a run reach millions of them (each one generates two
// states, compiles two tables, patches one and decodes every answer).
const MAX_TASKS: usize = 12;
const MAX_CHANGES: usize = 12;
/// Names checked per execution: from a point the input picks, so every
/// name of a state can be reached.
const MAX_NAMES: usize = 12;

#[derive(Clone, Debug)]
struct Task {
    id: u32,
    framework: usize,
    name: usize,
    agent: usize,
    running: bool,
    discovery: bool,
    v6: bool,
    netinfo: bool,
    ip: u8,
    ports: u8,
}

impl Task {
    fn from_bytes(id: u32, b: [u8; 4]) -> Task {
        Task {
            id,
            framework: usize::from(b[0] & 0x3) % FRAMEWORKS.len(),
            running: b[0] & 0x80 == 0,
            discovery: b[0] & 0x40 != 0,
            name: usize::from(b[1]) % NAMES.len(),
            agent: usize::from(b[2] & 0x3) % AGENTS,
            v6: b[2] & 0x80 != 0,
            netinfo: b[2] & 0x40 == 0,
            ip: b[3],
            ports: b[0] >> 2 & 0x7,
        }
    }

    fn json(&self) -> Value {
        let ip = if self.v6 {
            Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(self.ip)).to_string()
        } else {
            Ipv4Addr::new(172, 17, 0, self.ip).to_string()
        };
        let state = if self.running {
            "TASK_RUNNING"
        } else {
            "TASK_STAGING"
        };
        let mut status = json!({"state": state, "timestamp": 1.0});
        if self.netinfo {
            status["container_status"] =
                json!({"network_infos": [{"ip_addresses": [{"ip_address": ip}]}]});
        }
        let base = 31000 + u16::from(self.ports);
        let ports = match self.ports {
            0 => Value::Null,
            1 => json!(format!("[{base}-{base}]")),
            n => json!(format!("[{base}-{}, 32000-32000]", base + u16::from(n))),
        };
        let mut t = json!({
            "id": format!("t{}", self.id),
            "name": NAMES[self.name],
            "framework_id": format!("F{}", self.framework),
            "slave_id": format!("S{}", self.agent),
            "state": state,
            "statuses": [status],
            "resources": {"ports": ports},
        });
        if self.discovery {
            t["discovery"] = json!({
                "name": NAMES[(self.name + 3) % NAMES.len()],
                "ports": {"ports": [{"number": 80, "protocol": "tcp", "name": "http"},
                                    {"number": 53, "protocol": "udp"}]},
            });
        }
        t
    }
}

fn state_body(tasks: &[Task]) -> Vec<u8> {
    let slaves: Vec<Value> = (0..AGENTS)
        .map(|i| {
            json!({"id": format!("S{i}"), "hostname": format!("10.0.0.{}", i + 1),
                   "pid": format!("slave(1)@10.0.0.{}:5051", i + 1)})
        })
        .collect();
    let frameworks: Vec<Value> = FRAMEWORKS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let tasks: Vec<Value> = tasks
                .iter()
                .filter(|t| t.framework == i)
                .map(Task::json)
                .collect();
            json!({"id": format!("F{i}"), "name": name, "hostname": "10.0.0.9",
                   "pid": format!("scheduler-{i}@10.0.0.9:{}", 8080 + i), "tasks": tasks})
        })
        .collect();
    serde_json::to_vec(&json!({
        "leader": "master@10.0.0.100:5050",
        "slaves": slaves,
        "frameworks": frameworks,
    }))
    .expect("serializes")
}

fn gen_config() -> &'static GenConfig {
    static CFG: OnceLock<GenConfig> = OnceLock::new();
    CFG.get_or_init(|| GenConfig {
        listener: "0.0.0.0".to_owned(),
        resolver: Resolver::from_fn(|h| Err(format!("{h}: not resolved while fuzzing"))),
        local_addrs: LocalAddrs::fixed(&["192.0.2.1".parse().unwrap()]),
        ..GenConfig::default()
    })
}

fn records(tasks: &[Task]) -> RecordSet {
    let state = State::parse(&state_body(tasks)).expect("a generated state parses");
    let masters = vec!["10.0.0.100:5050".to_owned()];
    generate(&state, gen_config(), &masters).records
}

/// A query for `name` (text with a trailing dot) and `qtype`, or `None`
/// for a name that is not one on the wire.
fn query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(12 + name.len() + 6);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| (1..64).contains(l))?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    Some(q)
}

/// A decoded name as text with a trailing dot, lowercase, unescaped
/// (hickory's `to_ascii` escapes a leading `-`).
fn text(n: &hickory_proto::rr::Name) -> String {
    let mut s = String::new();
    for label in n.iter() {
        s.push_str(&String::from_utf8_lossy(label).to_lowercase());
        s.push('.');
    }
    s
}

/// The answer of `table`, decoded by hickory.
fn ask(table: &Table, q: &[u8], out: &mut [u8]) -> Message {
    let n = match answer(table, q, out, Transport::Tcp) {
        Answer::Reply(n) => n,
        other => panic!("a name in the domain is answered, not {other:?}"),
    };
    let m = Message::from_vec(&out[..n]).expect("hickory decodes our reply");
    assert_eq!(m.metadata.id.to_be_bytes(), q[..2]);
    m
}

/// What a reply says, in a form that does not depend on the order of its
/// values (they are shuffled per answer): the rcode, the section sizes,
/// and the A, AAAA and SRV data of the answers and of the additional
/// section (names lowercase).
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    rcode: ResponseCode,
    counts: [usize; 3],
    answers: Data,
    additionals: Data,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Data {
    a: BTreeSet<(String, Ipv4Addr)>,
    aaaa: BTreeSet<(String, Ipv6Addr)>,
    srv: BTreeSet<(String, String, u16, u16)>,
    other: usize,
}

fn data(rs: &[hickory_proto::rr::Record]) -> Data {
    let mut d = Data::default();
    for r in rs {
        let owner = text(&r.name);
        match &r.data {
            RData::A(ip) => {
                d.a.insert((owner, ip.0));
            }
            RData::AAAA(ip) => {
                d.aaaa.insert((owner, ip.0));
            }
            RData::SRV(s) => {
                d.srv.insert((owner, text(&s.target), s.port, s.weight));
            }
            _ => d.other += 1,
        }
    }
    d
}

fn summary(m: &Message) -> Summary {
    Summary {
        rcode: m.metadata.response_code,
        counts: [m.answers.len(), m.authorities.len(), m.additionals.len()],
        answers: data(&m.answers),
        additionals: data(&m.additionals),
    }
}

/// The name of B whose records a query for `name` gets: keys are
/// lowercase (RFC 4343), and of the spellings of one key the one without
/// capitals holds it, else the first in byte order (mesos-dns lowercases
/// questions, so it only ever answers the first).
fn holder<'b>(b: &'b RecordSet, name: &str) -> Option<&'b str> {
    let mut spellings = b
        .names()
        .filter(|n| n.eq_ignore_ascii_case(name) && b.has_name(n));
    let first = spellings.next()?;
    let lower = std::iter::once(first)
        .chain(spellings)
        .find(|n| !n.bytes().any(|c| c.is_ascii_uppercase()));
    Some(lower.unwrap_or(first))
}

fn check_name(
    b: &RecordSet,
    patched: &Table,
    full: &Table,
    cfg: &DnsConfig,
    name: &str,
    out: &mut [u8],
    out_full: &mut [u8],
) {
    for (i, qtype) in [1u16, 28, 33, 255].into_iter().enumerate() {
        let Some(q) = query(0x4d00 + i as u16, name, qtype) else {
            return;
        };
        let m = ask(patched, &q, out);
        let f = ask(full, &q, out_full);
        assert_eq!(
            summary(&m),
            summary(&f),
            "patched and full differ for {name} {qtype}"
        );
        assert!(!m.metadata.truncation, "TC over TCP for {name}");
        let Some(holder) = holder(b, name) else {
            if m.metadata.response_code == ResponseCode::NoError {
                assert!(m.answers.is_empty(), "{name} is not in B: {m:?}");
            } else {
                assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
            }
            continue;
        };
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{name}");
        let mut a = BTreeSet::new();
        let mut aaaa = BTreeSet::new();
        let mut srv = BTreeSet::new();
        for r in &m.answers {
            assert_eq!(r.ttl, cfg.ttl);
            if r.record_type() == RecordType::SOA || r.record_type() == RecordType::NS {
                continue; // ANY at the apex
            }
            assert_eq!(text(&r.name), name.to_lowercase());
            match &r.data {
                RData::A(ip) => {
                    a.insert(ip.0);
                }
                RData::AAAA(ip) => {
                    aaaa.insert(ip.0);
                }
                RData::SRV(s) => {
                    assert_eq!(s.weight, cfg.srv_weight);
                    srv.insert((text(&s.target), s.port));
                }
                other => panic!("unexpected {other:?} for {name}"),
            }
        }
        let want_a: BTreeSet<Ipv4Addr> =
            b.a(holder).unwrap_or_default().iter().copied().collect();
        let want_aaaa: BTreeSet<Ipv6Addr> =
            b.aaaa(holder).unwrap_or_default().iter().copied().collect();
        let want_srv: BTreeSet<(String, u16)> = b
            .srv(holder)
            .map(|s| {
                s.iter()
                    .map(|v| (v.target.to_lowercase(), v.port))
                    .collect()
            })
            .unwrap_or_default();
        let empty = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let (wa, wq, ws) = match qtype {
            1 => (want_a, empty.1, empty.2),
            28 => (empty.0, want_aaaa, empty.2),
            33 => (empty.0, empty.1, want_srv),
            _ => (want_a, want_aaaa, want_srv),
        };
        assert_eq!(a, wa, "A of {name}");
        assert_eq!(aaaa, wq, "AAAA of {name}");
        assert_eq!(srv, ws, "SRV of {name}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = (usize::from(n) % (MAX_TASKS + 1)).min(rest.len() / 4);
    let (specs, changes) = rest.split_at(n * 4);
    let a: Vec<Task> = specs
        .chunks_exact(4)
        .zip(0..)
        .map(|(c, id)| Task::from_bytes(id, [c[0], c[1], c[2], c[3]]))
        .collect();
    let mut b = a.clone();
    let mut next_id = a.len() as u32;
    for c in changes.chunks_exact(2).take(MAX_CHANGES) {
        let (kind, arg) = (c[0], c[1]);
        let at = usize::from(arg) % b.len().max(1);
        match kind % 4 {
            0 if !b.is_empty() => {
                b.remove(at);
            }
            1 if !b.is_empty() => b[at].ip = kind ^ arg,
            3 if !b.is_empty() => b[at].running = !b[at].running,
            _ => {
                b.push(Task::from_bytes(
                    next_id,
                    [kind >> 2, arg, arg.rotate_left(3), kind ^ arg],
                ));
                next_id += 1;
            }
        }
    }
    let ra = records(&a);
    let rb = records(&b);
    let cfg = DnsConfig::default();
    let ta = Table::compile(Arc::new(ra.clone()), &cfg, 1);
    let (patched, _) = ta.recompile(Arc::new(rb.clone()), &cfg, 2);
    let full = Table::compile(Arc::new(rb.clone()), &cfg, 2);
    let names: BTreeSet<&str> = rb.names().chain(ra.names()).collect();
    let pick = data.last().copied().unwrap_or_default();
    let skip = usize::from(pick) % names.len().max(1);
    let (mut out, mut out_full) = (vec![0u8; 65_535], vec![0u8; 65_535]);
    for name in names.iter().cycle().skip(skip).take(MAX_NAMES.min(names.len())) {
        check_name(&rb, &patched, &full, &cfg, name, &mut out, &mut out_full);
    }
});
