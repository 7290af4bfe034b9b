// The one-pass reading against the lenient one: the same snapshot, or the
// same error, for odd input of every kind.

use serde_json::{json, Value};

use super::*;

/// Both readings of `body`, which must agree; and whether the one-pass
/// reading read it (`false`: it handed all of it over).
fn agree(body: &[u8]) -> bool {
    let (one, read) = match read(body) {
        Read::Subscribed(snapshot, heartbeat) => (Ok(Some((snapshot, heartbeat))), true),
        Read::Other => (Ok(None), true),
        Read::Lenient => (v1::subscribed_raw(body), false),
    };
    let lenient = v1::subscribed_raw(body);
    assert_eq!(one, lenient, "{}", String::from_utf8_lossy(body));
    read
}

fn usual_task(id: &str) -> Value {
    json!({"name": "web", "task_id": {"value": id}, "framework_id": {"value": "F\"1"},
        "agent_id": {"value": "S1"}, "state": "TASK_RUNNING",
        "labels": {"labels": [{"key": "DNS_X", "value": "1"}]},
        "discovery": {"name": "d", "ports": {"ports": [{"number": 80}]}},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                      {"name": "ports", "ranges": {"range": [{"begin": 3, "end": 4}, {"begin": 1, "end": 2}]}},
                      {"name": "ports", "revocable": null, "ranges": {"range": [{"begin": 9, "end": 9}]}}],
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 2, "healthy": true, "uuid": "x",
            "labels": {"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": "1.2.3.4"}]},
            "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "10.0.0.1"}]}]}},
            {"state": "TASK_\u{52}UNNING", "timestamp": 1}]})
}

fn subscribed(tasks: &[Value]) -> Vec<u8> {
    let body = json!({"type": "SUBSCRIBED", "subscribed": {"heartbeat_interval_seconds": 5,
        "get_state": {
            "get_agents": {"agents": [{"agent_info": {"id": {"value": "S1"}, "hostname": "h"}}]},
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": "F\"1"}, "name": "m"}}]},
            "get_tasks": {"tasks": tasks}}}});
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn usual_records_are_read_in_one_pass() {
    let tasks: Vec<Value> = (0..5).map(|i| usual_task(&format!("T{i}"))).collect();
    let body = subscribed(&tasks);
    assert!(agree(&body));
    let Read::Subscribed(snapshot, heartbeat) = read(&body) else {
        panic!("not read");
    };
    assert_eq!(heartbeat, Some(Duration::from_secs(5)));
    assert_eq!(snapshot.tasks.len(), 5);
    assert_eq!(snapshot.agents.len(), 1);
    let (_, frameworks, listed) = snapshot.tasks.into_parts();
    let listed: Vec<_> = listed.into_listed().collect();
    assert_eq!(frameworks, ["F\"1"]);
    assert_eq!(listed[0].running_ts, 2.0);
    // Read as the state reader reads the task, with no text between.
    let (first, skips) = listed[0].read.as_ref().expect("read");
    assert!(skips.is_empty());
    assert_eq!(first.ports, [1, 2, 3, 4]);
    assert_eq!(*first.labels, [("DNS_X".to_owned(), "1".to_owned())]);
    let ips = first.running_status.as_ref().expect("running");
    assert_eq!(
        ips.docker(),
        ["1.2.3.4".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(ips.healthy, Some(true));
    assert_eq!(first.discovery.as_ref().map(|d| d.name.as_str()), Some("d"));
    // A task read in one pass is what the lenient reading makes of it.
    for t in &tasks {
        let text = t.to_string();
        let mut scratch = Scratch::default();
        assert!(task(&mut Scan::new(&text), &mut scratch).is_ok(), "{text}");
    }
}

/// Tasks of every odd shape, each amid usual ones.
#[test]
fn odd_tasks_read_as_the_lenient_reading_reads_them() {
    let odd: Vec<Value> = vec![
        json!(5),
        json!([]),
        json!(null),
        json!({}),
        json!({"task_id": {"value": "T"}, "framework_id": {"value": "F"}}),
        json!({"task_id": {"value": 5}, "framework_id": {"value": "F"}, "agent_id": {"value": "S"}}),
        json!({"task_id": {"value": null}, "framework_id": {"value": "F"}, "agent_id": {"value": "S"}}),
        json!({"task_id": "T", "framework_id": {"value": "F"}, "agent_id": {"value": "S"}}),
    ];
    for t in odd {
        agree(&subscribed(&[usual_task("A"), t]));
    }
    let patches: Vec<(&str, Value)> = vec![
        ("name", json!(5)),
        ("name", json!(null)),
        ("state", json!({"x": 1})),
        ("discovery", json!("d")),
        ("labels", json!(null)),
        ("labels", json!("x")),
        ("labels", json!({})),
        ("labels", json!({"labels": null})),
        ("labels", json!({"labels": 7, "other": 1})),
        ("statuses", json!(null)),
        ("statuses", json!(7)),
        (
            "statuses",
            json!([7, {"state": "TASK_RUNNING", "timestamp": 3}]),
        ),
        ("statuses", json!([["TASK_RUNNING", 5]])),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "timestamp": "5"}]),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "timestamp": null}]),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "timestamp": -3}]),
        ),
        ("statuses", json!([{"state": 1, "labels": {"labels": "x"}}])),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "labels": 5, "container_status": null}]),
        ),
        ("statuses", json!([])),
        ("resources", json!(null)),
        ("resources", json!("x")),
        (
            "resources",
            json!([5, null, {"name": 5}, {"name": null, "ranges": 1}]),
        ),
        ("resources", json!([{"name": "ports"}])),
        ("resources", json!([{"name": "ports", "ranges": null}])),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": null}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": 5}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [5, null, {"begin": 1}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [{"begin": "1", "end": 2}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [{"begin": 1.0, "end": 2}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [{"begin": -1, "end": 2}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [{"begin": 0, "end": 18446744073709551615_u64}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [{"begin": 65530, "end": 70000}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "ranges": {"range": [{"begin": 5, "end": 4}, {"begin": 7, "end": 7}]}}]),
        ),
        (
            "resources",
            json!([{"name": "ports", "revocable": {}, "ranges": {"range": [{"begin": 1, "end": 2}]}}]),
        ),
        (
            "resources",
            json!([{"name": "PORTS", "ranges": {"range": [{"begin": 1, "end": 2}]}}]),
        ),
        (
            "discovery",
            json!({"name": "x", "ports": {"ports": [{"number": 70000}, {"number": 5, "protocol": "udp"}]}}),
        ),
        ("discovery", json!({"name": 5})),
        ("discovery", json!({"NAME": "x", "ports": null})),
        ("discovery", json!(null)),
        (
            "labels",
            json!({"labels": [{"key": "DNS_A", "value": 5}, 7, {"key": "DNS_B", "value": "b"}]}),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "container_status": {"network_infos": 5}}]),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "container_status": {"Network_Infos": [{"ip_address": "1.1.1.1"}]}}]),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "labels": {"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": 5}]}}]),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "labels": {"labels": [{"KEY": "Docker.NetworkSettings.IPAddress", "value": "2.2.2.2"}]}}]),
        ),
        (
            "statuses",
            json!([{"state": "TASK_RUNNING", "healthy": "yes"}, {"state": "TASK_RUNNING", "timestamp": -0.0}]),
        ),
        (
            "statuses",
            json!([{"state": null, "timestamp": 9}, {"state": "TASK_RUNNING", "timestamp": 1.5, "healthy": false}]),
        ),
        ("framework_id", json!({"value": "F2"})),
        ("agent_id", json!({"value": "S\\2", "agents": 1})),
    ];
    for (key, value) in patches {
        let mut t = usual_task("B");
        t[key] = value;
        agree(&subscribed(&[usual_task("A"), t, usual_task("C")]));
    }
    // Texts serde_json would not write.
    let usual = usual_task("A").to_string();
    for odd in [
        r#"{"task_id":{"value":"T"},"task_id":{"value":"U"},"framework_id":{"value":"F"},"agent_id":{"value":"S"}}"#,
        r#"{"t\u0061sk_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"name":"n"}"#,
        r#"{"task_id":{"value":"T","value":"U"},"framework_id":{"value":"F"},"agent_id":{"value":"S"}}"#,
        r#"{"task_id":{"value":"T\ud800"},"framework_id":{"value":"F"},"agent_id":{"value":"S"}}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"statuses":[{"state":"TASK_RUNNING","state":"TASK_KILLED"}]}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"labels":{"labels":[],"labels":[{"key":"DNS_A","value":"1"}]}}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"resources":[{"name":"ports","name":"cpus"}]}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"resources":[{"name":"ports","ranges":{"range":[{"begin":1,"end":2,"end":3}]}}]}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"resources":[{"name":"ports","ranges":{"range":[],"range":[{"begin":1,"end":2}]}}]}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"resources":[{"name":"p\u006frts","ranges":{"range":[{"begin":1,"end":2}]}}]}"#,
        r#"{"task_id":{"value":"T"},"framework_id":{"value":"F"},"agent_id":{"value":"S"},"resources":[{"name":"ports","ranges":{"range":[{"begin":1,"end":2e0}]}}]}"#,
        " { \"task_id\" : {\"value\" : \"T\"} ,\n\"framework_id\":{\"value\":\"F\"},\"agent_id\":{\"value\":\"S\"}, \"name\" : \"n\" , \"statuses\" : [ {\"state\" : \"TASK_RUNNING\" } ] } ",
    ] {
        let body = format!(
            r#"{{"type":"SUBSCRIBED","subscribed":{{"get_state":{{"get_tasks":{{"tasks":[{usual},{odd},{usual}]}}}}}}}}"#
        );
        agree(body.as_bytes());
    }
}

/// Records odd above the tasks, and other events.
#[test]
fn odd_records_read_as_the_lenient_reading_reads_them() {
    let t = usual_task("A").to_string();
    for body in [
        format!(r#"{{"subscribed":{{"get_state":{{"get_tasks":{{"tasks":[{t}]}}}}}},"type":"SUBSCRIBED"}}"#),
        r#"{"type":"SUBSCRIBED","type":"SUBSCRIBED","subscribed":{"get_state":{}}}"#.to_owned(),
        format!(r#"{{"type":"TASK_ADDED","subscribed":{{"get_state":{{"get_tasks":{{"tasks":[{t}]}}}}}}}}"#),
        r#"{"type":"SUBSCRIBED"}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":null}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":null}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_tasks":null}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_tasks":{"tasks":null}}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_tasks":{"tasks":[],"value":1,"value":2}}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"heartbeat_interval_seconds":"5","get_state":{}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"heartbeat_interval_seconds":-5,"get_state":{}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"heartbeat_interval_seconds":1e9,"get_state":{}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_agents":{"agents":[{}]}}}}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{"get_agents":7,"get_frameworks":{"frameworks":[{"framework_info":{"id":{"value":"F"}}}]}}}}"#.to_owned(),
        format!(r#"{{"type":"SUBSCRIBED","subscribed":{{"get_state":{{"get_tasks":{{"tasks":[{t}]}},"get_agents":{{"agents":[{{}}]}}}}}}}}"#),
        format!(r#"{{"type":"SUBSCRIBED","subscribed":{{"get_state":{{"get_tasks":{{"tasks":[{t},{{}}]}},"get_agents":{{"agents":[{{}}]}}}}}}}}"#),
        r#"{"type":"TASK_UPDATED","task_updated":{}}"#.to_owned(),
        r#"{"type":"HEARTBEAT"}"#.to_owned(),
        r#"{"type":7}"#.to_owned(),
        r#"{"type":"SUBSCRIBED","subscribed":{"get_state":{}}} x"#.to_owned(),
        r#"[1]"#.to_owned(),
        "not json".to_owned(),
        String::new(),
    ] {
        agree(body.as_bytes());
    }
    agree(b"{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"get_state\":{\"x\":\"\xff\"}}}");
}
