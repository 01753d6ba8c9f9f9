//! Integers too large for `i128`, as Python's unbounded `int` allows them.
//!
//! No struct field stores such an integer (the widest, `q` and `Q`, hold 64 bits), so
//! packing one into an integer field is always CPython's range error. But a float field
//! takes any `int`: `struct.pack('f', 340282356779733661637539395458142568448)` converts it
//! to the nearest double first, correctly rounded, and only then applies the field's own
//! rounding and overflow rules. A protocol's float limits are often written this way (as
//! `2**128 - 2**103`, the `f` overflow threshold), so the literal parser keeps such values
//! instead of refusing them.

use std::fmt;

/// An integer outside the range of `i128`, kept exactly as decimal digits: what
/// [`literal::parse`](crate::literal::parse) returns (as [`Value::BigInt`](crate::Value))
/// for `10**40` spelled out, or a long hex literal.
///
/// ```
/// use pystruct::{literal, Struct, Value};
/// let v = literal::parse("340282356779733661637539395458142568448")?;
/// assert!(matches!(v, Value::BigInt(_)));
/// // As CPython: the int becomes the double 2**128 - 2**103, which a native `f` (a C
/// // cast) rounds to infinity.
/// assert_eq!(Struct::new("@f")?.pack(&[v])?, [0x00, 0x00, 0x80, 0x7f]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BigInt {
    /// The value in decimal ASCII, `-` first if negative, no leading zeros. A `Vec<u8>`
    /// like [`Value::Bytes`](crate::Value)'s, so that dropping a `Value` (once per value
    /// in every unpack into owned values) stays one branch for both owning variants.
    text: Vec<u8>,
}

impl BigInt {
    /// The integer whose magnitude is `digits` (values below `radix`, most significant
    /// first) in `radix` (2 to 36), with the sign `negative`.
    ///
    /// Power-of-two radixes are converted to decimal in `radix**k`-sized chunks; the cost
    /// grows with the square of the length, about 10 ms for 20,000 digits.
    pub(crate) fn from_digits(digits: &[u8], radix: u32, negative: bool) -> BigInt {
        let mut text = Vec::new();
        if negative {
            text.push(b'-');
        }
        if radix == 10 {
            let start = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
            text.extend(digits[start..].iter().map(|&d| b'0' + d));
        } else {
            text.extend_from_slice(to_decimal(digits, radix).as_bytes());
        }
        if text.len() == usize::from(negative) {
            text.push(b'0');
        }
        BigInt { text }
    }

    /// The decimal text, `-` first if negative.
    fn as_str(&self) -> &str {
        // Only ASCII digits and '-' are ever stored.
        std::str::from_utf8(&self.text).unwrap_or("0")
    }

    /// Whether the integer is below zero.
    pub fn is_negative(&self) -> bool {
        self.text.first() == Some(&b'-')
    }

    /// The nearest double (ties to even), as CPython's `float(n)`; `None` where CPython
    /// raises `OverflowError` (the rounded value would be 2**1024 or more).
    pub fn to_f64(&self) -> Option<f64> {
        // Rust's float parser rounds correctly for any number of digits.
        let x: f64 = self.as_str().parse().ok()?;
        if x.is_infinite() {
            return None;
        }
        Some(x)
    }

    /// `i128::MIN` or `i128::MAX` by sign: out of every integer field's range, which is
    /// all packing needs to know (CPython's messages do not show the value).
    pub(crate) fn saturated(&self) -> i128 {
        if self.is_negative() {
            i128::MIN
        } else {
            i128::MAX
        }
    }
}

impl fmt::Display for BigInt {
    /// The decimal digits with a leading `-` if negative, as Python's `repr()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decimal digits of the number whose base-`radix` digits are `digits`.
fn to_decimal(digits: &[u8], radix: u32) -> String {
    const BASE: u128 = 10_000_000_000_000_000_000; // 10**19: one limb
                                                   // Digits per chunk: radix**k stays below 2**64, so limb * radix**k + carry < 2**128.
    let per_chunk = match radix {
        2 => 63,
        8 => 21,
        16 => 15,
        _ => 1,
    };
    let mut limbs: Vec<u64> = Vec::new(); // little-endian, base 10**19
    for chunk in digits.chunks(per_chunk) {
        let mul = u128::from(radix).pow(chunk.len() as u32);
        let mut carry = chunk
            .iter()
            .fold(0u128, |acc, &d| acc * u128::from(radix) + u128::from(d));
        for limb in limbs.iter_mut() {
            let x = u128::from(*limb) * mul + carry;
            *limb = (x % BASE) as u64;
            carry = x / BASE;
        }
        while carry > 0 {
            limbs.push((carry % BASE) as u64);
            carry /= BASE;
        }
    }
    let mut text = String::new();
    if let Some((top, rest)) = limbs.split_last() {
        text.push_str(&top.to_string());
        for limb in rest.iter().rev() {
            text.push_str(&format!("{limb:019}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str, radix: u32) -> Vec<u8> {
        s.chars()
            .map(|c| c.to_digit(radix).map_or(0, |d| d as u8))
            .collect()
    }

    #[test]
    fn converts_every_radix_to_decimal() {
        let big = |s: &str, r| BigInt::from_digits(&digits(s, r), r, false).to_string();
        // 2**128
        let two128 = "340282366920938463463374607431768211456";
        assert_eq!(big(&format!("1{}", "0".repeat(32)), 16), two128);
        assert_eq!(big(&format!("1{}", "0".repeat(128)), 2), two128);
        assert_eq!(
            big("4000000000000000000000000000000000000000000", 8),
            two128
        );
        assert_eq!(big(&format!("000{two128}"), 10), two128);
        assert_eq!(big("0000", 16), "0");
        let neg = BigInt::from_digits(&digits(two128, 10), 10, true);
        assert_eq!(neg.to_string(), format!("-{two128}"));
        assert!(neg.is_negative());
    }

    #[test]
    fn rounds_to_the_nearest_double_like_cpython() {
        let f = |s: &str| BigInt::from_digits(&digits(s, 10), 10, false).to_f64();
        // float(2**128 - 2**103) is exact; one more rounds back down.
        assert_eq!(
            f("340282356779733661637539395458142568448"),
            Some(340282356779733661637539395458142568448.0)
        );
        // 2**1024 - 2**970 is the tie that rounds up to 2**1024: OverflowError.
        let max = f64::MAX; // 2**1024 - 2**971
        assert_eq!(f(&format!("{max:.0}")), Some(max));
        // 2**1024 - 2**970 - 1 rounds down to f64::MAX, 2**1024 - 2**970 up (overflow).
        let below_tie = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791";
        let tie = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
        assert_eq!(f(below_tie), Some(max));
        assert_eq!(f(tie), None);
        assert_eq!(f(&"9".repeat(400)), None);
    }
}
