//! Python's `repr()` of values and tuples, character for character: what the CLI prints
//! for `sockit unpack` and what the network commands print for `--unpack`.
//!
//! ```
//! use pystruct::{repr, Value};
//! let t = [Value::Int(1), Value::Bytes(b"zhang".to_vec()), Value::Float(1.75)];
//! assert_eq!(repr::tuple(&t), "(1, b'zhang', 1.75)");
//! assert_eq!(repr::float(1e16), "1e+16");
//! assert_eq!(repr::bytes(b"it's"), r#"b"it's""#);
//! ```

use std::fmt::{self, Write};

use crate::value::{AsValueRef, ValueRef};

/// `repr()` of one value.
pub fn value(v: &impl AsValueRef) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_value(&mut s, v.as_value_ref());
    s
}

/// `repr()` of a tuple of values: `(1, b'zhang', 1.75)`, `(1,)`, `()`.
pub fn tuple<V: AsValueRef>(values: &[V]) -> String {
    let mut s = String::new();
    let _ = write_tuple(&mut s, values.iter().map(AsValueRef::as_value_ref));
    s
}

/// `repr()` of a float: the shortest string that reads back to the same double, in
/// Python's layout (`1.75`, `1e+16`, `1e-05`, `0.0001`, `-0.0`, `inf`, `nan`).
pub fn float(x: f64) -> String {
    let mut s = String::new();
    let _ = write_float(&mut s, x);
    s
}

/// `repr()` of a bytes object: `b'zhang'`, `b'\x00\xff'`, `b"it's"`.
pub fn bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 3);
    let _ = write_bytes(&mut s, b);
    s
}

/// Writes `repr()` of a tuple of values.
pub fn write_tuple<'a, W: Write + ?Sized>(
    w: &mut W,
    values: impl IntoIterator<Item = ValueRef<'a>>,
) -> fmt::Result {
    w.write_char('(')?;
    let mut n = 0;
    for v in values {
        if n > 0 {
            w.write_str(", ")?;
        }
        write_value(w, v)?;
        n += 1;
    }
    if n == 1 {
        w.write_char(',')?;
    }
    w.write_char(')')
}

/// Writes `repr()` of one value.
pub fn write_value<W: Write + ?Sized>(w: &mut W, v: ValueRef<'_>) -> fmt::Result {
    match v {
        ValueRef::Int(i) => write!(w, "{i}"),
        ValueRef::BigInt(n) => write!(w, "{n}"),
        ValueRef::Bool(true) => w.write_str("True"),
        ValueRef::Bool(false) => w.write_str("False"),
        ValueRef::Float(f) => write_float(w, f),
        ValueRef::Bytes(b) => write_bytes(w, b),
    }
}

/// Writes `repr()` of a float (see [`float`]).
pub fn write_float<W: Write + ?Sized>(w: &mut W, x: f64) -> fmt::Result {
    if x.is_nan() {
        return w.write_str("nan");
    }
    if x.is_sign_negative() {
        w.write_char('-')?;
    }
    let a = x.abs();
    if a.is_infinite() {
        return w.write_str("inf");
    }
    if a == 0.0 {
        return w.write_str("0.0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Python's repr does; only the
    // layout differs. Python puts the point after `decpt` digits and switches to
    // exponent notation when decpt <= -4 or decpt > 16.
    let mut buf = Buf::default();
    write!(buf, "{a:e}")?;
    // Among the strings of that shortest length, Python (David Gay's dtoa) picks the one
    // nearest the double, ties to even; Rust's shortest mode can pick the other neighbour
    // when the last digit is a tie (2**-25 is ...95312e-08 in Python, ...95313e-8 in Rust).
    // Rust's fixed-precision mode is exact with ties to even, so use it when it reads back.
    let digits_len = buf
        .as_str()
        .split('e')
        .next()
        .map_or(0, |m| m.len() - usize::from(m.contains('.')));
    let mut nearest = Buf::default();
    write!(nearest, "{:.*e}", digits_len.saturating_sub(1), a)?;
    if nearest.as_str() != buf.as_str() && nearest.as_str().parse::<f64>() == Ok(a) {
        buf = nearest;
    }
    let text = buf.as_str();
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits = Buf::default();
    for c in mantissa.chars().filter(char::is_ascii_digit) {
        digits.write_char(c)?;
    }
    let digits = digits.as_str();
    let n = digits.len() as i32;
    let decpt = exp + 1;
    if decpt <= -4 || decpt > 16 {
        w.write_str(&digits[..1])?;
        if n > 1 {
            w.write_char('.')?;
            w.write_str(&digits[1..])?;
        }
        let e = decpt - 1;
        write!(
            w,
            "e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        )
    } else if decpt <= 0 {
        w.write_str("0.")?;
        for _ in 0..-decpt {
            w.write_char('0')?;
        }
        w.write_str(digits)
    } else if decpt >= n {
        w.write_str(digits)?;
        for _ in 0..decpt - n {
            w.write_char('0')?;
        }
        w.write_str(".0")
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        w.write_str(int)?;
        w.write_char('.')?;
        w.write_str(frac)
    }
}

/// Writes `repr()` of a bytes object (see [`bytes`]).
pub fn write_bytes<W: Write + ?Sized>(w: &mut W, b: &[u8]) -> fmt::Result {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    w.write_char('b')?;
    w.write_char(quote as char)?;
    for &c in b {
        match c {
            b'\\' => w.write_str("\\\\")?,
            b'\t' => w.write_str("\\t")?,
            b'\n' => w.write_str("\\n")?,
            b'\r' => w.write_str("\\r")?,
            _ if c == quote => {
                w.write_char('\\')?;
                w.write_char(c as char)?;
            }
            0x20..=0x7e => w.write_char(c as char)?,
            _ => write!(w, "\\x{c:02x}")?,
        }
    }
    w.write_char(quote as char)
}

/// A small stack buffer for formatting a float without allocating (`{:e}` of an `f64`
/// is at most 24 characters).
struct Buf {
    data: [u8; 40],
    len: usize,
}

impl Default for Buf {
    fn default() -> Buf {
        Buf {
            data: [0; 40],
            len: 0,
        }
    }
}

impl Buf {
    fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(&self.data[..self.len]).unwrap_or("")
    }
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.data.len() {
            return Err(fmt::Error);
        }
        self.data[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn floats_like_python() {
        let cases = [
            (1.75, "1.75"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1234567890123456.0, "1234567890123456.0"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (1e22, "1e+22"),
            (1.5e-7, "1.5e-07"),
            (100.0, "100.0"),
            (-2.5, "-2.5"),
        ];
        for (x, want) in cases {
            assert_eq!(float(x), want);
        }
    }

    #[test]
    fn bytes_like_python() {
        assert_eq!(bytes(b"it's"), r#"b"it's""#);
        assert_eq!(bytes(b"a\"b"), r#"b'a"b'"#);
        assert_eq!(bytes(b"'\""), r#"b'\'"'"#);
        assert_eq!(
            bytes(b"\x00\x7f\x80\xff\\ \t\n\r\x0b\x0c\x1f"),
            r"b'\x00\x7f\x80\xff\\ \t\n\r\x0b\x0c\x1f'"
        );
        assert_eq!(bytes(b""), "b''");
    }

    #[test]
    fn tuples_like_python() {
        assert_eq!(tuple::<Value>(&[]), "()");
        assert_eq!(tuple(&[Value::Int(1)]), "(1,)");
        assert_eq!(tuple(&[Value::Bool(true), Value::Int(-3)]), "(True, -3)");
    }
}
