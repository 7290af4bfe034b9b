//! Decoding `config.json` on top of the defaults with Go `encoding/json`
//! semantics (BEHAVIOUR.md 2.1).
//!
//! - Keys match the Go field names case-insensitively; Go's fold also maps
//!   `ſ` (U+017F) to `s` and the Kelvin sign (U+212A) to `k`.
//! - Members apply in document order, so the last duplicate wins.
//! - `null` leaves a number, string, bool or `MesosCredentials` unchanged,
//!   and sets a list or `ZoneResolvers` to nil (printed `null`).
//! - An object merges into `ZoneResolvers` and `MesosCredentials`.
//! - A wrong type or an out-of-range number is an error in Go's words:
//!   `json: cannot unmarshal string into Go struct field Config.TTL of type
//!   int32`.
//! - Unknown keys are returned so the caller can warn about them.

use std::collections::BTreeMap;

use mesos_records::fold::fold_eq;

use super::json::{self, Json};
use super::{ConfigError, ConfigFile, Credentials};

/// The Go field names in Go field order (the `/v1/config` order), then our
/// extensions.
pub const KEYS: [&str; 47] = [
    "RefreshSeconds",
    "Port",
    "Timeout",
    "StateTimeoutSeconds",
    "ZkDetectionTimeout",
    "HttpPort",
    "TTL",
    "SRVRecordDefaultWeight",
    "SOASerial",
    "SOARefresh",
    "SOARetry",
    "SOAExpire",
    "SOAMinttl",
    "SOAMname",
    "SOARname",
    "Masters",
    "ZoneResolvers",
    "Resolvers",
    "IPSources",
    "Zk",
    "Domain",
    "File",
    "Listener",
    "HTTPListener",
    "RecurseOn",
    "DnsOn",
    "HttpOn",
    "ExternalOn",
    "EnforceRFC952",
    "SetTruncateBit",
    "EnumerationOn",
    "MesosHTTPSOn",
    "CACertFile",
    "CertFile",
    "KeyFile",
    "MesosCredentials",
    "IAMConfigFile",
    "MesosAuthentication",
    "StateFile",
    "DnsWorkers",
    "EDNSMaxPayload",
    "TCPMaxConnections",
    "TCPMaxConnectionsPerClient",
    "TCPIdleSeconds",
    "StateMaxBytes",
    "StateSource",
    "AllowRecursion",
];

/// A value of the wrong JSON type for its field.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TypeError {
    /// Go's description of the value: `string`, `number 1.5`, `array`, ...
    value: String,
    /// Go's type name: `int`, `[]string`, ...
    go_type: &'static str,
}

type Decoded<T> = Result<T, TypeError>;

/// Decodes `text` on top of the defaults, with `File` set to `abs` first
/// (so the file may override it, as in mesos-dns). Returns the keys that
/// match no field.
///
/// # Errors
///
/// [`ConfigError::Unmarshal`] for a syntax error or the first value of a
/// wrong type.
pub fn decode(text: &[u8], abs: &str) -> Result<(ConfigFile, Vec<String>), ConfigError> {
    let unmarshal = |reason: String| ConfigError::Unmarshal {
        path: abs.to_string(),
        reason,
    };
    let tree = json::parse(text).map_err(|e| unmarshal(e.to_string()))?;
    let mut file = ConfigFile {
        file: abs.to_string(),
        ..ConfigFile::default()
    };
    let mut unknown = Vec::new();
    let members = match tree {
        Json::Null => Vec::new(),
        Json::Object(members) => members,
        other => {
            return Err(unmarshal(format!(
                "json: cannot unmarshal {} into Go value of type records.Config",
                other.kind()
            )))
        }
    };
    let mut first_error = None;
    for (key, value) in members {
        let Some(field) = KEYS.iter().copied().find(|f| fold_eq(&key, f)) else {
            unknown.push(key);
            continue;
        };
        // Go keeps decoding after a type error and reports the first one.
        if let Err((e, field_path)) = apply(&mut file, field, value, &mut unknown) {
            first_error.get_or_insert(format!(
                "json: cannot unmarshal {} into Go struct field Config.{} of type {}",
                e.value, field_path, e.go_type
            ));
        }
    }
    match first_error {
        Some(reason) => Err(unmarshal(reason)),
        None => Ok((file, unknown)),
    }
}

/// Applies one member to its field. The error carries the field path for
/// nested keys (`MesosCredentials.Secret`).
fn apply(
    f: &mut ConfigFile,
    field: &'static str,
    v: Json,
    unknown: &mut Vec<String>,
) -> Result<(), (TypeError, String)> {
    let plain = |e: TypeError| (e, field.to_string());
    match field {
        "RefreshSeconds" => set_int(&mut f.refresh_seconds, v, "int").map_err(plain),
        "Port" => set_int(&mut f.port, v, "int").map_err(plain),
        "Timeout" => set_int(&mut f.timeout, v, "int").map_err(plain),
        "StateTimeoutSeconds" => {
            set_int(&mut f.state_timeout_seconds, v, "int").map_err(plain)
        }
        "ZkDetectionTimeout" => {
            set_int(&mut f.zk_detection_timeout, v, "int").map_err(plain)
        }
        "HttpPort" => set_int(&mut f.http_port, v, "int").map_err(plain),
        "TTL" => set_int(&mut f.ttl, v, "int32").map_err(plain),
        "SRVRecordDefaultWeight" => {
            set_int(&mut f.srv_record_default_weight, v, "uint16").map_err(plain)
        }
        "SOASerial" => set_int(&mut f.soa_serial, v, "uint32").map_err(plain),
        "SOARefresh" => set_int(&mut f.soa_refresh, v, "uint32").map_err(plain),
        "SOARetry" => set_int(&mut f.soa_retry, v, "uint32").map_err(plain),
        "SOAExpire" => set_int(&mut f.soa_expire, v, "uint32").map_err(plain),
        "SOAMinttl" => set_int(&mut f.soa_minttl, v, "uint32").map_err(plain),
        "SOAMname" => set_string(&mut f.soa_mname, v).map_err(plain),
        "SOARname" => set_string(&mut f.soa_rname, v).map_err(plain),
        "Masters" => set_strings(&mut f.masters, v).map_err(plain),
        "ZoneResolvers" => set_zones(&mut f.zone_resolvers, v).map_err(plain),
        "Resolvers" => set_strings(&mut f.resolvers, v).map_err(plain),
        "IPSources" => set_strings(&mut f.ip_sources, v).map_err(plain),
        "Zk" => set_string(&mut f.zk, v).map_err(plain),
        "Domain" => set_string(&mut f.domain, v).map_err(plain),
        "File" => set_string(&mut f.file, v).map_err(plain),
        "Listener" => set_string(&mut f.listener, v).map_err(plain),
        "HTTPListener" => set_string(&mut f.http_listener, v).map_err(plain),
        "RecurseOn" => set_bool(&mut f.recurse_on, v).map_err(plain),
        "DnsOn" => set_bool(&mut f.dns_on, v).map_err(plain),
        "HttpOn" => set_bool(&mut f.http_on, v).map_err(plain),
        "ExternalOn" => set_bool(&mut f.external_on, v).map_err(plain),
        "EnforceRFC952" => set_bool(&mut f.enforce_rfc952, v).map_err(plain),
        "SetTruncateBit" => set_bool(&mut f.set_truncate_bit, v).map_err(plain),
        "EnumerationOn" => set_bool(&mut f.enumeration_on, v).map_err(plain),
        "MesosHTTPSOn" => set_bool(&mut f.mesos_https_on, v).map_err(plain),
        "CACertFile" => set_string(&mut f.ca_cert_file, v).map_err(plain),
        "CertFile" => set_string(&mut f.cert_file, v).map_err(plain),
        "KeyFile" => set_string(&mut f.key_file, v).map_err(plain),
        "MesosCredentials" => set_credentials(&mut f.mesos_credentials, v, unknown),
        "IAMConfigFile" => set_string(&mut f.iam_config_file, v).map_err(plain),
        "MesosAuthentication" => {
            set_string(&mut f.mesos_authentication, v).map_err(plain)
        }
        "StateFile" => set_string(&mut f.state_file, v).map_err(plain),
        "DnsWorkers" => set_int(&mut f.dns_workers, v, "int").map_err(plain),
        "EDNSMaxPayload" => set_int(&mut f.edns_max_payload, v, "uint16").map_err(plain),
        "TCPMaxConnections" => {
            set_int(&mut f.tcp_max_connections, v, "int").map_err(plain)
        }
        "TCPMaxConnectionsPerClient" => {
            set_int(&mut f.tcp_max_connections_per_client, v, "int").map_err(plain)
        }
        "TCPIdleSeconds" => set_int(&mut f.tcp_idle_seconds, v, "int").map_err(plain),
        "StateMaxBytes" => set_int(&mut f.state_max_bytes, v, "int").map_err(plain),
        "StateSource" => set_string(&mut f.state_source, v).map_err(plain),
        "AllowRecursion" => set_strings(&mut f.allow_recursion, v).map_err(plain),
        _ => Ok(()),
    }
}

fn mismatch(v: &Json, go_type: &'static str) -> TypeError {
    TypeError {
        value: v.kind(),
        go_type,
    }
}

/// A JSON number into a Go integer type: Go parses the literal, so a
/// fraction, an exponent or an out-of-range value is an error.
fn set_int<T>(slot: &mut T, v: Json, go_type: &'static str) -> Decoded<()>
where
    T: TryFrom<i64> + TryFrom<u64>,
{
    match &v {
        Json::Null => Ok(()),
        Json::Number(n) => {
            let value = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => T::try_from(i).ok(),
                (None, Some(u)) => T::try_from(u).ok(),
                (None, None) => None,
            };
            match value {
                Some(value) => {
                    *slot = value;
                    Ok(())
                }
                None => Err(TypeError {
                    value: format!("number {n}"),
                    go_type,
                }),
            }
        }
        _ => Err(mismatch(&v, go_type)),
    }
}

fn set_string(slot: &mut String, v: Json) -> Decoded<()> {
    match v {
        Json::Null => Ok(()),
        Json::String(s) => {
            *slot = s;
            Ok(())
        }
        other => Err(mismatch(&other, "string")),
    }
}

fn set_bool(slot: &mut bool, v: Json) -> Decoded<()> {
    match v {
        Json::Null => Ok(()),
        Json::Bool(b) => {
            *slot = b;
            Ok(())
        }
        other => Err(mismatch(&other, "bool")),
    }
}

fn strings(v: Json) -> Decoded<Option<Vec<String>>> {
    match v {
        Json::Null => Ok(None),
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut first_error = None;
            for item in items {
                match item {
                    Json::String(s) => out.push(s),
                    // Go leaves a null element as the zero value "".
                    Json::Null => out.push(String::new()),
                    other => {
                        first_error.get_or_insert(mismatch(&other, "string"));
                        out.push(String::new());
                    }
                }
            }
            match first_error {
                Some(e) => Err(e),
                None => Ok(Some(out)),
            }
        }
        other => Err(mismatch(&other, "[]string")),
    }
}

fn set_strings(slot: &mut Option<Vec<String>>, v: Json) -> Decoded<()> {
    *slot = strings(v)?;
    Ok(())
}

fn set_zones(
    slot: &mut Option<BTreeMap<String, Option<Vec<String>>>>,
    v: Json,
) -> Decoded<()> {
    match v {
        Json::Null => {
            *slot = None;
            Ok(())
        }
        Json::Object(members) => {
            let map = slot.get_or_insert_with(BTreeMap::new);
            for (zone, list) in members {
                map.insert(zone, strings(list)?);
            }
            Ok(())
        }
        other => Err(mismatch(&other, "map[string][]string")),
    }
}

fn set_credentials(
    slot: &mut Credentials,
    v: Json,
    unknown: &mut Vec<String>,
) -> Result<(), (TypeError, String)> {
    let members = match v {
        Json::Null => return Ok(()),
        Json::Object(members) => members,
        other => {
            return Err((
                mismatch(&other, "records.Credentials"),
                "MesosCredentials".to_string(),
            ))
        }
    };
    for (key, value) in members {
        let (target, name) = if fold_eq(&key, "Principal") {
            (&mut slot.principal, "MesosCredentials.Principal")
        } else if fold_eq(&key, "Secret") {
            (&mut slot.secret, "MesosCredentials.Secret")
        } else {
            unknown.push(format!("MesosCredentials.{key}"));
            continue;
        };
        set_string(target, value).map_err(|e| (e, name.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
            "AllowRecursion": ["10.0.0.0/8"]
        }"#);
        let zones =
            BTreeMap::from([("z".to_string(), Some(vec!["1.1.1.1".to_string()]))]);
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
            allow_recursion: Some(vec!["10.0.0.0/8".into()]),
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
            dec(r#"{"ns":"x","email":"y","TTL":5,"MesosCredentials":{"user":1}}"#)
                .unwrap();
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
        assert!(e.to_string().starts_with(
            "failed to unmarshal config file \"/etc/mesos-dns/config.json\": "
        ));
        assert_eq!(
            type_err("[]"),
            "json: cannot unmarshal array into Go value of type records.Config"
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::super::render::render;
    use super::*;
    use proptest::prelude::*;

    /// Key index `i` of [`KEYS`] (or an unknown key) in the letter case
    /// chosen by `bits`.
    fn spelled(i: usize, bits: u64) -> String {
        let name = KEYS.get(i).copied().unwrap_or("NoSuchKey");
        name.chars()
            .enumerate()
            .map(|(n, c)| {
                if bits >> (n % 64) & 1 == 1 {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    }

    /// A value of the right JSON type for key `i`, chosen by `seed`.
    fn typed(i: usize, seed: u64) -> serde_json::Value {
        use serde_json::json;
        let name = KEYS.get(i).copied().unwrap_or("");
        let text = format!("v{}.x", seed % 97);
        match name {
            "SRVRecordDefaultWeight" | "EDNSMaxPayload" => json!(seed % 65_536),
            "SOASerial" | "SOARefresh" | "SOARetry" | "SOAExpire" | "SOAMinttl" => {
                json!(seed % (1 << 32))
            }
            "TTL" => json!((seed % 1000) as i64 - 500),
            "Masters" | "Resolvers" | "IPSources" => json!([text, "a:1"]),
            "ZoneResolvers" => json!({ text: ["1.1.1.1"], "z": null }),
            "MesosCredentials" => json!({"principal": text, "SECRET": "s"}),
            "RecurseOn" | "DnsOn" | "HttpOn" | "ExternalOn" | "EnforceRFC952"
            | "SetTruncateBit" | "EnumerationOn" | "MesosHTTPSOn" => json!(seed % 2 == 0),
            "Zk"
            | "Domain"
            | "File"
            | "Listener"
            | "HTTPListener"
            | "SOAMname"
            | "SOARname"
            | "CACertFile"
            | "CertFile"
            | "KeyFile"
            | "IAMConfigFile"
            | "MesosAuthentication"
            | "StateFile"
            | "StateSource" => json!(text),
            _ => json!(seed as i64),
        }
    }

    /// One member: a key in random case, with a well-typed value most of
    /// the time and an arbitrary one otherwise.
    fn member() -> impl Strategy<Value = (String, serde_json::Value)> {
        (
            0..KEYS.len() + 2,
            any::<u64>(),
            any::<u64>(),
            0u8..5,
            value(),
        )
            .prop_map(|(i, bits, seed, pick, any)| {
                let v = if pick == 0 { any } else { typed(i, seed) };
                (spelled(i, bits), v)
            })
    }

    fn value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::{json, Value};
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (0u32..70_000).prop_map(|n| json!(n)),
            "[a-z0-9.:@]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{1,9}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any JSON object decodes to a config or a one-line error, never a
        /// panic; a decoded config renders to a `/v1/config` object that
        /// decodes back to the same config (the render keeps every key, in
        /// a form the decoder reads).
        #[test]
        fn decode_never_panics_and_render_round_trips(
            members in prop::collection::vec(member(), 0..12)
        ) {
            let mut text = String::from("{");
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(&format!("{}:{}", serde_json::Value::from(k.as_str()), v));
            }
            text.push('}');
            match decode(text.as_bytes(), "/c.json") {
                Ok((file, _)) => {
                    let rendered = render(&file, file.soa_serial).to_string();
                    let (again, unknown) = decode(rendered.as_bytes(), "/other.json").unwrap();
                    prop_assert!(unknown.is_empty());
                    let mut expected = file.clone();
                    if !expected.mesos_credentials.secret.is_empty() {
                        expected.mesos_credentials.secret = super::super::render::REDACTED.into();
                    }
                    prop_assert_eq!(again, expected);
                }
                Err(e) => {
                    let line = e.to_string();
                    prop_assert!(!line.contains('\n'));
                    let is_unmarshal = matches!(e, ConfigError::Unmarshal { .. });
                    prop_assert!(is_unmarshal);
                }
            }
        }
    }
}
