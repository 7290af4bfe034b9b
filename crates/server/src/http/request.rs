//! Request heads: parsed by `httparse`, then validated once into a
//! [`Request`] the router reads without further checks.

/// Most header fields we accept in one request; more gives 431.
pub const MAX_HEADERS: usize = 64;

/// The request method, as far as routing cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// Any other method.
    Other,
}

/// How the request body is framed (RFC 9112 section 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body, or `Content-Length: 0`.
    Empty,
    /// `Content-Length: n` with n > 0.
    Length(u64),
    /// `Transfer-Encoding` (chunked): we do not read it and close the
    /// connection after the response.
    Chunked,
}

/// One validated request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The percent-decoded path, without the query string.
    pub path: String,
    /// The first `Accept` field, if any.
    pub accept: Option<String>,
    /// The first `Content-Type` field, if any.
    pub content_type: Option<String>,
    /// The declared body length (Go's `ContentLength`; 0 for chunked).
    pub content_length: u64,
    /// How the body is framed.
    pub body: Body,
    /// True for HTTP/1.0.
    pub http10: bool,
    /// True if the connection should close after this response.
    pub close: bool,
    /// `Expect: 100-continue` was sent (RFC 9110 section 10.1.1).
    pub expect_continue: bool,
}

/// Why a request head was refused; each maps to a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// Not yet complete: read more.
    Partial,
    /// Malformed request line or header field: 400.
    Malformed,
    /// More than [`MAX_HEADERS`] fields: 431.
    TooManyHeaders,
    /// Conflicting or unparsable `Content-Length`: 400.
    BadLength,
}

/// Parses a request head at the start of `buf`. On success returns the
/// request and the head's length in bytes (the body or a pipelined request
/// follows).
pub fn parse(buf: &[u8]) -> Result<(Request, usize), HeadError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(HeadError::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(_) => return Err(HeadError::Malformed),
    };
    let method = match parsed.method {
        Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        Some(_) => Method::Other,
        None => return Err(HeadError::Malformed),
    };
    let http10 = parsed.version == Some(0);
    let target = parsed.path.ok_or(HeadError::Malformed)?;
    let path = decode_path(target).ok_or(HeadError::Malformed)?;

    let mut accept = None;
    let mut content_type = None;
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut connection_close = false;
    let mut keep_alive = false;
    let mut expect_continue = false;
    for field in parsed.headers.iter() {
        let value = std::str::from_utf8(field.value).ok();
        let name = field.name;
        if name.eq_ignore_ascii_case("accept") {
            if accept.is_none() {
                accept = Some(value.unwrap_or("").to_owned());
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            if content_type.is_none() {
                content_type = Some(value.unwrap_or("").to_owned());
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(HeadError::BadLength)?;
            // RFC 9112 section 6.3: differing lengths are an error.
            if content_length.is_some_and(|old| old != n) {
                return Err(HeadError::BadLength);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue =
                value.is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.unwrap_or("").split(',') {
                let token = token.trim();
                connection_close |= token.eq_ignore_ascii_case("close");
                keep_alive |= token.eq_ignore_ascii_case("keep-alive");
            }
        }
    }
    // RFC 9112 section 6.3: Transfer-Encoding overrides Content-Length.
    let body = match (chunked, content_length) {
        (true, _) => Body::Chunked,
        (false, Some(n)) if n > 0 => Body::Length(n),
        _ => Body::Empty,
    };
    let content_length = if chunked {
        0
    } else {
        content_length.unwrap_or(0)
    };
    let close = connection_close || (http10 && !keep_alive) || chunked;
    let request = Request {
        method,
        path,
        accept,
        content_type,
        content_length,
        body,
        http10,
        close,
        expect_continue,
    };
    Ok((request, len))
}

/// The path of a request target (origin form `/p?q`, or absolute form
/// `http://host/p?q`), without the query, percent-decoded. `None` for other
/// forms and bad escapes (Go answers both with 400).
fn decode_path(target: &str) -> Option<String> {
    let rest = if target.starts_with('/') {
        target
    } else {
        let after_scheme = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))?;
        match after_scheme.find('/') {
            Some(i) => after_scheme.get(i..)?,
            None => "/",
        }
    };
    let raw = rest.split(['?', '#']).next().unwrap_or("");
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = hex_digit(bytes.next()?)?;
            let lo = hex_digit(bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_get_with_query_and_escapes() {
        let raw = b"GET /v1/hosts/a%2Eb.mesos?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\nrest";
        let (req, len) = parse(raw).unwrap();
        assert_eq!(len, raw.len() - 4);
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.path, "/v1/hosts/a.b.mesos");
        assert_eq!(req.accept.as_deref(), Some("*/*"));
        assert_eq!(req.body, Body::Empty);
        assert!(!req.close && !req.http10);
    }

    #[test]
    fn partial_heads_ask_for_more() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost:"), Err(HeadError::Partial));
        assert_eq!(parse(b""), Err(HeadError::Partial));
    }

    #[test]
    fn rejects_bad_heads() {
        assert_eq!(
            parse(b"GET\x01 / HTTP/1.1\r\n\r\n"),
            Err(HeadError::Malformed)
        );
        assert_eq!(
            parse(b"GET /%zz HTTP/1.1\r\n\r\n"),
            Err(HeadError::Malformed)
        );
        assert_eq!(parse(b"GET * HTTP/1.1\r\n\r\n"), Err(HeadError::Malformed));
        let two = b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(parse(two), Err(HeadError::BadLength));
        let neg = b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(parse(neg), Err(HeadError::BadLength));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Err(HeadError::TooManyHeaders));
    }

    #[test]
    fn framing_and_connection_rules() {
        let (r, _) = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(r.http10 && r.close);
        let (r, _) = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(!r.close);
        let (r, _) = parse(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").unwrap();
        assert!(r.close);
        let (r, _) = parse(
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Type: text/x\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (r.method, r.body, r.content_length),
            (Method::Other, Body::Length(3), 3)
        );
        let (r, _) = parse(
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (r.body, r.content_length, r.close),
            (Body::Chunked, 0, true)
        );
        let (r, _) = parse(b"GET http://h:1/v1/version?q HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.path, "/v1/version");
    }
}
