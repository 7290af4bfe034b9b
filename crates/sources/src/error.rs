//! Why one state load failed: [`FetchError`], shared by the HTTP client,
//! the IAM login and the poll loop.

use std::fmt;
use std::time::Duration;

use mesos_records::StateError;

/// Why one state load failed. The poller keeps the last good records.
#[derive(Debug)]
pub enum FetchError {
    /// No master to ask (`no masters given to fetch state.json`).
    NoMasters,
    /// Connection, TLS or protocol failure.
    Http {
        /// The URL asked.
        url: String,
        /// What went wrong.
        error: String,
    },
    /// The total deadline (`StateTimeoutSeconds`) passed.
    Timeout {
        /// The URL asked.
        url: String,
        /// The deadline.
        after: Duration,
    },
    /// A non-2xx HTTP status (mesos-dns does not check it).
    Status {
        /// The URL asked.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body is larger than the configured cap.
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The body is not a usable state (garbage, truncated, no leader).
    State {
        /// Where the body came from.
        source: String,
        /// Why it was rejected.
        error: StateError,
    },
    /// The IAM login failed.
    Auth(String),
    /// A TLS or auth setting could not be loaded (config time).
    Config(String),
    /// Leader detection failed (ZooKeeper or a detector spec).
    Detect(String),
    /// A state file could not be read.
    File {
        /// The file.
        path: String,
        /// The I/O error.
        error: String,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NoMasters => f.write_str("no masters given to fetch state.json"),
            FetchError::Http { url, error } => write!(f, "GET {url}: {error}"),
            FetchError::Timeout { url, after } => {
                write!(
                    f,
                    "GET {url}: no complete answer within {}s",
                    after.as_secs_f64()
                )
            }
            FetchError::Status { url, status } => {
                write!(f, "GET {url}: HTTP status {status}")
            }
            FetchError::TooLarge { url, limit } => {
                write!(
                    f,
                    "GET {url}: state body larger than the {limit}-byte limit"
                )
            }
            FetchError::State { source, error } => write!(f, "{source}: {error}"),
            FetchError::Auth(m) => write!(f, "IAM authentication failed: {m}"),
            FetchError::Config(m) | FetchError::Detect(m) => f.write_str(m),
            FetchError::File { path, error } => write!(f, "state file {path}: {error}"),
        }
    }
}

impl std::error::Error for FetchError {}
