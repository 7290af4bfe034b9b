//! `host:port` text as Go reads it: one copy of each rule, for the state
//! readers, the master list, the event stream and the config checks.
//!
//! - [`split_host_port`] is Go's `net.SplitHostPort`, error texts included
//!   (they show in config errors and in skip reasons);
//! - [`parse_port`] reads a port in a state (`upid` pids): decimal digits
//!   only, 0..=65535;
//! - [`parse_config_port`] reads a port in the config as Go's
//!   `strconv.Atoi` does (one optional sign), 1..=65535;
//! - [`host_port`] is a usable master address: it splits, the host is not
//!   empty and the port is 1..=65535 in digits (masters, ZooKeeper hosts,
//!   redirect targets);
//! - [`join_host_port`] is Go's `net.JoinHostPort`;
//! - [`pid_address`] is the `host:port` of a libprocess pid `id@host:port`.

/// Go's `net.SplitHostPort`: `host:port` or `[host]:port`, the port not
/// checked (it may be empty or not a number).
///
/// # Errors
/// Go's message (`address <addr>: <why>`, or just `<why>` for an empty
/// address): a missing port, too many colons, or a misplaced bracket.
pub fn split_host_port(addr: &str) -> Result<(&str, &str), String> {
    let fail = |why: &str| {
        if addr.is_empty() {
            Err(why.to_owned())
        } else {
            Err(format!("address {addr}: {why}"))
        }
    };
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    // The port starts after the last colon.
    let Some(colon) = addr.rfind(':') else {
        return fail(MISSING_PORT);
    };
    let (host, open, close) = if addr.starts_with('[') {
        // The first `]` must come just before the last `:`.
        let Some(end) = addr.find(']') else {
            return fail("missing ']' in address");
        };
        if end + 1 == addr.len() {
            return fail(MISSING_PORT);
        }
        if end + 1 != colon {
            return match addr.as_bytes().get(end + 1) {
                Some(b':') => fail(TOO_MANY_COLONS),
                _ => fail(MISSING_PORT),
            };
        }
        (&addr[1..end], 1, end + 1)
    } else {
        let host = &addr[..colon];
        if host.contains(':') {
            return fail(TOO_MANY_COLONS);
        }
        (host, 0, 0)
    };
    if addr[open..].contains('[') {
        return fail("unexpected '[' in address");
    }
    if addr[close..].contains(']') {
        return fail("unexpected ']' in address");
    }
    Ok((host, &addr[colon + 1..]))
}

/// A port in a state (a pid's port): decimal digits only, 0..=65535.
pub fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A port in the config, read as Go's `strconv.Atoi` reads it (digits with
/// one optional `+` or `-`), then checked to be 1..=65535.
pub fn parse_config_port(s: &str) -> Option<u16> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let port = parse_port(digits).filter(|&p| p != 0)?;
    (!s.starts_with('-')).then_some(port)
}

/// A usable master address: [`split_host_port`] with a non-empty host and
/// a port 1..=65535 in digits. `None` for `""` (the "leader unknown" slot
/// of a master list) and anything a URL could not carry.
pub fn host_port(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = split_host_port(addr).ok()?;
    let port = parse_port(port).filter(|&p| p != 0)?;
    (!host.is_empty()).then_some((host, port))
}

/// Go's `net.JoinHostPort`: `host:port`, the host bracketed when it holds
/// a `:` (an IPv6 literal).
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The address part of a libprocess pid as mesos-dns's `upid.Parse` cuts
/// it: the text trimmed of `"` and spaces, then exactly one `@`.
///
/// # Errors
/// Go's message when there is not exactly one `@`.
pub fn pid_addr_text(pid: &str) -> Result<&str, String> {
    let pid = pid.trim_matches(|c| c == '"' || c == ' ');
    let mut parts = pid.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_id), Some(addr), None) => Ok(addr),
        _ => Err("expect one `@' in the input".to_owned()),
    }
}

/// The `host:port` of a libprocess pid like `master@10.0.0.1:5050`, when
/// it is a usable master address ([`host_port`]).
pub fn pid_address(pid: &str) -> Option<&str> {
    let addr = pid_addr_text(pid).ok()?;
    host_port(addr).map(|_| addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_host_port_is_go_net_split_host_port() {
        let ok = [
            ("1.2.3.4:5", ("1.2.3.4", "5")),
            ("[::1]:5", ("::1", "5")),
            ("h:", ("h", "")),
            (":5050", ("", "5050")),
            ("[]:80", ("", "80")),
            ("a.example:http", ("a.example", "http")),
            ("[host]:80", ("host", "80")),
        ];
        for (addr, want) in ok {
            assert_eq!(split_host_port(addr), Ok(want), "{addr:?}");
        }
        let bad = [
            ("", "missing port in address"),
            ("4", "address 4: missing port in address"),
            ("[::1]", "address [::1]: missing port in address"),
            ("[::1]x:5", "address [::1]x:5: missing port in address"),
            ("[::1]:5:6", "address [::1]:5:6: too many colons in address"),
            ("::1:5", "address ::1:5: too many colons in address"),
            (
                "2001:db8::1:5050",
                "address 2001:db8::1:5050: too many colons in address",
            ),
            ("[::1:5", "address [::1:5: missing ']' in address"),
            ("a[b:5", "address a[b:5: unexpected '[' in address"),
            ("ab]:5", "address ab]:5: unexpected ']' in address"),
            ("[a[b]:5", "address [a[b]:5: unexpected '[' in address"),
            ("[ab]:5]", "address [ab]:5]: unexpected ']' in address"),
            ("a:5]", "address a:5]: unexpected ']' in address"),
        ];
        for (addr, want) in bad {
            assert_eq!(split_host_port(addr), Err(want.to_owned()), "{addr:?}");
        }
    }

    #[test]
    fn ports_in_a_state_are_digits_up_to_65535() {
        assert_eq!(parse_port("0"), Some(0));
        assert_eq!(parse_port("05050"), Some(5050));
        assert_eq!(parse_port("65535"), Some(65535));
        for bad in ["", "65536", "+80", "-1", " 80", "8o", "http"] {
            assert_eq!(parse_port(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ports_in_the_config_are_go_atoi_from_1_to_65535() {
        assert_eq!(parse_config_port("53"), Some(53));
        assert_eq!(parse_config_port("+53"), Some(53));
        assert_eq!(parse_config_port("0053"), Some(53));
        for bad in [
            "", "0", "+0", "-0", "-53", "++53", "+-53", "65536", "5 3", "+",
        ] {
            assert_eq!(parse_config_port(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn usable_master_addresses() {
        assert_eq!(host_port("a:1234"), Some(("a", 1234)));
        assert_eq!(host_port("[2001:db8::1]:53"), Some(("2001:db8::1", 53)));
        for bad in [
            "",
            "2001:db8::1",
            "a:0",
            ":5050",
            "[]:5050",
            "a:+5050",
            "a:65536",
            "[::1]:5:6",
            "a[b:5",
        ] {
            assert_eq!(host_port(bad), None, "{bad:?}");
        }
        assert_eq!(join_host_port("2001:db8::1", 5), "[2001:db8::1]:5");
        assert_eq!(join_host_port("10.0.0.1", 5050), "10.0.0.1:5050");
    }

    #[test]
    fn pid_addresses() {
        assert_eq!(pid_address("master@10.0.0.1:5050"), Some("10.0.0.1:5050"));
        assert_eq!(pid_address("\"master@h:1\""), Some("h:1"));
        assert_eq!(pid_address(" m@[::1]:1 "), Some("[::1]:1"));
        for bad in ["a@b@c:1", "10.0.0.1:5050", "m@", "m@h:0", "m@:5050", ""] {
            assert_eq!(pid_address(bad), None, "{bad:?}");
        }
        assert_eq!(pid_addr_text("s@:5051"), Ok(":5051"));
        assert_eq!(
            pid_addr_text("slave(1)10.0.1.3:5051"),
            Err("expect one `@' in the input".to_owned())
        );
    }
}
