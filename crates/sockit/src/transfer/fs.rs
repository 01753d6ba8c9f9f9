//! Safe writes below the receiver's target folder.
//!
//! Every name comes from the network, so every file-system call is made relative to a
//! handle on the target folder, never with a path string: folders are opened with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (the kernel refuses `..` and any
//! symlink on the way, so a link planted in the target cannot redirect a write: rsync's
//! and croc's traversal bugs), created one component at a time with `mkdirat` below an
//! open handle, and files are created with `O_NOFOLLOW`. A file is written under a hidden
//! part name, verified, and only then renamed into place with
//! `renameat2(RENAME_NOREPLACE)`, which fails instead of replacing whatever appeared under
//! that name meanwhile.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, ResolveFlags, Timespec, Timestamps};
use rustix::io::Errno;

/// Files at least this big are fsynced before their rename under `--sync batch`: for them
/// the fsync is cheap next to the transfer, and a crash must not leave a big file that
/// looks complete but is not on disk.
pub const LARGE_FILE: u64 = 16 << 20;

/// How many `NAME (N).EXT` names `--rename` tries.
const MAX_RENAMES: u32 = 1000;

/// A handle on the target folder: everything the receiver writes goes below it.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
}

/// What a name in a folder currently is (without following a symlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Nothing by that name.
    Nothing,
    /// A regular file of this size.
    File(u64),
    /// A folder.
    Folder,
    /// A symlink, device, socket or FIFO: never written through.
    Other,
}

fn os(name: &str) -> &OsStr {
    OsStr::from_bytes(name.as_bytes())
}

impl Root {
    /// Opens (creating if needed) the target folder.
    pub fn open(path: &Path) -> io::Result<Root> {
        if !path.exists() {
            std::fs::create_dir_all(path)?;
        }
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Root { fd })
    }

    /// Opens the folder `comps` (relative; empty = the root itself) without following any
    /// symlink and without leaving the root.
    pub fn open_dir(&self, comps: &[String]) -> io::Result<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if comps.is_empty() {
            return Ok(rustix::fs::openat(&self.fd, ".", flags, Mode::empty())?);
        }
        let rel = comps.join("/");
        match rustix::fs::openat2(
            &self.fd,
            os(&rel),
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::NOSYS) => {}
            other => return Ok(other?),
        }
        // Kernels before 5.6: one component at a time, never following a link. The
        // components were validated (no `..`, no `/`), so this cannot leave the root.
        let mut fd = rustix::fs::openat(&self.fd, ".", flags, Mode::empty())?;
        for c in comps {
            fd = rustix::fs::openat(&fd, os(c), flags | OFlags::NOFOLLOW, Mode::empty())?;
        }
        Ok(fd)
    }

    /// Creates the folder `comps` (its parent must exist); Ok(false) when a folder of
    /// that name was already there, an error when something else is.
    pub fn make_dir(&self, comps: &[String]) -> io::Result<bool> {
        let Some((name, parent)) = comps.split_last() else {
            return Ok(false);
        };
        let dir = self.open_dir(parent)?;
        match rustix::fs::mkdirat(&dir, os(name), Mode::from_raw_mode(0o755)) {
            Ok(()) => Ok(true),
            Err(Errno::EXIST) => match stat(&dir, name)? {
                Existing::Folder => Ok(false),
                _ => Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "a file that is not a folder is in the way",
                )),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Bytes available to an unprivileged writer on the target's file system.
    pub fn free_bytes(&self) -> io::Result<u64> {
        let st = rustix::fs::fstatvfs(&self.fd)?;
        Ok(st.f_bavail.saturating_mul(st.f_frsize))
    }

    /// One `syncfs` for everything written: the batch mode's single flush.
    pub fn sync_all(&self) -> io::Result<()> {
        Ok(rustix::fs::syncfs(&self.fd)?)
    }
}

/// What `name` in `dir` is, without following a symlink.
pub fn stat(dir: &impl AsFd, name: &str) -> io::Result<Existing> {
    match rustix::fs::statat(dir, os(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => {
            let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
            Ok(match kind {
                rustix::fs::FileType::RegularFile => Existing::File(st.st_size as u64),
                rustix::fs::FileType::Directory => Existing::Folder,
                _ => Existing::Other,
            })
        }
        Err(Errno::NOENT) => Ok(Existing::Nothing),
        Err(e) => Err(e.into()),
    }
}

/// The hidden part-file name for `name`: `.NAME.sockit-part`, or `.sockit-HASH.part` when
/// that would pass NAME_MAX. Deterministic, so a later session finds it to resume.
pub fn part_name(name: &str) -> String {
    let plain = format!(".{name}.sockit-part");
    if plain.len() <= 255 {
        return plain;
    }
    let hash = blake3::hash(name.as_bytes());
    format!(".sockit-{}.part", &hash.to_hex()[..32])
}

/// Opens the part file for writing: `fresh` truncates it, otherwise an existing part is
/// kept (for resuming). Never follows a symlink; created private (0600) until complete.
pub fn open_part(dir: &impl AsFd, part: &str, fresh: bool) -> io::Result<File> {
    let mut flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if fresh {
        flags |= OFlags::TRUNC;
    }
    let fd = rustix::fs::openat(dir, os(part), flags, Mode::from_raw_mode(0o600))?;
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the part file is not a regular file",
        ));
    }
    Ok(File::from(fd))
}

/// Opens an existing regular file for reading, never through a symlink.
pub fn open_existing(dir: &impl AsFd, name: &str) -> io::Result<File> {
    let fd = rustix::fs::openat(
        dir,
        os(name),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// Hashes the first `len` bytes of `file` into `hasher`, calling `tick` with the bytes done
/// so far every MiB (progress while checking a prefix). Fails if the file is shorter.
pub fn hash_prefix(
    file: &File,
    len: u64,
    hasher: &mut blake3::Hasher,
    mut tick: impl FnMut(u64),
) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    let mut reader = file;
    while done < len {
        let want = (len - done).min(buf.len() as u64) as usize;
        let n = reader.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        hasher.update(&buf[..n]);
        done += n as u64;
        tick(done);
    }
    Ok(())
}

/// Gives a finished file its permissions (never set-uid/set-gid/sticky from a peer) and
/// modification time, before it is renamed into place.
pub fn set_file_meta(file: &File, mode: u16, mtime: i64, nanos: u32) -> io::Result<()> {
    rustix::fs::fchmod(file, Mode::from_raw_mode(u32::from(mode) & 0o777))?;
    set_times(file, mtime, nanos)
}

/// Sets a folder's permissions and mtime (after everything inside it was written, since
/// each write inside changes the folder's mtime). The owner keeps write and search rights
/// until then: a folder offered as read-only is made so last.
pub fn set_dir_meta(dir: &impl AsFd, mode: u16, mtime: i64, nanos: u32) -> io::Result<()> {
    rustix::fs::fchmod(dir, Mode::from_raw_mode(u32::from(mode) & 0o777))?;
    set_times(dir, mtime, nanos)
}

fn set_times(fd: &impl AsFd, mtime: i64, nanos: u32) -> io::Result<()> {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: nanos.into(),
    };
    rustix::fs::futimens(
        fd,
        &Timestamps {
            last_access: t,
            last_modification: t,
        },
    )?;
    Ok(())
}

/// How a verified part file takes its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Only if the name is free (`RENAME_NOREPLACE`).
    NoReplace,
    /// Replacing a file of that name (`--overwrite`), atomically.
    Replace,
    /// Under the first free `NAME (N).EXT` (`--rename`).
    Numbered,
}

/// Renames `part` to `name` in `dir` as `how` says; returns the name it got, or None when
/// the name was taken (the part file stays).
pub fn place(dir: &impl AsFd, part: &str, name: &str, how: Place) -> io::Result<Option<String>> {
    match how {
        Place::Replace => {
            rustix::fs::renameat(dir, os(part), dir, os(name))?;
            Ok(Some(name.to_string()))
        }
        Place::NoReplace => match rename_noreplace(dir, part, name) {
            Ok(()) => Ok(Some(name.to_string())),
            Err(Errno::EXIST) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Place::Numbered => {
            for n in 0..MAX_RENAMES {
                let candidate = numbered_name(name, n);
                match rename_noreplace(dir, part, &candidate) {
                    Ok(()) => return Ok(Some(candidate)),
                    Err(Errno::EXIST) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(None)
        }
    }
}

/// `renameat2(RENAME_NOREPLACE)`; where the file system lacks it, a hard link (which
/// never replaces either) and the removal of the part name.
fn rename_noreplace(dir: &impl AsFd, from: &str, to: &str) -> rustix::io::Result<()> {
    match rustix::fs::renameat_with(dir, os(from), dir, os(to), RenameFlags::NOREPLACE) {
        Err(Errno::INVAL | Errno::NOSYS) => {
            rustix::fs::linkat(dir, os(from), dir, os(to), AtFlags::empty())?;
            let _ = rustix::fs::unlinkat(dir, os(from), AtFlags::empty());
            Ok(())
        }
        other => other,
    }
}

/// `report.pdf` with `n` = 2 gives `report (2).pdf`; 0 gives the name itself. A leading
/// dot does not start an extension; the stem shrinks to keep the name within 255 bytes.
pub fn numbered_name(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_string();
    }
    let dot = name.rfind('.').filter(|&i| i > 0 && name.len() - i <= 32);
    let (stem, ext) = name.split_at(dot.unwrap_or(name.len()));
    let suffix = format!(" ({n})");
    let mut room = 255usize
        .saturating_sub(ext.len() + suffix.len())
        .min(stem.len());
    while !stem.is_char_boundary(room) {
        room -= 1;
    }
    format!("{}{suffix}{ext}", &stem[..room])
}

/// Removes a file (a failed part) relative to `dir`; a missing file is fine.
pub fn remove(dir: &impl AsFd, name: &str) -> io::Result<()> {
    match rustix::fs::unlinkat(dir, os(name), AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates a symlink `name` → `target` in `dir` (fails if the name is taken).
pub fn make_symlink(dir: &impl AsFd, name: &str, target: &str) -> io::Result<()> {
    Ok(rustix::fs::symlinkat(os(target), dir, os(name))?)
}

/// Flushes a folder's entries (a rename is durable once its folder is synced).
pub fn sync_dir(dir: &impl AsFd) -> io::Result<()> {
    Ok(rustix::fs::fsync(dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn symlinks_in_the_target_are_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), tmp.path().join("link")).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert!(root.open_dir(&comps(&["link"])).is_err());
        assert!(root.make_dir(&comps(&["link", "x"])).is_err());
        assert!(root.make_dir(&comps(&["link"])).is_err());
        let dir = root.open_dir(&[]).unwrap();
        std::os::unix::fs::symlink(outside.path().join("f"), tmp.path().join(".f.sockit-part"))
            .unwrap();
        assert!(open_part(&dir, ".f.sockit-part", true).is_err());
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }

    #[test]
    fn place_never_replaces_unless_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::open(tmp.path()).unwrap();
        let dir = root.open_dir(&[]).unwrap();
        std::fs::write(tmp.path().join("a.txt"), "old").unwrap();
        for how in [Place::NoReplace, Place::Numbered, Place::Replace] {
            std::fs::write(tmp.path().join(".p"), "new").unwrap();
            let got = place(&dir, ".p", "a.txt", how).unwrap();
            match how {
                Place::NoReplace => assert_eq!(got, None),
                Place::Numbered => assert_eq!(got.as_deref(), Some("a (1).txt")),
                Place::Replace => assert_eq!(got.as_deref(), Some("a.txt")),
            }
        }
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("a.txt")).unwrap(),
            "new"
        );
    }

    #[test]
    fn part_names_stay_within_name_max() {
        assert_eq!(part_name("a.txt"), ".a.txt.sockit-part");
        let long = "x".repeat(250);
        assert!(part_name(&long).len() <= 255);
        assert!(crate::transfer::paths::is_part_name(&part_name(&long)));
        assert_eq!(numbered_name(".env", 1), ".env (1)");
        assert!(numbered_name(&"é".repeat(127), 3).len() <= 255);
    }
}
