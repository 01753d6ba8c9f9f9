//! Content codings for `--compressed`: gzip, deflate and br, decoded as they stream.
//!
//! The wire view and `--trace` still show the encoded bytes (they are taken before
//! this step); only the body handed on is decoded. Decoded output is bounded per call
//! by the input's size times [`MAX_RATIO`], a guard against decompression bombs.

use std::io::Write;

use bytes::Bytes;

/// Largest expansion accepted from one encoded chunk (a 1 KiB chunk may become at
/// most 1 MiB); real text compresses 3-20x, bombs a thousandfold and more.
pub const MAX_RATIO: usize = 1024;

/// A streaming decoder for one response body.
pub enum ContentDecoder {
    /// No coding (or one we do not decode: passed through).
    Identity,
    /// `gzip` / `x-gzip` (several members allowed).
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    /// `deflate`, zlib-wrapped or raw (decided by the first two bytes, as curl does).
    Deflate(Option<Box<DeflateKind>>),
    /// `br`.
    Brotli(Box<brotli_decompressor::DecompressorWriter<Vec<u8>>>),
}

/// The two forms `deflate` takes in the wild.
pub enum DeflateKind {
    /// RFC 1950 zlib stream (what the RFC means).
    Zlib(flate2::write::ZlibDecoder<Vec<u8>>),
    /// Bare RFC 1951 deflate (what some servers send).
    Raw(flate2::write::DeflateDecoder<Vec<u8>>),
}

impl std::fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ContentDecoder::Identity => "identity",
            ContentDecoder::Gzip(_) => "gzip",
            ContentDecoder::Deflate(_) => "deflate",
            ContentDecoder::Brotli(_) => "br",
        })
    }
}

impl ContentDecoder {
    /// The decoder for a `Content-Encoding` value; `None` for a coding we cannot decode
    /// (or a chain of several), which is then passed through undecoded.
    pub fn for_encoding(value: Option<&[u8]>) -> Option<ContentDecoder> {
        let Some(v) = value else {
            return Some(ContentDecoder::Identity);
        };
        let v = String::from_utf8_lossy(v).trim().to_ascii_lowercase();
        Some(match v.as_str() {
            "" | "identity" => ContentDecoder::Identity,
            "gzip" | "x-gzip" => {
                ContentDecoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new())))
            }
            "deflate" => ContentDecoder::Deflate(None),
            "br" => ContentDecoder::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
                Vec::new(),
                64 * 1024,
            ))),
            _ => return None,
        })
    }

    /// Decodes one chunk of the body.
    pub fn push(&mut self, data: Bytes) -> std::io::Result<Bytes> {
        let limit = data.len().saturating_mul(MAX_RATIO).max(1 << 20);
        let out = match self {
            ContentDecoder::Identity => return Ok(data),
            ContentDecoder::Gzip(d) => {
                d.write_all(&data)?;
                std::mem::take(d.get_mut())
            }
            ContentDecoder::Deflate(kind) => {
                if kind.is_none() {
                    let zlib = data.len() >= 2
                        && data[0] & 0x0f == 8
                        && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0;
                    *kind = Some(Box::new(if zlib {
                        DeflateKind::Zlib(flate2::write::ZlibDecoder::new(Vec::new()))
                    } else {
                        DeflateKind::Raw(flate2::write::DeflateDecoder::new(Vec::new()))
                    }));
                }
                match kind.as_deref_mut() {
                    Some(DeflateKind::Zlib(d)) => {
                        d.write_all(&data)?;
                        std::mem::take(d.get_mut())
                    }
                    Some(DeflateKind::Raw(d)) => {
                        d.write_all(&data)?;
                        std::mem::take(d.get_mut())
                    }
                    None => Vec::new(),
                }
            }
            ContentDecoder::Brotli(d) => {
                d.write_all(&data)?;
                std::mem::take(d.get_mut())
            }
        };
        if out.len() > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("decoded body grows more than {MAX_RATIO}x: refusing a likely decompression bomb"),
            ));
        }
        Ok(Bytes::from(out))
    }

    /// Flushes what the decoder still holds at the end of the body; an encoded stream
    /// cut short is an error.
    pub fn finish(self) -> std::io::Result<Bytes> {
        let out = match self {
            ContentDecoder::Identity => Vec::new(),
            ContentDecoder::Gzip(d) => d.finish()?,
            ContentDecoder::Deflate(None) => Vec::new(),
            ContentDecoder::Deflate(Some(k)) => match *k {
                DeflateKind::Zlib(d) => d.finish()?,
                DeflateKind::Raw(d) => d.finish()?,
            },
            ContentDecoder::Brotli(d) => d.into_inner().map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "br stream cut short")
            })?,
        };
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(enc: &str, data: Vec<u8>) -> Vec<u8> {
        let mut d = ContentDecoder::for_encoding(Some(enc.as_bytes())).unwrap();
        let mut out = Vec::new();
        for piece in data.chunks(7) {
            out.extend_from_slice(&d.push(Bytes::copy_from_slice(piece)).unwrap());
        }
        out.extend_from_slice(&d.finish().unwrap());
        out
    }

    #[test]
    fn gzip_and_both_deflates() {
        let text = b"hello hello hello hello".repeat(50);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        assert_eq!(roundtrip("gzip", gz.finish().unwrap()), text);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        assert_eq!(roundtrip("deflate", z.finish().unwrap()), text);
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(&text).unwrap();
        assert_eq!(roundtrip("deflate", r.finish().unwrap()), text);
    }

    #[test]
    fn brotli_uncompressed_meta_block() {
        // Hand-made (RFC 7932): WBITS=16, one uncompressed meta-block of 5 bytes, then
        // an empty last meta-block.
        let br = b"\x40\x00\x10hello\x03".to_vec();
        assert_eq!(roundtrip("br", br), b"hello");
    }

    #[test]
    fn unknown_codings_pass_through() {
        assert!(ContentDecoder::for_encoding(Some(b"zstd")).is_none());
        assert!(ContentDecoder::for_encoding(Some(b"gzip, br")).is_none());
    }
}
