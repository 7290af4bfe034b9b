//! DNS-over-TCP framing as a connection sees it: the input is a byte
//! stream, cut into reads at sizes taken from its first octets.
//! `mesos_dns::tcp::Frames` is driven the way the worker drives it (append
//! a read, take every complete message, keep the rest), and must give the
//! same messages whatever the cuts, each exactly as framed, with only an
//! incomplete message (never more than a frame) left over. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_dns::tcp::Frames;

/// Two length octets and the largest message.
const MAX_FRAME: usize = 2 + 65_535;

/// Messages of `stream` read in one go, and the octets they took.
fn whole(stream: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut f = Frames::new(stream);
    let msgs: Vec<&[u8]> = f.by_ref().collect();
    (msgs, f.consumed())
}

fuzz_target!(|data: &[u8]| {
    let Some((&cuts, rest)) = data.split_first() else {
        return;
    };
    let (cut_sizes, stream) = rest.split_at(usize::from(cuts % 8).min(rest.len()));
    let (expected, consumed) = whole(stream);

    // Every message is exactly what its length octets announce, back to
    // back from the start of the stream.
    let mut at = 0;
    for m in &expected {
        let len = usize::from(u16::from_be_bytes([stream[at], stream[at + 1]]));
        assert_eq!(len, m.len());
        assert_eq!(&stream[at + 2..at + 2 + len], *m);
        at += 2 + len;
    }
    assert_eq!(at, consumed);
    // What is left is one incomplete message.
    let left = &stream[consumed..];
    if let [hi, lo, body @ ..] = left {
        assert!(body.len() < usize::from(u16::from_be_bytes([*hi, *lo])));
    }
    assert!(left.len() < MAX_FRAME);

    // The same stream in reads of the given sizes (1.. octets, cycling).
    let mut inbuf: Vec<u8> = Vec::new();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < stream.len() {
        let size = cut_sizes
            .get(i % cut_sizes.len().max(1))
            .map_or(stream.len(), |&s| usize::from(s) + 1);
        i += 1;
        let end = (pos + size).min(stream.len());
        inbuf.extend_from_slice(&stream[pos..end]);
        pos = end;
        let mut f = Frames::new(&inbuf);
        got.extend(f.by_ref().map(<[u8]>::to_vec));
        let at = f.consumed();
        inbuf.drain(..at);
        assert!(inbuf.len() < MAX_FRAME);
    }
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.as_slice(), *e);
    }
    assert_eq!(inbuf.as_slice(), left);
});
