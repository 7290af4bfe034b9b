//! An RFC 1035 section 5 master-file reader, for the records of
//! `StaticZoneFile`.
//!
//! Supported: `$ORIGIN`, `$TTL` (RFC 2308 section 4), owner names absolute
//! or relative to the origin, `@`, a blank owner (the previous one), TTL
//! and class in either order (class IN only), TTLs with `s`/`m`/`h`/`d`/`w`
//! units, `;` comments, parentheses across lines, quoted strings with `\"`
//! and `\DDD` escapes, and the types A, AAAA, SRV, TXT and CNAME. Anything
//! else (`$INCLUDE`, another type or class) is an error naming its line.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The data of one static record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Data {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// SRV: priority, weight, port, target (absolute, lowercase, with the
    /// trailing dot).
    Srv(u16, u16, u16, String),
    /// TXT: its character strings.
    Txt(Vec<Vec<u8>>),
    /// CNAME: the canonical name (absolute, lowercase, trailing dot).
    Cname(String),
}

/// One record of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRecord {
    /// The owner, absolute, lowercase, with the trailing dot.
    pub name: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// What it holds.
    pub data: Data,
}

/// Reads `text`; relative names are relative to `origin` (absolute, with
/// the trailing dot) until a `$ORIGIN`, and records without a TTL get
/// `ttl` until a `$TTL`.
///
/// # Errors
///
/// `line N: what is wrong`, for the first error.
pub fn parse(text: &str, origin: &str, ttl: u32) -> Result<Vec<StaticRecord>, String> {
    let mut p = Parser {
        origin: origin.to_ascii_lowercase(),
        ttl,
        last_owner: None,
        out: Vec::new(),
    };
    let mut entry: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut start_line = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if depth == 0 {
            start_line = n;
            entry.clear();
            if line.starts_with([' ', '\t']) {
                entry.push(Token::Blank);
            }
        }
        tokenize(line, &mut entry, &mut depth).map_err(|e| format!("line {n}: {e}"))?;
        if depth == 0 {
            p.entry(&entry)
                .map_err(|e| format!("line {start_line}: {e}"))?;
        }
    }
    if depth > 0 {
        return Err(format!("line {start_line}: unclosed parenthesis"));
    }
    Ok(p.out)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// The line starts with white space: the owner is the previous one.
    Blank,
    Word(String),
    Quoted(Vec<u8>),
}

/// Splits `line` into tokens, tracking parentheses across lines.
fn tokenize(line: &str, out: &mut Vec<Token>, depth: &mut usize) -> Result<(), String> {
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ';' => break,
            ' ' | '\t' | '\r' => {
                chars.next();
            }
            '(' => {
                *depth += 1;
                chars.next();
            }
            ')' => {
                *depth = depth.checked_sub(1).ok_or("unbalanced )")?;
                chars.next();
            }
            '"' => {
                chars.next();
                let mut s = Vec::new();
                loop {
                    match chars.next() {
                        None => return Err("unclosed quote".into()),
                        Some('"') => break,
                        Some('\\') => s.push(escape(&mut chars)?),
                        Some(c) => {
                            let mut b = [0u8; 4];
                            s.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                        }
                    }
                }
                if s.len() > 255 {
                    return Err("a character string longer than 255 octets".into());
                }
                out.push(Token::Quoted(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if matches!(c, ' ' | '\t' | '\r' | ';' | '(' | ')' | '"') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                out.push(Token::Word(w));
            }
        }
    }
    Ok(())
}

/// The octet of a `\X` or `\DDD` escape (the backslash already read).
fn escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<u8, String> {
    let c = chars.next().ok_or("a lone backslash")?;
    if let Some(d) = c.to_digit(10) {
        let (Some(d2), Some(d3)) = (
            chars.next().and_then(|c| c.to_digit(10)),
            chars.next().and_then(|c| c.to_digit(10)),
        ) else {
            return Err("\\DDD needs three digits".into());
        };
        return u8::try_from(d * 100 + d2 * 10 + d3)
            .map_err(|_| "\\DDD above 255".into());
    }
    u8::try_from(u32::from(c)).map_err(|_| "a non-ASCII escape".into())
}

struct Parser {
    origin: String,
    ttl: u32,
    last_owner: Option<String>,
    out: Vec<StaticRecord>,
}

impl Parser {
    fn entry(&mut self, tokens: &[Token]) -> Result<(), String> {
        let mut t = tokens.iter().peekable();
        let owner = match t.next() {
            None => return Ok(()),
            Some(Token::Blank) => {
                if t.peek().is_none() {
                    return Ok(());
                }
                self.last_owner.clone().ok_or("a record without an owner")?
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("$ORIGIN") => {
                let Some(Token::Word(o)) = t.next() else {
                    return Err("$ORIGIN needs a name".into());
                };
                self.origin = self.absolute(o)?;
                return Ok(());
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("$TTL") => {
                let Some(Token::Word(v)) = t.next() else {
                    return Err("$TTL needs a value".into());
                };
                self.ttl = ttl(v).ok_or_else(|| format!("$TTL {v:?} is not a TTL"))?;
                return Ok(());
            }
            Some(Token::Word(w)) if w.starts_with('$') => {
                return Err(format!("{w} is not supported"));
            }
            Some(Token::Word(w)) => self.absolute(w)?,
            Some(Token::Quoted(_)) => return Err("a quoted owner name".into()),
        };
        self.last_owner = Some(owner.clone());
        let mut record_ttl = self.ttl;
        let rtype = loop {
            let Some(Token::Word(w)) = t.next() else {
                return Err("no record type".into());
            };
            if let Some(v) = ttl(w) {
                record_ttl = v;
            } else if w.eq_ignore_ascii_case("IN") {
            } else if ["CH", "HS", "CS"].iter().any(|c| w.eq_ignore_ascii_case(c)) {
                return Err(format!("class {w} is not supported (IN only)"));
            } else {
                break w.to_ascii_uppercase();
            }
        };
        let rest: Vec<&Token> = t.collect();
        let word = |i: usize| -> Result<&str, String> {
            match rest.get(i) {
                Some(Token::Word(w)) => Ok(w.as_str()),
                _ => Err(format!("{rtype} needs more fields")),
            }
        };
        let fields = |n: usize| -> Result<(), String> {
            match rest.len() == n {
                true => Ok(()),
                false => Err(format!("{rtype} takes {n} fields, not {}", rest.len())),
            }
        };
        let data = match rtype.as_str() {
            "A" => {
                fields(1)?;
                let v = word(0)?;
                Data::A(
                    v.parse()
                        .map_err(|_| format!("{v:?} is not an IPv4 address"))?,
                )
            }
            "AAAA" => {
                fields(1)?;
                let v = word(0)?;
                Data::Aaaa(
                    v.parse()
                        .map_err(|_| format!("{v:?} is not an IPv6 address"))?,
                )
            }
            "SRV" => {
                fields(4)?;
                let num = |i: usize| -> Result<u16, String> {
                    let v = word(i)?;
                    v.parse()
                        .map_err(|_| format!("SRV field {v:?} is not 0-65535"))
                };
                Data::Srv(num(0)?, num(1)?, num(2)?, self.absolute(word(3)?)?)
            }
            "CNAME" => {
                fields(1)?;
                Data::Cname(self.absolute(word(0)?)?)
            }
            "TXT" => {
                if rest.is_empty() {
                    return Err("TXT needs a string".into());
                }
                let mut strings = Vec::new();
                for tok in &rest {
                    match tok {
                        Token::Quoted(s) => strings.push(s.clone()),
                        Token::Word(w) if w.len() <= 255 => {
                            strings.push(w.as_bytes().to_vec())
                        }
                        _ => return Err("a TXT string longer than 255 octets".into()),
                    }
                }
                Data::Txt(strings)
            }
            other => return Err(format!("type {other} is not supported")),
        };
        self.out.push(StaticRecord {
            name: owner,
            ttl: record_ttl,
            data,
        });
        Ok(())
    }

    /// `name` made absolute and lowercase, checked for the wire format.
    fn absolute(&self, name: &str) -> Result<String, String> {
        let abs = if name == "@" {
            self.origin.clone()
        } else if name.ends_with('.') {
            name.to_ascii_lowercase()
        } else if self.origin == "." {
            format!("{}.", name.to_ascii_lowercase())
        } else {
            format!("{}.{}", name.to_ascii_lowercase(), self.origin)
        };
        let mut buf = [0u8; dns_wire::MAX_NAME_LEN];
        dns_wire::name::from_dotted(&abs, &mut buf)
            .map_err(|e| format!("{name:?} is not a valid name: {e:?}"))?;
        Ok(abs)
    }
}

/// A TTL: seconds, or a number with `s`, `m`, `h`, `d` or `w` units
/// (`1h30m`), at most 2^31 - 1 (RFC 2181 section 8).
fn ttl(s: &str) -> Option<u32> {
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut total: u64 = 0;
    let mut n: u64 = 0;
    let mut digits = false;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            n = n.checked_mul(10)?.checked_add(u64::from(d))?;
            digits = true;
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        if !digits {
            return None;
        }
        total = total.checked_add(n.checked_mul(unit)?)?;
        n = 0;
        digits = false;
    }
    total = total.checked_add(n)?;
    u32::try_from(total).ok().filter(|&t| t <= 0x7FFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Vec<StaticRecord>, String> {
        parse(text, "mesos.", 60)
    }

    #[test]
    fn rfc1035_5_1_origin_ttl_relative_names_and_blank_owners() {
        let text = "\
$TTL 300
db        IN A     10.0.0.1 ; the database
          AAAA 2001:db8::1
@ 30 TXT \"v=spf1 -all\" more
$ORIGIN corp.mesos.
_pg._tcp 1h IN SRV 0 5 5432 db.mesos.
www CNAME web
web IN 2m A 10.0.0.2
mail (
   A 10.0.0.3 )
";
        let r = one(text).unwrap();
        let names: Vec<(&str, u32)> =
            r.iter().map(|r| (r.name.as_str(), r.ttl)).collect();
        assert_eq!(
            names,
            [
                ("db.mesos.", 300),
                ("db.mesos.", 300),
                ("mesos.", 30),
                ("_pg._tcp.corp.mesos.", 3600),
                ("www.corp.mesos.", 300),
                ("web.corp.mesos.", 120),
                ("mail.corp.mesos.", 300),
            ]
        );
        assert_eq!(r[1].data, Data::Aaaa("2001:db8::1".parse().unwrap()));
        assert_eq!(
            r[2].data,
            Data::Txt(vec![b"v=spf1 -all".to_vec(), b"more".to_vec()])
        );
        assert_eq!(r[3].data, Data::Srv(0, 5, 5432, "db.mesos.".into()));
        assert_eq!(r[4].data, Data::Cname("web.corp.mesos.".into()));
    }

    #[test]
    fn escapes_and_case() {
        let r = one("X TXT \"a\\\"b\\059c\"\nY CNAME Z.Example.").unwrap();
        assert_eq!(r[0].name, "x.mesos.");
        assert_eq!(r[0].data, Data::Txt(vec![b"a\"b;c".to_vec()]));
        assert_eq!(r[1].data, Data::Cname("z.example.".into()));
    }

    #[test]
    fn errors_name_their_line() {
        for (text, want) in [
            (
                "a A 10.0.0.1\nb A 10.0.0",
                "line 2: \"10.0.0\" is not an IPv4 address",
            ),
            ("a MX 10 b", "line 1: type MX is not supported"),
            ("$INCLUDE other", "line 1: $INCLUDE is not supported"),
            (
                "a CH A 1.2.3.4",
                "line 1: class CH is not supported (IN only)",
            ),
            ("a SRV 1 2 b", "line 1: SRV takes 4 fields, not 3"),
            (" A 1.2.3.4", "line 1: a record without an owner"),
            ("a TXT \"open", "line 1: unclosed quote"),
            ("a ( A\n1.2.3.4", "line 1: unclosed parenthesis"),
            (
                "a..b A 1.2.3.4",
                "line 1: \"a..b\" is not a valid name: EmptyLabel",
            ),
        ] {
            assert_eq!(one(text).unwrap_err(), want, "{text}");
        }
    }

    #[test]
    fn ttl_units() {
        assert_eq!(ttl("1h30m"), Some(5400));
        assert_eq!(ttl("2w"), Some(1_209_600));
        assert_eq!(ttl("IN"), None);
        assert_eq!(ttl("99999999999"), None);
    }
}
