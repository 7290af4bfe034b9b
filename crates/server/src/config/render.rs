//! The `/v1/config` view: every key in Go field order with Go names (then
//! our extension keys), nil lists as `null`, `ZoneResolvers` with sorted
//! keys (Go sorts map keys), and `MesosCredentials.Secret` and the
//! password of a `Zk` URL (`zk://user:password@hosts/path`) redacted (a fix:
//! mesos-dns prints both in clear text).
//!
//! The object keeps its insertion order because the workspace enables
//! serde_json's `preserve_order` feature.

use serde_json::{json, Map, Value};

use super::ConfigFile;

/// What `/v1/config` shows instead of a non-empty secret.
pub use mesos_sources::master::REDACTED;

pub use mesos_sources::master::redact_url;

/// `text` with [`redact_url`] applied to every space-separated word that
/// holds a `://` (error messages that quote a URL).
pub fn redact_urls(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains("://") {
                redact_url(word)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn list(v: &Option<Vec<String>>) -> Value {
    v.as_ref().map_or(Value::Null, |l| json!(l))
}

/// The whole configuration as `/v1/config` prints it, with `serial` (the
/// SOA serial now being served) as `SOASerial`.
pub fn render(f: &ConfigFile, serial: u32) -> Value {
    let zones = f.zone_resolvers.as_ref().map_or(Value::Null, |zones| {
        let mut m = Map::new();
        for (zone, l) in zones {
            m.insert(zone.clone(), list(l));
        }
        Value::Object(m)
    });
    let secret = if f.mesos_credentials.secret.is_empty() {
        ""
    } else {
        REDACTED
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("RefreshSeconds", json!(f.refresh_seconds));
    put("Port", json!(f.port));
    put("Timeout", json!(f.timeout));
    put("StateTimeoutSeconds", json!(f.state_timeout_seconds));
    put("ZkDetectionTimeout", json!(f.zk_detection_timeout));
    put("HttpPort", json!(f.http_port));
    put("TTL", json!(f.ttl));
    put("SRVRecordDefaultWeight", json!(f.srv_record_default_weight));
    put("SOASerial", json!(serial));
    put("SOARefresh", json!(f.soa_refresh));
    put("SOARetry", json!(f.soa_retry));
    put("SOAExpire", json!(f.soa_expire));
    put("SOAMinttl", json!(f.soa_minttl));
    put("SOAMname", json!(f.soa_mname));
    put("SOARname", json!(f.soa_rname));
    put("Masters", list(&f.masters));
    put("ZoneResolvers", zones);
    put("Resolvers", list(&f.resolvers));
    put("IPSources", list(&f.ip_sources));
    put("Zk", json!(redact_url(&f.zk)));
    put("Domain", json!(f.domain));
    put("File", json!(f.file));
    put("Listener", json!(f.listener));
    put("HTTPListener", json!(f.http_listener));
    put("RecurseOn", json!(f.recurse_on));
    put("DnsOn", json!(f.dns_on));
    put("HttpOn", json!(f.http_on));
    put("ExternalOn", json!(f.external_on));
    put("EnforceRFC952", json!(f.enforce_rfc952));
    put("SetTruncateBit", json!(f.set_truncate_bit));
    put("EnumerationOn", json!(f.enumeration_on));
    put("MesosHTTPSOn", json!(f.mesos_https_on));
    put("CACertFile", json!(f.ca_cert_file));
    put("CertFile", json!(f.cert_file));
    put("KeyFile", json!(f.key_file));
    let mut creds = Map::new();
    creds.insert(
        "Principal".to_string(),
        json!(f.mesos_credentials.principal),
    );
    creds.insert("Secret".to_string(), json!(secret));
    put("MesosCredentials", Value::Object(creds));
    put("IAMConfigFile", json!(f.iam_config_file));
    put("MesosAuthentication", json!(f.mesos_authentication));
    put("StateFile", json!(f.state_file));
    put("DnsWorkers", json!(f.dns_workers));
    put("EDNSMaxPayload", json!(f.edns_max_payload));
    put("TCPMaxConnections", json!(f.tcp_max_connections));
    put(
        "TCPMaxConnectionsPerClient",
        json!(f.tcp_max_connections_per_client),
    );
    put("TCPIdleSeconds", json!(f.tcp_idle_seconds));
    put("StateMaxBytes", json!(f.state_max_bytes));
    put("StateSource", json!(f.state_source));
    put("ForwardCacheSize", json!(f.forward_cache_size));
    put("ReverseZones", json!(f.reverse_zones));
    put("StaticZoneFile", json!(f.static_zone_file));
    put("AllowRecursion", json!(f.allow_recursion));
    put("TransferAllow", json!(f.transfer_allow));
    put("NotifySecondaries", json!(f.notify_secondaries));
    put("IXFRJournalVersions", json!(f.ixfr_journal_versions));
    put("IXFRJournalBytes", json!(f.ixfr_journal_bytes));
    put("StateSnapshotFile", json!(f.state_snapshot_file));
    put(
        "StateSnapshotMaxAgeSeconds",
        json!(f.state_snapshot_max_age_seconds),
    );
    put("Primaries", json!(f.primaries));
    put("HealthFilter", json!(f.health_filter));
    put(
        "HealthFilterMinFraction",
        json!(f.health_filter_min_fraction.0),
    );
    put("TaskLabelPolicy", json!(f.task_label_policy));
    put("HoldDownFraction", json!(f.hold_down_fraction.0));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::super::decode::KEYS;
    use super::*;

    #[test]
    fn keys_come_in_go_field_order() {
        let v = render(&ConfigFile::default(), 7);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, KEYS);
        assert_eq!(v["SOASerial"], 7);
        assert_eq!(v["Masters"], Value::Null);
        assert_eq!(v["ZoneResolvers"], json!({}));
        assert_eq!(v["IPSources"], json!(["netinfo", "mesos", "host"]));
        let creds: Vec<&String> =
            v["MesosCredentials"].as_object().unwrap().keys().collect();
        assert_eq!(creds, ["Principal", "Secret"]);
        // The serialized text keeps the order too.
        let text = serde_json::to_string(&v).unwrap();
        assert!(text.starts_with("{\"RefreshSeconds\":60,\"Port\":53,\"Timeout\":5,"));
    }

    #[test]
    fn secret_is_redacted() {
        let mut f = ConfigFile::default();
        f.mesos_credentials.principal = "p".into();
        assert_eq!(render(&f, 0)["MesosCredentials"]["Secret"], "");
        f.mesos_credentials.secret = "hunter2".into();
        let v = render(&f, 0);
        assert_eq!(v["MesosCredentials"]["Secret"], REDACTED);
        assert_eq!(v["MesosCredentials"]["Principal"], "p");
        assert!(!v.to_string().contains("hunter2"));
    }

    #[test]
    fn zk_password_is_redacted() {
        // The URL cases are tested with redact_url, in mesos-sources.
        assert_eq!(
            redact_urls("zk://u:hunter2@h1: no znode path"),
            "zk://u:REDACTED@h1: no znode path"
        );
        let f = ConfigFile {
            zk: "zk://mesos:hunter2@10.0.0.1:2181/mesos".into(),
            ..ConfigFile::default()
        };
        let v = render(&f, 0);
        assert_eq!(v["Zk"], "zk://mesos:REDACTED@10.0.0.1:2181/mesos");
        assert!(!v.to_string().contains("hunter2"));
    }

    #[test]
    fn zone_keys_sorted_and_null_lists() {
        let mut f = ConfigFile::default();
        let zones = f.zone_resolvers.get_or_insert_with(Default::default);
        zones.insert("b.example".into(), Some(vec!["1.1.1.1".into()]));
        zones.insert("a.example".into(), None);
        f.resolvers = None;
        let v = render(&f, 0);
        let keys: Vec<&String> = v["ZoneResolvers"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a.example", "b.example"]);
        assert_eq!(v["ZoneResolvers"]["a.example"], Value::Null);
        assert_eq!(v["Resolvers"], Value::Null);
    }
}
