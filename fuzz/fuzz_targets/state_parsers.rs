//! Arbitrary bytes as a Mesos state body, read by both state readers:
//! `State::parse` (the fast reader, falling back to the lenient one for
//! what it cannot read exactly) and the lenient reader alone must agree,
//! on the state, its skips and the error alike.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_records::State;

fuzz_target!(|data: &[u8]| {
    match (State::parse(data), State::parse_lenient(data)) {
        (Ok(fast), Ok(lenient)) => assert_eq!(fast, lenient, "the readers disagree"),
        (Err(fast), Err(lenient)) => assert_eq!(fast.to_string(), lenient.to_string()),
        (fast, lenient) => panic!("one reader failed: {fast:?} against {lenient:?}"),
    }
});
