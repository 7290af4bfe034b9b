//! Loopback ports for the servers a test must name a port to before they
//! start: NSD, Knot, ZooKeeper, or a listener a reload moves.
//!
//! A port from a port-0 bind lies in the kernel's ephemeral range, the same
//! range it takes the local ports of outgoing connections from. Once the
//! probe socket is closed, any test's next connection may take that port
//! before the server binds it ("Address already in use" from NSD, seen in
//! CI). The ports here come from below that range, which the kernel never
//! hands out on its own; each process starts at its own place in it, never
//! gives a port twice, and checks each one free for both UDP and TCP.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out.
const FLOOR: u32 = 12_000;

/// A loopback port free for UDP and TCP now, outside the ephemeral range.
///
/// # Panics
/// If no port below the ephemeral range is free.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ceiling = ephemeral_floor().max(FLOOR + 1_000);
    let span = ceiling - FLOOR;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let port = (FLOOR + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span) as u16;
        let udp = UdpSocket::bind(("127.0.0.1", port));
        let tcp = TcpListener::bind(("127.0.0.1", port));
        if udp.is_ok() && tcp.is_ok() {
            return port;
        }
    }
    panic!("no loopback port free between {FLOOR} and {ceiling}");
}

/// A loopback address nothing listens on (for tests of a dead peer): a
/// [`free_port`], which neither the kernel nor this harness hands out
/// again, where a port-0 probe's port may become another test's.
pub fn closed_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// The first port of the kernel's ephemeral range (32768 if unknown).
fn ephemeral_floor() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_below_the_ephemeral_range_and_bindable() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ports.len());
        for port in ports {
            assert!(u32::from(port) >= FLOOR && u32::from(port) < ephemeral_floor());
            TcpListener::bind(("127.0.0.1", port)).expect("free for TCP");
            UdpSocket::bind(("127.0.0.1", port)).expect("free for UDP");
        }
    }
}
