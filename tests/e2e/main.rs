//! End-to-end tests: one binary, one module per concern.
mod poller;
mod zookeeper;
