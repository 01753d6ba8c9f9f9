//! Python's `struct` format language, byte-exact with CPython 3.11 on x86-64 Linux.
//!
//! No dependencies and no I/O: formats are compiled once into a [`Struct`], then records are
//! packed and unpacked without allocating beyond the output.
//!
//! A network program cannot send an `int` or a `float`, only bytes; `struct` is the
//! agreed way to turn a record such as `1, b'zhang', 1.75` into bytes and back, so a
//! Python peer and a Rust peer read each other's messages. The course's example:
//!
//! ```
//! use pystruct::{Struct, Value};
//! let st = Struct::new("i5sf")?;                         // Struct('i5sf')
//! let data = st.pack(&[Value::Int(1), Value::Bytes(b"zhang".to_vec()), Value::Float(1.75)])?;
//! assert_eq!(data.len(), st.size());                     // 16: i at 0, 5s at 4, f at 12
//! let values = st.unpack(&data)?;                        // st.unpack(data)
//! assert_eq!(pystruct::repr::tuple(&values), "(1, b'zhang', 1.75)");
//! # Ok::<(), pystruct::Error>(())
//! ```
//!
//! # Values
//!
//! [`Value`] is Python's `int` (`Value::Int(i128)`, wide enough for every `i64` and `u64`
//! field), `bool`, `float` (`f64`) and `bytes`. [`ValueRef`] is the same with borrowed
//! bytes; `pack` takes any slice of [`AsValueRef`] (`&[Value]`, `&[ValueRef]`, `&[u32]`...).
//! For Rust callers who know the types, a tuple such as `(i32, [u8; 5], f32)` is a
//! [`Record`] of [`Field`]s, used two ways: [`Struct::unpack_as`] and [`Struct::pack_as`]
//! convert and range-check each value as Python would, and [`Struct::typed`] binds a
//! format to the tuple once so that packing and unpacking are plain loads and stores:
//! the fastest path.
//!
//! # Modules
//!
//! - [`literal`]: Python literals (`b'zhang'`, `0xff`, `True`, `-0.0`) to values, for
//!   command lines.
//! - [`repr`]: values to Python's `repr()` text (`(1, b'zhang', 1.75)`).
//!
//! # Differences from CPython
//!
//! - Offsets are `usize`: no negative offsets counting from the end of the buffer.
//! - `pack_into` with a format ending in `0p` does not write the stray `0xff` CPython
//!   writes just past the record (inside the record it does, like CPython).

#![warn(missing_docs)]

mod bigint;
mod compiled;
mod error;
mod format;
mod half;
pub mod literal;
mod ops;
mod pack;
mod record;
pub mod repr;
mod unpack;
mod value;

pub use bigint::BigInt;
pub use compiled::{IterUnpack, Struct};
pub use error::{Error, ErrorKind, RangeName, Result};
pub use format::Mode;
pub use half::F16;
pub use record::{Field, FieldSpec, Record, Typed};
pub use unpack::Values;
pub use value::{AsValueRef, Value, ValueRef};

use std::borrow::Cow;

/// Packs values with a format, compiling it first (Python's `struct.pack`).
///
/// For many records, compile once with [`Struct::new`] instead.
pub fn pack<V: AsValueRef>(format: impl AsRef<[u8]>, values: &[V]) -> Result<Vec<u8>> {
    Struct::new(format)?.pack(values)
}

/// Packs values into `buf` at `offset` (Python's `struct.pack_into`).
pub fn pack_into<V: AsValueRef>(
    format: impl AsRef<[u8]>,
    buf: &mut [u8],
    offset: usize,
    values: &[V],
) -> Result<()> {
    Struct::new(format)?.pack_into(buf, offset, values)
}

/// Unpacks a buffer of exactly the format's size (Python's `struct.unpack`).
pub fn unpack(format: impl AsRef<[u8]>, buf: &[u8]) -> Result<Vec<Value>> {
    Struct::new(format)?.unpack(buf)
}

/// Unpacks the record at `offset` in `buf` (Python's `struct.unpack_from`).
pub fn unpack_from(format: impl AsRef<[u8]>, buf: &[u8], offset: usize) -> Result<Vec<Value>> {
    Struct::new(format)?.unpack_from(buf, offset)
}

/// Iterates over the records of a buffer holding a whole number of them (Python's
/// `struct.iter_unpack`).
pub fn iter_unpack(format: impl AsRef<[u8]>, buf: &[u8]) -> Result<IterUnpack<'_>> {
    IterUnpack::new(Cow::Owned(Struct::new(format)?), buf)
}

/// Size in bytes of a record of this format (Python's `struct.calcsize`).
pub fn calcsize(format: impl AsRef<[u8]>) -> Result<usize> {
    Ok(Struct::new(format)?.size())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_example_round_trips() {
        let st = Struct::new("i5sf").unwrap();
        let data = st
            .pack(&[Value::Int(1), Value::from(b"zhang"), Value::Float(1.75)])
            .unwrap();
        assert_eq!(data, b"\x01\x00\x00\x00zhang\x00\x00\x00\x00\x00\xe0?");
        assert_eq!(
            repr::tuple(&st.unpack(&data).unwrap()),
            "(1, b'zhang', 1.75)"
        );
        let t: (i32, &[u8], f32) = st.unpack_as(&data).unwrap();
        assert_eq!(t, (1, &b"zhang"[..], 1.75));
        assert_eq!(st.pack_as(&(1u8, b"zhang", 1.75f64)).unwrap(), data);
    }

    #[test]
    fn pack_into_zeroes_only_its_record() {
        let st = Struct::new("bxh").unwrap();
        let mut buf = [0xffu8; 8];
        st.pack_into(&mut buf, 1, &[1, 2]).unwrap();
        assert_eq!(buf, [0xff, 1, 0, 2, 0, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn zero_pascal_quirks() {
        assert_eq!(pack("0px", &[Value::from(b"")]).unwrap(), b"\xff");
        assert_eq!(
            pack("@b0pi", &[Value::Int(1), Value::from(b""), Value::Int(2)]).unwrap(),
            b"\x01\xff\x00\x00\x02\x00\x00\x00"
        );
        assert_eq!(unpack("0p", b""), Err(Error::ZeroPascal));
    }

    #[test]
    fn errors_match_cpython_messages() {
        let e = pack("<h", &[40000]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "short format requires -32768 <= number <= 32767"
        );
        let e = pack(">h", &[40000]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "'h' format requires -32768 <= number <= 32767"
        );
        let e = pack(">Q", &[-1]).unwrap_err();
        assert!(e.to_string().starts_with("int too large to convert"));
        let e = pack("e", &[Value::Int(70000)]).unwrap_err();
        assert!(e.to_string().starts_with("int too large to convert"));
        let e = pack("e", &[Value::Float(70000.0)]).unwrap_err();
        assert_eq!(e.python_exception(), "OverflowError");
        let e = pack("i", &[1, 2]).unwrap_err();
        assert_eq!(e.to_string(), "pack expected 1 items for packing (got 2)");
    }

    #[test]
    fn typed_records_match_dynamic_packing() {
        let st = Struct::new("@b i5s?d").unwrap();
        let typed = st.typed::<(i8, i32, [u8; 5], bool, f64)>().unwrap();
        let rec = (-1i8, 7i32, *b"zhang", true, -0.5f64);
        let dynamic = st.pack_as(&rec).unwrap();
        assert_eq!(typed.pack(&rec).unwrap(), dynamic);
        let mut buf = [0xaau8; 40];
        typed.pack_into(&mut buf, 3, &rec).unwrap();
        assert_eq!(&buf[3..3 + st.size()], &dynamic[..]);
        assert_eq!(buf[2], 0xaa);
        assert_eq!(typed.unpack(&dynamic).unwrap(), rec);
        assert_eq!(typed.unpack_from(&buf, 3).unwrap(), rec);
        assert!(matches!(typed.unpack(&buf), Err(Error::UnpackSize { .. })));
    }

    #[test]
    fn typed_records_refuse_inexact_types() {
        let st = Struct::new("<iq5s").unwrap();
        assert!(matches!(
            st.typed::<(i32, i32, [u8; 5])>(),
            Err(Error::TypedField { index: 1, .. })
        ));
        assert!(matches!(
            st.typed::<(i32, i64, [u8; 4])>(),
            Err(Error::TypedField { index: 2, .. })
        ));
        assert!(matches!(
            st.typed::<(i32, i64)>(),
            Err(Error::TypedArity { .. })
        ));
        assert!(st.typed::<(i32, i64, [u8; 5])>().is_ok());
        assert!(Struct::new("<8H").unwrap().typed::<[u16; 8]>().is_ok());
    }

    #[test]
    fn typed_arrays_span_runs_of_values() {
        let st = Struct::new("<4I4H4Q4d4B4b4h2f2e").unwrap();
        type Rec32 = (
            [u32; 4],
            [u16; 4],
            [u64; 4],
            [f64; 4],
            [u8; 4],
            [i8; 4],
            [i16; 4],
            [f32; 2],
            [F16; 2],
        );
        let typed = st.typed::<Rec32>().unwrap();
        let h = |x| F16::from_f64(x).unwrap();
        let rec: Rec32 = (
            [4_000_000_000, 3_999_999_999, 3_999_999_998, 3_999_999_997],
            [60_000, 60_001, 60_002, 60_003],
            [1 << 40, 1 << 41, 1 << 42, 1 << 43],
            [1.5, 2.5, 3.5, 4.5],
            [200, 201, 202, 203],
            [-100, -101, -102, -103],
            [-30_000, -29_999, -29_998, -29_997],
            [0.0, 0.25],
            [h(2.5), h(3.5)],
        );
        let data = typed.pack(&rec).unwrap();
        let mut values: Vec<Value> = Vec::new();
        values.extend(rec.0.map(Value::from));
        values.extend(rec.1.map(Value::from));
        values.extend(rec.2.map(Value::from));
        values.extend(rec.3.map(Value::from));
        values.extend(rec.4.map(Value::from));
        values.extend(rec.5.map(Value::from));
        values.extend(rec.6.map(Value::from));
        values.extend(rec.7.map(Value::from));
        values.extend(rec.8.map(Value::from));
        assert_eq!(data, st.pack(&values).unwrap());
        assert_eq!(typed.unpack(&data).unwrap(), rec);
        assert_eq!(st.unpack(&data).unwrap(), values);
        // Runs written one character at a time, and arrays split across fields.
        let st = Struct::new("<IIII").unwrap();
        assert!(st.typed::<([u32; 4],)>().is_ok());
        assert!(st.typed::<([u32; 2], u32, [u32; 1])>().is_ok());
        assert!(matches!(
            st.typed::<([u32; 3],)>(),
            Err(Error::TypedArity { .. })
        ));
        assert!(matches!(
            st.typed::<([u32; 5],)>(),
            Err(Error::TypedField { index: 0, .. })
        ));
        // Not adjacent, or not all of the element's type: refused.
        assert!(matches!(
            Struct::new("<IxI").unwrap().typed::<([u32; 2],)>(),
            Err(Error::TypedField { index: 0, .. })
        ));
        assert!(matches!(
            Struct::new("<Ii").unwrap().typed::<([u32; 2],)>(),
            Err(Error::TypedField { index: 0, .. })
        ));
        // `e` is F16, not f32 (packing an f32 into a half rounds and can overflow).
        assert!(Struct::new("e").unwrap().typed::<(f32,)>().is_err());
        // `[u8; N]`: `Ns`, or N values of `B`/`c`; a different length is refused.
        let st = Struct::new("@3B").unwrap();
        let typed = st.typed::<([u8; 3],)>().unwrap();
        assert_eq!(typed.pack(&([1, 2, 3],)).unwrap(), [1, 2, 3]);
        assert!(Struct::new("4s").unwrap().typed::<([u8; 3],)>().is_err());
        assert!(Struct::new("2s")
            .unwrap()
            .typed::<([u8; 1], [u8; 1])>()
            .is_err());
        // Native alignment: the array's values are still adjacent.
        let st = Struct::new("@b3i").unwrap();
        let typed = st.typed::<(i8, [i32; 3])>().unwrap();
        let data = typed.pack(&(-1, [1, -2, 3])).unwrap();
        assert_eq!(data, st.pack(&[-1, 1, -2, 3]).unwrap());
        assert_eq!(typed.unpack(&data).unwrap(), (-1, [1, -2, 3]));
    }

    /// One record type, one trait: the same tuple packs and unpacks bound once (exact)
    /// and converting per call, with the same bytes.
    fn both_ways<T>(format: &str, record: T)
    where
        T: for<'a> Record<'a> + PartialEq + std::fmt::Debug,
    {
        let st = Struct::new(format).unwrap();
        let typed = st.typed::<T>().unwrap();
        let exact = typed.pack(&record).unwrap();
        assert_eq!(st.pack_as(&record).unwrap(), exact);
        assert_eq!(typed.unpack(&exact).unwrap(), record);
        assert_eq!(st.unpack_as::<T>(&exact).unwrap(), record);
    }

    #[test]
    fn one_record_trait_serves_both_paths() {
        both_ways("i5sf", (1i32, *b"zhang", 1.75f32));
        both_ways("!IHHq", (1500u32, 1u16, 2u16, -3i64));
        both_ways("<e?b", (F16::from_f64(2.5).unwrap(), true, -1i8));
        both_ways("@nN", (-5isize, 7usize));
        both_ways("<4H", [1u16, 2, 3, 4]);
        // Converting only: borrowed and dynamic fields; bound exactly, refused by type.
        let st = Struct::new("<h3s").unwrap();
        let data = st.pack_as(&(Value::Int(-2), &b"ab"[..])).unwrap();
        let (v, name): (Value, Vec<u8>) = st.unpack_as(&data).unwrap();
        assert_eq!((v, name), (Value::Int(-2), b"ab\0".to_vec()));
        assert!(matches!(
            st.typed::<(i16, Vec<u8>)>(),
            Err(Error::TypedField { index: 1, .. })
        ));
        // Exact only: an array of numbers is a run of values, which converting refuses
        // with a message (not a panic, not wrong bytes).
        let st = Struct::new("<b2H").unwrap();
        assert!(st.typed::<(i8, [u16; 2])>().is_ok());
        let e = st.pack_as(&(1i8, [2u16, 3])).unwrap_err();
        assert!(matches!(e, Error::TypedMismatch { index: 1, .. }), "{e}");
        let e = st
            .unpack_as::<(i8, [u16; 2])>(&[1, 2, 0, 3, 0])
            .unwrap_err();
        assert!(matches!(e, Error::TypedArity { .. }), "{e}");
    }

    #[test]
    fn pack_to_vec_appends_or_leaves_the_vec_alone() {
        let st = Struct::new("<hxI").unwrap();
        let mut out = vec![0xee];
        st.pack_to_vec(&[-2, 7], &mut out).unwrap();
        assert_eq!(out, [0xee, 0xfe, 0xff, 0, 7, 0, 0, 0]);
        st.pack_to_vec(&[1, 2], &mut out).unwrap();
        assert_eq!(out.len(), 15);
        assert_eq!(&out[8..], st.pack(&[1, 2]).unwrap());
        let before = out.clone();
        assert!(st.pack_to_vec(&[1, -2], &mut out).is_err());
        assert!(st.pack_to_vec(&[1], &mut out).is_err());
        assert_eq!(out, before);
    }

    #[test]
    fn unpack_into_reuses_the_vec() {
        let st = Struct::new("i5sf").unwrap();
        let a = st.pack_as(&(1, b"zhang", 1.75)).unwrap();
        let b = st.pack_as(&(2, b"li\0\0\0", 2.5)).unwrap();
        let mut out = vec![Value::Bool(true); 7];
        st.unpack_into(&a, &mut out).unwrap();
        assert_eq!(out, st.unpack(&a).unwrap());
        st.unpack_into(&b, &mut out).unwrap();
        assert_eq!(out, st.unpack(&b).unwrap());
        assert!(st.unpack_into(&b[1..], &mut out).is_err());
    }

    #[test]
    fn huge_records_fail_without_aborting() {
        let st = Struct::new("9223372036854775807s").unwrap();
        assert!(matches!(
            st.pack(&[Value::from(b"")]),
            Err(Error::OutOfMemory { .. })
        ));
    }
}
