//! HTTP/1.1 responses: status, the few headers we send, and the body.
//!
//! Every response carries `Content-Length` (no chunked encoding) and a
//! `Date` (RFC 9110 section 6.6.1: an origin server with a clock sends it).

use crate::calendar::civil_from_days;
use bytes::Bytes;
use std::time::{SystemTime, UNIX_EPOCH};

/// `Content-Type` of JSON bodies, as go-restful sends it.
pub const JSON: &str = "application/json";
/// `Content-Type` of plain text bodies, as Go's content sniffing gives it.
pub const TEXT: &str = "text/plain; charset=utf-8";
/// `Content-Type` of `/metrics` (Prometheus text exposition format 0.0.4).
pub const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A response ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (200, 404, ...).
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body; not sent for HEAD requests, though its length is. HttpState
    /// and reference-counted: the cached `/v1/enumerate` and `/v1/axfr`
    /// bodies are handed to every connection without a copy.
    pub body: Bytes,
}

impl Response {
    /// A 200 response with a JSON body.
    pub fn json(body: String) -> Response {
        Response {
            status: 200,
            content_type: JSON,
            body: Bytes::from(body),
        }
    }

    /// A plain text response.
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: TEXT,
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    /// A go-restful style error: the body is `<code>: <reason>`.
    pub fn error(status: u16) -> Response {
        let body = format!("{status}: {}", restful_reason(status));
        Response {
            status,
            content_type: TEXT,
            body: Bytes::from(body),
        }
    }

    /// The status line and headers. The body is written after it, from
    /// [`Response::body`] itself (not for HEAD requests).
    pub fn head(&self, http10: bool, close: bool) -> Vec<u8> {
        let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let head = format!(
            "{version} {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nDate: {}\r\n{}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            http_date(SystemTime::now()),
            match (close, http10) {
                (true, false) => "Connection: close\r\n",
                (false, true) => "Connection: keep-alive\r\n",
                _ => "",
            },
        );
        head.into_bytes()
    }

    /// The whole response in one buffer (small responses only: errors).
    pub fn to_bytes(&self, http10: bool, close: bool) -> Vec<u8> {
        let mut out = self.head(http10, close);
        out.extend_from_slice(&self.body);
        out
    }
}

/// The reason phrase of the status line (RFC 9110 section 15).
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// The text go-restful puts after `<code>: ` in its error bodies. It says
/// `Page Not Found` for 404, where the status line says `Not Found`.
fn restful_reason(status: u16) -> &'static str {
    match status {
        404 => "Page Not Found",
        413 => "Request Entity Too Large",
        other => reason(other),
    }
}

/// Formats `t` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`,
/// RFC 9110 section 5.6.7).
pub fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
        "Dec",
    ];
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize % 12],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The example date of RFC 9110 section 5.6.7.
    #[test]
    fn rfc9110_5_6_7_imf_fixdate() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        // A leap day.
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn restful_error_bodies() {
        assert_eq!(&*Response::error(404).body, b"404: Page Not Found");
        assert_eq!(&*Response::error(405).body, b"405: Method Not Allowed");
        assert_eq!(&*Response::error(406).body, b"406: Not Acceptable");
        assert_eq!(&*Response::error(415).body, b"415: Unsupported Media Type");
    }

    #[test]
    fn head_carries_the_length_but_not_the_body() {
        let r = Response::text(200, "hello");
        let text = String::from_utf8(r.head(false, true)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 5\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }
}
