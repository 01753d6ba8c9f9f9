//! Checks shared by the `frame_*` targets (`mod frame_common;` in each): every framing's
//! encoder and decoder round-trip whatever messages the input describes, however the wire
//! bytes are cut into reads; decoding arbitrary bytes gives the same frames and the same
//! error wherever the cuts fall, and no frame over the limit; the line splitter hands out
//! exactly the lines within its limit and never a part of a longer one.
#![allow(dead_code)]

use bytes::BytesMut;
use sockit::frame::{FrameCodec, Framing, LineSplitter, Piece};
use tokio_util::codec::{Decoder, Encoder};

/// Cuts `data` into pieces whose sizes cycle through `steps` (each 1..=256).
pub fn cut<'a>(data: &'a [u8], steps: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let step = steps
            .get(i % steps.len().max(1))
            .map_or(7, |&s| usize::from(s) + 1);
        let (a, b) = rest.split_at(step.min(rest.len()));
        pieces.push(a);
        rest = b;
        i += 1;
    }
    pieces
}

/// Frames decoded from `pieces`, then the error (as text) if decoding failed.
pub fn decode(framing: &Framing, max: usize, pieces: &[&[u8]]) -> (Vec<Vec<u8>>, Option<String>) {
    let mut codec = FrameCodec::new(framing, max);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame.to_vec()),
                Ok(None) => break,
                Err(err) => return (frames, Some(err.to_string())),
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(frame)) => frames.push(frame.to_vec()),
            Ok(None) => return (frames, None),
            Err(err) => return (frames, Some(err.to_string())),
        }
    }
}

/// The input: one byte of limit, four bytes of read sizes, then the payload, which is
/// both the arbitrary wire bytes and (split at 0xA5) the messages to round-trip.
pub fn check(framing: &Framing, data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let max = usize::from(data[0]) * 16 + 1;
    let steps = &data[1..5];
    let payload = &data[5..];

    // Arbitrary bytes: the cuts never change the outcome; no frame exceeds the limit.
    let whole = decode(framing, max, &[payload]);
    let pieces = decode(framing, max, &cut(payload, steps));
    assert_eq!(whole, pieces, "{framing}: segmentation changed the result");
    let limit = FrameCodec::new(framing, max).max_frame();
    assert!(
        whole.0.iter().all(|f| f.len() <= limit),
        "{framing}: frame over {limit}"
    );

    // Messages: what is encoded comes back whole and in order.
    let mut enc = FrameCodec::new(framing, max);
    let mut wire = BytesMut::new();
    let mut sent = Vec::new();
    for msg in payload.split(|&b| b == 0xa5) {
        let mut msg = msg.to_vec();
        match framing {
            Framing::Line => msg.retain(|&b| b != b'\n' && b != b'\r'),
            Framing::Null => msg.retain(|&b| b != 0),
            Framing::Fixed(n) => msg.resize(*n, b'.'),
            _ => {}
        }
        if enc.encode(&msg[..], &mut wire).is_ok() {
            sent.push(msg);
        } else {
            assert!(
                msg.len() > limit,
                "{framing}: refused a message within the limit"
            );
        }
    }
    let (got, err) = decode(framing, max, &cut(&wire, steps));
    assert_eq!(err, None, "{framing}: own encoding did not decode");
    assert_eq!(got, sent, "{framing}: round trip changed the messages");
}

/// The line splitter against a plain model: split on `\n`, keep lines within the limit,
/// one report per longer line, wherever the chunks end.
pub fn check_lines(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let max = usize::from(data[0]);
    let steps = &data[1..5];
    let input = &data[5..];

    let mut want: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if want.last().is_some_and(|l| l.is_empty()) {
        want.pop(); // after a final newline, or empty input: no last line
    }
    let errors = want.iter().filter(|l| l.len() > max).count();
    want.retain(|l| l.len() <= max);

    let mut splitter = LineSplitter::new(max, Framing::Len32);
    let (mut lines, mut reports) = (Vec::new(), 0);
    let mut on = |piece: Piece<'_>| {
        match piece {
            Piece::Line(line) => {
                assert!(line.len() <= max, "a line over the limit was handed out");
                lines.push(line.to_vec());
            }
            Piece::TooLong(_) => reports += 1,
        }
        Ok::<(), ()>(())
    };
    for chunk in cut(input, steps) {
        let _ = splitter.feed(chunk, &mut on);
    }
    let _ = splitter.feed_end(&mut on);
    assert_eq!(lines, want, "lines differ from the model");
    assert_eq!(reports, errors, "one report per over-long line");
}
