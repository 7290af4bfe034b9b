//! RecordIO framing, as the Mesos v1 operator API streams events: each record
//! is its length in bytes as ASCII decimal, a `\n`, then that many bytes
//! (`19\n{"type":"HEARTBEAT"}`).
//!
//! [`RecordReader`] reads one record at a time from any [`Read`]. A clean end
//! of stream between records is `Ok(None)`; an end inside a record, a length
//! that is not decimal or is over the cap, is a [`RecordIoError`] (the
//! subscriber drops the stream and resubscribes).

use std::fmt;
use std::io::{self, Read};

/// Digits a length may have (`u64::MAX` has 20); more is garbage.
const MAX_LENGTH_DIGITS: usize = 20;

/// Why a stream could not be read as RecordIO.
#[derive(Debug)]
pub enum RecordIoError {
    /// The underlying read failed (including a read timeout).
    Io(io::Error),
    /// The length prefix is not ASCII decimal digits ended by `\n`.
    BadLength(String),
    /// A record announces more bytes than the cap.
    TooLarge {
        /// The announced length.
        length: u64,
        /// The cap.
        limit: u64,
    },
    /// The stream ended inside a record.
    Truncated {
        /// Bytes the record announced.
        expected: u64,
        /// Bytes that arrived.
        got: u64,
    },
}

impl fmt::Display for RecordIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordIoError::Io(e) => write!(f, "reading the event stream: {e}"),
            RecordIoError::BadLength(s) => {
                write!(f, "RecordIO: bad record length {s:?}")
            }
            RecordIoError::TooLarge { length, limit } => {
                write!(
                    f,
                    "RecordIO: a {length}-byte record is over the {limit}-byte limit"
                )
            }
            RecordIoError::Truncated { expected, got } => write!(
                f,
                "RecordIO: stream ended inside a record ({got} of {expected} bytes)"
            ),
        }
    }
}

impl std::error::Error for RecordIoError {}

impl From<io::Error> for RecordIoError {
    fn from(e: io::Error) -> Self {
        RecordIoError::Io(e)
    }
}

/// Reads RecordIO records from a byte stream.
#[derive(Debug)]
pub struct RecordReader<R> {
    inner: R,
    limit: u64,
}

impl<R: Read> RecordReader<R> {
    /// Reads from `inner`; records longer than `limit` bytes are errors.
    pub fn new(inner: R, limit: u64) -> RecordReader<R> {
        RecordReader { inner, limit }
    }

    /// The next record, or `None` at a clean end of stream.
    ///
    /// # Errors
    /// See [`RecordIoError`].
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, RecordIoError> {
        let Some(length) = self.read_length()? else {
            return Ok(None);
        };
        if length > self.limit {
            return Err(RecordIoError::TooLarge {
                length,
                limit: self.limit,
            });
        }
        // Room for the whole record at once (a SUBSCRIBED is tens of
        // megabytes), so it is never copied while it grows. Reserving costs
        // address space only: a page is backed once a byte of the record is
        // written to it, so an announced length the stream does not carry
        // costs no memory. If even that is refused, the buffer grows as the
        // bytes come.
        let mut record = Vec::new();
        if let Ok(exact) = usize::try_from(length) {
            if record.try_reserve_exact(exact).is_err() {
                record.reserve(exact.min(1 << 20));
            }
        }
        let got = (&mut self.inner).take(length).read_to_end(&mut record)?;
        if (got as u64) < length {
            return Err(RecordIoError::Truncated {
                expected: length,
                got: got as u64,
            });
        }
        Ok(Some(record))
    }

    /// The length line; `None` at end of stream before any byte of it.
    fn read_length(&mut self) -> Result<Option<u64>, RecordIoError> {
        let mut digits = String::new();
        let mut byte = [0u8; 1];
        loop {
            let n = match self.inner.read(&mut byte) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RecordIoError::Io(e)),
            };
            if n == 0 {
                if digits.is_empty() {
                    return Ok(None);
                }
                return Err(RecordIoError::BadLength(format!(
                    "{digits} then end of stream"
                )));
            }
            match byte[0] {
                b'\n' if !digits.is_empty() => break,
                b @ b'0'..=b'9' if digits.len() < MAX_LENGTH_DIGITS => {
                    digits.push(char::from(b))
                }
                b => {
                    digits.push_str(&String::from_utf8_lossy(&[b]));
                    return Err(RecordIoError::BadLength(digits));
                }
            }
        }
        digits
            .parse()
            .map(Some)
            .map_err(|_| RecordIoError::BadLength(digits))
    }
}

/// Frames one record: `<length>\n<bytes>`.
pub fn frame(record: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\n", record.len()).into_bytes();
    out.extend_from_slice(record);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (Vec<Vec<u8>>, Option<RecordIoError>) {
        let mut r = RecordReader::new(bytes, 1024);
        let mut out = Vec::new();
        loop {
            match r.next_record() {
                Ok(Some(rec)) => out.push(rec),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn records_round_trip_through_frame() {
        let mut bytes = frame(br#"{"type":"HEARTBEAT"}"#);
        bytes.extend(frame(b""));
        bytes.extend(frame("é\n7\n".as_bytes()));
        let (recs, err) = read_all(&bytes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            recs,
            vec![
                br#"{"type":"HEARTBEAT"}"#.to_vec(),
                Vec::new(),
                "é\n7\n".as_bytes().to_vec()
            ]
        );
    }

    #[test]
    fn empty_stream_is_a_clean_end() {
        let (recs, err) = read_all(b"");
        assert!(recs.is_empty() && err.is_none());
    }

    #[test]
    fn end_inside_a_record_is_truncated() {
        let (recs, err) = read_all(b"2\nab10\nabc");
        assert_eq!(recs, vec![b"ab".to_vec()]);
        assert!(
            matches!(
                err,
                Some(RecordIoError::Truncated {
                    expected: 10,
                    got: 3
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn end_inside_a_length_is_bad_length() {
        let (_, err) = read_all(b"12");
        assert!(matches!(err, Some(RecordIoError::BadLength(_))), "{err:?}");
    }

    #[test]
    fn non_digit_length_is_bad_length() {
        for bad in [
            &b"x\n{}"[..],
            b"\n{}",
            b"-1\n{}",
            b" 2\n{}",
            b"99999999999999999999999\n",
        ] {
            let (_, err) = read_all(bad);
            assert!(
                matches!(err, Some(RecordIoError::BadLength(_))),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn over_the_limit_is_too_large() {
        let (_, err) = read_all(b"2048\n");
        assert!(
            matches!(
                err,
                Some(RecordIoError::TooLarge {
                    length: 2048,
                    limit: 1024
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_record_split_across_reads_is_whole() {
        // A reader that hands out one byte per read.
        struct Drip<'a>(&'a [u8]);
        impl Read for Drip<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                if buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let bytes = frame(b"{\"a\":1}");
        let mut r = RecordReader::new(Drip(&bytes), 64);
        assert_eq!(r.next_record().unwrap(), Some(b"{\"a\":1}".to_vec()));
        assert!(r.next_record().unwrap().is_none());
    }
}
