//! HTTP clients cannot slow DNS down: the real DNS workers and the HTTP
//! server run side by side on one table while hostile HTTP clients fill the
//! connection cap with slowloris connections and others pull `/v1/axfr` and
//! `/metrics` in a loop; every DNS query must still be answered, correctly,
//! well within its timeout. Latencies with and without the HTTP load are
//! printed for comparison (`--nocapture`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RData;
use mesos_dns::dns_config::DnsConfig;
use mesos_dns::http::{self, ApiContext, ApiSettings, HttpLimits};
use mesos_dns::serve;
use mesos_dns::stats::Stats;
use mesos_dns::table::{SharedTable, Table};
use mesos_dns_tests::http::records;
use mesos_sources::PollerStatus;

/// A standard query for `liquor-store.marathon.mesos. A` with `id`.
fn query(id: u16) -> Vec<u8> {
    mesos_dns_tests::dns::query(id, "liquor-store.marathon.mesos.", 1, None)
}

/// Sends `n` queries one after another; returns each one's latency. Panics
/// on a lost, mismatched or wrong answer.
fn dns_round(dns: SocketAddr, n: u16) -> Vec<Duration> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 1500];
    let mut lat = Vec::with_capacity(usize::from(n));
    for id in 0..n {
        let t = Instant::now();
        sock.send_to(&query(id), dns).unwrap();
        let len = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("query {id} lost: {e}"));
        lat.push(t.elapsed());
        let msg = Message::from_vec(&buf[..len]).unwrap();
        assert_eq!(msg.metadata.id, id);
        assert_eq!(msg.metadata.response_code, ResponseCode::NoError);
        let mut ips: Vec<Ipv4Addr> = msg
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
        ips.sort();
        assert_eq!(
            ips,
            [Ipv4Addr::new(10, 3, 0, 1), Ipv4Addr::new(10, 3, 0, 2)]
        );
    }
    lat.sort();
    lat
}

fn summary(lat: &[Duration]) -> String {
    let at = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize];
    format!(
        "n={} p50={:?} p99={:?} max={:?}",
        lat.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

#[test]
fn hostile_http_clients_do_not_disturb_dns() {
    let cfg = DnsConfig {
        listener: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        workers: 2,
        external_on: false,
        recurse_on: false,
        ..DnsConfig::default()
    };
    let table = Arc::new(SharedTable::new(Table::compile(
        Arc::new(records()),
        &cfg,
        1,
    )));
    let stats = Arc::new(Stats::for_config(&cfg));
    let dns = serve::start(&cfg, Arc::clone(&table), Arc::clone(&stats)).unwrap();
    let dns_addr = dns.local_addr();
    let ctx = ApiContext {
        table,
        settings: ApiSettings {
            version: "test".into(),
            enumeration_on: true,
            ..ApiSettings::default()
        }
        .into(),
        poller: Arc::new(PollerStatus::default()),
        dns: Some(stats),
        snapshot: Arc::default(),
        guard: Default::default(),
    };
    let limits = HttpLimits {
        max_connections: 32,
        header_timeout: Duration::from_secs(3),
        ..HttpLimits::default()
    };
    let listener = http::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let server = http::start(listener, Arc::new(ctx), limits).unwrap();
    let web = server.local_addr();

    let quiet = dns_round(dns_addr, 300);
    println!("DNS alone:            {}", summary(&quiet));

    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    // 28 slowloris connections trickling header bytes, re-opened when cut.
    for _ in 0..28 {
        let stop = Arc::clone(&stop);
        attackers.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut c) = TcpStream::connect(web) else {
                    continue;
                };
                let _ = c.write_all(b"GET /v1/axfr HTTP/1.1\r\n");
                while !stop.load(Ordering::Relaxed) && c.write_all(b"X").is_ok() {
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }));
    }
    // 4 clients pulling the biggest bodies as fast as they can, keep-alive.
    let mut pullers = Vec::new();
    for i in 0..4 {
        let stop = Arc::clone(&stop);
        pullers.push(thread::spawn(move || {
            let mut served = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut c) = TcpStream::connect(web) else {
                    continue;
                };
                let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
                let path = if i % 2 == 0 { "/v1/axfr" } else { "/metrics" };
                let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                let mut buf = vec![0u8; 64 * 1024];
                while !stop.load(Ordering::Relaxed) {
                    if c.write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    match c.read(&mut buf) {
                        Ok(n) if n > 0 => served += 1,
                        _ => break,
                    }
                }
            }
            served
        }));
    }
    thread::sleep(Duration::from_millis(300));
    let loaded = dns_round(dns_addr, 300);
    println!("DNS under HTTP attack: {}", summary(&loaded));
    // An extra client meanwhile gets a quick 503 (cap) or its answer.
    let mut probe = TcpStream::connect(web).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    probe
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    probe.read_exact(&mut head).unwrap();
    let status = String::from_utf8_lossy(&head[9..12]).into_owned();
    assert!(status == "200" || status == "503", "{status}");

    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.join();
    }
    let pulled: u64 = pullers.into_iter().map(|p| p.join().unwrap_or(0)).sum();
    println!("HTTP bodies pulled meanwhile: {pulled}");
    server.stop();
    dns.stop();
    // Generous bound (a shared 2-core machine): every answer came, each well
    // inside the client's 2 s timeout.
    assert!(
        loaded[loaded.len() - 1] < Duration::from_millis(500),
        "{}",
        summary(&loaded)
    );
}
