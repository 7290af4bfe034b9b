//! The freeing thread: replaced tables are freed on a thread of their
//! own, once every query still reading them is done.
//!
//! The thread also hands the heap's free pages back to the kernel, once
//! [`TRIM_IDLE`] has passed without a publish after one (and at least every
//! [`TRIM_EVERY`] under a steady stream of them). A state load frees about
//! as much as the records it leaves behind (the body, its parse, the
//! replaced record set), and the allocator would otherwise keep it all
//! resident: at 100,000 tasks, polled every 10 s, the server held about
//! 400 MB between loads, and holds about 350 MB with this. A page given back
//! costs a fault when the next load reuses it, which is why a busy stream
//! of loads (a refresh every second, an event stream) is trimmed rarely.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::table::Table;

/// How long the freeing thread waits for the last reader of a replaced
/// table before leaving the free to that reader (an HTTP response being
/// written; DNS workers hold a table for one query).
const RETIRE_WAIT: Duration = Duration::from_secs(10);

/// How long the freeing thread waits with nothing more to free before it
/// returns free heap pages to the kernel.
const TRIM_IDLE: Duration = Duration::from_secs(5);

/// The longest the freeing thread goes without returning free heap pages
/// while tables keep being replaced (a busy event stream).
const TRIM_EVERY: Duration = Duration::from_secs(60);

/// What the freeing thread is told.
pub(super) enum Retired {
    /// A replaced table, to free.
    Table(Arc<Table>),
    /// A publish that replaced no table (a patch whose old table is kept
    /// as the spare), after which memory was freed all the same (the
    /// state load's).
    Nothing,
    /// Much was just retired (a compaction's tables): trim now.
    Trim,
}

/// The freeing thread: frees each retired table, and trims the heap once
/// the frees pause (see the module doc).
pub(super) fn free_retired(rx: &mpsc::Receiver<Retired>) {
    let mut freed_since_trim = false;
    let mut last_trim = Instant::now();
    loop {
        match rx.recv_timeout(TRIM_IDLE) {
            Ok(Retired::Trim) => {}
            Ok(retired) => {
                if let Retired::Table(table) = retired {
                    free(table);
                }
                freed_since_trim = true;
                if last_trim.elapsed() < TRIM_EVERY {
                    continue;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if freed_since_trim => {}
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        crate::sys::process::release_free_heap();
        freed_since_trim = false;
        last_trim = Instant::now();
    }
}

/// Frees `table` once no one else holds it (or after [`RETIRE_WAIT`]).
fn free(mut table: Arc<Table>) {
    let deadline = Instant::now() + RETIRE_WAIT;
    loop {
        match Arc::try_unwrap(table) {
            Ok(t) => return drop(t),
            Err(t) if Instant::now() < deadline => {
                table = t;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(t) => return drop(t),
        }
    }
}
