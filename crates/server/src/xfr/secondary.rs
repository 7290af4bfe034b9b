//! Secondary mode (`StateSource: "secondary"`): follow a primary's zone by
//! SOA refresh, NOTIFY and IXFR/AXFR (RFC 1034 section 4.3.5, RFC 1995,
//! RFC 1996, RFC 5936) instead of talking to Mesos.
//!
//! A thread asks the first of `Primaries` that answers for its SOA every
//! SOA REFRESH seconds (at once when a NOTIFY comes in), and on a new
//! serial asks for an IXFR from the serial it has (AXFR when it has none).
//! The reply, incremental or whole, is applied to the zone it keeps, and
//! the result compiled into a table and published as a state load would
//! be, with the primary's serial and SOA values: answers are the same as
//! the primary's for the types mesos-dns serves (A, AAAA, SRV, and the
//! TXT and CNAME of static records; the `zone` module says how each name
//! is served). On failure it tries again after SOA RETRY; after SOA
//! EXPIRE without a successful check it stops answering for the domain
//! (SERVFAIL), as RFC 1034 expects of an expired zone, until the primary
//! is back.

mod transfer;
mod zone;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dns_wire::MAX_NAME_LEN;
use mesos_sources::PollerStatus;

use super::{serial_ge, Transfers};
use crate::dns_config::DnsConfig;
use crate::stats::Stats;
use crate::table::{SharedTable, Table};
pub(crate) use transfer::FollowError;
use transfer::{bad, soa_serial, transfer};
use zone::{apply, Rest, Zone};

#[derive(Debug, Default)]
struct Wake {
    poked: bool,
    stop: bool,
}

/// The following thread; dropping it stops the thread.
#[derive(Debug)]
pub struct Follower {
    wake: Arc<(Mutex<Wake>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

/// What the follower publishes into.
pub struct Targets {
    /// The table the DNS workers answer from.
    pub table: Arc<SharedTable>,
    /// Transfers (its journal, so this secondary serves IXFR too).
    pub transfers: Arc<Transfers>,
    /// Load counters and the last success, for `/ready` and `/metrics`.
    pub status: Arc<PollerStatus>,
    /// Table swap counters.
    pub stats: Arc<Stats>,
}

impl Follower {
    /// Starts following `primaries` for `cfg.domain`.
    ///
    /// # Errors
    ///
    /// The thread could not start.
    pub fn spawn(
        cfg: DnsConfig,
        primaries: Vec<SocketAddr>,
        to: Targets,
    ) -> io::Result<Follower> {
        let wake = Arc::new((Mutex::new(Wake::default()), Condvar::new()));
        let w = Arc::clone(&wake);
        let thread = std::thread::Builder::new()
            .name("secondary".into())
            .spawn(move || follow(&cfg, &primaries, &to, &w))?;
        Ok(Follower {
            wake,
            thread: Some(thread),
        })
    }

    /// A NOTIFY came in: check the primary now.
    pub fn poke(&self) {
        let (m, cv) = &*self.wake;
        m.lock().unwrap_or_else(PoisonError::into_inner).poked = true;
        cv.notify_all();
    }

    /// A handle the DNS workers use to poke on NOTIFY.
    pub fn poker(&self) -> Poker {
        Poker(Arc::clone(&self.wake))
    }
}

/// Pokes a [`Follower`] (held by the DNS side).
#[derive(Clone, Debug)]
pub struct Poker(Arc<(Mutex<Wake>, Condvar)>);

impl Poker {
    /// A NOTIFY came in: check the primary now.
    pub fn poke(&self) {
        let (m, cv) = &*self.0;
        m.lock().unwrap_or_else(PoisonError::into_inner).poked = true;
        cv.notify_all();
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let (m, cv) = &*self.wake;
        m.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn follow(
    cfg: &DnsConfig,
    primaries: &[SocketAddr],
    to: &Targets,
    wake: &(Mutex<Wake>, Condvar),
) {
    let mut apex = [0u8; MAX_NAME_LEN];
    let apex_text = format!("{}.", cfg.domain.trim_end_matches('.'));
    let apex_len =
        dns_wire::name::from_dotted(&apex_text, &mut apex).map_or(1, |w| w.len());
    let apex = apex.get(..apex_len).unwrap_or(&[0]);
    let mut zone: Option<Zone> = None;
    let mut rest = Rest::default();
    let mut last_ok: Option<Instant> = None;
    let mut expired = false;
    let mut next = Instant::now();
    loop {
        {
            let (m, cv) = wake;
            let mut w = m.lock().unwrap_or_else(PoisonError::into_inner);
            while !w.stop && !w.poked && Instant::now() < next {
                let left = next.saturating_duration_since(Instant::now());
                w = cv
                    .wait_timeout(w, left)
                    .map_or_else(|p| p.into_inner().0, |r| r.0);
            }
            if w.stop {
                return;
            }
            w.poked = false;
        }
        let t0 = Instant::now();
        match refresh(primaries, &apex_text, apex, zone.as_ref()) {
            Ok(Some(new)) => {
                let old = to.table.load();
                let served = new.compile(cfg, &apex_text, apex);
                to.table.publish(served.table);
                let current = to.table.load();
                // The journal holds differences of the record set: a
                // change of the rest is told as a new zone.
                let same_rest = served.rest == rest;
                rest = served.rest;
                match zone.is_some() && old.is_loaded() && !expired && same_rest {
                    true => to.transfers.published(&old, &current),
                    false => to.transfers.reset(&current),
                }
                to.stats.table_swapped(Some(t0.elapsed()));
                to.status.loads.fetch_add(1, Ordering::Relaxed);
                to.status.publishes.fetch_add(1, Ordering::Relaxed);
                to.status
                    .records
                    .store(new.records.len() as u64, Ordering::Relaxed);
                log::info!(
                    "secondary: serving {} at serial {} ({} records)",
                    apex_text,
                    new.soa.serial,
                    new.records.len()
                );
                zone = Some(new);
                expired = false;
                ok(to, &mut last_ok);
            }
            Ok(None) => ok(to, &mut last_ok),
            Err(e) => {
                log::warn!("secondary: refresh of {apex_text} failed: {e}");
                to.status.failures.fetch_add(1, Ordering::Relaxed);
                to.status
                    .consecutive_failures
                    .fetch_add(1, Ordering::Relaxed);
                let expire = zone.as_ref().map_or(0, |z| z.soa.expire);
                let too_old = last_ok.is_some_and(|t| {
                    t.elapsed() >= Duration::from_secs(u64::from(expire))
                });
                if too_old && !expired {
                    log::warn!(
                        "secondary: {apex_text} expired after {expire}s without its primary: SERVFAIL"
                    );
                    to.table.publish(Table::empty(cfg));
                    expired = true;
                }
            }
        }
        let (refresh, retry) = zone
            .as_ref()
            .map_or((60, 10), |z| (z.soa.refresh, z.soa.retry));
        let wait = match last_ok {
            Some(t) if t.elapsed() < Duration::from_secs(1) => refresh,
            _ => retry,
        };
        next = Instant::now() + Duration::from_secs(u64::from(wait.max(1)));
    }
}

fn ok(to: &Targets, last_ok: &mut Option<Instant>) {
    *last_ok = Some(Instant::now());
    to.status.last_success_ms.store(now_ms(), Ordering::Relaxed);
    to.status.consecutive_failures.store(0, Ordering::Relaxed);
}

/// Checks the primaries in order; the new zone if the serial changed.
fn refresh(
    primaries: &[SocketAddr],
    apex_text: &str,
    apex: &[u8],
    zone: Option<&Zone>,
) -> Result<Option<Zone>, FollowError> {
    let mut last = bad("no primary configured");
    for p in primaries {
        match refresh_from(*p, apex_text, apex, zone) {
            Ok(z) => return Ok(z),
            Err(e) => last = FollowError::Bad(format!("{p}: {e}")),
        }
    }
    Err(last)
}

fn refresh_from(
    primary: SocketAddr,
    apex_text: &str,
    apex: &[u8],
    zone: Option<&Zone>,
) -> Result<Option<Zone>, FollowError> {
    let serial = soa_serial(primary, apex_text)?;
    if let Some(z) = zone {
        if serial_ge(z.soa.serial, serial) {
            return Ok(None);
        }
    }
    let rrs = transfer(primary, apex_text, apex, zone.map(|z| z.soa.serial))?;
    if rrs.len() == 1 {
        // The single SOA: nothing newer after all.
        return Ok(None);
    }
    apply(zone, rrs).map(Some)
}
