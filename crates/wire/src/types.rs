//! Record types and classes (RFC 1035 §3.2.2–§3.2.5, IANA registries).
//!
//! Both are open newtypes over `u16`: every value is representable, the
//! well-known ones have constants in RFC spelling.

use core::fmt;

/// A TYPE or QTYPE value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rtype(pub u16);

impl Rtype {
    /// An IPv4 host address (RFC 1035).
    pub const A: Self = Self(1);
    /// An authoritative name server (RFC 1035).
    pub const NS: Self = Self(2);
    /// The canonical name for an alias (RFC 1035).
    pub const CNAME: Self = Self(5);
    /// The start of a zone of authority (RFC 1035).
    pub const SOA: Self = Self(6);
    /// A domain name pointer (RFC 1035).
    pub const PTR: Self = Self(12);
    /// Mail exchange (RFC 1035).
    pub const MX: Self = Self(15);
    /// Text strings (RFC 1035).
    pub const TXT: Self = Self(16);
    /// An IPv6 host address (RFC 3596).
    pub const AAAA: Self = Self(28);
    /// Service location (RFC 2782).
    pub const SRV: Self = Self(33);
    /// The EDNS pseudo-record (RFC 6891).
    pub const OPT: Self = Self(41);
    /// Delegation signer (RFC 4034); it lives on the parent side of a zone cut.
    pub const DS: Self = Self(43);
    /// Incremental zone transfer (QTYPE only, RFC 1995).
    pub const IXFR: Self = Self(251);
    /// Zone transfer (QTYPE only, RFC 1035).
    pub const AXFR: Self = Self(252);
    /// All records (QTYPE only, RFC 1035; RFC 8482).
    pub const ANY: Self = Self(255);

    /// The mnemonic, if this is one of the constants above.
    pub const fn mnemonic(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "A",
            2 => "NS",
            5 => "CNAME",
            6 => "SOA",
            12 => "PTR",
            15 => "MX",
            16 => "TXT",
            28 => "AAAA",
            33 => "SRV",
            41 => "OPT",
            43 => "DS",
            251 => "IXFR",
            252 => "AXFR",
            255 => "ANY",
            _ => return None,
        })
    }
}

impl fmt::Display for Rtype {
    /// The mnemonic, or `TYPEnnn` (RFC 3597 §5) for others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

impl fmt::Debug for Rtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rtype({self})")
    }
}

/// A CLASS or QCLASS value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Class(pub u16);

impl Class {
    /// The Internet.
    pub const IN: Self = Self(1);
    /// Chaos (used for `version.bind` style queries).
    pub const CH: Self = Self(3);
    /// Hesiod.
    pub const HS: Self = Self(4);
    /// NONE (RFC 2136).
    pub const NONE: Self = Self(254);
    /// Any class (QCLASS only).
    pub const ANY: Self = Self(255);
}

impl fmt::Display for Class {
    /// The mnemonic, or `CLASSnnn` (RFC 3597 §5) for others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = match self.0 {
            1 => "IN",
            3 => "CH",
            4 => "HS",
            254 => "NONE",
            255 => "ANY",
            n => return write!(f, "CLASS{n}"),
        };
        f.write_str(m)
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Class({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn rfc3597_5_unknown_types_and_classes_print_generically() {
        assert_eq!(Rtype::SRV.to_string(), "SRV");
        assert_eq!(Rtype(65280).to_string(), "TYPE65280");
        assert_eq!(Class::IN.to_string(), "IN");
        assert_eq!(Class(42).to_string(), "CLASS42");
        assert_eq!(std::format!("{:?}", Rtype::AAAA), "Rtype(AAAA)");
    }
}
