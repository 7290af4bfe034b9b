//! The HTTP API (mesos-dns `/v1/...`), `/metrics`, `/health` and `/ready`.
//!
//! # Endpoints
//!
//! | path | answer |
//! |---|---|
//! | `/v1/version` | `{"Service","URL","Version"}` |
//! | `/v1/config` | the config in Go field order, secret redacted, `SOASerial` = serial served |
//! | `/v1/hosts/{host}` | `[{"host","ip"}...]` for A then AAAA values |
//! | `/v1/hosts/{host}/ports` | 501 `To be implemented...` |
//! | `/v1/services/{service}` | `[{"service","host","ip","port"}...]` |
//! | `/v1/enumerate`, `/v1/axfr` | only with `EnumerationOn` |
//! | `/metrics` | Prometheus text format 0.0.4 |
//! | `/health` | 200 while the process runs |
//! | `/ready` | 200 once a state load succeeded and the last one is recent |
//!
//! The `/v1` bodies are byte for byte what mesos-dns sends (Go
//! `json.MarshalIndent(v, " ", " ")`, see [`json`]), and the status rules
//! (404, 405 for every non-GET including HEAD, 406, 415) are go-restful's
//! (see [`route`]).
//!
//! `/ready` is 200 when the table holds a loaded state and the last
//! successful state load is at most [`ApiContext::ready_window_secs`] old:
//! `3 x RefreshSeconds + StateTimeoutSeconds`, i.e. three refreshes missed
//! and a full state timeout on top. Otherwise 503 with the reason.
//!
//! # Isolation from DNS
//!
//! The server runs on its own threads: one acceptor (a mio `Poll` with a
//! `Waker` for shutdown) and one thread per connection, at most
//! [`HttpLimits::max_connections`] of them; a connection beyond the cap gets
//! a 503 and is closed at once by the acceptor, which never blocks on a
//! client. Each connection has header, idle, body and write deadlines and
//! size limits ([`connection`]). Response bodies are computed one at a
//! time (a lock held only while computing, never while reading or
//! writing; `/health` and `/ready` skip it), so HTTP uses at most one core
//! however many clients pull `/v1/axfr`, and the `/v1/enumerate` and
//! `/v1/axfr` bodies are kept until the table changes, so pulling them
//! again costs a copy. The DNS workers share nothing with these threads
//! but the [`SharedTable`] they read.
//!
//! # Differences from mesos-dns
//!
//! - We listen from startup; mesos-dns starts HTTP after the first load.
//!   Before the first load the data endpoints (hosts, services, enumerate,
//!   axfr) answer `503: Service Unavailable`.
//! - `/v1/services` picks the lowest A and AAAA address of a target, where
//!   mesos-dns picks one at random; arrays list values in sorted order,
//!   where mesos-dns uses Go's random map order.
//! - Limits and timeouts (431, 413, 408, 503 at the connection cap); Go's
//!   server has none. HTTP lookups do not bump the DNS counters.
//! - Go's `ServeMux` redirects unclean paths (`//`, `/./`, `/../`) with 301;
//!   we route them as given (usually 404).
//! - A request with a chunked body is answered and the connection closed.

pub mod connection;
pub mod json;
pub mod metrics;
pub mod request;
pub mod response;
pub mod route;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use mio::{Events, Interest, Poll, Token, Waker};

use crate::stats::Stats;
use crate::table::SharedTable;
use mesos_sources::poller::PollerStatus;
use route::Endpoint;

/// The config values the API shows.
#[derive(Debug, Clone, Default)]
pub struct ApiSettings {
    /// The version string `/v1/version` shows.
    pub version: String,
    /// `/v1/config`: the config as a JSON object in Go field order, with
    /// `MesosCredentials.Secret` already redacted. `SOASerial` is replaced
    /// by the serial served at request time.
    pub config: serde_json::Value,
    /// `EnumerationOn`: serve `/v1/enumerate` and `/v1/axfr`.
    pub enumeration_on: bool,
    /// `Domain`, as `/v1/axfr` shows it.
    pub domain: String,
    /// `TTL`, in seconds.
    pub ttl: i64,
    /// `RefreshSeconds`.
    pub refresh_seconds: i64,
    /// `StateTimeoutSeconds` (only used for the `/ready` window).
    pub state_timeout_seconds: i64,
    /// `SOAMname`, as `/v1/axfr` shows it.
    pub soa_mname: String,
    /// `SOARname`, as `/v1/axfr` shows it.
    pub soa_rname: String,
}

impl ApiSettings {
    /// The API's view of a validated config: `/v1/config` rendered once
    /// (its `SOASerial` is replaced per request), the version from
    /// [`crate::VERSION`].
    pub fn from_config(config: &crate::config::Config) -> ApiSettings {
        let f = &config.file;
        ApiSettings {
            version: crate::VERSION.to_owned(),
            config: crate::config::render::render(f, f.soa_serial),
            enumeration_on: f.enumeration_on,
            domain: f.domain.clone(),
            ttl: i64::from(f.ttl),
            refresh_seconds: f.refresh_seconds,
            state_timeout_seconds: f.state_timeout_seconds,
            soa_mname: f.soa_mname.clone(),
            soa_rname: f.soa_rname.clone(),
        }
    }
}

/// Everything the HTTP API reads.
pub struct ApiContext {
    /// The answer table the DNS workers serve.
    pub table: Arc<SharedTable>,
    /// Config values shown by the API.
    pub settings: ApiSettings,
    /// The state poller's status: `/ready` reads its last success time,
    /// `/metrics` its counters.
    pub poller: Arc<PollerStatus>,
    /// The DNS workers' counters, for `/metrics` (`None` when `DnsOn` is
    /// false).
    pub dns: Option<Arc<Stats>>,
}

impl std::fmt::Debug for ApiContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiContext")
            .field("settings", &self.settings)
            .field("poller", &self.poller)
            .field("dns", &self.dns.is_some())
            .finish_non_exhaustive()
    }
}

impl ApiContext {
    /// How old, in seconds, the last successful state load may be for
    /// `/ready` to say 200: `3 x RefreshSeconds + StateTimeoutSeconds`.
    pub fn ready_window_secs(&self) -> u64 {
        let s = &self.settings;
        let refresh = u64::try_from(s.refresh_seconds).unwrap_or(0);
        let timeout = u64::try_from(s.state_timeout_seconds).unwrap_or(0);
        refresh.saturating_mul(3).saturating_add(timeout)
    }
}

/// Size limits and deadlines for HTTP clients.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Connections served at once (at least 1); more get 503 and are closed.
    pub max_connections: usize,
    /// Largest request head in bytes; larger gets 431.
    pub max_head_bytes: usize,
    /// Largest request body in bytes; larger gets 413. Bodies are read and
    /// discarded (no endpoint takes one).
    pub max_body_bytes: u64,
    /// Time allowed for a whole request head (from accept for the first
    /// request, from its first byte for later ones), and for a body.
    pub header_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Time allowed to send one response.
    pub write_timeout: Duration,
}

/// Default [`HttpLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default [`HttpLimits::max_head_bytes`]: 16 KiB.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
/// Default [`HttpLimits::max_body_bytes`]: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024;
/// Default [`HttpLimits::header_timeout`]: 10 s.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`HttpLimits::idle_timeout`]: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`HttpLimits::write_timeout`]: 30 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Stack size of a connection thread, in bytes.
const CONNECTION_STACK: usize = 256 * 1024;

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }
}

/// Status codes counted per endpoint in `mesosdns_http_requests_total`.
pub const STATUS_CODES: [u16; 13] = [
    200, 400, 404, 405, 406, 408, 413, 415, 431, 500, 501, 503, 505,
];

/// The server's own counters.
#[derive(Debug, Default)]
pub struct HttpStats {
    requests: [[AtomicU64; STATUS_CODES.len()]; Endpoint::ALL.len()],
    open: AtomicUsize,
    accepted: AtomicU64,
    rejected: AtomicU64,
    timeouts: AtomicU64,
}

impl HttpStats {
    fn count(&self, endpoint: Endpoint, status: u16) {
        let code = STATUS_CODES.iter().position(|c| *c == status);
        let cell = code.and_then(|i| self.requests.get(endpoint.index())?.get(i));
        if let Some(cell) = cell {
            cell.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn requests(&self, endpoint: Endpoint, code_index: usize) -> u64 {
        self.requests
            .get(endpoint.index())
            .and_then(|row| row.get(code_index))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }
}

/// State shared by the acceptor and the connection threads.
pub struct Shared {
    ctx: Arc<ApiContext>,
    limits: HttpLimits,
    stats: HttpStats,
    stopping: AtomicBool,
    /// Clones of the open connections, so `stop` can shut them down.
    open: Mutex<HashMap<u64, TcpStream>>,
    /// Held while a response is computed (not while reading or writing).
    render: Mutex<()>,
    /// Rendered `/v1/enumerate` and `/v1/axfr` bodies of the current table.
    bodies: route::BodyCache,
}

impl Shared {
    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}

/// A running HTTP server. Dropping it stops the server.
pub struct HttpHandle {
    shared: Arc<Shared>,
    waker: Arc<Waker>,
    acceptor: Option<JoinHandle<()>>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for HttpHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl HttpHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, shuts down open connections and waits for the
    /// acceptor thread. Connection threads end at their next read or write.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        if let Ok(open) = self.shared.open.lock() {
            for stream in open.values() {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

impl Drop for HttpHandle {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop_inner();
        }
    }
}

/// Binds the HTTP listener (`HTTPListener:HttpPort`). Separate from
/// [`start`] so startup can fail fast on a busy port.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
}

/// Starts serving on `listener` on new threads and returns at once.
///
/// # Errors
///
/// Setting up the listener's poller or spawning the acceptor failed.
pub fn start(
    listener: TcpListener,
    ctx: Arc<ApiContext>,
    limits: HttpLimits,
) -> io::Result<HttpHandle> {
    const LISTENER: Token = Token(0);
    const WAKE: Token = Token(1);
    let local_addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let shared = Arc::new(Shared {
        ctx,
        limits: HttpLimits {
            max_connections: limits.max_connections.max(1),
            ..limits
        },
        stats: HttpStats::default(),
        stopping: AtomicBool::new(false),
        open: Mutex::new(HashMap::new()),
        render: Mutex::new(()),
        bodies: route::BodyCache::default(),
    });
    let acceptor_shared = Arc::clone(&shared);
    let acceptor = thread::Builder::new()
        .name("http-accept".into())
        .spawn(move || accept_loop(poll, listener, &acceptor_shared))?;
    Ok(HttpHandle {
        shared,
        waker,
        acceptor: Some(acceptor),
        local_addr,
    })
}

fn accept_loop(mut poll: Poll, listener: mio::net::TcpListener, shared: &Arc<Shared>) {
    let mut events = Events::with_capacity(8);
    let mut next_id: u64 = 0;
    // After an accept error (e.g. out of file descriptors) the pending
    // connection stays queued and no new edge comes; retry on a timer.
    let mut retry: Option<Duration> = None;
    // Log an accept failure once per failing spell, not on every retry.
    let mut failing = false;
    loop {
        if let Err(e) = poll.poll(&mut events, retry) {
            if e.kind() != io::ErrorKind::Interrupted {
                log::error!("http: poll failed: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
        if shared.is_stopping() {
            return;
        }
        retry = None;
        loop {
            match listener.accept() {
                Ok((stream, _peer)) => {
                    failing = false;
                    next_id = next_id.wrapping_add(1);
                    admit(TcpStream::from(stream), next_id, shared);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if !failing {
                        log::warn!("http: accept failed (retrying every 50 ms): {e}");
                    }
                    failing = true;
                    retry = Some(Duration::from_millis(50));
                    break;
                }
            }
        }
    }
}

/// Hands an accepted connection to a new thread, or refuses it with 503
/// when the cap is reached. Never blocks.
fn admit(stream: TcpStream, id: u64, shared: &Arc<Shared>) {
    let open = shared.stats.open.load(Ordering::SeqCst);
    if open >= shared.limits.max_connections {
        shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
        refuse(stream);
        return;
    }
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    shared.stats.open.fetch_add(1, Ordering::SeqCst);
    shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut map) = shared.open.lock() {
        map.insert(id, clone);
    }
    let guard = OpenGuard {
        id,
        shared: Arc::clone(shared),
    };
    let spawned = thread::Builder::new()
        .name("http-conn".into())
        .stack_size(CONNECTION_STACK)
        .spawn(move || {
            let guard = guard;
            connection::serve(stream, &guard.shared);
        });
    if let Err(e) = spawned {
        // The closure (and the guard in it) was dropped: the count is back.
        log::warn!("http: cannot spawn a connection thread: {e}");
    }
}

/// Writes a 503 on a still non-blocking socket, once, and closes it.
fn refuse(mut stream: TcpStream) {
    let mut out = Vec::with_capacity(192);
    response::Response::error(503).write_to(&mut out, false, true, false);
    let _ = stream.write(&out);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Releases a connection slot when its thread ends (or never starts).
struct OpenGuard {
    id: u64,
    shared: Arc<Shared>,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if let Ok(mut map) = self.shared.open.lock() {
            map.remove(&self.id);
        }
        self.shared.stats.open.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::validate::Env;

    #[test]
    fn settings_come_from_the_validated_config() {
        let env = Env {
            resolv_conf: std::path::Path::new("missing-resolv.conf"),
            now: 1_700_000_000,
        };
        let text = br#"{"Masters": ["127.0.0.1:5050"], "ExternalOn": false,
            "EnumerationOn": true, "Domain": "Example.COM", "SOAMname": "ns1.example.com",
            "MesosCredentials": {"principal": "p", "secret": "s3cret"}}"#;
        let (cfg, _) = crate::config::load_text(text, "config.json", &env).unwrap();
        let s = ApiSettings::from_config(&cfg);
        assert!(s.enumeration_on);
        assert_eq!(s.domain, "example.com");
        assert_eq!(s.soa_mname, "ns1.example.com.");
        assert_eq!(
            (s.ttl, s.refresh_seconds, s.state_timeout_seconds),
            (60, 60, 300)
        );
        assert_eq!(s.config["MesosCredentials"]["Secret"], "REDACTED");
        assert_eq!(s.config["SOASerial"], 1_700_000_000);
        let keys: Vec<&str> = s
            .config
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .take(3)
            .collect();
        assert_eq!(keys, ["RefreshSeconds", "Port", "Timeout"]);
    }
}
