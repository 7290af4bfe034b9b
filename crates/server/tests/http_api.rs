//! The HTTP API end to end: a real server on loopback, queried with curl
//! and ureq, bodies compared with the shapes of spec section 6 (structurally,
//! and byte for byte where the Go indentation is the point), `/metrics`
//! checked with promtool, and hostile clients (slowloris, oversized heads
//! and bodies, a full connection cap).
//!
//! curl and promtool are real components: a test that needs one fails when
//! it is missing (`tests/run.sh` installs both).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesos_dns::dns_config::DnsConfig;
use mesos_dns::http::{self, ApiContext, ApiSettings, HttpHandle, HttpLimits};
use mesos_dns::stats::{Stats, Transport};
use mesos_dns::table::{SharedTable, Table};
use mesos_records::poller::PollerStatus;
use mesos_records::{EnumFramework, EnumRecord, EnumTask, Enumeration, RecordSet};
use serde_json::{json, Value};

const SERIAL: u32 = 1_700_000_000;

/// A small record set in the shape of spec 4 (marathon tasks, SRV targets
/// with and without addresses, an enumeration with a nil and an empty list).
fn records() -> RecordSet {
    let mut rs = RecordSet::default();
    let ls = "liquor-store.marathon.mesos.";
    rs.insert_a(ls, Ipv4Addr::new(10, 3, 0, 1));
    rs.insert_a(ls, Ipv4Addr::new(10, 3, 0, 2));
    rs.insert_aaaa(ls, "fd01:b::1:8000:2".parse::<Ipv6Addr>().unwrap());
    let t0 = "liquor-store-4dfjd-0.marathon.mesos.";
    let t1 = "liquor-store-zasmd-1.marathon.mesos.";
    rs.insert_a(t0, Ipv4Addr::new(10, 3, 0, 1));
    rs.insert_a(t1, Ipv4Addr::new(10, 3, 0, 2));
    rs.insert_aaaa(t1, "fd01:b::1:8000:2".parse::<Ipv6Addr>().unwrap());
    let srv = "_liquor-store._tcp.marathon.mesos.";
    rs.insert_srv(srv, t0, 31354);
    rs.insert_srv(srv, t1, 31355);
    rs.insert_srv(srv, "nowhere.marathon.mesos.", 80);
    rs.insert_a("ns1.mesos.", Ipv4Addr::new(127, 0, 0, 1));
    rs.enumeration = Enumeration {
        frameworks: vec![
            EnumFramework {
                name: "marathon".into(),
                tasks: vec![
                    EnumTask {
                        name: "liquor<&>store".into(),
                        id: "liquor-store.b8db9f73".into(),
                        records: vec![
                            EnumRecord {
                                name: ls.into(),
                                host: "10.3.0.1".into(),
                                rtype: "A",
                            },
                            EnumRecord {
                                name: srv.into(),
                                host: format!("{t0}:31354"),
                                rtype: "SRV",
                            },
                        ],
                    },
                    EnumTask {
                        name: "dup".into(),
                        id: "dup.1".into(),
                        records: Vec::new(),
                    },
                ],
            },
            EnumFramework {
                name: "idle".into(),
                tasks: Vec::new(),
            },
        ],
    };
    rs
}

/// A `/v1/config` value in Go field order, as the config module renders it.
fn config_value() -> Value {
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

struct Server {
    handle: Option<HttpHandle>,
    table: Arc<SharedTable>,
    poller: Arc<PollerStatus>,
    base: String,
    addr: SocketAddr,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn start_with(loaded: bool, enumeration_on: bool, limits: HttpLimits) -> Server {
    let cfg = DnsConfig::default();
    let table = if loaded {
        Table::compile(Arc::new(records()), &cfg, SERIAL)
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
        },
        poller: Arc::clone(&poller),
        dns: Some(dns),
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

fn start() -> Server {
    start_with(true, true, HttpLimits::default())
}

/// One response as a client saw it.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        assert_eq!(self.content_type, "application/json", "{self:?}");
        serde_json::from_str(&self.body).unwrap()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn ureq_reply(mut r: ureq::http::Response<ureq::Body>) -> Reply {
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

fn get(url: &str) -> Reply {
    ureq_reply(agent().get(url).call().unwrap())
}

/// Runs curl with `args`; the last line of its output is the status code
/// and content type (`-w`).
fn curl(args: &[&str]) -> Reply {
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

#[test]
fn version_is_go_marshal_indent_byte_for_byte() {
    let s = start();
    let want = "{\n  \"Service\": \"Mesos-DNS\",\n  \"URL\": \
                \"https://github.com/mesosphere/mesos-dns\",\n  \"Version\": \
                \"v0.7.0-test\"\n }";
    for reply in [get(&s.url("/v1/version")), curl(&[&s.url("/v1/version")])] {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, "application/json");
        assert_eq!(reply.body, want);
    }
    // Trailing slash matches; the query string is ignored.
    assert_eq!(get(&s.url("/v1/version/")).body, want);
    assert_eq!(curl(&[&s.url("/v1/version?x=1&y")]).body, want);
}

#[test]
fn config_keeps_go_field_order_and_shows_the_serial() {
    let s = start();
    let reply = curl(&[&s.url("/v1/config")]);
    assert_eq!(reply.status, 200);
    let mut want = config_value();
    want["SOASerial"] = json!(SERIAL);
    assert_eq!(reply.json(), want);
    // Key order: every top-level key appears in the given (Go) order.
    let given = config_value();
    let keys: Vec<&str> = given
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut at = 0;
    for k in keys {
        let pos = reply.body[at..]
            .find(&format!("\n  \"{k}\": "))
            .unwrap_or_else(|| panic!("{k} out of order"));
        at += pos + 1;
    }
    assert!(reply.body.contains(
        "\"MesosCredentials\": {\n   \"Principal\": \"p\",\n   \"Secret\": \"REDACTED\"\n  },"
    ));
    assert!(reply
        .body
        .contains("\"ZoneResolvers\": null,\n  \"Resolvers\": ["));
}

#[test]
fn hosts_lists_a_then_aaaa_under_the_normalized_name() {
    let s = start();
    let want = json!([
        {"host": "liquor-store.marathon.mesos.", "ip": "10.3.0.1"},
        {"host": "liquor-store.marathon.mesos.", "ip": "10.3.0.2"},
        {"host": "liquor-store.marathon.mesos.", "ip": "fd01:b::1:8000:2"},
    ]);
    for path in [
        "/v1/hosts/liquor-store.marathon.mesos",
        "/v1/hosts/Liquor-Store.*.marathon.mesos.",
        "/v1/hosts/liquor-store.marathon.mesos/?q=1",
    ] {
        let reply = get(&s.url(path));
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.json(), want, "{path}");
    }
    // Names outside the domain are served too (spec 11).
    let ns = curl(&[&s.url("/v1/hosts/ns1.mesos")]);
    assert_eq!(
        ns.json(),
        json!([{"host": "ns1.mesos.", "ip": "127.0.0.1"}])
    );
    // No match: one empty entry, still 200, byte for byte.
    let miss = curl(&[&s.url("/v1/hosts/missing.mesos")]);
    assert_eq!(miss.status, 200);
    assert_eq!(
        miss.body,
        "[\n  {\n   \"host\": \"\",\n   \"ip\": \"\"\n  }\n ]"
    );
}

#[test]
fn host_ports_is_not_implemented() {
    let s = start();
    for reply in [
        get(&s.url("/v1/hosts/liquor-store.marathon.mesos/ports")),
        curl(&[&s.url("/v1/hosts/x/ports/")]),
    ] {
        assert_eq!(reply.status, 501);
        assert_eq!(reply.content_type, "text/plain; charset=utf-8");
        assert_eq!(reply.body, "To be implemented...");
    }
}

#[test]
fn services_pairs_targets_with_one_address_each() {
    let s = start();
    let path = "/v1/services/_Liquor-Store._tcp.*.marathon.mesos";
    let raw = "_Liquor-Store._tcp.*.marathon.mesos";
    let reply = curl(&[&s.url(path)]);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!([
            {"service": raw, "host": "liquor-store-4dfjd-0.marathon.mesos.",
             "ip": "10.3.0.1", "port": "31354"},
            {"service": raw, "host": "liquor-store-zasmd-1.marathon.mesos.",
             "ip": "10.3.0.2", "port": "31355"},
            {"service": raw, "host": "liquor-store-zasmd-1.marathon.mesos.",
             "ip": "fd01:b::1:8000:2", "port": "31355"},
        ])
    );
    // Field order: service, host, ip, port.
    assert!(reply.body.starts_with(
        "[\n  {\n   \"service\": \"_Liquor-Store._tcp.*.marathon.mesos\",\n   \"host\": "
    ));
    let miss = get(&s.url("/v1/services/_none._tcp.marathon.mesos"));
    assert_eq!(
        miss.json(),
        json!([{"service": "", "host": "", "ip": "", "port": ""}])
    );
}

#[test]
fn enumerate_has_go_field_order_nulls_and_html_escapes() {
    let s = start();
    let reply = curl(&[&s.url("/v1/enumerate")]);
    assert_eq!(reply.status, 200);
    let want = "{\n  \"frameworks\": [\n   {\n    \"tasks\": [\n     {\n      \
        \"name\": \"liquor\\u003c\\u0026\\u003estore\",\n      \
        \"id\": \"liquor-store.b8db9f73\",\n      \"records\": [\n       {\n        \
        \"name\": \"liquor-store.marathon.mesos.\",\n        \"host\": \"10.3.0.1\",\n        \
        \"rtype\": \"A\"\n       },\n       {\n        \
        \"name\": \"_liquor-store._tcp.marathon.mesos.\",\n        \
        \"host\": \"liquor-store-4dfjd-0.marathon.mesos.:31354\",\n        \
        \"rtype\": \"SRV\"\n       }\n      ]\n     },\n     {\n      \
        \"name\": \"dup\",\n      \"id\": \"dup.1\",\n      \"records\": null\n     }\n    ],\n    \
        \"name\": \"marathon\"\n   },\n   {\n    \"tasks\": [],\n    \"name\": \"idle\"\n   }\n  ]\n }";
    assert_eq!(reply.body, want);
    assert_eq!(
        reply.json()["frameworks"][0]["tasks"][0]["name"],
        json!("liquor<&>store")
    );
}

#[test]
fn axfr_shows_soa_fields_and_sorted_record_maps() {
    let s = start();
    let reply = get(&s.url("/v1/axfr"));
    assert_eq!(reply.status, 200);
    let v = reply.json();
    assert_eq!(
        v,
        json!({
            "TTL": 60, "Serial": SERIAL, "RefreshSeconds": 60,
            "Mname": "ns1.mesos.", "Rname": "root.ns1.mesos.", "Domain": "mesos",
            "Records": {
                "As": {
                    "liquor-store-4dfjd-0.marathon.mesos.": ["10.3.0.1"],
                    "liquor-store-zasmd-1.marathon.mesos.": ["10.3.0.2"],
                    "liquor-store.marathon.mesos.": ["10.3.0.1", "10.3.0.2"],
                    "ns1.mesos.": ["127.0.0.1"],
                },
                "AAAAs": {
                    "liquor-store-zasmd-1.marathon.mesos.": ["fd01:b::1:8000:2"],
                    "liquor-store.marathon.mesos.": ["fd01:b::1:8000:2"],
                },
                "SRVs": {
                    "_liquor-store._tcp.marathon.mesos.": [
                        "liquor-store-4dfjd-0.marathon.mesos.:31354",
                        "liquor-store-zasmd-1.marathon.mesos.:31355",
                        "nowhere.marathon.mesos.:80",
                    ],
                },
            }
        })
    );
    // Struct field order, and Go's sorted map keys ('-' sorts before '.').
    let order = [
        "\"TTL\"",
        "\"Serial\"",
        "\"RefreshSeconds\"",
        "\"Mname\"",
        "\"Rname\"",
        "\"Domain\"",
        "\"Records\"",
        "\"As\"",
        "\"liquor-store-4dfjd-0",
        "\"liquor-store.",
        "\"ns1.mesos.\"",
        "\"AAAAs\"",
        "\"SRVs\"",
    ];
    let mut at = 0;
    for key in order {
        at += reply.body[at..]
            .find(key)
            .unwrap_or_else(|| panic!("{key} out of order"));
    }
}

#[test]
fn enumerate_and_axfr_need_enumeration_on() {
    let s = start_with(true, false, HttpLimits::default());
    for path in ["/v1/enumerate", "/v1/axfr"] {
        let reply = curl(&[&s.url(path)]);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (404, "404: Page Not Found")
        );
    }
}

#[test]
fn empty_state_enumerates_null_frameworks() {
    let s = start();
    let cfg = DnsConfig::default();
    s.table.publish(Table::compile(
        Arc::new(RecordSet::default()),
        &cfg,
        SERIAL + 1,
    ));
    assert_eq!(
        get(&s.url("/v1/enumerate")).body,
        "{\n  \"frameworks\": null\n }"
    );
    let axfr = get(&s.url("/v1/axfr")).body;
    assert!(axfr.contains(
        "\"Records\": {\n   \"As\": {},\n   \"AAAAs\": {},\n   \"SRVs\": {}\n  }"
    ));
    assert!(axfr.contains(&format!("\"Serial\": {},", SERIAL + 1)));
}

#[test]
fn restful_error_statuses_and_bodies() {
    let s = start();
    let text = "text/plain; charset=utf-8";
    let cases: Vec<(Vec<String>, u16, &str)> = vec![
        (vec![s.url("/")], 404, "404: Page Not Found"),
        (vec![s.url("/v1/hosts/")], 404, "404: Page Not Found"),
        (vec![s.url("/v1/nope")], 404, "404: Page Not Found"),
        (vec![s.url("/v1/hosts/a/b")], 404, "404: Page Not Found"),
        (
            vec!["-X".into(), "POST".into(), s.url("/v1/version")],
            405,
            "405: Method Not Allowed",
        ),
        (
            vec!["-X".into(), "PUT".into(), s.url("/v1/hosts/x")],
            405,
            "405: Method Not Allowed",
        ),
        (
            vec!["-X".into(), "DELETE".into(), s.url("/v1/config")],
            405,
            "405: Method Not Allowed",
        ),
        (
            vec![
                "-H".into(),
                "Accept: application/xml".into(),
                s.url("/v1/version"),
            ],
            406,
            "406: Not Acceptable",
        ),
        (
            vec![
                "-H".into(),
                "Accept: application/*".into(),
                s.url("/v1/config"),
            ],
            406,
            "406: Not Acceptable",
        ),
        (
            vec![
                "-X".into(),
                "GET".into(),
                "-H".into(),
                "Content-Type: text/plain".into(),
                "--data".into(),
                "hello".into(),
                s.url("/v1/version"),
            ],
            415,
            "415: Unsupported Media Type",
        ),
    ];
    for (args, status, body) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = curl(&args);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, body),
            "{args:?}"
        );
        assert_eq!(reply.content_type, text, "{args:?}");
    }
    // A body in JSON is fine, and so is an Accept list that allows JSON.
    let ok = curl(&[
        "-X",
        "GET",
        "-H",
        "Content-Type: application/json; charset=utf-8",
        "--data",
        "{}",
        &s.url("/v1/version"),
    ]);
    assert_eq!(ok.status, 200);
    let ok = curl(&[
        "-H",
        "Accept: text/html, application/json;q=0.5",
        &s.url("/v1/version"),
    ]);
    assert_eq!(ok.status, 200);

    // The same through ureq, HEAD included (405, no body).
    let a = agent();
    let head = ureq_reply(a.head(s.url("/v1/version")).call().unwrap());
    assert_eq!((head.status, head.body.as_str()), (405, ""));
    let post = ureq_reply(a.post(s.url("/v1/version")).send("x").unwrap());
    assert_eq!(
        (post.status, post.body.as_str()),
        (405, "405: Method Not Allowed")
    );
    let xml = ureq_reply(
        a.get(s.url("/v1/hosts/x"))
            .header("Accept", "application/xml")
            .call()
            .unwrap(),
    );
    assert_eq!(
        (xml.status, xml.body.as_str()),
        (406, "406: Not Acceptable")
    );
    let bad_type = ureq_reply(
        a.get(s.url("/v1/config"))
            .header("Content-Type", "text/xml")
            .force_send_body()
            .send("<x/>")
            .unwrap(),
    );
    assert_eq!(bad_type.status, 415);
    assert_eq!(get(&s.url("/nope")).status, 404);
    // curl -I sends HEAD.
    let head = curl(&["-I", &s.url("/v1/version")]);
    assert_eq!(head.status, 405);
}

#[test]
fn data_endpoints_wait_for_the_first_load() {
    let s = start_with(false, true, HttpLimits::default());
    for path in [
        "/v1/hosts/a.mesos",
        "/v1/services/_a._tcp.mesos",
        "/v1/enumerate",
        "/v1/axfr",
    ] {
        let reply = get(&s.url(path));
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (503, "503: Service Unavailable")
        );
    }
    assert_eq!(get(&s.url("/v1/version")).status, 200);
    assert_eq!(get(&s.url("/v1/config")).status, 200);
}

#[test]
fn health_and_readiness() {
    let s = start_with(false, true, HttpLimits::default());
    let health = curl(&[&s.url("/health")]);
    assert_eq!((health.status, health.body.as_str()), (200, "OK\n"));
    assert_eq!(curl(&["-I", &s.url("/health")]).status, 200);
    assert_eq!(curl(&["-X", "POST", &s.url("/health")]).status, 405);
    let not_yet = curl(&[&s.url("/ready")]);
    assert_eq!(not_yet.status, 503, "{not_yet:?}");
    assert!(not_yet.body.contains("no Mesos state loaded yet"));

    let cfg = DnsConfig::default();
    s.table
        .publish(Table::compile(Arc::new(records()), &cfg, SERIAL));
    let success = &s.poller.last_success_ms;
    success.store(now() * 1000, Ordering::Relaxed);
    assert_eq!(get(&s.url("/ready")).status, 200);
    // Window = 3 x 60 + 300 s: just inside, then just outside.
    success.store((now() - 470) * 1000, Ordering::Relaxed);
    assert_eq!(get(&s.url("/ready")).status, 200);
    success.store((now() - 600) * 1000, Ordering::Relaxed);
    let stale = get(&s.url("/ready"));
    assert_eq!(stale.status, 503);
    assert!(stale.body.contains("limit 480 s"), "{stale:?}");
}

/// Runs `promtool check metrics` on `text`; promtool exits non-zero on
/// parse errors and on lint problems.
fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed (Debian package prometheus; tests/run.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool rejected /metrics:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The strict text-format checks promtool 2.42 does not make: each family
/// declared once with HELP then TYPE before its samples, samples
/// contiguous and named after their family, no duplicate series, counters
/// named `_total` and never negative, histogram buckets per series with
/// increasing `le`, cumulative counts, and `+Inf` last and equal to
/// `_count`; the text ends with a newline.
fn check_exposition(text: &str) {
    use std::collections::{BTreeMap, HashSet};
    assert!(text.ends_with('\n'), "no final newline");
    let mut declared: HashSet<String> = HashSet::new();
    let mut family: Option<(String, String)> = None; // (name, type)
    let mut help_for: Option<String> = None;
    let mut series: HashSet<String> = HashSet::new();
    // histogram series (labels without le) -> (last le, last count, +Inf seen)
    let mut buckets: BTreeMap<String, (f64, f64, Option<f64>)> = BTreeMap::new();
    let name_ok = |n: &str| {
        let mut b = n.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
    };
    for (no, line) in text.lines().enumerate() {
        let at = format!("line {}: {line:?}", no + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(name_ok(name), "{at}");
            assert!(
                declared.insert(name.to_owned()),
                "family declared twice, {at}"
            );
            help_for = Some(name.to_owned());
            family = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(help_for.as_deref(), Some(name), "TYPE without HELP, {at}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{at}");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "counter without _total, {at}");
            }
            family = Some((name.to_owned(), kind.to_owned()));
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line, {at}"
        );
        let (fam, kind) = family
            .clone()
            .unwrap_or_else(|| panic!("sample outside a family, {at}"));
        // name, optional {labels}, space, value
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        let mut rest = &line[name_end..];
        let mut labels: Vec<(String, String)> = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            let mut r = r;
            loop {
                if let Some(after) = r.strip_prefix('}') {
                    r = after;
                    break;
                }
                let eq = r.find('=').unwrap();
                let key = &r[..eq];
                assert!(name_ok(key), "{at}");
                let mut chars =
                    r[eq + 1..].strip_prefix('"').expect("quoted value").chars();
                let mut value = String::new();
                loop {
                    match chars.next().unwrap_or_else(|| panic!("open label, {at}")) {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => panic!("bad escape {other:?}, {at}"),
                        },
                        '\n' => panic!("raw newline, {at}"),
                        c => value.push(c),
                    }
                }
                labels.push((key.to_owned(), value));
                r = chars.as_str();
                r = r.strip_prefix(',').unwrap_or(r);
            }
            rest = r;
        }
        let value: f64 = match rest.strip_prefix(' ').unwrap_or_else(|| panic!("{at}")) {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value, {at}")),
        };
        assert!(
            series.insert(line[..line.len() - rest.len()].to_owned()),
            "duplicate series, {at}"
        );
        match kind.as_str() {
            "counter" | "gauge" => {
                assert_eq!(name, fam, "sample of another family, {at}");
                if kind == "counter" {
                    assert!(value >= 0.0, "{at}");
                }
            }
            _ => {
                let key_of = |labels: &[(String, String)]| {
                    let l: Vec<String> = labels
                        .iter()
                        .filter(|(k, _)| k != "le")
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    format!("{fam}{{{}}}", l.join(","))
                };
                let key = key_of(&labels);
                if name == format!("{fam}_bucket") {
                    let le = &labels.iter().find(|(k, _)| k == "le").expect("le label").1;
                    let le: f64 = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().unwrap()
                    };
                    let entry =
                        buckets.entry(key).or_insert((f64::NEG_INFINITY, 0.0, None));
                    assert!(entry.2.is_none(), "bucket after +Inf, {at}");
                    assert!(le > entry.0, "le not increasing, {at}");
                    assert!(value >= entry.1, "buckets not cumulative, {at}");
                    *entry = (le, value, le.is_infinite().then_some(value));
                } else if name == format!("{fam}_count") {
                    let inf = buckets.get(&key).and_then(|e| e.2);
                    assert_eq!(inf, Some(value), "_count differs from +Inf bucket, {at}");
                } else {
                    assert_eq!(
                        name,
                        format!("{fam}_sum"),
                        "sample of another family, {at}"
                    );
                }
            }
        }
    }
    for (key, (_, _, inf)) in buckets {
        assert!(inf.is_some(), "histogram {key} without +Inf bucket");
    }
}

#[test]
fn exposition_checker_rejects_what_promtool_lets_through() {
    let good = "# HELP a_total a\n# TYPE a_total counter\na_total{x=\"1\"} 1\n";
    check_exposition(good);
    for bad in [
        "# HELP a_total a\n# TYPE a_total counter\na_total 1\na_total 2\n",
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
        "# HELP g g\n# TYPE g gauge\nother 1\n",
        "# HELP g g\n# TYPE g gauge\ng 1\n# HELP g g\n# TYPE g gauge\n",
    ] {
        let result = std::panic::catch_unwind(|| check_exposition(bad));
        assert!(result.is_err(), "accepted {bad:?}");
    }
}

#[test]
fn metrics_pass_promtool_and_count_requests() {
    let s = start();
    get(&s.url("/v1/version"));
    get(&s.url("/nope"));
    curl(&["-H", "Accept: application/xml", &s.url("/v1/version")]);
    let reply = curl(&[&s.url("/metrics")]);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    promtool_check(&reply.body);
    check_exposition(&reply.body);
    let body = &reply.body;
    for line in [
        "mesosdns_build_info{version=\"v0.7.0-test\"} 1",
        "mesosdns_records{type=\"A\"} 5",
        "mesosdns_records{type=\"AAAA\"} 2",
        "mesosdns_records{type=\"SRV\"} 3",
        "mesosdns_table_loaded 1",
        &format!("mesosdns_soa_serial {SERIAL}"),
        "mesosdns_http_requests_total{endpoint=\"/v1/version\",code=\"200\"} 1",
        "mesosdns_http_requests_total{endpoint=\"/v1/version\",code=\"406\"} 1",
        "mesosdns_http_requests_total{endpoint=\"other\",code=\"404\"} 1",
        "mesosdns_http_connections_open 1",
        "mesosdns_state_loads_total 3",
        "mesosdns_state_failures_total 1",
        "mesosdns_state_fetch_duration_seconds 0.0125",
        "mesosdns_dns_responses_total{transport=\"udp\"} 2",
        "mesosdns_dns_responses_by_rcode_total{rcode=\"NXDOMAIN\"} 1",
        "mesosdns_dns_responses_by_qtype_total{qtype=\"SRV\"} 1",
        "mesosdns_dns_truncated_total 1",
        "mesosdns_dns_response_size_bytes_bucket{le=\"128\"} 1",
        "mesosdns_dns_response_size_bytes_count 3",
        "mesosdns_dns_forwarded_total{upstream=\"127.0.0.1:53\",outcome=\"timeout\"} 1",
        "mesosdns_dns_forwarded_total{upstream=\"[::1]:5353\",outcome=\"error\"} 1",
        "mesosdns_dns_forward_duration_seconds_bucket{upstream=\"[::1]:5353\",le=\"0.025\"} 0",
        "mesosdns_dns_forward_duration_seconds_bucket{upstream=\"[::1]:5353\",le=\"0.05\"} 1",
        "mesosdns_dns_forward_duration_seconds_bucket{upstream=\"127.0.0.1:53\",le=\"1\"} 1",
        "mesosdns_dns_forward_duration_seconds_count{upstream=\"127.0.0.1:53\"} 2",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in\n{body}");
    }
    // HEAD works on /metrics and sends no body.
    let head = curl(&["-I", &s.url("/metrics")]);
    assert_eq!((head.status, head.body.contains("# TYPE")), (200, false));
}

/// Sends raw bytes on a new connection and reads until the server closes
/// or `limit` passes.
fn raw_exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(limit)).unwrap();
    c.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn keep_alive_serves_pipelined_requests_on_one_connection() {
    let s = start();
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(
        b"GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /health HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /v1/hosts/ns1.mesos HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{out}");
    assert!(out.contains("\"Version\": \"v0.7.0-test\""));
    assert!(out.contains("OK\n"));
    assert!(out.ends_with("\"ip\": \"127.0.0.1\"\n  }\n ]"), "{out}");
    // ureq reuses its pooled connection: two more requests, one more accept.
    let a = agent();
    for _ in 0..3 {
        assert_eq!(
            ureq_reply(a.get(s.url("/health")).call().unwrap()).status,
            200
        );
    }
    let metrics = get(&s.url("/metrics")).body;
    // 1 raw + 1 pooled ureq + 1 for this scrape.
    assert!(
        metrics
            .lines()
            .any(|l| l == "mesosdns_http_connections_total 3"),
        "{metrics}"
    );
}

#[test]
fn oversized_heads_and_bodies_are_refused() {
    let limits = HttpLimits {
        max_head_bytes: 1024,
        max_body_bytes: 100,
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let long = format!(
        "GET /v1/version HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(2000)
    );
    let out = raw_exchange(s.addr, long.as_bytes(), Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    let mut many = String::from("GET /v1/version HTTP/1.1\r\n");
    for i in 0..70 {
        many.push_str(&format!("X-{i}: y\r\n"));
    }
    many.push_str("\r\n");
    let out = raw_exchange(s.addr, many.as_bytes(), Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    let big = "GET /v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n";
    let out = raw_exchange(s.addr, big.as_bytes(), Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    let garbage = raw_exchange(
        s.addr,
        b"\x16\x03\x01\x02\x00\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    // curl sees the 413 too; a body under the limit is read and skipped.
    let reply = curl(&[
        "-X",
        "GET",
        "-H",
        "Content-Type: application/json",
        "--data",
        &"x".repeat(500),
        &s.url("/v1/version"),
    ]);
    assert_eq!(reply.status, 413);
    let reply = curl(&[
        "-X",
        "GET",
        "-H",
        "Content-Type: application/json",
        "--data",
        &"x".repeat(50),
        &s.url("/v1/version"),
    ]);
    assert_eq!(reply.status, 200);
}

#[test]
fn slowloris_is_cut_off_while_others_are_served() {
    let limits = HttpLimits {
        header_timeout: Duration::from_millis(800),
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let started = Instant::now();
    let mut slow = TcpStream::connect(s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    slow.write_all(b"GET /v1/version HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut silent = TcpStream::connect(s.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Trickle one header byte every 100 ms; others are served meanwhile.
    let mut reply = Vec::new();
    let mut closed = false;
    for i in 0..100 {
        if i % 5 == 0 {
            assert_eq!(get(&s.url("/v1/version")).status, 200);
        }
        if slow.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match slow.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(closed, "the trickling client was never cut off");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "cut off after {:?}",
        started.elapsed()
    );
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408 "),
        "{reply}"
    );
    // The silent client was closed too, without a response.
    let mut buf = Vec::new();
    let _ = silent.read_to_end(&mut buf);
    assert!(buf.is_empty());
    let metrics = get(&s.url("/metrics")).body;
    assert!(
        metrics
            .lines()
            .any(|l| l == "mesosdns_http_timeouts_total 2"),
        "{metrics}"
    );
}

#[test]
fn connection_cap_refuses_extra_clients_and_recovers() {
    let limits = HttpLimits {
        max_connections: 4,
        header_timeout: Duration::from_secs(30),
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    // Wait (bounded) until the server holds all four.
    let mut refused = String::new();
    for _ in 0..100 {
        refused = raw_exchange(
            s.addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
            Duration::from_secs(5),
        );
        if refused.starts_with("HTTP/1.1 503 ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(refused.starts_with("HTTP/1.1 503 "), "{refused}");
    assert!(refused.contains("Connection: close\r\n"));
    let via_curl = curl(&[&s.url("/health")]);
    assert_eq!(via_curl.status, 503);
    // Free the slots: service resumes.
    drop(idle);
    let mut status = 0;
    for _ in 0..100 {
        status = get(&s.url("/health")).status;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(status, 200);
    let metrics = get(&s.url("/metrics")).body;
    let rejected = metrics
        .lines()
        .find_map(|l| l.strip_prefix("mesosdns_http_connections_rejected_total "))
        .unwrap();
    assert!(rejected.parse::<u64>().unwrap() >= 2, "{metrics}");
}

#[test]
fn stop_closes_the_listener_and_open_connections() {
    let mut s = start();
    let mut kept = TcpStream::connect(s.addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 256];
    assert!(kept.read(&mut buf).unwrap() > 0);
    s.stop();
    let mut rest = Vec::new();
    let _ = kept.read_to_end(&mut rest);
    assert!(TcpStream::connect_timeout(&s.addr, Duration::from_secs(2)).is_err());
}
