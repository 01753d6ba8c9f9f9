//! `--frame struct:FMT`: a length prefix described by a Python `struct` format.
//!
//! The course's own cure for sticky packets: before each message, send
//! `struct.pack('!I', len(msg))`, and on receipt read `calcsize('!I')` bytes, unpack the
//! length, then read exactly that many bytes. Any format with exactly one integer field
//! works (`!I`, `<H`, `>Q`, `!i`...), so sockit talks to whatever header a Python peer
//! chose, byte order and width included.
//!
//! The announced length is checked before anything is buffered: a negative length (a
//! signed field such as `!i`) or one above `--max-frame` is an error, never an allocation.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use pystruct::{Struct, Value};
use tokio_util::codec::{Decoder, Encoder};

use super::{decode_prefixed, decode_prefixed_eof, FrameError, Framing, MAX_HEADER_SIZE};

/// A validated header format: exactly one integer field (pad bytes allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructHeader {
    /// Shared: a [`Framing`] (and so every frame error) carries a copy of the header.
    st: Arc<Struct>,
    /// The largest length the integer field can hold (e.g. 65535 for `!H`).
    field_max: u64,
}

impl StructHeader {
    /// Compiles and checks a header format such as `!I`.
    ///
    /// Refused: formats that do not compile, and formats whose values are not exactly one
    /// integer (`5s`, `!f`, `?`, `!II`), since the header must carry one length.
    pub fn new(format: &str) -> Result<StructHeader, String> {
        let st = Struct::new(format).map_err(|e| format!("struct:{format}: {e}"))?;
        if st.size() > MAX_HEADER_SIZE {
            return Err(format!(
                "struct:{format}: a header of {} bytes is too long (at most {MAX_HEADER_SIZE}; \
                 a length needs 8 at most)",
                st.size()
            ));
        }
        let zeros = vec![0u8; st.size()];
        let one_int =
            st.value_count() == 1 && matches!(st.unpack(&zeros).as_deref(), Ok([Value::Int(_)]));
        if !one_int {
            return Err(format!(
                "struct:{format}: a header format needs exactly one integer field to carry \
                 the length (such as !I, <H, >Q, !i)"
            ));
        }
        // The widest candidate the field packs is its maximum (pystruct range-checks).
        let field_max = [
            u64::MAX,
            i64::MAX as u64,
            u64::from(u32::MAX),
            i32::MAX as u64,
            u64::from(u16::MAX),
            i16::MAX as u64,
            u64::from(u8::MAX),
            i8::MAX as u64,
        ]
        .into_iter()
        .find(|&n| st.pack(&[Value::Int(i128::from(n))]).is_ok())
        .unwrap_or(0);
        Ok(StructHeader {
            st: Arc::new(st),
            field_max,
        })
    }

    /// The format, as given (`!I`).
    pub fn format(&self) -> &str {
        self.st.format()
    }

    /// The header size in bytes (`calcsize(FMT)`).
    pub fn size(&self) -> usize {
        self.st.size()
    }

    /// The largest length the header's integer field can carry.
    pub fn field_max(&self) -> u64 {
        self.field_max
    }
}

/// Decoder and encoder for messages preceded by a [`StructHeader`] holding their length.
#[derive(Debug, Clone)]
pub struct StructHeaderCodec {
    header: StructHeader,
    max: usize,
    /// The length of the message whose header has been consumed and whose body is awaited.
    pending: Option<usize>,
}

impl StructHeaderCodec {
    /// A codec refusing messages over `max` bytes (further capped by the field's range).
    pub fn new(header: StructHeader, max: usize) -> StructHeaderCodec {
        let max = usize::try_from(header.field_max)
            .unwrap_or(usize::MAX)
            .min(max);
        StructHeaderCodec {
            header,
            max,
            pending: None,
        }
    }

    /// The largest message accepted or sent.
    pub fn max_frame(&self) -> usize {
        self.max
    }

    /// True when a header has been read and its body is still awaited.
    pub fn in_frame(&self) -> bool {
        self.pending.is_some()
    }
}

impl Decoder for StructHeaderCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let header = &self.header;
        decode_prefixed(&mut self.pending, self.max, src, |buf| {
            let size = header.size();
            if buf.len() < size {
                return Ok(None);
            }
            let announced = match header.st.unpack(&buf[..size]) {
                Ok(values) => match values.first() {
                    Some(Value::Int(n)) => *n,
                    _ => 0,
                },
                // The header was validated; unpacking exactly `size` bytes cannot fail.
                Err(_) => 0,
            };
            if announced < 0 {
                return Err(FrameError::NegativeLength(announced));
            }
            Ok(Some((u64::try_from(announced).unwrap_or(u64::MAX), size)))
        })
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let frame = self.decode(src)?;
        decode_prefixed_eof(frame, self.pending, src)
    }
}

impl Encoder<&[u8]> for StructHeaderCodec {
    type Error = FrameError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        let too_long = || FrameError::MessageTooLong {
            len: msg.len(),
            max: self.max,
            framing: Framing::Struct(self.header.clone()),
        };
        if msg.len() > self.max {
            return Err(too_long());
        }
        let size = self.header.size();
        dst.reserve(size + msg.len());
        let start = dst.len();
        dst.put_bytes(0, size);
        self.header
            .st
            .pack_into(&mut dst[start..], 0, &[Value::Int(msg.len() as i128)])
            .map_err(|_| too_long())?;
        dst.put_slice(msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(format: &str, max: usize) -> StructHeaderCodec {
        StructHeaderCodec::new(StructHeader::new(format).unwrap(), max)
    }

    const MESSAGES: &[&[u8]] = &[b"hello", b"", b"\x00\xff binary \n", b"x"];

    #[test]
    fn wire_format_matches_python_struct_pack() {
        // struct.pack('!I', 2) + b'hi', struct.pack('<H', 2) + b'hi', ...
        for (format, want) in [
            ("!I", &b"\x00\x00\x00\x02hi"[..]),
            ("<H", b"\x02\x00hi"),
            (">Q", b"\x00\x00\x00\x00\x00\x00\x00\x02hi"),
            ("!i", b"\x00\x00\x00\x02hi"),
            ("B", b"\x02hi"),
        ] {
            let mut wire = BytesMut::new();
            codec(format, 100).encode(&b"hi"[..], &mut wire).unwrap();
            assert_eq!(&wire[..], want, "{format}");
        }
    }

    #[test]
    fn survives_one_byte_segmentation() {
        for format in ["!I", "<H", ">Q", "!i", "<b"] {
            let mut enc = codec(format, 1000);
            let mut wire = BytesMut::new();
            for m in MESSAGES {
                enc.encode(*m, &mut wire).unwrap();
            }
            let mut dec = codec(format, 1000);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for b in wire.iter() {
                buf.put_u8(*b);
                while let Some(frame) = dec.decode(&mut buf).unwrap() {
                    got.push(frame.to_vec());
                }
            }
            assert_eq!(dec.decode_eof(&mut buf).unwrap(), None, "{format}");
            let want: Vec<Vec<u8>> = MESSAGES.iter().map(|m| m.to_vec()).collect();
            assert_eq!(got, want, "{format}");
        }
    }

    #[test]
    fn huge_and_negative_lengths_are_errors_not_allocations() {
        let mut dec = codec("!I", 100);
        let mut buf = BytesMut::from(&b"\xff\xff\xff\xff"[..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(FrameError::TooLong {
                len: 4294967295,
                max: 100
            })
        ));
        assert!(buf.capacity() < 1024);
        let mut dec = codec("!i", 100);
        let mut buf = BytesMut::from(&b"\xff\xff\xff\xfe"[..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(FrameError::NegativeLength(-2))
        ));
    }

    #[test]
    fn max_frame_is_capped_by_the_field() {
        assert_eq!(codec("<H", 1 << 20).max_frame(), 65535);
        assert_eq!(codec("!b", 1 << 20).max_frame(), 127);
        assert_eq!(codec("!Q", 1000).max_frame(), 1000);
        let mut wire = BytesMut::new();
        assert!(matches!(
            codec("!b", 1 << 20).encode(&[0u8; 128][..], &mut wire),
            Err(FrameError::MessageTooLong { max: 127, .. })
        ));
        assert!(wire.is_empty());
    }

    #[test]
    fn close_mid_frame_is_reported() {
        let mut dec = codec("!I", 100);
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x05hel"[..]);
        assert!(dec.decode(&mut buf).unwrap().is_none());
        assert!(matches!(
            dec.decode_eof(&mut buf),
            Err(FrameError::Truncated(3))
        ));
        let mut dec = codec("!I", 100);
        let mut buf = BytesMut::from(&b"\x00\x00"[..]);
        assert!(matches!(
            dec.decode_eof(&mut buf),
            Err(FrameError::Truncated(2))
        ));
    }

    #[test]
    fn bad_header_formats_are_refused() {
        for bad in ["5s", "!f", "?", "!II", "", "!", "c", "z", "!I5s"] {
            let err = StructHeader::new(bad).unwrap_err();
            assert!(err.starts_with(&format!("struct:{bad}: ")), "{bad}: {err}");
        }
        assert!(StructHeader::new("!xI").is_ok());
        // Pad bytes cannot make a header that sizes a buffer (this used to allocate 1 GB).
        let err = StructHeader::new("1000000000xI").unwrap_err();
        assert!(err.contains("too long"), "{err}");
        assert!(StructHeader::new("=q").is_ok());
    }
}
