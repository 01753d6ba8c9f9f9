//! GET and HEAD of files and folders: representation choice, validators, ranges.
//!
//! Runs synchronously on the borrowed request: a cached small file is answered
//! completely (head and body) into the write buffer; big files, listings and gzip
//! streams become a [`Plan`] for the connection loop.

use std::fs::File;
use std::rc::Rc;

use super::listing::{ListingPlan, ListingQuery};
use super::path;
use super::route::accepts_encoding;
use super::store::cache::{self, Entry, Found, Kind, Repr};
use super::store::files::OpenError;
use super::{Decision, Site, Work, COMPRESS_MIN};
use crate::http::proto::conditional::{self, Validators};
use crate::http::proto::range::{self, ByteRange, RangeResult};
use crate::http::proto::request::{Method, Request};
use crate::http::proto::response as resp;
use crate::http::server::{Plan, RangePart};

/// What a GET/HEAD asks for, beyond the request head.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The decoded path ended with `/`.
    pub trailing_slash: bool,
    /// The target as sent (for redirects and listings).
    pub target: path::Target<'a>,
    /// Close the connection after the answer.
    pub close: bool,
    /// Resolve a cache miss here instead of deferring it to the blocking pool (the
    /// request was already deferred once).
    pub inline: bool,
}

/// GET/HEAD of a path: redirect folders without a slash, list folders without an
/// `index.html`, answer files from the cache (retrying once if a big file changed).
/// A cache miss is answered with [`Plan::Again`]: the engine resolves it off the event
/// loop and asks again.
pub fn get(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    ask: Ask<'_>,
) -> Decision<'static> {
    if ask.trailing_slash && !scratch.is_empty() {
        scratch.push(b'/');
    }
    let mut inline = ask.inline;
    for _ in 0..2 {
        if let Some(d) = get_once(site, req, w, scratch, ask, inline) {
            return d;
        }
        // A big file changed between the cache check and its open: nothing is rendered
        // yet, so look it up afresh (here: this is rare, and must not loop).
        cache::forget(scratch);
        cache::invalidate_all();
        inline = true;
    }
    site.error(req, w, 500, b"", ask.close)
}

/// One attempt; `None` when the cached metadata turned out stale.
fn get_once(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    scratch: &[u8],
    ask: Ask<'_>,
    inline: bool,
) -> Option<Decision<'static>> {
    let (target, close) = (ask.target, ask.close);
    let lookup =
        |key: &[u8], inline| cache::lookup(site.id, &site.root, site.cache_opts, key, inline);
    let entry = match lookup(scratch, inline) {
        Ok(Found::Entry(e)) => e,
        Ok(Found::Miss) => {
            return Some(Decision {
                plan: Plan::Again(Work::Resolve(scratch.to_vec())),
                status: 0,
                bytes: 0,
                close,
                consumes_body: false,
                user: None,
            })
        }
        Err(OpenError::NotFound) if site.config.spa => match lookup(b"", true) {
            Ok(Found::Entry(e)) if matches!(e.kind, Kind::File) => e,
            _ => return Some(site.error(req, w, 404, b"", close)),
        },
        Err(OpenError::NotFound) => return Some(site.error(req, w, 404, b"", close)),
        Err(OpenError::Forbidden) => return Some(site.error(req, w, 403, b"", close)),
        Err(OpenError::Io(_)) => return Some(site.error(req, w, 500, b"", close)),
    };
    Some(match entry.kind {
        Kind::DirRedirect => {
            let mut location = Vec::with_capacity(target.path.len() + 1);
            location.extend_from_slice(target.path);
            location.push(b'/');
            if let Some(q) = target.query {
                location.push(b'?');
                location.extend_from_slice(q);
            }
            let mut h = Vec::with_capacity(location.len() + 12);
            resp::header(&mut h, b"Location", &location);
            site.error(req, w, 301, &h, close)
        }
        Kind::DirListing => {
            let mut query = ListingQuery::parse(target.query);
            query.gzip = site.config.compress && accepts_encoding(req.accept_encoding, b"gzip");
            let json = query.json.unwrap_or_else(|| {
                req.accept.is_some_and(|a| {
                    let a = std::str::from_utf8(a).unwrap_or("");
                    a.contains("application/json") && !a.contains("text/html")
                })
            });
            Decision {
                plan: Plan::App(Work::Listing(ListingPlan {
                    rel: entry.main.rel.to_vec(),
                    url_path: target.path.to_vec(),
                    query,
                    json,
                    head_only: req.method == Method::Head,
                })),
                status: 200,
                bytes: 0,
                close,
                consumes_body: false,
                user: None,
            }
        }
        Kind::File => return serve_file(site, req, w, &entry, close),
    })
}

/// Which representation of a file answers a request.
enum Choice {
    /// The file itself.
    Identity,
    /// A stored encoded representation: a precompressed sibling or a cached gzip.
    Encoded(Rc<Repr>),
    /// A big text file gzipped on the fly with chunked coding (HTTP/1.1 only).
    GzipStream,
}

/// Picks the representation: a precompressed sibling, an on-the-fly gzip of a text
/// file, or the file itself.
fn choose(site: &Site, req: &Request<'_>, entry: &Rc<Entry>) -> Choice {
    let ae = req.accept_encoding;
    if ae.is_none() {
        return Choice::Identity;
    }
    // Precompressed siblings exist only when the owner made them; prefer Brotli.
    if let (Some(br), true) = (&entry.br, accepts_encoding(ae, b"br")) {
        return Choice::Encoded(br.clone());
    }
    if let (Some(gz), true) = (&entry.gz, accepts_encoding(ae, b"gzip")) {
        return Choice::Encoded(gz.clone());
    }
    if site.config.compress
        && entry.text
        && req.range.is_none()
        && entry.main.info.size >= COMPRESS_MIN
        && accepts_encoding(ae, b"gzip")
    {
        if entry.main.body.is_none() {
            return if req.minor == 1 {
                Choice::GzipStream
            } else {
                Choice::Identity
            };
        }
        let mut slot = entry.gzipped.borrow_mut();
        if slot.is_none() {
            *slot = super::compress::gzip_repr(entry).map(Rc::new);
        }
        return match &*slot {
            Some(r) => Choice::Encoded(r.clone()),
            None => Choice::Identity,
        };
    }
    Choice::Identity
}

/// Answers from a cached file entry; `None` if a big file no longer matches the cache.
fn serve_file(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    entry: &Rc<Entry>,
    close: bool,
) -> Option<Decision<'static>> {
    let chosen = match choose(site, req, entry) {
        Choice::Identity => None,
        Choice::Encoded(r) => Some(r),
        Choice::GzipStream => {
            let file = open_repr(site, &entry.main)?;
            return Some(gzip_stream(site, req, w, entry, file, close));
        }
    };
    let repr: &Repr = chosen.as_deref().unwrap_or(&entry.main);
    // Open big files before rendering anything, so a file that changed since it was
    // cached is noticed while we can still answer cleanly.
    let file = match repr.body {
        Some(_) => None,
        None if req.method == Method::Head => None,
        None => Some(open_repr(site, repr)?),
    };
    Some(serve_repr(site, req, w, entry, repr, file, close))
}

fn serve_repr(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    entry: &Entry,
    repr: &Repr,
    file: Option<File>,
    close: bool,
) -> Decision<'static> {
    let head_only = req.method == Method::Head;
    let validators = Validators {
        etag: &repr.etag,
        modified: repr.info.modified_secs(),
    };
    match conditional::evaluate(req.preconditions(), Some(validators), true) {
        conditional::Outcome::Proceed => {}
        conditional::Outcome::NotModified => {
            resp::start(w, 304);
            w.extend_from_slice(&repr.headers);
            resp::finish(w, site.finish(req, close));
            return Decision::done(304, 0, close);
        }
        conditional::Outcome::Failed => return site.error(req, w, 412, b"", close),
    }
    let size = repr.info.size;
    let ranges = match req.range {
        Some(r)
            if req
                .if_range
                .is_none_or(|ir| conditional::if_range_holds(ir, validators)) =>
        {
            range::evaluate(r, size)
        }
        _ => RangeResult::Full,
    };
    match ranges {
        RangeResult::Full => {
            resp::start(w, 200);
            w.extend_from_slice(&repr.headers);
            resp::content_length(w, size);
            resp::finish(w, site.finish(req, close));
            body(repr, file, w, 0, size, head_only, 200, close)
        }
        RangeResult::Unsatisfiable => {
            let mut h = Vec::with_capacity(48);
            h.extend_from_slice(b"Content-Range: bytes */");
            resp::push_u64(&mut h, size);
            h.extend_from_slice(b"\r\n");
            site.error(req, w, 416, &h, close)
        }
        RangeResult::Ranges(rs) if rs.len() == 1 => {
            let r = rs[0];
            resp::start(w, 206);
            w.extend_from_slice(&repr.headers);
            push_content_range(w, r, size);
            resp::content_length(w, r.len());
            resp::finish(w, site.finish(req, close));
            body(repr, file, w, r.start, r.len(), head_only, 206, close)
        }
        RangeResult::Ranges(rs) => multi_range(site, req, w, entry, repr, file, &rs, close),
    }
}

fn push_content_range(w: &mut Vec<u8>, r: ByteRange, size: u64) {
    w.extend_from_slice(b"Content-Range: bytes ");
    resp::push_u64(w, r.start);
    w.push(b'-');
    resp::push_u64(w, r.end);
    w.push(b'/');
    resp::push_u64(w, size);
    w.extend_from_slice(b"\r\n");
}

/// Appends the body from memory, or plans a `sendfile` of the already opened file.
#[allow(clippy::too_many_arguments)]
fn body(
    repr: &Repr,
    file: Option<File>,
    w: &mut Vec<u8>,
    offset: u64,
    len: u64,
    head_only: bool,
    status: u16,
    close: bool,
) -> Decision<'static> {
    if head_only {
        return Decision::done(status, 0, close);
    }
    match (&repr.body, file) {
        (Some(b), _) => {
            let start = offset as usize;
            w.extend_from_slice(&b[start..start + len as usize]);
            Decision::done(status, len, close)
        }
        (None, Some(file)) => Decision {
            plan: Plan::File { file, offset, len },
            status,
            bytes: len,
            close,
            consumes_body: false,
            user: None,
        },
        // Not reachable (big files are opened before rendering); end the connection
        // rather than send a head without its body.
        (None, None) => Decision::done(500, 0, true),
    }
}

/// Opens a big representation and checks it is still the one the head describes.
fn open_repr(site: &Site, repr: &Repr) -> Option<File> {
    let (file, info) =
        super::store::files::open(&site.root, &repr.rel, site.config.follow_symlinks).ok()?;
    (info == repr.info).then_some(file)
}

#[allow(clippy::too_many_arguments)]
fn multi_range(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    entry: &Entry,
    repr: &Repr,
    file: Option<File>,
    rs: &[ByteRange],
    close: bool,
) -> Decision<'static> {
    let boundary = format!("sockit-{:016x}", boundary_seed());
    let mut parts = Vec::with_capacity(rs.len());
    let mut total = 0u64;
    for (i, r) in rs.iter().enumerate() {
        let mut h = Vec::with_capacity(128);
        if i > 0 {
            h.extend_from_slice(b"\r\n");
        }
        h.extend_from_slice(b"--");
        h.extend_from_slice(boundary.as_bytes());
        h.extend_from_slice(b"\r\nContent-Type: ");
        h.extend_from_slice(entry.content_type.as_bytes());
        h.extend_from_slice(b"\r\n");
        push_content_range(&mut h, *r, repr.info.size);
        h.extend_from_slice(b"\r\n");
        total += h.len() as u64 + r.len();
        parts.push(RangePart {
            head: h,
            offset: r.start,
            len: r.len(),
        });
    }
    let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
    total += tail.len() as u64;
    resp::start(w, 206);
    // The representation headers minus its Content-Type, which now describes the parts.
    for line in repr.headers.split(|&b| b == b'\n') {
        if !line.is_empty() && !line.starts_with(b"Content-Type:") {
            w.extend_from_slice(line);
            w.push(b'\n');
        }
    }
    w.extend_from_slice(b"Content-Type: multipart/byteranges; boundary=");
    w.extend_from_slice(boundary.as_bytes());
    w.extend_from_slice(b"\r\n");
    resp::content_length(w, total);
    resp::finish(w, site.finish(req, close));
    if req.method == Method::Head {
        return Decision::done(206, 0, close);
    }
    if let Some(b) = &repr.body {
        for p in &parts {
            w.extend_from_slice(&p.head);
            w.extend_from_slice(&b[p.offset as usize..(p.offset + p.len) as usize]);
        }
        w.extend_from_slice(&tail);
        return Decision::done(206, total, close);
    }
    match file {
        Some(file) => Decision {
            plan: Plan::Ranges { file, parts, tail },
            status: 206,
            bytes: total,
            close,
            consumes_body: false,
            user: None,
        },
        None => Decision::done(500, 0, true), // not reachable: big files are opened first
    }
}

fn boundary_seed() -> u64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0) });
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
                | 1;
        }
        // xorshift64: unpredictable enough that a file will not contain the boundary.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

fn gzip_stream(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    entry: &Entry,
    file: File,
    close: bool,
) -> Decision<'static> {
    let etag = {
        let e = &entry.main.etag;
        let mut t = e[..e.len().saturating_sub(1)].to_vec();
        t.extend_from_slice(b"-gz\"");
        t
    };
    let validators = Validators {
        etag: &etag,
        modified: entry.main.info.modified_secs(),
    };
    let headers = cache::render_headers(
        &entry.content_type,
        entry.main.info.modified_secs(),
        std::str::from_utf8(&etag).unwrap_or("\"\""),
        "gzip",
        true,
        false,
    );
    match conditional::evaluate(req.preconditions(), Some(validators), true) {
        conditional::Outcome::Proceed => {}
        conditional::Outcome::NotModified => {
            resp::start(w, 304);
            w.extend_from_slice(&headers);
            resp::finish(w, site.finish(req, close));
            return Decision::done(304, 0, close);
        }
        conditional::Outcome::Failed => return site.error(req, w, 412, b"", close),
    }
    resp::start(w, 200);
    // No Accept-Ranges: byte ranges of a stream compressed on the fly are not offered.
    w.extend_from_slice(&headers);
    w.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    resp::finish(w, site.finish(req, close));
    if req.method == Method::Head {
        return Decision::done(200, 0, close);
    }
    Decision {
        plan: Plan::App(Work::Gzip(file)),
        status: 200,
        bytes: 0,
        close,
        consumes_body: false,
        user: None,
    }
}
