//! The PTR data of a table (see the [module docs](super) for which names
//! an address gets), derived in full from a record set, or from the PTR
//! data before a [`Delta`] and the values after it.
//!
//! # Following the deltas
//!
//! The PTR records of an address depend on the names pointing at it and
//! on how many addresses each of those has. So a delta changes the PTR
//! records of the addresses of its A and AAAA records and, for an owner
//! whose address count changed, of every other address of that owner. The
//! PTR data keeps the names pointing at each address (the reverse of the
//! A and AAAA records) to rank them again: a change costs the addresses
//! it touches times the names at each, not the size of the record set.
//! The maps are persistent (`imbl`): the table before the change keeps
//! its PTR data, and the new one shares all but what changed.

use std::net::IpAddr;
use std::sync::Arc;

use dns_wire::name::{from_dotted, is_subdomain_exact};
use dns_wire::MAX_NAME_LEN;
use mesos_records::delta::{Lookup, Value};
use mesos_records::{Delta, RecordSet};

use super::{ptr_record, reverse_name, PTR_MAX};

/// The PTR records of one address, each ready to send.
pub(super) type Records = Arc<[Box<[u8]>]>;

/// The PTR records of every address, derived from one record set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ptrs {
    /// Reverse name (lowercase wire) → its PTR records, ready to send
    /// (owner compressed to the question).
    pub(super) names: imbl::HashMap<Box<[u8]>, Records>,
    /// Ancestors of those names inside a `ReverseZones` zone (empty
    /// non-terminals: NODATA, not NXDOMAIN, RFC 8020), with the number of
    /// names below each.
    pub(super) above: imbl::HashMap<Box<[u8]>, usize>,
    /// Address → the names (text, those that may be PTR targets) whose A
    /// or AAAA records hold it, sorted.
    owners: imbl::HashMap<IpAddr, Arc<[Arc<str>]>>,
}

/// What a derivation is done under: PTR owner names under `apex`, TTL
/// `ttl`, empty non-terminals kept in `zones`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Under<'a> {
    pub apex: &'a [u8],
    pub ttl: u32,
    pub zones: &'a [Box<[u8]>],
}

impl Ptrs {
    /// Derives the PTR records of `records` (see the module docs): owner
    /// names under `apex`, TTL `ttl`; `zones` are the reverse zones whose
    /// empty non-terminals are kept.
    pub fn derive(
        records: &RecordSet,
        apex: &[u8],
        ttl: u32,
        zones: &[Box<[u8]>],
    ) -> Self {
        let under = Under { apex, ttl, zones };
        let mut by_addr: std::collections::HashMap<IpAddr, Vec<Arc<str>>> =
            std::collections::HashMap::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut add = |name: &str, addrs: &mut dyn Iterator<Item = IpAddr>| {
            if target(name, apex, &mut buf).is_none() {
                return;
            }
            let name: Arc<str> = name.into();
            for ip in addrs {
                by_addr.entry(ip).or_default().push(Arc::clone(&name));
            }
        };
        for (name, ips) in records.a_records() {
            add(name, &mut ips.iter().map(|ip| IpAddr::V4(*ip)));
        }
        for (name, ips) in records.aaaa_records() {
            add(name, &mut ips.iter().map(|ip| IpAddr::V6(*ip)));
        }
        let mut ptrs = Ptrs::default();
        for (ip, mut list) in by_addr {
            list.sort_unstable();
            list.dedup();
            ptrs.owners.insert(ip, list.into());
            ptrs.refresh(ip, records, under);
        }
        ptrs
    }

    /// The PTR data after `delta`, from this data before it and `view`,
    /// the values after it (see the module docs). The same as
    /// [`Ptrs::derive`] of the record set after the change.
    pub(super) fn follow<L: Lookup + ?Sized>(
        &self,
        delta: &Delta,
        view: &L,
        under: Under<'_>,
    ) -> Self {
        let mut ptrs = self.clone();
        let mut touched: Vec<IpAddr> = Vec::new();
        let mut changed: Vec<(&str, bool)> = Vec::new();
        let mut buf = [0u8; MAX_NAME_LEN];
        let sides = delta.removed.iter().map(|r| (r, false));
        for (rec, added) in sides.chain(delta.added.iter().map(|r| (r, true))) {
            let (ip, v6) = match rec.value {
                Value::A(ip) => (IpAddr::V4(ip), false),
                Value::Aaaa(ip) => (IpAddr::V6(ip), true),
                Value::Srv { .. } => continue,
            };
            if target(&rec.name, under.apex, &mut buf).is_none() {
                continue;
            }
            let mut list: Vec<Arc<str>> =
                ptrs.owners.get(&ip).map(|l| l.to_vec()).unwrap_or_default();
            match (list.binary_search_by(|n| (**n).cmp(&rec.name[..])), added) {
                (Err(at), true) => list.insert(at, rec.name.as_str().into()),
                (Ok(at), false) => {
                    list.remove(at);
                }
                _ => {}
            }
            match list.is_empty() {
                true => ptrs.owners.remove(&ip),
                false => ptrs.owners.insert(ip, list.into()),
            };
            touched.push(ip);
            changed.push((rec.name.as_str(), v6));
        }
        // An owner whose address count changed ranks anew at each of its
        // addresses.
        changed.sort_unstable();
        changed.dedup();
        for (name, v6) in changed {
            match v6 {
                false => touched.extend(view.a(name).iter().map(|ip| IpAddr::V4(*ip))),
                true => touched.extend(view.aaaa(name).iter().map(|ip| IpAddr::V6(*ip))),
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for ip in touched {
            ptrs.refresh(ip, view, under);
        }
        ptrs
    }

    /// Ranks the names at `ip` again (their address counts from `view`)
    /// and keeps the first [`PTR_MAX`] as its PTR records, or drops its
    /// PTR records when no name points at it.
    fn refresh<L: Lookup + ?Sized>(&mut self, ip: IpAddr, view: &L, under: Under<'_>) {
        let key = reverse_name(ip);
        let Some(list) = self.owners.get(&ip) else {
            if self.names.remove(&key).is_some() {
                for up in ancestors(&key, under.zones) {
                    if let Some(n) = self.above.get_mut(&up) {
                        *n -= 1;
                        if *n == 0 {
                            self.above.remove(&up);
                        }
                    }
                }
            }
            return;
        };
        let mut buf = [0u8; MAX_NAME_LEN];
        let mut ranked: Vec<(usize, Box<[u8]>)> = list
            .iter()
            .filter_map(|name| {
                let wire: Box<[u8]> = target(name, under.apex, &mut buf)?.into();
                let n = match ip {
                    IpAddr::V4(_) => view.a(name).len(),
                    IpAddr::V6(_) => view.aaaa(name).len(),
                };
                Some((n, wire))
            })
            .collect();
        ranked.sort_by(|a, b| (a.0, a.1.len(), &a.1).cmp(&(b.0, b.1.len(), &b.1)));
        let rrs: Records = ranked
            .iter()
            .take(PTR_MAX)
            .map(|(_, w)| ptr_record(w, under.ttl))
            .collect();
        if self.names.insert(key.clone(), rrs).is_none() {
            for up in ancestors(&key, under.zones) {
                *self.above.entry(up).or_insert(0) += 1;
            }
        }
    }

    /// Addresses with PTR records.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no address has PTR records.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The targets of the PTR records of `ip`, in order (for tests and
    /// the HTTP API).
    pub fn targets(&self, ip: IpAddr) -> Vec<Box<[u8]>> {
        self.names
            .get(&reverse_name(ip))
            .map(|rrs| {
                rrs.iter()
                    .filter_map(|r| r.get(12..).map(Into::into))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `name` in wire form if it may be a PTR target: under `apex`, and not
/// spelled with capitals (see the module docs).
fn target<'b>(
    name: &str,
    apex: &[u8],
    buf: &'b mut [u8; MAX_NAME_LEN],
) -> Option<&'b [u8]> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let wire = from_dotted(name, buf).ok()?;
    is_subdomain_exact(wire, apex).then_some(wire)
}

/// The ancestors of reverse name `key` inside the first of `zones` that
/// holds it, down to the zone's apex.
fn ancestors(key: &[u8], zones: &[Box<[u8]>]) -> Vec<Box<[u8]>> {
    let mut out = Vec::new();
    if let Some(z) = zones.iter().find(|z| is_subdomain_exact(key, z)) {
        let mut at = 0;
        while let Some(&len) = key.get(at) {
            at += 1 + usize::from(len);
            let Some(up) = key.get(at..) else { break };
            if up.len() < z.len() {
                break;
            }
            out.push(up.into());
        }
    }
    out
}
