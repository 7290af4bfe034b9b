//! Process-level errors, routinator style: log at the failure site, return a
//! marker, and let `main` map the marker to an exit code.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | clean shutdown (SIGINT/SIGTERM), `-version`, `-h` |
//! | 1 | bad `config.json`, a port that cannot be bound, a runtime failure (as mesos-dns) |
//! | 2 | bad command-line flags (as Go's `flag` package) |

use std::fmt;

/// An error that has already been logged; the caller only has to give up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failed;

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed (see the log above)")
    }
}

impl std::error::Error for Failed {}

impl Failed {
    /// Logs `message` as an error and gives the error that says so.
    pub(crate) fn logged(message: String) -> Failed {
        log::error!("{message}");
        Failed
    }
}

/// Why the process ends with a non-zero status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitError {
    /// Bad configuration or a runtime failure, already logged: exit 1.
    Failed,
    /// Bad command-line flags, already reported with the usage: exit 2.
    Usage,
}

impl ExitError {
    /// The process exit status for this error.
    pub fn code(self) -> i32 {
        match self {
            ExitError::Failed => 1,
            ExitError::Usage => 2,
        }
    }
}

impl From<Failed> for ExitError {
    fn from(_: Failed) -> Self {
        ExitError::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_mesos_dns() {
        assert_eq!(ExitError::Failed.code(), 1);
        assert_eq!(ExitError::Usage.code(), 2);
        assert_eq!(ExitError::from(Failed), ExitError::Failed);
    }
}
