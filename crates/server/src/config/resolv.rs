//! The system resolvers, used when `ExternalOn` is set and `Resolvers` is
//! empty (BEHAVIOUR.md 2.3 step 4): the `nameserver` lines of resolv.conf,
//! minus the addresses of this host's interfaces (read from `/proc` by
//! [`mesos_records::host::interface_addrs`]): forwarding to ourselves
//! would loop.

use std::net::IpAddr;
use std::path::Path;

/// Where the system keeps its resolver list (as in mesos-dns).
pub const SYSTEM_RESOLV_CONF: &str = "/etc/resolv.conf";

/// The nameservers listed in the resolv.conf text `text`, in order.
pub fn nameservers(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => Some(addr.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// True if `ip` is an address of one of this host's interfaces
/// (`interfaces`, without loopback), as mesos-dns compares them. Loopback
/// interfaces carry `127.0.0.1` and `::1`; other `127.0.0.0/8` addresses,
/// such as systemd-resolved's `127.0.0.53`, are not interface addresses and
/// stay.
pub fn is_local(ip: IpAddr, interfaces: &[IpAddr]) -> bool {
    ip == IpAddr::from([127, 0, 0, 1])
        || ip == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
        || ip.is_unspecified()
        || interfaces.contains(&ip)
}

/// The system resolvers: resolv.conf's nameservers that are not local.
///
/// # Errors
///
/// The I/O error reading `path`.
pub fn system_resolvers(path: &Path) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let interfaces = mesos_records::host::interface_addrs();
    Ok(nameservers(&text)
        .into_iter()
        .filter(|ns| {
            !ns.parse::<IpAddr>()
                .is_ok_and(|ip| is_local(ip, &interfaces))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nameserver_lines() {
        let text = "# comment\nsearch example.com\nnameserver 10.0.0.2\n\
                    nameserver\t2001:db8::53 \noptions ndots:5\nnameserver\n";
        assert_eq!(nameservers(text), ["10.0.0.2", "2001:db8::53"]);
    }

    #[test]
    fn drops_local_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let interfaces = [ip("10.1.2.3"), ip("fd00::7")];
        assert!(is_local(ip("127.0.0.1"), &interfaces));
        assert!(!is_local(ip("127.0.0.53"), &interfaces));
        assert!(is_local(ip("::1"), &interfaces));
        assert!(is_local(ip("10.1.2.3"), &interfaces));
        assert!(is_local(ip("fd00::7"), &interfaces));
        assert!(!is_local(ip("10.1.2.4"), &interfaces));
        // An address of this machine, found the way mesos-dns finds it.
        let mine = mesos_records::host::interface_addrs();
        let dir = std::env::temp_dir().join(format!("resolv-{}", std::process::id()));
        let mut text =
            "nameserver 127.0.0.1\nnameserver 203.0.113.9\nnameserver ::1\n".to_string();
        if let Some(a) = mine.first() {
            text.push_str(&format!("nameserver {a}\n"));
        }
        std::fs::write(&dir, text).unwrap();
        // TEST-NET-3 is never assigned to a host: the only one kept.
        assert_eq!(system_resolvers(&dir).unwrap(), ["203.0.113.9"]);
        std::fs::remove_file(&dir).unwrap();
        assert!(system_resolvers(Path::new("/nonexistent/resolv.conf")).is_err());
    }
}
