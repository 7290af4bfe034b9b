//! Fetching `/master/state` from the fake Mesos master: faults, leader
//! following, gzip and the body cap, TLS with a CA made in the test, basic
//! and IAM auth.

use std::time::{Duration, Instant};

use mesos_dns_tests::fake_master::{FakeMaster, Fault, TestCa};
use mesos_sources::fetch::{Auth, HttpConfig, StateClient, Tls};
use mesos_sources::iam::IamConfig;
use mesos_sources::FetchError;

use crate::poller::state_json;

fn client(cfg: HttpConfig) -> StateClient {
    StateClient::new(cfg)
}

fn quick() -> HttpConfig {
    HttpConfig {
        timeout: Duration::from_secs(2),
        ..HttpConfig::default()
    }
}
#[test]
fn slow_master_hits_the_total_deadline() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    m.set_fault(Fault::Slow(Duration::from_secs(5)));
    let c = client(HttpConfig {
        timeout: Duration::from_secs(1),
        ..HttpConfig::default()
    });
    let t = Instant::now();
    let err = c.fetch(&m.host_port()).unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn http_500_is_an_error_not_a_state() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    m.set_fault(Fault::Status(500));
    let err = client(quick()).fetch(&m.host_port()).unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 500, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP status 500"));
}

#[test]
fn garbage_json_is_rejected() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_fault(Fault::Garbage);
    let err = client(quick()).fetch(&m.host_port()).unwrap_err();
    assert!(matches!(err, FetchError::State { .. }), "{err}");
}

#[test]
fn truncated_body_is_rejected() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    m.set_fault(Fault::Truncated);
    let err = client(quick()).fetch(&m.host_port()).unwrap_err();
    assert!(
        matches!(err, FetchError::Http { .. } | FetchError::State { .. }),
        "{err}"
    );
}

#[test]
fn body_over_the_cap_is_too_large() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let err = client(HttpConfig {
        max_body: 100,
        ..quick()
    })
    .fetch(&m.host_port())
    .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("100-byte limit"));
}

#[test]
fn gzip_body_is_capped_after_decoding() {
    // 4 MiB of JSON whitespace gzips to a few KiB: the cap must count the
    // decoded bytes, or a tiny answer could exhaust memory.
    let m = FakeMaster::start(&vec![b' '; 4 << 20]).unwrap();
    m.set_gzip(true);
    let err = client(HttpConfig {
        max_body: 1 << 20,
        ..quick()
    })
    .fetch(&m.host_port())
    .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 1048576, .. }),
        "{err}"
    );
}

#[test]
fn gzip_state_is_decoded() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    m.set_gzip(true);
    let (state, bytes) = client(quick()).fetch(&m.host_port()).unwrap();
    assert_eq!(state.leader, format!("master@{}", m.addr()));
    assert_eq!(
        bytes,
        state_json(m.addr()).len(),
        "size counted after decoding"
    );
}

#[test]
fn non_leader_master_is_followed_to_the_leader() {
    let leader = FakeMaster::start(b"").unwrap();
    leader.set_state(&state_json(leader.addr()));
    let other = FakeMaster::start(&state_json(leader.addr())).unwrap();
    let loaded = client(quick()).load(&[other.host_port()]).unwrap();
    assert_eq!(loaded.master, leader.host_port());
    assert_eq!((other.state_hits(), leader.state_hits()), (1, 1));
}

#[test]
fn hostname_in_masters_is_resolved_not_a_crash() {
    // mesos-dns crashes on `host:port` masters; the state names the leader
    // by IP, and the hostname resolves to it: one fetch, no follow-up.
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    let host = format!("localhost:{}", m.addr().port());
    let loaded = client(quick()).load(std::slice::from_ref(&host)).unwrap();
    assert_eq!(loaded.master, host);
    assert_eq!(m.state_hits(), 1);
}

#[test]
fn redirecting_master_is_followed_to_the_leader() {
    let leader = FakeMaster::start(b"").unwrap();
    leader.set_state(&state_json(leader.addr()));
    let other = FakeMaster::start(b"").unwrap();
    other.set_fault(Fault::Redirect(leader.state_url()));
    let loaded = client(quick()).load(&[other.host_port()]).unwrap();
    assert_eq!(loaded.state.leader, format!("master@{}", leader.addr()));
    assert!(leader.state_hits() >= 1);
}

#[test]
fn scheme_relative_redirect_like_mesos_sends_is_followed() {
    // A non-leading Mesos master answers 307 with `Location:
    // //<leader host>:<port>/master/state` (no scheme).
    let leader = FakeMaster::start(b"").unwrap();
    leader.set_state(&state_json(leader.addr()));
    let other = FakeMaster::start(b"").unwrap();
    other.set_fault(Fault::Redirect(format!("//{}/master/state", leader.addr())));
    let loaded = client(quick()).load(&[other.host_port()]).unwrap();
    assert_eq!(loaded.state.leader, format!("master@{}", leader.addr()));
    assert!(leader.state_hits() >= 1);
}

#[test]
fn a_down_first_master_falls_through_to_the_next() {
    let down = FakeMaster::start(b"").unwrap();
    down.set_fault(Fault::Down);
    let leader = FakeMaster::start(b"").unwrap();
    leader.set_state(&state_json(leader.addr()));
    let loaded = client(quick())
        .load(&[down.host_port(), leader.host_port()])
        .unwrap();
    assert_eq!(loaded.master, leader.host_port());
}

#[test]
fn tls_verifies_against_a_test_ca() {
    let ca = TestCa::new().unwrap();
    let m = FakeMaster::start_tls(b"", &ca, false).unwrap();
    m.set_state(&state_json(m.addr()));
    let https = |tls: Tls| HttpConfig {
        https: true,
        tls,
        ..quick()
    };
    let good = Tls::load(&ca.ca_cert.display().to_string(), "", "").unwrap();
    let (state, _) = client(https(good)).fetch(&m.host_port()).unwrap();
    assert_eq!(state.leader, format!("master@{}", m.addr()));
    // A CA that did not sign the server's certificate: refused.
    let wrong = Tls::load(&ca.other_ca_cert.display().to_string(), "", "").unwrap();
    let err = client(https(wrong)).fetch(&m.host_port()).unwrap_err();
    assert!(matches!(err, FetchError::Http { .. }), "{err}");
    // No CACertFile: mesos-dns does not verify, and neither do we.
    assert!(client(https(Tls::default())).fetch(&m.host_port()).is_ok());
    // Plain http to a TLS port fails cleanly.
    assert!(client(quick()).fetch(&m.host_port()).is_err());
}

#[test]
fn tls_client_certificate_is_presented() {
    let ca = TestCa::new().unwrap();
    let m = FakeMaster::start_tls(b"", &ca, true).unwrap();
    m.set_state(&state_json(m.addr()));
    let ca_file = ca.ca_cert.display().to_string();
    let without = Tls::load(&ca_file, "", "").unwrap();
    let cfg = |tls| HttpConfig {
        https: true,
        tls,
        ..quick()
    };
    assert!(client(cfg(without)).fetch(&m.host_port()).is_err());
    let with = Tls::load(
        &ca_file,
        &ca.client_cert.display().to_string(),
        &ca.client_key.display().to_string(),
    )
    .unwrap();
    client(cfg(with)).fetch(&m.host_port()).unwrap();
}

#[test]
fn basic_auth_header_is_sent() {
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    // base64("principal:secret")
    m.require_auth(Some("Basic cHJpbmNpcGFsOnNlY3JldA=="));
    let err = client(quick()).fetch(&m.host_port()).unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 401, .. }),
        "{err}"
    );
    let basic = HttpConfig {
        auth: Auth::Basic {
            principal: "principal".into(),
            secret: "secret".into(),
        },
        ..quick()
    };
    client(basic).fetch(&m.host_port()).unwrap();
}

#[test]
fn iam_login_precedes_every_state_request() {
    let ca = TestCa::new().unwrap();
    let key = ca.rsa_key().unwrap();
    let m = FakeMaster::start(b"").unwrap();
    m.set_state(&state_json(m.addr()));
    m.enable_iam("tok-123");
    let iam = IamConfig::new("dns-service", key.as_bytes(), &m.login_url()).unwrap();
    let c = client(HttpConfig {
        auth: Auth::Iam(iam.clone()),
        ..quick()
    });
    c.fetch(&m.host_port()).unwrap();
    c.fetch(&m.host_port()).unwrap();
    let reqs = m.requests();
    let logins: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.contains("/auth/login"))
        .collect();
    assert_eq!(logins.len(), 2, "tokens are not cached");
    let state_req = reqs.iter().find(|r| r.path == "/master/state").unwrap();
    assert_eq!(state_req.header("authorization"), Some("token=tok-123"));
    // The JWT verifies with the key's public half, and carries uid and exp.
    let body: serde_json::Value = serde_json::from_slice(&logins[0].body).unwrap();
    assert_eq!(body["uid"], "dns-service");
    let jwt = body["token"].as_str().unwrap();
    let (signed, sig) = jwt.rsplit_once('.').unwrap();
    use base64_url::decode;
    let pk = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        iam.public_key_der(),
    );
    pk.verify(signed.as_bytes(), &decode(sig))
        .expect("JWT signature verifies");
    let claims: serde_json::Value =
        serde_json::from_slice(&decode(signed.split('.').nth(1).unwrap())).unwrap();
    assert_eq!(claims["uid"], "dns-service");
    assert!(claims["exp"].as_u64().unwrap() > 1_700_000_000);
    // A failing login is an auth error, and the state is not asked for.
    let wrong = IamConfig::new(
        "dns-service",
        key.as_bytes(),
        &format!("http://{}/nope", m.addr()),
    )
    .unwrap();
    let err = client(HttpConfig {
        auth: Auth::Iam(wrong),
        ..quick()
    })
    .fetch(&m.host_port())
    .unwrap_err();
    assert!(matches!(err, FetchError::Auth(_)), "{err}");
    assert_eq!(m.state_hits(), 2, "no state request after a failed login");
}

/// Minimal base64url (no padding) decoding for checking the JWT.
mod base64_url {
    pub fn decode(s: &str) -> Vec<u8> {
        let val = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {c}"),
        };
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in s.bytes() {
            acc = (acc << 6) | u32::from(val(c));
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }
}

fn basic() -> HttpConfig {
    HttpConfig {
        auth: Auth::Basic {
            principal: "principal".into(),
            secret: "secret".into(),
        },
        ..quick()
    }
}

/// The `Authorization` headers `m` was sent, one per request.
fn credentials_seen(m: &FakeMaster) -> Vec<Option<String>> {
    m.requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect()
}

#[test]
fn credentials_do_not_follow_a_leader_that_only_the_state_names() {
    let leader = FakeMaster::start(b"").unwrap();
    leader.set_state(&state_json(leader.addr()));
    let other = FakeMaster::start(&state_json(leader.addr())).unwrap();
    let c = client(basic());
    let loaded = c.load(&[other.host_port()]).unwrap();
    assert_eq!(loaded.master, leader.host_port());
    assert!(credentials_seen(&other).iter().all(Option::is_some));
    assert_eq!(credentials_seen(&leader), [None], "not a configured master");
    // Once the leader is a configured or detected master, it gets them.
    c.load(&[other.host_port(), leader.host_port()]).unwrap();
    assert!(credentials_seen(&leader)[1].is_some());
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_address() {
    let leader = FakeMaster::start(b"").unwrap();
    leader.set_state(&state_json(leader.addr()));
    let other = FakeMaster::start(b"").unwrap();
    other.set_fault(Fault::Redirect(format!("//{}/master/state", leader.addr())));
    let c = client(basic());
    c.load(&[other.host_port()]).unwrap();
    assert!(!credentials_seen(&leader).is_empty());
    assert!(
        credentials_seen(&leader).iter().all(Option::is_none),
        "same host, another port: not a configured master"
    );
    // A redirect to a known master keeps them.
    let before = credentials_seen(&leader).len();
    c.load(&[other.host_port(), leader.host_port()]).unwrap();
    let seen = credentials_seen(&leader);
    assert!(seen[before..].iter().all(Option::is_some), "{seen:?}");
}
