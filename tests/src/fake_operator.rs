//! A fake Mesos master that speaks the v1 operator API event stream: `POST
//! /api/v1` `{"type":"SUBSCRIBE"}` answers with a chunked RecordIO stream
//! (`SUBSCRIBED` with the whole state, then events as the test makes
//! changes, and a `HEARTBEAT` every interval), and `GET /master/state`
//! serves the same cluster in the `/master/state` shape. A master that is
//! not leading redirects both to the leader, as Mesos does (`307`,
//! `Location: //host:port/...`).
//!
//! The cluster ([`FakeCluster`]) is one model rendered two ways, written
//! here independently of the records crate's translation, so a test can
//! check that events and polling give the same records. Faults on command:
//! cut a stream inside a record, send a garbage record, stall (no more
//! heartbeats), close.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// One agent.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeAgent {
    /// Agent id.
    pub id: String,
    /// Its IP (the pid host).
    pub ip: String,
    /// Its port.
    pub port: u16,
}

/// One framework.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeFramework {
    /// Framework id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Hostname.
    pub hostname: String,
}

/// One task status.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeStatus {
    /// `TASK_RUNNING`, ...
    pub state: String,
    /// Seconds.
    pub timestamp: f64,
    /// A container IP reported in `network_infos` and a Docker label.
    pub ip: Option<String>,
}

/// One task.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeTask {
    /// Task id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Framework id.
    pub framework_id: String,
    /// Agent id.
    pub agent_id: String,
    /// Current state.
    pub state: String,
    /// Port ranges, as the scheduler got them (any order).
    pub ports: Vec<(u16, u16)>,
    /// Statuses, oldest first.
    pub statuses: Vec<FakeStatus>,
    /// DiscoveryInfo name, when any.
    pub discovery: Option<String>,
}

/// The cluster a fake master serves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FakeCluster {
    /// Agents in registration order.
    pub agents: Vec<FakeAgent>,
    /// Frameworks in registration order.
    pub frameworks: Vec<FakeFramework>,
    /// Active tasks in launch order.
    pub tasks: Vec<FakeTask>,
}

const TERMINAL: [&str; 5] = [
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
];

fn status_v1(task_id: &str, agent_id: &str, s: &FakeStatus) -> Value {
    let mut v = json!({
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "state": s.state,
        "source": "SOURCE_EXECUTOR",
        "timestamp": s.timestamp,
        "uuid": "AAAAAAAAAAAAAAAAAAAAAA==",
    });
    if let Some(ip) = &s.ip {
        v["labels"] =
            json!({"labels": [{"key": "Docker.NetworkSettings.IPAddress", "value": ip}]});
        v["container_status"] = json!({"network_infos": [
            {"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}
        ]});
    }
    v
}

fn status_v0(s: &FakeStatus) -> Value {
    let mut v = json!({"state": s.state, "timestamp": s.timestamp});
    if let Some(ip) = &s.ip {
        v["labels"] = json!([{"key": "Docker.NetworkSettings.IPAddress", "value": ip}]);
        v["container_status"] = json!({"network_infos": [
            {"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}
        ]});
    }
    v
}

/// Mesos' `stringify(Value::Ranges)` after coalescing.
fn ranges_text(ports: &[(u16, u16)]) -> String {
    let mut r: Vec<(u32, u32)> = ports
        .iter()
        .map(|&(b, e)| (u32::from(b), u32::from(e)))
        .collect();
    r.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (b, e) in r {
        if let Some(last) = out.last_mut() {
            if b <= last.1 + 1 {
                last.1 = last.1.max(e);
                continue;
            }
        }
        out.push((b, e));
    }
    let parts: Vec<String> = out.iter().map(|(b, e)| format!("{b}-{e}")).collect();
    format!("[{}]", parts.join(", "))
}

impl FakeTask {
    /// The v1 `Task`.
    pub fn v1(&self) -> Value {
        let mut resources = vec![
            json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "role": "*"}),
        ];
        // One resource per range, as a scheduler may accept them.
        for (b, e) in &self.ports {
            resources.push(json!({"name": "ports", "type": "RANGES", "role": "*",
                "ranges": {"range": [{"begin": b, "end": e}]}}));
        }
        let mut v = json!({
            "name": self.name,
            "task_id": {"value": self.id},
            "framework_id": {"value": self.framework_id},
            "agent_id": {"value": self.agent_id},
            "state": self.state,
            "resources": resources,
            "statuses": self.statuses.iter().map(|s| status_v1(&self.id, &self.agent_id, s)).collect::<Vec<_>>(),
            "user": "root",
        });
        if let Some(d) = &self.discovery {
            v["discovery"] = json!({"visibility": "FRAMEWORK", "name": d,
                "ports": {"ports": [{"number": 8080, "protocol": "tcp", "name": "http"}]}});
        }
        v
    }

    /// The `/master/state` task.
    pub fn v0(&self) -> Value {
        let mut resources = json!({"cpus": 0.5, "gpus": 0.0, "mem": 0.0, "disk": 0.0});
        if !self.ports.is_empty() {
            resources["ports"] = json!(ranges_text(&self.ports));
        }
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "framework_id": self.framework_id,
            "executor_id": "",
            "slave_id": self.agent_id,
            "state": self.state,
            "resources": resources,
            "statuses": self.statuses.iter().map(status_v0).collect::<Vec<_>>(),
        });
        if let Some(d) = &self.discovery {
            v["discovery"] = json!({"visibility": "FRAMEWORK", "name": d,
                "ports": {"ports": [{"number": 8080, "protocol": "tcp", "name": "http"}]}});
        }
        v
    }
}

impl FakeAgent {
    /// The v1 `GetAgents.Agent`.
    pub fn v1(&self) -> Value {
        json!({
            "agent_info": {"hostname": self.ip, "port": self.port, "id": {"value": self.id}},
            "active": true, "version": "1.11.0",
            "pid": format!("slave(1)@{}:{}", self.ip, self.port),
        })
    }
}

impl FakeFramework {
    /// The v1 `GetFrameworks.Framework`.
    pub fn v1(&self) -> Value {
        json!({
            "framework_info": {"user": "root", "name": self.name, "hostname": self.hostname,
                               "id": {"value": self.id}},
            "active": true, "connected": true, "recovered": false,
        })
    }
}

impl FakeCluster {
    /// The `/master/state` body with `leader` (`host:port`).
    pub fn state_json(&self, leader: &str) -> Vec<u8> {
        let frameworks: Vec<Value> = self
            .frameworks
            .iter()
            .map(|f| {
                json!({
                    "id": f.id, "name": f.name, "hostname": f.hostname, "active": true,
                    "tasks": self.tasks.iter().filter(|t| t.framework_id == f.id).map(FakeTask::v0).collect::<Vec<_>>(),
                    "completed_tasks": [],
                })
            })
            .collect();
        let slaves: Vec<Value> = self
            .agents
            .iter()
            .map(|a| json!({"id": a.id, "pid": format!("slave(1)@{}:{}", a.ip, a.port), "hostname": a.ip}))
            .collect();
        let body = json!({"version": "1.11.0", "leader": format!("master@{leader}"),
                          "frameworks": frameworks, "slaves": slaves});
        body.to_string().into_bytes()
    }

    /// The `SUBSCRIBED` event.
    pub fn subscribed(&self, heartbeat: Duration) -> Value {
        json!({"type": "SUBSCRIBED", "subscribed": {
            "get_state": {
                "get_tasks": {"tasks": self.tasks.iter().map(FakeTask::v1).collect::<Vec<_>>()},
                "get_executors": {},
                "get_frameworks": {"frameworks": self.frameworks.iter().map(FakeFramework::v1).collect::<Vec<_>>()},
                "get_agents": {"agents": self.agents.iter().map(FakeAgent::v1).collect::<Vec<_>>()},
            },
            "heartbeat_interval_seconds": heartbeat.as_secs_f64(),
        }})
    }
}

/// A change to make, with the event it sends.
#[derive(Clone, Debug)]
pub enum Change {
    /// `AGENT_ADDED`.
    AddAgent(FakeAgent),
    /// `AGENT_REMOVED` (its tasks go too).
    RemoveAgent(String),
    /// `FRAMEWORK_ADDED`.
    AddFramework(FakeFramework),
    /// `FRAMEWORK_UPDATED`.
    UpdateFramework(FakeFramework),
    /// `FRAMEWORK_REMOVED` (its tasks go too).
    RemoveFramework(String),
    /// `TASK_ADDED`.
    AddTask(FakeTask),
    /// `TASK_UPDATED`: task id, new state, status timestamp and IP. A
    /// terminal state removes the task.
    UpdateTask(String, String, f64, Option<String>),
}

impl FakeCluster {
    /// Applies `change`; returns the v1 event for it, or `None` when it
    /// refers to something unknown (nothing changes, nothing is sent).
    pub fn apply(&mut self, change: &Change) -> Option<Value> {
        Some(match change {
            Change::AddAgent(a) => {
                match self.agents.iter_mut().find(|x| x.id == a.id) {
                    Some(x) => *x = a.clone(),
                    None => self.agents.push(a.clone()),
                }
                json!({"type": "AGENT_ADDED", "agent_added": {"agent": a.v1()}})
            }
            Change::RemoveAgent(id) => {
                if !self.agents.iter().any(|a| &a.id == id) {
                    return None;
                }
                self.agents.retain(|a| &a.id != id);
                self.tasks.retain(|t| &t.agent_id != id);
                json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": id}}})
            }
            Change::AddFramework(f) | Change::UpdateFramework(f) => {
                let existed = self.frameworks.iter().any(|x| x.id == f.id);
                match self.frameworks.iter_mut().find(|x| x.id == f.id) {
                    Some(x) => *x = f.clone(),
                    None => self.frameworks.push(f.clone()),
                }
                if existed {
                    json!({"type": "FRAMEWORK_UPDATED", "framework_updated": {"framework": f.v1()}})
                } else {
                    json!({"type": "FRAMEWORK_ADDED", "framework_added": {"framework": f.v1()}})
                }
            }
            Change::RemoveFramework(id) => {
                let f = self.frameworks.iter().find(|f| &f.id == id)?.clone();
                self.frameworks.retain(|x| &x.id != id);
                self.tasks.retain(|t| &t.framework_id != id);
                json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info":
                    {"user": "root", "name": f.name, "id": {"value": f.id}}}})
            }
            Change::AddTask(t) => {
                if self.tasks.iter().any(|x| x.id == t.id) {
                    return None;
                }
                self.tasks.push(t.clone());
                json!({"type": "TASK_ADDED", "task_added": {"task": t.v1()}})
            }
            Change::UpdateTask(id, state, ts, ip) => {
                let i = self.tasks.iter().position(|t| &t.id == id)?;
                let t = self.tasks.get_mut(i)?;
                let status = FakeStatus {
                    state: state.clone(),
                    timestamp: *ts,
                    ip: ip.clone(),
                };
                t.state = state.clone();
                t.statuses.push(status.clone());
                let ev = json!({"type": "TASK_UPDATED", "task_updated": {
                    "framework_id": {"value": t.framework_id},
                    "status": status_v1(&t.id, &t.agent_id, &status),
                    "state": state,
                }});
                if TERMINAL.contains(&state.as_str()) {
                    self.tasks.remove(i);
                }
                ev
            }
        })
    }
}

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
