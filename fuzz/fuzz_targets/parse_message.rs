//! `Message::parse` never panics; when it accepts a message, iterating all
//! sections yields exactly the header's counts and every name is sane.
#![no_main]

use std::fmt::Write as _;

use dns_wire::{Message, Name, Rdata, MAX_NAME_LEN};
use libfuzzer_sys::fuzz_target;

fn check(name: &Name<'_>, text: &mut String) {
    let mut key = [0u8; MAX_NAME_LEN];
    let k = name.to_lowercase(&mut key);
    assert_eq!(k.len(), name.wire_len());
    assert!(name.wire_len() <= MAX_NAME_LEN);
    assert!(name.labels().all(|l| !l.is_empty() && l.len() <= 63));
    assert!(name.eq_wire(k));
    text.clear();
    write!(text, "{name}").unwrap();
}

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data) else {
        return;
    };
    let mut text = String::new();
    let q: Vec<_> = m.questions().collect();
    assert_eq!(q.len(), usize::from(m.header.qdcount));
    for q in &q {
        check(&q.qname, &mut text);
    }
    let counts = [m.header.ancount, m.header.nscount, m.header.arcount];
    for (section, count) in [m.answers(), m.authority(), m.additional()]
        .into_iter()
        .zip(counts)
    {
        let mut n = 0usize;
        for rec in section {
            n += 1;
            check(&rec.name, &mut text);
            match rec.rdata {
                Rdata::Ns(x) | Rdata::Cname(x) | Rdata::Ptr(x) => check(&x, &mut text),
                Rdata::Soa(s) => {
                    check(&s.mname, &mut text);
                    check(&s.rname, &mut text);
                }
                Rdata::Srv(s) => check(&s.target, &mut text),
                _ => {}
            }
        }
        assert_eq!(n, usize::from(count));
    }
    let _ = m.rcode();
});
