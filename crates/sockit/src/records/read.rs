//! Reading records back to back from a byte stream (a capture file, a pipe, a socket
//! read to its end): Python's `struct.iter_unpack` over data that need not fit in memory.
//!
//! The stream is cut every `calcsize(FMT)` bytes. Memory is one record, and grows only
//! with the bytes that actually arrive: a format may claim records of 100 GB
//! (`99999999999s`), and a short input must then cost its own size, not the claim.

use std::io::{self, Read};

use pystruct::{Struct, Values};

/// Why reading records stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ReadRecordsError {
    /// Reading the input failed (including a decoding error of a [`HexReader`](super::hex::HexReader)).
    #[error("{0}")]
    Input(#[source] io::Error),
    /// The callback failed (writing the records out).
    #[error("{0}")]
    Output(#[source] io::Error),
    /// The input ended inside a record.
    #[error("got {bytes} bytes, which is not a whole number of {size}-byte records")]
    Partial {
        /// Bytes read in all.
        bytes: u64,
        /// The record size.
        size: usize,
    },
    /// The input was empty and the records are not.
    #[error("no bytes to unpack (a record is {size} bytes)")]
    Empty {
        /// The record size.
        size: usize,
    },
    /// Records of size 0 hold no bytes, but the input had some.
    #[error("the format has size 0 but bytes were given")]
    NotEmpty,
    /// The record being read no longer fits in memory.
    #[error("cannot hold a record of {size} bytes in memory ({have} read so far)")]
    OutOfMemory {
        /// The record size.
        size: usize,
        /// Bytes of it read when memory ran out.
        have: usize,
    },
    /// Unpacking a record failed (a format with `0p`, which CPython cannot unpack either).
    #[error("{0}")]
    Unpack(#[from] pystruct::Error),
}

/// Cuts a byte stream into records of a fixed size.
#[derive(Debug)]
pub struct RecordReader<R> {
    input: R,
    size: usize,
    buf: Vec<u8>,
    bytes: u64,
}

/// Bytes asked of the input per read, and so the most the buffer grows past what has
/// arrived.
const CHUNK: usize = 64 * 1024;

impl<R: Read> RecordReader<R> {
    /// Records of `size` bytes (at least 1) from `input`.
    pub fn new(input: R, size: usize) -> RecordReader<R> {
        RecordReader {
            input,
            size: size.max(1),
            buf: Vec::new(),
            bytes: 0,
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next whole record, or `None` at the end of the input between records.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, ReadRecordsError> {
        self.buf.clear();
        while self.buf.len() < self.size {
            let have = self.buf.len();
            // Read at most a chunk at a time; when the buffer is full, grow it by what
            // has arrived (at least a chunk): memory stays within twice the bytes read,
            // and growing costs linear time.
            let want = (self.size - have).min(CHUNK);
            if self.buf.capacity() - have < want {
                let grow = (self.size - have).min(CHUNK.max(have));
                if self.buf.try_reserve_exact(grow).is_err() {
                    return Err(ReadRecordsError::OutOfMemory {
                        size: self.size,
                        have,
                    });
                }
            }
            self.buf.resize(have + want, 0);
            let n = loop {
                match self.input.read(&mut self.buf[have..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ReadRecordsError::Input(e)),
                }
            };
            self.buf.truncate(have + n);
            self.bytes += n as u64;
            if n == 0 {
                if have == 0 {
                    return Ok(None);
                }
                return Err(ReadRecordsError::Partial {
                    bytes: self.bytes,
                    size: self.size,
                });
            }
        }
        Ok(Some(&self.buf))
    }
}

/// Unpacks every record of `st` in `input`, calling `each` with its values, like
/// `struct.iter_unpack`; returns how many records there were.
///
/// An empty input is [`ReadRecordsError::Empty`] (there is nothing to show), except for
/// a format of size 0, which is one empty record of an empty input. A partial record at
/// the end is an error after the whole records before it.
pub fn for_each_record<R: Read>(
    st: &Struct,
    mut input: R,
    mut each: impl FnMut(Values<'_>) -> io::Result<()>,
) -> Result<u64, ReadRecordsError> {
    if st.size() == 0 {
        let mut probe = [0u8; 1];
        let n = loop {
            match input.read(&mut probe) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadRecordsError::Input(e)),
            }
        };
        if n != 0 {
            return Err(ReadRecordsError::NotEmpty);
        }
        each(st.unpack_refs(&[])?).map_err(ReadRecordsError::Output)?;
        return Ok(1);
    }
    let mut reader = RecordReader::new(input, st.size());
    let mut records = 0;
    while let Some(record) = reader.next_record()? {
        each(st.unpack_refs(record)?).map_err(ReadRecordsError::Output)?;
        records += 1;
    }
    if records == 0 {
        return Err(ReadRecordsError::Empty { size: st.size() });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn tuples(format: &str, data: &[u8]) -> Result<Vec<String>, ReadRecordsError> {
        let st = Struct::new(format).unwrap();
        let mut out = Vec::new();
        for_each_record(&st, Trickle(data, 3), |values| {
            let mut s = String::new();
            let _ = pystruct::repr::write_tuple(&mut s, values);
            out.push(s);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn cuts_records_whatever_the_reads() {
        let data: Vec<u8> = (0u8..12).collect();
        assert_eq!(
            tuples("<hbB", &data).unwrap(),
            ["(256, 2, 3)", "(1284, 6, 7)", "(2312, 10, 11)"]
        );
        assert_eq!(tuples("", b"").unwrap(), ["()"]);
    }

    #[test]
    fn refuses_partial_empty_and_stray_input() {
        assert!(matches!(
            tuples("<i", &[1, 2, 3, 4, 5]),
            Err(ReadRecordsError::Partial { bytes: 5, size: 4 })
        ));
        assert!(matches!(
            tuples("<i", b""),
            Err(ReadRecordsError::Empty { size: 4 })
        ));
        assert!(matches!(
            tuples("0s", b"x"),
            Err(ReadRecordsError::NotEmpty)
        ));
    }

    #[test]
    fn huge_record_sizes_cost_only_the_bytes_that_arrive() {
        // A 100 GB record claimed, 10 bytes given: a partial record, not an allocation.
        let mut reader = RecordReader::new(&b"0123456789"[..], 99_999_999_999);
        assert!(matches!(
            reader.next_record(),
            Err(ReadRecordsError::Partial { bytes: 10, .. })
        ));
        assert!(reader.buf.capacity() <= 2 * CHUNK);
    }

    #[test]
    fn output_errors_stop_the_loop() {
        let st = Struct::new("B").unwrap();
        let mut calls = 0;
        let err = for_each_record(&st, &[1u8, 2, 3][..], |_| {
            calls += 1;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(matches!(err, ReadRecordsError::Output(_)));
        assert_eq!(calls, 1);
    }
}
