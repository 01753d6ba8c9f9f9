//! Float conversions with CPython's exact results: IEEE half precision (`e`, CPython's
//! `PyFloat_Pack2`/`PyFloat_Unpack2`) and single precision (`f`) including NaN bits.
//!
//! Rust's `as` casts between `f64` and `f32` leave NaN payloads unspecified, so NaNs are
//! converted by hand the way x86-64's `cvtsd2ss`/`cvtss2sd` (what CPython's C casts compile
//! to) do: keep the sign, set the quiet bit, keep the top payload bits.

/// An IEEE 754 half-precision float, stored as its 16 bits: the Rust type of an `e` field
/// in a typed record ([`Struct::typed`](crate::Struct::typed)).
///
/// Rust has no stable half float, and `f32` cannot stand for `e` byte for byte (packing
/// an `f32` into a half rounds and can overflow), so `F16` holds the exact bits. The
/// conversions are CPython's: [`F16::to_f64`] is what `struct.unpack('e', ...)` returns
/// and [`F16::from_f64`] rounds half to even exactly as `struct.pack('e', x)` does, with
/// the same overflow error.
///
/// ```
/// use pystruct::F16;
/// let h = F16::from_f64(2.5)?;
/// assert_eq!(h.to_bits(), 0x4100);
/// assert_eq!(h.to_f64(), 2.5);
/// assert_eq!(F16::from_f64(65504.0)?.to_f32(), 65504.0);
/// assert!(F16::from_f64(65520.0).is_err()); // OverflowError in CPython
/// # Ok::<(), pystruct::Error>(())
/// ```
///
/// Equality compares the bits: `-0.0` and `0.0` differ, a NaN equals itself.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct F16(u16);

impl F16 {
    /// The half with these bits.
    pub const fn from_bits(bits: u16) -> F16 {
        F16(bits)
    }

    /// The bits, as an `e` field stores them (in the record's byte order).
    pub const fn to_bits(self) -> u16 {
        self.0
    }

    /// The value as a double, exactly (every half is a double); a NaN becomes the quiet
    /// NaN with its sign, as CPython's `struct.unpack` gives it.
    pub fn to_f64(self) -> f64 {
        f16_bits_to_f64(self.0)
    }

    /// The value as an `f32`, exactly (every half is an `f32`); a NaN becomes the quiet
    /// NaN with its sign.
    pub fn to_f32(self) -> f32 {
        f64_to_f32(self.to_f64())
    }

    /// Rounds a double to the nearest half (ties to even), as CPython's `struct.pack('e',
    /// x)`: magnitudes from 65520 up are [`Error::FloatTooLarge`](crate::Error::FloatTooLarge)
    /// (CPython's `OverflowError`), infinities stay infinite, a NaN becomes the quiet NaN
    /// with its sign.
    pub fn from_f64(x: f64) -> crate::Result<F16> {
        f64_to_f16_bits(x)
            .map(F16)
            .map_err(|Overflow| crate::Error::FloatTooLarge { format: b'e' })
    }

    /// [`F16::from_f64`] of the `f32` (widened exactly, so rounded only once).
    pub fn from_f32(x: f32) -> crate::Result<F16> {
        F16::from_f64(f32_to_f64(x))
    }
}

impl std::fmt::Debug for F16 {
    /// `F16(2.5)`: the value, not the bits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "F16({:?})", self.to_f64())
    }
}

impl From<F16> for f64 {
    fn from(h: F16) -> f64 {
        h.to_f64()
    }
}

impl From<F16> for f32 {
    fn from(h: F16) -> f32 {
        h.to_f32()
    }
}

/// Why a float could not be packed: it is finite but too large for the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overflow;

/// Packs a double into half-precision bits, rounding half to even like CPython.
///
/// Values at or above 65520 in magnitude overflow (65504 is the largest half; 65520 is
/// where rounding would carry into the infinity exponent). NaN becomes the quiet NaN with
/// the same sign; magnitudes below 2**-25 become zero.
///
/// Works on the bits (no division): the half's exponent and mantissa are the double's,
/// shifted, and rounding is an integer comparison of the bits shifted out. A carry out
/// of the mantissa moves into the exponent by itself, as in CPython's arithmetic.
///
/// Normal halves (the usual values) are rounded inline, on the bits; the rest (zero,
/// subnormal halves, infinities, NaN, overflow) out of line.
#[inline(always)]
pub(crate) fn f64_to_f16_bits(x: f64) -> Result<u16, Overflow> {
    let bits = x.to_bits();
    let abs = bits & 0x7fff_ffff_ffff_ffff;
    // 2**-14 <= |x| < 2**16: the half's exponent is the double's, rebiased.
    const MIN: u64 = (1023 - 14) << 52;
    const END: u64 = (1023 + 16) << 52;
    if abs.wrapping_sub(MIN) < END - MIN {
        // Round half to even on the 42 bits dropped: adding 2**41 - 1 plus the kept
        // lowest bit carries into the kept bits exactly when rounding up; a carry out of
        // the mantissa moves into the exponent, as in CPython's arithmetic.
        let rounded = abs + ((1 << 41) - 1) + ((abs >> 42) & 1);
        let h = (rounded >> 42) - ((1023 - 15) << 10);
        if h >= 0x7c00 {
            return Err(Overflow);
        }
        return Ok(((bits >> 48) as u16 & 0x8000) | h as u16);
    }
    f64_to_f16_bits_rest(x)
}

/// [`f64_to_f16_bits`] outside the normal halves. Out of line: inlined, its constants
/// would be loaded into registers ahead of every record's loop, `e` field or not.
#[inline(never)]
fn f64_to_f16_bits_rest(x: f64) -> Result<u16, Overflow> {
    let bits = x.to_bits();
    let sign = ((bits >> 48) & 0x8000) as u16;
    let abs = bits & 0x7fff_ffff_ffff_ffff;
    if abs >= 0x7ff0_0000_0000_0000 {
        // Infinity, or NaN (always the default quiet NaN, with the sign).
        let nan = if abs > 0x7ff0_0000_0000_0000 { 512 } else { 0 };
        return Ok(sign | 0x7c00 | nan);
    }
    let e = (abs >> 52) as i32 - 1023;
    if e >= 16 {
        return Err(Overflow);
    }
    if e < -25 {
        // Zero, subnormal doubles and everything below half the smallest half.
        return Ok(sign);
    }
    let full = (abs & 0x000f_ffff_ffff_ffff) | 0x0010_0000_0000_0000;
    // A normal half keeps 10 of the 52 mantissa bits, with the exponent above them; a
    // subnormal half (e < -14) is `full` in units of 2**-24, shifted further right.
    let (base, shift) = if e >= -14 {
        (((e + 15) as u64) << 10, 42)
    } else {
        (0, (28 - e) as u32)
    };
    let kept = (full
        & if e >= -14 {
            0x000f_ffff_ffff_ffff
        } else {
            u64::MAX
        })
        >> shift;
    let rest = full & ((1u64 << shift) - 1);
    let half = 1u64 << (shift - 1);
    let mut h = base + kept;
    if rest > half || (rest == half && h & 1 == 1) {
        h += 1;
    }
    if h >= 0x7c00 {
        return Err(Overflow);
    }
    Ok(sign | h as u16)
}

/// Unpacks half-precision bits into a double (exact, like CPython's `PyFloat_Unpack2`).
///
/// NaN payloads are not kept: every half NaN becomes the default quiet NaN with its sign.
///
/// Normal halves are converted inline, on the bits; the rest out of line.
#[inline(always)]
pub(crate) fn f16_bits_to_f64(h: u16) -> f64 {
    let e = (h >> 10) & 0x1f;
    if e != 0 && e != 0x1f {
        let sign = u64::from(h & 0x8000) << 48;
        return f64::from_bits(sign | ((u64::from(h & 0x7fff) + ((1023 - 15) << 10)) << 42));
    }
    f16_bits_to_f64_rest(h)
}

/// [`f16_bits_to_f64`] of zeros, subnormals, infinities and NaNs (and, in the tests, of
/// every half, as the reference for the inline path).
#[inline(never)]
fn f16_bits_to_f64_rest(h: u16) -> f64 {
    let negative = h & 0x8000 != 0;
    let e = i32::from((h >> 10) & 0x1f);
    let f = f64::from(h & 0x3ff);
    let x = if e == 0x1f {
        if f == 0.0 {
            f64::INFINITY
        } else {
            f64::from_bits(0x7ff8_0000_0000_0000)
        }
    } else if e == 0 {
        f / 1024.0 * pow2(-14)
    } else {
        (1.0 + f / 1024.0) * pow2(e - 15)
    };
    if negative {
        -x
    } else {
        x
    }
}

/// `(float)x` in C on x86-64: round to nearest even, overflow to infinity, NaN quieted with
/// its sign and top payload bits kept.
pub(crate) fn f64_to_f32(x: f64) -> f32 {
    if x.is_nan() {
        let b = x.to_bits();
        let sign = ((b >> 63) as u32) << 31;
        let payload = ((b >> 29) & 0x007f_ffff) as u32;
        f32::from_bits(sign | 0x7fc0_0000 | payload)
    } else {
        x as f32
    }
}

/// `(double)x` in C on x86-64: exact, NaN quieted with its sign and payload kept.
pub(crate) fn f32_to_f64(x: f32) -> f64 {
    if x.is_nan() {
        let b = x.to_bits();
        let sign = u64::from(b >> 31) << 63;
        let payload = u64::from(b & 0x007f_ffff) << 29;
        f64::from_bits(sign | 0x7ff8_0000_0000_0000 | payload)
    } else {
        f64::from(x)
    }
}

/// Binary exponent of a finite positive double (`floor(log2(a))`), subnormals included.
/// (Only the arithmetic reference implementation in the tests needs it.)
#[cfg(test)]
fn exponent(a: f64) -> i32 {
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: far below 2**-25, only the comparison against -25 matters.
        -1075
    } else {
        biased - 1023
    }
}

/// 2**e as an exact double, for `e` in the normal range.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs a double into half-precision bits, rounding half to even like CPython.
    ///
    /// Values at or above 65520 in magnitude overflow (65504 is the largest half; 65520 is
    /// where rounding would carry into the infinity exponent). NaN becomes the quiet NaN with
    /// the same sign; magnitudes below 2**-25 become zero.
    fn reference_f64_to_f16_bits(x: f64) -> Result<u16, Overflow> {
        let sign = u16::from(x.is_sign_negative());
        if x == 0.0 {
            return Ok(sign << 15);
        }
        if x.is_infinite() {
            return Ok((sign << 15) | 0x7c00);
        }
        if x.is_nan() {
            return Ok((sign << 15) | 0x7c00 | 512);
        }
        let a = x.abs();
        // frexp: a = m * 2**e with m in [1, 2) after CPython's normalisation.
        let e = exponent(a);
        let mut bits_e: i32;
        let mut f: f64;
        if e >= 16 {
            return Err(Overflow);
        } else if e < -25 {
            f = 0.0;
            bits_e = 0;
        } else {
            let m = a / pow2(e);
            if e < -14 {
                // Gradual underflow: exact, since m has 53 bits and the shift is at most 11.
                f = m * pow2(14 + e);
                bits_e = 0;
            } else {
                f = m - 1.0;
                bits_e = e + 15;
            }
        }
        f *= 1024.0;
        // f < 1024, so the truncation is exact and f - bits is exact.
        let mut bits = f as u16;
        let rest = f - f64::from(bits);
        if rest > 0.5 || (rest == 0.5 && bits % 2 == 1) {
            bits += 1;
            if bits == 1024 {
                bits = 0;
                bits_e += 1;
                if bits_e == 31 {
                    return Err(Overflow);
                }
            }
        }
        // bits_e is in 0..=30 here.
        Ok((sign << 15) | ((bits_e as u16) << 10) | bits)
    }

    #[test]
    fn half_packing_matches_the_arithmetic_reference() {
        let mut xs: Vec<f64> = vec![0.0, 65504.0, 65519.99999999999, 65520.0, 65536.0, 1e300];
        for h in 0..=u16::MAX {
            let x = f16_bits_to_f64(h);
            // Every half, its neighbours, and the midpoints to the next half.
            let next = f16_bits_to_f64(h.wrapping_add(1));
            xs.extend([
                x,
                f64::from_bits(x.to_bits().wrapping_add(1)),
                (x + next) / 2.0,
            ]);
            xs.push(f64::from_bits(x.to_bits().wrapping_sub(1)));
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            xs.push(f64::from_bits(seed));
            // Doubles in the half's range, where the rounding happens.
            let e = (seed >> 52) % 48;
            xs.push(f64::from_bits(
                (seed & 0x800f_ffff_ffff_ffff) | ((1023 + e - 30) << 52),
            ));
        }
        for x in xs {
            for x in [x, -x] {
                assert_eq!(
                    f64_to_f16_bits(x),
                    reference_f64_to_f16_bits(x),
                    "{x:e} ({:#018x})",
                    x.to_bits()
                );
            }
        }
    }

    #[test]
    fn half_rounding_and_overflow() {
        assert_eq!(f64_to_f16_bits(65504.0), Ok(0x7bff));
        assert_eq!(f64_to_f16_bits(65519.99999999999), Ok(0x7bff));
        assert_eq!(f64_to_f16_bits(65520.0), Err(Overflow));
        assert_eq!(f64_to_f16_bits(1e300), Err(Overflow));
        assert_eq!(f64_to_f16_bits(2f64.powi(-25)), Ok(0));
        assert_eq!(f64_to_f16_bits(2f64.powi(-25) * 1.0000001), Ok(1));
        assert_eq!(f64_to_f16_bits(2f64.powi(-24) * 1.5), Ok(2));
        assert_eq!(f64_to_f16_bits(-0.0), Ok(0x8000));
        assert_eq!(f64_to_f16_bits(f64::NAN), Ok(0x7e00));
        assert_eq!(f64_to_f16_bits(-f64::NAN), Ok(0xfe00));
        assert_eq!(f64_to_f16_bits(5e-324), Ok(0));
        assert_eq!(f64_to_f16_bits(1.0), Ok(0x3c00));
    }

    #[test]
    fn half_unpacking_inline_path_matches_the_arithmetic() {
        for h in 0..=u16::MAX {
            let (a, b) = (f16_bits_to_f64(h), f16_bits_to_f64_rest(h));
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{h:#06x}"
            );
        }
    }

    #[test]
    fn half_round_trips() {
        for h in 0..=u16::MAX {
            let x = f16_bits_to_f64(h);
            if x.is_nan() {
                continue;
            }
            assert_eq!(f64_to_f16_bits(x), Ok(h), "{h:#06x}");
        }
    }

    #[test]
    fn nan_bits_follow_x86() {
        assert_eq!(
            f32_to_f64(f32::from_bits(0x7f80_0001)).to_bits(),
            0x7ff8_0000_2000_0000
        );
        assert_eq!(
            f64_to_f32(f64::from_bits(0x7fff_f000_0000_0001)).to_bits(),
            0x7fff_8000
        );
        assert_eq!(
            f64_to_f32(f64::from_bits(0x7ff0_0000_0000_0001)).to_bits(),
            0x7fc0_0000
        );
    }
}
