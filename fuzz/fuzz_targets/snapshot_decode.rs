//! A state snapshot file (`mesos_records::record::snapshot`): whatever is
//! on disk, `decode` never panics and never allocates past what the input
//! holds. The input is tried as is and with its last four bytes replaced
//! by the right checksum, so the fuzzer reaches the structural checks
//! behind the checksum. A decoded snapshot encodes to exactly the input
//! (one encoding per record set) and every name it holds is found again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_records::record::snapshot::{decode, encode};

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 16 {
        let mut sealed = data.to_vec();
        let n = sealed.len() - 4;
        let sum = crc32fast::hash(&sealed[..n]);
        sealed[n..].copy_from_slice(&sum.to_le_bytes());
        check(&sealed);
    }
});

fn check(data: &[u8]) {
    let Ok((meta, set)) = decode(data) else {
        return;
    };
    assert_eq!(encode(&set, &meta), data);
    for owner in set.owners() {
        assert!(set.has_name(owner.name));
    }
    for (_, srv) in set.srv_records() {
        for v in srv {
            assert!(set.names().any(|n| n == v.target));
        }
    }
    let _ = format!("{:?}", set.enumeration().frameworks().collect::<Vec<_>>());
}
