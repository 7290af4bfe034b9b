//! Validation tests: every check of BEHAVIOUR.md 2.3 in order, with its
//! message.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mesos_records::IpSource;
use mesos_sources::fetch::Auth;

use super::validate::Env;
use super::*;

const NOW: u32 = 1_795_337_146;

pub(super) struct Fixture {
    pub(super) dir: PathBuf,
}

impl Fixture {
    pub(super) fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "mesos-dns-config-{}-{name}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("resolv.conf"),
            "nameserver 203.0.113.7\nnameserver 127.0.0.1\n",
        )
        .unwrap();
        Fixture { dir }
    }

    pub(super) fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    pub(super) fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.join(name), text).unwrap();
        self.path(name)
    }

    pub(super) fn load(&self, text: &str) -> Result<Config, ConfigError> {
        let resolv = self.dir.join("resolv.conf");
        let env = Env {
            resolv_conf: &resolv,
            now: NOW,
        };
        load_text(text.as_bytes(), "/etc/mesos-dns/config.json", &env).map(|(c, _)| c)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Fixture::new("load").load(text)
}

/// The one-line error for `text`, and the key it names.
pub(super) fn error(text: &str) -> (String, &'static str) {
    match load(text) {
        Err(e @ ConfigError::Invalid { key, .. }) => (e.to_string(), key),
        other => panic!("{text}: expected an invalid config, got {other:?}"),
    }
}

fn assert_error(text: &str, key: &str, message: &str) {
    let (line, k) = error(text);
    assert_eq!(k, key, "{text}");
    assert_eq!(line, format!("{message} (config key {key})"), "{text}");
    assert!(!line.contains('\n'));
}

const MIN: &str = r#""masters":["10.0.0.1:5050"]"#;

pub(super) fn with(extra: &str) -> String {
    format!("{{{MIN},{extra}}}")
}

#[test]
fn defaults_after_validation() {
    let c = load(&format!("{{{MIN}}}")).unwrap();
    assert_eq!(c.file.domain, "mesos");
    assert_eq!(c.file.soa_mname, "ns1.mesos.");
    assert_eq!(c.file.soa_rname, "root.ns1.mesos.");
    assert_eq!(c.file.soa_serial, NOW);
    assert_eq!(c.resolvers, ["8.8.8.8:53".parse().unwrap()]);
    assert!(c.zone_resolvers.is_empty());
    assert_eq!(
        c.ip_sources,
        [IpSource::Netinfo, IpSource::Mesos, IpSource::Host]
    );
    assert_eq!(c.dns_addr, "0.0.0.0:53".parse().unwrap());
    assert_eq!(c.http_addr, "0.0.0.0:8123".parse().unwrap());
    assert_eq!(c.upstream_timeout, std::time::Duration::from_secs(5));
    assert_eq!(c.refresh, std::time::Duration::from_secs(60));
    assert_eq!(c.state_timeout, std::time::Duration::from_secs(300));
    assert_eq!(
        c.zk_detection_timeout,
        Some(std::time::Duration::from_secs(30))
    );
    assert!(c.dns_workers >= 1);
    assert!(matches!(c.auth, Auth::None));
    assert!(c.tls.ca.is_none());
    assert!(c.warnings.is_empty());
}

#[test]
fn step1_dns_or_http() {
    assert_error(
        &with(r#""DnsOn":false,"HttpOn":false"#),
        "DnsOn/HttpOn",
        "service validation failed: either DNS or HTTP server should be on",
    );
    // Step 1 comes before step 2.
    assert_eq!(error(r#"{"dnson":false,"httpon":false}"#).1, "DnsOn/HttpOn");
}

#[test]
fn step2_masters_or_zk() {
    let msg =
        "service validation failed: specify Mesos masters or Zookeeper in config.json";
    assert_error("{}", "Masters/Zk", msg);
    assert_error(r#"{"masters":[]}"#, "Masters/Zk", msg);
    assert_error(r#"{"masters":null,"zk":""}"#, "Masters/Zk", msg);
    assert!(load(r#"{"zk":"zk://10.0.0.1:2181/mesos"}"#).is_ok());
    let c = load(r#"{"StateFile":"state.json"}"#).unwrap();
    assert!(c.warnings.is_empty());
    let c = load(r#"{"StateFile":"state.json","masters":["a:1"]}"#).unwrap();
    assert_eq!(c.warnings.len(), 1);
}

#[test]
fn step3_masters() {
    let p = "error validating masters: ";
    assert_error(
        r#"{"masters":["10.0.0.1"]}"#,
        "Masters",
        &format!("{p}illegal host:port specified: 10.0.0.1. Error: address 10.0.0.1: missing port in address"),
    );
    assert_error(
        r#"{"masters":["2001:db8::1:5050"]}"#,
        "Masters",
        &format!("{p}illegal host:port specified: 2001:db8::1:5050. Error: address 2001:db8::1:5050: too many colons in address"),
    );
    assert_error(
        r#"{"masters":["10.0.0.1:0"]}"#,
        "Masters",
        &format!("{p}illegal host:port specified: 10.0.0.1:0. Error: bad port \"0\""),
    );
    assert_error(
        r#"{"masters":["10.0.0.1:65536"]}"#,
        "Masters",
        &format!(
            "{p}illegal host:port specified: 10.0.0.1:65536. Error: bad port \"65536\""
        ),
    );
    assert_error(
        r#"{"masters":[":5050"]}"#,
        "Masters",
        &format!("{p}illegal host:port specified: :5050. Error: empty host"),
    );
    assert_error(
        r#"{"masters":["[2001:0db8::1]:5050","[2001:db8::1]:5050"]}"#,
        "Masters",
        &format!("{p}duplicate found: [2001:db8::1]:5050"),
    );
    assert_error(
        r#"{"masters":["Master1:5050","master1:5050"]}"#,
        "Masters",
        &format!("{p}duplicate found: master1:5050"),
    );
    // Hostnames are accepted (a fix: mesos-dns crashes on them later).
    assert!(
        load(r#"{"masters":["master1.example:5050","10.0.0.1:5050","[::1]:5050"]}"#)
            .is_ok()
    );
}

#[test]
fn step4_resolvers() {
    let p = "error validating resolvers: ";
    assert_error(
        &with(r#""Resolvers":["dns.google"]"#),
        "Resolvers",
        &format!("{p}illegal host:port specified: dns.google"),
    );
    assert_error(
        &with(r#""Resolvers":["dns.google:53"]"#),
        "Resolvers",
        &format!("{p}illegal ip specified: dns.google"),
    );
    assert_error(
        &with(r#""Resolvers":["1.1.1.1:0"]"#),
        "Resolvers",
        &format!("{p}illegal port specified: 1.1.1.1:0"),
    );
    assert_error(
        &with(r#""Resolvers":["1.1.1.1","1.1.1.1:53"]"#),
        "Resolvers",
        &format!("{p}duplicate found: 1.1.1.1:53"),
    );
    let c = load(&with(
        r#""Resolvers":["1.1.1.1:5353","2001:db8::53","[2001:db8::54]:53"]"#,
    ))
    .unwrap();
    assert_eq!(
        c.resolvers,
        [
            "1.1.1.1:5353".parse().unwrap(),
            "[2001:db8::53]:53".parse().unwrap(),
            "[2001:db8::54]:53".parse().unwrap()
        ]
    );
    // Not checked at all when ExternalOn is false.
    let c = load(&with(
        r#""ExternalOn":false,"Resolvers":["bad"],"ZoneResolvers":{"x":[]}"#,
    ))
    .unwrap();
    assert!(c.resolvers.is_empty());
}

#[test]
fn step4_empty_resolvers_come_from_resolv_conf() {
    for empty in ["[]", "null"] {
        let c = load(&with(&format!(r#""Resolvers":{empty}"#))).unwrap();
        // 127.0.0.1 is this host: dropped.
        assert_eq!(c.resolvers, ["203.0.113.7:53".parse().unwrap()]);
        assert_eq!(c.file.resolvers, Some(vec!["203.0.113.7".to_string()]));
    }
    let fx = Fixture::new("noresolv");
    std::fs::write(fx.dir.join("resolv.conf"), "search x\n").unwrap();
    let c = fx.load(&with(r#""Resolvers":[]"#)).unwrap();
    assert!(c.resolvers.is_empty());
    assert_eq!(c.warnings.len(), 1);
    std::fs::remove_file(fx.dir.join("resolv.conf")).unwrap();
    let e = fx.load(&with(r#""Resolvers":[]"#)).unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Invalid {
                key: "Resolvers",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn step4_zone_resolvers() {
    let k = "ZoneResolvers";
    assert_error(
        &with(r#""ZoneResolvers":{"consul":[]}"#),
        k,
        "field ZoneResolver consul is empty",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"consul":null}"#),
        k,
        "field ZoneResolver consul is empty",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"consul.":["1.1.1.1"]}"#),
        k,
        "consul. is not a valid domain name",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"consul":["x"]}"#),
        k,
        "error validating zone resolvers of consul: illegal host:port specified: x",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"Mesos":["1.1.1.1"]}"#),
        k,
        "can't specify ZoneResolver for Mesos domain (mesos)",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"a.mesos":["1.1.1.1"]}"#),
        k,
        "ambiguous zone resolvers: .a.mesos is masked by .mesos",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"consul":["1.1.1.1"],"dc1.consul":["1.1.1.2"]}"#),
        k,
        "ambiguous zone resolvers: .dc1.consul is masked by .consul",
    );
    assert_error(
        &with(r#""ZoneResolvers":{"consul":["1.1.1.1"],"CONSUL":["1.1.1.2"]}"#),
        k,
        "zone consul given twice (zones ignore case)",
    );
    let c = load(&with(
        r#""ZoneResolvers":{"Consul":["10.1.1.1"],"aconsul":["10.1.1.2:54"]}"#,
    ))
    .unwrap();
    assert_eq!(
        c.zone_resolvers,
        [
            ("aconsul".to_string(), vec!["10.1.1.2:54".parse().unwrap()]),
            ("consul".to_string(), vec!["10.1.1.1:53".parse().unwrap()]),
        ]
    );
}

#[test]
fn step5_ip_sources() {
    let k = "IPSources";
    assert_error(
        &with(r#""IPSources":[]"#),
        k,
        "IPSources validation failed: empty ip sources",
    );
    assert_error(
        &with(r#""IPSources":null"#),
        k,
        "IPSources validation failed: empty ip sources",
    );
    assert_error(
        &with(r#""IPSources":["host","host"]"#),
        k,
        "IPSources validation failed: duplicate ip source specified",
    );
    assert_error(
        &with(r#""IPSources":["autoip"]"#),
        k,
        "IPSources validation failed: invalid ip source \"autoip\"",
    );
    let c = load(&with(r#""IPSources":["docker","host"]"#)).unwrap();
    assert_eq!(c.ip_sources, [IpSource::Docker, IpSource::Host]);
}

#[test]
fn step6_timeouts() {
    assert_error(
        &with(r#""StateTimeoutSeconds":0"#),
        "StateTimeoutSeconds",
        "Invalid HTTP Timeout: 0",
    );
    assert_error(
        &with(r#""StateTimeoutSeconds":-3"#),
        "StateTimeoutSeconds",
        "Invalid HTTP Timeout: -3",
    );
    assert_error(
        &with(r#""RefreshSeconds":0"#),
        "RefreshSeconds",
        "RefreshSeconds must be positive, not 0",
    );
    assert_error(
        &with(r#""RefreshSeconds":-1"#),
        "RefreshSeconds",
        "RefreshSeconds must be positive, not -1",
    );
    let c = load(&with(r#""Timeout":0,"ZkDetectionTimeout":0"#)).unwrap();
    assert_eq!(c.upstream_timeout, std::time::Duration::from_secs(5));
    assert_eq!(c.zk_detection_timeout, None);
}

#[test]
fn step7_domain() {
    assert_eq!(
        load(&with(r#""Domain":"MyDomain.Example""#))
            .unwrap()
            .file
            .domain,
        "mydomain.example"
    );
    assert!(load(&with(r#""Domain":"-a-.b""#)).is_ok());
    for bad in ["mesos.", "", "a..b", "a_b", ".mesos"] {
        assert_error(
            &with(&format!(r#""Domain":"{bad}""#)),
            "Domain",
            &format!("{bad} is not a valid domain name"),
        );
    }
    let long = "a".repeat(64);
    assert_eq!(error(&with(&format!(r#""Domain":"{long}""#))).1, "Domain");
}

#[test]
fn step8_soa_names_and_serial() {
    let c = load(&with(r#""SOAMname":"NS1.Example..","SOARname":"hostmaster@example.com.","SOASerial":5"#)).unwrap();
    assert_eq!(c.file.soa_mname, "NS1.Example.");
    assert_eq!(c.file.soa_rname, "hostmaster.example.com.");
    assert_eq!(c.file.soa_serial, NOW);
    assert_error(
        &with(r#""SOAMname":"a..b""#),
        "SOAMname",
        "a..b. is not a valid domain name",
    );
    assert_error(
        &with(r#""SOARname":"x@@y""#),
        "SOARname",
        "x..y. is not a valid domain name",
    );
}

#[test]
fn step11_ports_listeners_and_extensions() {
    assert_error(
        &with(r#""Port":65536"#),
        "Port",
        "Port 65536 is not a port (0..65535)",
    );
    assert_error(
        &with(r#""HttpPort":-1"#),
        "HttpPort",
        "HttpPort -1 is not a port (0..65535)",
    );
    assert_error(
        &with(r#""Listener":"no such host.invalid""#),
        "Listener",
        "Listener \"no such host.invalid\" is not an IP address or a known host name",
    );
    assert_error(
        &with(r#""Timeout":-1"#),
        "Timeout",
        "Timeout must not be negative, not -1",
    );
    assert_error(
        &with(r#""TTL":-1"#),
        "TTL",
        "TTL must not be negative, not -1",
    );
    assert_error(
        &with(r#""DnsWorkers":-1"#),
        "DnsWorkers",
        "DnsWorkers must not be negative, not -1",
    );
    assert_error(
        &with(r#""DnsWorkers":5000"#),
        "DnsWorkers",
        "DnsWorkers 5000 is above 1024",
    );
    assert_error(
        &with(r#""EDNSMaxPayload":511"#),
        "EDNSMaxPayload",
        "EDNSMaxPayload 511 is below 512 (RFC 6891 6.2.5)",
    );
    for key in [
        "TCPMaxConnections",
        "TCPMaxConnectionsPerClient",
        "TCPIdleSeconds",
        "StateMaxBytes",
        "StateSnapshotMaxAgeSeconds",
    ] {
        assert_error(
            &with(&format!(r#""{key}":0"#)),
            key,
            &format!("{key} must be positive, not 0"),
        );
    }
    for key in ["HealthFilterMinFraction", "HoldDownFraction"] {
        assert_error(
            &with(&format!(r#""{key}":1.5"#)),
            key,
            &format!("{key} must be between 0 and 1, not 1.5"),
        );
        assert_error(
            &with(&format!(r#""{key}":-0.1"#)),
            key,
            &format!("{key} must be between 0 and 1, not -0.1"),
        );
        assert!(load(&with(&format!(r#""{key}":1"#))).is_ok());
    }
    assert_error(
        &with(r#""ReverseZones":["10.in-addr.arpa","corp.example"]"#),
        "ReverseZones",
        r#"ReverseZones entry "corp.example" is not a zone under in-addr.arpa or ip6.arpa"#,
    );
    assert!(load(&with(
        r#""ReverseZones":["10.IN-ADDR.arpa.","8.b.d.0.1.0.0.2.ip6.arpa"]"#
    ))
    .is_ok());
    assert_error(
        &with(r#""ForwardCacheSize":-1"#),
        "ForwardCacheSize",
        "ForwardCacheSize must not be negative, not -1",
    );
    assert_error(
        &with(r#""StateSource":"push""#),
        "StateSource",
        r#"StateSource must be "poll", "events" or "secondary", not "push""#,
    );
    assert_eq!(
        load(&format!("{{{MIN}}}")).unwrap().file.state_source,
        "poll"
    );
    assert_eq!(
        load(&with(r#""StateSource":"events""#))
            .unwrap()
            .file
            .state_source,
        "events"
    );
    let c = load(&with(r#""Listener":"127.0.0.1","Port":8053,"HTTPListener":"::1","HttpPort":0,"DnsWorkers":3"#)).unwrap();
    assert_eq!(c.dns_addr, "127.0.0.1:8053".parse().unwrap());
    assert_eq!(c.http_addr, "[::1]:0".parse().unwrap());
    assert_eq!(c.dns_workers, 3);
    assert_eq!(
        load(&with(r#""Listener":"""#)).unwrap().dns_addr,
        "0.0.0.0:53".parse().unwrap()
    );
}

#[test]
fn checks_run_in_mesos_dns_order() {
    // Every field bad at once: the earliest step is reported.
    let all_bad = r#""Resolvers":["x"],"IPSources":[],"StateTimeoutSeconds":0,"Domain":"a..b","Port":-1"#;
    assert_eq!(
        error(&format!(r#"{{"masters":["x"],{all_bad}}}"#)).1,
        "Masters"
    );
    assert_eq!(error(&with(all_bad)).1, "Resolvers");
    assert_eq!(
        error(&with(r#""IPSources":[],"StateTimeoutSeconds":0"#)).1,
        "IPSources"
    );
    assert_eq!(
        error(&with(r#""RefreshSeconds":0,"Domain":"a..b""#)).1,
        "RefreshSeconds"
    );
    assert_eq!(
        error(&with(r#""Domain":"a..b","SOAMname":"..x""#)).1,
        "Domain"
    );
    assert_eq!(
        error(&with(r#""SOAMname":"a..b","CertFile":"x""#)).1,
        "SOAMname"
    );
    assert_eq!(
        error(&with(r#""CertFile":"x","MesosAuthentication":"x""#)).1,
        "KeyFile"
    );
    assert_eq!(
        error(&with(r#""MesosAuthentication":"x","Port":-1"#)).1,
        "MesosAuthentication"
    );
}

/// `AllowRecursion`: prefixes or addresses, private networks by default,
/// and a warning for an open resolver on a listener others can reach.
#[test]
fn allow_recursion_parses_and_warns_when_open() {
    let c = load(&format!("{{{MIN}}}")).unwrap();
    let default: Vec<String> =
        c.allow_recursion.iter().map(ToString::to_string).collect();
    assert_eq!(default, DEFAULT_ALLOW_RECURSION);
    assert!(c.warnings.is_empty());
    let c = load(&with(r#""AllowRecursion":["10.1.0.0/16","2001:db8::1"]"#)).unwrap();
    let list: Vec<String> = c.allow_recursion.iter().map(ToString::to_string).collect();
    assert_eq!(list, ["10.1.0.0/16", "2001:db8::1/128"]);
    assert!(load(&with(r#""AllowRecursion":null"#))
        .unwrap()
        .allow_recursion
        .is_empty());
    assert_error(
        &with(r#""AllowRecursion":["10.0.0.0/40"]"#),
        "AllowRecursion",
        r#"AllowRecursion: "10.0.0.0/40": the length must be 0..=32"#,
    );
    assert_error(
        &with(r#""AllowRecursion":["any"]"#),
        "AllowRecursion",
        r#"AllowRecursion: "any" is not an address or address/length"#,
    );
    let open = r#""AllowRecursion":["0.0.0.0/0","::/0"]"#;
    let c = load(&with(open)).unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0]
            .starts_with("AllowRecursion 0.0.0.0/0, ::/0 forwards for every address"),
        "{:?}",
        c.warnings
    );
    // Not on loopback, nor without forwarding.
    let c = load(&with(&format!(r#"{open},"Listener":"127.0.0.1""#))).unwrap();
    assert!(c.warnings.is_empty());
    let c = load(&with(&format!(r#"{open},"ExternalOn":false"#))).unwrap();
    assert!(c.warnings.is_empty());
}

#[test]
fn load_reads_a_file_and_reports_a_missing_one() {
    let fx = Fixture::new("file");
    let path = fx.write("config.json", &with(r#""unknownkey":1"#));
    let (c, unknown) = super::load(&path).unwrap();
    assert_eq!(c.file.file, path);
    assert_eq!(unknown, ["unknownkey"]);
    let missing = fx.path("nope.json");
    let e = super::load(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("missing configuration file: {missing:?} (")),
        "{e}"
    );
    assert!(Path::new(&missing).is_absolute());
}

/// `deploy/config.example.json` lists every key (except `File`, which
/// would override the path) with its default; only `Masters` holds an
/// example value, since mesos-dns needs masters or ZooKeeper.
#[test]
fn example_config_holds_every_key_with_its_default() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config.example.json");
    let text = std::fs::read(&path).unwrap();
    let (file, unknown) = decode::decode(&text, "/x/config.json").unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");
    let expected = ConfigFile {
        file: "/x/config.json".to_string(),
        masters: file.masters.clone(),
        ..ConfigFile::default()
    };
    assert_eq!(file, expected);
    assert!(file.masters.as_ref().is_some_and(|m| !m.is_empty()));
    let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let all: Vec<&str> = decode::KEYS
        .iter()
        .copied()
        .filter(|k| *k != "File")
        .collect();
    assert_eq!(keys, all);
    assert!(load(&String::from_utf8(text).unwrap()).is_ok());
}
