//! The acceptor: one thread with a mio `Poll` that takes new connections,
//! applies the connection caps (total and per client, closing the
//! connection that has waited longest for a request to make room) and
//! hands each admitted connection to a thread of its own.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::{connection, response, HttpState};

/// Stack size of a connection thread, in bytes.
const CONNECTION_STACK: usize = 256 * 1024;

/// One open connection, as the acceptor sees it.
pub(super) struct OpenConn {
    pub(super) stream: TcpStream,
    /// [`crate::client::key`] of the peer.
    pub(super) client: IpAddr,
    /// Since when it has been waiting for (the rest of) a request head;
    /// `None` while a request is answered.
    pub(super) waiting_since: Option<Instant>,
}

/// Accepts and admits connections until the server stops (the waker sets
/// the stopping flag).
pub(super) fn accept_loop(
    mut poll: Poll,
    listener: mio::net::TcpListener,
    shared: &Arc<HttpState>,
) {
    let mut events = Events::with_capacity(8);
    let mut next_id: u64 = 0;
    // After an accept error (e.g. out of file descriptors) the pending
    // connection stays queued and no new edge comes; retry on a timer.
    let mut retry: Option<Duration> = None;
    // Log an accept failure once per failing spell, not on every retry.
    let mut failing = false;
    loop {
        if let Err(e) = poll.poll(&mut events, retry) {
            if e.kind() != io::ErrorKind::Interrupted {
                log::error!("http: poll failed: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
        if shared.is_stopping() {
            return;
        }
        retry = None;
        loop {
            match listener.accept() {
                Ok((stream, peer)) => {
                    failing = false;
                    next_id = next_id.wrapping_add(1);
                    admit(TcpStream::from(stream), peer, next_id, shared);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if !failing {
                        log::warn!("http: accept failed (retrying every 50 ms): {e}");
                    }
                    failing = true;
                    retry = Some(Duration::from_millis(50));
                    break;
                }
            }
        }
    }
}

/// Hands an accepted connection to a new thread, making room at a cap by
/// closing the connection that has waited longest for a request, or
/// refuses it with 503 when every connection at the cap is busy. Never
/// blocks.
fn admit(stream: TcpStream, peer: SocketAddr, id: u64, shared: &Arc<HttpState>) {
    let client = crate::client::key(peer.ip());
    let limits = &shared.limits;
    {
        let mut open = shared.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = open.values().filter(|c| c.client == client).count();
        let room = (mine < limits.max_per_client
            || evict_longest_waiting(&mut open, Some(client), shared))
            && (open.len() < limits.max_connections
                || evict_longest_waiting(&mut open, None, shared));
        if !room {
            drop(open);
            shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
            refuse(stream);
            return;
        }
        if stream.set_nonblocking(false).is_err() {
            return;
        }
        let Ok(clone) = stream.try_clone() else {
            return;
        };
        open.insert(
            id,
            OpenConn {
                stream: clone,
                client,
                waiting_since: Some(Instant::now()),
            },
        );
    }
    shared.stats.open.fetch_add(1, Ordering::SeqCst);
    shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
    let guard = OpenGuard {
        id,
        shared: Arc::clone(shared),
    };
    let spawned = thread::Builder::new()
        .name("http-conn".into())
        .stack_size(CONNECTION_STACK)
        .spawn(move || {
            let guard = guard;
            connection::serve(stream, guard.id, &guard.shared);
        });
    if let Err(e) = spawned {
        // The closure (and the guard in it) was dropped: the slot is back.
        log::warn!("http: cannot spawn a connection thread: {e}");
    }
}

/// Closes the connection (of `client`, or of anyone) that has waited
/// longest for a request; false when every such connection is busy.
fn evict_longest_waiting(
    open: &mut HashMap<u64, OpenConn>,
    client: Option<IpAddr>,
    shared: &HttpState,
) -> bool {
    let victim = open
        .iter()
        .filter(|(_, c)| client.is_none_or(|k| c.client == k))
        .filter_map(|(id, c)| Some((c.waiting_since?, *id)))
        .min()
        .map(|(_, id)| id);
    let Some(conn) = victim.and_then(|id| open.remove(&id)) else {
        return false;
    };
    // Its thread sees the end of its stream and exits.
    let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    shared.stats.evicted.fetch_add(1, Ordering::Relaxed);
    true
}

/// Writes a 503 on a still non-blocking socket, once, and closes it.
fn refuse(mut stream: TcpStream) {
    let out = response::Response::error(503).to_bytes(false, true);
    let _ = stream.write(&out);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Releases a connection slot when its thread ends (or never starts).
struct OpenGuard {
    id: u64,
    shared: Arc<HttpState>,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.shared
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
        self.shared.stats.open.fetch_sub(1, Ordering::SeqCst);
    }
}
