//! Matching an upstream's reply to a forwarded query
//! (`mesos_dns::forward::matches`): the first reply that matches is passed
//! to the client, so a match must really answer the query. Checked against
//! hickory-proto as an independent decoder: a reply that matches has the
//! query's ID, QR set, and either no question or the query's question
//! (name equal ignoring ASCII case, type and class equal). The query with
//! QR set, with any ASCII case in its name, always matches. Never a panic.
#![no_main]

use dns_wire::parse_query;
use hickory_proto::op::Message;
use libfuzzer_sys::fuzz_target;
use mesos_dns::forward::matches;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (query, reply) = rest.split_at(usize::from(split).min(rest.len()));
    if matches(query, reply) {
        assert!(parse_query(query).is_ok(), "only a valid query is matched");
        assert_eq!(query[..2], reply[..2], "same ID");
        assert!(reply[2] & 0x80 != 0, "QR set");
        let qdcount = u16::from_be_bytes([reply[4], reply[5]]);
        if qdcount > 0 {
            // The query with the reply's question octets in place of its
            // own: hickory must read the same question from both.
            let qlen = parse_query(query).map_or(0, |q| q.question.len());
            let mut swapped = query.to_vec();
            swapped[12..12 + qlen].copy_from_slice(&reply[12..12 + qlen]);
            if let Ok(q) = Message::from_vec(query) {
                let r =
                    Message::from_vec(&swapped).expect("the reply's question decodes");
                let (qq, rq) = (&q.queries[0], &r.queries[0]);
                assert_eq!(qq.name(), rq.name(), "same name, ignoring case");
                assert_eq!(qq.query_type(), rq.query_type(), "same type");
                assert_eq!(qq.query_class(), rq.query_class(), "same class");
            }
        }
    }
    // The query itself, answered: QR set and the name's case flipped.
    if let Ok(q) = parse_query(query) {
        let mut echo = query.to_vec();
        echo[2] |= 0x80;
        let qlen = q.question.len();
        // Flip the case of the name's letters (not the type and class).
        for b in &mut echo[12..12 + qlen - 4] {
            if b.is_ascii_alphabetic() {
                *b ^= 0x20;
            }
        }
        assert!(matches(query, &echo), "the query's own answer matches");
        echo[1] ^= 1;
        assert!(!matches(query, &echo), "another ID never matches");
    }
});
