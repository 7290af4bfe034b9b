//! Field values both state readers share: IP literals, libprocess pids,
//! and the port ranges of a task's resources.

use std::net::IpAddr;

use super::Pid;
use crate::hostport::{parse_port, pid_addr_text, split_host_port};

/// Go `net.ParseIP`: an IPv4 or IPv6 literal, nothing else.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// Parses `id@host:port` as mesos-dns's `upid.Parse` does: the raw token
/// trimmed of `"` and spaces, exactly one `@`, then Go `net.SplitHostPort`
/// ([`crate::hostport`]). The host is not resolved here (mesos-dns
/// resolves it while parsing, and fails the whole state when that fails);
/// a port must be a number 0..=65535.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_pid(text: &str) -> Result<Pid, String> {
    let addr = pid_addr_text(text)?;
    let (host, port) = split_host_port(addr)?;
    let port = parse_port(port).ok_or_else(|| format!("invalid port {port:?}"))?;
    Ok(Pid {
        host: host.to_owned(),
        port,
    })
}

/// `Resources.Ports`: `""` and `"[]"` give none; otherwise the text between
/// the first `[` and the next `]`, split on `,`, each range `lo-hi` expanded
/// inclusive in order. A range that does not parse is reported through
/// `bad` and skipped (mesos-dns logs a bad number and skips, but panics on a
/// missing `[` or `-`). Ports above 65535 are reported and left out.
pub fn expand_ports(text: &str, bad: impl FnMut(String)) -> Vec<u16> {
    let mut out = Vec::new();
    each_port(text, bad, |p| out.push(p));
    out
}

/// [`expand_ports`], each port given to `port` in order.
pub(crate) fn each_port(
    text: &str,
    mut bad: impl FnMut(String),
    mut port: impl FnMut(u16),
) {
    if text.is_empty() || text == "[]" {
        return;
    }
    let Some((_, rhs)) = text.split_once('[') else {
        bad("no `[`".to_owned());
        return;
    };
    let inner = rhs.split(']').next().unwrap_or_default();
    for range in inner.split(',') {
        let range = range.trim();
        let mut bounds = range.split('-');
        let (Some(lo), Some(hi)) = (bounds.next(), bounds.next()) else {
            bad(format!("range {range:?} has no `-`"));
            continue;
        };
        // Go `strconv.Atoi`: optional sign, decimal digits.
        let (Ok(lo), Ok(hi)) = (lo.parse::<i64>(), hi.parse::<i64>()) else {
            bad(format!("range {range:?} is not numeric"));
            continue;
        };
        if hi > i64::from(u16::MAX) {
            bad(format!("range {range:?} goes above 65535"));
        }
        let lo = lo.max(0);
        let hi = hi.min(i64::from(u16::MAX));
        for p in lo..=hi {
            if let Ok(p) = u16::try_from(p) {
                port(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(text: &str) -> (Vec<u16>, usize) {
        let mut bad = 0;
        let p = expand_ports(text, |_| bad += 1);
        (p, bad)
    }

    // state_test.go TestResources_Ports.
    #[test]
    fn expands_port_ranges() {
        assert_eq!(
            ports("[31111-31111, 31115-31117]"),
            (vec![31111, 31115, 31116, 31117], 0)
        );
        assert_eq!(ports(""), (vec![], 0));
        assert_eq!(ports("[]"), (vec![], 0));
        assert_eq!(ports("[31000-31001-31005]"), (vec![31000, 31001], 0));
        assert_eq!(ports("x[5-6]y[7-8]"), (vec![5, 6], 0));
        assert_eq!(ports("[9-7]"), (vec![], 0));
    }

    // BEHAVIOUR.md 0: mesos-dns panics on these; we skip the range with a
    // reason.
    #[test]
    fn bad_port_ranges_are_skipped_not_fatal() {
        assert_eq!(ports("[31000]"), (vec![], 1));
        assert_eq!(ports("[31000, 5-5]"), (vec![5], 1));
        assert_eq!(ports("31000-31001"), (vec![], 1));
        assert_eq!(ports("[a-3, 4-4]"), (vec![4], 1));
        assert_eq!(ports("[ ]"), (vec![], 1));
        assert_eq!(ports("[65535-70000]"), (vec![65535], 1));
    }

    // state_test.go TestPID_UnmarshalJSON (quotes and spaces trimmed).
    #[test]
    fn parses_pids() {
        let want = Pid {
            host: "127.0.0.1".to_owned(),
            port: 5051,
        };
        for text in [
            "slave(1)@127.0.0.1:5051",
            "  slave(1)@127.0.0.1:5051  ",
            "\"slave(1)@127.0.0.1:5051\"",
        ] {
            assert_eq!(parse_pid(text), Ok(want.clone()), "{text:?}");
        }
        let v6 = parse_pid("  slave(1)@[2001:db8::1]:5051  ").unwrap();
        assert_eq!(v6.host, "2001:db8::1");
        assert_eq!(
            parse_pid("s@agent1.example:5051").unwrap().host,
            "agent1.example"
        );
        assert_eq!(parse_pid("s@:5051").unwrap().host, "");
        for bad in [
            "",
            "a@b@c:1",
            "nope",
            "s@1.2.3.4",
            "s@1.2.3.4:x",
            "s@1.2.3.4:70000",
        ] {
            assert!(parse_pid(bad).is_err(), "{bad:?}");
        }
        assert!(parse_pid("s@2001:db8::1:5051").is_err());
    }
}
