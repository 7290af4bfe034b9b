//! The `mesos-dns` server: config and flags, the DNS workers, the forwarder
//! and the HTTP API.
