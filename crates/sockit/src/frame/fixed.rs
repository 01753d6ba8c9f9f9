//! Fixed-size records: every message is exactly N bytes, so no header or delimiter is
//! needed. This is how `--unpack FMT` cuts a TCP stream: at every `calcsize(FMT)` bytes,
//! whatever way TCP merged or split the writes.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::FrameError;

/// Decoder and encoder for records of exactly `size` bytes.
#[derive(Debug, Clone)]
pub struct FixedCodec {
    size: usize,
}

impl FixedCodec {
    /// A codec for `size`-byte records (a size of 0 is treated as 1: an empty record
    /// would never consume input).
    pub fn new(size: usize) -> FixedCodec {
        FixedCodec { size: size.max(1) }
    }

    /// The record size.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl Decoder for FixedCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        // No reserve for the rest of the record: the buffer grows with what arrives.
        if src.len() < self.size {
            return Ok(None);
        }
        Ok(Some(src.split_to(self.size).freeze()))
    }

    /// Bytes left at the end of the stream that are not a whole record are reported with
    /// their count ([`FrameError::PartialRecord`]), not dropped silently.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        if src.is_empty() {
            Ok(None)
        } else {
            let len = src.len();
            src.clear();
            Err(FrameError::PartialRecord {
                len,
                size: self.size,
            })
        }
    }
}

impl Encoder<&[u8]> for FixedCodec {
    type Error = FrameError;

    fn encode(&mut self, msg: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        if msg.len() != self.size {
            return Err(FrameError::RecordSize {
                len: msg.len(),
                size: self.size,
            });
        }
        dst.extend_from_slice(msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    #[test]
    fn cuts_a_trickle_into_records() {
        let mut codec = FixedCodec::new(3);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in b"abcdefgh" {
            buf.put_u8(*b);
            while let Some(rec) = codec.decode(&mut buf).unwrap() {
                got.push(rec.to_vec());
            }
        }
        assert_eq!(got, vec![b"abc".to_vec(), b"def".to_vec()]);
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(FrameError::PartialRecord { len: 2, size: 3 })
        ));
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    }

    #[test]
    fn only_whole_records_are_sent() {
        let mut codec = FixedCodec::new(2);
        let mut wire = BytesMut::new();
        codec.encode(&b"ab"[..], &mut wire).unwrap();
        assert!(matches!(
            codec.encode(&b"abc"[..], &mut wire),
            Err(FrameError::RecordSize { len: 3, size: 2 })
        ));
        assert_eq!(&wire[..], b"ab");
    }
}
