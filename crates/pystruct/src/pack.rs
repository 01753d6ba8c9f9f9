//! Packing: values into a record's bytes, with CPython's type rules, range checks and
//! messages. Writes only into the caller's slice: no allocation.

use crate::error::{Error, RangeName, Result};
use crate::format::{Code, Kind, Layout, Mode};
use crate::half;
use crate::value::{AsValueRef, ValueRef};

/// Packs `values` into `out`, which must be exactly `layout.size` bytes long and the
/// values exactly `layout.len` many (the caller checks both first, to report them in
/// CPython's order).
///
/// Like CPython, every byte of the record is written: pad bytes and string tails are 0.
#[inline]
pub(crate) fn pack_record<V: AsValueRef>(
    layout: &Layout,
    out: &mut [u8],
    values: &[V],
) -> Result<()> {
    debug_assert_eq!(out.len(), layout.size);
    debug_assert_eq!(values.len(), layout.len);
    if !layout.gaps.is_empty() {
        zero_gaps(&layout.gaps, out);
    }
    if layout.mode.is_big_endian() {
        pack_codes::<true, V>(layout, out, values)?;
    } else {
        pack_codes::<false, V>(layout, out, values)?;
    }
    if layout.zero_pascal {
        zero_pascal_quirk(layout, out, values);
    }
    Ok(())
}

/// Packs every code; `BIG` is the byte order, fixed per layout so the per-value code
/// has no byte order branch.
#[inline(always)]
fn pack_codes<const BIG: bool, V: AsValueRef>(
    layout: &Layout,
    out: &mut [u8],
    values: &[V],
) -> Result<()> {
    let native = layout.mode.is_native();
    if layout.codes.len() == values.len() {
        // One code per value (short records are compiled that way): a single flat loop.
        for (code, v) in layout.codes.iter().zip(values) {
            let v = v.as_value_ref();
            if !pack_item::<BIG>(native, code, code.offset, out, v) {
                return Err(item_error(layout.mode, code, v));
            }
        }
        return Ok(());
    }
    let mut args = values.iter();
    for code in &layout.codes {
        let reps = code.values();
        let size = code.kind.size();
        for j in 0..reps {
            let v = next(&mut args);
            if !pack_item::<BIG>(native, code, code.offset + j * size, out, v) {
                return Err(item_error(layout.mode, code, v));
            }
        }
    }
    Ok(())
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
        n += code.values();
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
#[inline]
pub(crate) fn zero_gaps(gaps: &[(usize, usize)], out: &mut [u8]) {
    for &(start, end) in gaps {
        if let Some(gap) = out.get_mut(start..end) {
            if gap.len() <= 16 {
                copy_small(gap, &[0; 16][..gap.len()]);
            } else {
                gap.fill(0);
            }
        }
    }
}

/// The next value; the caller has checked the count, so running out is impossible, but a
/// missing value is packed as 0 rather than trusted.
#[inline(always)]
fn next<'v, V: AsValueRef + 'v>(args: &mut std::slice::Iter<'v, V>) -> ValueRef<'v> {
    match args.next() {
        Some(v) => v.as_value_ref(),
        None => ValueRef::Int(0),
    }
}

/// Writes `N` bytes at `at` (always inside `out`: offsets come from the layout).
#[inline(always)]
fn put<const N: usize>(out: &mut [u8], at: usize, bytes: [u8; N]) {
    if let Some(dst) = out.get_mut(at..).and_then(|s| s.first_chunk_mut::<N>()) {
        *dst = bytes;
    }
}

/// Copies `src` into the `len`-byte field at `at`, truncating or zero-padding it.
///
/// Short fields (the usual names and tags) are copied with fixed-size moves instead of
/// calls to `memcpy`/`memset`, which cost more than the copy itself at these sizes.
#[inline(always)]
fn put_padded(out: &mut [u8], at: usize, len: usize, src: &[u8]) {
    let Some(dst) = out.get_mut(at..at + len) else {
        return;
    };
    let n = src.len().min(len);
    if len <= 16 {
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

/// The integer in `v` if it is an int (or bool) within `min..=max`.
#[inline(always)]
fn int_in(v: ValueRef<'_>, min: i128, max: i128) -> Option<i128> {
    let i = match v {
        ValueRef::Int(i) => i,
        ValueRef::Bool(b) => i128::from(b),
        ValueRef::Float(_) | ValueRef::Bytes(_) => return None,
    };
    // One unsigned comparison instead of two signed ones.
    (i.wrapping_sub(min) as u128 <= max.wrapping_sub(min) as u128).then_some(i)
}

/// The number in `v` as a double, if it is a number.
#[inline(always)]
fn float_arg(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Float(f) => Some(f),
        ValueRef::Int(i) => Some(i as f64),
        ValueRef::Bool(b) => Some(f64::from(u8::from(b))),
        ValueRef::Bytes(_) => None,
    }
}

/// Packs one item at offset `at` of the record `out`; `false` if the value does not fit
/// (then [`item_error`] says why). Kept free of error building so the hot loop stays small.
#[inline(always)]
fn pack_item<const BIG: bool>(
    native: bool,
    code: &Code,
    at: usize,
    out: &mut [u8],
    v: ValueRef<'_>,
) -> bool {
    macro_rules! put {
        ($x:expr) => {{
            let x = $x;
            put(
                out,
                at,
                if BIG {
                    x.to_be_bytes()
                } else {
                    x.to_le_bytes()
                },
            );
        }};
    }
    macro_rules! int {
        ($t:ty) => {
            int!($t, <$t>::MIN.into(), <$t>::MAX.into())
        };
        ($t:ty, $min:expr, $max:expr) => {
            match int_in(v, $min, $max) {
                Some(i) => put!(i as $t),
                None => return false,
            }
        };
    }
    match code.kind {
        Kind::Char => match v {
            ValueRef::Bytes([b]) => put(out, at, [*b]),
            _ => return false,
        },
        Kind::Bool => put(out, at, [u8::from(v.is_truthy())]),
        Kind::I8 => int!(i8),
        Kind::U8 => int!(u8),
        Kind::I16 => int!(i16),
        Kind::U16 => int!(u16),
        Kind::I32 => int!(i32),
        Kind::U32 => int!(u32),
        Kind::I64 => int!(i64),
        Kind::U64 => int!(u64),
        // PyLong_AsVoidPtr: negative values as a signed long, others as unsigned.
        Kind::Ptr => int!(u64, i64::MIN.into(), u64::MAX.into()),
        Kind::F16 => match float_arg(v).map(half::f64_to_f16_bits) {
            Some(Ok(h)) => put!(h),
            _ => return false,
        },
        Kind::F32 => {
            let Some(x) = float_arg(v) else { return false };
            let y = half::f64_to_f32(x);
            // Native `f` is a plain C cast; the standard sizes check for overflow.
            if y.is_infinite() && !x.is_infinite() && !native {
                return false;
            }
            put!(y.to_bits())
        }
        Kind::F64 => match float_arg(v) {
            Some(x) => put!(x.to_bits()),
            None => return false,
        },
        Kind::Str => match v {
            ValueRef::Bytes(b) => put_padded(out, at, code.count, b),
            _ => return false,
        },
        Kind::Pascal => {
            let ValueRef::Bytes(b) = v else { return false };
            // A `0p` field writes nothing here; see `zero_pascal_quirk`.
            if code.count > 0 {
                let n = b.len().min(code.count - 1);
                put(out, at, [n.min(255) as u8]);
                put_padded(out, at + 1, code.count - 1, &b[..n]);
            }
        }
    }
    true
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
        },
        _ => match v {
            ValueRef::Int(i) => range_error(mode, format, i),
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
