//! Benchmarks for mesos-dns-rs: criterion benches in `benches/`, and the
//! dnsperf harness scripts beside them.

pub mod cluster;
