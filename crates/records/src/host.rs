//! Host names to addresses, and the machine's own interface addresses.
//!
//! mesos-dns resolves framework, slave, leader and master host names with the
//! system resolver, without a time limit, and crashes on some of them
//! (BEHAVIOUR.md 4.9). Generation calls a [`Resolver`] instead: the default
//! asks the system resolver (`getaddrinfo`, so `/etc/hosts` is honoured) on a
//! helper thread and gives up after a bounded time; tests inject a fixed table.
//!
//! [`interface_addrs`] lists the non-loopback addresses of every interface
//! for the nameserver record when `Listener` is `0.0.0.0` (BEHAVIOUR.md 4.10).
//! The standard library cannot list interfaces and `unsafe` is forbidden, so it
//! reads Linux's `/proc/net/fib_trie` (IPv4: the `/32 host LOCAL` entries)
//! and `/proc/net/if_inet6` (IPv6, link-local included). Elsewhere it finds
//! nothing, and the nameserver name gets no record.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Default time limit for one system lookup.
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

type ResolveFn = dyn Fn(&str) -> Result<Vec<IpAddr>, String> + Send + Sync;

/// Resolves a host name to addresses, or says why it could not.
#[derive(Clone)]
pub struct Resolver(Arc<ResolveFn>);

impl Resolver {
    /// The system resolver with a time limit per lookup. A lookup that times
    /// out is abandoned: its thread finishes on its own and its answer is
    /// dropped.
    pub fn system(timeout: Duration) -> Resolver {
        Resolver(Arc::new(move |host: &str| system_lookup(host, timeout)))
    }

    /// A fixed table, for tests: names not in it do not resolve.
    pub fn fixed(table: &[(&str, &[IpAddr])]) -> Resolver {
        let table: Vec<(String, Vec<IpAddr>)> = table
            .iter()
            .map(|(h, a)| ((*h).to_owned(), a.to_vec()))
            .collect();
        Resolver(Arc::new(move |host: &str| {
            table
                .iter()
                .find(|(h, _)| h == host)
                .map(|(_, a)| a.clone())
                .ok_or_else(|| format!("{host}: no such host"))
        }))
    }

    /// Any function.
    pub fn from_fn(
        f: impl Fn(&str) -> Result<Vec<IpAddr>, String> + Send + Sync + 'static,
    ) -> Resolver {
        Resolver(Arc::new(f))
    }

    /// Resolves `host`: an IP literal is returned as is, without a lookup
    /// (mesos-dns `hostToIPs`); the empty name never resolves.
    ///
    /// # Errors
    /// Why there is no address.
    pub fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        if host.is_empty() {
            return Err("empty host name".to_owned());
        }
        let ips = (self.0)(host)?;
        if ips.is_empty() {
            return Err(format!("{host}: no addresses"));
        }
        Ok(ips)
    }
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::system(DEFAULT_RESOLVE_TIMEOUT)
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver(..)")
    }
}

fn system_lookup(host: &str, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("resolve".to_owned())
        .spawn(move || {
            let r = (name.as_str(), 0u16)
                .to_socket_addrs()
                .map(|a| a.map(|s| s.ip()).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            // The receiver may have given up; that is fine.
            let _ = tx.send(r);
        })
        .map_err(|e| format!("{host}: cannot start a lookup: {e}"))?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(ips)) => {
            // getaddrinfo repeats an address per socket type; keep the first.
            let mut seen = BTreeSet::new();
            Ok(ips.into_iter().filter(|ip| seen.insert(*ip)).collect())
        }
        Ok(Err(e)) => Err(format!("{host}: {e}")),
        Err(_) => Err(format!("{host}: lookup timed out after {timeout:?}")),
    }
}

type AddrsFn = dyn Fn() -> Vec<IpAddr> + Send + Sync;

/// Where the nameserver record finds the machine's addresses.
#[derive(Clone)]
pub struct LocalAddrs(Arc<AddrsFn>);

impl LocalAddrs {
    /// The interface addresses from `/proc` ([`interface_addrs`]).
    pub fn system() -> LocalAddrs {
        LocalAddrs(Arc::new(interface_addrs))
    }

    /// A fixed list, for tests.
    pub fn fixed(addrs: &[IpAddr]) -> LocalAddrs {
        let addrs = addrs.to_vec();
        LocalAddrs(Arc::new(move || addrs.clone()))
    }

    /// The addresses.
    pub fn get(&self) -> Vec<IpAddr> {
        (self.0)()
    }
}

impl Default for LocalAddrs {
    fn default() -> LocalAddrs {
        LocalAddrs::system()
    }
}

impl fmt::Debug for LocalAddrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalAddrs(..)")
    }
}

/// Every non-loopback address of every interface (Linux `/proc`), sorted.
pub fn interface_addrs() -> Vec<IpAddr> {
    let mut out = BTreeSet::new();
    if let Ok(text) = std::fs::read_to_string("/proc/net/fib_trie") {
        out.extend(fib_trie_local_v4(&text).into_iter().map(IpAddr::V4));
    }
    if let Ok(text) = std::fs::read_to_string("/proc/net/if_inet6") {
        out.extend(if_inet6(&text).into_iter().map(IpAddr::V6));
    }
    out.into_iter().filter(|ip| !ip.is_loopback()).collect()
}

/// The addresses of `/32 host LOCAL` leaves in `/proc/net/fib_trie`.
fn fib_trie_local_v4(text: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(addr) = t.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            out.extend(last);
        }
    }
    out
}

/// The addresses in `/proc/net/if_inet6` (32 hex digits per line first).
fn if_inet6(text: &str) -> Vec<Ipv6Addr> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|hex| {
            u128::from_str_radix(hex, 16)
                .ok()
                .filter(|_| hex.len() == 32)
        })
        .map(Ipv6Addr::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_skip_the_lookup() {
        let r = Resolver::fixed(&[]);
        assert_eq!(r.resolve("1.2.3.4"), Ok(vec!["1.2.3.4".parse().unwrap()]));
        assert_eq!(
            r.resolve("2001:db8::1"),
            Ok(vec!["2001:db8::1".parse().unwrap()])
        );
        assert!(r.resolve("").is_err());
        assert!(r.resolve("nowhere").is_err());
    }

    #[test]
    fn system_resolver_finds_localhost() {
        let ips = Resolver::default().resolve("localhost").unwrap();
        assert!(ips.iter().all(IpAddr::is_loopback), "{ips:?}");
    }

    #[test]
    fn system_resolver_fails_cleanly() {
        let r = Resolver::system(Duration::from_secs(5));
        assert!(r.resolve("no-such-host.invalid").is_err());
    }

    #[test]
    fn parses_fib_trie() {
        let text = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     \
                    +-- 10.0.0.0/8 2 0 2\n        |-- 10.0.0.5\n           /32 host LOCAL\n        \
                    |-- 10.255.255.255\n           /32 link BROADCAST\n     |-- 127.0.0.1\n        \
                    /32 host LOCAL\n";
        assert_eq!(
            fib_trie_local_v4(text),
            vec![Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::LOCALHOST]
        );
    }

    #[test]
    fn parses_if_inet6() {
        let text = "00000000000000000000000000000001 01 80 10 80       lo\n\
                    fe800000000000000000000000000001 02 40 20 80     eth0\n";
        assert_eq!(
            if_inet6(text),
            vec![Ipv6Addr::LOCALHOST, "fe80::1".parse::<Ipv6Addr>().unwrap()]
        );
    }

    #[test]
    fn interface_addrs_has_no_loopback() {
        assert!(interface_addrs().iter().all(|ip| !ip.is_loopback()));
    }
}
