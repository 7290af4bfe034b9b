//! Steps 9 and 10 of the validation (BEHAVIOUR.md 2.3): the TLS files and the
//! Mesos authentication mechanism, loaded into the records crate's
//! [`Tls`](mesos_sources::fetch::Tls) and [`Auth`] so that a bad
//! certificate, key or IAM file fails at startup, not at the first fetch.

use mesos_records::fold::fold_eq;
use mesos_sources::fetch::Auth;
use mesos_sources::iam::IamConfig;
use mesos_sources::FetchError;

use super::json::{self, Json};
use super::{ConfigError, ConfigFile};

type Checked<T> = Result<T, ConfigError>;

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::invalid(key, message)
}

/// `IAMConfigFile`'s content, as read (keys matched case-insensitively).
#[derive(Default)]
struct IamFile {
    uid: String,
    private_key: String,
    login_endpoint: String,
}

/// Step 9's error, with the key it is about (the messages come from
/// `mesos_sources::fetch::Tls::load`, in mesos-dns's words).
pub(super) fn certificate_error(e: &FetchError) -> ConfigError {
    let message = e.to_string();
    let key = if message.starts_with("CACertFile") {
        "CACertFile"
    } else if message.starts_with("Missing private key") || message.starts_with("KeyFile")
    {
        "KeyFile"
    } else if message.starts_with("Missing certificate")
        || message.starts_with("CertFile")
    {
        "CertFile"
    } else {
        "CertFile/KeyFile"
    };
    invalid(key, message)
}

/// Step 10: the IAM file first (if any), then the mechanism.
pub(super) fn validate_auth(f: &ConfigFile, warnings: &mut Vec<String>) -> Checked<Auth> {
    let iam = if f.iam_config_file.is_empty() {
        None
    } else {
        Some(load_iam(&f.iam_config_file)?)
    };
    let creds = &f.mesos_credentials;
    let key = "MesosAuthentication";
    match f.mesos_authentication.as_str() {
        "" => {
            if !creds.principal.is_empty() || !creds.secret.is_empty() || iam.is_some() {
                warnings.push(
                    "MesosAuthentication is empty: MesosCredentials and IAMConfigFile are \
                     ignored (set it to \"basic\" or \"iam\")"
                        .to_string(),
                );
            }
            Ok(Auth::None)
        }
        "basic" => {
            if creds.principal.is_empty() && creds.secret.is_empty() {
                return Err(invalid(key, "invalid HTTP Basic configuration"));
            }
            Ok(Auth::Basic {
                principal: creds.principal.clone(),
                secret: creds.secret.clone(),
            })
        }
        "iam" => {
            let Some(i) = iam else {
                return Err(invalid(
                    key,
                    "missing configuration for specified authentication mechanism",
                ));
            };
            if i.uid.is_empty() || i.private_key.is_empty() || i.login_endpoint.is_empty()
            {
                return Err(invalid(key, "invalid HTTP IAM configuration"));
            }
            IamConfig::new(&i.uid, i.private_key.as_bytes(), &i.login_endpoint)
                .map(Auth::Iam)
                .map_err(|e| invalid("IAMConfigFile", e.to_string()))
        }
        other => Err(invalid(
            key,
            format!("unregistered factory requested: {other:?}"),
        )),
    }
}

fn load_iam(path: &str) -> Checked<IamFile> {
    let key = "IAMConfigFile";
    let text = std::fs::read(path).map_err(|e| {
        invalid(
            key,
            format!("failed to load IAM config from file {path:?}: {e}"),
        )
    })?;
    let tree =
        json::parse(&text).map_err(|e| invalid(key, format!("invalid IAM JSON: {e}")))?;
    let Json::Object(members) = tree else {
        return Err(invalid(key, "invalid IAM JSON: not an object"));
    };
    let mut iam = IamFile::default();
    for (k, v) in members {
        let slot = if fold_eq(&k, "uid") {
            &mut iam.uid
        } else if fold_eq(&k, "private_key") {
            &mut iam.private_key
        } else if fold_eq(&k, "login_endpoint") {
            &mut iam.login_endpoint
        } else {
            continue;
        };
        match v {
            Json::String(s) => *slot = s,
            Json::Null => {}
            other => {
                return Err(invalid(
                    key,
                    format!("invalid IAM JSON: {k} is a {}, not a string", other.kind()),
                ))
            }
        }
    }
    let e = &iam.login_endpoint;
    let has_scheme = e
        .split_once("://")
        .is_some_and(|(s, rest)| !s.is_empty() && !rest.is_empty());
    if !e.is_empty() && (!has_scheme || e.chars().any(char::is_whitespace)) {
        return Err(invalid(key, format!("invalid LoginEndpoint URL: {e:?}")));
    }
    Ok(iam)
}

#[cfg(test)]
// Steps 9 and 10 (TLS files, authentication) with real PEM fixtures from
// `tests/data/tls`.
mod tests {
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
        let c =
            load(r#""MesosAuthentication":"basic","MesosCredentials":{"principal":"p"}"#)
                .unwrap();
        assert!(matches!(c.auth, Auth::Basic { ref principal, .. } if principal == "p"));
        assert!(load(
            r#""MesosAuthentication":"basic","MesosCredentials":{"secret":"s"}"#
        )
        .is_ok());
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
}
