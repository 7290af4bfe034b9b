//! The TLS settings of state requests (`CACertFile`, `CertFile`,
//! `KeyFile`): PEM files read and checked once at start-up, with
//! mesos-dns's messages for what is missing or unreadable.

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey};

use crate::error::FetchError;

/// TLS settings for `https` (`CACertFile`, `CertFile`, `KeyFile`), loaded
/// and checked once at start-up.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// CA certificates to verify masters against. `None` means no
    /// verification, as in mesos-dns.
    pub ca: Option<Vec<Certificate<'static>>>,
    /// Client certificate chain and key.
    pub client: Option<ClientCert>,
}

impl Tls {
    /// Loads the PEM files named in the config; empty names are unset.
    ///
    /// # Errors
    /// [`FetchError::Config`] with mesos-dns' messages (BEHAVIOUR.md 2.3
    /// step 9).
    pub fn load(
        ca_file: &str,
        cert_file: &str,
        key_file: &str,
    ) -> Result<Tls, FetchError> {
        let mut tls = Tls::default();
        if !ca_file.is_empty() {
            let pem = std::fs::read(ca_file).map_err(|e| {
                FetchError::Config(format!("CACertFile open failed: {e}"))
            })?;
            let certs = parse_certs(&pem).map_err(|e| {
                FetchError::Config(format!("CACertFile parsing failed: {e}"))
            })?;
            tls.ca = Some(certs);
        }
        match (cert_file.is_empty(), key_file.is_empty()) {
            (true, true) => {}
            (false, true) => {
                return Err(FetchError::Config("Missing private key".to_owned()))
            }
            (true, false) => {
                return Err(FetchError::Config("Missing certificate".to_owned()))
            }
            (false, false) => {
                let load = |f: &str| {
                    std::fs::read(f)
                        .map_err(|e| FetchError::Config(format!("cannot read {f}: {e}")))
                };
                let chain = parse_certs(&load(cert_file)?).map_err(|e| {
                    FetchError::Config(format!("CertFile {cert_file}: {e}"))
                })?;
                let key = PrivateKey::from_pem(&load(key_file)?).map_err(|e| {
                    FetchError::Config(format!("KeyFile {key_file}: {e}"))
                })?;
                tls.client = Some(ClientCert::new_with_certs(&chain, key));
            }
        }
        Ok(tls)
    }
}

fn parse_certs(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        if let PemItem::Certificate(c) = item.map_err(|e| e.to_string())? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err("no PEM certificate found".to_owned());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_load_needs_both_cert_and_key() {
        let e = Tls::load("", "cert.pem", "").unwrap_err();
        assert_eq!(e.to_string(), "Missing private key");
        let e = Tls::load("", "", "key.pem").unwrap_err();
        assert_eq!(e.to_string(), "Missing certificate");
        let e = Tls::load("/nonexistent/ca.pem", "", "").unwrap_err();
        assert!(e.to_string().starts_with("CACertFile open failed"), "{e}");
    }

    #[test]
    fn ca_file_without_certificates_is_rejected() {
        assert!(parse_certs(b"hello").is_err());
    }
}
