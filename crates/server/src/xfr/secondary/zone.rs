//! The zone a secondary keeps, and the table it serves from it.
//!
//! Every record of the transfers is kept by owner and data (what an IXFR
//! removal names, RFC 1995 section 4) with its TTL. The table answers most
//! names from templates, which share one TTL and one SRV weight, at
//! priority 0: mesos-dns's own names are all so. Every other name is
//! served as a static record is ([`crate::statics`]), with each of its
//! records as transferred: a name with a TXT or CNAME record, or a record
//! whose TTL, SRV weight or priority differs from the zone's (a primary's
//! `StaticZoneFile`, or a primary that is not mesos-dns). The zone's TTL
//! and weight are those most of its records have. So each name is
//! answered as the primary answers it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mesos_records::{RecordSet, RecordSetBuilder};

use super::transfer::{bad, FollowError, Rr, Soa};
use crate::dns_config::DnsConfig;
use crate::statics::{Data, StaticHandle, StaticRecord, Statics};
use crate::table::Table;

/// The zone as last transferred.
#[derive(Clone, Debug, Default)]
pub(super) struct Zone {
    pub(super) soa: Soa,
    /// Each record by (owner as sent, data), with its TTL.
    pub(super) records: BTreeMap<(String, Data), u32>,
}

/// The table of a zone, and what of it the record set behind the table
/// does not show (a change there is a change of the zone too).
pub(super) struct Served {
    pub(super) table: Table,
    pub(super) rest: Rest,
}

/// The zone's TTL and SRV weight, and the names served as static records.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Rest {
    ttl: u32,
    weight: u16,
    statics: Vec<StaticRecord>,
}

impl Zone {
    /// The table of the zone `apex` (text and lowercase wire form), with
    /// the primary's SOA values (see the module docs for which names are
    /// static records).
    pub(super) fn compile(
        &self,
        base: &DnsConfig,
        apex_text: &str,
        apex: &[u8],
    ) -> Served {
        let (set, rest) = self.split(base);
        let statics = StaticHandle::default();
        if !rest.statics.is_empty() {
            match Statics::build(rest.statics.clone(), apex) {
                Ok((s, _)) => statics.store(s),
                Err(e) => log::warn!("secondary: records of {apex_text} not served: {e}"),
            }
        }
        let cfg = DnsConfig {
            ttl: rest.ttl,
            soa_mname: self.soa.mname.clone(),
            soa_rname: self.soa.rname.clone(),
            soa_refresh: self.soa.refresh,
            soa_retry: self.soa.retry,
            soa_expire: self.soa.expire,
            soa_minttl: self.soa.minimum,
            srv_weight: rest.weight,
            statics,
            ..base.clone()
        };
        Served {
            table: Table::compile(Arc::new(set), &cfg, self.soa.serial),
            rest,
        }
    }

    /// The records the templates serve, and the rest.
    fn split(&self, base: &DnsConfig) -> (RecordSet, Rest) {
        let ttl = most(self.records.iter().filter_map(|((_, d), ttl)| {
            matches!(d, Data::A(_) | Data::Aaaa(_) | Data::Srv(..)).then_some(*ttl)
        }))
        .unwrap_or(self.soa.ttl);
        let weight = most(self.records.iter().filter_map(|((_, d), _)| match d {
            Data::Srv(0, w, ..) => Some(*w),
            _ => None,
        }))
        .unwrap_or(base.srv_weight);
        let templated = |d: &Data, t: u32| {
            t == ttl
                && match d {
                    Data::A(_) | Data::Aaaa(_) => true,
                    Data::Srv(p, w, ..) => *p == 0 && *w == weight,
                    Data::Txt(_) | Data::Cname(_) => false,
                }
        };
        let mut b = RecordSetBuilder::new(false);
        let mut statics = Vec::new();
        let mut records = self.records.iter().peekable();
        while let Some(((name, _), _)) = records.peek() {
            let name = name.clone();
            let mut of_name = Vec::new();
            while let Some(r) = records.next_if(|((n, _), _)| *n == name) {
                of_name.push(r);
            }
            if of_name.iter().all(|((_, d), t)| templated(d, **t)) {
                for ((_, d), _) in of_name {
                    match d {
                        Data::A(ip) => b.insert_a(&name, *ip),
                        Data::Aaaa(ip) => b.insert_aaaa(&name, *ip),
                        Data::Srv(_, _, port, target) => {
                            b.insert_srv(&name, target, *port)
                        }
                        Data::Txt(_) | Data::Cname(_) => {}
                    }
                }
                continue;
            }
            let owner = name.to_ascii_lowercase();
            for ((_, d), t) in of_name {
                let data = match d {
                    Data::Srv(p, w, port, target) => {
                        Data::Srv(*p, *w, *port, target.to_ascii_lowercase())
                    }
                    Data::Cname(target) => Data::Cname(target.to_ascii_lowercase()),
                    other => other.clone(),
                };
                statics.push(StaticRecord {
                    name: owner.clone(),
                    ttl: *t,
                    data,
                });
            }
        }
        (
            b.finish(),
            Rest {
                ttl,
                weight,
                statics,
            },
        )
    }
}

/// The value found most often (the smallest of a tie); `None` for none.
fn most<T: Copy + Eq + Ord + std::hash::Hash>(xs: impl Iterator<Item = T>) -> Option<T> {
    let mut n: HashMap<T, usize> = HashMap::new();
    for x in xs {
        *n.entry(x).or_default() += 1;
    }
    n.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(x, _)| x)
}

/// The zone after the transfer `rrs` from `zone`.
pub(super) fn apply(zone: Option<&Zone>, rrs: Vec<Rr>) -> Result<Zone, FollowError> {
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
            if let Rr::Rec(name, data, ttl) = rr {
                z.records.insert((name, data), ttl);
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
                Rr::Rec(name, data, ttl) if adding => {
                    z.records.insert((name, data), ttl);
                }
                Rr::Rec(name, data, _) => {
                    z.records.remove(&(name, data));
                }
            }
        }
    }
    z.soa = top;
    Ok(z)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn soa(serial: u32) -> Rr {
        Rr::Soa(Soa {
            serial,
            ttl: 60,
            ..Soa::default()
        })
    }

    fn a(name: &str, last: u8, ttl: u32) -> Rr {
        Rr::Rec(name.into(), Data::A(Ipv4Addr::new(10, 0, 0, last)), ttl)
    }

    fn srv(name: &str, prio: u16, weight: u16, ttl: u32) -> Rr {
        Rr::Rec(
            name.into(),
            Data::Srv(prio, weight, 80, "t.mesos.".into()),
            ttl,
        )
    }

    #[test]
    fn names_unlike_the_zones_records_are_served_as_static_records() {
        let rrs = vec![
            soa(1),
            a("a.mesos.", 1, 60),
            a("b.mesos.", 2, 60),
            srv("_s._tcp.mesos.", 0, 1, 60),
            srv("_t._tcp.mesos.", 0, 1, 60),
            // Another TTL; another weight; a priority; a TXT beside an A.
            a("Odd.mesos.", 3, 90),
            srv("_w._tcp.mesos.", 0, 7, 60),
            srv("_p._tcp.mesos.", 2, 1, 60),
            a("txt.mesos.", 4, 60),
            Rr::Rec("txt.mesos.".into(), Data::Txt(vec![b"x".to_vec()]), 60),
            soa(1),
        ];
        let zone = apply(None, rrs).unwrap();
        let (set, rest) = zone.split(&DnsConfig::default());
        assert_eq!((rest.ttl, rest.weight), (60, 1));
        let mut names: Vec<&str> = rest.statics.iter().map(|r| r.name.as_str()).collect();
        names.dedup();
        // In the order of the names as sent, lowercased.
        let want = [
            "odd.mesos.",
            "_p._tcp.mesos.",
            "_w._tcp.mesos.",
            "txt.mesos.",
        ];
        assert_eq!(names, want);
        assert_eq!(rest.statics.len(), 5, "every record of those names");
        assert!(rest.statics.iter().any(|r| r.ttl == 90));
        assert!(set.a("a.mesos.").is_some() && set.a("b.mesos.").is_some());
        assert!(set.a("txt.mesos.").is_none() && set.a("Odd.mesos.").is_none());
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn rfc1995_4_a_difference_removes_by_owner_and_data_whatever_the_ttl() {
        let zone = apply(
            None,
            vec![soa(1), a("a.mesos.", 1, 60), a("a.mesos.", 2, 60), soa(1)],
        )
        .unwrap();
        let ixfr = vec![
            soa(2),
            soa(1),
            a("a.mesos.", 1, 30),
            soa(2),
            a("a.mesos.", 3, 60),
            soa(2),
        ];
        let z = apply(Some(&zone), ixfr).unwrap();
        let got: Vec<&Data> = z.records.keys().map(|(_, d)| d).collect();
        assert_eq!(
            got,
            [
                Data::A(Ipv4Addr::new(10, 0, 0, 2)),
                Data::A(Ipv4Addr::new(10, 0, 0, 3))
            ]
            .iter()
            .collect::<Vec<_>>()
        );
        assert_eq!(z.soa.serial, 2);
        // From another serial: refused.
        let stale = vec![soa(3), soa(7), soa(3), soa(3)];
        assert!(apply(Some(&z), stale).is_err());
    }

    #[test]
    fn the_most_frequent_value_wins_and_a_tie_takes_the_smallest() {
        assert_eq!(most([5, 3, 5, 3, 9].into_iter()), Some(3));
        assert_eq!(most([5, 5, 3].into_iter()), Some(5));
        assert_eq!(most(std::iter::empty::<u32>()), None);
    }
}
