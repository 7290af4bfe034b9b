//! A small blocking ZooKeeper client: exactly what leader detection (and the
//! test harness) needs, speaking the jute wire protocol over one TCP
//! connection.
//!
//! Supported: the connect handshake, `getChildren` (optionally setting a child
//! watch), `getData`, `create` (the harness registers masters with it),
//! `delete`, `ping` and `closeSession`. Watch notifications that arrive while a
//! call waits for its reply are queued and handed out by [`Session::poll_event`].
//!
//! Frames and jute records are encoded and decoded without I/O in the
//! `wire` module; its decoders ([`frame_len`], [`decode_reply`] and kin)
//! are re-exported here for the fuzz targets.
//!
//! A [`Session`] is one connection to one server. Reconnecting across the
//! ensemble is [`Session::connect_any`]: it tries every member in turn, so a
//! member that is down at start does no harm (mesos-dns #503).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

mod wire;

pub use wire::{
    decode_children, decode_connect, decode_reply, frame_len, Reply, MAX_FRAME,
};
use wire::{
    put_buf, put_i32, put_i64, put_str, Reader, OP_CLOSE, OP_CREATE, OP_DELETE,
    OP_GET_CHILDREN, OP_GET_DATA, OP_PING, XID_PING, XID_WATCH,
};

/// ZooKeeper error codes this client names (`KeeperException.Code`).
const ZNONODE: i32 = -101;
const ZNODEEXISTS: i32 = -110;

/// What went wrong talking to ZooKeeper.
#[derive(Debug)]
pub enum ZkError {
    /// The connection failed or broke, or timed out.
    Io(io::Error),
    /// The server sent something this client cannot decode.
    Protocol(String),
    /// The server answered the request with an error code.
    Server(i32),
    /// The server refused the session (a zero session timeout in the reply).
    SessionRefused,
    /// No ensemble member could be reached.
    NoServer(String),
}

impl ZkError {
    /// True for "the node does not exist".
    pub fn is_no_node(&self) -> bool {
        matches!(self, ZkError::Server(ZNONODE))
    }

    /// True for "the node already exists".
    pub fn is_node_exists(&self) -> bool {
        matches!(self, ZkError::Server(ZNODEEXISTS))
    }
}

impl fmt::Display for ZkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZkError::Io(e) => write!(f, "zookeeper connection: {e}"),
            ZkError::Protocol(m) => write!(f, "zookeeper protocol: {m}"),
            ZkError::Server(ZNONODE) => f.write_str("zookeeper: no such node"),
            ZkError::Server(ZNODEEXISTS) => f.write_str("zookeeper: node exists"),
            ZkError::Server(c) => write!(f, "zookeeper: server error {c}"),
            ZkError::SessionRefused => {
                f.write_str("zookeeper: session refused (expired)")
            }
            ZkError::NoServer(m) => write!(f, "zookeeper: no server reachable: {m}"),
        }
    }
}

impl std::error::Error for ZkError {}

impl From<io::Error> for ZkError {
    fn from(e: io::Error) -> Self {
        ZkError::Io(e)
    }
}

/// Node creation modes (`CreateMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateMode {
    /// Stays until deleted.
    Persistent = 0,
    /// Deleted when the session ends.
    Ephemeral = 1,
    /// Persistent, with a sequence number appended to the name.
    PersistentSequential = 2,
    /// Ephemeral, with a sequence number appended (how Mesos registers masters).
    EphemeralSequential = 3,
}

/// A watch notification (`WatcherEvent`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    /// Event type: 1 created, 2 deleted, 3 data changed, 4 children changed.
    pub kind: i32,
    /// Keeper state (3 = connected).
    pub state: i32,
    /// The watched path.
    pub path: String,
}

/// One open ZooKeeper session on one server.
#[derive(Debug)]
pub struct Session {
    stream: TcpStream,
    server: SocketAddr,
    session_id: i64,
    timeout: Duration,
    next_xid: i32,
    events: VecDeque<WatchEvent>,
    last_send: Instant,
}

impl Session {
    /// Opens a session on one server. `io_timeout` bounds connect and each
    /// read or write; `session_timeout` is what we ask the server for.
    ///
    /// # Errors
    /// Connection failure, a refused session, or a malformed reply.
    pub fn connect(
        server: SocketAddr,
        session_timeout: Duration,
        io_timeout: Duration,
    ) -> Result<Session, ZkError> {
        let stream = TcpStream::connect_timeout(&server, io_timeout)?;
        stream.set_read_timeout(Some(io_timeout))?;
        stream.set_write_timeout(Some(io_timeout))?;
        stream.set_nodelay(true)?;
        let mut s = Session {
            stream,
            server,
            session_id: 0,
            timeout: session_timeout,
            next_xid: 1,
            events: VecDeque::new(),
            last_send: Instant::now(),
        };
        // ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
        // passwd (16 zero bytes), readOnly.
        let mut w = Vec::with_capacity(48);
        put_i32(&mut w, 0);
        put_i64(&mut w, 0);
        put_i32(&mut w, clamp_ms(session_timeout));
        put_i64(&mut w, 0);
        put_buf(&mut w, &[0u8; 16]);
        w.push(0);
        s.send_frame(&w)?;
        let frame = s.read_frame()?;
        (s.session_id, s.timeout) = decode_connect(&frame)?;
        Ok(s)
    }

    /// Tries each ensemble member in order, starting at `start`, and returns
    /// the first session that opens, with the index of the member used.
    ///
    /// # Errors
    /// [`ZkError::NoServer`] when no member answers.
    pub fn connect_any(
        hosts: &[String],
        start: usize,
        session_timeout: Duration,
        io_timeout: Duration,
    ) -> Result<(Session, usize), ZkError> {
        let mut failures = Vec::new();
        for i in 0..hosts.len() {
            let idx = (start + i) % hosts.len();
            let Some(host) = hosts.get(idx) else { continue };
            let addrs = match host.to_socket_addrs() {
                Ok(a) => a.collect::<Vec<_>>(),
                Err(e) => {
                    failures.push(format!("{host}: {e}"));
                    continue;
                }
            };
            for addr in addrs {
                match Session::connect(addr, session_timeout, io_timeout) {
                    Ok(s) => return Ok((s, idx)),
                    Err(e) => failures.push(format!("{host}: {e}")),
                }
            }
        }
        if hosts.is_empty() {
            failures.push("no hosts given".to_owned());
        }
        Err(ZkError::NoServer(failures.join("; ")))
    }

    /// The server this session is connected to.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// The session id the server assigned.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// The negotiated session timeout.
    pub fn session_timeout(&self) -> Duration {
        self.timeout
    }

    /// Time since the last request was sent; send a ping when it nears a
    /// third of the session timeout.
    pub fn idle(&self) -> Duration {
        self.last_send.elapsed()
    }

    /// Lists the children of `path`, optionally leaving a child watch.
    ///
    /// # Errors
    /// Connection or server errors (`is_no_node()` when `path` is missing).
    pub fn get_children(
        &mut self,
        path: &str,
        watch: bool,
    ) -> Result<Vec<String>, ZkError> {
        let mut w = Vec::new();
        put_str(&mut w, path);
        w.push(u8::from(watch));
        let body = self.call(OP_GET_CHILDREN, &w)?;
        decode_children(&body)
    }

    /// Reads the data of `path`.
    ///
    /// # Errors
    /// Connection or server errors.
    pub fn get_data(&mut self, path: &str, watch: bool) -> Result<Vec<u8>, ZkError> {
        let mut w = Vec::new();
        put_str(&mut w, path);
        w.push(u8::from(watch));
        let body = self.call(OP_GET_DATA, &w)?;
        let mut r = Reader::new(&body);
        Ok(r.buf()?.unwrap_or_default())
    }

    /// Creates a node with an open ACL and returns its actual path (with the
    /// sequence suffix for sequential modes).
    ///
    /// # Errors
    /// Connection or server errors (`is_node_exists()`).
    pub fn create(
        &mut self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<String, ZkError> {
        let mut w = Vec::new();
        put_str(&mut w, path);
        put_buf(&mut w, data);
        // ACL vector: one entry, perms ALL (31), id world:anyone.
        put_i32(&mut w, 1);
        put_i32(&mut w, 31);
        put_str(&mut w, "world");
        put_str(&mut w, "anyone");
        put_i32(&mut w, mode as i32);
        let body = self.call(OP_CREATE, &w)?;
        Reader::new(&body).string()
    }

    /// Creates every missing node along `path` as persistent and empty.
    ///
    /// # Errors
    /// Connection or server errors other than "exists".
    pub fn create_all(&mut self, path: &str) -> Result<(), ZkError> {
        let mut prefix = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            match self.create(&prefix, &[], CreateMode::Persistent) {
                Ok(_) => {}
                Err(e) if e.is_node_exists() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Deletes `path` (any version).
    ///
    /// # Errors
    /// Connection or server errors.
    pub fn delete(&mut self, path: &str) -> Result<(), ZkError> {
        let mut w = Vec::new();
        put_str(&mut w, path);
        put_i32(&mut w, -1);
        self.call(OP_DELETE, &w).map(drop)
    }

    /// Sends a ping and waits for its reply (keeps the session alive).
    ///
    /// # Errors
    /// Connection errors.
    pub fn ping(&mut self) -> Result<(), ZkError> {
        let mut w = Vec::with_capacity(8);
        put_i32(&mut w, XID_PING);
        put_i32(&mut w, OP_PING);
        self.send_frame(&w)?;
        loop {
            let (xid, body) = self.read_reply()?;
            if xid == XID_PING {
                return body.map(drop);
            }
        }
    }

    /// Ends the session: the server deletes its ephemeral nodes at once.
    ///
    /// # Errors
    /// Connection errors.
    pub fn close(mut self) -> Result<(), ZkError> {
        self.call(OP_CLOSE, &[]).map(drop)
    }

    /// Returns a queued watch event, or waits up to `wait` for one to arrive.
    /// Ping replies read meanwhile are consumed. `Ok(None)` on timeout.
    ///
    /// # Errors
    /// Connection errors (a broken connection ends the wait at once).
    pub fn poll_event(&mut self, wait: Duration) -> Result<Option<WatchEvent>, ZkError> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        let deadline = Instant::now() + wait;
        let normal = self.stream.read_timeout()?;
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Ok(None);
            }
            self.stream.set_read_timeout(Some(left))?;
            // Peek first so a timeout never leaves half a frame behind.
            let mut probe = [0u8; 1];
            match self.stream.peek(&mut probe) {
                Ok(0) => break Err(ZkError::Io(io::ErrorKind::UnexpectedEof.into())),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => break Ok(None),
                Err(e) => break Err(e.into()),
            }
            self.stream.set_read_timeout(normal)?;
            if let Err(e) = self.read_reply() {
                break Err(e);
            }
            if let Some(e) = self.events.pop_front() {
                break Ok(Some(e));
            }
        };
        self.stream.set_read_timeout(normal)?;
        result
    }

    fn call(&mut self, op: i32, body: &[u8]) -> Result<Vec<u8>, ZkError> {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.checked_add(1).unwrap_or(1);
        let mut w = Vec::with_capacity(8 + body.len());
        put_i32(&mut w, xid);
        put_i32(&mut w, op);
        w.extend_from_slice(body);
        self.send_frame(&w)?;
        loop {
            let (got, reply) = self.read_reply()?;
            if got == xid {
                return reply;
            }
            if got != XID_PING && got != XID_WATCH {
                return Err(ZkError::Protocol(format!(
                    "reply xid {got}, expected {xid}"
                )));
            }
        }
    }

    /// Reads one reply frame. A watch event is queued and reported as xid
    /// -1; otherwise returns the xid and either the body or the server's
    /// error.
    fn read_reply(&mut self) -> Result<(i32, Result<Vec<u8>, ZkError>), ZkError> {
        let frame = self.read_frame()?;
        match decode_reply(&frame)? {
            Reply::Watch(event) => {
                self.events.push_back(event);
                Ok((XID_WATCH, Ok(Vec::new())))
            }
            Reply::Answer { xid, body } => {
                Ok((xid, body.map(<[u8]>::to_vec).map_err(ZkError::Server)))
            }
        }
    }

    fn send_frame(&mut self, body: &[u8]) -> Result<(), ZkError> {
        let len = i32::try_from(body.len())
            .map_err(|_| ZkError::Protocol("request too large".to_owned()))?;
        let mut frame = Vec::with_capacity(4 + body.len());
        put_i32(&mut frame, len);
        frame.extend_from_slice(body);
        self.stream.write_all(&frame)?;
        self.last_send = Instant::now();
        Ok(())
    }

    fn read_frame(&mut self) -> Result<Vec<u8>, ZkError> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let mut buf = vec![0u8; frame_len(len)?];
        self.stream.read_exact(&mut buf)?;
        Ok(buf)
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn clamp_ms(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn connect_any_reports_every_failed_member() {
        // Port 1 on loopback is closed on any sane test machine.
        let hosts = vec!["127.0.0.1:1".to_owned(), "not a host".to_owned()];
        let err = Session::connect_any(
            &hosts,
            0,
            Duration::from_secs(10),
            Duration::from_millis(500),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("127.0.0.1:1"), "{msg}");
        assert!(msg.contains("not a host"), "{msg}");
    }
}
