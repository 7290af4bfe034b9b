//! Golden files: `tests/data/state/<case>.json` (plus an optional
//! `<case>.conf`) generate `tests/data/expected/<case>.txt`, a sorted
//! zone-style dump followed by the skips and the enumeration.
//!
//! `UPDATE_GOLDEN=1 cargo test -p mesos-records --test generation golden`
//! rewrites the expected files instead of comparing.
//!
//! A `.conf` holds `key = value` lines: `state` (another case's JSON),
//! `leader`, `masters` (comma-separated), `domain`, `rfc952`, `ip_sources`,
//! `listener`, `soa_mname`. Defaults: the state's own leader, masters = the
//! leader's `host:port`, domain `mesos`, RFC 1123, `netinfo,mesos,host`,
//! listener 127.0.0.1, `ns1.mesos.`.

use std::fmt::Write as _;

use mesos_records::{generate, IpSource, State};

fn conf(case: &str) -> Vec<(String, String)> {
    let path = crate::data(&format!("state/{case}.conf"));
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("{case}.conf: {l:?}"));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

fn render(case: &str) -> String {
    let conf = conf(case);
    let get = |k: &str| {
        conf.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let json = get("state").unwrap_or_else(|| case.to_owned());
    let body = std::fs::read(crate::data(&format!("state/{json}.json"))).unwrap();
    let mut state = State::parse(&body).unwrap();
    if let Some(leader) = get("leader") {
        state.leader = leader;
    }
    let masters: Vec<String> = match get("masters") {
        Some(m) => m.split(',').map(|s| s.trim().to_owned()).collect(),
        None => state
            .leader
            .split('@')
            .nth(1)
            .map(str::to_owned)
            .into_iter()
            .collect(),
    };
    let sources: Vec<IpSource> = get("ip_sources")
        .map(|s| {
            s.split(',')
                .map(|n| IpSource::from_name(n.trim()).unwrap())
                .collect()
        })
        .unwrap_or_else(|| IpSource::DEFAULT.to_vec());
    let mut cfg = crate::config(
        get("rfc952").is_some_and(|v| v == "true"),
        &sources,
        &get("soa_mname").unwrap_or_else(|| "ns1.mesos.".to_owned()),
    );
    if let Some(d) = get("domain") {
        cfg.domain = d;
    }
    if let Some(l) = get("listener") {
        cfg.listener = l;
    }
    let g = generate(&state, &cfg, &masters);
    let mut out = format!(
        "; {case}: {} A names, {} AAAA names, {} SRV names, {} records\n",
        g.records.a_records().count(),
        g.records.aaaa_records().count(),
        g.records.srv_records().count(),
        g.records.len()
    );
    out.push_str(&g.records.dump());
    for s in &g.skips {
        let _ = writeln!(out, "; skip {s}");
    }
    for fw in g.records.enumeration().frameworks() {
        let _ = writeln!(out, "; enumerate framework {:?}", fw.name());
        for t in fw.tasks() {
            let _ = writeln!(out, ";   task {:?} id {:?}", t.name(), t.id());
            for r in t.records() {
                let _ = writeln!(out, ";     {} {} {}", r.name, r.rtype, r.host);
            }
        }
    }
    out
}

#[test]
fn golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let dir = crate::data("state");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".json")
                .or_else(|| name.strip_suffix(".conf"))
                .map(str::to_owned)
        })
        .collect();
    cases.sort();
    cases.dedup();
    assert!(cases.len() >= 5, "golden cases: {cases:?}");
    let mut failed = Vec::new();
    for case in &cases {
        let got = render(case);
        let path = crate::data(&format!("expected/{case}.txt"));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| {
                panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display())
            })
            .replace("\r\n", "\n");
        if got != want {
            let diff: Vec<String> = want
                .lines()
                .zip(got.lines())
                .filter(|(w, g)| w != g)
                .take(5)
                .map(|(w, g)| format!("  want {w}\n  got  {g}"))
                .collect();
            failed.push(format!(
                "{case}: ({} vs {} lines)\n{}",
                want.lines().count(),
                got.lines().count(),
                diff.join("\n")
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "golden mismatches:\n{}",
        failed.join("\n")
    );
}
