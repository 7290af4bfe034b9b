//! A fake Mesos master that speaks the v1 operator API event stream: `POST
//! /api/v1` `{"type":"SUBSCRIBE"}` answers with a chunked RecordIO stream
//! (`SUBSCRIBED` with the whole state, then events as the test makes
//! changes, and a `HEARTBEAT` every interval), and `GET /master/state`
//! serves the same cluster in the `/master/state` shape. A master that is
//! not leading redirects both to the leader, as Mesos does (`307`,
//! `Location: //host:port/...`).
//!
//! The cluster ([`FakeCluster`], in [`crate::fake_cluster`]) is one model
//! rendered both ways, so a test can check that events and polling give
//! the same records. Faults on command:
//! cut a stream inside a record, send a garbage record, stall (no more
//! heartbeats), close.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::fake_cluster::{
    Change, FakeAgent, FakeCluster, FakeFramework, FakeStatus, FakeTask,
};

/// Frames one record (`<length>\n<bytes>`) as one HTTP chunk.
fn chunk(record: &[u8]) -> Vec<u8> {
    let mut framed = format!("{}\n", record.len()).into_bytes();
    framed.extend_from_slice(record);
    raw_chunk(&framed)
}

fn raw_chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

enum Cmd {
    Record(Vec<u8>),
    CutMidRecord,
    Garbage,
    Stall,
    Close,
}

struct Inner {
    addr: SocketAddr,
    cluster: Arc<Mutex<FakeCluster>>,
    /// The leader's `host:port`; this master leads when it is its own.
    leader: Mutex<String>,
    heartbeat: Mutex<Duration>,
    subscribers: Mutex<Vec<SyncSender<Cmd>>>,
    subscribes: AtomicU64,
    state_hits: AtomicU64,
    /// The `Authorization` header of every request, in order.
    authorizations: Mutex<Vec<Option<String>>>,
    stop: AtomicBool,
}

/// A running fake operator master. Stops on drop.
pub struct FakeOperator {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeOperator {
    /// Starts a leading master with its own cluster.
    pub fn start(cluster: FakeCluster, heartbeat: Duration) -> io::Result<FakeOperator> {
        Self::start_shared(Arc::new(Mutex::new(cluster)), heartbeat)
    }

    /// Starts a master over a cluster shared with other masters; it leads
    /// until [`FakeOperator::set_leader`] names another.
    pub fn start_shared(
        cluster: Arc<Mutex<FakeCluster>>,
        heartbeat: Duration,
    ) -> io::Result<FakeOperator> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            addr,
            cluster,
            leader: Mutex::new(addr.to_string()),
            heartbeat: Mutex::new(heartbeat),
            subscribers: Mutex::new(Vec::new()),
            subscribes: AtomicU64::new(0),
            state_hits: AtomicU64::new(0),
            authorizations: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let i = Arc::clone(&inner);
        let thread = std::thread::Builder::new()
            .name("fake-operator".into())
            .spawn(move || accept_loop(&listener, &i))?;
        Ok(FakeOperator {
            inner,
            thread: Some(thread),
        })
    }

    /// `host:port`.
    pub fn host_port(&self) -> String {
        self.inner.addr.to_string()
    }

    /// The shared cluster.
    pub fn cluster(&self) -> Arc<Mutex<FakeCluster>> {
        Arc::clone(&self.inner.cluster)
    }

    /// The current `/master/state` body.
    pub fn state_json(&self) -> Vec<u8> {
        let leader = lock(&self.inner.leader).clone();
        lock(&self.inner.cluster).state_json(&leader)
    }

    /// Makes a change and sends its event to every subscriber. Returns
    /// false when the change referred to something unknown.
    pub fn change(&self, change: &Change) -> bool {
        let event = lock(&self.inner.cluster).apply(change);
        match event {
            Some(ev) => {
                self.broadcast(ev.to_string().into_bytes());
                true
            }
            None => false,
        }
    }

    /// Sends `record` (any bytes) as one RecordIO record to every subscriber.
    pub fn broadcast(&self, record: Vec<u8>) {
        self.send(|| Cmd::Record(record.clone()));
    }

    fn send(&self, cmd: impl Fn() -> Cmd) {
        lock(&self.inner.subscribers).retain(|s| s.send(cmd()).is_ok());
    }

    /// Ends every stream with half a record.
    pub fn cut_mid_record(&self) {
        self.send(|| Cmd::CutMidRecord);
    }

    /// Sends a record that is not JSON.
    pub fn send_garbage(&self) {
        self.send(|| Cmd::Garbage);
    }

    /// Stops heartbeats and events on every open stream (kept open).
    pub fn stall(&self) {
        self.send(|| Cmd::Stall);
    }

    /// Closes every stream.
    pub fn close_streams(&self) {
        self.send(|| Cmd::Close);
    }

    /// Names the leader; when it is not this master, open streams close and
    /// requests are redirected there.
    pub fn set_leader(&self, leader: &str) {
        *lock(&self.inner.leader) = leader.to_owned();
        if leader != self.host_port() {
            self.close_streams();
        }
    }

    /// Number of SUBSCRIBE calls answered with a stream.
    pub fn subscribes(&self) -> u64 {
        self.inner.subscribes.load(Ordering::Relaxed)
    }

    /// Number of `/master/state` requests served.
    pub fn state_hits(&self) -> u64 {
        self.inner.state_hits.load(Ordering::Relaxed)
    }

    /// The `Authorization` header of every request received, in order.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        lock(&self.inner.authorizations).clone()
    }

    /// Open streams.
    pub fn open_streams(&self) -> usize {
        lock(&self.inner.subscribers).len()
    }
}

impl Drop for FakeOperator {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        self.close_streams();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, inner: &Arc<Inner>) {
    while !inner.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => {
                let i = Arc::clone(inner);
                let _ = std::thread::Builder::new()
                    .name("fake-operator-conn".into())
                    .spawn(move || {
                        let _ = serve(s, &i);
                    });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(stream: TcpStream, inner: &Arc<Inner>) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut w = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut length = 0usize;
        let mut authorization = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("authorization") {
                    authorization = Some(v.trim().to_owned());
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        lock(&inner.authorizations).push(authorization);
        let leader = lock(&inner.leader).clone();
        let leading = leader == inner.addr.to_string();
        if !leading {
            let resp = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: //{leader}{path}\r\nContent-Length: 0\r\n\r\n"
            );
            w.write_all(resp.as_bytes())?;
            continue;
        }
        match (method.as_str(), path.as_str()) {
            ("GET", "/master/state") | ("GET", "/state") => {
                inner.state_hits.fetch_add(1, Ordering::Relaxed);
                let body = lock(&inner.cluster).state_json(&leader);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                w.write_all(head.as_bytes())?;
                w.write_all(&body)?;
            }
            ("POST", "/api/v1") => {
                let call: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if call["type"] != "SUBSCRIBE" {
                    w.write_all(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                    )?;
                    continue;
                }
                return stream_events(w, inner);
            }
            _ => w.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
        }
    }
}

fn stream_events(mut w: TcpStream, inner: &Arc<Inner>) -> io::Result<()> {
    let heartbeat = *lock(&inner.heartbeat);
    let (tx, rx): (SyncSender<Cmd>, Receiver<Cmd>) = mpsc::sync_channel(100_000);
    // SUBSCRIBED and registration under the cluster lock, so no change is
    // missed or sent twice.
    let first = {
        let cluster = lock(&inner.cluster);
        lock(&inner.subscribers).push(tx);
        cluster.subscribed(heartbeat).to_string()
    };
    inner.subscribes.fetch_add(1, Ordering::Relaxed);
    w.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )?;
    w.write_all(&chunk(first.as_bytes()))?;
    let mut stalled = false;
    let mut last = Instant::now();
    loop {
        if inner.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let wait = (last + heartbeat).saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Cmd::Record(r)) if !stalled => {
                w.write_all(&chunk(&r))?;
                last = Instant::now();
            }
            Ok(Cmd::Record(_)) => {}
            Ok(Cmd::CutMidRecord) => {
                let rec = br#"{"type":"TASK_ADDED","task_added":{"task":{}}}"#;
                let mut framed = format!("{}\n", rec.len()).into_bytes();
                framed.extend_from_slice(&rec[..rec.len() / 2]);
                w.write_all(&raw_chunk(&framed))?;
                w.write_all(b"0\r\n\r\n")?;
                let _ = w.shutdown(Shutdown::Both);
                return Ok(());
            }
            Ok(Cmd::Garbage) => {
                w.write_all(&chunk(b"<html>this is not JSON</html>"))?;
                last = Instant::now();
            }
            Ok(Cmd::Stall) => stalled = true,
            Ok(Cmd::Close) | Err(RecvTimeoutError::Disconnected) => {
                let _ = w.write_all(b"0\r\n\r\n");
                let _ = w.shutdown(Shutdown::Both);
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => {
                if !stalled {
                    w.write_all(&chunk(br#"{"type":"HEARTBEAT"}"#))?;
                }
                last = Instant::now();
            }
        }
    }
}
