//! The settings the DNS side needs, already validated.
//!
//! The config loader builds a [`DnsConfig`] from `config.json`
//! (BEHAVIOUR.md 2.2); everything here is a plain, checked value, so the table
//! compiler and the workers never fail on configuration.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::client::{Cidr, PRIVATE_NETWORKS};

/// Default EDNS UDP payload the server accepts and advertises, in octets
/// (the DNS Flag Day 2020 value, which avoids IP fragmentation).
pub const DEFAULT_EDNS_MAX: u16 = 1232;
/// Default idle time allowed on a TCP connection between queries.
pub const DEFAULT_TCP_IDLE: Duration = Duration::from_secs(8);
/// Default cap on open TCP connections, all clients together.
pub const DEFAULT_TCP_MAX_CONNECTIONS: usize = 1024;
/// Default cap on open TCP connections from one client address.
pub const DEFAULT_TCP_MAX_PER_CLIENT: usize = 16;
/// Default cap on queries one TCP connection may send: none, as in NSD and
/// Knot (mesos-dns: 128). A cap makes pipelining clients such as dnsperf
/// lose the queries they had already sent when the connection closes; the
/// idle timeout and the connection caps bound the resources instead.
pub const DEFAULT_TCP_MAX_QUERIES: usize = usize::MAX;
/// Default cap on forwarded queries in flight per worker.
pub const DEFAULT_FORWARD_MAX_IN_FLIGHT: usize = 512;
/// Default cap on forwarded queries in flight per worker from one client
/// (an IPv4 address or IPv6 /64): an eighth of the worker's slots, so one
/// client cannot take them all.
pub const DEFAULT_FORWARD_MAX_PER_CLIENT: usize = DEFAULT_FORWARD_MAX_IN_FLIGHT / 8;

/// Default `ForwardCacheSize`: forwarded answers kept, all workers
/// together. At a few hundred octets each, about 5 MB when full.
pub const DEFAULT_FORWARD_CACHE_SIZE: usize = 10_000;

/// Everything the DNS server reads from the configuration.
#[derive(Clone, Debug)]
pub struct DnsConfig {
    /// `Listener`: bind address; `0.0.0.0` (and `::`) mean dual-stack `[::]`.
    pub listener: IpAddr,
    /// `Port`: UDP and TCP port; 0 picks a free port (tests).
    pub port: u16,
    /// `Domain`: the zone apex, lowercase, no trailing dot (`mesos`).
    pub domain: String,
    /// `TTL`: the TTL of every served record, in seconds.
    pub ttl: u32,
    /// `SOAMname`, absolute with a trailing dot (`ns1.mesos.`).
    pub soa_mname: String,
    /// `SOARname`, absolute with a trailing dot (`root.ns1.mesos.`).
    pub soa_rname: String,
    /// `SOARefresh`, seconds.
    pub soa_refresh: u32,
    /// `SOARetry`, seconds.
    pub soa_retry: u32,
    /// `SOAExpire`, seconds.
    pub soa_expire: u32,
    /// `SOAMinttl`: the SOA MINIMUM (negative caching TTL, RFC 2308).
    pub soa_minttl: u32,
    /// `SRVRecordDefaultWeight`.
    pub srv_weight: u16,
    /// `RecurseOn`: sets RA on answers for the domain.
    pub recurse_on: bool,
    /// `ExternalOn`: forward names outside the domain (else REFUSED).
    pub external_on: bool,
    /// `SetTruncateBit`: set TC on cut UDP answers (else never, and clear
    /// it on forwarded replies).
    pub set_truncate_bit: bool,
    /// `Resolvers`, in order.
    pub resolvers: Vec<SocketAddr>,
    /// `ZoneResolvers`: zone (no trailing dot, any case) to its resolvers.
    pub zone_resolvers: Vec<(String, Vec<SocketAddr>)>,
    /// `Timeout`: per upstream attempt.
    pub timeout: Duration,
    /// Worker threads; 0 means the number of CPUs.
    pub workers: usize,
    /// Largest EDNS UDP payload honoured and advertised, 512..=65535.
    pub edns_max: u16,
    /// Idle time allowed between queries on a TCP connection.
    pub tcp_idle: Duration,
    /// Cap on open TCP connections, all clients together.
    pub tcp_max_connections: usize,
    /// Cap on open TCP connections from one client address.
    pub tcp_max_per_client: usize,
    /// Cap on queries per TCP connection.
    pub tcp_max_queries: usize,
    /// Cap on forwarded queries in flight, per worker.
    pub forward_max_in_flight: usize,
    /// `ForwardCacheSize`: forwarded answers kept, all workers together
    /// (each worker keeps its share); 0 turns the cache off.
    pub forward_cache_size: usize,
    /// `ReverseZones`: reverse zones (`10.in-addr.arpa`, no trailing dot,
    /// any case) we are authoritative for.
    pub reverse_zones: Vec<String>,
    /// The static records in force (`StaticZoneFile`), shared by every
    /// table built with these settings and the file's watcher.
    pub statics: crate::statics::StaticHandle,
    /// Cap on forwarded queries in flight per worker from one client.
    pub forward_max_per_client: usize,
    /// `AllowRecursion`: the clients whose out-of-domain queries are
    /// forwarded; others get REFUSED.
    pub allow_recursion: Vec<Cidr>,
    /// The upstreams that have counters in the stats, in counter order:
    /// those configured at startup. Empty means [`DnsConfig::upstreams`].
    /// A reload keeps the startup list, so an upstream added by it is
    /// counted in the totals only.
    pub stats_upstreams: Vec<SocketAddr>,
}

impl Default for DnsConfig {
    /// The mesos-dns defaults (BEHAVIOUR.md 2.2), plus ours for the new limits.
    fn default() -> Self {
        DnsConfig {
            listener: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 53,
            domain: "mesos".into(),
            ttl: 60,
            soa_mname: "ns1.mesos.".into(),
            soa_rname: "root.ns1.mesos.".into(),
            soa_refresh: 60,
            soa_retry: 600,
            soa_expire: 86400,
            soa_minttl: 60,
            srv_weight: 1,
            recurse_on: true,
            external_on: true,
            set_truncate_bit: true,
            resolvers: vec![SocketAddr::from(([8, 8, 8, 8], 53))],
            zone_resolvers: Vec::new(),
            timeout: Duration::from_secs(5),
            workers: 0,
            edns_max: DEFAULT_EDNS_MAX,
            tcp_idle: DEFAULT_TCP_IDLE,
            tcp_max_connections: DEFAULT_TCP_MAX_CONNECTIONS,
            tcp_max_per_client: DEFAULT_TCP_MAX_PER_CLIENT,
            tcp_max_queries: DEFAULT_TCP_MAX_QUERIES,
            forward_max_in_flight: DEFAULT_FORWARD_MAX_IN_FLIGHT,
            forward_cache_size: DEFAULT_FORWARD_CACHE_SIZE,
            reverse_zones: Vec::new(),
            statics: Default::default(),
            forward_max_per_client: DEFAULT_FORWARD_MAX_PER_CLIENT,
            allow_recursion: PRIVATE_NETWORKS
                .iter()
                .filter_map(|t| Cidr::parse(t).ok())
                .collect(),
            stats_upstreams: Vec::new(),
        }
    }
}

/// The settings the answer function reads, kept by each table.
#[derive(Clone, Debug, Default)]
pub(crate) struct AnswerSettings {
    pub recurse_on: bool,
    pub external_on: bool,
    pub set_truncate_bit: bool,
    /// The largest EDNS UDP payload (`EDNSMaxPayload`), at least 512.
    pub edns_max: u16,
}

impl DnsConfig {
    /// The settings the answer function reads.
    pub(crate) fn answer_settings(&self) -> AnswerSettings {
        AnswerSettings {
            recurse_on: self.recurse_on,
            external_on: self.external_on,
            set_truncate_bit: self.set_truncate_bit,
            edns_max: self.edns_max.max(512),
        }
    }

    /// The number of worker threads to start.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    /// Every upstream, flattened: the default resolvers first, then each
    /// zone's, in order. Indexes into this list name upstreams in the stats.
    pub fn upstreams(&self) -> Vec<SocketAddr> {
        let mut v = self.resolvers.clone();
        for (_, rs) in &self.zone_resolvers {
            v.extend(rs.iter().copied());
        }
        v
    }

    /// The upstreams with counters: [`DnsConfig::stats_upstreams`], or
    /// when that is empty every upstream.
    pub fn counted_upstreams(&self) -> Vec<SocketAddr> {
        match self.stats_upstreams.is_empty() {
            true => self.upstreams(),
            false => self.stats_upstreams.clone(),
        }
    }
}

/// The SOA serial for a new record set (BEHAVIOUR.md section 0): unchanged when
/// the DNS-visible records are the same as the previous table's, otherwise the
/// current Unix time, but always at least one above the previous serial so
/// it never goes backwards (RFC 1982 arithmetic is not needed for that:
/// this is a plain increment that wraps only after 2^32 changes).
pub fn next_serial(
    previous: Option<(&mesos_records::RecordSet, u32)>,
    new: &mesos_records::RecordSet,
    now_unix: u32,
) -> u32 {
    serial_for(
        previous.map(|(old, serial)| (serial, old.same_records(new))),
        now_unix,
    )
}

/// [`next_serial`], given the previous serial and whether the records are
/// the same.
pub fn serial_for(previous: Option<(u32, bool)>, now_unix: u32) -> u32 {
    match previous {
        Some((serial, true)) => serial,
        Some((serial, false)) => now_unix.max(serial.wrapping_add(1)),
        None => now_unix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_records::RecordSet;

    #[test]
    fn serial_changes_only_with_records_and_never_goes_back() {
        let mut a = RecordSet::default();
        a.insert_a("x.mesos.", Ipv4Addr::new(1, 2, 3, 4));
        let b = a.clone();
        let first = next_serial(None, &a, 1000);
        assert_eq!(first, 1000);
        assert_eq!(next_serial(Some((&a, first)), &b, 2000), 1000);
        let mut c = a.clone();
        c.insert_a("y.mesos.", Ipv4Addr::new(1, 2, 3, 5));
        assert_eq!(next_serial(Some((&a, first)), &c, 2000), 2000);
        // The clock went backwards: the serial still increases.
        assert_eq!(next_serial(Some((&a, 5000)), &c, 2000), 5001);
    }

    #[test]
    fn upstreams_are_flattened_in_order() {
        let cfg = DnsConfig {
            resolvers: vec!["10.0.0.1:53".parse().unwrap()],
            zone_resolvers: vec![("corp".into(), vec!["10.0.0.2:53".parse().unwrap()])],
            ..DnsConfig::default()
        };
        assert_eq!(cfg.upstreams().len(), 2);
    }
}
