//! Writing into the served folder: PUT, DELETE and multipart POST (`--write`).
//!
//! A file appears whole or not at all: the body goes to a hidden temporary file next to
//! the target (`.NAME.sockit-XXXX.part`), which is fsynced and renamed over the target
//! only once the body is complete. If the client disconnects, stalls or breaks the
//! framing, the temporary file is removed (also when the task is dropped at shutdown).
//! Every directory is opened with `RESOLVE_BENEATH` and every name created relative to
//! a directory descriptor, so a symlink can never redirect a write outside the root.
//! Missing parent folders of a PUT are created, inside the root only.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags};
use tokio::io::AsyncWriteExt;

use crate::http::body::BodyDecoder;
use crate::http::cache;
use crate::http::conditional::{self, Validators};
use crate::http::conn::{BodyReadError, Io};
use crate::http::files::{self, OpenError};
use crate::http::handler::{error, finish_late, wants_html, Decision, Plan, Site};
use crate::http::message::{Framing, Request};
use crate::http::multipart::{self, Event};
use crate::http::response as resp;

/// A PUT that passed every check and now needs its body.
#[derive(Debug)]
pub struct PutPlan {
    dir: Vec<u8>,
    name: Vec<u8>,
    existed: bool,
    framing: Framing,
    expect_continue: bool,
    location: Vec<u8>,
}

/// A multipart POST that passed every check and now needs its body.
#[derive(Debug)]
pub struct PostPlan {
    dir: Vec<u8>,
    boundary: Vec<u8>,
    framing: Framing,
    expect_continue: bool,
    location: Vec<u8>,
    html: bool,
}

fn split(rel: &[u8]) -> (&[u8], &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (b"", rel),
    }
}

fn status_of(e: &OpenError) -> u16 {
    match e {
        OpenError::NotFound => 404,
        OpenError::Forbidden => 403,
        OpenError::Io(_) => 500,
    }
}

/// Checks the framing and size of an upload body before anything is read: 411 without
/// a length or chunked coding, 413 when the declared length is over `--max-upload`.
fn check_body(site: &Site, req: &Request<'_>) -> Option<u16> {
    match req.framing {
        Framing::None => Some(411),
        Framing::Length(n) if n > site.config.max_upload => Some(413),
        _ => None,
    }
}

fn plan_decision(plan: Plan, keep_close: bool) -> Decision {
    Decision {
        plan,
        status: 0,
        bytes: 0,
        close: keep_close,
        consumes_body: true,
        log: None,
        http10: false,
    }
}

/// Validates a PUT (the body is read later by [`run_put`]).
pub fn plan_put(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    rel: &[u8],
    keep_close: bool,
    close: bool,
) -> Decision {
    // Refusals leave the body unread: close unless it is small enough to skip.
    if rel.is_empty()
        || req
            .target
            .split(|&b| b == b'?')
            .next()
            .is_some_and(|p| p.ends_with(b"/"))
    {
        return error(site, req, w, 409, b"", close);
    }
    if let Some(status) = check_body(site, req) {
        return error(site, req, w, status, b"", true);
    }
    let current = match files::open(&site.root, rel, site.config.follow_symlinks) {
        Ok((_, info)) if info.is_dir => return error(site, req, w, 409, b"", close),
        Ok((_, info)) => Some(info),
        Err(OpenError::NotFound) => None,
        Err(e) => return error(site, req, w, status_of(&e), b"", close),
    };
    let etag = current.map(|i| i.etag());
    let validators = current.map(|i| Validators {
        etag: etag.as_deref().unwrap_or("").as_bytes(),
        modified: i.modified_secs(),
    });
    if conditional::evaluate(req, validators, false) != conditional::Outcome::Proceed {
        return error(site, req, w, 412, b"", close);
    }
    let (dir, name) = split(rel);
    let location = req
        .target
        .split(|&b| b == b'?')
        .next()
        .unwrap_or(b"/")
        .to_vec();
    plan_decision(
        Plan::Put(PutPlan {
            dir: dir.to_vec(),
            name: name.to_vec(),
            existed: current.is_some(),
            framing: req.framing,
            expect_continue: req.expect_continue,
            location,
        }),
        keep_close,
    )
}

/// DELETE: removes a file, a symlink (never its target) or an empty folder.
pub fn delete(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    rel: &[u8],
    close: bool,
) -> Decision {
    if rel.is_empty() {
        return error(site, req, w, 403, b"", close);
    }
    let (dir, name) = split(rel);
    let dirfd = match open_dir(site, dir) {
        Ok(d) => d,
        Err(status) => return error(site, req, w, status, b"", close),
    };
    let st = match rustix::fs::statat(&dirfd, OsStr::from_bytes(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(_) => return error(site, req, w, 404, b"", close),
    };
    let is_dir = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory;
    let info = files::FileInfo::from_stat(&st);
    let etag = info.map(|i| i.etag());
    let validators = info.map(|i| Validators {
        etag: etag.as_deref().unwrap_or("").as_bytes(),
        modified: i.modified_secs(),
    });
    if conditional::evaluate(req, validators, false) != conditional::Outcome::Proceed {
        return error(site, req, w, 412, b"", close);
    }
    let flags = if is_dir {
        AtFlags::REMOVEDIR
    } else {
        AtFlags::empty()
    };
    let status = match rustix::fs::unlinkat(&dirfd, OsStr::from_bytes(name), flags) {
        Ok(()) => 204,
        Err(rustix::io::Errno::NOENT) => 404,
        Err(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST) => 409,
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => 403,
        Err(_) => 500,
    };
    cache::invalidate_all();
    error(site, req, w, status, b"", close)
}

/// Validates a multipart POST to a folder (the body is read later by [`run_post`]).
#[allow(clippy::too_many_arguments)]
pub fn plan_post(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    rel: &[u8],
    url_path: &[u8],
    keep_close: bool,
    close: bool,
) -> Decision {
    let Some(boundary) = req.content_type.and_then(multipart::boundary) else {
        return error(site, req, w, 415, b"", close);
    };
    if let Some(status) = check_body(site, req) {
        return error(site, req, w, status, b"", true);
    }
    // Into the folder the path names, or the folder containing the file it names.
    let (dir, mut location) = match files::open(&site.root, rel, site.config.follow_symlinks) {
        Ok((_, info)) if info.is_dir => {
            let mut l = url_path.to_vec();
            if !l.ends_with(b"/") {
                l.push(b'/');
            }
            (rel.to_vec(), l)
        }
        Ok(_) => {
            let l = url_path[..url_path
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |i| i + 1)]
                .to_vec();
            (split(rel).0.to_vec(), l)
        }
        Err(e) => return error(site, req, w, status_of(&e), b"", close),
    };
    if location.is_empty() {
        location.push(b'/');
    }
    plan_decision(
        Plan::Post(PostPlan {
            dir,
            boundary,
            framing: req.framing,
            expect_continue: req.expect_continue,
            location,
            html: wants_html(req),
        }),
        keep_close,
    )
}

/// Opens folder `rel` inside the root as a directory descriptor.
fn open_dir(site: &Site, rel: &[u8]) -> Result<File, u16> {
    match files::open(&site.root, rel, site.config.follow_symlinks) {
        Ok((f, i)) if i.is_dir => Ok(f),
        Ok(_) => Err(409),
        Err(e) => Err(status_of(&e)),
    }
}

/// Opens folder `rel`, creating missing components one by one, each relative to its
/// already-verified parent descriptor (mkdirat never follows a final symlink).
fn make_dirs(site: &Site, rel: &[u8]) -> Result<File, u16> {
    match open_dir(site, rel) {
        Err(404) => {}
        other => return other,
    }
    let (parent, name) = split(rel);
    let parent_fd = make_dirs(site, parent)?;
    if !site.config.hidden && name.first() == Some(&b'.') {
        return Err(404);
    }
    match rustix::fs::mkdirat(
        &parent_fd,
        OsStr::from_bytes(name),
        Mode::from_raw_mode(0o755),
    ) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => return Err(403),
        Err(_) => return Err(500),
    }
    open_dir(site, rel)
}

/// A temporary upload file that is removed unless [`Temp::commit`] renamed it.
struct Temp {
    dir: Arc<File>,
    name: Vec<u8>,
    committed: bool,
}

impl Temp {
    fn create(dir: &Arc<File>, final_name: &[u8]) -> std::io::Result<(Temp, File)> {
        for attempt in 0..16u32 {
            let mut name = b".".to_vec();
            name.extend_from_slice(final_name);
            name.extend_from_slice(
                format!(".sockit-{:08x}.part", random_u32() ^ attempt).as_bytes(),
            );
            match rustix::fs::openat(
                dir.as_fd(),
                OsStr::from_bytes(&name),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                Mode::from_raw_mode(0o644),
            ) {
                Ok(fd) => {
                    let t = Temp {
                        dir: dir.clone(),
                        name,
                        committed: false,
                    };
                    return Ok((t, File::from(fd)));
                }
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(std::io::ErrorKind::AlreadyExists.into())
    }

    /// Renames the finished file into place and makes the rename durable.
    fn commit(mut self, final_name: &[u8]) -> std::io::Result<()> {
        rustix::fs::renameat(
            self.dir.as_fd(),
            OsStr::from_bytes(&self.name),
            self.dir.as_fd(),
            OsStr::from_bytes(final_name),
        )?;
        self.committed = true;
        let _ = rustix::fs::fsync(self.dir.as_fd());
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.committed {
            let _ = rustix::fs::unlinkat(
                self.dir.as_fd(),
                OsStr::from_bytes(&self.name),
                AtFlags::empty(),
            );
        }
    }
}

fn random_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    t ^ std::process::id().rotate_left(16)
}

/// Why an upload stopped: a status to send (and close), or a client that is gone.
enum Stop {
    Status(u16),
    Gone,
}

impl From<BodyReadError> for Stop {
    fn from(e: BodyReadError) -> Self {
        match e {
            BodyReadError::Malformed => Stop::Status(400),
            BodyReadError::Io(_) => Stop::Gone,
        }
    }
}

fn io_status(_: std::io::Error) -> Stop {
    Stop::Status(500)
}

/// Reads a PUT body into a temporary file and renames it into place.
pub async fn run_put(
    site: &Arc<Site>,
    io: &mut Io,
    p: PutPlan,
    close: bool,
    http10: bool,
) -> Result<(u16, u64, bool), ()> {
    let result = put_body(site, io, &p).await;
    cache::invalidate_all();
    let (status, close) = match result {
        Ok(()) if p.existed => (204, close),
        Ok(()) => (201, close),
        Err(Stop::Status(s)) => (s, true),
        Err(Stop::Gone) => return Err(()),
    };
    let mut headers = Vec::new();
    if status == 201 {
        resp::header(&mut headers, b"Location", &p.location);
    }
    let bytes = resp::error(
        &mut io.wbuf,
        status,
        false,
        &headers,
        finish_late(site, http10, close),
    );
    Ok((status, bytes, close))
}

async fn put_body(site: &Arc<Site>, io: &mut Io, p: &PutPlan) -> Result<(), Stop> {
    let dir = Arc::new(make_dirs(site, &p.dir).map_err(Stop::Status)?);
    let (temp, file) = Temp::create(&dir, &p.name).map_err(io_status)?;
    let mut file = tokio::fs::File::from_std(file);
    if p.expect_continue {
        io.send_continue().await.map_err(|_| Stop::Gone)?;
    }
    let mut dec = BodyDecoder::new(p.framing);
    let mut total = 0u64;
    while let Some(chunk) = io.body_chunk(&mut dec).await? {
        total += chunk.len() as u64;
        if total > site.config.max_upload {
            return Err(Stop::Status(413));
        }
        file.write_all(chunk).await.map_err(io_status)?;
    }
    file.sync_all().await.map_err(io_status)?;
    drop(file);
    temp.commit(&p.name).map_err(io_status)
}

/// Checks an uploaded file name: the last path component only, not empty, not a dot
/// name (unless `--hidden`), no control characters.
pub fn sanitize_filename(name: &str, hidden: bool) -> Option<Vec<u8>> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." || base.len() > 255 {
        return None;
    }
    if base.starts_with('.') && !hidden {
        return None;
    }
    if base.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(base.as_bytes().to_vec())
}

/// Reads a multipart body, storing every file part; answers 303 to browsers (back to
/// the listing) and 201 with a JSON list of stored names to other clients.
pub async fn run_post(
    site: &Arc<Site>,
    io: &mut Io,
    p: PostPlan,
    close: bool,
    http10: bool,
) -> Result<(u16, u64, bool), ()> {
    let mut saved = Vec::new();
    let result = post_body(site, io, &p, &mut saved).await;
    cache::invalidate_all();
    let fin = |close| finish_late(site, http10, close);
    match result {
        Err(Stop::Gone) => Err(()),
        Err(Stop::Status(s)) => Ok((s, resp::error(&mut io.wbuf, s, false, b"", fin(true)), true)),
        Ok(()) if p.html => {
            let mut h = Vec::new();
            resp::header(&mut h, b"Location", &p.location);
            Ok((
                303,
                resp::error(&mut io.wbuf, 303, false, &h, fin(close)),
                close,
            ))
        }
        Ok(()) => {
            let names: Vec<String> = saved
                .iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            let mut body = serde_json::to_vec(&names).unwrap_or_default();
            body.push(b'\n');
            resp::start(&mut io.wbuf, 201);
            resp::header(&mut io.wbuf, b"Location", &p.location);
            io.wbuf
                .extend_from_slice(b"Content-Type: application/json\r\n");
            resp::content_length(&mut io.wbuf, body.len() as u64);
            resp::finish(&mut io.wbuf, fin(close));
            io.wbuf.extend_from_slice(&body);
            Ok((201, body.len() as u64, close))
        }
    }
}

async fn post_body(
    site: &Arc<Site>,
    io: &mut Io,
    p: &PostPlan,
    saved: &mut Vec<Vec<u8>>,
) -> Result<(), Stop> {
    let dir = Arc::new(open_dir(site, &p.dir).map_err(Stop::Status)?);
    if p.expect_continue {
        io.send_continue().await.map_err(|_| Stop::Gone)?;
    }
    let mut parser = multipart::Parser::new(&p.boundary);
    let mut dec = BodyDecoder::new(p.framing);
    let mut total = 0u64;
    let mut current: Option<(Temp, tokio::fs::File, Vec<u8>)> = None;
    loop {
        let more = match io.body_chunk(&mut dec).await? {
            Some(chunk) => {
                total += chunk.len() as u64;
                if total > site.config.max_upload {
                    return Err(Stop::Status(413));
                }
                parser.push(chunk);
                true
            }
            None => {
                parser.finish();
                false
            }
        };
        loop {
            let ev = match parser.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(_) => return Err(Stop::Status(400)),
            };
            match ev {
                Event::Part { filename, .. } => {
                    current = None;
                    let Some(filename) = filename.filter(|f| !f.is_empty()) else {
                        continue; // a plain form field, or no file chosen
                    };
                    let name = sanitize_filename(&filename, site.config.hidden)
                        .ok_or(Stop::Status(400))?;
                    let (temp, file) = Temp::create(&dir, &name).map_err(io_status)?;
                    current = Some((temp, tokio::fs::File::from_std(file), name));
                }
                Event::Data(d) => {
                    if let Some((_, file, _)) = current.as_mut() {
                        file.write_all(d).await.map_err(io_status)?;
                    }
                }
                Event::PartEnd => {
                    if let Some((temp, file, name)) = current.take() {
                        file.sync_all().await.map_err(io_status)?;
                        drop(file);
                        temp.commit(&name).map_err(io_status)?;
                        saved.push(name);
                    }
                }
                Event::End => {}
            }
        }
        if !more {
            break;
        }
    }
    if !parser.is_done() {
        return Err(Stop::Status(400));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_reduced_to_a_safe_base_name() {
        assert_eq!(sanitize_filename("a.txt", false).unwrap(), b"a.txt");
        assert_eq!(
            sanitize_filename("../../etc/passwd", false).unwrap(),
            b"passwd"
        );
        assert_eq!(
            sanitize_filename("C:\\Users\\x\\f.doc", false).unwrap(),
            b"f.doc"
        );
        assert!(sanitize_filename("..", false).is_none());
        assert!(sanitize_filename("dir/", false).is_none());
        assert!(sanitize_filename(".env", false).is_none());
        assert!(sanitize_filename(".env", true).is_some());
        assert!(sanitize_filename("a\nb", false).is_none());
        assert!(sanitize_filename("", false).is_none());
    }

    #[test]
    fn paths_split_into_dir_and_name() {
        assert_eq!(split(b"a/b/c.txt"), (&b"a/b"[..], &b"c.txt"[..]));
        assert_eq!(split(b"c.txt"), (&b""[..], &b"c.txt"[..]));
    }
}
