//! The malformed-input catalogue: each case asserts the exact error.
//!
//! Queries go through `parse_query`, responses through `Message::parse`,
//! bare names through `Name::parse`. Offsets in `BadPointer` are octet
//! offsets from the start of the message.

use dns_wire::{
    name::from_dotted, parse_query, write_a, Compressor, Message, Name, Reader,
    WireError, Writer,
};

/// A query header (ID 1, RD) with the given QDCOUNT and ARCOUNT.
fn header(qdcount: u16, arcount: u16) -> Vec<u8> {
    let mut h = vec![0, 1, 1, 0];
    h.extend_from_slice(&qdcount.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0]);
    h.extend_from_slice(&arcount.to_be_bytes());
    h
}

/// A query: header, then `tail` (question and any records) verbatim.
fn query(arcount: u16, tail: &[u8]) -> Vec<u8> {
    let mut q = header(1, arcount);
    q.extend_from_slice(tail);
    q
}

const QTAIL: &[u8] = b"\x00\x01\x00\x01"; // QTYPE A, QCLASS IN
const OPT: &[u8] = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"; // empty OPT

/// A response with one question `a.` and one answer record made of `rr`.
fn response(rr: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    m.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01"); // 12..19
    m.extend_from_slice(rr); // answer at 19
    m
}

fn q_err(p: &[u8]) -> WireError {
    parse_query(p).expect_err("query must be rejected")
}

fn m_err(p: &[u8]) -> WireError {
    Message::parse(p).expect_err("message must be rejected")
}

fn name_err(msg: &[u8], at: usize) -> WireError {
    let mut r = Reader::at(msg, at).unwrap();
    Name::parse(&mut r).expect_err("name must be rejected")
}

// --- truncation -----------------------------------------------------------

#[test]
fn rejects_short_header() {
    assert_eq!(q_err(&[0; 11]), WireError::Truncated);
    assert_eq!(m_err(&[]), WireError::Truncated);
}

#[test]
fn rejects_truncation_inside_a_label() {
    assert_eq!(q_err(&query(0, b"\x03ab")), WireError::Truncated);
    assert_eq!(name_err(b"\x03ab", 0), WireError::Truncated);
}

#[test]
fn rejects_truncation_at_a_label_boundary() {
    assert_eq!(q_err(&query(0, b"\x03abc")), WireError::Truncated);
    assert_eq!(name_err(b"\x03abc\x01d", 0), WireError::Truncated);
}

#[test]
fn rejects_truncation_inside_a_pointer() {
    assert_eq!(name_err(b"\x00\x01a\xc0", 1), WireError::Truncated);
}

#[test]
fn rejects_truncated_question_fields() {
    assert_eq!(
        q_err(&query(0, b"\x01a\x00\x00\x01\x00")),
        WireError::Truncated
    );
}

// --- pointers -------------------------------------------------------------

#[test]
fn rejects_pointer_past_the_end() {
    // Answer owner at 19 points to 0x3fff, far beyond the 29-octet message.
    let m = response(b"\xff\xff\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00");
    assert_eq!(m_err(&m), WireError::BadPointer { at: 19, to: 0x3fff });
}

#[test]
fn rejects_pointer_to_itself() {
    let m = response(b"\xc0\x13\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00");
    assert_eq!(m_err(&m), WireError::BadPointer { at: 19, to: 19 });
}

#[test]
fn rejects_forward_pointer() {
    // Owner at 19 points to 31, where a valid name `b.` sits (in the RDATA).
    let m = response(b"\xc0\x1f\x00\x05\x00\x01\x00\x00\x00\x00\x00\x03\x01b\x00");
    assert_eq!(m_err(&m), WireError::BadPointer { at: 19, to: 31 });
}

#[test]
fn rejects_one_step_loop() {
    // "a" then a pointer back to the start of the same name.
    let m = response(b"\x01a\xc0\x13\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00");
    assert_eq!(m_err(&m), WireError::BadPointer { at: 21, to: 19 });
}

#[test]
fn rejects_two_step_loop() {
    // At 0: "x" -> pointer to 4.   At 4: "y" -> pointer to 0.
    let msg = b"\x01x\xc0\x04\x01y\xc0\x00";
    // Entering at 4: 4 -> 0 is backwards, but 0's pointer to 4 is not
    // before the run that started at 0.
    assert_eq!(name_err(msg, 4), WireError::BadPointer { at: 2, to: 4 });
    // Entering at 0: the first pointer is already forward.
    assert_eq!(name_err(msg, 0), WireError::BadPointer { at: 2, to: 4 });
}

#[test]
fn rejects_pointer_in_question() {
    // The question is the first name; a pointer can only go into the header.
    assert_eq!(
        q_err(&query(0, b"\x01a\xc0\x04\x00\x01\x00\x01")),
        WireError::BadPointer { at: 14, to: 4 }
    );
    // A bare pointer as the whole question name.
    assert_eq!(
        q_err(&query(0, b"\xc0\x00\x00\x01\x00\x01")),
        WireError::BadPointer { at: 12, to: 0 }
    );
}

// --- label types and lengths ---------------------------------------------

#[test]
fn rejects_label_type_0x40() {
    assert_eq!(q_err(&query(0, b"\x41\x00")), WireError::LabelType(0x41));
    assert_eq!(name_err(b"\x40", 0), WireError::LabelType(0x40));
}

#[test]
fn rejects_label_type_0x80() {
    assert_eq!(q_err(&query(0, b"\x80\x00")), WireError::LabelType(0x80));
}

#[test]
fn accepts_63_octet_label_rejects_64() {
    let mut l63 = vec![63u8];
    l63.extend_from_slice(&[b'a'; 63]);
    l63.push(0);
    let mut q = l63.clone();
    q.extend_from_slice(QTAIL);
    let packet = query(0, &q);
    let parsed = parse_query(&packet).unwrap();
    assert_eq!(parsed.qname.labels().next().map(<[u8]>::len), Some(63));
    // A length octet of 64 is 0b0100_0000: the reserved extended label type.
    let mut l64 = vec![64u8];
    l64.extend_from_slice(&[b'a'; 64]);
    l64.push(0);
    assert_eq!(q_err(&query(0, &l64)), WireError::LabelType(64));
    let mut out = [0; 255];
    assert_eq!(
        from_dotted(&"a".repeat(64), &mut out),
        Err(WireError::LabelTooLong)
    );
}

/// An uncompressed name of `labels` labels of 63 octets plus one of `last`.
fn long_name(labels: usize, last: u8) -> Vec<u8> {
    let mut n = Vec::new();
    for _ in 0..labels {
        n.push(63);
        n.extend_from_slice(&[b'x'; 63]);
    }
    n.push(last);
    n.extend(std::iter::repeat_n(b'y', usize::from(last)));
    n.push(0);
    n
}

#[test]
fn accepts_255_octet_name_rejects_256() {
    let n255 = long_name(3, 61);
    assert_eq!(n255.len(), 255);
    let mut q = n255.clone();
    q.extend_from_slice(QTAIL);
    assert_eq!(parse_query(&query(0, &q)).unwrap().qname.wire_len(), 255);

    let n256 = long_name(3, 62);
    assert_eq!(n256.len(), 256);
    let mut q = n256.clone();
    q.extend_from_slice(QTAIL);
    assert_eq!(q_err(&query(0, &q)), WireError::NameTooLong);
}

#[test]
fn rejects_256_octet_name_built_from_pointers() {
    // At 0: 3 x 63-octet labels + root (193 octets). At 193: a 62-octet
    // label then a pointer to 0: 1 + 62 + 193 = 256 octets uncompressed.
    let mut msg = long_name(2, 63);
    assert_eq!(msg.len(), 193);
    msg.push(62);
    msg.extend_from_slice(&[b'z'; 62]);
    msg.extend_from_slice(b"\xc0\x00");
    assert_eq!(name_err(&msg, 193), WireError::NameTooLong);
    // One octet shorter is fine.
    let mut ok = long_name(2, 63);
    ok.push(61);
    ok.extend_from_slice(&[b'z'; 61]);
    ok.extend_from_slice(b"\xc0\x00");
    let mut r = Reader::at(&ok, 193).unwrap();
    assert_eq!(Name::parse(&mut r).unwrap().wire_len(), 255);
}

// --- counts, records, EDNS -----------------------------------------------

#[test]
fn rejects_qdcount_0() {
    assert_eq!(q_err(&header(0, 0)), WireError::QdCount(0));
}

#[test]
fn rejects_qdcount_2() {
    let mut q = header(2, 0);
    q.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01\x01b\x00\x00\x01\x00\x01");
    assert_eq!(q_err(&q), WireError::QdCount(2));
}

#[test]
fn rejects_rdlength_past_the_end() {
    let mut tail = b"\x01a\x00\x00\x01\x00\x01".to_vec();
    tail.extend_from_slice(b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0a\x00\x0a");
    assert_eq!(q_err(&query(1, &tail)), WireError::Truncated);
    let m = response(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02");
    assert_eq!(m_err(&m), WireError::Truncated);
}

#[test]
fn rejects_two_opt_records() {
    let mut tail = b"\x01a\x00\x00\x01\x00\x01".to_vec();
    tail.extend_from_slice(OPT);
    tail.extend_from_slice(OPT);
    assert_eq!(q_err(&query(2, &tail)), WireError::DuplicateOpt);
    let mut m =
        response(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04");
    m[11] = 2;
    m.extend_from_slice(OPT);
    m.extend_from_slice(OPT);
    assert_eq!(m_err(&m), WireError::DuplicateOpt);
}

#[test]
fn rejects_opt_with_non_root_owner() {
    let mut tail = b"\x01a\x00\x00\x01\x00\x01".to_vec();
    tail.extend_from_slice(b"\xc0\x0c\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00");
    assert_eq!(q_err(&query(1, &tail)), WireError::BadOpt);
}

#[test]
fn rejects_opt_option_past_rdata() {
    let mut tail = b"\x01a\x00\x00\x01\x00\x01".to_vec();
    // RDLEN 6 holds an option header claiming 8 octets of data.
    tail.extend_from_slice(
        b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x06\x00\x0a\x00\x08\x01\x02",
    );
    assert_eq!(q_err(&query(1, &tail)), WireError::BadRdata { rtype: 41 });
}

#[test]
fn rejects_trailing_bytes() {
    let mut q = query(0, b"\x01a\x00\x00\x01\x00\x01");
    assert!(parse_query(&q).is_ok());
    q.push(0);
    assert_eq!(q_err(&q), WireError::TrailingData);
    let mut m =
        response(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04");
    assert!(Message::parse(&m).is_ok());
    m.extend_from_slice(b"junk");
    assert_eq!(m_err(&m), WireError::TrailingData);
}

#[test]
fn rejects_rdata_that_does_not_match_its_type() {
    // A with 3 octets.
    let m = response(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x03\x01\x02\x03");
    assert_eq!(m_err(&m), WireError::BadRdata { rtype: 1 });
    // AAAA with 4 octets.
    let m = response(b"\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04");
    assert_eq!(m_err(&m), WireError::BadRdata { rtype: 28 });
    // SRV whose target runs past RDLENGTH 8.
    let m = response(b"\xc0\x0c\x00\x21\x00\x01\x00\x00\x00\x3c\x00\x08\x00\x00\x00\x00\x00\x50\x01t\x00");
    assert_eq!(m_err(&m), WireError::BadRdata { rtype: 33 });
    // CNAME with an octet after its name.
    let m = response(b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x03\x00\x00\x00");
    assert_eq!(m_err(&m), WireError::BadRdata { rtype: 5 });
    // SOA missing its last counter.
    let m = response(b"\xc0\x0c\x00\x06\x00\x01\x00\x00\x00\x3c\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04");
    assert_eq!(m_err(&m), WireError::BadRdata { rtype: 6 });
}

#[test]
fn bad_pointer_inside_rdata_keeps_its_error() {
    // NS whose name is a forward pointer.
    let m = response(b"\xc0\x0c\x00\x02\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x30");
    assert_eq!(m_err(&m), WireError::BadPointer { at: 31, to: 48 });
}

// --- writers ----------------------------------------------------------------

#[test]
fn writers_report_full_never_panic() {
    for size in 0..=16 {
        let mut buf = vec![0u8; size];
        let mut w = Writer::new(&mut buf);
        let r = write_a(
            &mut w,
            &mut Compressor::new(),
            b"\x00",
            0,
            [1, 2, 3, 4].into(),
        );
        if size < 15 {
            assert_eq!(r, Err(WireError::Full), "size {size}");
        } else {
            assert_eq!(r, Ok(()), "size {size}");
        }
    }
}

#[test]
fn writers_reject_invalid_names() {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    let mut c = Compressor::new();
    assert_eq!(c.write_name(&mut w, b"\x01a"), Err(WireError::Truncated));
    assert_eq!(
        c.write_name(&mut w, b"\x01a\x00\x00"),
        Err(WireError::TrailingData)
    );
    assert_eq!(
        c.write_name(&mut w, b"\xc0\x00"),
        Err(WireError::LabelType(0xc0))
    );
    assert_eq!(
        c.write_name(&mut w, &long_name(3, 62)),
        Err(WireError::NameTooLong)
    );
    let mut out = [0; 255];
    assert_eq!(from_dotted("a..b", &mut out), Err(WireError::EmptyLabel));
    assert_eq!(w.len(), 0, "nothing written for rejected names");
}

#[test]
fn rejects_more_than_127_pointers_in_one_name() {
    // Offset 0: the root. Then pointers at 1, 3, 5, ..., each to the one
    // before it (the first to the root).
    let mut msg = vec![0u8];
    for i in 0..128u16 {
        let to = if i == 0 { 0 } else { 1 + 2 * (i - 1) };
        msg.extend_from_slice(&(0xc000 | to).to_be_bytes());
    }
    // Entering at the 127th pointer follows 127 pointers: fine.
    let mut r = Reader::at(&msg, 1 + 2 * 126).unwrap();
    assert!(Name::parse(&mut r).unwrap().is_root());
    // Entering at the 128th: the last hop (at 1, to 0) is one too many.
    assert_eq!(
        name_err(&msg, 1 + 2 * 127),
        WireError::BadPointer { at: 1, to: 0 }
    );
}
