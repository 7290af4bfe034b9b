//! The one error type of this crate.
//!
//! Every failure is described by a [`WireError`]: a `Copy` value of at most
//! eight bytes that carries offsets rather than strings, so it costs nothing
//! to return and can be logged without allocation.

use core::fmt;

/// Everything that can go wrong while reading or writing DNS wire data.
///
/// Offsets (`at`, `to`) are octet offsets from the start of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended in the middle of a field, label, name or record.
    Truncated,
    /// The output buffer is too small for what was being written.
    Full,
    /// A label length octet with the reserved prefixes `0b01` or `0b10`
    /// (RFC 1035 §4.1.4, RFC 6891 §5). Carries the whole length octet.
    LabelType(u8),
    /// A label longer than 63 octets was given to a writer (RFC 1035 §2.3.4).
    LabelTooLong,
    /// A name longer than 255 octets in wire form (RFC 1035 §2.3.4).
    NameTooLong,
    /// An empty label inside a name given to a writer (`a..b`).
    EmptyLabel,
    /// A compression pointer at offset `at` to offset `to` that does not
    /// point strictly backwards, before the start of the name that uses it.
    BadPointer {
        /// Offset of the two pointer octets.
        at: u16,
        /// Offset the pointer refers to.
        to: u16,
    },
    /// A query whose QDCOUNT is not exactly one (RFC 9619).
    QdCount(u16),
    /// Octets left over after the last record the header announced.
    TrailingData,
    /// More than one OPT record (RFC 6891 §6.1.1).
    DuplicateOpt,
    /// An OPT record whose owner is not the root name (RFC 6891 §6.1.2).
    BadOpt,
    /// RDATA of a known type whose length does not match its contents.
    BadRdata {
        /// The record type whose RDATA is malformed.
        rtype: u16,
    },
    /// An extended RCODE (above 15) was to be written to a response that
    /// has no OPT record to carry its upper eight bits (RFC 6891 §6.1.3).
    ExtendedRcode,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated => f.write_str("message truncated"),
            Self::Full => f.write_str("output buffer full"),
            Self::LabelType(b) => write!(f, "unsupported label type {b:#04x}"),
            Self::LabelTooLong => f.write_str("label longer than 63 octets"),
            Self::NameTooLong => f.write_str("name longer than 255 octets"),
            Self::EmptyLabel => f.write_str("empty label inside a name"),
            Self::BadPointer { at, to } => {
                write!(
                    f,
                    "compression pointer at {at} to {to} does not point backwards"
                )
            }
            Self::QdCount(n) => write!(f, "query has {n} questions, expected 1"),
            Self::TrailingData => f.write_str("trailing data after the last record"),
            Self::DuplicateOpt => f.write_str("more than one OPT record"),
            Self::BadOpt => f.write_str("OPT record owner is not the root name"),
            Self::BadRdata { rtype } => write!(f, "malformed RDATA for type {rtype}"),
            Self::ExtendedRcode => f.write_str("extended RCODE needs an OPT record"),
        }
    }
}

impl core::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_small_and_copy() {
        assert!(core::mem::size_of::<WireError>() <= 8);
        fn copy<T: Copy + Send + Sync + 'static>() {}
        copy::<WireError>();
    }
}
