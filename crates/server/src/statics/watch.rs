//! Reading `StaticZoneFile` at startup and again whenever it changes.
//!
//! A thread looks at the file's modification time, size and inode once a
//! second. A change is read whole; when it reads, its records replace the
//! ones in force (through [`StaticHandle`], which every table built after
//! reads) and the served table is published again with them; when it does
//! not, one error line says why and the last good records stay. The same
//! thread logs the static names that hide Mesos names whenever that list
//! changes.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{parse, StaticHandle, Statics};
use crate::table::{Publisher, SharedTable};

/// How often the file is looked at.
const EVERY: Duration = Duration::from_secs(1);

/// Reads `path` for the domain with apex `apex` (lowercase wire; `domain`
/// its text), records without a TTL getting `ttl`.
///
/// # Errors
///
/// One line: the file, and what is wrong with it.
pub fn load(path: &Path, domain: &str, apex: &[u8], ttl: u32) -> Result<Statics, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("StaticZoneFile {}: {e}", path.display()))?;
    let origin = format!("{}.", domain.trim_end_matches('.'));
    let records = parse(&text, &origin, ttl)
        .map_err(|e| format!("StaticZoneFile {}: {e}", path.display()))?;
    let (s, skipped) = Statics::build(records, apex)
        .map_err(|e| format!("StaticZoneFile {}: {e}", path.display()))?;
    for why in skipped {
        log::warn!("StaticZoneFile {}: {why}: left out", path.display());
    }
    Ok(s)
}

/// What identifies one version of the file.
fn stamp(path: &Path) -> Option<(i64, i64, u64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.mtime(), m.mtime_nsec(), m.size(), m.ino()))
}

/// Loads `path` now into `handle` (logging an error, not failing), then
/// starts the thread that follows it; `domain` and `ttl` are the settings
/// at startup.
pub fn start(
    path: PathBuf,
    domain: String,
    ttl: u32,
    handle: StaticHandle,
    shared: Arc<SharedTable>,
    publisher: Arc<Publisher>,
) -> std::io::Result<()> {
    let mut buf = [0u8; dns_wire::MAX_NAME_LEN];
    let apex: Box<[u8]> =
        dns_wire::name::from_dotted(&domain.to_ascii_lowercase(), &mut buf)
            .map_err(|_| std::io::Error::other("Domain is not a valid name"))?
            .into();
    let mut seen = stamp(&path);
    match load(&path, &domain, &apex, ttl) {
        Ok(s) => {
            log::info!(
                target: crate::logger::STARTUP,
                "StaticZoneFile {}: {} records",
                path.display(),
                s.records.len()
            );
            handle.store(s);
        }
        Err(e) => log::error!("{e}; no static records until it reads"),
    }
    std::thread::Builder::new()
        .name("static-zone".into())
        .spawn(move || {
            let mut hidden: Vec<String> = Vec::new();
            let mut serial = None;
            loop {
                std::thread::sleep(EVERY);
                let now = stamp(&path);
                if now != seen {
                    seen = now;
                    match load(&path, &domain, &apex, ttl) {
                        Ok(s) => {
                            log::info!(
                                target: crate::logger::STARTUP,
                                "StaticZoneFile {}: {} records (changed)",
                                path.display(),
                                s.records.len()
                            );
                            handle.store(s);
                            publisher.refresh(crate::calendar::now_unix());
                            serial = None;
                        }
                        Err(e) => log::error!("{e}; the last good records stay"),
                    }
                }
                let table = shared.load();
                if !table.is_loaded() || serial == Some(table.serial()) {
                    continue;
                }
                serial = Some(table.serial());
                let now_hidden = handle.load().collisions(&table);
                if now_hidden != hidden && !now_hidden.is_empty() {
                    log::warn!(
                        "StaticZoneFile: static names hide the Mesos records of the same \
                         names: {}",
                        now_hidden.join(", ")
                    );
                }
                hidden = now_hidden;
            }
        })
        .map(|_| ())
}
