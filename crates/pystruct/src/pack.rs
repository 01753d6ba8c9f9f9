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
/// Like CPython, the whole record is zeroed first, so pad bytes and string tails are 0.
pub(crate) fn pack_record<V: AsValueRef>(
    layout: &Layout,
    out: &mut [u8],
    values: &[V],
) -> Result<()> {
    debug_assert_eq!(out.len(), layout.size);
    debug_assert_eq!(values.len(), layout.len);
    out.fill(0);
    let big = layout.mode.is_big_endian();
    let mut args = values.iter();
    for code in &layout.codes {
        match code.kind {
            Kind::Str => {
                let b = bytes_arg(next(&mut args), code.format)?;
                let n = b.len().min(code.count);
                out[code.offset..code.offset + n].copy_from_slice(&b[..n]);
            }
            Kind::Pascal => {
                let b = bytes_arg(next(&mut args), code.format)?;
                if code.count == 0 {
                    // CPython writes a length byte of 0xff just past a 0p field's 0 bytes;
                    // it shows when later pad bytes or padding are there to keep it.
                    if let Some(slot) = out.get_mut(code.offset) {
                        *slot = 0xff;
                    }
                    continue;
                }
                let n = b.len().min(code.count - 1);
                out[code.offset + 1..code.offset + 1 + n].copy_from_slice(&b[..n]);
                out[code.offset] = n.min(255) as u8;
            }
            kind => {
                let size = kind.size();
                let field = &mut out[code.offset..code.offset + size * code.count];
                for slot in field.chunks_exact_mut(size) {
                    pack_item(layout.mode, big, code, slot, next(&mut args))?;
                }
            }
        }
    }
    Ok(())
}

/// The next value; the caller has checked the count, so running out is impossible, but a
/// missing value is reported as a count error rather than trusted.
#[inline(always)]
fn next<'v, V: AsValueRef + 'v>(args: &mut std::slice::Iter<'v, V>) -> ValueRef<'v> {
    match args.next() {
        Some(v) => v.as_value_ref(),
        // Unreachable after the count check; packs as an empty bytes object, which every
        // numeric field rejects with a type error rather than panicking.
        None => ValueRef::Bytes(&[]),
    }
}

/// Packs one numeric, `c` or `?` item into `slot` (exactly its size).
#[inline(always)]
fn pack_item(mode: Mode, big: bool, code: &Code, slot: &mut [u8], v: ValueRef<'_>) -> Result<()> {
    macro_rules! put {
        ($x:expr) => {{
            let x = $x;
            slot.copy_from_slice(&if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            });
        }};
    }
    match code.kind {
        Kind::Char => match v {
            ValueRef::Bytes([b]) => slot[0] = *b,
            _ => return Err(Error::CharLength),
        },
        Kind::Bool => slot[0] = u8::from(v.is_truthy()),
        Kind::I8 => slot[0] = int_in(mode, code.format, v, i8::MIN as i128, i8::MAX as i128)? as u8,
        Kind::U8 => slot[0] = int_in(mode, code.format, v, 0, u8::MAX as i128)? as u8,
        Kind::I16 => put!(int_in(mode, code.format, v, i16::MIN as i128, i16::MAX as i128)? as i16),
        Kind::U16 => put!(int_in(mode, code.format, v, 0, u16::MAX as i128)? as u16),
        Kind::I32 => put!(int_in(mode, code.format, v, i32::MIN as i128, i32::MAX as i128)? as i32),
        Kind::U32 => put!(int_in(mode, code.format, v, 0, u32::MAX as i128)? as u32),
        Kind::I64 => put!(int_in(mode, code.format, v, i64::MIN as i128, i64::MAX as i128)? as i64),
        Kind::U64 => put!(int_in(mode, code.format, v, 0, u64::MAX as i128)? as u64),
        Kind::Ptr => {
            // PyLong_AsVoidPtr: negative values as a signed long, others as unsigned.
            put!(int_in(mode, code.format, v, i64::MIN as i128, u64::MAX as i128)? as u64)
        }
        Kind::F16 => {
            let x = float_arg(v, code.format)?;
            match half::f64_to_f16_bits(x) {
                Ok(h) => put!(h),
                Err(half::Overflow) => return Err(float_overflow(v, code.format)),
            }
        }
        Kind::F32 => {
            let x = float_arg(v, code.format)?;
            let y = half::f64_to_f32(x);
            // Native `f` is a plain C cast; the standard sizes check for overflow.
            if !mode.is_native() && y.is_infinite() && !x.is_infinite() {
                return Err(float_overflow(v, code.format));
            }
            put!(y.to_bits())
        }
        Kind::F64 => put!(float_arg(v, code.format)?.to_bits()),
        Kind::Str | Kind::Pascal => {
            return Err(Error::NotBytes {
                format: code.format,
            })
        }
    }
    Ok(())
}

/// The integer in `v`, if it is an integer (or bool) within `min..=max`.
#[inline(always)]
fn int_in(mode: Mode, format: u8, v: ValueRef<'_>, min: i128, max: i128) -> Result<i128> {
    let i = match v {
        ValueRef::Int(i) => i,
        ValueRef::Bool(b) => i128::from(b),
        ValueRef::Float(_) | ValueRef::Bytes(_) => return Err(Error::NotInteger { format }),
    };
    if i < min || i > max {
        return Err(range_error(mode, format, i));
    }
    Ok(i)
}

/// The number in `v` as a double, if it is a number.
#[inline(always)]
fn float_arg(v: ValueRef<'_>, format: u8) -> Result<f64> {
    match v {
        ValueRef::Float(f) => Ok(f),
        ValueRef::Int(i) => Ok(i as f64),
        ValueRef::Bool(b) => Ok(f64::from(u8::from(b))),
        ValueRef::Bytes(_) => Err(Error::NotFloat { format }),
    }
}

/// The bytes in `v`, if it is bytes.
#[inline(always)]
fn bytes_arg(v: ValueRef<'_>, format: u8) -> Result<&[u8]> {
    match v {
        ValueRef::Bytes(b) => Ok(b),
        _ => Err(Error::NotBytes { format }),
    }
}

/// CPython turns any `OverflowError` raised while packing an `int` into
/// `struct.error("int too large to convert")`; from a float it stays an `OverflowError`.
#[cold]
fn float_overflow(v: ValueRef<'_>, format: u8) -> Error {
    match v {
        ValueRef::Int(_) | ValueRef::Bool(_) => Error::IntTooLarge { format },
        _ => Error::FloatTooLarge { format },
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
