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

/// Escapes only control characters (as `\xNN`) and the invisible characters of
/// [`is_invisible`], keeping text and backslashes as typed: the form for chat messages,
/// which people read rather than parse.
pub fn escape_control(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if (ch.is_control() && ch != '\t') || is_invisible(ch) {
            push_code(&mut out, ch);
        } else {
            out.push(ch);
        }
    }
    out
}

/// Makes a peer-supplied name safe to print on a terminal: control characters (C0, DEL,
/// C1, which includes the start of ANSI escapes), bidirectional overrides and isolates
/// (which can make `exe.txt` display as `txt.exe`), zero-width characters and backslashes
/// become visible `\x1b`, `\u{202e}`, `\\` escapes. Everything else passes.
pub fn escape_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch == '\\' {
            out.push_str("\\\\");
        } else if ch.is_control() || is_invisible(ch) {
            push_code(&mut out, ch);
        } else {
            out.push(ch);
        }
    }
    out
}

/// Characters that change how a line displays without showing themselves: the Arabic
/// letter mark, zero-width spaces and joiners, bidirectional embeddings, overrides and
/// isolates, the byte-order mark.
pub fn is_invisible(ch: char) -> bool {
    matches!(ch as u32, 0x061c | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2069 | 0xfeff)
}

/// `\xNN` for a character up to U+00FF, `\u{N}` beyond.
fn push_code(out: &mut String, ch: char) {
    let code = ch as u32;
    if code <= 0xff {
        out.push_str(&format!("\\x{code:02x}"));
    } else {
        out.push_str(&format!("\\u{{{code:x}}}"));
    }
}

/// Appends `data` to `out` escaped for one line of output: bytes from a peer shown after
/// a `[sender] ` prefix, where a raw newline would start a line that looks like it came
/// from someone else, and a raw `ESC` would drive the terminal.
///
/// Valid UTF-8 text passes unchanged (`héllo`, `日本`). `\n`, `\r`, `\t` and `\\` become
/// those two-character escapes; every other control byte (0x00-0x1f, 0x7f, and the C1
/// controls U+0080-U+009F, which some terminals obey like ESC sequences) and every byte
/// that is not part of valid UTF-8 becomes `\xNN`, one per byte. The output never holds
/// a control character, and is reversible: each escape stands for exactly the bytes it
/// names, so nothing a peer sends can be confused with an escape sockit wrote.
///
/// Printable ASCII is copied in runs, so text costs about a `memcpy`.
pub fn escape_into<B: bytes::BufMut>(data: &[u8], out: &mut B) {
    let mut rest = data;
    while !rest.is_empty() {
        let plain = rest
            .iter()
            .position(|&b| !(0x20..0x7f).contains(&b) || b == b'\\')
            .unwrap_or(rest.len());
        out.put_slice(&rest[..plain]);
        rest = &rest[plain..];
        let Some(&byte) = rest.first() else { break };
        if byte < 0x80 {
            match byte {
                b'\n' => out.put_slice(b"\\n"),
                b'\r' => out.put_slice(b"\\r"),
                b'\t' => out.put_slice(b"\\t"),
                b'\\' => out.put_slice(b"\\\\"),
                _ => put_hex(byte, out),
            }
            rest = &rest[1..];
            continue;
        }
        // One UTF-8 sequence at a time (the lead byte gives its length), so a long text
        // mixing scripts is validated once, not once per non-ASCII character.
        let len = match byte {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        let char_bytes = rest.get(..len).filter(|_| len > 0);
        match char_bytes.and_then(|seq| std::str::from_utf8(seq).ok()) {
            Some(ch) if !ch.chars().any(char::is_control) => {
                out.put_slice(ch.as_bytes());
                rest = &rest[len..];
            }
            Some(_) => {
                // A C1 control: escape its bytes.
                for &b in &rest[..len] {
                    put_hex(b, out);
                }
                rest = &rest[len..];
            }
            None => {
                put_hex(byte, out);
                rest = &rest[1..];
            }
        }
    }
}

/// [`escape_into`] returning a `String`: `line1\nline2`, `\x00\xff`.
pub fn escape_line(data: &[u8]) -> String {
    let mut out = Vec::with_capacity(data.len());
    escape_into(data, &mut out);
    // escape_into writes ASCII escapes and whole valid UTF-8 sequences only.
    String::from_utf8(out)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

fn put_hex<B: bytes::BufMut>(byte: u8, out: &mut B) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.put_slice(&[
        b'\\',
        b'x',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0xf)],
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_chat_hide_no_bidi_override() {
        assert_eq!(
            escape_name("a\u{202e}txt.exe\\b\x1b"),
            "a\\u{202e}txt.exe\\\\b\\x1b"
        );
        assert_eq!(escape_control("x\u{202e}y\\z".as_bytes()), "x\\u{202e}y\\z");
    }

    /// Undoes [`escape_into`], to check that it loses nothing.
    fn unescape(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'\\' {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            match bytes[i + 1] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                other => panic!("unknown escape {other}"),
            }
            i += 2;
        }
        out
    }

    #[test]
    fn one_datagram_stays_one_line() {
        assert_eq!(escape_line(b"line1\nline2"), "line1\\nline2");
        assert_eq!(
            escape_line(b"a\x00b\xffc\x1b[2J\x7f"),
            "a\\x00b\\xffc\\x1b[2J\\x7f"
        );
        assert_eq!(escape_line(b"C:\\dir\tx\r"), "C:\\\\dir\\tx\\r");
        assert_eq!(escape_line("héllo 日本 🦀".as_bytes()), "héllo 日本 🦀");
        // C1 control U+009B (CSI), a truncated sequence, an overlong encoding, a surrogate.
        assert_eq!(escape_line("\u{9b}".as_bytes()), "\\xc2\\x9b");
        assert_eq!(escape_line(b"\xe6\x97"), "\\xe6\\x97");
        assert_eq!(escape_line(b"\xc0\xaf"), "\\xc0\\xaf");
        assert_eq!(escape_line(b"\xed\xa0\x80"), "\\xed\\xa0\\x80");
    }

    #[test]
    fn escaping_is_reversible_and_never_emits_control_characters() {
        // Every byte, every pair of bytes after a multi-byte lead: a small exhaustive sweep.
        let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b, b'a']).collect();
        for lead in [0xc2u8, 0xe0, 0xed, 0xf0, 0xf4, 0xf5] {
            for b in 0..=255u8 {
                inputs.push(vec![lead, b, 0x80, 0x80, b'\\']);
            }
        }
        inputs.push("mixed ascii and ünïcödé and 中文\n".repeat(50).into_bytes());
        for input in inputs {
            let text = escape_line(&input);
            assert!(!text.chars().any(char::is_control), "{input:?} -> {text:?}");
            assert_eq!(unescape(&text), input, "{text}");
        }
    }

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
