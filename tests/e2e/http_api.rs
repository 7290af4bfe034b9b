//! The HTTP API end to end: every `/v1` endpoint and error status through
//! curl and ureq, bodies compared with the shapes of BEHAVIOUR.md section 6
//! (structurally, and byte for byte where the Go indentation is the
//! point), plus `/health` and `/ready`.

use mesos_dns_tests::http::*;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use mesos_dns::dns_config::DnsConfig;
use mesos_dns::http::HttpLimits;
use mesos_dns::table::Table;
use mesos_records::RecordSet;
use serde_json::json;

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
    // Names outside the domain are served too (BEHAVIOUR.md 11).
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
    // Rendered (and cached) for the first table...
    let first = get(&s.url("/v1/axfr")).body;
    assert!(first.contains(&format!("\"Serial\": {SERIAL},")));
    assert_eq!(get(&s.url("/v1/axfr")).body, first);
    assert!(get(&s.url("/v1/enumerate")).body.contains("\"marathon\""));
    // ...and rendered again for the next one.
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
