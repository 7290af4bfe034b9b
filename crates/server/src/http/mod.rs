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
//! [`HttpLimits::max_connections`] of them and at most
//! [`HttpLimits::max_per_client`] from one client (an IPv4 address or an
//! IPv6 /64, see [`crate::client`]). The acceptor never blocks on a client.
//! At a cap, the connection that has waited longest for a request (silent,
//! trickling its head, or idle between keep-alive requests) is closed to
//! make room; only when every connection is busy answering is the new one
//! refused with 503. Requests other than `/health`, `/ready` and `/metrics`
//! are answered by at most `max_connections` minus a reserve
//! ([`HttpLimits::busy_cap`]) at once, so the probes always find a slot
//! however many clients are reading `/v1/axfr` slowly.
//!
//! Each connection has header, idle, body and write deadlines and size
//! limits ([`connection`]). Response bodies are computed one at a time (a
//! lock held only while computing, never while reading or writing;
//! `/health` and `/ready` skip it), so HTTP uses at most one core however
//! many clients pull `/v1/axfr`. The `/v1/enumerate` and `/v1/axfr` bodies
//! are kept until the table changes as shared, reference-counted bytes:
//! every connection writes the same copy. The DNS workers share nothing
//! with these threads but the [`SharedTable`] they read.
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

mod accept;
pub mod connection;
pub mod endpoint;
mod explain;
pub mod json;
pub mod metrics;
pub mod request;
pub mod response;
pub mod route;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::{Interest, Poll, Token, Waker};

use crate::stats::Stats;
use crate::table::SharedTable;
use endpoint::Endpoint;
use mesos_sources::PollerStatus;

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
    /// Config values shown by the API (a reload replaces them), and the
    /// reload counters.
    pub settings: Arc<LiveSettings>,
    /// The state poller's status: `/ready` reads its last success time,
    /// `/metrics` its counters.
    pub poller: Arc<PollerStatus>,
    /// The DNS workers' counters, for `/metrics` (`None` when `DnsOn` is
    /// false).
    pub dns: Option<Arc<Stats>>,
    /// Whether the answers come from a state snapshot
    /// (`StateSnapshotFile`), and its writes.
    pub snapshot: Arc<crate::snapshot::SnapshotStatus>,
    /// The hold-down and the change history of the publish point
    /// (`/v1/explain`, `/metrics`).
    pub guard: Arc<crate::guard::PublishGuard>,
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
        let s = self.settings.load();
        let refresh = u64::try_from(s.refresh_seconds).unwrap_or(0);
        let timeout = u64::try_from(s.state_timeout_seconds).unwrap_or(0);
        refresh.saturating_mul(3).saturating_add(timeout)
    }
}

/// The [`ApiSettings`] in force, swapped whole by a config reload, and the
/// reloads counted for `/metrics`.
#[derive(Debug, Default)]
pub struct LiveSettings {
    current: arc_swap::ArcSwap<ApiSettings>,
    reloads_ok: AtomicU64,
    reloads_error: AtomicU64,
}

impl From<ApiSettings> for LiveSettings {
    fn from(settings: ApiSettings) -> Self {
        LiveSettings {
            current: arc_swap::ArcSwap::from_pointee(settings),
            ..LiveSettings::default()
        }
    }
}

impl From<ApiSettings> for Arc<LiveSettings> {
    fn from(settings: ApiSettings) -> Self {
        Arc::new(LiveSettings::from(settings))
    }
}

impl LiveSettings {
    /// The settings in force.
    pub fn load(&self) -> Arc<ApiSettings> {
        self.current.load_full()
    }

    /// Puts the settings of a reloaded config in force.
    pub fn store(&self, settings: ApiSettings) {
        self.current.store(Arc::new(settings));
    }

    /// Counts a reload: applied (`ok`) or rejected.
    pub fn count_reload(&self, ok: bool) {
        let counter = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_error
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reloads so far: (applied, rejected).
    pub fn reloads(&self) -> (u64, u64) {
        (
            self.reloads_ok.load(Ordering::Relaxed),
            self.reloads_error.load(Ordering::Relaxed),
        )
    }
}

/// Size limits and deadlines for HTTP clients.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Connections open at once (at least 1). At the cap the connection
    /// that has waited longest for a request is closed to make room; when
    /// none is waiting, a new one gets 503.
    pub max_connections: usize,
    /// Connections open at once from one client (an IPv4 address, an IPv6
    /// /64; at least 1), with the same rule as `max_connections`.
    pub max_per_client: usize,
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
/// Default [`HttpLimits::max_per_client`].
pub const DEFAULT_MAX_PER_CLIENT: usize = 32;
/// Most connections kept for `/health`, `/ready` and `/metrics`
/// ([`HttpLimits::busy_cap`]).
pub const PROBE_RESERVE: usize = 16;
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

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_per_client: DEFAULT_MAX_PER_CLIENT,
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }
}

impl HttpLimits {
    /// Requests other than `/health`, `/ready` and `/metrics` answered at
    /// once: `max_connections` less a reserve of an eighth of it, at least
    /// 1 and at most [`PROBE_RESERVE`]; never below 1.
    pub fn busy_cap(&self) -> usize {
        let reserve = (self.max_connections / 8).clamp(1, PROBE_RESERVE);
        self.max_connections.saturating_sub(reserve).max(1)
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
    evicted: AtomicU64,
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
pub struct HttpState {
    ctx: Arc<ApiContext>,
    limits: HttpLimits,
    stats: HttpStats,
    stopping: AtomicBool,
    /// The open connections: clones of their streams, so that `stop` and
    /// eviction can shut them down, and since when each waits for a
    /// request.
    open: Mutex<HashMap<u64, accept::OpenConn>>,
    /// Requests other than the probes being answered now.
    busy: AtomicUsize,
    /// Held while a response is computed (not while reading or writing).
    render: Mutex<()>,
    /// Rendered `/v1/enumerate` and `/v1/axfr` bodies of the current table.
    bodies: route::BodyCache,
}

impl HttpState {
    /// The state of a server that has not accepted anything yet: what
    /// [`start`] serves from, and what [`route::handle`] needs to answer a
    /// request without a socket (the fuzz target does that).
    pub fn new(ctx: Arc<ApiContext>, limits: HttpLimits) -> HttpState {
        HttpState {
            ctx,
            limits: HttpLimits {
                max_connections: limits.max_connections.max(1),
                max_per_client: limits.max_per_client.max(1),
                ..limits
            },
            stats: HttpStats::default(),
            stopping: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
            busy: AtomicUsize::new(0),
            render: Mutex::new(()),
            bodies: route::BodyCache::default(),
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Marks connection `id` as waiting for a request (`Some(since)`) or
    /// busy answering one (`None`). False when the connection was evicted
    /// meanwhile: the caller drops it.
    fn set_waiting(&self, id: u64, since: Option<Instant>) -> bool {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        match open.get_mut(&id) {
            Some(conn) => {
                conn.waiting_since = since;
                true
            }
            None => false,
        }
    }

    /// Takes a slot for a request other than a probe, or `None` at
    /// [`HttpLimits::busy_cap`].
    fn busy_slot(&self) -> Option<BusySlot<'_>> {
        let cap = self.limits.busy_cap();
        if self.busy.fetch_add(1, Ordering::SeqCst) >= cap {
            self.busy.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(BusySlot(&self.busy))
    }
}

/// A request slot from [`HttpState::busy_slot`], given back on drop.
struct BusySlot<'a>(&'a AtomicUsize);

impl Drop for BusySlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running HTTP server. Dropping it stops the server.
pub struct HttpHandle {
    shared: Arc<HttpState>,
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
            for conn in open.values() {
                let _ = conn.stream.shutdown(std::net::Shutdown::Both);
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
    let shared = Arc::new(HttpState::new(ctx, limits));
    let acceptor_shared = Arc::clone(&shared);
    let acceptor = thread::Builder::new()
        .name("http-accept".into())
        .spawn(move || accept::accept_loop(poll, listener, &acceptor_shared))?;
    Ok(HttpHandle {
        shared,
        waker,
        acceptor: Some(acceptor),
        local_addr,
    })
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
