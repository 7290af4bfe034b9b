//! The state poller: one blocking thread that detects the leader, fetches
//! its state, generates records and hands each new [`RecordSet`] to a
//! callback (the server swaps it in).
//!
//! - Every `refresh` it loads again; a leader change reported by ZooKeeper
//!   loads at once; a state file source loads when the file changes.
//! - On any failure the last good set stays published (nothing is called),
//!   the failure is logged once per change of condition rather than on every
//!   tick, and the next try backs off: 1 s, 2 s, 4 s ... capped at `refresh`.
//! - [`Poller::stop`] wakes the thread at once (no long sleeps) and joins it.
//! - [`PollerStatus`] holds atomics for metrics and readiness.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use mesos_records::delta::{Delta, View};
use mesos_records::generate::generate;
use mesos_records::record::RecordSet;
use mesos_records::skip::{count_by_reason, Skip};
use mesos_records::state::State;
use mesos_records::Live;

use crate::error::FetchError;
use crate::fetch::{body_hash, Fetched, StateClient};
use crate::master::{DetectorSpec, ZkUrl};
use crate::shared::{micros, unix_ms, SourceShared};
use crate::source::{PollerConfig, Source};
use crate::status::PollerStatus;
use crate::update::Update;

/// Default `RefreshSeconds`, in seconds.
pub const DEFAULT_REFRESH_SECS: u64 = 60;
/// How often a state file's metadata is checked for changes.
const FILE_CHECK: Duration = Duration::from_millis(500);
/// First retry delay after a failure; doubles up to the refresh period.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// A running poller. Dropping it stops the threads too.
pub struct Poller {
    shared: Arc<SourceShared>,
    threads: Vec<JoinHandle<()>>,
    /// The source is the event stream, whose records are built from
    /// events as they come: new generation settings need a restart.
    events: bool,
}

impl Poller {
    /// The shared status (clone the `Arc` for the metrics endpoint).
    pub fn status(&self) -> &Arc<PollerStatus> {
        &self.shared.status
    }

    /// Asks for a load now instead of at the next tick.
    pub fn reload_now(&self) {
        self.shared.request_reload();
    }

    /// Generates with `gen` from the next load on, and loads at once (a
    /// config reload changed a generation key); the records generated
    /// with it are published with [`PollerStatus::gen_epoch`] set to
    /// `epoch` (give each call a larger one). False, and nothing changes,
    /// for the event-stream source.
    pub fn regenerate(&self, gen: mesos_records::GenConfig, epoch: u64) -> bool {
        if self.events {
            return false;
        }
        self.shared.set_gen(gen, epoch);
        true
    }

    /// Stops the threads and waits for them (at most one in-flight fetch,
    /// bounded by the state timeout).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.request_stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the poller (and, for `zk://`, the detector) threads, publishing
/// whole record sets.
///
/// # Errors
/// Thread creation failure.
pub fn spawn(
    cfg: PollerConfig,
    mut publish: impl FnMut(RecordSet) + Send + 'static,
) -> io::Result<Poller> {
    spawn_updates(cfg, move |u: Update| publish(u.into_record_set()))
}

/// [`spawn`], publishing [`Update`]s: changes as deltas where the source
/// keeps records incrementally.
///
/// # Errors
/// Thread creation failure.
pub fn spawn_updates(
    cfg: PollerConfig,
    publish: impl FnMut(Update) + Send + 'static,
) -> io::Result<Poller> {
    let preset = match cfg.source.detection() {
        Source::Masters(list) => Some(list.clone()),
        _ => None,
    };
    let shared = Arc::new(SourceShared::new(preset));
    let mut threads = Vec::new();
    let mut zk: Option<ZkUrl> = None;
    match cfg.source.detection() {
        Source::Zk {
            spec: DetectorSpec::Zk(url),
            ..
        } => zk = Some(url.clone()),
        Source::Zk {
            spec: DetectorSpec::Standalone(addr),
            ..
        } => shared.set_masters(vec![addr.clone()], true),
        Source::Masters(list) => {
            if let Some(first) = list.first() {
                log::info!("the presumed leader is the first master: {first}");
            }
        }
        Source::StateFile(_) | Source::Events(_) => {}
    }
    let mut poller = Poller {
        shared: Arc::clone(&shared),
        threads: Vec::new(),
        events: matches!(cfg.source, Source::Events(_)),
    };
    if let Some(url) = zk {
        let s = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("zk-detector".into())
                .spawn(move || crate::detector::run(&url, &s))?,
        );
    }
    let s = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name("state-poller".into())
        .spawn(move || {
            if matches!(cfg.source, Source::Events(_)) {
                crate::stream::run(cfg, s, publish);
            } else {
                Loop::new(cfg, s).run(publish);
            }
        });
    match spawned {
        Ok(t) => threads.push(t),
        Err(e) => {
            poller.threads = threads;
            return Err(e);
        }
    }
    poller.threads = threads;
    Ok(poller)
}

struct Loop {
    cfg: PollerConfig,
    shared: Arc<SourceShared>,
    client: StateClient,
    started: Instant,
    last_problem: Option<String>,
    last_skips: Option<String>,
    /// The master that served the last state (static masters are asked
    /// from it on, so a dead first master costs nothing).
    last_served: Option<String>,
    file_stamp: Option<(SystemTime, u64)>,
    /// The number of the generation settings in `cfg.gen`.
    gen_epoch: u64,
    /// The live record store (issue 18), once a state loaded with
    /// settings it supports.
    live: Option<Live>,
    /// The master that served the last body loaded, and its hash.
    last_body: Option<(String, u64)>,
    /// When the live store is next checked against a full generation.
    next_check: Instant,
}

/// What one load made.
struct Load {
    update: Update,
    records: usize,
    fetch: Duration,
    gen: Duration,
    bytes: usize,
    /// A cold load's state and master list: the live store is filled
    /// from them after `update` is published ([`Loop::fill_live`]).
    fill: Option<(State, Vec<String>)>,
}

/// Refreshes between two checks of the live store against a full
/// generation.
const CHECK_EVERY: u32 = 10;

/// `2 skipped (unresolved: 1, ...)`, or `None` when nothing was.
fn skip_summary(skips: &[Skip]) -> Option<String> {
    if skips.is_empty() {
        return None;
    }
    let parts: Vec<String> = count_by_reason(skips)
        .iter()
        .map(|(r, n)| format!("{r}: {n}"))
        .collect();
    Some(format!("{} skipped ({})", skips.len(), parts.join(", ")))
}

impl Loop {
    fn new(cfg: PollerConfig, shared: Arc<SourceShared>) -> Loop {
        Loop {
            client: StateClient::new(cfg.http.clone()),
            cfg,
            shared,
            started: Instant::now(),
            last_problem: None,
            last_skips: None,
            last_served: None,
            file_stamp: None,
            gen_epoch: 0,
            live: None,
            last_body: None,
            next_check: Instant::now(),
        }
    }

    fn run(mut self, mut publish: impl FnMut(Update)) {
        let status = Arc::clone(&self.shared.status);
        let refresh = self.cfg.refresh.max(Duration::from_millis(100));
        let mut next = Instant::now();
        while !self.shared.stopping() {
            let reload = self.wait_for_tick(next);
            if self.shared.stopping() {
                break;
            }
            if !reload && Instant::now() < next {
                continue;
            }
            if self.masters().iter().all(String::is_empty)
                && matches!(self.cfg.source, Source::Zk { .. })
            {
                // Nothing to ask until ZooKeeper names a leader: not a
                // failure; the detector's report wakes us.
                log::debug!("waiting for ZooKeeper to report a leader");
                self.check_detection_timeout();
                next = Instant::now() + refresh;
                if let Some(limit) = self.cfg.zk_detection_timeout {
                    let at = self.started + limit;
                    if at > Instant::now() {
                        next = next.min(at);
                    }
                }
                continue;
            }
            match self.load_once() {
                Ok(load) => {
                    if let Some(l) = &load {
                        status
                            .fetch_micros
                            .store(micros(l.fetch), Ordering::Relaxed);
                        status
                            .generate_micros
                            .store(micros(l.gen), Ordering::Relaxed);
                        status.state_bytes.store(l.bytes as u64, Ordering::Relaxed);
                        status.records.store(l.records as u64, Ordering::Relaxed);
                    }
                    let failures = status.consecutive_failures.swap(0, Ordering::Relaxed);
                    status.loads.fetch_add(1, Ordering::Relaxed);
                    status.last_success_ms.store(unix_ms(), Ordering::Relaxed);
                    if self.last_problem.take().is_some() {
                        log::info!(
                            "state loaded again after {failures} failed attempt(s)"
                        );
                    }
                    status.gen_epoch.store(self.gen_epoch, Ordering::Release);
                    if let Some(l) = load {
                        publish(l.update);
                        status.publishes.fetch_add(1, Ordering::Relaxed);
                        if let Some((state, masters)) = l.fill {
                            let view = self.fill_live(state, &masters);
                            // The same records, from the store: the served
                            // table drops the record set it was compiled
                            // from, which the store makes on demand.
                            publish(Update::Delta {
                                delta: Delta::default(),
                                view,
                            });
                        }
                    }
                    next = Instant::now() + refresh;
                }
                Err(e) => {
                    // The first load after a failure is read and published
                    // even if its body did not change.
                    self.last_body = None;
                    let n =
                        status.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
                    status.failures.fetch_add(1, Ordering::Relaxed);
                    let msg = e.to_string();
                    if self.last_problem.as_deref() != Some(msg.as_str()) {
                        log::warn!(
                            "Error generating records: {msg}; keeping old DNS state"
                        );
                        self.last_problem = Some(msg);
                    }
                    next = Instant::now() + backoff(n, refresh);
                }
            }
            self.check_detection_timeout();
        }
    }

    /// Waits for the next tick; true when woken by a reload request or a
    /// changed state file.
    fn wait_for_tick(&mut self, next: Instant) -> bool {
        if !matches!(self.cfg.source, Source::StateFile(_)) {
            return self.shared.wait(next);
        }
        loop {
            let step = (Instant::now() + FILE_CHECK).min(next);
            if self.shared.wait(step) {
                return true;
            }
            if self.shared.stopping() || Instant::now() >= next {
                return false;
            }
            if self.file_changed() {
                return true;
            }
        }
    }

    fn file_changed(&self) -> bool {
        let Source::StateFile(path) = &self.cfg.source else {
            return false;
        };
        file_stamp(path) != self.file_stamp
    }

    /// Loads the state and makes the records: `None` when the state
    /// body is the one last loaded and nothing else changed (it is not
    /// parsed then).
    fn load_once(&mut self) -> Result<Option<Load>, FetchError> {
        if let Some((gen, epoch)) = self.shared.take_gen() {
            self.cfg.gen = gen;
            self.gen_epoch = epoch;
            // New settings: everything is made again.
            self.live = None;
            self.last_body = None;
        }
        let live_on = Live::supports(&self.cfg.gen);
        let last = self
            .last_body
            .as_ref()
            .filter(|_| live_on && self.live.is_some());
        let t0 = Instant::now();
        let (state, masters, bytes) = match &self.cfg.source {
            Source::StateFile(path) => {
                self.file_stamp = file_stamp(path);
                let body = std::fs::read(path).map_err(|e| FetchError::File {
                    path: path.display().to_string(),
                    error: e.to_string(),
                })?;
                let hash = (path.display().to_string(), body_hash(&body));
                if last == Some(&hash) {
                    return Ok(self.unchanged(&[]));
                }
                let state = State::parse(&body).map_err(|error| FetchError::State {
                    source: path.display().to_string(),
                    error,
                })?;
                self.last_body = Some(hash);
                (state, Vec::new(), body.len())
            }
            Source::Masters(_) | Source::Zk { .. } | Source::Events(_) => {
                let masters = self.masters();
                let fetched = self
                    .client
                    .load_changed(&self.fetch_order(&masters), last)?;
                let loaded = match fetched {
                    Fetched::Unchanged { master, .. } => {
                        self.shared.set_leader(&master);
                        self.last_served = Some(master);
                        return Ok(self.unchanged(&masters));
                    }
                    Fetched::Loaded(loaded, hash) => {
                        self.last_body = Some((loaded.master.clone(), hash));
                        loaded
                    }
                };
                // The master that served the state is the leader now.
                self.shared.set_leader(&loaded.master);
                self.last_served = Some(loaded.master.clone());
                (loaded.state, masters, loaded.bytes)
            }
        };
        let fetch = t0.elapsed();
        let t1 = Instant::now();
        let cold = live_on && self.live.is_none();
        let (update, records, skips) = match live_on {
            true => self.live_update(&state, &masters),
            false => {
                let g = generate(&state, &self.cfg.gen, &masters);
                let n = g.records.len();
                (Update::Full(g.records), n, g.skips)
            }
        };
        let gen = t1.elapsed();
        log::debug!("{records} records generated in {} ms", gen.as_millis());
        let status = &self.shared.status;
        status.skipped.store(skips.len() as u64, Ordering::Relaxed);
        status.set_skip_counts(count_by_reason(&skips));
        // The per-item reasons are logged at debug by generation; the
        // summary goes out at warn once per change, not on every tick.
        let summary = skip_summary(&skips);
        if summary != self.last_skips {
            if let Some(s) = &summary {
                log::warn!("state loaded with {s}");
            }
            self.last_skips = summary;
        }
        Ok(Some(Load {
            update,
            records,
            fetch,
            gen,
            bytes,
            fill: cold.then_some((state, masters)),
        }))
    }

    /// The body last loaded came again: only the master list may have
    /// changed the records.
    fn unchanged(&mut self, masters: &[String]) -> Option<Load> {
        let live = self.live.as_mut()?;
        if !matches!(self.cfg.source, Source::StateFile(_)) {
            let leader = live.leader().to_owned();
            live.set_masters(&leader, masters);
        }
        let delta = live.take_delta();
        if delta.is_empty() {
            return None;
        }
        let view = live.view();
        let records = view.len();
        Some(Load {
            update: Update::Delta {
                delta,
                view: Arc::new(view),
            },
            records,
            fetch: Duration::ZERO,
            gen: Duration::ZERO,
            bytes: 0,
            fill: None,
        })
    }

    /// The live store filled from a cold load's `state` once its full
    /// generation is published: the fill costs several times the
    /// generation at 100,000 tasks, and the first answer need not wait
    /// for it (the event source's resync does the same). The store's
    /// records equal the published ones, so the next load is a delta.
    /// Returns the store's view.
    fn fill_live(&mut self, state: State, masters: &[String]) -> Arc<dyn View> {
        let mut live = Live::new(&self.cfg.gen);
        live.set_tracking(false);
        live.load_owned(state, masters);
        live.set_tracking(true);
        let _ = live.take_delta();
        let view: Arc<dyn View> = Arc::new(live.view());
        self.live = Some(live);
        self.next_check = Instant::now() + self.cfg.refresh * CHECK_EVERY;
        view
    }

    /// `state` into the live store: the change as a delta, or, when there
    /// is no store yet, a full generation (the caller fills the store
    /// after publishing it). Every [`CHECK_EVERY`] refreshes the store is
    /// checked against a full generation, which wins if they differ.
    fn live_update(
        &mut self,
        state: &State,
        masters: &[String],
    ) -> (Update, usize, Vec<Skip>) {
        let update = match self.live.as_mut() {
            Some(live) => {
                live.load(state, masters);
                let delta = live.take_delta();
                Update::Delta {
                    delta,
                    view: Arc::new(live.view()),
                }
            }
            None => {
                let g = generate(state, &self.cfg.gen, masters);
                let n = g.records.len();
                return (Update::Full(g.records), n, g.skips);
            }
        };
        let Some(live) = self.live.as_mut() else {
            return (update, 0, Vec::new());
        };
        let view = live.view();
        let (records, skips) = (view.len(), view.skips());
        if Instant::now() < self.next_check {
            return (update, records, skips);
        }
        self.next_check = Instant::now() + self.cfg.refresh * CHECK_EVERY;
        let full = generate(state, &self.cfg.gen, masters);
        if view.record_set() == full.records {
            return (update, records, skips);
        }
        self.shared
            .status
            .live_differences
            .fetch_add(1, Ordering::Relaxed);
        log::warn!(
            "the live records differ from a full generation; publishing the full result"
        );
        let mut fresh = Live::new(&self.cfg.gen);
        fresh.set_tracking(false);
        fresh.load(state, masters);
        fresh.set_tracking(true);
        let _ = fresh.take_delta();
        self.live = Some(fresh);
        let n = full.records.len();
        (Update::Full(full.records), n, full.skips)
    }

    /// The order to ask masters in. With static masters, the one that last
    /// served comes first (mesos-dns always starts with the first entry, so
    /// a dead first master costs a connect, or a whole state timeout, on
    /// every tick). ZooKeeper's list is already leader first. Generation
    /// still gets the list in its configured order (`masterN` numbering).
    fn fetch_order(&self, masters: &[String]) -> Vec<String> {
        match (&self.cfg.source, &self.last_served) {
            (Source::Masters(_), Some(last)) => {
                let mut order = vec![last.clone()];
                order.extend(masters.iter().filter(|m| *m != last).cloned());
                order
            }
            _ => masters.to_vec(),
        }
    }

    fn masters(&self) -> Vec<String> {
        self.shared.masters(&self.cfg.source)
    }

    fn check_detection_timeout(&self) {
        self.shared.check_detection_timeout(
            &self.cfg.source,
            self.cfg.zk_detection_timeout,
            self.started,
        );
    }
}

fn file_stamp(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The wait after `failures` consecutive failures: 1 s, 2 s, 4 s ...,
/// never more than the refresh period.
fn backoff(failures: u64, refresh: Duration) -> Duration {
    let shift = u32::try_from(failures.saturating_sub(1).min(16)).unwrap_or(16);
    (FIRST_BACKOFF * (1u32 << shift)).min(refresh)
}

#[cfg(test)]
mod tests;
