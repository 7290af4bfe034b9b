//! Fetching `/master/state` over HTTP(S) (BEHAVIOUR.md 3.1) and choosing which
//! master to ask (BEHAVIOUR.md 3.2 load algorithm).
//!
//! One [`StateClient`] holds a `ureq` agent built once from the TLS and auth
//! settings. Each state request is bounded by the state timeout as a total
//! deadline (connect, headers and body, and the IAM login before it), the
//! HTTP status is checked, gzip is accepted, and the body is capped.

mod tls;

use std::io::Read as _;
use std::time::{Duration, Instant};

use ureq::tls::{RootCerts, TlsConfig};

pub use self::tls::Tls;
use crate::error::FetchError;
use crate::iam::IamConfig;
use mesos_records::hostport::{host_port, pid_address};
use mesos_records::state::{State, StateError};

/// Default cap on a state body, in bytes (256 MiB).
pub const DEFAULT_MAX_BODY: u64 = 256 << 20;

/// Redirects followed by one request (as `ureq`'s default).
const MAX_REDIRECTS: usize = 10;

/// Default `StateTimeoutSeconds`, in seconds.
pub const DEFAULT_STATE_TIMEOUT_SECS: u64 = 300;

/// How state requests authenticate (`MesosAuthentication`).
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// HTTP Basic with `MesosCredentials`.
    Basic {
        /// `MesosCredentials.Principal`.
        principal: String,
        /// `MesosCredentials.Secret`.
        secret: String,
    },
    /// DC/OS IAM: a login POST with an RS256 JWT before every request.
    Iam(IamConfig),
}

/// Everything a [`StateClient`] needs.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// `MesosHTTPSOn`: use `https`.
    pub https: bool,
    /// TLS settings (used when `https`).
    pub tls: Tls,
    /// Authentication.
    pub auth: Auth,
    /// `StateTimeoutSeconds`: total deadline for one request.
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_body: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            https: false,
            tls: Tls::default(),
            auth: Auth::None,
            timeout: Duration::from_secs(DEFAULT_STATE_TIMEOUT_SECS),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// A state that loaded, and where it came from.
#[derive(Debug)]
pub struct Loaded {
    /// The parsed state.
    pub state: State,
    /// The `host:port` that served it.
    pub master: String,
    /// Body size in bytes (after gzip decoding).
    pub bytes: usize,
}

/// What [`StateClient::load_changed`] found.
#[derive(Debug)]
pub enum Fetched {
    /// A new body, parsed, and its [`body_hash`].
    Loaded(Loaded, u64),
    /// The body last loaded again, from `master`: not parsed.
    Unchanged {
        /// The `host:port` that served it.
        master: String,
        /// Body size in bytes.
        bytes: usize,
    },
}

/// The hash that tells an unchanged state body (64 bits of SipHash).
pub fn body_hash(body: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

/// Fetches master state over HTTP(S).
#[derive(Debug)]
pub struct StateClient {
    agent: ureq::Agent,
    cfg: HttpConfig,
}

impl StateClient {
    /// Builds the HTTP agent once.
    pub fn new(cfg: HttpConfig) -> StateClient {
        let mut tls = TlsConfig::builder();
        if cfg.https {
            match &cfg.tls.ca {
                Some(ca) => tls = tls.root_certs(RootCerts::new_with_certs(ca)),
                None => {
                    log::warn!(
                        "MesosHTTPSOn without CACertFile: master certificates are not \
                         verified (as in mesos-dns); set CACertFile to verify them"
                    );
                    tls = tls.disable_verification(true);
                }
            }
            tls = tls.client_cert(cfg.tls.client.clone());
        }
        let agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            // Masters are reached directly: an `http_proxy` meant for the
            // outside world must not capture them.
            .proxy(None)
            .user_agent("Mesos-DNS")
            // Redirects are followed by `get`, which decides at each hop
            // whether credentials may go along.
            .max_redirects(0)
            .timeout_global(Some(cfg.timeout))
            .build()
            .new_agent();
        StateClient { agent, cfg }
    }

    /// The state URL of one master.
    pub fn url(&self, master: &str) -> String {
        let scheme = if self.cfg.https { "https" } else { "http" };
        format!("{scheme}://{master}/master/state")
    }

    /// The load algorithm of BEHAVIOUR.md 3.2: `masters` is `[leader-or-"",
    /// others...]`. Tries the leader, then each other master in order; the
    /// first state that loads wins. A state whose `leader` is another
    /// master is followed once, to the leader's own `host:port`.
    ///
    /// # Errors
    /// The last failure when every master failed.
    pub fn load(&self, masters: &[String]) -> Result<Loaded, FetchError> {
        match self.load_changed(masters, None)? {
            Fetched::Loaded(l, _) => Ok(l),
            // Not without a last body to compare with.
            Fetched::Unchanged { .. } => Err(FetchError::NoMasters),
        }
    }

    /// [`StateClient::load`], except that a body equal to `last` (the
    /// master that served the last body and the body's [`body_hash`]) is
    /// not parsed: [`Fetched::Unchanged`].
    ///
    /// # Errors
    /// The last failure when every master failed.
    pub fn load_changed(
        &self,
        masters: &[String],
        last: Option<&(String, u64)>,
    ) -> Result<Fetched, FetchError> {
        let mut failed = FetchError::NoMasters;
        for m in masters.iter().filter(|m| !m.is_empty()) {
            if host_port(m).is_none() {
                log::debug!("skipping unusable master address {m:?}");
                continue;
            }
            match self.load_from_changed(m, masters, last) {
                Ok(l) => return Ok(l),
                Err(e) => failed = e,
            }
        }
        Err(failed)
    }

    /// Fetches from one master and follows its `leader` once (BEHAVIOUR.md 3.2
    /// step 4). `known` are the configured or detected masters: the
    /// leader gets credentials only when it is one of them.
    ///
    /// # Errors
    /// Any fetch or parse failure.
    pub fn load_from(
        &self,
        master: &str,
        known: &[String],
    ) -> Result<Loaded, FetchError> {
        match self.load_from_changed(master, known, None)? {
            Fetched::Loaded(l, _) => Ok(l),
            Fetched::Unchanged { .. } => Err(FetchError::NoMasters),
        }
    }

    fn load_from_changed(
        &self,
        master: &str,
        known: &[String],
        last: Option<&(String, u64)>,
    ) -> Result<Fetched, FetchError> {
        let mut trusted = known.to_vec();
        if !known.iter().any(|k| k == master) {
            trusted.push(master.to_owned());
        }
        let (state, bytes, hash) = match self.fetch_changed(master, &trusted, last)? {
            Ok(parsed) => parsed,
            Err(unchanged) => return Ok(unchanged),
        };
        let leader = pid_address(&state.leader).ok_or_else(|| FetchError::State {
            source: self.url(master),
            error: StateError::NoLeader,
        })?;
        if same_address(leader, master) {
            let l = Loaded {
                state,
                master: master.to_owned(),
                bytes,
            };
            return Ok(Fetched::Loaded(l, hash));
        }
        log::debug!("{master} is not the leader; following to {leader}");
        let leader = leader.to_owned();
        let (state, bytes, hash) = match self.fetch_changed(&leader, &trusted, last)? {
            Ok(parsed) => parsed,
            Err(unchanged) => return Ok(unchanged),
        };
        let l = Loaded {
            state,
            master: leader,
            bytes,
        };
        Ok(Fetched::Loaded(l, hash))
    }

    /// GETs and parses one master's state (a master the caller trusts with
    /// the credentials).
    ///
    /// # Errors
    /// Any fetch or parse failure.
    pub fn fetch(&self, master: &str) -> Result<(State, usize), FetchError> {
        match self.fetch_changed(master, &[master.to_owned()], None)? {
            Ok((state, bytes, _)) => Ok((state, bytes)),
            Err(_) => Err(FetchError::NoMasters),
        }
    }

    /// GETs one master's state and parses it, unless it is the body `last`
    /// names (then `Err` of [`Fetched::Unchanged`]).
    #[allow(clippy::type_complexity)]
    fn fetch_changed(
        &self,
        master: &str,
        known: &[String],
        last: Option<&(String, u64)>,
    ) -> Result<Result<(State, usize, u64), Fetched>, FetchError> {
        let url = self.url(master);
        let t0 = Instant::now();
        let body = self.get(&url, known)?;
        let hash = body_hash(&body);
        if last.is_some_and(|(m, h)| m == master && *h == hash) {
            log::debug!("{url}: {} bytes read, unchanged", body.len());
            return Ok(Err(Fetched::Unchanged {
                master: master.to_owned(),
                bytes: body.len(),
            }));
        }
        let t1 = Instant::now();
        let state = State::parse(&body).map_err(|error| FetchError::State {
            source: url.clone(),
            error,
        })?;
        log::debug!(
            "{url}: {} bytes read in {} ms, parsed in {} ms",
            body.len(),
            (t1 - t0).as_millis(),
            t1.elapsed().as_millis()
        );
        Ok(Ok((state, body.len(), hash)))
    }

    /// GETs `url` with the deadline, the status check and the cap,
    /// following up to 10 redirects. Credentials
    /// (`Authorization`) go only to a hop whose `host:port` is one of
    /// `known`, the configured or detected masters: never to a host that a
    /// redirect names on its own.
    ///
    /// # Errors
    /// Any HTTP failure.
    pub fn get(&self, url: &str, known: &[String]) -> Result<Vec<u8>, FetchError> {
        let start = Instant::now();
        let mut url = url.to_owned();
        let mut redirects = 0;
        let mut resp = loop {
            let trusted =
                authority(&url).is_some_and(|a| known.iter().any(|k| same_address(k, a)));
            let mut req = self
                .agent
                .get(&url)
                .header("Content-Type", "application/json");
            match &self.cfg.auth {
                _ if !trusted => {}
                Auth::None => {}
                Auth::Basic { principal, secret } => {
                    req = req.header("Authorization", basic_header(principal, secret));
                }
                Auth::Iam(iam) => {
                    let token = iam.login(&self.agent, self.cfg.timeout)?;
                    req = req.header("Authorization", format!("token={token}"));
                }
            }
            let left = self.cfg.timeout.saturating_sub(start.elapsed());
            let resp = req
                .config()
                .timeout_global(Some(left))
                .build()
                .call()
                .map_err(|e| self.map_error(&url, e))?;
            if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                break resp;
            }
            redirects += 1;
            let next = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .and_then(|l| redirect_target(&url, l));
            match next {
                Some(next) if redirects <= MAX_REDIRECTS => {
                    log::debug!("{url}: redirected to {next}");
                    url = next;
                }
                Some(_) => {
                    return Err(FetchError::Http {
                        url,
                        error: format!("more than {MAX_REDIRECTS} redirects"),
                    })
                }
                None => {
                    return Err(FetchError::Http {
                        error: format!(
                            "HTTP {} without a usable Location",
                            resp.status().as_u16()
                        ),
                        url,
                    })
                }
            }
        };
        let url = url.as_str();
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
            });
        }
        // The cap applies to the decoded body: ureq's own limit counts the
        // bytes on the wire, and a small gzip body can expand enormously.
        let cap = self.cfg.max_body;
        let hint = resp.body().content_length().unwrap_or(0).min(cap);
        let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        let reader = resp.body_mut().as_reader();
        reader
            .take(cap.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| self.map_io_error(url, e))?;
        if body.len() as u64 > cap {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                limit: cap,
            });
        }
        Ok(body)
    }

    fn map_io_error(&self, url: &str, e: std::io::Error) -> FetchError {
        if e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
            if let Some(Ok(inner)) = e.into_inner().map(|b| b.downcast::<ureq::Error>()) {
                return self.map_error(url, *inner);
            }
            return FetchError::Http {
                url: url.to_owned(),
                error: "body read failed".to_owned(),
            };
        }
        self.map_error(url, ureq::Error::Io(e))
    }

    fn map_error(&self, url: &str, e: ureq::Error) -> FetchError {
        let url = url.to_owned();
        match e {
            ureq::Error::Timeout(_) => FetchError::Timeout {
                url,
                after: self.cfg.timeout,
            },
            ureq::Error::BodyExceedsLimit(limit) => FetchError::TooLarge { url, limit },
            ureq::Error::StatusCode(status) => FetchError::Status { url, status },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                FetchError::Timeout {
                    url,
                    after: self.cfg.timeout,
                }
            }
            other => FetchError::Http {
                url,
                error: other.to_string(),
            },
        }
    }
}

/// The `host:port` of an `http(s)://host:port/...` URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    rest.split(['/', '?', '#']).next()
}

/// Where a redirect from `from` goes: an absolute `Location`, a
/// scheme-relative one (`//host:port/path`, as Mesos sends), or a path on
/// the same master.
fn redirect_target(from: &str, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_owned());
    }
    let scheme = from.split_once("://")?.0;
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{}{location}", authority(from)?));
    }
    None
}

/// `Basic base64(principal:secret)`.
pub fn basic_header(principal: &str, secret: &str) -> String {
    use base64::Engine as _;
    let raw = format!("{principal}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// True when two `host:port` strings name the same endpoint: IP literals
/// compared by value, equal hostnames case-insensitively, and otherwise the
/// resolved addresses (so `localhost:5050` in `Masters` and a state leader
/// `master@127.0.0.1:5050` do not cost a second fetch).
pub(crate) fn same_address(a: &str, b: &str) -> bool {
    let (Some((ha, pa)), Some((hb, pb))) = (host_port(a), host_port(b)) else {
        return a == b;
    };
    if pa != pb {
        return false;
    }
    match (
        ha.parse::<std::net::IpAddr>(),
        hb.parse::<std::net::IpAddr>(),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ if ha.eq_ignore_ascii_case(hb) => true,
        _ => {
            use std::net::ToSocketAddrs as _;
            let resolve = |h: &str| {
                (h, pa)
                    .to_socket_addrs()
                    .map(|i| i.map(|sa| sa.ip()).collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            let ips = resolve(hb);
            resolve(ha).iter().any(|ip| ips.contains(ip))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets_and_their_authority() {
        let from = "http://10.0.0.1:5050/master/state";
        let to = |l: &str| redirect_target(from, l);
        assert_eq!(
            to("//10.0.0.2:5050/master/state").as_deref(),
            Some("http://10.0.0.2:5050/master/state")
        );
        assert_eq!(
            to("https://m2:5050/x").as_deref(),
            Some("https://m2:5050/x")
        );
        assert_eq!(to("/state").as_deref(), Some("http://10.0.0.1:5050/state"));
        assert_eq!(to("state"), None);
        assert_eq!(authority(from), Some("10.0.0.1:5050"));
        assert_eq!(authority("https://[::1]:5050?x"), Some("[::1]:5050"));
        assert_eq!(authority("ftp://h:1/"), None);
    }

    #[test]
    fn basic_header_is_base64_of_principal_colon_secret() {
        assert_eq!(
            basic_header("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn same_address_compares_ips_by_value() {
        assert!(same_address("[2001:db8::1]:5050", "[2001:0db8::1]:5050"));
        assert!(same_address("M1:5050", "m1:5050"));
        assert!(same_address("localhost:5050", "127.0.0.1:5050"));
        assert!(!same_address("10.0.0.1:5050", "10.0.0.1:5051"));
        assert!(!same_address("10.0.0.1:5050", "10.0.0.2:5050"));
    }

    #[test]
    fn load_without_masters_is_no_masters() {
        let c = StateClient::new(HttpConfig::default());
        assert!(matches!(c.load(&[]), Err(FetchError::NoMasters)));
        assert!(matches!(
            c.load(&[String::new()]),
            Err(FetchError::NoMasters)
        ));
    }

    #[test]
    fn url_uses_https_when_on() {
        let c = StateClient::new(HttpConfig {
            https: true,
            ..HttpConfig::default()
        });
        assert_eq!(c.url("10.0.0.1:5050"), "https://10.0.0.1:5050/master/state");
    }
}
