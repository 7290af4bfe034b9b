//! `parse_query` never panics; when it accepts a packet, every error
//! response can be written into 512 octets and parses back with the same
//! ID and the question echoed verbatim.
#![no_main]

use dns_wire::{parse_query, write_error, write_formerr, Message, Rcode, MAX_NAME_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = [0u8; 512];
    if data.len() >= 12 {
        assert_eq!(write_formerr(data, &mut out), Ok(12));
    }
    let Ok(q) = parse_query(data) else {
        return;
    };
    let mut key = [0u8; MAX_NAME_LEN];
    assert_eq!(q.qname.to_lowercase(&mut key).len(), q.qname.wire_len());
    assert_eq!(q.question.len(), q.qname.wire_len() + 4);
    assert!(q.udp_limit() >= 512);
    for rcode in [
        Rcode::FORMERR,
        Rcode::SERVFAIL,
        Rcode::NOTIMP,
        Rcode::REFUSED,
        Rcode::BADVERS,
    ] {
        let n = match write_error(&q, rcode, &mut out) {
            Ok(n) => n,
            Err(e) => {
                assert!(rcode.is_extended() && q.edns.is_none(), "{rcode}: {e}");
                continue;
            }
        };
        let m = Message::parse(&out[..n]).expect("own response parses");
        assert_eq!(m.header.id, q.header.id);
        assert_eq!(m.rcode(), rcode);
        assert_eq!(&out[12..12 + q.question.len()], q.question);
        let echoed = m.questions().next().expect("one question");
        assert!(echoed.qname.eq_ignore_case(&q.qname));
    }
});
