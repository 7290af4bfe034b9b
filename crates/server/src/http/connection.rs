//! One HTTP/1.1 connection on its own thread: read a head within the
//! header deadline, skip the body, answer, and keep the connection alive
//! until the idle deadline.
//!
//! Every read and write has a deadline, so a client that stalls (slowloris,
//! a reader that never drains) costs one parked thread of a capped pool
//! until its deadline, never CPU and never a DNS worker:
//!
//! - a new connection must deliver a complete head within `header_timeout`;
//! - between keep-alive requests, the next request must start within
//!   `idle_timeout` and its head must complete `header_timeout` after its
//!   first byte;
//! - a head over `max_head_bytes` or with too many fields gets 431, a body
//!   over `max_body_bytes` gets 413, and the connection closes;
//! - a response must be taken by the client within `write_timeout`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::endpoint::Endpoint;
use super::request::{self, Body, HeadError, Method};
use super::response::Response;
use super::route;
use super::HttpState;

/// How a read or write ended early.
enum Stop {
    /// The peer closed, or the socket failed: just drop the connection.
    Gone,
    /// A deadline passed.
    TimedOut,
}

/// Serves requests on `stream` until the client closes, a deadline passes,
/// an error response closes the connection, or the server stops.
pub fn serve(mut stream: TcpStream, id: u64, shared: &HttpState) {
    let limits = &shared.limits;
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut first = true;
    loop {
        let waiting_since = Instant::now();
        // Waiting for a request: the acceptor may close this connection to
        // make room for a new one. Not so with a pipelined request already
        // in hand: it stays busy, as it was while answering the last one.
        if !head_buffered(&buf) && !shared.set_waiting(id, Some(waiting_since)) {
            return;
        }
        // A new connection gets header_timeout for its whole first head; a
        // kept-alive one gets idle_timeout until the next request starts.
        let idle_deadline = waiting_since
            + if first {
                limits.header_timeout
            } else {
                limits.idle_timeout
            };
        let mut head_deadline = first.then_some(idle_deadline);
        first = false;
        let (req, head_len) = loop {
            if !buf.is_empty() {
                match request::parse(&buf) {
                    Ok((_, len)) if len > limits.max_head_bytes => {
                        return fail(&mut stream, id, shared, 431);
                    }
                    Ok(parsed) => break parsed,
                    Err(HeadError::Partial) if buf.len() < limits.max_head_bytes => {}
                    Err(HeadError::Partial | HeadError::TooManyHeaders) => {
                        return fail(&mut stream, id, shared, 431);
                    }
                    Err(HeadError::Malformed | HeadError::BadLength) => {
                        return fail(&mut stream, id, shared, 400);
                    }
                }
                if head_deadline.is_none() {
                    head_deadline = Some(Instant::now() + limits.header_timeout);
                }
            }
            let deadline = head_deadline.unwrap_or(idle_deadline);
            match read_some(&mut stream, &mut buf, deadline) {
                Ok(()) => {}
                Err(Stop::TimedOut) => {
                    shared.stats.timed_out();
                    if !buf.is_empty() {
                        fail(&mut stream, id, shared, 408);
                    }
                    return;
                }
                Err(Stop::Gone) => return,
            }
            if shared.is_stopping() {
                return;
            }
        };
        buf.drain(..head_len);

        let mut close = req.close;
        match req.body {
            Body::Empty => {}
            Body::Chunked => close = true,
            Body::Length(n) if n > limits.max_body_bytes => {
                return fail(&mut stream, id, shared, 413);
            }
            Body::Length(n) => {
                if req.expect_continue && (buf.len() as u64) < n {
                    let deadline = Instant::now() + limits.write_timeout;
                    if write_all(&mut stream, b"HTTP/1.1 100 Continue\r\n\r\n", deadline)
                        .is_err()
                    {
                        return;
                    }
                }
                let deadline = Instant::now() + limits.header_timeout;
                if let Err(stop) = skip_body(&mut stream, &mut buf, n, deadline) {
                    if matches!(stop, Stop::TimedOut) {
                        shared.stats.timed_out();
                    }
                    return;
                }
            }
        }

        // A request is complete: from now until its answer is sent the
        // connection is busy, no longer one to close to make room.
        if !shared.set_waiting(id, None) {
            return;
        }
        // Probes have a reserve of connections: other requests are answered
        // by at most `busy_cap` connections at once.
        let endpoint =
            route::find(&req.path, shared.ctx.settings.load().enumeration_on).0;
        let probe = matches!(
            endpoint,
            Endpoint::Health | Endpoint::Ready | Endpoint::Metrics
        );
        let slot = if probe { None } else { shared.busy_slot() };
        if !probe && slot.is_none() {
            return fail(&mut stream, id, shared, 503);
        }
        let (endpoint, response) = {
            // One body is computed at a time, whatever the number of
            // connections, so HTTP takes at most one core from DNS. Health
            // and readiness skip the queue: they must not wait behind a
            // large /v1/axfr.
            let cheap = matches!(endpoint, Endpoint::Health | Endpoint::Ready);
            let _turn = (!cheap).then(|| {
                shared
                    .render
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            route::handle(shared, &req)
        };
        shared.stats.count(endpoint, response.status);
        close |= shared.is_stopping();
        let head = response.head(req.http10, close);
        let body: &[u8] = if req.method == Method::Head {
            &[]
        } else {
            &response.body
        };
        let deadline = Instant::now() + limits.write_timeout;
        let written = write_response(&mut stream, head, body, deadline);
        drop(slot);
        match written {
            Ok(()) => {}
            Err(Stop::TimedOut) => {
                shared.stats.timed_out();
                return;
            }
            Err(Stop::Gone) => return,
        }
        if close {
            // Answered: the connection may make room for another (before
            // the client can see it closed, so its next connection finds
            // room).
            shared.set_waiting(id, Some(Instant::now()));
            let _ = stream.shutdown(std::net::Shutdown::Write);
            return;
        }
    }
}

/// Whether `buf` holds the whole head of a next (pipelined) request, or
/// enough of it to fail it.
fn head_buffered(buf: &[u8]) -> bool {
    !buf.is_empty() && !matches!(request::parse(buf), Err(HeadError::Partial))
}

/// Bodies up to this size are sent in one write with the head; larger
/// ones (the shared `/v1/enumerate` and `/v1/axfr` bodies) are written
/// from where they are, never copied.
const COALESCE_BODY: usize = 16 * 1024;

/// Writes a response head and its body.
fn write_response(
    stream: &mut TcpStream,
    mut head: Vec<u8>,
    body: &[u8],
    deadline: Instant,
) -> Result<(), Stop> {
    if body.len() <= COALESCE_BODY {
        head.extend_from_slice(body);
        return write_all(stream, &head, deadline);
    }
    write_all(stream, &head, deadline)?;
    write_all(stream, body, deadline)
}

/// Sends a go-restful style error with `Connection: close`, best effort.
///
/// A connection being failed has nothing more to answer: it may be closed
/// at once to make room for a new one.
fn fail(stream: &mut TcpStream, id: u64, shared: &HttpState, status: u16) {
    shared.set_waiting(id, Some(Instant::now()));
    shared.stats.count(Endpoint::Other, status);
    let out = Response::error(status).to_bytes(false, true);
    let deadline = Instant::now() + shared.limits.write_timeout;
    if write_all(stream, &out, deadline).is_err() {
        return;
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Closing with unread input makes the kernel send a reset, which can
    // destroy the response before the client reads it (RFC 9112 section
    // 9.6): read and drop what the client is still sending, briefly.
    let deadline = Instant::now() + LINGER;
    let mut dropped = Vec::new();
    while dropped.len() < LINGER_BYTES
        && read_some(stream, &mut dropped, deadline).is_ok()
    {}
}

/// How long [`fail`] keeps reading after its response.
const LINGER: Duration = Duration::from_millis(500);
/// How much [`fail`] reads at most after its response.
const LINGER_BYTES: usize = 256 * 1024;

/// Reads what is available (at most 4 KiB) into `buf`, waiting until
/// `deadline` at most.
fn read_some(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<(), Stop> {
    let mut chunk = [0u8; 4096];
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Stop::TimedOut);
        }
        stream
            .set_read_timeout(Some(remaining))
            .map_err(|_| Stop::Gone)?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err(Stop::Gone),
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => return Err(Stop::Gone),
        }
    }
}

/// Consumes `len` body bytes: first those already in `buf`, then from the
/// socket, by `deadline`.
fn skip_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    len: u64,
    deadline: Instant,
) -> Result<(), Stop> {
    let mut left = len;
    loop {
        let take = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        buf.drain(..take);
        left -= take as u64;
        if left == 0 {
            return Ok(());
        }
        read_some(stream, buf, deadline)?;
    }
}

fn write_all(
    stream: &mut TcpStream,
    mut data: &[u8],
    deadline: Instant,
) -> Result<(), Stop> {
    while !data.is_empty() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Stop::TimedOut);
        }
        stream
            .set_write_timeout(Some(remaining))
            .map_err(|_| Stop::Gone)?;
        match stream.write(data) {
            Ok(0) => return Err(Stop::Gone),
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => return Err(Stop::Gone),
        }
    }
    Ok(())
}

/// `SO_RCVTIMEO`/`SO_SNDTIMEO` expiry shows as `WouldBlock` on Unix and
/// `TimedOut` on Windows.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::head_buffered;

    #[test]
    fn only_a_whole_or_failing_head_counts_as_a_pipelined_request() {
        assert!(!head_buffered(b""));
        assert!(!head_buffered(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"));
        assert!(head_buffered(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(head_buffered(b"GET /a HTTP/1.1\r\n\r\nGET /b HT"));
        assert!(head_buffered(b"\x00\x01 not http\r\n\r\n"));
    }
}
