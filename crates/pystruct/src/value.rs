//! The values a record holds: Python's `int`, `bool`, `float` and `bytes`.
//!
//! Integers are one variant, [`Value::Int`], holding an `i128`: that covers every field
//! from `i64::MIN` (`q`) to `u64::MAX` (`Q`) with room to report values one past either end
//! as out of range, the way Python's unbounded `int` does.

use std::fmt;

use crate::bigint::BigInt;

/// An owned value, as `struct.unpack` returns it and `struct.pack` takes it.
///
/// | variant | Python type | format characters |
/// |---|---|---|
/// | `Int(i128)` | `int` | `b B h H i I l L q Q n N P` |
/// | `BigInt(BigInt)` | `int` beyond `i128` | none exactly; `e f d` round it |
/// | `Bool(bool)` | `bool` | `?` |
/// | `Float(f64)` | `float` | `e f d` |
/// | `Bytes(Vec<u8>)` | `bytes` | `c s p` |
///
/// Packing follows Python's duck typing: a `Bool` packs into integer and float fields as
/// 0 or 1, an `Int` packs into float fields, and `?` packs the truthiness of any value.
#[derive(Clone, Debug, PartialEq)]
// An explicit tag byte: matching on it is one load, where the default niche layout (the
// tag hidden in the Vec's capacity) costs several instructions per value packed.
#[repr(u8)]
pub enum Value {
    /// A Python `int`; wide enough for both `i64` and `u64` fields.
    Int(i128),
    /// A Python `bool`.
    Bool(bool),
    /// A Python `float` (a C double).
    Float(f64),
    /// A Python `bytes` object.
    Bytes(Vec<u8>),
    /// A Python `int` outside `i128` (only [`literal::parse`](crate::literal::parse)
    /// makes one): out of range for every integer field, rounded to a double by `e`, `f`
    /// and `d` exactly as CPython converts it.
    BigInt(BigInt),
}

/// A borrowed value: what unpacking yields without allocating, and what packing reads.
///
/// Same variants as [`Value`], with `Bytes` borrowing from the record (when unpacking) or
/// from the caller (when packing).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
pub enum ValueRef<'a> {
    /// A Python `int`.
    Int(i128),
    /// A Python `bool`.
    Bool(bool),
    /// A Python `float`.
    Float(f64),
    /// A Python `bytes` object, borrowed.
    Bytes(&'a [u8]),
    /// A Python `int` outside `i128`, borrowed.
    BigInt(&'a BigInt),
}

impl Value {
    /// Borrows this value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Int(i) => ValueRef::Int(*i),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::BigInt(n) => ValueRef::BigInt(n),
        }
    }

    /// Python's truthiness: what `?` packs.
    pub fn is_truthy(&self) -> bool {
        self.as_ref().is_truthy()
    }

    /// The Python type name (`int`, `bool`, `float`, `bytes`), for messages.
    pub fn type_name(&self) -> &'static str {
        self.as_ref().type_name()
    }
}

/// [`ValueRef::to_owned`] of a big integer: out of line, so that the unpacking loops
/// (which never meet one) keep their size.
#[cold]
#[inline(never)]
fn big_owned(n: &BigInt) -> Value {
    Value::BigInt(n.clone())
}

impl<'a> ValueRef<'a> {
    /// Copies this value into an owned [`Value`].
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::BigInt(n) => big_owned(n),
        }
    }

    /// Python's truthiness: non-zero numbers (NaN included) and non-empty bytes are true.
    pub fn is_truthy(self) -> bool {
        match self {
            ValueRef::Int(i) => i != 0,
            ValueRef::Bool(b) => b,
            ValueRef::Float(f) => f != 0.0,
            ValueRef::Bytes(b) => !b.is_empty(),
            // Never zero: zero is an `Int`.
            ValueRef::BigInt(_) => true,
        }
    }

    /// The Python type name (`int`, `bool`, `float`, `bytes`), for messages.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueRef::Int(_) | ValueRef::BigInt(_) => "int",
            ValueRef::Bool(_) => "bool",
            ValueRef::Float(_) => "float",
            ValueRef::Bytes(_) => "bytes",
        }
    }
}

/// Anything that can be packed as one value: [`Value`], [`ValueRef`], Rust integers,
/// `bool`, `f32`/`f64`, [`F16`](crate::F16), and byte strings (`&[u8]`, `Vec<u8>`, `[u8; N]`).
///
/// This is what lets `pack` take `&[Value]`, `&[ValueRef]` or `&[u32]` alike without
/// converting (and so without allocating).
pub trait AsValueRef {
    /// Borrows `self` as a value.
    fn as_value_ref(&self) -> ValueRef<'_>;

    /// The value if it is an `Int`: the packing loop's fast path, a single tag test
    /// where going through [`as_value_ref`](Self::as_value_ref) may branch on every
    /// variant. Implementations must agree with `as_value_ref`.
    #[inline(always)]
    fn as_int(&self) -> Option<i128> {
        match self.as_value_ref() {
            ValueRef::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The value if it is a `Float` (see [`as_int`](Self::as_int)).
    #[inline(always)]
    fn as_float(&self) -> Option<f64> {
        match self.as_value_ref() {
            ValueRef::Float(f) => Some(f),
            _ => None,
        }
    }
}

impl AsValueRef for Value {
    #[inline]
    fn as_value_ref(&self) -> ValueRef<'_> {
        self.as_ref()
    }

    #[inline(always)]
    fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    #[inline(always)]
    fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl AsValueRef for ValueRef<'_> {
    #[inline]
    fn as_value_ref(&self) -> ValueRef<'_> {
        *self
    }

    #[inline(always)]
    fn as_int(&self) -> Option<i128> {
        match self {
            ValueRef::Int(i) => Some(*i),
            _ => None,
        }
    }

    #[inline(always)]
    fn as_float(&self) -> Option<f64> {
        match self {
            ValueRef::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl<T: AsValueRef + ?Sized> AsValueRef for &T {
    #[inline]
    fn as_value_ref(&self) -> ValueRef<'_> {
        (**self).as_value_ref()
    }

    #[inline(always)]
    fn as_int(&self) -> Option<i128> {
        (**self).as_int()
    }

    #[inline(always)]
    fn as_float(&self) -> Option<f64> {
        (**self).as_float()
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl AsValueRef for $t {
            fn as_value_ref(&self) -> ValueRef<'_> {
                ValueRef::Int(*self as i128)
            }
        }
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(v as i128)
            }
        }
    )*};
}
int_value!(i8, u8, i16, u16, i32, u32, i64, u64, i128, isize, usize);

impl AsValueRef for bool {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bool(*self)
    }
}

impl AsValueRef for f64 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(*self)
    }
}

impl AsValueRef for f32 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(crate::half::f32_to_f64(*self))
    }
}

impl AsValueRef for crate::F16 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(self.to_f64())
    }
}

impl From<crate::F16> for Value {
    fn from(v: crate::F16) -> Value {
        Value::Float(v.to_f64())
    }
}

impl AsValueRef for [u8] {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bytes(self)
    }
}

impl AsValueRef for Vec<u8> {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bytes(self)
    }
}

impl<const N: usize> AsValueRef for [u8; N] {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bytes(self)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(crate::half::f32_to_f64(v))
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Value {
    fn from(v: &[u8; N]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

impl<'a> From<ValueRef<'a>> for Value {
    fn from(v: ValueRef<'a>) -> Value {
        v.to_owned()
    }
}

impl fmt::Display for Value {
    /// Formats the value as Python's `repr()` does: `1`, `True`, `1.75`, `b'zhang'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl fmt::Display for ValueRef<'_> {
    /// Formats the value as Python's `repr()` does: `1`, `True`, `1.75`, `b'zhang'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::repr::write_value(f, *self)
    }
}
