//! Issue 21, restarts without a lost query: the server started the way a
//! systemd `.socket` unit starts it (`LISTEN_FDS`, from the
//! `socket-holder` stand-in) answers on the passed sockets, and restarted
//! under query load (SIGTERM, a new process) loses no query: what arrives
//! between the two processes waits in the socket the holder keeps open,
//! and the new process answers it from the state snapshot at once.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use mesos_dns_tests::dns::{query, tcp_exchange};
use mesos_dns_tests::port::free_port;
use mesos_dns_tests::process::{bin, demo_config, demo_dir, Server, TempDir, WAIT};
use serde_json::json;

const A: u16 = 1;
const NAME: &str = "nginx.marathon.mesos.";
/// Restarts under load.
const RESTARTS: usize = 3;
/// The most queries the load thread sends (the loop is bounded).
const MAX_QUERIES: u32 = 200_000;
/// How long a query waits for its answer before it counts as lost: far
/// longer than a restart takes.
const LOST_AFTER: Duration = Duration::from_secs(3);

/// The server under the holder, on a free port, with a snapshot file,
/// after its first state load.
fn start_held(dir: &TempDir) -> (Server, SocketAddr) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state);
    let extra = json!({"Port": addr.port(), "StateSnapshotFile": "snap"});
    let config = dir.write("config.json", &demo_config(&state, extra));
    let mut holder = Command::new(env!("CARGO_BIN_EXE_socket-holder"));
    holder
        .arg(addr.to_string())
        .arg("--")
        .arg(bin())
        .args(["-config", &config])
        .stdin(Stdio::null());
    let mut server = Server::start_command(&mut holder);
    // SIGKILL would leave the server the holder runs behind.
    server.term_on_drop = true;
    server.wait_stdout("holder: listening on");
    server.wait_stdout("first state load");
    (server, addr)
}

/// Waits for the `n`th stdout line containing `needle`.
fn wait_nth(server: &mut Server, needle: &str, n: usize) {
    let seen = |s: &Server| s.seen_out.iter().filter(|l| l.contains(needle)).count();
    while seen(server) < n {
        match server.stdout.recv_timeout(WAIT) {
            Ok(line) => server.seen_out.push(line),
            Err(_) => panic!("no {n}th {needle:?} line; stdout {:?}", server.seen_out),
        }
    }
}

#[test]
fn issue_21_socket_activated_start_answers_udp_and_tcp() {
    let dir = TempDir::new("activated");
    let (mut server, addr) = start_held(&dir);
    server.wait_stdout("sockets from the service manager");
    let reply =
        mesos_dns_tests::dns::udp_exchange(addr, &query(1, NAME, A, None)).unwrap();
    let m = Message::from_vec(&reply).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{m:?}");
    assert!(!m.answers.is_empty());
    let replies = tcp_exchange(addr, &[query(2, NAME, A, None)]).unwrap();
    let m = Message::from_vec(&replies[0]).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{m:?}");
}

/// Sends queries one after the other until `stop`, each waiting up to
/// [`LOST_AFTER`]; returns (answered, lost, not NOERROR).
fn load(addr: SocketAddr, stop: &AtomicBool) -> (u32, u32, u32) {
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    sock.set_read_timeout(Some(LOST_AFTER)).unwrap();
    let (mut answered, mut lost, mut failed) = (0, 0, 0);
    let mut buf = vec![0u8; 4096];
    for i in 0..MAX_QUERIES {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let id = (i & 0xffff) as u16;
        sock.send_to(&query(id, NAME, A, None), addr).unwrap();
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, _)) => {
                    let Ok(m) = Message::from_vec(&buf[..n]) else {
                        continue;
                    };
                    if m.metadata.id != id {
                        continue; // a late answer to an earlier query
                    }
                    answered += 1;
                    if m.metadata.response_code != ResponseCode::NoError {
                        failed += 1;
                    }
                }
                Err(_) => lost += 1,
            }
            break;
        }
    }
    (answered, lost, failed)
}

#[test]
fn issue_21_restart_under_load_loses_no_query() {
    let dir = TempDir::new("restart");
    let (mut server, addr) = start_held(&dir);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || load(addr, &stop))
    };
    for k in 1..=RESTARTS {
        // SIGHUP to the holder: SIGTERM to the server, wait, start again.
        server.signal("HUP");
        wait_nth(&mut server, "holder: restarted", k);
        wait_nth(&mut server, "first state load", k + 1);
    }
    stop.store(true, Ordering::Relaxed);
    let (answered, lost, failed) = load.join().unwrap();
    assert!(answered > 0);
    assert_eq!(lost, 0, "{answered} answered, {lost} lost");
    assert_eq!(failed, 0, "{failed} of {answered} answers not NOERROR");
    assert!(
        server
            .seen_out
            .iter()
            .any(|l| l.contains("serving the state snapshot")),
        "{:?}",
        server.seen_out
    );
}
