//! Chunked response bodies, decoded with byte offsets, extensions and trailers kept.
//!
//! The server's [`super::body::BodyDecoder`] only needs to know where a request body
//! ends. A client that debugs servers needs more: the offset of a bad chunk size, the
//! chunk extensions it tolerated, and the trailer fields to show under `-v`. This
//! decoder is sans-I/O like the server's: it is fed whatever bytes are buffered and says
//! how many it consumed and which were data.

use super::response_head::ResponseError;

/// Longest chunk-size line (size plus extensions) accepted.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Largest trailer section accepted.
pub const MAX_TRAILERS: usize = 16 * 1024;

/// What one call to [`ChunkedDecoder::decode`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkStep {
    /// Input bytes consumed.
    pub consumed: usize,
    /// Body data within the input, if any.
    pub data: Option<std::ops::Range<usize>>,
    /// The body (last chunk and trailers) is complete.
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a chunk-size line up to its LF.
    SizeLine,
    Data,
    /// Expecting the CRLF after chunk data (`seen_cr`).
    DataEnd {
        seen_cr: bool,
    },
    /// Collecting trailer lines until an empty one.
    Trailers,
    Done,
}

/// Decodes `Transfer-Encoding: chunked` (RFC 9112 §7.1), tracking offsets.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    remaining: u64,
    /// Bytes of the body consumed so far (framing included): error offsets.
    pos: u64,
    line: Vec<u8>,
    line_start: u64,
    trailers: Vec<u8>,
    extensions: Vec<String>,
    chunks: u64,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::SizeLine,
            remaining: 0,
            pos: 0,
            line: Vec::new(),
            line_start: 0,
            trailers: Vec::new(),
            extensions: Vec::new(),
            chunks: 0,
        }
    }

    /// True once the last chunk and the trailer section were read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailer section as received (field lines with their CRLFs), empty if none.
    pub fn trailers(&self) -> &[u8] {
        &self.trailers
    }

    /// Chunk extensions seen (`;name=value`), as sent; the first 16 are kept.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// Chunks seen so far, the last (zero-size) one included.
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    /// Bytes of chunked framing and data consumed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Describes where the body stopped, for a connection closed mid-body.
    pub fn truncation(&self) -> ResponseError {
        let what = match self.state {
            State::SizeLine => "chunked body cut short in a chunk-size line".to_string(),
            State::Data => format!(
                "chunked body cut short inside a chunk ({} bytes of it missing)",
                self.remaining
            ),
            State::DataEnd { .. } => "chunked body cut short after chunk data".to_string(),
            State::Trailers => "chunked body cut short in the trailer section".to_string(),
            State::Done => "chunked body complete".to_string(),
        };
        ResponseError::truncated(what, self.pos)
    }

    /// Consumes framing from `input`; returns at most one run of data. Offsets in errors
    /// count from the first byte of the body.
    pub fn decode(&mut self, input: &[u8]) -> Result<ChunkStep, ResponseError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::Data => {
                    let take = (self.remaining.min((input.len() - i) as u64)) as usize;
                    self.remaining -= take as u64;
                    self.pos += take as u64;
                    if self.remaining == 0 {
                        self.state = State::DataEnd { seen_cr: false };
                    }
                    return Ok(ChunkStep {
                        consumed: i + take,
                        data: Some(i..i + take),
                        done: false,
                    });
                }
                State::DataEnd { seen_cr } => {
                    let b = input[i];
                    match (seen_cr, b) {
                        (false, b'\r') => self.state = State::DataEnd { seen_cr: true },
                        (_, b'\n') => self.state = State::SizeLine,
                        _ => {
                            return Err(ResponseError::malformed(
                                format!(
                                    "chunk data not followed by CRLF (found {})",
                                    crate::text::escape_bytes(&[b])
                                ),
                                self.pos,
                            ))
                        }
                    }
                    i += 1;
                    self.pos += 1;
                }
                State::SizeLine => {
                    if self.line.is_empty() {
                        self.line_start = self.pos;
                    }
                    let b = input[i];
                    i += 1;
                    self.pos += 1;
                    if b != b'\n' {
                        if self.line.len() >= MAX_CHUNK_LINE {
                            return Err(ResponseError::malformed(
                                format!("chunk-size line longer than {MAX_CHUNK_LINE} bytes"),
                                self.line_start,
                            ));
                        }
                        self.line.push(b);
                        continue;
                    }
                    let size = self.size_line()?;
                    self.line.clear();
                    self.chunks += 1;
                    if size == 0 {
                        self.state = State::Trailers;
                    } else {
                        self.remaining = size;
                        self.state = State::Data;
                    }
                }
                State::Trailers => {
                    if self.line.is_empty() {
                        self.line_start = self.pos;
                    }
                    let b = input[i];
                    i += 1;
                    self.pos += 1;
                    self.line.push(b);
                    if self.trailers.len() + self.line.len() > MAX_TRAILERS {
                        return Err(ResponseError::malformed(
                            format!("trailer section larger than {MAX_TRAILERS} bytes"),
                            self.line_start,
                        ));
                    }
                    if b == b'\n' {
                        let bare = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
                        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
                        if bare.is_empty() {
                            self.state = State::Done;
                            self.line.clear();
                            return Ok(ChunkStep {
                                consumed: i,
                                data: None,
                                done: true,
                            });
                        }
                        if let Err(what) = super::response_head::check_field_line(bare) {
                            return Err(ResponseError::malformed(
                                format!("bad trailer field: {what}"),
                                self.line_start,
                            ));
                        }
                        self.trailers.extend_from_slice(&self.line);
                        self.line.clear();
                    }
                }
            }
        }
        Ok(ChunkStep {
            consumed: i,
            data: None,
            done: self.state == State::Done,
        })
    }

    /// Parses the collected size line: hex digits, optional whitespace, `;ext`s.
    fn size_line(&mut self) -> Result<u64, ResponseError> {
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let bad = |what: String| Err(ResponseError::malformed(what, self.line_start));
        if digits == 0 {
            return bad(format!(
                "bad chunk size \"{}\"",
                crate::text::escape_bytes(&line[..line.len().min(40)])
            ));
        }
        if digits > 15 {
            return bad(format!("chunk size of {digits} hex digits overflows"));
        }
        let mut size = 0u64;
        for &d in &line[..digits] {
            let v = (d as char).to_digit(16).unwrap_or(0);
            size = (size << 4) | u64::from(v);
        }
        let rest = &line[digits..];
        let rest_trim = rest
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .map_or(&rest[rest.len()..], |p| &rest[p..]);
        if !rest_trim.is_empty() {
            if rest_trim[0] != b';' {
                return bad(format!(
                    "bad chunk size \"{}\"",
                    crate::text::escape_bytes(&line[..line.len().min(40)])
                ));
            }
            if self.extensions.len() < 16 {
                self.extensions
                    .push(String::from_utf8_lossy(&rest_trim[1..]).into_owned());
            }
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &[u8], split: usize) -> (Vec<u8>, ChunkedDecoder, Result<bool, ResponseError>) {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        for piece in body.chunks(split.max(1)) {
            let mut rest = piece;
            while !rest.is_empty() {
                match d.decode(rest) {
                    Ok(step) => {
                        if let Some(r) = step.data.clone() {
                            out.extend_from_slice(&rest[r]);
                        }
                        rest = &rest[step.consumed..];
                        if step.done {
                            return (out, d, Ok(true));
                        }
                    }
                    Err(e) => return (out, d, Err(e)),
                }
            }
        }
        (out, d, Ok(false))
    }

    #[test]
    fn extensions_and_trailers_kept_at_any_split() {
        let body = b"5;name=v\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n";
        for split in 1..body.len() {
            let (out, d, done) = run(body, split);
            assert_eq!(out, b"hello world");
            assert_eq!(done, Ok(true));
            assert_eq!(d.trailers(), b"X-Sum: 1\r\n");
            assert_eq!(d.extensions(), ["name=v", " x"]);
        }
    }

    #[test]
    fn bad_size_has_offset() {
        let (_, _, done) = run(b"5\r\nhello\r\nzz\r\n", 100);
        let err = done.unwrap_err();
        assert_eq!(err.offset, 10);
        assert!(err.what.contains("bad chunk size"));
    }

    #[test]
    fn overflow_refused() {
        let (_, _, done) = run(b"fffffffffffffffff\r\n", 100);
        assert!(done.unwrap_err().what.contains("overflows"));
    }

    #[test]
    fn cut_mid_chunk_is_truncation() {
        let (out, d, done) = run(b"a\r\nhello", 100);
        assert_eq!(done, Ok(false));
        assert_eq!(out, b"hello");
        let err = d.truncation();
        assert!(err.truncated);
        assert!(err.what.contains("5 bytes of it missing"), "{err}");
    }
}
