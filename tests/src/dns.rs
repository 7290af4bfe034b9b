//! DNS test harness: starts the DNS workers in-process on 127.0.0.1 with a
//! table compiled from a fixture record set, a stub upstream resolver, a
//! tiny raw UDP/TCP client, and wrappers around the real `dig` and `kdig`.
//!
//! Everything is on loopback with bounded timeouts. A missing `dig` or
//! `kdig` makes the test fail, never skip.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dns_wire::{write_query, Edns, Rtype};
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::serve::{start, DnsServer};
use mesos_dns::stats::Stats;
use mesos_dns::table::{SharedTable, Table};
use mesos_records::RecordSet;

/// How long a test client waits for one answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);

/// The DNS example records (`mesos_records::record::fixture::dns_examples`)
/// plus `leader.mesos.`, a 60-address name and a 3000-address name.
pub fn fixture_records() -> RecordSet {
    let mut rs = mesos_records::record::fixture::dns_examples();
    rs.insert_a("leader.mesos.", Ipv4Addr::new(1, 2, 3, 4));
    for i in 0..60u8 {
        rs.insert_a("big.marathon.mesos.", Ipv4Addr::new(10, 9, 0, i));
    }
    for i in 0..3000u16 {
        let [hi, lo] = i.to_be_bytes();
        rs.insert_a("huge.marathon.mesos.", Ipv4Addr::new(10, 8, hi, lo));
    }
    rs
}

/// A config for tests: 127.0.0.1, a free port, two workers, no upstream.
pub fn test_config() -> DnsConfig {
    DnsConfig {
        listener: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        workers: 2,
        resolvers: Vec::new(),
        timeout: Duration::from_millis(500),
        ..DnsConfig::default()
    }
}

/// A running in-process DNS server.
pub struct DnsFixture {
    /// The workers.
    pub server: DnsServer,
    /// The table they answer from.
    pub table: Arc<SharedTable>,
    /// Their counters.
    pub stats: Arc<Stats>,
    /// The config the table was compiled with.
    pub cfg: DnsConfig,
}

impl DnsFixture {
    /// Starts the workers with `records` already loaded (serial 1).
    pub fn start(cfg: DnsConfig, records: RecordSet) -> Self {
        let f = Self::start_empty(cfg);
        f.publish(records, 1);
        f
    }

    /// Starts the workers before any state load.
    pub fn start_empty(cfg: DnsConfig) -> Self {
        let table = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let stats = Arc::new(Stats::for_config(&cfg));
        let server = match start(&cfg, Arc::clone(&table), Arc::clone(&stats)) {
            Ok(s) => s,
            Err(e) => panic!("cannot start the DNS server: {e}"),
        };
        DnsFixture {
            server,
            table,
            stats,
            cfg,
        }
    }

    /// Publishes a new table.
    pub fn publish(&self, records: RecordSet, serial: u32) {
        self.table
            .publish(Table::compile(Arc::new(records), &self.cfg, serial));
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }
}

/// A query: `id`, RD set, one IN question, an optional OPT record
/// (UDP payload, version), written by [`dns_wire::write_query`]. Panics on
/// a name the wire cannot carry.
pub fn query(id: u16, name: &str, qtype: u16, edns: Option<(u16, u8)>) -> Vec<u8> {
    let edns = edns.map(|(udp_payload, version)| Edns {
        udp_payload,
        ext_rcode: 0,
        version,
        dnssec_ok: false,
    });
    let mut q = vec![0u8; 512];
    let n = write_query(&mut q, id, name, Rtype(qtype), edns.as_ref())
        .unwrap_or_else(|e| panic!("a query for {name:?}: {e:?}"));
    q.truncate(n);
    q
}

/// Sends one UDP packet and waits for one reply (None on timeout).
pub fn udp_exchange(server: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    sock.set_read_timeout(Some(CLIENT_TIMEOUT)).ok()?;
    sock.send_to(packet, server).ok()?;
    let mut buf = vec![0u8; 65_535];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Writes every query on one TCP connection at once, then reads as many
/// framed replies (None if the connection ends or times out first).
pub fn tcp_exchange(server: SocketAddr, queries: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    let mut s = TcpStream::connect_timeout(&server, CLIENT_TIMEOUT).ok()?;
    s.set_read_timeout(Some(CLIENT_TIMEOUT)).ok()?;
    let mut out = Vec::new();
    for q in queries {
        out.extend_from_slice(&(q.len() as u16).to_be_bytes());
        out.extend_from_slice(q);
    }
    s.write_all(&out).ok()?;
    let mut replies = Vec::new();
    for _ in queries {
        replies.push(read_framed(&mut s)?);
    }
    Some(replies)
}

/// Reads one two-octet-length framed message.
pub fn read_framed(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg).ok()?;
    Some(msg)
}

/// `text` with every run of whitespace turned into one space, so client
/// output can be matched without caring about column alignment.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs a real client (`dig` or `kdig`) against `server` and returns its
/// stdout. Panics (fails the test) if the tool is missing or fails.
pub fn run_client(tool: &str, server: SocketAddr, args: &[&str]) -> String {
    let out = Command::new(tool)
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(if tool == "kdig" {
            ["+timeout=3", "+retry=0"]
        } else {
            ["+time=3", "+tries=1"]
        })
        .args(args)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("{tool} is required for this test: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// How a [`StubUpstream`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StubMode {
    /// Answers every query with `A 192.0.2.1`, TTL 30.
    Answer,
    /// Never answers (an upstream that times out).
    Silent,
    /// Answers with TC set and no records.
    Truncated,
    /// Answers NXDOMAIN.
    NxDomain,
    /// Answers with 100 A records (about 1.6 KB).
    Large,
    /// Answers NXDOMAIN with an SOA in the authority section (TTL 600,
    /// MINIMUM 45), so resolvers may cache it (RFC 2308).
    NxDomainSoa,
    /// Answers SERVFAIL.
    ServFail,
}

/// A stub upstream resolver on 127.0.0.1, UDP and TCP on one port.
pub struct StubUpstream {
    /// Its address.
    pub addr: SocketAddr,
    /// Queries it received (UDP and TCP).
    pub received: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// A UDP socket on an ephemeral loopback port and a TCP listener on the
/// same port. The kernel picks the UDP port without looking at TCP, so the
/// TCP side may be taken (by another test's connection): then try another
/// port, a bounded number of times.
fn bind_udp_and_tcp() -> (UdpSocket, SocketAddr, std::net::TcpListener) {
    let mut last = None;
    for _ in 0..50 {
        let udp =
            UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap_or_else(|e| panic!("{e}"));
        let addr = udp.local_addr().unwrap_or_else(|e| panic!("{e}"));
        match std::net::TcpListener::bind(addr) {
            Ok(tcp) => return (udp, addr, tcp),
            Err(e) => last = Some(e),
        }
    }
    panic!("no loopback port free for both UDP and TCP: {last:?}");
}

impl StubUpstream {
    /// Starts a stub in `mode`.
    pub fn start(mode: StubMode) -> Self {
        let (udp, addr, tcp) = bind_udp_and_tcp();
        let _ = udp.set_read_timeout(Some(Duration::from_millis(50)));
        let _ = tcp.set_nonblocking(true);
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicUsize::new(0));
        let (s1, r1) = (Arc::clone(&stop), Arc::clone(&received));
        let t1 = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s1.load(Ordering::Acquire) {
                if let Ok((n, peer)) = udp.recv_from(&mut buf) {
                    r1.fetch_add(1, Ordering::AcqRel);
                    if let Some(r) = stub_reply(&buf[..n], mode) {
                        let _ = udp.send_to(&r, peer);
                    }
                }
            }
        });
        let (s2, r2) = (Arc::clone(&stop), Arc::clone(&received));
        let t2 = std::thread::spawn(move || {
            while !s2.load(Ordering::Acquire) {
                match tcp.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                        while let Some(q) = read_framed(&mut s) {
                            r2.fetch_add(1, Ordering::AcqRel);
                            if let Some(r) = stub_reply(&q, mode) {
                                let mut framed = (r.len() as u16).to_be_bytes().to_vec();
                                framed.extend_from_slice(&r);
                                let _ = s.write_all(&framed);
                            }
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        StubUpstream {
            addr,
            received,
            stop,
            threads: vec![t1, t2],
        }
    }
}

impl Drop for StubUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The stub's reply to `q`: the question echoed, plus what `mode` says.
fn stub_reply(q: &[u8], mode: StubMode) -> Option<Vec<u8>> {
    if mode == StubMode::Silent || q.len() < 12 {
        return None;
    }
    // The question ends 4 octets after the first root label.
    let mut i = 12;
    while *q.get(i)? != 0 {
        i += 1 + usize::from(q[i]);
    }
    let qend = i + 5;
    let mut r = q.get(..qend)?.to_vec();
    r[2] |= 0x80; // QR
    r[3] = 0x80; // RA
    r[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 0]);
    match mode {
        StubMode::Answer => {
            r[7] = 1;
            r.extend_from_slice(&[
                0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1,
            ]);
        }
        StubMode::Truncated => r[2] |= 0x02,
        StubMode::NxDomain => r[3] |= 3,
        StubMode::NxDomainSoa => {
            r[3] |= 3;
            r[9] = 1;
            // example. SOA . . 1 2 3 4 45, TTL 600.
            r.extend_from_slice(
                b"\x07example\x00\x00\x06\x00\x01\x00\x00\x02\x58\x00\x16\x00\x00",
            );
            for v in [1u32, 2, 3, 4, 45] {
                r.extend_from_slice(&v.to_be_bytes());
            }
        }
        StubMode::ServFail => r[3] |= 2,
        StubMode::Large => {
            r[7] = 100;
            for i in 0..100u8 {
                r.extend_from_slice(&[
                    0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, i,
                ]);
            }
        }
        StubMode::Silent => {}
    }
    Some(r)
}

/// Open file descriptors of this process (the server runs in-process).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}
