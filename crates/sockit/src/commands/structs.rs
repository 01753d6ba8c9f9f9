//! Runs `sockit pack`, `sockit unpack` and `sockit calcsize`: command-line text to
//! [`pystruct`] calls, and their results to stdout.
//!
//! Every problem with what the user typed or fed in (format, values, hex, record length,
//! an unreadable `--file`) is a [`UsageError`] (exit 2) with a one-line message.

use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};

use anyhow::Context;
use pystruct::{literal, repr, Struct, Value, ValueRef};
use sockit::error::UsageError;

use crate::cli::structs as args;

/// Runs `sockit pack`.
pub fn pack(mut args: args::PackArgs) -> anyhow::Result<()> {
    // VALUE accepts leading hyphens (for -1 and -inf), so clap hands over flags written
    // after the values; no literal looks like a flag, so take them back here.
    args.values.retain(|v| match v.as_str() {
        "--raw" => {
            args.raw = true;
            false
        }
        "--repr" => {
            args.repr = true;
            false
        }
        _ => true,
    });
    if args.raw && args.repr {
        return Err(usage("--raw and --repr cannot be used together"));
    }
    let st = compile(&args.format)?;
    let values = literal::parse_all(&args.values).map_err(|e| usage(e.to_string()))?;
    let bytes = st.pack(&values).map_err(|e| {
        usage(format!(
            "cannot pack {} with Struct('{}'): {e}",
            repr::tuple(&values),
            args.format
        ))
    })?;
    let mut out = std::io::stdout().lock();
    let written = if args.raw {
        out.write_all(&bytes)
    } else if args.repr {
        writeln!(out, "{}", repr::bytes(&bytes))
    } else {
        writeln!(out, "{}", hex(&bytes))
    };
    finish(written.and_then(|()| out.flush()))
}

/// Runs `sockit unpack`.
pub fn unpack(args: args::UnpackArgs) -> anyhow::Result<()> {
    let st = compile(&args.format)?;
    let data = input(&args)?;
    let size = st.size();
    let records = if size == 0 {
        if !data.is_empty() {
            return Err(usage(format!(
                "Struct('{}') has size 0 but {} bytes were given",
                args.format,
                data.len()
            )));
        }
        1
    } else if data.is_empty() {
        return Err(usage(format!(
            "no bytes to unpack (a record of Struct('{}') is {size} bytes)",
            args.format
        )));
    } else if data.len() % size != 0 {
        return Err(usage(format!(
            "got {} bytes, which is not a whole number of {size}-byte records of Struct('{}')",
            data.len(),
            args.format
        )));
    } else {
        data.len() / size
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = String::new();
    for i in 0..records {
        let rec = data.get(i * size..(i + 1) * size).unwrap_or_default();
        let values = st
            .unpack_refs(rec)
            .map_err(|e| usage(format!("cannot unpack with Struct('{}'): {e}", args.format)))?;
        line.clear();
        if args.json {
            json_array(&mut line, values);
        } else {
            // Writing to a String cannot fail.
            let _ = repr::write_tuple(&mut line, values);
        }
        line.push('\n');
        if let Err(e) = out.write_all(line.as_bytes()) {
            return finish(Err(e));
        }
    }
    finish(out.flush())
}

/// Runs `sockit calcsize`.
pub fn calcsize(args: args::CalcsizeArgs) -> anyhow::Result<()> {
    let st = compile(&args.format)?;
    let mut out = std::io::stdout().lock();
    finish(writeln!(out, "{}", st.size()))
}

/// A usage error (exit code 2) with this message.
fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError::new(msg))
}

/// Compiles a format, naming it in the error.
fn compile(format: &str) -> anyhow::Result<Struct> {
    Struct::new(format).map_err(|e| usage(format!("bad struct format '{format}': {e}")))
}

/// A closed pipe (`sockit unpack ... | head -1`) ends the output quietly; other write
/// errors are runtime failures.
fn finish(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// The bytes to unpack: the HEX argument, `--file`, or stdin.
fn input(args: &args::UnpackArgs) -> anyhow::Result<Vec<u8>> {
    if !args.hex.is_empty() {
        return decode_hex(&args.hex.join(" "));
    }
    let raw = if let Some(path) = &args.file {
        std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?
    } else {
        let mut stdin = std::io::stdin().lock();
        if stdin.is_terminal() {
            return Err(usage(
                "no bytes to unpack: give them as HEX, with --file PATH, or on stdin",
            ));
        }
        let mut raw = Vec::new();
        stdin
            .read_to_end(&mut raw)
            .map_err(|e| usage(format!("cannot read stdin: {e}")))?;
        raw
    };
    if args.hex_input {
        let text = String::from_utf8(raw).map_err(|_| usage("--hex input is not text"))?;
        decode_hex(&text)
    } else {
        Ok(raw)
    }
}

/// Lowercase hex without separators, like Python's `bytes.hex()`.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes hex digits, ignoring whitespace and a `0x` before any group of digits.
fn decode_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let mut digits = Vec::with_capacity(text.len());
    for word in text.split_whitespace() {
        let word = word
            .strip_prefix("0x")
            .or_else(|| word.strip_prefix("0X"))
            .unwrap_or(word);
        for c in word.chars() {
            let d = c
                .to_digit(16)
                .ok_or_else(|| usage(format!("bad hex: {c:?} is not a hex digit (in {word:?})")))?;
            digits.push(d as u8);
        }
    }
    if digits.len() % 2 != 0 {
        return Err(usage(format!(
            "bad hex: {} digits is an odd number; each byte is two digits",
            digits.len()
        )));
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// One record as a JSON array (see `--json` in the help for the mapping).
fn json_array<'a>(s: &mut String, values: impl Iterator<Item = ValueRef<'a>>) {
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
                            let _ = write!(s, "\\u{:04x}", c);
                        }
                    }
                }
                s.push('"');
            }
            ValueRef::Bool(b) => s.push_str(if b { "true" } else { "false" }),
            // Ints print in full; finite floats use Python's repr, which is valid JSON.
            other => s.push_str(&Value::from(other).to_string()),
        }
    }
    s.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_tolerates_spaces_and_prefix() {
        assert_eq!(decode_hex("0x01 02\n0A ff").unwrap(), vec![1, 2, 10, 255]);
        assert!(decode_hex("123").is_err());
        assert!(decode_hex("zz").is_err());
        assert_eq!(decode_hex("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn json_maps_every_type() {
        let mut s = String::new();
        let vals = [
            ValueRef::Int(-1),
            ValueRef::Bool(true),
            ValueRef::Float(1.75),
            ValueRef::Float(f64::NEG_INFINITY),
            ValueRef::Bytes(b"a\"\\\x00\xff"),
        ];
        json_array(&mut s, vals.into_iter());
        assert_eq!(s, r#"[-1, true, 1.75, "-inf", "a\"\\\u0000\u00ff"]"#);
    }
}
