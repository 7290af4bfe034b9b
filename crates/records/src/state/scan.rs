//! A JSON cursor for the fast readers (this crate's state reader, and the
//! event source's `SUBSCRIBED` reader): it reads a text already known to be
//! UTF-8 with no intermediate values, and gives up ([`Bail`]) on anything
//! it is not sure to read exactly as serde_json does, so that the caller
//! can hand that part to a lenient reader instead.
//!
//! Its grammar is serde_json's, never looser: whitespace is space, tab, CR
//! and LF; strings have no control characters and only the escapes
//! `\" \\ \/ \b \f \n \r \t \uXXXX`; numbers are `-?(0|[1-9][0-9]*)`, an
//! optional fraction and exponent, each with at least one digit; no
//! trailing commas. Escaped strings that are read are unescaped by
//! serde_json itself (which also rejects lone surrogates there, as it does
//! in the lenient reader), and so are numbers that are not plain integers.

use std::borrow::Cow;

use crate::lenient::Json;

/// The fast reader cannot read this part exactly: read it leniently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bail;

/// What a fast read gives.
pub type Fast<T> = Result<T, Bail>;

/// Skipped values nested deeper than this bail (serde_json skips any depth;
/// the lenient reader then does).
const MAX_SKIP_DEPTH: usize = 128;

/// A position in a JSON text.
pub struct Scan<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scan<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Scan { text, pos: 0 }
    }

    /// Skips whitespace and returns the next byte, if any.
    pub fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// The offset of the next value (after whitespace).
    pub fn start(&mut self) -> usize {
        self.peek();
        self.pos
    }

    /// The text from `start` to here.
    pub fn since(&self, start: usize) -> Fast<&'a str> {
        self.text.get(start..self.pos).ok_or(Bail)
    }

    /// Moves back to `start` (an offset from [`Scan::start`]).
    pub fn rewind(&mut self, start: usize) {
        self.pos = start;
    }

    /// True if only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    fn eat(&mut self, b: u8) -> Fast<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// `null` (or `true`, `false`).
    fn ident(&mut self, word: &[u8]) -> Fast<()> {
        let end = self.pos + word.len();
        if self.text.as_bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// If the next value is `null`, reads it and returns true.
    pub fn null(&mut self) -> Fast<bool> {
        if self.peek() == Some(b'n') {
            self.ident(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// A string at `"`: its raw contents and whether it has escapes.
    fn raw_str(&mut self) -> Fast<(&'a str, bool)> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = find_special(bytes, i);
            match bytes.get(i) {
                Some(b'"') => {
                    let raw = self.text.get(start..i).ok_or(Bail)?;
                    self.pos = i + 1;
                    return Ok((raw, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    i = skip_escape(bytes, i + 1)?;
                }
                // A control character, or the end.
                _ => return Err(Bail),
            }
        }
    }

    /// A string, unescaped.
    pub fn string(&mut self) -> Fast<Cow<'a, str>> {
        self.peek();
        let start = self.pos;
        let (raw, escaped) = self.raw_str()?;
        if !escaped {
            return Ok(Cow::Borrowed(raw));
        }
        let quoted = self.since(start)?;
        serde_json::from_str::<String>(quoted)
            .map(Cow::Owned)
            .map_err(|_| Bail)
    }

    /// A string or `null` (`None`); another type bails.
    pub fn text(&mut self) -> Fast<Option<Cow<'a, str>>> {
        if self.null()? {
            return Ok(None);
        }
        self.string().map(Some)
    }

    /// A number token.
    fn number(&mut self) -> Fast<&'a str> {
        self.peek();
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(bytes, i + 1),
            _ => return Err(Bail),
        }
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(Bail); // a leading zero
        }
        if bytes.get(i) == Some(&b'.') {
            let end = digits(bytes, i + 1);
            if end == i + 1 {
                return Err(Bail);
            }
            i = end;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let end = digits(bytes, i);
            if end == i {
                return Err(Bail);
            }
            i = end;
        }
        self.pos = i;
        self.since(start)
    }

    /// A number read as the lenient reader's `f64` (Go `float64`), or
    /// `null`; another type bails.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn f64(&mut self) -> Fast<Option<f64>> {
        if self.null()? {
            return Ok(None);
        }
        let token = self.number()?;
        // serde_json reads a plain integer as a u64, which `Json<f64>`
        // converts; anything else is serde_json's own float parsing.
        if let Some(v) = plain_u64(token) {
            return Ok(Some(v as f64));
        }
        match serde_json::from_str::<Json<f64>>(token) {
            Ok(Json::Value(v)) => Ok(Some(v)),
            _ => Err(Bail),
        }
    }

    /// A number read as the lenient reader's `i64` (Go `int`), or `null`;
    /// another type, and anything but a plain non-negative integer
    /// (serde_json reads `-0` as a float), bails.
    pub(crate) fn i64(&mut self) -> Fast<Option<i64>> {
        if self.null()? {
            return Ok(None);
        }
        let token = self.number()?;
        let v = plain_u64(token).ok_or(Bail)?;
        i64::try_from(v).map(Some).map_err(|_| Bail)
    }

    /// An array, calling `each` at every element (which must read it).
    pub fn array(&mut self, each: impl FnMut(&mut Self) -> Fast<()>) -> Fast<()> {
        self.sequence(b'[', b']', each)
    }

    /// An object, calling `each` with every key (unescaped) at its value
    /// (which `each` must read).
    pub fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, &str) -> Fast<()>,
    ) -> Fast<()> {
        self.sequence(b'{', b'}', |s| {
            let key = s.string()?;
            s.eat(b':')?;
            each(s, &key)
        })
    }

    /// `open`, then items separated by commas (`item` reads one), then
    /// `close`: the shape of arrays and objects alike.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Fast<()>,
    ) -> Fast<()> {
        self.eat(open)?;
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Bail),
            }
        }
    }

    /// Reads past one value of any type.
    pub fn skip(&mut self) -> Fast<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Fast<()> {
        match self.peek().ok_or(Bail)? {
            b'"' => self.raw_str().map(drop),
            b'n' => self.ident(b"null"),
            b't' => self.ident(b"true"),
            b'f' => self.ident(b"false"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ if depth >= MAX_SKIP_DEPTH => Err(Bail),
            b'[' => self.array(|s| s.skip_nested(depth + 1)),
            // As `object`, but keys are not unescaped (serde_json does not
            // look into them either).
            b'{' => self.sequence(b'{', b'}', |s| {
                s.raw_str()?;
                s.eat(b':')?;
                s.skip_nested(depth + 1)
            }),
            _ => Err(Bail),
        }
    }
}

/// The first index at or after `i` holding `"`, `\` or a control
/// character, or `bytes.len()`. Eight bytes at a time (as serde_json does).
fn find_special(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let ctrl = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let b = w ^ (ONES * u64::from(b'\\'));
        let backslash = b.wrapping_sub(ONES) & !b;
        let hits = (ctrl | quote | backslash) & HIGH;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = bytes.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// After a `\` at `i - 1`: the index after the escape, as serde_json's
/// `ignore_escape` accepts it.
fn skip_escape(bytes: &[u8], i: usize) -> Fast<usize> {
    match bytes.get(i) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
        Some(b'u') => {
            let hex = bytes.get(i + 1..i + 5).ok_or(Bail)?;
            if hex.iter().all(u8::is_ascii_hexdigit) {
                Ok(i + 5)
            } else {
                Err(Bail)
            }
        }
        _ => Err(Bail),
    }
}

/// The first index at or after `i` that is not an ASCII digit.
fn digits(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// A token of digits only that fits a u64 (what serde_json reads as one).
fn plain_u64(token: &str) -> Option<u64> {
    if token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde::de::IgnoredAny;

    use super::*;

    /// Skips one whole value, as a top-level text.
    fn skips(text: &str) -> bool {
        let mut s = Scan::new(text);
        s.skip().is_ok() && s.at_end()
    }

    /// Values serde_json accepts and rejects: `skip` agrees on each (it may
    /// only be stricter on nesting depth).
    #[test]
    fn skip_accepts_what_serde_json_accepts() {
        let deep_ok = format!(
            "{}{}",
            "[".repeat(MAX_SKIP_DEPTH),
            "]".repeat(MAX_SKIP_DEPTH)
        );
        let cases = [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-12.5e+3",
            "1E5",
            "0.0",
            "1e400",
            "123456789012345678901234567890",
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\uD800\udc00\uDFFF""#,
            r#""é ✓ 😀""#,
            "[]",
            "{}",
            " [ 1 , 2 ] ",
            "\t{\r\n\"a\" : [ {\"b\":null} ] }",
            r#"{"a\u0041":1,"a":2}"#,
            &deep_ok,
            // Rejected:
            "",
            " ",
            "nul",
            "nulll",
            "True",
            "01",
            "-",
            "-a",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "0x10",
            "NaN",
            r#""abc"#,
            "\"a\u{1}b\"",
            "\"a\tb\"",
            r#""\x""#,
            r#""\u12""#,
            r#""\u12G4""#,
            "[1,]",
            "[1 2]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":}",
            "{1:2}",
            "[",
            "{",
            "]",
            "[1]]",
            "{\"a\":1}}",
            "'a'",
            "\u{feff}1",
            "1 2",
            "[1]x",
            "\u{a0}1",
        ];
        for text in cases {
            let serde = serde_json::from_str::<IgnoredAny>(text).is_ok();
            assert_eq!(skips(text), serde, "{text:?}");
        }
    }

    #[test]
    fn skip_bails_on_deep_nesting_without_recursing_far() {
        let deep = "[".repeat(100_000);
        assert!(!skips(&deep));
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_SKIP_DEPTH + 1),
            "]".repeat(MAX_SKIP_DEPTH + 1)
        );
        assert!(!skips(&deep));
    }

    #[test]
    fn finds_specials_at_every_offset() {
        for len in 0..20 {
            for special in ["\"", "\\", "\u{1}", "\u{1f}"] {
                let text = format!("{}{special}xyz", "a".repeat(len));
                assert_eq!(find_special(text.as_bytes(), 0), len, "{text:?}");
            }
            let text = "é".repeat(len);
            assert_eq!(find_special(text.as_bytes(), 0), text.len());
        }
        // Bytes 0x7f and above are not specials.
        assert_eq!(find_special("\u{7f}\u{80}ÿ\"".as_bytes(), 0), 5);
    }

    /// A string read as serde_json reads it, borrowed only when unescaped.
    #[test]
    fn strings_unescape_like_serde_json() {
        for text in [
            r#""plain""#,
            r#""""#,
            r#""a\"b""#,
            r#""\u00e9t\u00E9""#,
            r#""\ud83d\ude00""#,
            r#""tab\there\/""#,
            r#""é😀""#,
        ] {
            let mut s = Scan::new(text);
            let got = s.string().unwrap();
            let want: String = serde_json::from_str(text).unwrap();
            assert_eq!(got, want, "{text:?}");
            assert_eq!(matches!(got, Cow::Borrowed(_)), !text.contains('\\'));
        }
        // Lone surrogates are an error when read (not when skipped).
        for text in [r#""\ud800""#, r#""\udc00""#, r#""\ud800\u0041""#] {
            assert!(serde_json::from_str::<String>(text).is_err());
            assert_eq!(Scan::new(text).string(), Err(Bail), "{text:?}");
            assert!(skips(text), "{text:?}");
        }
    }

    #[test]
    fn text_is_a_string_or_null() {
        assert_eq!(Scan::new(" null").text(), Ok(None));
        assert_eq!(Scan::new(r#""x""#).text(), Ok(Some(Cow::Borrowed("x"))));
        for other in ["1", "[]", "{}", "true", "nul"] {
            assert_eq!(Scan::new(other).text(), Err(Bail), "{other:?}");
        }
    }

    /// Numbers read as the lenient reader's `Json<f64>` and `Json<i64>` do;
    /// what the fast reader does not read exactly, it bails on.
    #[test]
    fn numbers_read_like_the_lenient_reader() {
        for text in [
            "0",
            "1",
            "-1",
            "-0",
            "1605000200.123456",
            "1.5e3",
            "-2.5E-3",
            "1e308",
            "1e400",
            "-1e400",
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "0.1",
            "123456789012345678901234",
            "4.9e-324",
            "1e-400",
            "00",
            "1.",
            "-",
        ] {
            let lenient_f = serde_json::from_str::<Json<f64>>(text).ok();
            match Scan::new(text).f64() {
                Ok(v) => assert_eq!(
                    lenient_f.map(Json::value),
                    Some(v),
                    "f64 {text:?}: bit-exact"
                ),
                Err(Bail) => assert!(
                    !matches!(lenient_f, Some(Json::Value(_))),
                    "f64 {text:?} bails but reads"
                ),
            }
            let lenient_i = serde_json::from_str::<Json<i64>>(text).ok();
            match Scan::new(text).i64() {
                Ok(v) => assert_eq!(lenient_i.map(Json::value), Some(v), "i64 {text:?}"),
                // Only plain integers are read fast; `-0` is a float to serde_json.
                Err(Bail) => assert!(
                    text.starts_with('-') || !matches!(lenient_i, Some(Json::Value(_))),
                    "i64 {text:?} bails but reads"
                ),
            }
        }
        assert_eq!(Scan::new("-0").i64(), Err(Bail));
        assert_eq!(
            serde_json::from_str::<Json<i64>>("-0").unwrap(),
            Json::Wrong("a non-integer number")
        );
    }

    #[test]
    fn objects_give_unescaped_keys_in_order() {
        let mut s = Scan::new(r#"{"a":1, "b\u0063" : [2], "a":null}"#);
        let mut keys = Vec::new();
        s.object(|s, k| {
            keys.push(k.to_owned());
            s.skip()
        })
        .unwrap();
        assert_eq!(keys, ["a", "bc", "a"]);
        assert!(s.at_end());
    }
}
