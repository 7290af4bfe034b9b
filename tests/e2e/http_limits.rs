//! Hostile and unusual HTTP clients: keep-alive and pipelining, oversized
//! heads and bodies, slowloris, the connection cap, and shutdown.

use mesos_dns_tests::http::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mesos_dns::http::HttpLimits;

#[test]
fn keep_alive_serves_pipelined_requests_on_one_connection() {
    let s = start();
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(
        b"GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /health HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /v1/hosts/ns1.mesos HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{out}");
    assert!(out.contains("\"Version\": \"v0.7.0-test\""));
    assert!(out.contains("OK\n"));
    assert!(out.ends_with("\"ip\": \"127.0.0.1\"\n  }\n ]"), "{out}");
    // ureq reuses its pooled connection: two more requests, one more accept.
    let a = agent();
    for _ in 0..3 {
        assert_eq!(
            ureq_reply(a.get(s.url("/health")).call().unwrap()).status,
            200
        );
    }
    let metrics = get(&s.url("/metrics")).body;
    // 1 raw + 1 pooled ureq + 1 for this scrape.
    assert!(
        metrics
            .lines()
            .any(|l| l == "mesosdns_http_connections_total 3"),
        "{metrics}"
    );
}

#[test]
fn oversized_heads_and_bodies_are_refused() {
    let limits = HttpLimits {
        max_head_bytes: 1024,
        max_body_bytes: 100,
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let long = format!(
        "GET /v1/version HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(2000)
    );
    let out = raw_exchange(s.addr, long.as_bytes(), Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    let mut many = String::from("GET /v1/version HTTP/1.1\r\n");
    for i in 0..70 {
        many.push_str(&format!("X-{i}: y\r\n"));
    }
    many.push_str("\r\n");
    let out = raw_exchange(s.addr, many.as_bytes(), Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    let big = "GET /v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n";
    let out = raw_exchange(s.addr, big.as_bytes(), Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    let garbage = raw_exchange(
        s.addr,
        b"\x16\x03\x01\x02\x00\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    // curl sees the 413 too; a body under the limit is read and skipped.
    let reply = curl(&[
        "-X",
        "GET",
        "-H",
        "Content-Type: application/json",
        "--data",
        &"x".repeat(500),
        &s.url("/v1/version"),
    ]);
    assert_eq!(reply.status, 413);
    let reply = curl(&[
        "-X",
        "GET",
        "-H",
        "Content-Type: application/json",
        "--data",
        &"x".repeat(50),
        &s.url("/v1/version"),
    ]);
    assert_eq!(reply.status, 200);
}

#[test]
fn slowloris_is_cut_off_while_others_are_served() {
    let limits = HttpLimits {
        header_timeout: Duration::from_millis(800),
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let started = Instant::now();
    let mut slow = TcpStream::connect(s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    slow.write_all(b"GET /v1/version HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut silent = TcpStream::connect(s.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Trickle one header byte every 100 ms; others are served meanwhile.
    let mut reply = Vec::new();
    let mut closed = false;
    for i in 0..100 {
        if i % 5 == 0 {
            assert_eq!(get(&s.url("/v1/version")).status, 200);
        }
        if slow.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match slow.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(closed, "the trickling client was never cut off");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "cut off after {:?}",
        started.elapsed()
    );
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408 "),
        "{reply}"
    );
    // The silent client was closed too, without a response.
    let mut buf = Vec::new();
    let _ = silent.read_to_end(&mut buf);
    assert!(buf.is_empty());
    let metrics = get(&s.url("/metrics")).body;
    assert!(
        metrics
            .lines()
            .any(|l| l == "mesosdns_http_timeouts_total 2"),
        "{metrics}"
    );
}

/// The value of an unlabelled sample in `/metrics`.
fn metric(s: &Server, name: &str) -> u64 {
    let metrics = get(&s.url("/metrics")).body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        .parse()
        .unwrap()
}

/// Whether the server closed `c` (end of stream or reset) within `wait`.
fn closed_by_server(mut c: &TcpStream, wait: Duration) -> bool {
    c.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64];
    match c.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// `GET path` from the loopback address `from`, read to the end.
fn exchange_from(from: &str, s: &Server, path: &str) -> String {
    let mut c = connect_from(from, s.addr);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Silent connections (no request yet) at the total cap are closed,
/// longest waiting first, to make room: they can never lock out
/// `/health`. Before, the cap answered every newcomer 503.
#[test]
fn silent_connections_make_room_at_the_total_cap() {
    let limits = HttpLimits {
        max_connections: 4,
        header_timeout: Duration::from_secs(30),
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let _silent: Vec<TcpStream> = (10..20)
        .map(|i| connect_from(&format!("127.0.0.{i}"), s.addr))
        .collect();
    let out = raw_exchange(s.addr, HEALTH, Duration::from_secs(10));
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(metric(&s, "mesosdns_http_connections_evicted_total") >= 7);
    assert_eq!(metric(&s, "mesosdns_http_connections_rejected_total"), 0);
}

/// One client (one address) holds at most `max_per_client` connections:
/// its own longest-waiting ones make room for its new ones, and other
/// clients keep theirs.
#[test]
fn per_client_cap_closes_that_clients_longest_waiting() {
    let limits = HttpLimits {
        max_per_client: 3,
        header_timeout: Duration::from_secs(30),
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let other = connect_from("127.0.0.3", s.addr);
    let mut mine: Vec<TcpStream> =
        (0..10).map(|_| connect_from("127.0.0.2", s.addr)).collect();
    // The acceptor takes connections in order: once this one is answered,
    // every earlier one was admitted (and the evictions done).
    let out = exchange_from("127.0.0.4", &s, "/health");
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    let closed = mine
        .iter_mut()
        .filter(|c| closed_by_server(c, Duration::from_millis(300)))
        .count();
    assert_eq!(closed, 7);
    assert!(!closed_by_server(&other, Duration::from_millis(300)));
    // The capped client itself still gets answers.
    let out = exchange_from("127.0.0.2", &s, "/v1/version");
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
}

/// A record set whose `/v1/axfr` body is several megabytes: more than
/// loopback socket buffers hold, so a client that does not read keeps its
/// connection busy.
fn large_records() -> mesos_records::RecordSet {
    let mut rs = mesos_records::RecordSetBuilder::new(true);
    for i in 0..100_000u32 {
        let name = format!("task-with-a-long-name-{i:06}.marathon.mesos.");
        rs.insert_a(&name, std::net::Ipv4Addr::from(0x0a00_0000 + i));
    }
    rs.finish()
}

/// Clients that request `/v1/axfr` and never read take at most
/// `busy_cap` connections: the rest of the cap stays free for `/health`,
/// `/ready` and `/metrics`. Before, they took every connection and
/// `/health` said 503.
#[test]
fn slow_listing_readers_leave_room_for_probes() {
    let limits = HttpLimits {
        max_connections: 8,
        write_timeout: Duration::from_secs(60),
        ..HttpLimits::default()
    };
    let busy = limits.busy_cap();
    assert_eq!(busy, 7);
    let s = start_records(Some(large_records()), true, limits);
    let mut readers = Vec::new();
    for i in 0..busy {
        let mut c = connect_from(&format!("127.0.0.{}", 20 + i), s.addr);
        c.write_all(b"GET /v1/axfr HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        // Read the start of the response, then stop reading.
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = [0u8; 16];
        c.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200 OK\r");
        readers.push(c);
    }
    // One more listing request is refused: its turn would take the
    // probes' reserve.
    let out = exchange_from("127.0.0.40", &s, "/v1/axfr");
    assert!(
        out.starts_with("HTTP/1.1 503 "),
        "{}",
        &out[..out.len().min(200)]
    );
    for path in ["/health", "/ready", "/metrics"] {
        let out = exchange_from("127.0.0.41", &s, path);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {out}");
    }
    drop(readers);
}

/// A large body is one shared copy: every reader gets the same bytes.
#[test]
fn listing_bodies_are_identical_for_every_reader() {
    let s = start_records(Some(large_records()), true, HttpLimits::default());
    let a = exchange_from("127.0.0.5", &s, "/v1/axfr");
    let b = exchange_from("127.0.0.6", &s, "/v1/axfr");
    assert!(a.len() > 4_000_000, "{}", a.len());
    let body = |r: &str| r.split_once("\r\n\r\n").unwrap().1.to_owned();
    assert_eq!(body(&a), body(&b));
    assert!(body(&a).ends_with('}'), "{}", &a[a.len() - 100..]);
}

/// Every connection at the cap busy answering: a newcomer gets 503, and
/// service resumes once they finish.
#[test]
fn connection_cap_refuses_when_every_connection_is_busy() {
    let limits = HttpLimits {
        max_connections: 2,
        write_timeout: Duration::from_secs(60),
        ..HttpLimits::default()
    };
    let s = start_records(Some(large_records()), true, limits);
    let mut readers = Vec::new();
    // busy_cap is 1: one listing reader, and one client that pipelines
    // more probes than the socket buffers hold and does not read.
    let probes = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000);
    for (i, request) in ["GET /v1/axfr HTTP/1.1\r\nHost: x\r\n\r\n", &probes]
        .iter()
        .enumerate()
    {
        let mut c = connect_from(&format!("127.0.0.{}", 50 + i), s.addr);
        c.write_all(request.as_bytes()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = [0u8; 16];
        c.read_exact(&mut head).unwrap();
        readers.push(c);
    }
    let refused = exchange_from("127.0.0.60", &s, "/health");
    assert!(refused.starts_with("HTTP/1.1 503 "), "{refused}");
    assert!(refused.contains("Connection: close\r\n"));
    drop(readers);
    let mut status = String::new();
    for _ in 0..100 {
        status = exchange_from("127.0.0.60", &s, "/health");
        if status.starts_with("HTTP/1.1 200 ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(status.starts_with("HTTP/1.1 200 "), "{status}");
    assert!(metric(&s, "mesosdns_http_connections_rejected_total") >= 1);
}

#[test]
fn stop_closes_the_listener_and_open_connections() {
    let mut s = start();
    let mut kept = TcpStream::connect(s.addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 256];
    assert!(kept.read(&mut buf).unwrap() > 0);
    s.stop();
    let mut rest = Vec::new();
    let _ = kept.read_to_end(&mut rest);
    assert!(TcpStream::connect_timeout(&s.addr, Duration::from_secs(2)).is_err());
}

#[test]
fn http10_closes_unless_kept_alive() {
    let s = start();
    let out = raw_exchange(
        s.addr,
        b"GET /v1/version HTTP/1.0\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(out.starts_with("HTTP/1.0 200 OK\r\n"), "{out}");
    assert!(!out.contains("Connection: keep-alive"));
    // Kept alive on request: two answers on one connection.
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(
        b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.0\r\n\r\n",
    )
    .unwrap();
    let mut all = String::new();
    c.read_to_string(&mut all).unwrap();
    assert_eq!(all.matches("HTTP/1.0 200 OK\r\n").count(), 2, "{all}");
    assert_eq!(
        all.matches("Connection: keep-alive\r\n").count(),
        1,
        "{all}"
    );
    let reply = curl(&["--http1.0", &s.url("/v1/version")]);
    assert_eq!(reply.status, 200);
}

/// RFC 9110 section 10.1.1: a client that sends `Expect: 100-continue`
/// gets the interim response before it sends the body.
#[test]
fn rfc9110_10_1_1_expect_continue() {
    let s = start();
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(
        b"GET /v1/version HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut interim = [0u8; 25];
    c.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(b"{}").unwrap();
    let mut rest = String::new();
    c.read_to_string(&mut rest).unwrap();
    assert!(rest.starts_with("HTTP/1.1 200 OK\r\n"), "{rest}");
    // curl waits for the 100 on large bodies; the answer is the same.
    let body = "x".repeat(2000);
    let limits = HttpLimits {
        max_body_bytes: 4096,
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let reply = curl(&[
        "-X",
        "GET",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Expect: 100-continue",
        "--data",
        &body,
        &s.url("/v1/version"),
    ]);
    assert_eq!(reply.status, 200);
}

/// RFC 9112 section 9.6: a refusal sent while the client is still sending
/// its body must reach the client (no reset that destroys it).
#[test]
fn refusal_reaches_a_client_still_sending() {
    let limits = HttpLimits {
        max_body_bytes: 100,
        ..HttpLimits::default()
    };
    let s = start_with(true, true, limits);
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = c.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let head =
            b"GET /v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n";
        let _ = w.write_all(head);
        let chunk = [b'x'; 1000];
        for _ in 0..200 {
            if w.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    // Read only after the client sent everything. (Over loopback Linux
    // still delivers a response that arrived before a reset, so this checks
    // the refusal arrives, not the server's linger itself.)
    writer.join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut out = Vec::new();
    let read = c.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 413 "), "{read:?} {out}");
}
