//! Steps 9 and 10 of the validation (spec 2.3): the TLS files and the
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
#[path = "auth_tests.rs"]
mod tests;
