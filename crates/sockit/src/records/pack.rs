//! `--pack FMT`: stdin lines of values to packed records.

use std::io;

use bytes::{Bytes, BytesMut};
use pystruct::{literal, repr, Struct};
use tokio::sync::mpsc;

use super::tokenize::split_values;
use crate::stdio::InputChunks;

/// The longest input line accepted: a record's text form is far shorter, so a longer
/// "line" is binary data fed by mistake, not something to buffer without bound.
pub const MAX_LINE: usize = 1 << 20;

/// Records in flight between the packing task and the network.
const QUEUE: usize = 64;

/// A line of input that cannot be packed, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stdin line {line}: {message}")]
pub struct PackLineError {
    /// The line number, counting from 1.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// Packs lines of whitespace-separated Python literals with one format, counting lines
/// so an error can name the one at fault.
#[derive(Debug, Clone)]
pub struct LinePacker {
    st: Struct,
    line: u64,
}

impl LinePacker {
    /// A packer for records of `st`.
    pub fn new(st: Struct) -> LinePacker {
        LinePacker { st, line: 0 }
    }

    /// Packs the next line (without its newline; a trailing `\r` is ignored). Blank lines
    /// count as lines but hold no record: `Ok(None)`.
    pub fn pack_line(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, PackLineError> {
        self.line += 1;
        let fail = |message: String| PackLineError {
            line: self.line,
            message,
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|_| fail("not UTF-8 text".into()))?;
        let texts = split_values(text).map_err(fail)?;
        if texts.is_empty() {
            return Ok(None);
        }
        let want = self.st.value_count();
        if texts.len() != want {
            return Err(fail(format!(
                "expected {want} value{} for format '{}', got {}",
                if want == 1 { "" } else { "s" },
                self.st.format(),
                texts.len()
            )));
        }
        let values = literal::parse_all(&texts).map_err(|e| fail(e.to_string()))?;
        self.st.pack(&values).map(Some).map_err(|e| {
            fail(format!(
                "cannot pack {} with format '{}': {e}",
                repr::tuple(&values),
                self.st.format()
            ))
        })
    }
}

/// Turns stdin chunks into packed records: each item of the returned stream is one
/// whole record, in input order.
///
/// A bad line ends the stream with an error (an [`io::Error`] of kind `InvalidData`
/// wrapping a [`PackLineError`]; see [`pack_error`]) after the records before it: the
/// sender stops there instead of silently skipping part of its input.
pub fn pack_input(mut input: InputChunks, st: Struct) -> InputChunks {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(async move {
        let mut packer = LinePacker::new(st);
        let mut pending = BytesMut::new();
        while let Some(chunk) = input.recv().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            };
            pending.extend_from_slice(&chunk);
            while let Some(at) = pending.iter().position(|&b| b == b'\n') {
                let line = pending.split_to(at + 1);
                if !send_line(&tx, &mut packer, &line[..at]).await {
                    return;
                }
            }
            if pending.len() > MAX_LINE {
                let err = PackLineError {
                    line: packer.line + 1,
                    message: format!("line longer than {MAX_LINE} bytes"),
                };
                let _ = tx
                    .send(Err(io::Error::new(io::ErrorKind::InvalidData, err)))
                    .await;
                return;
            }
        }
        if !pending.is_empty() {
            send_line(&tx, &mut packer, &pending).await;
        }
    });
    rx
}

/// Packs one line and queues the record (or the error); false when the stream must end
/// (a bad line, or nobody reads the records any more).
async fn send_line(
    tx: &mpsc::Sender<io::Result<Bytes>>,
    packer: &mut LinePacker,
    line: &[u8],
) -> bool {
    let item = match packer.pack_line(line) {
        Ok(None) => return true,
        Ok(Some(record)) => Ok(Bytes::from(record)),
        Err(err) => Err(io::Error::new(io::ErrorKind::InvalidData, err)),
    };
    let ok = item.is_ok();
    tx.send(item).await.is_ok() && ok
}

/// The [`PackLineError`] inside an input error, if that is what it is.
pub fn pack_error(err: &io::Error) -> Option<&PackLineError> {
    err.get_ref()?.downcast_ref::<PackLineError>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packer(format: &str) -> LinePacker {
        LinePacker::new(Struct::new(format).unwrap())
    }

    #[test]
    fn packs_the_course_record() {
        let mut p = packer("i5sf");
        let got = p.pack_line(b"1 b'zhang' 1.75\r").unwrap().unwrap();
        assert_eq!(got, b"\x01\x00\x00\x00zhang\x00\x00\x00\x00\x00\xe0?");
        assert_eq!(p.pack_line(b"   ").unwrap(), None);
        let spaced = packer("!h11s").pack_line(b"-2 b'hello world'").unwrap();
        assert_eq!(spaced.unwrap(), b"\xff\xfehello world");
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let mut p = packer("i5sf");
        p.pack_line(b"1 b'zhang' 1.75").unwrap();
        let err = p.pack_line(b"1 b'zhang'").unwrap_err();
        assert_eq!(
            err.to_string(),
            "stdin line 2: expected 3 values for format 'i5sf', got 2"
        );
        let err = p.pack_line(b"1 zhang 1.75").unwrap_err();
        assert!(
            err.to_string().starts_with("stdin line 3: value 2:"),
            "{err}"
        );
        let err = p.pack_line(b"99999999999 b'x' 1").unwrap_err();
        assert!(
            err.to_string().starts_with("stdin line 4: cannot pack"),
            "{err}"
        );
        assert!(err.to_string().contains("format requires"), "{err}");
        let err = p.pack_line(b"1 b'unterminated 1").unwrap_err();
        assert!(err.message.contains("unterminated"), "{err}");
        assert!(p.pack_line(b"\xff").is_err());
    }

    #[tokio::test]
    async fn input_stream_stops_at_the_first_bad_line() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(Ok(Bytes::from_static(b"1\n2\nx\n3\n")))
            .await
            .unwrap();
        drop(tx);
        let mut out = pack_input(rx, Struct::new("<h").unwrap());
        assert_eq!(out.recv().await.unwrap().unwrap(), &b"\x01\x00"[..]);
        assert_eq!(out.recv().await.unwrap().unwrap(), &b"\x02\x00"[..]);
        let err = out.recv().await.unwrap().unwrap_err();
        assert_eq!(pack_error(&err).map(|e| e.line), Some(3));
        assert!(out.recv().await.is_none());
    }

    #[tokio::test]
    async fn last_line_without_newline_is_a_record() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(Ok(Bytes::from_static(b"1\n\n2"))).await.unwrap();
        drop(tx);
        let mut out = pack_input(rx, Struct::new("B").unwrap());
        assert_eq!(out.recv().await.unwrap().unwrap(), &b"\x01"[..]);
        assert_eq!(out.recv().await.unwrap().unwrap(), &b"\x02"[..]);
        assert!(out.recv().await.is_none());
    }
}
