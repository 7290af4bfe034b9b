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
use super::{ConfigError, ConfigFile, Credentials, Fraction};

/// The Go field names in Go field order (the `/v1/config` order), then our
/// extensions.
pub const KEYS: [&str; 61] = [
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
    "ForwardCacheSize",
    "ReverseZones",
    "StaticZoneFile",
    "AllowRecursion",
    "TransferAllow",
    "NotifySecondaries",
    "IXFRJournalVersions",
    "IXFRJournalBytes",
    "StateSnapshotFile",
    "StateSnapshotMaxAgeSeconds",
    "Primaries",
    "HealthFilter",
    "HealthFilterMinFraction",
    "TaskLabelPolicy",
    "HoldDownFraction",
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
        "ForwardCacheSize" => set_int(&mut f.forward_cache_size, v, "int").map_err(plain),
        "ReverseZones" => set_strings(&mut f.reverse_zones, v).map_err(plain),
        "StaticZoneFile" => set_string(&mut f.static_zone_file, v).map_err(plain),
        "AllowRecursion" => set_strings(&mut f.allow_recursion, v).map_err(plain),
        "TransferAllow" => set_strings(&mut f.transfer_allow, v).map_err(plain),
        "NotifySecondaries" => set_strings(&mut f.notify_secondaries, v).map_err(plain),
        "IXFRJournalVersions" => {
            set_int(&mut f.ixfr_journal_versions, v, "int").map_err(plain)
        }
        "IXFRJournalBytes" => set_int(&mut f.ixfr_journal_bytes, v, "int").map_err(plain),
        "StateSnapshotFile" => set_string(&mut f.state_snapshot_file, v).map_err(plain),
        "StateSnapshotMaxAgeSeconds" => {
            set_int(&mut f.state_snapshot_max_age_seconds, v, "int").map_err(plain)
        }
        "Primaries" => set_strings(&mut f.primaries, v).map_err(plain),
        "HealthFilter" => set_bool(&mut f.health_filter, v).map_err(plain),
        "HealthFilterMinFraction" => {
            set_float(&mut f.health_filter_min_fraction, v).map_err(plain)
        }
        "TaskLabelPolicy" => set_bool(&mut f.task_label_policy, v).map_err(plain),
        "HoldDownFraction" => set_float(&mut f.hold_down_fraction, v).map_err(plain),
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

/// A JSON number into a Go `float64`.
fn set_float(slot: &mut Fraction, v: Json) -> Decoded<()> {
    match v {
        Json::Null => Ok(()),
        Json::Number(n) => {
            *slot = Fraction(n);
            Ok(())
        }
        other => Err(mismatch(&other, "float64")),
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
mod tests;

#[cfg(test)]
mod proptests;
