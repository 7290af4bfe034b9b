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
//! the primary's for the records mesos-dns serves (A, AAAA, SRV under the
//! domain; other types are left out). On failure it tries again after SOA
//! RETRY; after SOA EXPIRE without a successful check it stops answering
//! for the domain (SERVFAIL), as RFC 1034 expects of an expired zone, until
//! the primary is back.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dns_wire::{write_query, Class, Message, Name, Rcode, Rdata, Rtype, MAX_NAME_LEN};
use mesos_records::delta::{Record, Value};
use mesos_records::{RecordSet, RecordSetBuilder};
use mesos_sources::PollerStatus;

use super::{serial_ge, Transfers};
use crate::dns_config::DnsConfig;
use crate::stats::Stats;
use crate::table::{SharedTable, Table};

/// How long one exchange with a primary may take (each read).
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The zone as last transferred.
#[derive(Clone, Debug, Default)]
struct Zone {
    soa: Soa,
    ttl: Option<u32>,
    srv_weight: Option<u16>,
    records: BTreeSet<Record>,
}

/// The SOA values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Soa {
    mname: String,
    rname: String,
    serial: u32,
    refresh: u32,
    retry: u32,
    expire: u32,
    minimum: u32,
    ttl: u32,
}

/// One record of a transfer.
#[derive(Debug)]
enum Rr {
    Soa(Soa),
    Rec(Record, u32, Option<u16>),
}

/// Why a refresh failed.
#[derive(Debug)]
pub(crate) enum FollowError {
    /// No primary answered.
    Io(io::Error),
    /// A reply that is not a usable transfer.
    Bad(String),
}

impl std::fmt::Display for FollowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FollowError::Io(e) => write!(f, "{e}"),
            FollowError::Bad(m) => f.write_str(m),
        }
    }
}

impl From<io::Error> for FollowError {
    fn from(e: io::Error) -> Self {
        FollowError::Io(e)
    }
}

fn bad(m: impl Into<String>) -> FollowError {
    FollowError::Bad(m.into())
}

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
                let table = compile(cfg, &new);
                to.table.publish(table);
                let current = to.table.load();
                match zone.is_some() && old.is_loaded() && !expired {
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

/// The table of `zone`, with the primary's SOA values, TTL and SRV weight.
fn compile(base: &DnsConfig, zone: &Zone) -> Table {
    let cfg = DnsConfig {
        ttl: zone.ttl.unwrap_or(zone.soa.ttl),
        soa_mname: zone.soa.mname.clone(),
        soa_rname: zone.soa.rname.clone(),
        soa_refresh: zone.soa.refresh,
        soa_retry: zone.soa.retry,
        soa_expire: zone.soa.expire,
        soa_minttl: zone.soa.minimum,
        srv_weight: zone.srv_weight.unwrap_or(base.srv_weight),
        ..base.clone()
    };
    let mut b = RecordSetBuilder::new(false);
    for r in &zone.records {
        match &r.value {
            Value::A(ip) => b.insert_a(&r.name, *ip),
            Value::Aaaa(ip) => b.insert_aaaa(&r.name, *ip),
            Value::Srv { target, port } => b.insert_srv(&r.name, target, *port),
        }
    }
    let set: RecordSet = b.finish();
    Table::compile(Arc::new(set), &cfg, zone.soa.serial)
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

/// The primary's SOA serial, asked over UDP.
fn soa_serial(primary: SocketAddr, apex_text: &str) -> Result<u32, FollowError> {
    let bind = if primary.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(bind)?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut q = [0u8; 512];
    let id = fastrand::u16(..);
    let n = write_query(&mut q, id, apex_text, Rtype::SOA, None)
        .map_err(|e| bad(e.to_string()))?;
    sock.send_to(q.get(..n).unwrap_or_default(), primary)?;
    let mut buf = [0u8; 4096];
    for _ in 0..4 {
        let (len, from) = sock.recv_from(&mut buf)?;
        let Ok(m) = Message::parse(buf.get(..len).unwrap_or_default()) else {
            continue;
        };
        if from != primary || m.header.id != id {
            continue;
        }
        if m.rcode() != Rcode::NOERROR {
            return Err(bad(format!("SOA query answered {:?}", m.rcode())));
        }
        let soa = m.answers().find_map(|r| match r.rdata {
            Rdata::Soa(s) => Some(s.serial),
            _ => None,
        });
        return soa.ok_or_else(|| bad("no SOA in the answer"));
    }
    Err(bad("no answer to the SOA query"))
}

/// Asks for an IXFR from `have` (AXFR without one) and reads the reply's
/// records, in order, up to the closing SOA.
fn transfer(
    primary: SocketAddr,
    apex_text: &str,
    apex: &[u8],
    have: Option<u32>,
) -> Result<Vec<Rr>, FollowError> {
    let mut s = TcpStream::connect_timeout(&primary, IO_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut q = vec![0u8; 512];
    let id = fastrand::u16(..);
    let qtype = if have.is_some() {
        Rtype::IXFR
    } else {
        Rtype::AXFR
    };
    let n = write_query(&mut q, id, apex_text, qtype, None)
        .map_err(|e| bad(e.to_string()))?;
    q.truncate(n);
    if let Some(serial) = have {
        // The client's SOA in the authority section (RFC 1995 section 3).
        if let Some(c) = q.get_mut(9) {
            *c = 1;
        }
        q.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0]);
        q.extend_from_slice(&serial.to_be_bytes());
        q.extend_from_slice(&[0; 16]);
    }
    let len = u16::try_from(q.len()).unwrap_or(0).to_be_bytes();
    s.write_all(&len)?;
    s.write_all(&q)?;
    let mut out = Vec::new();
    let mut first: Option<u32> = None;
    let mut soas = 0usize;
    let mut incremental = None;
    loop {
        let mut l = [0u8; 2];
        s.read_exact(&mut l)?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(l))];
        s.read_exact(&mut msg)?;
        let m = Message::parse(&msg)
            .map_err(|e| bad(format!("bad transfer message: {e}")))?;
        if m.header.id != id {
            return Err(bad("transfer reply with another ID"));
        }
        if m.rcode() != Rcode::NOERROR {
            return Err(bad(format!("transfer answered {:?}", m.rcode())));
        }
        let count = m.header.ancount;
        for r in m.answers() {
            if r.class != Class::IN {
                continue;
            }
            let rr = match r.rdata {
                Rdata::Soa(x) => {
                    if !r.name.eq_wire(apex) {
                        continue;
                    }
                    Rr::Soa(Soa {
                        mname: text(&x.mname),
                        rname: text(&x.rname),
                        serial: x.serial,
                        refresh: x.refresh,
                        retry: x.retry,
                        expire: x.expire,
                        minimum: x.minimum,
                        ttl: r.ttl,
                    })
                }
                Rdata::A(ip) => {
                    Rr::Rec(Record::new(&text(&r.name), Value::A(ip)), r.ttl, None)
                }
                Rdata::Aaaa(ip) => {
                    Rr::Rec(Record::new(&text(&r.name), Value::Aaaa(ip)), r.ttl, None)
                }
                Rdata::Srv(x) => Rr::Rec(
                    Record::new(
                        &text(&r.name),
                        Value::Srv {
                            target: text(&x.target),
                            port: x.port,
                        },
                    ),
                    r.ttl,
                    Some(x.weight),
                ),
                _ => continue,
            };
            if let Rr::Soa(x) = &rr {
                soas += 1;
                match first {
                    None => first = Some(x.serial),
                    Some(_) if out.len() == 1 => incremental = Some(true),
                    Some(_) => {}
                }
            } else if out.len() == 1 {
                incremental = Some(false);
            }
            out.push(rr);
        }
        let Some(last) = first else {
            return Err(bad("transfer without a first SOA"));
        };
        // The single current SOA: nothing new (a primary behind us).
        if out.len() == 1 && count == 1 && have.is_some() {
            return Ok(out);
        }
        let closed = match (incremental, out.last()) {
            (Some(false), Some(Rr::Soa(x))) => x.serial == last && soas >= 2,
            // SOA new, (SOA old, removed, SOA new', added)+, SOA new: the
            // last difference opens with SOA new, and one more closes.
            (Some(true), Some(Rr::Soa(x))) => {
                x.serial == last && soas >= 4 && soas % 2 == 0
            }
            _ => false,
        };
        if closed {
            return Ok(out);
        }
    }
}

/// The zone after the transfer `rrs` from `zone`.
fn apply(zone: Option<&Zone>, rrs: Vec<Rr>) -> Result<Zone, FollowError> {
    let mut it = rrs.into_iter();
    let Some(Rr::Soa(top)) = it.next() else {
        return Err(bad("transfer without a first SOA"));
    };
    let rest: Vec<Rr> = it.collect();
    let incremental = matches!(rest.first(), Some(Rr::Soa(_)));
    let mut z = match (incremental, zone) {
        (true, Some(z)) => z.clone(),
        (true, None) => return Err(bad("incremental transfer without a zone")),
        (false, _) => Zone::default(),
    };
    if !incremental {
        for rr in rest {
            if let Rr::Rec(r, ttl, w) = rr {
                z.ttl.get_or_insert(ttl);
                if let Some(w) = w {
                    z.srv_weight.get_or_insert(w);
                }
                z.records.insert(r);
            }
        }
    } else {
        // Each difference: its old SOA (where the zone must be), the
        // records removed, its new SOA, the records added; the last SOA
        // closes the transfer.
        let n = rest.len();
        let (mut opened, mut adding) = (false, false);
        for (i, rr) in rest.into_iter().enumerate() {
            match rr {
                Rr::Soa(_) if i + 1 == n => break,
                Rr::Soa(x) if !opened || adding => {
                    if x.serial != z.soa.serial {
                        return Err(bad(format!(
                            "difference from serial {} while at {}",
                            x.serial, z.soa.serial
                        )));
                    }
                    (opened, adding) = (true, false);
                }
                Rr::Soa(x) => {
                    z.soa.serial = x.serial;
                    adding = true;
                }
                Rr::Rec(r, _, _) if adding => {
                    z.records.insert(r);
                }
                Rr::Rec(r, _, _) => {
                    z.records.remove(&r);
                }
            }
        }
    }
    z.soa = top;
    Ok(z)
}

/// A name as absolute text with a trailing dot (`a.b.` ; `.` for the
/// root), octets outside printable ASCII kept as they are.
fn text(n: &Name<'_>) -> String {
    let mut s = String::new();
    for l in n.labels() {
        s.push_str(&String::from_utf8_lossy(l));
        s.push('.');
    }
    if s.is_empty() {
        s.push('.');
    }
    s
}
