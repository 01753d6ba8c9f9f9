//! The path rules an offer must pass before the receiver creates anything, and the
//! escaping of peer-supplied names before anyone sees them.
//!
//! The bugs of the tools sockit replaces were here: croc and LocalSend wrote outside the
//! target folder (`../../.ssh/authorized_keys`), scp accepted any name the server sent,
//! croc printed names with terminal escapes. A name from the network is data, never a
//! path: it arrives as a list of components, each checked on its own, and the offer is
//! checked as a whole (collisions, parents) before the first `mkdir`.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::proto::{limits, Kind, Offer};

/// Checks one path component: valid UTF-8 (the type says so) of 1..=255 bytes, not `.`
/// or `..`, no NUL, `/`, `\` or control character, and not a name sockit uses for its own
/// part files (a sender must not be able to plant or clobber one).
pub fn check_component(c: &str) -> Result<(), String> {
    if c.is_empty() {
        return Err("an empty path component".into());
    }
    if c.len() > usize::from(limits::COMPONENT) {
        return Err(format!(
            "a path component of {} bytes (at most {})",
            c.len(),
            limits::COMPONENT
        ));
    }
    if c == "." || c == ".." {
        return Err(format!("a path component {c:?}"));
    }
    if let Some(ch) = c
        .chars()
        .find(|&ch| matches!(ch, '/' | '\\') || ch.is_control())
    {
        return Err(format!(
            "a path component containing {}",
            escape(&ch.to_string())
        ));
    }
    if is_part_name(c) {
        return Err(format!("a name reserved for part files: {}", escape(c)));
    }
    Ok(())
}

/// Whether `name` has the shape of a sockit part file (`.NAME.sockit-part`,
/// `.sockit-HASH.part`).
pub fn is_part_name(name: &str) -> bool {
    name.starts_with('.')
        && (name.ends_with(".sockit-part")
            || (name.starts_with(".sockit-") && name.ends_with(".part")))
}

/// The key two paths collide under: every component NFC-normalised and lower-cased, so
/// `Report.txt`/`report.TXT` and a precomposed/decomposed `é` are one name, as they are
/// on case-insensitive or normalising file systems (macOS, Windows, many USB sticks).
fn fold_key(path: &[String]) -> String {
    let mut key = String::new();
    for (i, c) in path.iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        key.extend(c.nfc().flat_map(char::to_lowercase));
    }
    key
}

/// Checks the whole offer: every component, every depth, that each entry's parent is a
/// folder declared before it, that no two entries collide, and that symlinks (allowed
/// only when `symlinks`) stay inside their top folder.
///
/// Returns the first problem in words (the receiver refuses the offer with it).
pub fn validate(offer: &Offer, symlinks: bool) -> Result<(), String> {
    let mut seen: HashMap<String, (Kind, usize)> = HashMap::with_capacity(offer.entries.len());
    for (i, e) in offer.entries.iter().enumerate() {
        let n = i + 1;
        let shown = || escape(&e.display_path());
        if e.path.is_empty() || e.path.len() > usize::from(limits::DEPTH) {
            return Err(format!(
                "entry {n} ({}) is nested {} deep",
                shown(),
                e.path.len()
            ));
        }
        for c in &e.path {
            check_component(c).map_err(|m| format!("entry {n} ({}): {m}", shown()))?;
        }
        let key = fold_key(&e.path);
        if e.path.len() > 1 {
            let parent = match key.rfind('/') {
                Some(cut) => &key[..cut],
                None => "",
            };
            match seen.get(parent) {
                Some((Kind::Folder, _)) => {}
                Some((_, j)) => {
                    return Err(format!(
                        "entry {n} ({}) is inside entry {}, which is not a folder",
                        shown(),
                        j + 1
                    ))
                }
                None => return Err(format!("entry {n} ({}) comes before its folder", shown())),
            }
        }
        if let Some((_, j)) = seen.get(&key) {
            return Err(format!(
                "entry {n} ({}) has the same name as entry {} ({}) once case and Unicode \
                 normalisation are ignored",
                shown(),
                j + 1,
                escape(&offer.entries[*j].display_path())
            ));
        }
        if e.kind == Kind::Symlink {
            if !symlinks {
                return Err(format!("entry {n} ({}) is a symlink, not agreed", shown()));
            }
            let target = e.link.as_deref().unwrap_or("");
            check_link(&e.path, target).map_err(|m| format!("entry {n} ({}): {m}", shown()))?;
        }
        seen.insert(key, (e.kind, i));
    }
    Ok(())
}

/// A symlink target must be relative and, resolved from the link's folder without
/// following anything, stay inside the link's top folder.
pub fn check_link(path: &[String], target: &str) -> Result<(), String> {
    if target.is_empty() || target.len() > usize::from(limits::LINK_TARGET) {
        return Err(format!("a link target of {} bytes", target.len()));
    }
    if path.len() < 2 {
        return Err("a symlink outside any folder of the offer".into());
    }
    if target.starts_with('/') {
        return Err(format!("an absolute link target {}", escape(target)));
    }
    if target.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!("a link target {}", escape(target)));
    }
    // Start in the link's folder; the top folder (path[0]) must never be left.
    let mut stack: Vec<&str> = path[..path.len() - 1].iter().map(String::as_str).collect();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                stack.pop();
                if stack.is_empty() {
                    return Err(format!(
                        "a link target that leaves the offer: {}",
                        escape(target)
                    ));
                }
            }
            c => stack.push(c),
        }
    }
    if stack.is_empty() {
        return Err(format!(
            "a link target that leaves the offer: {}",
            escape(target)
        ));
    }
    Ok(())
}

/// Makes a peer-supplied string safe to print on a terminal (names, paths, the sender's
/// name): see [`crate::text::escape_name`].
pub fn escape(s: &str) -> String {
    crate::text::escape_name(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::proto::Entry;

    fn entry(kind: Kind, path: &[&str]) -> Entry {
        Entry {
            kind,
            mode: 0o644,
            size: 0,
            mtime: 0,
            mtime_nanos: 0,
            path: path.iter().map(|s| s.to_string()).collect(),
            link: None,
        }
    }

    fn offer(entries: Vec<Entry>) -> Offer {
        Offer {
            name: "t".into(),
            total: 0,
            entries,
        }
    }

    #[test]
    fn hostile_components_are_refused() {
        let long = "a".repeat(256);
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a\x1bb",
            "a\u{85}b",
            &long,
            ".x.sockit-part",
            ".sockit-1.part",
        ] {
            assert!(check_component(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a",
            ".env",
            "résumé.pdf",
            "a b (1).txt",
            &"a".repeat(255),
            "...",
        ] {
            assert!(check_component(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn case_and_normalisation_collisions_are_refused() {
        let o = offer(vec![
            entry(Kind::File, &["Report.txt"]),
            entry(Kind::File, &["report.TXT"]),
        ]);
        assert!(validate(&o, false).unwrap_err().contains("same name"));
        let o = offer(vec![
            entry(Kind::File, &["caf\u{e9}"]),
            entry(Kind::File, &["cafe\u{301}"]),
        ]);
        assert!(validate(&o, false).is_err());
    }

    #[test]
    fn files_cannot_hold_entries_and_parents_come_first() {
        let o = offer(vec![
            entry(Kind::File, &["a"]),
            entry(Kind::File, &["a", "b"]),
        ]);
        assert!(validate(&o, false).unwrap_err().contains("not a folder"));
        let o = offer(vec![entry(Kind::File, &["a", "b"])]);
        assert!(validate(&o, false)
            .unwrap_err()
            .contains("before its folder"));
        let o = offer(vec![
            entry(Kind::Folder, &["a"]),
            entry(Kind::Folder, &["a"]),
        ]);
        assert!(validate(&o, false).is_err());
        let o = offer(vec![
            entry(Kind::Folder, &["a"]),
            entry(Kind::File, &["a", "b"]),
        ]);
        assert!(validate(&o, false).is_ok());
    }

    #[test]
    fn symlinks_must_stay_inside() {
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_link(&p(&["top", "l"]), "x/y").is_ok());
        assert!(check_link(&p(&["top", "d", "l"]), "../x").is_ok());
        assert!(check_link(&p(&["top", "l"]), "../x").is_err());
        assert!(check_link(&p(&["top", "l"]), "/etc/passwd").is_err());
        assert!(check_link(&p(&["l"]), "x").is_err());
        let mut l = entry(Kind::Symlink, &["l"]);
        l.link = Some("x".into());
        assert!(validate(&offer(vec![l]), false).is_err());
    }

    #[test]
    fn escapes_make_names_harmless() {
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape("new\nline\\"), "new\\x0aline\\\\");
        assert_eq!(escape("résumé"), "résumé");
    }
}
