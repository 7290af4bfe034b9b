//! The event-stream state source (our extension, `StateSource: "events"`):
//! subscribe to the leading master's v1 operator API and keep the records
//! current from its events instead of refetching the whole state.
//!
//! One thread per connection reads RecordIO records and decodes them; the
//! subscriber thread applies them to a [`Cluster`] and publishes:
//!
//! - `POST /api/v1` `{"type":"SUBSCRIBE"}`; a non-leading master's redirect
//!   (`307`, `Location: //host:port/api/v1`) is followed, and the master that
//!   answers is the leader.
//! - `SUBSCRIBED` replaces the whole cluster (a full resync); later events
//!   change it in place. Bursts are coalesced: a change is published at once
//!   when nothing was published in the last [`EventSource::coalesce`],
//!   otherwise when that window ends, so the last change is never lost.
//! - No record for three heartbeat intervals, a closed or corrupt stream, or
//!   a garbage record end the session: reconnect with backoff (100 ms
//!   doubling to 5 s) and resync from a new `SUBSCRIBED`. The last good
//!   records stay published meanwhile.
//! - A leader change reported by ZooKeeper, or a reconcile whose state names
//!   another leader, resubscribes to the new leader.
//! - Reconcile: right after subscribing and then every `RefreshSeconds`,
//!   `/master/state` is fetched from the same master. Framework `pid`s (which
//!   v1 events lack) are learned from it. Records that differ from the
//!   event-built ones are checked again 2 s later (events in flight); a
//!   difference that stays is counted ([`EventStatus::reconcile_differences`]),
//!   logged, the polled records are published and the stream resubscribes.

use std::io::{BufReader, Read};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_records::hostport::host_port;
use mesos_records::Live;
use ureq::tls::{RootCerts, TlsConfig};

use crate::event::{Cluster, Event};
use crate::fetch::{basic_header, same_address, Auth, StateClient};
use crate::recordio::RecordReader;
use crate::shared::{unix_ms, SourceShared};
use crate::source::{EventSource, PollerConfig, Source};
use crate::status::EventStatus;
use crate::update::Update;

mod live;
mod publish;
mod reconcile;

use reconcile::Reconciled;

/// Heartbeats missed before the stream counts as stalled.
const MISSED_HEARTBEATS: u32 = 3;
/// First reconnect delay; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest reconnect delay.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often the subscriber checks for stop and leader changes.
const TICK: Duration = Duration::from_millis(100);
/// Delay before a reconcile difference is checked again.
const CONFIRM_AFTER: Duration = Duration::from_secs(2);
/// Redirects followed to find the leader.
const MAX_REDIRECTS: usize = 4;
/// Decoded events buffered between the reader and the subscriber.
const CHANNEL: usize = 4096;

/// How a session ended without an error.
enum End {
    Stop,
    Resubscribe(String),
}

enum Msg {
    /// An event, when its record was read, and the record's size.
    Event(Event, Instant, usize),
    /// A record of more than [`LARGE`] bytes, decoded by the subscriber.
    Large(Vec<u8>, Instant),
    Failed(String),
}

/// Records longer than this (a `SUBSCRIBED` of a large cluster) are
/// decoded on the subscriber's thread: what decoding allocates and frees
/// then goes back to the allocator arena the live store is built from,
/// instead of staying with the reader's thread (glibc keeps an arena's
/// freed memory for that arena).
const LARGE: usize = 1 << 20;

impl Msg {
    /// A [`Msg::Large`] decoded.
    fn decoded(self, master: &str) -> Msg {
        match self {
            Msg::Large(record, at) => match Event::parse(&record) {
                Ok(e) => Msg::Event(e, at, record.len()),
                Err(e) => Msg::Failed(format!("{master}: {e}")),
            },
            other => other,
        }
    }
}

/// Runs the subscriber until stop. Called on the poller's thread.
pub(crate) fn run(
    cfg: PollerConfig,
    shared: Arc<SourceShared>,
    publish: impl FnMut(Update),
) {
    let ev = match &cfg.source {
        Source::Events(ev) => ev.as_ref().clone(),
        _ => return,
    };
    let mut sub = Subscriber {
        client: StateClient::new(cfg.http.clone()),
        agent: stream_agent(&cfg),
        cluster: Cluster::default(),
        leader_pid: None,
        last_problem: None,
        live: None,
        next_check: Instant::now(),
        build_after: None,
        unusable: None,
        publish,
        ev,
        cfg,
        shared,
    };
    sub.run();
}

struct Subscriber<P> {
    cfg: PollerConfig,
    ev: EventSource,
    shared: Arc<SourceShared>,
    client: StateClient,
    agent: ureq::Agent,
    cluster: Cluster,
    /// The leader's pid as `/master/state` gives it, once reconciled.
    leader_pid: Option<(String, String)>,
    last_problem: Option<String>,
    /// The live record store, when the generation settings allow it
    /// ([`Live::supports`]); built at the first publish after a subscribe.
    live: Option<Live>,
    /// When the live store is next checked against a full generation.
    next_check: Instant,
    /// Build the live store at the end of this turn of the loop (a
    /// resync's records go out whole first), from what was published.
    build_after: Option<live::AsPublished>,
    /// Why the cluster has nothing usable ([`Cluster::unusable`]): while
    /// it does, nothing is published and the served records stay.
    unusable: Option<String>,
    publish: P,
}

fn stream_agent(cfg: &PollerConfig) -> ureq::Agent {
    let http = &cfg.http;
    let mut tls = TlsConfig::builder();
    if http.https {
        match &http.tls.ca {
            Some(ca) => tls = tls.root_certs(RootCerts::new_with_certs(ca)),
            None => tls = tls.disable_verification(true),
        }
        tls = tls.client_cert(http.tls.client.clone());
    }
    ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        // As for /master/state: masters are reached directly, never
        // through an `http_proxy` from the environment.
        .proxy(None)
        .user_agent("Mesos-DNS")
        .max_redirects(0)
        .timeout_connect(Some(http.timeout))
        .timeout_recv_response(Some(http.timeout))
        .build()
        .new_agent()
}

impl<P: FnMut(Update)> Subscriber<P> {
    fn status(&self) -> &EventStatus {
        &self.shared.status.events
    }

    fn run(&mut self) {
        let started = Instant::now();
        let mut failures: u32 = 0;
        while !self.shared.stopping() {
            let masters = self.masters();
            if masters.iter().all(String::is_empty) {
                self.shared.check_detection_timeout(
                    &self.cfg.source,
                    self.cfg.zk_detection_timeout,
                    started,
                );
                self.shared.sleep(TICK);
                continue;
            }
            let result = self.session(&masters);
            self.status().subscribed.store(false, Ordering::Relaxed);
            match result {
                Ok(End::Stop) => break,
                Ok(End::Resubscribe(why)) => {
                    log::info!("event stream: resubscribing: {why}");
                    failures = 0;
                }
                Err((e, was_subscribed)) => {
                    self.status()
                        .stream_failures
                        .fetch_add(1, Ordering::Relaxed);
                    if was_subscribed {
                        failures = 0;
                    }
                    failures += 1;
                    if self.last_problem.as_deref() != Some(e.as_str()) {
                        log::warn!(
                            "event stream: {e}; keeping the last records, resubscribing"
                        );
                        self.last_problem = Some(e);
                    }
                    let shift = failures.saturating_sub(1).min(10);
                    self.shared
                        .sleep((FIRST_BACKOFF * (1u32 << shift)).min(MAX_BACKOFF));
                }
            }
        }
    }

    fn masters(&self) -> Vec<String> {
        self.shared.masters(&self.cfg.source)
    }

    /// Subscribes to the first master that answers and follows the stream.
    /// `Err` carries whether `SUBSCRIBED` had arrived.
    fn session(&mut self, masters: &[String]) -> Result<End, (String, bool)> {
        let mut last_err = String::from("no usable master address");
        let mut found = None;
        for m in masters.iter().filter(|m| host_port(m).is_some()) {
            match self.connect(m, masters) {
                Ok(c) => {
                    found = Some(c);
                    break;
                }
                Err(e) => last_err = e,
            }
        }
        let Some((master, body)) = found else {
            return Err((last_err, false));
        };
        let detected = masters.first().cloned().unwrap_or_default();
        self.shared.set_leader(&master);
        let rx = spawn_reader(body, &master, self.cfg.http.max_body);
        self.follow(&master, &detected, &rx)
    }

    /// POSTs SUBSCRIBE, following redirects to the leader. Credentials go
    /// only to a master of `known` (configured or detected), never to one
    /// a redirect names on its own.
    fn connect(
        &self,
        first: &str,
        known: &[String],
    ) -> Result<(String, Box<dyn Read + Send>), String> {
        let scheme = if self.cfg.http.https { "https" } else { "http" };
        let mut target = first.to_owned();
        for _ in 0..MAX_REDIRECTS {
            let url = format!("{scheme}://{target}/api/v1");
            let mut req = self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json");
            let trusted = known.iter().any(|k| same_address(k, &target));
            match &self.cfg.http.auth {
                _ if !trusted => {}
                Auth::None => {}
                Auth::Basic { principal, secret } => {
                    req = req.header("Authorization", basic_header(principal, secret));
                }
                Auth::Iam(iam) => {
                    let token = iam
                        .login(&self.agent, self.cfg.http.timeout)
                        .map_err(|e| e.to_string())?;
                    req = req.header("Authorization", format!("token={token}"));
                }
            }
            let read_timeout = self.ev.heartbeat * MISSED_HEARTBEATS;
            let resp = req
                .config()
                .timeout_per_read(Some(read_timeout))
                .build()
                .send(r#"{"type":"SUBSCRIBE"}"#)
                .map_err(|e| format!("POST {url}: {e}"))?;
            let status = resp.status().as_u16();
            match status {
                200 => {
                    let body = resp.into_body().into_reader();
                    return Ok((target, Box::new(body)));
                }
                301 | 302 | 303 | 307 | 308 => {
                    let next = resp
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .and_then(location_address)
                        .ok_or_else(|| {
                            format!("POST {url}: HTTP {status} without a usable Location")
                        })?;
                    log::debug!(
                        "event stream: {target} is not the leader; following to {next}"
                    );
                    target = next;
                }
                _ => return Err(format!("POST {url}: HTTP status {status}")),
            }
        }
        Err(format!(
            "SUBSCRIBE from {first}: more than {MAX_REDIRECTS} redirects"
        ))
    }

    /// Follows one subscribed stream until it ends.
    fn follow(
        &mut self,
        master: &str,
        detected: &str,
        rx: &Receiver<Msg>,
    ) -> Result<End, (String, bool)> {
        let fail = |e: String, subscribed: bool| Err((e, subscribed));
        // The first record must be SUBSCRIBED, within the state timeout.
        let until = Instant::now() + self.cfg.http.timeout;
        let first = loop {
            match rx.recv_timeout(TICK) {
                Err(RecvTimeoutError::Timeout)
                    if Instant::now() < until && !self.shared.stopping() => {}
                other => break other.map(|m| m.decoded(master)),
            }
        };
        if self.shared.stopping() {
            return Ok(End::Stop);
        }
        let heartbeat = match first {
            Ok(Msg::Event(
                Event::Subscribed {
                    snapshot,
                    heartbeat,
                },
                _,
                bytes,
            )) => {
                self.shared
                    .status
                    .state_bytes
                    .store(bytes as u64, Ordering::Relaxed);
                self.cluster.reset(snapshot);
                heartbeat.unwrap_or(self.ev.heartbeat)
            }
            Ok(Msg::Large(..)) => {
                return fail(format!("{master}: no SUBSCRIBED event"), false)
            }
            Ok(Msg::Event(other, ..)) => {
                return fail(
                    format!("{master}: first event is not SUBSCRIBED: {other:?}"),
                    false,
                )
            }
            Ok(Msg::Failed(e)) => return fail(e, false),
            Err(_) => return fail(format!("{master}: no SUBSCRIBED event"), false),
        };
        let status = Arc::clone(&self.shared.status);
        status.events.events.fetch_add(1, Ordering::Relaxed);
        status.events.subscriptions.fetch_add(1, Ordering::Relaxed);
        status.events.subscribed.store(true, Ordering::Relaxed);
        if self.last_problem.take().is_some() {
            log::info!("event stream: subscribed to {master} again");
        } else {
            log::info!("event stream: subscribed to {master} (heartbeat {heartbeat:?})");
        }
        let stall = heartbeat * MISSED_HEARTBEATS;
        let refresh = self.cfg.refresh.max(Duration::from_millis(100));
        let mut last_msg = Instant::now();
        let mut last_publish: Option<Instant> = None;
        let mut pending: Vec<Instant> = Vec::new();
        let mut dirty = true;
        let mut next_reconcile = Instant::now();
        let mut suspect = false;
        loop {
            let now = Instant::now();
            let publish_at = match (dirty, last_publish) {
                (false, _) => None,
                (true, None) => Some(now),
                (true, Some(t)) => Some(t + self.ev.coalesce),
            };
            let mut wake = (now + TICK).min(last_msg + stall).min(next_reconcile);
            if let Some(at) = publish_at {
                wake = wake.min(at);
            }
            let first = match rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    return fail(format!("{master}: event stream ended"), true)
                }
            };
            let mut msgs = first
                .into_iter()
                .chain(std::iter::from_fn(|| rx.try_recv().ok()));
            for msg in msgs.by_ref().take(CHANNEL) {
                last_msg = Instant::now();
                match msg.decoded(master) {
                    Msg::Large(..) => {}
                    Msg::Failed(e) => return fail(e, true),
                    Msg::Event(e, at, bytes) => {
                        status.events.events.fetch_add(1, Ordering::Relaxed);
                        if matches!(e, Event::Subscribed { .. }) {
                            status.state_bytes.store(bytes as u64, Ordering::Relaxed);
                        }
                        if matches!(e, Event::Heartbeat) {
                            status.last_success_ms.store(unix_ms(), Ordering::Relaxed);
                        }
                        let resync = matches!(e, Event::Subscribed { .. });
                        if self.cluster.apply(e) {
                            dirty = true;
                            if !resync {
                                pending.push(at);
                            }
                        }
                    }
                }
            }
            if self.shared.stopping() {
                return Ok(End::Stop);
            }
            if let Some(list) = self.shared.detected() {
                let now_leader = list.first().cloned().unwrap_or_default();
                if !now_leader.is_empty() && now_leader != detected {
                    return Ok(End::Resubscribe(format!(
                        "ZooKeeper reports a new leader {now_leader}"
                    )));
                }
            }
            let now = Instant::now();
            if now >= last_msg + stall {
                return fail(
                    format!("{master}: no event for {stall:?} (3 heartbeats)"),
                    true,
                );
            }
            let due = last_publish.is_none_or(|t| now >= t + self.ev.coalesce);
            if dirty && due {
                self.publish_events(master);
                let done = Instant::now();
                for at in pending.drain(..) {
                    status
                        .events
                        .latency
                        .observe(done.saturating_duration_since(at));
                }
                dirty = false;
                last_publish = Some(done);
            }
            if now >= next_reconcile {
                match self.reconcile(master, suspect) {
                    Reconciled::Same => {
                        suspect = false;
                        next_reconcile = Instant::now() + refresh;
                    }
                    Reconciled::Learned => {
                        suspect = false;
                        dirty = true;
                        next_reconcile = Instant::now() + refresh;
                    }
                    Reconciled::Suspect => {
                        suspect = true;
                        next_reconcile = Instant::now() + CONFIRM_AFTER;
                    }
                    Reconciled::Failed => {
                        next_reconcile = Instant::now() + refresh.min(CONFIRM_AFTER * 5);
                    }
                    Reconciled::Resubscribe(why) => return Ok(End::Resubscribe(why)),
                }
            }
            // After a resync's whole publish and the reconcile due right
            // after subscribing: what that reconcile frees is then reused
            // by the store instead of adding to the peak (at 100,000 tasks
            // about 100 MB).
            if self.build_after.is_some() {
                self.build_live(master);
            }
        }
    }

    fn leader_text(&self, master: &str) -> String {
        match &self.leader_pid {
            Some((addr, pid)) if addr == master => pid.clone(),
            _ => format!("master@{master}"),
        }
    }
}

/// The `host:port` of a redirect `Location`: `//host:port/api/v1` or
/// `http(s)://host:port/...`.
fn location_address(location: &str) -> Option<String> {
    let rest = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
        .or_else(|| location.strip_prefix("//"))?;
    let addr = rest.split('/').next()?;
    host_port(addr).map(|_| addr.to_owned())
}

/// Starts the thread that reads and decodes one stream. It ends on the
/// first error, at the end of the stream, or when the subscriber is gone.
fn spawn_reader(body: Box<dyn Read + Send>, master: &str, limit: u64) -> Receiver<Msg> {
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    let master = master.to_owned();
    let spawned = std::thread::Builder::new()
        .name("event-reader".into())
        .spawn(move || read_stream(body, &master, limit, &tx));
    if let Err(e) = spawned {
        log::warn!("event stream: cannot start a reader thread: {e}");
    }
    rx
}

fn read_stream(
    body: Box<dyn Read + Send>,
    master: &str,
    limit: u64,
    tx: &SyncSender<Msg>,
) {
    let mut reader = RecordReader::new(BufReader::new(body), limit);
    loop {
        let msg = match reader.next_record() {
            Ok(Some(record)) if record.len() > LARGE => {
                Msg::Large(record, Instant::now())
            }
            Ok(Some(record)) => match Event::parse(&record) {
                Ok(e) => Msg::Event(e, Instant::now(), record.len()),
                Err(e) => Msg::Failed(format!("{master}: {e}")),
            },
            Ok(None) => Msg::Failed(format!("{master}: event stream closed")),
            Err(e) => Msg::Failed(format!("{master}: {e}")),
        };
        let last = matches!(msg, Msg::Failed(_));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_records_are_decoded_by_the_subscriber() {
        let at = Instant::now();
        let ok = Msg::Large(br#"{"type":"HEARTBEAT"}"#.to_vec(), at).decoded("m");
        assert!(matches!(ok, Msg::Event(Event::Heartbeat, t, 20) if t == at));
        let bad = Msg::Large(b"{".to_vec(), at).decoded("m");
        assert!(matches!(bad, Msg::Failed(e) if e.starts_with("m: ")));
    }

    #[test]
    fn location_forms_give_the_leader_address() {
        assert_eq!(
            location_address("//10.0.0.2:5050/api/v1").as_deref(),
            Some("10.0.0.2:5050")
        );
        assert_eq!(
            location_address("http://m2.example:5050/api/v1").as_deref(),
            Some("m2.example:5050")
        );
        assert_eq!(location_address("/api/v1"), None);
        assert_eq!(location_address("//nohost/api/v1"), None);
    }
}
