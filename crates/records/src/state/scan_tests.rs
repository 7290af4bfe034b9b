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
