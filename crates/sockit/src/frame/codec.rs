//! [`FrameCodec`]: one codec type for every [`Framing`], so connections can be written
//! once and framed any way.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder, Encoder};

use super::fixed::FixedCodec;
use super::length::LengthCodec;
use super::struct_header::StructHeaderCodec;
use super::varint::VarintCodec;
use super::{FrameError, Framing};

/// A decoder and encoder for one [`Framing`], with a maximum frame length.
///
/// Decoding yields each message without its delimiter or length prefix; encoding appends
/// a message with them. With [`Framing::Raw`] decoding yields whatever bytes have arrived
/// (a read's worth) and encoding copies bytes unchanged.
#[derive(Debug)]
pub struct FrameCodec {
    framing: Framing,
    max: usize,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Raw,
    Delimited {
        codec: AnyDelimiterCodec,
        delimiter: u8,
    },
    Length(LengthCodec),
    Varint(VarintCodec),
    Struct(StructHeaderCodec),
    Fixed(FixedCodec),
    /// `fixed:N` with N above the maximum frame: refused at the first byte (a record is
    /// held whole before it is handed out, so it must fit the limit like any frame).
    FixedTooLong(usize),
}

impl FrameCodec {
    /// A codec for `framing` refusing frames over `max_frame` bytes (`--max-frame`).
    /// `len16` frames are further limited to 65535 bytes by their 2-byte prefix; a
    /// `fixed:N` framing with N over `max_frame` refuses every record (check sizes when
    /// parsing options so this never happens to a user).
    pub fn new(framing: &Framing, max_frame: usize) -> FrameCodec {
        let max_frame = max_frame.max(1);
        let (max, inner) = match framing {
            Framing::Raw => (max_frame, Inner::Raw),
            Framing::Line | Framing::Null => {
                let delimiter = if *framing == Framing::Line { b'\n' } else { 0 };
                let codec = AnyDelimiterCodec::new_with_max_length(
                    vec![delimiter],
                    vec![delimiter],
                    max_frame,
                );
                (max_frame, Inner::Delimited { codec, delimiter })
            }
            Framing::Len16 | Framing::Len32 => {
                let width = if *framing == Framing::Len16 { 2 } else { 4 };
                let codec = LengthCodec::new(width, max_frame);
                (codec.max_frame(), Inner::Length(codec))
            }
            Framing::Varint => (max_frame, Inner::Varint(VarintCodec::new(max_frame))),
            Framing::Struct(header) => {
                let codec = StructHeaderCodec::new(header.clone(), max_frame);
                (codec.max_frame(), Inner::Struct(codec))
            }
            Framing::Fixed(size) if *size > max_frame => (max_frame, Inner::FixedTooLong(*size)),
            Framing::Fixed(size) => (*size, Inner::Fixed(FixedCodec::new(*size))),
        };
        FrameCodec {
            framing: framing.clone(),
            max,
            inner,
        }
    }

    /// The framing this codec speaks.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// The largest frame this codec accepts or produces.
    pub fn max_frame(&self) -> usize {
        self.max
    }

    fn delimiter_name(delimiter: u8) -> &'static str {
        if delimiter == b'\n' {
            "newline"
        } else {
            "NUL"
        }
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        match &mut self.inner {
            Inner::Raw => Ok(if src.is_empty() {
                None
            } else {
                Some(src.split().freeze())
            }),
            Inner::Delimited { codec, delimiter } => match codec.decode(src) {
                Ok(Some(frame)) => Ok(Some(strip_cr(frame, *delimiter))),
                Ok(None) => Ok(None),
                Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => {
                    Err(FrameError::NoDelimiter {
                        delimiter: Self::delimiter_name(*delimiter),
                        max: self.max,
                    })
                }
                Err(AnyDelimiterCodecError::Io(err)) => Err(FrameError::Io(err)),
            },
            Inner::Length(codec) => codec.decode(src),
            Inner::Varint(codec) => codec.decode(src),
            Inner::Struct(codec) => codec.decode(src),
            Inner::Fixed(codec) => codec.decode(src),
            Inner::FixedTooLong(size) => {
                if src.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::TooLong {
                        len: *size as u64,
                        max: self.max,
                    })
                }
            }
        }
    }

    /// At the end of the stream a delimited framing delivers a last message without its
    /// delimiter (like a text file without a final newline); a length-prefixed framing
    /// with bytes left over means the peer closed mid-frame.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        match &mut self.inner {
            Inner::Raw => Ok(None),
            Inner::Delimited { codec, delimiter } => match codec.decode_eof(src) {
                Ok(frame) => Ok(frame.map(|f| strip_cr(f, *delimiter))),
                Err(AnyDelimiterCodecError::Io(err)) => Err(FrameError::Io(err)),
                Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => {
                    Err(FrameError::NoDelimiter {
                        delimiter: Self::delimiter_name(*delimiter),
                        max: self.max,
                    })
                }
            },
            Inner::Length(codec) => codec.decode_eof(src),
            Inner::FixedTooLong(_) => Ok(None),
            Inner::Varint(codec) => {
                if src.is_empty() && !codec.in_frame() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated(src.len()))
                }
            }
            Inner::Struct(codec) => codec.decode_eof(src),
            Inner::Fixed(codec) => codec.decode_eof(src),
        }
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        let too_long = || FrameError::MessageTooLong {
            len: msg.len(),
            max: self.max,
            framing: self.framing.clone(),
        };
        match &mut self.inner {
            Inner::Raw => {
                dst.extend_from_slice(msg);
                Ok(())
            }
            Inner::Delimited { delimiter, .. } => {
                if msg.len() > self.max {
                    return Err(too_long());
                }
                if memchr(*delimiter, msg) {
                    return Err(FrameError::DelimiterInMessage {
                        delimiter: Self::delimiter_name(*delimiter),
                        framing: self.framing.clone(),
                    });
                }
                dst.reserve(msg.len() + 1);
                dst.put_slice(msg);
                dst.put_u8(*delimiter);
                Ok(())
            }
            Inner::Length(codec) => codec.encode(msg, dst),
            Inner::Varint(codec) => codec.encode(msg, dst),
            Inner::Struct(codec) => codec.encode(msg, dst),
            Inner::Fixed(codec) => codec.encode(msg, dst),
            Inner::FixedTooLong(_) => Err(too_long()),
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> bool {
    haystack.contains(&needle)
}

/// Line framing accepts `\r\n` line ends too (telnet, `nc -C`, Windows tools).
fn strip_cr(frame: Bytes, delimiter: u8) -> Bytes {
    if delimiter == b'\n' && frame.last() == Some(&b'\r') {
        frame.slice(..frame.len() - 1)
    } else {
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGES: &[&[u8]] = &[
        b"hello",
        b"",
        b"a bit longer message",
        b"x",
        b"\x01\x02 binary \xff",
    ];

    fn encode_all(framing: &Framing, msgs: &[&[u8]]) -> Vec<u8> {
        let mut codec = FrameCodec::new(framing, 1 << 20);
        let mut out = BytesMut::new();
        for m in msgs {
            codec.encode(*m, &mut out).unwrap();
        }
        out.to_vec()
    }

    /// Feeds `wire` in pieces of `step` bytes, as the worst possible network would.
    fn decode_in_steps(framing: &Framing, wire: &[u8], step: usize) -> Vec<Vec<u8>> {
        let mut codec = FrameCodec::new(framing, 1 << 20);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                out.push(frame.to_vec());
            }
        }
        while let Some(frame) = codec.decode_eof(&mut buf).unwrap() {
            out.push(frame.to_vec());
        }
        out
    }

    #[test]
    fn every_framing_survives_one_byte_segmentation() {
        let struct_framings = ["struct:!I", "struct:<H", "struct:>q"].map(|f| f.parse().unwrap());
        for framing in [Framing::Len16, Framing::Len32, Framing::Varint]
            .into_iter()
            .chain(struct_framings)
        {
            let wire = encode_all(&framing, MESSAGES);
            for step in [1, 2, 3, 7, wire.len()] {
                let got = decode_in_steps(&framing, &wire, step);
                assert_eq!(
                    got,
                    MESSAGES.iter().map(|m| m.to_vec()).collect::<Vec<_>>(),
                    "{framing} step {step}"
                );
            }
        }
        // Delimited framings cannot carry their delimiter; these messages have none.
        let text: &[&[u8]] = &[b"hello", b"", b"world", b"x y z"];
        for framing in [Framing::Line, Framing::Null] {
            let wire = encode_all(&framing, text);
            for step in [1, 2, 5, wire.len()] {
                let got = decode_in_steps(&framing, &wire, step);
                assert_eq!(
                    got,
                    text.iter().map(|m| m.to_vec()).collect::<Vec<_>>(),
                    "{framing} step {step}"
                );
            }
        }
    }

    #[test]
    fn raw_yields_what_arrived() {
        let got = decode_in_steps(&Framing::Raw, b"abcdef", 4);
        assert_eq!(got, vec![b"abcd".to_vec(), b"ef".to_vec()]);
    }

    #[test]
    fn wire_formats_are_exact() {
        assert_eq!(encode_all(&Framing::Len16, &[b"hi"]), b"\x00\x02hi");
        assert_eq!(encode_all(&Framing::Len32, &[b"hi"]), b"\x00\x00\x00\x02hi");
        assert_eq!(encode_all(&Framing::Varint, &[b"hi"]), b"\x02hi");
        assert_eq!(encode_all(&Framing::Line, &[b"hi"]), b"hi\n");
        assert_eq!(encode_all(&Framing::Null, &[b"hi"]), b"hi\0");
    }

    #[test]
    fn line_framing_drops_cr_and_keeps_a_last_unterminated_line() {
        let got = decode_in_steps(&Framing::Line, b"one\r\ntwo\nthree", 1);
        assert_eq!(
            got,
            vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
    }

    #[test]
    fn length_prefix_over_max_is_an_error_not_an_allocation() {
        for (framing, wire) in [
            (Framing::Len32, &b"\xff\xff\xff\xff"[..]),
            (Framing::Len16, &b"\x00\x65"[..]),
            (Framing::Varint, &b"\xff\xff\xff\xff\x0f"[..]),
        ] {
            let mut codec = FrameCodec::new(&framing, 100);
            let mut buf = BytesMut::from(wire);
            match codec.decode(&mut buf) {
                Err(FrameError::TooLong { len, max: 100 }) => assert!(len > 100),
                other => panic!("{framing}: {other:?}"),
            }
            assert!(
                buf.capacity() < 1024,
                "{framing} allocated {}",
                buf.capacity()
            );
        }
    }

    #[test]
    fn frame_of_exactly_max_is_accepted() {
        for framing in [Framing::Len32, Framing::Varint, Framing::Line] {
            let mut codec = FrameCodec::new(&framing, 10);
            let mut buf = BytesMut::new();
            codec.encode(&b"0123456789"[..], &mut buf).unwrap();
            assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"0123456789"[..]);
            assert!(codec.encode(&b"0123456789a"[..], &mut buf).is_err());
        }
    }

    #[test]
    fn delimiter_missing_beyond_max_is_an_error() {
        let mut codec = FrameCodec::new(&Framing::Line, 8);
        let mut buf = BytesMut::from(&b"0123456789abcdef"[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FrameError::NoDelimiter { max: 8, .. })
        ));
    }

    #[test]
    fn len16_is_capped_at_65535() {
        let mut codec = FrameCodec::new(&Framing::Len16, 1 << 20);
        assert_eq!(codec.max_frame(), 65535);
        let mut buf = BytesMut::new();
        assert!(matches!(
            codec.encode(&vec![0u8; 65536][..], &mut buf),
            Err(FrameError::MessageTooLong { max: 65535, .. })
        ));
    }

    #[test]
    fn close_mid_frame_is_reported() {
        let mut codec = FrameCodec::new(&Framing::Len32, 100);
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x05hel"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(FrameError::Truncated(_))
        ));
        // Only the prefix arrived: still mid-frame.
        for framing in [Framing::Len32, Framing::Varint] {
            let mut codec = FrameCodec::new(&framing, 100);
            let mut buf = BytesMut::new();
            codec.encode(&b"hello"[..], &mut buf).unwrap();
            buf.truncate(buf.len() - 5);
            assert!(codec.decode(&mut buf).unwrap().is_none());
            assert!(buf.is_empty());
            assert!(
                matches!(codec.decode_eof(&mut buf), Err(FrameError::Truncated(0))),
                "{framing}"
            );
        }
    }

    #[test]
    fn announced_lengths_below_max_reserve_nothing() {
        // A peer promising a big frame and sending 10 bytes costs 10 bytes, not the frame.
        for (framing, header) in [
            (Framing::Len32, &b"\x00\xf0\x00\x00"[..]),
            (Framing::Varint, &b"\x80\x80\xc0\x07"[..]),
            ("struct:!Q".parse().unwrap(), &b"\0\0\0\0\0\xf0\0\0"[..]),
        ] {
            let mut codec = FrameCodec::new(&framing, 16 << 20);
            let mut buf = BytesMut::from(header);
            buf.extend_from_slice(b"0123456789");
            assert!(codec.decode(&mut buf).unwrap().is_none(), "{framing}");
            assert!(buf.capacity() < 4096, "{framing}: {}", buf.capacity());
        }
        let mut codec = FrameCodec::new(&Framing::Fixed(10 << 20), 16 << 20);
        let mut buf = BytesMut::from(&b"abc"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(buf.capacity() < 4096, "fixed: {}", buf.capacity());
    }

    #[test]
    fn fixed_records_over_max_are_refused_not_buffered() {
        for size in [100_000_000_000usize, usize::MAX] {
            let mut codec = FrameCodec::new(&Framing::Fixed(size), 16 << 20);
            assert_eq!(codec.max_frame(), 16 << 20);
            let mut buf = BytesMut::new();
            assert!(codec.decode(&mut buf).unwrap().is_none());
            buf.extend_from_slice(b"x");
            assert!(matches!(
                codec.decode(&mut buf),
                Err(FrameError::TooLong { max, .. }) if max == 16 << 20
            ));
            assert!(codec.encode(&b"x"[..], &mut buf).is_err());
        }
    }

    #[test]
    fn delimiter_inside_a_message_is_refused() {
        let mut codec = FrameCodec::new(&Framing::Null, 100);
        let mut buf = BytesMut::new();
        assert!(matches!(
            codec.encode(&b"a\0b"[..], &mut buf),
            Err(FrameError::DelimiterInMessage { .. })
        ));
    }
}
