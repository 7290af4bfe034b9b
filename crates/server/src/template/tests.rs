use super::*;
use dns_wire::Rtype;

use crate::table::test_wire as wire;

#[test]
fn trims_additional_before_answers_and_subsets_answers() {
    let (mut scratch, mut ts) = (Scratch::default(), Templates::default());
    let mut b = Builder::new(&mut scratch);
    for i in 0..10u8 {
        b.record(Section::Answer, |b| {
            b.question_owner(Rtype::A, 60)?;
            b.rdata(&[10, 0, 0, i])
        });
    }
    b.record(Section::Additional, |b| {
        b.owner(&wire("x.mesos."), Rtype::A, 60)?;
        b.rdata(&[1, 1, 1, 1])
    });
    let i = b.finish(true, &mut ts);
    let t = ts.get(i).unwrap();
    let mut out = [0u8; 1024];
    let full = t.render(&mut out, 20, 1024);
    assert_eq!(
        (full.ancount, full.arcount, full.answers_cut),
        (10, 1, false)
    );
    let no_extra = t.render(&mut out, 20, 20 + 160);
    assert_eq!((no_extra.ancount, no_extra.arcount), (10, 0));
    assert!(no_extra.rest_cut && !no_extra.answers_cut);
    let cut = t.render(&mut out, 20, 20 + 50);
    assert_eq!(cut.ancount, 3);
    assert!(cut.answers_cut);
    // Every copied record is one of the originals.
    let mut seen = [false; 10];
    for k in 0..3 {
        let rec = &out[20 + 16 * k..20 + 16 * (k + 1)];
        assert_eq!(&rec[..2], &[0xC0, 0x0C]);
        seen[usize::from(rec[15])] = true;
    }
    assert_eq!(seen.iter().filter(|&&s| s).count(), 3);
}

#[test]
fn every_order_is_a_permutation() {
    for n in [2usize, 3, 10, 255, 256, 257, 300, 1000, 1024] {
        let mut o = Order::new(n);
        let mut seen = vec![false; n];
        for i in 0..n {
            seen[o.index(i, n)] = true;
        }
        assert!(seen.iter().all(|&s| s), "n = {n}");
    }
}
