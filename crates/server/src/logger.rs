//! The log line format of mesos-dns, as a small `log` crate backend.
//!
//! Every line is `PREFIX YYYY/MM/DD HH:MM:SS file.rs:LINE: message`, the
//! format of Go's `log` package with date, time and short file name:
//!
//! | `log` level | prefix | stream | shown at |
//! |---|---|---|---|
//! | `error!` | `ERROR: ` | stderr | always |
//! | `warn!` | `WARNING: ` | stderr | always |
//! | `info!` | `VERBOSE: ` | stdout | `-v=1` and above |
//! | `debug!` | `VERY VERBOSE: ` | stdout | `-v=2` and above |
//! | `trace!` | `VERY VERBOSE: ` | stdout | `-v=3` and above |
//!
//! Two differences from mesos-dns (see COMPATIBILITY.md): timestamps are in
//! UTC (the standard library has no time-zone database), and at `-v=2`
//! verbose lines keep their `VERBOSE: ` prefix instead of all becoming
//! `VERY VERBOSE: `. Lines logged with the target [`STARTUP`] (where the
//! server listens) are shown at every verbosity with the prefix `INFO: `.
//! Debug and trace lines of other crates (the HTTP client) are never shown.

use crate::calendar::civil_from_days;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The `log` target of the few lines printed at every verbosity.
pub const STARTUP: &str = "mesos_dns::startup";

/// Crates whose debug and trace lines are ours to show.
const OWN_CRATES: [&str; 4] = ["mesos_dns", "mesos_records", "mesos_sources", "dns_wire"];

/// The logger; install it once with [`init`].
#[derive(Clone, Copy, Debug)]
pub struct Logger {
    verbosity: i32,
}

impl Logger {
    /// A logger for the `-v` level `verbosity` (0 or less: errors only).
    pub fn new(verbosity: i32) -> Self {
        Logger { verbosity }
    }

    fn level_filter(self) -> LevelFilter {
        match self.verbosity {
            i32::MIN..=0 => LevelFilter::Info, // STARTUP lines still pass.
            1 => LevelFilter::Info,
            2 => LevelFilter::Debug,
            _ => LevelFilter::Trace,
        }
    }

    fn shows(self, target: &str, level: Level) -> bool {
        match level {
            Level::Error | Level::Warn => true,
            Level::Info => self.verbosity >= 1 || target == STARTUP,
            Level::Debug | Level::Trace => {
                let needed = if level == Level::Debug { 2 } else { 3 };
                self.verbosity >= needed && is_own(target)
            }
        }
    }
}

fn is_own(target: &str) -> bool {
    OWN_CRATES.iter().any(|c| {
        target == *c || target.strip_prefix(c).is_some_and(|r| r.starts_with("::"))
    })
}

/// Installs the logger for verbosity `verbosity`. Calling it twice keeps the
/// first logger (tests start several servers in one process).
pub fn init(verbosity: i32) {
    let logger = Logger::new(verbosity);
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(logger.level_filter());
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.shows(metadata.target(), metadata.level())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format_line(record, SystemTime::now());
        // A failed write to stdout or stderr has nowhere to be reported.
        let _ = if record.level() <= Level::Warn {
            std::io::stderr().lock().write_all(line.as_bytes())
        } else {
            std::io::stdout().lock().write_all(line.as_bytes())
        };
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
    }
}

/// The prefix of a record's line.
fn prefix(record: &Record<'_>) -> &'static str {
    match record.level() {
        Level::Error => "ERROR: ",
        Level::Warn => "WARNING: ",
        Level::Info if record.target() == STARTUP => "INFO: ",
        Level::Info => "VERBOSE: ",
        Level::Debug | Level::Trace => "VERY VERBOSE: ",
    }
}

/// One full line, newline included.
fn format_line(record: &Record<'_>, now: SystemTime) -> String {
    let file = record.file().unwrap_or("?");
    let file = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let line = record.line().unwrap_or(0);
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!(
        "{}{} {}:{}: {}\n",
        prefix(record),
        timestamp(secs),
        file,
        line,
        record.args()
    )
}

/// `YYYY/MM/DD HH:MM:SS` in UTC for `secs` since the Unix epoch.
fn timestamp(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn line(level: Level, target: &str, secs: u64) -> String {
        let args = format_args!("hello {}", 7);
        let record = Record::builder()
            .level(level)
            .target(target)
            .file(Some("crates/server/src/config/mod.rs"))
            .line(Some(42))
            .args(args)
            .build();
        format_line(&record, UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn formats_lines_like_go_log() {
        // 2026-11-22 08:45:46 UTC, the time of the observed line in
        // BEHAVIOUR.md 2.3.
        let secs = 1_795_337_146;
        assert_eq!(
            line(Level::Error, "mesos_dns::config", secs),
            "ERROR: 2026/11/22 08:45:46 mod.rs:42: hello 7\n"
        );
        assert_eq!(
            line(Level::Info, "mesos_dns::run", 0),
            "VERBOSE: 1970/01/01 00:00:00 mod.rs:42: hello 7\n"
        );
        assert!(line(Level::Debug, "mesos_dns", 0).starts_with("VERY VERBOSE: "));
        assert!(line(Level::Warn, "x", 0).starts_with("WARNING: "));
        assert!(line(Level::Info, STARTUP, 0).starts_with("INFO: "));
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "1970/01/01 00:00:00");
        assert_eq!(timestamp(951_868_799), "2000/02/29 23:59:59");
    }

    #[test]
    fn verbosity_gates_levels() {
        let quiet = Logger::new(0);
        assert!(quiet.shows("mesos_dns", Level::Error));
        assert!(quiet.shows("ureq", Level::Warn));
        assert!(!quiet.shows("mesos_dns", Level::Info));
        assert!(quiet.shows(STARTUP, Level::Info));
        let v1 = Logger::new(1);
        assert!(v1.shows("mesos_sources::poller", Level::Info));
        assert!(!v1.shows("mesos_dns", Level::Debug));
        let v2 = Logger::new(2);
        assert!(v2.shows("mesos_dns::table", Level::Debug));
        assert!(!v2.shows("mesos_dns", Level::Trace));
        assert!(!v2.shows("ureq::unit", Level::Debug));
        assert!(!v2.shows("mesos_dnsx", Level::Debug));
        assert!(Logger::new(3).shows("dns_wire", Level::Trace));
        assert!(!Logger::new(-1).shows("mesos_dns", Level::Info));
    }
}
