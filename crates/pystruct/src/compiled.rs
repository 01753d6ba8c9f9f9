//! [`Struct`]: a format compiled once, then used to pack and unpack many records.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::format::{self, Layout, Mode};
use crate::pack;
use crate::record::{self, Record};
use crate::unpack::{self, Values};
use crate::value::{AsValueRef, Value};

/// A compiled format, like Python's `struct.Struct('i5sf')`.
///
/// Compiling parses the format once; packing and unpacking then only walk the field list.
/// Packing into a caller's buffer ([`pack_into`](Self::pack_into)) and borrowed unpacking
/// ([`unpack_refs`](Self::unpack_refs), [`unpack_as`](Self::unpack_as)) do not allocate.
///
/// ```
/// use pystruct::{Struct, Value};
/// let st = Struct::new("i5sf")?;
/// assert_eq!(st.size(), 16);
/// let data = st.pack(&[Value::Int(1), Value::Bytes(b"zhang".to_vec()), Value::Float(1.75)])?;
/// assert_eq!(data, b"\x01\x00\x00\x00zhang\x00\x00\x00\x00\x00\xe0?");
/// let back = st.unpack(&data)?;
/// assert_eq!(pystruct::repr::tuple(&back), "(1, b'zhang', 1.75)");
/// # Ok::<(), pystruct::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Struct {
    format: String,
    layout: Layout,
}

impl Struct {
    /// Compiles a format such as `"i5sf"`, `"!I"` or `"<IHHQ"`.
    ///
    /// Accepts `&str` or bytes; the errors are CPython's (`bad char in struct format`,
    /// `repeat count given without format specifier`, `total struct size too long`,
    /// `embedded null character`).
    pub fn new(format: impl AsRef<[u8]>) -> Result<Struct> {
        let bytes = format.as_ref();
        let layout = format::parse(bytes)?;
        // A valid format is ASCII (anything else is a bad char), so this never replaces.
        let format = String::from_utf8_lossy(bytes).into_owned();
        Ok(Struct { format, layout })
    }

    /// The format string this was compiled from.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// Size of one packed record in bytes (Python's `calcsize`).
    pub fn size(&self) -> usize {
        self.layout.size
    }

    /// Number of values in one record (pad bytes `x` hold none; `10s` holds one).
    pub fn value_count(&self) -> usize {
        self.layout.len
    }

    /// The byte order, size and alignment mode.
    pub fn mode(&self) -> Mode {
        self.layout.mode
    }

    /// The compiled layout, for the typed record binding.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Packs values into a new buffer of exactly [`size`](Self::size) bytes.
    ///
    /// Takes `&[Value]`, `&[ValueRef]`, or a slice of one Rust type such as `&[u32]`.
    pub fn pack<V: AsValueRef>(&self, values: &[V]) -> Result<Vec<u8>> {
        self.check_count("pack", values.len())?;
        let mut out = Vec::new();
        out.try_reserve_exact(self.layout.size)
            .map_err(|_| Error::OutOfMemory {
                size: self.layout.size,
            })?;
        out.resize(self.layout.size, 0);
        pack::pack_record(&self.layout, &mut out, values)?;
        Ok(out)
    }

    /// Appends one packed record to `out`: the send loop's `pack`, reusing one buffer.
    ///
    /// Once `out` has the capacity (after the first records, if it is cleared or drained
    /// between sends), this allocates nothing. A frame is a header then a body:
    ///
    /// ```
    /// use pystruct::Struct;
    /// let header = Struct::new("!I")?;
    /// let mut frame = Vec::with_capacity(64);
    /// for body in [&b"zhang"[..], b"li"] {
    ///     frame.clear();
    ///     header.pack_to_vec(&[body.len()], &mut frame)?;
    ///     frame.extend_from_slice(body);
    ///     // send(&frame)
    /// }
    /// assert_eq!(frame, b"\0\0\0\x02li");
    /// # Ok::<(), pystruct::Error>(())
    /// ```
    ///
    /// On error `out` is left as it was.
    pub fn pack_to_vec<V: AsValueRef>(&self, values: &[V], out: &mut Vec<u8>) -> Result<()> {
        self.check_count("pack", values.len())?;
        let size = self.layout.size;
        let start = out.len();
        out.try_reserve(size)
            .map_err(|_| Error::OutOfMemory { size })?;
        out.resize(start + size, 0);
        let packed = pack::pack_record(&self.layout, &mut out[start..], values);
        if packed.is_err() {
            out.truncate(start);
        }
        packed
    }

    /// Packs values into `buf` at `offset`, without allocating.
    ///
    /// Only the record's bytes `buf[offset..offset + size]` change; pad bytes are zeroed.
    #[inline]
    pub fn pack_into<V: AsValueRef>(
        &self,
        buf: &mut [u8],
        offset: usize,
        values: &[V],
    ) -> Result<()> {
        self.check_count("pack_into", values.len())?;
        let rec = self.slot_mut(buf, offset)?;
        pack::pack_record(&self.layout, rec, values)
    }

    /// Packs a Rust tuple such as `(1i32, b"zhang", 1.75f32)` into a new buffer, each
    /// field converted and range-checked as Python would (see [`Record`]).
    pub fn pack_as<'a, R: Record<'a>>(&self, record: &R) -> Result<Vec<u8>> {
        record.with_values(|values| self.pack(values))
    }

    /// Packs a Rust tuple into `buf` at `offset`, without allocating.
    pub fn pack_into_as<'a, R: Record<'a>>(
        &self,
        buf: &mut [u8],
        offset: usize,
        record: &R,
    ) -> Result<()> {
        record.with_values(|values| self.pack_into(buf, offset, values))
    }

    /// Unpacks a buffer of exactly [`size`](Self::size) bytes into owned values.
    pub fn unpack(&self, buf: &[u8]) -> Result<Vec<Value>> {
        let rec = self.record(buf)?;
        Ok(unpack::to_vec(&self.layout, rec))
    }

    /// Unpacks the record at `offset` in `buf` (the buffer may be longer).
    pub fn unpack_from(&self, buf: &[u8], offset: usize) -> Result<Vec<Value>> {
        let rec = self.slot(buf, offset)?;
        Ok(unpack::to_vec(&self.layout, rec))
    }

    /// Unpacks a buffer of exactly [`size`](Self::size) bytes into `out`, reusing its
    /// storage: after the first record, a receive loop that unpacks into the same `Vec`
    /// allocates nothing (bytes values reuse their buffers too).
    pub fn unpack_into(&self, buf: &[u8], out: &mut Vec<Value>) -> Result<()> {
        let rec = self.record(buf)?;
        unpack::fill(&self.layout, rec, out);
        Ok(())
    }

    /// Unpacks a buffer of exactly [`size`](Self::size) bytes into values borrowed from it,
    /// without allocating.
    pub fn unpack_refs<'a>(&'a self, buf: &'a [u8]) -> Result<Values<'a>> {
        let rec = self.record(buf)?;
        Ok(Values::new(&self.layout, rec))
    }

    /// Like [`unpack_refs`](Self::unpack_refs) for the record at `offset` in `buf`.
    pub fn unpack_from_refs<'a>(&'a self, buf: &'a [u8], offset: usize) -> Result<Values<'a>> {
        let rec = self.slot(buf, offset)?;
        Ok(Values::new(&self.layout, rec))
    }

    /// Unpacks straight into a Rust tuple such as `(i32, [u8; 5], f32)` or
    /// `(u32, &[u8], f64)`: the typed fast path, without allocating.
    pub fn unpack_as<'a, R: Record<'a>>(&'a self, buf: &'a [u8]) -> Result<R> {
        let rec = self.record(buf)?;
        record::from_values(Values::new(&self.layout, rec))
    }

    /// Like [`unpack_as`](Self::unpack_as) for the record at `offset` in `buf`.
    pub fn unpack_from_as<'a, R: Record<'a>>(&'a self, buf: &'a [u8], offset: usize) -> Result<R> {
        let rec = self.slot(buf, offset)?;
        record::from_values(Values::new(&self.layout, rec))
    }

    /// Unpacks a buffer holding a whole number of records, one `Vec<Value>` per record
    /// (Python's `iter_unpack`).
    pub fn iter_unpack<'a>(&'a self, buf: &'a [u8]) -> Result<IterUnpack<'a>> {
        IterUnpack::new(Cow::Borrowed(self), buf)
    }

    /// Calls `f` with every value of the record, borrowed: the cheapest way to walk a
    /// record with a dynamic format.
    #[inline]
    pub fn unpack_with<'a>(&self, buf: &'a [u8], f: impl FnMut(crate::ValueRef<'a>)) -> Result<()> {
        let rec = self.record(buf)?;
        unpack::for_each(&self.layout, rec, f);
        Ok(())
    }

    fn check_count(&self, op: &'static str, got: usize) -> Result<()> {
        if got != self.layout.len {
            return Err(Error::ArgCount {
                op,
                expected: self.layout.len,
                got,
            });
        }
        Ok(())
    }

    /// The whole of `buf`, if it is exactly one record and the format can be unpacked.
    fn record<'a>(&self, buf: &'a [u8]) -> Result<&'a [u8]> {
        if buf.len() != self.layout.size {
            return Err(Error::UnpackSize {
                expected: self.layout.size,
                got: buf.len(),
            });
        }
        self.check_unpackable()?;
        Ok(buf)
    }

    /// The record at `offset` in `buf`, for unpacking.
    fn slot<'a>(&self, buf: &'a [u8], offset: usize) -> Result<&'a [u8]> {
        let end = self.end("unpack_from", buf.len(), offset)?;
        self.check_unpackable()?;
        Ok(&buf[offset..end])
    }

    /// The record at `offset` in `buf`, for packing.
    fn slot_mut<'a>(&self, buf: &'a mut [u8], offset: usize) -> Result<&'a mut [u8]> {
        let end = self.end("pack_into", buf.len(), offset)?;
        Ok(&mut buf[offset..end])
    }

    /// End of the record at `offset`, if it fits in a buffer of `len` bytes.
    fn end(&self, op: &'static str, len: usize, offset: usize) -> Result<usize> {
        match offset.checked_add(self.layout.size) {
            Some(end) if end <= len => Ok(end),
            _ => Err(Error::BufferTooSmall {
                op,
                size: self.layout.size,
                offset,
                len,
            }),
        }
    }

    fn check_unpackable(&self) -> Result<()> {
        if self.layout.zero_pascal {
            return Err(Error::ZeroPascal);
        }
        Ok(())
    }
}

impl std::str::FromStr for Struct {
    type Err = Error;

    /// Compiles a format: `"i5sf".parse::<Struct>()`.
    fn from_str(s: &str) -> Result<Struct> {
        Struct::new(s)
    }
}

/// Iterator over the records of a buffer, from [`Struct::iter_unpack`] or
/// [`crate::iter_unpack`]. Yields one `Vec<Value>` per record.
#[derive(Clone, Debug)]
pub struct IterUnpack<'a> {
    st: Cow<'a, Struct>,
    chunks: std::slice::ChunksExact<'a, u8>,
}

impl<'a> IterUnpack<'a> {
    pub(crate) fn new(st: Cow<'a, Struct>, buf: &'a [u8]) -> Result<IterUnpack<'a>> {
        let size = st.layout.size;
        if size == 0 {
            return Err(Error::IterZeroSize);
        }
        if buf.len() % size != 0 {
            return Err(Error::IterNotMultiple {
                size,
                len: buf.len(),
            });
        }
        if !buf.is_empty() {
            st.check_unpackable()?;
        }
        Ok(IterUnpack {
            chunks: buf.chunks_exact(size),
            st,
        })
    }
}

impl Iterator for IterUnpack<'_> {
    type Item = Vec<Value>;

    fn next(&mut self) -> Option<Vec<Value>> {
        let rec = self.chunks.next()?;
        Some(unpack::to_vec(&self.st.layout, rec))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for IterUnpack<'_> {}
