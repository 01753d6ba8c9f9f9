//! Packing: values into a record's bytes, with CPython's type rules, range checks and
//! messages. Writes only into the caller's slice: no allocation.

use crate::error::{Error, RangeName, Result};
use crate::format::{Code, Kind, Layout, Mode};
use crate::half;
use crate::ops::OpCode;
use crate::value::{AsValueRef, ValueRef};

/// Packs `values` into `out`, which must be exactly `layout.size` bytes long and the
/// values exactly `layout.len` many (the caller checks both first, to report them in
/// CPython's order).
///
/// Like CPython, every byte of the record is written: pad bytes and string tails are 0.
#[inline(always)]
pub(crate) fn pack_record<V: AsValueRef>(
    layout: &Layout,
    out: &mut [u8],
    values: &[V],
) -> Result<()> {
    // (`pack_ops` refuses other lengths, as an error, never touching memory outside.)
    if let Err(value) = pack_ops(layout, out, values) {
        return Err(pack_error(layout, value, values));
    }
    if layout.zero_pascal {
        zero_pascal_quirk(layout, out, values);
    }
    Ok(())
}

/// The error for value `value`, which [`pack_ops`] could not pack.
#[cold]
#[inline(never)]
fn pack_error<V: AsValueRef>(layout: &Layout, value: usize, values: &[V]) -> Error {
    let mut first = 0;
    for code in &layout.codes {
        if value < first + code.values {
            let v = values
                .get(value)
                .map_or(ValueRef::Int(0), AsValueRef::as_value_ref);
            return item_error(layout.mode, code, v);
        }
        first += code.values;
    }
    Error::ArgCount {
        op: "pack",
        expected: layout.len,
        got: values.len(),
    }
}

/// Runs the ops of a layout over `out` (the record) and `values`. `Err(i)`: value `i` is
/// of the wrong type or out of range.
///
/// One dispatch per op (a run of one format character, its byte order folded into the
/// op code); each run is a loop of a type check, a range check and one store per value.
/// Errors leave the loop as the value's index, so that building the (large) error value
/// stays out of it and the loop lives in registers.
///
/// The stores and value reads are unchecked: the record's length and the value count are
/// checked once here, and every op's bytes and values are inside them by the layout's
/// invariant, which [`Layout::check_ops`] verifies when the format is compiled.
#[inline(always)]
fn pack_ops<V: AsValueRef>(
    layout: &Layout,
    out: &mut [u8],
    values: &[V],
) -> std::result::Result<(), usize> {
    // The callers check both first (to report them in CPython's order); this keeps the
    // unchecked accesses below sound whatever the caller does.
    if out.len() != layout.size || values.len() != layout.len {
        return Err(0);
    }
    let base = out.as_mut_ptr();
    let first = values.as_ptr();
    // The current op's first value.
    let mut vp = first;
    for op in &layout.ops {
        let n = op.values;
        // SAFETY: `op.offset <= op.end <= layout.size == out.len()` (compile-time check).
        let dst = unsafe { base.add(op.offset) };
        // Index of value `k` of this op, for errors.
        // SAFETY: `vp` is derived from `first`, inside `values` (or one past its end).
        let index = |k: usize| unsafe { vp.offset_from(first) } as usize + k;
        macro_rules! each {
            ($n:literal, |$v:ident| $bytes:expr) => {{
                let item = |k: usize| {
                    // SAFETY: `vp + k` is inside `values`: the ops' value counts add up to
                    // `layout.len == values.len()` (compile-time check), `vp` is the sum
                    // of those before this op and k < n.
                    let $v = unsafe { &*vp.add(k) };
                    let bytes: Option<[u8; $n]> = $bytes;
                    if let Some(bytes) = bytes {
                        // SAFETY: a numeric op covers `n` items of `$n` bytes from
                        // `op.offset`, inside the record (compile-time check), and k < n.
                        unsafe { dst.add(k * $n).cast::<[u8; $n]>().write_unaligned(bytes) };
                        true
                    } else {
                        false
                    }
                };
                // A lone value (most header fields) without the loop's bookkeeping;
                // numeric ops hold at least one value.
                if n == 1 {
                    if !item(0) {
                        return Err(index(0));
                    }
                } else {
                    let mut k = 0;
                    loop {
                        if !item(k) {
                            return Err(index(k));
                        }
                        k += 1;
                        if k >= n {
                            break;
                        }
                    }
                }
            }};
        }
        macro_rules! int {
            ($t:ty, $n:literal, $to:ident) => {
                each!($n, |v| int_arg(v)
                    .and_then(|i| <$t>::try_from(i).ok())
                    .map(<$t>::$to))
            };
        }
        // The op's values, for the ops handled out of line.
        // SAFETY: as in `each!`.
        let run = || unsafe { std::slice::from_raw_parts(vp, n) };
        // The op's whole byte range, for the ops that are not runs of fixed-size items.
        // SAFETY: as `dst`; `out` is not otherwise borrowed while this lives.
        let bytes = || unsafe { std::slice::from_raw_parts_mut(dst, op.end - op.offset) };
        match op.code {
            OpCode::ZeroSmall => copy_small(bytes(), &[0; 16]),
            OpCode::ZeroGap => zero(bytes()),
            OpCode::I8 => int!(i8, 1, to_le_bytes),
            OpCode::U8 => int!(u8, 1, to_le_bytes),
            OpCode::I16Le => int!(i16, 2, to_le_bytes),
            OpCode::I16Be => int!(i16, 2, to_be_bytes),
            OpCode::U16Le => int!(u16, 2, to_le_bytes),
            OpCode::U16Be => int!(u16, 2, to_be_bytes),
            OpCode::I32Le => int!(i32, 4, to_le_bytes),
            OpCode::I32Be => int!(i32, 4, to_be_bytes),
            OpCode::U32Le => int!(u32, 4, to_le_bytes),
            OpCode::U32Be => int!(u32, 4, to_be_bytes),
            OpCode::I64Le => int!(i64, 8, to_le_bytes),
            OpCode::I64Be => int!(i64, 8, to_be_bytes),
            OpCode::U64Le => int!(u64, 8, to_le_bytes),
            OpCode::U64Be => int!(u64, 8, to_be_bytes),
            // PyLong_AsVoidPtr: negative values as a signed long, others as unsigned.
            OpCode::Ptr => each!(8, |v| int_arg(v).and_then(|i| {
                let ok = i >= i128::from(i64::MIN) && i <= i128::from(u64::MAX);
                ok.then(|| (i as u64).to_le_bytes())
            })),
            OpCode::F64Le => each!(8, |v| float_arg(v).map(|x| x.to_bits().to_le_bytes())),
            OpCode::F64Be => each!(8, |v| float_arg(v).map(|x| x.to_bits().to_be_bytes())),
            OpCode::F32Le => each!(4, |v| float_arg(v)
                .and_then(f32_std)
                .map(|y| y.to_bits().to_le_bytes())),
            OpCode::F32Be => each!(4, |v| float_arg(v)
                .and_then(f32_std)
                .map(|y| y.to_bits().to_be_bytes())),
            // Native `f` is a plain C cast (a finite double too large becomes infinity).
            OpCode::F32Native => each!(4, |v| float_arg(v)
                .map(|x| half::f64_to_f32(x).to_bits().to_le_bytes())),
            OpCode::F16Le => {
                if let Err(k) = f16_run::<false, V>(run(), bytes()) {
                    return Err(index(k));
                }
            }
            OpCode::F16Be => {
                if let Err(k) = f16_run::<true, V>(run(), bytes()) {
                    return Err(index(k));
                }
            }
            OpCode::Bool => each!(1, |v| Some([u8::from(v.as_value_ref().is_truthy())])),
            OpCode::Char => each!(1, |v| match v.as_value_ref() {
                ValueRef::Bytes(&[b]) => Some([b]),
                _ => None,
            }),
            OpCode::Str | OpCode::Pascal => {
                // SAFETY: as in `each!`: one value, inside `values`.
                let v = unsafe { &*vp }.as_value_ref();
                if !pack_bytes(op.code == OpCode::Pascal, bytes(), v) {
                    return Err(index(0));
                }
            }
        }
        // SAFETY: as in `each!`: at most one past the end of `values`.
        vp = unsafe { vp.add(n) };
    }
    Ok(())
}

/// `x` as a standard-size `f`: `None` if finite but too large (CPython's OverflowError).
#[inline(always)]
fn f32_std(x: f64) -> Option<f32> {
    let y = half::f64_to_f32(x);
    // The test on `x` only when `y` is infinite, out of line: its 64-bit constants would
    // otherwise be loaded ahead of every op.
    if y.to_bits() & 0x7fff_ffff == 0x7f80_0000 && !is_infinite(x) {
        return None;
    }
    Some(y)
}

#[cold]
#[inline(never)]
fn is_infinite(x: f64) -> bool {
    x.is_infinite()
}

/// A run of `e` values into `dst` (2 bytes each); `Err(k)`: value `k` does not fit. Out
/// of line: the half conversion's constants would otherwise be loaded ahead of every op.
#[inline(never)]
fn f16_run<const BIG: bool, V: AsValueRef>(
    run: &[V],
    dst: &mut [u8],
) -> std::result::Result<(), usize> {
    for (k, (v, d)) in run.iter().zip(dst.chunks_exact_mut(2)).enumerate() {
        let Some(h) = float_arg(v).and_then(|x| half::f64_to_f16_bits(x).ok()) else {
            return Err(k);
        };
        d.copy_from_slice(&if BIG {
            h.to_be_bytes()
        } else {
            h.to_le_bytes()
        });
    }
    Ok(())
}

/// Packs an `s` or (if `pascal`) a `p` field filling all of `dst`; `false` if `v` is not
/// bytes.
#[inline(always)]
fn pack_bytes(pascal: bool, dst: &mut [u8], v: ValueRef<'_>) -> bool {
    let ValueRef::Bytes(b) = v else {
        return false;
    };
    if !pascal {
        put_padded(dst, b);
    } else if let Some((len, rest)) = dst.split_first_mut() {
        // A `0p` field writes nothing here; see `zero_pascal_quirk`.
        let n = b.len().min(rest.len());
        *len = n.min(255) as u8;
        put_padded(rest, &b[..n]);
    }
    true
}

/// CPython packs a `0p` field by writing a length byte of 0xff where its 0 bytes start
/// (one past its end), after zeroing the record and before the fields that follow. The
/// byte survives unless a later field starting there writes its first byte; an `s` field
/// given fewer bytes than its length writes only those (the rest is the earlier zeroing).
#[cold]
fn zero_pascal_quirk<V: AsValueRef>(layout: &Layout, out: &mut [u8], values: &[V]) {
    let mut first_value = Vec::with_capacity(layout.codes.len());
    let mut n = 0;
    for code in &layout.codes {
        first_value.push(n);
        n += code.values;
    }
    for (i, code) in layout.codes.iter().enumerate() {
        if code.kind != Kind::Pascal || code.count != 0 {
            continue;
        }
        let at = code.offset;
        let covered = layout.codes[i + 1..]
            .iter()
            .zip(&first_value[i + 1..])
            .take_while(|(later, _)| later.offset == at)
            .any(|(later, &vi)| match later.kind {
                Kind::Str => {
                    let given = match values.get(vi).map(AsValueRef::as_value_ref) {
                        Some(ValueRef::Bytes(b)) => b.len(),
                        _ => 0,
                    };
                    later.count > 0 && given > 0
                }
                Kind::Pascal => later.count > 0,
                _ => true,
            });
        if !covered {
            if let Some(slot) = out.get_mut(at) {
                *slot = 0xff;
            }
        }
    }
}

/// Zeroes the bytes no field writes (pad bytes and alignment), as CPython's `memset`.
#[inline(never)]
pub(crate) fn zero_gaps(gaps: &[(usize, usize)], out: &mut [u8]) {
    for &(start, end) in gaps {
        if let Some(gap) = out.get_mut(start..end) {
            zero(gap);
        }
    }
}

/// Zeroes one gap: short ones with fixed-size moves, long ones with `memset`.
#[inline]
fn zero(gap: &mut [u8]) {
    if gap.len() <= 16 {
        copy_small(gap, &[0; 16]);
    } else {
        gap.fill(0);
    }
}

/// Copies `src` into the field `dst`, truncating or zero-padding it.
///
/// Short fields (the usual names and tags) are copied with fixed-size moves instead of
/// calls to `memcpy`/`memset`, which cost more than the copy itself at these sizes.
#[inline(always)]
fn put_padded(dst: &mut [u8], src: &[u8]) {
    let len = dst.len();
    let n = src.len().min(len);
    if n == len {
        // As long as the field or longer (the usual case): no padding.
        copy_small(dst, src);
    } else if len <= 16 {
        let mut field = [0u8; 16];
        copy_small(&mut field[..n], &src[..n]);
        copy_small(dst, &field[..len]);
    } else {
        dst[..n].copy_from_slice(&src[..n]);
        dst[n..].fill(0);
    }
}

/// `dst.copy_from_slice(src)` for at most 16 bytes, as two overlapping fixed-size moves.
#[inline(always)]
pub(crate) fn copy_small(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len());
    macro_rules! two {
        ($k:expr) => {{
            let head: [u8; $k] = src[..$k].try_into().unwrap_or([0; $k]);
            let tail: [u8; $k] = src[n - $k..n].try_into().unwrap_or([0; $k]);
            dst[..$k].copy_from_slice(&head);
            dst[n - $k..n].copy_from_slice(&tail);
        }};
    }
    match n {
        0 => {}
        1 => dst[0] = src[0],
        2..=3 => two!(2),
        4..=7 => two!(4),
        8..=16 => two!(8),
        _ => dst[..n].copy_from_slice(&src[..n]),
    }
}

/// The integer in `v` if it is an int (or a bool, which packs as 0 or 1).
#[inline(always)]
fn int_arg<V: AsValueRef>(v: &V) -> Option<i128> {
    // `Int` first, as one tag test; the rest out of line.
    match v.as_int() {
        Some(i) => Some(i),
        None => int_other(v.as_value_ref()),
    }
}

/// [`int_arg`] of a value that is not an int: a bool packs as 0 or 1.
#[inline(never)]
fn int_other(v: ValueRef<'_>) -> Option<i128> {
    match v {
        ValueRef::Int(i) => Some(i),
        ValueRef::Bool(b) => Some(i128::from(b)),
        // Out of every field's range; the error path names the right message.
        ValueRef::BigInt(n) => Some(n.saturated()),
        ValueRef::Float(_) | ValueRef::Bytes(_) => None,
    }
}

/// The number in `v` as a double, if it is a number.
#[inline(always)]
fn float_arg<V: AsValueRef>(v: &V) -> Option<f64> {
    // `Float` first, as one tag test; the rest out of line.
    match v.as_float() {
        Some(f) => Some(f),
        None => float_other(v.as_value_ref()),
    }
}

/// [`float_arg`] of a value that is not a float: ints and bools convert.
#[inline(never)]
fn float_other(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Int(i) => Some(i as f64),
        ValueRef::Bool(b) => Some(f64::from(u8::from(b))),
        ValueRef::Float(f) => Some(f),
        // Correctly rounded, as CPython's int to float; `None` past the doubles.
        ValueRef::BigInt(n) => n.to_f64(),
        ValueRef::Bytes(_) => None,
    }
}

/// Why `v` could not be packed by `code`, with CPython's message.
#[cold]
#[inline(never)]
fn item_error(mode: Mode, code: &Code, v: ValueRef<'_>) -> Error {
    let format = code.format;
    match code.kind {
        Kind::Char => Error::CharLength,
        Kind::Str | Kind::Pascal => Error::NotBytes { format },
        Kind::F16 | Kind::F32 | Kind::F64 => match v {
            ValueRef::Bytes(_) => Error::NotFloat { format },
            // CPython turns any OverflowError raised while packing an int into
            // struct.error("int too large to convert"); from a float it stays OverflowError.
            ValueRef::Int(_) | ValueRef::Bool(_) => Error::IntTooLarge { format },
            ValueRef::Float(_) => Error::FloatTooLarge { format },
            // Too large even for a double: CPython's float conversion fails, and struct
            // reports that as "required argument is not a float".
            ValueRef::BigInt(n) if n.to_f64().is_none() => Error::NotFloat { format },
            ValueRef::BigInt(_) => Error::IntTooLarge { format },
        },
        _ => match v {
            ValueRef::Int(i) => range_error(mode, format, i),
            ValueRef::BigInt(n) => range_error(mode, format, n.saturated()),
            _ => Error::NotInteger { format },
        },
    }
}

/// How CPython's pack function for this character in this mode reads the integer: this
/// decides which message an out-of-range value gets.
#[derive(Clone, Copy)]
enum Getter {
    /// `PyLong_AsLong`/`AsLongLong`/`AsSsize_t`: outside `i64` is "argument out of range".
    Long,
    /// `PyLong_AsUnsignedLong...`: outside `u64` (negatives too) is "argument out of range".
    ULong,
    /// `_PyLong_AsByteArray` or `PyLong_AsVoidPtr`: "int too large to convert".
    Bytes,
}

/// The error for integer `i` outside the range of `format` in `mode`, worded exactly as
/// CPython 3.11 words it (its native pack functions are reused for `<`/`=` `h H i I q Q`).
#[cold]
pub(crate) fn range_error(mode: Mode, format: u8, i: i128) -> Error {
    let native_funcs = matches!(mode, Mode::Native | Mode::NativeOrder | Mode::Little);
    let (getter, name, min, max): (Getter, Option<RangeName>, i64, u64) = match format {
        b'b' => (Getter::Long, Some(RangeName::CType("byte")), -128, 127),
        b'B' => (Getter::Long, Some(RangeName::CType("ubyte")), 0, 255),
        b'h' if native_funcs => (Getter::Long, Some(RangeName::CType("short")), -32768, 32767),
        b'H' if native_funcs => (Getter::Long, Some(RangeName::CType("ushort")), 0, 65535),
        b'h' => (Getter::Long, Some(RangeName::Char(b'h')), -32768, 32767),
        b'H' => (Getter::ULong, Some(RangeName::Char(b'H')), 0, 65535),
        b'i' => (
            Getter::Long,
            Some(RangeName::Char(b'i')),
            i32::MIN.into(),
            i32::MAX as u64,
        ),
        b'I' => (
            Getter::ULong,
            Some(RangeName::Char(b'I')),
            0,
            u32::MAX.into(),
        ),
        b'l' if !mode.is_native() => (
            Getter::Long,
            Some(RangeName::Char(b'l')),
            i32::MIN.into(),
            i32::MAX as u64,
        ),
        b'L' if !mode.is_native() => (
            Getter::ULong,
            Some(RangeName::Char(b'L')),
            0,
            u32::MAX.into(),
        ),
        b'q' | b'Q' if !native_funcs => (Getter::Bytes, None, 0, 0),
        b'l' | b'q' | b'n' => (Getter::Long, None, 0, 0),
        b'L' | b'Q' | b'N' => (Getter::ULong, None, 0, 0),
        _ => (Getter::Bytes, None, 0, 0),
    };
    let in_long = i64::try_from(i).is_ok();
    let in_ulong = u64::try_from(i).is_ok();
    match getter {
        Getter::Bytes => Error::IntTooLarge { format },
        Getter::Long if !in_long => Error::ArgumentOutOfRange { format },
        Getter::ULong if !in_ulong => Error::ArgumentOutOfRange { format },
        _ => match name {
            Some(name) => Error::range(format, name, min, max),
            None => Error::ArgumentOutOfRange { format },
        },
    }
}
