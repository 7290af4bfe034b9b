//! Building the listening sockets with socket2, then handing them to mio.
//!
//! Every worker gets its own UDP socket and its own TCP listener on the same
//! address, with `SO_REUSEPORT`, so the kernel spreads packets and
//! connections over the workers. mesos-dns's `0.0.0.0` listener is a
//! dual-stack `[::]` socket in Go (BEHAVIOUR.md 5.1), so `0.0.0.0` and `::`
//! bind `[::]` with `IPV6_V6ONLY` off; any other address binds exactly that
//! address.
//!
//! # Socket activation
//!
//! Started by systemd with a `.socket` unit (or anything that speaks its
//! protocol: `LISTEN_FDS`, `LISTEN_PID`), the DNS workers serve on the
//! passed UDP socket and TCP listener instead of binding their own
//! (`take_inherited`, `inherited_dns`); every worker polls a duplicate
//! of the same socket. The service manager keeps those sockets open
//! between two processes, so a restart or a binary upgrade loses no
//! query: what arrives meanwhile waits in the socket's queue for the next
//! process, and a stopping worker leaves it there.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;

use socket2::{Domain, Protocol, Socket, Type};

/// Requested receive buffer size for UDP sockets (the kernel may grant less,
/// or double it; the granted size is logged).
pub const DEFAULT_UDP_RECV_BUFFER: usize = 4 << 20;

/// Requested send buffer size for UDP sockets.
pub const DEFAULT_UDP_SEND_BUFFER: usize = 1 << 20;

/// Backlog of each TCP listener.
pub const TCP_BACKLOG: i32 = 1024;

/// The address to bind for a configured listener and port: unspecified
/// addresses become dual-stack `[::]`.
pub fn bind_addr(listener: IpAddr, port: u16) -> SocketAddr {
    if listener.is_unspecified() {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
    } else {
        SocketAddr::new(listener, port)
    }
}

fn new_socket(addr: SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    if addr.is_ipv6() {
        // Unspecified `[::]` serves IPv4 too; a specific v6 address only v6.
        let dual = addr.ip().is_unspecified();
        sock.set_only_v6(!dual)?;
    }
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// Builds a non-blocking, `SO_REUSEPORT` UDP socket bound to `addr`, with
/// large buffers. Logs the buffer sizes the kernel granted when `log_sizes`.
pub fn udp(addr: SocketAddr, log_sizes: bool) -> io::Result<mio::net::UdpSocket> {
    let sock = new_socket(addr, Type::DGRAM, Protocol::UDP)?;
    // Best effort: a smaller grant is not an error, only logged.
    let _ = sock.set_recv_buffer_size(DEFAULT_UDP_RECV_BUFFER);
    let _ = sock.set_send_buffer_size(DEFAULT_UDP_SEND_BUFFER);
    if log_sizes {
        log::info!(
            "DNS UDP socket {addr}: receive buffer {} bytes, send buffer {} bytes",
            sock.recv_buffer_size().unwrap_or(0),
            sock.send_buffer_size().unwrap_or(0)
        );
    }
    sock.bind(&addr.into())?;
    Ok(mio::net::UdpSocket::from_std(sock.into()))
}

/// Builds a non-blocking, `SO_REUSEPORT` TCP listener bound to `addr`.
pub fn tcp(addr: SocketAddr) -> io::Result<mio::net::TcpListener> {
    let sock = new_socket(addr, Type::STREAM, Protocol::TCP)?;
    sock.set_tcp_nodelay(true)?;
    sock.bind(&addr.into())?;
    sock.listen(TCP_BACKLOG)?;
    Ok(mio::net::TcpListener::from_std(sock.into()))
}

/// Sockets for the DNS workers: a UDP socket and a TCP listener each.
pub(crate) type WorkerSockets = Vec<(mio::net::UdpSocket, mio::net::TcpListener)>;

/// Sockets passed by the service manager, taken once at startup.
static INHERITED: OnceLock<Inherited> = OnceLock::new();

#[derive(Debug, Default)]
struct Inherited {
    udp: Vec<std::net::UdpSocket>,
    tcp: Vec<std::net::TcpListener>,
}

/// Takes the sockets passed with `LISTEN_FDS` (systemd socket activation:
/// only when `LISTEN_PID` is this process, or unset) and clears those
/// variables; returns how many UDP sockets and TCP listeners were
/// passed. Call it once, before any thread starts. A passed descriptor
/// that is neither is logged and left alone.
pub fn take_inherited() -> (usize, usize) {
    let mut fds = listenfd::ListenFd::from_env();
    let mut got = Inherited::default();
    for i in 0..fds.len() {
        if let Ok(Some(s)) = fds.take_udp_socket(i) {
            got.udp.push(s);
            continue;
        }
        match fds.take_tcp_listener(i) {
            Ok(Some(l)) => got.tcp.push(l),
            Ok(None) => {}
            Err(e) => {
                log::warn!("socket activation: passed descriptor {i}: {e}: ignored")
            }
        }
    }
    let counts = (got.udp.len(), got.tcp.len());
    let _ = INHERITED.set(got);
    counts
}

/// True if a passed socket bound to `have` serves the configured `want`:
/// the same port, and the same address or a configured wildcard.
fn serves(have: SocketAddr, want: SocketAddr) -> bool {
    have.port() == want.port() && (have.ip() == want.ip() || want.ip().is_unspecified())
}

/// The passed UDP socket for `want` (see [`serves`]) and the passed TCP
/// listener on its address (or, if none was passed, one bound here), one
/// duplicate of each per worker; `None` when no passed UDP socket serves
/// `want`.
pub(crate) fn inherited_dns(
    want: SocketAddr,
    workers: usize,
) -> Option<io::Result<(SocketAddr, WorkerSockets)>> {
    let passed = INHERITED.get()?;
    let udp = passed
        .udp
        .iter()
        .find(|s| s.local_addr().is_ok_and(|a| serves(a, want)))?;
    Some((|| {
        let addr = udp.local_addr()?;
        udp.set_nonblocking(true)?;
        // Best effort, as for our own sockets: a unit's ReceiveBuffer= may
        // already be larger.
        let sock = socket2::SockRef::from(udp);
        if sock.recv_buffer_size().unwrap_or(0) < DEFAULT_UDP_RECV_BUFFER {
            let _ = sock.set_recv_buffer_size(DEFAULT_UDP_RECV_BUFFER);
        }
        log::info!(
            "DNS UDP socket {addr} from the service manager: receive buffer {} bytes",
            sock.recv_buffer_size().unwrap_or(0)
        );
        let tcp = passed
            .tcp
            .iter()
            .find(|l| l.local_addr().is_ok_and(|a| a == addr));
        let mut sockets = Vec::with_capacity(workers);
        for _ in 0..workers.max(1) {
            let u = mio::net::UdpSocket::from_std(udp.try_clone()?);
            let t = match tcp {
                Some(l) => {
                    l.set_nonblocking(true)?;
                    mio::net::TcpListener::from_std(l.try_clone()?)
                }
                None => self::tcp(addr)?,
            };
            sockets.push((u, t));
        }
        Ok((addr, sockets))
    })())
}

/// An unconnected UDP socket for talking to upstream `to`, bound to an
/// ephemeral port of the same family (the kernel's source-port
/// randomisation is the only entropy besides the ID, as for any stub).
pub fn upstream_udp(to: SocketAddr) -> io::Result<mio::net::UdpSocket> {
    let local: SocketAddr = if to.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = Socket::new(Domain::for_address(to), Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_nonblocking(true)?;
    sock.bind(&local.into())?;
    sock.connect(&to.into())?;
    Ok(mio::net::UdpSocket::from_std(sock.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn unspecified_listener_is_dual_stack() {
        let a = bind_addr(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 53);
        assert_eq!(a, "[::]:53".parse().unwrap());
        let b = bind_addr(IpAddr::V4(Ipv4Addr::LOCALHOST), 53);
        assert_eq!(b, "127.0.0.1:53".parse().unwrap());
    }

    #[test]
    fn a_passed_socket_serves_its_port_on_its_address_or_a_wildcard() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(serves(at("127.0.0.1:53"), at("127.0.0.1:53")));
        assert!(serves(at("127.0.0.1:53"), at("[::]:53")));
        assert!(serves(at("[::]:53"), at("[::]:53")));
        assert!(!serves(at("127.0.0.1:53"), at("127.0.0.2:53")));
        assert!(!serves(at("[::]:53"), at("127.0.0.1:53")));
        assert!(!serves(at("127.0.0.1:5353"), at("127.0.0.1:53")));
    }

    #[test]
    fn two_udp_sockets_share_a_port() {
        let a = udp("127.0.0.1:0".parse().unwrap(), false).unwrap();
        let port = a.local_addr().unwrap().port();
        let b = udp(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port), false).unwrap();
        assert_eq!(b.local_addr().unwrap().port(), port);
        let t1 = tcp(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)).unwrap();
        let t2 = tcp(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)).unwrap();
        assert_eq!(t1.local_addr().unwrap(), t2.local_addr().unwrap());
    }
}
