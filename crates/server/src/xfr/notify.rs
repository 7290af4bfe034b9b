//! NOTIFY (RFC 1996): telling secondaries the zone changed, so they ask
//! for it at once instead of at their next SOA refresh.
//!
//! One thread per server sends, for the latest serial only: a burst of
//! changes is one NOTIFY per secondary for the last of them (RFC 1996
//! section 4.7 lets a primary coalesce). Each secondary is sent a NOTIFY
//! until it answers with the same ID (section 3.6), after 1, 2, 4, 8 and
//! 16 seconds, then given up on with a warning; its next change starts
//! over. The message carries the apex SOA question only (section 3.7): the
//! secondary asks for the SOA itself.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Counters;
use dns_wire::{Class, Flags, Header, Opcode, Rtype, Writer, HEADER_LEN};

/// Waits between attempts; one more attempt than waits.
const BACKOFF: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
];

/// How long the thread reads answers before it looks at the clock again.
const TICK: Duration = Duration::from_millis(50);

#[derive(Debug, Default)]
struct State {
    /// The zone apex (wire form) and serial to announce, and a change
    /// number that grows with each announcement.
    latest: Option<(Box<[u8]>, u32, u64)>,
    stop: bool,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

/// The sending thread's handle; dropping it stops the thread.
#[derive(Debug)]
pub struct Notifier {
    shared: Arc<Shared>,
}

impl Notifier {
    /// Starts the thread for `targets`; `None` when there are none (or the
    /// thread could not start, which is logged).
    pub fn start(targets: Vec<SocketAddr>, counters: Arc<Counters>) -> Option<Notifier> {
        if targets.is_empty() {
            return None;
        }
        let shared = Arc::new(Shared::default());
        let (s, c) = (Arc::clone(&shared), counters);
        let spawned = std::thread::Builder::new()
            .name("notify".into())
            .spawn(move || run(&s, &c, &targets));
        match spawned {
            Ok(_) => Some(Notifier { shared }),
            Err(e) => {
                log::warn!("cannot start the NOTIFY thread: {e}");
                None
            }
        }
    }

    /// Announces `serial` of the zone at `apex` (lowercase wire form).
    pub fn changed(&self, apex: &[u8], serial: u32) {
        let mut st = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = st.latest.as_ref().map_or(0, |l| l.2 + 1);
        st.latest = Some((apex.into(), serial, n));
        self.shared.wake.notify_all();
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let mut st = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        st.stop = true;
        self.shared.wake.notify_all();
    }
}

/// One secondary's progress on the current announcement.
#[derive(Clone, Copy, Debug)]
struct Target {
    addr: SocketAddr,
    id: u16,
    attempts: usize,
    next: Option<Instant>,
}

fn run(shared: &Shared, counters: &Counters, addrs: &[SocketAddr]) {
    let v4 = UdpSocket::bind("0.0.0.0:0").ok();
    let v6 = UdpSocket::bind("[::]:0").ok();
    for s in v4.iter().chain(&v6) {
        let _ = s.set_read_timeout(Some(TICK));
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut done_change = None;
    let mut buf = [0u8; 512];
    loop {
        let (announce, stop) = {
            let st = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
            let idle = targets.iter().all(|t| t.next.is_none());
            let st = match idle
                && st.latest.as_ref().map(|l| l.2) == done_change
                && !st.stop
            {
                true => shared
                    .wake
                    .wait_timeout(st, Duration::from_secs(1))
                    .map_or_else(|p| p.into_inner().0, |r| r.0),
                false => st,
            };
            (st.latest.clone(), st.stop)
        };
        if stop {
            return;
        }
        let Some((apex, serial, change)) = announce else {
            continue;
        };
        if done_change != Some(change) {
            // A new serial: start over for every secondary (coalescing
            // whatever was still being retried).
            done_change = Some(change);
            targets = addrs
                .iter()
                .map(|&addr| Target {
                    addr,
                    id: fastrand::u16(..),
                    attempts: 0,
                    next: Some(Instant::now()),
                })
                .collect();
        }
        let now = Instant::now();
        for t in &mut targets {
            let Some(at) = t.next else { continue };
            if at > now {
                continue;
            }
            if t.attempts > BACKOFF.len() {
                log::warn!(
                    "NOTIFY of serial {serial} to {}: no answer after {} attempts",
                    t.addr,
                    t.attempts
                );
                counters.notify_failed.fetch_add(1, Ordering::Relaxed);
                t.next = None;
                continue;
            }
            let sock = if t.addr.is_ipv4() { &v4 } else { &v6 };
            let len = write_notify(&mut buf, t.id, &apex);
            if let (Some(s), Some(msg)) = (sock, buf.get(..len)) {
                if s.send_to(msg, t.addr).is_ok() {
                    counters.notify_sent.fetch_add(1, Ordering::Relaxed);
                }
            }
            t.next =
                Some(now + BACKOFF.get(t.attempts).copied().unwrap_or(Duration::ZERO));
            t.attempts += 1;
        }
        for s in v4.iter().chain(&v6) {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                let reply = buf.get(..n).and_then(|b| b.first_chunk::<HEADER_LEN>());
                let Some(h) = reply.map(Header::from_bytes) else {
                    continue;
                };
                let acked = targets.iter_mut().find(|t| {
                    t.next.is_some()
                        && t.addr == from
                        && t.id == h.id
                        && h.flags.qr()
                        && h.flags.opcode() == Opcode::NOTIFY
                });
                if let Some(t) = acked {
                    t.next = None;
                    counters.notify_acked.fetch_add(1, Ordering::Relaxed);
                    if h.flags.rcode() != 0 {
                        log::warn!(
                            "NOTIFY of serial {serial} to {}: answered with rcode {}",
                            t.addr,
                            h.flags.rcode()
                        );
                    }
                }
                if targets.iter().all(|t| t.next.is_none()) {
                    break;
                }
            }
        }
    }
}

/// A NOTIFY for the SOA of `apex` (RFC 1996 section 3.7), ID `id`, into
/// `buf`; its length (0 if it does not fit).
pub(crate) fn write_notify(buf: &mut [u8], id: u16, apex: &[u8]) -> usize {
    let mut w = Writer::new(buf);
    let header = Header {
        id,
        flags: Flags(0).with_opcode(Opcode::NOTIFY).with_aa(true),
        qdcount: 1,
        ancount: 0,
        nscount: 0,
        arcount: 0,
    };
    let ok = header.write(&mut w).is_ok()
        && w.bytes(apex).is_ok()
        && w.u16(Rtype::SOA.0).is_ok()
        && w.u16(Class::IN.0).is_ok();
    if ok {
        w.len()
    } else {
        0
    }
}
