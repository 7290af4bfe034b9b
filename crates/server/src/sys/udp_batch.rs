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
//! The two calls are not wrapped by std, mio or socket2. The safety
//! argument is local to each call: every pointer handed to the kernel points into a buffer owned by [`Batch`] and
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
pub(crate) const BATCH: usize = 64;

/// Receive slot size. A longer datagram arrives cut and is dropped: no
/// client sends such a query (mesos-dns itself reads only 512 octets).
pub(crate) const RX_SLOT: usize = 4096;

/// One batch: the received datagrams and the replies to them.
pub(crate) struct Batch {
    tx: Vec<u8>,
    tx_slot: usize,
    n: usize,
    rx_len: [usize; BATCH],
    rx_cut: [bool; BATCH],
    reply_len: [usize; BATCH],
    io: sys::Io,
}

impl Batch {
    /// A batch whose replies may be up to `max_reply` octets long.
    pub(crate) fn new(max_reply: usize) -> Self {
        let tx_slot = max_reply.clamp(512, 65_535);
        Batch {
            tx: vec![0u8; BATCH * tx_slot],
            tx_slot,
            n: 0,
            rx_len: [0; BATCH],
            rx_cut: [false; BATCH],
            reply_len: [0; BATCH],
            io: sys::Io::new(),
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
        let packet = self.io.rx().get(i * RX_SLOT..i * RX_SLOT + len)?;
        let out = self.tx.get_mut(i * self.tx_slot..(i + 1) * self.tx_slot)?;
        Some((packet, out))
    }

    /// The sender of datagram `i`.
    pub(crate) fn peer(&self, i: usize) -> Option<SocketAddr> {
        if i >= self.n {
            return None;
        }
        self.io.peer(i)
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
        // Only the slots of the last batch were used: reset just those.
        for r in self.reply_len.iter_mut().take(self.n) {
            *r = 0;
        }
        let last = std::mem::take(&mut self.n);
        let n = self
            .io
            .recv(sock, last, &mut self.rx_len, &mut self.rx_cut)?;
        self.n = n;
        Ok(n)
    }

    /// Sends every marked reply; returns how many could not be sent.
    pub(crate) fn send(&mut self, sock: &UdpSocket) -> usize {
        let replies = self.reply_len.get(..self.n).unwrap_or_default();
        self.io.send(sock, &mut self.tx, self.tx_slot, replies)
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    //! The headers are built once, pointing into buffers this module owns
    //! and never hands out mutably (the receive slots, the peer
    //! addresses, the iovecs), so a call only refreshes the fields the
    //! kernel changed last time: a batch of one costs little more than a
    //! `recvfrom`. Pointers are taken with `Vec::as_mut_ptr`, which
    //! creates no reference, so later shared reads of the same buffers
    //! leave them valid.

    use std::io;
    use std::mem::{size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    use mio::net::UdpSocket;

    use super::{BATCH, RX_SLOT};

    const STORAGE_LEN: libc::socklen_t = size_of::<libc::sockaddr_storage>() as _;

    /// Buffers and headers for `recvmmsg` and `sendmmsg`.
    pub(super) struct Io {
        rx: Vec<u8>,
        addrs: Vec<libc::sockaddr_storage>,
        recv_iov: Vec<libc::iovec>,
        recv_hdr: Vec<libc::mmsghdr>,
        send_iov: Vec<libc::iovec>,
        send_hdr: Vec<libc::mmsghdr>,
        /// The slot of each reply being sent (kept here: zeroing a fresh
        /// array per call cost more than the rest of a one-reply send).
        which: [usize; BATCH],
    }

    // SAFETY: the raw pointers inside the headers point only into the
    // heap buffers of the same `Io`, which move with it; they are used only
    // by the kernel during calls that hold `&mut Io`.
    unsafe impl Send for Io {}

    impl Io {
        pub(super) fn new() -> Self {
            // SAFETY: sockaddr_storage, iovec and mmsghdr are plain old
            // data: all zeroes is a valid value (null pointers, zero
            // lengths, AF_UNSPEC).
            let (storage, iov, hdr) = unsafe {
                (
                    zeroed::<libc::sockaddr_storage>(),
                    zeroed::<libc::iovec>(),
                    zeroed::<libc::mmsghdr>(),
                )
            };
            let mut io = Io {
                rx: vec![0u8; BATCH * RX_SLOT],
                addrs: vec![storage; BATCH],
                recv_iov: vec![iov; BATCH],
                recv_hdr: vec![hdr; BATCH],
                send_iov: vec![iov; BATCH],
                send_hdr: vec![hdr; BATCH],
                which: [0; BATCH],
            };
            let rx = io.rx.as_mut_ptr();
            for (i, v) in io.recv_iov.iter_mut().enumerate() {
                v.iov_base = rx.wrapping_add(i * RX_SLOT).cast();
                v.iov_len = RX_SLOT;
            }
            let (iov, addrs) = (io.recv_iov.as_mut_ptr(), io.addrs.as_mut_ptr());
            for (i, h) in io.recv_hdr.iter_mut().enumerate() {
                h.msg_hdr.msg_name = addrs.wrapping_add(i).cast();
                h.msg_hdr.msg_namelen = STORAGE_LEN;
                h.msg_hdr.msg_iov = iov.wrapping_add(i);
                h.msg_hdr.msg_iovlen = 1;
            }
            io
        }

        pub(super) fn rx(&self) -> &[u8] {
            &self.rx
        }

        /// The sender of datagram `i` of the last receive.
        pub(super) fn peer(&self, i: usize) -> Option<SocketAddr> {
            let s = self.addrs.get(i)?;
            let len = self.recv_hdr.get(i)?.msg_hdr.msg_namelen as usize;
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
                    let port = u16::from_be(a.sin6_port);
                    let v6 =
                        SocketAddrV6::new(ip, port, a.sin6_flowinfo, a.sin6_scope_id);
                    Some(v6.into())
                }
                _ => None,
            }
        }

        /// `recvmmsg` into the slots; `last` slots were used by the previous
        /// call and get their address length back.
        pub(super) fn recv(
            &mut self,
            sock: &UdpSocket,
            last: usize,
            len: &mut [usize; BATCH],
            cut: &mut [bool; BATCH],
        ) -> io::Result<usize> {
            for h in self.recv_hdr.iter_mut().take(last) {
                h.msg_hdr.msg_namelen = STORAGE_LEN;
            }
            // SAFETY: `recv_hdr` holds BATCH headers built in `new`: each
            // points at its own iovec (a distinct RX_SLOT-long slot of
            // `rx`) and at its own sockaddr_storage with that size. These
            // buffers live as long as `self`, which is borrowed mutably
            // for the call, and none is referenced elsewhere meanwhile.
            let n = unsafe {
                libc::recvmmsg(
                    sock.as_raw_fd(),
                    self.recv_hdr.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = (n as usize).min(BATCH);
            for ((h, l), c) in self.recv_hdr.iter().zip(len).zip(cut).take(n) {
                *l = h.msg_len as usize;
                *c = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            }
            Ok(n)
        }

        /// `sendmmsg` of the non-empty replies: reply `i` is the first
        /// `replies[i]` octets of slot `i` of `tx`, to peer `i`. Returns
        /// how many could not be sent.
        pub(super) fn send(
            &mut self,
            sock: &UdpSocket,
            tx: &mut [u8],
            slot: usize,
            replies: &[usize],
        ) -> usize {
            // The replies to send: slot numbers, and their iovecs (a prefix
            // of the slot, checked to lie inside `tx`).
            let base = tx.as_mut_ptr();
            let which = &mut self.which;
            let mut k = 0;
            for (i, &len) in replies.iter().enumerate() {
                if len == 0 || len > slot || (i + 1) * slot > tx.len() {
                    continue;
                }
                let (Some(v), Some(w)) = (self.send_iov.get_mut(k), which.get_mut(k))
                else {
                    break;
                };
                v.iov_base = base.wrapping_add(i * slot).cast();
                v.iov_len = len;
                *w = i;
                k += 1;
            }
            // Headers after the iovecs: taking the pointers last keeps them
            // valid (no later reference to `send_iov`).
            let (iov, addrs) = (self.send_iov.as_mut_ptr(), self.addrs.as_mut_ptr());
            for (j, (h, &i)) in self
                .send_hdr
                .iter_mut()
                .zip(&self.which)
                .take(k)
                .enumerate()
            {
                let namelen = self.recv_hdr.get(i).map_or(0, |r| r.msg_hdr.msg_namelen);
                h.msg_hdr.msg_name = addrs.wrapping_add(i).cast();
                h.msg_hdr.msg_namelen = namelen;
                h.msg_hdr.msg_iov = iov.wrapping_add(j);
                h.msg_hdr.msg_iovlen = 1;
            }
            let mut done = 0;
            let mut failed = 0;
            while done < k {
                let rest = self.send_hdr.get_mut(done..k).unwrap_or_default();
                // SAFETY: each header of `rest` points at one iovec of
                // `send_iov` (a prefix of one reply slot of `tx`, checked
                // to lie inside it above) and at the peer address the
                // kernel wrote for that datagram, with its length. `tx` and
                // `self` are borrowed mutably for the call.
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
                    // The first message failed (full send buffer,
                    // unreachable peer, ...): count it, go on with the rest.
                    done += 1;
                    failed += 1;
                }
            }
            failed
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! One `recv_from`/`send_to` per datagram where `recvmmsg` is missing.

    use std::io;
    use std::net::SocketAddr;

    use mio::net::UdpSocket;

    use super::{BATCH, RX_SLOT};

    pub(super) struct Io {
        rx: Vec<u8>,
        peers: [Option<SocketAddr>; BATCH],
    }

    impl Io {
        pub(super) fn new() -> Self {
            Io {
                rx: vec![0u8; BATCH * RX_SLOT],
                peers: [None; BATCH],
            }
        }

        pub(super) fn rx(&self) -> &[u8] {
            &self.rx
        }

        pub(super) fn peer(&self, i: usize) -> Option<SocketAddr> {
            self.peers.get(i).copied().flatten()
        }

        pub(super) fn recv(
            &mut self,
            sock: &UdpSocket,
            _last: usize,
            len: &mut [usize; BATCH],
            cut: &mut [bool; BATCH],
        ) -> io::Result<usize> {
            let mut n = 0;
            for (i, slot) in self.rx.chunks_exact_mut(RX_SLOT).enumerate() {
                match sock.recv_from(slot) {
                    Ok((l, peer)) => {
                        len[i] = l;
                        cut[i] = l > RX_SLOT;
                        self.peers[i] = Some(peer);
                        n += 1;
                    }
                    Err(e) if n == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            Ok(n)
        }

        pub(super) fn send(
            &mut self,
            sock: &UdpSocket,
            tx: &mut [u8],
            slot: usize,
            replies: &[usize],
        ) -> usize {
            let mut failed = 0;
            for (i, &len) in replies.iter().enumerate() {
                let buf = tx.get(i * slot..i * slot + len);
                if let (Some(buf), Some(peer)) = (buf, self.peer(i)) {
                    if len > 0 && sock.send_to(buf, peer).is_err() {
                        failed += 1;
                    }
                }
            }
            failed
        }
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
