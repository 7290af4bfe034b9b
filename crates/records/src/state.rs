//! The subset of the Mesos `/master/state` JSON that mesos-dns reads (spec 3.3).

use std::fmt;

/// A parsed master state. (Placeholder: the state model lands with issue 3.)
#[derive(Clone, Debug, Default)]
pub struct State {
    /// `leader`: `master@ip:port`.
    pub leader: String,
}

/// Why a state body was rejected as a whole.
#[derive(Debug)]
pub enum StateError {
    /// Not JSON, or not the expected shape.
    Json(String),
    /// The body has no `leader`.
    NoLeader,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Json(e) => write!(f, "invalid state JSON: {e}"),
            StateError::NoLeader => f.write_str("fetched state does not contain leader information"),
        }
    }
}

impl std::error::Error for StateError {}

impl State {
    /// Parses a state body.
    ///
    /// # Errors
    /// A body that is not JSON, or has no `leader`.
    pub fn parse(body: &[u8]) -> Result<State, StateError> {
        let _ = body;
        Err(StateError::NoLeader)
    }
}
