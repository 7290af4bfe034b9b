//! Test harness for mesos-dns-rs end-to-end tests: spawns the server, a fake
//! Mesos master and ZooKeeper on loopback.

pub mod dns;
pub mod fake_cluster;
pub mod fake_master;
pub mod fake_operator;
pub mod http;
pub mod port;
pub mod process;
pub mod secondary;
pub mod strategy;
pub mod zookeeper;
