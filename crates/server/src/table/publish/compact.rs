//! Compaction: a table patched by many deltas copied without what the
//! patches replaced, off the change path, and swapped in with the same
//! answers.
//!
//! Each delta renders its names into the arenas of the table it patches
//! (see the `apply` module); what they replace stays there, unused, and
//! each table of the left-right pair holds its own copy of what was put
//! since the last full compile. At 100,000 tasks, a minute of 1,000
//! changes a second left about 60 MB of such records and templates in the
//! pair, up to the bound where a change falls back to a full compile on
//! the change path (a stall of about a quarter of a second).
//!
//! Compaction copies the served table's names and templates on a thread of
//! its own, ten nice steps below the others: every name's record and the
//! templates they use, each kind into one fresh arena, with the slots as
//! they are ([`Compiled::compacted`]). It reads no record set and renders
//! nothing, so it costs a copy of what is in use (at 100,000 tasks, about
//! 60 MB and tens of milliseconds) where a full compile from the view
//! would build the whole record set again and take a second or more at
//! that priority. A table never changes once published, so the copy reads
//! it with no lock:
//!
//! 1. *start*, under the publisher's lock: hold the served table's compiled
//!    part and give the compaction a number; from then on every delta
//!    published adds the names it rendered to the compaction's list;
//! 2. *copy*, with no lock;
//! 3. *adopt*, under the lock: render the listed names into the copy from
//!    the served table's values at its serial (rendering is idempotent;
//!    see [`Table::adopt`]; while the list is long, a round of that is
//!    done first without the lock), swap it in, and let go of the table it
//!    replaces and of the spare (and, if no change came meanwhile, have
//!    the heap trimmed at once). The next delta copies the served table
//!    to patch it (its slots, nothing else), which starts a new pair.
//!
//! Anything published in full meanwhile (a first load, a reload, staged
//! settings, a delta that could not be patched) ends the compaction: its
//! result is dropped. The served answers and serial never change by a
//! compaction, so zone transfers are not told.
//!
//! When: after a delta, when the served table's arenas have grown by more
//! than [`STREAM_SHARE`] of their size after the last full compile; and
//! once changes pause for [`IDLE`], when they have grown by more than
//! [`IDLE_SHARE`] or the PTR data changed since it was derived at
//! addresses holding more than an eighth of its names. Else the pause
//! lets go of the spare (see [`Publisher::release_spare`]).
//!
//! The PTR data: each delta brings it forward at the addresses it
//! touches, which then keep their names in ranks of their own, about
//! twice the room of the derived list; a compaction at a pause also lays
//! it out again as one derivation ([`Ptrs::compacted`]), adopted only if
//! no change came meanwhile (else the served table's is kept). At 100,000
//! tasks, after a minute of 1,000 changes a second, that frees about
//! 10 MB.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use super::{Publisher, Settings};
use crate::reverse::Ptrs;
use crate::table::apply::render_names;
use crate::table::compiled::Compiled;
use crate::table::Table;

/// Growth of the served table's arenas (as a share of their size after
/// the last full compile: 1/8) that starts a compaction after a delta.
const STREAM_SHARE: u32 = 3;

/// Growth (1/64) that starts a compaction once changes pause.
const IDLE_SHARE: u32 = 6;

/// Names changed during a compaction that its adoption renders under the
/// publisher's lock (more are rendered without it first; see
/// [`Publisher::compaction_finish`]).
const CATCH_UP: usize = 64;

/// Rounds of catching up before the names left are rendered under the
/// lock whatever their number.
const CATCH_UP_ROUNDS: u32 = 4;

/// How long changes must pause for the idle compaction.
const IDLE: Duration = Duration::from_secs(2);

/// A compaction under way: its number and the names deltas rendered
/// since it started (or since its last round of catching up).
#[derive(Debug)]
pub(super) struct Compaction {
    id: u64,
    since: Vec<String>,
}

impl Compaction {
    /// Notes names a delta rendered.
    pub(super) fn rendered(&mut self, names: &[String]) {
        self.since.extend_from_slice(names);
    }
}

/// A started compaction: the compiled part of the table to copy, and its
/// PTR data if that is to be laid out again too.
pub(in crate::table) struct Job {
    id: u64,
    compiled: Arc<Compiled>,
    ptrs: Option<Arc<Ptrs>>,
}

/// A compiled compaction, to adopt: with the PTR data it was given and
/// their compacted copy.
pub(in crate::table) struct Done {
    id: u64,
    compiled: Compiled,
    ptrs: Option<(Arc<Ptrs>, Ptrs)>,
}

impl Job {
    /// Copies the table's names and templates in use, and lays out its
    /// PTR data again if given (with no lock held).
    pub(in crate::table) fn run(self) -> Done {
        Done {
            id: self.id,
            compiled: self.compiled.compacted(),
            ptrs: self.ptrs.and_then(|p| {
                let c = p.compacted()?;
                Some((p, c))
            }),
        }
    }
}

/// True if `table`'s arenas grew since its last full compile (or
/// compaction) by more than `full_len >> shift`, their size then shifted.
fn grown(table: &Table, shift: u32) -> bool {
    let c = &table.compiled;
    c.arena_len().saturating_sub(c.full_len) > c.full_len.checked_shr(shift).unwrap_or(0)
}

impl Publisher {
    /// Starts a compaction of the served table (see the module docs) if
    /// its arenas grew by more than their size after the last full compile
    /// shifted right by `shift`, or, with `ptrs`, if its PTR data changed
    /// since derived at addresses holding more than an eighth of its names
    /// (then that is laid out again too; see [`Ptrs::compacted`] and
    /// [`Ptrs::overlay_grown`]); none if no table
    /// is loaded, settings are staged, or one is under way.
    ///
    /// `ptrs` is for a pause in the changes: the copy of the PTR data is
    /// adopted only if no change came meanwhile.
    pub(in crate::table) fn compaction_start(
        &self,
        shift: u32,
        ptrs: bool,
    ) -> Option<Job> {
        let mut settings = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        let served = self.shared.load();
        let ptrs = match ptrs {
            true => served
                .reverse
                .current()
                .filter(|p| p.overlay_grown())
                .cloned(),
            false => None,
        };
        if !served.is_loaded()
            || settings.staged.is_some()
            || settings.compaction.is_some()
            || !grown(&served, shift) && ptrs.is_none()
        {
            return None;
        }
        settings.next_compaction += 1;
        let id = settings.next_compaction;
        settings.compaction = Some(Compaction {
            id,
            since: Vec::new(),
        });
        Some(Job {
            id,
            compiled: Arc::clone(&served.compiled),
            ptrs,
        })
    }

    /// Swaps in the table of a compiled compaction, with the names changed
    /// since rendered again; true if it did (false when something was
    /// published in full meanwhile, or a name did not fit).
    ///
    /// While more than [`CATCH_UP`] names changed since, they are rendered
    /// with the lock released, from the served table's view (a round of
    /// catching up; the names changed meanwhile are the next round's), so
    /// that the deltas wait for a few names at most. A copy made at the
    /// lowest priority (`SCHED_IDLE`, since given up) under a stream of
    /// changes took up to 1.4 s, in which 1,000 changes a second rendered
    /// about 11,000 names: 82 ms under the lock. The last of
    /// [`CATCH_UP_ROUNDS`] rounds is under the lock whatever its size.
    pub(in crate::table) fn compaction_finish(&self, mut done: Done) -> bool {
        for round in 1.. {
            let mut settings = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(c) = settings.compaction.as_mut().filter(|c| c.id == done.id) else {
                return false;
            };
            let mut since = std::mem::take(&mut c.since);
            since.sort_unstable();
            since.dedup();
            let served = self.shared.load();
            if since.len() <= CATCH_UP || round >= CATCH_UP_ROUNDS {
                settings.compaction = None;
                let quiet = round == 1 && since.is_empty();
                return self.adopt(&mut settings, served, done, &since, quiet);
            }
            let (view, serial, apex, cfg) = (
                Arc::clone(served.view()),
                served.serial(),
                served.apex.clone(),
                settings.cfg.clone(),
            );
            // Not held meanwhile: it may be the next spare.
            drop((settings, served));
            if render_names(&mut done.compiled, &since, &*view, &cfg, &apex, serial)
                .is_none()
            {
                let mut settings =
                    self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
                settings.compaction.take_if(|c| c.id == done.id);
                return false;
            }
        }
        false
    }

    /// Swaps in `served` with `compiled`, once `since` is rendered into it
    /// (the last step of [`Publisher::compaction_finish`]); `quiet` if no
    /// change came since the compaction started.
    fn adopt(
        &self,
        settings: &mut Settings,
        served: Arc<Table>,
        done: Done,
        since: &[String],
        quiet: bool,
    ) -> bool {
        let Some(table) = served.adopt(done.compiled, since, &settings.cfg, done.ptrs)
        else {
            return false;
        };
        self.shared.publish(table);
        self.retire(served);
        self.retire_spare(settings);
        // No change came during the compaction: the changes paused, and
        // the memory it let go of is returned now (under a stream, the
        // freeing thread's own cadence: trims cost page faults after).
        if quiet {
            self.trim_soon();
        }
        true
    }

    /// Lets go of the spare, once changes paused and no compaction was
    /// due. A spare makes a change cheaper only in what it saves the next
    /// change copying: the served table's slot pages it writes (a few,
    /// see the index's `Slots`) and the records patched since the last
    /// compile (under a sixty-fourth of the table, or it would have been
    /// compacted). It holds its own copy of every slot page a patch wrote,
    /// and of those records: under a stream of changes, every page. At
    /// 100,000 tasks, after a minute of 1,000 changes a second, about
    /// 9 MB.
    pub(in crate::table) fn release_spare(&self) {
        let mut settings = self.cfg.lock().unwrap_or_else(PoisonError::into_inner);
        if self.retire_spare(&mut settings) {
            self.trim_soon();
        }
    }

    /// Hands the spare, if one is held, to the freeing thread; true if one
    /// was.
    fn retire_spare(&self, settings: &mut Settings) -> bool {
        let Some(spare) = settings.spare.take() else {
            return false;
        };
        self.retire(spare.into_table());
        true
    }

    /// Whether a spare is held (for tests).
    #[cfg(test)]
    pub(in crate::table) fn spare_held(&self) -> bool {
        self.cfg
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spare
            .is_some()
    }

    /// Starts the compaction thread (see the module docs), which ends with
    /// the publisher and counts each compaction swapped in into
    /// `compactions`. Without it, nothing is compacted: the patches fall
    /// back to a full compile on their own once the arenas reach their
    /// bound.
    ///
    /// # Errors
    ///
    /// The thread could not start.
    pub fn start_compaction(
        self: &Arc<Self>,
        compactions: Arc<AtomicU64>,
    ) -> std::io::Result<()> {
        let (tx, rx) = mpsc::channel();
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("table-compact".into())
            .spawn(move || compactor(&weak, &rx, &compactions))?;
        let _ = self.compactor.set(tx);
        Ok(())
    }

    /// Tells the compaction thread that a delta was published.
    pub(super) fn patched(&self) {
        if let Some(tx) = self.compactor.get() {
            let _ = tx.send(());
        }
    }
}

impl Settings {
    /// Ends the patches: a table published in full has no spare, and no
    /// compaction of an older view can be adopted.
    pub(super) fn end_patches(&mut self) {
        self.spare = None;
        self.compaction = None;
    }
}

/// The compaction thread: compacts when a delta made the arenas grow past
/// [`STREAM_SHARE`], or when changes paused (see the module docs).
fn compactor(
    publisher: &Weak<Publisher>,
    rx: &mpsc::Receiver<()>,
    compactions: &AtomicU64,
) {
    crate::sys::process::background_priority();
    let mut patched = false;
    loop {
        let tick = match patched {
            true => rx.recv_timeout(IDLE),
            false => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let Some(p) = publisher.upgrade() else {
            return;
        };
        let shift = match tick {
            Ok(()) => {
                // One look at the table for a burst of deltas.
                while rx.try_recv().is_ok() {}
                patched = true;
                STREAM_SHARE
            }
            Err(RecvTimeoutError::Timeout) => {
                patched = false;
                IDLE_SHARE
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Some(job) = p.compaction_start(shift, shift == IDLE_SHARE) else {
            if shift == IDLE_SHARE {
                p.release_spare();
            }
            continue;
        };
        match p.compaction_finish(job.run()) {
            true => {
                compactions.fetch_add(1, Ordering::Relaxed);
            }
            false => {
                log::debug!("table compaction dropped: the table was replaced meanwhile")
            }
        }
        // The ticks of the deltas meanwhile are taken into account.
        while rx.try_recv().is_ok() {}
        patched = true;
    }
}
