//! Conditional requests (RFC 9110 §13): let caches revalidate for free (304) and stop
//! lost updates (412).

use super::fields::trim;

/// What the preconditions say to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Carry on with the method.
    Proceed,
    /// 304 Not Modified (GET/HEAD whose cached copy is current).
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// The validators of the selected representation, if it exists.
#[derive(Debug, Clone, Copy)]
pub struct Validators<'a> {
    /// Strong entity tag, with its quotes (`"…"`).
    pub etag: &'a [u8],
    /// Last modification time, whole seconds since the Unix epoch.
    pub modified: u64,
}

/// Parses an HTTP date into Unix seconds; invalid dates are ignored by the caller.
pub fn parse_date(value: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(trim(value)).ok()?;
    let t = httpdate::parse_http_date(s).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// Iterates the entity tags of an `If-Match` / `If-None-Match` list as `(weak, tag)`,
/// where `tag` keeps its quotes. Stops at the first malformed element.
fn tags(list: &[u8]) -> impl Iterator<Item = (bool, &[u8])> {
    let mut rest = list;
    std::iter::from_fn(move || {
        while let Some(b' ' | b'\t' | b',') = rest.first() {
            rest = &rest[1..];
        }
        let weak = rest.starts_with(b"W/");
        if weak {
            rest = &rest[2..];
        }
        if rest.first() != Some(&b'"') {
            return None;
        }
        let close = rest[1..].iter().position(|&b| b == b'"')? + 1;
        let tag = &rest[..=close];
        rest = &rest[close + 1..];
        Some((weak, tag))
    })
}

/// Does the list match? `*` matches any existing representation. `weak` selects the weak
/// comparison (If-None-Match) instead of the strong one (If-Match, If-Range).
pub fn list_matches(list: &[u8], etag: Option<&[u8]>, weak: bool) -> bool {
    let Some(etag) = etag else {
        return false;
    };
    if trim(list) == b"*" {
        return true;
    }
    tags(list).any(|(is_weak, tag)| tag == etag && (weak || !is_weak))
}

/// The precondition fields of a request (RFC 9110 §13.1), as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Preconditions<'a> {
    /// `If-Match`.
    pub if_match: Option<&'a [u8]>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a [u8]>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<&'a [u8]>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<&'a [u8]>,
}

/// Evaluates the preconditions in the order RFC 9110 §13.2.2 prescribes.
///
/// `current` is `None` when the target does not exist (then `If-Match` fails and
/// `If-None-Match: *` passes, which is how PUT does create-only).
pub fn evaluate(req: Preconditions<'_>, current: Option<Validators<'_>>, safe: bool) -> Outcome {
    let etag = current.map(|v| v.etag);
    if let Some(list) = req.if_match {
        if !list_matches(list, etag, false) {
            return Outcome::Failed;
        }
    } else if let (Some(v), Some(cur)) = (req.if_unmodified_since, current) {
        if parse_date(v).is_some_and(|since| cur.modified > since) {
            return Outcome::Failed;
        }
    }
    if let Some(list) = req.if_none_match {
        let exists_match = if trim(list) == b"*" {
            current.is_some()
        } else {
            list_matches(list, etag, true)
        };
        if exists_match {
            return if safe {
                Outcome::NotModified
            } else {
                Outcome::Failed
            };
        }
    } else if let (true, Some(v), Some(cur)) = (safe, req.if_modified_since, current) {
        if parse_date(v).is_some_and(|since| cur.modified <= since) {
            return Outcome::NotModified;
        }
    }
    Outcome::Proceed
}

/// `If-Range`: should the `Range` header be honoured? Only if the validator still
/// matches exactly (strong ETag, or the exact Last-Modified date); otherwise the client
/// gets the whole new representation instead of a splice of old and new bytes.
pub fn if_range_holds(value: &[u8], cur: Validators<'_>) -> bool {
    let v = trim(value);
    if v.starts_with(b"\"") {
        return v == cur.etag;
    }
    if v.starts_with(b"W/") {
        return false;
    }
    parse_date(v) == Some(cur.modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::proto::request::{header_slots, parse};

    const ETAG: &[u8] = b"\"abc\"";
    const MODIFIED: u64 = 1_700_000_000; // Tue, 14 Nov 2023 22:13:20 GMT

    fn check(extra: &str, exists: bool, safe: bool) -> Outcome {
        let text = format!("GET / HTTP/1.1\r\nHost: x\r\n{extra}\r\n");
        let mut hdrs = header_slots();
        let req = parse(text.as_bytes(), &mut hdrs).unwrap().unwrap();
        let cur = exists.then_some(Validators {
            etag: ETAG,
            modified: MODIFIED,
        });
        evaluate(req.preconditions(), cur, safe)
    }

    #[test]
    fn if_none_match_gives_304_for_get_and_412_otherwise() {
        assert_eq!(
            check("If-None-Match: \"abc\"\r\n", true, true),
            Outcome::NotModified
        );
        assert_eq!(
            check("If-None-Match: W/\"abc\"\r\n", true, true),
            Outcome::NotModified
        );
        assert_eq!(
            check("If-None-Match: \"x\", \"abc\"\r\n", true, true),
            Outcome::NotModified
        );
        assert_eq!(
            check("If-None-Match: *\r\n", true, true),
            Outcome::NotModified
        );
        assert_eq!(
            check("If-None-Match: *\r\n", false, false),
            Outcome::Proceed
        );
        assert_eq!(check("If-None-Match: *\r\n", true, false), Outcome::Failed);
        assert_eq!(
            check("If-None-Match: \"x\"\r\n", true, true),
            Outcome::Proceed
        );
    }

    #[test]
    fn if_modified_since_is_ignored_when_if_none_match_present() {
        let ims = "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n";
        assert_eq!(check(ims, true, true), Outcome::NotModified);
        assert_eq!(
            check(&format!("{ims}If-None-Match: \"other\"\r\n"), true, true),
            Outcome::Proceed
        );
        assert_eq!(
            check(
                "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n",
                true,
                true
            ),
            Outcome::Proceed
        );
        assert_eq!(
            check("If-Modified-Since: garbage\r\n", true, true),
            Outcome::Proceed
        );
        assert_eq!(check(ims, true, false), Outcome::Proceed);
    }

    #[test]
    fn if_match_and_if_unmodified_since() {
        assert_eq!(
            check("If-Match: \"abc\"\r\n", true, false),
            Outcome::Proceed
        );
        assert_eq!(
            check("If-Match: W/\"abc\"\r\n", true, false),
            Outcome::Failed
        );
        assert_eq!(check("If-Match: \"zzz\"\r\n", true, true), Outcome::Failed);
        assert_eq!(check("If-Match: *\r\n", false, false), Outcome::Failed);
        assert_eq!(check("If-Match: *\r\n", true, false), Outcome::Proceed);
        assert_eq!(
            check(
                "If-Unmodified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n",
                true,
                true
            ),
            Outcome::Failed
        );
        assert_eq!(
            check(
                "If-Unmodified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n",
                true,
                true
            ),
            Outcome::Proceed
        );
        // If-Match takes precedence over If-Unmodified-Since.
        assert_eq!(
            check(
                "If-Match: \"abc\"\r\nIf-Unmodified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n",
                true,
                true
            ),
            Outcome::Proceed
        );
        // A failed If-Match wins over a matching If-None-Match.
        assert_eq!(
            check("If-Match: \"no\"\r\nIf-None-Match: \"abc\"\r\n", true, true),
            Outcome::Failed
        );
    }

    #[test]
    fn if_range_needs_exact_validator() {
        let cur = Validators {
            etag: ETAG,
            modified: MODIFIED,
        };
        assert!(if_range_holds(b"\"abc\"", cur));
        assert!(!if_range_holds(b"\"abd\"", cur));
        assert!(!if_range_holds(b"W/\"abc\"", cur));
        assert!(if_range_holds(b"Tue, 14 Nov 2023 22:13:20 GMT", cur));
        assert!(!if_range_holds(b"Tue, 14 Nov 2023 22:13:21 GMT", cur));
    }

    #[test]
    fn malformed_lists_do_not_match() {
        assert!(!list_matches(b"abc", Some(ETAG), true));
        assert!(!list_matches(b"\"abc", Some(ETAG), true));
        assert!(list_matches(b" ,\"abc\" ,", Some(ETAG), true));
    }
}
