//! Unit tests of decoding: Go's key folding, null and merge rules, and
//! the wording of its type errors.

use super::*;

fn dec(text: &str) -> Result<(ConfigFile, Vec<String>), ConfigError> {
    decode(text.as_bytes(), "/etc/mesos-dns/config.json")
}

fn ok(text: &str) -> ConfigFile {
    dec(text).unwrap().0
}

fn type_err(text: &str) -> String {
    match dec(text) {
        Err(ConfigError::Unmarshal { reason, .. }) => reason,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn empty_object_and_null_give_the_defaults() {
    let defaults = ConfigFile {
        file: "/etc/mesos-dns/config.json".to_string(),
        ..ConfigFile::default()
    };
    assert_eq!(ok("{}"), defaults);
    assert_eq!(ok("null"), defaults);
    assert_eq!(ok(" {} \n"), defaults);
}

#[test]
fn keys_fold_like_go() {
    assert_eq!(ok(r#"{"dnson":false,"httpport":9,"ttl":7}"#).ttl, 7);
    assert!(!ok(r#"{"dnson":false}"#).dns_on);
    assert_eq!(ok(r#"{"httpport":9}"#).http_port, 9);
    assert_eq!(ok("{\"\u{17f}OAMname\":\"ns1\"}").soa_mname, "ns1");
}

#[test]
fn last_duplicate_wins_across_spellings() {
    assert_eq!(ok(r#"{"TTL":1,"ttl":2,"Ttl":3}"#).ttl, 3);
    assert_eq!(ok(r#"{"ttl":2,"TTL":1}"#).ttl, 1);
}

/// Every key of BEHAVIOUR.md 2.2 (and our extensions) decodes into its
/// field.
#[test]
fn every_key_decodes() {
    let f = ok(r#"{
        "RefreshSeconds": 1, "Port": 2, "Timeout": 3, "StateTimeoutSeconds": 4,
        "ZkDetectionTimeout": -5, "HttpPort": 6, "TTL": 7, "SRVRecordDefaultWeight": 8,
        "SOASerial": 9, "SOARefresh": 10, "SOARetry": 11, "SOAExpire": 12,
        "SOAMinttl": 13, "SOAMname": "a.", "SOARname": "b@c", "Masters": ["m:1"],
        "ZoneResolvers": {"z": ["1.1.1.1"]}, "Resolvers": ["9.9.9.9"],
        "IPSources": ["host"], "Zk": "zk://h:1/m", "Domain": "D", "File": "f",
        "Listener": "127.0.0.1", "HTTPListener": "::1", "RecurseOn": false,
        "DnsOn": false, "HttpOn": false, "ExternalOn": false, "EnforceRFC952": true,
        "SetTruncateBit": false, "EnumerationOn": false, "MesosHTTPSOn": true,
        "CACertFile": "ca", "CertFile": "c", "KeyFile": "k",
        "MesosCredentials": {"principal": "p", "SECRET": "s"},
        "IAMConfigFile": "i", "MesosAuthentication": "basic",
        "StateFile": "s.json", "DnsWorkers": 3, "EDNSMaxPayload": 4096,
        "TCPMaxConnections": 5, "TCPMaxConnectionsPerClient": 6,
        "TCPIdleSeconds": 7, "StateMaxBytes": 8, "StateSource": "events",
        "ForwardCacheSize": 9, "ReverseZones": ["10.in-addr.arpa"],
        "StaticZoneFile": "static.zone",
        "AllowRecursion": ["10.0.0.0/8"],
        "TransferAllow": ["10.0.0.1"], "NotifySecondaries": ["10.0.0.2:53"],
        "IXFRJournalVersions": 9, "IXFRJournalBytes": 10,
        "StateSnapshotFile": "snap", "StateSnapshotMaxAgeSeconds": 9,
        "Primaries": ["10.0.0.3:53"], "HealthFilter": true,
        "HealthFilterMinFraction": 0.25, "TaskLabelPolicy": true,
        "HoldDownFraction": 1
    }"#);
    let zones = BTreeMap::from([("z".to_string(), Some(vec!["1.1.1.1".to_string()]))]);
    let expected = ConfigFile {
        refresh_seconds: 1,
        port: 2,
        timeout: 3,
        state_timeout_seconds: 4,
        zk_detection_timeout: -5,
        http_port: 6,
        ttl: 7,
        srv_record_default_weight: 8,
        soa_serial: 9,
        soa_refresh: 10,
        soa_retry: 11,
        soa_expire: 12,
        soa_minttl: 13,
        soa_mname: "a.".into(),
        soa_rname: "b@c".into(),
        masters: Some(vec!["m:1".into()]),
        zone_resolvers: Some(zones),
        resolvers: Some(vec!["9.9.9.9".into()]),
        ip_sources: Some(vec!["host".into()]),
        zk: "zk://h:1/m".into(),
        domain: "D".into(),
        file: "f".into(),
        listener: "127.0.0.1".into(),
        http_listener: "::1".into(),
        recurse_on: false,
        dns_on: false,
        http_on: false,
        external_on: false,
        enforce_rfc952: true,
        set_truncate_bit: false,
        enumeration_on: false,
        mesos_https_on: true,
        ca_cert_file: "ca".into(),
        cert_file: "c".into(),
        key_file: "k".into(),
        mesos_credentials: Credentials {
            principal: "p".into(),
            secret: "s".into(),
        },
        iam_config_file: "i".into(),
        mesos_authentication: "basic".into(),
        state_file: "s.json".into(),
        dns_workers: 3,
        edns_max_payload: 4096,
        tcp_max_connections: 5,
        tcp_max_connections_per_client: 6,
        tcp_idle_seconds: 7,
        state_max_bytes: 8,
        state_source: "events".into(),
        forward_cache_size: 9,
        reverse_zones: Some(vec!["10.in-addr.arpa".into()]),
        static_zone_file: "static.zone".into(),
        allow_recursion: Some(vec!["10.0.0.0/8".into()]),
        transfer_allow: Some(vec!["10.0.0.1".to_string()]),
        notify_secondaries: Some(vec!["10.0.0.2:53".to_string()]),
        ixfr_journal_versions: 9,
        ixfr_journal_bytes: 10,
        state_snapshot_file: "snap".into(),
        state_snapshot_max_age_seconds: 9,
        primaries: Some(vec!["10.0.0.3:53".to_string()]),
        health_filter: true,
        health_filter_min_fraction: crate::config::Fraction::new(0.25),
        task_label_policy: true,
        hold_down_fraction: crate::config::Fraction(1.into()),
    };
    assert_eq!(f, expected);
}

#[test]
fn null_empties_lists_and_keeps_scalars() {
    let f = ok(r#"{"Resolvers":null,"IPSources":null,"ZoneResolvers":null,
                   "TTL":null,"Domain":null,"DnsOn":null,"MesosCredentials":null}"#);
    assert_eq!(f.resolvers, None);
    assert_eq!(f.ip_sources, None);
    assert_eq!(f.zone_resolvers, None);
    assert_eq!(f.ttl, DEFAULT_TTL_FOR_TEST);
    assert_eq!(f.domain, "mesos");
    assert!(f.dns_on);
    assert_eq!(ok(r#"{"Resolvers":[]}"#).resolvers, Some(vec![]));
    assert_eq!(
        ok(r#"{"Masters":["a:1",null]}"#).masters,
        Some(vec!["a:1".into(), "".into()])
    );
}

const DEFAULT_TTL_FOR_TEST: i32 = super::super::DEFAULT_TTL;

#[test]
fn objects_merge_into_maps_and_credentials() {
    let f = ok(
        r#"{"ZoneResolvers":{"a":["1.1.1.1"]},"zoneresolvers":{"b":null},
                   "MesosCredentials":{"Principal":"p"},"mesoscredentials":{"secret":"s"}}"#,
    );
    let zones = f.zone_resolvers.unwrap();
    assert_eq!(zones.len(), 2);
    assert_eq!(zones["b"], None);
    assert_eq!(f.mesos_credentials.principal, "p");
    assert_eq!(f.mesos_credentials.secret, "s");
}

#[test]
fn file_key_overrides_the_path() {
    assert_eq!(ok("{}").file, "/etc/mesos-dns/config.json");
    assert_eq!(ok(r#"{"file":"x"}"#).file, "x");
}

#[test]
fn unknown_keys_are_returned_not_fatal() {
    let (f, unknown) =
        dec(r#"{"ns":"x","email":"y","TTL":5,"MesosCredentials":{"user":1}}"#).unwrap();
    assert_eq!(f.ttl, 5);
    assert_eq!(unknown, ["ns", "email", "MesosCredentials.user"]);
}

#[test]
fn type_errors_name_the_key_in_go_words() {
    let cases = [
        (r#"{"ttl":"60"}"#, "cannot unmarshal string into Go struct field Config.TTL of type int32"),
        (r#"{"SOARefresh":-1}"#, "cannot unmarshal number -1 into Go struct field Config.SOARefresh of type uint32"),
        (r#"{"TTL":2147483648}"#, "cannot unmarshal number 2147483648 into Go struct field Config.TTL of type int32"),
        (r#"{"Port":1.5}"#, "cannot unmarshal number 1.5 into Go struct field Config.Port of type int"),
        (r#"{"SRVRecordDefaultWeight":65536}"#, "cannot unmarshal number 65536 into Go struct field Config.SRVRecordDefaultWeight of type uint16"),
        (r#"{"Domain":5}"#, "cannot unmarshal number into Go struct field Config.Domain of type string"),
        (r#"{"DnsOn":"true"}"#, "cannot unmarshal string into Go struct field Config.DnsOn of type bool"),
        (r#"{"Masters":"a:1"}"#, "cannot unmarshal string into Go struct field Config.Masters of type []string"),
        (r#"{"Resolvers":[1]}"#, "cannot unmarshal number into Go struct field Config.Resolvers of type string"),
        (r#"{"ZoneResolvers":[]}"#, "cannot unmarshal array into Go struct field Config.ZoneResolvers of type map[string][]string"),
        (r#"{"ZoneResolvers":{"a":"1.1.1.1"}}"#, "cannot unmarshal string into Go struct field Config.ZoneResolvers of type []string"),
        (r#"{"MesosCredentials":{"secret":1}}"#, "cannot unmarshal number into Go struct field Config.MesosCredentials.Secret of type string"),
        (r#"{"MesosCredentials":"x"}"#, "cannot unmarshal string into Go struct field Config.MesosCredentials of type records.Credentials"),
        (r#"{"EDNSMaxPayload":70000}"#, "cannot unmarshal number 70000 into Go struct field Config.EDNSMaxPayload of type uint16"),
        (r#"{"recurseon":{}}"#, "cannot unmarshal object into Go struct field Config.RecurseOn of type bool"),
    ];
    for (text, want) in cases {
        assert_eq!(type_err(text), format!("json: {want}"), "{text}");
    }
}

#[test]
fn the_first_type_error_is_reported() {
    assert!(type_err(r#"{"TTL":"a","Port":"b"}"#).contains("Config.TTL"));
}

#[test]
fn syntax_and_top_level_errors() {
    let e = dec("{\"TTL\": }").unwrap_err();
    assert!(e
        .to_string()
        .starts_with("failed to unmarshal config file \"/etc/mesos-dns/config.json\": "));
    assert_eq!(
        type_err("[]"),
        "json: cannot unmarshal array into Go value of type records.Config"
    );
}
