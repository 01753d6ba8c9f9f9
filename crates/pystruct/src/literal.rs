//! A parser for Python literals, so values can be typed the way the course writes them:
//! `1`, `-0x10`, `1_000`, `1.75`, `-0.0`, `1e-5`, `True`, `b'zhang'`, `b'\x00\xff'`.
//!
//! It accepts what Python's `ast.literal_eval` accepts for `int`, `float`, `bool` and
//! `bytes` (a sign, `0x`/`0o`/`0b`, underscores, all bytes escapes, raw `rb'...'`, triple
//! quotes, adjacent literals `b'a' b'b'`), plus `inf`, `-inf` and `nan` (as `float()`
//! spells them), since Python has no literal for those.
//!
//! ```
//! use pystruct::{literal, Value};
//! assert_eq!(literal::parse("b'zhang'"), Ok(Value::Bytes(b"zhang".to_vec())));
//! assert_eq!(literal::parse("-0x10"), Ok(Value::Int(-16)));
//! assert_eq!(literal::parse("True"), Ok(Value::Bool(true)));
//! assert!(literal::parse("zhang").is_err());
//! ```

use std::fmt;

use crate::bigint::BigInt;
use crate::value::Value;

/// Why a string is not a literal this parser accepts, with a hint at the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiteralError {
    message: String,
}

impl LiteralError {
    fn new(message: impl Into<String>) -> LiteralError {
        LiteralError {
            message: message.into(),
        }
    }

    /// The explanation, without the offending text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LiteralError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LiteralError {}

/// Parses one literal.
pub fn parse(text: &str) -> Result<Value, LiteralError> {
    parse_inner(text).map_err(|e| LiteralError::new(format!("bad value {text:?}: {}", e.message)))
}

/// Parses several literals, naming the position of the first bad one.
pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Value>, LiteralError> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            parse(t.as_ref())
                .map_err(|e| LiteralError::new(format!("value {}: {}", i + 1, e.message)))
        })
        .collect()
}

fn parse_inner(text: &str) -> Result<Value, LiteralError> {
    let s = text.trim_matches(is_space);
    if s.is_empty() {
        return Err(LiteralError::new("empty"));
    }
    match s {
        "True" => return Ok(Value::Bool(true)),
        "False" => return Ok(Value::Bool(false)),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_alphabetic() || first == b'\'' || first == b'"' {
        if let Some(v) = special_float(s, false) {
            return Ok(v);
        }
        return bytes_literals(s).map(Value::Bytes);
    }
    let (negative, rest) = match first {
        b'-' => (true, s[1..].trim_start_matches(is_space)),
        b'+' => (false, s[1..].trim_start_matches(is_space)),
        _ => (false, s),
    };
    if rest.len() != s.len() {
        if rest.starts_with(['-', '+']) {
            return Err(LiteralError::new("more than one sign"));
        }
        if let Some(v) = special_float(rest, negative) {
            return Ok(v);
        }
    }
    number(rest, negative)
}

/// Python's whitespace between tokens (space, tab, form feed, newlines).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// `inf`, `infinity` and `nan` in any case, as Python's `float()` reads them.
fn special_float(s: &str, negative: bool) -> Option<Value> {
    let x = match s.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => return None,
    };
    Some(Value::Float(if negative { -x } else { x }))
}

/// An int or float literal without its sign.
fn number(s: &str, negative: bool) -> Result<Value, LiteralError> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(LiteralError::new("a sign with no number"));
    }
    if !(b[0].is_ascii_digit() || b[0] == b'.') {
        return Err(not_a_literal(s));
    }
    if b.len() > 1
        && b[0] == b'0'
        && b[1].is_ascii_alphabetic()
        && !matches!(b[1], b'e' | b'E' | b'j' | b'J')
    {
        let radix = match b[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => return Err(not_a_literal(s)),
        };
        let digits = &s[2..];
        let digits = digits.strip_prefix('_').unwrap_or(digits);
        return integer(digits, radix, negative);
    }
    if s.ends_with(['j', 'J']) {
        return Err(LiteralError::new("complex numbers cannot be packed"));
    }
    if s.contains(['.', 'e', 'E']) {
        return float(s, negative);
    }
    if b.len() > 1 && b[0] == b'0' && s.bytes().any(|c| c != b'0' && c != b'_') {
        return Err(LiteralError::new(
            "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
        ));
    }
    integer(s, 10, negative)
}

/// Digits of `radix` with single underscores between them. Any number of digits: an
/// integer outside `i128` is a [`Value::BigInt`] (it still packs into float fields).
fn integer(digits: &str, radix: u32, negative: bool) -> Result<Value, LiteralError> {
    check_underscores(digits)?;
    let mut values = Vec::with_capacity(digits.len());
    for c in digits.chars().filter(|&c| c != '_') {
        let d = c.to_digit(radix).ok_or_else(|| {
            LiteralError::new(format!("invalid digit {c:?} in a base-{radix} integer"))
        })?;
        values.push(d as u8);
    }
    let mut n: Option<i128> = Some(0);
    for &d in &values {
        let d = i128::from(d);
        // Accumulate negatively so i128::MIN fits.
        n = n
            .and_then(|n| n.checked_mul(i128::from(radix)))
            .and_then(|n| {
                if negative {
                    n.checked_sub(d)
                } else {
                    n.checked_add(d)
                }
            });
        if n.is_none() {
            break;
        }
    }
    Ok(match n {
        Some(n) => Value::Int(n),
        None => Value::BigInt(BigInt::from_digits(&values, radix, negative)),
    })
}

/// A decimal float: digits, an optional point, an optional exponent, underscores
/// between digits.
fn float(s: &str, negative: bool) -> Result<Value, LiteralError> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    if int.is_empty() && frac.unwrap_or("").is_empty() {
        return Err(not_a_literal(s));
    }
    for part in [Some(int), frac]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
    {
        check_underscores(part)?;
        if !part.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return Err(not_a_literal(s));
        }
    }
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return Err(not_a_literal(s));
        }
        check_underscores(digits)?;
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let x: f64 = clean.parse().map_err(|_| not_a_literal(s))?;
    Ok(Value::Float(if negative { -x } else { x }))
}

/// Underscores only singly and between digits.
fn check_underscores(digits: &str) -> Result<(), LiteralError> {
    if digits.is_empty() {
        return Err(LiteralError::new("missing digits"));
    }
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err(LiteralError::new("underscores go only between digits"));
    }
    Ok(())
}

fn not_a_literal(s: &str) -> LiteralError {
    LiteralError::new(format!(
        "{s:?} is not a Python literal (use ints like 1 or 0xff, floats like 1.75, True/False, bytes like b'zhang')"
    ))
}

/// One or more adjacent bytes literals, concatenated like Python does.
fn bytes_literals(s: &str) -> Result<Vec<u8>, LiteralError> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = one_bytes_literal(rest, &mut out)?;
        rest = rest.trim_start_matches(is_space);
        if rest.is_empty() {
            return Ok(out);
        }
    }
}

/// Parses the bytes literal at the start of `s` into `out`; returns what follows it.
fn one_bytes_literal<'s>(s: &'s str, out: &mut Vec<u8>) -> Result<&'s str, LiteralError> {
    let Some(prefix_len) = s.find(['\'', '"']) else {
        return Err(not_a_literal(s));
    };
    let prefix = s[..prefix_len].to_ascii_lowercase();
    let raw = match prefix.as_str() {
        "b" => false,
        "rb" | "br" => true,
        "" | "r" | "u" | "f" | "rf" | "fr" => {
            return Err(LiteralError::new(format!(
                "a str is not bytes: struct packs bytes, write b{}",
                &s[prefix_len..]
            )))
        }
        _ => return Err(not_a_literal(s)),
    };
    let body = &s[prefix_len..];
    let q = &body[..1];
    let quote = if body.starts_with("'''") || body.starts_with("\"\"\"") {
        &body[..3]
    } else {
        q
    };
    let triple = quote.len() == 3;
    let content = &body[quote.len()..];
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if content[i..].starts_with(quote) {
            return Ok(&content[i + quote.len()..]);
        }
        let c = bytes[i];
        if c >= 0x80 {
            return Err(LiteralError::new(
                "bytes can only contain ASCII literal characters",
            ));
        }
        if c == b'\n' && !triple {
            return Err(LiteralError::new(
                "unterminated bytes literal (newline inside)",
            ));
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = bytes.get(i + 1) else {
            break;
        };
        if e >= 0x80 {
            return Err(LiteralError::new(
                "bytes can only contain ASCII literal characters",
            ));
        }
        if raw {
            // A raw literal keeps the backslash; it still stops the quote from ending it.
            out.extend_from_slice(&[b'\\', e]);
            i += 2;
            continue;
        }
        i += 2;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut k = 0;
                while k < 2 {
                    match bytes.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                            k += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = bytes
                    .get(i..i + 2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let Some(hex) = hex else {
                    return Err(LiteralError::new(format!(
                        "invalid \\x escape at position {}: it needs two hex digits",
                        prefix_len + quote.len() + i - 2
                    )));
                };
                let hi = (hex[0] as char).to_digit(16).unwrap_or(0);
                let lo = (hex[1] as char).to_digit(16).unwrap_or(0);
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            // Python keeps unknown escapes as they are (with a warning).
            _ => out.extend_from_slice(&[b'\\', e]),
        }
    }
    Err(LiteralError::new(
        "unterminated bytes literal (missing closing quote)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Value {
        match parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn python_literals() {
        assert_eq!(ok("b'\\x00\\xff'"), Value::Bytes(vec![0, 255]));
        assert_eq!(ok("b'\\777'"), Value::Bytes(vec![255]));
        assert_eq!(ok("b'\\8'"), Value::Bytes(b"\\8".to_vec()));
        assert_eq!(ok("b'\\q'"), Value::Bytes(b"\\q".to_vec()));
        assert_eq!(ok("0x_ff"), Value::Int(255));
        assert_eq!(ok("1_000"), Value::Int(1000));
        assert_eq!(ok("-0x10"), Value::Int(-16));
        assert_eq!(ok("+5"), Value::Int(5));
        assert_eq!(ok("- 5"), Value::Int(-5));
        assert_eq!(ok("00"), Value::Int(0));
        assert!(parse("007").is_err());
        assert_eq!(ok("1e5"), Value::Float(1e5));
        assert_eq!(ok(".5"), Value::Float(0.5));
        assert_eq!(ok("5."), Value::Float(5.0));
        assert_eq!(ok("1_0.5e1_0"), Value::Float(105000000000.0));
        assert_eq!(ok("0b101"), Value::Int(5));
        assert_eq!(ok("0o17"), Value::Int(15));
        assert!(parse("1j").is_err());
        assert_eq!(ok("b'a' b'b'"), Value::Bytes(b"ab".to_vec()));
        assert_eq!(ok("rb'\\x00'"), Value::Bytes(b"\\x00".to_vec()));
        assert_eq!(ok("b'''x'''"), Value::Bytes(b"x".to_vec()));
        assert!(matches!(ok("-0.0"), Value::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(parse("--5").is_err());
        assert!(parse("-True").is_err());
        assert!(parse("1__0").is_err());
        assert_eq!(ok("0e0"), Value::Float(0.0));
        assert_eq!(ok("007.5"), Value::Float(7.5));
        assert_eq!(ok("b\"it's\""), Value::Bytes(b"it's".to_vec()));
        assert_eq!(ok("-inf"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(ok("nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(
            ok("-170141183460469231731687303715884105728"),
            Value::Int(i128::MIN)
        );
        // One past i128: kept exactly, as Python's int.
        let big = ok("170141183460469231731687303715884105728");
        assert!(matches!(&big, Value::BigInt(n) if !n.is_negative()));
        assert_eq!(big.to_string(), "170141183460469231731687303715884105728");
        assert_eq!(
            ok("-0x8000_0000_0000_0000_0000_0000_0000_0001").to_string(),
            "-170141183460469231731687303715884105729"
        );
        assert!(parse("zhang").is_err());
        assert!(parse("'zhang'").unwrap_err().message().contains("b'zhang'"));
        assert!(parse("b'abc").is_err());
        assert!(parse("b'\\x4'").is_err());
        assert!(parse("").is_err());
        assert!(parse(".").is_err());
        assert!(parse("1e").is_err());
        assert!(parse("b'é'").is_err());
    }
}
