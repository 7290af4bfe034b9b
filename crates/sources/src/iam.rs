//! DC/OS IAM authentication (`MesosAuthentication: "iam"`, BEHAVIOUR.md 3.1):
//! before every state request, POST `{"uid","token"}` to the login endpoint,
//! where `token` is an RS256 JWT with claims `uid` and `exp` = now + 1 h signed
//! by the service account's key; the reply's `token` goes into
//! `Authorization: token=<token>`. Tokens are not cached, as in mesos-dns.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use ureq::tls::PrivateKey;

use crate::error::FetchError;

/// A loaded `IAMConfigFile` (the server's config module reads the file
/// with Go's key matching and builds this with [`IamConfig::new`]).
#[derive(Clone)]
pub struct IamConfig {
    /// `uid`: the service account.
    pub uid: String,
    /// `login_endpoint`: where to POST.
    pub login_endpoint: String,
    key: Arc<RsaKeyPair>,
}

impl fmt::Debug for IamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamConfig")
            .field("uid", &self.uid)
            .field("login_endpoint", &self.login_endpoint)
            .finish_non_exhaustive()
    }
}

impl IamConfig {
    /// Builds a config from its parts.
    ///
    /// # Errors
    /// Empty parts, a bad endpoint URL or an unusable key.
    pub fn new(
        uid: &str,
        private_key_pem: &[u8],
        login_endpoint: &str,
    ) -> Result<IamConfig, FetchError> {
        if uid.is_empty() || private_key_pem.is_empty() || login_endpoint.is_empty() {
            return Err(FetchError::Config(
                "invalid HTTP IAM configuration".to_owned(),
            ));
        }
        if !(login_endpoint.starts_with("http://")
            || login_endpoint.starts_with("https://"))
        {
            return Err(FetchError::Config(format!(
                "invalid LoginEndpoint URL: {login_endpoint:?}"
            )));
        }
        let bad_key = |e: String| FetchError::Config(format!("IAM private_key: {e}"));
        let key =
            PrivateKey::from_pem(private_key_pem).map_err(|e| bad_key(e.to_string()))?;
        // PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
        let pair = RsaKeyPair::from_pkcs8(key.der())
            .or_else(|_| RsaKeyPair::from_der(key.der()))
            .map_err(|e| bad_key(format!("not a usable RSA key ({e})")))?;
        Ok(IamConfig {
            uid: uid.to_owned(),
            login_endpoint: login_endpoint.to_owned(),
            key: Arc::new(pair),
        })
    }

    /// The RS256 JWT for the login, expiring `ttl` after `now` (Unix
    /// seconds).
    ///
    /// # Errors
    /// Signing failure (not expected with a key that loaded).
    pub fn jwt(&self, now: u64, ttl: u64) -> Result<String, FetchError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims =
            serde_json::json!({ "uid": self.uid, "exp": now.saturating_add(ttl) });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| FetchError::Auth("cannot sign the login token".to_owned()))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    /// The DER `RSAPublicKey` of the signing key (tests verify with it).
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair as _;
        self.key.public_key().as_ref().to_vec()
    }

    /// Logs in and returns the auth token.
    ///
    /// # Errors
    /// [`FetchError::Auth`] on any failure or a non-200 reply.
    pub fn login(
        &self,
        agent: &ureq::Agent,
        timeout: Duration,
    ) -> Result<String, FetchError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = serde_json::json!({ "uid": self.uid, "token": self.jwt(now, 3600)? });
        let fail = |m: String| FetchError::Auth(format!("{}: {m}", self.login_endpoint));
        let mut resp = agent
            .post(&self.login_endpoint)
            .header("Content-Type", "application/json")
            .config()
            .timeout_global(Some(timeout))
            .build()
            .send(body.to_string())
            .map_err(|e| fail(e.to_string()))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(fail(format!("HTTP status {status}")));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| fail(e.to_string()))?;
        let reply: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| fail(e.to_string()))?;
        reply
            .get("token")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| fail("reply has no token".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_missing_parts_and_bad_urls() {
        let e = IamConfig::new("", b"k", "http://x").unwrap_err();
        assert_eq!(e.to_string(), "invalid HTTP IAM configuration");
        let e = IamConfig::new("u", b"k", "ftp://x").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid LoginEndpoint URL"),
            "{e}"
        );
        let e = IamConfig::new("u", b"not pem", "http://x").unwrap_err();
        assert!(e.to_string().starts_with("IAM private_key"), "{e}");
    }
}
