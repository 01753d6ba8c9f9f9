//! Unpacking: a record's bytes into values, borrowed ([`Values`]) or owned.
//!
//! Decoding itself cannot fail: once the buffer has the record's exact size (checked by
//! the caller), every byte pattern is a valid value of every field.

use crate::format::{Code, Kind, Layout};
use crate::half;
use crate::ops::OpCode;
use crate::value::{Value, ValueRef};

/// Decodes item `j` of `code` from `rec` (the whole record).
#[inline(always)]
fn item<'a, const BIG: bool>(code: &Code, rec: &'a [u8], j: usize) -> ValueRef<'a> {
    macro_rules! get {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let start = code.offset + j * N;
            let mut raw = [0u8; N];
            raw.copy_from_slice(&rec[start..start + N]);
            if BIG {
                <$t>::from_be_bytes(raw)
            } else {
                <$t>::from_le_bytes(raw)
            }
        }};
    }
    match code.kind {
        Kind::Char => {
            let at = code.offset + j;
            ValueRef::Bytes(&rec[at..at + 1])
        }
        Kind::I8 => ValueRef::Int(i128::from(rec[code.offset + j] as i8)),
        Kind::U8 => ValueRef::Int(i128::from(rec[code.offset + j])),
        Kind::Bool => ValueRef::Bool(rec[code.offset + j] != 0),
        Kind::I16 => ValueRef::Int(i128::from(get!(i16))),
        Kind::U16 => ValueRef::Int(i128::from(get!(u16))),
        Kind::I32 => ValueRef::Int(i128::from(get!(i32))),
        Kind::U32 => ValueRef::Int(i128::from(get!(u32))),
        Kind::I64 => ValueRef::Int(i128::from(get!(i64))),
        Kind::U64 | Kind::Ptr => ValueRef::Int(i128::from(get!(u64))),
        Kind::F16 => ValueRef::Float(half::f16_bits_to_f64(get!(u16))),
        Kind::F32 => ValueRef::Float(half::f32_to_f64(f32::from_bits(get!(u32)))),
        Kind::F64 => ValueRef::Float(f64::from_bits(get!(u64))),
        Kind::Str => ValueRef::Bytes(&rec[code.offset..code.offset + code.count]),
        Kind::Pascal => {
            // The caller refuses layouts with `0p`, so count >= 1 here.
            let max = code.count.saturating_sub(1);
            let n = usize::from(rec[code.offset]).min(max);
            ValueRef::Bytes(&rec[code.offset + 1..code.offset + 1 + n])
        }
    }
}

/// Where unpacked values go, one [`put`](Sink::put) per value in order.
///
/// `put` is inlined into every field's code (closures passed straight to the loop are
/// not: with one call site per format character, the compiler calls them instead).
pub(crate) trait Sink<'a> {
    /// Takes the next value.
    fn put(&mut self, v: ValueRef<'a>);
}

impl<'a, F: FnMut(ValueRef<'a>)> Sink<'a> for F {
    #[inline(always)]
    fn put(&mut self, v: ValueRef<'a>) {
        self(v)
    }
}

/// Appends owned values to a `Vec` with room for all of them.
struct Push<'v>(&'v mut Vec<Value>);

impl<'a> Sink<'a> for Push<'_> {
    #[inline(always)]
    fn put(&mut self, v: ValueRef<'a>) {
        self.0.push(v.to_owned());
    }
}

/// Writes owned values over existing slots, reusing the buffers of bytes values.
struct Fill<'s>(std::slice::IterMut<'s, Value>);

impl<'a> Sink<'a> for Fill<'_> {
    #[inline(always)]
    fn put(&mut self, v: ValueRef<'a>) {
        let Some(slot) = self.0.next() else { return };
        match (slot, v) {
            (Value::Bytes(dst), ValueRef::Bytes(src)) => {
                dst.clear();
                dst.extend_from_slice(src);
            }
            (slot, ValueRef::Int(i)) => *slot = Value::Int(i),
            (slot, ValueRef::Bool(b)) => *slot = Value::Bool(b),
            (slot, ValueRef::Float(x)) => *slot = Value::Float(x),
            (slot, ValueRef::Bytes(b)) => *slot = Value::Bytes(b.to_vec()),
            // Never unpacked (no field holds more than 64 bits); here for completeness.
            (slot, v @ ValueRef::BigInt(_)) => *slot = v.to_owned(),
        }
    }
}

/// Unpacks the record `rec` (exactly `layout.size` bytes) over the values in `out`,
/// reusing its storage and its bytes buffers: after the first record of a layout, this
/// allocates nothing.
pub(crate) fn fill(layout: &Layout, rec: &[u8], out: &mut Vec<Value>) {
    // Exactly one slot per value (a no-op from the second record on).
    out.truncate(layout.len);
    out.resize_with(layout.len, || Value::Bool(false));
    for_each(layout, rec, Fill(out.iter_mut()));
}

/// Calls `f` with every value of the record `rec` (exactly `layout.size` bytes), in order.
///
/// One dispatch per op (a run of one format character, its byte order folded into the
/// op code): a lone value is one load, a run a loop of loads, without bounds checks: the
/// record's length is checked once here and every op's bytes are inside the record by
/// the layout's invariant ([`Layout::check_ops`], checked when the format is compiled).
#[inline(always)]
pub(crate) fn for_each<'a>(layout: &Layout, rec: &'a [u8], mut f: impl Sink<'a>) {
    // The callers check it first; this keeps the unchecked reads below sound.
    if rec.len() != layout.size {
        return;
    }
    let base = rec.as_ptr();
    for op in layout.field_ops() {
        let n = op.values;
        // SAFETY: `op.offset <= op.end <= layout.size == rec.len()` (compile-time check).
        let src = unsafe { base.add(op.offset) };
        // The op's bytes, for the ops that are not runs of fixed-size items.
        // SAFETY: as `src`; `rec` is borrowed for 'a.
        let bytes =
            || -> &'a [u8] { unsafe { std::slice::from_raw_parts(src, op.end - op.offset) } };
        macro_rules! num {
            ($t:ty, $from:ident, |$x:ident| $value:expr) => {{
                const N: usize = std::mem::size_of::<$t>();
                // SAFETY: a numeric op covers `n` items of `N` bytes from `op.offset`,
                // inside the record (compile-time check), and k < n.
                let get = |k: usize| {
                    <$t>::$from(unsafe { src.add(k * N).cast::<[u8; N]>().read_unaligned() })
                };
                // A lone value (most header fields) without the loop's bookkeeping.
                if n == 1 {
                    let $x = get(0);
                    f.put($value);
                } else {
                    for k in 0..n {
                        let $x = get(k);
                        f.put($value);
                    }
                }
            }};
        }
        macro_rules! int {
            ($t:ty, $from:ident) => {
                num!($t, $from, |x| ValueRef::Int(i128::from(x)))
            };
        }
        match op.code {
            OpCode::ZeroSmall | OpCode::ZeroGap => {}
            OpCode::I8 => int!(i8, from_le_bytes),
            OpCode::U8 => int!(u8, from_le_bytes),
            OpCode::I16Le => int!(i16, from_le_bytes),
            OpCode::I16Be => int!(i16, from_be_bytes),
            OpCode::U16Le => int!(u16, from_le_bytes),
            OpCode::U16Be => int!(u16, from_be_bytes),
            OpCode::I32Le => int!(i32, from_le_bytes),
            OpCode::I32Be => int!(i32, from_be_bytes),
            OpCode::U32Le => int!(u32, from_le_bytes),
            OpCode::U32Be => int!(u32, from_be_bytes),
            OpCode::I64Le => int!(i64, from_le_bytes),
            OpCode::I64Be => int!(i64, from_be_bytes),
            OpCode::U64Le | OpCode::Ptr => int!(u64, from_le_bytes),
            OpCode::U64Be => int!(u64, from_be_bytes),
            OpCode::Bool => num!(u8, from_le_bytes, |x| ValueRef::Bool(x != 0)),
            OpCode::F16Le => num!(u16, from_le_bytes, |x| ValueRef::Float(
                half::f16_bits_to_f64(x)
            )),
            OpCode::F16Be => num!(u16, from_be_bytes, |x| ValueRef::Float(
                half::f16_bits_to_f64(x)
            )),
            OpCode::F32Le | OpCode::F32Native => {
                num!(u32, from_le_bytes, |x| ValueRef::Float(half::f32_to_f64(
                    f32::from_bits(x)
                )))
            }
            OpCode::F32Be => num!(u32, from_be_bytes, |x| ValueRef::Float(half::f32_to_f64(
                f32::from_bits(x)
            ))),
            OpCode::F64Le => num!(u64, from_le_bytes, |x| ValueRef::Float(f64::from_bits(x))),
            OpCode::F64Be => num!(u64, from_be_bytes, |x| ValueRef::Float(f64::from_bits(x))),
            OpCode::Char => {
                for byte in bytes().chunks_exact(1) {
                    f.put(ValueRef::Bytes(byte));
                }
            }
            OpCode::Str => f.put(ValueRef::Bytes(bytes())),
            OpCode::Pascal => {
                // The caller refuses layouts with `0p`, so there is a length byte.
                if let Some((&len, rest)) = bytes().split_first() {
                    f.put(ValueRef::Bytes(&rest[..usize::from(len).min(rest.len())]));
                }
            }
        }
    }
}

/// Unpacks the record `rec` (exactly `layout.size` bytes) into owned values.
pub(crate) fn to_vec(layout: &Layout, rec: &[u8]) -> Vec<Value> {
    let mut out = Vec::with_capacity(layout.len);
    for_each(layout, rec, Push(&mut out));
    out
}

/// The values of one record, borrowed from it: unpacking without allocating.
///
/// Returned by [`Struct::unpack_refs`](crate::Struct::unpack_refs); bytes values point into
/// the record.
#[derive(Clone, Debug)]
pub struct Values<'a> {
    codes: std::slice::Iter<'a, Code>,
    rec: &'a [u8],
    big: bool,
    /// The code being repeated (only for layouts too long to expand), and its next item.
    run: Option<(&'a Code, usize)>,
    /// Values not yet yielded.
    remaining: usize,
}

impl<'a> Values<'a> {
    /// Iterates over the record `rec`, which must be exactly `layout.size` bytes.
    #[inline]
    pub(crate) fn new(layout: &'a Layout, rec: &'a [u8]) -> Values<'a> {
        Values {
            codes: layout.codes.iter(),
            rec,
            big: layout.mode.is_big_endian(),
            run: None,
            remaining: layout.len,
        }
    }
}

impl<'a> Values<'a> {
    #[inline(always)]
    fn item(&self, code: &Code, j: usize) -> ValueRef<'a> {
        if self.big {
            item::<true>(code, self.rec, j)
        } else {
            item::<false>(code, self.rec, j)
        }
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = ValueRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<ValueRef<'a>> {
        if let Some((code, j)) = self.run {
            self.run = (j + 1 < code.count).then_some((code, j + 1));
            self.remaining -= 1;
            return Some(self.item(code, j));
        }
        let code = self.codes.next()?;
        if code.values > 1 {
            self.run = Some((code, 1));
        }
        self.remaining -= 1;
        Some(self.item(code, 0))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Values<'_> {}

impl std::iter::FusedIterator for Values<'_> {}
