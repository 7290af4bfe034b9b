//! `/metrics` end to end: promtool and a stricter in-test checker of the
//! Prometheus text format, and the values of every source (table, poller,
//! DNS counters, HTTP counters).

use mesos_dns_tests::http::*;

use std::io::Write;
use std::process::{Command, Stdio};

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
    // histogram series with a `_sum`, and with a `_count`
    let mut summed: HashSet<String> = HashSet::new();
    let mut counted: HashSet<String> = HashSet::new();
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
                    counted.insert(key);
                } else {
                    assert_eq!(
                        name,
                        format!("{fam}_sum"),
                        "sample of another family, {at}"
                    );
                    assert!(value >= 0.0, "negative _sum, {at}");
                    summed.insert(key);
                }
            }
        }
    }
    for (key, (_, _, inf)) in buckets {
        assert!(inf.is_some(), "histogram {key} without +Inf bucket");
        assert!(summed.contains(&key), "histogram {key} without _sum");
        assert!(counted.contains(&key), "histogram {key} without _count");
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
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
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
        "mesosdns_dns_response_size_bytes_sum 70700",
        "mesosdns_dns_forwarded_total{upstream=\"127.0.0.1:53\",outcome=\"timeout\"} 1",
        "mesosdns_dns_forwarded_total{upstream=\"[::1]:5353\",outcome=\"error\"} 1",
        "mesosdns_dns_forward_duration_seconds_bucket{upstream=\"[::1]:5353\",le=\"0.025\"} 0",
        "mesosdns_dns_forward_duration_seconds_bucket{upstream=\"[::1]:5353\",le=\"0.05\"} 1",
        "mesosdns_dns_forward_duration_seconds_bucket{upstream=\"127.0.0.1:53\",le=\"1\"} 1",
        "mesosdns_dns_forward_duration_seconds_count{upstream=\"127.0.0.1:53\"} 2",
        "mesosdns_dns_forward_duration_seconds_sum{upstream=\"127.0.0.1:53\"} 5.0008",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in\n{body}");
    }
    // HEAD works on /metrics and sends no body.
    let head = curl(&["-I", &s.url("/metrics")]);
    assert_eq!((head.status, head.body.contains("# TYPE")), (200, false));
}
