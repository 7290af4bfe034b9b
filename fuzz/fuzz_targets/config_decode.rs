//! `config.json` text through the decoder and the validation
//! (`mesos_dns::config`): never a panic. A decoded file rendered as
//! `/v1/config` decodes back to itself (with the secret and the `Zk`
//! password redacted, and the serial shown); a valid one gives a DNS config an empty table compiles
//! with, and the API settings. Validation runs without touching the system: file keys and host
//! names are cleared first (they are read or resolved), and resolv.conf is
//! a fixed file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mesos_dns::config::decode::decode;
use mesos_dns::config::render::{redact_url, render, REDACTED};
use mesos_dns::config::validate::{validate, Env};

/// A fixed resolv.conf kept beside the targets (none is written at run
/// time, so no run leaves a file behind).
fn resolv_conf() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/resolv.conf")))
}

fuzz_target!(|data: &[u8]| {
    let Ok((file, _unknown)) = decode(data, "/etc/mesos-dns/config.json") else {
        return;
    };
    // /v1/config, read back.
    let shown = render(&file, 7);
    let text = serde_json::to_vec(&shown).expect("renders");
    let (back, unknown) =
        decode(&text, "/etc/mesos-dns/config.json").expect("decodes back");
    assert!(unknown.is_empty(), "{unknown:?}");
    let mut expected = file.clone();
    expected.soa_serial = 7;
    if !expected.mesos_credentials.secret.is_empty() {
        expected.mesos_credentials.secret = REDACTED.to_owned();
    }
    expected.zk = redact_url(&file.zk);
    assert_eq!(redact_url(&expected.zk), expected.zk, "redacting twice");
    assert_eq!(back, expected);

    // Validation, kept off the file system and the resolver.
    let mut f = file;
    f.ca_cert_file.clear();
    f.cert_file.clear();
    f.key_file.clear();
    f.iam_config_file.clear();
    for l in [&mut f.listener, &mut f.http_listener] {
        if l.parse::<std::net::IpAddr>().is_err() {
            l.clear();
        }
    }
    let env = Env {
        resolv_conf: resolv_conf(),
        now: 1_700_000_000,
    };
    if let Ok(config) = validate(f, &env) {
        assert_eq!(config.file.soa_serial, env.now);
        assert_eq!(config.file.domain, config.file.domain.to_lowercase());
        let dns = mesos_dns::run::dns_config(&config);
        let _ = mesos_dns::table::Table::empty(&dns);
        let _ = mesos_dns::http::ApiSettings::from_config(&config);
    }
});
