//! Response heads, rendered straight into the connection's write buffer.
//!
//! Everything constant is a `&'static [u8]` or pre-rendered once (per server, per cached
//! file); the `Date` line is formatted at most once per second per thread. Rendering a
//! head is then a handful of `extend_from_slice` calls, no allocation and no `format!`.

use super::date::push_date;
pub use super::fields::{content_length, header, push_u64};

/// Reason phrase for a status code (informational only; clients go by the number).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Appends the status line and the headers every response carries (`Server`, `Date`).
///
/// We answer `HTTP/1.1` to 1.0 clients too, as RFC 9110 §2.5 asks (the major version
/// is what matters to them).
pub fn start(buf: &mut Vec<u8>, status: u16) {
    let line: &[u8] = match status {
        200 => b"HTTP/1.1 200 OK\r\nServer: sockit\r\n",
        206 => b"HTTP/1.1 206 Partial Content\r\nServer: sockit\r\n",
        304 => b"HTTP/1.1 304 Not Modified\r\nServer: sockit\r\n",
        404 => b"HTTP/1.1 404 Not Found\r\nServer: sockit\r\n",
        _ => {
            buf.extend_from_slice(b"HTTP/1.1 ");
            push_u64(buf, u64::from(status));
            buf.push(b' ');
            buf.extend_from_slice(reason(status).as_bytes());
            buf.extend_from_slice(b"\r\nServer: sockit\r\n");
            push_date(buf);
            return;
        }
    };
    buf.extend_from_slice(line);
    push_date(buf);
}

/// Header lines a server adds to every response (`--header`, CORS), and the names of
/// the default headers they replace.
///
/// A configured header replaces the default of the same name instead of being sent
/// next to it: two `Server` or `Cache-Control` lines would leave each client to pick
/// one. Removing the replaced lines costs a scan of the head, done only when some
/// configured name is also one the server sends by default.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    lines: Box<[u8]>,
    replaces: Box<[Box<[u8]>]>,
}

/// Header names a configured header may never set: they frame the message or describe
/// the connection, and a second value would make clients read the body wrongly.
pub const RESERVED: [&str; 4] = ["Content-Length", "Transfer-Encoding", "Connection", "Date"];

/// Default headers that a configured header of the same name replaces.
const REPLACEABLE: [&str; 12] = [
    "Server",
    "Content-Type",
    "Last-Modified",
    "ETag",
    "Accept-Ranges",
    "Vary",
    "Content-Encoding",
    "Location",
    "Allow",
    "Retry-After",
    "WWW-Authenticate",
    "Access-Control-Allow-Origin",
];

impl Extra {
    /// Pre-renders `Name: value` pairs (already checked: token names, no CR/LF, none of
    /// [`RESERVED`]).
    pub fn new(headers: &[(String, String)]) -> Extra {
        let mut lines = Vec::new();
        let mut replaces: Vec<Box<[u8]>> = Vec::new();
        for (k, v) in headers {
            header(&mut lines, k.as_bytes(), v.as_bytes());
            if REPLACEABLE.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                replaces.push(k.as_bytes().into());
            }
        }
        Extra {
            lines: lines.into(),
            replaces: replaces.into(),
        }
    }

    /// The rendered lines.
    pub fn lines(&self) -> &[u8] {
        &self.lines
    }
}

/// How a response ends the head: what to say about the connection, which site-wide
/// headers to add.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// The connection closes after this response.
    pub close: bool,
    /// The client is HTTP/1.0 and asked for keep-alive (it needs to hear it back).
    pub keep_alive_1_0: bool,
    /// Configured lines added to every response.
    pub extra: &'a Extra,
}

/// Appends the connection header, the site-wide headers and the blank line.
pub fn finish(buf: &mut Vec<u8>, f: Finish<'_>) {
    if !f.extra.replaces.is_empty() {
        drop_replaced(buf, &f.extra.replaces);
    }
    if f.close {
        buf.extend_from_slice(b"Connection: close\r\n");
    } else if f.keep_alive_1_0 {
        buf.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    buf.extend_from_slice(&f.extra.lines);
    buf.extend_from_slice(b"\r\n");
}

/// Removes, from the head being rendered at the end of `buf`, the lines whose names are
/// in `names`. The head starts at the last status line: nothing the server renders into
/// a head before [`finish`] contains `HTTP/1.1 ` (targets have no spaces), so the last
/// one is this head's, whatever earlier pipelined responses hold.
fn drop_replaced(buf: &mut Vec<u8>, names: &[Box<[u8]>]) {
    const STATUS: &[u8] = b"HTTP/1.1 ";
    let Some(start) = buf.windows(STATUS.len()).rposition(|w| w == STATUS) else {
        return;
    };
    let mut out = start;
    let mut i = start;
    let mut first = true;
    while i < buf.len() {
        let end = buf[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |p| i + p + 1);
        let line = &buf[i..end];
        let name = line.split(|&b| b == b':').next().unwrap_or(b"");
        let drop = !first && names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if !drop {
            buf.copy_within(i..end, out);
            out += end - i;
        }
        first = false;
        i = end;
    }
    buf.truncate(out);
}

/// Writes a complete error response with a small HTML body (none for HEAD, 204, 304).
///
/// `headers` are extra pre-formatted lines such as `Allow: ...\r\n`.
pub fn error(
    buf: &mut Vec<u8>,
    status: u16,
    head_only: bool,
    headers: &[u8],
    f: Finish<'_>,
) -> u64 {
    start(buf, status);
    buf.extend_from_slice(headers);
    if status == 204 || status == 304 || (100..200).contains(&status) {
        finish(buf, f);
        return 0;
    }
    let reason = reason(status);
    // "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>
    //  <body><h1>404 Not Found</h1></body></html>\n"
    let body_len = 80 + 2 * (4 + reason.len());
    buf.extend_from_slice(b"Content-Type: text/html; charset=utf-8\r\n");
    content_length(buf, body_len as u64);
    finish(buf, f);
    if head_only {
        return 0;
    }
    let before = buf.len();
    buf.extend_from_slice(b"<!DOCTYPE html>\n<html><head><title>");
    push_status(buf, status, reason);
    buf.extend_from_slice(b"</title></head><body><h1>");
    push_status(buf, status, reason);
    buf.extend_from_slice(b"</h1></body></html>\n");
    debug_assert_eq!(buf.len() - before, body_len);
    (buf.len() - before) as u64
}

fn push_status(buf: &mut Vec<u8>, status: u16, reason: &str) {
    push_u64(buf, u64::from(status));
    buf.push(b' ');
    buf.extend_from_slice(reason.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_have_exact_length() {
        for status in [400u16, 404, 405, 408, 413, 431, 505, 503] {
            let mut b = Vec::new();
            let f = Finish {
                close: true,
                keep_alive_1_0: false,
                extra: &Extra::default(),
            };
            let n = error(&mut b, status, false, b"", f);
            let text = String::from_utf8(b).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert_eq!(body.len() as u64, n);
            assert!(head.contains(&format!("Content-Length: {}", body.len())));
            assert!(head.starts_with(&format!("HTTP/1.1 {status} ")));
            assert!(head.contains("\r\nDate: "));
            assert!(head.contains("Connection: close"));
        }
    }

    #[test]
    fn head_only_errors_keep_length_but_no_body() {
        let mut b = Vec::new();
        let f = Finish {
            close: false,
            keep_alive_1_0: false,
            extra: &Extra::new(&[("X-A".into(), "1".into())]),
        };
        error(&mut b, 404, true, b"", f);
        let text = String::from_utf8(b).unwrap();
        assert!(text.ends_with("X-A: 1\r\n\r\n"));
        assert!(text.contains("Content-Length: "));
    }

    #[test]
    fn configured_headers_replace_defaults() {
        let extra = Extra::new(&[("server".into(), "mine".into())]);
        let mut b = b"HTTP/1.1 200 OK\r\nprevious body".to_vec();
        let before = b.len();
        start(&mut b, 404);
        b.extend_from_slice(b"Content-Type: text/plain\r\n");
        let f = Finish {
            close: false,
            keep_alive_1_0: false,
            extra: &extra,
        };
        finish(&mut b, f);
        let head = String::from_utf8(b[before..].to_vec()).unwrap();
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
        assert!(!head.contains("Server: sockit"), "{head}");
        assert_eq!(head.matches("erver:").count(), 1, "{head}");
        assert!(head.contains("server: mine\r\n\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/plain\r\n"));
    }
}
