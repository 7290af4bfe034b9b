//! The process's memory: resident set (`/proc/self/status`) and the
//! heap's use (see [`heap_usage`]). Resident memory above the heap in use
//! is mostly free heap that shares pages with chunks still in use
//! (fragmentation); memory in use is what the records, tables and
//! buffers hold.

use super::{Exposition, MetricType};
use crate::sys::process::heap_usage;

/// Writes `process_resident_memory_bytes` (the name Prometheus client
/// libraries give it) and `mesosdns_heap_bytes{state}`, each where the
/// system tells it.
pub(super) fn memory_families(e: &mut Exposition) {
    if let Some(rss) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .as_deref()
        .and_then(resident_bytes)
    {
        e.family(
            "process_resident_memory_bytes",
            MetricType::Gauge,
            "Resident memory size in bytes.",
        );
        e.sample("process_resident_memory_bytes", &[], rss);
    }
    if let Some(h) = heap_usage() {
        e.family(
            "mesosdns_heap_bytes",
            MetricType::Gauge,
            "Heap bytes by state: in_use (chunks in use in the allocator's arenas), free (free \
             chunks in the arenas, resident only in pages shared with chunks in use or not yet \
             returned) and mapped (large blocks mapped on their own, in use).",
        );
        for (state, v) in [("in_use", h.in_use), ("free", h.free), ("mapped", h.mapped)] {
            e.sample("mesosdns_heap_bytes", &[("state", state)], v);
        }
    }
}

/// The `VmRSS` line of a `/proc/<pid>/status` text, in bytes.
fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kb = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kb.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_bytes_reads_the_vmrss_line() {
        let status =
            "Name:\tmesos-dns\nVmHWM:\t  2048 kB\nVmRSS:\t  1536 kB\nThreads:\t4\n";
        assert_eq!(resident_bytes(status), Some(1536 * 1024));
        assert_eq!(resident_bytes("VmRSS:\t12 MB\n"), None);
        assert_eq!(resident_bytes("Name:\tx\n"), None);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_families_are_written() {
        let mut e = Exposition::new();
        memory_families(&mut e);
        let page = e.finish();
        let value = |prefix: &str| -> u64 {
            let line = page.lines().find(|l| l.starts_with(prefix)).expect(prefix);
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert!(value("process_resident_memory_bytes ") > 0);
        assert!(value("mesosdns_heap_bytes{state=\"in_use\"} ") > 0);
        assert!(page.contains("mesosdns_heap_bytes{state=\"mapped\"} "));
    }
}
