//! Upload temporary files: created next to their target, renamed into place when
//! complete, and never left behind.
//!
//! A body goes to `.NAME.sockit-XXXXXXXX.part` in the target folder and is renamed over
//! the target only once complete, so a file appears whole or not at all. A part file is
//! removed when its upload fails or its task is dropped (graceful shutdown), by
//! [`Registry::remove_all`] on a forced stop, and, if the process was killed outright,
//! by [`sweep`] when a server with `--write` starts on the folder again. A live upload
//! holds an exclusive `flock` on its part file, so a sweep by another server on the
//! same folder never removes a file that is still being written.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex};

use rustix::fs::{AtFlags, FlockOperation, Mode, OFlags};

/// Part files being written, by id: the folder they are in and their name.
type Open = HashMap<u64, (Arc<File>, Vec<u8>)>;

/// The part files being written by one site, so a forced stop can remove them.
#[derive(Debug, Default)]
pub struct Registry {
    open: Mutex<Open>,
    next: std::sync::atomic::AtomicU64,
}

impl Registry {
    fn add(&self, dir: &Arc<File>, name: &[u8]) -> u64 {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock().insert(id, (dir.clone(), name.to_vec()));
        id
    }

    fn forget(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes every part file still being written (a forced stop: their uploads will
    /// never complete). Returns how many were removed.
    pub fn remove_all(&self) -> usize {
        let open = std::mem::take(&mut *self.lock());
        open.values()
            .filter(|(dir, name)| {
                rustix::fs::unlinkat(dir.as_fd(), OsStr::from_bytes(name), AtFlags::empty()).is_ok()
            })
            .count()
    }
}

/// A temporary upload file that is removed unless [`Temp::commit`] renamed it.
pub(crate) struct Temp {
    dir: Arc<File>,
    name: Vec<u8>,
    committed: bool,
    registry: Arc<Registry>,
    id: u64,
    /// A second descriptor of the open file: keeps its `flock` (the mark of a live
    /// upload, see [`sweep`]) until the temporary file is renamed or removed.
    _lock: File,
}

impl Temp {
    /// Creates `.NAME.sockit-XXXXXXXX.part` next to the target (`O_EXCL`, no symlink
    /// following), retrying on name clashes.
    pub(crate) fn create(
        registry: &Arc<Registry>,
        dir: &Arc<File>,
        final_name: &[u8],
    ) -> std::io::Result<(Temp, File)> {
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
                    let file = File::from(fd);
                    // Failing to lock only weakens the sweep's protection of this file.
                    let _ = rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive);
                    let lock = file.try_clone()?;
                    let id = registry.add(dir, &name);
                    let t = Temp {
                        dir: dir.clone(),
                        name,
                        committed: false,
                        registry: registry.clone(),
                        id,
                        _lock: lock,
                    };
                    return Ok((t, file));
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
        self.registry.forget(self.id);
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

/// Is `name` one of our part files (`.NAME.sockit-XXXXXXXX.part`)?
pub fn is_part_name(name: &[u8]) -> bool {
    const TAIL: usize = ".sockit-".len() + 8 + ".part".len();
    let n = name.len();
    n > TAIL + 1
        && name[0] == b'.'
        && name.ends_with(b".part")
        && name[n - TAIL..].starts_with(b".sockit-")
        && name[n - 13..n - 5].iter().all(u8::is_ascii_hexdigit)
}

/// Folders deeper than this are not swept.
const SWEEP_DEPTH: usize = 32;
/// The sweep stops after looking at this many entries (a huge tree must not delay much).
const SWEEP_ENTRIES: usize = 200_000;

/// Removes part files left by uploads whose server died (SIGKILL, power loss) below
/// `root`. Symlinks are never followed; a part file some live server still holds
/// locked is left alone. Returns how many were removed.
pub fn sweep(root: &std::path::Path) -> usize {
    let Ok(dir) = rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return 0;
    };
    let mut budget = SWEEP_ENTRIES;
    sweep_dir(File::from(dir), 0, &mut budget)
}

fn sweep_dir(dir: File, depth: usize, budget: &mut usize) -> usize {
    let Ok(mut reader) = rustix::fs::Dir::read_from(&dir) else {
        return 0;
    };
    let mut removed = 0;
    let mut subdirs = Vec::new();
    while let Some(Ok(entry)) = reader.read() {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        match entry.file_type() {
            rustix::fs::FileType::Directory if depth < SWEEP_DEPTH => {
                subdirs.push(name.to_vec());
            }
            rustix::fs::FileType::RegularFile
                if is_part_name(name) && remove_if_abandoned(&dir, name) =>
            {
                removed += 1;
            }
            _ => {}
        }
    }
    for name in subdirs {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if let Ok(fd) = rustix::fs::openat(&dir, OsStr::from_bytes(&name), flags, Mode::empty()) {
            removed += sweep_dir(File::from(fd), depth + 1, budget);
        }
    }
    removed
}

/// Removes part file `name` if no live upload holds its lock.
fn remove_if_abandoned(dir: &File, name: &[u8]) -> bool {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let Ok(fd) = rustix::fs::openat(dir, OsStr::from_bytes(name), flags, Mode::empty()) else {
        return false;
    };
    if rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).is_err() {
        return false; // a live upload
    }
    rustix::fs::unlinkat(dir, OsStr::from_bytes(name), AtFlags::empty()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn part_names_are_recognised() {
        assert!(is_part_name(b".a.txt.sockit-0123abcd.part"));
        assert!(!is_part_name(b"a.txt.sockit-0123abcd.part"));
        assert!(!is_part_name(b".a.txt.sockit-0123abcx.part"));
        assert!(!is_part_name(b".sockit-0123abcd.part"));
        assert!(!is_part_name(b".a.part"));
    }

    #[test]
    fn the_sweep_removes_abandoned_parts_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/.f.sockit-00000001.part"), b"x").unwrap();
        std::fs::write(dir.path().join(".keep.sockit-0000000z.part"), b"x").unwrap();
        let live = dir.path().join(".live.sockit-00000002.part");
        std::fs::write(&live, b"x").unwrap();
        let held = File::open(&live).unwrap();
        rustix::fs::flock(&held, FlockOperation::NonBlockingLockExclusive).unwrap();
        assert_eq!(sweep(dir.path()), 1);
        assert!(!dir.path().join("sub/.f.sockit-00000001.part").exists());
        assert!(live.exists(), "a locked part belongs to a live upload");
        assert!(dir.path().join(".keep.sockit-0000000z.part").exists());
    }
}
