//! Runs `sockit pack`, `sockit unpack` and `sockit calcsize`: command-line text to
//! [`pystruct`] and [`sockit::records`] calls, and their results to stdout.
//!
//! Every problem with what the user typed or fed in (format, values, hex, record length,
//! an unreadable `--file`, a record too large for memory) is a [`UsageError`] (exit 2)
//! with a one-line message. A failed write to stdout (a full disk, a closed pipe) is
//! reported once and exits 1. Output is streamed: a record of any size is written in
//! chunks, and `unpack` holds one record at a time.

use std::fmt;
use std::io::{self, BufWriter, IsTerminal, Read, Write};

use crate::error::UsageError;
use pystruct::{literal, repr, Struct};
use sockit::records::{self, hex, json, ReadRecordsError};

use crate::cli::structs as args;

/// `unpack` output held back before the first write: when the input turns out to be bad
/// within this much output (the usual case), nothing at all is printed.
const HOLD_BACK: usize = 1 << 20;

/// Longest rendering of the values shown in a `pack` error message.
const SHOWN: usize = 200;

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
            shorten(repr::tuple(&values)),
            args.format
        ))
    })?;
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let written = if args.raw {
        out.write_all(&bytes)
    } else if args.repr {
        write_display(&mut out, &ReprBytes(&bytes)).and_then(|()| out.write_all(b"\n"))
    } else {
        hex::write_hex(&mut out, &bytes).and_then(|()| out.write_all(b"\n"))
    };
    written.and_then(|()| out.flush()).map_err(output_error)
}

/// Runs `sockit unpack`.
pub fn unpack(args: args::UnpackArgs) -> anyhow::Result<()> {
    let st = compile(&args.format)?;
    let (input, source) = input(&args)?;
    let input: Box<dyn Read> = if args.hex_input {
        Box::new(hex::HexReader::new(input))
    } else {
        input
    };
    let mut out = BufWriter::with_capacity(HOLD_BACK, io::stdout().lock());
    let mut line = String::new();
    let result = records::for_each_record(&st, input, |values| {
        line.clear();
        if args.json {
            json::write_array(&mut line, values);
        } else {
            // Writing to a String cannot fail.
            let _ = repr::write_tuple(&mut line, values);
        }
        line.push('\n');
        out.write_all(line.as_bytes())
    });
    match result {
        Ok(_) => out.flush().map_err(output_error),
        Err(ReadRecordsError::Output(e)) => {
            // Drop what is still buffered: one report of the failure is enough.
            let _ = out.into_parts();
            Err(output_error(e))
        }
        Err(e) => {
            // Bad input: print nothing more (nothing at all if it showed within the
            // first HOLD_BACK bytes of output).
            let _ = out.into_parts();
            Err(read_error(e, &args.format, &source))
        }
    }
}

/// Runs `sockit calcsize`.
pub fn calcsize(args: args::CalcsizeArgs) -> anyhow::Result<()> {
    let st = compile(&args.format)?;
    let mut out = io::stdout().lock();
    writeln!(out, "{}", st.size())
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// A usage error (exit code 2) with this message.
fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError::new(msg))
}

/// A failed write of the data output: a runtime failure (exit 1), a closed pipe too.
fn output_error(e: io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("write stdout")
}

/// Compiles a format, naming it in the error.
fn compile(format: &str) -> anyhow::Result<Struct> {
    Struct::new(format).map_err(|e| usage(format!("bad struct format '{format}': {e}")))
}

/// At most [`SHOWN`] characters of `text`, saying how long it was if cut.
fn shorten(text: String) -> String {
    match text.char_indices().nth(SHOWN) {
        None => text,
        Some((at, _)) => format!("{}... ({} characters)", &text[..at], text.len()),
    }
}

/// The bytes to unpack (the HEX argument, `--file`, or stdin) and what to call them in
/// messages.
fn input(args: &args::UnpackArgs) -> anyhow::Result<(Box<dyn Read>, String)> {
    if !args.hex.is_empty() {
        let bytes = hex::decode(&args.hex.join(" ")).map_err(|e| usage(e.to_string()))?;
        return Ok((Box::new(io::Cursor::new(bytes)), "the HEX argument".into()));
    }
    if let Some(path) = &args.file {
        let file = std::fs::File::open(path)
            .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
        return Ok((Box::new(file), path.display().to_string()));
    }
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(usage(
            "no bytes to unpack: give them as HEX, with --file PATH, or on stdin",
        ));
    }
    Ok((Box::new(stdin.lock()), "stdin".into()))
}

/// The message for input that could not be unpacked.
fn read_error(e: ReadRecordsError, format: &str, source: &str) -> anyhow::Error {
    usage(match e {
        ReadRecordsError::Input(e) => match hex::hex_error(&e) {
            Some(hex) => hex.to_string(),
            None => format!("cannot read {source}: {e}"),
        },
        ReadRecordsError::Partial { bytes, size } => format!(
            "got {bytes} bytes, which is not a whole number of {size}-byte records of Struct('{format}')"
        ),
        ReadRecordsError::Empty { size } => {
            format!("no bytes to unpack (a record of Struct('{format}') is {size} bytes)")
        }
        ReadRecordsError::NotEmpty => {
            format!("Struct('{format}') has size 0 but bytes were given")
        }
        ReadRecordsError::OutOfMemory { size, have } => format!(
            "a record of Struct('{format}') is {size} bytes, more than fits in memory (failed after {have})"
        ),
        ReadRecordsError::Unpack(e) => format!("cannot unpack with Struct('{format}'): {e}"),
        ReadRecordsError::Output(e) => format!("write stdout: {e}"),
    })
}

/// Python's `repr()` of bytes, for writing with [`write_display`] without building it.
struct ReprBytes<'a>(&'a [u8]);

impl fmt::Display for ReprBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        repr::write_bytes(f, self.0)
    }
}

/// Writes `value` to `out` as it is formatted, keeping the first I/O error (which
/// `write!` would turn into an opaque formatting error).
fn write_display(out: &mut impl Write, value: &impl fmt::Display) -> io::Result<()> {
    write!(out, "{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_in_messages() {
        assert_eq!(shorten("(1,)".into()), "(1,)");
        let long = shorten("9".repeat(1000));
        assert!(long.starts_with(&"9".repeat(SHOWN)));
        assert!(long.ends_with("... (1000 characters)"));
    }
}
