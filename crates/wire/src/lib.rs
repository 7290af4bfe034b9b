//! DNS wire format: a `no_std`, no-alloc, zero-copy parser and encoder.
//!
//! This crate turns DNS messages into typed views and typed values back
//! into DNS messages, and does nothing else: no sockets, no resolution, no
//! DNSSEC validation, no zone transfers, no text zone files. It takes
//! `&[u8]` in and writes into `&mut [u8]`; it never allocates and has no
//! dependencies, so it builds for bare-metal targets and is easy to fuzz.
//!
//! # Shape
//!
//! - Reading: a [`Reader`] is a bounds-checked cursor. [`parse_query`]
//!   validates an incoming query *eagerly* (header, exactly one question,
//!   the EDNS OPT record, no trailing data) and returns a [`Query`] whose
//!   fields are plain values. [`Message::parse`] validates a whole message
//!   (any response, all four sections, typed RDATA for A, AAAA, NS, CNAME,
//!   PTR, SOA, SRV and OPT) and then iterates it infallibly.
//! - Names: [`Name`] is a validated view into the message. Compression
//!   pointers must point strictly backwards, labels hold at most 63 octets,
//!   names at most 255, and the reserved label types are rejected, so a
//!   hostile packet cannot make the parser loop or read out of bounds.
//!   [`Name::to_lowercase`] writes a lowercase lookup key into a stack
//!   buffer.
//! - Writing: a [`Writer`] is a cursor over the output buffer; a full
//!   buffer is an error ([`WireError::Full`]), never a panic. [`Slot`]
//!   back-patches RDLENGTH and counts. [`Compressor`] compresses names
//!   with a fixed-size table. `write_*` functions emit headers, questions
//!   and A, AAAA, NS, CNAME, PTR, SOA, SRV (target never compressed) and
//!   OPT records; [`write_error`] and [`write_formerr`] build error
//!   responses in one call.
//! - Errors: one small `Copy` enum, [`WireError`], with offsets instead of
//!   strings.
//!
//! Names handed to writers are *uncompressed wire form* (`\x03www\x07example
//! \x03com\x00`); [`name::from_dotted`] converts from `www.example.com`.
//!
//! # Standards
//!
//! - RFC 1035 §3.1 (names), §3.2 (RR format), §3.3, §3.4.1 (RDATA),
//!   §4.1 (message format), §4.1.4 (compression);
//! - RFC 3596 §2.2 (AAAA); RFC 2782 (SRV); RFC 2308 §4 (SOA minimum);
//! - RFC 6891 §6 (EDNS(0) OPT, extended RCODE, BADVERS); RFC 3225 (DO);
//! - RFC 4035 §3.2 (AD, CD); RFC 4343 (case-insensitivity); RFC 9619
//!   (QDCOUNT is one).
//!
//! # Example
//!
//! Parse a query, look up its name, and answer it:
//!
//! ```
//! use core::net::Ipv4Addr;
//! use dns_wire::{
//!     parse_query, write_a, write_error, Compressor, Rcode, Rtype, Writer,
//!     MAX_NAME_LEN,
//! };
//!
//! // A query for `Web.Example.` type A, ID 0x1234, RD set.
//! let packet = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
//!                \x03Web\x07Example\x00\x00\x01\x00\x01";
//! let query = parse_query(packet)?;
//! let mut key = [0u8; MAX_NAME_LEN];
//! let lookup = query.qname.to_lowercase(&mut key);
//! assert_eq!(lookup, b"\x03web\x07example\x00");
//!
//! let mut out = [0u8; 512];
//! let len = if query.qtype == Rtype::A {
//!     let mut w = Writer::new(&mut out);
//!     let mut header = query.response_header(Rcode::NOERROR);
//!     header.flags = header.flags.with_aa(true);
//!     header.ancount = 1;
//!     header.write(&mut w)?;
//!     // Echo the question as received; names after it compress to it.
//!     let mut c = Compressor::new();
//!     c.remember(w.len());
//!     w.bytes(query.question)?;
//!     write_a(&mut w, &mut c, lookup, 60, Ipv4Addr::new(10, 0, 0, 7))?;
//!     w.len()
//! } else {
//!     write_error(&query, Rcode::REFUSED, &mut out)?
//! };
//! assert_eq!(len, 12 + 17 + 16);
//! // The owner name became a pointer to the question at offset 12, so
//! // the client sees its own spelling, `Web.Example.`.
//! assert_eq!(&out[29..31], b"\xc0\x0c");
//! # Ok::<(), dns_wire::WireError>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![warn(clippy::arithmetic_side_effects)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

#[cfg(test)]
extern crate std;

pub mod compress;
pub mod edns;
pub mod error;
pub mod header;
pub mod message;
pub mod name;
pub mod query;
pub mod question;
pub mod reader;
pub mod record;
pub mod response;
pub mod types;
pub mod writer;

pub use compress::Compressor;
pub use edns::{write_opt, Edns, DEFAULT_UDP_PAYLOAD, MIN_UDP_PAYLOAD, OPT_LEN};
pub use error::WireError;
pub use header::{Flags, Header, Opcode, Rcode, HEADER_LEN};
pub use message::{Message, Questions, Records};
pub use name::{skip_name, Labels, Name, MAX_LABEL_LEN, MAX_NAME_LEN};
pub use query::{parse_query, write_query, Query};
pub use question::{write_question, Question};
pub use reader::Reader;
pub use record::{
    skip_record, write_a, write_aaaa, write_cname, write_ns, write_ptr, write_record,
    write_record_header, write_soa, write_srv, Rdata, Record, Soa, Srv,
};
pub use response::{write_error, write_formerr};
pub use types::{Class, Rtype};
pub use writer::{Slot, Writer};
