//! Mesos master state to mesos-dns records.
//!
//! This crate is a drop-in for mesos-dns's `records` package (HEAD
//! `e888ef4`): for the same `/master/state` body and config it produces the
//! same names with the same values, except where mesos-dns crashes, fails
//! the whole state or emits a name no DNS message can carry (listed below).
//! Non-goals: PTR, CNAME, TXT, per-agent host names, records for
//! non-running tasks (BEHAVIOUR.md 4.12). Health filtering
//! ([`health`](GenConfig::health_filter)), per-task label policy
//! ([`policy`]) and the explain data ([`explain`]) are opt-in extensions:
//! with them off, the output is mesos-dns's.
//!
//! It is pure: bytes in ([`State::parse`]), records out ([`generate()`]).
//! It opens no socket and starts no thread; finding the leader, fetching
//! the state, the poll loop and the event stream live in the
//! `mesos-sources` crate, which calls into this one.
//!
//! ```
//! use mesos_records::{generate, GenConfig, LocalAddrs, Resolver, State};
//!
//! let body = br#"{"leader": "master@10.0.0.1:5050",
//!   "slaves": [{"id": "a-S0", "pid": "slave(1)@10.0.1.1:5051"}],
//!   "frameworks": [{"name": "marathon", "pid": "scheduler@10.0.0.2:8080",
//!     "tasks": [{"id": "test", "name": "web", "slave_id": "a-S0",
//!                "state": "TASK_RUNNING", "resources": {"ports": "[31000-31000]"}}]}]}"#;
//! let state = State::parse(body)?;
//! let cfg = GenConfig {
//!     listener: "127.0.0.1".into(),
//!     resolver: Resolver::fixed(&[]),
//!     local_addrs: LocalAddrs::fixed(&[]),
//!     ..GenConfig::default()
//! };
//! let g = generate(&state, &cfg, &["10.0.0.1:5050".to_owned()]);
//! let rs = &g.records;
//! assert!(rs.a("web-iffe9-s0.marathon.mesos.").is_some());
//! let srv = rs.srv("_web._tcp.marathon.mesos.").unwrap();
//! assert_eq!(srv.first().unwrap().target, "web-iffe9-s0.marathon.slave.mesos.");
//! assert!(g.skips.is_empty());
//! # Ok::<(), mesos_records::StateError>(())
//! ```
//!
//! # The naming scheme
//!
//! `D` is the domain. Labels come from [`LabelSpec`] (RFC 1123 by default,
//! RFC 952 with `EnforceRFC952`); `fw` is `DomainFrag` of the framework name.
//!
//! | rule (BEHAVIOUR.md) | names | test |
//! |---|---|---|
//! | labels (4.3) | mapping, left cut, `trimCut` with its trailing-`-` quirk | `label::tests::*` (every labels_test.go vector) |
//! | hash, tail (4.2) | `task-<zbase32(sha1(id))[..5]>-<slave id tail>` | `canonical::tests::hash_vectors` |
//! | frameworks (4.4) | `fw.D.` A/AAAA, `_framework._tcp.fw.D.` SRV | `generate::tests::spec_4_4_framework_records` |
//! | slaves (4.5) | `slave.D.` A/AAAA, `_slave._tcp.D.` SRV | `tests/reference.rs` |
//! | masters (4.6) | `leader.D.`, `master.D.`, `masterN.D.`, `_leader._tcp/_udp.D.` | `leader_records::tests::spec_4_6_master_record_cases` |
//! | tasks (4.7) | see [`task_records`](crate#task-records) below | `tests/generation/reference.rs`, golden files |
//! | task IPs (4.8) | first `IPSources` entry with any IP; latest `TASK_RUNNING` status | `task_ip::tests`, `state::task::tests::latest_running_status_wins` |
//! | nameserver (4.10) | `SOAMname` from `Listener` (`0.0.0.0`: `/proc` interface addresses) | `generate::tests::spec_4_10_*` |
//! | enumeration (4.11) | state order, records in insertion order, duplicates credited once | `tests/generation/reference.rs::spec_4_11_enumeration_order` |
//!
//! ## Task records
//!
//! For each `TASK_RUNNING` task on a known slave, with `t` the task label
//! (or, for a DiscoveryInfo task, first the raw DI name and then its label):
//! `t.fw.D.` and `t-h-s.fw.D.` (task IPs), `t.fw.slave.D.` and
//! `t-h-s.fw.slave.D.` (slave IPs), `_t._tcp/_udp.fw.slave.D.` and, without
//! DiscoveryInfo, `_t._tcp/_udp.fw.D.` SRVs to `t-h-s.fw.slave.D.:<port>`,
//! and for each DiscoveryInfo port `[_<name>.]_t._<proto>.fw.D.` SRVs to
//! `t-h-s.fw.D.:<number>`.
//!
//! # Scale
//!
//! A [`RecordSet`] stores every name once (owners and SRV targets, in one
//! buffer, numbered in byte order) and the values in flat arrays: an A
//! value is 4 bytes, an SRV value 8 (target number and port), and the
//! enumeration a 12-byte reference per credited record, formatted only when
//! `/v1/enumerate` is served. Building ([`RecordSetBuilder`]) appends each
//! task name and each insert to a log, with no lookup; merging equal
//! names, deduplication and sorting happen once at the end. `benches/benches/records.rs`
//! measures 100,000 tasks (1.2 million records).
//!
//! # Where we differ from mesos-dns (each listed in COMPATIBILITY.md)
//!
//! - A malformed framework, slave or task (wrong JSON type, no or bad slave
//!   `pid`, `null` pid) is skipped with a [`Skip`]; mesos-dns fails the whole
//!   state or crashes. A framework with a bad `pid` loses only its own
//!   records. A body that lists frameworks (or slaves) all of which are
//!   malformed has nothing usable and fails
//!   ([`StateError::NothingUsable`]), so the last good records stay; empty
//!   lists are a cluster with nothing running and load. Fields mesos-dns decodes but never uses are not type-checked.
//! - Port ranges without `[` or `-`, or above 65535, are skipped (mesos-dns
//!   panics or emits impossible ports); DI port numbers outside 0..=65535 too.
//! - Host names (frameworks, slaves, leader, masters) resolve through a
//!   bounded [`Resolver`]; mesos-dns panics on leader/master host names and
//!   fails the state when a pid host does not resolve. A slave whose host
//!   does not resolve stays known, with no IPs: mesos-dns stores a non-IP
//!   placeholder as an "A" value there (issue #509), which we leave out.
//! - A `Listener` that is not an IP gets no nameserver record (mesos-dns
//!   panics).
//! - The canonical label is shortened to 63 octets (BEHAVIOUR.md 0): see
//!   [`canonical::canonical_stem`].
//! - Every name the rules give is kept, as mesos-dns keeps it: empty labels
//!   (`store..mesos.` for a framework named `@@@`), labels over 63 octets
//!   (`_` + a 63-character task label), names over 255 octets, and any
//!   character a DiscoveryInfo name or a slave id brings (`bang!`, `é`,
//!   spaces, upper case). The HTTP API lists them all; the DNS server
//!   serves every one the wire format can carry and counts the others.
//! - A body with invalid UTF-8 is read as Go does (U+FFFD), but a JSON
//!   string with a lone surrogate escape fails the state (Go replaces it).
//! - Go's `ParseIP` and Rust's parser agree on every form we know of
//!   (leading-zero IPv4 is rejected by both since Go 1.17).
#![warn(missing_docs)]

mod builder;
pub mod canonical;
pub mod delta;
pub mod enumeration;
pub mod explain;
pub mod fold;
pub mod generate;
mod health;
pub mod host;
pub mod hostport;
pub mod label;
mod leader_records;
mod lenient;
pub mod live;
mod lookup;
mod name_text;
pub mod policy;
pub mod record;
pub mod skip;
pub mod state;
mod store;
pub mod task_ip;
mod task_records;

pub use builder::RecordSetBuilder;
pub use delta::{Delta, View};
pub use enumeration::{EnumFramework, EnumRecord, EnumTask, Enumeration, Host};
pub use explain::{Explain, Explanation, TaskNote, TaskPart};
pub use generate::{generate, GenConfig, Generated, IpSource};
pub use host::{LocalAddrs, Resolver};
pub use label::LabelSpec;
pub use live::{Live, LiveView};
pub use record::{Owner, RecordSet, SrvIter, SrvSet, SrvValue};
pub use skip::{Skip, SkipReason};
pub use state::{State, StateError};
