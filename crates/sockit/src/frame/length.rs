//! Fixed-width big-endian length prefixes: `len16` (2 bytes) and `len32` (4 bytes), the
//! "network byte order" length header of most binary protocols.
//!
//! tokio-util's `LengthDelimitedCodec` reserves the whole announced length as soon as it
//! reads a prefix, so a peer sending `ff ff ff ff`-sized promises (below `--max-frame`)
//! makes the receiver allocate megabytes per connection before a byte of body exists.
//! This codec keeps the announced length and lets the buffer grow with what arrives.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::{decode_prefixed, decode_prefixed_eof, FrameError, Framing};

/// Decoder and encoder for frames behind a 2- or 4-byte big-endian length.
#[derive(Debug, Clone)]
pub struct LengthCodec {
    width: usize,
    max: usize,
    /// The length of the frame whose prefix has been consumed and whose body is awaited.
    pending: Option<usize>,
}

impl LengthCodec {
    /// A codec with a `width`-byte prefix (2 or 4; other values are read as 4), refusing
    /// frames over `max` bytes. The prefix itself caps `max` (65535 for 2 bytes).
    pub fn new(width: usize, max: usize) -> LengthCodec {
        let width = if width == 2 { 2 } else { 4 };
        let field_max = if width == 2 {
            u16::MAX as usize
        } else {
            u32::MAX as usize
        };
        LengthCodec {
            width,
            max: max.min(field_max),
            pending: None,
        }
    }

    /// The prefix width in bytes.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The largest frame accepted or sent.
    pub fn max_frame(&self) -> usize {
        self.max
    }

    /// True when a prefix has been read and its body is still awaited.
    pub fn in_frame(&self) -> bool {
        self.pending.is_some()
    }

    fn framing(&self) -> Framing {
        if self.width == 2 {
            Framing::Len16
        } else {
            Framing::Len32
        }
    }
}

impl Decoder for LengthCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let width = self.width;
        decode_prefixed(&mut self.pending, self.max, src, |buf| {
            Ok((buf.len() >= width).then(|| ((&buf[..width]).get_uint(width), width)))
        })
    }

    /// A clean end of the stream is one between frames; anything else (a partial prefix,
    /// a prefix without its whole body) means the peer closed mid-frame.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let frame = self.decode(src)?;
        decode_prefixed_eof(frame, self.pending, src)
    }
}

impl Encoder<&[u8]> for LengthCodec {
    type Error = FrameError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        if msg.len() > self.max {
            return Err(FrameError::MessageTooLong {
                len: msg.len(),
                max: self.max,
                framing: self.framing(),
            });
        }
        dst.reserve(msg.len() + self.width);
        dst.put_uint(msg.len() as u64, self.width);
        dst.put_slice(msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announced_length_allocates_nothing_until_bytes_arrive() {
        let mut codec = LengthCodec::new(4, 16 << 20);
        let mut buf = BytesMut::from(&b"\x00\xff\xff\xffab"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(codec.in_frame());
        assert!(buf.capacity() < 1024, "reserved {}", buf.capacity());
    }

    #[test]
    fn prefix_width_caps_the_maximum() {
        assert_eq!(LengthCodec::new(2, 1 << 20).max_frame(), 65535);
        assert_eq!(LengthCodec::new(4, 100).max_frame(), 100);
    }
}
