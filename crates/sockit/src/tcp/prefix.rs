//! Labelling output lines with the client they came from, without mixing clients' bytes.
//!
//! With one client the server's stdout is a transparent pipe (binary-safe, byte-exact):
//! partial lines are written as they arrive, so a person typing without a newline is
//! seen at once. With several, stdout is shared, and TCP delivers each client's bytes in
//! pieces of any size: writing each piece as it comes would splice one client's half
//! line into another's (`[A] AAAA[B] BBBB`). So while several clients are connected,
//! each client's unfinished line waits in its own buffer (up to a bound) and is written
//! whole, `[127.0.0.1:5555] ` first, with control bytes escaped so one client cannot
//! forge another's prefix with a newline or drive the terminal with escape sequences.
//!
//! One piece of state is shared by all clients: [`OpenLine`], which client (if any) left
//! stdout in the middle of a line. A client that writes a whole line while another's is
//! open starts it on a fresh line.

use bytes::{BufMut, BytesMut};

use crate::text::escape_into;

/// Who left stdout mid-line: the id of the client whose unfinished line (written
/// unprefixed, as a lone client) stdout ends with.
#[derive(Debug, Default)]
pub struct OpenLine {
    owner: Option<u64>,
}

/// How a client's bytes are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Lines, prefixed and escaped while several clients are connected.
    Lines,
    /// Bytes exactly as received, whatever the number of clients (`--raw`).
    Raw,
}

/// Per-client state for prefixing that client's output lines.
#[derive(Debug)]
pub struct LinePrefixer {
    id: u64,
    prefix: Vec<u8>,
    /// The client's unfinished line, held while several clients are connected.
    partial: BytesMut,
    /// Longest unfinished line held back; a longer one is written in pieces, each on a
    /// line of its own.
    limit: usize,
}

impl LinePrefixer {
    /// A prefixer for client `id`, writing `prefix` (e.g. `[127.0.0.1:5555] `) at the
    /// start of each line, holding back at most `limit` bytes of an unfinished line.
    pub fn new(id: u64, prefix: impl Into<Vec<u8>>, limit: usize) -> Self {
        LinePrefixer {
            id,
            prefix: prefix.into(),
            partial: BytesMut::new(),
            limit: limit.max(1),
        }
    }

    /// Bytes of an unfinished line held back (they count toward the server's buffer
    /// budget).
    pub fn held(&self) -> usize {
        self.partial.len()
    }

    /// Appends output for raw bytes `chunk` to `out`: unchanged while this is the only
    /// client (and nothing is held back), whole prefixed lines otherwise.
    pub fn render(&mut self, chunk: &[u8], multi: bool, open: &mut OpenLine, out: &mut BytesMut) {
        if !multi && self.partial.is_empty() {
            self.passthrough(chunk, open, out);
            return;
        }
        self.partial.extend_from_slice(chunk);
        while let Some(at) = self.partial.iter().position(|&b| b == b'\n') {
            let line = self.partial.split_to(at + 1);
            self.line(&line[..at], open, out);
        }
        if self.partial.len() > self.limit {
            let piece = self.partial.split();
            self.line(&piece, open, out);
        }
        if !multi && !self.partial.is_empty() {
            // Back to one client: its unfinished line goes out now, prefixed as it began,
            // and what follows passes through as the rest of that line.
            let piece = self.partial.split();
            self.start_line(open, out);
            escape_into(&piece, out);
            open.owner = Some(self.id);
        }
    }

    /// The single-client fast path: bytes unchanged.
    fn passthrough(&mut self, chunk: &[u8], open: &mut OpenLine, out: &mut BytesMut) {
        if self.pass(chunk, open) {
            out.put_u8(b'\n');
        }
        out.extend_from_slice(chunk);
    }

    /// The single-client fast path without copying: records that `chunk` is written
    /// unchanged and says whether a newline must go before it (another client's line
    /// was left open). Only for a lone client with nothing held back.
    pub fn pass(&mut self, chunk: &[u8], open: &mut OpenLine) -> bool {
        let Some(&last) = chunk.last() else {
            return false;
        };
        let separate = matches!(open.owner, Some(other) if other != self.id);
        open.owner = (last != b'\n').then_some(self.id);
        separate
    }

    /// Appends one framed message as one line (escaped; prefixed when `multi`).
    pub fn render_message(
        &mut self,
        msg: &[u8],
        multi: bool,
        open: &mut OpenLine,
        out: &mut BytesMut,
    ) {
        if open.owner.take().is_some() {
            out.put_u8(b'\n');
        }
        if multi {
            out.extend_from_slice(&self.prefix);
        }
        escape_into(msg, out);
        out.put_u8(b'\n');
    }

    /// Appends a line that is already text (an unpacked record), prefixed when `multi`.
    pub fn render_text(
        &mut self,
        text: &str,
        multi: bool,
        open: &mut OpenLine,
        out: &mut BytesMut,
    ) {
        if open.owner.take().is_some() {
            out.put_u8(b'\n');
        }
        if multi {
            out.extend_from_slice(&self.prefix);
        }
        out.extend_from_slice(text.as_bytes());
        out.put_u8(b'\n');
    }

    /// One whole line of this client (without its newline).
    fn line(&mut self, line: &[u8], open: &mut OpenLine, out: &mut BytesMut) {
        if open.owner == Some(self.id) {
            // The rest of a line this client began alone, unprefixed.
            escape_into(line, out);
        } else {
            self.start_line(open, out);
            escape_into(line, out);
        }
        out.put_u8(b'\n');
        open.owner = None;
    }

    /// Starts a prefixed line, ending another client's open line first.
    fn start_line(&self, open: &mut OpenLine, out: &mut BytesMut) {
        if open.owner.take().is_some() {
            out.put_u8(b'\n');
        }
        out.extend_from_slice(&self.prefix);
    }

    /// At the end of the connection: writes a held-back unfinished line (prefixed, with
    /// a newline). An unfinished line written as a lone client is left byte-exact.
    pub fn finish(&mut self, open: &mut OpenLine, out: &mut BytesMut) {
        if !self.partial.is_empty() {
            let piece = self.partial.split();
            self.line(&piece, open, out);
        }
        if open.owner == Some(self.id) {
            open.owner = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Screen {
        open: OpenLine,
        out: BytesMut,
        a: LinePrefixer,
        b: LinePrefixer,
    }

    impl Screen {
        fn new() -> Screen {
            Screen {
                open: OpenLine::default(),
                out: BytesMut::new(),
                a: LinePrefixer::new(1, "[A] ", 64),
                b: LinePrefixer::new(2, "[B] ", 64),
            }
        }
        fn a(&mut self, data: &[u8], multi: bool) -> &mut Self {
            self.a.render(data, multi, &mut self.open, &mut self.out);
            self
        }
        fn b(&mut self, data: &[u8], multi: bool) -> &mut Self {
            self.b.render(data, multi, &mut self.open, &mut self.out);
            self
        }
        fn text(&mut self) -> String {
            self.a.finish(&mut self.open, &mut self.out);
            self.b.finish(&mut self.open, &mut self.out);
            String::from_utf8(self.out.to_vec()).unwrap()
        }
    }

    #[test]
    fn single_client_is_passed_through() {
        assert_eq!(
            Screen::new().a(b"ab", false).a(b"c\nd", false).text(),
            "abc\nd"
        );
    }

    #[test]
    fn partial_lines_of_several_clients_never_interleave() {
        // The case: A sends AAAA, B sends BBBB\n, A sends aaaa\n.
        let text = Screen::new()
            .a(b"AAAA", true)
            .b(b"BBBB\n", true)
            .a(b"aaaa\n", true)
            .text();
        assert_eq!(text, "[B] BBBB\n[A] AAAAaaaa\n");
    }

    #[test]
    fn control_bytes_cannot_forge_a_prefix() {
        let text = Screen::new().a(b"x\r[B] fake\x1b[2J\n", true).text();
        assert_eq!(text, "[A] x\\r[B] fake\\x1b[2J\n");
    }

    #[test]
    fn a_line_left_open_by_a_lone_client_is_ended_before_another_line() {
        let text = Screen::new().a(b"typing", false).b(b"hello\n", true).text();
        assert_eq!(text, "typing\n[B] hello\n");
    }

    #[test]
    fn the_rest_of_a_lone_clients_line_stays_unprefixed() {
        let text = Screen::new()
            .a(b"one ", false)
            .a(b"two\nthree\n", true)
            .text();
        assert_eq!(text, "one two\n[A] three\n");
    }

    #[test]
    fn back_to_one_client_a_held_line_keeps_its_prefix() {
        let text = Screen::new().a(b"par", true).a(b"tial\n", false).text();
        assert_eq!(text, "[A] partial\n");
    }

    #[test]
    fn an_overlong_unfinished_line_is_written_in_pieces() {
        let mut screen = Screen::new();
        screen.a(&[b'x'; 100], true);
        assert_eq!(screen.a.held(), 0);
        assert_eq!(screen.text(), format!("[A] {}\n", "x".repeat(100)));
    }

    #[test]
    fn messages_are_escaped_one_per_line() {
        let mut screen = Screen::new();
        screen
            .a
            .render_message(b"line1\nline2", true, &mut screen.open, &mut screen.out);
        assert_eq!(screen.text(), "[A] line1\\nline2\n");
    }
}
