//! Opening files under the served folder without ever leaving it.
//!
//! [`super::super::path`] already refused `..` and friends, so only symlinks can still
//! lead out. On Linux ≥ 5.6 `openat2(RESOLVE_BENEATH)` makes the kernel refuse any
//! resolution that leaves the root directory fd, atomically (no check-then-open race).
//! Absolute symlinks that point back inside, and kernels without `openat2`, fall back to
//! `canonicalize` + prefix check against the canonical root.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

/// Why a path could not be opened for serving.
#[derive(Debug)]
pub enum OpenError {
    /// Does not exist (404).
    NotFound,
    /// Exists but may not be served: escapes the root, not a regular file or folder,
    /// or no permission (403).
    Forbidden,
    /// Anything else (500).
    Io(std::io::Error),
}

/// The metadata we serve from and validate caches with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Nanosecond part of the modification time.
    pub mtime_nsec: i64,
    /// Inode number: a replaced file (new inode) gets a new ETag even with same size/time.
    pub ino: u64,
    /// Device number, so identical inode numbers on two file systems are told apart.
    pub dev: u64,
    /// A folder rather than a regular file.
    pub is_dir: bool,
}

impl FileInfo {
    /// Builds the info from a `stat` result; `None` for FIFOs, devices, sockets.
    pub fn from_stat(st: &rustix::fs::Stat) -> Option<FileInfo> {
        let ft = FileType::from_raw_mode(st.st_mode);
        let is_dir = match ft {
            FileType::Directory => true,
            FileType::RegularFile => false,
            _ => return None,
        };
        Some(FileInfo {
            size: st.st_size.max(0) as u64,
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec as i64,
            ino: st.st_ino,
            dev: st.st_dev,
            is_dir,
        })
    }

    /// Last-Modified in whole seconds (HTTP dates have no sub-second part).
    pub fn modified_secs(&self) -> u64 {
        self.mtime.max(0) as u64
    }

    /// A strong entity tag from inode, size and mtime in nanoseconds: it changes whenever
    /// the bytes could have changed, and costs no hashing of the content.
    pub fn etag(&self) -> String {
        let ns = (self.mtime as i128) * 1_000_000_000 + self.mtime_nsec as i128;
        format!("\"{:x}-{:x}-{:x}\"", self.ino, self.size, ns)
    }
}

/// The served folder: its canonical path and an `O_PATH` descriptor to resolve beneath.
#[derive(Debug)]
pub struct Root {
    /// Canonical absolute path of the folder.
    pub path: PathBuf,
    /// Descriptor every lookup is relative to.
    pub fd: OwnedFd,
}

impl Root {
    /// Opens the folder to serve.
    pub fn open(path: &Path) -> std::io::Result<Root> {
        let canonical = std::fs::canonicalize(path)?;
        let fd = rustix::fs::open(
            &canonical,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Root {
            path: canonical,
            fd,
        })
    }
}

fn rel_or_dot(rel: &[u8]) -> &std::ffi::OsStr {
    if rel.is_empty() {
        std::ffi::OsStr::new(".")
    } else {
        std::ffi::OsStr::from_bytes(rel)
    }
}

fn classify(err: rustix::io::Errno) -> OpenError {
    use rustix::io::Errno;
    match err {
        Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => OpenError::NotFound,
        Errno::ACCESS | Errno::PERM | Errno::XDEV | Errno::LOOP | Errno::NXIO => {
            OpenError::Forbidden
        }
        e => OpenError::Io(e.into()),
    }
}

/// Opens `rel` (normalized, relative to the root) read-only.
///
/// `O_NONBLOCK` keeps a FIFO planted in the folder from hanging the worker on open;
/// such files are refused right after by the file-type check.
pub fn open(root: &Root, rel: &[u8], follow_symlinks: bool) -> Result<(File, FileInfo), OpenError> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let path = rel_or_dot(rel);
    let fd = if follow_symlinks {
        rustix::fs::openat(&root.fd, path, flags, Mode::empty()).map_err(classify)?
    } else {
        match rustix::fs::openat2(
            &root.fd,
            path,
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::XDEV | rustix::io::Errno::NOSYS) => {
                open_checked(root, path, flags)?
            }
            Err(e) => return Err(classify(e)),
        }
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| OpenError::Io(e.into()))?;
    let info = FileInfo::from_stat(&st).ok_or(OpenError::Forbidden)?;
    Ok((File::from(fd), info))
}

/// Opens folder `rel` to create or remove names in it: beneath the root and through no
/// symlink at all (`RESOLVE_NO_SYMLINKS`), so an upload never lands where a link points,
/// even inside the root. A symlink on the way is [`OpenError::Forbidden`].
pub fn open_for_writing(root: &Root, rel: &[u8]) -> Result<(File, FileInfo), OpenError> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOFOLLOW;
    let fd = match rustix::fs::openat2(
        &root.fd,
        rel_or_dot(rel),
        flags,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOSYS) => open_components(root, rel, flags)?,
        Err(e) => return Err(classify(e)),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| OpenError::Io(e.into()))?;
    let info = FileInfo::from_stat(&st).ok_or(OpenError::Forbidden)?;
    Ok((File::from(fd), info))
}

/// Old kernels without `openat2`: one `openat(O_NOFOLLOW)` per component.
fn open_components(root: &Root, rel: &[u8], flags: OFlags) -> Result<OwnedFd, OpenError> {
    let mut fd = rustix::fs::openat(&root.fd, ".", flags, Mode::empty()).map_err(classify)?;
    for seg in rel.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
        fd = rustix::fs::openat(&fd, std::ffi::OsStr::from_bytes(seg), flags, Mode::empty())
            .map_err(classify)?;
    }
    Ok(fd)
}

/// Does the file behind `file` (opened from `rel`) have a dot-name anywhere below the
/// root once symlinks are resolved? A link `config.txt -> .env` must not serve `.env`
/// while `/.env` itself is hidden. Costs one `readlink` of `/proc/self/fd`, and only
/// when `rel` is not already the resolved path.
pub fn resolves_hidden(root: &Root, file: &File) -> bool {
    use std::os::fd::AsRawFd;
    let link = format!("/proc/self/fd/{}", file.as_raw_fd());
    let Ok(real) = std::fs::read_link(link) else {
        return false;
    };
    let below = real.strip_prefix(&root.path).unwrap_or(&real);
    let hidden = |c: std::path::Component<'_>| c.as_os_str().as_bytes().first() == Some(&b'.');
    match real.strip_prefix(&root.path) {
        Ok(_) => below.components().any(hidden),
        // Outside the root (--follow-symlinks): only the name itself is ours to judge.
        Err(_) => real
            .file_name()
            .is_some_and(|n| n.as_bytes().first() == Some(&b'.')),
    }
}

/// The portable fallback: resolve every symlink and require the result to stay under
/// the canonical root. Slower (one syscall per component) but used only for absolute
/// symlinks and old kernels.
fn open_checked(root: &Root, rel: &std::ffi::OsStr, flags: OFlags) -> Result<OwnedFd, OpenError> {
    let full = root.path.join(rel);
    let canonical = std::fs::canonicalize(&full).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => OpenError::NotFound,
        std::io::ErrorKind::PermissionDenied => OpenError::Forbidden,
        _ => match e.raw_os_error() {
            Some(libc::ENOTDIR) => OpenError::NotFound,
            Some(libc::ELOOP) => OpenError::Forbidden,
            _ => OpenError::Io(e),
        },
    })?;
    if !canonical.starts_with(&root.path) {
        return Err(OpenError::Forbidden);
    }
    rustix::fs::open(&canonical, flags, Mode::empty()).map_err(classify)
}

/// `stat` of `rel` for cache revalidation (follows symlinks; an escape shows up as a
/// different inode and forces a full, checked re-open).
pub fn stat(root: &Root, rel: &[u8]) -> Option<FileInfo> {
    let st = rustix::fs::statat(&root.fd, rel_or_dot(rel), rustix::fs::AtFlags::empty()).ok()?;
    FileInfo::from_stat(&st)
}

/// Reads a whole (small) file from an open descriptor.
pub fn read_all(file: &File, size: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; size as usize];
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], done as u64) {
            Ok(0) => break, // shrank under us: serve what is there
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

/// The `Content-Type` for a file name, with `charset=utf-8` on text types so browsers
/// do not guess an encoding.
pub fn content_type(rel: &[u8]) -> String {
    let name = rel.rsplit(|&b| b == b'/').next().unwrap_or(rel);
    let ext = match name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => &name[dot + 1..],
        _ => b"",
    };
    let ext = std::str::from_utf8(ext).unwrap_or("");
    let mime = mime_guess::from_ext(ext)
        .first_raw()
        .unwrap_or("application/octet-stream");
    if is_text(mime) {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// Text-like types: they get a charset and are worth compressing.
pub fn is_text(mime: &str) -> bool {
    let mime = mime.split(';').next().unwrap_or(mime).trim();
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "application/xhtml+xml"
                | "application/manifest+json"
                | "image/svg+xml"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(b"a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type(b"x.css"), "text/css; charset=utf-8");
        assert_eq!(content_type(b"x.png"), "image/png");
        assert_eq!(content_type(b"noext"), "application/octet-stream");
        assert_eq!(content_type(b".bashrc"), "application/octet-stream");
        assert!(content_type(b"x.json").starts_with("application/json"));
    }

    #[test]
    fn symlinks_cannot_escape_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inside.txt"), b"hello").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        symlink(outside.path().join("secret"), dir.path().join("abs_out")).unwrap();
        symlink("../inside.txt", dir.path().join("sub/rel_in")).unwrap();
        symlink(dir.path().join("inside.txt"), dir.path().join("abs_in")).unwrap();
        symlink(outside.path(), dir.path().join("dir_out")).unwrap();
        let root = Root::open(dir.path()).unwrap();

        assert!(open(&root, b"inside.txt", false).is_ok());
        assert!(open(&root, b"sub/rel_in", false).is_ok());
        assert!(open(&root, b"abs_in", false).is_ok());
        assert!(open(&root, b"", false).unwrap().1.is_dir);
        assert!(matches!(
            open(&root, b"abs_out", false),
            Err(OpenError::Forbidden)
        ));
        assert!(matches!(
            open(&root, b"dir_out/secret", false),
            Err(OpenError::Forbidden)
        ));
        assert!(matches!(
            open(&root, b"missing", false),
            Err(OpenError::NotFound)
        ));
        assert!(matches!(
            open(&root, b"inside.txt/x", false),
            Err(OpenError::NotFound)
        ));
        // With --follow-symlinks the owner opted in.
        assert!(open(&root, b"abs_out", true).is_ok());
    }

    #[test]
    fn fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let root = Root::open(dir.path()).unwrap();
        assert!(matches!(
            open(&root, b"fifo", false),
            Err(OpenError::Forbidden)
        ));
    }

    #[test]
    fn etags_change_with_metadata() {
        let a = FileInfo {
            size: 1,
            mtime: 2,
            mtime_nsec: 3,
            ino: 4,
            dev: 5,
            is_dir: false,
        };
        let b = FileInfo { mtime_nsec: 4, ..a };
        assert_ne!(a.etag(), b.etag());
        assert!(a.etag().starts_with('"') && a.etag().ends_with('"'));
    }
}
