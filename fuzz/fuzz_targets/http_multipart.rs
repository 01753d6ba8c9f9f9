//! Form uploads through the streaming `multipart::Parser`, pushed the way a socket
//! delivers them: the whole body at once, cut where the fuzzer says, and one byte at a
//! time (61 at a time past 1 KiB) must give the same events (part names and file names,
//! each part's data, the end) and the same verdict. The events must follow the grammar
//! `(Part Data* PartEnd)* End`, no data event is empty, no part's data contains the
//! delimiter, and after `finish()` the parser has either seen the closing boundary or failed.
//!
//! Two modes (first byte): arbitrary bytes as the body, or a valid body built from the
//! input (RFC 7578 / RFC 2046: preamble, parts with quoted or token `name` and optional
//! `filename` parameters in either order, padding after delimiters, epilogue), which must
//! give back exactly the parts it was built from. `multipart::boundary` gets arbitrary
//! Content-Type values (the input itself) and well-formed ones built from the boundary.
//!
//! Layout: mode, count of cut sizes, the cut sizes, [when mode & 0xC0 == 0xC0: offset
//! u16, count u16, fill], boundary length, boundary, payload (inflated:
//! `count` copies of `fill` inserted at `offset`, count read by `common::inflation_count`, to reach the 8 KiB part-head limit).
#![no_main]

mod common;

/// Most bytes an inflation inserts: enough to pass the 8 KiB part-head limit.
const LIMIT: u16 = 10_000;

use common::Input;
use libfuzzer_sys::fuzz_target;
use sockit::http::fuzzing::multipart::{self, Event, Parser};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Part {
        name: Option<String>,
        filename: Option<String>,
    },
    /// Consecutive data events merged.
    Data(Vec<u8>),
    PartEnd,
    End,
    Error,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Drains the parser's events; false once it failed.
fn drain(p: &mut Parser, evs: &mut Vec<Ev>) -> bool {
    loop {
        let ev = match p.next_event() {
            Ok(Some(ev)) => ev,
            Ok(None) => return true,
            Err(multipart::MultipartError) => {
                evs.push(Ev::Error);
                return false;
            }
        };
        match ev {
            Event::Part { name, filename } => evs.push(Ev::Part { name, filename }),
            Event::Data(d) => {
                assert!(!d.is_empty(), "empty data event");
                match evs.last_mut() {
                    Some(Ev::Data(prev)) => prev.extend_from_slice(d),
                    _ => evs.push(Ev::Data(d.to_vec())),
                }
            }
            Event::PartEnd => evs.push(Ev::PartEnd),
            Event::End => evs.push(Ev::End),
        }
    }
}

/// Runs the parser over `body` pushed in pieces ending at each offset of `cuts`.
fn run(boundary: &[u8], body: &[u8], cuts: &[usize]) -> Vec<Ev> {
    let mut p = Parser::new(boundary);
    let mut evs = Vec::new();
    let mut prev = 0;
    for &c in cuts {
        p.push(&body[prev..c]);
        prev = c;
        if !drain(&mut p, &mut evs) {
            return evs;
        }
    }
    p.finish();
    if drain(&mut p, &mut evs) {
        assert!(p.is_done(), "finished without End or error: {evs:?}");
    }
    assert_eq!(p.is_done(), evs.contains(&Ev::End));
    evs
}

/// The event grammar, and what a part's data may not contain.
fn check_grammar(evs: &[Ev], delim: &[u8]) {
    #[derive(PartialEq)]
    enum S {
        Between,
        InPart,
        Ended,
    }
    let mut s = S::Between;
    for ev in evs {
        s = match (s, ev) {
            (S::Between, Ev::Part { .. }) => S::InPart,
            (S::InPart, Ev::Data(d)) => {
                assert!(find(d, delim).is_none(), "part data contains the delimiter");
                S::InPart
            }
            (S::InPart, Ev::PartEnd) => S::Between,
            (S::Between, Ev::End) => S::Ended,
            (S::Between | S::InPart, Ev::Error) => S::Ended,
            (_, ev) => panic!("{ev:?} out of order in {evs:?}"),
        };
    }
}

/// RFC 2046 `bchars`.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

fn check_boundary_fn(boundary: &[u8], data: &[u8]) {
    for ct in [data, boundary] {
        if let Some(b) = multipart::boundary(ct) {
            assert!(!b.is_empty() && b.len() <= 70);
            let s = std::str::from_utf8(ct).expect("boundary from non-UTF-8");
            let kind = s.split(';').next().unwrap().trim();
            assert!(kind.eq_ignore_ascii_case("multipart/form-data"));
            assert!(find(ct, &b).is_some() && !b.contains(&b';'));
        }
    }
    // Well-formed values give the boundary back.
    if !boundary.is_empty()
        && boundary.iter().all(|&b| is_bchar(b))
        && boundary.last() != Some(&b' ')
    {
        let b = std::str::from_utf8(boundary).unwrap();
        let quoted = format!("Multipart/Form-Data; charset=utf-8; boundary=\"{b}\"");
        assert_eq!(
            multipart::boundary(quoted.as_bytes()).as_deref(),
            Some(boundary)
        );
        if boundary
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"'+_-.".contains(&c))
        {
            let token = format!("multipart/form-data;boundary={b}");
            assert_eq!(
                multipart::boundary(token.as_bytes()).as_deref(),
                Some(boundary)
            );
        }
    }
}

/// A parameter value: quoted with `\` escapes, or a bare token when it is one.
fn param_value(v: &str, quote: bool) -> String {
    let token = !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c));
    if token && !quote {
        return v.to_string();
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A short string over an alphabet with the characters that matter in header parameters.
fn text(p: &mut Input<'_>) -> String {
    const ALPHABET: [&str; 16] = [
        "a", "Z", "0", " ", ".", "-", "_", ";", "=", "\"", "\\", "é", "name", "filename", "'", ",",
    ];
    let n = p.byte() % 10;
    (0..n)
        .map(|_| ALPHABET[usize::from(p.byte() % 16)])
        .collect()
}

/// Builds a valid body; returns it with the events it must produce, or `None` when the
/// data happens to contain the delimiter (then it is not a valid body for this boundary).
fn build(boundary: &[u8], data: &[u8], p: &mut Input<'_>) -> Option<(Vec<u8>, Vec<Ev>)> {
    let mut delim = b"\r\n--".to_vec();
    delim.extend_from_slice(boundary);
    let mut body = Vec::new();
    let mut evs = Vec::new();
    let mut data = data;
    // RFC 2046 LWSP allowed after a boundary, before its CRLF.
    let padding = |p: &mut Input<'_>| match p.byte() % 4 {
        0 => &b""[..],
        1 => b" ",
        2 => b"\t \t",
        _ => b"",
    };
    if p.byte() & 1 == 1 {
        body.extend_from_slice(b"This is a preamble.\r\n");
    }
    let parts = p.byte() % 5;
    for _ in 0..parts {
        body.extend_from_slice(&delim[2..]);
        body.extend_from_slice(padding(p));
        body.extend_from_slice(b"\r\n");
        let style = p.byte();
        let name = text(p);
        let filename = (style & 1 == 1).then(|| text(p));
        let mut cd = String::from("Content-Disposition: form-data");
        let n = format!("; name={}", param_value(&name, style & 2 != 0));
        let f = filename
            .as_ref()
            .map(|f| format!("; filename={}", param_value(f, style & 4 != 0)))
            .unwrap_or_default();
        if style & 8 == 0 {
            cd = cd + &n + &f;
        } else {
            cd = cd + &f + &n;
        }
        if style & 16 != 0 {
            body.extend_from_slice(b"Content-Type: application/octet-stream\r\n");
        }
        body.extend_from_slice(cd.as_bytes());
        body.extend_from_slice(b"\r\n\r\n");
        let len = usize::from(p.u16()).min(data.len());
        let (content, rest) = data.split_at(len);
        data = rest;
        let mut check = content.to_vec();
        check.extend_from_slice(&delim);
        if find(&check, &delim) != Some(content.len()) {
            return None;
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
        evs.push(Ev::Part {
            name: Some(name),
            filename,
        });
        if !content.is_empty() {
            evs.push(Ev::Data(content.to_vec()));
        }
        evs.push(Ev::PartEnd);
    }
    // The closing delimiter (a part's content is followed by the CRLF that starts it).
    body.extend_from_slice(&delim[2..]);
    body.extend_from_slice(b"--");
    if p.byte() & 1 == 1 {
        body.extend_from_slice(b"\r\nepilogue\r\n--");
        body.extend_from_slice(boundary);
    }
    evs.push(Ev::End);
    // The preamble must not contain the delimiter either.
    let mut lead = b"\r\n".to_vec();
    lead.extend_from_slice(&body);
    let first = find(&lead, &delim)?;
    let preamble = if body.starts_with(b"This is a preamble.\r\n") {
        b"\r\nThis is a preamble.".len()
    } else {
        0
    };
    (first == preamble).then_some((body, evs))
}

fuzz_target!(|data: &[u8]| {
    let mut p = Input(data);
    let mode = p.byte();
    let ncuts = usize::from(p.byte() % 32);
    let sizes = p.take(ncuts);
    let blen = usize::from(p.byte() % 70) + 1;
    let boundary = p.take(blen).to_vec();
    let payload = p.payload(mode & 0xC0 == 0xC0, LIMIT);
    check_boundary_fn(&boundary, data);
    if boundary.is_empty() {
        return;
    }
    let mut delim = b"\r\n--".to_vec();
    delim.extend_from_slice(&boundary);

    let (body, expected) = if mode & 1 == 0 {
        (payload, None)
    } else {
        let (content, params) = payload.split_at(payload.len() / 2);
        match build(&boundary, content, &mut Input(params)) {
            Some((body, evs)) => (body, Some(evs)),
            None => return,
        }
    };

    let whole = run(&boundary, &body, &[body.len()]);
    check_grammar(&whole, &delim);
    let cut = run(&boundary, &body, &common::cuts(sizes, body.len()));
    assert_eq!(whole, cut, "whole vs cut at {sizes:?}");
    // The parser rescans a buffered part head on every push, so byte-by-byte is quadratic
    // in the head's length (and every compare goes through libFuzzer's memcmp hook): past
    // 1 KiB, 61-byte pieces instead.
    let small = if body.len() <= 1024 {
        common::bytewise(body.len())
    } else {
        (1..=body.len().div_ceil(61))
            .map(|k| (k * 61).min(body.len()))
            .collect()
    };
    let small = run(&boundary, &body, &small);
    assert_eq!(whole, small, "whole vs byte by byte");
    if let Some(expected) = expected {
        assert_eq!(
            whole,
            expected,
            "valid body {:?}",
            String::from_utf8_lossy(&body)
        );
    }
});
