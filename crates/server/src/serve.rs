//! Starting and stopping the DNS workers.
//!
//! [`start`] binds every socket before any thread starts, so a busy port
//! fails at once with a clear error (BEHAVIOUR.md section 0), then runs one
//! worker per socket pair. The returned [`DnsServer`] stops them promptly: a
//! flag plus a `Waker` per worker, then a join.

use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use mio::Waker;

use crate::dns_config::DnsConfig;
use crate::socket::{self, WorkerSockets};
use crate::stats::Stats;
use crate::table::SharedTable;
use crate::tcp::TcpLimits;
use crate::worker::Worker;
use crate::xfr::Transfers;

/// Running DNS workers. Dropping it stops them too.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    /// Serving on sockets from the service manager (socket activation).
    from_manager: bool,
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<()>>,
    limits: Arc<TcpLimits>,
}

impl Stats {
    /// Counters for the upstreams of `cfg` (named `ip:port`, in the
    /// forwarder's flat order).
    pub fn for_config(cfg: &DnsConfig) -> Self {
        Stats::new(cfg.upstreams().iter().map(ToString::to_string).collect())
    }
}

/// Binds UDP and TCP on `Listener:Port` for every worker and starts them.
/// They answer from `table` (swap it with [`SharedTable::publish`]) and
/// count into `stats` (build it with [`Stats::for_config`]).
///
/// # Errors
///
/// Any bind or setup failure, for example `AddrInUse` when another process
/// holds the port; the error names the address.
pub fn start(
    cfg: &DnsConfig,
    table: Arc<SharedTable>,
    stats: Arc<Stats>,
) -> io::Result<DnsServer> {
    let transfers = Transfers::none(stats.transfer_counters());
    start_with(cfg, table, stats, Arc::new(transfers))
}

/// [`start`], with zone transfers decided and journaled by `transfers`
/// (shared with the [`Publisher`](crate::table::Publisher) that feeds its
/// journal).
///
/// # Errors
///
/// As [`start`].
pub fn start_with(
    cfg: &DnsConfig,
    table: Arc<SharedTable>,
    stats: Arc<Stats>,
    transfers: Arc<Transfers>,
) -> io::Result<DnsServer> {
    let want = socket::bind_addr(cfg.listener, cfg.port);
    let with_addr = |e: io::Error, what: &str| {
        io::Error::new(e.kind(), format!("{what} {want}: {e}"))
    };
    let n = cfg.worker_count();
    // With port 0 the kernel picks a free UDP port, but the same TCP port
    // may be taken (or the port may be grabbed between the probe and the
    // real binds): pick another. A fixed port fails at once.
    let attempts = if want.port() == 0 { 16 } else { 1 };
    let inherited = socket::inherited_dns(want, n);
    let from_manager = inherited.is_some();
    let mut bound = match inherited {
        Some(passed) => passed.map_err(|e| (e, "DNS socket from the service manager")),
        None => bind_sockets(want, n),
    };
    for _ in 1..attempts {
        match &bound {
            Err((e, _)) if !from_manager && e.kind() == io::ErrorKind::AddrInUse => {
                bound = bind_sockets(want, n);
            }
            _ => break,
        }
    }
    let (addr, sockets) = bound.map_err(|(e, what)| with_addr(e, what))?;
    let stop = Arc::new(AtomicBool::new(false));
    let limits = Arc::new(TcpLimits::new(
        cfg.tcp_max_connections,
        cfg.tcp_max_per_client,
    ));
    let mut workers = Vec::with_capacity(n);
    for (udp, tcp) in sockets {
        workers.push(Worker::build(
            cfg,
            udp,
            tcp,
            Arc::clone(&table),
            stats.worker(),
            Arc::clone(&limits),
            Arc::clone(&stop),
            Arc::clone(&transfers),
        )?);
    }
    let mut server = DnsServer {
        addr,
        from_manager,
        stop,
        wakers: Vec::with_capacity(n),
        threads: Vec::with_capacity(n),
        limits,
    };
    for (i, started) in workers.into_iter().enumerate() {
        server.wakers.push(started.waker);
        let mut worker = started.worker;
        worker.inherited = from_manager;
        let thread = std::thread::Builder::new()
            .name(format!("dns-worker-{i}"))
            .spawn(move || worker.run());
        match thread {
            Ok(t) => server.threads.push(t),
            Err(e) => return Err(e), // `server` drops: started workers stop.
        }
    }
    let from = if from_manager {
        ", sockets from the service manager"
    } else {
        ""
    };
    log::info!("DNS server listening on {addr} (UDP and TCP, {n} workers{from})");
    Ok(server)
}

impl DnsServer {
    /// The bound address (the real port when `Port` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// True when serving on sockets passed by the service manager
    /// (systemd socket activation, [`socket::take_inherited`]).
    pub fn from_manager(&self) -> bool {
        self.from_manager
    }

    /// TCP connections open now.
    pub fn tcp_connections(&self) -> usize {
        self.limits.open()
    }

    /// Stops every worker and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        for w in &self.wakers {
            let _ = w.wake();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds every worker's sockets on `want`, after a probe without
/// SO_REUSEPORT that fails if anything else holds the port (even another
/// SO_REUSEPORT server of the same user) and resolves port 0 to a port free
/// for both UDP and TCP. The error says which bind failed.
fn bind_sockets(
    want: SocketAddr,
    n: usize,
) -> Result<(SocketAddr, WorkerSockets), (io::Error, &'static str)> {
    let addr = {
        let probe = UdpSocket::bind(want).map_err(|e| (e, "DNS UDP bind"))?;
        let addr = probe.local_addr().map_err(|e| (e, "DNS UDP bind"))?;
        let tcp_probe = TcpListener::bind(addr).map_err(|e| (e, "DNS TCP bind"))?;
        drop((probe, tcp_probe));
        addr
    };
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let udp = socket::udp(addr, i == 0).map_err(|e| (e, "DNS UDP bind"))?;
        let tcp = socket::tcp(addr).map_err(|e| (e, "DNS TCP bind"))?;
        sockets.push((udp, tcp));
    }
    Ok((addr, sockets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn cfg() -> DnsConfig {
        DnsConfig {
            listener: "127.0.0.1".parse().unwrap(),
            port: 0,
            workers: 2,
            ..DnsConfig::default()
        }
    }

    #[test]
    fn busy_port_fails_fast_and_stop_is_prompt() {
        let table = Arc::new(SharedTable::new(crate::table::Table::empty(&cfg())));
        let stats = Arc::new(Stats::for_config(&cfg()));
        let server = start(&cfg(), Arc::clone(&table), Arc::clone(&stats)).unwrap();
        let busy = DnsConfig {
            port: server.local_addr().port(),
            ..cfg()
        };
        let err = start(&busy, table, stats).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
        let t = Instant::now();
        server.stop();
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
