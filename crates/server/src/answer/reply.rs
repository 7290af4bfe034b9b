//! What an answer is: the transport's size limit, the action to take with
//! the packet, and what the stats learn of it. Shared by every module that
//! writes answers (the table's, the reverse zones', the static records').

use dns_wire::{Edns, Query, Rcode};

/// Largest DNS message over TCP (RFC 1035 §4.2.2).
pub const MAX_TCP_MESSAGE: usize = 65_535;

/// The transport a query arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP: answers are limited to 512 octets or the client's EDNS size.
    Udp,
    /// TCP (RFC 7766): answers are limited to 65535 octets.
    Tcp,
}

/// What to do with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send the first `n` octets of the output buffer.
    Reply(usize),
    /// Forward the query unchanged to upstream group `group` (0 = the
    /// default `Resolvers`, k = the k-th `ZoneResolvers` entry).
    Forward {
        /// The upstream group.
        group: usize,
    },
    /// Send nothing.
    Drop,
}

/// What the stats need to know about an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub qtype: u16,
    /// The response code sent.
    pub rcode: Rcode,
    /// TC set, or answers trimmed to fit.
    pub truncated: bool,
    /// REFUSED because forwarding is off (or has no upstream).
    pub refused_external: bool,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            qtype: 0,
            rcode: Rcode::NOERROR,
            truncated: false,
            refused_external: false,
        }
    }
}

/// The size limit of a response to `q` over `transport`.
pub(crate) fn size_limit(q: &Query<'_>, edns_max: u16, transport: Transport) -> usize {
    match transport {
        Transport::Tcp => MAX_TCP_MESSAGE,
        Transport::Udp => q.edns.map_or(512, |e| {
            usize::from(e.udp_payload.clamp(512, edns_max.max(512)))
        }),
    }
}

/// The OPT record we send back to a query that had `query`: our payload
/// size (`edns_max`, at least 512), the upper bits of `rcode`, version 0,
/// the DO bit copied.
pub(crate) fn our_edns(query: Edns, rcode: Rcode, edns_max: u16) -> Edns {
    Edns {
        udp_payload: edns_max.max(512),
        ext_rcode: rcode.extended(),
        version: 0,
        dnssec_ok: query.dnssec_ok,
    }
}
