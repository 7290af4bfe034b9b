//! Arbitrary bytes as a Mesos state body: `State::parse` never panics, and
//! when it accepts, `generate` (with a fixed resolver, never the system one)
//! never panics, every generated name is absolute (mesos-dns keeps every
//! name its rules give, whatever it holds: which of them go on the wire is
//! the server's business), every enumerated name too, and a second run
//! gives the same output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_records::{generate, GenConfig, LocalAddrs, Resolver, State};

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
            assert!(name.ends_with('.'), "relative name {name:?}");
        }
        for fw in g.records.enumeration().frameworks() {
            for t in fw.tasks() {
                for r in t.records() {
                    assert!(
                        r.name.ends_with('.'),
                        "relative enumerated name {:?}",
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
