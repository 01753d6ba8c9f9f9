//! Making bytes from the network safe to show on a terminal.
//!
//! A peer controls the bytes it sends. Written raw to a terminal, an escape sequence
//! (`ESC [2J`) clears the screen or moves the cursor, and a newline inside one message
//! makes it look like two. Everything sockit shows a person, not a pipe, goes through
//! one of these functions first.

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
