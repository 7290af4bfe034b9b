//! Reading the values of names: the one interface the answer table (after
//! a [`Delta`](crate::Delta)) and the explain API read them through, over
//! a [`RecordSet`](crate::RecordSet) or the live store's view alike.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The current values of names, as a consumer of a [`Delta`](crate::Delta)
/// reads them after the change (the answer table renders each changed name
/// from it). Values come sorted and unique, as in a
/// [`RecordSet`](crate::RecordSet).
pub trait Lookup {
    /// The A values of `name` (empty if none).
    fn a(&self, name: &str) -> &[Ipv4Addr];
    /// The AAAA values of `name` (empty if none).
    fn aaaa(&self, name: &str) -> &[Ipv6Addr];
    /// The SRV values of `name` as (target, port), by target then port.
    fn srv(&self, name: &str) -> Vec<(&str, u16)>;
    /// Every owner name with an SRV value whose target is `target`, sorted:
    /// the names whose SRV answers carry `target`'s first addresses as
    /// glue.
    fn srv_owners(&self, target: &str) -> Vec<&str>;
    /// The TTL a task label set for `name` (`DNS_TTL`, issue 22), if any.
    fn ttl_of(&self, _name: &str) -> Option<u32> {
        None
    }
    /// The weight a task label set for SRV values to `target`
    /// (`DNS_SRV_WEIGHT`, issue 22), if any.
    fn srv_weight_of(&self, _target: &str) -> Option<u16> {
        None
    }
}
