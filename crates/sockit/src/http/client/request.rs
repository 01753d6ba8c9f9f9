//! Requests as the user described them, and their heads exactly as they will be sent.
//!
//! A debugging client must send what it was told: header lines keep the order, case,
//! spacing and duplicates they were typed with; a default header (`Host`, `User-Agent`,
//! `Accept`, `Content-Length`) is replaced by a typed header of the same name, or
//! removed by `Name:` with nothing after the colon.

use std::path::PathBuf;

use bytes::Bytes;

use super::url::Url;

/// Longest request head we build; `-H` lines beyond it are refused, not truncated.
pub const MAX_REQUEST_HEAD: usize = 256 * 1024;

/// One `-H` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderLine {
    /// `Name: value`, sent as typed (the text is the whole line without CRLF).
    Line {
        /// The name, for matching defaults.
        name: String,
        /// The exact text to send.
        text: String,
    },
    /// `Name:` with no value: do not send this header (removes a default).
    Remove(String),
    /// `Name;`: send the header with an empty value (curl's spelling).
    Empty(String),
}

impl HeaderLine {
    /// Parses `-H` text; refuses CR/LF (header injection) and a bad name.
    pub fn parse(text: &str) -> Result<HeaderLine, String> {
        if text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!("header {text:?} contains CR, LF or NUL"));
        }
        let valid_name =
            |n: &str| !n.is_empty() && n.bytes().all(crate::http::proto::fields::is_token_byte);
        if let Some(name) = text.strip_suffix(';') {
            if valid_name(name) {
                return Ok(HeaderLine::Empty(name.to_string()));
            }
        }
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| format!("header {text:?} is not 'Name: value'"))?;
        if !valid_name(name) {
            return Err(format!("header {text:?} has an invalid name"));
        }
        if value.trim().is_empty() {
            return Ok(HeaderLine::Remove(name.to_string()));
        }
        Ok(HeaderLine::Line {
            name: name.to_string(),
            text: text.to_string(),
        })
    }

    /// The header's name.
    pub fn name(&self) -> &str {
        match self {
            HeaderLine::Line { name, .. } | HeaderLine::Remove(name) | HeaderLine::Empty(name) => {
                name
            }
        }
    }
}

/// A request body.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// Bytes in memory (`-d`, `--json`).
    Bytes(Bytes),
    /// A file streamed from disk (`--data-file`, `-T`), never loaded whole; its length
    /// is taken when the request is sent.
    File(PathBuf),
    /// Pieces sent one after the other (`-F` multipart/form-data: boundaries and part
    /// heads in memory, files streamed).
    Pieces(Vec<Piece>),
}

/// One piece of a [`Body::Pieces`] body.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A file, streamed.
    File(PathBuf),
}

/// One request to make.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method token, sent as given (`GET`, `OPTIONS`, `PURGE`).
    pub method: String,
    /// Where to send it.
    pub url: Url,
    /// The target when it is not the URL's path (`*` for `OPTIONS *`).
    pub target: Option<String>,
    /// Typed header lines, in order.
    pub headers: Vec<HeaderLine>,
    /// Default headers the caller adds after `Host` (e.g. `Authorization` from `-u`,
    /// `Content-Type` from `--json`), each replaceable by a typed header.
    pub defaults: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// Send the target unnormalised (`.` and `..` kept).
    pub path_as_is: bool,
    /// Speak HTTP/1.0 (no keep-alive unless the server offers it).
    pub http10: bool,
    /// Send `Expect: 100-continue` with a body and wait (up to a second) for the server
    /// to agree before sending it; a typed `Expect:` line overrides or removes it.
    pub expect_continue: bool,
}

impl Request {
    /// A bodiless request with no typed headers.
    pub fn new(method: impl Into<String>, url: Url) -> Request {
        Request {
            method: method.into(),
            url,
            target: None,
            headers: Vec::new(),
            defaults: Vec::new(),
            body: Body::Empty,
            path_as_is: false,
            http10: false,
            expect_continue: false,
        }
    }

    /// The request target that goes on the request line.
    pub fn target(&self) -> String {
        match &self.target {
            Some(t) => t.clone(),
            None if self.path_as_is => self.url.target.clone(),
            None => self.url.normalized_target(),
        }
    }

    /// Builds the request head: request line, defaults not overridden, typed lines in
    /// order, the blank line. `body_len` is the body's size when there is one.
    pub fn head(&self, body_len: Option<u64>) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(256);
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        if !self
            .method
            .bytes()
            .all(crate::http::proto::fields::is_token_byte)
            || self.method.is_empty()
        {
            return Err(format!("invalid method {:?}", self.method));
        }
        out.extend_from_slice(
            format!("{} {} {version}\r\n", self.method, self.target()).as_bytes(),
        );
        let typed = |name: &str| {
            self.headers
                .iter()
                .any(|h| h.name().eq_ignore_ascii_case(name))
        };
        let mut defaults: Vec<(String, String)> = vec![
            ("Host".into(), self.url.host_header()),
            (
                "User-Agent".into(),
                concat!("sockit/", env!("CARGO_PKG_VERSION")).into(),
            ),
        ];
        if !self
            .defaults
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
        {
            defaults.push(("Accept".into(), "*/*".into()));
        }
        defaults.extend(self.defaults.iter().cloned());
        if let Some(len) = body_len {
            defaults.push(("Content-Length".into(), len.to_string()));
            if self.expect_continue && len > 0 && !self.http10 {
                defaults.push(("Expect".into(), "100-continue".into()));
            }
        }
        for (name, value) in &defaults {
            if !typed(name) {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
        }
        for line in &self.headers {
            match line {
                HeaderLine::Line { text, .. } => {
                    out.extend_from_slice(text.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
                HeaderLine::Empty(name) => {
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b":\r\n");
                }
                HeaderLine::Remove(_) => {}
            }
            if out.len() > MAX_REQUEST_HEAD {
                return Err(format!("request head larger than {MAX_REQUEST_HEAD} bytes"));
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_headers_keep_case_order_and_replace_defaults() {
        let mut r = Request::new("GET", Url::parse("http://h:8080/a/../b").unwrap());
        for h in ["x-B: 2", "USER-AGENT: me", "X-b: 3", "Accept:", "Empty;"] {
            r.headers.push(HeaderLine::parse(h).unwrap());
        }
        let head = String::from_utf8(r.head(None).unwrap()).unwrap();
        assert_eq!(
            head,
            "GET /b HTTP/1.1\r\nHost: h:8080\r\nx-B: 2\r\nUSER-AGENT: me\r\nX-b: 3\r\nEmpty:\r\n\r\n"
        );
        r.path_as_is = true;
        assert!(String::from_utf8(r.head(Some(3)).unwrap())
            .unwrap()
            .starts_with("GET /a/../b HTTP/1.1\r\n"));
    }

    #[test]
    fn injection_refused() {
        assert!(HeaderLine::parse("X: a\r\nEvil: 1").is_err());
        assert!(HeaderLine::parse("Bad Name: 1").is_err());
    }
}
