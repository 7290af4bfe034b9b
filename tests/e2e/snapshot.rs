//! Issue 21, the state snapshot (`StateSnapshotFile`): a server that
//! loaded the state once starts again with the master down and answers
//! at once from the snapshot (not SERVFAIL), saying so on `/ready` and
//! `/metrics`; a truncated snapshot is one warning and ignored.

use std::net::SocketAddr;

use hickory_proto::op::{Message, ResponseCode};
use mesos_dns_tests::dns::{query, udp_exchange};
use mesos_dns_tests::http::get;
use mesos_dns_tests::process::{demo_config, demo_dir, Server, TempDir};
use serde_json::json;

const A: u16 = 1;
/// A name of the demo state.
const NAME: &str = "nginx.marathon.mesos.";

fn answer(dns: SocketAddr, id: u16) -> Message {
    let reply = udp_exchange(dns, &query(id, NAME, A, None)).expect("a reply");
    Message::from_vec(&reply).unwrap()
}

/// Loads the demo state once with a snapshot file, stops cleanly; returns
/// the directory (holding `snap`) and the state file's path.
fn snapshot_made() -> (TempDir, String) {
    let dir = TempDir::new("snapshot");
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state);
    let config = demo_config(&state, json!({"StateSnapshotFile": "snap"}));
    let config = dir.write("config.json", &config);
    let mut server = Server::start(&["-config", &config]);
    let (dns, _) = server.addresses();
    server.wait_stdout("first state load");
    assert_eq!(answer(dns, 1).metadata.response_code, ResponseCode::NoError);
    server.signal("TERM");
    let (status, _) = server.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(dir.path("snap").exists(), "no snapshot written");
    (dir, state)
}

/// The same settings, but the state from a master nobody listens on.
fn master_down(dir: &TempDir, state: &str) -> Server {
    let extra = json!({
        "StateSnapshotFile": "snap",
        "StateFile": "",
        "Masters": ["127.0.0.1:9"],
    });
    let config = dir.write("config-down.json", &demo_config(state, extra));
    Server::start(&["-config", &config])
}

#[test]
fn issue_21_snapshot_answers_at_once_with_the_master_down() {
    let (dir, state) = snapshot_made();
    let mut server = master_down(&dir, &state);
    server.wait_stdout("serving the state snapshot");
    let (dns, http) = server.addresses();
    let m = answer(dns, 2);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{m:?}");
    assert!(!m.answers.is_empty(), "{m:?}");
    let ready = get(&format!("http://{http}/ready"));
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert!(ready.body.contains("state snapshot"), "{}", ready.body);
    let metrics = get(&format!("http://{http}/metrics")).body;
    assert!(
        metrics.lines().any(|l| l == "mesosdns_snapshot_serving 1"),
        "{metrics}"
    );
}

#[test]
fn issue_21_a_live_load_replaces_the_snapshot() {
    let (dir, state) = snapshot_made();
    let config = demo_config(&state, json!({"StateSnapshotFile": "snap"}));
    let config = dir.write("config.json", &config);
    let mut server = Server::start(&["-config", &config]);
    server.wait_stdout("serving the state snapshot");
    let (_, http) = server.addresses();
    server.wait_stdout("replacing the snapshot");
    let ready = get(&format!("http://{http}/ready"));
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body, "ready\n");
    let metrics = get(&format!("http://{http}/metrics")).body;
    assert!(
        metrics.lines().any(|l| l == "mesosdns_snapshot_serving 0"),
        "{metrics}"
    );
}

#[test]
fn issue_21_a_truncated_snapshot_is_one_warning_and_ignored() {
    let (dir, state) = snapshot_made();
    let bytes = std::fs::read(dir.path("snap")).unwrap();
    std::fs::write(dir.path("snap"), &bytes[..bytes.len() / 2]).unwrap();
    let mut server = master_down(&dir, &state);
    let warning = server.wait_stderr("state snapshot");
    assert!(warning.contains("truncated"), "{warning}");
    let (dns, http) = server.addresses();
    // No records yet: SERVFAIL in the domain, as any start before a load.
    assert_eq!(
        answer(dns, 3).metadata.response_code,
        ResponseCode::ServFail
    );
    assert_eq!(get(&format!("http://{http}/ready")).status, 503);
    server.drain_stderr();
    let warnings = server
        .seen_err
        .iter()
        .filter(|l| l.contains("state snapshot"))
        .count();
    assert_eq!(warnings, 1, "{:?}", server.seen_err);
}
