//! Go's case-insensitive key matching (`encoding/json`), one copy for the
//! config decoder and the state readers.
//!
//! `encoding/json` matches an object key to a struct field when they are
//! equal under Unicode simple case folding. For the ASCII field names we
//! read that means: ASCII letters without regard to case, and two non-ASCII
//! letters that fold to ASCII ones, `ſ` (U+017F, long s) to `s` and `K`
//! (U+212A, Kelvin sign) to `k`. Nothing else matches: no trimming, no `_`
//! for `-`, no accents dropped.

/// True when the object key `key` names the field `field` (an ASCII name)
/// as Go's `encoding/json` decides.
pub fn fold_eq(key: &str, field: &str) -> bool {
    // `ſ` and `K` are longer in UTF-8 than `s` and `k`, so a key of the
    // field's length matches only as ASCII, and a shorter key never.
    if key.len() <= field.len() {
        return key.eq_ignore_ascii_case(field);
    }
    if key.is_ascii() {
        return false;
    }
    let mut key_chars = key.chars().map(|c| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    });
    let mut field_chars = field.chars().map(|c| c.to_ascii_lowercase());
    loop {
        match (key_chars.next(), field_chars.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_like_go() {
        assert!(fold_eq("refreshseconds", "RefreshSeconds"));
        assert!(fold_eq("REFRESHSECONDS", "RefreshSeconds"));
        assert!(fold_eq("\u{17f}OAMname", "SOAMname"));
        assert!(fold_eq("\u{212a}eyFile", "KeyFile"));
        assert!(fold_eq("\u{17f}laves", "slaves"));
        assert!(fold_eq("\u{212a}EY", "key"));
        assert!(!fold_eq("RefreshSecond", "RefreshSeconds"));
        assert!(!fold_eq("Refresh_Seconds", "RefreshSeconds"));
        assert!(!fold_eq("ttl\u{301}", "TTL"));
        assert!(!fold_eq("l\u{e9}ader", "leader"));
        assert!(!fold_eq("", "leader"));
        assert!(fold_eq("", ""));
    }
}
