//! From a parsed request to a response: method rules, authentication, CORS, then
//! static files.
//!
//! Everything here is synchronous and runs while the request head is still borrowed
//! from the read buffer. Small answers (cached files, errors, redirects, 304s) are
//! rendered completely into the write buffer; anything that needs to wait on I/O
//! (big files, uploads, listings) is returned as a [`Plan`] with owned data, which the
//! connection loop then carries out.

use subtle::ConstantTimeEq;

use super::path::{self, PathError};
use super::{Decision, Site};
use crate::http::proto::fields::{has_token, trim};
use crate::http::proto::request::{Framing, Method, Request};
use crate::http::proto::response as resp;
use crate::http::server::{Ctx, DISCARD_MAX};

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
pub fn handle<'s>(
    site: &'s Site,
    req: &Request<'_>,
    ctx: Ctx,
    w: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Decision<'s> {
    let mut user = None;
    let mut d = route(site, req, ctx, w, scratch, &mut user);
    d.user = user;
    d
}

/// Applies the method rules and dispatches; `user` receives the authenticated user.
fn route<'s>(
    site: &'s Site,
    req: &Request<'_>,
    ctx: Ctx,
    w: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    user_out: &mut Option<&'s str>,
) -> Decision<'s> {
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
        return site.error(req, w, 501, b"", close);
    }
    if req.target == b"*" {
        if req.method != Method::Options {
            return site.error(req, w, 400, b"", true);
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
            return site.error(
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
        return site.error(req, w, 405, &site.allow, close);
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
        Err(_) => return site.error(req, w, 400, b"", true),
    };
    let normalized = match path::normalize(target.path, cfg.hidden, scratch) {
        Ok(n) => n,
        Err(PathError::BadRequest) => return site.error(req, w, 400, b"", true),
        Err(PathError::Hidden) => return site.error(req, w, 404, b"", close),
    };
    match req.method {
        Method::Get | Method::Head => super::get::get(
            site,
            req,
            w,
            scratch,
            super::get::Ask {
                trailing_slash: normalized.trailing_slash,
                target,
                close,
                inline: ctx.again,
            },
        ),
        Method::Put => super::upload::plan_put(site, req, w, scratch, keep_close, close),
        Method::Delete => super::upload::delete(site, req, w, scratch, close),
        Method::Post => {
            super::form::plan_post(site, req, w, scratch, target.path, keep_close, close)
        }
        _ => site.error(req, w, 405, &site.allow, close),
    }
}

fn options(site: &Site, req: &Request<'_>, w: &mut Vec<u8>, close: bool) -> Decision<'static> {
    resp::start(w, 200);
    w.extend_from_slice(&site.allow);
    w.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n");
    resp::finish(w, site.finish(req, close));
    Decision::done(200, 0, close)
}

fn cors_preflight(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    close: bool,
) -> Decision<'static> {
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
    resp::finish(w, site.finish(req, close));
    Decision::done(204, 0, close)
}

/// TRACE: echo the request head as `message/http`, minus credentials (RFC 9110 §9.3.8
/// asks servers to drop fields likely to carry secrets).
fn trace(site: &Site, req: &Request<'_>, w: &mut Vec<u8>, close: bool) -> Decision<'static> {
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
    resp::finish(w, site.finish(req, close));
    w.extend_from_slice(&body);
    Decision::done(200, body.len() as u64, close)
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
