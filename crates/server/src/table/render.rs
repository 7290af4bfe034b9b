//! Rendering templates from a record set: a name's A or AAAA answers, an
//! SRV value list with its targets' addresses, ANY, the apex's SOA and NS,
//! and the negative answer. The full compile and the patch of a table both
//! render through a [`Renderer`], so a template comes out the same octets
//! whichever built it.

use dns_wire::{Rtype, MAX_NAME_LEN};
use mesos_records::delta::Lookup;

use super::key::{in_zone, wire_key, wire_name};
use super::source::{self, Glue};
use crate::dns_config::DnsConfig;
use crate::template::{Builder, Scratch, Section, Templates};

/// Where the glue of an SRV target comes from: given its wire key and its
/// text.
pub(super) type GlueOf<'g> = dyn Fn(&[u8], &str) -> Glue + 'g;

/// An SRV value to render: its target and port, and the target's glue
/// when the caller has it at hand (else `GlueOf` finds it).
#[derive(Clone, Copy, Debug)]
pub(super) struct SrvTo<'r> {
    pub target: &'r str,
    pub port: u16,
    pub glue: Option<Glue>,
}

impl<'r> From<(&'r str, u16)> for SrvTo<'r> {
    fn from((target, port): (&'r str, u16)) -> Self {
        SrvTo {
            target,
            port,
            glue: None,
        }
    }
}

/// Renders templates into one [`Templates`] arena.
pub(super) struct Renderer<'r> {
    pub cfg: &'r DnsConfig,
    pub records: &'r dyn Lookup,
    pub apex: &'r [u8],
    pub serial: u32,
    pub templates: Templates,
    scratch: Scratch,
    /// SRV targets of the template being built, with their glue if it
    /// came with them (reused).
    targets: Targets<'r>,
}

/// The SRV targets of a template being built (see [`write_srv`]): each
/// target's text, its glue if it came with it, and where its key is in
/// `keys` with whether its text has capitals (`None` if the wire format
/// cannot carry it), so that [`write_glue`] does not make the key again.
#[derive(Default)]
struct Targets<'r> {
    list: Vec<(&'r str, Option<Glue>, Option<KeyAt>)>,
    keys: Vec<u8>,
}

/// Where a target's key is in [`Targets::keys`] (start, length), and
/// whether the target's text has capitals.
type KeyAt = (u32, u8, bool);

impl<'r> Renderer<'r> {
    /// A renderer adding to `templates`.
    pub fn new(
        cfg: &'r DnsConfig,
        records: &'r dyn Lookup,
        apex: &'r [u8],
        serial: u32,
        templates: Templates,
    ) -> Self {
        Renderer {
            cfg,
            records,
            apex,
            serial,
            templates,
            scratch: Scratch::default(),
            targets: Targets::default(),
        }
    }

    /// The TTL of `name`'s records: `TTL`, or the one a task label set
    /// (`DNS_TTL`).
    pub fn ttl_of(&self, name: &str) -> u32 {
        self.records.ttl_of(name).unwrap_or(self.cfg.ttl)
    }

    /// An A or AAAA answer template of `owner`'s `ips`, and how many there
    /// were.
    pub fn addresses<const N: usize>(
        &mut self,
        rtype: Rtype,
        owner: &str,
        ips: impl Iterator<Item = [u8; N]>,
    ) -> (u32, u64) {
        let (ttl, mut n) = (self.ttl_of(owner), 0);
        let mut b = Builder::new(&mut self.scratch);
        for ip in ips {
            b.record(Section::Answer, |b| {
                b.question_owner(rtype, ttl)?;
                b.rdata(&ip)
            });
            n += 1;
        }
        (b.finish(true, &mut self.templates), n)
    }

    /// An SRV template: the answers, then one A and one AAAA of each
    /// target in the additional section; and how many values were written
    /// and skipped (a target the wire format cannot carry).
    pub fn srv(
        &mut self,
        owner: &str,
        values: impl Iterator<Item = impl Into<SrvTo<'r>>>,
        glue: &GlueOf<'_>,
    ) -> (u32, u64, u64) {
        let ttl = self.ttl_of(owner);
        let mut b = Builder::new(&mut self.scratch);
        let (written, skipped) = write_srv(
            &mut b,
            self.cfg,
            self.records,
            ttl,
            values,
            &mut self.targets,
        );
        write_glue(&mut b, self.cfg, self.records, glue, &mut self.targets);
        (b.finish(true, &mut self.templates), written, skipped)
    }

    /// An ANY template: at the apex, SOA and NS; then the A, AAAA and SRV
    /// answers of `name`, with the SRV targets' addresses.
    pub fn any(&mut self, apex: bool, name: Option<&'r str>, glue: &GlueOf<'_>) -> u32 {
        let (cfg, records, serial) = (self.cfg, self.records, self.serial);
        let mut b = Builder::new(&mut self.scratch);
        if apex {
            b.question_ends_with(self.apex);
            b.record(Section::Answer, |b| {
                write_soa(b, cfg, serial, None, cfg.ttl)
            });
            b.record(Section::Answer, |b| {
                b.question_owner(Rtype::NS, cfg.ttl)?;
                b.ns(&wire_name(&cfg.soa_mname).unwrap_or_default())
            });
        }
        if let Some(name) = name {
            let ttl = records.ttl_of(name).unwrap_or(cfg.ttl);
            for ip in source::a_of(records, name) {
                b.record(Section::Answer, |b| {
                    b.question_owner(Rtype::A, ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            for ip in source::aaaa_of(records, name) {
                b.record(Section::Answer, |b| {
                    b.question_owner(Rtype::AAAA, ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            write_srv(
                &mut b,
                cfg,
                records,
                ttl,
                source::srv_of(records, name),
                &mut self.targets,
            );
            write_glue(&mut b, cfg, records, glue, &mut self.targets);
        }
        b.finish(!apex, &mut self.templates)
    }

    /// The apex SOA, in the answer section.
    pub fn apex_soa(&mut self) -> u32 {
        let (cfg, serial) = (self.cfg, self.serial);
        let mut b = Builder::new(&mut self.scratch);
        b.question_ends_with(self.apex);
        b.record(Section::Answer, |b| {
            write_soa(b, cfg, serial, None, cfg.ttl)
        });
        b.finish(false, &mut self.templates)
    }

    /// The apex NS, with the nameserver's addresses when it is in the
    /// domain.
    pub fn apex_ns(&mut self) -> u32 {
        let (cfg, records) = (self.cfg, self.records);
        let mname = wire_name(&cfg.soa_mname).unwrap_or_default();
        let mut b = Builder::new(&mut self.scratch);
        b.question_ends_with(self.apex);
        b.record(Section::Answer, |b| {
            b.question_owner(Rtype::NS, cfg.ttl)?;
            b.ns(&mname)
        });
        if in_zone(&mname, self.apex) {
            if let Some(ip) = source::a_of(records, &cfg.soa_mname).next() {
                b.record(Section::Additional, |b| {
                    b.owner(&mname, Rtype::A, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
            if let Some(ip) = source::aaaa_of(records, &cfg.soa_mname).next() {
                b.record(Section::Additional, |b| {
                    b.owner(&mname, Rtype::AAAA, cfg.ttl)?;
                    b.rdata(&ip.octets())
                });
            }
        }
        b.finish(false, &mut self.templates)
    }

    /// NXDOMAIN and NODATA: the apex SOA in the authority section, its
    /// owner a pointer to the question's apex labels.
    pub fn negative(&mut self) -> u32 {
        let (cfg, serial, apex) = (self.cfg, self.serial, self.apex);
        let mut b = Builder::new(&mut self.scratch);
        b.question_ends_with(apex);
        let ttl = cfg.ttl.min(cfg.soa_minttl);
        b.record(Section::Authority, |b| {
            write_soa(b, cfg, serial, Some(apex), ttl)
        });
        b.finish(false, &mut self.templates)
    }
}

/// The SRV answers of `srvs`, their targets pushed to `targets`; returns
/// how many were written and how many were skipped (a target the wire
/// format cannot carry). Targets are written as spelled, capitals kept.
fn write_srv<'r>(
    b: &mut Builder<'_>,
    cfg: &DnsConfig,
    records: &dyn Lookup,
    ttl: u32,
    srvs: impl Iterator<Item = impl Into<SrvTo<'r>>>,
    targets: &mut Targets<'r>,
) -> (u64, u64) {
    let (mut n, mut skipped) = (0, 0);
    let mut buf = [0u8; MAX_NAME_LEN];
    for srv in srvs {
        let SrvTo { target, port, glue } = srv.into();
        let key = wire_key(target, &mut buf);
        let at = targets.keys.len() as u32;
        let kept = key.map(|(wire, upper)| {
            targets.keys.extend_from_slice(wire);
            (at, wire.len() as u8, upper)
        });
        targets.list.push((target, glue, kept));
        let Some((wire, _)) = key else {
            skipped += 1;
            continue;
        };
        let weight = records.srv_weight_of(target).unwrap_or(cfg.srv_weight);
        b.record(Section::Answer, |b| {
            b.question_owner(Rtype::SRV, ttl)?;
            b.srv(weight, port, wire)
        });
        n += 1;
    }
    (n, skipped)
}

/// One A and one AAAA for each distinct target in `targets`, in the
/// additional section (mesos-dns picks one of each; we pick the lowest),
/// targets in name order. A target's addresses are those of its exact
/// spelling, as in mesos-dns: the glue a target came with or `glue` knows
/// those of names without capitals, `records` the others. Empties
/// `targets`.
fn write_glue(
    b: &mut Builder<'_>,
    cfg: &DnsConfig,
    records: &dyn Lookup,
    glue: &GlueOf<'_>,
    targets: &mut Targets<'_>,
) {
    targets.list.sort_unstable_by(|x, y| x.0.cmp(y.0));
    targets.list.dedup_by(|x, y| x.0 == y.0);
    for &(t, known, key) in targets.list.iter() {
        let Some((at, len, upper)) = key else {
            continue;
        };
        let at = at as usize;
        let Some(wire) = targets.keys.get(at..at + usize::from(len)) else {
            continue;
        };
        let (a, aaaa) = match (upper, known) {
            (true, _) => source::first_addresses_of(records, t),
            (false, Some(known)) => known,
            (false, None) => glue(wire, t),
        };
        let ttl = records.ttl_of(t).unwrap_or(cfg.ttl);
        if let Some(ip) = a {
            b.record(Section::Additional, |b| {
                b.owner(wire, Rtype::A, ttl)?;
                b.rdata(&ip)
            });
        }
        if let Some(ip) = aaaa {
            b.record(Section::Additional, |b| {
                b.owner(wire, Rtype::AAAA, ttl)?;
                b.rdata(&ip)
            });
        }
        if b.is_full() {
            break;
        }
    }
    targets.list.clear();
    targets.keys.clear();
}

/// An SOA record owned by `owner` (or the question, at the apex).
fn write_soa(
    b: &mut Builder<'_>,
    cfg: &DnsConfig,
    serial: u32,
    owner: Option<&[u8]>,
    ttl: u32,
) -> Result<(), dns_wire::WireError> {
    match owner {
        Some(o) => b.owner(o, Rtype::SOA, ttl)?,
        None => b.question_owner(Rtype::SOA, ttl)?,
    }
    let mname = wire_name(&cfg.soa_mname).unwrap_or_else(|| Box::new([0]));
    let rname = wire_name(&cfg.soa_rname).unwrap_or_else(|| Box::new([0]));
    b.soa(
        &mname,
        &rname,
        [
            serial,
            cfg.soa_refresh,
            cfg.soa_retry,
            cfg.soa_expire,
            cfg.soa_minttl,
        ],
    )
}
