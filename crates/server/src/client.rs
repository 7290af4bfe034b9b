//! Which client a connection or a query counts against, for the per-client
//! caps of HTTP, DNS over TCP and forwarding.
//!
//! An IPv4 client is its address. An IPv6 client is its /64: one host
//! usually holds a whole /64 (RFC 4291 section 2.5.1 interface
//! identifiers, RFC 8981 temporary addresses), so counting single IPv6
//! addresses would let one host open as many connections as it likes. An
//! IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket) is the
//! IPv4 client it maps.

use std::net::{IpAddr, Ipv6Addr};

/// The key a client's connections are counted under.
pub fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> String {
        key(s.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv6_clients_are_grouped_by_slash_64() {
        assert_eq!(k("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(k("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::");
        assert_ne!(k("2001:db8:1:3::1"), k("2001:db8:1:2::1"));
    }

    #[test]
    fn ipv4_and_mapped_ipv4_are_one_client() {
        assert_eq!(k("192.0.2.7"), "192.0.2.7");
        assert_eq!(k("::ffff:192.0.2.7"), "192.0.2.7");
        assert_ne!(k("192.0.2.7"), k("192.0.2.8"));
    }
}
