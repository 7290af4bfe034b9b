//! `StaticZoneFile` (issue 20), against the binary on loopback: static
//! records served with `dig`, followed CNAMEs, `/v1/axfr`, and the file
//! read again when it changes (a broken one keeping the last good records).

use std::time::Duration;

use mesos_dns_tests::http::get;
use mesos_dns_tests::process::{demo_config, demo_dir, dig, Server, TempDir};
use serde_json::json;

const ZONE: &str = "\
$TTL 90
db        IN A     10.0.0.1
db           TXT   \"role=primary\"
alias        CNAME db
_pg._tcp     SRV   0 5 5432 db
";

fn short(dns: std::net::SocketAddr, name: &str, rtype: &str) -> String {
    dig(dns, &["+short", name, rtype]).trim().to_string()
}

#[test]
fn rfc1035_5_static_records_are_served_and_follow_the_file() {
    let dir = TempDir::new("static-zone");
    let state = std::fs::read_to_string(demo_dir().join("state.json")).unwrap();
    let state = dir.write("state.json", &state);
    dir.write("static.zone", ZONE);
    let config = dir.write(
        "config.json",
        &demo_config(&state, json!({"StaticZoneFile": "static.zone"})),
    );
    let mut server = Server::start(&["-config", &config]);
    let (dns, http) = server.addresses();
    server.wait_stdout("StaticZoneFile");
    server.wait_stdout("first state load");

    assert_eq!(short(dns, "db.mesos", "A"), "10.0.0.1");
    assert_eq!(short(dns, "db.mesos", "TXT"), "\"role=primary\"");
    assert_eq!(short(dns, "_pg._tcp.mesos", "SRV"), "0 5 5432 db.mesos.");
    // RFC 1034 4.3.2: the CNAME, then the target's address.
    assert_eq!(short(dns, "alias.mesos", "A"), "db.mesos.\n10.0.0.1");
    let out = dig(dns, &["db.mesos", "A"]);
    assert!(out.contains("db.mesos.\t\t90\tIN\tA\t10.0.0.1"), "{out}");
    // The Mesos records are still there.
    assert!(!short(dns, "leader.mesos", "A").is_empty());

    let axfr = get(&format!("http://{http}/v1/axfr")).json();
    let statics = axfr["StaticRecords"].as_array().expect("StaticRecords");
    assert_eq!(statics.len(), 4);
    assert_eq!(
        statics[0],
        json!({"Name": "db.mesos.", "Type": "A", "TTL": 90, "Value": "10.0.0.1"})
    );

    // A broken file: one error line, the last good records stay.
    dir.write("static.zone", "db A 10.0.0.2\nbad A 300.0.0.1\n");
    let line = server.wait_stderr("StaticZoneFile");
    assert!(
        line.contains("line 2") && line.contains("last good"),
        "{line}"
    );
    assert_eq!(short(dns, "db.mesos", "A"), "10.0.0.1");

    // A good one replaces them.
    dir.write("static.zone", "db A 10.0.0.3\n");
    server.wait_stdout("(changed)");
    let mut got = String::new();
    for _ in 0..50 {
        got = short(dns, "db.mesos", "A");
        if got == "10.0.0.3" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(got, "10.0.0.3");
    assert_eq!(short(dns, "alias.mesos", "A"), "", "gone with the old file");
}

/// The records of a `kdig`/`dig` zone listing as `name TYPE data` lines,
/// every type.
fn zone_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let data = f.get(4..)?.join(" ");
            Some(format!("{} {} {data}", f.first()?, f.get(3)?))
        })
        .collect()
}

#[test]
fn rfc5936_axfr_carries_the_static_records_over_their_mesos_names() {
    let dir = TempDir::new("static-axfr");
    dir.write("static.zone", &format!("{ZONE}leader A 10.9.9.9\n"));
    let (_s, dns, _http) =
        crate::xfr::primary(&dir, json!({"StaticZoneFile": "static.zone"}));
    for out in [
        mesos_dns_tests::dns::run_client("kdig", dns, &["AXFR", "mesos."]),
        dig(dns, &["AXFR", "mesos."]),
    ] {
        let lines = zone_lines(&out);
        for want in [
            "db.mesos. A 10.0.0.1",
            "db.mesos. TXT \"role=primary\"",
            "alias.mesos. CNAME db.mesos.",
            "_pg._tcp.mesos. SRV 0 5 5432 db.mesos.",
        ] {
            assert!(lines.iter().any(|l| l == want), "{want} in {out}");
        }
        // The static name hides the Mesos records of the same name, in a
        // transfer as in the answers.
        let leader: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("leader.mesos. "))
            .collect();
        assert_eq!(leader, ["leader.mesos. A 10.9.9.9"], "{out}");
        assert!(lines.first().is_some_and(|l| l.contains(" SOA ")), "{out}");
        assert!(lines.last().is_some_and(|l| l.contains(" SOA ")), "{out}");
    }
}

#[test]
fn rfc1996_a_changed_static_file_reaches_a_knot_secondary() {
    use crate::xfr::{answer, next_serial};
    use mesos_dns_tests::port::free_port;
    use mesos_dns_tests::secondary::{soa_serial, Kind, Secondary};

    let dir = TempDir::new("static-notify");
    dir.write("static.zone", ZONE);
    let port = free_port();
    let keys = json!({
        "StaticZoneFile": "static.zone",
        "NotifySecondaries": [format!("127.0.0.1:{port}")],
    });
    let (mut s, dns, _http) = crate::xfr::primary(&dir, keys);
    let first = soa_serial(dns, "mesos.").expect("our SOA");
    let knot = Secondary::start_on(Kind::Knot, "mesos", dns, port);
    knot.wait_serial("mesos.", first);
    assert_eq!(
        answer(knot.addr, "db.mesos.", 1),
        answer(dns, "db.mesos.", 1)
    );
    // Only the file changes, not the cluster: the zone still gets a new
    // serial, and the secondary hears of it by NOTIFY (its SOA refresh is
    // a minute away) and transfers the zone again.
    dir.write("static.zone", &ZONE.replace("10.0.0.1", "10.0.0.7"));
    s.wait_stdout("(changed)");
    let second = next_serial(dns, first);
    knot.wait_serial("mesos.", second);
    let got = answer(knot.addr, "db.mesos.", 1);
    assert_eq!(got, answer(dns, "db.mesos.", 1));
    assert!(got.iter().any(|r| r.ends_with("10.0.0.7")), "{got:?}");
}
