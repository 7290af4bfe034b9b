//! The operator API event stream: RecordIO framing
//! (`mesos_sources::recordio`) and event decoding (`event::Event::parse`)
//! into the event-built cluster (`event::Cluster`). The first octet picks
//! the input's form: even, a RecordIO stream; odd, JSON events one per line
//! (so the fuzzer reaches the decoder without keeping lengths right).
//!
//! Never a panic; the records read, framed again with `recordio::frame`,
//! read back the same; a record is never over the cap; a record decodes
//! the same with a `SUBSCRIBED` read in one pass as with the lenient
//! reading alone (`Event::parse_lenient`); and whatever events
//! arrive, the cluster gives a state (`Cluster::state`, typed as the state
//! reader reads a `/master/state` body) from which generating records never
//! panics (the event source would otherwise keep serving stale records).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mesos_records::{generate, GenConfig, LocalAddrs, Resolver};
use mesos_sources::event::{Cluster, Event};
use mesos_sources::recordio::{frame, RecordIoError, RecordReader};

/// Record cap for the fuzzer (the real one is `StateMaxBytes`).
const LIMIT: u64 = 1 << 16;
/// Records taken from one input at most.
const MAX_RECORDS: usize = 64;

/// Built once: the default reads the machine's addresses.
fn gen_config() -> &'static GenConfig {
    static CFG: OnceLock<GenConfig> = OnceLock::new();
    CFG.get_or_init(|| GenConfig {
        resolver: Resolver::from_fn(|h| Err(format!("{h}: not resolved while fuzzing"))),
        local_addrs: LocalAddrs::fixed(&["192.0.2.1".parse().unwrap()]),
        ..GenConfig::default()
    })
}

fn records(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = RecordReader::new(stream, LIMIT);
    let mut out = Vec::new();
    while out.len() < MAX_RECORDS {
        match reader.next_record() {
            Ok(Some(r)) => {
                assert!(r.len() as u64 <= LIMIT);
                out.push(r);
            }
            Ok(None) => break,
            Err(RecordIoError::Io(e)) => panic!("a slice never fails to read: {e}"),
            Err(_) => break,
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let recs = if mode % 2 == 0 {
        let recs = records(input);
        let framed: Vec<u8> = recs.iter().flat_map(|r| frame(r)).collect();
        assert_eq!(records(&framed), recs, "framed again, read back the same");
        recs
    } else {
        input
            .split(|&b| b == b'\n')
            .take(MAX_RECORDS)
            .map(<[u8]>::to_vec)
            .collect()
    };

    let mut cluster = Cluster::default();
    for r in &recs {
        let event = Event::parse(r);
        assert_eq!(event, Event::parse_lenient(r), "one pass and lenient agree");
        if let Ok(event) = event {
            cluster.apply(event);
        }
    }
    let state = cluster.state("master@10.0.0.1:5050");
    let _ = generate(&state, gen_config(), &["10.0.0.1:5050".to_owned()]);
});
