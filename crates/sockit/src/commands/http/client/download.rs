//! Downloads: part files next to the destination, renamed into place when complete; -C resume.

use super::*;

/// A body being written to a temporary file next to its destination.
pub(super) struct Download {
    pub(super) file: File,
    pub(super) out: Output,
    pub(super) temp: PathBuf,
    pub(super) dest: PathBuf,
    pub(super) clobber: bool,
    /// -C: the part file has a stable name and survives a failed transfer.
    pub(super) resume: bool,
}

/// Extended attribute holding the validator (ETag or Last-Modified) a part file was
/// downloaded under, for `If-Range` on resume.
pub(super) const VALIDATOR_XATTR: &str = "user.sockit.validator";

/// The part file of `dest`: `.NAME.part` for -C (found again by the next run), with the
/// pid otherwise (two runs never share one).
pub(super) fn part_path(dest: &Path, resume: bool) -> PathBuf {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    if resume {
        dir.join(format!(".{name}.part"))
    } else {
        dir.join(format!(".{name}.{}.part", std::process::id()))
    }
}

/// For -C: the size of the part file and its saved validator, when both exist.
pub(super) fn resume_point(dest: &Path) -> Option<(u64, String)> {
    let part = part_path(dest, true);
    let file = File::open(&part).ok()?;
    let len = file.metadata().ok()?.len();
    let mut buf = vec![0u8; 1024];
    let n = rustix::fs::fgetxattr(&file, VALIDATOR_XATTR, &mut buf[..]).ok()?;
    let validator = String::from_utf8(buf[..n].to_vec()).ok()?;
    (len > 0 && !validator.is_empty()).then_some((len, validator))
}

/// The validator to save for a later -C: a strong ETag, else Last-Modified.
pub(super) fn validator_of(head: &ResponseHead) -> Option<String> {
    match head.get_str("etag") {
        Some(e) if !e.starts_with("W/") => Some(e.to_string()),
        _ => head.get_str("last-modified").map(str::to_string),
    }
}

impl Download {
    /// Opens the part file for this response: appended to for a 206 that continues it,
    /// created (or, with -C, truncated) otherwise.
    pub(super) fn open(
        dest: &Path,
        clobber: bool,
        resume: bool,
        append: bool,
        head: &ResponseHead,
    ) -> anyhow::Result<Download> {
        if !clobber && dest.exists() {
            return Err(UsageError::new(format!(
                "{} exists; use --clobber to replace it",
                dest.display()
            ))
            .into());
        }
        let temp = part_path(dest, resume);
        let mut opts = std::fs::OpenOptions::new();
        if append {
            opts.append(true);
        } else if resume {
            opts.write(true).create(true).truncate(true);
        } else {
            opts.write(true).create_new(true);
        }
        let file = opts
            .open(&temp)
            .with_context(|| format!("cannot create {}", temp.display()))?;
        if resume && !append {
            // Best effort: without the attribute a later -C restarts instead of resuming.
            if let Some(v) = validator_of(head) {
                let _ = rustix::fs::fsetxattr(
                    &file,
                    VALIDATOR_XATTR,
                    v.as_bytes(),
                    rustix::fs::XattrFlags::empty(),
                );
            }
        }
        let out = Output::to_fd(file.as_raw_fd());
        Ok(Download {
            file,
            out,
            temp,
            dest: dest.to_path_buf(),
            clobber,
            resume,
        })
    }

    /// Flushes, syncs and renames into place; without --clobber an existing file is
    /// never replaced (`renameat2(RENAME_NOREPLACE)`, atomic against a racing writer).
    pub(super) async fn finish(self) -> anyhow::Result<()> {
        let result = async {
            self.out
                .flush()
                .await
                .with_context(|| format!("writing {}", self.temp.display()))?;
            self.file
                .sync_all()
                .with_context(|| format!("writing {}", self.temp.display()))?;
            let _ = rustix::fs::fremovexattr(&self.file, VALIDATOR_XATTR);
            let flags = if self.clobber {
                rustix::fs::RenameFlags::empty()
            } else {
                rustix::fs::RenameFlags::NOREPLACE
            };
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &self.temp,
                rustix::fs::CWD,
                &self.dest,
                flags,
            )
            .map_err(std::io::Error::from)
            .with_context(|| format!("cannot rename into {}", self.dest.display()))
        }
        .await;
        if result.is_err() && !self.resume {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
    }

    /// A failed transfer: the part file is removed (kept with -C, holding the prefix
    /// received so far). Queued writes are flushed first: the descriptor must not close
    /// while the writer thread still holds data for it.
    pub(super) async fn abandon(self) {
        let _ = self.out.flush().await;
        if !self.resume {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A file name from a URL's last path segment, safe to create in the current folder:
/// percent-decoded, then no separators, no control characters, no dot-only names.
pub(super) fn remote_name(url: &Url) -> String {
    let path = url.target.split('?').next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned();
    let clean: String = decoded
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "index.html".to_string()
    } else {
        clean.chars().take(200).collect()
    }
}

/// `Content-Range: bytes START-END/TOTAL` -> START.
pub(super) fn content_range_start(head: &ResponseHead) -> Option<u64> {
    let v = head.get_str("content-range")?.trim();
    let range = v.strip_prefix("bytes ")?.split('/').next()?;
    range.split('-').next()?.trim().parse().ok()
}

/// `Content-Range: bytes .../TOTAL` -> TOTAL.
pub(super) fn content_range_total(head: &ResponseHead) -> Option<u64> {
    let v = head.get_str("content-range")?.trim();
    v.rsplit('/').next()?.trim().parse().ok()
}
