//! Writing into the served folder: PUT and DELETE (`--write`), and what form uploads
//! ([`super::form`]) share with them.
//!
//! A file appears whole or not at all: the body goes to a temporary file next to the
//! target ([`super::store::parts`]), which is fsynced and renamed over the target only once
//! the body is complete. Every folder written to is opened with `RESOLVE_BENEATH` and
//! `RESOLVE_NO_SYMLINKS`, and every name created relative to a folder descriptor, so a
//! symlink can never redirect a write, inside the root or out of it. Missing parent
//! folders of a PUT are created, inside the root only.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode};
use tokio::io::AsyncWriteExt;

use super::store::cache;
use super::store::files::{self, OpenError};
use super::store::parts::Temp;
use super::{Decision, Site, Work};
use crate::http::proto::conditional::{self, Validators};
use crate::http::proto::request::{Framing, Request};
use crate::http::proto::response as resp;
use crate::http::proto::BodyDecoder;
use crate::http::server::{BodyReadError, Gone, Io, Plan, Reply, Sent};

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

/// Splits a normalized path into (folder, last component).
pub(crate) fn split(rel: &[u8]) -> (&[u8], &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (b"", rel),
    }
}

/// The status for a failed open.
pub(crate) fn status_of(e: &OpenError) -> u16 {
    match e {
        OpenError::NotFound => 404,
        OpenError::Forbidden => 403,
        OpenError::Io(_) => 500,
    }
}

/// Checks the framing and size of an upload body before anything is read: 411 without
/// a length or chunked coding, 413 when the declared length is over `--max-upload`.
pub(crate) fn check_body(site: &Site, req: &Request<'_>) -> Option<u16> {
    match req.framing {
        Framing::None => Some(411),
        Framing::Length(n) if n > site.config.max_upload => Some(413),
        _ => None,
    }
}

/// A decision that hands the request body to an upload plan.
pub(crate) fn plan_decision(work: Work, keep_close: bool) -> Decision<'static> {
    Decision {
        plan: Plan::App(work),
        status: 0,
        bytes: 0,
        close: keep_close,
        consumes_body: true,
        user: None,
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
) -> Decision<'static> {
    // Refusals leave the body unread: close unless it is small enough to skip.
    if rel.is_empty()
        || req
            .target
            .split(|&b| b == b'?')
            .next()
            .is_some_and(|p| p.ends_with(b"/"))
    {
        return site.error(req, w, 409, b"", close);
    }
    if let Some(status) = check_body(site, req) {
        return site.error(req, w, status, b"", true);
    }
    let current = match files::open(&site.root, rel, site.config.follow_symlinks) {
        Ok((_, info)) if info.is_dir => return site.error(req, w, 409, b"", close),
        Ok((_, info)) => Some(info),
        Err(OpenError::NotFound) => None,
        Err(e) => return site.error(req, w, status_of(&e), b"", close),
    };
    let etag = current.map(|i| i.etag());
    let validators = current.map(|i| Validators {
        etag: etag.as_deref().unwrap_or("").as_bytes(),
        modified: i.modified_secs(),
    });
    if conditional::evaluate(req.preconditions(), validators, false)
        != conditional::Outcome::Proceed
    {
        return site.error(req, w, 412, b"", close);
    }
    let (dir, name) = split(rel);
    let location = req
        .target
        .split(|&b| b == b'?')
        .next()
        .unwrap_or(b"/")
        .to_vec();
    plan_decision(
        Work::Put(PutPlan {
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

/// DELETE: removes a file or a symlink (never its target). Folders are refused with
/// 409: removing a tree over HTTP is one typo away from disaster.
pub fn delete(
    site: &Site,
    req: &Request<'_>,
    w: &mut Vec<u8>,
    rel: &[u8],
    close: bool,
) -> Decision<'static> {
    if rel.is_empty() {
        return site.error(req, w, 403, b"", close);
    }
    let (dir, name) = split(rel);
    let dirfd = match open_dir(site, dir) {
        Ok(d) => d,
        Err(status) => return site.error(req, w, status, b"", close),
    };
    let st = match rustix::fs::statat(&dirfd, OsStr::from_bytes(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(_) => return site.error(req, w, 404, b"", close),
    };
    if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory {
        return site.error(req, w, 409, b"", close);
    }
    let info = files::FileInfo::from_stat(&st);
    let etag = info.map(|i| i.etag());
    let validators = info.map(|i| Validators {
        etag: etag.as_deref().unwrap_or("").as_bytes(),
        modified: i.modified_secs(),
    });
    if conditional::evaluate(req.preconditions(), validators, false)
        != conditional::Outcome::Proceed
    {
        return site.error(req, w, 412, b"", close);
    }
    let status = match rustix::fs::unlinkat(&dirfd, OsStr::from_bytes(name), AtFlags::empty()) {
        Ok(()) => 204,
        Err(rustix::io::Errno::NOENT) => 404,
        Err(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST) => 409,
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => 403,
        Err(_) => 500,
    };
    cache::invalidate_all();
    site.error(req, w, status, b"", close)
}

/// Opens folder `rel` inside the root as a directory descriptor to write in: no
/// symlink anywhere on the way (403), whatever `--follow-symlinks` says for reading.
pub(crate) fn open_dir(site: &Site, rel: &[u8]) -> Result<File, u16> {
    match files::open_for_writing(&site.root, rel) {
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

/// Why an upload stopped: a status to send (and close), or a client that is gone.
pub(crate) enum Stop {
    /// Answer with this status and close.
    Status(u16),
    /// The client is gone after sending this many body bytes: drop the connection.
    Gone(u64),
}

impl Stop {
    /// The body could not be read: 400 for a broken framing, gone otherwise.
    pub(crate) fn reading(e: BodyReadError, received: u64) -> Stop {
        match e {
            BodyReadError::Malformed => Stop::Status(400),
            BodyReadError::Gone => Stop::Gone(received),
        }
    }
}

/// A file system error during an upload is the server's fault: 500.
pub(crate) fn io_status(_: std::io::Error) -> Stop {
    Stop::Status(500)
}

/// Reads a PUT body into a temporary file and renames it into place.
pub async fn run_put(
    site: &Arc<Site>,
    io: &mut Io,
    p: PutPlan,
    reply: Reply,
) -> Result<Sent, Gone> {
    let result = put_body(site, io, &p).await;
    cache::invalidate_all();
    let (status, close) = match result {
        Ok(()) if p.existed => (204, reply.close),
        Ok(()) => (201, reply.close),
        Err(Stop::Status(s)) => (s, true),
        Err(Stop::Gone(received)) => return Err(Gone { received }),
    };
    let mut headers = Vec::new();
    if status == 201 {
        resp::header(&mut headers, b"Location", &p.location);
    }
    let fin = site.finish_late(reply, close);
    let bytes = resp::error(io.out(), status, false, &headers, fin);
    Ok(Sent {
        status,
        bytes,
        close,
    })
}

async fn put_body(site: &Arc<Site>, io: &mut Io, p: &PutPlan) -> Result<(), Stop> {
    let dir = Arc::new(make_dirs(site, &p.dir).map_err(Stop::Status)?);
    let (temp, file) = Temp::create(&site.parts, &dir, &p.name).map_err(io_status)?;
    let mut file = tokio::fs::File::from_std(file);
    if p.expect_continue {
        io.send_continue().await.map_err(|_| Stop::Gone(0))?;
    }
    let mut dec = BodyDecoder::new(p.framing);
    let mut total = 0u64;
    loop {
        let chunk = match io.body_chunk(&mut dec).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(Stop::reading(e, total)),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_dir_and_name() {
        assert_eq!(split(b"a/b/c.txt"), (&b"a/b"[..], &b"c.txt"[..]));
        assert_eq!(split(b"c.txt"), (&b""[..], &b"c.txt"[..]));
    }
}
