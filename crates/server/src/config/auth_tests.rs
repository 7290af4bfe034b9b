//! Steps 9 and 10 (TLS files, authentication) with real PEM fixtures from
//! `tests/data/tls`.

use std::path::Path;

use mesos_sources::fetch::Auth;

use super::super::tests::{with, Fixture};
use super::super::ConfigError;

fn tls_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn step9_certificates() {
    let fx = Fixture::new("certs");
    let ca = tls_fixture("cert.pem");
    let key = tls_fixture("key.pem");
    let junk = fx.write("junk.pem", "not pem");
    let load = |extra: String| fx.load(&with(&extra));
    let c = load(format!(
        r#""CACertFile":"{ca}","CertFile":"{ca}","KeyFile":"{key}""#
    ))
    .unwrap();
    assert_eq!(c.tls.ca.as_ref().map(Vec::len), Some(1));
    assert!(c.tls.client.is_some());
    let missing = fx.path("missing.pem");
    let (e, k) = match load(format!(r#""CACertFile":"{missing}""#)) {
        Err(e @ ConfigError::Invalid { key, .. }) => (e.to_string(), key),
        other => panic!("{other:?}"),
    };
    assert_eq!(k, "CACertFile");
    assert!(e.starts_with("CACertFile open failed: "), "{e}");
    let e = load(format!(r#""CACertFile":"{junk}""#))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("CACertFile parsing failed: "), "{e}");
    assert!(!e.contains("<nil>"));
    let e = load(format!(r#""CertFile":"{ca}""#))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "Missing private key (config key KeyFile)");
    let e = load(format!(r#""KeyFile":"{key}""#))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "Missing certificate (config key CertFile)");
    let e = load(format!(r#""CertFile":"{ca}","KeyFile":"{junk}""#)).unwrap_err();
    assert!(
        matches!(e, ConfigError::Invalid { key: "KeyFile", .. }),
        "{e}"
    );
}

#[test]
fn step10_authentication() {
    let fx = Fixture::new("auth");
    let k = "MesosAuthentication";
    let load = |extra: &str| fx.load(&with(extra));
    let err = |extra: &str| load(extra).unwrap_err().to_string();
    assert_eq!(
        err(r#""MesosAuthentication":"Basic""#),
        format!("unregistered factory requested: \"Basic\" (config key {k})")
    );
    assert_eq!(
        err(r#""MesosAuthentication":"basic""#),
        format!("invalid HTTP Basic configuration (config key {k})")
    );
    let c = load(r#""MesosAuthentication":"basic","MesosCredentials":{"principal":"p"}"#)
        .unwrap();
    assert!(matches!(c.auth, Auth::Basic { ref principal, .. } if principal == "p"));
    assert!(
        load(r#""MesosAuthentication":"basic","MesosCredentials":{"secret":"s"}"#)
            .is_ok()
    );
    assert_eq!(
        err(r#""MesosAuthentication":"iam""#),
        format!("missing configuration for specified authentication mechanism (config key {k})")
    );
    let pem = std::fs::read_to_string(tls_fixture("iam-key.pem")).unwrap();
    let iam_json = serde_json::json!({
        "UID": "u",
        "private_key": pem,
        "login_endpoint": "https://auth.example/acs/api/v1/auth/login"
    });
    let good = fx.write("iam.json", &iam_json.to_string());
    let c = load(&format!(
        r#""MesosAuthentication":"iam","IAMConfigFile":"{good}""#
    ))
    .unwrap();
    assert!(matches!(c.auth, Auth::Iam(ref i) if i.uid == "u"));
    let partial = fx.write("partial.json", r#"{"uid":"u","private_key":"k"}"#);
    assert_eq!(
        err(&format!(
            r#""MesosAuthentication":"iam","IAMConfigFile":"{partial}""#
        )),
        format!("invalid HTTP IAM configuration (config key {k})")
    );
    let bad_key = fx.write(
        "badkey.json",
        r#"{"uid":"u","private_key":"k","login_endpoint":"https://a/b"}"#,
    );
    let e = load(&format!(
        r#""MesosAuthentication":"iam","IAMConfigFile":"{bad_key}""#
    ))
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Invalid {
                key: "IAMConfigFile",
                ..
            }
        ),
        "{e}"
    );
    let bad_json = fx.write("bad.json", "{");
    assert!(err(&format!(r#""IAMConfigFile":"{bad_json}""#))
        .starts_with("invalid IAM JSON: "));
    let bad_url = fx.write(
        "url.json",
        r#"{"uid":"u","private_key":"k","login_endpoint":"nourl"}"#,
    );
    assert!(err(&format!(r#""IAMConfigFile":"{bad_url}""#))
        .starts_with("invalid LoginEndpoint URL: "));
    let missing = fx.path("none.json");
    assert!(
        err(&format!(r#""IAMConfigFile":"{missing}""#)).starts_with(&format!(
            "failed to load IAM config from file {missing:?}: "
        ))
    );
    // Credentials without a mechanism: a warning, not an error.
    let c = load(r#""MesosCredentials":{"principal":"p","secret":"s"}"#).unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(matches!(c.auth, Auth::None));
}
