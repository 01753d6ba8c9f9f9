//! Packing: values into a record's bytes, with CPython's type rules, range checks and
//! messages. Writes only into the caller's slice: no allocation.

use crate::error::{Error, RangeName, Result};
use crate::format::{Code, Kind, Layout, Mode, Zeroing};
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
    match layout.zeroing {
        Zeroing::None => {}
        Zeroing::Whole => copy_small(out, &[0; 16]),
        Zeroing::Gaps => zero_gaps(&layout.gaps, out),
    }
    let native = layout.mode.is_native();
    let packed = if layout.mode.is_big_endian() {
        pack_codes::<true, V>(&layout.codes, native, out, values)
    } else {
        pack_codes::<false, V>(&layout.codes, native, out, values)
    };
    if let Err(value) = packed {
        return Err(pack_error(layout, value, values));
    }
    if layout.zero_pascal {
        zero_pascal_quirk(layout, out, values);
    }
    Ok(())
}

/// The error for value `value`, which [`pack_codes`] could not pack.
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

/// Packs every code; `BIG` is the byte order, fixed per layout so the per-value code
/// has no byte order branch. `Err(i)`: value `i` is of the wrong type or out of range.
///
/// A code is a run of one format character (`4I`, or `I` alone), so the dispatch on the
/// character happens once per run. A code of one value (the usual case in headers) is
/// a type check, a range check and one store; a longer run is a tight loop over
/// fixed-size chunks of the record. Errors leave the loop as the value's index, so that
/// building the (large) error value stays out of it and the loop lives in registers.
#[inline(always)]
fn pack_codes<const BIG: bool, V: AsValueRef>(
    codes: &[Code],
    native: bool,
    out: &mut [u8],
    values: &[V],
) -> std::result::Result<(), usize> {
    // Index of the current code's first value. The caller checked the count and the
    // layout keeps every code inside the record, so the `else` branches below are never
    // taken; were one, a value or a field would be skipped, never a panic.
    let mut vi = 0;
    for code in codes {
        macro_rules! item {
            (|$v:ident| $bytes:expr) => {{
                let Some(v) = values.get(vi) else { break };
                let $v = v.as_value_ref();
                let Some(bytes) = ($bytes) else {
                    return Err(vi);
                };
                put(out, code.offset, bytes);
            }};
        }
        macro_rules! run {
            (|$v:ident| $bytes:expr) => {{
                let Some(run) = values.get(vi..vi + code.values) else {
                    break;
                };
                let Some(mut dst) = out.get_mut(code.offset..code.end) else {
                    break;
                };
                for (i, v) in run.iter().enumerate() {
                    let $v = v.as_value_ref();
                    let Some(bytes) = ($bytes) else {
                        return Err(vi + i);
                    };
                    let Some((d, tail)) = dst.split_first_chunk_mut() else {
                        break;
                    };
                    *d = bytes;
                    dst = tail;
                }
            }};
        }
        macro_rules! field {
            (|$v:ident| $bytes:expr) => {
                if code.count == 1 {
                    item!(|$v| $bytes)
                } else {
                    run!(|$v| $bytes)
                }
            };
        }
        macro_rules! order {
            ($x:expr) => {
                if BIG {
                    $x.to_be_bytes()
                } else {
                    $x.to_le_bytes()
                }
            };
        }
        macro_rules! int {
            ($t:ty) => {
                int!($t, <$t>::MIN.into(), <$t>::MAX.into())
            };
            ($t:ty, $min:expr, $max:expr) => {
                field!(|v| int_in(v, $min, $max).map(|i| order!(i as $t)))
            };
        }
        match code.kind {
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
            Kind::F64 => field!(|v| float_arg(v).map(|x| order!(x.to_bits()))),
            Kind::F32 => field!(|v| float_arg(v).and_then(|x| {
                let y = half::f64_to_f32(x);
                // Native `f` is a plain C cast (a finite double too large becomes
                // infinity); the standard sizes refuse it.
                (!y.is_infinite() || x.is_infinite() || native).then(|| order!(y.to_bits()))
            })),
            Kind::F16 => field!(|v| float_arg(v)
                .and_then(|x| half::f64_to_f16_bits(x).ok())
                .map(|h| order!(h))),
            Kind::Bool => field!(|v| Some([u8::from(v.is_truthy())])),
            Kind::Char => field!(|v| match v {
                ValueRef::Bytes(&[b]) => Some([b]),
                _ => None,
            }),
            Kind::Str | Kind::Pascal => {
                let Some(v) = values.get(vi) else { break };
                let Some(dst) = out.get_mut(code.offset..code.end) else {
                    break;
                };
                if !pack_bytes(code.kind == Kind::Pascal, dst, v.as_value_ref()) {
                    return Err(vi);
                }
            }
        }
        vi += code.values;
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

/// Writes `N` bytes at `at` (always inside `out`: offsets come from the layout).
#[inline(always)]
fn put<const N: usize>(out: &mut [u8], at: usize, bytes: [u8; N]) {
    if let Some(dst) = out.get_mut(at..).and_then(|s| s.first_chunk_mut::<N>()) {
        *dst = bytes;
    }
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
            if gap.len() <= 16 {
                copy_small(gap, &[0; 16][..gap.len()]);
            } else {
                gap.fill(0);
            }
        }
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
    // `Int` first, as one comparison: a `match` over four variants compiles to a jump
    // table, an indirect jump per value.
    let i = if let ValueRef::Int(i) = v {
        i
    } else if let ValueRef::Bool(b) = v {
        i128::from(b)
    } else {
        return None;
    };
    // One unsigned comparison instead of two signed ones.
    (i.wrapping_sub(min) as u128 <= max.wrapping_sub(min) as u128).then_some(i)
}

/// The number in `v` as a double, if it is a number.
#[inline(always)]
fn float_arg(v: ValueRef<'_>) -> Option<f64> {
    // `Float` first, as one comparison (see `int_in`).
    if let ValueRef::Float(f) = v {
        return Some(f);
    }
    match v {
        ValueRef::Int(i) => Some(i as f64),
        ValueRef::Bool(b) => Some(f64::from(u8::from(b))),
        ValueRef::Float(_) | ValueRef::Bytes(_) => None,
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
