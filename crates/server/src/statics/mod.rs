//! Static records: `StaticZoneFile`, an RFC 1035 master file whose records
//! inside the domain are served beside the Mesos records (issue 20).
//!
//! - **Reading.** [`parse()`] reads the file (`$ORIGIN` defaults to the
//!   domain, `$TTL` to `TTL`); [`Statics::build`] keeps the records inside
//!   the domain (others are logged and left out) and rejects a name with a
//!   CNAME and other data (RFC 1034 section 3.6.2). The file is read at
//!   startup and again whenever it changes ([`watch`]); a file that does
//!   not read keeps the records of the last good one, with one error line.
//! - **Collisions.** A static name hides the Mesos records of the same name
//!   (every type): the file is the operator's word, and a task must not be
//!   able to take over a name the operator set by being called like it.
//!   Each publish logs the static names that hide Mesos names, once per
//!   change of that list.
//! - **Answers.** A static name answers from the file alone: its records of
//!   the type asked (ANY: all), else NODATA with the apex SOA. A CNAME is
//!   followed as RFC 1034 section 4.3.2 says: the CNAME, then the target's
//!   records of the type asked, through more static CNAMEs (at most 8), and
//!   into the Mesos records for A and AAAA; a target outside the domain, or
//!   a Mesos target for another type, is left to the resolver. Names above
//!   a static name are empty non-terminals (NODATA, RFC 8020).
//! - `/v1/axfr` lists the static records beside the Mesos ones, and so
//!   does an AXFR over DNS (the Mesos records of a static name left out,
//!   as the answers leave them). IXFR differences carry the Mesos records
//!   only (the journal follows their deltas); a change of the file gives
//!   the zone a new serial, empties the journal (an IXFR from before it
//!   gets the whole zone) and notifies the secondaries.

mod answer;
mod parse;
pub mod watch;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::{Rtype, MAX_NAME_LEN};

pub use parse::{parse, Data, StaticRecord};

/// The static records in force, shared by the settings of every table.
#[derive(Clone, Default)]
pub struct StaticHandle(Arc<ArcSwap<Statics>>);

impl fmt::Debug for StaticHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaticHandle({} records)", self.0.load().records.len())
    }
}

impl StaticHandle {
    /// The records in force.
    pub fn load(&self) -> Arc<Statics> {
        self.0.load_full()
    }

    /// Puts `s` in force (tables built from now on serve it).
    pub fn store(&self, s: Statics) {
        self.0.store(Arc::new(s));
    }
}

/// One static record in wire form: owner (lowercase), type, TTL, RDATA.
pub(crate) type WireRecord = (Box<[u8]>, Rtype, u32, Box<[u8]>);

/// CNAMEs followed in one answer at most.
const MAX_CHAIN: usize = 8;

/// One record, ready to write after its owner.
#[derive(Clone, Debug)]
struct Rr {
    rtype: Rtype,
    ttl: u32,
    rdata: Box<[u8]>,
}

/// The records of one static name.
#[derive(Clone, Debug, Default)]
struct Node {
    rrs: Vec<Rr>,
    /// The CNAME's target, lowercase wire (its record is in `rrs`).
    cname: Option<Box<[u8]>>,
}

/// The static records in force.
#[derive(Debug, Default)]
pub struct Statics {
    /// Every record kept, in file order.
    pub records: Vec<StaticRecord>,
    names: HashMap<Box<[u8]>, Node>,
    /// Names above a static name, up to the apex (empty non-terminals).
    above: HashSet<Box<[u8]>>,
}

impl Statics {
    /// The records of `records` inside `apex` (lowercase wire); the second
    /// value lists what was left out, one line each.
    ///
    /// # Errors
    ///
    /// A name with a CNAME and other data, or two CNAMEs.
    pub fn build(
        records: Vec<StaticRecord>,
        apex: &[u8],
    ) -> Result<(Self, Vec<String>), String> {
        let mut s = Statics::default();
        let mut skipped = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        for r in records {
            let Ok(wire) = from_dotted(&r.name, &mut buf) else {
                continue;
            };
            if !is_subdomain_exact(wire, apex) {
                skipped.push(format!("{} is outside the domain", r.name));
                continue;
            }
            let key: Box<[u8]> = wire.into();
            let (rtype, rdata, cname) = match &r.data {
                Data::A(ip) => (Rtype::A, ip.octets().to_vec(), None),
                Data::Aaaa(ip) => (Rtype::AAAA, ip.octets().to_vec(), None),
                Data::Srv(prio, weight, port, target) => {
                    let mut d = Vec::new();
                    for v in [prio, weight, port] {
                        d.extend_from_slice(&v.to_be_bytes());
                    }
                    d.extend_from_slice(from_dotted(target, &mut buf).unwrap_or(&[0]));
                    (Rtype::SRV, d, None)
                }
                Data::Txt(strings) => {
                    let mut d = Vec::new();
                    for t in strings {
                        d.push(u8::try_from(t.len()).unwrap_or(255));
                        d.extend_from_slice(t.get(..255).unwrap_or(t));
                    }
                    (Rtype::TXT, d, None)
                }
                Data::Cname(target) => {
                    let t: Box<[u8]> =
                        from_dotted(target, &mut buf).unwrap_or(&[0]).into();
                    (Rtype::CNAME, t.to_vec(), Some(t))
                }
            };
            let node = s.names.entry(key).or_default();
            if node.cname.is_some() || (cname.is_some() && !node.rrs.is_empty()) {
                return Err(format!(
                    "{} has a CNAME and other data (RFC 1034 3.6.2)",
                    r.name
                ));
            }
            node.cname = node.cname.take().or(cname);
            if rdata.len() > usize::from(u16::MAX) {
                continue;
            }
            node.rrs.push(Rr {
                rtype,
                ttl: r.ttl,
                rdata: rdata.into(),
            });
            s.records.push(r);
        }
        for key in s.names.keys() {
            let mut at = 0;
            while let Some(&len) = key.get(at) {
                if len == 0 {
                    break;
                }
                at += 1 + usize::from(len);
                let Some(up) = key.get(at..) else { break };
                if up.len() < apex.len() {
                    break;
                }
                s.above.insert(up.into());
            }
        }
        Ok((s, skipped))
    }

    /// Every static record as (owner in lowercase wire form, type, TTL,
    /// RDATA), by owner then type, for zone transfers.
    pub(crate) fn wire_records(&self) -> Vec<WireRecord> {
        let mut out: Vec<_> = self
            .names
            .iter()
            .flat_map(|(k, node)| {
                node.rrs
                    .iter()
                    .map(|rr| (k.clone(), rr.rtype, rr.ttl, rr.rdata.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// Whether there are no static records.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `key` (lowercase wire) is a static name.
    pub fn has(&self, key: &[u8]) -> bool {
        self.names.contains_key(key)
    }

    /// Whether `key` has static names below it.
    pub(crate) fn is_above(&self, key: &[u8]) -> bool {
        self.above.contains(key)
    }
}

/// The static records as `/v1/axfr` shows them: `[{"Name", "Type",
/// "TTL", "Value"}]`, values in master-file form.
pub(crate) fn axfr_json(j: &mut crate::http::json::GoJson, s: &Statics) {
    j.begin_array();
    for r in &s.records {
        let (rtype, value) = match &r.data {
            Data::A(ip) => ("A", ip.to_string()),
            Data::Aaaa(ip) => ("AAAA", ip.to_string()),
            Data::Srv(p, w, port, t) => ("SRV", format!("{p} {w} {port} {t}")),
            Data::Cname(t) => ("CNAME", t.clone()),
            Data::Txt(strings) => {
                let quoted: Vec<String> = strings
                    .iter()
                    .map(|t| format!("{:?}", String::from_utf8_lossy(t)))
                    .collect();
                ("TXT", quoted.join(" "))
            }
        };
        j.begin_object();
        j.key("Name");
        j.string(&r.name);
        j.key("Type");
        j.string(rtype);
        j.key("TTL");
        j.uint(u64::from(r.ttl));
        j.key("Value");
        j.string(&value);
        j.end_object();
    }
    j.end_array();
}

#[cfg(test)]
mod tests;
