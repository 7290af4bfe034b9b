//! Label sanitizing: mesos-dns `records/labels` bit for bit (BEHAVIOUR.md 4.3).
//!
//! A label function maps each character (`A-Z` to lowercase; `a-z`, `0-9`
//! kept; `-`, `.`, `_` to `-`; everything else dropped, non-ASCII included),
//! trims the left cut set from the front, then cuts at `maxlen` with the odd
//! right-trim of mesos-dns's `trimCut`, which can leave a trailing `-`
//! (see the test `rfc1123_trim_cut_keeps_trailing_dash`).
//!
//! | mode | maxlen | left cut | right cut |
//! |---|---|---|---|
//! | RFC 1123 (default) | 63 | `-` | `-` |
//! | RFC 952 (`EnforceRFC952`) | 24 | `-0123456789` | `-` |

/// Which label rules apply (config `EnforceRFC952`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LabelSpec {
    /// RFC 1123: up to 63 characters, leading digits allowed (the default).
    #[default]
    Rfc1123,
    /// RFC 952: up to 24 characters, no leading digit.
    Rfc952,
}

impl LabelSpec {
    /// Sanitizes `name` into one label (possibly empty).
    pub fn label(self, name: &str) -> String {
        match self {
            LabelSpec::Rfc1123 => label(name, 63, b"-", b"-"),
            LabelSpec::Rfc952 => label(name, 24, b"-0123456789", b"-"),
        }
    }

    /// mesos-dns `DomainFrag`: splits `name` on `.`, labels each part,
    /// drops empty results and joins the rest with `.`.
    pub fn domain_frag(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        for part in name.split('.') {
            let lab = self.label(part);
            if !lab.is_empty() {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&lab);
            }
        }
        out
    }
}

/// The per-character mapping of `labels.mapping`.
fn map_char(c: char) -> Option<u8> {
    match c {
        'A'..='Z' => Some(c.to_ascii_lowercase() as u8),
        'a'..='z' | '0'..='9' => Some(c as u8),
        '-' | '.' | '_' => Some(b'-'),
        _ => None,
    }
}

fn label(name: &str, maxlen: usize, left: &[u8], right: &[u8]) -> String {
    // Fast path: a name that is a label already (the common case) maps to
    // itself, with nothing to trim or cut.
    let b = name.as_bytes();
    let clean = b.len() <= maxlen
        && b.first().is_some_and(|c| !left.contains(c))
        && b.last().is_some_and(|c| !right.contains(c))
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if clean {
        return name.to_owned();
    }
    let mapped: Vec<u8> = name.chars().filter_map(map_char).collect();
    let trim = trim_left(&mapped, left);
    let size = trim.len().min(maxlen);
    let (cut, after) = trim.split_at(size);
    let head = trim_right(cut, right);
    let mut out = head.to_vec();
    if head.len() != size {
        let tail = trim_left(after, right);
        let take = tail.len().min(size - head.len());
        out.extend_from_slice(tail.get(..take).unwrap_or(tail));
    }
    // Every byte came from `map_char`, so it is ASCII.
    out.into_iter().map(char::from).collect()
}

fn trim_left<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let n = s.iter().take_while(|b| set.contains(b)).count();
    s.get(n..).unwrap_or_default()
}

fn trim_right<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let n = s.iter().rev().take_while(|b| set.contains(b)).count();
    s.get(..s.len() - n).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::LabelSpec::{Rfc1123, Rfc952};

    // Vectors of mesos-dns labels_test.go (BEHAVIOUR.md 4.3).
    #[test]
    fn rfc952_vectors() {
        let dashes = "-".repeat(57);
        for (input, want) in [
            ("89fdgsf---gs7-fgs--d7fddg-123", "fdgsf---gs7-fgs--d7fddg1"),
            (
                "chronos with a space AND MIXED CASE-2.0.1",
                "chronoswithaspaceandmixe",
            ),
            ("4abc123", "abc123"),
            (&format!("hello{dashes}-f"), "hellof"),
        ] {
            assert_eq!(Rfc952.label(input), want, "{input:?}");
        }
    }

    #[test]
    fn rfc1123_vectors() {
        for (input, want) in [
            (
                "fd%gsf---gs7-f$gs--d7fddg123456789012345678901234567890123456789-123",
                "fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891",
            ),
            ("4abc123", "4abc123"),
            ("a.b.c.d.e", "a-b-c-d-e"),
        ] {
            assert_eq!(Rfc1123.label(input), want, "{input:?}");
        }
    }

    // BEHAVIOUR.md 4.3 step 5: the cut can end in `-` (observed in mesos-dns).
    #[test]
    fn rfc1123_trim_cut_keeps_trailing_dash() {
        let input = format!("{}---b-c", "a".repeat(61));
        assert_eq!(Rfc1123.label(&input), format!("{}b-", "a".repeat(61)));
    }

    #[test]
    fn domain_frag_vectors() {
        let name = "pod_123$abc.marathon-0.6.0-dev.mesos";
        assert_eq!(
            Rfc1123.domain_frag(name),
            "pod-123abc.marathon-0.6.0-dev.mesos"
        );
        assert_eq!(Rfc952.domain_frag(name), "pod-123abc.marathon-0.dev.mesos");
        assert_eq!(Rfc1123.domain_frag("(@ host . com"), "host.com");
        assert_eq!(Rfc1123.domain_frag("a..c"), "a.c");
    }

    #[test]
    fn framework_names() {
        let chronos = "chronos with a space AND MIXED CASE-2.0.1";
        assert_eq!(
            Rfc1123.domain_frag(chronos),
            "chronoswithaspaceandmixedcase-2.0.1"
        );
        assert_eq!(Rfc952.domain_frag(chronos), "chronoswithaspaceandmixe");
        assert_eq!(Rfc1123.domain_frag("no pid"), "nopid");
    }

    #[test]
    fn non_ascii_is_dropped() {
        assert_eq!(Rfc1123.label("ÄBC-é_\u{212a}x"), "bc--x");
        assert_eq!(Rfc1123.label("---"), "");
        assert_eq!(Rfc952.label("123"), "");
    }

    // The quickcheck properties of labels_test.go, over proptest.
    proptest::proptest! {
        #[test]
        fn label_properties(s in "\\PC{0,100}") {
            let l = Rfc1123.label(&s);
            proptest::prop_assert!(l.len() <= 63);
            proptest::prop_assert!(l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            proptest::prop_assert!(!l.starts_with('-'));
            let l = Rfc952.label(&s);
            proptest::prop_assert!(l.len() <= 24);
            proptest::prop_assert!(!l.starts_with(|c: char| c == '-' || c.is_ascii_digit()));
        }
    }
}
