//! End-to-end tests: one binary, one module per concern.
mod demo;
mod dns_forward;
mod dns_hostile;
mod dns_swap;
mod dns_tcp;
mod dns_udp;
mod events;
mod http_api;
mod http_isolation;
mod http_metrics;
mod http_process;
mod poller;
mod process;
mod readme;
mod state_fetch;
mod zookeeper;
