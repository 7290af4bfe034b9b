//! Building the listening sockets with socket2, then handing them to mio.
//!
//! Every worker gets its own UDP socket and its own TCP listener on the same
//! address, with `SO_REUSEPORT`, so the kernel spreads packets and
//! connections over the workers. mesos-dns's `0.0.0.0` listener is a
//! dual-stack `[::]` socket in Go (BEHAVIOUR.md 5.1), so `0.0.0.0` and `::`
//! bind `[::]` with `IPV6_V6ONLY` off; any other address binds exactly that
//! address.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

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
