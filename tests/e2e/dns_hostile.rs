//! Hostile DNS-over-TCP clients against the built binary on loopback:
//! pipelines that are never read, and messages trickled one octet at a
//! time.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mesos_dns_tests::process::{demo_config, demo_dir, Server, TempDir};

/// The demo state with `n` more running `nginx` tasks, each with its own
/// container address: `nginx.marathon.mesos` then has `n` A records, an
/// answer of about 16 octets per record.
fn state_with_tasks(n: u32) -> String {
    let text = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tasks = state["frameworks"][0]["tasks"].as_array_mut().unwrap();
    let template = tasks[0].clone();
    for i in 0..n {
        let mut t = template.clone();
        t["id"] = format!("nginx.copy-{i}").into();
        t["statuses"] = serde_json::json!([{
            "state": "TASK_RUNNING", "timestamp": 1.0,
            "container_status": {"network_infos": [{"ip_addresses": [
                {"ip_address": format!("10.9.{}.{}", i / 256, i % 256)}
            ]}]}
        }]);
        tasks.push(t);
    }
    state.to_string()
}

/// A framed query for `name` A.
fn framed_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    framed
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn start(dir: &TempDir, extra: serde_json::Value) -> (Server, std::net::SocketAddr) {
    let state = dir.write("state.json", &state_with_tasks(1000));
    let config = dir.write("config.json", &demo_config(&state, extra));
    let mut server = Server::start(&["-config", &config]);
    let (dns, _) = server.addresses();
    server.wait_stdout("first state load");
    (server, dns)
}

/// Clients that pipeline queries for a large answer and never read: the
/// server stops reading each one while its earlier answers are unsent, so
/// its memory stays bounded (before, one 4 KiB read of queries queued
/// every answer to it: megabytes per connection).
#[test]
fn unread_tcp_pipelines_hold_bounded_memory() {
    let dir = TempDir::new("pipelines");
    let (server, dns) =
        start(&dir, serde_json::json!({"TCPMaxConnectionsPerClient": 200}));
    let pid = server.child.id();
    // The table is loaded once the name answers over TCP.
    let mut probe = TcpStream::connect(dns).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut loaded = false;
    for _ in 0..100 {
        probe
            .write_all(&framed_query(1, "nginx.marathon.mesos"))
            .unwrap();
        let mut len = [0u8; 2];
        probe.read_exact(&mut len).unwrap();
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        probe.read_exact(&mut answer).unwrap();
        if answer.len() > 10_000 {
            loaded = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(loaded, "the large name never answered");
    let idle = rss_kib(pid);
    let query = framed_query(7, "nginx.marathon.mesos").repeat(2000);
    let mut clients = Vec::new();
    for _ in 0..100 {
        let mut c = TcpStream::connect(dns).unwrap();
        c.set_nonblocking(true).unwrap();
        let mut sent = 0;
        while sent < query.len() {
            match c.write(&query[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        clients.push(c);
    }
    let mut peak = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        peak = peak.max(rss_kib(pid));
    }
    let grown = peak.saturating_sub(idle);
    assert!(
        grown < 16 * 1024,
        "100 unread pipelines took {grown} KiB (idle {idle} KiB, peak {peak} KiB)"
    );
    drop(clients);
}

/// A message trickled one octet at a time must be complete within the idle
/// timeout of its first octet (before, every octet restarted the clock and
/// the connection was kept forever).
#[test]
fn trickled_message_times_out_from_its_first_octet() {
    let dir = TempDir::new("trickle");
    let (_server, dns) = start(&dir, serde_json::json!({"TCPIdleSeconds": 1}));
    let mut c = TcpStream::connect(dns).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let query = framed_query(9, "nginx.marathon.mesos");
    let mut closed = false;
    // 20 octets, one every 300 ms: 6 s in all, well past the 1 s timeout.
    for octet in query.iter().take(20) {
        if c.write_all(&[*octet]).is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 16];
        match c.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => panic!("an answer to a partial message"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            }
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "a trickling client was never cut off");
}
