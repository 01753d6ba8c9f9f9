//! Exact typed records: a format checked once against a Rust tuple, then packed and
//! unpacked field by field with no `Value`, no conversion and no allocation.
//!
//! This is the fast path for Rust code that owns both the format and the types, such as
//! a protocol header: [`Struct::typed`] checks that every Rust field stores its format
//! character byte for byte (`i32` for `i`, `[u8; 5]` for `5s`, `f32` for `f`...), and the
//! resulting [`Typed`] only has buffer sizes left to check per call.
//!
//! ```
//! use pystruct::Struct;
//! let header = Struct::new("!IHH")?.typed::<(u32, u16, u16)>()?;
//! let mut buf = [0u8; 8];
//! header.pack_into(&mut buf, 0, &(1500, 1, 2))?;
//! assert_eq!(buf, [0, 0, 5, 220, 0, 1, 0, 2]);
//! assert_eq!(header.unpack(&buf)?, (1500, 1, 2));
//! # Ok::<(), pystruct::Error>(())
//! ```

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::format::{Kind, Layout};
use crate::{Struct, F16};

/// What one value of a compiled format stores and where, for [`Field::fits`]. Opaque:
/// only this crate builds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    kind: Kind,
    len: usize,
    offset: usize,
}

/// A Rust type that stores one or more consecutive values of a format byte for byte.
///
/// | Rust | format characters |
/// |---|---|
/// | `i8`, `u8` | `b`; `B` and `c` |
/// | `bool` | `?` |
/// | `i16`, `u16` | `h`, `H` |
/// | `i32`, `u32` | `i`, `I`, and `l`, `L` with a standard-size prefix |
/// | `i64`, `u64` | `q`, `n`, native `l`; `Q`, `N`, `P`, native `L` |
/// | [`F16`], `f32`, `f64` | `e`, `f`, `d` |
/// | `[u8; N]` | `Ns`, or `N` values of `B`/`c` |
/// | `[T; N]`, `T` any of the above but `u8` | `N` values `T` stores (`[u32; 4]` is `4I`) |
///
/// The values of an array must be adjacent in the record (`4I` or `II`, not `IxI`).
/// Packing writes the exact bits (an `f32` signalling NaN stays signalling, where going
/// through a Python float would quiet it). `f32` does not stand for `e`: packing a
/// single into a half rounds and can overflow, so the exact type is [`F16`].
pub trait Field: Sized {
    /// The type's name, for mismatch messages.
    const NAME: &'static str;

    /// How many values, from the first of `specs` on, this type stores exactly, or `None`
    /// if it does not store them byte for byte.
    fn fits(specs: &[FieldSpec]) -> Option<usize>;

    /// Reads the field starting at `at` (the caller guarantees it is inside `rec`),
    /// big-endian if `BIG`.
    fn read<const BIG: bool>(rec: &[u8], at: usize) -> Self;

    /// Writes the field starting at `at` (the caller guarantees it is inside `out`),
    /// big-endian if `BIG`.
    fn write<const BIG: bool>(&self, out: &mut [u8], at: usize);
}

/// Reads `N` bytes at `at`, or zeros if out of bounds (never, by construction).
#[inline(always)]
fn get<const N: usize>(rec: &[u8], at: usize) -> [u8; N] {
    let mut raw = [0; N];
    if let Some(src) = rec.get(at..at.wrapping_add(N)) {
        raw.copy_from_slice(src);
    }
    raw
}

/// Writes `N` bytes at `at`, if in bounds (always, by construction).
#[inline(always)]
fn put<const N: usize>(out: &mut [u8], at: usize, bytes: [u8; N]) {
    if let Some(dst) = out.get_mut(at..at.wrapping_add(N)) {
        dst.copy_from_slice(&bytes);
    }
}

/// One value stored as one fixed-size item: the element types of array fields.
trait Scalar: Field + Copy + Default {
    /// Whether this type stores the item `spec` exactly.
    fn fits_one(spec: &FieldSpec) -> bool;
}

/// [`Field::fits`] for a scalar: the first value, if it fits.
#[inline]
fn fits_scalar<T: Scalar>(specs: &[FieldSpec]) -> Option<usize> {
    specs.first().filter(|s| T::fits_one(s)).map(|_| 1)
}

/// [`Field::fits`] for `[T; N]`: `N` values `T` fits, each right after the one before.
fn fits_array<T: Scalar, const N: usize>(specs: &[FieldSpec]) -> Option<usize> {
    let run = specs.get(..N)?;
    let first = run.first().map_or(0, |s| s.offset);
    let adjacent = run.iter().enumerate().all(|(k, s)| {
        T::fits_one(s) && Some(s.offset) == k.checked_mul(size_of::<T>()).map(|d| first + d)
    });
    adjacent.then_some(N)
}

macro_rules! number_field {
    ($t:ty, $name:literal, $($kind:pat),+) => {
        impl Scalar for $t {
            #[inline(always)]
            fn fits_one(spec: &FieldSpec) -> bool {
                matches!(spec.kind, $($kind)|+)
            }
        }
        impl Field for $t {
            const NAME: &'static str = $name;
            #[inline]
            fn fits(specs: &[FieldSpec]) -> Option<usize> {
                fits_scalar::<$t>(specs)
            }
            #[inline(always)]
            fn read<const BIG: bool>(rec: &[u8], at: usize) -> $t {
                let raw = get(rec, at);
                if BIG { <$t>::from_be_bytes(raw) } else { <$t>::from_le_bytes(raw) }
            }
            #[inline(always)]
            fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
                put(out, at, if BIG { self.to_be_bytes() } else { self.to_le_bytes() });
            }
        }
    };
}

number_field!(i8, "i8", Kind::I8);
number_field!(u8, "u8", Kind::U8, Kind::Char);
number_field!(i16, "i16", Kind::I16);
number_field!(u16, "u16", Kind::U16);
number_field!(i32, "i32", Kind::I32);
number_field!(u32, "u32", Kind::U32);
number_field!(i64, "i64", Kind::I64);
number_field!(u64, "u64", Kind::U64, Kind::Ptr);
number_field!(f32, "f32", Kind::F32);
number_field!(f64, "f64", Kind::F64);

impl Scalar for bool {
    #[inline(always)]
    fn fits_one(spec: &FieldSpec) -> bool {
        spec.kind == Kind::Bool
    }
}

impl Field for bool {
    const NAME: &'static str = "bool";
    #[inline]
    fn fits(specs: &[FieldSpec]) -> Option<usize> {
        fits_scalar::<bool>(specs)
    }
    #[inline(always)]
    fn read<const BIG: bool>(rec: &[u8], at: usize) -> bool {
        get::<1>(rec, at)[0] != 0
    }
    #[inline(always)]
    fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
        put(out, at, [u8::from(*self)]);
    }
}

impl Scalar for F16 {
    #[inline(always)]
    fn fits_one(spec: &FieldSpec) -> bool {
        spec.kind == Kind::F16
    }
}

impl Field for F16 {
    const NAME: &'static str = "F16";
    #[inline]
    fn fits(specs: &[FieldSpec]) -> Option<usize> {
        fits_scalar::<F16>(specs)
    }
    #[inline(always)]
    fn read<const BIG: bool>(rec: &[u8], at: usize) -> F16 {
        F16::from_bits(u16::read::<BIG>(rec, at))
    }
    #[inline(always)]
    fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
        self.to_bits().write::<BIG>(out, at);
    }
}

macro_rules! array_field {
    ($($t:ty: $name:literal),+) => {$(
        impl<const N: usize> Field for [$t; N] {
            const NAME: &'static str = $name;
            #[inline]
            fn fits(specs: &[FieldSpec]) -> Option<usize> {
                fits_array::<$t, N>(specs)
            }
            #[inline(always)]
            fn read<const BIG: bool>(rec: &[u8], at: usize) -> [$t; N] {
                const SIZE: usize = size_of::<$t>();
                std::array::from_fn(|k| <$t>::read::<BIG>(rec, at.wrapping_add(k * SIZE)))
            }
            #[inline(always)]
            fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
                const SIZE: usize = size_of::<$t>();
                for (k, v) in self.iter().enumerate() {
                    v.write::<BIG>(out, at.wrapping_add(k * SIZE));
                }
            }
        }
    )+};
}

array_field!(
    i8: "[i8; N]",
    bool: "[bool; N]",
    i16: "[i16; N]",
    u16: "[u16; N]",
    i32: "[i32; N]",
    u32: "[u32; N]",
    i64: "[i64; N]",
    u64: "[u64; N]",
    F16: "[F16; N]",
    f32: "[f32; N]",
    f64: "[f64; N]"
);

impl<const N: usize> Field for [u8; N] {
    const NAME: &'static str = "[u8; N] (an Ns field, or N B/c values)";
    #[inline]
    fn fits(specs: &[FieldSpec]) -> Option<usize> {
        match specs.first() {
            Some(s) if s.kind == Kind::Str => (s.len == N).then_some(1),
            _ if N == 0 => None,
            _ => fits_array::<u8, N>(specs),
        }
    }
    #[inline(always)]
    fn read<const BIG: bool>(rec: &[u8], at: usize) -> [u8; N] {
        get(rec, at)
    }
    #[inline(always)]
    fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
        put(out, at, *self);
    }
}

/// A Rust type for a whole record: tuples of up to 12 [`Field`]s, or arrays `[T; N]` of
/// one field type.
pub trait Record: Sized {
    /// Binds the fields to the format's values `specs`, pushing each field's offset onto
    /// `offsets`. `Ok(Some((value, rust type)))`: the field starting at that value does
    /// not fit; `Err(fields)`: the Rust type has `fields` fields and they take fewer or
    /// more values than the format has.
    fn check(
        specs: &[FieldSpec],
        offsets: &mut Vec<usize>,
    ) -> std::result::Result<Option<(usize, &'static str)>, usize>;

    /// Reads the record; `offsets` has one entry per field, all inside `rec`.
    fn read<const BIG: bool>(rec: &[u8], offsets: &[usize]) -> Self;

    /// Writes the record; `offsets` has one entry per field, all inside `out`.
    fn write<const BIG: bool>(&self, out: &mut [u8], offsets: &[usize]);
}

/// Binds one field of type `T` at value `*at` of `specs` (see [`Record::check`]).
fn bind<T: Field>(
    specs: &[FieldSpec],
    at: &mut usize,
    offsets: &mut Vec<usize>,
    fields: usize,
) -> std::result::Result<Option<(usize, &'static str)>, usize> {
    let rest = specs.get(*at..).unwrap_or(&[]);
    if rest.is_empty() {
        return Err(fields);
    }
    match T::fits(rest) {
        Some(n) => {
            offsets.push(rest[0].offset);
            *at += n;
            Ok(None)
        }
        None => Ok(Some((*at, T::NAME))),
    }
}

/// The offset of field `i` (always present: the arity was checked).
#[inline(always)]
fn offset(offsets: &[usize], i: usize) -> usize {
    offsets.get(i).copied().unwrap_or(usize::MAX)
}

macro_rules! tuple_record {
    ($n:expr; $($T:ident $i:tt),+) => {
        impl<$($T: Field),+> Record for ($($T,)+) {
            fn check(
                specs: &[FieldSpec],
                offsets: &mut Vec<usize>,
            ) -> std::result::Result<Option<(usize, &'static str)>, usize> {
                let mut at = 0;
                $(if let Some(misfit) = bind::<$T>(specs, &mut at, offsets, $n)? {
                    return Ok(Some(misfit));
                })+
                if at != specs.len() {
                    return Err($n);
                }
                Ok(None)
            }
            #[inline(always)]
            fn read<const BIG: bool>(rec: &[u8], offsets: &[usize]) -> Self {
                ($($T::read::<BIG>(rec, offset(offsets, $i)),)+)
            }
            #[inline(always)]
            fn write<const BIG: bool>(&self, out: &mut [u8], offsets: &[usize]) {
                $(self.$i.write::<BIG>(out, offset(offsets, $i));)+
            }
        }
    };
}

tuple_record!(1; A 0);
tuple_record!(2; A 0, B 1);
tuple_record!(3; A 0, B 1, C 2);
tuple_record!(4; A 0, B 1, C 2, D 3);
tuple_record!(5; A 0, B 1, C 2, D 3, E 4);
tuple_record!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_record!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_record!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_record!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_record!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_record!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_record!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

impl<T: Field + Copy + Default, const N: usize> Record for [T; N] {
    fn check(
        specs: &[FieldSpec],
        offsets: &mut Vec<usize>,
    ) -> std::result::Result<Option<(usize, &'static str)>, usize> {
        let mut at = 0;
        for _ in 0..N {
            if let Some(misfit) = bind::<T>(specs, &mut at, offsets, N)? {
                return Ok(Some(misfit));
            }
        }
        if at != specs.len() {
            return Err(N);
        }
        Ok(None)
    }
    #[inline]
    fn read<const BIG: bool>(rec: &[u8], offsets: &[usize]) -> Self {
        let mut out = [T::default(); N];
        for (slot, &at) in out.iter_mut().zip(offsets) {
            *slot = T::read::<BIG>(rec, at);
        }
        out
    }
    #[inline]
    fn write<const BIG: bool>(&self, out: &mut [u8], offsets: &[usize]) {
        for (v, &at) in self.iter().zip(offsets) {
            v.write::<BIG>(out, at);
        }
    }
}

/// A format bound to a Rust record type `T`, from [`Struct::typed`].
///
/// Per call it checks only the buffer size; every field is read or written with one
/// fixed-size load or store.
#[derive(Clone, Debug)]
pub struct Typed<T> {
    size: usize,
    big: bool,
    offsets: Vec<usize>,
    gaps: Vec<(usize, usize)>,
    _record: PhantomData<fn() -> T>,
}

impl<T: Record> Typed<T> {
    pub(crate) fn new(layout: &Layout) -> Result<Typed<T>> {
        // One spec per value; a layout too long to list cannot match a Rust type anyway
        // (a tuple has at most 12 fields, and an array of 4096 is far past any record).
        const MAX: usize = 1 << 16;
        if layout.len > MAX {
            return Err(Error::TypedArity {
                expected: layout.len,
                got: MAX,
            });
        }
        let mut specs = Vec::with_capacity(layout.len);
        for code in &layout.codes {
            for j in 0..code.values {
                specs.push(FieldSpec {
                    kind: code.kind,
                    len: code.count,
                    offset: code.offset + j * code.kind.size(),
                });
            }
        }
        let mut offsets = Vec::new();
        match T::check(&specs, &mut offsets) {
            Err(got) => Err(Error::TypedArity {
                expected: layout.len,
                got,
            }),
            Ok(Some((index, rust))) => Err(Error::TypedField {
                index,
                rust,
                format: layout_format(layout, index),
            }),
            Ok(None) => Ok(Typed {
                size: layout.size,
                big: layout.mode.is_big_endian(),
                offsets,
                gaps: layout.gaps.clone(),
                _record: PhantomData,
            }),
        }
    }

    /// Size of one packed record in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Packs `record` into `buf` at `offset`; pad bytes are zeroed, the rest of `buf` is
    /// left alone.
    #[inline]
    pub fn pack_into(&self, buf: &mut [u8], offset: usize, record: &T) -> Result<()> {
        let out = match offset.checked_add(self.size) {
            Some(end) if end <= buf.len() => &mut buf[offset..end],
            _ => {
                return Err(Error::BufferTooSmall {
                    op: "pack_into",
                    size: self.size,
                    offset,
                    len: buf.len(),
                })
            }
        };
        if !self.gaps.is_empty() {
            if out.len() <= 16 {
                // Zeroing the whole short record (two stores) is cheaper than visiting
                // its gaps; the fields are written over it next.
                crate::pack::copy_small(out, &[0; 16]);
            } else {
                crate::pack::zero_gaps(&self.gaps, out);
            }
        }
        self.write(record, out);
        Ok(())
    }

    /// Packs `record` into a new buffer.
    pub fn pack(&self, record: &T) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.try_reserve_exact(self.size)
            .map_err(|_| Error::OutOfMemory { size: self.size })?;
        out.resize(self.size, 0);
        self.write(record, &mut out);
        Ok(out)
    }

    /// Unpacks a buffer of exactly [`size`](Self::size) bytes.
    #[inline]
    pub fn unpack(&self, buf: &[u8]) -> Result<T> {
        if buf.len() != self.size {
            return Err(Error::UnpackSize {
                expected: self.size,
                got: buf.len(),
            });
        }
        Ok(self.read(buf))
    }

    /// Unpacks the record at `offset` in `buf` (the buffer may be longer).
    #[inline]
    pub fn unpack_from(&self, buf: &[u8], offset: usize) -> Result<T> {
        match offset.checked_add(self.size) {
            Some(end) if end <= buf.len() => Ok(self.read(&buf[offset..end])),
            _ => Err(Error::BufferTooSmall {
                op: "unpack_from",
                size: self.size,
                offset,
                len: buf.len(),
            }),
        }
    }
}

impl<T: Record> Typed<T> {
    #[inline(always)]
    fn read(&self, rec: &[u8]) -> T {
        if self.big {
            T::read::<true>(rec, &self.offsets)
        } else {
            T::read::<false>(rec, &self.offsets)
        }
    }

    #[inline(always)]
    fn write(&self, record: &T, out: &mut [u8]) {
        if self.big {
            record.write::<true>(out, &self.offsets)
        } else {
            record.write::<false>(out, &self.offsets)
        }
    }
}

/// The format character of value `index` of a layout.
fn layout_format(layout: &Layout, index: usize) -> u8 {
    let mut seen = 0;
    for code in &layout.codes {
        seen += code.values;
        if index < seen {
            return code.format;
        }
    }
    b'?'
}

impl Struct {
    /// Binds this format to a Rust record type, checking once that every field stores
    /// its format character exactly (see [`Field`]); the result packs and unpacks with
    /// no per-value checks.
    pub fn typed<T: Record>(&self) -> Result<Typed<T>> {
        Typed::new(self.layout())
    }
}
