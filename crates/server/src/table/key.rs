//! The table's keys: the record set's text names in uncompressed wire
//! form, lowercased for lookups (ASCII only, RFC 4343), and the relations
//! between names the table needs (in a zone, the parent).

use dns_wire::{MAX_LABEL_LEN, MAX_NAME_LEN};

/// Lowercase wire form of a dotted name, if it is a valid DNS name.
pub(crate) fn wire_name(text: &str) -> Option<Box<[u8]>> {
    let mut buf = [0u8; MAX_NAME_LEN];
    dns_wire::name::from_dotted(text, &mut buf)
        .ok()
        .map(Into::into)
}

/// The wire form of a name the tests know to be valid.
#[cfg(test)]
pub(crate) fn test_wire(text: &str) -> Vec<u8> {
    wire_name(text).expect("a valid test name").into_vec()
}

/// Whether `name` equals `zone` or lies below it (both lowercase wire).
pub(crate) fn in_zone(name: &[u8], zone: &[u8]) -> bool {
    dns_wire::name::is_subdomain(name, zone)
}

/// The parent of wire name `key` (empty for the root).
pub(super) fn parent(key: &[u8]) -> &[u8] {
    let skip = 1 + usize::from(key.first().copied().unwrap_or(0));
    key.get(skip..).unwrap_or_default()
}

/// The uncompressed wire form of `text`, spelled as it is (exactly as
/// [`dns_wire::name::from_dotted`] makes it), and whether it holds an ASCII
/// capital letter (then its lookup key, lowercased, differs from it).
/// `None` if the wire format cannot carry the name: an empty label, a
/// label over 63 octets, a name over 255 octets. Any octet is fine in a
/// label (RFC 2181 section 11): `bang!` and `é` are served as they are.
pub(super) fn wire_key<'b>(
    text: &str,
    out: &'b mut [u8; MAX_NAME_LEN],
) -> Option<(&'b [u8], bool)> {
    let t = text.as_bytes();
    let t = t.strip_suffix(b".").unwrap_or(t);
    // Branch-free over the octets, so it runs on whole vectors.
    let upper = t.iter().fold(false, |up, &c| up | c.is_ascii_uppercase());
    let end = 1 + t.len();
    if t.is_empty() {
        *out.first_mut()? = 0;
        return Some((out.get(..1)?, false));
    }
    // The text after a placeholder octet, then each dot (and the
    // placeholder) replaced by the length of the label after it.
    out.get_mut(1..end)?.copy_from_slice(t);
    *out.get_mut(end)? = 0;
    let mut len_at = 0;
    loop {
        let label = next_dot(t, len_at) - len_at;
        if label == 0 || label > MAX_LABEL_LEN {
            return None;
        }
        *out.get_mut(len_at)? = label as u8;
        len_at += 1 + label;
        if len_at >= end {
            break;
        }
    }
    Some((out.get(..=end)?, upper))
}

/// [`wire_key`] lowercased (ASCII only, RFC 4343): the table's key of
/// `text`, and whether `text` had capitals.
pub(super) fn lookup_key<'b>(
    text: &str,
    out: &'b mut [u8; MAX_NAME_LEN],
) -> Option<(&'b [u8], bool)> {
    let (len, upper) = wire_key(text, out).map(|(w, up)| (w.len(), up))?;
    let key = out.get_mut(..len)?;
    if upper {
        key.make_ascii_lowercase();
    }
    Some((key, upper))
}

/// The index of the first `.` in `t` at or after `from`, or `t.len()`:
/// eight octets at a time.
fn next_dot(t: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut i = from;
    while let Some(w) = t.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*w) ^ (ONES * u64::from(b'.'));
        // The lowest octet flagged is the lowest zero octet of x.
        let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    t.get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == b'.'))
        .map_or(t.len(), |k| i + k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dns_wire::name::from_dotted;
    use proptest::prelude::*;

    /// The definition `wire_key` follows.
    fn has_upper(text: &str) -> bool {
        text.bytes().any(|c| c.is_ascii_uppercase())
    }

    fn check(text: &str) {
        let mut a = [0u8; MAX_NAME_LEN];
        let mut b = [0u8; MAX_NAME_LEN];
        let want = from_dotted(text, &mut a)
            .ok()
            .map(|w| (w.to_vec(), has_upper(text)));
        let got = wire_key(text, &mut b).map(|(w, s)| (w.to_vec(), s));
        assert_eq!(got, want, "{text:?}");
        let key = lookup_key(text, &mut b).map(|(w, s)| (w.to_vec(), s));
        let want = want.map(|(w, s)| (w.to_ascii_lowercase(), s));
        assert_eq!(key, want, "{text:?}");
    }

    #[test]
    fn wire_key_is_from_dotted_and_finds_capitals_in_one_pass() {
        for text in [
            "",
            ".",
            "..",
            "a",
            "a.",
            "a..",
            ".a",
            "a..b",
            "web.marathon.mesos.",
            "Web.marathon.mesos.",
            "a b.mesos.",
            "_x._tcp.m-1.mesos",
            "*.mesos.",
            "bang!.marathon.mesos.",
            "queue-svc\u{e9}.marathon.mesos.",
            "Queue-Svc\u{c9}.marathon.mesos.",
            "store..mesos.",
        ] {
            check(text);
        }
        let label = "a".repeat(63);
        check(&format!("{label}.mesos."));
        check(&format!("{label}b.mesos."));
        // 255 octets exactly, and one more.
        let four = format!("{label}.{label}.{label}.{}.", "a".repeat(61));
        check(&four);
        check(&format!("{label}.{label}.{label}.{}.", "a".repeat(62)));
        check(&four.replace('a', "B"));
    }

    proptest! {
        #[test]
        fn wire_key_matches_on_any_text(text in "[a-cA-C0-9._ *!\u{e9}\u{c9}-]{0,300}") {
            check(&text);
        }

        #[test]
        fn wire_key_matches_near_the_length_limits(
            labels in proptest::collection::vec("[a-z]{1,70}", 1..8),
            dot in any::<bool>(),
        ) {
            let text = labels.join(".") + if dot { "." } else { "" };
            check(&text);
        }
    }
}
