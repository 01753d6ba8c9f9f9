//! The records of the data phase (sender → receiver) and the acknowledgements that flow
//! back (receiver → sender), docs/protocol.md sections 4 and 5.
//!
//! Every record starts with a one-byte tag, so a reader knows what follows from the first
//! byte: no record needs a length that the reader would have to trust blindly. A data
//! frame's length is checked against [`limits::FRAME`] before its payload is read.

use std::io::{self, Read};

use super::proto::{
    limits, pack, read_rec, Digest, ProtoError, DATA, FILE_START, PROGRESS, STATUS, TAG_LEN,
    TRAILER, VERDICT,
};

/// A record of the data phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `F`: the file at `index` starts; its bytes from `start` follow.
    FileStart {
        /// The entry's index in the manifest.
        index: u32,
        /// The first byte sent (0, the resume offset, or the size for "identical").
        start: u64,
    },
    /// `D`: `len` bytes of file data follow (the caller reads them).
    Data {
        /// Payload bytes, 1..=[`limits::FRAME`].
        len: u32,
    },
    /// `T`: the BLAKE3 of the whole file.
    Trailer(Digest),
    /// `X`: the sender could not read the file.
    Abort(String),
    /// `E`: nothing more.
    End,
}

impl Record {
    /// Appends the wire form (for `Data`, only the header: the payload follows).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Record::FileStart { index, start } => pack(&FILE_START, &(b'F', *index, *start), out),
            Record::Data { len } => pack(&DATA, &(b'D', *len), out),
            Record::Trailer(hash) => pack(&TRAILER, &(b'T', *hash), out),
            Record::Abort(reason) => push_reason(out, b'X', reason),
            Record::End => out.push(b'E'),
        }
    }

    /// Reads the next record (for `Data`, the header only).
    pub fn read(r: &mut impl Read) -> Result<Record, ProtoError> {
        let tag = read_tag(r)?;
        let mut rest = TagThen { tag: Some(tag), r };
        Ok(match tag {
            b'F' => {
                let (_, index, start) = read_rec(&FILE_START, &mut rest)?;
                Record::FileStart { index, start }
            }
            b'D' => {
                let (_, len) = read_rec(&DATA, &mut rest)?;
                if len == 0 || len > limits::FRAME {
                    return Err(ProtoError::Violation(format!(
                        "a data frame of {len} bytes (1 to {})",
                        limits::FRAME
                    )));
                }
                Record::Data { len }
            }
            b'T' => Record::Trailer(read_rec(&TRAILER, &mut rest)?.1),
            b'X' => Record::Abort(read_reason(&mut rest)?),
            b'E' => Record::End,
            t => {
                return Err(ProtoError::Violation(format!(
                    "unknown data record tag 0x{t:02x}"
                )))
            }
        })
    }
}

/// Writes a `D` header for `len` payload bytes at `offset` of `buf` (the sender reads the
/// payload into the buffer right after it, so header and payload go out in one write).
pub fn put_data_header(buf: &mut [u8], offset: usize, len: u32) {
    // The caller reserved the 5 bytes; a typed pack into them cannot fail then.
    let _ = DATA.pack_into(buf, offset, &(b'D', len));
}

/// What the receiver made of one file (the `V` record's result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileResult {
    /// Verified and in place.
    Verified = 0,
    /// The digest did not match; the part file was deleted.
    Mismatch = 1,
    /// It could not be written.
    WriteFailed = 2,
    /// The sender aborted it.
    Aborted = 3,
    /// Identical to the file already there, which was left alone.
    Identical = 4,
    /// Its name was taken meanwhile; the part file was kept.
    NotPlaced = 5,
}

impl FileResult {
    fn from_code(c: u8) -> Option<FileResult> {
        Some(match c {
            0 => FileResult::Verified,
            1 => FileResult::Mismatch,
            2 => FileResult::WriteFailed,
            3 => FileResult::Aborted,
            4 => FileResult::Identical,
            5 => FileResult::NotPlaced,
            _ => return None,
        })
    }

    /// Whether the file is there as offered.
    pub fn is_ok(self) -> bool {
        matches!(self, FileResult::Verified | FileResult::Identical)
    }

    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            FileResult::Verified => "verified",
            FileResult::Mismatch => "digest mismatch, part file deleted",
            FileResult::WriteFailed => "could not be written",
            FileResult::Aborted => "aborted by the sender",
            FileResult::Identical => "identical, left as it was",
            FileResult::NotPlaced => "its name was taken meanwhile",
        }
    }
}

/// The final tally in the `S` record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Files verified or identical.
    pub verified: u32,
    /// Files that did not arrive whole.
    pub failed: u32,
    /// Files skipped on purpose.
    pub skipped: u32,
    /// File bytes received in this session.
    pub bytes: u64,
}

/// An acknowledgement from the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// `P`: file bytes received so far.
    Progress(u64),
    /// `V`: one file's result.
    Verdict {
        /// Its index in the manifest.
        index: u32,
        /// What became of it.
        result: FileResult,
        /// File bytes received so far.
        bytes: u64,
    },
    /// `S`: the end.
    Status(Status),
    /// `Z`: the receiver saw a protocol error and closes.
    Error(String),
}

impl Ack {
    /// Appends the wire form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Ack::Progress(n) => pack(&PROGRESS, &(b'P', *n), out),
            Ack::Verdict {
                index,
                result,
                bytes,
            } => pack(&VERDICT, &(b'V', *index, *result as u8, *bytes), out),
            Ack::Status(s) => pack(
                &STATUS,
                &(b'S', s.verified, s.failed, s.skipped, s.bytes),
                out,
            ),
            Ack::Error(reason) => push_reason(out, b'Z', reason),
        }
    }

    /// Reads the next acknowledgement.
    pub fn read(r: &mut impl Read) -> Result<Ack, ProtoError> {
        let tag = read_tag(r)?;
        let mut rest = TagThen { tag: Some(tag), r };
        Ok(match tag {
            b'P' => Ack::Progress(read_rec(&PROGRESS, &mut rest)?.1),
            b'V' => {
                let (_, index, result, bytes) = read_rec(&VERDICT, &mut rest)?;
                let result = FileResult::from_code(result).ok_or_else(|| {
                    ProtoError::Violation(format!("unknown file result {result}"))
                })?;
                Ack::Verdict {
                    index,
                    result,
                    bytes,
                }
            }
            b'S' => {
                let (_, verified, failed, skipped, bytes) = read_rec(&STATUS, &mut rest)?;
                Ack::Status(Status {
                    verified,
                    failed,
                    skipped,
                    bytes,
                })
            }
            b'Z' => Ack::Error(read_reason(&mut rest)?),
            t => {
                return Err(ProtoError::Violation(format!(
                    "unknown acknowledgement tag 0x{t:02x}"
                )))
            }
        })
    }
}

fn read_tag(r: &mut impl Read) -> io::Result<u8> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    Ok(tag[0])
}

/// Replays the tag byte already read, then reads on: the records' formats include the tag.
struct TagThen<'a, R> {
    tag: Option<u8>,
    r: &'a mut R,
}

impl<R: Read> Read for TagThen<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(t) = self.tag.take() {
            buf[0] = t;
            return Ok(1);
        }
        self.r.read(buf)
    }
}

fn push_reason(out: &mut Vec<u8>, tag: u8, reason: &str) {
    let mut end = reason.len().min(usize::from(limits::REASON));
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    pack(&TAG_LEN, &(tag, end as u16), out);
    out.extend_from_slice(&reason.as_bytes()[..end]);
}

fn read_reason(r: &mut impl Read) -> Result<String, ProtoError> {
    let (_, len) = read_rec(&TAG_LEN, r)?;
    if len > limits::REASON {
        return Err(ProtoError::Violation(format!("a reason of {len} bytes")));
    }
    let mut buf = vec![0u8; usize::from(len)];
    r.read_exact(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
