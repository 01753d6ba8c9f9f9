//! The sender's side of the manifest: local paths in, an [`Offer`] out.
//!
//! Each path on the command line becomes a top-level entry named by its last component;
//! folders are walked recursively in name order (so two runs of the same `send` make the
//! same manifest and a resumed session lines up). Names that the receiver would refuse
//! (not UTF-8, control characters, too long) are left out with a warning here rather than
//! getting the whole offer refused there.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::paths::{check_component, check_link, escape};
use super::proto::{limits, Entry, Kind, Offer};
use super::report::TransferError;
use crate::event::{Event, Events};

/// What to include.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Include symlinks whose targets stay inside what is sent.
    pub symlinks: bool,
    /// Glob patterns (`*`, `?`, `[a-z]`, `**`) matched against each name and each path
    /// relative to its top folder; a match is left out (with everything below it).
    pub exclude: Vec<String>,
}

/// An offer and where each of its files is on the local disk.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// What the receiver is offered.
    pub offer: Offer,
    /// For each entry, the local path (files only need it).
    pub sources: Vec<PathBuf>,
    /// Things left out because they cannot be sent (each reported as a warning).
    pub left_out: u64,
}

/// Builds the manifest for `paths`.
pub fn build(
    paths: &[PathBuf],
    opts: &WalkOptions,
    events: &Events,
) -> Result<Manifest, TransferError> {
    if paths.is_empty() {
        return Err(TransferError::Usage("nothing to send".into()));
    }
    let mut m = Manifest::default();
    let mut tops: Vec<String> = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            TransferError::Usage(format!(
                "{}: {}",
                p.display(),
                crate::net::error::describe(&e)
            ))
        })?;
        let name = top_name(p)?;
        if tops.iter().any(|t| t.to_lowercase() == name.to_lowercase()) {
            return Err(TransferError::Usage(format!(
                "two paths are both called {}: send them from their folders, or one at a time",
                escape(&name)
            )));
        }
        tops.push(name.clone());
        add(&mut m, p, vec![name], &meta, opts, events)?;
    }
    m.offer.name = hostname();
    Ok(m)
}

fn top_name(p: &Path) -> Result<String, TransferError> {
    let abs = if p.file_name().is_none() {
        std::fs::canonicalize(p)
            .map_err(|e| TransferError::Usage(format!("{}: {e}", p.display())))?
    } else {
        p.to_path_buf()
    };
    let name = abs.file_name().ok_or_else(|| {
        TransferError::Usage(format!("{}: cannot send a file-system root", p.display()))
    })?;
    let name = name
        .to_str()
        .ok_or_else(|| TransferError::Usage(format!("{}: the name is not UTF-8", p.display())))?;
    check_component(name).map_err(|m| TransferError::Usage(format!("{}: {m}", escape(name))))?;
    Ok(name.to_string())
}

fn add(
    m: &mut Manifest,
    local: &Path,
    path: Vec<String>,
    meta: &std::fs::Metadata,
    opts: &WalkOptions,
    events: &Events,
) -> Result<(), TransferError> {
    let shown = escape(&path.join("/"));
    if path.len() > usize::from(limits::DEPTH) {
        return leave_out(m, events, &shown, "nested too deep");
    }
    if m.offer.entries.len() >= limits::ENTRIES as usize {
        return Err(TransferError::Usage(format!(
            "more than {} entries: send fewer at once",
            limits::ENTRIES
        )));
    }
    let ft = meta.file_type();
    let mode = (meta.permissions().mode() & 0o7777) as u16;
    let mut entry = Entry {
        kind: Kind::File,
        mode,
        size: 0,
        mtime: meta.mtime(),
        mtime_nanos: u32::try_from(meta.mtime_nsec()).unwrap_or(0),
        path,
        link: None,
    };
    if ft.is_symlink() {
        if !opts.symlinks {
            events.emit(
                Event::info(
                    "left-out",
                    format!("{shown}: a symlink, left out (--symlinks sends it)"),
                )
                .with("path", shown.as_str()),
            );
            // Left out on purpose (links were not asked for): not a failure.
            return Ok(());
        }
        let target = std::fs::read_link(local)
            .map_err(|e| TransferError::io(format!("read link {shown}"), e))?;
        let Some(target) = target.to_str() else {
            return leave_out(m, events, &shown, "a symlink whose target is not UTF-8");
        };
        if let Err(why) = check_link(&entry.path, target) {
            return leave_out(m, events, &shown, &format!("a symlink with {why}"));
        }
        entry.kind = Kind::Symlink;
        entry.link = Some(target.to_string());
        m.offer.entries.push(entry);
        m.sources.push(local.to_path_buf());
        return Ok(());
    }
    if ft.is_file() {
        entry.size = meta.len();
        m.offer.total += meta.len();
        m.offer.entries.push(entry);
        m.sources.push(local.to_path_buf());
        return Ok(());
    }
    if !ft.is_dir() {
        return leave_out(m, events, &shown, "not a regular file, folder or symlink");
    }
    entry.kind = Kind::Folder;
    let base = entry.path.clone();
    m.offer.entries.push(entry);
    m.sources.push(local.to_path_buf());
    let mut children: Vec<_> = std::fs::read_dir(local)
        .map_err(|e| TransferError::io(format!("read folder {shown}"), e))?
        .filter_map(Result::ok)
        .collect();
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let os_name = child.file_name();
        let Some(name) = os_name.to_str() else {
            let lossy = escape(&os_name.to_string_lossy());
            leave_out(
                m,
                events,
                &format!("{shown}/{lossy}"),
                "the name is not UTF-8",
            )?;
            continue;
        };
        let mut path = base.clone();
        path.push(name.to_string());
        let rel = path[1..].join("/");
        if opts
            .exclude
            .iter()
            .any(|g| glob_match(g, name) || glob_match(g, &rel))
        {
            continue;
        }
        if let Err(why) = check_component(name) {
            leave_out(m, events, &escape(&path.join("/")), &why)?;
            continue;
        }
        let meta = match std::fs::symlink_metadata(child.path()) {
            Ok(meta) => meta,
            Err(e) => {
                leave_out(
                    m,
                    events,
                    &escape(&path.join("/")),
                    &crate::net::error::describe(&e),
                )?;
                continue;
            }
        };
        add(m, &child.path(), path, &meta, opts, events)?;
    }
    Ok(())
}

fn leave_out(
    m: &mut Manifest,
    events: &Events,
    shown: &str,
    why: &str,
) -> Result<(), TransferError> {
    events.emit(Event::warn("left-out", format!("{shown}: {why}, left out")).with("path", shown));
    m.left_out += 1;
    Ok(())
}

/// This machine's host name, the sender's name in the offer.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().chars().take(32).collect())
        .unwrap_or_default()
}

/// Shell-style glob matching: `*` (anything but `/`), `**` (anything), `?` (one
/// character but `/`), `[abc]`, `[a-z]`, `[!x]`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            let rest = &p[2..];
            (0..=t.len()).any(|i| glob_at(rest, &t[i..]))
        }
        Some('*') => {
            let rest = &p[1..];
            for i in 0..=t.len() {
                if glob_at(rest, &t[i..]) {
                    return true;
                }
                if t.get(i) == Some(&'/') {
                    return false;
                }
            }
            false
        }
        Some('?') => t.first().is_some_and(|&c| c != '/') && glob_at(&p[1..], &t[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(2).position(|&c| c == ']').map(|i| i + 2) else {
                return t.first() == Some(&'[') && glob_at(&p[1..], &t[1..]);
            };
            let Some(&c) = t.first() else { return false };
            let (negate, set) = match p[1] {
                '!' | '^' => (true, &p[2..close]),
                _ => (false, &p[1..close]),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != negate && glob_at(&p[close + 1..], &t[1..])
        }
        Some(&c) => t.first() == Some(&c) && glob_at(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.log", "a.log"));
        assert!(!glob_match("*.log", "d/a.log"));
        assert!(glob_match("**/*.log", "d/e/a.log"));
        assert!(glob_match("node_modules", "node_modules"));
        assert!(glob_match("file?.[ch]", "file1.c"));
        assert!(!glob_match("file?.[!ch]", "file1.c"));
        assert!(glob_match("[a-c]x", "bx"));
    }

    #[test]
    fn folders_walk_in_order_with_excludes() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top");
        std::fs::create_dir_all(top.join("b/empty")).unwrap();
        std::fs::write(top.join("a.txt"), "aa").unwrap();
        std::fs::write(top.join("b/c.log"), "c").unwrap();
        std::os::unix::fs::symlink("a.txt", top.join("link")).unwrap();
        let opts = WalkOptions {
            symlinks: false,
            exclude: vec!["*.log".into()],
        };
        let m = build(std::slice::from_ref(&top), &opts, &Events::discard()).unwrap();
        let names: Vec<String> = m.offer.entries.iter().map(Entry::display_path).collect();
        assert_eq!(names, ["top", "top/a.txt", "top/b", "top/b/empty"]);
        assert_eq!(m.offer.total, 2);
        let opts = WalkOptions {
            symlinks: true,
            exclude: vec![],
        };
        let m = build(&[top], &opts, &Events::discard()).unwrap();
        let link = m
            .offer
            .entries
            .iter()
            .find(|e| e.kind == Kind::Symlink)
            .unwrap();
        assert_eq!(link.link.as_deref(), Some("a.txt"));
    }
}
