//! The forwarding settings in force: upstream groups, `Timeout`,
//! `AllowRecursion` and `SetTruncateBit`.
//!
//! They live in the answer [`Table`](crate::table::Table), next to the
//! zone routes that pick a group, so a reload that changes `Resolvers` or
//! `ZoneResolvers` swaps routes and upstreams in one step: a query never
//! sees the new routes with the old groups. Each forward keeps the
//! `Arc<Upstreams>` it started with, so a forward in flight during a
//! reload finishes on the upstreams it began with.

use std::net::SocketAddr;
use std::time::Duration;

use crate::client::Cidr;
use crate::dns_config::DnsConfig;

/// One generation of the forwarding settings.
#[derive(Debug, Default)]
pub struct Upstreams {
    /// Upstreams per group (0: `Resolvers`, then each zone's), each with
    /// its counter slot in the stats (`usize::MAX`: not counted per
    /// upstream).
    pub(crate) groups: Vec<Vec<(SocketAddr, usize)>>,
    /// `Timeout`, per attempt.
    pub(crate) timeout: Duration,
    /// `AllowRecursion`.
    pub(crate) allow: Vec<Cidr>,
    /// `SetTruncateBit`.
    pub(crate) set_truncate_bit: bool,
}

impl Upstreams {
    /// The forwarding settings of `cfg`. Each upstream's counter slot is
    /// its index in [`DnsConfig::counted_upstreams`].
    pub fn new(cfg: &DnsConfig) -> Self {
        // At startup the slot is the flat position; after a reload, the
        // position of the same address among the startup upstreams.
        let counted = &cfg.stats_upstreams;
        let mut flat = 0;
        let mut group = |list: &[SocketAddr]| -> Vec<(SocketAddr, usize)> {
            list.iter()
                .map(|a| {
                    flat += 1;
                    let slot = match counted.is_empty() {
                        true => flat - 1,
                        false => {
                            counted.iter().position(|c| c == a).unwrap_or(usize::MAX)
                        }
                    };
                    (*a, slot)
                })
                .collect()
        };
        let mut groups = vec![group(&cfg.resolvers)];
        for (_, list) in &cfg.zone_resolvers {
            groups.push(group(list));
        }
        Upstreams {
            groups,
            timeout: cfg.timeout.max(Duration::from_millis(1)),
            allow: cfg.allow_recursion.clone(),
            set_truncate_bit: cfg.set_truncate_bit,
        }
    }

    /// Upstream `attempt` of `group` and its counter slot.
    pub(crate) fn get(
        &self,
        group: usize,
        attempt: usize,
    ) -> Option<(SocketAddr, usize)> {
        self.groups.get(group).and_then(|g| g.get(attempt)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_counted_upstreams() {
        let a: SocketAddr = "10.0.0.1:53".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:53".parse().unwrap();
        let c: SocketAddr = "10.0.0.3:53".parse().unwrap();
        let start = DnsConfig {
            resolvers: vec![a],
            zone_resolvers: vec![("corp".into(), vec![b])],
            ..DnsConfig::default()
        };
        let up = Upstreams::new(&start);
        assert_eq!((up.get(0, 0), up.get(1, 0)), (Some((a, 0)), Some((b, 1))));
        // Reloaded: c is new (not counted per upstream), b keeps its slot.
        let reloaded = DnsConfig {
            resolvers: vec![c, b],
            zone_resolvers: Vec::new(),
            stats_upstreams: start.upstreams(),
            ..start
        };
        let up = Upstreams::new(&reloaded);
        assert_eq!(up.get(0, 0), Some((c, usize::MAX)));
        assert_eq!(up.get(0, 1), Some((b, 1)));
        assert_eq!(up.get(1, 0), None);
    }
}
