//! What a compile or a patch of a table produces: the name index, the
//! templates, the record counts, and the settings they were rendered with.

use super::index::NameIndex;
use crate::dns_config::DnsConfig;
use crate::template::Templates;

/// Record counts of a table, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordCounts {
    /// A records served.
    pub a: u64,
    /// AAAA records served.
    pub aaaa: u64,
    /// SRV records served.
    pub srv: u64,
    /// Owner names with data.
    pub names: u64,
    /// Names or values not served, per record type: outside the domain,
    /// not encodable, or a spelling with capitals of a key another
    /// spelling holds.
    pub skipped: u64,
    /// Of those, the names the wire format cannot carry (an empty label, a
    /// label over 63 octets, a name over 255 octets), owners per record
    /// type and SRV targets per value.
    pub unencodable: u64,
}

/// What a compile or a patch produces.
#[derive(Debug, Default)]
pub(super) struct Compiled {
    pub names: NameIndex,
    pub templates: Templates,
    /// The negative template (apex SOA in the authority section).
    pub negative: u32,
    pub counts: RecordCounts,
    /// What the templates were rendered with.
    pub basis: Basis,
    /// Arena octets right after the last full compile (patches add to
    /// them; see [`Compiled::arena_len`]).
    pub full_len: usize,
    /// The keys of names spelled with capitals, kept or shadowed, sorted:
    /// a patch touching one of them is left to a full compile.
    pub case_keys: Vec<Box<[u8]>>,
}

impl Compiled {
    /// Octets used in the name and template arenas.
    pub fn arena_len(&self) -> usize {
        self.names.arena_len() + self.templates.arena_len()
    }

    /// A copy that answers the same, with only the records and templates
    /// in use, each kind in one fresh arena (see the publisher's `compact`
    /// module): what patches replaced is left behind, and the copy counts
    /// as a full compile for the bound on their growth.
    pub fn compacted(&self) -> Compiled {
        let mut used = vec![false; self.templates.len()];
        self.names.mark_templates(&mut used);
        if let Some(u) = used.get_mut(self.negative as usize) {
            *u = true;
        }
        let (templates, map) = self.templates.compacted(&used);
        let names = self.names.compacted(&map);
        let mut c = Compiled {
            names,
            templates,
            negative: map.get(self.negative as usize).copied().unwrap_or(u32::MAX),
            counts: self.counts,
            basis: self.basis.clone(),
            full_len: 0,
            case_keys: self.case_keys.clone(),
        };
        c.full_len = c.arena_len();
        c
    }
}

/// The settings a template depends on: a table compiled under other ones
/// cannot be patched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Basis {
    apex: Box<[u8]>,
    ttl: u32,
    soa: [u32; 5],
    soa_mname: String,
    soa_rname: String,
    srv_weight: u16,
}

/// The zone settings a table was compiled under, as zone transfers write
/// them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZoneSettings<'a> {
    /// `TTL` of every record.
    pub ttl: u32,
    /// `SOARefresh`, `SOARetry`, `SOAExpire`, `SOAMinttl`.
    pub soa: [u32; 4],
    /// `SOAMname`, absolute.
    pub soa_mname: &'a str,
    /// `SOARname`, absolute.
    pub soa_rname: &'a str,
    /// `SRVRecordDefaultWeight`.
    pub srv_weight: u16,
}

impl Basis {
    /// The settings, for zone transfers.
    pub fn zone(&self) -> ZoneSettings<'_> {
        let [_, refresh, retry, expire, minimum] = self.soa;
        ZoneSettings {
            ttl: self.ttl,
            soa: [refresh, retry, expire, minimum],
            soa_mname: &self.soa_mname,
            soa_rname: &self.soa_rname,
            srv_weight: self.srv_weight,
        }
    }

    pub fn new(cfg: &DnsConfig, apex: &[u8]) -> Self {
        Basis {
            apex: apex.into(),
            ttl: cfg.ttl,
            soa: [
                0,
                cfg.soa_refresh,
                cfg.soa_retry,
                cfg.soa_expire,
                cfg.soa_minttl,
            ],
            soa_mname: cfg.soa_mname.clone(),
            soa_rname: cfg.soa_rname.clone(),
            srv_weight: cfg.srv_weight,
        }
    }
}
