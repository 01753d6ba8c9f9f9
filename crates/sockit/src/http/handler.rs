//! From a parsed request to a response: method rules, authentication, CORS, then
//! static files.
//!
//! Everything here is synchronous and runs while the request head is still borrowed
//! from the read buffer. Small answers (cached files, errors, redirects, 304s) are
//! rendered completely into the write buffer; anything that needs to wait on I/O
//! (big files, uploads, listings) is returned as a [`Plan`] with owned data, which the
//! connection loop then carries out.

use std::fs::File;
use std::net::SocketAddr;

use subtle::ConstantTimeEq;

use crate::http::cache;
use crate::http::config::{LogFormat, ServeConfig};
use crate::http::files::Root;
use crate::http::listing::ListingQuery;
use crate::http::log;
use crate::http::message::{has_token, trim, Framing, Method, Request};
use crate::http::path::{self, PathError};
use crate::http::response::{self as resp, Finish};

/// Request bodies the connection loop reads and drops to keep a connection usable (a
/// GET with a body, a refused upload); bigger ones close the connection instead.
pub const DISCARD_MAX: u64 = 1 << 20;

/// Below this size on-the-fly gzip is not worth its CPU (and may even grow the body).
pub const COMPRESS_MIN: u64 = 1024;

/// The server's shared, read-only state: the config plus everything pre-computed from it.
#[derive(Debug)]
pub struct Site {
    /// The settings.
    pub config: ServeConfig,
    /// Distinguishes servers in per-thread caches.
    pub id: usize,
    /// The served folder.
    pub root: Root,
    /// Pre-rendered `--header` and CORS lines added to every response.
    pub extra: Box<[u8]>,
    /// `Allow: ...\r\n` for 405 and OPTIONS.
    pub allow: Box<[u8]>,
    /// The methods in `allow`, for CORS preflight answers.
    pub allow_list: Box<str>,
    /// `user:password` expected in Basic credentials.
    pub credentials: Option<Box<[u8]>>,
    /// What the cache needs from the config.
    pub cache_opts: cache::Opts,
    /// Set once shutdown began: answers then carry `Connection: close`.
    pub closing: std::sync::atomic::AtomicBool,
}

impl Site {
    /// Pre-computes per-server constants and opens the root folder.
    pub fn new(config: ServeConfig, id: usize) -> std::io::Result<Site> {
        let root = Root::open(&config.root)?;
        let mut extra = String::new();
        if config.cors {
            extra.push_str("Access-Control-Allow-Origin: *\r\n");
        }
        for (k, v) in &config.headers {
            extra.push_str(k);
            extra.push_str(": ");
            extra.push_str(v);
            extra.push_str("\r\n");
        }
        let mut methods = vec!["GET", "HEAD", "OPTIONS"];
        if config.allow_trace {
            methods.push("TRACE");
        }
        if config.write {
            methods.extend(["PUT", "DELETE", "POST"]);
        }
        let allow_list = methods.join(", ");
        let credentials = config
            .auth
            .as_ref()
            .map(|(u, p)| format!("{u}:{p}").into_bytes().into_boxed_slice());
        let cache_opts = cache::Opts {
            follow_symlinks: config.follow_symlinks,
            compress: config.compress,
        };
        Ok(Site {
            root,
            id,
            extra: extra.into_bytes().into(),
            allow: format!("Allow: {allow_list}\r\n").into_bytes().into(),
            allow_list: allow_list.into(),
            credentials,
            cache_opts,
            config,
            closing: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

/// What the connection knows that the handler needs.
#[derive(Debug, Clone, Copy)]
pub struct ConnCtx {
    /// The client.
    pub peer: SocketAddr,
    /// The server is shutting down: answer, then close.
    pub closing: bool,
}

/// Work left for the connection loop after the synchronous part.
#[derive(Debug)]
pub enum Plan {
    /// The whole response is in the write buffer.
    Done,
    /// The head is in the write buffer; send `len` bytes of `file` from `offset`.
    File {
        /// Open file.
        file: File,
        /// Start offset.
        offset: u64,
        /// Byte count.
        len: u64,
    },
    /// The head is in the write buffer; send a `multipart/byteranges` body.
    Ranges {
        /// Open file.
        file: File,
        /// (part header, offset, length) for each part.
        parts: Vec<(Vec<u8>, u64, u64)>,
        /// Closing boundary.
        tail: Vec<u8>,
    },
    /// The head is in the write buffer; send `file` gzipped with chunked coding.
    Gzip {
        /// Open file.
        file: File,
    },
    /// Render a folder listing off the event loop.
    Listing {
        /// Folder, relative to the root.
        rel: Vec<u8>,
        /// The encoded request path (for links and the title).
        url_path: Vec<u8>,
        /// Sorting and format.
        query: ListingQuery,
        /// JSON instead of HTML.
        json: bool,
        /// HEAD: headers only.
        head_only: bool,
    },
    /// Store a PUT body.
    Put(crate::http::upload::PutPlan),
    /// Store the files of a multipart POST.
    Post(crate::http::form::PostPlan),
}

/// The handler's verdict on one request.
#[derive(Debug)]
pub struct Decision {
    /// What is left to do.
    pub plan: Plan,
    /// Status (for the log; plans may still change it).
    pub status: u16,
    /// Body bytes already rendered (for the log).
    pub bytes: u64,
    /// Close the connection after this response.
    pub close: bool,
    /// The plan reads the request body itself (uploads); otherwise the loop discards it.
    pub consumes_body: bool,
    /// Owned log data for plans that finish later (only when logging is on).
    pub log: Option<log::Owned>,
    /// The client speaks HTTP/1.0 (keep-alive must be confirmed explicitly).
    pub http10: bool,
}

/// The end of a head for answers rendered after the request head is gone.
pub fn finish_late(site: &Site, http10: bool, close: bool) -> Finish<'_> {
    Finish {
        close,
        keep_alive_1_0: http10 && !close,
        extra: &site.extra,
    }
}

/// A shorthand for the finishing part of a head.
pub fn finish<'a>(site: &'a Site, req: &Request<'_>, close: bool) -> Finish<'a> {
    Finish {
        close,
        keep_alive_1_0: req.minor == 0 && !close,
        extra: &site.extra,
    }
}

/// A decision whose response is complete in the write buffer.
pub(crate) fn done(status: u16, bytes: u64, close: bool) -> Decision {
    Decision {
        plan: Plan::Done,
        status,
        bytes,
        close,
        consumes_body: false,
        log: None,
        http10: false,
    }
}

/// Renders an error page into `w`.
pub fn error(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    status: u16,
    headers: &[u8],
    close: bool,
) -> Decision {
    let head_only = req.method == Method::Head;
    let bytes = resp::error(w, status, head_only, headers, finish(site, req, close));
    done(status, bytes, close)
}

/// Checks Basic credentials in constant time (so response timing does not reveal how
/// much of a guessed password was right). Returns the user name on success.
fn authorized<'s>(site: &'s Site, req: &Request<'_>) -> Option<Option<&'s str>> {
    let Some(expected) = &site.credentials else {
        return Some(None);
    };
    let value = trim(req.authorization?);
    if value.len() < 6 || !value[..6].eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(trim(&value[6..]))
        .ok()?;
    if bool::from(decoded.as_slice().ct_eq(expected)) {
        Some(site.config.auth.as_ref().map(|(u, _)| u.as_str()))
    } else {
        None
    }
}

/// Does `Accept-Encoding` accept `coding` (`q` > 0, explicitly or through `*`)?
pub fn accepts_encoding(value: Option<&[u8]>, coding: &[u8]) -> bool {
    let Some(value) = value else {
        return false;
    };
    let mut star = None;
    for item in value.split(|&b| b == b',') {
        let mut params = item.split(|&b| b == b';');
        let name = trim(params.next().unwrap_or(b""));
        let mut q_zero = false;
        for p in params {
            let p = trim(p);
            if p.len() >= 2 && p[..2].eq_ignore_ascii_case(b"q=") {
                let q = trim(&p[2..]);
                q_zero = !q.is_empty() && q.iter().all(|&b| b == b'0' || b == b'.');
            }
        }
        if name.eq_ignore_ascii_case(coding) {
            return !q_zero;
        }
        if name == b"*" {
            star = Some(!q_zero);
        }
    }
    star.unwrap_or(false)
}

/// Handles one request; see the module docs.
pub fn handle(
    site: &Site,
    req: &Request<'_>,
    ctx: ConnCtx,
    w: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Decision {
    let mut user = None;
    let mut d = route(site, req, ctx, w, scratch, &mut user);
    d.http10 = req.minor == 0;
    let cfg = &site.config;
    if cfg.log != LogFormat::Off {
        // Every request is logged, refusals included: they are what an operator looks for.
        if matches!(d.plan, Plan::Done) {
            log::write(
                cfg.log,
                &log::Record {
                    peer: ctx.peer.ip(),
                    user,
                    method: req.method_str,
                    target: req.target,
                    minor: Some(req.minor),
                    status: d.status,
                    bytes: d.bytes,
                },
            );
        } else {
            d.log = Some(log::Owned {
                method: req.method_str.to_string(),
                target: req.target.to_vec(),
                minor: Some(req.minor),
                user: user.map(str::to_string),
            });
        }
    }
    d
}

/// Applies the method rules and dispatches; `user` receives the authenticated user.
fn route<'s>(
    site: &'s Site,
    req: &Request<'_>,
    ctx: ConnCtx,
    w: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    user_out: &mut Option<&'s str>,
) -> Decision {
    let cfg = &site.config;
    let keep_close = !req.keep_alive || ctx.closing;
    // Answers that leave the request body unread must close the connection when the
    // client is waiting on 100-continue (it may or may not send the body now) or the
    // body is too big to skip; small bodies are read and dropped by the loop.
    let close = keep_close
        || match req.framing {
            Framing::None => false,
            Framing::Length(n) => req.expect_continue || n > DISCARD_MAX,
            Framing::Chunked => req.expect_continue,
        };
    if req.method == Method::Other {
        return error(site, req, w, 501, b"", close);
    }
    if req.target == b"*" {
        if req.method != Method::Options {
            return error(site, req, w, 400, b"", true);
        }
        return options(site, req, w, close);
    }
    let preflight =
        req.method == Method::Options && req.origin.is_some() && req.ac_request_method.is_some();
    if cfg.cors && preflight {
        return cors_preflight(site, req, w, close);
    }
    match authorized(site, req) {
        Some(user) => *user_out = user,
        None => {
            return error(
                site,
                req,
                w,
                401,
                b"WWW-Authenticate: Basic realm=\"sockit\"\r\n",
                close,
            )
        }
    };
    let not_allowed = match req.method {
        Method::Connect => true,
        Method::Trace => !cfg.allow_trace,
        Method::Put | Method::Delete | Method::Post => !cfg.write,
        _ => false,
    };
    if not_allowed {
        return error(site, req, w, 405, &site.allow, close);
    }
    match req.method {
        Method::Options => return options(site, req, w, close),
        Method::Trace => return trace(site, req, w, close),
        _ => {}
    }
    let target = match path::split_target(req.target) {
        Ok(t) => t,
        // A target we cannot map is a malformed request: answer 400 and close, like any
        // other malformed head (what follows on this connection is not to be trusted).
        Err(_) => return error(site, req, w, 400, b"", true),
    };
    let normalized = match path::normalize(target.path, cfg.hidden, scratch) {
        Ok(n) => n,
        Err(PathError::BadRequest) => return error(site, req, w, 400, b"", true),
        Err(PathError::Hidden) => return error(site, req, w, 404, b"", close),
    };
    match req.method {
        Method::Get | Method::Head => crate::http::get::get(
            site,
            req,
            w,
            scratch,
            normalized.trailing_slash,
            target,
            close,
        ),
        Method::Put => crate::http::upload::plan_put(site, req, w, scratch, keep_close, close),
        Method::Delete => crate::http::upload::delete(site, req, w, scratch, close),
        Method::Post => {
            crate::http::form::plan_post(site, req, w, scratch, target.path, keep_close, close)
        }
        _ => error(site, req, w, 405, &site.allow, close),
    }
}

fn options(site: &Site, req: &Request<'_>, w: &mut Vec<u8>, close: bool) -> Decision {
    resp::start(w, 200);
    w.extend_from_slice(&site.allow);
    w.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n");
    resp::finish(w, finish(site, req, close));
    done(200, 0, close)
}

fn cors_preflight(site: &Site, req: &Request<'_>, w: &mut Vec<u8>, close: bool) -> Decision {
    resp::start(w, 204);
    w.extend_from_slice(&site.allow);
    resp::header(
        w,
        b"Access-Control-Allow-Methods",
        site.allow_list.as_bytes(),
    );
    if let Some(h) = req.ac_request_headers {
        resp::header(w, b"Access-Control-Allow-Headers", trim(h));
    }
    w.extend_from_slice(b"Access-Control-Max-Age: 86400\r\n");
    resp::finish(w, finish(site, req, close));
    done(204, 0, close)
}

/// TRACE: echo the request head as `message/http`, minus credentials (RFC 9110 §9.3.8
/// asks servers to drop fields likely to carry secrets).
fn trace(site: &Site, req: &Request<'_>, w: &mut Vec<u8>, close: bool) -> Decision {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(req.method_str.as_bytes());
    body.push(b' ');
    body.extend_from_slice(req.target);
    body.extend_from_slice(if req.minor == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    for h in req.headers {
        let secret = ["authorization", "cookie", "proxy-authorization"]
            .iter()
            .any(|s| h.name.eq_ignore_ascii_case(s));
        if !secret {
            resp::header(&mut body, h.name.as_bytes(), h.value);
        }
    }
    body.extend_from_slice(b"\r\n");
    resp::start(w, 200);
    w.extend_from_slice(b"Content-Type: message/http\r\n");
    resp::content_length(w, body.len() as u64);
    resp::finish(w, finish(site, req, close));
    w.extend_from_slice(&body);
    done(200, body.len() as u64, close)
}

/// Is the client a browser submitting a form (it wants to be sent back to the page)?
pub fn wants_html(req: &Request<'_>) -> bool {
    req.accept
        .is_some_and(|a| has_token(a, b"text/html") || a.windows(9).any(|w| w == b"text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_rules() {
        assert!(accepts_encoding(Some(b"gzip, br"), b"br"));
        assert!(accepts_encoding(Some(b"GZIP;q=0.5"), b"gzip"));
        assert!(!accepts_encoding(Some(b"gzip;q=0"), b"gzip"));
        assert!(!accepts_encoding(Some(b"gzip;q=0.000"), b"gzip"));
        assert!(accepts_encoding(Some(b"*"), b"br"));
        assert!(!accepts_encoding(Some(b"*, br;q=0"), b"br"));
        assert!(!accepts_encoding(Some(b"*;q=0"), b"gzip"));
        assert!(!accepts_encoding(Some(b"deflate"), b"gzip"));
        assert!(!accepts_encoding(None, b"gzip"));
        assert!(!accepts_encoding(Some(b"x-gzip"), b"gzip"));
    }
}
