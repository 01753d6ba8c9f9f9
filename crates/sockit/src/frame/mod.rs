//! Message framing: the cure for TCP's "sticky packets" (粘包).
//!
//! TCP is a byte stream: it keeps the order of bytes but not the boundaries of writes.
//! Three `send("hello")` calls may arrive as one `recv` of `hellohellohello`, or as
//! `hel` + `lohello` + `hello`; how they merge depends on timing, Nagle's algorithm and
//! buffer sizes. A protocol that needs messages must mark their boundaries itself, and
//! there are two ways to do it (both taught in the course):
//!
//! - a **delimiter** after each message: [`Framing::Line`] (`\n`), [`Framing::Null`]
//!   (`\0`). Simple and human-readable, but a message can never contain the delimiter;
//! - a **length prefix** before each message: [`Framing::Len16`], [`Framing::Len32`]
//!   (big-endian, "network byte order") and [`Framing::Varint`] (unsigned LEB128, as in
//!   protobuf). Any bytes can be carried.
//!
//! [`Framing::Raw`] keeps the plain byte stream (no boundaries) for bulk data.
//!
//! Two framings come from Python's `struct` module: [`Framing::Struct`]
//! (`struct:FMT`, a length header packed with a format such as `!I`, the course's
//! `struct.pack('!I', len(msg)) + msg`) and [`Framing::Fixed`] (`fixed:N`, records of
//! exactly N bytes, which is how `--unpack FMT` cuts a stream at `calcsize(FMT)`).
//!
//! Every decoder has a maximum frame length: a peer announcing a 4 GiB frame gets an
//! error ([`FrameError::TooLong`]), not a 4 GiB allocation. Below that limit, buffers
//! still grow only with the bytes that actually arrive, never with a length a peer (or a
//! `fixed:N` flag) merely announces: a header saying "16 MiB follow" followed by silence
//! costs the header, not 16 MiB.
//!
//! New framings (such as a `struct:FMT` header codec) are added as a [`Framing`] variant
//! plus a branch in [`FrameCodec`]; the readers and writers around them do not change.

mod codec;
mod fixed;
mod io;
mod length;
mod pool;
mod struct_header;
mod varint;

pub use codec::FrameCodec;
pub use fixed::FixedCodec;
pub use io::{FrameReader, LineSplitter, Piece, READ_CHUNK};
pub use length::LengthCodec;
pub use pool::BufferPool;
pub use struct_header::{StructHeader, StructHeaderCodec};
pub use varint::{decode_varint, encode_varint, VarintCodec, MAX_VARINT_LEN};

use std::fmt;
use std::str::FromStr;

/// The default `--max-frame` of the binary framings (length prefixes, `struct:FMT`,
/// `fixed:N`): 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// The default `--max-frame` of the line framings (`line`, `null`): 1 MiB. A line is
/// buffered until its delimiter arrives, so a peer that never sends one holds this much
/// memory per connection; text lines are rarely longer than a few KiB.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// The largest `--max-frame` accepted: 1 GiB. A frame is held in memory whole, once per
/// connection that sends one; more than this is a typo or an attack on the host.
pub const MAX_FRAME_LIMIT: usize = 1 << 30;

/// The longest `struct:FMT` header accepted, pad bytes included. A length needs at most
/// 8 bytes; the limit only stops `struct:1000000000xI` from sizing a buffer.
pub const MAX_HEADER_SIZE: usize = 256;

/// How messages are delimited on a stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Framing {
    /// No framing: bytes pass through as the network delivers them.
    #[default]
    Raw,
    /// Each message is followed by `\n` (a trailing `\r` is dropped on receipt).
    Line,
    /// Each message is followed by a NUL byte.
    Null,
    /// Each message is preceded by its length as a 2-byte big-endian integer (max 65535).
    Len16,
    /// Each message is preceded by its length as a 4-byte big-endian integer.
    Len32,
    /// Each message is preceded by its length as an unsigned LEB128 varint.
    Varint,
    /// Each message is preceded by its length packed with a Python `struct` format
    /// holding one integer (`struct:!I`, `struct:<H`).
    Struct(StructHeader),
    /// Every message is exactly this many bytes (`fixed:N`).
    Fixed(usize),
}

impl Framing {
    /// Every framing's command-line name, for help texts and error messages.
    pub const NAMES: &'static [&'static str] = &["raw", "line", "null", "len16", "len32", "varint"];

    /// True for framings that carry message boundaries (all but [`Framing::Raw`]).
    pub fn is_framed(&self) -> bool {
        !matches!(self, Framing::Raw)
    }

    /// True for the delimiter framings (`line`, `null`), whose messages are text lines.
    pub fn is_lines(&self) -> bool {
        matches!(self, Framing::Line | Framing::Null)
    }

    /// The `--max-frame` used when none is given: [`DEFAULT_MAX_LINE`] (1 MiB) for the
    /// line framings, whose frames are buffered until a delimiter that may never come,
    /// [`DEFAULT_MAX_FRAME`] (16 MiB) for the others.
    pub fn default_max_frame(&self) -> usize {
        if self.is_lines() {
            DEFAULT_MAX_LINE
        } else {
            DEFAULT_MAX_FRAME
        }
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Framing::Raw => "raw",
            Framing::Line => "line",
            Framing::Null => "null",
            Framing::Len16 => "len16",
            Framing::Len32 => "len32",
            Framing::Varint => "varint",
            Framing::Struct(header) => return write!(f, "struct:{}", header.format()),
            Framing::Fixed(size) => return write!(f, "fixed:{size}"),
        })
    }
}

impl FromStr for Framing {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // The format is case-sensitive ('!I' and '!i' differ), so it is matched first.
        if let Some(format) = text.trim().strip_prefix("struct:") {
            return StructHeader::new(format).map(Framing::Struct);
        }
        if let Some(size) = text.trim().strip_prefix("fixed:") {
            // Sizes beyond usize (fixed:99999999999999999999) are still numbers: say they
            // are too large rather than "not a number".
            let digits = !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit());
            return match size.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Framing::Fixed(n)),
                Err(_) if digits => Err(format!(
                    "fixed:{size}: a record of {size} bytes is larger than --max-frame allows \
                     (at most {MAX_FRAME_LIMIT})"
                )),
                _ => Err(format!(
                    "fixed:{size}: the record size must be a whole number of bytes above 0"
                )),
            };
        }
        match text.trim().to_ascii_lowercase().as_str() {
            "raw" | "none" => Ok(Framing::Raw),
            "line" | "lines" => Ok(Framing::Line),
            "null" | "nul" => Ok(Framing::Null),
            "len16" => Ok(Framing::Len16),
            "len32" => Ok(Framing::Len32),
            "varint" => Ok(Framing::Varint),
            _ => Err(format!(
                "unknown framing '{text}' (expected one of: {}, struct:FMT, fixed:N)",
                Framing::NAMES.join(", ")
            )),
        }
    }
}

/// Why a frame could not be decoded or encoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A length prefix announced more than the maximum frame length.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes (--max-frame)")]
    TooLong {
        /// The announced length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// More than the maximum frame length arrived without a delimiter.
    #[error("no {delimiter} delimiter within {max} bytes: frame exceeds --max-frame")]
    NoDelimiter {
        /// `newline` or `NUL`.
        delimiter: &'static str,
        /// The limit.
        max: usize,
    },
    /// A message to send is longer than the framing or `--max-frame` allows.
    #[error("message of {len} bytes is too long for {framing} framing (max {max} bytes)")]
    MessageTooLong {
        /// The message length.
        len: usize,
        /// The limit.
        max: usize,
        /// The framing in use.
        framing: Framing,
    },
    /// An input line (to be sent as one message) is longer than the limit. The line
    /// splitter reports it once and skips the whole line, never sending a part of it.
    #[error("line longer than {max} bytes, the {framing} limit (--max-frame)")]
    LineTooLong {
        /// The limit.
        max: usize,
        /// The framing the line was to be sent with.
        framing: Framing,
    },
    /// A message to send contains its framing's delimiter, so it would arrive as two.
    #[error("message contains a {delimiter} byte, which {framing} framing uses as the delimiter")]
    DelimiterInMessage {
        /// `newline` or `NUL`.
        delimiter: &'static str,
        /// The framing in use.
        framing: Framing,
    },
    /// A varint length prefix longer than 64 bits.
    #[error("invalid varint length prefix (longer than 64 bits)")]
    VarintOverflow,
    /// The stream ended in the middle of a frame: the peer closed (or crashed) mid-message.
    #[error("connection closed in the middle of a frame ({0} bytes of an incomplete frame)")]
    Truncated(usize),
    /// A `struct:FMT` header with a signed field announced a negative length.
    #[error("struct header announced a negative length ({0})")]
    NegativeLength(i128),
    /// The stream ended with bytes that do not make a whole fixed-size record.
    #[error("connection closed with {len} bytes left over: not a whole {size}-byte record")]
    PartialRecord {
        /// Bytes left over.
        len: usize,
        /// The record size.
        size: usize,
    },
    /// A message is not exactly one fixed-size record.
    #[error("message of {len} bytes is not one {size}-byte record")]
    RecordSize {
        /// The message length.
        len: usize,
        /// The record size.
        size: usize,
    },
    /// The underlying read or write failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Decodes one frame of a length-prefixed framing (len16/len32, varint, `struct:FMT`):
/// `header` reads the announced length and the header's size from the buffer (`None`
/// while it is incomplete). The length is checked against `max` before anything is
/// taken, so a peer announcing more than the limit ends the connection at once; then the
/// body is taken whole once it has arrived, and `pending` remembers the length until
/// then.
///
/// Nothing is reserved for the announced length: the reader grows its buffer by one read
/// at a time, so memory follows the bytes that arrive, not the bytes a peer promises
/// (a thousand peers each announcing 16 MiB and sending nothing more cost a thousand
/// headers).
fn decode_prefixed(
    pending: &mut Option<usize>,
    max: usize,
    src: &mut bytes::BytesMut,
    header: impl FnOnce(&[u8]) -> Result<Option<(u64, usize)>, FrameError>,
) -> Result<Option<bytes::Bytes>, FrameError> {
    let len = match *pending {
        Some(len) => len,
        None => {
            let Some((len, used)) = header(src)? else {
                return Ok(None);
            };
            if len > max as u64 {
                // The header stays in the buffer: the connection ends on this error.
                return Err(FrameError::TooLong { len, max });
            }
            bytes::Buf::advance(src, used);
            // `len <= max`, a usize.
            len as usize
        }
    };
    Ok(take_body(pending, len, src))
}

/// At the end of the stream, for a length-prefixed framing: the frame that completes
/// now, or a clean end between frames, or [`FrameError::Truncated`] when the peer closed
/// mid-header or mid-body.
fn decode_prefixed_eof(
    frame: Option<bytes::Bytes>,
    pending: Option<usize>,
    src: &bytes::BytesMut,
) -> Result<Option<bytes::Bytes>, FrameError> {
    if frame.is_some() {
        return Ok(frame);
    }
    if src.is_empty() && pending.is_none() {
        Ok(None)
    } else {
        Err(FrameError::Truncated(src.len()))
    }
}

/// The body of a length-prefixed frame whose header announced `len` bytes: taken whole
/// once it has arrived; until then `pending` remembers `len`.
fn take_body(
    pending: &mut Option<usize>,
    len: usize,
    src: &mut bytes::BytesMut,
) -> Option<bytes::Bytes> {
    if src.len() < len {
        *pending = Some(len);
        return None;
    }
    *pending = None;
    Some(src.split_to(len).freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_names_round_trip() {
        for name in Framing::NAMES {
            let framing: Framing = name.parse().unwrap();
            assert_eq!(&framing.to_string(), name);
        }
        assert!(!Framing::Raw.is_framed());
        assert!(Framing::Len32.is_framed());
    }

    #[test]
    fn struct_and_fixed_framings_parse_and_print() {
        for name in [
            "struct:!I",
            "struct:<H",
            "struct:>Q",
            "struct:!i",
            "fixed:16",
        ] {
            let framing: Framing = name.parse().unwrap();
            assert_eq!(framing.to_string(), name);
            assert!(framing.is_framed());
        }
        let err = "struct:5s".parse::<Framing>().unwrap_err();
        assert!(err.contains("exactly one integer field"), "{err}");
        assert!("struct:!Z".parse::<Framing>().is_err());
        assert!("fixed:0".parse::<Framing>().is_err());
        assert!("fixed:x".parse::<Framing>().is_err());
    }

    #[test]
    fn unknown_framing_lists_the_choices() {
        let err = "json".parse::<Framing>().unwrap_err();
        assert!(err.contains("unknown framing 'json'"), "{err}");
        assert!(err.contains("varint"), "{err}");
    }
}
