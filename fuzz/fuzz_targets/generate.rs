//! Arbitrary bytes as a Mesos state body: `State::parse` never panics, and
//! when it accepts, `generate` (with a fixed resolver, never the system one)
//! never panics, every generated name is a valid DNS name (labels 1..=63,
//! names up to 255 octets, letters/digits/hyphen/underscore), every
//! enumerated name too, and a second run gives the same output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_records::{generate, is_valid_name, GenConfig, LocalAddrs, Resolver, State};

fuzz_target!(|data: &[u8]| {
    let Ok(state) = State::parse(data) else {
        return;
    };
    for rfc952 in [false, true] {
        let cfg = GenConfig {
            enforce_rfc952: rfc952,
            listener: "0.0.0.0".to_owned(),
            resolver: Resolver::from_fn(|h| match h {
                "localhost" => Ok(vec!["127.0.0.1".parse().unwrap()]),
                _ => Err(format!("{h}: not resolved while fuzzing")),
            }),
            local_addrs: LocalAddrs::fixed(&["192.0.2.1".parse().unwrap()]),
            ..GenConfig::default()
        };
        let masters = vec![
            String::new(),
            "10.0.0.1:5050".to_owned(),
            "[::1]:5050".to_owned(),
        ];
        let g = generate(&state, &cfg, &masters);
        for name in g.records.names() {
            assert!(is_valid_name(name), "invalid name {name:?}");
        }
        for fw in g.records.enumeration().frameworks() {
            for t in fw.tasks() {
                for r in t.records() {
                    assert!(
                        is_valid_name(r.name),
                        "invalid enumerated name {:?}",
                        r.name
                    );
                }
            }
        }
        let again = generate(&state, &cfg, &masters);
        assert_eq!(g.records, again.records);
        assert_eq!(g.skips, again.skips);
    }
});
