//! Response heads, as a client reads them: status line and fields, with byte offsets.
//!
//! A client talks to servers it did not write, so a bad response must be reported as
//! precisely as a compiler reports a syntax error: what was wrong and at which byte of
//! the response. `httparse` tokenizes the head (fast, zero-copy) but its errors carry
//! no position, so on failure a small line scanner finds the offending line; the
//! framing rules (RFC 9112 §6.3) then say where the body ends.

use super::fields::{has_token, trim};

/// Most header fields accepted in one response head; a peer cannot make us allocate more.
pub const MAX_RESPONSE_HEADERS: usize = 128;
/// Largest response head accepted (status line, fields, blank line).
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// A response that breaks HTTP/1.1 framing or syntax: what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset} of the response")]
pub struct ResponseError {
    /// What was wrong, in words (`bad status line`, `body cut short: 10 of 20 bytes`).
    pub what: String,
    /// Byte offset from the start of the response (the first byte of its status line),
    /// or of the connection's received stream when the caller says so.
    pub offset: u64,
    /// True when the peer stopped sending (a truncation), false for bad syntax.
    pub truncated: bool,
}

impl ResponseError {
    /// A syntax error at `offset`.
    pub fn malformed(what: impl Into<String>, offset: u64) -> ResponseError {
        ResponseError {
            what: what.into(),
            offset,
            truncated: false,
        }
    }

    /// The peer closed (or stopped) before the message was complete.
    pub fn truncated(what: impl Into<String>, offset: u64) -> ResponseError {
        ResponseError {
            what: what.into(),
            offset,
            truncated: true,
        }
    }

    /// The same error with its offset moved by `base` (response -> connection offsets).
    pub fn shifted(mut self, base: u64) -> ResponseError {
        self.offset += base;
        self
    }
}

/// One header field as it appeared on the wire, with where its line starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name, case as sent.
    pub name: String,
    /// The value, optional whitespace around it removed; bytes as sent.
    pub value: Vec<u8>,
    /// Offset of the field line from the start of the response.
    pub offset: usize,
}

/// A parsed response head (owned: the client keeps it after its buffer moves on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// The status code.
    pub status: u16,
    /// The reason phrase as sent (may be empty).
    pub reason: String,
    /// Every field, in order, duplicates kept.
    pub fields: Vec<Field>,
    /// Bytes of the head, blank line included: the body starts here.
    pub len: usize,
}

impl ResponseHead {
    /// The first field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_slice())
    }

    /// The first field named `name` as text, if it is valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every field named `name`, in order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Field> + 's {
        self.fields
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name))
    }

    /// 1xx: an interim response (100 Continue, 103 Early Hints); the final one follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The server allows this connection to carry another request after this response.
    pub fn keep_alive(&self) -> bool {
        let conn = self.get_all("connection");
        let mut close = false;
        let mut keep = false;
        for f in conn {
            close |= has_token(&f.value, b"close");
            keep |= has_token(&f.value, b"keep-alive");
        }
        if close {
            false
        } else {
            self.minor >= 1 || keep
        }
    }
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// No body at all (HEAD, 1xx, 204, 304).
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// Parses a response head at the start of `buf`.
///
/// Returns `Ok(None)` while the head is incomplete (and still within
/// [`MAX_RESPONSE_HEAD`]); an error names the byte where the head went wrong.
pub fn parse(buf: &[u8]) -> Result<Option<ResponseHead>, ResponseError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut resp = httparse::Response::new(&mut slots);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let base = buf.as_ptr() as usize;
            let fields = resp
                .headers
                .iter()
                .map(|h| {
                    // httparse hands out slices of `buf`: their address gives the offset.
                    let offset = (h.name.as_ptr() as usize).saturating_sub(base);
                    Field {
                        name: h.name.to_string(),
                        value: trim(h.value).to_vec(),
                        offset,
                    }
                })
                .collect();
            Ok(Some(ResponseHead {
                minor: resp.version.unwrap_or(1),
                status: resp.code.unwrap_or(0),
                reason: resp.reason.unwrap_or("").to_string(),
                fields,
                len,
            }))
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() > MAX_RESPONSE_HEAD {
                return Err(ResponseError::malformed(
                    format!("response head larger than {MAX_RESPONSE_HEAD} bytes"),
                    MAX_RESPONSE_HEAD as u64,
                ));
            }
            // httparse only notices a bad status line once it is complete; look earlier so
            // a server that answers with something else entirely is named at once.
            if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
                return Err(locate(buf, httparse::Error::Version));
            }
            Ok(None)
        }
        Err(err) => Err(locate(buf, err)),
    }
}

/// Finds where a head `httparse` refused goes wrong: the status line or the first
/// field line that does not fit the grammar.
fn locate(buf: &[u8], err: httparse::Error) -> ResponseError {
    if err == httparse::Error::TooManyHeaders {
        return ResponseError::malformed(
            format!("more than {MAX_RESPONSE_HEADERS} header fields"),
            0,
        );
    }
    let mut lines = Lines::new(buf);
    let Some((start, line)) = lines.next() else {
        return ResponseError::malformed("empty response", 0);
    };
    if let Err(what) = check_status_line(line) {
        return ResponseError::malformed(what, start as u64);
    }
    for (start, line) in lines {
        if line.is_empty() {
            break;
        }
        if let Err(what) = check_field_line(line) {
            return ResponseError::malformed(what, start as u64);
        }
    }
    ResponseError::malformed(format!("invalid response head ({err})"), 0)
}

/// Checks `HTTP/1.x SSS reason` (RFC 9112 §4).
pub(crate) fn check_status_line(line: &[u8]) -> Result<(), String> {
    let shown = crate::text::escape_bytes(&line[..line.len().min(40)]);
    if !line.starts_with(b"HTTP/") {
        return Err(format!("bad status line (not HTTP/1.x): \"{shown}\""));
    }
    let ok = line.len() >= 12
        && line[5].is_ascii_digit()
        && line[6] == b'.'
        && line[7].is_ascii_digit()
        && line[8] == b' '
        && line[9..12].iter().all(u8::is_ascii_digit)
        && (line.len() == 12 || line[12] == b' ');
    if !ok {
        return Err(format!("bad status line: \"{shown}\""));
    }
    Ok(())
}

/// Checks one `name: value` line (RFC 9110 §5.1, §5.5).
pub(crate) fn check_field_line(line: &[u8]) -> Result<(), String> {
    let shown = crate::text::escape_bytes(&line[..line.len().min(40)]);
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Err(format!("obsolete line folding: \"{shown}\""));
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(format!("header line without a colon: \"{shown}\""));
    };
    let name = &line[..colon];
    if name.is_empty() {
        return Err(format!("empty header name: \"{shown}\""));
    }
    if name.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Err(format!("whitespace before the colon: \"{shown}\""));
    }
    if !name.iter().all(|&b| super::fields::is_token_byte(b)) {
        return Err(format!("invalid character in header name: \"{shown}\""));
    }
    if line[colon + 1..]
        .iter()
        .any(|&b| b == 0 || b == b'\r' || b == b'\n' || (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(format!("invalid character in header value: \"{shown}\""));
    }
    Ok(())
}

/// Lines of a head with their starting offsets; the terminator (CRLF or a bare LF) is
/// not part of the line.
pub(crate) struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Lines<'a> {
        Lines { buf, pos: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.buf[start..];
        let (line, step) = match rest.iter().position(|&b| b == b'\n') {
            Some(lf) => (&rest[..lf], lf + 1),
            None => (rest, rest.len()),
        };
        self.pos += step;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((start, line))
    }
}

/// Where the body of `head` ends, for a request made with `method` (RFC 9112 §6.3).
///
/// Errors are the framing conflicts a client must not guess about: an unparsable or
/// conflicting `Content-Length`, which could be a response-splitting attempt.
pub fn body_length(head: &ResponseHead, method: &str) -> Result<BodyLength, ResponseError> {
    if method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&head.status)
        || head.status == 204
        || head.status == 304
    {
        return Ok(BodyLength::None);
    }
    if method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&head.status) {
        return Ok(BodyLength::UntilClose);
    }
    if let Some(te) = head.get_all("transfer-encoding").last() {
        // Chunked must be the final coding; otherwise the body runs until close.
        let last = te.value.rsplit(|&b| b == b',').next().map(trim);
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case(b"chunked") => BodyLength::Chunked,
            _ => BodyLength::UntilClose,
        });
    }
    let mut length: Option<u64> = None;
    for field in head.get_all("content-length") {
        for part in field.value.split(|&b| b == b',') {
            let part = trim(part);
            let n = parse_decimal(part).ok_or_else(|| {
                ResponseError::malformed(
                    format!(
                        "bad Content-Length \"{}\"",
                        crate::text::escape_bytes(&field.value)
                    ),
                    field.offset as u64,
                )
            })?;
            match length {
                Some(prev) if prev != n => {
                    return Err(ResponseError::malformed(
                        format!("conflicting Content-Length values {prev} and {n}"),
                        field.offset as u64,
                    ))
                }
                _ => length = Some(n),
            }
        }
    }
    Ok(match length {
        Some(n) => BodyLength::Length(n),
        None => BodyLength::UntilClose,
    })
}

/// Digits only, no sign, no overflow.
fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    text.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_with_offsets_and_case() {
        let raw = b"HTTP/1.1 200 OK\r\nX-A: 1\r\ncontent-length: 5\r\n\r\nhello";
        let head = parse(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.fields[0].name, "X-A");
        assert_eq!(head.fields[0].offset, 17);
        assert_eq!(head.fields[1].offset, 25);
        assert_eq!(head.len, raw.len() - 5);
        assert_eq!(body_length(&head, "GET").unwrap(), BodyLength::Length(5));
        assert_eq!(body_length(&head, "HEAD").unwrap(), BodyLength::None);
    }

    #[test]
    fn partial_head_needs_more() {
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nX: y").unwrap(), None);
    }

    #[test]
    fn bad_field_named_with_offset() {
        let err = parse(b"HTTP/1.1 200 OK\r\nGood: 1\r\nBad : 2\r\n\r\n").unwrap_err();
        assert_eq!(err.offset, 26);
        assert!(err.what.contains("whitespace before the colon"), "{err}");
    }

    #[test]
    fn not_http_is_refused_early() {
        let err = parse(b"SSH-2.0-OpenSSH\r\n").unwrap_err();
        assert!(err.what.contains("bad status line"), "{err}");
        assert_eq!(err.offset, 0);
    }

    #[test]
    fn conflicting_lengths_are_errors() {
        let head = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(body_length(&head, "GET").is_err());
        let head = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(body_length(&head, "GET").unwrap(), BodyLength::Length(5));
    }

    #[test]
    fn chunked_wins_and_no_body_statuses() {
        let head = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(body_length(&head, "GET").unwrap(), BodyLength::Chunked);
        let head = parse(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(body_length(&head, "GET").unwrap(), BodyLength::None);
        let head = parse(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(body_length(&head, "GET").unwrap(), BodyLength::UntilClose);
        assert!(!head.keep_alive());
    }
}
