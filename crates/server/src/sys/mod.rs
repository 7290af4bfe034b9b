//! The system calls std, mio and socket2 do not wrap: the project's only
//! `unsafe` code, kept in this one module so that it is reviewed in one
//! place (the workspace denies `unsafe_code`, and CI checks that no file
//! outside this folder lifts that).
//!
//! - [`udp_batch`]: `recvmmsg(2)` and `sendmmsg(2)`, a batch of datagrams
//!   per call;
//! - [`process`]: the open-files limit (`getrlimit(2)`, `setrlimit(2)`),
//!   returning the heap's free pages to the kernel (`malloc_trim(3)`),
//!   capping the heap's arenas (`mallopt(3)`), and a background thread's
//!   priority (`setpriority(2)`).
//!
//! Each `unsafe` block carries its own safety argument; every pointer
//! handed to the kernel or the C library points into memory the caller
//! owns for the duration of the call.

pub(crate) mod process;
pub(crate) mod udp_batch;
