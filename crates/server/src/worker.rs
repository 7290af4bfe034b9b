//! One worker thread: its own `Poll`, its own `SO_REUSEPORT` UDP socket and
//! TCP listener, its own buffers, forwarder and counters.
//!
//! The loop drains every ready socket until `WouldBlock` (mio's
//! edge-triggered contract), hands each packet to the pure
//! [`answer`](crate::answer) function, and sends the result. Socket errors
//! are counted and, for the listeners, logged at debug level; they never
//! end the worker. A [`Waker`] and a shared flag stop it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::answer::{answer_meta, Answer, Transport};
use crate::dns_config::DnsConfig;
use crate::forward::{self, Client, Done, Forwarder};
use crate::stats::{rcode_slot, WorkerStats};
use crate::sys::udp_batch::{Batch, BATCH};
use crate::table::{SharedTable, Table};
use crate::tcp::{self, Conns, TcpLimits};
use crate::xfr::{Start, Transfers};

pub(crate) const UDP: Token = Token(0);
pub(crate) const LISTENER: Token = Token(1);
pub(crate) const WAKER: Token = Token(2);

/// How often idle TCP connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// How long a stopping worker waits for its forwards in flight.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// The most batches a stopping worker reads from its own UDP socket.
const FINAL_BATCHES: usize = 256;

/// Everything one worker owns.
pub(crate) struct Worker {
    poll: Poll,
    udp: UdpSocket,
    listener: TcpListener,
    table: Arc<SharedTable>,
    stats: Arc<WorkerStats>,
    limits: Arc<TcpLimits>,
    stop: Arc<AtomicBool>,
    transfers: Arc<Transfers>,
    conns: Conns,
    forwarder: Forwarder,
    batch: Batch,
    tx: Vec<u8>,
    /// The UDP socket and listener came from the service manager
    /// (`LISTEN_FDS`), which keeps them open for the next process: when
    /// stopping, leave what is queued on them to that process.
    pub(crate) inherited: bool,
}

/// The parts of a worker the starting thread keeps.
pub(crate) struct Started {
    pub worker: Worker,
    pub waker: Arc<Waker>,
}

impl Worker {
    /// Registers the sockets in a new `Poll`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        cfg: &DnsConfig,
        mut udp: UdpSocket,
        mut listener: TcpListener,
        table: Arc<SharedTable>,
        stats: Arc<WorkerStats>,
        limits: Arc<TcpLimits>,
        stop: Arc<AtomicBool>,
        transfers: Arc<Transfers>,
    ) -> io::Result<Started> {
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut udp, UDP, Interest::READABLE)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(Started {
            worker: Worker {
                poll,
                udp,
                listener,
                table,
                stats,
                limits,
                stop,
                transfers,
                conns: Conns::new(cfg.tcp_idle, cfg.tcp_max_queries),
                forwarder: Forwarder::new(cfg),
                batch: Batch::new(usize::from(cfg.edns_max)),
                tx: vec![0u8; 65_535],
                inherited: false,
            },
            waker,
        })
    }

    /// Runs until the stop flag is set and the waker fires, then drains:
    /// it stops reading its UDP socket and accepting connections (first
    /// answering what its own UDP socket holds; a socket from the service
    /// manager keeps it for the next process), waits up to [`DRAIN_WAIT`]
    /// for its forwards in flight, and closes.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut next_sweep = Instant::now() + SWEEP_EVERY;
        let mut draining: Option<Instant> = None;
        loop {
            // The clock is read for the timeout only while forwards are
            // pending: most wakes answer from the table and need no deadline.
            let mut timeout = SWEEP_EVERY;
            // Transfers stopped at their budget go on at once.
            if self.conns.has_pending() {
                timeout = Duration::ZERO;
            } else if self.conns.has_later() {
                timeout = timeout.min(tcp::WAIT_TICK);
            }
            if let Some(d) = self.forwarder.next_deadline() {
                timeout = timeout.min(d.saturating_duration_since(Instant::now()));
            }
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warn!("DNS worker poll: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            if draining.is_none() && self.stop.load(Ordering::Acquire) {
                self.stop_reading();
                draining = Some(Instant::now() + DRAIN_WAIT);
            }
            if let Some(until) = draining {
                if self.forwarder.next_deadline().is_none() || Instant::now() >= until {
                    break;
                }
            }
            for event in events.iter() {
                match event.token() {
                    UDP | LISTENER if draining.is_some() => {}
                    UDP => self.drain_udp(),
                    LISTENER => self.conns.accept(
                        &self.poll,
                        &self.listener,
                        &self.limits,
                        &self.stats,
                    ),
                    WAKER => {}
                    t if t.0 >= forward::FIRST_TOKEN => {
                        if let Some(done) =
                            self.forwarder.on_event(&self.poll, t, &self.stats)
                        {
                            self.deliver_and_resume(done);
                        }
                    }
                    t => self.on_tcp(t),
                }
            }
            for t in self.conns.take_pending() {
                self.on_tcp(t);
            }
            for t in self.conns.take_later() {
                self.on_tcp(t);
            }
            let now = Instant::now();
            for done in self.forwarder.expire(&self.poll, now, &self.stats) {
                self.deliver_and_resume(done);
            }
            // A comparison, not `duration_since`: this runs on every wake.
            if now >= next_sweep {
                self.conns.sweep(&self.poll, now, &self.limits);
                next_sweep = now + SWEEP_EVERY;
            }
        }
        self.forwarder.close_all(&self.poll);
        self.conns.close_all(&self.poll, &self.limits);
    }

    /// Stops taking new work: answers what the worker's own UDP socket
    /// holds (bounded), then no more UDP reads and no more accepts.
    fn stop_reading(&mut self) {
        if !self.inherited {
            for _ in 0..FINAL_BATCHES {
                match self.batch.recv(&self.udp) {
                    Ok(n) => {
                        self.answer_batch(n);
                        for _ in 0..self.batch.send(&self.udp) {
                            self.stats.send_error();
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let _ = self.poll.registry().deregister(&mut self.udp);
        let _ = self.poll.registry().deregister(&mut self.listener);
    }

    /// The UDP drain loop: a batch at a time until the socket is empty.
    /// A short batch means the queue was empty when the kernel looked; a
    /// datagram arriving after that raises a new edge, so no extra
    /// `WouldBlock` call is needed.
    fn drain_udp(&mut self) {
        loop {
            let n = match self.batch.recv(&self.udp) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // ICMP errors surfacing on the socket and the like:
                    // count, never exit.
                    self.stats.send_error();
                    break;
                }
            };
            self.answer_batch(n);
            for _ in 0..self.batch.send(&self.udp) {
                self.stats.send_error();
            }
            // A stopping worker leaves the rest to `stop_reading`, or,
            // on a socket from the service manager, to the next process.
            if n < BATCH || self.stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }

    /// Answers the `n` datagrams of the batch (one table load for all).
    fn answer_batch(&mut self, n: usize) {
        let table = self.table.swap().load();
        let mut immediate: Vec<Done> = Vec::new();
        // Read once per batch, and only when a query goes to the forwarder.
        let mut now: Option<Instant> = None;
        for i in 0..n {
            let peer = self.batch.peer(i);
            let Some((packet, out)) = self.batch.slot(i) else {
                self.stats.dropped();
                continue;
            };
            // OPCODE NOTIFY (RFC 1996): heard in secondary mode only.
            if packet.get(2).is_some_and(|b| (b >> 3) & 0xf == 4) {
                let ip = peer.map(|p| p.ip());
                if let Some(len) =
                    ip.and_then(|ip| self.transfers.notify_in(&table, packet, ip, out))
                {
                    self.batch.reply(i, len);
                    continue;
                }
            }
            match answer_counted(&table, packet, out, Transport::Udp, &self.stats) {
                Answer::Reply(len) => self.batch.reply(i, len),
                Answer::Forward { group } => {
                    let Some(peer) = peer else {
                        self.stats.dropped();
                        continue;
                    };
                    let now = *now.get_or_insert_with(Instant::now);
                    if let Some(c) = self.forwarder.cached(
                        packet,
                        peer.ip(),
                        Transport::Udp,
                        &table.routes.upstreams,
                        group,
                        now,
                        out,
                        &self.stats,
                    ) {
                        self.stats.query(
                            Transport::Udp,
                            c.qtype,
                            c.rcode,
                            c.len,
                            c.truncated,
                        );
                        self.batch.reply(i, c.len);
                        continue;
                    }
                    if let Some(done) = self.forwarder.start(
                        &self.poll,
                        packet,
                        Client::Udp(peer),
                        peer.ip(),
                        Transport::Udp,
                        &table.routes.upstreams,
                        group,
                        &self.stats,
                    ) {
                        immediate.push(done);
                    }
                }
                Answer::Drop => {}
            }
        }
        drop(table);
        for done in immediate {
            self.deliver(done);
        }
    }

    /// Handles readiness on a TCP connection, and again as long as the
    /// answers given at once (refused or failed forwards) make room for
    /// more of its queries: a loop, never a recursion.
    fn on_tcp(&mut self, token: Token) {
        while self.on_tcp_once(token) {}
    }

    /// One pass of [`Worker::on_tcp`]; true when it should run again.
    fn on_tcp_once(&mut self, token: Token) -> bool {
        let Worker {
            poll,
            table,
            stats,
            limits,
            conns,
            forwarder,
            tx,
            transfers,
            ..
        } = self;
        let mut immediate: Vec<Done> = Vec::new();
        conns.on_event(poll, token, limits, |msg, conn, token| {
            let t = table.swap().load();
            match transfers.start(&t, msg, conn.peer().ip(), tx) {
                Some(Start::Stream(s)) => return conn.start_transfer(s),
                Some(Start::Reply { len, rcode, qtype }) => {
                    stats.query(Transport::Tcp, qtype, rcode_slot(rcode), len, false);
                    return conn.queue(tx.get(..len).unwrap_or_default());
                }
                None => {}
            }
            let action = answer_counted(&t, msg, tx, Transport::Tcp, stats);
            let up = matches!(action, Answer::Forward { .. })
                .then(|| std::sync::Arc::clone(&t.routes.upstreams));
            drop(t);
            match action {
                Answer::Reply(len) => conn.queue(tx.get(..len).unwrap_or_default()),
                Answer::Forward { group } => {
                    let Some(up) = up else { return };
                    let peer = conn.peer().ip();
                    if let Some(c) = forwarder.cached(
                        msg,
                        peer,
                        Transport::Tcp,
                        &up,
                        group,
                        Instant::now(),
                        tx,
                        stats,
                    ) {
                        stats.query(Transport::Tcp, c.qtype, c.rcode, c.len, c.truncated);
                        conn.queue(tx.get(..c.len).unwrap_or_default());
                        return;
                    }
                    let client = Client::Tcp {
                        token,
                        generation: conn.generation(),
                    };
                    conn.waiting += 1;
                    if let Some(d) = forwarder.start(
                        poll,
                        msg,
                        client,
                        peer,
                        Transport::Tcp,
                        &up,
                        group,
                        stats,
                    ) {
                        immediate.push(d);
                    }
                }
                Answer::Drop => {}
            }
        });
        let mut again = false;
        for d in immediate {
            again |= self.deliver(d) == Some(token);
        }
        again
    }

    /// Delivers a forward that finished later, and goes on with its TCP
    /// connection's queries if they were held back by its forwards.
    fn deliver_and_resume(&mut self, done: Done) {
        if let Some(token) = self.deliver(done) {
            self.on_tcp(token);
        }
    }

    /// Sends a finished forward to its client. Returns the token of a TCP
    /// connection whose queries were held back by its forwards in flight
    /// and now have room.
    fn deliver(&mut self, done: Done) -> Option<Token> {
        let transport = match done.client {
            Client::Udp(_) => Transport::Udp,
            Client::Tcp { .. } => Transport::Tcp,
        };
        self.stats.query(
            transport,
            done.qtype,
            done.rcode,
            done.response.len(),
            done.truncated,
        );
        match done.client {
            Client::Udp(peer) => {
                if self.udp.send_to(&done.response, peer).is_err() {
                    self.stats.send_error();
                }
                None
            }
            Client::Tcp { token, generation } => {
                let conn = self.conns.get_mut(token)?;
                if conn.generation() != generation {
                    return None;
                }
                let held = conn.waiting >= tcp::MAX_WAITING;
                conn.waiting = conn.waiting.saturating_sub(1);
                conn.queue(&done.response);
                if !self.conns.flush(&self.poll, token) {
                    self.conns.close(&self.poll, token, &self.limits);
                    return None;
                }
                held.then_some(token)
            }
        }
    }
}

/// Answers `msg` received over `transport` into `out` and keeps the counts
/// every transport keeps: the reply's type, rcode, size and truncation, a
/// refused forward, a dropped packet. What to do with the reply is the
/// caller's.
fn answer_counted(
    table: &Table,
    msg: &[u8],
    out: &mut [u8],
    transport: Transport,
    stats: &WorkerStats,
) -> Answer {
    let (action, meta) = answer_meta(table, msg, out, transport);
    if meta.refused_external {
        stats.forward_refused();
    }
    match action {
        Answer::Reply(len) => {
            stats.query(
                transport,
                meta.qtype,
                rcode_slot(meta.rcode),
                len,
                meta.truncated,
            );
        }
        Answer::Drop => stats.dropped(),
        Answer::Forward { .. } => {}
    }
    action
}
