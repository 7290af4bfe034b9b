use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn cfg() -> GenConfig {
    GenConfig {
        listener: "127.0.0.1".to_owned(),
        resolver: Resolver::fixed(&[("localhost", &[IpAddr::V4(Ipv4Addr::LOCALHOST)])]),
        local_addrs: LocalAddrs::fixed(&[ip("192.0.2.1"), ip("fe80::1")]),
        ..GenConfig::default()
    }
}

fn gen_json(json: &str, cfg: &GenConfig) -> Generated {
    let state = State::parse(json.as_bytes()).unwrap();
    generate(&state, cfg, &[])
}

fn reasons(g: &Generated) -> Vec<SkipReason> {
    g.skips.iter().map(|s| s.reason).collect()
}

const SLAVE: &str = r#"{"id":"S-0","pid":"slave(1)@10.0.0.1:5051"}"#;

fn one_task(task: &str) -> String {
    format!(
        r#"{{"leader":"m@1.2.3.4:5050","slaves":[{SLAVE}],
        "frameworks":[{{"name":"fw","tasks":[{task}]}}]}}"#
    )
}

// generator_test.go TestParseState_SOAMname (BEHAVIOUR.md 4.10).
#[test]
fn spec_4_10_nameserver_record_from_soamname() {
    let mut c = cfg();
    c.soa_mname = "jdef123.mesos.".to_owned();
    c.listener = "4.5.6.7".to_owned();
    let g = gen_json(r#"{"leader":"foo@0.1.2.3:45"}"#, &c);
    assert!(g
        .records
        .a("jdef123.mesos.")
        .unwrap()
        .contains(&"4.5.6.7".parse().unwrap()));
    c.soa_mname = "ack456.mesos.".to_owned();
    c.listener = "2001:db8::1".to_owned();
    let g = gen_json(r#"{"leader":"foo@0.1.2.3:45"}"#, &c);
    assert!(g
        .records
        .aaaa("ack456.mesos.")
        .unwrap()
        .contains(&"2001:db8::1".parse().unwrap()));
}

#[test]
fn spec_4_10_listener_forms() {
    let mut c = cfg();
    let run = |c: &GenConfig| gen_json(r#"{"leader":"m@1.2.3.4:5050"}"#, c);
    c.listener = "0.0.0.0".to_owned();
    let g = run(&c);
    assert_eq!(g.records.a("ns1.mesos.").unwrap().len(), 1);
    assert_eq!(g.records.aaaa("ns1.mesos.").unwrap().len(), 1);
    c.listener = "::".to_owned();
    assert!(run(&c)
        .records
        .aaaa("ns1.mesos.")
        .unwrap()
        .contains(&"::".parse().unwrap()));
    c.listener = "dns.example".to_owned();
    let g = run(&c);
    assert!(!g.records.has_name("ns1.mesos."));
    assert_eq!(reasons(&g), [SkipReason::BadListener]);
    // SOAMname is kept as configured, upper case included
    // (BEHAVIOUR.md 11).
    c.listener = "127.0.0.1".to_owned();
    c.soa_mname = "NS1.Example.".to_owned();
    assert!(run(&c).records.a("NS1.Example.").is_some());
}

#[test]
fn spec_4_4_framework_records() {
    let g = gen_json(
        r#"{"leader":"m@1.2.3.4:5050","frameworks":[
        {"name":"My App","pid":"scheduler@10.9.0.1:8080"},
        {"name":"hosted","hostname":"localhost"},
        {"name":"lost","hostname":"nowhere.example"},
        {"name":"broken","pid":"no-at-sign","tasks":[]},
        {"name":"...","pid":"s@10.9.0.2:1"}
    ]}"#,
        &cfg(),
    );
    let rs = &g.records;
    assert!(rs
        .a("myapp.mesos.")
        .unwrap()
        .contains(&"10.9.0.1".parse().unwrap()));
    assert_eq!(
        rs.srv("_framework._tcp.myapp.mesos.")
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .port,
        8080
    );
    assert!(rs
        .a("hosted.mesos.")
        .unwrap()
        .contains(&Ipv4Addr::LOCALHOST));
    assert!(rs.srv("_framework._tcp.hosted.mesos.").is_none());
    assert!(!rs.has_name("lost.mesos.") && !rs.has_name("broken.mesos."));
    // `...` sanitizes to empty: mesos-dns stores `.mesos.`
    // (BEHAVIOUR.md 4.3).
    assert!(rs.a(".mesos.").is_some());
    assert!(rs.srv("_framework._tcp..mesos.").is_some());
    assert_eq!(
        reasons(&g),
        [SkipReason::BadFrameworkPid, SkipReason::Unresolved]
    );
    assert_eq!(g.records.enumeration().frameworks().len(), 5);
}

#[test]
fn only_running_tasks_on_known_slaves() {
    let g = gen_json(
        &format!(
            r#"{{"leader":"m@1.2.3.4:5050","slaves":[{SLAVE}],"frameworks":[{{"name":"fw","tasks":[
            {{"id":"a","name":"a","slave_id":"S-0","state":"TASK_STAGING"}},
            {{"id":"b","name":"b","slave_id":"S-9","state":"TASK_RUNNING"}},
            {{"id":"c","name":"c","slave_id":"S-0","state":"TASK_RUNNING"}}]}}]}}"#
        ),
        &cfg(),
    );
    let rs = &g.records;
    assert!(!rs.has_name("a.fw.mesos.") && !rs.has_name("b.fw.mesos."));
    assert!(rs
        .a("c.fw.mesos.")
        .unwrap()
        .contains(&"10.0.0.1".parse().unwrap()));
    let tasks: Vec<_> = rs
        .enumeration()
        .frameworks()
        .next()
        .unwrap()
        .tasks()
        .collect();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].id(), "c");
}

#[test]
fn unresolved_slave_is_known_without_ips() {
    let g = gen_json(
        r#"{"leader":"m@1.2.3.4:5050","slaves":[{"id":"S-1","pid":"slave(1)@agent.invalid:5051"}],
        "frameworks":[{"name":"fw","tasks":[{"id":"t","name":"web","slave_id":"S-1","state":"TASK_RUNNING",
        "resources":{"ports":"[8080-8080]"},
        "statuses":[{"state":"TASK_RUNNING","timestamp":1,"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"172.17.0.2"}]}]}}]}]}]}"#,
        &cfg(),
    );
    let rs = &g.records;
    assert!(rs
        .a("web.fw.mesos.")
        .unwrap()
        .contains(&"172.17.0.2".parse().unwrap()));
    assert!(!rs.has_name("web.fw.slave.mesos.") && !rs.has_name("slave.mesos."));
    // The SRV still points at the .slave name, as in mesos-dns.
    assert!(rs.srv("_web._tcp.fw.mesos.").is_some());
    assert_eq!(reasons(&g), [SkipReason::Unresolved]);
}

// BEHAVIOUR.md 0: a long task name never gives a canonical label over 63
// octets.
#[test]
fn rfc1035_2_3_4_long_task_names_stay_valid() {
    let name = "x".repeat(60);
    let g = gen_json(
        &one_task(&format!(
            r#"{{"id":"t","name":"{name}","slave_id":"S-0","state":"TASK_RUNNING","resources":{{"ports":"[1-1]"}}}}"#
        )),
        &cfg(),
    );
    assert!(g.skips.is_empty(), "{:?}", g.skips);
    let canon = g
        .records
        .a_records()
        .map(|(n, _)| n)
        .find(|n| n.contains("-0.fw."))
        .unwrap();
    let label = canon.split('.').next().unwrap();
    assert_eq!(label.len(), 63);
    assert!(label.ends_with("-0"));
    let srv = &g.records.srv(&format!("_{name}._tcp.fw.mesos.")).unwrap();
    assert_eq!(
        srv.iter().next().unwrap().target,
        format!("{label}.fw.slave.mesos.")
    );
}

// Legacy DiscoveryInfo names are kept whatever they hold (issue 15).
#[test]
fn legacy_names_with_any_character_are_kept() {
    let g = gen_json(
        &one_task(
            r#"{"id":"t","name":"x","slave_id":"S-0","state":"TASK_RUNNING",
            "discovery":{"name":"My Shop","ports":{"ports":[{"number":80,"protocol":"","name":"Web_UI"},
            {"number":53,"protocol":"UDP","name":"$$"}]}}}"#,
        ),
        &cfg(),
    );
    let rs = &g.records;
    assert!(g.skips.is_empty(), "{:?}", g.skips);
    assert!(rs.a("myshop.fw.mesos.").is_some());
    assert!(rs.a("My Shop.fw.mesos.").is_some());
    assert!(rs.a("My Shop.fw.slave.mesos.").is_some());
    let names: Vec<&str> = rs
        .srv_records()
        .map(|(n, _)| n)
        .filter(|n| n.contains(".fw."))
        .collect();
    assert_eq!(
        names,
        [
            "_My Shop._tcp.fw.mesos.",
            "_My Shop._udp.fw.mesos.",
            "_myshop._tcp.fw.mesos.",
            "_myshop._udp.fw.mesos.",
            "_web-ui._My Shop._tcp.fw.mesos.",
            "_web-ui._My Shop._udp.fw.mesos.",
            "_web-ui._myshop._tcp.fw.mesos.",
            "_web-ui._myshop._udp.fw.mesos.",
        ]
    );
    assert!(rs
        .srv("_myshop._udp.fw.mesos.")
        .unwrap()
        .iter()
        .any(|s| s.port == 53));
    // The legacy pass's SRV targets keep the raw name too.
    let srv = rs.srv("_My Shop._tcp.fw.mesos.").unwrap();
    assert!(srv.iter().all(|s| s.target.starts_with("My Shop-")));
}

#[test]
fn legacy_names_keep_dots_and_case() {
    let g = gen_json(
        &one_task(
            r#"{"id":"t","name":"x","slave_id":"S-0","state":"TASK_RUNNING",
            "discovery":{"name":"Shop.Front","ports":{"ports":[{"number":80,"protocol":"tcp"}]}}}"#,
        ),
        &cfg(),
    );
    assert!(g.skips.is_empty(), "{:?}", g.skips);
    assert!(g.records.a("Shop.Front.fw.slave.mesos.").is_some());
    assert!(g.records.srv("_Shop.Front._tcp.fw.mesos.").is_some());
    assert!(g.records.a("shop-front.fw.mesos.").is_some());
    assert!(g.records.a("shop-front.fw.slave.mesos.").is_some());
}

#[test]
fn empty_task_name_keeps_the_canonical_name() {
    let g = gen_json(
        &one_task(
            r#"{"id":"test","name":"%%%","slave_id":"S-0","state":"TASK_RUNNING"}"#,
        ),
        &cfg(),
    );
    assert!(g.records.a("-iffe9-0.fw.slave.mesos.").is_some());
    // mesos-dns keeps the name with an empty label (BEHAVIOUR.md 4.3).
    assert!(g.records.a(".fw.slave.mesos.").is_some());
    assert!(g.skips.is_empty());
}

#[test]
fn rfc4291_mapped_task_ips_are_a_records() {
    let g = gen_json(
        &one_task(
            r#"{"id":"t","name":"m","slave_id":"S-0","state":"TASK_RUNNING",
            "statuses":[{"state":"TASK_RUNNING","timestamp":2,"container_status":{"network_infos":[
            {"ip_addresses":[{"ip_address":"::ffff:10.8.0.1"}]}]}}]}"#,
        ),
        &cfg(),
    );
    assert!(g
        .records
        .a("m.fw.mesos.")
        .unwrap()
        .contains(&"10.8.0.1".parse().unwrap()));
    assert!(g.records.aaaa("m.fw.mesos.").is_none());
}

#[test]
fn generation_is_deterministic_and_enumeration_optional() {
    let body = one_task(
        r#"{"id":"t","name":"a","slave_id":"S-0","state":"TASK_RUNNING","resources":{"ports":"[1-3]"}}"#,
    );
    let one = gen_json(&body, &cfg());
    let two = gen_json(&body, &cfg());
    assert_eq!(one.records, two.records);
    let mut c = cfg();
    c.enumeration = false;
    let off = gen_json(&body, &c);
    assert!(off.records.same_records(&one.records));
    assert!(off.records.enumeration().is_empty());
    assert!(!one.records.enumeration().is_empty());
}
