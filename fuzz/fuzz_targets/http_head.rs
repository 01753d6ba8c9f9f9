//! Arbitrary bytes as a request head, the way a hostile client would send them: the head
//! parser, the target → path mapping and the `Range` evaluation must never panic, and what
//! they accept must hold the server's invariants:
//!
//! - a parsed head ends inside the input, within the limits, with exactly one framing
//!   (no `Content-Length` with `Transfer-Encoding`, chunked only in 1.1, one Host in 1.1);
//!   the same head reparsed alone gives the same request, and no prefix of it is refused
//!   (a head must not be refused or accepted depending on how the bytes arrived);
//! - a normalized path has no `..`, `.` or empty segment, no leading `/`, no NUL, no
//!   `%2f` or raw backslash was in its target, and (hidden files off) it has no dot
//!   segment; it equals a naive decode-then-split
//!   reference and survives re-encoding with `encode_segment`;
//! - every range returned for any header value lies inside the file (`start <= end < len`),
//!   ranges are disjoint, at most `MAX_RANGES`.
//!
//! An input starting with 0xFF is inflated first (bytes 1..6: offset u16, count u16 read by
//! `common::inflation_count`, fill byte) so the 8 KiB target and 16 KiB head limits can be
//! reached.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sockit::http::fuzzing::path::{self, PathError};
use sockit::http::proto::fields;
use sockit::http::proto::range::{self, RangeResult, MAX_RANGES};
use sockit::http::proto::request::{self as message, Framing, Method};

/// The fields of a parsed request that must not depend on what follows the head.
fn summary(r: &message::Request<'_>) -> impl PartialEq + std::fmt::Debug {
    (
        r.method,
        r.method_str.to_owned(),
        r.target.to_vec(),
        r.minor,
        r.head_len,
        r.framing,
        r.keep_alive,
        r.expect_continue,
        r.range.map(<[u8]>::to_vec),
        r.headers.len(),
    )
}

fn check_request(input: &[u8], r: &message::Request<'_>) {
    assert!(r.head_len <= input.len(), "head_len past the input");
    assert!(r.head_len <= message::MAX_HEAD);
    assert!(!r.target.is_empty() && r.target.len() <= message::MAX_URI);
    assert!(r.minor <= 1, "HTTP/1.{}", r.minor);
    assert!(r.headers.len() <= message::MAX_HEADERS);
    let expected = match r.method_str {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "POST" => Method::Post,
        "CONNECT" => Method::Connect,
        _ => Method::Other,
    };
    assert_eq!(r.method, expected);
    let count = |name: &str| {
        r.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .count()
    };
    // The smuggling rules: one way to frame the body, and only in the forms we understand.
    let (cl, te, hosts) = (
        count("content-length"),
        count("transfer-encoding"),
        count("host"),
    );
    match r.framing {
        Framing::None => assert_eq!((cl, te), (0, 0)),
        Framing::Length(_) => assert!(cl >= 1 && te == 0),
        Framing::Chunked => assert!(cl == 0 && te == 1 && r.minor == 1),
    }
    if let Framing::Length(n) = r.framing {
        for h in r.headers {
            if h.name.eq_ignore_ascii_case("content-length") {
                for item in h.value.split(|&b| b == b',') {
                    let item = fields::trim(item);
                    assert!(!item.is_empty() && item.iter().all(u8::is_ascii_digit));
                    assert_eq!(std::str::from_utf8(item).unwrap().parse::<u64>(), Ok(n));
                }
            }
        }
    }
    assert!(hosts <= 1 && (r.minor == 0 || hosts == 1));
    let closes = r.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("connection") && fields::has_token(h.value, b"close")
    });
    let keeps = r.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("connection") && fields::has_token(h.value, b"keep-alive")
    });
    // 1.1 keeps the connection unless told to close; 1.0 only when asked to keep it.
    assert_eq!(r.keep_alive, !closes && (r.minor == 1 || keeps));
    if r.expect_continue {
        assert_eq!(r.minor, 1);
    }
}

/// Naive reference: percent-decode everything, then split and judge the segments.
fn reference_normalize(p: &[u8], hidden: bool) -> Result<Vec<u8>, PathError> {
    if !p.starts_with(b"/") {
        return Err(PathError::BadRequest);
    }
    let mut decoded = Vec::new();
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'%' {
            let hex = p.get(i + 1..i + 3).ok_or(PathError::BadRequest)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(PathError::BadRequest);
            }
            let b = u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap();
            // An encoded slash is refused; an encoded backslash is a name byte.
            if b == b'/' {
                return Err(PathError::BadRequest);
            }
            decoded.push(b);
            i += 3;
        } else {
            if p[i] == b'\\' {
                return Err(PathError::BadRequest);
            }
            decoded.push(p[i]);
            i += 1;
        }
    }
    if decoded.contains(&0) {
        return Err(PathError::BadRequest);
    }
    let segs: Vec<&[u8]> = decoded
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty() && *s != b".")
        .collect();
    if segs.iter().any(|s| *s == b"..") {
        return Err(PathError::BadRequest);
    }
    if !hidden && segs.iter().any(|s| s[0] == b'.') {
        return Err(PathError::Hidden);
    }
    Ok(segs.join(&b'/'))
}

fn check_path(target: &[u8]) {
    let Ok(t) = path::split_target(target) else {
        return;
    };
    assert!(t.path.starts_with(b"/"));
    assert!(!t.path.contains(&b'?') && !t.path.contains(&b'#'));
    if let Some(q) = t.query {
        assert!(target.ends_with(q));
    }
    let mut results = Vec::new();
    for hidden in [false, true] {
        let mut out = b"stale".to_vec();
        let res = path::normalize(t.path, hidden, &mut out);
        let got = res.map(|n| {
            let last = t.path.rsplit(|&b| b == b'/').next().unwrap_or(b"");
            let dir_form = last.is_empty() || last == b"." || last.eq_ignore_ascii_case(b"%2e");
            assert_eq!(n.trailing_slash, dir_form && !out.is_empty());
            out.clone()
        });
        assert_eq!(got, reference_normalize(t.path, hidden), "{:?}", t.path);
        if let Ok(out) = &got {
            assert!(!out.starts_with(b"/") && !out.ends_with(b"/"));
            assert!(!out.contains(&0));
            if !out.is_empty() {
                for seg in out.split(|&b| b == b'/') {
                    assert!(!seg.is_empty() && seg != b"." && seg != b"..");
                    assert!(hidden || seg[0] != b'.');
                }
            }
            // Links we generate for this path come back to it.
            let mut link = Vec::new();
            if !out.is_empty() {
                for seg in out.split(|&b| b == b'/') {
                    link.push(b'/');
                    link.extend_from_slice(path::encode_segment(seg).as_bytes());
                }
            } else {
                link.push(b'/');
            }
            let mut again = Vec::new();
            assert!(path::normalize(&link, hidden, &mut again).is_ok());
            assert_eq!(&again, out);
        }
        results.push(got);
    }
    // Allowing dot-files changes nothing but dot-files.
    match (&results[0], &results[1]) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(PathError::Hidden), Ok(_)) => {}
        (Err(PathError::BadRequest), Err(PathError::BadRequest)) => {}
        other => panic!("hidden=false vs true: {other:?}"),
    }
}

fn check_range(value: &[u8]) {
    let full_when_empty = range::evaluate(value, 0) == RangeResult::Full;
    for len in [0, 1, 2, 7, 1000, 1 << 40, u64::MAX - 1, u64::MAX] {
        let res = range::evaluate(value, len);
        if full_when_empty {
            // Syntax errors are ignored whatever the length.
            assert_eq!(res, RangeResult::Full);
        }
        let RangeResult::Ranges(rs) = res else {
            continue;
        };
        assert!(!rs.is_empty() && rs.len() <= MAX_RANGES);
        let mut total = 0u64;
        for r in &rs {
            assert!(r.start <= r.end && r.end < len, "{r:?} outside 0..{len}");
            assert_eq!(r.len(), r.end - r.start + 1);
            total += r.len();
        }
        assert!(total <= len);
        let mut sorted = rs.clone();
        sorted.sort_by_key(|r| r.start);
        for w in sorted.windows(2) {
            assert!(w[0].end < w[1].start, "overlapping ranges {rs:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let inflated;
    let input = match data.split_first() {
        Some((0xFF, rest)) => {
            inflated = common::Input(rest).payload(true, 20_000);
            &inflated[..]
        }
        _ => data,
    };

    let partial = message::check_partial(input);
    let mut slots = message::header_slots();
    let parsed = message::parse(input, &mut slots);
    match &parsed {
        Ok(None) => assert_eq!(partial, Ok(()), "needs more yet over a limit"),
        Err(e) => assert!(
            matches!(e.status, 400 | 414 | 431 | 505),
            "status {}",
            e.status
        ),
        Ok(Some(_)) => {}
    }
    let Ok(Some(req)) = parsed else {
        // Not a request: still give the path and range code the raw bytes (a prefix:
        // inflated inputs are long, and targets past 8 KiB are refused anyway).
        check_path(&input[..input.len().min(1024)]);
        check_range(&input[..input.len().min(512)]);
        return;
    };
    check_request(input, &req);

    // The head alone parses to the same request.
    let head = &input[..req.head_len];
    let mut slots2 = message::header_slots();
    let alone = message::parse(head, &mut slots2)
        .expect("head alone refused")
        .expect("head alone incomplete");
    assert_eq!(summary(&alone), summary(&req));

    // A head that arrives in pieces is never refused before it is complete (the
    // connection parses whatever it has buffered after every read).
    // Long heads: evenly spaced cuts, the last bytes, and every line without its LF.
    let n = req.head_len;
    let prefixes: Vec<usize> = if n <= 300 {
        (0..n).collect()
    } else {
        let lines = head.iter().enumerate().filter(|(_, &b)| b == b'\n');
        (0..16)
            .map(|k| k * n / 16)
            .chain(n - 8..n)
            .chain(lines.map(|(i, _)| i).take(120))
            .collect()
    };
    for k in prefixes {
        let mut s = message::header_slots();
        match message::parse(&input[..k], &mut s) {
            Ok(None) => {}
            Ok(Some(r)) => panic!("prefix of {k} bytes is a complete head of {}", r.head_len),
            Err(e) => panic!(
                "prefix of {k} bytes refused with {} but the whole head parses",
                e.status
            ),
        }
    }

    check_path(req.target);
    for h in req.headers {
        check_range(h.value);
    }
});
