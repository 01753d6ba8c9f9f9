//! Properties of the framing codecs and the stdin line splitter, over random messages and
//! random ways of cutting the bytes into reads (TCP may deliver any segmentation):
//!
//! - every framing's encoder and decoder round-trip any messages it accepts, whole and in
//!   order, however the wire bytes are split;
//! - decoding arbitrary bytes gives the same frames and the same error wherever the
//!   splits fall (no frame is ever handed out in part);
//! - the line splitter hands out exactly the lines within the limit, reports each longer
//!   line once, never emits a part of one, and does not care where chunks end.
//!
//! The same checks run under cargo-fuzz as `fuzz/fuzz_targets/frame_*.rs`.

use bytes::BytesMut;
use proptest::prelude::*;
use sockit::frame::{FrameCodec, FrameError, Framing, LineSplitter, Piece};
use tokio_util::codec::{Decoder, Encoder};

/// The framings under test (raw has no boundaries to keep).
fn framings() -> Vec<Framing> {
    let mut all = vec![
        Framing::Line,
        Framing::Null,
        Framing::Len16,
        Framing::Len32,
        Framing::Varint,
        Framing::Fixed(3),
    ];
    for fmt in ["struct:!I", "struct:<H", "struct:>q", "struct:B"] {
        all.push(fmt.parse().expect("valid header format"));
    }
    all
}

/// Cuts `data` at the given points (taken modulo its length, in any order).
fn cut<'a>(data: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = points
        .iter()
        .map(|p| if data.is_empty() { 0 } else { p % data.len() })
        .collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// Decodes pieces as a reader would: frames so far, then the error (as text) if any.
fn decode(framing: &Framing, max: usize, pieces: &[&[u8]]) -> (Vec<Vec<u8>>, Option<String>) {
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

/// Messages the framing can carry: no delimiter for line/null, exactly N bytes for fixed.
fn fit(framing: &Framing, msgs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    msgs.into_iter()
        .map(|mut m| {
            match framing {
                // A trailing \r is line framing's CRLF tolerance: it does not survive.
                Framing::Line => m.retain(|&b| b != b'\n' && b != b'\r'),
                Framing::Null => m.retain(|&b| b != 0),
                Framing::Fixed(n) => m.resize(*n, b'.'),
                _ => {}
            }
            m
        })
        .collect()
}

fn split_lines(max: usize, pieces: &[&[u8]]) -> (Vec<Vec<u8>>, usize) {
    let mut splitter = LineSplitter::new(max, Framing::Len32);
    let (mut lines, mut errors) = (Vec::new(), 0usize);
    let mut on = |piece: Piece<'_>| {
        match piece {
            Piece::Line(line) => lines.push(line.to_vec()),
            Piece::TooLong(FrameError::LineTooLong { max: m, .. }) => {
                assert_eq!(m, max);
                errors += 1;
            }
            Piece::TooLong(other) => panic!("unexpected error {other}"),
        }
        Ok::<(), ()>(())
    };
    for piece in pieces {
        splitter.feed(piece, &mut on).expect("callback never fails");
    }
    splitter.feed_end(&mut on).expect("callback never fails");
    (lines, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_framing_round_trips_under_any_segmentation(
        msgs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..250), 0..12),
        points in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        for framing in framings() {
            let msgs = fit(&framing, msgs.clone());
            let mut enc = FrameCodec::new(&framing, 1 << 20);
            let mut wire = BytesMut::new();
            for m in &msgs {
                enc.encode(&m[..], &mut wire).expect("message fits the framing");
            }
            let (got, err) = decode(&framing, 1 << 20, &cut(&wire, &points));
            prop_assert_eq!(err, None, "{}", framing);
            prop_assert_eq!(&got, &msgs, "{}", framing);
        }
    }

    #[test]
    fn segmentation_never_changes_what_arbitrary_bytes_decode_to(
        wire in prop::collection::vec(any::<u8>(), 0..400),
        points in prop::collection::vec(any::<usize>(), 0..20),
        max in 1usize..64,
    ) {
        for framing in framings() {
            let whole = decode(&framing, max, &[&wire]);
            let pieces = decode(&framing, max, &cut(&wire, &points));
            prop_assert_eq!(&pieces, &whole, "{}", framing);
            for frame in &whole.0 {
                prop_assert!(frame.len() <= max.max(3), "{} frame of {}", framing, frame.len());
            }
        }
    }

    #[test]
    fn line_splitter_skips_overlong_lines_whole_wherever_chunks_end(
        lines in prop::collection::vec(
            prop::collection::vec(prop::sample::select(b"ab \r\x00".to_vec()), 0..40), 0..10),
        final_newline in any::<bool>(),
        points in prop::collection::vec(any::<usize>(), 0..30),
        max in 0usize..30,
    ) {
        let mut input = lines.join(&b'\n');
        if final_newline && !lines.is_empty() {
            input.push(b'\n');
        }
        // What must come out: every line within the limit; one error per longer line.
        let mut want: Vec<Vec<u8>> = lines.clone();
        if !final_newline && want.last().is_some_and(|l| l.is_empty()) {
            want.pop(); // an empty unterminated last "line" is no input at all
        }
        let errors = want.iter().filter(|l| l.len() > max).count();
        want.retain(|l| l.len() <= max);
        let got = split_lines(max, &cut(&input, &points));
        prop_assert_eq!(&got, &(want, errors));
        prop_assert_eq!(&got, &split_lines(max, &[&input]));
    }
}
