//! The opt-in extensions on `tests/data/state/policy.json` (issue 22):
//! `HealthFilter`, `TaskLabelPolicy` and the explain data. With them off,
//! the same state gives mesos-dns's records (`expected/policy.txt`).

use mesos_records::{generate, GenConfig, Generated, IpSource, SkipReason};

fn gen(health: Option<f64>, labels: bool) -> Generated {
    let cfg = GenConfig {
        health_filter: health,
        label_policy: labels,
        explain: true,
        ..crate::config(false, &IpSource::DEFAULT, "ns1.mesos.")
    };
    generate(&crate::state("policy"), &cfg, &["10.0.0.1:5050".to_owned()])
}

fn a(g: &Generated, name: &str) -> Vec<String> {
    g.records
        .a(name)
        .into_iter()
        .flatten()
        .map(|ip| ip.to_string())
        .collect()
}

fn srv(g: &Generated, name: &str) -> Vec<String> {
    g.records
        .srv(name)
        .into_iter()
        .flatten()
        .map(|s| format!("{}:{}", s.target, s.port))
        .collect()
}

fn count(g: &Generated, reason: SkipReason) -> usize {
    g.skips.iter().filter(|s| s.reason == reason).count()
}

#[test]
fn issue_22_off_is_drop_in() {
    let off = gen(None, false);
    let plain = generate(
        &crate::state("policy"),
        &crate::config(false, &IpSource::DEFAULT, "ns1.mesos."),
        &["10.0.0.1:5050".to_owned()],
    );
    assert!(off.records.same_records(&plain.records));
    assert!(!off.records.has_overrides());
    assert_eq!(off.skips, plain.skips);
}

#[test]
fn issue_22_unhealthy_task_left_out_of_shared_names() {
    let g = gen(Some(0.5), false);
    // web.3 reports healthy: false; web.1 and web.2 stay.
    assert_eq!(a(&g, "web.marathon.mesos."), ["172.17.0.1", "172.17.0.2"]);
    // Its agent is also web.2's: the agent address stays.
    assert_eq!(a(&g, "web.marathon.slave.mesos."), ["10.0.1.1", "10.0.1.2"]);
    let web = srv(&g, "_web._tcp.marathon.mesos.");
    assert_eq!(web.len(), 2, "{web:?}");
    assert!(web.iter().all(|v| !v.ends_with(":31002")), "{web:?}");
    // Its own names stay.
    assert_eq!(a(&g, "web-sft9q-s1.marathon.mesos."), ["172.17.0.3"]);
    assert_eq!(count(&g, SkipReason::Unhealthy), 1);
}

#[test]
fn issue_22_all_unhealthy_fail_open() {
    let g = gen(Some(0.5), false);
    assert_eq!(a(&g, "db.marathon.mesos."), ["172.17.1.1", "172.17.1.2"]);
    let open: Vec<&str> = g
        .skips
        .iter()
        .filter(|s| s.reason == SkipReason::HealthFailOpen)
        .map(|s| s.detail.as_str())
        .collect();
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open[0].starts_with("db.marathon.mesos.:"), "{open:?}");
    // A fraction above 2/3 serves web.3 again.
    let g = gen(Some(0.9), false);
    assert_eq!(a(&g, "web.marathon.mesos.").len(), 3);
}

#[test]
fn issue_22_labels_exclude_set_ttl_ip_source_and_weight() {
    let g = gen(None, true);
    assert_eq!(a(&g, "api.marathon.mesos."), ["172.17.2.2"]);
    assert!(g.records.a("api-793n9-s0.marathon.mesos.").is_none());
    assert_eq!(count(&g, SkipReason::ExcludedByLabel), 1);
    // DNS_IPSOURCES=host: the agent's address, not the container's.
    assert_eq!(a(&g, "cache.marathon.mesos."), ["10.0.1.1"]);
    assert_eq!(g.records.ttl_of("cache.marathon.mesos."), Some(5));
    assert_eq!(g.records.ttl_of("_cache._tcp.marathon.mesos."), Some(5));
    assert_eq!(g.records.ttl_of("web.marathon.mesos."), None);
    assert_eq!(
        g.records
            .srv_weight_of("cache-x1w8y-s0.marathon.slave.mesos."),
        Some(7)
    );
    // odd.1's bad values are ignored for it, counted, never fatal.
    assert_eq!(count(&g, SkipReason::BadTaskLabel), 2);
    assert_eq!(a(&g, "odd.marathon.mesos."), ["172.17.4.1"]);
    assert_eq!(g.records.ttl_of("odd.marathon.mesos."), None);
}

#[test]
fn issue_22_explain_names_tasks_values_and_reasons() {
    let g = gen(Some(0.5), true);
    let ex = g.records.explain_data().unwrap();
    let e = ex.explain(&g.records, "web.marathon.mesos.").unwrap();
    let values: Vec<(&str, &str, Vec<&str>)> = e
        .values
        .iter()
        .map(|(t, v, ids)| (*t, v.as_str(), ids.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        values,
        [
            ("A", "172.17.0.1", vec!["web.1"]),
            ("A", "172.17.0.2", vec!["web.2"])
        ]
    );
    let reason = |id: &str| {
        e.tasks
            .iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("{id} in {e:?}"))
            .left_out
            .clone()
    };
    assert_eq!(reason("web.1"), None);
    assert_eq!(
        reason("web.3").as_deref(),
        Some("unhealthy (healthy: false)")
    );
    assert_eq!(
        reason("web.4").as_deref(),
        Some("not running (TASK_STAGING)")
    );
    let web1 = e.tasks.iter().find(|t| t.id == "web.1").unwrap();
    assert_eq!(web1.ip_source, Some("netinfo"));
    assert_eq!(web1.agent, "a-S0");
    assert_eq!(web1.healthy, Some(true));

    let e = ex.explain(&g.records, "api.marathon.mesos.").unwrap();
    let api1 = e.tasks.iter().find(|t| t.id == "api.1").unwrap();
    assert_eq!(
        api1.left_out.as_deref(),
        Some("excluded by label DNS_EXCLUDE=true")
    );
    let e = ex.explain(&g.records, "cache.marathon.mesos.").unwrap();
    assert_eq!(e.tasks[0].ip_source, Some("host"));
    assert_eq!(e.tasks[0].ttl, Some(5));
    let e = ex.explain(&g.records, "_web._tcp.marathon.mesos.").unwrap();
    assert_eq!(e.values.len(), 2);
    assert!(e
        .values
        .iter()
        .all(|(t, _, ids)| *t == "SRV" && ids.len() == 1));
    // The agent-address name: the value of web.2 and web.3's agent is
    // given by web.2 only (web.3 is held out).
    let e = ex.explain(&g.records, "web.marathon.slave.mesos.").unwrap();
    let v = e.values.iter().find(|(_, v, _)| v == "10.0.1.2").unwrap();
    assert_eq!(v.2, ["web.2"]);
    assert!(ex.explain(&g.records, "nothing.marathon.mesos.").is_none());
    // Framework records have values and no task.
    let e = ex.explain(&g.records, "marathon.mesos.").unwrap();
    assert!(e.tasks.is_empty() && e.values.len() == 1);
}
