//! Rust types as records: one [`Record`] trait for tuples (and arrays) of [`Field`]s,
//! used two ways.
//!
//! - **Bound once, exact** ([`Struct::typed`]): the format is checked once against the
//!   Rust type (every field must store its format character byte for byte: `i32` for
//!   `i`, `[u8; 5]` for `5s`, `f32` for `f`...), and the resulting [`Typed`] packs and
//!   unpacks with plain loads and stores, only buffer sizes left to check per call. The
//!   fast path for a protocol header whose format and types the program owns.
//! - **Converting, per call** ([`Struct::pack_as`], [`Struct::unpack_as`]): each value
//!   goes through Python's rules, range-checked (`1u8` packs into an `i`, an `f64` into an
//!   `f`), and borrowed or dynamic types work too (`&[u8]` for any `Ns`, `Vec<u8>`,
//!   [`Value`](crate::Value)). For records whose format is not known until run time.
//!
//! ```
//! use pystruct::Struct;
//! let header = Struct::new("!IHH")?.typed::<(u32, u16, u16)>()?;
//! let mut buf = [0u8; 8];
//! header.pack_into(&mut buf, 0, &(1500, 1, 2))?;
//! assert_eq!(buf, [0, 0, 5, 220, 0, 1, 0, 2]);
//! assert_eq!(header.unpack(&buf)?, (1500, 1, 2));
//!
//! let st = Struct::new("i5sf")?;
//! let data = st.pack_as(&(1u8, b"zhang", 1.75f64))?;
//! let (id, name, height): (i32, &[u8], f32) = st.unpack_as(&data)?;
//! assert_eq!((id, name, height), (1, &b"zhang"[..], 1.75));
//! # Ok::<(), pystruct::Error>(())
//! ```

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::format::{Kind, Layout};
use crate::unpack::Values;
use crate::value::{Value, ValueRef};
use crate::{BigInt, Struct, F16};

/// What one value of a compiled format stores and where, for [`Field::fits`]. Opaque:
/// only this crate builds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    kind: Kind,
    len: usize,
    offset: usize,
}

/// A Rust type for one field of a [`Record`].
///
/// | Rust | exact ([`Struct::typed`]) | converting ([`Struct::pack_as`]/[`unpack_as`](Struct::unpack_as)) |
/// |---|---|---|
/// | `i8`, `u8` | `b`; `B` and `c` | any integer field, range-checked |
/// | `bool` | `?` | `?` |
/// | `i16`, `u16` | `h`, `H` | as `i8` |
/// | `i32`, `u32` | `i`, `I`, and `l`, `L` with a standard-size prefix | as `i8` |
/// | `i64`, `u64`, `isize`, `usize` | `q`, `n`, native `l`; `Q`, `N`, `P`, native `L` | as `i8` |
/// | `i128` | - | as `i8` |
/// | [`F16`], `f32`, `f64` | `e`, `f`, `d` | any float field (rounded as Python packs) |
/// | `[u8; N]` | `Ns`, or `N` values of `B`/`c` | `Ns` |
/// | `[T; N]`, `T` any of the above but `u8` | `N` values `T` stores (`[u32; 4]` is `4I`) | - |
/// | `&[u8]`, `Vec<u8>` | - | `s`, `p`, `c` (packing also `&[u8; N]`) |
/// | [`Value`], [`ValueRef`] | - | any field |
///
/// Exact: the values of an array must be adjacent in the record (`4I` or `II`, not
/// `IxI`); packing writes the exact bits (an `f32` signalling NaN stays signalling, where
/// going through a Python float would quiet it); `f32` does not stand for `e` (packing a
/// single into a half rounds and can overflow), so the exact type is [`F16`].
///
/// The methods are the two paths' plumbing; every one has a default meaning "not this
/// way", so a type implements only the path it supports.
pub trait Field<'a>: Sized {
    /// The type's name, for mismatch messages.
    const NAME: &'static str;

    /// Exact: how many values, from the first of `specs` on, this type stores byte for
    /// byte, or `None` if it does not.
    #[inline(always)]
    fn fits(specs: &[FieldSpec]) -> Option<usize> {
        let _ = specs;
        None
    }

    /// Exact: reads the field starting at `at`, big-endian if `BIG` (called only where
    /// [`fits`](Self::fits) accepted the format, so always `Some`).
    #[inline(always)]
    fn read<const BIG: bool>(rec: &[u8], at: usize) -> Option<Self> {
        let _ = (rec, at);
        None
    }

    /// Exact: writes the field starting at `at`, big-endian if `BIG`.
    #[inline(always)]
    fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
        let _ = (out, at);
    }

    /// Converting: the value as this type, or `None` if it does not fit.
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<Self> {
        let _ = v;
        None
    }

    /// Converting: the field as one value to pack, or `None` if it is not one value.
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        None
    }
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

/// One value stored exactly as one fixed-size item: the element types of array fields.
trait Scalar: Copy + Default {
    /// Whether this type stores the item `spec` exactly.
    fn fits_one(spec: &FieldSpec) -> bool;
    /// Reads the item at `at`.
    fn get<const BIG: bool>(rec: &[u8], at: usize) -> Self;
    /// Writes the item at `at`.
    fn set<const BIG: bool>(self, out: &mut [u8], at: usize);
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

/// A scalar's [`Field`] impl: exact through [`Scalar`], converting through `$from` and
/// `$to` (closures over the value and `self`).
macro_rules! scalar_field {
    ($t:ty, $name:literal, |$v:ident| $from:expr, |$s:ident| $to:expr) => {
        impl<'a> Field<'a> for $t {
            const NAME: &'static str = $name;
            #[inline]
            fn fits(specs: &[FieldSpec]) -> Option<usize> {
                fits_scalar::<$t>(specs)
            }
            #[inline(always)]
            fn read<const BIG: bool>(rec: &[u8], at: usize) -> Option<$t> {
                Some(<$t as Scalar>::get::<BIG>(rec, at))
            }
            #[inline(always)]
            fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
                self.set::<BIG>(out, at)
            }
            #[inline(always)]
            fn from_value($v: ValueRef<'a>) -> Option<$t> {
                $from
            }
            #[inline(always)]
            fn to_value(&self) -> Option<ValueRef<'_>> {
                let $s = *self;
                Some($to)
            }
        }
    };
}

macro_rules! number_field {
    ($t:ty, $name:literal, [$($kind:pat),+], |$v:ident| $from:expr, |$s:ident| $to:expr) => {
        impl Scalar for $t {
            #[inline(always)]
            fn fits_one(spec: &FieldSpec) -> bool {
                matches!(spec.kind, $($kind)|+)
            }
            #[inline(always)]
            fn get<const BIG: bool>(rec: &[u8], at: usize) -> $t {
                let raw = get(rec, at);
                if BIG { <$t>::from_be_bytes(raw) } else { <$t>::from_le_bytes(raw) }
            }
            #[inline(always)]
            fn set<const BIG: bool>(self, out: &mut [u8], at: usize) {
                put(out, at, if BIG { self.to_be_bytes() } else { self.to_le_bytes() });
            }
        }
        scalar_field!($t, $name, |$v| $from, |$s| $to);
    };
}

/// An integer value converted to `T`, range-checked.
#[inline(always)]
fn int_from<T: TryFrom<i128>>(v: ValueRef<'_>) -> Option<T> {
    match v {
        ValueRef::Int(i) => T::try_from(i).ok(),
        _ => None,
    }
}

/// A float value, for `f32`/`f64`/[`F16`] fields.
#[inline(always)]
fn float_from(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Float(f) => Some(f),
        _ => None,
    }
}

macro_rules! int_field {
    ($($t:ty: $name:literal, [$($kind:pat),+]);+ $(;)?) => {$(
        number_field!($t, $name, [$($kind),+],
            |v| int_from::<$t>(v), |x| ValueRef::Int(x as i128));
    )+};
}

int_field!(
    i8: "i8", [Kind::I8];
    u8: "u8", [Kind::U8, Kind::Char];
    i16: "i16", [Kind::I16];
    u16: "u16", [Kind::U16];
    i32: "i32", [Kind::I32];
    u32: "u32", [Kind::U32];
    i64: "i64", [Kind::I64];
    u64: "u64", [Kind::U64, Kind::Ptr];
    isize: "isize", [Kind::I64];
    usize: "usize", [Kind::U64, Kind::Ptr];
);
// Exact: the bits. Converting: `f32` from `e` and `f` values is exact, a `d` value is
// rounded to nearest.
number_field!(
    f32,
    "f32",
    [Kind::F32],
    |v| float_from(v).map(crate::half::f64_to_f32),
    |x| ValueRef::Float(crate::half::f32_to_f64(x))
);
number_field!(f64, "f64", [Kind::F64], |v| float_from(v), |x| {
    ValueRef::Float(x)
});

impl Scalar for bool {
    #[inline(always)]
    fn fits_one(spec: &FieldSpec) -> bool {
        spec.kind == Kind::Bool
    }
    #[inline(always)]
    fn get<const BIG: bool>(rec: &[u8], at: usize) -> bool {
        get::<1>(rec, at)[0] != 0
    }
    #[inline(always)]
    fn set<const BIG: bool>(self, out: &mut [u8], at: usize) {
        put(out, at, [u8::from(self)]);
    }
}
scalar_field!(
    bool,
    "bool",
    |v| match v {
        ValueRef::Bool(b) => Some(b),
        _ => None,
    },
    |b| ValueRef::Bool(b)
);

impl Scalar for F16 {
    #[inline(always)]
    fn fits_one(spec: &FieldSpec) -> bool {
        spec.kind == Kind::F16
    }
    #[inline(always)]
    fn get<const BIG: bool>(rec: &[u8], at: usize) -> F16 {
        F16::from_bits(u16::get::<BIG>(rec, at))
    }
    #[inline(always)]
    fn set<const BIG: bool>(self, out: &mut [u8], at: usize) {
        self.to_bits().set::<BIG>(out, at);
    }
}
// Converting: exact for `e` values; others are rounded as `e` packs them, and refused
// if too large for a half.
scalar_field!(
    F16,
    "F16",
    |v| float_from(v).and_then(|f| F16::from_f64(f).ok()),
    |h| ValueRef::Float(h.to_f64())
);

impl<'a> Field<'a> for i128 {
    const NAME: &'static str = "i128";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<i128> {
        int_from(v)
    }
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(ValueRef::Int(*self))
    }
}

macro_rules! array_field {
    ($($t:ty: $name:literal),+) => {$(
        impl<'a, const N: usize> Field<'a> for [$t; N] {
            const NAME: &'static str = $name;
            #[inline]
            fn fits(specs: &[FieldSpec]) -> Option<usize> {
                fits_array::<$t, N>(specs)
            }
            #[inline(always)]
            fn read<const BIG: bool>(rec: &[u8], at: usize) -> Option<[$t; N]> {
                const SIZE: usize = size_of::<$t>();
                Some(std::array::from_fn(|k| <$t>::get::<BIG>(rec, at.wrapping_add(k * SIZE))))
            }
            #[inline(always)]
            fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
                const SIZE: usize = size_of::<$t>();
                for (k, v) in self.iter().enumerate() {
                    v.set::<BIG>(out, at.wrapping_add(k * SIZE));
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

impl<'a, const N: usize> Field<'a> for [u8; N] {
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
    fn read<const BIG: bool>(rec: &[u8], at: usize) -> Option<[u8; N]> {
        Some(get(rec, at))
    }
    #[inline(always)]
    fn write<const BIG: bool>(&self, out: &mut [u8], at: usize) {
        put(out, at, *self);
    }
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<[u8; N]> {
        match v {
            ValueRef::Bytes(b) => b.try_into().ok(),
            _ => None,
        }
    }
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(ValueRef::Bytes(self))
    }
}

impl<'a> Field<'a> for &'a [u8] {
    const NAME: &'static str = "&[u8]";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<&'a [u8]> {
        match v {
            ValueRef::Bytes(b) => Some(b),
            _ => None,
        }
    }
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(ValueRef::Bytes(self))
    }
}

/// Packing only: `b"zhang"` in a tuple is a `&[u8; 5]`.
impl<'a, const N: usize> Field<'a> for &[u8; N] {
    const NAME: &'static str = "&[u8; N]";
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(ValueRef::Bytes(&self[..]))
    }
}

impl<'a> Field<'a> for Vec<u8> {
    const NAME: &'static str = "Vec<u8>";
    fn from_value(v: ValueRef<'a>) -> Option<Vec<u8>> {
        match v {
            ValueRef::Bytes(b) => Some(b.to_vec()),
            _ => None,
        }
    }
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(ValueRef::Bytes(self))
    }
}

impl<'a> Field<'a> for ValueRef<'a> {
    const NAME: &'static str = "ValueRef";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<ValueRef<'a>> {
        Some(v)
    }
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(*self)
    }
}

impl<'a> Field<'a> for Value {
    const NAME: &'static str = "Value";
    fn from_value(v: ValueRef<'a>) -> Option<Value> {
        Some(v.to_owned())
    }
    #[inline(always)]
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(self.as_ref())
    }
}

impl<'a> Field<'a> for BigInt {
    const NAME: &'static str = "BigInt";
    fn from_value(v: ValueRef<'a>) -> Option<BigInt> {
        match v {
            ValueRef::BigInt(n) => Some(n.clone()),
            _ => None,
        }
    }
    fn to_value(&self) -> Option<ValueRef<'_>> {
        Some(ValueRef::BigInt(self))
    }
}

/// A Rust type for a whole record: tuples of 1 to 16 [`Field`]s, or arrays `[T; N]` of
/// one field type. Bind it once with [`Struct::typed`] (exact fields only, at most 12 in
/// a tuple), or convert per call with [`Struct::pack_as`] and [`Struct::unpack_as`].
///
/// The methods are plumbing for those calls; there is no need to call them directly.
pub trait Record<'a>: Sized {
    /// Converting: values the record takes (one per field).
    const VALUES: usize;

    /// Exact: binds the fields to the format's values `specs`, pushing each field's
    /// offset onto `offsets`. `Ok(Some((value, rust type)))`: the field starting at that
    /// value does not fit; `Err(fields)`: the Rust type has `fields` fields and they take
    /// fewer or more values than the format has.
    fn check(
        specs: &[FieldSpec],
        offsets: &mut Vec<usize>,
    ) -> std::result::Result<Option<(usize, &'static str)>, usize>;

    /// Exact: reads the record; `offsets` has one entry per field, all inside `rec`
    /// (always `Some` once [`check`](Self::check) accepted the format).
    fn read<const BIG: bool>(rec: &[u8], offsets: &[usize]) -> Option<Self>;

    /// Exact: writes the record; `offsets` has one entry per field, all inside `out`.
    fn write<const BIG: bool>(&self, out: &mut [u8], offsets: &[usize]);

    /// Converting: builds the record from exactly [`VALUES`](Self::VALUES) values.
    fn from_values(values: &mut Values<'a>) -> Result<Self>;

    /// Converting: calls `f` with the fields as values (on the stack, no allocation).
    fn with_values<Out>(&self, f: impl FnOnce(&[ValueRef<'_>]) -> Result<Out>) -> Result<Out>;
}

/// Binds one field of type `T` at value `*at` of `specs` (see [`Record::check`]).
fn bind<'a, T: Field<'a>>(
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

/// Converts the next value into field `index` of type `T`.
#[inline(always)]
fn take<'a, T: Field<'a>>(values: &mut Values<'a>, index: usize) -> Result<T> {
    match values.next() {
        Some(v) => T::from_value(v).ok_or_else(|| mismatch::<T>(index, Some(v))),
        None => Err(mismatch::<T>(index, None)),
    }
}

#[cold]
fn mismatch<'a, T: Field<'a>>(index: usize, v: Option<ValueRef<'a>>) -> Error {
    Error::TypedMismatch {
        index,
        expected: T::NAME,
        found: match v {
            Some(v) => v.type_name(),
            None => "missing",
        },
    }
}

/// Field `index` of type `T` as one value to pack.
#[inline(always)]
fn give<'s, 'a, T: Field<'a>>(field: &'s T, index: usize) -> Result<ValueRef<'s>> {
    match field.to_value() {
        Some(v) => Ok(v),
        None => Err(not_one_value::<T>(index)),
    }
}

#[cold]
fn not_one_value<'a, T: Field<'a>>(index: usize) -> Error {
    Error::TypedMismatch {
        index,
        expected: T::NAME,
        found: "one value (arrays of numbers span several: bind them with Struct::typed)",
    }
}

/// Converts a record's values, after checking that the counts agree.
#[inline(always)]
pub(crate) fn from_values<'a, R: Record<'a>>(mut values: Values<'a>) -> Result<R> {
    if values.len() != R::VALUES {
        return Err(Error::TypedArity {
            expected: values.len(),
            got: R::VALUES,
        });
    }
    R::from_values(&mut values)
}

/// The one tuple macro: both paths for a tuple of `$n` fields. Exact binding (`check`,
/// `read`, `write`) stops at 12 fields in practice only because `Struct::typed` callers
/// never needed more; the impls exist up to 16.
macro_rules! tuple_record {
    ($n:expr; $($T:ident $i:tt),+) => {
        impl<'a, $($T: Field<'a>),+> Record<'a> for ($($T,)+) {
            const VALUES: usize = $n;
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
            fn read<const BIG: bool>(rec: &[u8], offsets: &[usize]) -> Option<Self> {
                Some(($($T::read::<BIG>(rec, offset(offsets, $i))?,)+))
            }
            #[inline(always)]
            fn write<const BIG: bool>(&self, out: &mut [u8], offsets: &[usize]) {
                $(self.$i.write::<BIG>(out, offset(offsets, $i));)+
            }
            #[inline(always)]
            fn from_values(values: &mut Values<'a>) -> Result<Self> {
                Ok(($(take::<$T>(values, $i)?,)+))
            }
            #[inline(always)]
            fn with_values<Out>(
                &self,
                f: impl FnOnce(&[ValueRef<'_>]) -> Result<Out>,
            ) -> Result<Out> {
                f(&[$(give(&self.$i, $i)?),+])
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
tuple_record!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_record!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_record!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_record!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

impl<'a, T: Field<'a> + Copy + Default, const N: usize> Record<'a> for [T; N] {
    const VALUES: usize = N;
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
    fn read<const BIG: bool>(rec: &[u8], offsets: &[usize]) -> Option<Self> {
        let mut out = [T::default(); N];
        for (slot, &at) in out.iter_mut().zip(offsets) {
            *slot = T::read::<BIG>(rec, at)?;
        }
        Some(out)
    }
    #[inline]
    fn write<const BIG: bool>(&self, out: &mut [u8], offsets: &[usize]) {
        for (v, &at) in self.iter().zip(offsets) {
            v.write::<BIG>(out, at);
        }
    }
    #[inline(always)]
    fn from_values(values: &mut Values<'a>) -> Result<Self> {
        let mut out = [T::default(); N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = take(values, i)?;
        }
        Ok(out)
    }
    #[inline(always)]
    fn with_values<Out>(&self, f: impl FnOnce(&[ValueRef<'_>]) -> Result<Out>) -> Result<Out> {
        let mut refs = [ValueRef::Int(0); N];
        for (i, (slot, field)) in refs.iter_mut().zip(self).enumerate() {
            *slot = give(field, i)?;
        }
        f(&refs)
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

impl<T: for<'a> Record<'a>> Typed<T> {
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
        self.read(buf)
    }

    /// Unpacks the record at `offset` in `buf` (the buffer may be longer).
    #[inline]
    pub fn unpack_from(&self, buf: &[u8], offset: usize) -> Result<T> {
        match offset.checked_add(self.size) {
            Some(end) if end <= buf.len() => self.read(&buf[offset..end]),
            _ => Err(Error::BufferTooSmall {
                op: "unpack_from",
                size: self.size,
                offset,
                len: buf.len(),
            }),
        }
    }
}

impl<T: for<'a> Record<'a>> Typed<T> {
    #[inline(always)]
    fn read(&self, rec: &[u8]) -> Result<T> {
        let record = if self.big {
            T::read::<true>(rec, &self.offsets)
        } else {
            T::read::<false>(rec, &self.offsets)
        };
        // Always `Some` for a binding `check` accepted (every field's `read` is then
        // `Some`, which the compiler sees through: no test is left in the code).
        record.ok_or(Error::TypedArity {
            expected: self.offsets.len(),
            got: 0,
        })
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
    pub fn typed<T: for<'a> Record<'a>>(&self) -> Result<Typed<T>> {
        Typed::new(self.layout())
    }
}
