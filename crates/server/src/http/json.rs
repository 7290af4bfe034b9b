//! JSON output in exactly the bytes Go's `json.MarshalIndent(v, " ", " ")`
//! produces, which is what every mesos-dns `/v1/...` endpoint sends.
//!
//! The format, byte for byte:
//!
//! ```text
//! {
//!   "Service": "Mesos-DNS",
//!   "Version": "v0.7.0"
//!  }
//! ```
//!
//! - The first line has no prefix; every later line starts with the prefix
//!   (one space) plus one indent (one space) per nesting depth, so the
//!   closing bracket of the top level is ` }`.
//! - `"key": value`, with one space after the colon; elements are separated
//!   by `,` and a newline. An empty object or array prints `{}` or `[]`.
//! - No trailing newline.
//! - Strings escape `"` and `\`, write `\n`, `\r` and `\t` short, every other
//!   control character as `\u00XX` (lowercase hex), and, because Go's
//!   encoder is HTML-safe by default, `<`, `>`, `&`, U+2028 and U+2029 as
//!   `\u003c`, `\u003e`, `\u0026`, `\u2028` and `\u2029`.
//!
//! Go sorts map keys; struct fields keep their declaration order. The
//! writer prints keys in the order it is given them, so callers pass struct
//! fields in Go order and map keys from an ordered map.

use std::fmt::Write as _;

/// Go's `MarshalIndent` prefix: one space before every line but the first.
const PREFIX: &str = " ";
/// Go's `MarshalIndent` indent: one space per nesting level.
const INDENT: &str = " ";

/// A streaming writer for one JSON document in Go `MarshalIndent` layout.
///
/// Call the methods in document order: `begin_object`, then `key` and a
/// value for each field, then `end_object`. The writer tracks depth and
/// whether a container is still empty; it does not check that the calls
/// form a valid document (the callers are a handful of fixed shapes, each
/// covered by a test).
#[derive(Debug, Default)]
pub struct GoJson {
    out: String,
    /// One entry per open container: true while it has no element yet.
    empty: Vec<bool>,
    /// True right after `key`, so the next value does not start a new line.
    after_key: bool,
}

impl GoJson {
    /// An empty document.
    pub fn new() -> GoJson {
        GoJson::default()
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.out
    }

    /// Opens an object (`{`).
    pub fn begin_object(&mut self) {
        self.before_value();
        self.out.push('{');
        self.empty.push(true);
    }

    /// Closes the innermost object (`}`).
    pub fn end_object(&mut self) {
        self.close('}');
    }

    /// Opens an array (`[`).
    pub fn begin_array(&mut self) {
        self.before_value();
        self.out.push('[');
        self.empty.push(true);
    }

    /// Closes the innermost array (`]`).
    pub fn end_array(&mut self) {
        self.close(']');
    }

    /// Writes an object key; the next call writes its value.
    pub fn key(&mut self, key: &str) {
        self.element_start();
        write_string(&mut self.out, key);
        self.out.push_str(": ");
        self.after_key = true;
    }

    /// Writes a string value.
    pub fn string(&mut self, value: &str) {
        self.before_value();
        write_string(&mut self.out, value);
    }

    /// Writes a signed integer value.
    pub fn int(&mut self, value: i64) {
        self.before_value();
        let _ = write!(self.out, "{value}");
    }

    /// Writes an unsigned integer value.
    pub fn uint(&mut self, value: u64) {
        self.before_value();
        let _ = write!(self.out, "{value}");
    }

    /// Writes a boolean value.
    pub fn bool(&mut self, value: bool) {
        self.before_value();
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// Writes `null` (Go's nil slice, map or pointer).
    pub fn null(&mut self) {
        self.before_value();
        self.out.push_str("null");
    }

    /// Writes a `serde_json::Value`, objects in the value's own key order.
    ///
    /// Floats print the way `serde_json` prints them, which matches Go for
    /// the integral values config files hold.
    pub fn value(&mut self, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => {
                self.before_value();
                let _ = write!(self.out, "{n}");
            }
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.begin_array();
                for item in items {
                    self.value(item);
                }
                self.end_array();
            }
            Value::Object(map) => {
                self.begin_object();
                for (k, v) in map {
                    self.key(k);
                    self.value(v);
                }
                self.end_object();
            }
        }
    }

    /// Starts a value: inside an array that means a new element line; after
    /// a key, nothing.
    fn before_value(&mut self) {
        if self.after_key {
            self.after_key = false;
        } else if !self.empty.is_empty() {
            self.element_start();
        }
    }

    /// Writes the separator and the new line that precede an element.
    fn element_start(&mut self) {
        let depth = self.empty.len();
        if let Some(first) = self.empty.last_mut() {
            if !*first {
                self.out.push(',');
            }
            *first = false;
        }
        self.newline(depth);
    }

    fn close(&mut self, bracket: char) {
        let was_empty = self.empty.pop().unwrap_or(true);
        if !was_empty {
            self.newline(self.empty.len());
        }
        self.out.push(bracket);
    }

    fn newline(&mut self, depth: usize) {
        self.out.push('\n');
        self.out.push_str(PREFIX);
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
    }
}

/// Appends `s` as a JSON string literal with Go's HTML-safe escaping.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if c < ' ' || c == '<' || c == '>' || c == '&' => {
                let b = c as u32;
                out.push_str("\\u00");
                out.push(char::from(HEX[(b >> 4) as usize & 0xf]));
                out.push(char::from(HEX[b as usize & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `/v1/version` body observed from mesos-dns (BEHAVIOUR.md section 6).
    #[test]
    fn matches_observed_version_body() {
        let mut j = GoJson::new();
        j.begin_object();
        j.key("Service");
        j.string("Mesos-DNS");
        j.key("URL");
        j.string("https://github.com/mesosphere/mesos-dns");
        j.key("Version");
        j.string("v0.7.0-test");
        j.end_object();
        assert_eq!(
            j.finish(),
            "{\n  \"Service\": \"Mesos-DNS\",\n  \"URL\": \
             \"https://github.com/mesosphere/mesos-dns\",\n  \"Version\": \
             \"v0.7.0-test\"\n }"
        );
    }

    #[test]
    fn nests_with_one_space_per_depth() {
        let mut j = GoJson::new();
        j.begin_array();
        j.begin_object();
        j.key("a");
        j.begin_array();
        j.int(1);
        j.int(-2);
        j.end_array();
        j.key("b");
        j.null();
        j.end_object();
        j.end_array();
        assert_eq!(
            j.finish(),
            "[\n  {\n   \"a\": [\n    1,\n    -2\n   ],\n   \"b\": null\n  }\n ]"
        );
    }

    #[test]
    fn empty_containers_stay_on_one_line() {
        let mut j = GoJson::new();
        j.begin_object();
        j.key("x");
        j.begin_object();
        j.end_object();
        j.key("y");
        j.begin_array();
        j.end_array();
        j.end_object();
        assert_eq!(j.finish(), "{\n  \"x\": {},\n  \"y\": []\n }");
        let mut top = GoJson::new();
        top.begin_object();
        top.end_object();
        assert_eq!(top.finish(), "{}");
    }

    #[test]
    fn escapes_like_go_html_safe_encoder() {
        let mut out = String::new();
        write_string(&mut out, "a<b>&\"\\\n\r\t\u{1}\u{8}\u{1f}\u{2028}\u{2029}é");
        assert_eq!(
            out,
            "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\r\\t\\u0001\\u0008\\u001f\\u2028\\u2029é\""
        );
    }

    #[test]
    fn renders_serde_values_in_their_order() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"b":[true,false],"a":{"c":"x"},"n":1.5,"z":null}"#)
                .unwrap();
        let mut j = GoJson::new();
        j.value(&v);
        let text = j.finish();
        // Parsing back gives the same value, whatever the key order.
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(text.contains("\"b\": [\n   true,\n   false\n  ]"));
        assert!(!text.ends_with('\n'));
    }
}
