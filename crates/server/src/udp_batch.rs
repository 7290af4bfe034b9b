//! Batched UDP receive and send: up to [`BATCH`] datagrams per system call
//! with `recvmmsg(2)` and `sendmmsg(2)`.
//!
//! On a loopback benchmark about four fifths of a query's CPU time is the
//! kernel's UDP path, and a `recvfrom` plus a `sendto` per query was the
//! largest part of what our server spent beyond a do-nothing responder. A
//! batch amortises the system-call entry and exit over every datagram
//! waiting in the socket, without adding latency: `recvmmsg` returns what is
//! queued now and never waits for more.
//!
//! This is the project's only `unsafe` code: the two calls are not wrapped by
//! std, mio or socket2. The safety argument is local to each call: every
//! pointer handed to the kernel points into a buffer owned by [`Batch`] and
//! borrowed mutably for the duration of the call, with the length of that
//! buffer; the headers and iovecs live on the caller's stack for the call
//! only. Nothing is read back except lengths the kernel wrote and the peer
//! addresses, which are read only after checking their family and length.
//!
//! Other operating systems get the same interface over plain
//! `recv_from`/`send_to`, one datagram per call.

use std::io;
use std::net::SocketAddr;

use mio::net::UdpSocket;

/// Datagrams per system call.
pub(crate) const BATCH: usize = 32;

/// Receive slot size. A longer datagram arrives cut and is dropped: no
/// client sends such a query (mesos-dns itself reads only 512 octets).
pub(crate) const RX_SLOT: usize = 4096;

/// One batch: the received datagrams and the replies to them.
pub(crate) struct Batch {
    rx: Box<[u8]>,
    tx: Box<[u8]>,
    tx_slot: usize,
    n: usize,
    rx_len: [usize; BATCH],
    rx_cut: [bool; BATCH],
    reply_len: [usize; BATCH],
    peers: sys::Peers,
}

impl Batch {
    /// A batch whose replies may be up to `max_reply` octets long.
    pub(crate) fn new(max_reply: usize) -> Self {
        let tx_slot = max_reply.clamp(512, 65_535);
        Batch {
            rx: vec![0u8; BATCH * RX_SLOT].into_boxed_slice(),
            tx: vec![0u8; BATCH * tx_slot].into_boxed_slice(),
            tx_slot,
            n: 0,
            rx_len: [0; BATCH],
            rx_cut: [false; BATCH],
            reply_len: [0; BATCH],
            peers: sys::Peers::new(),
        }
    }

    /// Datagrams received by the last [`Batch::recv`].
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Datagram `i` (cut ones are `None`) and the buffer for its reply.
    pub(crate) fn slot(&mut self, i: usize) -> Option<(&[u8], &mut [u8])> {
        if i >= self.n || self.rx_cut.get(i).copied().unwrap_or(true) {
            return None;
        }
        let len = self.rx_len.get(i).copied().unwrap_or(0).min(RX_SLOT);
        let packet = self.rx.get(i * RX_SLOT..i * RX_SLOT + len)?;
        let out = self.tx.get_mut(i * self.tx_slot..(i + 1) * self.tx_slot)?;
        Some((packet, out))
    }

    /// The sender of datagram `i`.
    pub(crate) fn peer(&self, i: usize) -> Option<SocketAddr> {
        if i >= self.n {
            return None;
        }
        self.peers.get(i)
    }

    /// Marks the first `len` octets of slot `i`'s reply buffer for sending.
    pub(crate) fn reply(&mut self, i: usize, len: usize) {
        if let Some(r) = self.reply_len.get_mut(i) {
            *r = len.min(self.tx_slot);
        }
    }

    /// Receives what is queued, up to [`BATCH`] datagrams; returns how many
    /// (`WouldBlock` when none).
    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        self.n = 0;
        self.reply_len = [0; BATCH];
        let n = sys::recv(self, sock)?;
        self.n = n;
        Ok(n)
    }

    /// Sends every marked reply; returns how many could not be sent.
    pub(crate) fn send(&mut self, sock: &UdpSocket) -> usize {
        sys::send(self, sock)
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    use mio::net::UdpSocket;

    use super::{Batch, BATCH, RX_SLOT};

    /// The peer addresses of one batch, as the kernel wrote them.
    pub(super) struct Peers {
        addrs: [libc::sockaddr_storage; BATCH],
        lens: [libc::socklen_t; BATCH],
    }

    impl Peers {
        pub(super) fn new() -> Self {
            Peers {
                // SAFETY: sockaddr_storage is plain old data; all zeroes is
                // a valid (AF_UNSPEC) value.
                addrs: unsafe { zeroed() },
                lens: [0; BATCH],
            }
        }

        pub(super) fn get(&self, i: usize) -> Option<SocketAddr> {
            let s = self.addrs.get(i)?;
            let len = *self.lens.get(i)? as usize;
            match i32::from(s.ss_family) {
                libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
                    // SAFETY: the family says the storage holds a
                    // sockaddr_in, which fits in sockaddr_storage, and
                    // read_unaligned needs no alignment.
                    let a: libc::sockaddr_in =
                        unsafe { std::ptr::read_unaligned(std::ptr::from_ref(s).cast()) };
                    let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                    Some(SocketAddrV4::new(ip, u16::from_be(a.sin_port)).into())
                }
                libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
                    // SAFETY: as above, for sockaddr_in6.
                    let a: libc::sockaddr_in6 =
                        unsafe { std::ptr::read_unaligned(std::ptr::from_ref(s).cast()) };
                    let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                    Some(
                        SocketAddrV6::new(
                            ip,
                            u16::from_be(a.sin6_port),
                            a.sin6_flowinfo,
                            a.sin6_scope_id,
                        )
                        .into(),
                    )
                }
                _ => None,
            }
        }
    }

    fn iovec(buf: &mut [u8]) -> libc::iovec {
        libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        }
    }

    pub(super) fn recv(b: &mut Batch, sock: &UdpSocket) -> io::Result<usize> {
        // SAFETY: iovec and mmsghdr are plain old data (null pointers and
        // zero lengths); every field the kernel reads is set below.
        let mut iov: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut hdr: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let slots = b.rx.chunks_exact_mut(RX_SLOT);
        for (((slot, v), h), addr) in slots
            .zip(iov.iter_mut())
            .zip(hdr.iter_mut())
            .zip(b.peers.addrs.iter_mut())
        {
            *v = iovec(slot);
            h.msg_hdr.msg_name = std::ptr::from_mut(addr).cast();
            h.msg_hdr.msg_namelen =
                size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = std::ptr::from_mut(v);
            h.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: `hdr` holds BATCH headers, each pointing at one iovec of
        // `iov` (which points at a distinct RX_SLOT-long slot of `b.rx`)
        // and at one sockaddr_storage of `b.peers` with its size. All of
        // them outlive the call and nothing else aliases them meanwhile.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                hdr.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = (n as usize).min(BATCH);
        for (i, h) in hdr.iter().enumerate().take(n) {
            b.rx_len[i] = h.msg_len as usize;
            b.rx_cut[i] = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            b.peers.lens[i] = h.msg_hdr.msg_namelen;
        }
        Ok(n)
    }

    pub(super) fn send(b: &mut Batch, sock: &UdpSocket) -> usize {
        // SAFETY: plain old data, as in `recv`.
        let mut iov: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut hdr: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        let mut k = 0;
        let slots = b.tx.chunks_exact_mut(b.tx_slot);
        for (i, slot) in slots.enumerate().take(b.n) {
            let len = b.reply_len[i];
            let (Some(buf), Some(v), Some(h), Some(addr)) = (
                slot.get_mut(..len),
                iov.get_mut(k),
                hdr.get_mut(k),
                b.peers.addrs.get_mut(i),
            ) else {
                continue;
            };
            if len == 0 {
                continue;
            }
            *v = iovec(buf);
            h.msg_hdr.msg_name = std::ptr::from_mut(addr).cast();
            h.msg_hdr.msg_namelen = b.peers.lens[i];
            h.msg_hdr.msg_iov = std::ptr::from_mut(v);
            h.msg_hdr.msg_iovlen = 1;
            k += 1;
        }
        let mut done = 0;
        let mut failed = 0;
        while done < k {
            let rest = hdr.get_mut(done..k).unwrap_or_default();
            // SAFETY: `rest` holds the headers built above: each points at
            // one iovec of `iov` (a prefix of a reply slot of `b.tx`) and at
            // the peer address the kernel gave for that datagram, with its
            // length. All outlive the call.
            let r = unsafe {
                libc::sendmmsg(
                    sock.as_raw_fd(),
                    rest.as_mut_ptr(),
                    rest.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                done += r as usize;
            } else if r < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {
                continue;
            } else {
                // The first message failed (full send buffer, unreachable
                // peer, ...): count it and go on with the rest.
                done += 1;
                failed += 1;
            }
        }
        failed
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;
    use std::net::SocketAddr;

    use mio::net::UdpSocket;

    use super::{Batch, BATCH, RX_SLOT};

    pub(super) struct Peers([Option<SocketAddr>; BATCH]);

    impl Peers {
        pub(super) fn new() -> Self {
            Peers([None; BATCH])
        }

        pub(super) fn get(&self, i: usize) -> Option<SocketAddr> {
            self.0.get(i).copied().flatten()
        }
    }

    pub(super) fn recv(b: &mut Batch, sock: &UdpSocket) -> io::Result<usize> {
        let mut n = 0;
        for (i, slot) in b.rx.chunks_exact_mut(RX_SLOT).enumerate() {
            match sock.recv_from(slot) {
                Ok((len, peer)) => {
                    b.rx_len[i] = len;
                    b.rx_cut[i] = false;
                    b.peers.0[i] = Some(peer);
                    n += 1;
                }
                Err(e) if n == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(n)
    }

    pub(super) fn send(b: &mut Batch, sock: &UdpSocket) -> usize {
        let mut failed = 0;
        for (i, slot) in b.tx.chunks_exact(b.tx_slot).enumerate().take(b.n) {
            let len = b.reply_len[i];
            if let (Some(buf), Some(peer)) = (slot.get(..len), b.peers.get(i)) {
                if len > 0 && sock.send_to(buf, peer).is_err() {
                    failed += 1;
                }
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket as StdSocket;
    use std::time::{Duration, Instant};

    fn pair() -> (UdpSocket, StdSocket) {
        let server = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let client = StdSocket::bind("127.0.0.1:0").unwrap();
        client.connect(server.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        (server, client)
    }

    /// Receives until `want` datagrams arrived (bounded by a deadline).
    fn recv_all(b: &mut Batch, s: &UdpSocket, want: usize) -> Vec<(Vec<u8>, SocketAddr)> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < want && Instant::now() < deadline {
            match b.recv(s) {
                Ok(n) => {
                    for i in 0..n {
                        let peer = b.peer(i).unwrap();
                        let (p, _) = b.slot(i).unwrap();
                        got.push((p.to_vec(), peer));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("recv: {e}"),
            }
        }
        got
    }

    #[test]
    fn empty_socket_would_block() {
        let (s, _c) = pair();
        let mut b = Batch::new(512);
        let e = b.recv(&s).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn receives_a_full_batch_then_the_rest_with_peers() {
        let (s, c) = pair();
        let total = BATCH + 5;
        for i in 0..total {
            c.send(&[i as u8; 3]).unwrap();
        }
        let mut b = Batch::new(512);
        let got = recv_all(&mut b, &s, total);
        assert_eq!(got.len(), total);
        for (i, (p, peer)) in got.iter().enumerate() {
            assert_eq!(p, &vec![i as u8; 3]);
            assert_eq!(*peer, c.local_addr().unwrap());
        }
    }

    #[test]
    fn replies_go_to_each_sender_and_unmarked_slots_send_nothing() {
        let (s, c1) = pair();
        let c2 = StdSocket::bind("127.0.0.1:0").unwrap();
        c2.connect(s.local_addr().unwrap()).unwrap();
        c2.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        c1.send(b"one").unwrap();
        c2.send(b"two").unwrap();
        // Loopback queues a datagram within the sender's call, so both
        // are waiting now and one receive takes them.
        let mut b = Batch::new(512);
        assert_eq!(b.recv(&s).unwrap(), 2);
        assert_eq!(b.len(), 2);
        for i in 0..2 {
            let (p, out) = b.slot(i).unwrap();
            if p == b"one" {
                out[..5].copy_from_slice(b"ONE!!");
                b.reply(i, 5);
            }
        }
        assert_eq!(b.send(&s), 0);
        let mut buf = [0u8; 64];
        let n = c1.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ONE!!");
        assert!(c2.recv(&mut buf).is_err(), "slot two was not marked");
    }

    #[test]
    fn an_oversized_datagram_is_cut_and_left_out() {
        let (s, c) = pair();
        c.send(&vec![7u8; RX_SLOT + 100]).unwrap();
        c.send(b"ok").unwrap();
        let mut b = Batch::new(512);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        while seen.len() < 2 && Instant::now() < deadline {
            if let Ok(n) = b.recv(&s) {
                for i in 0..n {
                    seen.push(b.slot(i).map(|(p, _)| p.to_vec()));
                }
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(seen, vec![None, Some(b"ok".to_vec())]);
    }

    #[test]
    fn ipv6_peers_are_decoded() {
        let server = UdpSocket::bind("[::1]:0".parse().unwrap()).unwrap();
        let c = StdSocket::bind("[::1]:0").unwrap();
        c.send_to(b"v6", server.local_addr().unwrap()).unwrap();
        let mut b = Batch::new(512);
        let got = recv_all(&mut b, &server, 1);
        assert_eq!(got, vec![(b"v6".to_vec(), c.local_addr().unwrap())]);
    }
}
