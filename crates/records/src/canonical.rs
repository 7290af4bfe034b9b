//! Canonical task labels: `<task>-<hash>-<slave tail>` (BEHAVIOUR.md 4.2).
//!
//! - `hash(id)`: the first 5 characters of the z-base-32 encoding of
//!   SHA-1(id), that is the top 25 bits of the digest in five 5-bit groups,
//!   most significant first.
//! - `slave_tail(id)`: the last `-`-separated field of the slave id, lowercased
//!   (Go `strings.ToLower`, Unicode simple case mapping), not sanitized.
//!
//! Fix (BEHAVIOUR.md 0): mesos-dns builds the canonical label without a length
//! check, so a task name of 50-62 characters gives a label over 63 octets that
//! it cannot put on the wire. [`canonical_stem`] shortens the task part so
//! that the label holding the hash is exactly 63 octets when, and only
//! when, it would be longer, keeping `-<hash>-<tail>` intact. That label
//! runs from the task part's last `.` to the tail's first `.`: a slave id
//! ending in `-S28.5` has the tail `s28.5`, of which only `s28` shares the
//! label (`5` is a label of its own, as mesos-dns serves it). The same stem
//! is used for the A/AAAA names, the `.slave` names and the SRV targets.
//! A cut never splits a UTF-8 character (a raw DiscoveryInfo name can hold
//! any), so such a label can end up a few octets short of 63.

use sha1::{Digest, Sha1};

/// The z-base-32 alphabet.
const ZBASE32: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// Longest label in octets (RFC 1035 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// `hashString`: 5 z-base-32 characters of SHA-1(`task_id`).
pub fn hash(task_id: &str) -> [u8; 5] {
    let digest = Sha1::digest(task_id.as_bytes());
    let mut top = [0u8; 4];
    for (t, d) in top.iter_mut().zip(digest.iter()) {
        *t = *d;
    }
    let bits = u32::from_be_bytes(top);
    let mut out = [0u8; 5];
    for (i, o) in out.iter_mut().enumerate() {
        let shift = 27 - 5 * i;
        let idx = ((bits >> shift) & 0x1f) as usize;
        *o = ZBASE32.get(idx).copied().unwrap_or(b'y');
    }
    out
}

/// `slaveIDTail`: the last `-` field of `slave_id`, lowercased.
pub fn slave_tail(slave_id: &str) -> String {
    let last = slave_id.rsplit('-').next().unwrap_or_default();
    // Go's unicode.ToLower is the simple mapping: one rune in, one rune out.
    last.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// The canonical stem `<task>-<hash>-<tail>` for one pass (without the
/// framework part), with the task part shortened so that the label holding
/// the hash is at most 63 octets. Only the part of `tail` before its first
/// `.` is in that label.
pub fn canonical_stem(task_name: &str, hash: &[u8; 5], tail: &str) -> String {
    let tail_in_label = tail.split('.').next().unwrap_or_default();
    let suffix_len = 1 + hash.len() + 1 + tail_in_label.len();
    let (before, last) = match task_name.rfind('.') {
        Some(dot) => task_name.split_at(dot + 1),
        None => ("", task_name),
    };
    let budget = MAX_LABEL_LEN.saturating_sub(suffix_len);
    let mut cut = last.len().min(budget);
    while !last.is_char_boundary(cut) {
        cut -= 1;
    }
    let last = if last.len() + suffix_len > MAX_LABEL_LEN {
        last.get(..cut).unwrap_or_default()
    } else {
        last
    };
    let mut s = String::with_capacity(before.len() + last.len() + suffix_len);
    s.push_str(before);
    s.push_str(last);
    s.push('-');
    s.extend(hash.iter().map(|&b| char::from(b)));
    s.push('-');
    s.push_str(tail);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_str(id: &str) -> String {
        hash(id).iter().map(|&b| char::from(b)).collect()
    }

    // BEHAVIOUR.md 4.2 vectors (generator_test.go TestHashString and fake.json
    // names).
    #[test]
    fn hash_vectors() {
        assert_eq!(hash_str("test"), "iffe9");
        assert_eq!(
            hash_str("liquor-store.b8db9f73-562f-11e4-a088-c20493233aa5"),
            "4dfjd"
        );
        assert_eq!(
            hash_str("toy-store.b8db9f73-562f-11e4-a088-c20493233aa5"),
            "go588"
        );
    }

    #[test]
    fn slave_tail_vectors() {
        assert_eq!(slave_tail("20160107-001256-134875658-5050-27524-S3"), "s3");
        assert_eq!(slave_tail("20140916-194712-631065744-5050-4798-2"), "2");
        assert_eq!(slave_tail("nodash"), "nodash");
        assert_eq!(slave_tail(""), "");
        assert_eq!(slave_tail("a-"), "");
        // U+0130 lowercases to `i` under Go's simple mapping.
        assert_eq!(slave_tail("x-\u{130}"), "i");
    }

    #[test]
    fn stem_is_unchanged_when_it_fits() {
        assert_eq!(
            canonical_stem("liquor-store", b"4dfjd", "0"),
            "liquor-store-4dfjd-0"
        );
        let name = "a".repeat(55);
        assert_eq!(
            canonical_stem(&name, b"4dfjd", "0"),
            format!("{name}-4dfjd-0")
        );
    }

    // BEHAVIOUR.md 0: a 50-62 character task name must not give a label over 63
    // octets.
    #[test]
    fn rfc1035_2_3_4_long_task_name_is_shortened() {
        for n in 50..=63 {
            let name = "b".repeat(n);
            let stem = canonical_stem(&name, b"4dfjd", "s12");
            assert!(stem.len() <= MAX_LABEL_LEN, "{n}: {stem}");
            assert!(stem.ends_with("-4dfjd-s12"));
        }
        let stem = canonical_stem(&"c".repeat(63), b"iffe9", "0");
        assert_eq!(stem, format!("{}-iffe9-0", "c".repeat(55)));
        assert_eq!(stem.len(), 63);
    }

    // Issue 15: only the tail's part before its first `.` shares the label.
    #[test]
    fn rfc1035_2_3_4_tail_after_a_dot_is_another_label() {
        // 52 + 1 + 5 + 1 + 3 = 62 octets: fits, nothing is cut.
        let name = "a".repeat(52);
        let stem = canonical_stem(&name, b"4dfjd", "s28.5");
        assert_eq!(stem, format!("{name}-4dfjd-s28.5"));
        // 60 characters: cut to 53, the label is exactly 63 octets.
        let stem = canonical_stem(&"a".repeat(60), b"4dfjd", "s28.5");
        assert_eq!(stem, format!("{}-4dfjd-s28.5", "a".repeat(53)));
        assert_eq!(stem.split('.').next().map(str::len), Some(63));
        // 53 characters: exactly 63 octets, kept whole.
        let name = "a".repeat(53);
        let stem = canonical_stem(&name, b"4dfjd", "s28.5.x");
        assert_eq!(stem, format!("{name}-4dfjd-s28.5.x"));
    }

    #[test]
    fn every_cut_label_is_exactly_63_octets() {
        for tail in ["0", "s3", "s28.5", "long-tail.x.y", ""] {
            let tail_label = tail.split('.').next().unwrap().len();
            for n in 1..=80 {
                let stem = canonical_stem(&"e".repeat(n), b"iffe9", tail);
                let label = stem.split('.').next().unwrap().len();
                assert_eq!(label, (n + 7 + tail_label).min(63), "{n} {tail}");
            }
        }
    }

    #[test]
    fn only_the_last_dotted_part_is_shortened() {
        let name = format!("legacy.{}", "d".repeat(60));
        let stem = canonical_stem(&name, b"4dfjd", "0");
        assert_eq!(stem, format!("legacy.{}-4dfjd-0", "d".repeat(55)));
    }
}
