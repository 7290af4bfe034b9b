//! One outgoing transfer: the messages of an AXFR or IXFR reply, written
//! one at a time as the client takes them (RFC 5936 section 2.2, RFC 1995
//! section 4).
//!
//! A transfer holds its table (an `Arc`), so one started before a swap
//! finishes on the version it started with, and a cursor into it: what it
//! costs per client is this small struct, never a copy of the zone. Each
//! message stops taking records once it passes [`TARGET`] octets, which
//! keeps every compression pointer within reach (they address the first
//! 16 KiB) and every message far under 64 KiB. Every message repeats the
//! question (RFC 5936 allows it), so the apex compresses everywhere.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use dns_wire::{
    write_opt, Compressor, Edns, Flags, Header, Opcode, Query, Rcode, Writer,
    DEFAULT_UDP_PAYLOAD, HEADER_LEN, MAX_NAME_LEN, OPT_LEN,
};
use mesos_records::delta::Record;

use super::{zone, Transfers};
use crate::table::Table;

/// Octets after which a message takes no more records.
pub(crate) const TARGET: usize = 16 * 1024;

/// Room for a message: [`TARGET`] plus the largest record (an SRV with
/// two 255-octet names) and an OPT record, with margin.
const ROOM: usize = TARGET + 2048;

/// What [`Outgoing::next_message`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A message was written; more follow.
    More,
    /// The last message was written.
    Done,
    /// Nothing was written: the table's record set is being built on a
    /// thread of its own (a table published from a delta builds it on
    /// first use); ask again a little later.
    Wait,
}

/// One part of a transfer, in order.
#[derive(Debug)]
enum Step {
    /// The apex SOA with this serial.
    Soa(u32),
    /// The apex NS.
    Ns,
    /// Every record of the table's record set, from name slot `slot` and
    /// the owner's `value`-th record on.
    Owners { slot: usize, value: usize },
    /// These records (a side of an IXFR difference), from `at` on.
    Records { list: Vec<Record>, at: usize },
    /// The static records (owner, type, TTL, RDATA), from `at` on.
    Statics {
        list: Vec<crate::statics::WireRecord>,
        at: usize,
    },
}

/// The messages of one transfer still to send.
#[derive(Debug)]
pub struct Outgoing {
    table: Arc<Table>,
    id: u16,
    rd: bool,
    question: Box<[u8]>,
    edns: Option<Edns>,
    steps: VecDeque<Step>,
    /// Lowercase keys of capital spellings taken (see `zone::served`).
    seen: HashSet<Box<[u8]>>,
    /// Records written so far, counted into `counters` at the end.
    records: u64,
    /// A thread building the table's record set was started.
    building: bool,
    counters: Arc<Transfers>,
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        self.counters
            .counters
            .records
            .fetch_add(self.records, Ordering::Relaxed);
    }
}

impl Outgoing {
    fn new(
        table: Arc<Table>,
        q: &Query<'_>,
        x: &Arc<Transfers>,
        steps: VecDeque<Step>,
    ) -> Self {
        Outgoing {
            table,
            id: q.header.id,
            rd: q.header.flags.rd(),
            question: q.question.into(),
            edns: q.response_edns(Rcode::NOERROR).map(|e| Edns {
                udp_payload: DEFAULT_UDP_PAYLOAD,
                ..e
            }),
            steps,
            seen: HashSet::new(),
            records: 0,
            building: false,
            counters: Arc::clone(x),
        }
    }

    /// The whole zone of `table` (RFC 5936): SOA, NS, every record, SOA.
    pub(crate) fn axfr(table: Arc<Table>, q: &Query<'_>, x: &Arc<Transfers>) -> Self {
        let serial = table.serial();
        let steps = [
            Step::Soa(serial),
            Step::Ns,
            Step::Owners { slot: 0, value: 0 },
            Step::Statics {
                list: table.statics.wire_records(),
                at: 0,
            },
            Step::Soa(serial),
        ];
        Outgoing::new(table, q, x, steps.into())
    }

    /// The differences from serial `from` to `table`'s (RFC 1995 section
    /// 4): SOA new, SOA old, the removed records, SOA new, the added ones,
    /// SOA new. `removed` and `added` are the condensed change.
    pub(crate) fn ixfr(
        table: Arc<Table>,
        q: &Query<'_>,
        x: &Arc<Transfers>,
        from: u32,
        removed: Vec<Record>,
        added: Vec<Record>,
    ) -> Self {
        let serial = table.serial();
        let steps = [
            Step::Soa(serial),
            Step::Soa(from),
            Step::Records {
                list: removed,
                at: 0,
            },
            Step::Soa(serial),
            Step::Records { list: added, at: 0 },
            Step::Soa(serial),
        ];
        Outgoing::new(table, q, x, steps.into())
    }

    /// The single current SOA (RFC 1995 section 2: the client is up to
    /// date, or ahead).
    pub(crate) fn single_soa(
        table: Arc<Table>,
        q: &Query<'_>,
        x: &Arc<Transfers>,
    ) -> Self {
        let serial = table.serial();
        Outgoing::new(table, q, x, [Step::Soa(serial)].into())
    }

    /// Appends the next message, framed with its two length octets, to
    /// `out`, unless the record set it needs is still being built.
    pub(crate) fn next(&mut self, out: &mut Vec<u8>) -> Next {
        let walks = matches!(self.steps.front(), Some(Step::Owners { .. }));
        if walks && !self.table.records_ready() {
            // Built once per table, off the DNS worker.
            if !self.building {
                self.building = true;
                let t = Arc::clone(&self.table);
                let spawned = std::thread::Builder::new().name("xfr-build".into()).spawn(
                    move || {
                        t.records();
                    },
                );
                if spawned.is_err() {
                    self.table.records();
                }
            }
            return Next::Wait;
        }
        match self.next_message(out) {
            true => Next::More,
            false => Next::Done,
        }
    }

    /// Appends the next message, framed with its two length octets, to
    /// `out`. Returns false once the last message is written.
    pub(crate) fn next_message(&mut self, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        out.resize(start + 2 + ROOM, 0);
        let n = match out.get_mut(start + 2..) {
            Some(buf) => self.write(buf),
            None => 0,
        };
        out.truncate(start + 2 + n);
        let len = u16::try_from(n).unwrap_or(0).to_be_bytes();
        if let Some(l) = out.get_mut(start..start + 2) {
            l.copy_from_slice(&len);
        }
        !self.steps.is_empty()
    }

    /// Writes one message into `buf`; returns its length.
    fn write(&mut self, buf: &mut [u8]) -> usize {
        let mut w = Writer::new(buf);
        let header = Header {
            id: self.id,
            flags: Flags(0)
                .with_qr(true)
                .with_aa(true)
                .with_rd(self.rd)
                .with_opcode(Opcode::QUERY)
                .with_rcode(Rcode::NOERROR),
            qdcount: 1,
            ancount: 0,
            nscount: 0,
            arcount: u16::from(self.edns.is_some()),
        };
        if header.write(&mut w).is_err() || w.bytes(&self.question).is_err() {
            return 0;
        }
        let mut c = Compressor::new();
        c.remember(HEADER_LEN);
        let limit = TARGET.min(w.capacity().saturating_sub(OPT_LEN + 600));
        let mut count: u16 = 0;
        let table = Arc::clone(&self.table);
        let apex: &[u8] = &table.apex;
        let z = table.zone();
        while let Some(step) = self.steps.front_mut() {
            let done = match step {
                Step::Soa(serial) => {
                    if w.len() >= limit {
                        break;
                    }
                    count += u16::from(zone::soa(&mut w, &mut c, apex, &z, *serial));
                    true
                }
                Step::Ns => {
                    if w.len() >= limit {
                        break;
                    }
                    count += u16::from(zone::ns(&mut w, &mut c, apex, &z));
                    true
                }
                Step::Owners { slot, value } => {
                    let records = table.records();
                    let mut buf = [0u8; MAX_NAME_LEN];
                    let mut full = false;
                    for (i, o) in records.owners_from(*slot) {
                        *slot = i;
                        // An owner resumed on a later message was taken
                        // already: its capital spelling is in `seen`.
                        let mut fresh = HashSet::new();
                        let seen = match *value {
                            0 => &mut self.seen,
                            _ => &mut fresh,
                        };
                        let Some(owner) =
                            zone::served(o.name, apex, || records, seen, &mut buf)
                        else {
                            *value = 0;
                            continue;
                        };
                        if zone::hidden(owner, &table.statics) {
                            *value = 0;
                            continue;
                        }
                        let n = zone::value_count(&o);
                        while *value < n {
                            if w.len() >= limit || count == u16::MAX {
                                full = true;
                                break;
                            }
                            count += u16::from(zone::owner_value(
                                &mut w, &mut c, owner, &z, &o, *value,
                            ));
                            *value += 1;
                        }
                        if full {
                            break;
                        }
                        *value = 0;
                        *slot = i + 1;
                    }
                    !full
                }
                Step::Records { list, at } => {
                    let mut buf = [0u8; MAX_NAME_LEN];
                    let mut full = false;
                    while let Some(r) = list.get(*at) {
                        if w.len() >= limit || count == u16::MAX {
                            full = true;
                            break;
                        }
                        let owner =
                            zone::record_owner(r, apex, || table.records(), &mut buf)
                                .filter(|o| !zone::hidden(o, &table.statics));
                        if let Some(owner) = owner {
                            count += u16::from(zone::value(
                                &mut w, &mut c, owner, &z, &r.value,
                            ));
                        }
                        *at += 1;
                    }
                    !full
                }
                Step::Statics { list, at } => {
                    let mut full = false;
                    while let Some((owner, rtype, ttl, rdata)) = list.get(*at) {
                        if w.len() >= limit || count == u16::MAX {
                            full = true;
                            break;
                        }
                        count += u16::from(zone::static_record(
                            &mut w, &mut c, owner, *rtype, *ttl, rdata,
                        ));
                        *at += 1;
                    }
                    !full
                }
            };
            if !done {
                break;
            }
            self.steps.pop_front();
        }
        self.records += u64::from(count);
        let _ = w.patch_u16(6, count);
        if let Some(e) = &self.edns {
            if write_opt(&mut w, e).is_err() {
                let _ = w.patch_u16(10, 0);
            }
        }
        w.len()
    }
}
