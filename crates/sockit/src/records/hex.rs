//! Hex text for records: packed bytes out as `bytes.hex()` prints them, and hex typed or
//! pasted back in (from a packet dump, a log line, `xxd -p`) as bytes.
//!
//! Both directions stream: a record can be as large as its format says (`1000000000x`
//! is a valid 1 GB record), and its hex text twice that, so neither is ever built whole
//! in memory. [`write_hex`] encodes through a small stack buffer; [`HexReader`] decodes
//! any reader of hex text as it is read.

use std::io::{self, Read, Write};

/// Why hex text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// A character that is neither a hex digit, whitespace nor part of a `0x` prefix.
    #[error("bad hex: {found} is not a hex digit (at byte {offset} of the text)")]
    NotHex {
        /// The character, quoted (`'z'`), or the byte (`0xff`) if it is not ASCII.
        found: String,
        /// Its offset in the text, from 0.
        offset: u64,
    },
    /// An odd number of digits: the last byte is missing its second digit.
    #[error("bad hex: {digits} digits is an odd number; each byte is two digits")]
    OddDigits {
        /// How many digits there were.
        digits: u64,
    },
}

/// Writes `bytes` as lowercase hex without separators, like Python's `bytes.hex()`,
/// without building the text in memory.
pub fn write_hex<W: Write + ?Sized>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 8192];
    for chunk in bytes.chunks(text.len() / 2) {
        for (pair, &b) in text.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
        }
        out.write_all(&text[..chunk.len() * 2])?;
    }
    Ok(())
}

/// Decodes hex text in pieces: digits in pairs, whitespace anywhere (a pair may span
/// it), and a `0x`/`0X` before any whitespace-separated group of digits ignored, so
/// `0x01 02\n0A ff` is `[1, 2, 10, 255]`.
#[derive(Debug, Clone, Default)]
pub struct HexDecoder {
    /// Bytes of text seen, for error offsets.
    offset: u64,
    /// Digits seen.
    digits: u64,
    /// The high digit of a byte whose low digit has not come yet.
    high: Option<u8>,
    /// Where in a group the next character is.
    at: GroupPos,
}

/// Position in a whitespace-separated group, for spotting a `0x` prefix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum GroupPos {
    /// Between groups.
    #[default]
    Start,
    /// Right after a group's leading `0` (a prefix if an `x` follows).
    AfterZero,
    /// Inside a group.
    Inside,
}

impl HexDecoder {
    /// A decoder at the start of the text.
    pub fn new() -> HexDecoder {
        HexDecoder::default()
    }

    /// Decodes the next piece of text, appending whole bytes to `out`.
    pub fn push(&mut self, text: &[u8], out: &mut Vec<u8>) -> Result<(), HexError> {
        for &c in text {
            self.offset += 1;
            if c.is_ascii_whitespace() {
                if self.at == GroupPos::AfterZero {
                    self.digit(0, out);
                }
                self.at = GroupPos::Start;
                continue;
            }
            match self.at {
                GroupPos::Start if c == b'0' => {
                    self.at = GroupPos::AfterZero;
                    continue;
                }
                GroupPos::AfterZero if c == b'x' || c == b'X' => {
                    self.at = GroupPos::Inside;
                    continue;
                }
                GroupPos::AfterZero => self.digit(0, out),
                _ => {}
            }
            self.at = GroupPos::Inside;
            let Some(d) = char::from(c).to_digit(16) else {
                return Err(HexError::NotHex {
                    found: if c.is_ascii() {
                        format!("{:?}", char::from(c))
                    } else {
                        format!("byte 0x{c:02x}")
                    },
                    offset: self.offset - 1,
                });
            };
            self.digit(d as u8, out);
        }
        Ok(())
    }

    /// Ends the text: an error if a byte is missing its second digit.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), HexError> {
        if self.at == GroupPos::AfterZero {
            self.digit(0, out);
        }
        if self.high.is_some() {
            return Err(HexError::OddDigits {
                digits: self.digits,
            });
        }
        Ok(())
    }

    fn digit(&mut self, d: u8, out: &mut Vec<u8>) {
        self.digits += 1;
        match self.high.take() {
            Some(high) => out.push((high << 4) | d),
            None => self.high = Some(d),
        }
    }
}

/// Decodes a whole hex text (see [`HexDecoder`] for what it accepts).
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut decoder = HexDecoder::new();
    decoder.push(text.as_bytes(), &mut out)?;
    decoder.finish(&mut out)?;
    Ok(out)
}

/// A reader of bytes from a reader of hex text (`unpack --hex` on a file or stdin):
/// decodes as it reads, holding one chunk of text at a time. A decoding error is an
/// [`io::Error`] of kind `InvalidData` wrapping the [`HexError`].
#[derive(Debug)]
pub struct HexReader<R> {
    inner: R,
    decoder: Option<HexDecoder>,
    /// Decoded bytes not yet handed out, from `pos` on.
    ready: Vec<u8>,
    pos: usize,
}

impl<R: Read> HexReader<R> {
    /// Reads hex text from `inner`.
    pub fn new(inner: R) -> HexReader<R> {
        HexReader {
            inner,
            decoder: Some(HexDecoder::new()),
            ready: Vec::new(),
            pos: 0,
        }
    }
}

impl<R: Read> Read for HexReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.ready.len() {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            self.ready.clear();
            self.pos = 0;
            let mut text = [0u8; 8192];
            let n = match self.inner.read(&mut text) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let decoded = if n == 0 {
                self.decoder
                    .take()
                    .map_or(Ok(()), |d| d.finish(&mut self.ready))
            } else {
                decoder.push(&text[..n], &mut self.ready)
            };
            decoded.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        let n = buf.len().min(self.ready.len() - self.pos);
        buf[..n].copy_from_slice(&self.ready[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The [`HexError`] inside an input error, if that is what it is.
pub fn hex_error(err: &io::Error) -> Option<&HexError> {
    err.get_ref()?.downcast_ref::<HexError>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_spaces_and_prefixes() {
        assert_eq!(decode("0x01 02\n0A ff").unwrap(), vec![1, 2, 10, 255]);
        assert_eq!(decode("0 1").unwrap(), vec![1]);
        assert_eq!(decode("00 0X10").unwrap(), vec![0, 0x10]);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode("0").unwrap_err(), HexError::OddDigits { digits: 1 });
        assert!(matches!(
            decode("123"),
            Err(HexError::OddDigits { digits: 3 })
        ));
        assert!(matches!(
            decode("zz"),
            Err(HexError::NotHex { offset: 0, .. })
        ));
        assert!(matches!(
            decode("0xx1"),
            Err(HexError::NotHex { offset: 2, .. })
        ));
        assert!(decode("é").unwrap_err().to_string().contains("byte 0xc3"));
    }

    #[test]
    fn pieces_decode_like_the_whole() {
        let text = b"0x01 0X2 3\n0aFf 0 0 7 0x8";
        let whole = decode(std::str::from_utf8(text).unwrap()).unwrap();
        for cut in 0..text.len() {
            let mut out = Vec::new();
            let mut d = HexDecoder::new();
            d.push(&text[..cut], &mut out).unwrap();
            d.push(&text[cut..], &mut out).unwrap();
            d.finish(&mut out).unwrap();
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn reader_decodes_as_it_reads_and_reports_errors() {
        let text = "ab".repeat(10_000);
        let mut out = Vec::new();
        HexReader::new(text.as_bytes())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, vec![0xab; 10_000]);
        let err = HexReader::new(&b"ab c"[..])
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(hex_error(&err), Some(&HexError::OddDigits { digits: 3 }));
    }

    #[test]
    fn writes_python_hex_in_chunks() {
        let bytes: Vec<u8> = (0..=255).cycle().take(20_000).collect();
        let mut out = Vec::new();
        write_hex(&mut out, &bytes).unwrap();
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(out, expected.as_bytes());
    }
}
