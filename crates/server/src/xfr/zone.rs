//! The zone as a transfer writes it: which owner names of a record set
//! the table serves, and their records, SOA and NS in wire form.
//!
//! A transfer must carry exactly what the server answers, so a secondary
//! answers the same: a name is in the zone when its wire form exists (no
//! empty label, none over 63 octets, at most 255 octets) and lies at or
//! under the apex. A name spelled with capitals is left out when its
//! lowercase spelling owns records too, since the table answers that one
//! (and a second capital spelling of the same key, after the first in
//! byte order, for the same reason). An SRV value whose target has no wire
//! form is left out, as the table does.

use std::collections::HashSet;

use dns_wire::name::{from_dotted, is_subdomain};
use dns_wire::{
    write_a, write_aaaa, write_ns, write_soa, write_srv, Compressor, Soa, Srv, Writer,
    MAX_NAME_LEN,
};
use mesos_records::delta::{Record, Value};
use mesos_records::{Owner, RecordSet};

use crate::table::ZoneSettings;

/// The uncompressed wire form of `name` if the table serves it (see the
/// module docs). `seen` holds the lowercase keys of capital spellings
/// already taken, for a walk in byte order; `records` is asked for only
/// for a name with capitals (a delta-published table builds its whole
/// record set on the first ask).
pub(super) fn served<'r, 'b>(
    name: &str,
    apex: &[u8],
    records: impl FnOnce() -> &'r RecordSet,
    seen: &mut HashSet<Box<[u8]>>,
    buf: &'b mut [u8; MAX_NAME_LEN],
) -> Option<&'b [u8]> {
    let len = from_dotted(name, buf).ok()?.len();
    let wire = buf.get(..len)?;
    let mut key = [0u8; MAX_NAME_LEN];
    let key = key.get_mut(..len)?;
    key.copy_from_slice(wire);
    key.make_ascii_lowercase();
    if !is_subdomain(key, apex) {
        return None;
    }
    let capitals = name.bytes().any(|c| c.is_ascii_uppercase());
    if capitals
        && (records().has_name(&name.to_ascii_lowercase()) || !seen.insert(key.into()))
    {
        return None;
    }
    buf.get(..len)
}

/// Writes the apex SOA with `serial`.
pub(super) fn soa(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    apex: &[u8],
    z: &ZoneSettings<'_>,
    serial: u32,
) -> bool {
    let mut m = [0u8; MAX_NAME_LEN];
    let mut r = [0u8; MAX_NAME_LEN];
    let (Ok(mname), Ok(rname)) = (
        from_dotted(z.soa_mname, &mut m),
        from_dotted(z.soa_rname, &mut r),
    ) else {
        return false;
    };
    let [refresh, retry, expire, minimum] = z.soa;
    let soa = Soa {
        mname,
        rname,
        serial,
        refresh,
        retry,
        expire,
        minimum,
    };
    put(w, c, |w, c| write_soa(w, c, apex, z.ttl, &soa))
}

/// Writes the apex NS (the nameserver is `SOAMname`).
pub(super) fn ns(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    apex: &[u8],
    z: &ZoneSettings<'_>,
) -> bool {
    let mut m = [0u8; MAX_NAME_LEN];
    let Ok(mname) = from_dotted(z.soa_mname, &mut m) else {
        return false;
    };
    put(w, c, |w, c| write_ns(w, c, apex, z.ttl, mname))
}

/// Writes one record of `owner` (wire form); false if it was left out (an
/// SRV target with no wire form) or did not fit.
pub(super) fn value(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    z: &ZoneSettings<'_>,
    v: &Value,
) -> bool {
    match v {
        Value::A(ip) => put(w, c, |w, c| write_a(w, c, owner, z.ttl, *ip)),
        Value::Aaaa(ip) => put(w, c, |w, c| write_aaaa(w, c, owner, z.ttl, *ip)),
        Value::Srv { target, port } => srv(w, c, owner, z, target, *port),
    }
}

/// Writes one SRV record (priority 0, the configured weight).
pub(super) fn srv(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    z: &ZoneSettings<'_>,
    target: &str,
    port: u16,
) -> bool {
    let mut t = [0u8; MAX_NAME_LEN];
    let Ok(target) = from_dotted(target, &mut t) else {
        return false;
    };
    let srv = Srv {
        priority: 0,
        weight: z.srv_weight,
        port,
        target,
    };
    put(w, c, |w, c| write_srv(w, c, owner, z.ttl, &srv))
}

/// The number of records of an owner (A, AAAA and SRV values).
pub(super) fn value_count(o: &Owner<'_>) -> usize {
    o.a.len() + o.aaaa.len() + o.srv.len()
}

/// Writes the `i`-th value of an owner (A, then AAAA, then SRV); false if
/// it was left out or did not fit.
pub(super) fn owner_value(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    z: &ZoneSettings<'_>,
    o: &Owner<'_>,
    i: usize,
) -> bool {
    let (na, naaaa) = (o.a.len(), o.aaaa.len());
    if let Some(ip) = o.a.get(i) {
        return put(w, c, |w, c| write_a(w, c, owner, z.ttl, *ip));
    }
    if let Some(ip) = i.checked_sub(na).and_then(|k| o.aaaa.get(k)) {
        return put(w, c, |w, c| write_aaaa(w, c, owner, z.ttl, *ip));
    }
    match o.srv.iter().nth(i.saturating_sub(na + naaaa)) {
        Some(s) => srv(w, c, owner, z, s.target, s.port),
        None => false,
    }
}

/// The wire form of a delta record's owner if the table serves it.
pub(super) fn record_owner<'r, 'b>(
    r: &Record,
    apex: &[u8],
    records: impl FnOnce() -> &'r RecordSet,
    buf: &'b mut [u8; MAX_NAME_LEN],
) -> Option<&'b [u8]> {
    served(&r.name, apex, records, &mut HashSet::new(), buf)
}

/// Writes one static record (owner lowercase wire, uncompressed); false
/// if it did not fit.
pub(super) fn static_record(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    owner: &[u8],
    rtype: dns_wire::Rtype,
    ttl: u32,
    rdata: &[u8],
) -> bool {
    let Ok(len) = u16::try_from(rdata.len()) else {
        return false;
    };
    put(w, c, |w, _| {
        w.bytes(owner)?;
        w.u16(rtype.0)?;
        w.u16(dns_wire::Class::IN.0)?;
        w.u32(ttl)?;
        w.u16(len)?;
        w.bytes(rdata)
    })
}

/// Whether `owner` (wire form, any case) is a static name, whose Mesos
/// records the answers hide (see [`crate::statics`]).
pub(super) fn hidden(owner: &[u8], statics: &crate::statics::Statics) -> bool {
    if statics.is_empty() {
        return false;
    }
    let mut key = [0u8; MAX_NAME_LEN];
    let Some(key) = key.get_mut(..owner.len()) else {
        return false;
    };
    key.copy_from_slice(owner);
    key.make_ascii_lowercase();
    statics.has(key)
}

/// Runs a write; on failure, takes the partial record back out.
fn put(
    w: &mut Writer<'_>,
    c: &mut Compressor,
    f: impl FnOnce(&mut Writer<'_>, &mut Compressor) -> Result<(), dns_wire::WireError>,
) -> bool {
    let at = w.len();
    match f(w, c) {
        Ok(()) => true,
        Err(_) => {
            w.truncate(at);
            c.truncate(at);
            false
        }
    }
}
