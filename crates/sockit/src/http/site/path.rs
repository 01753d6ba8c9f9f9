//! Turning a request target into a path relative to the served folder, safely.
//!
//! This is the first line of defence against directory traversal: the decoded path is
//! split into segments and any segment that could climb (`..`, also when spelled
//! `%2e%2e`), any encoded slash (`%2f`), any raw backslash and any NUL byte is refused
//! before a single file system call is made. The second line is in `site::store::files`,
//! which opens files with `openat2(RESOLVE_BENEATH)` so symlinks cannot escape either.

/// Why a request target cannot be mapped to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// Malformed or dangerous target: bad escape, NUL, backslash, `..`, not origin-form (400).
    BadRequest,
    /// A dot-file segment while hidden files are not served (404, as if it did not exist).
    Hidden,
}

/// The parts of a request target: the still-encoded path and the query after `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The path as sent (percent-encoded), starting with `/`.
    pub path: &'a [u8],
    /// The query string without the `?`, if any.
    pub query: Option<&'a [u8]>,
}

/// Splits an origin-form (`/a/b?q`) or absolute-form (`http://host/a/b?q`) target.
///
/// Servers must accept absolute-form (RFC 9112 §3.2.2) even though only proxies receive
/// it in practice; its authority is ignored because we serve one site.
pub fn split_target(raw: &[u8]) -> Result<Target<'_>, PathError> {
    let mut t = raw;
    if !t.starts_with(b"/") {
        let lower_starts = |p: &[u8]| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p);
        let rest = if lower_starts(b"http://") {
            &t[7..]
        } else if lower_starts(b"https://") {
            &t[8..]
        } else {
            return Err(PathError::BadRequest);
        };
        let slash = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        t = &rest[slash..];
        if t.is_empty() {
            t = b"/";
        } else if t[0] == b'?' {
            // "http://host?q": the path is "/", keep the query.
            return Ok(Target {
                path: b"/",
                query: Some(&t[1..]),
            });
        }
    }
    if t.contains(&b'#') {
        return Err(PathError::BadRequest);
    }
    match t.iter().position(|&b| b == b'?') {
        Some(q) => Ok(Target {
            path: &t[..q],
            query: Some(&t[q + 1..]),
        }),
        None => Ok(Target {
            path: t,
            query: None,
        }),
    }
}

/// A decoded, normalized path: `out` holds segments joined by `/`, no leading slash
/// (empty for the root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    /// The decoded path ends with `/` (or `/.`): it names a folder's contents (matters
    /// for folders: without the slash they are redirected).
    pub trailing_slash: bool,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `path` (starting with `/`) into `out` and normalizes it.
///
/// Decoding happens before splitting, so `%2e%2e` is `..` like any other spelling and
/// the checks below see what the file system would see; `%2f` is refused, since no
/// file name contains a slash. A raw `\` is refused (it is not a URI character and
/// means a separator to some clients); `%5C` is an ordinary name byte on Linux.
/// `.` and empty segments are dropped; `..` is refused outright (clients remove dot
/// segments before sending, RFC 3986 §5.2.4, so one that arrives is an attack or a bug).
/// `out` is a reused buffer so the hot path does not allocate.
pub fn normalize(path: &[u8], hidden: bool, out: &mut Vec<u8>) -> Result<Normalized, PathError> {
    out.clear();
    if !path.starts_with(b"/") {
        return Err(PathError::BadRequest);
    }
    let mut seg_start = 0usize; // index in `out` where the current segment starts
    let mut i = 0usize;
    let mut hidden_hit = false;
    let mut push_segment_end = |out: &mut Vec<u8>, seg_start: usize| -> Result<usize, PathError> {
        let seg = &out[seg_start..];
        if seg.is_empty() || seg == b"." {
            out.truncate(seg_start);
            return Ok(seg_start);
        }
        if seg == b".." {
            return Err(PathError::BadRequest);
        }
        if seg[0] == b'.' && !hidden {
            hidden_hit = true;
        }
        out.push(b'/');
        Ok(out.len())
    };
    while i < path.len() {
        let mut b = path[i];
        let encoded = b == b'%';
        if encoded {
            let (h, l) = match (path.get(i + 1), path.get(i + 2)) {
                (Some(&h), Some(&l)) => (h, l),
                _ => return Err(PathError::BadRequest),
            };
            b = match (hex(h), hex(l)) {
                (Some(h), Some(l)) => h << 4 | l,
                _ => return Err(PathError::BadRequest),
            };
            i += 3;
        } else {
            i += 1;
        }
        match (b, encoded) {
            (0, _) | (b'\\', false) => return Err(PathError::BadRequest),
            // An encoded slash would make one name into two segments: refuse it rather
            // than guess (a file name cannot contain `/`).
            (b'/', true) => return Err(PathError::BadRequest),
            (b'/', false) => seg_start = push_segment_end(out, seg_start)?,
            _ => out.push(b),
        }
    }
    // The decoded path names a folder when its last segment is empty or `.`.
    let last_segment_empty = out.len() == seg_start || &out[seg_start..] == b".";
    let trailing_slash = last_segment_empty && !out.is_empty();
    push_segment_end(out, seg_start)?;
    // Every kept segment was followed by a '/'; drop the last one.
    if out.last() == Some(&b'/') {
        out.pop();
    }
    if hidden_hit {
        return Err(PathError::Hidden);
    }
    Ok(Normalized {
        trailing_slash: trailing_slash && !out.is_empty(),
    })
}

/// Characters left unescaped in links we generate: RFC 3986 unreserved plus a few
/// sub-delims that are safe in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one file name for use in an `href` (so `#`, `?`, `%`, spaces and
/// non-ASCII names produce links that come back to the same file).
pub fn encode_segment(name: &[u8]) -> String {
    percent_encoding::percent_encode(name, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(p: &str) -> Result<(String, bool), PathError> {
        let mut out = Vec::new();
        let n = normalize(p.as_bytes(), false, &mut out)?;
        Ok((String::from_utf8(out).unwrap(), n.trailing_slash))
    }

    #[test]
    fn plain_paths_normalize() {
        assert_eq!(norm("/").unwrap(), (String::new(), false));
        assert_eq!(norm("/a/b.txt").unwrap(), ("a/b.txt".into(), false));
        assert_eq!(norm("/a//./b/").unwrap(), ("a/b".into(), true));
        assert_eq!(norm("/a%20b").unwrap(), ("a b".into(), false));
        assert_eq!(norm("/caf%C3%A9").unwrap(), ("café".into(), false));
    }

    #[test]
    fn traversal_is_refused_in_every_spelling() {
        for p in [
            "/..",
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/a%2f..%2f..%2fetc",
            "/sub%2ff.txt",
            "/sub%2Fput.txt",
            "/.%2e/x",
            "/a/..",
            "/a\\b",
            "/a%00b",
            "/a%0",
            "/a%zz",
            "relative",
        ] {
            assert_eq!(norm(p), Err(PathError::BadRequest), "{p}");
        }
    }

    #[test]
    fn encoded_backslash_is_a_name_byte() {
        assert_eq!(norm("/a%5Cb").unwrap(), ("a\\b".into(), false));
        // Not `..`: one segment named `..\windows` (a dot-file, so hidden by default).
        assert_eq!(norm("/..%5cwindows"), Err(PathError::Hidden));
    }

    #[test]
    fn trailing_slash_is_read_from_the_decoded_path() {
        assert_eq!(norm("/a/").unwrap(), ("a".into(), true));
        assert_eq!(norm("/a/.").unwrap(), ("a".into(), true));
        assert_eq!(norm("/a/%2e").unwrap(), ("a".into(), true));
        assert_eq!(norm("/a").unwrap(), ("a".into(), false));
        assert_eq!(norm("/").unwrap(), (String::new(), false));
        assert_eq!(norm("//").unwrap(), (String::new(), false));
    }

    #[test]
    fn dot_files_are_hidden_unless_allowed() {
        assert_eq!(norm("/.git/config"), Err(PathError::Hidden));
        assert_eq!(norm("/a/.env"), Err(PathError::Hidden));
        assert_eq!(norm("/%2eenv"), Err(PathError::Hidden));
        let mut out = Vec::new();
        assert!(normalize(b"/.env", true, &mut out).is_ok());
        assert_eq!(out, b".env");
    }

    #[test]
    fn targets_split_query_and_absolute_form() {
        let t = split_target(b"/a?x=1").unwrap();
        assert_eq!((t.path, t.query), (&b"/a"[..], Some(&b"x=1"[..])));
        let t = split_target(b"http://example.com/p/q?z").unwrap();
        assert_eq!((t.path, t.query), (&b"/p/q"[..], Some(&b"z"[..])));
        let t = split_target(b"http://example.com").unwrap();
        assert_eq!(t.path, b"/");
        assert!(split_target(b"*").is_err());
        assert!(split_target(b"ftp://x/").is_err());
        assert!(split_target(b"/a#frag").is_err());
    }

    #[test]
    fn segments_are_encoded_for_links() {
        assert_eq!(encode_segment(b"a b#?%.txt"), "a%20b%23%3F%25.txt");
        assert_eq!(encode_segment("é".as_bytes()), "%C3%A9");
    }
}
