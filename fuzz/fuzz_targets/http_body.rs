//! Request bodies through `BodyDecoder`, fed the way a socket delivers them: the same bytes
//! whole, cut where the fuzzer says, and one byte at a time must give the same body data,
//! the same outcome (complete / malformed / truncated) and, when complete, the same end
//! offset (the bytes after it are the next pipelined request). Every `Step` must stay
//! inside its input, and the decoder must never stall: a step that produces no data and
//! does not finish consumes everything it was given.
//!
//! Three modes (first byte): arbitrary bytes as a chunked body; arbitrary bytes under
//! `Content-Length: n` (n from the input), which must yield exactly the first n bytes; or
//! a valid chunked encoding built from the input (RFC 9112 §7.1: hex sizes in either case
//! with leading zeros, extensions with optional whitespace and quoted values, trailer
//! fields, then the next request), which must decode to exactly the data it encodes.
//!
//! Layout: mode, count of cut sizes, the cut sizes, [when mode & 0xC0 == 0xC0: offset
//! u16, count u16, fill], payload (inflated: `count` copies of `fill` inserted at
//! `offset`, count read by `common::inflation_count`, to reach the 4 and 16 KiB limits). In the `Content-Length` mode the payload's
//! first two bytes give n; in the valid-encoding mode its second half steers the encoder.
#![no_main]

mod common;

/// Most bytes an inflation inserts: enough to pass the 16 KiB trailer limit.
const LIMIT: u16 = 20_000;

use common::Input;
use libfuzzer_sys::fuzz_target;
use sockit::http::proto::body::{BodyDecoder, BodyError};
use sockit::http::proto::request::Framing;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Complete; the body ended at this offset of the input.
    Done(usize),
    Malformed,
    /// All input consumed, more needed.
    Truncated,
}

/// Decodes `input` made available up to each offset of `cuts` in turn.
fn run(framing: Framing, input: &[u8], cuts: &[usize]) -> (Vec<u8>, Outcome) {
    let mut dec = BodyDecoder::new(framing);
    let mut body = Vec::new();
    let mut pos = 0;
    let mut cuts = cuts.iter().copied();
    let mut avail = 0;
    loop {
        let slice = &input[pos..avail];
        let step = match dec.decode(slice) {
            Ok(step) => step,
            Err(BodyError::Malformed) => return (body, Outcome::Malformed),
        };
        assert!(step.consumed <= slice.len(), "consumed past the input");
        assert_eq!(dec.is_done(), step.done);
        if let Some(r) = &step.data {
            assert!(
                r.start < r.end && r.end <= step.consumed,
                "{r:?} / {step:?}"
            );
            body.extend_from_slice(&slice[r.clone()]);
        } else if !step.done {
            assert_eq!(step.consumed, slice.len(), "stalled: {step:?}");
        }
        pos += step.consumed;
        if step.done {
            // Finished stays finished and takes nothing more.
            let again = dec.decode(&input[pos..]).expect("decode after done");
            assert_eq!((again.consumed, again.data, again.done), (0, None, true));
            return (body, Outcome::Done(pos));
        }
        if pos == avail {
            match cuts.next() {
                Some(c) => avail = c.max(avail),
                None => return (body, Outcome::Truncated),
            }
        }
    }
}

/// Appends a valid chunked encoding of `data`, cut into chunks by the parameters.
fn encode(p: &mut Input<'_>, data: &[u8], out: &mut Vec<u8>) {
    let mut rest = data;
    loop {
        let last = rest.is_empty();
        let n = if last {
            0
        } else {
            (usize::from(p.byte()) + 1).min(rest.len())
        };
        let style = p.byte();
        let hex = if style & 1 == 0 {
            format!("{n:x}")
        } else {
            format!("{n:X}")
        };
        // Leading zeros, up to the 15 digits the decoder accepts.
        let zeros = usize::from(style >> 1 & 7).min(15 - hex.len());
        out.extend(std::iter::repeat_n(b'0', zeros));
        out.extend_from_slice(hex.as_bytes());
        match style >> 4 & 3 {
            0 => {}
            1 => out.extend_from_slice(b";foo"),
            2 => out.extend_from_slice(b" ;\tname = value ; x=\"q;\\\"\\x \xe9\""),
            _ => out.extend_from_slice(b";a=1;b;c=\"\""),
        }
        out.extend_from_slice(b"\r\n");
        if last {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    for _ in 0..p.byte() % 3 {
        out.extend_from_slice(b"X-Trailer: v \t\xff\r\nEmpty:\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fuzz_target!(|data: &[u8]| {
    let mut p = Input(data);
    let mode = p.byte();
    let ncuts = usize::from(p.byte() % 32);
    let sizes = p.take(ncuts);
    let payload = p.payload(mode & 0xC0 == 0xC0, LIMIT);
    // `p` is empty now; the encoder below reads its parameters from the payload's tail.

    let (framing, input, expected) = match mode % 3 {
        0 => (Framing::Chunked, payload, None),
        1 => {
            let mut q = Input(&payload);
            let n = u64::from(q.u16()) % 20_000;
            (Framing::Length(n), q.rest().to_vec(), None)
        }
        _ => {
            // The first half of the payload is the data, the second steers the encoder;
            // a pipelined request follows the body.
            let (data, params) = payload.split_at(payload.len() / 2);
            let mut input = Vec::new();
            encode(&mut Input(params), data, &mut input);
            let end = input.len();
            input.extend_from_slice(b"GET / HTTP/1.1\r\n");
            (Framing::Chunked, input, Some((data.to_vec(), end)))
        }
    };

    let whole = run(framing, &input, &[input.len()]);
    let cut = run(framing, &input, &common::cuts(sizes, input.len()));
    let bytewise = run(framing, &input, &common::bytewise(input.len()));
    assert_eq!(whole, cut, "whole vs cut at {sizes:?}");
    assert_eq!(whole, bytewise, "whole vs byte by byte");

    if let Framing::Length(n) = framing {
        let n = n as usize;
        if input.len() >= n {
            assert_eq!(whole, (input[..n].to_vec(), Outcome::Done(n)));
        } else {
            assert_eq!(whole, (input.clone(), Outcome::Truncated));
        }
    }
    if let Some((data, end)) = expected {
        assert_eq!(whole, (data, Outcome::Done(end)), "valid chunked body");
    }
});
