//! Records as JSON: one unpacked record as one JSON array, for `unpack --json` and any
//! program that logs or forwards received records to tools that do not speak Python.
//!
//! JSON has no bytes, no infinities and no NaN, so the mapping is fixed here: ints (of
//! any size) and finite floats are numbers (a float in Python's shortest `repr`, which
//! is valid JSON), booleans are `true`/`false`, `inf`/`-inf`/`nan` are those strings,
//! and bytes are a string with one character per byte (`b'\xff'` is `"\u00ff"`), so a
//! reader can get the exact bytes back.

use std::fmt::Write as _;

use pystruct::{repr, ValueRef};

/// Appends the values of one record to `s` as a JSON array: `[1, "zhang", 1.75]`.
pub fn write_array<'a>(s: &mut String, values: impl Iterator<Item = ValueRef<'a>>) {
    s.push('[');
    for (i, v) in values.enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        match v {
            ValueRef::Float(f) if !f.is_finite() => {
                s.push('"');
                s.push_str(&repr::float(f));
                s.push('"');
            }
            ValueRef::Bytes(b) => {
                s.push('"');
                for &c in b {
                    match c {
                        b'"' => s.push_str("\\\""),
                        b'\\' => s.push_str("\\\\"),
                        0x20..=0x7e => s.push(c as char),
                        _ => {
                            // Writing to a String cannot fail.
                            let _ = write!(s, "\\u{:04x}", c);
                        }
                    }
                }
                s.push('"');
            }
            ValueRef::Bool(b) => s.push_str(if b { "true" } else { "false" }),
            // Ints print in full; finite floats use Python's repr, which is valid JSON.
            other => {
                let _ = repr::write_value(s, other);
            }
        }
    }
    s.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_type() {
        let mut s = String::new();
        let vals = [
            ValueRef::Int(-1),
            ValueRef::Bool(true),
            ValueRef::Float(1.75),
            ValueRef::Float(f64::NEG_INFINITY),
            ValueRef::Float(1e16),
            ValueRef::Bytes(b"a\"\\\x00\xff"),
        ];
        write_array(&mut s, vals.into_iter());
        assert_eq!(s, r#"[-1, true, 1.75, "-inf", 1e+16, "a\"\\\u0000\u00ff"]"#);
        s.clear();
        write_array(&mut s, std::iter::empty());
        assert_eq!(s, "[]");
    }
}
