//! Labelling output lines with the client they came from.
//!
//! With one client the server's stdout is a transparent pipe (binary-safe, byte-exact).
//! With several, bytes from different clients would mix mid-line, so each line is
//! prefixed with its sender, `[127.0.0.1:5555] `, and only whole lines are written: a
//! partial line waits (up to a limit) for its end.

use bytes::{BufMut, BytesMut};

/// A partial line longer than this is written without waiting for its newline.
const MAX_PENDING: usize = 64 * 1024;

/// Per-client state for prefixing that client's output lines.
#[derive(Debug)]
pub struct LinePrefixer {
    prefix: Vec<u8>,
    pending: BytesMut,
    /// The last byte written for this client was not a newline.
    mid_line: bool,
}

impl LinePrefixer {
    /// A prefixer writing `prefix` (e.g. `[127.0.0.1:5555] `) at the start of each line.
    pub fn new(prefix: impl Into<Vec<u8>>) -> Self {
        LinePrefixer {
            prefix: prefix.into(),
            pending: BytesMut::new(),
            mid_line: false,
        }
    }

    /// Appends output for `chunk` to `out`: prefixed whole lines when `multi`, the bytes
    /// unchanged otherwise.
    pub fn render(&mut self, chunk: &[u8], multi: bool, out: &mut BytesMut) {
        if !multi {
            if !self.pending.is_empty() {
                out.extend_from_slice(&self.pending);
                self.pending.clear();
            }
            out.extend_from_slice(chunk);
            if let Some(&last) = chunk.last() {
                self.mid_line = last != b'\n';
            }
            return;
        }
        let mut rest = chunk;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(at + 1);
            self.start_line(out);
            out.extend_from_slice(&self.pending);
            self.pending.clear();
            out.extend_from_slice(line);
            self.mid_line = false;
            rest = tail;
        }
        if !rest.is_empty() {
            self.pending.extend_from_slice(rest);
            if self.pending.len() > MAX_PENDING {
                self.start_line(out);
                out.extend_from_slice(&self.pending);
                self.pending.clear();
                self.mid_line = true;
            }
        }
    }

    /// True when no partial line is waiting, so data may bypass [`LinePrefixer::render`].
    pub fn is_clear(&self) -> bool {
        self.pending.is_empty()
    }

    /// Records that `chunk` was written unchanged (the single-client fast path).
    pub fn note_passthrough(&mut self, chunk: &[u8]) {
        if let Some(&last) = chunk.last() {
            self.mid_line = last != b'\n';
        }
    }

    /// Appends one framed message as one prefixed line.
    pub fn render_message(&mut self, msg: &[u8], multi: bool, out: &mut BytesMut) {
        if multi {
            out.extend_from_slice(&self.prefix);
        }
        out.reserve(msg.len() + 1);
        out.extend_from_slice(msg);
        out.put_u8(b'\n');
    }

    /// At the end of the connection: writes a waiting partial line, ended with a newline
    /// so the next client's output starts on a line of its own.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if self.pending.is_empty() {
            return;
        }
        self.start_line(out);
        out.extend_from_slice(&self.pending);
        out.put_u8(b'\n');
        self.pending.clear();
        self.mid_line = false;
    }

    fn start_line(&self, out: &mut BytesMut) {
        if !self.mid_line {
            out.extend_from_slice(&self.prefix);
        }
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
    fn several_clients_get_whole_prefixed_lines() {
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
