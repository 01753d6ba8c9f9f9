//! Request bodies: where they end, for both `Content-Length` and chunked framing.
//!
//! The decoder is sans-I/O: it is fed whatever bytes the connection has buffered and
//! says how many it consumed and which of them are body data. That keeps the hard part
//! (chunk sizes, extensions, trailers, CRLFs) testable without sockets, and lets the
//! connection loop keep any bytes after the body for the next pipelined request.

use super::request::Framing;

/// Longest chunk-size line (with extensions) and longest trailer section we accept.
const MAX_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

/// A body that does not follow its framing; the connection must be closed (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Bad chunk size, missing CRLF, or oversized chunk line/trailers.
    #[error("malformed chunked body")]
    Malformed,
}

/// What one call to [`BodyDecoder::decode`] found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Bytes of input consumed (framing and data).
    pub consumed: usize,
    /// Body data within the input (`start..end`), if any.
    pub data: Option<std::ops::Range<usize>>,
    /// The body is complete; bytes after `consumed` belong to the next request.
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading hex digits of a chunk size (`digits` seen so far).
    Size {
        digits: u8,
    },
    /// After the size: whitespace, then `;ext` until CR (`started` once `;` was seen).
    Ext {
        started: bool,
    },
    /// Expecting the LF after the size line's CR.
    SizeLf,
    /// Inside chunk data.
    Data,
    /// Expecting CR then LF after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    TrailerLf,
    /// Expecting the final LF.
    EndLf,
    Done,
}

/// Tracks how much of a request body is left.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Length(u64),
    Chunked {
        state: Chunk,
        remaining: u64,
        line: usize,
        trailers: usize,
    },
}

impl BodyDecoder {
    /// A decoder for the given framing (`Framing::None` is an empty body).
    pub fn new(framing: Framing) -> Self {
        let kind = match framing {
            Framing::None => Kind::Length(0),
            Framing::Length(n) => Kind::Length(n),
            Framing::Chunked => Kind::Chunked {
                state: Chunk::Size { digits: 0 },
                remaining: 0,
                line: 0,
                trailers: 0,
            },
        };
        BodyDecoder { kind }
    }

    /// True once the whole body has been consumed.
    pub fn is_done(&self) -> bool {
        match &self.kind {
            Kind::Length(n) => *n == 0,
            Kind::Chunked { state, .. } => *state == Chunk::Done,
        }
    }

    /// Consumes framing from `input` and returns at most one run of body data.
    ///
    /// Call repeatedly with the unconsumed rest; when `consumed == input.len()` and not
    /// `done`, more bytes are needed.
    pub fn decode(&mut self, input: &[u8]) -> Result<Step, BodyError> {
        match &mut self.kind {
            Kind::Length(left) => {
                let take = (*left).min(input.len() as u64) as usize;
                *left -= take as u64;
                Ok(Step {
                    consumed: take,
                    data: (take > 0).then_some(0..take),
                    done: *left == 0,
                })
            }
            Kind::Chunked {
                state,
                remaining,
                line,
                trailers,
            } => decode_chunked(state, remaining, line, trailers, input),
        }
    }
}

fn decode_chunked(
    state: &mut Chunk,
    remaining: &mut u64,
    line: &mut usize,
    trailers: &mut usize,
    input: &[u8],
) -> Result<Step, BodyError> {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        match *state {
            Chunk::Size { digits } => {
                let d = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => {
                        if digits == 0 {
                            return Err(BodyError::Malformed);
                        }
                        *state = Chunk::Ext { started: false };
                        continue; // re-examine this byte in Ext
                    }
                };
                // 16 hex digits would already be 2^64; refuse before overflow.
                if digits >= 15 {
                    return Err(BodyError::Malformed);
                }
                *remaining = *remaining << 4 | u64::from(d);
                *state = Chunk::Size { digits: digits + 1 };
                *line += 1;
                i += 1;
            }
            Chunk::Ext { started } => {
                match b {
                    b'\r' => *state = Chunk::SizeLf,
                    b';' => *state = Chunk::Ext { started: true },
                    b'\t' | b' ' => {}
                    _ if !started => return Err(BodyError::Malformed),
                    b'\n' => return Err(BodyError::Malformed),
                    // Extensions are ignored, but must not contain control characters.
                    b' '..=b'~' | 0x80..=0xff => {}
                    _ => return Err(BodyError::Malformed),
                }
                *line += 1;
                if *line > MAX_LINE {
                    return Err(BodyError::Malformed);
                }
                i += 1;
            }
            Chunk::SizeLf => {
                if b != b'\n' {
                    return Err(BodyError::Malformed);
                }
                i += 1;
                *line = 0;
                *state = if *remaining == 0 {
                    Chunk::TrailerStart
                } else {
                    Chunk::Data
                };
            }
            Chunk::Data => {
                let take = (*remaining).min((input.len() - i) as u64) as usize;
                *remaining -= take as u64;
                if *remaining == 0 {
                    *state = Chunk::DataCr;
                }
                return Ok(Step {
                    consumed: i + take,
                    data: Some(i..i + take),
                    done: false,
                });
            }
            Chunk::DataCr => {
                if b != b'\r' {
                    return Err(BodyError::Malformed);
                }
                *state = Chunk::DataLf;
                i += 1;
            }
            Chunk::DataLf => {
                if b != b'\n' {
                    return Err(BodyError::Malformed);
                }
                *state = Chunk::Size { digits: 0 };
                i += 1;
            }
            Chunk::TrailerStart => {
                if b == b'\r' {
                    *state = Chunk::EndLf;
                } else if b == b'\n' {
                    return Err(BodyError::Malformed);
                } else {
                    *state = Chunk::Trailer;
                    *trailers += 1;
                }
                i += 1;
            }
            Chunk::Trailer => {
                match b {
                    b'\r' => *state = Chunk::TrailerLf,
                    b'\n' => return Err(BodyError::Malformed),
                    _ => {}
                }
                *trailers += 1;
                if *trailers > MAX_TRAILERS {
                    return Err(BodyError::Malformed);
                }
                i += 1;
            }
            Chunk::TrailerLf => {
                if b != b'\n' {
                    return Err(BodyError::Malformed);
                }
                *state = Chunk::TrailerStart;
                i += 1;
            }
            Chunk::EndLf => {
                if b != b'\n' {
                    return Err(BodyError::Malformed);
                }
                *state = Chunk::Done;
                return Ok(Step {
                    consumed: i + 1,
                    data: None,
                    done: true,
                });
            }
            Chunk::Done => {
                return Ok(Step {
                    consumed: i,
                    data: None,
                    done: true,
                })
            }
        }
    }
    Ok(Step {
        consumed: i,
        data: None,
        done: *state == Chunk::Done,
    })
}

/// The interim response that tells a client waiting on `Expect: 100-continue` to send
/// its body; sent only once we have decided we will read it.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns (body, leftover).
    fn decode_all(
        framing: Framing,
        input: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, usize), BodyError> {
        let mut d = BodyDecoder::new(framing);
        let mut body = Vec::new();
        let mut pos = 0;
        let mut avail = step.min(input.len());
        loop {
            let s = d.decode(&input[pos..avail])?;
            if let Some(r) = s.data.clone() {
                body.extend_from_slice(&input[pos + r.start..pos + r.end]);
            }
            pos += s.consumed;
            if s.done {
                return Ok((body, input.len() - pos));
            }
            if pos == avail {
                if avail == input.len() {
                    return Err(BodyError::Malformed); // truncated: report as error for tests
                }
                avail = (avail + step).min(input.len());
            }
        }
    }

    #[test]
    fn content_length_bodies_stop_at_length() {
        assert_eq!(
            decode_all(Framing::Length(3), b"abcGET", 100).unwrap(),
            (b"abc".to_vec(), 3)
        );
        assert_eq!(
            decode_all(Framing::Length(3), b"abc", 1).unwrap(),
            (b"abc".to_vec(), 0)
        );
        assert!(BodyDecoder::new(Framing::None).is_done());
    }

    #[test]
    fn chunked_bodies_decode_in_any_split() {
        let input = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for step in 1..input.len() {
            assert_eq!(
                decode_all(Framing::Chunked, input, step).unwrap(),
                (b"hello world".to_vec(), 4),
                "step {step}"
            );
        }
    }

    #[test]
    fn uppercase_hex_and_leading_zeros() {
        let input = b"000A\r\n0123456789\r\n0\r\n\r\n";
        assert_eq!(
            decode_all(Framing::Chunked, input, 100).unwrap().0,
            b"0123456789"
        );
    }

    #[test]
    fn bad_chunk_sizes_are_rejected() {
        for input in [
            &b"\r\nhello\r\n0\r\n\r\n"[..],
            b"g\r\n",
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"ffffffffffffffff\r\n",
            b"10000000000000000\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\n",
            b"5\r\nhello\n0\r\n\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"5;\x01\r\nhello\r\n0\r\n\r\n",
        ] {
            assert_eq!(
                decode_all(Framing::Chunked, input, 100),
                Err(BodyError::Malformed),
                "{input:?}"
            );
        }
    }

    #[test]
    fn oversized_lines_are_rejected() {
        let mut input = b"5;".to_vec();
        input.extend(std::iter::repeat_n(b'a', MAX_LINE + 1));
        assert_eq!(
            decode_all(Framing::Chunked, &input, 100),
            Err(BodyError::Malformed)
        );
        let mut input = b"0\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'a', MAX_TRAILERS + 1));
        assert_eq!(
            decode_all(Framing::Chunked, &input, 100),
            Err(BodyError::Malformed)
        );
    }
}
