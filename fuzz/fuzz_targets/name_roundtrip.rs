//! Arbitrary names, written once without and once with compression after a
//! 12-octet header, parse back equal: exactly without compression, and
//! ignoring ASCII case with it (the compressor matches case-insensitively).
#![no_main]

use dns_wire::{Compressor, Name, Reader, Writer, MAX_NAME_LEN};
use libfuzzer_sys::fuzz_target;

/// Cuts the input into valid uncompressed names: each length octet is taken
/// modulo 64; 0 (or running out of room) ends a name.
fn names(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !data.is_empty() && out.len() < 64 {
        let mut name = Vec::new();
        while let Some((&b, rest)) = data.split_first() {
            data = rest;
            let n = usize::from(b % 64).min(data.len());
            if n == 0 || name.len() + 1 + n + 1 > MAX_NAME_LEN {
                break;
            }
            name.push(n as u8);
            name.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        name.push(0);
        out.push(name);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let names = names(data);
    let mut plain = vec![0u8; 12 + 256 * names.len()];
    let mut packed = plain.clone();
    let mut w = Writer::new(&mut plain);
    let mut p = Writer::new(&mut packed);
    w.bytes(&[0; 12]).unwrap();
    p.bytes(&[0; 12]).unwrap();
    let mut c = Compressor::new();
    for n in &names {
        w.bytes(n).unwrap();
        c.write_name(&mut p, n).unwrap();
    }
    let (wl, pl) = (w.len(), p.len());
    assert!(pl <= wl);
    let mut r = Reader::at(&plain[..wl], 12).unwrap();
    let mut s = Reader::at(&packed[..pl], 12).unwrap();
    for n in &names {
        let a = Name::parse(&mut r).expect("uncompressed name parses");
        let b = Name::parse(&mut s).expect("compressed name parses");
        assert_eq!(a.wire_len(), n.len());
        let mut again = [0u8; 256];
        let mut aw = Writer::new(&mut again);
        a.write(&mut aw).unwrap();
        assert_eq!(aw.written(), &n[..]);
        assert!(b.eq_wire(n));
        assert!(a.eq_ignore_case(&b));
    }
    assert_eq!(r.remaining(), 0);
    assert_eq!(s.remaining(), 0);
});
