//! Reverse lookups (issue 20): PTR records derived from the A and AAAA
//! records, through real clients: `dig -x`, `host`, and glibc's
//! `getent hosts <ip>`.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;

use mesos_dns::dns_config::DnsConfig;
use mesos_dns_tests::dns::{run_client, squash, test_config, DnsFixture};
use mesos_records::RecordSet;

fn records() -> RecordSet {
    let mut rs = RecordSet::default();
    for (i, h) in [(1u8, "aaa"), (2, "bbb")] {
        let ip = Ipv4Addr::new(10, 1, 0, i);
        rs.insert_a("web.marathon.mesos.", ip);
        rs.insert_a(&format!("web-{h}-s1.marathon.mesos."), ip);
    }
    rs.insert_aaaa("v6.marathon.mesos.", "2001:db8::7".parse().unwrap());
    rs
}

fn server(listener: Option<SocketAddr>) -> DnsFixture {
    let mut cfg = DnsConfig {
        reverse_zones: vec!["1.10.in-addr.arpa".into()],
        ..test_config()
    };
    if let Some(a) = listener {
        cfg.listener = a.ip();
        cfg.port = a.port();
    }
    DnsFixture::start(cfg, records())
}

#[test]
fn rfc1035_3_5_dig_x_gets_forward_confirmed_names() {
    let s = server(None);
    let out = run_client("dig", s.addr(), &["-x", "10.1.0.2"]);
    let flat = squash(&out);
    assert!(out.contains(" aa"), "authoritative: {out}");
    assert!(
        flat.contains("2.0.1.10.in-addr.arpa. 60 IN PTR web-bbb-s1.marathon.mesos."),
        "{out}"
    );
    assert!(flat.contains("IN PTR web.marathon.mesos."), "{out}");
    // Each name resolves forward to the address (FCrDNS).
    for name in ["web-bbb-s1.marathon.mesos", "web.marathon.mesos"] {
        let a = run_client("dig", s.addr(), &["+short", name, "A"]);
        assert!(a.lines().any(|l| l == "10.1.0.2"), "{name}: {a}");
    }
    let out = run_client("dig", s.addr(), &["+short", "-x", "2001:db8::7"]);
    assert_eq!(out.trim(), "v6.marathon.mesos.");
}

#[test]
fn rfc2308_a_reverse_zone_answers_nxdomain_with_its_soa() {
    let s = server(None);
    let out = run_client("dig", s.addr(), &["-x", "10.1.0.99"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(
        squash(&out).contains("1.10.in-addr.arpa. 60 IN SOA ns1.mesos."),
        "{out}"
    );
    let out = run_client("kdig", s.addr(), &["-x", "10.1.0.1", "TXT"]);
    assert!(
        out.contains("NOERROR") && out.contains("SOA"),
        "NODATA: {out}"
    );
}

#[test]
fn host_names_the_address() {
    let s = server(None);
    let out = Command::new("host")
        .args([
            "-W",
            "3",
            "-p",
            &s.addr().port().to_string(),
            "10.1.0.1",
            "127.0.0.1",
        ])
        .output()
        .unwrap_or_else(|e| panic!("host is required for this test: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "1.0.1.10.in-addr.arpa domain name pointer web-aaa-s1.marathon.mesos."
        ),
        "{text}"
    );
}

/// glibc reads `/etc/resolv.conf`, which has no port: the server listens
/// on port 53 of a loopback address of its own, and `getent` runs in a
/// mount namespace where that address is the only name server. Needs
/// root (for port 53 and the namespace); skipped without it.
#[test]
fn glibc_getent_hosts_finds_the_name_of_an_address() {
    let addr: SocketAddr = "127.0.0.77:53".parse().unwrap();
    if std::net::UdpSocket::bind(addr).is_err() {
        eprintln!("skipped: cannot bind {addr} (needs root)");
        return;
    }
    let s = server(Some(addr));
    let dir =
        std::env::temp_dir().join(format!("mesos-dns-getent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let resolv = dir.join("resolv.conf");
    let nss = dir.join("nsswitch.conf");
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.77\noptions timeout:2 attempts:1\n",
    )
    .unwrap();
    std::fs::write(&nss, "hosts: dns\n").unwrap();
    let script = format!(
        "mount --bind {} /etc/resolv.conf && mount --bind {} /etc/nsswitch.conf && \
         getent hosts 10.1.0.2 && getent hosts 2001:db8::7",
        resolv.display(),
        nss.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = match out {
        Ok(o) if !String::from_utf8_lossy(&o.stderr).contains("unshare failed") => o,
        _ => {
            eprintln!("skipped: no mount namespace");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // glibc takes the first PTR as the host name (and ignores the rest).
    let lines: Vec<String> = text.lines().map(squash).collect();
    assert_eq!(
        lines,
        [
            "10.1.0.2 web-bbb-s1.marathon.mesos",
            "2001:db8::7 v6.marathon.mesos"
        ],
        "{text}"
    );
    drop(s);
}
