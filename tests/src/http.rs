//! Shared by the HTTP end-to-end tests: a server on loopback over a small
//! record set, and the clients (curl, ureq, raw sockets) that query it.
//!
//! curl and promtool are real components: a test that needs one fails when
//! it is missing (`tests/run.sh` installs both).
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos_dns::answer::Transport;
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::http::{self, ApiContext, ApiSettings, HttpHandle, HttpLimits};
use mesos_dns::stats::Stats;
use mesos_dns::table::{SharedTable, Table};
use mesos_records::{RecordSet, RecordSetBuilder};
use mesos_sources::PollerStatus;
use serde_json::{json, Value};

pub const SERIAL: u32 = 1_700_000_000;

/// A small record set in the shape of BEHAVIOUR.md 4 (marathon tasks, SRV
/// targets with and without addresses, an enumeration with a nil and an empty
/// list).
pub fn records() -> RecordSet {
    let mut rs = RecordSetBuilder::new(true);
    let ls = "liquor-store.marathon.mesos.";
    rs.insert_a(ls, Ipv4Addr::new(10, 3, 0, 2));
    rs.insert_aaaa(ls, "fd01:b::1:8000:2".parse::<Ipv6Addr>().unwrap());
    let t0 = "liquor-store-4dfjd-0.marathon.mesos.";
    let t1 = "liquor-store-zasmd-1.marathon.mesos.";
    rs.insert_a(t0, Ipv4Addr::new(10, 3, 0, 1));
    rs.insert_a(t1, Ipv4Addr::new(10, 3, 0, 2));
    rs.insert_aaaa(t1, "fd01:b::1:8000:2".parse::<Ipv6Addr>().unwrap());
    let srv = "_liquor-store._tcp.marathon.mesos.";
    rs.insert_srv(srv, t1, 31355);
    rs.insert_srv(srv, "nowhere.marathon.mesos.", 80);
    rs.insert_a("ns1.mesos.", Ipv4Addr::new(127, 0, 0, 1));
    // The enumeration: the first task is credited with two records, the
    // second with none (mesos-dns prints `null`), and a framework without
    // tasks.
    rs.framework("marathon");
    rs.task("liquor<&>store", "liquor-store.b8db9f73");
    rs.insert_a(ls, Ipv4Addr::new(10, 3, 0, 1));
    rs.insert_srv(srv, t0, 31354);
    rs.task("dup", "dup.1");
    rs.framework("idle");
    rs.finish()
}

/// A `/v1/config` value in Go field order, as the config module renders it.
pub fn config_value() -> Value {
    json!({
        "RefreshSeconds": 60, "Port": 53, "Timeout": 5, "StateTimeoutSeconds": 300,
        "ZkDetectionTimeout": 30, "HttpPort": 8123, "TTL": 60,
        "SRVRecordDefaultWeight": 1, "SOASerial": 0, "SOARefresh": 60,
        "SOARetry": 600, "SOAExpire": 86400, "SOAMinttl": 60,
        "SOAMname": "ns1.mesos.", "SOARname": "root.ns1.mesos.",
        "Masters": ["127.0.0.1:5050"], "ZoneResolvers": null, "Resolvers": ["8.8.8.8"],
        "IPSources": ["netinfo", "mesos", "host"], "Zk": "", "Domain": "mesos",
        "File": "config.json", "Listener": "0.0.0.0", "HTTPListener": "0.0.0.0",
        "RecurseOn": true, "DnsOn": true, "HttpOn": true, "ExternalOn": true,
        "EnforceRFC952": false, "SetTruncateBit": true, "EnumerationOn": true,
        "MesosHTTPSOn": false, "CACertFile": "", "CertFile": "", "KeyFile": "",
        "MesosCredentials": {"Principal": "p", "Secret": "REDACTED"},
        "IAMConfigFile": "", "MesosAuthentication": ""
    })
}

pub struct Server {
    pub handle: Option<HttpHandle>,
    pub table: Arc<SharedTable>,
    pub poller: Arc<PollerStatus>,
    pub base: String,
    pub addr: SocketAddr,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn start_with(loaded: bool, enumeration_on: bool, limits: HttpLimits) -> Server {
    start_records(loaded.then(records), enumeration_on, limits)
}

/// A server over `records` (`None`: nothing loaded yet).
pub fn start_records(
    records: Option<RecordSet>,
    enumeration_on: bool,
    limits: HttpLimits,
) -> Server {
    let cfg = DnsConfig::default();
    let loaded = records.is_some();
    let table = if let Some(records) = records {
        Table::compile(Arc::new(records), &cfg, SERIAL)
    } else {
        Table::empty(&cfg)
    };
    let table = Arc::new(SharedTable::new(table));
    let poller = Arc::new(PollerStatus::default());
    if loaded {
        poller
            .last_success_ms
            .store(now() * 1000, Ordering::Relaxed);
        poller.loads.store(3, Ordering::Relaxed);
        poller.failures.store(1, Ordering::Relaxed);
        poller.fetch_micros.store(12_500, Ordering::Relaxed);
    }
    // DNS counters with known contents: two upstreams, a few queries.
    let dns = Arc::new(Stats::new(vec!["127.0.0.1:53".into(), "[::1]:5353".into()]));
    let worker = dns.worker();
    worker.query(Transport::Udp, 1, 0, 100, false);
    worker.query(Transport::Udp, 33, 3, 600, true);
    worker.query(Transport::Tcp, 28, 0, 70_000, false);
    worker.forward_attempt(0, 0, Duration::from_micros(800));
    worker.forward_attempt(0, 1, Duration::from_secs(5));
    worker.forward_attempt(1, 2, Duration::from_millis(30));
    let ctx = ApiContext {
        table: Arc::clone(&table),
        settings: ApiSettings {
            version: "v0.7.0-test".into(),
            config: config_value(),
            enumeration_on,
            domain: "mesos".into(),
            ttl: 60,
            refresh_seconds: 60,
            state_timeout_seconds: 300,
            soa_mname: "ns1.mesos.".into(),
            soa_rname: "root.ns1.mesos.".into(),
        }
        .into(),
        poller: Arc::clone(&poller),
        dns: Some(dns),
        snapshot: Arc::default(),
        guard: Default::default(),
    };
    let listener = http::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let handle = http::start(listener, Arc::new(ctx), limits).unwrap();
    let addr = handle.local_addr();
    Server {
        handle: Some(handle),
        table,
        poller,
        base: format!("http://{addr}"),
        addr,
    }
}

pub fn start() -> Server {
    start_with(true, true, HttpLimits::default())
}

/// One response as a client saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json", "{self:?}");
        serde_json::from_str(&self.body).unwrap()
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

pub fn ureq_reply(mut r: ureq::http::Response<ureq::Body>) -> Reply {
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Reply {
        status: r.status().as_u16(),
        content_type,
        body: r.body_mut().read_to_string().unwrap(),
    }
}

pub fn get(url: &str) -> Reply {
    ureq_reply(agent().get(url).call().unwrap())
}

/// Runs curl with `args`; the last line of its output is the status code
/// and content type (`-w`).
pub fn curl(args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code} %{content_type}",
        ])
        .args(args)
        .output()
        .expect("curl must be installed (tests/run.sh installs it)");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, tail) = text.rsplit_once('\n').unwrap();
    let (code, content_type) = tail.split_once(' ').unwrap_or((tail, ""));
    Reply {
        status: code.parse().unwrap(),
        content_type: content_type.to_owned(),
        body: body.to_owned(),
    }
}

/// A connection to `addr` from the loopback address `from` (any of
/// 127.0.0.0/8), so that one test can be several clients.
pub fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&local.into()).unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.into()
}

/// Sends raw bytes on a new connection and reads until the server closes
/// or `limit` passes.
pub fn raw_exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(limit)).unwrap();
    c.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
