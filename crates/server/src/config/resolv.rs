//! The system resolvers, used when `ExternalOn` is set and `Resolvers` is
//! empty (spec 2.3 step 4): the `nameserver` lines of resolv.conf, minus
//! the addresses of this host (forwarding to ourselves would loop).

use std::net::{IpAddr, SocketAddr, UdpSocket};
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

/// True if `ip` is an address of one of this host's interfaces, as
/// mesos-dns compares them. Loopback interfaces carry `127.0.0.1` and `::1`
/// (other `127.0.0.0/8` addresses, such as systemd-resolved's
/// `127.0.0.53`, are not interface addresses and stay); any other address
/// is local when a socket can bind to it (the standard library cannot list
/// interfaces).
pub fn is_local(ip: IpAddr) -> bool {
    if ip.is_loopback() {
        return ip == IpAddr::from([127, 0, 0, 1])
            || ip == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]);
    }
    ip.is_unspecified() || UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// The system resolvers: resolv.conf's nameservers that are not local.
///
/// # Errors
///
/// The I/O error reading `path`.
pub fn system_resolvers(path: &Path) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(nameservers(&text)
        .into_iter()
        .filter(|ns| !ns.parse::<IpAddr>().is_ok_and(is_local))
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
        assert!(is_local("127.0.0.1".parse().unwrap()));
        assert!(!is_local("127.0.0.53".parse().unwrap()));
        assert!(is_local("::1".parse().unwrap()));
        // TEST-NET-3 is never assigned to a host.
        assert!(!is_local("203.0.113.9".parse().unwrap()));
        let dir = std::env::temp_dir().join(format!("resolv-{}", std::process::id()));
        std::fs::write(
            &dir,
            "nameserver 127.0.0.1\nnameserver 203.0.113.9\nnameserver ::1\n",
        )
        .unwrap();
        assert_eq!(system_resolvers(&dir).unwrap(), ["203.0.113.9"]);
        std::fs::remove_file(&dir).unwrap();
        assert!(system_resolvers(Path::new("/nonexistent/resolv.conf")).is_err());
    }
}
