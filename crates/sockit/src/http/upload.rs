//! Writing into the served folder: PUT and DELETE (`--write`), and the temporary-file
//! machinery shared with form uploads ([`crate::http::form`]).
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
use crate::http::handler::{error, finish_late, Decision, Plan, Site};
use crate::http::message::{Framing, Request};
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
pub(crate) fn plan_decision(plan: Plan, keep_close: bool) -> Decision {
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

/// DELETE: removes a file or a symlink (never its target). Folders are refused with
/// 409: removing a tree over HTTP is one typo away from disaster.
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
    if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory {
        return error(site, req, w, 409, b"", close);
    }
    let info = files::FileInfo::from_stat(&st);
    let etag = info.map(|i| i.etag());
    let validators = info.map(|i| Validators {
        etag: etag.as_deref().unwrap_or("").as_bytes(),
        modified: i.modified_secs(),
    });
    if conditional::evaluate(req, validators, false) != conditional::Outcome::Proceed {
        return error(site, req, w, 412, b"", close);
    }
    let status = match rustix::fs::unlinkat(&dirfd, OsStr::from_bytes(name), AtFlags::empty()) {
        Ok(()) => 204,
        Err(rustix::io::Errno::NOENT) => 404,
        Err(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST) => 409,
        Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => 403,
        Err(_) => 500,
    };
    cache::invalidate_all();
    error(site, req, w, status, b"", close)
}

/// Opens folder `rel` inside the root as a directory descriptor.
pub(crate) fn open_dir(site: &Site, rel: &[u8]) -> Result<File, u16> {
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
pub(crate) struct Temp {
    dir: Arc<File>,
    name: Vec<u8>,
    committed: bool,
}

impl Temp {
    /// Creates `.NAME.sockit-XXXXXXXX.part` next to the target (`O_EXCL`, no symlink
    /// following), retrying on name clashes.
    pub(crate) fn create(dir: &Arc<File>, final_name: &[u8]) -> std::io::Result<(Temp, File)> {
        for attempt in 0..16u32 {
            // NAME_MAX is 255: keep room for the decoration on very long names.
            let mut name = b".".to_vec();
            name.extend_from_slice(&final_name[..final_name.len().min(200)]);
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

    /// Renames the finished file into place (replacing what was there, as PUT does) and
    /// makes the rename durable.
    pub(crate) fn commit(mut self, final_name: &[u8]) -> std::io::Result<()> {
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

    /// Renames the finished file into place without replacing anything: if `name` is
    /// taken, the first free `stem (1).ext`, `stem (2).ext`, ... is used, as browsers do
    /// for downloads. Returns the name the file got.
    ///
    /// The check and the rename are one atomic `renameat2(RENAME_NOREPLACE)`, so two
    /// uploads of the same name at once both survive.
    pub(crate) fn commit_new(mut self, name: &[u8]) -> std::io::Result<Vec<u8>> {
        for n in 0..MAX_RENAMES {
            let candidate = numbered_name(name, n);
            match rename_noreplace(&self.dir, &self.name, &candidate) {
                Ok(()) => {
                    self.committed = true;
                    let _ = rustix::fs::fsync(self.dir.as_fd());
                    return Ok(candidate);
                }
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(std::io::ErrorKind::AlreadyExists.into())
    }
}

/// How many `stem (N).ext` names an upload tries before giving up (500).
const MAX_RENAMES: u32 = 1000;

/// `report.pdf` with `n` = 2 gives `report (2).pdf`; `n` = 0 gives the name itself. A
/// leading dot does not start an extension (`.env` → `.env (1)`); the stem is shortened
/// so the result stays within NAME_MAX (255 bytes).
fn numbered_name(name: &[u8], n: u32) -> Vec<u8> {
    if n == 0 {
        return name.to_vec();
    }
    let dot = name
        .iter()
        .rposition(|&b| b == b'.')
        .filter(|&i| i > 0 && name.len() - i <= 32);
    let (stem, ext) = name.split_at(dot.unwrap_or(name.len()));
    let suffix = format!(" ({n})");
    let room = 255usize.saturating_sub(ext.len() + suffix.len());
    let mut stem = &stem[..stem.len().min(room)];
    // Do not cut a UTF-8 character in half.
    while let Some(cut) = std::str::from_utf8(stem).err().map(|e| e.valid_up_to()) {
        stem = &stem[..cut];
    }
    let mut out = stem.to_vec();
    out.extend_from_slice(suffix.as_bytes());
    out.extend_from_slice(ext);
    out
}

/// `renameat2(RENAME_NOREPLACE)`; where the file system lacks it (EINVAL), a hard link
/// (which never replaces either) and the removal of the old name.
fn rename_noreplace(dir: &File, from: &[u8], to: &[u8]) -> rustix::io::Result<()> {
    let (from, to) = (OsStr::from_bytes(from), OsStr::from_bytes(to));
    match rustix::fs::renameat_with(
        dir.as_fd(),
        from,
        dir.as_fd(),
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            rustix::fs::linkat(dir.as_fd(), from, dir.as_fd(), to, AtFlags::empty())?;
            let _ = rustix::fs::unlinkat(dir.as_fd(), from, AtFlags::empty());
            Ok(())
        }
        other => other,
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
pub(crate) enum Stop {
    /// Answer with this status and close.
    Status(u16),
    /// The client is gone: just drop the connection.
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

/// A file system error during an upload is the server's fault: 500.
pub(crate) fn io_status(_: std::io::Error) -> Stop {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_dir_and_name() {
        assert_eq!(split(b"a/b/c.txt"), (&b"a/b"[..], &b"c.txt"[..]));
        assert_eq!(split(b"c.txt"), (&b""[..], &b"c.txt"[..]));
    }

    #[test]
    fn numbered_names_keep_the_extension_and_fit_name_max() {
        let n = |name: &str, i| String::from_utf8(numbered_name(name.as_bytes(), i)).unwrap();
        assert_eq!(n("report.pdf", 0), "report.pdf");
        assert_eq!(n("report.pdf", 2), "report (2).pdf");
        assert_eq!(n("archive.tar.gz", 1), "archive.tar (1).gz");
        assert_eq!(n("README", 1), "README (1)");
        assert_eq!(n(".env", 1), ".env (1)");
        let long = format!("{}.txt", "é".repeat(126)); // 252 + 4 bytes
        let got = n(&long, 10);
        assert!(got.len() <= 255, "{} bytes", got.len());
        assert!(got.ends_with(" (10).txt"), "{got}");
    }
}
