//! Response heads, rendered straight into the connection's write buffer.
//!
//! Everything constant is a `&'static [u8]` or pre-rendered once (per server, per cached
//! file); the `Date` line is formatted at most once per second per thread. Rendering a
//! head is then a handful of `extend_from_slice` calls, no allocation and no `format!`.

use std::cell::RefCell;

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

/// Appends the decimal form of `n` without going through `fmt`.
pub fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Current wall-clock second, from the cheap coarse clock (a vDSO read, ~ns).
pub fn now_secs() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we pass.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc == 0 && ts.tv_sec >= 0 {
        ts.tv_sec as u64
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// Formats Unix seconds as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(secs: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

thread_local! {
    /// (second, "Date: ...\r\n") for this thread.
    static DATE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// Appends `Date: <now>\r\n`, re-formatting only when the second changed.
pub fn push_date(buf: &mut Vec<u8>) {
    let now = now_secs();
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != now {
            d.0 = now;
            d.1.clear();
            d.1.extend_from_slice(b"Date: ");
            d.1.extend_from_slice(http_date(now).as_bytes());
            d.1.extend_from_slice(b"\r\n");
        }
        buf.extend_from_slice(&d.1);
    });
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

/// Appends one header line.
pub fn header(buf: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    buf.extend_from_slice(name);
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(value);
    buf.extend_from_slice(b"\r\n");
}

/// Appends `Content-Length: n\r\n`.
pub fn content_length(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(b"Content-Length: ");
    push_u64(buf, n);
    buf.extend_from_slice(b"\r\n");
}

/// How a response ends the head: what to say about the connection, which site-wide
/// headers to add.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// The connection closes after this response.
    pub close: bool,
    /// The client is HTTP/1.0 and asked for keep-alive (it needs to hear it back).
    pub keep_alive_1_0: bool,
    /// Pre-rendered `--header` and CORS lines.
    pub extra: &'a [u8],
}

/// Appends the connection header, the site-wide headers and the blank line.
pub fn finish(buf: &mut Vec<u8>, f: Finish<'_>) {
    if f.close {
        buf.extend_from_slice(b"Connection: close\r\n");
    } else if f.keep_alive_1_0 {
        buf.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    buf.extend_from_slice(f.extra);
    buf.extend_from_slice(b"\r\n");
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

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render() {
        let mut b = Vec::new();
        push_u64(&mut b, 0);
        b.push(b' ');
        push_u64(&mut b, u64::MAX);
        assert_eq!(b, b"0 18446744073709551615");
    }

    #[test]
    fn error_pages_have_exact_length() {
        for status in [400u16, 404, 405, 408, 413, 431, 505, 503] {
            let mut b = Vec::new();
            let f = Finish {
                close: true,
                keep_alive_1_0: false,
                extra: b"",
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
            extra: b"X-A: 1\r\n",
        };
        error(&mut b, 404, true, b"", f);
        let text = String::from_utf8(b).unwrap();
        assert!(text.ends_with("X-A: 1\r\n\r\n"));
        assert!(text.contains("Content-Length: "));
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        html_escape("<a href=\"x\">&'", &mut s);
        assert_eq!(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
