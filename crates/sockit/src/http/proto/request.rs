//! Request heads: tokenized by `httparse`, then checked against the HTTP/1.1 framing rules.
//!
//! Parsing borrows from the connection's read buffer and fills a header array that lives
//! on the caller's stack, so reading a request allocates nothing. The checks here are the
//! ones that keep a front proxy and this server agreeing on where a request ends
//! (request smuggling): exactly one way to frame the body, a single well-formed
//! `Content-Length`, no transfer coding but `chunked`, no obsolete line folding.

use std::mem::MaybeUninit;

use super::fields::{has_token, is_token_byte, trim};

/// Header storage for one parse, to be declared on the stack by the caller.
pub type HeaderSlots<'a> = [MaybeUninit<httparse::Header<'a>>; MAX_HEADERS];

/// Fresh uninitialized header storage (free: no memset).
pub fn header_slots<'a>() -> HeaderSlots<'a> {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// Largest request head (request line + headers) we accept; beyond it 431.
pub const MAX_HEAD: usize = 16 * 1024;
/// Longest request target; beyond it 414.
pub const MAX_URI: usize = 8 * 1024;
/// Most header fields in one request; beyond it 431.
pub const MAX_HEADERS: usize = 100;

/// The request methods this server knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read a resource.
    Get,
    /// Like GET without the body.
    Head,
    /// Ask which methods are allowed (and CORS preflight).
    Options,
    /// Loop back the request (diagnostic; off by default).
    Trace,
    /// Create or replace a file.
    Put,
    /// Remove a file.
    Delete,
    /// Form upload.
    Post,
    /// Tunnel request: meaningless for an origin server, 405.
    Connect,
    /// A syntactically valid method we do not implement (501).
    Other,
}

impl Method {
    fn from_str(m: &str) -> Method {
        match m {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "POST" => Method::Post,
            "CONNECT" => Method::Connect,
            _ => Method::Other,
        }
    }
}

/// How the request body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed and validated request head; every slice borrows the read buffer.
#[derive(Debug)]
pub struct Request<'a> {
    /// The method, classified.
    pub method: Method,
    /// The method as sent (for logs and TRACE).
    pub method_str: &'a str,
    /// The request target as sent.
    pub target: &'a [u8],
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Every header field, in order.
    pub headers: &'a [httparse::Header<'a>],
    /// Bytes of the head, including the blank line; the body (if any) starts here.
    pub head_len: usize,
    /// How the body is framed.
    pub framing: Framing,
    /// The client wants the connection kept open after this response.
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent (HTTP/1.1 only).
    pub expect_continue: bool,
    /// `Range`.
    pub range: Option<&'a [u8]>,
    /// `If-Range`.
    pub if_range: Option<&'a [u8]>,
    /// `If-Match`.
    pub if_match: Option<&'a [u8]>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a [u8]>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<&'a [u8]>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<&'a [u8]>,
    /// `Accept-Encoding`.
    pub accept_encoding: Option<&'a [u8]>,
    /// `Accept`.
    pub accept: Option<&'a [u8]>,
    /// `Authorization`.
    pub authorization: Option<&'a [u8]>,
    /// `Content-Type`.
    pub content_type: Option<&'a [u8]>,
    /// `Origin` (CORS).
    pub origin: Option<&'a [u8]>,
    /// `Access-Control-Request-Method` (CORS preflight).
    pub ac_request_method: Option<&'a [u8]>,
    /// `Access-Control-Request-Headers` (CORS preflight).
    pub ac_request_headers: Option<&'a [u8]>,
}

impl<'a> Request<'a> {
    /// The precondition fields, for [`super::conditional::evaluate`].
    pub fn preconditions(&self) -> super::conditional::Preconditions<'a> {
        super::conditional::Preconditions {
            if_match: self.if_match,
            if_none_match: self.if_none_match,
            if_modified_since: self.if_modified_since,
            if_unmodified_since: self.if_unmodified_since,
        }
    }
}

/// A request head that cannot be served; the connection is closed after the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadError {
    /// The status to answer with: 400, 414, 431 or 505.
    pub status: u16,
}

const fn bad(status: u16) -> HeadError {
    HeadError { status }
}

/// Parses a `Content-Length` value: decimal digits only, possibly a list of identical
/// values (`5, 5`, RFC 9110 §8.6). Anything else is a framing error.
fn parse_content_length(value: &[u8]) -> Option<u64> {
    let mut result: Option<u64> = None;
    for item in value.split(|&b| b == b',') {
        let item = trim(item);
        if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = item
            .iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
        match result {
            Some(prev) if prev != n => return None,
            _ => result = Some(n),
        }
    }
    result
}

/// Decides between 505 and 400 when httparse rejects the version: a request line that
/// is otherwise well formed and names another HTTP version gets 505.
fn version_error(buf: &[u8]) -> HeadError {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = buf[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[..line_end]);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return bad(400);
    };
    let method_ok = !method.is_empty() && method.iter().all(|&b| is_token_byte(b));
    let version_ok = version.len() > 5
        && version.starts_with(b"HTTP/")
        && version[5..]
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b'.')
        && version[5].is_ascii_digit();
    if method_ok && !target.is_empty() && version_ok {
        bad(505)
    } else {
        bad(400)
    }
}

/// Checks the start of a head that is still incomplete: if it already breaks a limit we
/// can answer now instead of waiting for more bytes.
///
/// Only a verdict the complete head would get too: while the request line is unfinished,
/// 414 when the target seen so far (after the method's space) is already over `MAX_URI`,
/// not when the line merely is long (a long method is a valid token, and the answer must
/// not depend on where the client's bytes were cut).
pub fn check_partial(buf: &[u8]) -> Result<(), HeadError> {
    if !buf.contains(&b'\n') {
        if let Some(sp) = buf.iter().position(|&b| b == b' ') {
            let target = &buf[sp + 1..];
            let target_len = target
                .iter()
                .position(|&b| b == b' ')
                .unwrap_or(target.len());
            if target_len > MAX_URI {
                return Err(bad(414));
            }
        }
    }
    if buf.len() > MAX_HEAD {
        Err(bad(431))
    } else {
        Ok(())
    }
}

/// Parses one request head from the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, `Ok(Some(request))` for a complete and
/// valid head, and an error with the status to answer otherwise.
///
/// `headers` is uninitialized storage on the caller's stack (no per-request memset).
pub fn parse<'a>(
    buf: &'a [u8],
    headers: &'a mut [MaybeUninit<httparse::Header<'a>>],
) -> Result<Option<Request<'a>>, HeadError> {
    // Clients may send empty lines between requests (RFC 9112 §2.2); httparse skips them.
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(buf, headers) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            check_partial(buf)?;
            return Ok(None);
        }
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(httparse::Error::TooManyHeaders) => return Err(bad(431)),
        Err(_) => return Err(bad(400)),
    };
    if head_len > MAX_HEAD {
        return Err(bad(431));
    }
    let (Some(method_str), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(bad(400));
    };
    if target.len() > MAX_URI {
        return Err(bad(414));
    }
    let headers: &'a [httparse::Header<'a>] = req.headers;
    let mut r = Request {
        method: Method::from_str(method_str),
        method_str,
        target: target.as_bytes(),
        minor,
        headers,
        head_len,
        framing: Framing::None,
        keep_alive: minor == 1,
        expect_continue: false,
        range: None,
        if_range: None,
        if_match: None,
        if_none_match: None,
        if_modified_since: None,
        if_unmodified_since: None,
        accept_encoding: None,
        accept: None,
        authorization: None,
        content_type: None,
        origin: None,
        ac_request_method: None,
        ac_request_headers: None,
    };
    let mut content_length: Option<u64> = None;
    let mut transfer_encoding = false;
    let mut hosts = 0;
    // Collected over every `Connection` field: `close` wins wherever it appears (RFC 9112 §9.3).
    let (mut close, mut keep_alive) = (false, false);
    for h in headers {
        let v = h.value;
        let name = h.name.as_bytes();
        // Dispatch on length first: most headers are rejected by one comparison.
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => hosts += 1,
            5 if name.eq_ignore_ascii_case(b"range") => r.range = Some(v),
            6 if name.eq_ignore_ascii_case(b"accept") => r.accept = Some(v),
            6 if name.eq_ignore_ascii_case(b"expect")
                && minor == 1
                && trim(v).eq_ignore_ascii_case(b"100-continue") =>
            {
                r.expect_continue = true;
            }
            6 if name.eq_ignore_ascii_case(b"origin") => r.origin = Some(v),
            8 if name.eq_ignore_ascii_case(b"if-match") => r.if_match = Some(v),
            8 if name.eq_ignore_ascii_case(b"if-range") => r.if_range = Some(v),
            10 if name.eq_ignore_ascii_case(b"connection") => {
                close |= has_token(v, b"close");
                keep_alive |= has_token(v, b"keep-alive");
            }
            12 if name.eq_ignore_ascii_case(b"content-type") => r.content_type = Some(v),
            13 if name.eq_ignore_ascii_case(b"if-none-match") => r.if_none_match = Some(v),
            13 if name.eq_ignore_ascii_case(b"authorization") => r.authorization = Some(v),
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let n = parse_content_length(v).ok_or(bad(400))?;
                if content_length.is_some_and(|prev| prev != n) {
                    return Err(bad(400));
                }
                content_length = Some(n);
            }
            15 if name.eq_ignore_ascii_case(b"accept-encoding") => r.accept_encoding = Some(v),
            17 if name.eq_ignore_ascii_case(b"if-modified-since") => r.if_modified_since = Some(v),
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                // Only one field, only "chunked": anything else could be read differently
                // by an intermediary, which is how smuggling starts.
                if transfer_encoding || !trim(v).eq_ignore_ascii_case(b"chunked") {
                    return Err(bad(400));
                }
                transfer_encoding = true;
            }
            19 if name.eq_ignore_ascii_case(b"if-unmodified-since") => {
                r.if_unmodified_since = Some(v)
            }
            29 if name.eq_ignore_ascii_case(b"access-control-request-method") => {
                r.ac_request_method = Some(v)
            }
            30 if name.eq_ignore_ascii_case(b"access-control-request-headers") => {
                r.ac_request_headers = Some(v)
            }
            _ => {}
        }
    }
    r.keep_alive = !close && (minor == 1 || keep_alive);
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in 1.0.
    if hosts > 1 || (minor == 1 && hosts == 0) {
        return Err(bad(400));
    }
    r.framing = match (content_length, transfer_encoding) {
        (Some(_), true) => return Err(bad(400)),
        // Chunked is an HTTP/1.1 feature; in a 1.0 message the framing is faulty (RFC 9112 §6.1).
        (None, true) if minor == 0 => return Err(bad(400)),
        (None, true) => Framing::Chunked,
        (None, false) => Framing::None,
        (Some(n), false) => Framing::Length(n),
    };
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Option<(Method, Framing, bool, usize)>, u16> {
        let mut hdrs = header_slots();
        match parse(s.as_bytes(), &mut hdrs) {
            Ok(Some(r)) => Ok(Some((r.method, r.framing, r.keep_alive, r.head_len))),
            Ok(None) => Ok(None),
            Err(e) => Err(e.status),
        }
    }

    #[test]
    fn simple_get_parses() {
        let s = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(
            parse_str(s),
            Ok(Some((Method::Get, Framing::None, true, s.len())))
        );
    }

    #[test]
    fn partial_heads_need_more() {
        assert_eq!(parse_str("GET /a HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        assert_eq!(parse_str("GE"), Ok(None));
    }

    #[test]
    fn keep_alive_follows_version_and_connection() {
        let k = |s: &str| parse_str(s).unwrap().unwrap().2;
        assert!(!k("GET / HTTP/1.0\r\n\r\n"));
        assert!(k("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        assert!(!k("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        assert!(!k(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n"
        ));
    }

    #[test]
    fn close_wins_over_keep_alive_in_another_field() {
        // Found by the http_head fuzz target: the fields were applied in order, so a
        // later `keep-alive` undid an earlier `close` on HTTP/1.0.
        let k = |s: &str| parse_str(s).unwrap().unwrap().2;
        assert!(!k(
            "GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n"
        ));
        assert!(!k(
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
        ));
        assert!(!k(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n"
        ));
        assert!(k(
            "GET / HTTP/1.0\r\nConnection: x\r\nConnection: Keep-Alive\r\n\r\n"
        ));
    }

    #[test]
    fn other_versions_get_505_and_garbage_400() {
        assert_eq!(parse_str("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), Err(505));
        assert_eq!(parse_str("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), Err(505));
        assert_eq!(parse_str("GET / HTTP/3\r\n\r\n"), Err(505));
        assert_eq!(parse_str("GET / FOO/1.1\r\n\r\n"), Err(400));
        assert_eq!(parse_str("GET  / HTTP/1.1\r\n\r\n"), Err(400));
        assert_eq!(parse_str("\x01\x02\r\n\r\n"), Err(400));
    }

    #[test]
    fn host_is_required_once_in_1_1() {
        assert_eq!(parse_str("GET / HTTP/1.1\r\n\r\n"), Err(400));
        assert_eq!(
            parse_str("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Err(400)
        );
        assert!(parse_str("GET / HTTP/1.0\r\n\r\n").is_ok());
    }

    #[test]
    fn body_framing() {
        let f = |s: &str| parse_str(s).map(|r| r.unwrap().1);
        assert_eq!(
            f("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        );
    }

    #[test]
    fn smuggling_shapes_are_rejected() {
        for s in [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nBad\x01Name: 5\r\n\r\n",
        ] {
            assert_eq!(parse_str(s), Err(400), "{s:?}");
        }
    }

    #[test]
    fn limits_map_to_414_and_431() {
        let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(MAX_URI));
        assert_eq!(parse_str(&long_uri), Err(414));
        let unfinished_uri = format!("GET /{}", "a".repeat(MAX_URI + 100));
        assert_eq!(parse_str(&unfinished_uri), Err(414));
        let unfinished_query = format!("GET /?q={}", "a".repeat(MAX_URI));
        assert_eq!(parse_str(&unfinished_query), Err(414));
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        assert_eq!(parse_str(&big), Err(431));
        let unfinished_big = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}", "a".repeat(MAX_HEAD));
        assert_eq!(parse_str(&unfinished_big), Err(431));
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X{i}: y\r\n"))
            .collect();
        assert_eq!(
            parse_str(&format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n")),
            Err(431)
        );
    }

    #[test]
    fn a_long_method_is_not_a_long_uri() {
        // Found by the http_head fuzz target: an unfinished request line longer than
        // MAX_URI + 64 got 414 even when its target was short, so a head with a long
        // method was refused or accepted depending on how its bytes arrived.
        let method = "X".repeat(MAX_URI + 100);
        let head = format!("{method} /short HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(parse_str(&head), Ok(Some(_))));
        for cut in [MAX_URI + 65, MAX_URI + 70, head.find('\r').unwrap()] {
            assert_eq!(parse_str(&head[..cut]), Ok(None), "cut at {cut}");
        }
        // Past MAX_HEAD an unfinished line is still refused, with 431.
        assert_eq!(parse_str(&"X".repeat(MAX_HEAD + 1)), Err(431));
    }

    #[test]
    fn expect_continue_only_in_1_1() {
        let mut hdrs = header_slots();
        let r = parse(
            b"PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
            &mut hdrs,
        )
        .unwrap()
        .unwrap();
        assert!(r.expect_continue);
    }
}
