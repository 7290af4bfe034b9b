//! Annotated byte vectors from the RFCs, parsed and written.
//!
//! Each vector cites the section it comes from. Offsets in comments are
//! decimal octet offsets from the start of the message.

use std::net::{Ipv4Addr, Ipv6Addr};

use dns_wire::{
    parse_query, write_aaaa, write_error, write_opt, write_question, write_srv, Class,
    Compressor, Edns, Header, Message, Name, Rcode, Rdata, Reader, Rtype, Srv, WireError,
    Writer,
};

fn parse_name_at(msg: &[u8], at: usize) -> (Name<'_>, usize) {
    let mut r = Reader::at(msg, at).unwrap();
    let n = Name::parse(&mut r).unwrap();
    (n, r.pos())
}

/// RFC 1035 §4.1.4: "For example, a datagram might need to use the domain
/// names F.ISI.ARPA, FOO.F.ISI.ARPA, ARPA, and the root."
///
/// ```text
///        +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
///     20 |           1           |           F           |
///     22 |           3           |           I           |
///     24 |           S           |           I           |
///     26 |           4           |           A           |
///     28 |           R           |           P           |
///     30 |           A           |           0           |
///        +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
///     40 |           3           |           F           |
///     42 |           O           |           O           |
///     44 | 1  1|                20                       |
///        +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
///     64 | 1  1|                26                       |
///        +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
///     92 |           0           |                       |
///        +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// ```
fn rfc1035_example() -> [u8; 93] {
    let mut m = [0u8; 93];
    m[20..32].copy_from_slice(b"\x01F\x03ISI\x04ARPA\x00");
    m[40..46].copy_from_slice(b"\x03FOO\xc0\x14");
    m[64..66].copy_from_slice(b"\xc0\x1a");
    m[92] = 0;
    m
}

#[test]
fn rfc1035_4_1_4_compression_example() {
    let m = rfc1035_example();
    let cases: [(usize, &str, usize, usize); 4] = [
        (20, "F.ISI.ARPA.", 12, 32),
        (40, "FOO.F.ISI.ARPA.", 16, 46),
        (64, "ARPA.", 6, 66),
        (92, ".", 1, 93),
    ];
    for (at, text, wire_len, end) in cases {
        let (n, after) = parse_name_at(&m, at);
        assert_eq!(n.to_string(), text, "name at {at}");
        assert_eq!(n.wire_len(), wire_len, "wire length at {at}");
        assert_eq!(after, end, "reader position after the name at {at}");
    }
    let (foo, _) = parse_name_at(&m, 40);
    let labels: Vec<&[u8]> = foo.labels().collect();
    assert_eq!(labels, [&b"FOO"[..], b"F", b"ISI", b"ARPA"]);
    let mut key = [0; 255];
    assert_eq!(
        foo.to_lowercase(&mut key),
        b"\x03foo\x01f\x03isi\x04arpa\x00"
    );
}

#[test]
fn rfc1035_4_1_4_compressor_reproduces_the_example() {
    let mut buf = [0u8; 93];
    let mut w = Writer::new(&mut buf);
    let mut c = Compressor::new();
    w.bytes(&[0; 20]).unwrap();
    c.write_name(&mut w, b"\x01F\x03ISI\x04ARPA\x00").unwrap();
    w.bytes(&[0; 8]).unwrap(); // 32..40
    c.write_name(&mut w, b"\x03FOO\x01F\x03ISI\x04ARPA\x00")
        .unwrap();
    w.bytes(&[0; 18]).unwrap(); // 46..64
    c.write_name(&mut w, b"\x04ARPA\x00").unwrap();
    w.bytes(&[0; 26]).unwrap(); // 66..92
    c.write_name(&mut w, b"\x00").unwrap();
    assert_eq!(w.len(), 93);
    assert_eq!(buf, rfc1035_example());
}

/// RFC 1035 §4.1.1 and §4.1.2: a standard query for `example.com. IN A`.
#[test]
fn rfc1035_4_1_query_layout() {
    let q: &[u8] = &[
        0x5a, 0x5a, // ID
        0x01, 0x00, // QR=0 OPCODE=0 AA=0 TC=0 RD=1 | RA=0 Z=0 AD=0 CD=0 RCODE=0
        0x00, 0x01, // QDCOUNT 1
        0x00, 0x00, // ANCOUNT 0
        0x00, 0x00, // NSCOUNT 0
        0x00, 0x00, // ARCOUNT 0
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', // QNAME "example"
        3, b'c', b'o', b'm', 0, //                      "com", root
        0x00, 0x01, // QTYPE A
        0x00, 0x01, // QCLASS IN
    ];
    let parsed = parse_query(q).unwrap();
    assert_eq!(parsed.header.id, 0x5a5a);
    assert!(parsed.header.flags.rd() && !parsed.header.flags.qr());
    assert_eq!(parsed.qname.to_string(), "example.com.");
    assert_eq!((parsed.qtype, parsed.qclass), (Rtype::A, Class::IN));
    assert_eq!(parsed.question, &q[12..]);

    let mut out = [0u8; 64];
    let mut w = Writer::new(&mut out);
    Header {
        id: 0x5a5a,
        flags: dns_wire::Flags(0).with_rd(true),
        qdcount: 1,
        ..Header::default()
    }
    .write(&mut w)
    .unwrap();
    write_question(
        &mut w,
        &mut Compressor::new(),
        b"\x07example\x03com\x00",
        Rtype::A,
        Class::IN,
    )
    .unwrap();
    assert_eq!(w.written(), q);
}

/// RFC 6891 §6.1.2 and §6.1.3: a query with an OPT record advertising a
/// 4096-octet payload, version 0, DO set, carrying one COOKIE option
/// (RFC 7873, code 10) that we skip.
const EDNS_QUERY: &[u8] = &[
    0x00, 0x2a, 0x01, 0x00, // ID 42, RD
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // QD 1, AN 0, NS 0, AR 1
    4, b'_', b's', b'i', b'p', 4, b'_', b'u', b'd', b'p', 0, // _sip._udp.
    0x00, 0x21, 0x00, 0x01, // SRV IN
    0x00, // NAME: root (RFC 6891 §6.1.2 "MUST be 0")
    0x00, 0x29, // TYPE OPT (41)
    0x10, 0x00, // CLASS: requestor's UDP payload size 4096
    0x00, // TTL: EXTENDED-RCODE 0
    0x00, //      VERSION 0
    0x80, 0x00, // DO=1, Z=0
    0x00, 0x0c, // RDLEN 12
    0x00, 0x0a, 0x00, 0x08, // OPTION-CODE 10 (COOKIE), OPTION-LENGTH 8
    1, 2, 3, 4, 5, 6, 7, 8, // client cookie
];

#[test]
fn rfc6891_6_1_2_opt_in_query() {
    let q = parse_query(EDNS_QUERY).unwrap();
    assert_eq!(
        q.edns,
        Some(Edns {
            udp_payload: 4096,
            ext_rcode: 0,
            version: 0,
            dnssec_ok: true
        })
    );
    assert_eq!(q.udp_limit(), 4096);
    let m = Message::parse(EDNS_QUERY).unwrap();
    let opt = m.additional().next().unwrap();
    assert_eq!(opt.rtype, Rtype::OPT);
    assert_eq!(opt.rdata, Rdata::Opt(&EDNS_QUERY[38..]));
}

#[test]
fn rfc6891_6_1_3_badvers() {
    // Same query with VERSION 1: the answer is BADVERS (16), whose upper
    // eight bits (1) go into the OPT EXTENDED-RCODE, low four (0) in the header.
    let mut packet = EDNS_QUERY.to_vec();
    packet[33] = 1;
    let q = parse_query(&packet).unwrap();
    assert_eq!(q.edns.map(|e| e.version), Some(1));
    let mut out = [0u8; 512];
    let n = write_error(&q, Rcode::BADVERS, &mut out).unwrap();
    let expected: &[u8] = &[
        0x00, 0x2a, 0x81, 0x00, // ID 42, QR RD, RCODE 0
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // QD 1, AR 1
        4, b'_', b's', b'i', b'p', 4, b'_', b'u', b'd', b'p', 0, 0x00, 0x21, 0x00, 0x01,
        0x00, 0x00, 0x29, // root, OPT
        0x04, 0xd0, // our payload size, 1232
        0x01, 0x00, 0x80, 0x00, // EXTENDED-RCODE 1, VERSION 0, DO copied
        0x00, 0x00, // no options
    ];
    assert_eq!(&out[..n], expected);
}

#[test]
fn rfc6891_6_1_2_write_opt_layout() {
    let mut out = [0u8; 11];
    let mut w = Writer::new(&mut out);
    let e = Edns {
        udp_payload: 1232,
        ext_rcode: 0,
        version: 0,
        dnssec_ok: false,
    };
    write_opt(&mut w, &e).unwrap();
    assert_eq!(out, [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        write_opt(&mut Writer::new(&mut [0u8; 10]), &e),
        Err(WireError::Full)
    );
}

/// RFC 2782: `_http._tcp.example.com. 86400 IN SRV 0 5 80 www.example.com.`,
/// owner compressed to the question at offset 12, target written in full.
#[test]
fn rfc2782_srv_layout() {
    let expected: &[u8] = &[
        0xc0, 0x0c, // NAME: pointer to the question name at 12
        0x00, 0x21, // TYPE SRV (33)
        0x00, 0x01, // CLASS IN
        0x00, 0x01, 0x51, 0x80, // TTL 86400
        0x00, 0x17, // RDLENGTH 23
        0x00, 0x00, // Priority 0
        0x00, 0x05, // Weight 5
        0x00, 0x50, // Port 80
        3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o',
        b'm', 0, // Target, never compressed even though "example.com" precedes it
    ];
    let owner = b"\x05_http\x04_tcp\x07example\x03com\x00";
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf);
    w.bytes(&[0; 12]).unwrap();
    let mut c = Compressor::new();
    write_question(&mut w, &mut c, owner, Rtype::SRV, Class::IN).unwrap();
    let rr_at = w.len();
    let srv = Srv {
        priority: 0,
        weight: 5,
        port: 80,
        target: &b"\x03www\x07example\x03com\x00"[..],
    };
    write_srv(&mut w, &mut c, owner, 86400, &srv).unwrap();
    let n = w.len();
    assert_eq!(&buf[rr_at..n], expected);

    let mut r = Reader::at(&buf[..n], rr_at).unwrap();
    let rec = dns_wire::Record::parse(&mut r).unwrap();
    assert_eq!(rec.name.to_string(), "_http._tcp.example.com.");
    let Rdata::Srv(s) = rec.rdata else {
        panic!("not SRV: {:?}", rec.rdata)
    };
    assert_eq!((s.priority, s.weight, s.port), (0, 5, 80));
    assert_eq!(s.target.to_string(), "www.example.com.");
    assert_eq!(rec.ttl, 86400);
}

/// RFC 3596 §2.2: AAAA RDATA is the 16-octet address in network order.
#[test]
fn rfc3596_2_2_aaaa_layout() {
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    let addr: Ipv6Addr = "2001:db8::1".parse().unwrap();
    write_aaaa(&mut w, &mut Compressor::new(), b"\x01h\x00", 5, addr).unwrap();
    let n = w.len();
    assert_eq!(
        &buf[..n],
        b"\x01h\x00\x00\x1c\x00\x01\x00\x00\x00\x05\x00\x10\
\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    );
    let rec = dns_wire::Record::parse(&mut Reader::new(&buf[..n])).unwrap();
    assert_eq!(rec.rdata, Rdata::Aaaa(addr));
    assert_ne!(rec.rdata, Rdata::A(Ipv4Addr::UNSPECIFIED));
}
