//! Resolving a request path to what is served: the file or folder, a folder's
//! `index.html`, a file's precompressed siblings, small files read whole, headers
//! rendered once. Blocking work, done on the blocking pool (see
//! [`super::cache::lookup`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;

use super::cache::{Entry, Error, Kind, Opts, Repr, SMALL_FILE};
use super::files::{self, FileInfo, OpenError, Root};

/// What a path resolved to, built off the event loop (so: `Send`, no `Rc`).
#[derive(Debug)]
pub struct Resolved {
    pub(super) kind: Kind,
    pub(super) main: Repr,
    pub(super) br: Option<Repr>,
    pub(super) gz: Option<Repr>,
    pub(super) text: bool,
    pub(super) content_type: Box<str>,
}

impl From<Resolved> for Entry {
    fn from(r: Resolved) -> Entry {
        Entry {
            kind: r.kind,
            main: r.main,
            br: r.br.map(Rc::new),
            gz: r.gz.map(Rc::new),
            text: r.text,
            content_type: r.content_type,
            gzipped: RefCell::new(None),
            watched: Cell::new(false),
            checked_ms: Cell::new(0),
            generation: Cell::new(0),
        }
    }
}

/// Opens `rel` for serving; a dot-name reached through a symlink is hidden like the
/// dot-name itself (404), unless `--hidden`.
fn open_visible(root: &Root, opts: Opts, rel: &[u8]) -> Result<(std::fs::File, FileInfo), Error> {
    let (file, info) = files::open(root, rel, opts.follow_symlinks)?;
    if !opts.hidden && files::resolves_hidden(root, &file) {
        return Err(OpenError::NotFound);
    }
    Ok((file, info))
}

/// Resolves `key`: opens the path (and a folder's `index.html`, a file's precompressed
/// siblings), reads small files. Blocking: meant for the blocking pool.
pub fn resolve(root: &Root, opts: Opts, key: &[u8]) -> Result<Resolved, Error> {
    let (rel, slash) = match key.strip_suffix(b"/") {
        Some(rel) => (rel, true),
        None => (key, key.is_empty()),
    };
    let (file, info) = open_visible(root, opts, rel)?;
    if info.is_dir {
        let dir_entry = |kind| Resolved {
            kind,
            main: Repr {
                rel: rel.into(),
                info,
                etag: Box::default(),
                headers: Box::default(),
                body: None,
            },
            br: None,
            gz: None,
            text: true,
            content_type: "text/html; charset=utf-8".into(),
        };
        if !slash {
            return Ok(dir_entry(Kind::DirRedirect));
        }
        drop(file);
        let mut index = rel.to_vec();
        if !index.is_empty() {
            index.push(b'/');
        }
        index.extend_from_slice(b"index.html");
        return match open_visible(root, opts, &index) {
            Ok((f, i)) if !i.is_dir => file_entry(root, opts, index, f, i),
            Ok(_) | Err(OpenError::NotFound) => Ok(dir_entry(Kind::DirListing)),
            Err(e) => Err(e),
        };
    }
    if slash {
        return Err(OpenError::NotFound); // "/file.txt/" is not a folder
    }
    file_entry(root, opts, rel.to_vec(), file, info)
}

fn file_entry(
    root: &Root,
    opts: Opts,
    rel: Vec<u8>,
    file: std::fs::File,
    info: FileInfo,
) -> Result<Resolved, Error> {
    let content_type = files::content_type(&rel);
    let text = files::is_text(&content_type);
    let lower_ends =
        |s: &[u8]| rel.len() >= s.len() && rel[rel.len() - s.len()..].eq_ignore_ascii_case(s);
    let sibling = |suffix: &[u8], encoding: &'static str| -> Option<Repr> {
        if lower_ends(b".gz") || lower_ends(b".br") {
            return None;
        }
        let mut srel = rel.clone();
        srel.extend_from_slice(suffix);
        let (f, i) = open_visible(root, opts, &srel).ok()?;
        if i.is_dir {
            return None;
        }
        repr(srel, f, i, &content_type, encoding, true).ok()
    };
    let br = sibling(b".br", "br");
    let gz = sibling(b".gz", "gzip");
    let varies = br.is_some() || gz.is_some() || (opts.compress && text);
    let main = repr(rel, file, info, &content_type, "", varies).map_err(OpenError::Io)?;
    Ok(Resolved {
        kind: Kind::File,
        main,
        br,
        gz,
        text,
        content_type: content_type.into(),
    })
}

/// Builds a representation: pre-renders its headers and reads it if it is small.
pub fn repr(
    rel: Vec<u8>,
    file: std::fs::File,
    info: FileInfo,
    content_type: &str,
    encoding: &'static str,
    varies: bool,
) -> std::io::Result<Repr> {
    let body = if info.size <= SMALL_FILE {
        Some(Bytes::from(files::read_all(&file, info.size)?))
    } else {
        None
    };
    // The file may have changed size between fstat and read; trust what we read.
    let info = match &body {
        Some(b) => FileInfo {
            size: b.len() as u64,
            ..info
        },
        None => info,
    };
    let etag = info.etag();
    let headers = render_headers(
        content_type,
        info.modified_secs(),
        &etag,
        encoding,
        varies,
        true,
    );
    Ok(Repr {
        rel: rel.into(),
        info,
        etag: etag.into_bytes().into(),
        headers,
        body,
    })
}

/// The representation headers shared by 200, 206 and 304 answers. `ranges`: byte
/// ranges of this representation can be served (not for gzip made on the fly, which
/// only exists for whole-body requests).
pub fn render_headers(
    content_type: &str,
    modified: u64,
    etag: &str,
    encoding: &str,
    varies: bool,
    ranges: bool,
) -> Box<[u8]> {
    let mut h = String::with_capacity(200);
    h.push_str("Content-Type: ");
    h.push_str(content_type);
    h.push_str("\r\nLast-Modified: ");
    h.push_str(&crate::http::proto::date::http_date(modified));
    h.push_str("\r\nETag: ");
    h.push_str(etag);
    h.push_str("\r\n");
    if ranges {
        h.push_str("Accept-Ranges: bytes\r\n");
    }
    if !encoding.is_empty() {
        h.push_str("Content-Encoding: ");
        h.push_str(encoding);
        h.push_str("\r\n");
    }
    if varies {
        h.push_str("Vary: Accept-Encoding\r\n");
    }
    h.into_bytes().into()
}
