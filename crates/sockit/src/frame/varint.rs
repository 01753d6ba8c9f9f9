//! Unsigned LEB128 ("varint") length prefixes, as used by protobuf and WebAssembly.
//!
//! Seven bits per byte, least significant group first, the high bit set on every byte but
//! the last: lengths below 128 cost one byte, below 16384 two bytes. A `u64` needs at most
//! ten bytes; a longer prefix is an error, not a wrap-around.

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::{decode_prefixed, FrameError, Framing};

/// The longest valid varint for a `u64`.
pub const MAX_VARINT_LEN: usize = 10;

/// Decodes a varint from the start of `buf`.
///
/// Returns `Ok(Some((value, bytes_used)))`, `Ok(None)` when `buf` ends before the varint
/// does, or [`FrameError::VarintOverflow`] when it exceeds 64 bits.
pub fn decode_varint(buf: &[u8]) -> Result<Option<(u64, usize)>, FrameError> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().take(MAX_VARINT_LEN).enumerate() {
        let group = u64::from(byte & 0x7f);
        if i == MAX_VARINT_LEN - 1 && byte > 1 {
            // The tenth byte may only contribute bit 63.
            return Err(FrameError::VarintOverflow);
        }
        value |= group << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= MAX_VARINT_LEN {
        return Err(FrameError::VarintOverflow);
    }
    Ok(None)
}

/// Appends `value` as a varint.
pub fn encode_varint(mut value: u64, dst: &mut BytesMut) {
    while value >= 0x80 {
        dst.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    dst.put_u8(value as u8);
}

/// A codec for varint-length-prefixed frames with a maximum frame length.
#[derive(Debug, Clone)]
pub struct VarintCodec {
    max: usize,
    /// The length of the frame whose prefix has been consumed but whose body has not
    /// fully arrived yet.
    pending: Option<usize>,
}

impl VarintCodec {
    /// A codec refusing frames longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        VarintCodec { max, pending: None }
    }

    /// True when a prefix has been read and its body is still awaited.
    pub fn in_frame(&self) -> bool {
        self.pending.is_some()
    }
}

impl Decoder for VarintCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        decode_prefixed(&mut self.pending, self.max, src, decode_varint)
    }
}

impl Encoder<&[u8]> for VarintCodec {
    type Error = FrameError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        if msg.len() > self.max {
            return Err(FrameError::MessageTooLong {
                len: msg.len(),
                max: self.max,
                framing: Framing::Varint,
            });
        }
        dst.reserve(msg.len() + MAX_VARINT_LEN);
        encode_varint(msg.len() as u64, dst);
        dst.put_slice(msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_varint(v, &mut b);
        b.to_vec()
    }

    #[test]
    fn known_encodings() {
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(1), [0x01]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(300), [0xac, 0x02]);
        assert_eq!(enc(16383), [0xff, 0x7f]);
        assert_eq!(enc(16384), [0x80, 0x80, 0x01]);
        assert_eq!(enc(u64::MAX).len(), MAX_VARINT_LEN);
    }

    #[test]
    fn round_trip_edges() {
        for v in [
            0,
            1,
            127,
            128,
            255,
            256,
            16383,
            16384,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let bytes = enc(v);
            assert_eq!(
                decode_varint(&bytes).unwrap(),
                Some((v, bytes.len())),
                "{v}"
            );
        }
    }

    #[test]
    fn incomplete_and_overflowing_prefixes() {
        assert_eq!(decode_varint(&[]).unwrap(), None);
        assert_eq!(decode_varint(&[0x80]).unwrap(), None);
        assert_eq!(decode_varint(&[0xff; 9]).unwrap(), None);
        assert!(matches!(
            decode_varint(&[0xff; 10]),
            Err(FrameError::VarintOverflow)
        ));
        // Tenth byte of 2 would set bit 64.
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert!(matches!(
            decode_varint(&too_big),
            Err(FrameError::VarintOverflow)
        ));
        // Non-minimal encodings are accepted (protobuf does too).
        assert_eq!(decode_varint(&[0x81, 0x00]).unwrap(), Some((1, 2)));
    }

    #[test]
    fn frame_over_max_is_refused_before_its_body_arrives() {
        let mut codec = VarintCodec::new(100);
        let mut buf = BytesMut::from(&enc(1 << 40)[..]);
        match codec.decode(&mut buf) {
            Err(FrameError::TooLong { len, max }) => assert_eq!((len, max), (1 << 40, 100)),
            other => panic!("{other:?}"),
        }
        let mut out = BytesMut::new();
        assert!(codec.encode(&[0u8; 101][..], &mut out).is_err());
    }
}
