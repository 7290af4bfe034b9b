//! Routing and the endpoints: mesos-dns's `/v1/...` API with go-restful's
//! request rules, plus `/metrics`, `/health` and `/ready`.
//!
//! go-restful (v1.1.3, as mesos-dns vendors it) checks, in this order:
//!
//! 1. the path, split on `/` after trimming slashes at both ends (so a
//!    trailing slash still matches): no route gives `404: Page Not Found`;
//! 2. the method: only GET routes exist, so anything else, HEAD included,
//!    gives `405: Method Not Allowed`;
//! 3. the body type: a request with `Content-Length` > 0 whose
//!    `Content-Type` is not `application/json` gives
//!    `415: Unsupported Media Type`;
//! 4. `Accept`: empty, `*/*` or `application/json` (parameters ignored, any
//!    element of a comma list) is fine, anything else gives
//!    `406: Not Acceptable`.
//!
//! The query string is ignored. `/metrics`, `/health` and `/ready` are ours:
//! they accept GET and HEAD and ignore `Accept`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mesos_records::delta::Lookup;
use mesos_records::RecordSet;

use super::endpoint::lookup_key;
pub use super::endpoint::Endpoint;
use super::json::GoJson;
use super::metrics;
use super::request::{Method, Request};
use super::response::Response;
use super::{ApiContext, HttpState};
use crate::table::Table;

/// mesos-dns's `/v1/version` `Service` field.
const SERVICE: &str = "Mesos-DNS";
/// mesos-dns's `/v1/version` `URL` field.
const URL: &str = "https://github.com/mesosphere/mesos-dns";
/// The body of `/v1/hosts/{host}/ports`, which mesos-dns never implemented.
const PORTS_BODY: &str = "To be implemented...";

/// Finds the endpoint for a decoded path and the path parameter, if any.
pub fn find(path: &str, enumeration_on: bool) -> (Endpoint, Option<&str>) {
    let trimmed = path.trim_matches('/');
    let mut tokens = [""; 5];
    let mut n = 0;
    for token in trimmed.split('/') {
        match tokens.get_mut(n) {
            Some(slot) => *slot = token,
            None => return (Endpoint::Other, None),
        }
        n += 1;
    }
    let tokens = tokens.get(..n).unwrap_or_default();
    match tokens {
        ["v1", "version"] => (Endpoint::Version, None),
        ["v1", "config"] => (Endpoint::Config, None),
        ["v1", "hosts", host] if !host.is_empty() => (Endpoint::Hosts, Some(host)),
        ["v1", "hosts", host, "ports"] if !host.is_empty() => {
            (Endpoint::HostPorts, Some(host))
        }
        ["v1", "services", s] if !s.is_empty() => (Endpoint::Services, Some(s)),
        ["v1", "enumerate"] if enumeration_on => (Endpoint::Enumerate, None),
        ["v1", "axfr"] if enumeration_on => (Endpoint::Axfr, None),
        ["v1", "explain", name] if !name.is_empty() => (Endpoint::Explain, Some(name)),
        ["metrics"] => (Endpoint::Metrics, None),
        ["health"] => (Endpoint::Health, None),
        ["ready"] => (Endpoint::Ready, None),
        _ => (Endpoint::Other, None),
    }
}

/// Answers one parsed request.
pub fn handle(shared: &HttpState, req: &Request) -> (Endpoint, Response) {
    let ctx = &shared.ctx;
    let (endpoint, param) = find(&req.path, ctx.settings.load().enumeration_on);
    if endpoint == Endpoint::Other {
        return (endpoint, Response::error(404));
    }
    if endpoint.is_restful() {
        if req.method != Method::Get {
            return (endpoint, Response::error(405));
        }
        if req.content_length > 0
            && !consumes_json(req.content_type.as_deref().unwrap_or(""))
        {
            return (endpoint, Response::error(415));
        }
        if !accepts_json(req.accept.as_deref().unwrap_or("")) {
            return (endpoint, Response::error(406));
        }
    } else if !matches!(req.method, Method::Get | Method::Head) {
        return (endpoint, Response::error(405));
    }
    let param = param.unwrap_or("");
    let table = ctx.table.load();
    let needs_data = matches!(
        endpoint,
        Endpoint::Hosts
            | Endpoint::Services
            | Endpoint::Enumerate
            | Endpoint::Axfr
            | Endpoint::Explain
    );
    if needs_data && !table.is_loaded() {
        // mesos-dns does not listen at all before its first load; we do, and
        // say so.
        return (endpoint, Response::error(503));
    }
    let response = match endpoint {
        Endpoint::Version => Response::json(version(&ctx.settings.load().version)),
        Endpoint::Config => {
            Response::json(config(&ctx.settings.load().config, table.serial()))
        }
        Endpoint::Hosts => Response::json(hosts(&**table.view(), param)),
        Endpoint::HostPorts => Response::text(501, PORTS_BODY),
        Endpoint::Services => Response::json(services(&**table.view(), param)),
        // Rendered without holding the table (see `Records`), and cached
        // for its generation.
        Endpoint::Enumerate => {
            let (key, records) = (Arc::downgrade(&table), table.shared_records());
            drop(table);
            let render = || enumerate(records.set());
            Response {
                body: shared.bodies.get_or_render(0, &key, render),
                ..Response::json(String::new())
            }
        }
        Endpoint::Axfr => {
            let (key, records) = (Arc::downgrade(&table), table.shared_records());
            let serial = table.serial();
            let statics = Arc::clone(&table.statics);
            drop(table);
            let render = || axfr(ctx, records.set(), serial, &statics);
            Response {
                body: shared.bodies.get_or_render(1, &key, render),
                ..Response::json(String::new())
            }
        }
        Endpoint::Explain => {
            let domain = ctx.settings.load().domain.clone();
            let (status, body) = super::explain::explain(ctx, &table, &domain, param);
            Response {
                status,
                ..Response::json(body)
            }
        }
        Endpoint::Metrics => Response {
            status: 200,
            content_type: super::response::PROMETHEUS,
            body: Bytes::from(metrics::render(ctx, &shared.stats, &table)),
        },
        Endpoint::Health => Response::text(200, "OK\n"),
        Endpoint::Ready => ready(ctx, table.is_loaded()),
        Endpoint::Other => Response::error(404),
    };
    (endpoint, response)
}

/// The last `/v1/enumerate` (slot 0) and `/v1/axfr` (slot 1) bodies,
/// reused while the table is the same generation: a client pulling a large
/// axfr in a loop costs a reference count, not a render, and a hundred
/// clients reading it slowly share one copy.
#[derive(Debug, Default)]
pub struct BodyCache {
    slots: Mutex<[Option<CachedBody>; 2]>,
}

/// A rendered body and the table generation it was rendered from.
type CachedBody = (Weak<Table>, Bytes);

impl BodyCache {
    fn get_or_render(
        &self,
        slot: usize,
        table: &Weak<Table>,
        render: impl FnOnce() -> String,
    ) -> Bytes {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = slots.get_mut(slot) else {
            return Bytes::from(render());
        };
        // The Weak keeps the old allocation's address from being reused, so
        // pointer equality means the same generation.
        if let Some((seen, body)) = entry {
            if seen.ptr_eq(table) {
                return body.clone();
            }
        }
        let body = Bytes::from(render());
        *entry = Some((table.clone(), body.clone()));
        body
    }
}

/// go-restful's `matchesContentType` for a route that consumes JSON: any
/// comma-separated element whose media type (before `;`, spaces trimmed)
/// is exactly `application/json`.
fn consumes_json(content_type: &str) -> bool {
    content_type
        .split(',')
        .any(|each| media_type(each) == "application/json")
}

/// go-restful's `matchesAccept` for a route that produces JSON: empty means
/// `*/*`; any element equal to `*/*` or `application/json` matches. Quality
/// values are ignored (even `q=0`), and `application/*` does not match.
fn accepts_json(accept: &str) -> bool {
    if accept.is_empty() {
        return true;
    }
    accept.split(',').any(|each| {
        let t = media_type(each);
        t == "*/*" || t == "application/json"
    })
}

fn media_type(element: &str) -> &str {
    element.split(';').next().unwrap_or("").trim_matches(' ')
}

fn version(version: &str) -> String {
    let mut j = GoJson::new();
    j.begin_object();
    j.key("Service");
    j.string(SERVICE);
    j.key("URL");
    j.string(URL);
    j.key("Version");
    j.string(version);
    j.end_object();
    j.finish()
}

/// The config as given (Go field order, secret already redacted), with
/// `SOASerial` showing the serial currently served.
fn config(config: &serde_json::Value, serial: u32) -> String {
    let mut j = GoJson::new();
    match config.as_object() {
        Some(map) => {
            j.begin_object();
            for (k, v) in map {
                j.key(k);
                if k == "SOASerial" {
                    j.uint(u64::from(serial));
                } else {
                    j.value(v);
                }
            }
            j.end_object();
        }
        None => j.value(config),
    }
    j.finish()
}

/// `/v1/hosts/{host}`: read through [`Lookup`], so a table built from a
/// delta publisher's view answers it without building its record set.
fn hosts(records: &dyn Lookup, host: &str) -> String {
    let key = lookup_key(host);
    let mut j = GoJson::new();
    j.begin_array();
    let mut any = false;
    let v4 = records.a(&key).iter().map(|ip| ip.to_string());
    let v6 = records.aaaa(&key).iter().map(|ip| ip.to_string());
    for ip in v4.chain(v6) {
        any = true;
        j.begin_object();
        j.key("host");
        j.string(&key);
        j.key("ip");
        j.string(&ip);
        j.end_object();
    }
    if !any {
        j.begin_object();
        j.key("host");
        j.string("");
        j.key("ip");
        j.string("");
        j.end_object();
    }
    j.end_array();
    j.finish()
}

/// `/v1/services/{service}`, read through [`Lookup`] as [`hosts`].
fn services(records: &dyn Lookup, service: &str) -> String {
    let key = lookup_key(service);
    let mut j = GoJson::new();
    j.begin_array();
    let mut any = false;
    let entry = |j: &mut GoJson, service: &str, host: &str, ip: &str, port: &str| {
        j.begin_object();
        for (k, v) in [
            ("service", service),
            ("host", host),
            ("ip", ip),
            ("port", port),
        ] {
            j.key(k);
            j.string(v);
        }
        j.end_object();
    };
    for (target, port) in records.srv(&key) {
        let port = port.to_string();
        if let Some(ip) = records.a(target).first() {
            entry(&mut j, service, target, &ip.to_string(), &port);
            any = true;
        }
        if let Some(ip) = records.aaaa(target).first() {
            entry(&mut j, service, target, &ip.to_string(), &port);
            any = true;
        }
    }
    if !any {
        entry(&mut j, "", "", "", "");
    }
    j.end_array();
    j.finish()
}

fn enumerate(records: &RecordSet) -> String {
    use std::fmt::Write as _;
    let enumeration = records.enumeration();
    let mut j = GoJson::new();
    j.begin_object();
    j.key("frameworks");
    if enumeration.is_empty() {
        j.null();
    } else {
        j.begin_array();
        let mut host = String::new();
        for fw in enumeration.frameworks() {
            j.begin_object();
            j.key("tasks");
            j.begin_array();
            for task in fw.tasks() {
                j.begin_object();
                j.key("name");
                j.string(task.name());
                j.key("id");
                j.string(task.id());
                j.key("records");
                let records = task.records();
                if records.len() == 0 {
                    j.null();
                } else {
                    j.begin_array();
                    for r in records {
                        j.begin_object();
                        j.key("name");
                        j.string(r.name);
                        j.key("host");
                        host.clear();
                        let _ = write!(host, "{}", r.host);
                        j.string(&host);
                        j.key("rtype");
                        j.string(r.rtype);
                        j.end_object();
                    }
                    j.end_array();
                }
                j.end_object();
            }
            j.end_array();
            j.key("name");
            j.string(fw.name());
            j.end_object();
        }
        j.end_array();
    }
    j.end_object();
    j.finish()
}

fn axfr(
    ctx: &ApiContext,
    records: &RecordSet,
    serial: u32,
    statics: &crate::statics::Statics,
) -> String {
    let s = ctx.settings.load();
    let mut j = GoJson::new();
    j.begin_object();
    j.key("TTL");
    j.int(s.ttl);
    j.key("Serial");
    j.uint(u64::from(serial));
    j.key("RefreshSeconds");
    j.int(s.refresh_seconds);
    j.key("Mname");
    j.string(&s.soa_mname);
    j.key("Rname");
    j.string(&s.soa_rname);
    j.key("Domain");
    j.string(&s.domain);
    j.key("Records");
    j.begin_object();
    j.key("As");
    string_map(&mut j, records.a_records(), |ip| ip.to_string());
    j.key("AAAAs");
    string_map(&mut j, records.aaaa_records(), |ip| ip.to_string());
    j.key("SRVs");
    string_map(&mut j, records.srv_records(), |srv| {
        format!("{}:{}", srv.target, srv.port)
    });
    j.end_object();
    if !statics.records.is_empty() {
        // Ours: the `StaticZoneFile` records, in file order.
        j.key("StaticRecords");
        crate::statics::axfr_json(&mut j, statics);
    }
    j.end_object();
    j.finish()
}

/// A Go `map[string][]string`: keys sorted (the record set iterates in
/// Go's byte order), values as arrays.
fn string_map<'a, V: IntoIterator>(
    j: &mut GoJson,
    map: impl Iterator<Item = (&'a str, V)>,
    show: impl Fn(V::Item) -> String,
) {
    j.begin_object();
    for (name, values) in map {
        j.key(name);
        j.begin_array();
        for v in values {
            j.string(&show(v));
        }
        j.end_array();
    }
    j.end_object();
}

/// `/ready`: 200 once a state load succeeded and the last success is no
/// older than [`ApiContext::ready_window_secs`]. A state snapshot served
/// at startup counts as a load made when the snapshot was, and the body
/// says the answers come from it.
fn ready(ctx: &ApiContext, loaded: bool) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if let Some(made) = ctx.snapshot.serving().filter(|_| loaded) {
        let age = now.saturating_sub(made);
        let window = ctx.ready_window_secs();
        let (code, verdict) = match age > window {
            true => (503, "not ready"),
            false => (200, "ready"),
        };
        let body = format!(
            "{verdict}: answers from a state snapshot {age} s old (limit {window} s), \
             no Mesos state loaded yet\n"
        );
        return Response::text(code, &body);
    }
    let last = ctx.poller.last_success_ms.load(Ordering::Relaxed) / 1000;
    if !loaded || last == 0 {
        return Response::text(503, "not ready: no Mesos state loaded yet\n");
    }
    let age = now.saturating_sub(last);
    let window = ctx.ready_window_secs();
    if age > window {
        let body =
            format!("not ready: last Mesos state load {age} s ago (limit {window} s)\n");
        return Response::text(503, &body);
    }
    Response::text(200, "ready\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slash_and_depth() {
        assert_eq!(find("/v1/version/", false).0, Endpoint::Version);
        assert_eq!(find("/v1/version//", false).0, Endpoint::Version);
        assert_eq!(find("/", false).0, Endpoint::Other);
        assert_eq!(find("/v1/hosts/", false).0, Endpoint::Other);
        assert_eq!(
            find("/v1/hosts/a.mesos", false),
            (Endpoint::Hosts, Some("a.mesos"))
        );
        assert_eq!(
            find("/v1/hosts/a/ports/", false),
            (Endpoint::HostPorts, Some("a"))
        );
        assert_eq!(find("/v1/hosts/a/b", false).0, Endpoint::Other);
        assert_eq!(find("/a/b/c/d/e/f/g", false).0, Endpoint::Other);
        assert_eq!(find("/v1/axfr", false).0, Endpoint::Other);
        assert_eq!(find("/v1/axfr", true).0, Endpoint::Axfr);
        assert_eq!(find("/v1/enumerate", true).0, Endpoint::Enumerate);
    }

    #[test]
    fn accept_rule_follows_go_restful() {
        assert!(accepts_json(""));
        assert!(accepts_json("*/*"));
        assert!(accepts_json("application/json"));
        assert!(accepts_json("text/html, application/json;q=0.9"));
        assert!(accepts_json("application/json;q=0"));
        assert!(!accepts_json("application/xml"));
        assert!(!accepts_json("application/*"));
        assert!(!accepts_json("APPLICATION/JSON"));
    }

    #[test]
    fn content_type_rule_follows_go_restful() {
        assert!(consumes_json("application/json"));
        assert!(consumes_json("application/json; charset=utf-8"));
        assert!(!consumes_json(""));
        assert!(!consumes_json("text/plain"));
    }

    /// BEHAVIOUR.md 5.3: lowercase, `.*` removed, trailing dot added.
    #[test]
    fn lookup_key_normalizes_like_mesos_dns() {
        assert_eq!(lookup_key("Bob.*.Mesos"), "bob.mesos.");
        assert_eq!(
            lookup_key("chronos.*.marathon.mesos."),
            "chronos.marathon.mesos."
        );
        assert_eq!(lookup_key(".*"), ".");
    }
}
