//! DNS wire format: a `no_std`, no-alloc, zero-copy parser and encoder.
#![no_std]
#![forbid(unsafe_code)]
