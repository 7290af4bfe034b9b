use super::*;

fn ports(text: &str) -> (Vec<u16>, usize) {
    let mut bad = 0;
    let p = expand_ports(text, |_| bad += 1);
    (p, bad)
}

// state_test.go TestResources_Ports.
#[test]
fn expands_port_ranges() {
    assert_eq!(
        ports("[31111-31111, 31115-31117]"),
        (vec![31111, 31115, 31116, 31117], 0)
    );
    assert_eq!(ports(""), (vec![], 0));
    assert_eq!(ports("[]"), (vec![], 0));
    assert_eq!(ports("[31000-31001-31005]"), (vec![31000, 31001], 0));
    assert_eq!(ports("x[5-6]y[7-8]"), (vec![5, 6], 0));
    assert_eq!(ports("[9-7]"), (vec![], 0));
}

// Spec 0: mesos-dns panics on these; we skip the range with a reason.
#[test]
fn bad_port_ranges_are_skipped_not_fatal() {
    assert_eq!(ports("[31000]"), (vec![], 1));
    assert_eq!(ports("[31000, 5-5]"), (vec![5], 1));
    assert_eq!(ports("31000-31001"), (vec![], 1));
    assert_eq!(ports("[a-3, 4-4]"), (vec![4], 1));
    assert_eq!(ports("[ ]"), (vec![], 1));
    assert_eq!(ports("[65535-70000]"), (vec![65535], 1));
}

// state_test.go TestPID_UnmarshalJSON (quotes and spaces trimmed).
#[test]
fn parses_pids() {
    let want = Pid {
        host: "127.0.0.1".to_owned(),
        port: 5051,
    };
    for text in [
        "slave(1)@127.0.0.1:5051",
        "  slave(1)@127.0.0.1:5051  ",
        "\"slave(1)@127.0.0.1:5051\"",
    ] {
        assert_eq!(parse_pid(text), Ok(want.clone()), "{text:?}");
    }
    let v6 = parse_pid("  slave(1)@[2001:db8::1]:5051  ").unwrap();
    assert_eq!(v6.host, "2001:db8::1");
    assert_eq!(
        parse_pid("s@agent1.example:5051").unwrap().host,
        "agent1.example"
    );
    assert_eq!(parse_pid("s@:5051").unwrap().host, "");
    for bad in [
        "",
        "a@b@c:1",
        "nope",
        "s@1.2.3.4",
        "s@1.2.3.4:x",
        "s@1.2.3.4:70000",
    ] {
        assert!(parse_pid(bad).is_err(), "{bad:?}");
    }
    assert!(parse_pid("s@2001:db8::1:5051").is_err());
}

#[test]
fn rejects_bodies_without_leader_or_json() {
    assert!(matches!(State::parse(b"{}"), Err(StateError::NoLeader)));
    assert!(matches!(
        State::parse(br#"{"leader":""}"#),
        Err(StateError::NoLeader)
    ));
    assert!(matches!(
        State::parse(br#"{"leader":null}"#),
        Err(StateError::NoLeader)
    ));
    for bad in [
        &b"<html>"[..],
        b"",
        b"[1]",
        b"null",
        br#"{"leader":"m@1.2.3.4:5050""#,
    ] {
        assert!(
            matches!(State::parse(bad), Err(StateError::Json(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        State::parse(br#"{"leader":5}"#),
        Err(StateError::Json(_))
    ));
    let e = State::parse(br#"{"leader":"m@1.2.3.4:1","slaves":{}}"#).unwrap_err();
    assert!(e.to_string().contains("slaves"), "{e}");
}

#[test]
fn reads_a_minimal_state() {
    let s = State::parse(br#"{"leader":"master@1.2.3.4:5050","extra":[1,{"a":null}]}"#)
        .unwrap();
    assert_eq!(s.leader, "master@1.2.3.4:5050");
    assert!(s.frameworks.is_empty() && s.slaves.is_empty() && s.skips.is_empty());
}

#[test]
fn keys_match_case_insensitively() {
    let s = State::parse(
        br#"{"LEADER":"m@1.2.3.4:1","Slaves":[{"ID":"s1","Pid":"x@1.1.1.1:1"}]}"#,
    )
    .unwrap();
    assert_eq!(s.slaves[0].id, "s1");
    // Go's fold also maps `ſ` to `s` and the Kelvin sign to `k`; both
    // readers agree.
    let body = "{\"leader\":\"m@1.2.3.4:1\",\"\u{17f}laves\":[{\"id\":\"s1\",\"pid\":\"x@1.1.1.1:1\"}]}";
    for s in [
        State::parse(body.as_bytes()).unwrap(),
        State::parse_lenient(body.as_bytes()).unwrap(),
    ] {
        assert_eq!(s.slaves.len(), 1, "{body}");
    }
}

#[test]
fn malformed_entities_are_skipped_with_reasons() {
    let body = br#"{
        "leader": "master@1.2.3.4:5050",
        "slaves": [
            {"id": "ok", "pid": "slave(1)@1.2.3.10:5051"},
            {"id": "nopid"},
            {"id": 7, "pid": "slave(1)@1.2.3.11:5051"},
            {"id": "badpid", "pid": "nonsense"},
            {"id": "nullpid", "pid": null},
            "junk"
        ],
        "frameworks": [
            {"name": "fw", "pid": "scheduler@1.2.3.4", "tasks": [
                {"id": "t1", "name": "a", "slave_id": "ok", "state": "TASK_RUNNING"},
                {"id": "t2", "statuses": [{"timestamp": "soon"}]},
                {"id": "t3", "resources": {"ports": [31000]}},
                42,
                {"id": "t4", "resources": {"ports": "[31000]"}}
            ]},
            {"name": ["not", "a", "string"]},
            {"name": "tasks not array", "tasks": {}}
        ]
    }"#;
    let s = State::parse(body).unwrap();
    assert_eq!(s.slaves.len(), 1);
    assert_eq!(s.frameworks.len(), 1);
    let fw = &s.frameworks[0];
    assert!(fw.bad_pid && fw.pid.is_none());
    let ids: Vec<&str> = fw.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["t1", "t4"]);
    let count = |r| s.skips.iter().filter(|k| k.reason == r).count();
    assert_eq!(count(SkipReason::MalformedSlave), 5);
    assert_eq!(count(SkipReason::MalformedFramework), 2);
    assert_eq!(count(SkipReason::MalformedTask), 3);
    assert_eq!(count(SkipReason::BadFrameworkPid), 1);
    assert_eq!(count(SkipReason::BadPortRange), 1);
    assert!(s
        .skips
        .iter()
        .any(|k| k.detail.contains("statuses.0.`timestamp` is a string")));
}

#[test]
fn invalid_utf8_is_replaced_like_go() {
    let mut body = br#"{"leader":"m@1.2.3.4:1","frameworks":[{"name":"a"#.to_vec();
    body.push(0xff);
    body.extend_from_slice(br#"b"}]}"#);
    let s = State::parse(&body).unwrap();
    assert_eq!(s.frameworks[0].name, "a\u{fffd}b");
}

fn task_and_skips(json: &str) -> (Task, Vec<Skip>) {
    let body =
        format!(r#"{{"leader":"m@1.2.3.4:1","frameworks":[{{"tasks":[{json}]}}]}}"#);
    let s = State::parse(body.as_bytes()).unwrap();
    (s.frameworks[0].tasks[0].clone(), s.skips)
}

fn task_of(json: &str) -> Task {
    let (t, skips) = task_and_skips(json);
    assert!(skips.is_empty(), "{skips:?}");
    t
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

// state_test.go TestTask_IPs, the status-selection half (spec 4.8).
#[test]
fn latest_running_status_wins() {
    let t = task_of(
        r#"{"statuses":[
        {"state":"TASK_RUNNING","timestamp":1,"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"1.2.3.4"}]}]}},
        {"state":"TASK_RUNNING","timestamp":4,"container_status":{"network_infos":[{"ip_addresses":[{"ip_address":"1.3.5.7"}]}]}},
        {"state":"TASK_RUNNING","timestamp":3,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.3.4.5"}]},
        {"state":"TASK_RUNNING","timestamp":5,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.4.6.8"}]},
        {"state":"TASK_RUNNING","timestamp":2,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.5.8.1"}]},
        {"state":"TASK_KILLED","timestamp":9,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"9.9.9.9"}]}
    ]}"#,
    );
    let st = t.running_status.unwrap();
    assert_eq!(st.docker, ips(&["2.4.6.8"]));
    assert!(st.netinfo.is_empty());
}

#[test]
fn status_ties_and_negative_timestamps() {
    let t = task_of(
        r#"{"statuses":[
        {"state":"TASK_RUNNING","timestamp":-1,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]}
    ]}"#,
    );
    assert_eq!(t.running_status, None);
    let t = task_of(
        r#"{"statuses":[
        {"state":"TASK_RUNNING","timestamp":2,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"1.1.1.1"}]},
        {"state":"TASK_RUNNING","timestamp":2,"labels":[{"key":"Docker.NetworkSettings.IPAddress","value":"2.2.2.2"}]}
    ]}"#,
    );
    assert_eq!(t.running_status.unwrap().docker, ips(&["1.1.1.1"]));
}

#[test]
fn netinfo_forms() {
    let t = task_of(
        r#"{"statuses":[{"state":"TASK_RUNNING","container_status":{"network_infos":[
        {"ip_address":""},
        {"ip_addresses":[{"ip_address":"1.2.3.4"},{"ip_address":"fd01:b::1:8000:2"},{"ip_address":"junk"}]},
        {"ip_address":"1.2.3.5"},
        {"ip_address":"1.2.3.6","ip_addresses":[{"ip_address":"1.2.4.8"}]}
    ]}}]}"#,
    );
    let st = t.running_status.unwrap();
    assert_eq!(
        st.netinfo,
        ips(&["1.2.3.4", "fd01:b::1:8000:2", "1.2.3.5", "1.2.4.8"])
    );
}

#[test]
fn labels_keep_order_and_both_keys() {
    let t = task_of(
        r#"{"statuses":[{"state":"TASK_RUNNING","labels":[
        {"key":"Docker.NetworkSettings.IPAddress","value":"1.2.3.4"},
        {"key":"MesosContainerizer.NetworkSettings.IPAddress","value":"10.3.0.3"},
        {"key":"Docker.NetworkSettings.IPAddress","value":"2.3.4.5"},
        {"key":"container-ip","value":"9.9.9.9"}
    ]}]}"#,
    );
    let st = t.running_status.unwrap();
    assert_eq!(st.docker, ips(&["1.2.3.4", "2.3.4.5"]));
    assert_eq!(st.mesos, ips(&["10.3.0.3"]));
}

#[test]
fn discovery_info() {
    let (t, skips) = task_and_skips(
        r#"{"id":"x","discovery":{"name":"liquor.store","visibility":5,"ports":{"ports":[
        {"number":80,"protocol":"tcp","name":"http"},{"number":70000},{"protocol":"udp"}]}}}"#,
    );
    assert_eq!(skips.len(), 1);
    assert_eq!(skips[0].reason, SkipReason::BadDiscoveryPort);
    let d = t.discovery.unwrap();
    assert_eq!(d.name, "liquor.store");
    assert_eq!(d.ports.len(), 2);
    assert_eq!(d.ports[1].number, 0);
    assert_eq!(d.ports[1].protocol, "udp");
    assert_eq!(task_of(r#"{"discovery":{"name":""}}"#).discovery, None);
}

#[test]
fn a_state_with_nothing_usable_fails_but_an_empty_cluster_loads() {
    let leader = r#""leader":"master@1.2.3.4:5050""#;
    let slave = r#"{"id":"s","pid":"slave(1)@1.2.3.5:5051"}"#;
    let fw = r#"{"name":"f","tasks":[]}"#;
    let parse = |rest: &str| State::parse(format!("{{{leader},{rest}}}").as_bytes());
    for bad in [
        r#""frameworks":[1,2,3]"#.to_owned(),
        format!(r#""frameworks":[1,{{"name":5}}],"slaves":[{slave}]"#),
        format!(r#""frameworks":[{fw}],"slaves":["x",{{"id":"nopid"}}]"#),
    ] {
        let e = parse(&bad).unwrap_err();
        assert!(matches!(e, StateError::NothingUsable(_)), "{bad}: {e}");
        assert!(e.to_string().contains("malformed"), "{e}");
    }
    // Empty or absent lists, or partly malformed ones, load.
    for good in [
        r#""frameworks":[],"slaves":[]"#.to_owned(),
        r#""frameworks":null"#.to_owned(),
        format!(r#""frameworks":[1,{fw}],"slaves":["x",{slave}]"#),
        format!(r#""frameworks":[null],"slaves":[{slave}]"#),
    ] {
        assert!(parse(&good).is_ok(), "{good}");
    }
    assert!(State::parse(format!("{{{leader}}}").as_bytes()).is_ok());
}
