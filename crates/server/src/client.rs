//! Which client a connection or a query counts against, for the per-client
//! caps of HTTP, DNS over TCP and forwarding.
//!
//! An IPv4 client is its address. An IPv6 client is its /64: one host
//! usually holds a whole /64 (RFC 4291 section 2.5.1 interface
//! identifiers, RFC 8981 temporary addresses), so counting single IPv6
//! addresses would let one host open as many connections as it likes. An
//! IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket) is the
//! IPv4 client it maps.
//!
//! [`Cidr`] is an address prefix, as `AllowRecursion` lists them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// An address prefix (`10.0.0.0/8`, `fd00::/8`; a bare address is a
/// single host).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The network address, with the host bits cleared.
    net: IpAddr,
    /// The prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    len: u8,
}

/// `AllowRecursion`'s default: the addresses a cluster's own hosts and
/// tasks use (loopback, RFC 1918 private, RFC 3927 and RFC 4291 link-local,
/// RFC 4193 unique local).
pub const PRIVATE_NETWORKS: [&str; 8] = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

impl Cidr {
    /// Parses `address/length` or a bare address.
    ///
    /// # Errors
    ///
    /// A text that is not an address, or a length beyond the family's
    /// bits.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let net: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an address or address/length"))?;
        let bits = if net.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => bits,
            Some(len) => len
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= bits)
                .ok_or_else(|| format!("{text:?}: the length must be 0..={bits}"))?,
        };
        Ok(Cidr {
            net: mask(net, len),
            len,
        })
    }

    /// Whether `ip` is in the prefix. An IPv4-mapped IPv6 address (from a
    /// dual-stack socket) is matched as the IPv4 address it maps.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_ipv4() == self.net.is_ipv4() && mask(ip, self.len) == self.net
    }

    /// Whether the prefix holds every address of its family (`/0`).
    pub fn is_everything(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.len)
    }
}

/// `ip` with all but its first `len` bits cleared.
fn mask(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & keep))
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & keep))
        }
    }
}

/// Whether any prefix of `list` holds `ip`.
pub fn allowed(list: &[Cidr], ip: IpAddr) -> bool {
    list.iter().any(|c| c.contains(ip))
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

    #[test]
    fn cidr_parses_and_matches() {
        let c = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains("10.200.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::a00:1".parse().unwrap()), "no family mixing");
        let host = Cidr::parse("192.0.2.1").unwrap();
        assert_eq!(host.to_string(), "192.0.2.1/32");
        assert!(!host.contains("192.0.2.2".parse().unwrap()));
        let ula = Cidr::parse("fc00::/7").unwrap();
        assert!(ula.contains("fd12:3456::1".parse().unwrap()));
        assert!(!ula.contains("fe80::1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.is_everything() && all.contains("203.0.113.9".parse().unwrap()));
        assert!(Cidr::parse("::/0")
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "nope",
            "10.0.0.0/",
            "10.0.0.0/x",
            "",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_networks_parse() {
        let list: Vec<Cidr> = PRIVATE_NETWORKS
            .iter()
            .map(|t| Cidr::parse(t).unwrap())
            .collect();
        assert!(allowed(&list, "127.0.0.1".parse().unwrap()));
        assert!(allowed(&list, "172.31.255.255".parse().unwrap()));
        assert!(!allowed(&list, "172.32.0.1".parse().unwrap()));
        assert!(!allowed(&list, "8.8.8.8".parse().unwrap()));
        assert!(!allowed(&list, "2001:db8::1".parse().unwrap()));
    }
}
