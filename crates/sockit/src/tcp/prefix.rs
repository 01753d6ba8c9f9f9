//! Labelling output lines with the client they came from.
//!
//! With one client the server's stdout is a transparent pipe (binary-safe, byte-exact).
//! With several, each line starts with its sender, `[127.0.0.1:5555] `. Data is written
//! as soon as it arrives, partial lines included (an interactive client typing without a
//! newline must still be seen), so the prefix goes wherever a line starts.

use bytes::{BufMut, BytesMut};

/// Per-client state for prefixing that client's output lines.
#[derive(Debug)]
pub struct LinePrefixer {
    prefix: Vec<u8>,
    /// The last byte written for this client was not a newline.
    mid_line: bool,
    /// That unfinished line was written with prefixes (several clients connected).
    prefixed: bool,
}

impl LinePrefixer {
    /// A prefixer writing `prefix` (e.g. `[127.0.0.1:5555] `) at the start of each line.
    pub fn new(prefix: impl Into<Vec<u8>>) -> Self {
        LinePrefixer {
            prefix: prefix.into(),
            mid_line: false,
            prefixed: false,
        }
    }

    /// Records that `chunk` was written unchanged (the single-client fast path).
    pub fn note_passthrough(&mut self, chunk: &[u8]) {
        if let Some(&last) = chunk.last() {
            self.mid_line = last != b'\n';
            self.prefixed = false;
        }
    }

    /// Appends output for `chunk` to `out`: the prefix at every line start when `multi`,
    /// the bytes unchanged otherwise.
    pub fn render(&mut self, chunk: &[u8], multi: bool, out: &mut BytesMut) {
        if !multi {
            out.extend_from_slice(chunk);
            self.note_passthrough(chunk);
            return;
        }
        out.reserve(chunk.len() + self.prefix.len());
        for segment in chunk.split_inclusive(|&b| b == b'\n') {
            if !self.mid_line {
                out.extend_from_slice(&self.prefix);
            }
            out.extend_from_slice(segment);
            self.mid_line = segment.last() != Some(&b'\n');
        }
        self.prefixed = true;
    }

    /// Appends one framed message as one line, prefixed when `multi`.
    pub fn render_message(&mut self, msg: &[u8], multi: bool, out: &mut BytesMut) {
        if multi {
            out.extend_from_slice(&self.prefix);
        }
        out.reserve(msg.len() + 1);
        out.extend_from_slice(msg);
        out.put_u8(b'\n');
    }

    /// At the end of the connection: ends an unfinished prefixed line, so the next
    /// client's output starts on a line of its own. Raw passthrough is left byte-exact.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if self.mid_line && self.prefixed {
            out.put_u8(b'\n');
        }
        self.mid_line = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[(&[u8], bool)]) -> String {
        let mut p = LinePrefixer::new("[A] ");
        let mut out = BytesMut::new();
        for (chunk, multi) in chunks {
            p.render(chunk, *multi, &mut out);
        }
        p.finish(&mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn single_client_is_passed_through() {
        assert_eq!(run(&[(b"ab", false), (b"c\nd", false)]), "abc\nd");
    }

    #[test]
    fn several_clients_get_prefixed_lines() {
        assert_eq!(
            run(&[(b"he", true), (b"llo\nwor", true), (b"ld\n", true)]),
            "[A] hello\n[A] world\n"
        );
        assert_eq!(run(&[(b"partial", true)]), "[A] partial\n");
    }

    #[test]
    fn continuing_a_line_does_not_prefix_it_twice() {
        assert_eq!(
            run(&[(b"one ", false), (b"two\nthree\n", true)]),
            "one two\n[A] three\n"
        );
    }
}
