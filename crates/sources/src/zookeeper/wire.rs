//! The jute wire codec: frames, request encoding and reply decoding,
//! without I/O. The session reads a frame, these read what is in it (and
//! are fuzzed on their own).
//!
//! Frames are a 4-byte big-endian length followed by the record. Requests are
//! `RequestHeader{xid:int, type:int}` plus the body; replies are
//! `ReplyHeader{xid:int, zxid:long, err:int}` plus the body. xid -1 marks a
//! watch event, xid -2 a ping reply.

use std::time::Duration;

use super::{WatchEvent, ZkError};

/// Largest reply frame accepted (ZooKeeper's own `jute.maxbuffer` default is
/// about 1 MiB; a master list never comes close).
pub const MAX_FRAME: usize = 16 << 20;

pub(super) const OP_CREATE: i32 = 1;
pub(super) const OP_DELETE: i32 = 2;
pub(super) const OP_GET_DATA: i32 = 4;
pub(super) const OP_GET_CHILDREN: i32 = 8;
pub(super) const OP_PING: i32 = 11;
pub(super) const OP_CLOSE: i32 = -11;

pub(super) const XID_WATCH: i32 = -1;
pub(super) const XID_PING: i32 = -2;

/// The length a frame's 4-octet prefix announces.
///
/// # Errors
/// [`ZkError::Protocol`] for a negative length or one over [`MAX_FRAME`].
pub fn frame_len(prefix: [u8; 4]) -> Result<usize, ZkError> {
    let len = usize::try_from(i32::from_be_bytes(prefix))
        .map_err(|_| ZkError::Protocol("negative frame length".to_owned()))?;
    if len > MAX_FRAME {
        return Err(ZkError::Protocol(format!("frame of {len} bytes")));
    }
    Ok(len)
}

/// The session id and negotiated timeout of a `ConnectResponse` frame.
///
/// # Errors
/// [`ZkError::SessionRefused`] for a zero or negative timeout,
/// [`ZkError::Protocol`] for a short record.
pub fn decode_connect(frame: &[u8]) -> Result<(i64, Duration), ZkError> {
    let mut r = Reader::new(frame);
    let _protocol = r.i32()?;
    let negotiated = r.i32()?;
    let session_id = r.i64()?;
    if negotiated <= 0 {
        return Err(ZkError::SessionRefused);
    }
    Ok((
        session_id,
        Duration::from_millis(u64::from(negotiated.unsigned_abs())),
    ))
}

/// One reply frame, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A watch notification (xid -1).
    Watch(WatchEvent),
    /// The reply to the request with this xid (-2 for a ping): its body,
    /// or the server's error code.
    Answer {
        /// The request's xid.
        xid: i32,
        /// The body after the `ReplyHeader`, or the nonzero `err`.
        body: Result<&'a [u8], i32>,
    },
}

/// Decodes a reply frame: `ReplyHeader{xid, zxid, err}` and, for a watch
/// event, the `WatcherEvent` after it.
///
/// # Errors
/// [`ZkError::Protocol`] for a short record or a path that is not UTF-8.
pub fn decode_reply(frame: &[u8]) -> Result<Reply<'_>, ZkError> {
    let mut r = Reader::new(frame);
    let xid = r.i32()?;
    let _zxid = r.i64()?;
    let err = r.i32()?;
    let rest = r.rest();
    if xid == XID_WATCH {
        let mut r = Reader::new(rest);
        let kind = r.i32()?;
        let state = r.i32()?;
        let path = r.string()?;
        return Ok(Reply::Watch(WatchEvent { kind, state, path }));
    }
    let body = if err != 0 { Err(err) } else { Ok(rest) };
    Ok(Reply::Answer { xid, body })
}

/// The children listed in a `getChildren` reply body.
///
/// # Errors
/// [`ZkError::Protocol`] for a short record or a name that is not UTF-8.
pub fn decode_children(body: &[u8]) -> Result<Vec<String>, ZkError> {
    let mut r = Reader::new(body);
    let n = r.i32()?;
    let mut out = Vec::new();
    for _ in 0..n.max(0) {
        out.push(r.string()?);
    }
    Ok(out)
}

pub(super) fn put_i32(w: &mut Vec<u8>, v: i32) {
    w.extend_from_slice(&v.to_be_bytes());
}

pub(super) fn put_i64(w: &mut Vec<u8>, v: i64) {
    w.extend_from_slice(&v.to_be_bytes());
}

pub(super) fn put_buf(w: &mut Vec<u8>, b: &[u8]) {
    put_i32(w, i32::try_from(b.len()).unwrap_or(i32::MAX));
    w.extend_from_slice(b);
}

pub(super) fn put_str(w: &mut Vec<u8>, s: &str) {
    put_buf(w, s.as_bytes());
}

/// A bounds-checked reader over a jute record.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ZkError> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or_else(|| ZkError::Protocol("short record".to_owned()))?;
        self.buf = tail;
        Ok(head)
    }

    pub(super) fn i32(&mut self) -> Result<i32, ZkError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(i32::from_be_bytes(a))
    }

    pub(super) fn i64(&mut self) -> Result<i64, ZkError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// A length-prefixed buffer; length -1 is null.
    pub(super) fn buf(&mut self) -> Result<Option<Vec<u8>>, ZkError> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        let n =
            usize::try_from(n).map_err(|_| ZkError::Protocol("bad length".to_owned()))?;
        Ok(Some(self.take(n)?.to_vec()))
    }

    pub(super) fn string(&mut self) -> Result<String, ZkError> {
        let b = self.buf()?.unwrap_or_default();
        String::from_utf8(b).map_err(|_| ZkError::Protocol("string not UTF-8".to_owned()))
    }

    pub(super) fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_rejects_short_records() {
        let mut r = Reader::new(&[0, 0, 0]);
        assert!(matches!(r.i32(), Err(ZkError::Protocol(_))));
        let mut r = Reader::new(&[0, 0, 0, 5, b'a']);
        assert!(r.string().is_err());
    }

    #[test]
    fn reader_reads_null_buffer_and_strings() {
        let mut w = Vec::new();
        put_i32(&mut w, -1);
        put_str(&mut w, "json.info_0000000001");
        let mut r = Reader::new(&w);
        assert_eq!(r.buf().unwrap(), None);
        assert_eq!(r.string().unwrap(), "json.info_0000000001");
        assert!(r.rest().is_empty());
    }
}
