//! Property tests of decoding: objects of any keys, in any letter case,
//! with values of any type never panic, and what decodes renders and
//! decodes back to itself.

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
        | "StateSource"
        | "StateSnapshotFile" => json!(text),
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
