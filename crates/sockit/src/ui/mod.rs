//! Output helpers: data on stdout, events on stderr.
//!
//! - [`event`]: one `sockit: ...` line on stderr, written with a single `write(2)` so
//!   lines from concurrent connections never interleave mid-line.
//! - [`stdio`]: stdin and stdout on dedicated threads with large buffers, so bulk data
//!   through a pipe costs few system calls and never blocks the async reactor.
//! - [`table`]: aligned text tables.
//! - [`signal`]: graceful shutdown on Ctrl-C / SIGTERM.

pub mod signal;
pub mod stdio;
pub mod table;

use std::fmt::Display;
use std::io::Write;

/// Prints one event line, `sockit: {message}`, to stderr.
///
/// The line is formatted first and written at once (stderr is unbuffered: `eprintln!`
/// would issue one `write` per formatted piece, and a reader could see half a line).
pub fn event(message: impl Display) {
    let line = format!("sockit: {message}\n");
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}

/// Escapes bytes for display on a terminal: printable ASCII and UTF-8 text pass, control
/// characters become `\n`, `\t`, `\r`, `\xNN`. Used for chat relays (a client must not be
/// able to move other users' cursors or clear their screens) and the sticky-packet demo.
pub fn escape_bytes(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let code = c as u32;
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{code:x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes only control characters (as `\xNN`), keeping text and backslashes as typed:
/// the form for chat messages, which people read rather than parse.
pub fn escape_control(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_control() && ch != '\t' {
            let code = ch as u32;
            if code <= 0xff {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:x}}}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_bytes(b"hi\x1b[2J\x07\r\n"), "hi\\x1b[2J\\x07\\r\\n");
        assert_eq!(escape_bytes("héllo".as_bytes()), "héllo");
        assert_eq!(escape_bytes(b"a\\b\tc\x00"), "a\\\\b\\tc\\x00");
        assert_eq!(escape_bytes(b"\x7f"), "\\x7f");
    }

    #[test]
    fn chat_escaping_keeps_text() {
        assert_eq!(escape_control(b"C:\\dir\tx\x1b[2J"), "C:\\dir\tx\\x1b[2J");
    }
}
