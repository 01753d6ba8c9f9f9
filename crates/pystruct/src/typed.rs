//! The typed fast path: Rust tuples (and arrays) in and out of records, with no `Value`
//! and no allocation in between.
//!
//! ```
//! use pystruct::Struct;
//! let st = Struct::new("i5sf")?;
//! let data = st.pack_as(&(1i32, b"zhang", 1.75f32))?;
//! let (id, name, height): (i32, [u8; 5], f32) = st.unpack_as(&data)?;
//! assert_eq!((id, &name, height), (1, b"zhang", 1.75));
//! # Ok::<(), pystruct::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::unpack::Values;
use crate::value::{AsValueRef, Value, ValueRef};

/// A Rust type one unpacked value converts to: integers (range-checked), `bool`, `f32`,
/// `f64`, [`F16`](crate::F16), `&[u8]`, `Vec<u8>`, `[u8; N]`, [`Value`], [`ValueRef`].
pub trait FromValue<'a>: Sized {
    /// The type's name, for mismatch messages.
    const NAME: &'static str;

    /// Converts the value, or `None` if it does not fit this type.
    fn from_value(v: ValueRef<'a>) -> Option<Self>;
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl<'a> FromValue<'a> for $t {
            const NAME: &'static str = stringify!($t);
            #[inline(always)]
            fn from_value(v: ValueRef<'a>) -> Option<$t> {
                match v {
                    ValueRef::Int(i) => <$t>::try_from(i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
int_from_value!(i8, u8, i16, u16, i32, u32, i64, u64, i128, isize, usize);

impl<'a> FromValue<'a> for bool {
    const NAME: &'static str = "bool";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<bool> {
        match v {
            ValueRef::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl<'a> FromValue<'a> for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<f64> {
        match v {
            ValueRef::Float(f) => Some(f),
            _ => None,
        }
    }
}

impl<'a> FromValue<'a> for f32 {
    const NAME: &'static str = "f32";
    /// Exact for values from `e` and `f` fields; a `d` field is rounded to nearest.
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<f32> {
        match v {
            ValueRef::Float(f) => Some(crate::half::f64_to_f32(f)),
            _ => None,
        }
    }
}

impl<'a> FromValue<'a> for crate::F16 {
    const NAME: &'static str = "F16";
    /// Exact for values from `e` fields; others are rounded as `e` packs them, and
    /// `None` if too large for a half.
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<crate::F16> {
        match v {
            ValueRef::Float(f) => crate::F16::from_f64(f).ok(),
            _ => None,
        }
    }
}

impl<'a> FromValue<'a> for &'a [u8] {
    const NAME: &'static str = "&[u8]";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<&'a [u8]> {
        match v {
            ValueRef::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl<'a> FromValue<'a> for Vec<u8> {
    const NAME: &'static str = "Vec<u8>";
    fn from_value(v: ValueRef<'a>) -> Option<Vec<u8>> {
        match v {
            ValueRef::Bytes(b) => Some(b.to_vec()),
            _ => None,
        }
    }
}

impl<'a, const N: usize> FromValue<'a> for [u8; N] {
    const NAME: &'static str = "[u8; N] (of the field's length)";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<[u8; N]> {
        match v {
            ValueRef::Bytes(b) => b.try_into().ok(),
            _ => None,
        }
    }
}

impl<'a> FromValue<'a> for ValueRef<'a> {
    const NAME: &'static str = "ValueRef";
    #[inline(always)]
    fn from_value(v: ValueRef<'a>) -> Option<ValueRef<'a>> {
        Some(v)
    }
}

impl<'a> FromValue<'a> for Value {
    const NAME: &'static str = "Value";
    fn from_value(v: ValueRef<'a>) -> Option<Value> {
        Some(v.to_owned())
    }
}

/// A Rust type a whole record unpacks into: tuples of up to 16 [`FromValue`] types, and
/// arrays `[T; N]` of one such type.
pub trait FromRecord<'a>: Sized {
    /// Number of values the type takes.
    const ARITY: usize;

    /// Builds the type from exactly [`ARITY`](Self::ARITY) values.
    fn from_values(values: &mut Values<'a>) -> Result<Self>;
}

/// A Rust type a whole record packs from: tuples of up to 16 [`AsValueRef`] types, and
/// arrays `[T; N]` of one such type.
pub trait IntoRecord {
    /// Calls `f` with the fields borrowed as values (on the stack, no allocation).
    fn with_values<Out>(&self, f: impl FnOnce(&[ValueRef<'_>]) -> Out) -> Out;
}

/// Converts a record's values, after checking that the counts agree.
#[inline(always)]
pub(crate) fn from_values<'a, R: FromRecord<'a>>(mut values: Values<'a>) -> Result<R> {
    if values.len() != R::ARITY {
        return Err(Error::TypedArity {
            expected: values.len(),
            got: R::ARITY,
        });
    }
    R::from_values(&mut values)
}

/// Converts the next value into field `index` of type `T`.
#[inline(always)]
fn field<'a, T: FromValue<'a>>(values: &mut Values<'a>, index: usize) -> Result<T> {
    match values.next() {
        Some(v) => T::from_value(v).ok_or_else(|| mismatch::<T>(index, Some(v))),
        None => Err(mismatch::<T>(index, None)),
    }
}

#[cold]
fn mismatch<'a, T: FromValue<'a>>(index: usize, v: Option<ValueRef<'a>>) -> Error {
    Error::TypedMismatch {
        index,
        expected: T::NAME,
        found: match v {
            Some(v) => v.type_name(),
            None => "missing",
        },
    }
}

macro_rules! tuple {
    ($n:expr; $($T:ident $i:tt),+) => {
        impl<'a, $($T: FromValue<'a>),+> FromRecord<'a> for ($($T,)+) {
            const ARITY: usize = $n;
            #[inline(always)]
            fn from_values(values: &mut Values<'a>) -> Result<Self> {
                Ok(($(field::<$T>(values, $i)?,)+))
            }
        }

        impl<$($T: AsValueRef),+> IntoRecord for ($($T,)+) {
            #[inline(always)]
            fn with_values<Out>(&self, f: impl FnOnce(&[ValueRef<'_>]) -> Out) -> Out {
                f(&[$(self.$i.as_value_ref()),+])
            }
        }
    };
}

tuple!(1; A 0);
tuple!(2; A 0, B 1);
tuple!(3; A 0, B 1, C 2);
tuple!(4; A 0, B 1, C 2, D 3);
tuple!(5; A 0, B 1, C 2, D 3, E 4);
tuple!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

impl<'a, T: FromValue<'a> + Copy + Default, const N: usize> FromRecord<'a> for [T; N] {
    const ARITY: usize = N;
    #[inline(always)]
    fn from_values(values: &mut Values<'a>) -> Result<Self> {
        let mut out = [T::default(); N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = field(values, i)?;
        }
        Ok(out)
    }
}

impl<T: AsValueRef, const N: usize> IntoRecord for [T; N] {
    #[inline(always)]
    fn with_values<Out>(&self, f: impl FnOnce(&[ValueRef<'_>]) -> Out) -> Out {
        let refs: [ValueRef<'_>; N] = std::array::from_fn(|i| self[i].as_value_ref());
        f(&refs)
    }
}
