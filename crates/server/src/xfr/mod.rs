//! Zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) of the served
//! domain over TCP, to the clients `TransferAllow` lists.
//!
//! A transfer query on a TCP connection becomes an [`Outgoing`] stream
//! held by the connection, which writes the next message each time the
//! client has taken the previous ones (see [`crate::tcp`]): a worker never
//! blocks on a transfer, and the zone is never copied per client. The
//! stream pins the table it started on.
//!
//! Replies, in order:
//!
//! - a client outside `TransferAllow` (empty by default): REFUSED, counted;
//! - a name other than the apex, or a class other than IN: NOTAUTH;
//! - before the first state load: SERVFAIL;
//! - AXFR: the whole zone, SOA first and last;
//! - IXFR (the client's SOA in the authority section): its serial the
//!   current one or ahead, the single current SOA; a serial the
//!   [`Journal`] holds, the condensed difference; any other, the whole
//!   zone, AXFR style. Over UDP the answer function gives the SOA
//!   (RFC 1995 section 2).

mod journal;
mod notify;
pub mod secondary;
mod stream;
mod zone;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use dns_wire::{
    parse_query, write_error, Class, Message, Opcode, Rcode, Rdata, Rtype, MAX_NAME_LEN,
};
use mesos_records::Delta;

pub use journal::{Journal, DEFAULT_BYTES, DEFAULT_VERSIONS};
pub use notify::Notifier;
pub(crate) use stream::Next;
pub use stream::Outgoing;

use crate::client::{self, Cidr};
use crate::table::Table;

pub use crate::stats::TransferCounters as Counters;

/// The transfer settings and state the DNS workers and the publisher
/// share.
#[derive(Debug)]
pub struct Transfers {
    allow: Vec<Cidr>,
    journal: Mutex<Journal>,
    /// What was sent and refused.
    pub counters: Arc<Counters>,
    /// Sends NOTIFY to `NotifySecondaries` (none when the list is empty).
    notifier: Option<Notifier>,
    /// In secondary mode: the primaries whose NOTIFY is heard, and the
    /// follower it wakes.
    follower: std::sync::OnceLock<(Vec<IpAddr>, secondary::Poker)>,
}

/// What a transfer query gets.
#[derive(Debug)]
pub(crate) enum Start {
    /// One message of `len` octets, written in the output buffer (a
    /// refusal).
    Reply {
        len: usize,
        rcode: Rcode,
        qtype: u16,
    },
    /// A stream of messages.
    Stream(Box<Outgoing>),
}

impl Transfers {
    /// Transfers allowed to `allow`, with a journal of `versions`
    /// differences and `bytes` octets at most, counted into `counters`
    /// (the server's [`Stats`](crate::stats::Stats) hold them).
    pub fn new(
        allow: Vec<Cidr>,
        versions: usize,
        bytes: usize,
        counters: Arc<Counters>,
    ) -> Self {
        Transfers {
            allow,
            journal: Mutex::new(Journal::new(versions, bytes)),
            counters,
            notifier: None,
            follower: std::sync::OnceLock::new(),
        }
    }

    /// Secondary mode: a NOTIFY for the zone from one of `primaries`
    /// wakes `poker`'s follower (RFC 1996 section 3.11).
    pub fn hear_notify(&self, primaries: Vec<IpAddr>, poker: secondary::Poker) {
        let _ = self.follower.set((primaries, poker));
    }

    /// Answers a NOTIFY (`msg`, OPCODE 4) from `peer` in secondary mode
    /// into `out`: NOERROR and a refresh from a primary for the apex,
    /// REFUSED from anyone else. `None` outside secondary mode (the answer
    /// function says NOTIMP) or for a message that is not a NOTIFY.
    pub(crate) fn notify_in(
        &self,
        table: &Table,
        msg: &[u8],
        peer: IpAddr,
        out: &mut [u8],
    ) -> Option<usize> {
        let (primaries, poker) = self.follower.get()?;
        let q = parse_query(msg).ok()?;
        if q.header.flags.qr() || q.header.flags.opcode() != Opcode::NOTIFY {
            return None;
        }
        let mut lower = [0u8; MAX_NAME_LEN];
        let ours = q.qname.to_lowercase(&mut lower) == &*table.apex;
        let rcode = match (primaries.contains(&peer), ours) {
            (true, true) => {
                poker.poke();
                Rcode::NOERROR
            }
            (true, false) => Rcode::NOTAUTH,
            (false, _) => Rcode::REFUSED,
        };
        write_error(&q, rcode, out).ok()
    }

    /// Sends NOTIFY to `targets` on every serial change.
    pub fn with_notify(mut self, targets: Vec<SocketAddr>) -> Self {
        self.notifier = Notifier::start(targets, Arc::clone(&self.counters));
        self
    }

    /// No client may transfer (the default).
    pub fn none(counters: Arc<Counters>) -> Self {
        Transfers::new(Vec::new(), DEFAULT_VERSIONS, DEFAULT_BYTES, counters)
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the change from table `old` to table `new` (called by the
    /// publisher): its difference in the journal, and a NOTIFY.
    pub fn published(&self, old: &Table, new: &Table) {
        let (from, to) = (old.serial(), new.serial());
        if from == to {
            return;
        }
        self.push(from, to, || old.records().diff(new.records()));
        self.notify(new);
    }

    /// Records the change `delta` from table `old` to table `new` (a
    /// publisher of deltas): no record set is compared.
    pub fn published_delta(&self, old: &Table, new: &Table, delta: &Delta) {
        let (from, to) = (old.serial(), new.serial());
        if from == to {
            return;
        }
        self.push(from, to, || delta.clone());
        self.notify(new);
    }

    fn notify(&self, new: &Table) {
        if let Some(n) = &self.notifier {
            n.changed(&new.apex, new.serial());
        }
    }

    /// Adds the difference `delta` makes to the journal, only when some
    /// client may transfer (`TransferAllow` is not empty; it changes only
    /// with a restart). Otherwise no IXFR can ever read the journal, and
    /// keeping it cost up to its byte bound (16 MB by default) and, on
    /// the full path, a comparison of the whole record sets on every
    /// publish: `delta` is not made.
    fn push(&self, from: u32, to: u32, delta: impl FnOnce() -> Delta) {
        if !self.allow.is_empty() {
            self.journal().push(from, to, delta());
        }
    }

    /// The zone changed in a way the journal cannot say (a reload changed
    /// the SOA or NS, the first load): later IXFRs from before `new` get
    /// the whole zone.
    pub fn reset(&self, new: &Table) {
        self.journal().clear();
        self.notify(new);
    }

    /// Differences held and their estimated octets.
    pub fn journal_size(&self) -> (usize, usize) {
        let j = self.journal();
        (j.len(), j.bytes())
    }

    /// Handles `msg` from `peer` if it is a transfer query (QTYPE AXFR or
    /// IXFR); `None` leaves it to the answer function. A refusal is
    /// written to `out`.
    pub(crate) fn start(
        self: &Arc<Self>,
        table: &Arc<Table>,
        msg: &[u8],
        peer: IpAddr,
        out: &mut [u8],
    ) -> Option<Start> {
        let q = parse_query(msg).ok()?;
        let flags = q.header.flags;
        if flags.qr()
            || flags.opcode() != Opcode::QUERY
            || !(q.qtype == Rtype::AXFR || q.qtype == Rtype::IXFR)
            || q.edns.is_some_and(|e| e.version > 0)
        {
            return None;
        }
        let reply = |rcode: Rcode, out: &mut [u8]| {
            let len = write_error(&q, rcode, out).ok()?;
            Some(Start::Reply {
                len,
                rcode,
                qtype: q.qtype.0,
            })
        };
        if !client::allowed(&self.allow, peer) {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return reply(Rcode::REFUSED, out);
        }
        let mut lower = [0u8; MAX_NAME_LEN];
        if q.qname.to_lowercase(&mut lower) != &*table.apex || q.qclass != Class::IN {
            return reply(Rcode::NOTAUTH, out);
        }
        if !table.is_loaded() {
            return reply(Rcode::SERVFAIL, out);
        }
        let table = Arc::clone(table);
        let current = table.serial();
        let stream = if q.qtype == Rtype::AXFR {
            self.counters.axfr.fetch_add(1, Ordering::Relaxed);
            Outgoing::axfr(table, &q, self)
        } else {
            let Some(from) = client_serial(msg) else {
                return reply(Rcode::FORMERR, out);
            };
            if serial_ge(from, current) {
                self.counters.up_to_date.fetch_add(1, Ordering::Relaxed);
                Outgoing::single_soa(table, &q, self)
            } else {
                let delta = self.journal().since(from, current);
                match delta {
                    Some(d) => {
                        self.counters.ixfr.fetch_add(1, Ordering::Relaxed);
                        Outgoing::ixfr(table, &q, self, from, d.removed, d.added)
                    }
                    None => {
                        self.counters.axfr.fetch_add(1, Ordering::Relaxed);
                        Outgoing::axfr(table, &q, self)
                    }
                }
            }
        };
        Some(Start::Stream(Box::new(stream)))
    }
}

/// The serial of the SOA in an IXFR query's authority section.
fn client_serial(msg: &[u8]) -> Option<u32> {
    let m = Message::parse(msg).ok()?;
    let soa = m.authority().find_map(|r| match r.rdata {
        Rdata::Soa(s) => Some(s.serial),
        _ => None,
    });
    soa
}

/// `a` equals `b` or is ahead of it in serial number arithmetic
/// (RFC 1982).
pub(crate) fn serial_ge(a: u32, b: u32) -> bool {
    a == b || (a.wrapping_sub(b) as i32) > 0
}

#[cfg(test)]
mod tests;
