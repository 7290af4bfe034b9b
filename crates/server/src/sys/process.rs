//! The process's resources: the open-files limit (`getrlimit(2)` and
//! `setrlimit(2)` on `RLIMIT_NOFILE`, each given a pointer to a local
//! `rlimit` for the call only), the heap's free pages (`malloc_trim(3)`,
//! which takes an integer and no pointer), the heap's number of arenas
//! (`mallopt(3)`, integers only), the heap's use (`mallinfo2(3)`, which
//! takes nothing and returns a struct of integers), and the calling
//! thread's priority (`setpriority(2)`, integers only).

use std::io;

/// The open-files limit after [`raise_open_files_limit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenFiles {
    /// The soft limit before.
    pub before: u64,
    /// The soft limit now.
    pub now: u64,
    /// The hard limit.
    pub hard: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, as Go's runtime does
/// at startup for every Go program (so mesos-dns ran with it): the soft
/// limit is often 1024, fewer than the connection caps allow. A hard limit
/// of "unlimited" is kept as is when the kernel refuses it as a soft
/// limit.
///
/// # Errors
///
/// `getrlimit` failed (the limit is then unknown and left alone).
#[cfg(unix)]
#[allow(unsafe_code)]
// `rlim_t` is `u64` on Linux but not on every Unix.
#[allow(clippy::useless_conversion)]
pub(crate) fn raise_open_files_limit() -> io::Result<OpenFiles> {
    // SAFETY: an all-zero `rlimit` is a valid value (two integers).
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `lim` is a valid, writable `rlimit` for the whole call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit`, only read by the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    let as_u64 = |v: libc::rlim_t| u64::try_from(v).unwrap_or(u64::MAX);
    Ok(OpenFiles {
        before: as_u64(before),
        now: as_u64(lim.rlim_cur),
        hard: as_u64(lim.rlim_max),
    })
}

/// Other systems: the limit is not known.
#[cfg(not(unix))]
pub(crate) fn raise_open_files_limit() -> io::Result<OpenFiles> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Returns the heap's free pages to the kernel (glibc's `malloc_trim(0)`:
/// every arena, free pages inside the heap as well as at its top); true
/// if some memory was returned. The allocator otherwise keeps what a
/// state load freed resident until it is reused. Elsewhere, a no-op.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_free_heap() -> bool {
    // SAFETY: `malloc_trim` takes an integer, touches only the
    // allocator's own state, and takes each arena's lock as `malloc` does,
    // so it is safe from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other C libraries: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_heap() -> bool {
    false
}

/// What the heap holds, in bytes (glibc's `mallinfo2(3)`, every arena).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeapUsage {
    /// In chunks in use inside the arenas (with the allocator's own room
    /// per chunk).
    pub in_use: u64,
    /// In free chunks inside the arenas: resident only where they share a
    /// page with a chunk in use, or were not yet returned (see
    /// [`release_free_heap`]).
    pub free: u64,
    /// In chunks mapped on their own (large allocations), all in use.
    pub mapped: u64,
}

/// The heap's use now; `None` elsewhere than glibc. Walks the free lists
/// of every arena under its lock: for a scrape, not a hot path.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn heap_usage() -> Option<HeapUsage> {
    // SAFETY: `mallinfo2` takes no argument and returns a struct of
    // integers; it takes each arena's lock as `malloc` does, so it is
    // safe from any thread at any time.
    let m = unsafe { libc::mallinfo2() };
    let bytes = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    Some(HeapUsage {
        in_use: bytes(m.uordblks),
        free: bytes(m.fordblks),
        mapped: bytes(m.hblkhd),
    })
}

/// Other C libraries: not known.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn heap_usage() -> Option<HeapUsage> {
    None
}

/// Caps the number of glibc malloc arenas at `arenas` (`mallopt(3)`
/// `M_ARENA_MAX`; glibc's default is eight per core). Each thread that
/// meets a busy arena gets one of its own, and memory freed in an arena
/// stays there: the state thread, the compaction thread and the HTTP
/// threads each kept a partly used arena of their own, about 28 MB of
/// resident memory at 100,000 tasks on the event source. True if set.
/// Elsewhere, a no-op.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn limit_heap_arenas(arenas: u16) -> bool {
    // SAFETY: no pointer; `mallopt` only sets the allocator's parameter,
    // under its own lock.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, libc::c_int::from(arenas)) == 1 }
}

/// Other C libraries: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn limit_heap_arenas(_arenas: u16) -> bool {
    false
}

/// Lowers the calling thread's priority by [`BACKGROUND_NICE`] nice
/// steps, to 19 at most (Linux keeps a nice value per thread;
/// `setpriority(PRIO_PROCESS, 0)` sets the calling thread's): it then gets
/// about a tenth of what the process's other threads get of a busy core,
/// so background work (compacting a table) barely delays a query or a
/// change, yet a lock it holds is never held for long. `SCHED_IDLE` would
/// give it nothing while the core is busy, and a lock it held would stop
/// whoever waits for it (priority inversion). True if the value was set.
/// Elsewhere, a no-op.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) fn background_priority() -> bool {
    // SAFETY: no pointer; who 0 is the calling thread. `getpriority`
    // fails only for an invalid `which` or `who`.
    let now = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let nice = now.saturating_add(BACKGROUND_NICE).min(19);
    // SAFETY: as above.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) == 0 }
}

/// Other systems: nothing to do.
#[cfg(not(target_os = "linux"))]
pub(crate) fn background_priority() -> bool {
    false
}

/// Nice steps a background thread takes below the thread that starts it
/// (ten steps: about a tenth of the CPU share).
pub(crate) const BACKGROUND_NICE: libc::c_int = 10;

#[cfg(test)]
mod tests {
    use super::*;

    // Memory freed in the middle of the heap (below a block still in use,
    // so the heap's top cannot simply shrink) goes back to the kernel.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_heap_pages_are_returned() {
        let mut blocks: Vec<Vec<u8>> = (0..20_000).map(|i| vec![i as u8; 1000]).collect();
        let pin = blocks.split_off(blocks.len() - 1);
        drop(blocks);
        assert!(release_free_heap());
        assert_eq!(pin[0][0], (19_999 % 256) as u8);
    }

    // A large block is counted as mapped while held, and a run of small
    // ones as in use inside the arenas (at least: other tests allocate
    // and free meanwhile).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn heap_usage_counts_what_is_held() {
        let big = vec![1u8; 64 << 20];
        let small: Vec<Box<[u8; 200]>> =
            (0..50_000).map(|_| Box::new([2; 200])).collect();
        let now = heap_usage().unwrap();
        assert!(now.mapped >= 64 << 20, "{now:?}");
        assert!(now.in_use >= 50_000 * 200, "{now:?}");
        assert_eq!((big[0], small[0][0]), (1, 2));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_arena_cap_is_accepted() {
        assert!(limit_heap_arenas(2));
        // Threads still allocate and free under the cap.
        let sums: Vec<usize> = (0..4)
            .map(|i| std::thread::spawn(move || vec![i; 1 << 16].iter().sum()))
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(sums, vec![0, 1 << 16, 2 << 16, 3 << 16]);
    }

    // The nice value applies to the calling thread only.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_can_lower_its_own_priority() {
        #[allow(unsafe_code)]
        fn nice() -> libc::c_int {
            // SAFETY (test): no pointer; who 0 is the calling thread.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
        }
        let before = nice();
        let set = std::thread::spawn(|| (background_priority(), nice()))
            .join()
            .unwrap();
        assert_eq!(set, (true, (before + BACKGROUND_NICE).min(19)));
        assert_eq!(nice(), before);
    }
}
