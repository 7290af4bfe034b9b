//! The state snapshot (`StateSnapshotFile`): the served records saved
//! after state loads, and served again at startup before the first live
//! load, so a restart does not answer SERVFAIL while the master is slow or
//! down.
//!
//! - **Writing** runs on a thread of its own ([`Writer`]): a state load
//!   only flags that the table changed ([`Writer::notify`]); the thread
//!   encodes the served table's records ([`mesos_records::record::snapshot`])
//!   and replaces the file atomically (a temporary file in the same
//!   directory, fsync, rename, fsync of the directory), at most once per
//!   [`MIN_INTERVAL`]. Records equal to those last written are not written
//!   again: the file's modification time is set to now, which is what
//!   dates a snapshot. A clean stop writes what is pending.
//! - **Reading** ([`load`]) happens once, before the DNS workers start: a
//!   snapshot no older than `StateSnapshotMaxAgeSeconds` and made under the
//!   same generation settings ([`settings_text`]) is served at once. A missing
//!   file is normal (first start); an old one is logged; a corrupt,
//!   truncated or foreign one is one warning and ignored, never a crash.
//! - Until a live load replaces it, [`SnapshotStatus`] says the answers
//!   come from a snapshot: `/ready` says so, and `/metrics` has
//!   `mesosdns_snapshot_serving` and the snapshot's age.

use std::fs::{self, File, FileTimes};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesos_records::record::snapshot::{self, SnapshotMeta};
use mesos_records::{GenConfig, RecordSet};

use crate::table::SharedTable;

/// The shortest time between two snapshot writes: a busy cluster (or the
/// event stream) publishes often, and a large snapshot is tens of
/// megabytes. A restart loses at most this much of the newest changes, and
/// the first live load brings them back.
pub const MIN_INTERVAL: Duration = Duration::from_secs(30);

/// Whether the answers come from a snapshot, and the writes so far.
#[derive(Debug, Default)]
pub struct SnapshotStatus {
    serving: AtomicBool,
    /// Unix seconds the served snapshot was last confirmed by a state load.
    made_unix: AtomicU64,
    writes_ok: AtomicU64,
    writes_error: AtomicU64,
}

impl SnapshotStatus {
    /// The Unix seconds of the snapshot served now, or `None` once a live
    /// state load replaced it (or if none was served).
    pub fn serving(&self) -> Option<u64> {
        self.serving
            .load(Ordering::Acquire)
            .then(|| self.made_unix.load(Ordering::Relaxed))
    }

    /// Snapshots written, and writes that failed.
    pub fn writes(&self) -> (u64, u64) {
        (
            self.writes_ok.load(Ordering::Relaxed),
            self.writes_error.load(Ordering::Relaxed),
        )
    }

    /// Records that the table now serves a snapshot made at `made_unix`.
    pub fn set_serving(&self, made_unix: u64) {
        self.made_unix.store(made_unix, Ordering::Relaxed);
        self.serving.store(true, Ordering::Release);
    }

    /// Records that a live state load replaced the snapshot; true if one
    /// was being served.
    pub fn live_load(&self) -> bool {
        self.serving.swap(false, Ordering::AcqRel)
    }
}

/// The generation settings records depend on, as text: a snapshot made
/// under other settings holds other names, and is not served.
pub fn settings_text(gen: &GenConfig) -> String {
    format!(
        "Domain={} IPSources={:?} EnforceRFC952={} SOAMname={} Listener={} EnumerationOn={} \
         HealthFilter={:?} TaskLabelPolicy={}",
        gen.domain,
        gen.ip_sources,
        gen.enforce_rfc952,
        gen.soa_mname,
        gen.listener,
        gen.enumeration,
        gen.health_filter,
        gen.label_policy
    )
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Reads the snapshot at `path` if it can be served: no older than
/// `max_age`, made under `settings`. Returns the records and the Unix
/// seconds they date from. Everything else is logged (missing: debug;
/// too old or other settings: info; unreadable or corrupt: one warning)
/// and gives `None`.
pub fn load(path: &Path, max_age: Duration, settings: &str) -> Option<(RecordSet, u64)> {
    let shown = path.display();
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log::debug!("state snapshot {shown}: none yet");
            return None;
        }
        Err(e) => {
            log::warn!("state snapshot {shown}: cannot open ({e}): ignored");
            return None;
        }
    };
    let made = file
        .metadata()
        .and_then(|m| m.modified())
        .map(unix)
        .unwrap_or(0);
    let age = unix(SystemTime::now()).saturating_sub(made);
    if age > max_age.as_secs() {
        log::info!(
            "state snapshot {shown} is {age} s old, older than StateSnapshotMaxAgeSeconds {}: \
             not served",
            max_age.as_secs()
        );
        return None;
    }
    let mut bytes = Vec::new();
    if let Err(e) = io::Read::read_to_end(&mut file, &mut bytes) {
        log::warn!("state snapshot {shown}: cannot read ({e}): ignored");
        return None;
    }
    match snapshot::decode(&bytes) {
        Ok((meta, set)) if meta.settings == settings => Some((set, made)),
        Ok((meta, _)) => {
            log::info!(
                "state snapshot {shown} was made for other settings ({}), not {settings}: \
                 not served",
                meta.settings
            );
            None
        }
        Err(e) => {
            log::warn!("state snapshot {shown}: {e}: ignored");
            None
        }
    }
}

/// Replaces `path` with `bytes` atomically: written to a temporary file in
/// the same directory, synced, renamed over `path`, and the directory
/// synced, so a crash leaves the old snapshot or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return written;
    }
    File::open(&dir)?.sync_all()
}

/// What the writer thread is asked to do.
#[derive(Debug, Default)]
struct Request {
    /// The table changed since the last write.
    dirty: bool,
    /// Stop (after writing what is pending).
    stop: bool,
}

/// Tells the [`Writer`] the table changed.
#[derive(Clone, Debug)]
pub struct Notifier {
    shared: Arc<(Mutex<Request>, Condvar)>,
}

impl Notifier {
    /// See [`Writer::notify`].
    pub fn notify(&self) {
        let (lock, cvar) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).dirty = true;
        cvar.notify_one();
    }
}

/// The snapshot writer thread.
#[derive(Debug)]
pub struct Writer {
    shared: Arc<(Mutex<Request>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread that saves `table`'s records to `path`, made
    /// under `settings`, counting into `status`.
    ///
    /// # Errors
    ///
    /// The thread cannot start.
    pub fn start(
        path: PathBuf,
        settings: String,
        table: Arc<SharedTable>,
        status: Arc<SnapshotStatus>,
    ) -> io::Result<Writer> {
        let shared = Arc::new((Mutex::new(Request::default()), Condvar::new()));
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("snapshot".into())
                .spawn(move || write_loop(&path, &settings, &table, &status, &shared))?
        };
        Ok(Writer {
            shared,
            thread: Some(thread),
        })
    }

    /// The table was published from a live state load: save it (soon).
    /// Never blocks on the writing.
    pub fn notify(&self) {
        self.notifier().notify();
    }

    /// A handle for [`Writer::notify`] that can move to another thread.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Writes what is pending and stops the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let (lock, cvar) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        cvar.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn write_loop(
    path: &Path,
    settings: &str,
    table: &SharedTable,
    status: &SnapshotStatus,
    shared: &(Mutex<Request>, Condvar),
) {
    let (lock, cvar) = shared;
    // The checksum of the last records written (after the header, which
    // holds the time): equal records only refresh the file's time.
    let mut last: Option<u32> = None;
    loop {
        let stop = {
            let mut req = lock.lock().unwrap_or_else(PoisonError::into_inner);
            while !req.dirty && !req.stop {
                req = cvar.wait(req).unwrap_or_else(PoisonError::into_inner);
            }
            let dirty = std::mem::take(&mut req.dirty);
            if !dirty {
                return;
            }
            req.stop
        };
        save(path, settings, table, status, &mut last);
        if stop {
            return;
        }
        // Rate limit: wait out the interval unless stopping.
        let req = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = cvar
            .wait_timeout_while(req, MIN_INTERVAL, |r| !r.stop)
            .map_err(PoisonError::into_inner);
    }
}

/// Writes the served table's records, or only refreshes the file's time
/// when they are those written last.
fn save(
    path: &Path,
    settings: &str,
    table: &SharedTable,
    status: &SnapshotStatus,
    last: &mut Option<u32>,
) {
    let now = SystemTime::now();
    let bytes = {
        let t = table.load();
        if !t.is_loaded() {
            return;
        }
        let meta = SnapshotMeta {
            made_unix: unix(now),
            settings: settings.to_owned(),
        };
        snapshot::encode(t.records(), &meta)
    };
    // Past the magic, version and time: the settings and the records.
    let sum = crc32fast::hash(bytes.get(20..).unwrap_or_default());
    let result = if *last == Some(sum) {
        File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_times(FileTimes::new().set_modified(now)))
    } else {
        write_atomic(path, &bytes)
    };
    match result {
        Ok(()) => {
            if *last != Some(sum) {
                log::debug!(
                    "state snapshot {}: {} bytes written",
                    path.display(),
                    bytes.len()
                );
                status.writes_ok.fetch_add(1, Ordering::Relaxed);
            }
            *last = Some(sum);
        }
        Err(e) => {
            // Logged each time: a full disk or a removed directory is
            // worth seeing, and writes are at most one per interval.
            log::warn!("state snapshot {}: cannot write: {e}", path.display());
            status.writes_error.fetch_add(1, Ordering::Relaxed);
            *last = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns_config::DnsConfig;
    use crate::table::{Publisher, Table};
    use std::net::Ipv4Addr;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir()
            .join(format!("mesos-dns-snap-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn records() -> RecordSet {
        let mut rs = RecordSet::default();
        rs.insert_a("web.marathon.mesos.", Ipv4Addr::new(10, 0, 0, 1));
        rs
    }

    #[test]
    fn written_on_notify_and_read_back() {
        let d = dir("rw");
        let path = d.join("snap");
        let cfg = DnsConfig::default();
        let table = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let status = Arc::new(SnapshotStatus::default());
        let w = Writer::start(
            path.clone(),
            "s".into(),
            Arc::clone(&table),
            Arc::clone(&status),
        )
        .unwrap();
        Publisher::new(Arc::clone(&table), cfg).publish(records(), 1000);
        w.notify();
        w.stop();
        assert_eq!(status.writes(), (1, 0));
        let (rs, made) = load(&path, Duration::from_secs(60), "s").unwrap();
        assert_eq!(rs, records());
        assert!(made > 0);
        // Other settings, or too old: not served.
        assert!(load(&path, Duration::from_secs(60), "t").is_none());
        let old = SystemTime::now() - Duration::from_secs(120);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_times(FileTimes::new().set_modified(old))
            .unwrap();
        assert!(load(&path, Duration::from_secs(60), "s").is_none());
        // Truncated or foreign: ignored.
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(load(&path, Duration::from_secs(60), "s").is_none());
        fs::write(&path, b"{}").unwrap();
        assert!(load(&path, Duration::from_secs(60), "s").is_none());
        assert!(load(&d.join("none"), Duration::from_secs(60), "s").is_none());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_unloaded_table_is_never_written() {
        let d = dir("empty");
        let path = d.join("snap");
        let cfg = DnsConfig::default();
        let table = Arc::new(SharedTable::new(Table::empty(&cfg)));
        let status = Arc::new(SnapshotStatus::default());
        let w =
            Writer::start(path.clone(), "s".into(), table, Arc::clone(&status)).unwrap();
        w.notify();
        w.stop();
        assert_eq!(status.writes(), (0, 0));
        assert!(!path.exists());
        let _ = fs::remove_dir_all(&d);
    }
}
